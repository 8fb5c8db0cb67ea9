#!/usr/bin/env bash
# Overhead of the network hooks for processes that are not agents: a loop of
# loopback UDP sendto() calls, without agentmon and with agentmon loaded
# (an `agentmon exec` of another agent keeps the programs attached).
# Usage: scripts/bench-net.sh [AGENTMON] [CALLS] [ROUNDS] [badfd]   (root)
# badfd: sendto(-1, ...) fails at once with EBADF: the worst-case ratio.
set -eu
cd "$(dirname "$0")/.."
AGENTMON=${1:-build/agentmon}
N=${2:-200000}
ROUNDS=${3:-7}
MODE=${4:-}
mkdir -p build/bench
cc -O2 -Wall -Werror -o build/bench/net_sendto tests/bench/net_sendto.c
tmp=$(mktemp -d)
trap 'kill "$agent" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat >"$tmp/p.json" <<'JSON'
{"name":"bench","version":"1","approval":{"by":"bench@example.com","at":"2026-01-01T00:00:00Z",
 "expires":"2099-01-01T00:00:00Z"},"include":["abstractions/base"],"mode":"audit",
 "exec":{"allow":["/usr/bin/**"]},"files":{"read":["/**"]},"network":{"connect":[]},
 "response":{"violation":"alert"}}
JSON
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
off=() on=()
for r in $(seq "$ROUNDS"); do
	off+=("$(build/bench/net_sendto "$N" $MODE)")
	"$AGENTMON" exec --profile "$tmp/p.json" --json "$tmp/ev.json" -- sleep 30 2>/dev/null &
	agent=$!
	for _ in $(seq 100); do [ -s "$tmp/ev.json" ] && break; sleep 0.05; done
	on+=("$(build/bench/net_sendto "$N" $MODE)")
	kill "$agent"; wait "$agent" 2>/dev/null || true
	rm -f "$tmp/ev.json"
done
m_off=$(printf '%s\n' "${off[@]}" | median)
m_on=$(printf '%s\n' "${on[@]}" | median)
echo "sendto ns/call without agentmon: ${off[*]} (median $m_off)"
echo "sendto ns/call with agentmon:    ${on[*]} (median $m_on)"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "ratio: %.3f\n", a / b }'
