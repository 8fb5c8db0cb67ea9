#!/usr/bin/env bash
# Run every test suite: the cmocka unit binaries given as arguments, then the
# pytest suites under tests/ (kernel and CLI tests, against $AGENTMON).
# Ends with one line "total: N passed, N failed, N skipped"; exit 1 on any failure.
set -u
cd "$(dirname "$0")/.."
: "${AGENTMON:?AGENTMON must point at the agentmon binary}"
PYTHON=${PYTHON:-/usr/bin/python3}
passed=0 failed=0 skipped=0

for t in "$@"; do
	echo "== unit: $(basename "$t")"
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[ +(PASSED|FAILED|ERROR) +\]' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		printf '%s\n' "$out" | tail -20
		f=1   # crashed or failed without a summary
	fi
	passed=$((passed + p)); failed=$((failed + f))
done

echo "== kernel and CLI tests (pytest)"
junit=$(mktemp)
AGENTMON="$AGENTMON" "$PYTHON" -m pytest -q -rs -p no:cacheprovider --junitxml="$junit" tests/
rc=$?
if [ -s "$junit" ]; then
	read -r pt pf pe ps < <("$PYTHON" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r if r.tag == "testsuite" else r.find("testsuite")
t, f, e, k = (int(s.get(x, 0)) for x in ("tests", "failures", "errors", "skipped"))
print(t - f - e - k, f, e, k)
PY
)
	passed=$((passed + pt)); failed=$((failed + pf + pe)); skipped=$((skipped + ps))
elif [ "$rc" -ne 0 ]; then
	failed=$((failed + 1))
fi
rm -f "$junit"
[ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$failed" -eq 0 ] && failed=1

echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
