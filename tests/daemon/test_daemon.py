"""agentmon run: a real daemon, started and stopped by each test on its own
socket and profiles directory, watching real processes.

The agents are copies of /usr/bin/dash (or sleep) under tmp_path, so a
profile's match.exe (compared by inode) selects only the processes these
tests start; they are stopped by pid."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import AGENTMON, cli, need_root, wait_for, write_profile


class Daemon:
    def __init__(self, tmp_path, profiles, sock=None):
        self.dir = tmp_path
        self.profiles = profiles
        self.sock = sock or str(tmp_path / "run" / "agentmon.sock")
        self.log = tmp_path / "events.json"
        self.err = open(tmp_path / "daemon.err", "w+")
        self.proc = subprocess.Popen(
            [AGENTMON, "run", "--profiles", str(profiles), "--socket", self.sock,
             "--json", str(self.log)], stdout=subprocess.DEVNULL, stderr=self.err)
        ok = wait_for(lambda: self.proc.poll() is not None or self.try_status(), timeout=20)
        assert self.proc.poll() is None, self.stderr()
        assert ok, "daemon did not answer: " + self.stderr()

    def stderr(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def try_status(self):
        try:
            return self.request({"cmd": "status"})["ok"]
        except OSError:
            return False

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.sock)
        return s

    def request(self, req):
        with self.connect() as s:
            s.sendall((json.dumps(req) + "\n").encode())
            return json.loads(s.makefile().readline())

    def status(self):
        r = cli("status", "--json", "--socket", self.sock)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def agent(self, name):
        for a in self.status()["agents"]:
            if a["name"] == name:
                return a
        return None

    def events(self):
        if not self.log.exists():
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=30)
        return self.proc.returncode


@pytest.fixture
def daemon_env(tmp_path):
    need_root()
    made = []
    started = []

    profiles = tmp_path / "profiles.d"
    profiles.mkdir(mode=0o755)
    bot = tmp_path / "bot"
    shutil.copy("/usr/bin/dash", bot)

    class Env:
        dir = tmp_path
        pdir = profiles
        exe = str(bot)

        def profile(self, name="bot", file=None, **over):
            over.setdefault("match", {"exe": str(bot)})
            return write_profile(profiles / (file or f"{name}.json"), name=name, **over)

        def start(self, sock=None):
            d = Daemon(tmp_path, profiles, sock)
            made.append(d)
            return d

        def spawn(self, script, exe=None):
            p = subprocess.Popen([exe or str(bot), "-c", script])
            started.append(p)
            return p

    yield Env()
    for p in started:       # the test's processes and their descendants, by pid
        for pid in reversed(descendants(p.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if p.poll() is None:
            p.kill()
        p.wait()
    rcs = []
    for d in made:      # every daemon is stopped, even if one of them hangs
        try:
            rcs.append(d.stop())
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait()
            rcs.append("hung")
    for d, rc in zip(made, rcs):
        assert rc == 0, d.stderr()
        assert not os.path.exists(d.sock), "socket left behind"


def descendants(pid):
    """pid's children, grandchildren... (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        cur = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{cur}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{cur}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def proc_cgroup(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return None


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            if parts[parts.index("-") + 1] == "cgroup2":
                return parts[4]
    raise RuntimeError("no cgroup2")


def frozen(cg):
    with open(os.path.join(cgroup2_root() + cg, "cgroup.events")) as f:
        return "frozen 1" in f.read()


class Tail:
    """A `tail --json` client in the background, collecting lines."""

    def __init__(self, sock, *args):
        self.p = subprocess.Popen([AGENTMON, "tail", "--json", "--socket", sock, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(json.loads(line))

    def events(self):
        return list(self.lines)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        rc = self.p.wait(timeout=10)
        self.t.join(5)
        return rc


def test_matched_process_violation_reaches_tail(daemon_env):
    daemon_env.profile(files={"read": ["/**"], "write": ["/tmp/**", "/dev/null"],
                              "deny": ["/etc/shadow"]})
    d = daemon_env.start()
    tail = Tail(d.sock)
    time.sleep(0.3)   # tail subscribed
    p = daemon_env.spawn("cat /etc/shadow >/dev/null; exit 0")
    p.wait(timeout=10)
    got = wait_for(lambda: [e for e in tail.events() if e.get("kind") == "open"
                            and e.get("file", {}).get("path") == "/etc/shadow"], timeout=10)
    assert tail.stop() == 0
    assert got, tail.events()
    ev = got[0]
    assert ev["agent"] == "bot"
    assert ev["verdict"] == "critical"
    assert ev["rule"].startswith("files.deny")
    assert ev["exe"] == "/usr/bin/cat"
    # the ancestry names the matched root
    assert [a["exe"] for a in ev["ancestry"]][0] == daemon_env.exe
    assert ev["cgroup"].endswith(f"bot-{p.pid}")
    # allowed activity is not sent to a default tail, but is in the JSON log
    assert not [e for e in tail.events() if e.get("verdict") == "allow"]
    assert [e for e in d.events() if e["kind"] == "exec" and e["pid"] == p.pid]


def test_status_counts(daemon_env):
    daemon_env.profile()
    d = daemon_env.start()
    p = daemon_env.spawn("sleep 30; exit 0")
    a = wait_for(lambda: (lambda a: a if a and a["processes"] >= 2 else None)(d.agent("bot")))
    assert a, d.status()
    st = d.status()
    assert st["pid"] == d.proc.pid
    assert st["socket"] == d.sock
    assert st["profiles_dir"] == str(daemon_env.pdir)
    assert st["reload"]["ok"] is True
    assert a["source"] == "profile"
    assert a["mode"] == "enforce"
    assert a["match"] == {"exe": daemon_env.exe}
    assert a["profile"]["version"] == "1.0.0"
    chk = cli("check", str(daemon_env.pdir / "bot.json"))
    assert a["profile"]["sha256"] in chk.stdout
    assert [s["pid"] for s in a["sessions"]] == [p.pid]
    assert a["processes"] == 2        # the shell and its sleep
    assert a["events"] >= 2 and a["lost"] == 0 and a["violations"] == 0
    names = {pr["name"] for pr in st["programs"] if pr["attached"]}
    assert {"handle_exec", "handle_fork", "handle_exit", "connect4", "sys_exit_openat"} <= names
    # the human form too
    r = cli("status", "--socket", d.sock)
    assert r.returncode == 0 and "bot" in r.stdout


@pytest.fixture
def public_dir():
    """A directory others may enter (pytest's own tmp dirs are 0700)."""
    import tempfile
    d = tempfile.mkdtemp(prefix="agentmon-test-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_non_root_client_is_refused(daemon_env, public_dir):
    d = daemon_env.start(sock=os.path.join(public_dir, "run", "agentmon.sock"))
    sockdir = os.path.dirname(d.sock)
    assert os.stat(sockdir).st_mode & 0o777 == 0o700
    assert os.stat(d.sock).st_mode & 0o777 == 0o600
    for cmd in (["status"], ["tail"], ["freeze", "bot"]):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            AGENTMON, *cmd, "--socket", d.sock],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 1, r
        assert "permission denied" in r.stderr
    # past the file modes, the daemon checks the peer itself
    os.chmod(sockdir, 0o755)
    os.chmod(d.sock, 0o666)
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            AGENTMON, "status", "--socket", d.sock],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 1 and "permission denied" in r.stderr, r
        raw = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
             "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
             "print(s.makefile().read())", d.sock],
            capture_output=True, text=True, timeout=20)
        assert json.loads(raw.stdout) == {"ok": False, "error": "permission denied"}
    finally:
        os.chmod(d.sock, 0o600)
        os.chmod(sockdir, 0o700)
    assert d.try_status()


@pytest.mark.parametrize("by", ["name", "pid"])
def test_freeze_thaw_kill(daemon_env, by):
    daemon_env.profile()
    d = daemon_env.start()
    p = daemon_env.spawn("sleep 60 & wait")
    a = wait_for(lambda: (lambda a: a if a and a["processes"] >= 2 else None)(d.agent("bot")))
    assert a
    cg = a["sessions"][0]["cgroup"]
    assert proc_cgroup(p.pid) == cg
    target = "bot" if by == "name" else str(p.pid)

    r = cli("freeze", target, "--socket", d.sock)
    assert r.returncode == 0, r.stderr
    assert "frozen" in r.stdout
    assert frozen(cg)
    assert d.agent("bot")["sessions"][0]["frozen"] is True

    r = cli("thaw", target, "--socket", d.sock)
    assert r.returncode == 0 and "thawed" in r.stdout, r.stderr
    assert not frozen(cg)

    r = cli("kill", target, "--socket", d.sock)
    assert r.returncode == 0 and "killed" in r.stdout, r.stderr
    assert p.wait(timeout=10) == -signal.SIGKILL
    acts = [e for e in d.events() if e["kind"] == "action"]
    assert [(e["action"], e["outcome"]) for e in acts] == [
        ("freeze", "frozen"), ("thaw", "thawed"), ("kill", "killed")]
    # unknown targets: a precise error, exit 1
    r = cli("freeze", "no-such-agent", "--socket", d.sock)
    assert r.returncode == 1 and "no agent matches" in r.stderr
    r = cli("freeze", str(os.getpid()), "--socket", d.sock)
    assert r.returncode == 1 and "not an agent process" in r.stderr


def test_sighup_with_broken_profile_keeps_the_old_one(daemon_env):
    daemon_env.profile()
    d = daemon_env.start()
    sha = d.agent("bot")["profile"]["sha256"]
    with open(daemon_env.pdir / "bot.json", "w") as f:
        f.write('{"name": "bot", "version": \n')
    d.proc.send_signal(signal.SIGHUP)
    st = wait_for(lambda: (lambda s: s if s["reload"]["count"] == 1 else None)(d.status()))
    assert st, d.stderr()
    assert st["reload"]["ok"] is False
    assert "bot.json" in st["reload"]["errors"][0]
    a = d.agent("bot")
    assert a["profile"]["sha256"] == sha and a["retired"] is False
    # and it is still enforced: a new process is still matched
    p = daemon_env.spawn("exec sleep 30")
    assert wait_for(lambda: d.agent("bot")["processes"] >= 1)
    # a valid new version replaces it
    p.kill()
    daemon_env.profile(version="2.0.0")
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: d.agent("bot")["profile"]["version"] == "2.0.0")
    assert d.status()["reload"]["ok"] is True


def test_malformed_requests_get_errors(daemon_env):
    d = daemon_env.start()
    with d.connect() as s:
        f = s.makefile("rwb")
        for req, want in [(b"not json", "malformed request"),
                          (b"[1,2]", "expected a JSON object"),
                          (b'{"nocmd":1}', '"cmd"'),
                          (b'{"cmd":"selfdestruct"}', "unknown command"),
                          (b'{"cmd":"freeze"}', "target"),
                          (b'{"cmd":"tail","all":"yes"}', "boolean"),
                          (b'{"cmd":"register","pid":-1}', "needs"),
                          (b'{"cmd":"status"', "malformed request")]:
            f.write(req + b"\n")
            f.flush()
            r = json.loads(f.readline())
            assert r["ok"] is False and want in r["error"], (req, r)
        # the connection still works
        f.write(b'{"cmd":"status"}\n')
        f.flush()
        assert json.loads(f.readline())["ok"] is True
        # an oversized line: an error, then the connection is closed
        f.write(b"x" * (70 * 1024) + b"\n")
        f.flush()
        r = json.loads(f.readline())
        assert r["ok"] is False and "too long" in r["error"]
        try:   # closed: EOF, or a reset for the bytes it did not read
            assert f.readline() == b""
        except ConnectionResetError:
            pass
    assert d.try_status()


def test_stalled_client_does_not_block_others(daemon_env):
    daemon_env.profile(response={"drift": "alert", "violation": "alert", "critical": "alert",
                                 "lost": "alert"},
                       files={"read": ["/usr/**", "/etc/**", "/proc/**", "/dev/**"],
                              "write": ["/dev/null"]})
    d = daemon_env.start()
    # a tail client that never reads
    stalled = d.connect()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b'{"cmd":"tail","all":true}\n')
    live = Tail(d.sock, "--all")
    time.sleep(0.3)
    # each read of a new path is a violation: many events
    n = 3000
    p = daemon_env.spawn(f"i=0; while [ $i -lt {n} ]; do"
                         f" cat /tmp/stall-missing-$i 2>/dev/null; i=$((i+1)); done; exit 0")
    assert p.wait(timeout=120) == 0
    got = wait_for(lambda: [e for e in live.events() if e.get("kind") == "exit"
                            and e.get("pid") == p.pid], timeout=30)
    assert got, len(live.events())
    assert live.stop() == 0
    assert len([e for e in live.events() if e.get("kind") == "exec"]) >= n
    # the daemon answers while the stalled client still holds its queue
    assert d.try_status()
    # the stalled client is told what it lost once it reads
    stalled.settimeout(5)
    buf = b""
    while b'"tail client too slow' not in buf:
        chunk = stalled.recv(1 << 20)
        assert chunk, "stream ended without a loss notice"
        buf += chunk
    stalled.close()


def test_running_process_is_adopted_at_start(daemon_env):
    daemon_env.profile(files={"read": ["/**"], "write": ["/dev/null"], "deny": ["/etc/shadow"]})
    p = daemon_env.spawn("sleep 1.5; cat /etc/shadow > /dev/null; sleep 30")
    time.sleep(0.3)
    d = daemon_env.start()
    a = wait_for(lambda: (lambda a: a if a and a["sessions"] else None)(d.agent("bot")))
    assert a and a["sessions"][0]["pid"] == p.pid, d.status()
    assert proc_cgroup(p.pid) == a["sessions"][0]["cgroup"]
    crit = wait_for(lambda: [e for e in d.events() if e.get("verdict") == "critical"], timeout=10)
    assert crit and crit[0]["pid"] != p.pid and crit[0]["ancestry"][0]["pid"] == p.pid


def test_exec_registers_with_the_daemon(daemon_env, profile):
    d = daemon_env.start()
    prof = profile(name="exec-agent")
    out = daemon_env.dir / "exec.json"
    ex = subprocess.Popen([AGENTMON, "exec", "--socket", d.sock, "--profile", prof,
                           "--json", str(out), "--", "sh", "-c",
                           "cat /etc/hostname >/dev/null; sleep 1; exit 7"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    a = wait_for(lambda: d.agent("exec-agent"), timeout=10)
    assert a and a["source"] == "exec", d.status()
    assert a["sessions"][0]["cgroup"].startswith("/agentmon/exec-agent-")
    _, err = ex.communicate(timeout=30)
    assert ex.returncode == 7, err
    evs = [json.loads(l) for l in open(out)]
    kinds = [e["kind"] for e in evs]
    assert "exec" in kinds and "exit" in kinds
    assert any(e.get("file", {}).get("path") == "/etc/hostname" for e in evs)
    # the daemon forgot it when it ended; the daemon's own log has it too
    assert d.agent("exec-agent") is None
    assert any(e["agent"] == "exec-agent" for e in d.events())


def run_registered(d, prof, code, json_arg):
    """python3 -c code as an agent registered by `agentmon exec --socket`."""
    ex = subprocess.run([AGENTMON, "exec", "--socket", d.sock, "--profile", prof,
                         "--json", json_arg, "--", "/usr/bin/python3", "-c", code],
                        capture_output=True, text=True, timeout=120)
    assert ex.returncode == 0, ex.stderr
    return ex


def test_exec_json_file_is_written_by_the_daemon_without_loss(daemon_env, profile):
    """A --json regular file is handed to the daemon (SCM_RIGHTS), which
    writes every event of the agent into it: a flood of new activity reaches
    it whole, with no loss notice."""
    d = daemon_env.start()
    prof = profile(name="flood")
    area = daemon_env.dir / "many"
    area.mkdir()
    n = 20000
    for i in range(n):
        (area / f"f{i}").touch()
    out = daemon_env.dir / "flood-events.json"
    run_registered(d, prof, f"import os\nfor i in range({n}): os.close(os.open('{area}/f%d' % i, 0))",
                   str(out))
    evs = [json.loads(l) for l in open(out)]
    paths = {e["file"]["path"] for e in evs if e["kind"] == "open"}
    assert all(f"{area}/f{i}" in paths for i in range(n))
    assert not [e for e in evs if e["kind"] == "lost"]
    assert [e["kind"] for e in evs].count("exit") >= 1


def test_exec_json_to_a_pipe_is_streamed(daemon_env, profile):
    """--json - to a pipe is not a file the daemon may write (it must never
    block on a reader): the events come over the connection and exec writes
    them."""
    d = daemon_env.start()
    ex = run_registered(d, profile(name="piped"), "open('/etc/hostname').close()", "-")
    evs = [json.loads(l) for l in ex.stdout.splitlines() if l.startswith("{")]
    assert any(e.get("file", {}).get("path") == "/etc/hostname" for e in evs)
    assert "exit" in [e["kind"] for e in evs]


def test_exec_json_to_stdout_file_is_written_by_the_daemon(daemon_env, profile):
    """--json - with stdout a regular file: handed over like a named file, so
    a flood arrives whole there too."""
    d = daemon_env.start()
    area = daemon_env.dir / "many"
    area.mkdir()
    n = 5000
    for i in range(n):
        (area / f"f{i}").touch()
    out = daemon_env.dir / "stdout-events.json"
    with open(out, "w") as f:
        ex = subprocess.run([AGENTMON, "exec", "--socket", d.sock, "--profile",
                             profile(name="tofile"), "--json", "-", "--", "/usr/bin/python3", "-c",
                             f"import os\nfor i in range({n}): os.close(os.open('{area}/f%d' % i, 0))"],
                            stdout=f, stderr=subprocess.PIPE, text=True, timeout=120)
    assert ex.returncode == 0, ex.stderr
    evs = [json.loads(l) for l in open(out) if l.startswith("{")]
    paths = {e["file"]["path"] for e in evs if e["kind"] == "open"}
    assert all(f"{area}/f{i}" in paths for i in range(n))
    assert not [e for e in evs if e["kind"] == "lost"]


def test_register_log_needs_a_writable_file(daemon_env, profile):
    d = daemon_env.start()
    r = d.request({"cmd": "register", "profile": profile(name="x"), "pid": os.getpid(),
                   "cgroup": "/", "log": True})
    assert not r["ok"] and "file descriptor" in r["error"]
    with d.connect() as s, open("/etc/hostname") as ro:
        req = json.dumps({"cmd": "register", "profile": profile(name="x"), "pid": os.getpid(),
                          "cgroup": "/", "log": True}) + "\n"
        s.sendmsg([req.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    __import__("array").array("i", [ro.fileno()]))])
        r = json.loads(s.makefile().readline())
    assert not r["ok"] and "regular file open for writing" in r["error"]


def test_allowed_repeats_stop_in_the_kernel(daemon_env, profile):
    """An allowed activity is judged once; its first repeat teaches the
    kernel, which drops the rest: userspace sees only a handful of the
    thousand repeats (status: userspace.repeats_dropped)."""
    d = daemon_env.start()
    out = daemon_env.dir / "rep-events.json"
    code = ("import time\nopen('/etc/hostname').close()\ntime.sleep(0.3)\n"
            "for i in range(1000):\n    open('/etc/hostname').close()\n    time.sleep(0.001)")
    run_registered(d, profile(name="rep"), code, str(out))
    evs = [json.loads(l) for l in open(out)]
    assert len([e for e in evs if e.get("file", {}).get("path") == "/etc/hostname"]) == 1
    dropped = d.status()["userspace"]["repeats_dropped"]
    assert 1 <= dropped < 50, dropped


def test_network_refused_for_a_matched_agent(daemon_env):
    """The sock_addr programs sit on the cgroup2 root: a matched agent's
    connect is refused in the kernel, whatever cgroup made its socket."""
    py = daemon_env.dir / "py"
    shutil.copy(os.path.realpath("/usr/bin/python3"), py)
    daemon_env.profile(name="pybot", match={"exe": str(py)}, exec={"allow": ["/**"]},
                       network={"connect": ["127.0.0.1:9"]},
                       response={"drift": "alert", "violation": "kill",
                                 "critical": "kill", "lost": "alert"})
    d = daemon_env.start()
    code = ("import socket, errno\n"
            "s = socket.socket(); s.settimeout(1)\n"
            "try:\n    s.connect(('127.0.0.2', 9)); print('connected', flush=True)\n"
            "except OSError as e:\n    print(errno.errorcode.get(e.errno), flush=True)\n")
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=20)
    assert r.stdout.strip() == "EPERM", r
    ev = wait_for(lambda: [e for e in d.events() if e["kind"] == "connect"
                           and e["agent"] == "pybot"])
    assert ev and ev[0]["net"]["daddr"] == "127.0.0.2"
    # the refusal is the response: nothing else is killed
    assert ev[0]["verdict"] == "violation" and ev[0]["outcome"] == "denied", ev


def test_sigterm_exits_cleanly_and_usage_errors(daemon_env, tmp_path):
    d = daemon_env.start()
    assert d.stop() == 0
    assert "stopping" in d.stderr()
    # a second daemon on the same socket is refused
    d2 = daemon_env.start()
    r = subprocess.run([AGENTMON, "run", "--profiles", str(daemon_env.pdir), "--socket", d2.sock],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "another agentmon daemon" in r.stderr
    r = cli("run", "--bogus")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = cli("run", "--help")
    assert r.returncode == 0 and "--profiles" in r.stdout
    r = subprocess.run([AGENTMON, "run", "--profiles", str(tmp_path / "missing"),
                        "--socket", str(tmp_path / "s2" / "sock")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "missing" in r.stderr and r.stderr.count("\n") == 1, r


def test_match_by_uid(daemon_env, public_dir):
    """match.uid is checked in the kernel at exec: the same executable run by
    root is not the agent, run by uid 65534 it is."""
    exe = os.path.join(public_dir, "uidbot")
    shutil.copy("/usr/bin/dash", exe)
    os.chmod(exe, 0o755)
    daemon_env.profile(name="uidbot", match={"exe": exe, "uid": 65534})
    d = daemon_env.start()
    mine = subprocess.Popen([exe, "-c", "exec sleep 30"])
    theirs = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               exe, "-c", "exec sleep 30"])
    try:
        a = wait_for(lambda: (lambda a: a if a and a["sessions"] else None)(d.agent("uidbot")))
        assert a, d.status()
        time.sleep(0.5)
        assert [s["pid"] for s in d.agent("uidbot")["sessions"]] == [theirs.pid]
    finally:
        for p in (mine, theirs):
            p.kill()
            p.wait()


def test_match_by_cgroup(daemon_env):
    """match.cgroup is a subtree: a process started inside it is the agent,
    the same executable elsewhere is not."""
    rel = f"/agentmon-test-{os.getpid()}"
    cgdir = cgroup2_root() + rel
    os.mkdir(cgdir)
    try:
        daemon_env.profile(match={"exe": daemon_env.exe, "cgroup": rel})
        d = daemon_env.start()

        def join():
            with open(os.path.join(cgdir, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        inside = subprocess.Popen([daemon_env.exe, "-c", "exec sleep 30"], preexec_fn=join)
        outside = daemon_env.spawn("exec sleep 30")
        a = wait_for(lambda: (lambda a: a if a and a["sessions"] else None)(d.agent("bot")))
        assert a, d.status()
        time.sleep(0.5)
        a = d.agent("bot")
        assert [s["pid"] for s in a["sessions"]] == [inside.pid]
        assert a["sessions"][0]["cgroup"] == f"{rel}/agentmon-bot-{inside.pid}"
        r = cli("kill", "bot", "--socket", d.sock)
        assert r.returncode == 0 and "killed" in r.stdout, r.stderr
        inside.wait()
        # the session's cgroup goes once empty
        assert wait_for(lambda: not d.agent("bot")["sessions"], timeout=10)
        assert os.listdir(cgdir) == [] or all(not os.path.isdir(os.path.join(cgdir, e))
                                              for e in os.listdir(cgdir))
    finally:
        with open(os.path.join(cgdir, "cgroup.kill"), "w") as f:
            f.write("1")    # whatever is left of this test in its cgroup
        for e in os.listdir(cgdir):
            sub = os.path.join(cgdir, e)
            if os.path.isdir(sub):
                wait_for(lambda: subprocess.run(["rmdir", sub]).returncode == 0, timeout=5)
        wait_for(lambda: subprocess.run(["rmdir", cgdir]).returncode == 0, timeout=5)


def test_executable_that_appears_later_is_matched(daemon_env):
    late = daemon_env.dir / "late-bot"
    daemon_env.profile(name="late", match={"exe": str(late)})
    d = daemon_env.start()
    assert d.status()["match"]["pending"] == 1
    shutil.copy("/usr/bin/dash", late)
    assert wait_for(lambda: d.status()["match"]["pending"] == 0, timeout=10)
    p = daemon_env.spawn("exec sleep 30", exe=str(late))
    a = wait_for(lambda: (lambda a: a if a and a["sessions"] else None)(d.agent("late")))
    assert a and a["sessions"][0]["pid"] == p.pid


def test_script_as_match_exe_is_warned_about(daemon_env):
    script = daemon_env.dir / "bot.sh"
    script.write_text("#!/bin/sh\nsleep 1\n")
    script.chmod(0o755)
    daemon_env.profile(name="scripted", match={"exe": str(script)})
    d = daemon_env.start()
    assert "is a script" in d.stderr() and "never matches" in d.stderr()


def test_ancestry_keeps_exited_parents(daemon_env):
    daemon_env.profile(files={"read": ["/**"], "write": ["/dev/null"], "deny": ["/etc/shadow"]})
    d = daemon_env.start()
    # the subshell that forks the reader exits before the read
    p = daemon_env.spawn("(sh -c 'sleep 0.5; cat /etc/shadow > /dev/null' &); exit 0")
    assert p.wait(timeout=10) == 0
    crit = wait_for(lambda: [e for e in d.events() if e.get("verdict") == "critical"], timeout=10)
    assert crit, d.events()
    pids = [a["pid"] for a in crit[0]["ancestry"]]
    assert pids[0] == p.pid, crit[0]["ancestry"]
    assert len(pids) >= 3    # root, the exited subshell, the reader's sh
