#!/usr/bin/python3
"""Time from a violating syscall to the confirmed freeze of the agent's cgroup.

Each run: `agentmon exec` starts tests/bench/violator under a profile whose
response to a violation is `freeze`; the violator records CLOCK_MONOTONIC just
before its violating open; this harness re-reads the cgroup's cgroup.events
every ~50 us and takes the time it reads `frozen 1`. (Not POLLPRI alone: the
kernel sends cgroup.events notifications at most once per 10 ms per cgroup,
so a freeze soon after the agent joined its cgroup was seen up to 10 ms late,
which is what the "first milliseconds" runs measured before.) Prints
p50/p90/p99/max over the runs, and JSON with --json. Root only; touches only
its own processes and cgroups."""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def cg_root():
    for line in open("/proc/self/mountinfo"):
        pre, _, post = line.partition(" - ")
        if post.split()[0] == "cgroup2":
            return pre.split()[4]
    sys.exit("bench-freeze: no cgroup2 mount")


def agent_cgroup(exec_pid, violator):
    try:
        kids = open("/proc/%d/task/%d/children" % (exec_pid, exec_pid)).read().split()
        for k in kids:
            if os.readlink("/proc/%s/exe" % k) == violator:
                for line in open("/proc/%s/cgroup" % k):
                    if line.startswith("0::"):
                        return line[3:].strip()
    except OSError:
        pass
    return None


def one_run(agentmon, violator, work, cgr, settle, exec_opts=()):
    prof = os.path.join(work, "p.json")
    events = os.path.join(work, "ev.json")
    t0file = os.path.join(work, "t0")
    target = os.path.join(work, "violation")
    for f in (events, t0file, target):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.Popen([agentmon, "exec", "--profile", prof, "--json", events] + list(exec_opts) +
                         ["--", violator, t0file, target], stdin=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        # The agent runs once exec's child has become the violator (it is
        # tracked and in its cgroup before that exec); its cgroup is in /proc.
        deadline = time.monotonic() + 10
        cg = None
        while cg is None and time.monotonic() < deadline:
            cg = agent_cgroup(p.pid, violator)
            time.sleep(0.002)
        if cg is None:
            raise RuntimeError("agent did not start")
        time.sleep(settle)      # steady state: the agent's start-up events are handled
        evf = open(cgr + cg + "/cgroup.events")
        p.stdin.write(b"g")
        p.stdin.flush()
        t1 = None
        while time.monotonic() < deadline:
            evf.seek(0)
            if "frozen 1" in evf.read():
                t1 = time.monotonic_ns()
                break
            time.sleep(0.00005)
        if t1 is None:
            raise RuntimeError("not frozen within 10 s")
        t0 = int(open(t0file).read())
        with open(cgr + cg + "/cgroup.kill", "w") as k:
            k.write("1")
        return (t1 - t0) / 1e6
    finally:
        if p.poll() is None:
            p.stdin.close()          # an agent still waiting for its cue exits
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()             # ours, by pid
                p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--settle", type=float, default=0.2,
                    help="seconds between the agent's start and its violation (0: at start-up)")
    ap.add_argument("--agentmon", default=os.path.join(ROOT, "build", "agentmon"))
    ap.add_argument("--socket", help="register the agents with the daemon at this socket "
                    "(the daemon judges and freezes); default: agentmon exec --standalone")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-freeze: needs root")
    work = tempfile.mkdtemp(prefix="agentmon-bench-freeze-")
    os.chmod(work, 0o755)
    violator = os.path.join(work, "violator")
    subprocess.run(["gcc", "-O2", "-o", violator, os.path.join(ROOT, "tests/bench/violator.c")],
                   check=True)
    with open(os.path.join(work, "p.json"), "w") as f:
        json.dump({"name": "bench-freeze", "version": "1",
                   "approval": {"by": "bench@example.com", "at": "2026-01-01T00:00:00Z",
                                "expires": "2099-01-01T00:00:00Z"},
                   "include": ["abstractions/base"],
                   "exec": {"allow": [violator]},
                   "files": {"read": ["/**"], "write": [work + "/t0"]},
                   "response": {"violation": "freeze"}}, f)
    cgr = cg_root()
    help_text = subprocess.run([a.agentmon, "exec", "--help"], capture_output=True, text=True).stdout
    if a.socket:
        opts = ["--socket", a.socket]
    else:   # never a daemon that happens to run on the default socket
        opts = ["--standalone"] if "--standalone" in help_text else []
    try:
        lat = sorted(one_run(a.agentmon, violator, work, cgr, a.settle, opts) for _ in range(a.runs))
    finally:
        subprocess.run(["rm", "-rf", work])
    q = lambda x: lat[min(len(lat) - 1, int(round(x * (len(lat) - 1))))]
    res = {"runs": len(lat), "settle_s": a.settle, "via": "daemon" if a.socket else "exec", "p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99),
           "max_ms": lat[-1], "mean_ms": statistics.mean(lat)}
    if a.json:
        print(json.dumps(res))
    else:
        print("violation -> confirmed freeze over %d runs (violation %.1f s after start): "
              "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (res["runs"], a.settle, res["p50_ms"], res["p90_ms"], res["p99_ms"], res["max_ms"]))


if __name__ == "__main__":
    main()
