"""Network destinations outside the profile refused in the kernel (cgroup sock_addr).

Enforce mode refuses a destination with EPERM when the response to its verdict is
stop, freeze or kill (violation: no network.connect rule; critical: a network.deny
rule); alert and audit mode let it through and report it. Loopback only: every
address here is in 127.0.0.0/8 or ::1; the peers live in the test process, which
is not an agent.
"""
import select
import socket

import pytest

pytestmark = pytest.mark.usefixtures("root")

PY = "/usr/bin/python3"
EPERM = 1

RESPONSE = {"drift": "alert", "violation": "kill", "critical": "kill", "lost": "alert"}


def prof(profile, connect, deny=(), response=None, mode="enforce"):
    # exec allow narrow: with violation "kill" the kernel kills execs not listed
    return profile(mode=mode, exec={"allow": ["/usr/bin/python3*"]},
                   network={"connect": list(connect), "listen": [], "deny": list(deny)},
                   response=response or RESPONSE)


# The agent prints one errno (0 on success) per destination.
AGENT = """
import socket, sys
out = []
for fam, kind, addr, port in %r:
    s = socket.socket(socket.AF_INET6 if fam == 6 else socket.AF_INET,
                      socket.SOCK_STREAM if kind == 'tcp' else socket.SOCK_DGRAM)
    try:
        if kind == 'tcp':
            s.connect((addr, port))
        else:
            s.sendto(b'x', (addr, port))
        out.append(0)
    except OSError as e:
        out.append(e.errno)
    s.close()
print(' '.join(map(str, out)))
"""


def run(run_exec, p, dests):
    r = run_exec(p, [PY, "-c", AGENT % (dests,)])
    assert r.rc == 0, (r.stderr, r.events)
    return [int(x) for x in r.stdout.split()]


def tcp_listener(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.listen(16)
    s.setblocking(False)
    return s


def accepted_nothing(lst):
    r, _, _ = select.select([lst], [], [], 0.3)
    if r:
        try:
            lst.accept()[0].close()
            return False
        except BlockingIOError:
            pass
    return True


def net_events(r, kind, port):
    return [e for e in r.of_kind(kind) if e["net"].get("dport") == port]


def test_alert_does_not_refuse(profile, run_exec):
    lst = tcp_listener()
    port = lst.getsockname()[1]
    with lst:
        p = prof(profile, [], response=dict(RESPONSE, violation="alert"))
        r = run_exec(p, [PY, "-c", AGENT % ([(4, "tcp", "127.0.0.1", port)],)])
        assert r.rc == 0, r.stderr
        assert r.stdout.split() == ["0"]
    evs = net_events(r, "connect", port)
    assert len(evs) == 1, r.events
    assert evs[0]["verdict"] == "violation" and evs[0]["action"] == "alert"
    assert evs[0]["net"]["result"] == 0
    assert evs[0].get("outcome") != "denied"


@pytest.mark.parametrize("action", ["kill", "freeze"])
def test_tcp_connect_refused_ipv4(profile, run_exec, action):
    bad, good = tcp_listener(), tcp_listener()
    bport, gport = bad.getsockname()[1], good.getsockname()[1]
    with bad, good:
        p = prof(profile, [f"127.0.0.1:{gport}"], response=dict(RESPONSE, violation=action))
        r = run_exec(p, [PY, "-c", AGENT % ([(4, "tcp", "127.0.0.1", bport),
                                             (4, "tcp", "127.0.0.1", gport)],)])
        assert r.rc == 0, (r.stderr, r.events)
        assert [int(x) for x in r.stdout.split()] == [EPERM, 0]
        assert accepted_nothing(bad)
        assert not accepted_nothing(good)
    evs = net_events(r, "connect", bport)
    assert len(evs) == 1, r.events          # reported once, not again by the tracepoint
    e = evs[0]
    assert e["verdict"] == "violation" and e["rule"] == "network.connect"
    assert e["action"] == action and e["outcome"] == "denied"
    assert e["enforced"] == "kernel"
    assert e["net"] == {"proto": "tcp", "family": "ipv4", "daddr": "127.0.0.1",
                        "dport": bport, "result": -EPERM}
    ok = net_events(r, "connect", gport)
    assert len(ok) == 1 and ok[0]["verdict"] == "allow" and ok[0]["net"]["result"] == 0


def test_ipv6_refused_and_mapped_judged_as_ipv4(profile, run_exec):
    v6, v4, v4bad = tcp_listener(socket.AF_INET6, "::1"), tcp_listener(), tcp_listener()
    p6, p4, p4bad = v6.getsockname()[1], v4.getsockname()[1], v4bad.getsockname()[1]
    with v6, v4, v4bad:
        p = prof(profile, [f"127.0.0.1:{p4}"])
        got = run(run_exec, p, [(6, "tcp", "::1", p6),
                                (6, "tcp", "::ffff:127.0.0.1", p4),
                                (6, "tcp", "::ffff:127.0.0.1", p4bad)])
        assert got == [EPERM, 0, EPERM]
        assert accepted_nothing(v6) and accepted_nothing(v4bad)
        assert not accepted_nothing(v4)


def test_ipv6_event(profile, run_exec):
    v6 = tcp_listener(socket.AF_INET6, "::1")
    port = v6.getsockname()[1]
    with v6:
        r = run_exec(prof(profile, ["[::1]:1"]), [PY, "-c", AGENT % ([(6, "tcp", "::1", port)],)])
        assert r.stdout.split() == [str(EPERM)], r.stderr
    evs = net_events(r, "connect", port)
    assert len(evs) == 1, r.events
    assert evs[0]["net"]["family"] == "ipv6" and evs[0]["net"]["daddr"] == "::1"
    assert evs[0]["verdict"] == "violation" and evs[0]["outcome"] == "denied"


def test_deny_beats_covering_allow(profile, run_exec):
    deny, ok = tcp_listener(addr="127.0.0.2"), tcp_listener()
    dport, oport = deny.getsockname()[1], ok.getsockname()[1]
    with deny, ok:
        p = prof(profile, ["127.0.0.0/8:*"], deny=["127.0.0.2:*"],
                 response=dict(RESPONSE, violation="alert", critical="kill"))
        r = run_exec(p, [PY, "-c", AGENT % ([(4, "tcp", "127.0.0.2", dport),
                                             (4, "tcp", "127.0.0.1", oport)],)])
        assert [int(x) for x in r.stdout.split()] == [EPERM, 0], (r.stderr, r.events)
        assert accepted_nothing(deny)
    evs = net_events(r, "connect", dport)
    assert len(evs) == 1, r.events
    assert evs[0]["verdict"] == "critical" and evs[0]["rule"].startswith("network.deny")
    assert evs[0]["outcome"] == "denied"


def test_critical_alert_does_not_refuse_deny_entry(profile, run_exec):
    deny = tcp_listener(addr="127.0.0.2")
    dport = deny.getsockname()[1]
    with deny:
        p = prof(profile, ["127.0.0.0/8:*"], deny=["127.0.0.2:*"],
                 response=dict(RESPONSE, critical="alert"))
        assert run(run_exec, p, [(4, "tcp", "127.0.0.2", dport)]) == [0]


def test_udp_sendto_refused(profile, run_exec):
    bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    good = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad.bind(("127.0.0.1", 0))
    good.bind(("127.0.0.1", 0))
    bport, gport = bad.getsockname()[1], good.getsockname()[1]
    with bad, good:
        p = prof(profile, [f"127.0.0.1:{gport}"])
        r = run_exec(p, [PY, "-c", AGENT % ([(4, "udp", "127.0.0.1", bport),
                                             (4, "udp", "127.0.0.1", gport)],)])
        assert [int(x) for x in r.stdout.split()] == [EPERM, 0], (r.stderr, r.events)
        assert select.select([bad], [], [], 0.3)[0] == []
        assert select.select([good], [], [], 2)[0] == [good]
    evs = net_events(r, "sendto", bport)
    assert len(evs) == 1, r.events
    assert evs[0]["net"]["proto"] == "udp" and evs[0]["net"]["result"] == -EPERM
    assert evs[0]["verdict"] == "violation" and evs[0]["outcome"] == "denied"


def test_audit_mode_connects_and_says_would(profile, run_exec):
    lst = tcp_listener()
    port = lst.getsockname()[1]
    with lst:
        p = prof(profile, [], mode="audit")
        assert run(run_exec, p, [(4, "tcp", "127.0.0.1", port)]) == [0]
        assert not accepted_nothing(lst)
        r = run_exec(p, [PY, "-c", AGENT % ([(4, "tcp", "127.0.0.1", port)],)])
    evs = net_events(r, "connect", port)
    assert len(evs) == 1, r.events
    assert evs[0]["verdict"] == "violation" and evs[0]["action"] == "would:kill"
    assert evs[0]["net"]["result"] == 0
    assert "outcome" not in evs[0] or evs[0]["outcome"] in (None, "")
