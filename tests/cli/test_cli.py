"""The command-line frame: help, version, unknown commands, bad input."""
import os
import subprocess

import pytest

from conftest import AGENTMON, cli, write_profile

COMMANDS = ["check", "exec", "run", "tail", "status", "freeze", "thaw", "kill", "learn"]


def test_help_lists_every_command():
    r = cli("--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert f"\n  {c} " in r.stdout


def test_no_args_is_usage_error():
    r = cli()
    assert r.returncode == 2
    assert r.stderr.startswith("usage: agentmon")


def test_version():
    r = cli("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("agentmon ")


def test_unknown_command():
    r = cli("frobnicate")
    assert r.returncode == 2
    assert r.stderr == "agentmon: unknown command 'frobnicate' (see agentmon --help)\n"


def test_exec_help():
    r = cli("exec", "--help")
    assert r.returncode == 0
    assert "usage: agentmon exec --profile FILE" in r.stdout


@pytest.mark.parametrize("args,msg", [
    (["exec", "--", "true"], "agentmon: exec: --profile FILE is required\n"),
    (["exec", "--profile", "x.json"], "agentmon: exec: no command given (agentmon exec --profile FILE -- CMD [ARG...])\n"),
    (["exec", "--nope"], "agentmon: exec: unknown option '--nope'\n"),
])
def test_exec_usage_errors(args, msg):
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr == msg


def test_exec_missing_profile(tmp_path):
    r = cli("exec", "--profile", str(tmp_path / "nope.json"), "--", "true")
    assert r.returncode == 2
    assert r.stderr.startswith(f"agentmon: {tmp_path}/nope.json: ")
    assert "No such file or directory" in r.stderr
    assert r.stderr.count("\n") == 1


def test_exec_malformed_profile(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"name": "x",\n  "version": }\n')
    r = cli("exec", "--profile", str(p), "--", "true")
    assert r.returncode == 2
    assert r.stderr.startswith(f"agentmon: {p}:2:")
    assert r.stderr.count("\n") == 1


def test_exec_non_root_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    prof = write_profile(tmp_path / "p.json")
    os.chmod(tmp_path, 0o755)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        AGENTMON, "exec", "--profile", prof, "--", "true"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == ("agentmon: exec: permission denied: loading BPF programs and "
                        "creating cgroups needs root\n")
