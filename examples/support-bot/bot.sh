#!/bin/sh
# A stand-in AI agent for the demo: it does what its release was approved for
# (read its own files, call tools, write scratch files), then drifts outside.
set -u
here=$(dirname "$0")
echo "support-bot: answering ticket 4711"
cat "$here/knowledge.txt" >/dev/null          # its own knowledge base: allowed
/usr/bin/git --version >/dev/null 2>&1 || true  # an approved tool
date -u +%FT%TZ > /tmp/support-bot-scratch      # scratch space: allowed
(sleep 0.2; /bin/true) &                        # a helper child, tracked too
wait
echo "support-bot: a prompt injection makes it look around..."
cat /etc/shadow >/dev/null 2>&1 || true         # denied by the profile
/usr/bin/id >/dev/null                          # a tool it was never approved for
rm -f /tmp/support-bot-scratch
echo "support-bot: done"
