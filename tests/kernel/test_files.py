"""File activity of an agent: paths as the kernel resolved them, judged
against the profile (real BPF programs, real processes)."""
import os
import time

import pytest

pytestmark = pytest.mark.usefixtures("root")

PY = "/usr/bin/python3"


@pytest.fixture
def area(tmp_path):
    """A directory tree the tests' profiles grant parts of."""
    os.chmod(tmp_path, 0o755)
    (tmp_path / "allowed").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "allowed" / "data.txt").write_text("ok\n")
    (tmp_path / "outside" / "victim.txt").write_text("x\n")
    (tmp_path / "secret").write_text("s3cr3t\n")
    (tmp_path / "denied.txt").write_text("no\n")
    return tmp_path


@pytest.fixture
def fprofile(profile, area):
    def make(**over):
        files = {"read": ["/usr/**", "/etc/hostname", "/etc/ssl/**", f"{area}/allowed/**"],
                 "write": [f"{area}/allowed/**"],
                 "deny": ["/etc/shadow", f"{area}/denied.txt"]}
        kw = dict(files=files, secrets=[{"path": f"{area}/secret", "ttl": "1s"}])
        kw.update(over)
        return profile(**kw)
    return make


def opens(r, path):
    return [e for e in r.events if e.get("file", {}).get("path") == path]


def py(code):
    return [PY, "-c", code]


def test_relative_open_with_dotdot(fprofile, run_exec):
    r = run_exec(fprofile(), ["sh", "-c", "cd /etc/ssl && exec cat ../hostname"])
    assert r.rc == 0, r.stderr
    ev = opens(r, "/etc/hostname")
    assert len(ev) == 1
    e = ev[0]
    assert e["kind"] == "open"
    assert e["file"] == {"path": "/etc/hostname", "access": "read", "op": "open"}
    assert e["verdict"] == "allow" and e["rule"] == "files.read[1]"
    assert e["exe"] == "/usr/bin/cat" and e["comm"] == "cat"
    assert "ancestry" not in e             # allowed events carry no ancestry


def test_symlink_to_denied_file_is_critical(fprofile, run_exec, area):
    link = area / "allowed" / "innocent"
    os.symlink(area / "denied.txt", link)
    r = run_exec(fprofile(), ["cat", str(link)])
    assert r.rc == 0
    assert not opens(r, str(link))         # the name the agent used is not what counts
    ev = opens(r, str(area / "denied.txt"))
    assert len(ev) == 1
    assert ev[0]["verdict"] == "critical"
    assert ev[0]["rule"] == "files.deny[1]"
    assert ev[0]["action"] == "alert" and ev[0]["outcome"] == "alerted"


def test_open_through_symlinked_directory(fprofile, run_exec, area):
    os.symlink("/etc", area / "allowed" / "etcdir")
    r = run_exec(fprofile(), ["cat", str(area / "allowed" / "etcdir" / "hostname")])
    assert r.rc == 0
    assert len(opens(r, "/etc/hostname")) == 1


def test_open_via_dirfd(fprofile, run_exec):
    code = ("import os; d=os.open('/etc', os.O_RDONLY|os.O_DIRECTORY); "
            "os.close(os.open('hostname', os.O_RDONLY, dir_fd=d))")
    r = run_exec(fprofile(), py(code))
    assert r.rc == 0, r.stderr
    ev = opens(r, "/etc/hostname")
    assert len(ev) == 1 and ev[0]["verdict"] == "allow"


@pytest.mark.parametrize("flags", ["os.O_WRONLY|os.O_TRUNC", "os.O_WRONLY|os.O_APPEND",
                                   "os.O_RDONLY|os.O_TRUNC", "os.O_RDWR"])
def test_write_access_from_flags(fprofile, run_exec, area, flags):
    target = area / "outside" / "victim.txt"
    r = run_exec(fprofile(), py(f"import os; os.close(os.open('{target}', {flags}))"))
    assert r.rc == 0, r.stderr
    ev = opens(r, str(target))
    assert len(ev) == 1
    e = ev[0]
    assert e["file"]["access"] == "write"
    assert e["verdict"] == "violation" and e["rule"] == "files.write"
    assert e["ancestry"] == []             # the agent's root process itself
    assert e["exe"] == PY or e["exe"].startswith("/usr/bin/python3")


def test_create_in_allowed_dir(fprofile, run_exec, area):
    new = area / "allowed" / "new.txt"
    r = run_exec(fprofile(), ["sh", "-c", f"echo hi > {new}"])
    assert r.rc == 0
    ev = opens(r, str(new))
    assert len(ev) == 1
    assert ev[0]["file"]["access"] == "write" and ev[0]["verdict"] == "allow"
    assert ev[0]["rule"] == "files.write[0]"


def test_rename_and_unlink_outside_grants(fprofile, run_exec, area):
    src = area / "outside" / "victim.txt"
    dst = area / "outside" / "moved.txt"
    r = run_exec(fprofile(), ["sh", "-c", f"cd {area}/outside && mv victim.txt moved.txt && rm ../outside/moved.txt"])
    assert r.rc == 0, r.stderr
    ren = [e for e in r.events if e["kind"] == "rename"]
    assert len(ren) == 1
    assert ren[0]["file"] == {"path": str(src), "access": "write", "op": "rename", "to": str(dst)}
    assert ren[0]["verdict"] == "violation"
    assert [a["exe"] for a in ren[0]["ancestry"]] == ["/usr/bin/dash"]
    unl = [e for e in r.events if e["kind"] == "unlink"]
    assert len(unl) == 1
    assert unl[0]["file"]["path"] == str(dst)
    assert unl[0]["verdict"] == "violation" and unl[0]["rule"] == "files.write"


def test_chmod_reported(fprofile, run_exec, area):
    f = area / "allowed" / "data.txt"
    r = run_exec(fprofile(), ["chmod", "600", str(f)])
    assert r.rc == 0
    ev = [e for e in r.events if e["kind"] == "chmod"]
    assert len(ev) == 1
    assert ev[0]["file"] == {"path": str(f), "access": "write", "op": "chmod"}
    assert ev[0]["verdict"] == "allow"


def test_secret_read_before_and_after_ttl(fprofile, run_exec, area):
    s = area / "secret"
    code = (f"import time; open('{s}').read(); time.sleep(1.3); open('{s}').read()")
    r = run_exec(fprofile(), py(code))
    assert r.rc == 0, r.stderr
    ev = opens(r, str(s))
    assert [e["verdict"] for e in ev] == ["allow", "critical"]
    assert ev[0]["rule"] == "secrets[0]" and ev[1]["rule"] == "secrets[0]"


def test_exec_deeper_than_max_depth(profile, run_exec):
    prof = profile(exec={"allow": ["/usr/bin/**"], "max_depth": 1})
    r = run_exec(prof, ["sh", "-c", "sh -c '/bin/true'; true"])
    assert r.rc == 0
    ex = {e["exe"] + str(len(e.get("ancestry", []))): e for e in r.of_kind("exec")}
    assert ex["/usr/bin/dash0"]["verdict"] == "allow"
    assert ex["/usr/bin/dash1"]["verdict"] == "allow"
    deep = ex["/usr/bin/true2"]
    assert deep["verdict"] == "critical" and deep["rule"] == "exec.max_depth"
    assert [a["exe"] for a in deep["ancestry"]] == ["/usr/bin/dash", "/usr/bin/dash"]


def test_repeated_allowed_reads_delivered_once(fprofile, run_exec, area):
    f = area / "allowed" / "data.txt"
    # one read, a pause for userspace to judge it, then many repeats in new processes
    script = f"cat {f} >/dev/null; sleep 0.3; for i in $(seq 20); do cat {f} >/dev/null; done"
    r = run_exec(fprofile(), ["sh", "-c", script])
    assert r.rc == 0
    assert len(opens(r, str(f))) == 1
    assert len(r.of_kind("exec")) >= 21    # the cats themselves were all seen


def test_repeated_violations_never_filtered(fprofile, run_exec, area):
    f = area / "outside" / "victim.txt"
    script = f"cat {f} >/dev/null; sleep 0.3; for i in $(seq 5); do cat {f} >/dev/null; done"
    r = run_exec(fprofile(), ["sh", "-c", script])
    assert len(opens(r, str(f))) == 6


def test_audit_mode_reports_would(fprofile, run_exec, area):
    prof = fprofile(mode="audit", response={"violation": "freeze", "critical": "kill"})
    r = run_exec(prof, ["cat", str(area / "denied.txt")])
    assert r.rc == 0                       # nothing was run against the agent
    ev = opens(r, str(area / "denied.txt"))
    assert ev[0]["verdict"] == "critical"
    assert ev[0]["action"] == "would:kill"
    assert ev[0].get("outcome") is None


def test_expired_profile_refused(profile, run_exec):
    prof = profile(approval={"by": "x@example.com", "at": "2020-01-01T00:00:00Z",
                             "expires": "2021-01-01T00:00:00Z"})
    r = run_exec(prof, ["true"])
    assert r.rc == 1
    assert "refusing to run: its approval has expired (override with --allow-unapproved)" in r.stderr
    assert r.events == []
    r = run_exec(prof, ["true"], extra=["--allow-unapproved"])
    assert r.rc == 0
    assert "RUNNING UNAPPROVED" in r.stderr


def test_path_only_op_limit_intermediate_symlink(fprofile, run_exec, area):
    """The documented limit: for path-only operations (unlink, rename, chmod…)
    the name is the caller's, joined to the kernel-resolved directory it is
    relative to; a symlink in an intermediate component is not followed.
    Opens have no such limit (they are judged on the opened file)."""
    os.symlink(area / "outside", area / "allowed" / "via")
    target = area / "allowed" / "via" / "victim.txt"
    r = run_exec(fprofile(), ["sh", "-c", f"cat {target} >/dev/null; rm {target}"])
    assert r.rc == 0
    # the open is resolved: the real file outside the grants
    assert opens(r, str(area / "outside" / "victim.txt"))[0]["verdict"] == "violation"
    # the unlink is reported with the name as given (the limit)
    unl = [e for e in r.events if e["kind"] == "unlink"]
    assert len(unl) == 1 and unl[0]["file"]["path"] == str(target)
    assert not (area / "outside" / "victim.txt").exists()
