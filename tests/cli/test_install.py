"""make install: binary, unit, abstractions, example profile, docs; the
installed binary finds its abstractions without help."""
import os
import shutil
import subprocess

import pytest

from conftest import ROOT


def test_make_install_destdir(tmp_path):
    dest = tmp_path / "stage"
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={dest}", "prefix=/usr"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for f in ["usr/sbin/agentmon", "usr/lib/systemd/system/agentmon.service",
              "usr/share/agentmon/abstractions/base", "usr/share/agentmon/examples/support-bot.json",
              "usr/share/doc/agentmon/README.md"]:
        assert (dest / f).is_file(), f
    assert (dest / "etc/agentmon/profiles.d").is_dir()
    assert os.stat(dest / "usr/sbin/agentmon").st_mode & 0o777 == 0o755
    unit = (dest / "usr/lib/systemd/system/agentmon.service").read_text()
    assert "ExecStart=/usr/sbin/agentmon run --profiles /etc/agentmon/profiles.d" in unit
    assert "@" not in unit.replace("@SBINDIR@", "")   # every placeholder filled
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    env = {k: v for k, v in os.environ.items() if k != "AGENTMON_ABSTRACTIONS"}
    r = subprocess.run([str(dest / "usr/sbin/agentmon"), "check",
                        str(dest / "usr/share/agentmon/examples/support-bot.json")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    if shutil.which("systemd-analyze"):
        local = tmp_path / "agentmon.service"
        local.write_text(unit.replace("/usr/sbin/agentmon", str(dest / "usr/sbin/agentmon")))
        r = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr


def test_make_install_local_prefix_goes_to_etc(tmp_path):
    dest = tmp_path / "stage"
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={dest}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    unit = dest / "etc/systemd/system/agentmon.service"
    assert unit.is_file()
    assert "ExecStart=/usr/local/sbin/agentmon run" in unit.read_text()
