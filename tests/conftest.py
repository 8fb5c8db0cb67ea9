"""Shared fixtures for agentmon's kernel and CLI tests.

Kernel tests load the real BPF programs and run real processes. They need
root; outside CI a non-root run skips them with a reason, in CI (CI=true)
a missing privilege is a failure, never a skip.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

AGENTMON = os.environ.get("AGENTMON") or os.path.join(
    os.path.dirname(__file__), "..", "build", "agentmon")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def need_root():
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("kernel tests must run as root in CI")
    pytest.skip("kernel test: needs root (BPF, cgroups); run 'sudo make test'")


@pytest.fixture
def root():
    need_root()


def write_profile(path, name="test-agent", **over):
    """A valid profile that allows everything the tests' agents do by default."""
    prof = {
        "name": name,
        "version": "1.0.0",
        "approval": {"by": "tests@example.com", "at": "2026-01-01T00:00:00Z",
                     "expires": "2099-01-01T00:00:00Z"},
        "include": ["abstractions/base"],
        "mode": "enforce",
        "exec": {"allow": ["/usr/bin/**", "/tmp/**"], "max_depth": 16},
        "files": {"read": ["/**"], "write": ["/tmp/**", "/dev/null"]},
        "network": {"connect": [], "listen": []},
        "response": {"drift": "alert", "violation": "alert", "critical": "alert",
                     "lost": "alert"},
    }
    for k, v in over.items():
        if v is None:
            prof.pop(k, None)
        else:
            prof[k] = v
    with open(path, "w") as f:
        json.dump(prof, f, indent=2)
    os.chmod(path, 0o644)
    return str(path)


@pytest.fixture
def profile(tmp_path):
    def make(name="test-agent", **over):
        return write_profile(tmp_path / f"{name}.json", name=name, **over)
    return make


def read_events(path):
    events = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


class ExecResult:
    def __init__(self, rc, events, stdout, stderr):
        self.rc, self.events, self.stdout, self.stderr = rc, events, stdout, stderr

    def of_kind(self, kind):
        return [e for e in self.events if e["kind"] == kind]

    def execs(self):
        return [e["exe"] for e in self.of_kind("exec")]


@pytest.fixture
def run_exec(tmp_path):
    """Run `agentmon exec --json FILE [extra] -- cmd...` to completion."""
    def run(prof, cmd, extra=(), timeout=60, env=None):
        out = tmp_path / f"events-{time.monotonic_ns()}.json"
        p = subprocess.run([AGENTMON, "exec", "--profile", prof, "--json", str(out), *extra,
                            "--", *cmd], capture_output=True, text=True, timeout=timeout, env=env)
        events = read_events(out) if out.exists() else []
        return ExecResult(p.returncode, events, p.stdout, p.stderr)
    return run


def wait_for(pred, timeout=10.0, interval=0.01):
    """Poll `pred` until it is true or the timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def cli(*args, **kw):
    return subprocess.run([AGENTMON, *args], capture_output=True, text=True, timeout=60, **kw)
