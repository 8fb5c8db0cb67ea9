"""Network events of an agent as the kernel reports them (real BPF, real sockets).

Loopback only: every address here is in 127.0.0.0/8 or ::1. The peers (listeners,
UDP receivers) live in the test process, which is not an agent; the agent is
/usr/bin/python3 running a short script.
"""
import os
import socket
import subprocess

import pytest

from conftest import AGENTMON, read_events, wait_for

pytestmark = pytest.mark.usefixtures("root")

PY = "/usr/bin/python3"
PY_EXE = os.path.realpath(PY)          # /usr/bin/python3 → /usr/bin/python3.11


def run_agent(run_exec, profile, code):
    r = run_exec(profile(), [PY, "-c", code])
    assert r.rc == 0, r.stderr
    return r


def the_agent(r):
    """The agent's exec event: the process every net event must come from."""
    ex = [e for e in r.of_kind("exec") if e["exe"] == PY_EXE]
    assert len(ex) == 1, r.events
    return ex[0]


def one_net(r, kind, **net):
    """The single `kind` event whose net object contains `net`; checks the header."""
    evs = [e for e in r.of_kind(kind) if all(e["net"].get(k) == v for k, v in net.items())]
    assert len(evs) == 1, (kind, net, r.events)
    e = evs[0]
    a = the_agent(r)
    assert e["pid"] == a["pid"] and e["ppid"] == a["ppid"]
    assert e["comm"] == "python3"
    assert e["exe"] == PY_EXE
    assert e["uid"] == 0
    assert e["agent"] == "test-agent"
    assert e["cgroup"] == a["cgroup"]
    assert "verdict" not in e or e["verdict"]   # judged later, never an empty string
    return e


def tcp_listener(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.listen(16)
    return s


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp_connect_ipv4(profile, run_exec):
    lst = tcp_listener()
    port = lst.getsockname()[1]
    with lst:
        r = run_agent(run_exec, profile,
                      f"import socket; socket.create_connection(('127.0.0.1', {port})).close()")
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": port, "result": 0}


def test_tcp_connect_refused(profile, run_exec):
    port = closed_port()
    r = run_agent(run_exec, profile,
                  f"import socket; print(socket.socket().connect_ex(('127.0.0.1', {port})))")
    assert r.stdout.strip() == "111"
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": port, "result": -111}


def test_tcp_connect_nonblocking_in_progress(profile, run_exec):
    """A non-blocking connect reports the started connect: -EINPROGRESS."""
    lst = tcp_listener()
    port = lst.getsockname()[1]
    code = ("import socket; s = socket.socket(); s.setblocking(False); "
            f"print(s.connect_ex(('127.0.0.1', {port})))")
    with lst:
        r = run_agent(run_exec, profile, code)
    assert r.stdout.strip() == "115"
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": port, "result": -115}


def test_tcp_connect_ipv6_loopback(profile, run_exec):
    lst = tcp_listener(socket.AF_INET6, "::1")
    port = lst.getsockname()[1]
    with lst:
        r = run_agent(run_exec, profile,
                      f"import socket; socket.create_connection(('::1', {port})).close()")
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "tcp", "family": "ipv6", "daddr": "::1",
                        "dport": port, "result": 0}


def test_tcp_connect_ipv4_mapped(profile, run_exec):
    """An IPv6 socket reaching an IPv4 listener: family ipv6, the mapped bytes kept."""
    lst = tcp_listener()
    port = lst.getsockname()[1]
    code = ("import socket; s = socket.socket(socket.AF_INET6); "
            f"s.connect(('::ffff:127.0.0.1', {port})); s.close()")
    with lst:
        r = run_agent(run_exec, profile, code)
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "tcp", "family": "ipv6", "daddr": "::ffff:127.0.0.1",
                        "dport": port, "result": 0}


def udp_receiver(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.settimeout(10)
    return s


DNS_QUERY = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03com\x00\x00\x01\x00\x01")


def test_udp_sendto_dns_like(profile, run_exec):
    rx = udp_receiver()
    port = rx.getsockname()[1]
    code = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.sendto({DNS_QUERY!r}, ('127.0.0.1', {port}))")
    with rx:
        r = run_agent(run_exec, profile, code)
        assert rx.recvfrom(512)[0] == DNS_QUERY     # it really went out
    e = one_net(r, "sendto", dport=port)
    assert e["net"] == {"proto": "udp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": port, "result": 0}


def test_udp_connect_then_send(profile, run_exec):
    """UDP connect is reported; a send() without a destination is not a sendto."""
    rx = udp_receiver()
    port = rx.getsockname()[1]
    code = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.connect(('127.0.0.1', {port})); s.send(b'ping'); s.sendto(b'x', ('127.0.0.1', {port}))")
    with rx:
        r = run_agent(run_exec, profile, code)
        assert rx.recvfrom(64)[0] == b"ping"
    e = one_net(r, "connect", dport=port)
    assert e["net"] == {"proto": "udp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": port, "result": 0}
    # send() has no destination: nothing; sendto() on a connected UDP socket: one event
    assert len(r.of_kind("sendto")) == 1


def test_udp_sendmsg_with_name(profile, run_exec):
    rx = udp_receiver(socket.AF_INET6, "::1")
    port = rx.getsockname()[1]
    code = ("import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
            f"s.sendmsg([b'q1', b'q2'], [], 0, ('::1', {port}))")
    with rx:
        r = run_agent(run_exec, profile, code)
        assert rx.recvfrom(64)[0] == b"q1q2"
    e = one_net(r, "sendto", dport=port)
    assert e["net"] == {"proto": "udp", "family": "ipv6", "daddr": "::1",
                        "dport": port, "result": 0}


def test_sendmsg_without_name_not_reported(profile, run_exec):
    rx = udp_receiver()
    port = rx.getsockname()[1]
    code = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.connect(('127.0.0.1', {port})); s.sendmsg([b'm'])")
    with rx:
        r = run_agent(run_exec, profile, code)
        assert rx.recvfrom(64)[0] == b"m"
    assert r.of_kind("sendto") == []
    assert len(r.of_kind("connect")) == 1


def test_bind_and_listen(profile, run_exec):
    code = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
            "print(s.getsockname()[1])")
    r = run_agent(run_exec, profile, code)
    port = int(r.stdout.strip())
    b = one_net(r, "bind")
    # bind to port 0: the event has the port the kernel chose
    assert b["net"] == {"proto": "tcp", "family": "ipv4", "laddr": "127.0.0.1",
                        "lport": port, "result": 0}
    ls = one_net(r, "listen")
    assert ls["net"] == {"proto": "tcp", "family": "ipv4", "laddr": "127.0.0.1",
                         "lport": port, "result": 0}


def test_bind_ipv6_udp_fixed_port(profile, run_exec):
    port = closed_port()
    code = ("import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
            f"s.bind(('::1', {port}))")
    r = run_agent(run_exec, profile, code)
    b = one_net(r, "bind")
    assert b["net"] == {"proto": "udp", "family": "ipv6", "laddr": "::1",
                        "lport": port, "result": 0}


def test_bind_in_use_fails(profile, run_exec):
    lst = tcp_listener()
    port = lst.getsockname()[1]
    code = ("import socket\ntry:\n socket.socket().bind(('127.0.0.1', %d))\n"
            "except OSError as e:\n print(e.errno)" % port)
    with lst:
        r = run_agent(run_exec, profile, code)
    assert r.stdout.strip() == "98"
    b = one_net(r, "bind")
    assert b["net"] == {"proto": "tcp", "family": "ipv4", "laddr": "127.0.0.1",
                        "lport": port, "result": -98}


def test_unix_connect_path(profile, run_exec, tmp_path):
    path = str(tmp_path / "agent.sock")
    lst = socket.socket(socket.AF_UNIX)
    lst.bind(path)
    lst.listen()
    code = f"import socket; socket.socket(socket.AF_UNIX).connect({path!r})"
    with lst:
        r = run_agent(run_exec, profile, code)
    e = one_net(r, "connect")
    assert e["net"] == {"proto": "unix", "family": "unix", "path": path, "result": 0}


def test_unix_connect_abstract(profile, run_exec):
    name = f"agentmon-test-{os.getpid()}"
    lst = socket.socket(socket.AF_UNIX)
    lst.bind("\0" + name)
    lst.listen()
    code = f"import socket; socket.socket(socket.AF_UNIX).connect({chr(0) + name!r})"
    with lst:
        r = run_agent(run_exec, profile, code)
    e = one_net(r, "connect")
    assert e["net"] == {"proto": "unix", "family": "unix", "path": "@" + name, "result": 0}


def test_unix_bind_listen_and_missing_path(profile, run_exec, tmp_path):
    path = str(tmp_path / "srv.sock")
    missing = str(tmp_path / "nobody.sock")
    code = ("import socket; s = socket.socket(socket.AF_UNIX); "
            f"s.bind({path!r}); s.listen(); "
            f"print(socket.socket(socket.AF_UNIX).connect_ex({missing!r}))")
    r = run_agent(run_exec, profile, code)
    assert r.stdout.strip() == "2"
    assert one_net(r, "bind")["net"] == {"proto": "unix", "family": "unix", "path": path,
                                         "result": 0}
    assert one_net(r, "listen")["net"] == {"proto": "unix", "family": "unix", "path": path,
                                           "result": 0}
    assert one_net(r, "connect")["net"] == {"proto": "unix", "family": "unix",
                                            "path": missing, "result": -2}


def test_non_agent_connects_not_reported(profile, tmp_path):
    """Connections of processes outside the agent, while it runs, are not its events."""
    lst = tcp_listener()
    port = lst.getsockname()[1]
    out = tmp_path / "ev.json"
    agent = subprocess.Popen([AGENTMON, "exec", "--profile", profile(), "--json", str(out),
                              "--", "sleep", "1"], stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: out.exists() and out.stat().st_size > 0, 10)
        for _ in range(5):
            socket.create_connection(("127.0.0.1", port)).close()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.sendto(b"x", ("127.0.0.1", port))
        subprocess.run([PY, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}))"],
                       check=True)
        agent.wait(30)
    finally:
        lst.close()
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0
    ev = read_events(out)
    assert [e for e in ev if "net" in e] == []
    assert {e["kind"] for e in ev} <= {"exec", "exit", "open"}   # the agent's own activity only
