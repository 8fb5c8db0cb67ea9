"""Network events judged against the profile (real kernel, loopback only).
The peers live in the test process, which is not an agent."""
import socket

import pytest

pytestmark = pytest.mark.usefixtures("root")

PY = "/usr/bin/python3"


@pytest.fixture
def peers():
    lst4 = socket.socket()
    lst4.bind(("127.0.0.1", 0))
    lst4.listen(16)
    other4 = socket.socket()
    other4.bind(("127.0.0.1", 0))
    other4.listen(16)
    lst6 = socket.socket(socket.AF_INET6)
    lst6.bind(("::1", 0))
    lst6.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield {"ok": lst4.getsockname()[1], "other": other4.getsockname()[1],
           "v6": lst6.getsockname()[1], "udp": udp.getsockname()[1]}
    for s in (lst4, other4, lst6, udp):
        s.close()


@pytest.fixture
def nprofile(profile, peers):
    return profile(network={"connect": [f"127.0.0.0/8:{peers['ok']}", "10.0.0.0/8:*"],
                            "listen": [peers["ok"] + 1],
                            "deny": ["127.0.0.2:*"]})


def net_events(r, kind):
    return [e for e in r.of_kind(kind)]


def connect_code(family, addr, port, repeat=1):
    fam = "socket.AF_INET6" if family == 6 else "socket.AF_INET"
    return (f"import socket, time\n"
            f"for i in range({repeat}):\n"
            f"    s = socket.socket({fam})\n"
            f"    try: s.connect(('{addr}', {port}))\n"
            f"    except OSError: pass\n"
            f"    s.close()\n"
            f"    if i == 0: time.sleep(0.3)\n")


def test_allowed_connect(nprofile, run_exec, peers):
    r = run_exec(nprofile, [PY, "-c", connect_code(4, "127.0.0.1", peers["ok"])])
    [e] = net_events(r, "connect")
    assert e["net"]["dport"] == peers["ok"] and e["net"]["result"] == 0
    assert e["verdict"] == "allow" and e["rule"] == "network.connect[0]"
    assert "ancestry" not in e


def test_connect_outside_profile_is_violation(nprofile, run_exec, peers):
    r = run_exec(nprofile, [PY, "-c", connect_code(4, "127.0.0.1", peers["other"])])
    [e] = net_events(r, "connect")
    assert e["net"] == {"proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": peers["other"], "result": 0}
    assert e["verdict"] == "violation" and e["rule"] == "network.connect"
    assert e["action"] == "alert" and e["outcome"] == "alerted"
    assert e["ancestry"] == []


def test_ipv6_loopback_outside_profile(nprofile, run_exec, peers):
    r = run_exec(nprofile, [PY, "-c", connect_code(6, "::1", peers["v6"])])
    [e] = net_events(r, "connect")
    assert e["net"]["family"] == "ipv6" and e["net"]["daddr"] == "::1"
    assert e["verdict"] == "violation"


def test_ipv4_mapped_judged_as_ipv4(nprofile, run_exec, peers):
    code = connect_code(6, "::ffff:127.0.0.1", peers["ok"])
    r = run_exec(nprofile, [PY, "-c", code])
    [e] = net_events(r, "connect")
    assert e["net"]["daddr"] == "::ffff:127.0.0.1"
    assert e["verdict"] == "allow" and e["rule"] == "network.connect[0]"


def test_deny_beats_allow(nprofile, run_exec, peers):
    # 127.0.0.2 is inside the allowed 127.0.0.0/8 but denied: critical
    r = run_exec(nprofile, [PY, "-c", connect_code(4, "127.0.0.2", peers["ok"])])
    [e] = net_events(r, "connect")
    assert e["net"]["daddr"] == "127.0.0.2"
    assert e["verdict"] == "critical" and e["rule"] == "network.deny[0]"


def test_udp_sendto_outside_profile(nprofile, run_exec, peers):
    code = (f"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.sendto(b'q', ('127.0.0.1', {peers['udp']}))")
    r = run_exec(nprofile, [PY, "-c", code])
    [e] = net_events(r, "sendto")
    assert e["net"]["proto"] == "udp" and e["net"]["dport"] == peers["udp"]
    assert e["verdict"] == "violation" and e["rule"] == "network.connect"


def test_listen_judged_against_listen_list(nprofile, run_exec, peers):
    good = peers["ok"] + 1
    code = ("import socket\n"
            "for port in (%d, 0):\n"
            "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "    s.bind(('127.0.0.1', port)); s.listen(1); s.close()\n" % good)
    r = run_exec(nprofile, [PY, "-c", code])
    binds = net_events(r, "bind")
    listens = net_events(r, "listen")
    assert len(binds) == 2 and len(listens) == 2
    fixed = [e for e in listens if e["net"]["lport"] == good][0]
    assert fixed["verdict"] == "allow" and fixed["rule"] == "network.listen[0]"
    eph = [e for e in listens if e["net"]["lport"] != good][0]
    assert eph["verdict"] == "violation" and eph["rule"] == "network.listen"
    eph_bind = [e for e in binds if e["net"]["lport"] != good][0]
    # bind(…, 0) reports the port the kernel chose: judged as a listen port
    assert eph_bind["verdict"] in ("violation", "allow")


def test_repeated_allowed_connect_delivered_once(nprofile, run_exec, peers):
    r = run_exec(nprofile, [PY, "-c", connect_code(4, "127.0.0.1", peers["ok"], repeat=10)])
    assert len(net_events(r, "connect")) == 1


def test_repeated_violating_connects_all_delivered(nprofile, run_exec, peers):
    r = run_exec(nprofile, [PY, "-c", connect_code(4, "127.0.0.1", peers["other"], repeat=5)])
    assert len(net_events(r, "connect")) == 5
