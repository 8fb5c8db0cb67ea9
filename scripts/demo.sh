#!/usr/bin/env bash
# The demo: the example agent under its example profile, events printed live.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/agentmon}
echo "== agentmon exec --profile examples/support-bot.json -- examples/support-bot/bot.sh"
echo "== (events on stderr as they happen; the agent's own output on stdout)"
set +e
"$bin" exec --profile examples/support-bot.json -- examples/support-bot/bot.sh
rc=$?
set -e
echo "== agent exited with status $rc"
