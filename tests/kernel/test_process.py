"""Process tree of an agent as the kernel reports it (real BPF, real processes)."""
import os
import signal
import subprocess
import time

import pytest

from conftest import AGENTMON, read_events, wait_for

pytestmark = pytest.mark.usefixtures("root")

HDR_FIELDS = {"ts", "host", "agent", "profile", "pid", "ppid", "uid", "comm", "exe",
              "cgroup", "kind"}


def test_issue_example_tree_exit_code(profile, run_exec):
    """The issue's acceptance command: exec events for sh, true and sleep, exit 3."""
    r = run_exec(profile(), ["sh", "-c", "/bin/true; (sleep 1 &); exit 3"])
    assert r.rc == 3, r.stderr
    execs = r.execs()
    assert execs[0] == "/usr/bin/dash"           # sh → dash, resolved by the kernel
    assert "/usr/bin/true" in execs              # /bin → /usr/bin symlink resolved
    assert "/usr/bin/sleep" in execs             # the orphaned background child
    for e in r.events:
        assert HDR_FIELDS <= set(e), e
        assert e["agent"] == "test-agent"
        assert e["profile"]["version"] == "1.0.0"
        assert e["cgroup"].startswith("/agentmon/test-agent-")
        assert e["ts"].endswith("Z") and len(e["ts"]) == 30
    root = r.of_kind("exec")[0]
    assert root["argv"] == ["sh", "-c", "/bin/true; (sleep 1 &); exit 3"]
    assert root["comm"] == "sh" and root["uid"] == 0
    true_ev = [e for e in r.of_kind("exec") if e["exe"] == "/usr/bin/true"][0]
    assert true_ev["ppid"] == root["pid"]
    assert true_ev["argv"] == ["/bin/true"]
    assert true_ev["ancestry"] == [{"pid": root["pid"], "exe": "/usr/bin/dash"}]
    # every process that exec'd also exited, and the root's exit code is 3
    exits = {e["pid"]: e for e in r.of_kind("exit")}
    for e in r.of_kind("exec"):
        assert e["pid"] in exits
    assert exits[root["pid"]]["exit"] == {"code": 3}


def test_exec_through_symlink_reports_target(profile, run_exec, tmp_path):
    link = tmp_path / "mytrue"
    os.symlink("/bin/true", link)
    r = run_exec(profile(), [str(link)])
    assert r.rc == 0, r.stderr
    ev = r.of_kind("exec")[0]
    assert ev["exe"] == "/usr/bin/true"
    assert ev["argv"] == [str(link)]


def test_relative_exec_resolved(profile, run_exec):
    r = run_exec(profile(), ["sh", "-c", "cd /usr/bin/../bin && ./true"])
    assert r.rc == 0
    assert r.execs() == ["/usr/bin/dash", "/usr/bin/true"]


def test_exec_across_bind_mount(profile, run_exec, tmp_path):
    """The dentry walk crosses mounts: the path is the mountpoint's, like d_path()."""
    mnt = tmp_path / "bindbin"
    mnt.mkdir()
    subprocess.run(["mount", "--bind", "/usr/bin", str(mnt)], check=True)
    try:
        r = run_exec(profile(), [str(mnt / "true")])
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert r.rc == 0, r.stderr
    assert r.execs() == [str(mnt / "true")]


def test_double_forked_grandchild_tracked(profile, run_exec):
    """A grandchild that is re-parented (setsid + double fork) stays with the agent,
    and exec waits for it."""
    cmd = ["sh", "-c", '(setsid sh -c "sleep 0.3; exec /bin/echo grandchild" >/dev/null &); exit 0']
    t0 = time.monotonic()
    r = run_exec(profile(), cmd)
    assert r.rc == 0
    assert time.monotonic() - t0 >= 0.3          # waited for the whole tree
    echo = [e for e in r.of_kind("exec") if e["exe"] == "/usr/bin/echo"]
    assert len(echo) == 1
    assert echo[0]["argv"] == ["/bin/echo", "grandchild"]
    assert echo[0]["agent"] == "test-agent"
    exits = [e for e in r.of_kind("exit") if e["pid"] == echo[0]["pid"]]
    assert exits and exits[0]["exit"] == {"code": 0}


def test_exit_code_and_killing_signal(profile, run_exec):
    r = run_exec(profile(), ["sh", "-c", "exit 7"])
    assert r.rc == 7
    assert r.of_kind("exit")[-1]["exit"] == {"code": 7}

    r = run_exec(profile(), ["sh", "-c", "kill -TERM $$"])
    assert r.rc == 128 + signal.SIGTERM
    root_exit = [e for e in r.of_kind("exit") if e["comm"] == "sh"][-1]
    assert root_exit["exit"] == {"signal": signal.SIGTERM}


def test_process_outside_agent_not_reported(profile, tmp_path):
    """Processes the test starts while an agent runs are not the agent's."""
    out = tmp_path / "ev.json"
    agent = subprocess.Popen([AGENTMON, "exec", "--profile", profile(), "--json", str(out),
                              "--", "sleep", "1"], stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: out.exists() and out.stat().st_size > 0, 10)
    outsiders = []
    for _ in range(5):
        p = subprocess.run(["/bin/true"])
        outsiders.append(subprocess.Popen(["/bin/sleep", "0"]).pid)
    agent.wait(30)
    assert agent.returncode == 0
    pids = {e["pid"] for e in read_events(out)}
    assert not pids & set(outsiders)
    assert [e["exe"] for e in read_events(out) if e["kind"] == "exec"] == ["/usr/bin/sleep"]


def test_lost_events_reported(profile, tmp_path):
    """A stalled consumer and a tiny ring buffer: the overflow shows up as a
    `lost` event with its count, never silently."""
    out = tmp_path / "ev.json"
    marker = tmp_path / "done"
    script = f"sleep 0.5; for i in $(seq 200); do /bin/true; done; touch {marker}"
    agent = subprocess.Popen([AGENTMON, "exec", "--profile", profile(), "--json", str(out),
                              "--ringbuf-size", "4096", "--", "sh", "-c", script],
                             stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: out.exists() and out.stat().st_size > 0, 10)
    os.kill(agent.pid, signal.SIGSTOP)          # our own process: the consumer stalls
    try:
        assert wait_for(marker.exists, 30)
    finally:
        os.kill(agent.pid, signal.SIGCONT)
    agent.wait(30)
    assert agent.returncode == 0, agent.stderr.read()
    ev = read_events(out)
    lost = [e for e in ev if e["kind"] == "lost"]
    assert lost, "overflow was silent"
    total_lost = sum(e["lost"]["count"] for e in lost)
    delivered = [e for e in ev if e["kind"] in ("exec", "exit")]
    # 200 loops = 400 exec/exit events (+fork records) into a 4 KiB ring
    assert total_lost > 100
    assert len(delivered) + total_lost >= 400
    assert lost[0]["agent"] == "test-agent"


def test_command_not_found(profile, run_exec):
    r = run_exec(profile(), ["/nonexistent/agent-binary"])
    assert r.rc == 127
    assert "agentmon: exec: /nonexistent/agent-binary: No such file or directory" in r.stderr


def test_cgroup_created_and_removed(profile, tmp_path):
    out = tmp_path / "ev.json"
    agent = subprocess.Popen([AGENTMON, "exec", "--profile", profile(), "--json", str(out),
                              "--", "sleep", "0.5"])
    assert wait_for(lambda: out.exists() and out.stat().st_size > 0, 10)
    cg = read_events(out)[0]["cgroup"]
    root = subprocess.run(["findmnt", "-n", "-t", "cgroup2", "-o", "TARGET"],
                          capture_output=True, text=True).stdout.split()[0]
    procs = open(root + cg + "/cgroup.procs").read().split()
    assert str(read_events(out)[0]["pid"]) in procs
    agent.wait(30)
    assert not os.path.exists(root + cg)
