"""The daemon's clients (tail, status, freeze, thaw, kill) against a fake daemon.

No root and no real daemon: a thread serves a unix socket in a temporary
directory and answers with canned protocol replies (docs/control-protocol.md),
well-formed and not. These check the client only: its output, its exit codes,
and that no reply makes it crash (a negative returncode is a signal).
"""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import AGENTMON, cli

CLIENTS = ["tail", "status", "freeze", "thaw", "kill"]

STATUS = {
    "version": "0.1.0", "pid": 1234, "host": "agent-host-1",
    "started": "2026-11-26T09:00:00.000000000Z", "uptime_s": 3725,
    "socket": "/run/agentmon/agentmon.sock", "profiles_dir": "/etc/agentmon/profiles.d",
    "json_log": "/var/log/agentmon/events.json",
    "reload": {"count": 2, "last": "2026-11-26T09:30:00.000000000Z", "ok": False,
               "errors": ["/etc/agentmon/profiles.d/bad.json:3:5: mode: must be \"enforce\" or \"audit\""]},
    "agents": [
        {"name": "support-bot", "id": 3, "source": "profile",
         "profile": {"path": "/etc/agentmon/profiles.d/support-bot.json", "version": "1.4.0",
                     "sha256": "9f2c0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"},
         "mode": "enforce", "match": {"exe": "/opt/support-bot/bin/bot", "uid": 1001},
         "processes": 3, "retired": False,
         "sessions": [{"pid": 4200, "cgroup": "/system.slice/support-bot.service/agentmon-support-bot-4200",
                       "frozen": True}],
         "events": 1520, "lost": 7, "violations": 2, "actions": 1},
        {"name": "etl", "id": 4, "source": "exec", "profile": {"version": "2.0", "sha256": "abc"},
         "mode": "audit", "processes": 0, "retired": True, "sessions": [],
         "events": 0, "lost": 0, "violations": 0, "actions": 0},
    ],
    "programs": [{"name": "handle_exec", "attached": True}, {"name": "handle_exit", "attached": True},
                 {"name": "lsm_file_open", "attached": False}],
    "kernel": {"events": 123456, "ringbuf_full": 3, "tasks_full": 0, "read_errors": 0},
    "clients": 1,
}

EVENT = {"ts": "2026-11-26T09:14:03.123456789Z", "host": "agent-host-1", "agent": "support-bot",
         "profile": {"version": "1.4.0", "sha256": "9f2c"},
         "pid": 4242, "ppid": 4200, "uid": 1001, "comm": "curl", "exe": "/usr/bin/curl",
         "cgroup": "/agentmon/support-bot-4200",
         "kind": "connect", "net": {"proto": "tcp", "daddr": "203.0.113.7", "dport": 443},
         "verdict": "violation", "rule": "network.connect", "action": "freeze", "outcome": "frozen",
         "ancestry": [{"pid": 4200, "exe": "/opt/support-bot/bin/bot"}, {"pid": 4231, "exe": "/bin/sh"}]}
EVENT_HUMAN = ("09:14:03.123 support-bot 4242 violation connect tcp 203.0.113.7:443 "
               "[network.connect] -> freeze: frozen via bot(4200) > sh(4231)")
LOST = {"kind": "lost", "ts": "2026-11-26T09:14:04.000000000Z", "host": "agent-host-1",
        "lost": {"count": 17, "reason": "tail client too slow: events dropped for this client"}}

BIG = b"x" * (2 * 1024 * 1024)


def short_id(v):
    """Test ids without megabytes of reply in them."""
    s = v.decode("latin1") if isinstance(v, bytes) else str(v)
    return s[:40] + (f"...({len(s)})" if len(s) > 40 else "")


def line(obj):
    return json.dumps(obj).encode() + b"\n"


class FakeDaemon:
    """Accepts one client, records its request line, sends `reply` (bytes),
    then closes, or with hold=True keeps the connection open until stop()."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.sock.settimeout(30)
        self.request = None
        self.done = threading.Event()
        self.accepted = threading.Event()
        self.thread = None

    def serve(self, reply, hold=False):
        def run():
            conn = None
            try:
                conn, _ = self.sock.accept()
                self.accepted.set()
                conn.settimeout(30)
                buf = b""
                while b"\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                self.request = json.loads(buf.split(b"\n")[0]) if b"\n" in buf else None
                conn.sendall(reply)
                if hold:
                    self.done.wait(30)
            except OSError:
                pass    # the client hung up first: that is its right
            finally:
                if conn:
                    conn.close()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.done.set()
        if self.thread and not self.accepted.is_set():
            try:    # no client came: be one, so accept() returns
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                    c.connect(self.path)
            except OSError:
                pass
        if self.thread:
            self.thread.join(30)
        self.sock.close()


@pytest.fixture
def sockdir():
    # sun_path holds 107 bytes: pytest's tmp_path can be longer than that
    d = tempfile.mkdtemp(prefix="am-cli-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(sockdir):
    made = []

    def start(reply, hold=False):
        d = FakeDaemon(os.path.join(sockdir, "agentmon.sock")).serve(reply, hold)
        made.append(d)
        return d
    yield start
    for d in made:
        d.stop()


def run(d, *args):
    r = cli(*args, "--socket", d.path)
    assert r.returncode >= 0, f"killed by signal {-r.returncode}: {r.stderr}"
    return r


def one_error_line(r, prefix):
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(prefix), r.stderr


# --- usage ---

@pytest.mark.parametrize("cmd", CLIENTS)
def test_help(cmd):
    for flag in ("--help", "-h"):
        r = cli(cmd, flag)
        assert r.returncode == 0
        assert r.stdout.startswith(f"usage: agentmon {cmd}")
        assert "--socket PATH" in r.stdout
        assert r.stderr == ""


def test_main_help_lists_clients_as_built():
    r = cli("--help")
    for cmd in CLIENTS:
        ln = next(x for x in r.stdout.splitlines() if x.startswith(f"  {cmd} "))
        assert "not built yet" not in ln


@pytest.mark.parametrize("args,msg", [
    (["tail", "--bogus"], "agentmon: tail: unknown option '--bogus' (see agentmon tail --help)"),
    (["tail", "extra"], "agentmon: tail: unexpected argument 'extra' (see agentmon tail --help)"),
    (["tail", "--agent"], "agentmon: tail: option '--agent' needs a value"),
    (["tail", "--socket"], "agentmon: tail: option '--socket' needs a value"),
    (["tail", "--agent", "no spaces"], "agentmon: tail: --agent: 'no spaces' is not an agent name "
                                       "(letters, digits, '.', '_', '-')"),
    (["tail", "--agent", "-x"], "agentmon: tail: --agent: '-x' is not an agent name "
                                "(letters, digits, '.', '_', '-')"),
    (["status", "--all"], "agentmon: status: unknown option '--all' (see agentmon status --help)"),
    (["status", "x"], "agentmon: status: unexpected argument 'x' (see agentmon status --help)"),
    (["freeze"], "agentmon: freeze: no TARGET given (usage: agentmon freeze TARGET [--socket PATH])"),
    (["thaw", "a", "b"], "agentmon: thaw: unexpected argument 'b' (see agentmon thaw --help)"),
    (["kill", "--json", "x"], "agentmon: kill: unknown option '--json' (see agentmon kill --help)"),
    (["kill", ""], "agentmon: kill: TARGET must be 1 to 4096 bytes"),
    (["freeze", "a" * 5000], "agentmon: freeze: TARGET must be 1 to 4096 bytes"),
    (["status", "--socket", ""], "agentmon: status: --socket: the path is empty"),
    (["status", "--socket", "/" + "s" * 200],
     "agentmon: status: --socket: path too long (201 bytes, at most 107)"),
    (["freeze", "x", "--socket", "/" + "s" * 108],
     "agentmon: freeze: --socket: path too long (109 bytes, at most 107)"),
])
def test_usage_errors(args, msg):
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr == msg + "\n"
    assert r.stdout == ""


def test_target_not_utf8(sockdir):
    r = subprocess.run([AGENTMON.encode(), b"freeze", b"\xff\xfe", b"--socket",
                        os.path.join(sockdir, "s").encode()], capture_output=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr == b"agentmon: freeze: TARGET is not valid UTF-8\n"


# --- no daemon ---

@pytest.mark.parametrize("cmd", CLIENTS)
def test_daemon_not_running(cmd, sockdir):
    path = os.path.join(sockdir, "nope.sock")
    args = [cmd, "support-bot"] if cmd in ("freeze", "thaw", "kill") else [cmd]
    r = cli(*args, "--socket", path)
    assert r.returncode == 1
    assert r.stderr == (f"agentmon: {cmd}: daemon not running at {path} "
                        "(connect: No such file or directory)\n")
    assert r.stdout == ""


def test_daemon_gone_socket_left_behind(sockdir):
    path = os.path.join(sockdir, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)    # bound, never listening: what a dead daemon leaves
    try:
        r = cli("status", "--socket", path)
    finally:
        s.close()
    assert r.returncode == 1
    assert r.stderr == f"agentmon: status: daemon not running at {path} (connect: Connection refused)\n"


def test_default_socket_named(tmp_path):
    if os.path.exists("/run/agentmon/agentmon.sock"):
        pytest.skip("a daemon's socket exists on this host")
    r = cli("status")
    assert r.returncode == 1
    assert r.stderr.startswith("agentmon: status: daemon not running at /run/agentmon/agentmon.sock (")


def test_connect_permission_denied(sockdir, daemon):
    if os.geteuid() != 0:
        pytest.skip("needs root to make a root-only socket and switch to another user")
    os.chmod(sockdir, 0o700)
    d = daemon(line({"ok": True, "status": STATUS}))
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        AGENTMON, "status", "--socket", d.path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == f"agentmon: status: permission denied: the control socket {d.path} is root-only\n"


@pytest.mark.parametrize("cmd", CLIENTS)
def test_reply_permission_denied(cmd, daemon):
    d = daemon(b'{"ok":false,"error":"permission denied"}\n')
    args = [cmd, "support-bot"] if cmd in ("freeze", "thaw", "kill") else [cmd]
    r = run(d, *args)
    assert r.returncode == 1
    assert r.stderr == f"agentmon: {cmd}: permission denied: the daemon serves root only\n"
    assert r.stdout == ""


# --- status ---

def test_status_human(daemon):
    d = daemon(line({"ok": True, "status": STATUS}))
    r = run(d, "status")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert d.request == {"cmd": "status"}
    out = r.stdout
    assert "daemon:    pid 1234, agentmon 0.1.0 on agent-host-1, up 1h02m " \
           "(since 2026-11-26T09:00:00.000000000Z)\n" in out
    assert "socket:    /run/agentmon/agentmon.sock\n" in out
    assert "profiles:  /etc/agentmon/profiles.d\n" in out
    assert "reloads:   2, last 2026-11-26T09:30:00.000000000Z: failed\n" in out
    assert "           /etc/agentmon/profiles.d/bad.json:3:5: mode:" in out
    assert "kernel:    events 123456, ringbuf_full 3, tasks_full 0, read_errors 0\n" in out
    assert "programs:  2 of 3 attached: handle_exec, handle_exit\n" \
           "           not attached: lsm_file_open\n" in out
    lines = out.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("AGENT"))
    assert lines[head].split() == ["AGENT", "VERSION", "SHA256", "MODE", "PROCS", "EVENTS",
                                   "LOST", "VIOLATIONS", "ACTIONS"]
    assert lines[head + 1].split() == ["support-bot", "1.4.0", "9f2c01234567", "enforce",
                                       "3", "1520", "7", "2", "1"]
    assert lines[head + 2] == ("  session pid 4200 cgroup "
                               "/system.slice/support-bot.service/agentmon-support-bot-4200 (frozen)")
    assert lines[head + 3].split() == ["etl", "2.0", "abc", "audit", "0", "0", "0", "0", "0"]
    assert "  retired: " in lines[head + 4]
    assert lines[head + 5] == "  source: exec"


def test_status_json(daemon):
    d = daemon(line({"ok": True, "status": STATUS}))
    r = run(d, "status", "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    assert json.loads(r.stdout) == STATUS


def test_status_no_agents(daemon):
    d = daemon(line({"ok": True, "status": {"pid": 1, "agents": [], "programs": []}}))
    r = run(d, "status")
    assert r.returncode == 0
    assert "agents:    none\n" in r.stdout
    assert "programs:  0 of 0 attached\n" in r.stdout


@pytest.mark.parametrize("status", [
    {},
    {"pid": "1", "version": 3, "uptime_s": -5, "reload": {"errors": [1, None, "e\u001b[2J"]},
     "kernel": [], "programs": [{"attached": "yes"}, 5],
     "agents": [{"name": 5, "profile": [], "events": "x", "sessions": "y"},
                {"sessions": [3, {"pid": "x", "cgroup": 7, "frozen": 1}]}]},
    {"agents": [{"name": "n" * 10000, "profile": {"sha256": "\u009b" * 40}}]},
    {"reload": 5, "kernel": {"a": "b", "c": 1.5, "d": 1}, "started": ["x"]},
])
def test_status_sparse_or_odd_fields(daemon, status):
    """Leaves missing or of the wrong type print as '-' or '?': no failure."""
    d = daemon(line({"ok": True, "status": status}))
    r = run(d, "status")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "\x1b" not in r.stdout and "\u009b" not in r.stdout
    assert max(len(x) for x in r.stdout.splitlines()) < 1000


@pytest.mark.parametrize("reply,why", [
    (b"not json\n", "bad reply from daemon: not JSON ("),
    (b"[1]\n", "bad reply from daemon: not a JSON object"),
    (b"\"ok\"\n", "bad reply from daemon: not JSON ("),
    (b'{"ok":"yes"}\n', "bad reply from daemon: no boolean \"ok\""),
    (b'{"status":{}}\n', "bad reply from daemon: no boolean \"ok\""),
    (b'{"ok":true}\n', "bad reply from daemon: no \"status\" object"),
    (b'{"ok":true,"status":[]}\n', "bad reply from daemon: no \"status\" object"),
    (b'{"ok":true,"status":{"agents":{}}}\n', "bad reply from daemon: \"agents\" is not an array"),
    (b'{"ok":true,"status":{"agents":[1]}}\n', "bad reply from daemon: an agent is not an object"),
    (b'{"ok":true,"status":{"programs":"x"}}\n', "bad reply from daemon: \"programs\" is not an array"),
    (b'{"ok":true,"status":{}} {}\n', "bad reply from daemon: not JSON ("),
    (b'{"ok":true,"x":"\\u0000"}\n', "bad reply from daemon: not JSON ("),
    (b'{"ok":true,"x":"\xff"}\n', "bad reply from daemon: not JSON ("),
    (b'{"a":' * 5000 + b'1' + b'}' * 5000 + b'\n', "bad reply from daemon: not JSON ("),
    (BIG + b"\n", "bad reply from daemon: reply longer than 65536 bytes"),
    (b"", "daemon closed the connection without a reply"),
    (b'{"ok":true,"status":', "bad reply from daemon: not JSON ("),
    (b'{"ok":false}\n', "the daemon refused the request (no reason given)"),
    (b'{"ok":false,"error":"busy\\nreloading\\u001b[2J"}\n', "busy\\x0areloading\\x1b[2J"),
], ids=short_id)
def test_status_bad_replies(daemon, reply, why):
    d = daemon(reply)
    r = run(d, "status")
    assert r.returncode == 1
    one_error_line(r, "agentmon: status: " + why)
    assert r.stdout == ""


# --- freeze, thaw, kill ---

@pytest.mark.parametrize("cmd,outcome", [("freeze", "frozen"), ("thaw", "thawed"), ("kill", "killed")])
def test_action_ok(daemon, cmd, outcome):
    d = daemon(line({"ok": True, "results": [
        {"agent": "support-bot", "pid": 4200, "cgroup": "/agentmon/support-bot-4200", "outcome": outcome},
        {"agent": "support-bot", "pid": 4300, "cgroup": "/agentmon/support-bot-4300", "outcome": outcome}]}))
    r = run(d, cmd, "support-bot")
    assert r.returncode == 0, r.stderr
    assert d.request == {"cmd": cmd, "target": "support-bot"}
    assert r.stdout == (f"support-bot pid 4200 /agentmon/support-bot-4200: {outcome}\n"
                        f"support-bot pid 4300 /agentmon/support-bot-4300: {outcome}\n")
    assert r.stderr == ""


@pytest.mark.parametrize("target", ["4200", "/agentmon/support-bot-4200", "support-bot"])
def test_action_target_sent_as_given(daemon, target):
    d = daemon(line({"ok": True, "results": []}))
    r = run(d, "freeze", target)
    assert r.returncode == 0
    assert d.request == {"cmd": "freeze", "target": target}


def test_action_options_after_target(daemon):
    d = daemon(line({"ok": True, "results": []}))
    r = cli("kill", "--socket", d.path, "support-bot")
    assert r.returncode == 0, r.stderr
    assert d.request == {"cmd": "kill", "target": "support-bot"}


def test_action_no_match(daemon):
    d = daemon(line({"ok": False, "error": "no agent matches 'nobody'"}))
    r = run(d, "freeze", "nobody")
    assert r.returncode == 1
    assert r.stderr == "agentmon: freeze: no agent matches 'nobody'\n"
    assert r.stdout == ""


def test_action_partly_failed(daemon):
    d = daemon(line({"ok": False, "error": "1 of 2 sessions failed", "results": [
        {"agent": "support-bot", "pid": 4200, "cgroup": "/agentmon/support-bot-4200", "outcome": "frozen"},
        {"agent": "support-bot", "pid": 4300, "cgroup": "/agentmon/support-bot-4300",
         "outcome": "failed: cgroup.freeze: No such device"}]}))
    r = run(d, "freeze", "support-bot")
    assert r.returncode == 1
    assert r.stdout == ("support-bot pid 4200 /agentmon/support-bot-4200: frozen\n"
                        "support-bot pid 4300 /agentmon/support-bot-4300: failed: cgroup.freeze: No such device\n")
    assert r.stderr == "agentmon: freeze: 1 of 2 sessions failed\n"


@pytest.mark.parametrize("reply,why", [
    (b'{"ok":true}\n', "bad reply from daemon: no \"results\" array"),
    (b'{"ok":true,"results":{}}\n', "bad reply from daemon: no \"results\" array"),
    (b"garbage\n", "bad reply from daemon: not JSON ("),
    (BIG + b"\n", "bad reply from daemon: reply longer than 65536 bytes"),
    (b"", "daemon closed the connection without a reply"),
], ids=short_id)
def test_action_bad_replies(daemon, reply, why):
    d = daemon(reply)
    r = run(d, "thaw", "support-bot")
    assert r.returncode == 1
    one_error_line(r, "agentmon: thaw: " + why)


def test_action_odd_results(daemon):
    d = daemon(line({"ok": True, "results": [
        1, {}, {"agent": 5, "pid": "4200", "cgroup": [], "outcome": None},
        {"agent": "a\u001bb", "pid": 1, "outcome": "frozen\nfake line"}]}))
    r = run(d, "freeze", "x")
    assert r.returncode == 0
    assert r.stdout == "?: ?\n?: ?\n?: ?\na\\x1bb pid 1: frozen\\x0afake line\n"


# --- tail ---

def test_tail_human(daemon):
    d = daemon(b'{"ok":true}\n' + line(EVENT) + line(LOST))
    r = run(d, "tail")
    assert d.request == {"cmd": "tail", "all": False, "agent": None}
    assert r.stdout == (EVENT_HUMAN + "\n"
                        "09:14:04.000 - lost 17 events (tail client too slow: events dropped for this client)\n")
    assert r.returncode == 1
    assert r.stderr == "agentmon: tail: daemon closed the connection\n"


def test_tail_json_passes_lines_as_is(daemon):
    raw = b'{"kind":"exec",  "agent":"a", "x":[1,2]}\n'
    d = daemon(b'{"ok":true}\n' + line(EVENT) + raw)
    r = run(d, "tail", "--json", "--all", "--agent", "support-bot")
    assert d.request == {"cmd": "tail", "all": True, "agent": "support-bot"}
    assert r.stdout.encode() == line(EVENT) + raw
    assert r.returncode == 1


@pytest.mark.parametrize("json_mode", [False, True])
def test_tail_skips_bad_events(daemon, json_mode):
    d = daemon(b'{"ok":true}\n' + b"not json\n" + b"[1,2]\n" + BIG + b"\n" + b"\n" +
               line(EVENT) + b'{"kind":"exit"')
    args = ["tail", "--json"] if json_mode else ["tail"]
    r = run(d, *args)
    assert r.returncode == 1
    if json_mode:
        assert r.stdout.encode() == line(EVENT)
    else:
        assert r.stdout == EVENT_HUMAN + "\n"
    err = r.stderr.splitlines()
    assert err[0].startswith("agentmon: tail: bad event from daemon: ")
    assert err[1] == "agentmon: tail: bad event from daemon: not a JSON object, skipped"
    assert err[2] == "agentmon: tail: bad event from daemon: line longer than 1048576 bytes, skipped"
    assert err[3].startswith("agentmon: tail: bad event from daemon: ")     # the empty line
    assert err[4].startswith("agentmon: tail: bad event from daemon: ")     # cut by the close
    assert err[5] == "agentmon: tail: daemon closed the connection"
    assert len(err) == 6


def test_tail_event_odd_fields(daemon):
    ev = {"kind": "open\u001b[2J", "agent": ["x"], "pid": "1", "file": {"path": "/a\nb", "access": 1},
          "ancestry": {"pid": 1}}
    d = daemon(b'{"ok":true}\n' + line(ev) + line({}))
    r = run(d, "tail")
    assert r.returncode == 1
    assert r.stdout == ("--:--:--.--- - open\\x1b[2J /a\\x0ab\n"
                        "--:--:--.--- - ? ?\n")


@pytest.mark.parametrize("reply,why", [
    (b"nope\n", "bad reply from daemon: not JSON ("),
    (b'{"ok":1}\n', "bad reply from daemon: no boolean \"ok\""),
    (b'{"ok":false,"error":"unknown cmd \'tail\'"}\n', "unknown cmd 'tail'"),
    (b"", "daemon closed the connection without a reply"),
])
def test_tail_bad_reply(daemon, reply, why):
    d = daemon(reply)
    r = run(d, "tail")
    assert r.returncode == 1
    one_error_line(r, "agentmon: tail: " + why)
    assert r.stdout == ""


def read_line(p, timeout=10):
    """One stdout line of a running process, or fail after timeout."""
    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"no output line within {timeout}s: {buf!r}"
        ready, _, _ = select.select([p.stdout], [], [], left)
        if ready:
            b = os.read(p.stdout.fileno(), 1)
            assert b, f"stdout closed: {buf!r} {p.stderr.read()!r}"
            buf += b
    return buf.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_tail_interrupted_exits_0(daemon, sig):
    d = daemon(b'{"ok":true}\n' + line(EVENT), hold=True)
    p = subprocess.Popen([AGENTMON, "tail", "--socket", d.path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert read_line(p) == EVENT_HUMAN + "\n"
        p.send_signal(sig)
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rc == 0
    assert p.stderr.read() == b""


def test_tail_reader_gone(daemon):
    """`agentmon tail | head -1`: the closed pipe ends tail quietly with 0."""
    d = daemon(b'{"ok":true}\n' + line(EVENT) * 2000, hold=True)
    r = subprocess.run(f"'{AGENTMON}' tail --json --socket '{d.path}' | head -1; "
                       "echo \"tail exit ${PIPESTATUS[0]}\" >&2",
                       shell=True, capture_output=True, text=True, timeout=30,
                       executable="/bin/bash")
    assert r.stdout == json.dumps(EVENT) + "\n"
    assert r.stderr == "tail exit 0\n"
