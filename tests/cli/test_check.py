"""agentmon check against the profile corpus (tests/profiles).

Every bad profile must fail with exactly one expected first line and exit 2;
good ones pass with their sha256; warn/ ones pass with warnings and fail
under --strict. Runs agentmon from tests/profiles/bad so paths are short.
"""
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

AGENTMON = os.environ.get("AGENTMON", str(Path(__file__).resolve().parents[2] / "build" / "agentmon"))
PROFILES = Path(__file__).resolve().parents[1] / "profiles"
BAD = PROFILES / "bad"

# First stderr line for each bad profile (exact).
EXPECTED = {
    "approval-no-by.json": "agentmon: approval-no-by.json:4:15: approval: missing \"by\" (who approved)",
    "bad-action.json": "agentmon: bad-action.json:5:29: response.violation: must be one of \"none\", \"alert\", \"stop\", \"freeze\", \"kill\"",
    "bad-cidr.json": "agentmon: bad-cidr.json:5:27: network.connect[0]: \"10.0.0.0/33:443\": prefix must be 0..32",
    "bad-mode.json": "agentmon: bad-mode.json:5:11: mode: must be \"enforce\" or \"audit\"",
    "bad-port.json": "agentmon: bad-port.json:5:27: network.connect[0]: \"127.0.0.1:65536\": port must be 0..65535 or '*'",
    "bad-time.json": "agentmon: bad-time.json:4:35: approval.at: \"2026-13-20T10:00:00Z\": date or time out of range",
    "bad-ttl.json": "agentmon: bad-ttl.json:5:49: secrets[0].ttl: \"15 minutes\": unknown or misplaced duration unit (use d, h, m, s in that order)",
    "deep-nesting.json": "agentmon: deep-nesting.json:1:81: nested deeper than 32 levels",
    "dotdot.json": "agentmon: dotdot.json:5:22: files.deny[0]: '.' and '..' segments never match a resolved path",
    "double-slash.json": "agentmon: double-slash.json:5:23: files.write[0]: empty path segment ('//') never matches a resolved path",
    "dstar-mixed.json": "agentmon: dstar-mixed.json:5:22: exec.allow[0]: '**' must be a whole path segment (use '*' within a segment)",
    "duplicate-key.json": "agentmon: duplicate-key.json:3:8: duplicate object key near '\"name\"'",
    "empty.json": "agentmon: empty.json:1:1: '[' or '{' expected near end of file",
    "escalate-count-zero.json": "agentmon: escalate-count-zero.json:5:38: response.escalate.count: must be an integer from 1 to 1000000",
    "escalate-missing.json": "agentmon: escalate-missing.json:5:28: response.escalate: missing \"window\" (escalate needs count, window and action)",
    "expires-before-at.json": "agentmon: expires-before-at.json:4:70: approval.expires: expires before or at approval.at",
    "host-bits.json": "agentmon: host-bits.json:5:27: network.connect[0]: \"10.20.1.0/16:443\": address has bits set beyond the prefix (use the network address)",
    "include-bad-fragment.json": "agentmon: ./fragments/has-name:2:3: \"name\" is not allowed in a fragment (fragments hold only rule lists)",
    "include-cycle.json": "agentmon: ./fragments/cycle-b:1:14: include[0]: include cycle: \"./cycle-a\" includes itself",
    "include-missing.json": "agentmon: include-missing.json:5:15: include[0]: fragment \"no-such-fragment\" not found (looked in $AGENTMON_ABSTRACTIONS, abstractions/ near the binary, /usr/local/share/agentmon/abstractions)",
    "list-not-array.json": "agentmon: list-not-array.json:5:21: files.read: must be an array of path patterns",
    "listen-range.json": "agentmon: listen-range.json:5:26: network.listen[0]: must be an integer from 0 to 65535",
    "listen-string.json": "agentmon: listen-string.json:5:26: network.listen[0]: must be an integer from 0 to 65535",
    "match-exe-glob.json": "agentmon: match-exe-glob.json:5:20: match.exe: must be an exact path (no '*')",
    "max-depth-float.json": "agentmon: max-depth-float.json:5:25: exec.max_depth: must be an integer from 0 to 1024",
    "max-depth-neg.json": "agentmon: max-depth-neg.json:5:25: exec.max_depth: must be an integer from 0 to 1024",
    "missing-name.json": "agentmon: missing-name.json: missing \"name\"",
    "name-chars.json": "agentmon: name-chars.json:2:11: name: must be letters, digits, '.', '_' or '-', starting with a letter or digit",
    "name-type.json": "agentmon: name-type.json:2:11: name: must be a string",
    "nul-in-string.json": "agentmon: nul-in-string.json:1:19: \\u0000 is not allowed in strings",
    "path-too-long.json": "agentmon: path-too-long.json:5:22: files.read[0]: longer than 4095 bytes",
    "relative-path.json": "agentmon: relative-path.json:5:33: files.read[1]: pattern must be an absolute path (start with '/' or '**/')",
    "rule-not-string.json": "agentmon: rule-not-string.json:5:32: exec.deny[1]: must be a string",
    "secret-no-path.json": "agentmon: secret-no-path.json:5:15: secrets[0]: missing \"path\"",
    "syntax-garbage-after.json": "agentmon: syntax-garbage-after.json:1:33: end of file expected near 'x'",
    "syntax-trailing-comma.json": "agentmon: syntax-trailing-comma.json:4:1: string or '}' expected near '}'",
    "syntax-unterminated.json": "agentmon: syntax-unterminated.json:2:14: unexpected newline near '\"bot'",
    "time-no-zone.json": "agentmon: time-no-zone.json:4:35: approval.at: \"2026-11-20T10:00:00\": time zone missing: end the time with Z or an offset such as +02:00",
    "too-big.json": "agentmon: too-big.json: file is larger than 1048576 bytes",
    "too-many-rules.json": "agentmon: too-many-rules.json:5:21: files.read: more than 10000 entries",
    "top-array.json": "agentmon: top-array.json:1:1: a profile must be a JSON object",
    "trailing-slash.json": "agentmon: trailing-slash.json:5:22: files.read[0]: trailing '/' never matches a resolved path (write /dir or /dir/**)",
    "ttl-zero.json": "agentmon: ttl-zero.json:5:49: secrets[0].ttl: \"0s\": duration must be greater than zero",
    "uid-string.json": "agentmon: uid-string.json:5:20: match.uid: must be an integer from 0 to 4294967294",
    "unicode-key.json": "agentmon: unicode-key.json:5:3: unknown field \"filés\" (did you mean \"files\"?)",
    "unknown-nested.json": "agentmon: unknown-nested.json:5:13: files: unknown field \"raed\" (did you mean \"read\"?)",
    "unknown-top.json": "agentmon: unknown-top.json:5:3: unknown field \"exce\" (did you mean \"exec\"?)",
    "v6-no-brackets.json": "agentmon: v6-no-brackets.json:5:24: network.deny[0]: \"::1:80\": put IPv6 addresses in brackets, e.g. [::1]:443",
}


def run(*args, cwd=None, env=None):
    return subprocess.run([AGENTMON, "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_corpus_is_covered():
    assert sorted(p.name for p in BAD.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_profile(name):
    r = run(name, cwd=BAD)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert first == EXPECTED[name]
    # one line per mistake, all in the documented shape
    for line in r.stderr.splitlines():
        assert re.match(r"^agentmon: [^:]+(:\d+:\d+)?: ", line), line


@pytest.mark.parametrize("path", sorted(str(p) for p in (PROFILES / "good").glob("*.json")))
def test_good_profile(path):
    r = run(path)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(re.escape(path) + r": ok sha256=[0-9a-f]{64}\n", r.stdout)


def test_sha256_ignores_layout_and_key_order(tmp_path):
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text('{"name":"x","version":"1","files":{"read":["/a","/b"],"deny":["/c"]}}')
    b.write_text('{\n "files": {"deny": ["/c"], "read": ["/a", "/b"]},\n "version": "1",\n "name": "\\u0078"\n}\n')
    ra, rb = run(str(a)), run(str(b))
    sha = lambda r: r.stdout.split("sha256=")[1].strip()
    assert sha(ra) == sha(rb)
    b.write_text('{"name":"x","version":"1","files":{"read":["/b","/a"],"deny":["/c"]}}')
    assert sha(run(str(b))) != sha(ra)  # rule order is content


def test_sha256_covers_fragments(tmp_path):
    (tmp_path / "frag").write_text('{"files": {"read": ["/x"]}}')
    p = tmp_path / "p.json"
    p.write_text('{"name":"x","version":"1","include":["./frag"]}')
    s1 = run(str(p)).stdout
    (tmp_path / "frag").write_text('{"files": {"read": ["/y"]}}')
    s2 = run(str(p)).stdout
    assert "ok sha256=" in s1 and "ok sha256=" in s2 and s1 != s2


def test_spec_example_anywhere(tmp_path):
    # "abstractions/base" resolves to the shipped fragment even far from it
    p = tmp_path / "support-bot.json"
    p.write_text((PROFILES / "good" / "spec-example.json").read_text())
    r = run(str(p))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_warnings_pass_but_strict_fails():
    path = str(PROFILES / "warn" / "overbroad.json")
    r = run(path)
    assert r.returncode == 0
    assert "ok sha256=" in r.stdout
    w = r.stderr.splitlines()
    assert all(": warning: " in line for line in w)
    text = r.stderr
    for needle in ['files.write[0]: "/**" grants write access to the whole filesystem',
                   'exec.allow[0]: "/usr/bin/python3*" allows a shell or interpreter (python3)',
                   'exec.allow[1]: "/bin/bash" allows a shell or interpreter (bash)',
                   'network.connect[0]: "0.0.0.0/0:443" allows connecting to any address',
                   'network.connect[1]: "[::/0]:*" allows connecting to any address',
                   'network.connect[2]: "*:*" allows connecting to any address',
                   'secrets[0].path: secret "/run/secrets/k" has no ttl',
                   'files.read[0]: "/etc/shadow" is also denied by files.deny[0]',
                   'exec.allow[2]: "/usr/bin/git" is also denied by exec.deny[0]',
                   'network.connect[3]: "10.0.0.0/8:22" is also denied by network.deny[0]',
                   'approval.expires: approval expired on 2021-01-01T00:00:00Z']:
        assert needle in text, needle
    assert f"agentmon: {path}:6:48: warning: files.write[0]:" in text
    assert len(w) == 11

    s = run("--strict", path)
    assert s.returncode == 1
    assert s.stdout == ""
    assert "warning" not in s.stderr
    assert len(s.stderr.splitlines()) == 11


def test_missing_and_expiring_approval(tmp_path):
    r = run(str(PROFILES / "warn" / "no-approval.json"))
    assert r.returncode == 0
    assert r.stderr.endswith("no-approval.json: warning: no approval: this profile was not approved for release\n")
    import datetime
    soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    p = tmp_path / "soon.json"
    p.write_text('{"name":"x","version":"1","approval":{"by":"a","at":"2020-01-01T00:00:00Z","expires":"%s"}}' % soon)
    r = run(str(p))
    assert r.returncode == 0
    assert "approval expires within 7 days" in r.stderr


def test_json_output():
    good = str(PROFILES / "good" / "minimal.json")
    warn = str(PROFILES / "warn" / "no-approval.json")
    r = run("--json", good, warn, "empty.json", cwd=BAD)
    assert r.returncode == 2
    assert r.stderr == ""
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["file"] for o in objs] == [good, warn, "empty.json"]
    assert objs[0]["ok"] and re.fullmatch("[0-9a-f]{64}", objs[0]["sha256"])
    assert objs[0]["errors"] == [] and objs[0]["warnings"] == []
    assert objs[1]["ok"] and len(objs[1]["warnings"]) == 1
    assert objs[2] == {"file": "empty.json", "ok": False, "sha256": None,
                       "errors": ["empty.json:1:1: '[' or '{' expected near end of file"],
                       "warnings": []}
    s = run("--json", "--strict", warn)
    assert s.returncode == 1
    o = json.loads(s.stdout)
    assert o["ok"] is False and len(o["errors"]) == 1 and o["warnings"] == []


def test_usage():
    r = run()
    assert r.returncode == 2
    assert r.stderr.startswith("agentmon: check: no profile given")
    r = run("--bogus", "x.json")
    assert r.returncode == 2
    assert "unknown option '--bogus'" in r.stderr
    r = run("--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: agentmon check [--strict] [--json] PROFILE...")


def test_unreadable_inputs(tmp_path):
    r = run(str(tmp_path / "nope.json"))
    assert r.returncode == 2
    assert r.stderr == f"agentmon: {tmp_path}/nope.json: No such file or directory\n"
    r = run(str(tmp_path))
    assert r.stderr == f"agentmon: {tmp_path}: not a regular file\n"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = run(str(fifo))  # must not hang
    assert r.returncode == 2 and "not a regular file" in r.stderr
    r = run("/dev/zero")
    assert r.returncode == 2


def test_multiple_errors_reported(tmp_path):
    p = tmp_path / "multi.json"
    p.write_text('{"name": "x", "version": "1",\n "mode": "x",\n "files": {"read": ["rel"], "raed": []}}\n')
    r = run(str(p))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0] == f'agentmon: {p}:2:10: mode: must be "enforce" or "audit"'


def test_many_errors_are_capped(tmp_path):
    p = tmp_path / "many.json"
    p.write_text('{"name":"x","version":"1","files":{"read":[%s]}}' % ",".join(['"rel"'] * 500))
    r = run(str(p))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 21
    assert lines[-1].endswith("too many errors, giving up")


def test_random_garbage_never_crashes(tmp_path):
    import random
    rnd = random.Random(1234)
    seed = (PROFILES / "good" / "spec-example.json").read_bytes()
    for i in range(200):
        b = bytearray(seed)
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        p = tmp_path / f"g{i}.json"
        p.write_bytes(bytes(b))
        r = subprocess.run([AGENTMON, "check", str(p)], capture_output=True, timeout=30)
        assert r.returncode in (0, 2), (i, r.stderr)
        assert r.returncode == 0 or r.stderr.startswith(b"agentmon: ")
