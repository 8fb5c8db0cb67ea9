/* Network policy in the kernel: cgroup sock_addr hooks refuse (EPERM) the
 * connects and UDP sends of an agent whose destination its profile does not
 * allow, in enforce mode, before anything leaves the socket.
 *
 * `agentmon exec` attaches these programs to the agent's own cgroup, which
 * the agent starts in, so every socket of the agent is created there (a
 * sock_addr program judges a socket by the cgroup it was created in,
 * KERNEL.md). Userspace fills am_netpol with the profile's network rules
 * merged per prefix (user/netpol.c) and sets the agent's AM_AGF_NET_* bits:
 *   AM_AGF_NET_VIOLATION  refuse what matches no network.connect rule
 *                         (response.violation is stop, freeze or kill)
 *   AM_AGF_NET_CRITICAL   refuse what matches a network.deny rule
 *                         (response.critical is stop, freeze or kill)
 * Loopback is not special. A refusal is reported as an AM_EV_NET event with
 * ret -EPERM and AM_EVF_DENIED; allowed operations send nothing here (the
 * syscall exit tracepoints report them, as in audit mode).
 *
 * The syscall exit tracepoints see the refused syscall fail with -EPERM too.
 * To report each refusal once, the program marks the thread in am_netdenied
 * and the tracepoint drops an -EPERM result of a marked thread (clearing the
 * mark on every exit). A mark rather than "skip every -EPERM of an enforced
 * agent": netfilter and other LSMs also fail connects with EPERM, and those
 * must still be reported. */
#ifndef AGENTMON_NETPOL_BPF_H
#define AGENTMON_NETPOL_BPF_H

#define AM_EPERM 1
#ifndef AM_AF_UNIX
#define AM_AF_UNIX  1
#define AM_AF_INET  2
#define AM_AF_INET6 10
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct am_netpol_key);
	__type(value, struct am_netpol_val);
} am_netpol SEC(".maps");

/* Threads whose current syscall a sock_addr program refused (tid → 1). LRU:
 * a refusal no tracepoint follows (io_uring) cannot fill it up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} am_netdenied SEC(".maps");

/* Agent of a cgroup (cgroup id → agent id), for a process of the agent's
 * cgroup that am_tasks does not know (the table was full when it forked):
 * such a process is still refused, never waved through. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_MAX_AGENTS);
	__type(key, __u64);
	__type(value, __u32);
} am_netcg SEC(".maps");

/* At a syscall exit of a tracked task: 1 if a sock_addr program already
 * refused (and reported) this syscall. Clears the mark either way. */
static __always_inline int am_net_was_denied(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&am_netdenied, &tid))
		return 0;
	bpf_map_delete_elem(&am_netdenied, &tid);
	return ret == -AM_EPERM;
}

static __always_inline int am_port_in(const __u16 *ports, __u32 n, __u32 max, __u16 port)
{
	for (__u32 i = 0; i < max; i++) {
		if (i >= n)
			break;
		if (ports[i] == port)
			return 1;
	}
	return 0;
}

/* AM_AGF_NET_VIOLATION / AM_AGF_NET_CRITICAL: the verdict class of a
 * destination if it is not allowed, 0 if it is. */
static __always_inline __u32 am_netpol_judge(__u32 agent_id, __u8 fam, const __u8 *addr,
					     __u16 port)
{
	struct am_netpol_key k = {
		.prefixlen = AM_NETPOL_FIXED_BITS + (fam == AM_NETPOL_FAM_V4 ? 32 : 128),
		.agent_id = agent_id,
		.fam = fam,
	};
	__builtin_memcpy(k.addr, addr, 16);
	struct am_netpol_val *v = bpf_map_lookup_elem(&am_netpol, &k);
	if (!v)
		return AM_AGF_NET_VIOLATION;
	if (v->flags & AM_NETPOL_OVERFLOW)
		return 0;
	if ((v->flags & AM_NETPOL_DENY_ANY) ||
	    am_port_in(v->deny, v->ndeny, AM_NETPOL_DENY_PORTS, port))
		return AM_AGF_NET_CRITICAL;
	if ((v->flags & AM_NETPOL_ALLOW_ANY) || am_port_in(v->allow, v->nallow, AM_NETPOL_PORTS, port))
		return 0;
	return AM_AGF_NET_VIOLATION;
}

/* 1: let it through; 0: refuse with EPERM (and report it). */
static __always_inline int am_sockaddr(struct bpf_sock_addr *ctx, int v6, __u32 op)
{
	__u8 addr[16] = {};
	__u8 fam = AM_NETPOL_FAM_V4;
	struct am_task dflt = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	const struct am_task *tr = bpf_map_lookup_elem(&am_tasks, &tgid);
	if (!tr) {
		__u64 cg = bpf_get_current_cgroup_id();
		__u32 *id = bpf_map_lookup_elem(&am_netcg, &cg);
		if (!id)
			return 1;       /* not an agent: the programs are on agent cgroups only */
		dflt.agent_id = *id;
		tr = &dflt;
	}
	__u32 agent_id = tr->agent_id;
	struct am_agent *a = bpf_map_lookup_elem(&am_agents, &agent_id);
	if (!a || !(a->flags & AM_AGF_NET_ANY))
		return 1;

	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		__u32 w[4];
		w[0] = ctx->user_ip6[0];
		w[1] = ctx->user_ip6[1];
		w[2] = ctx->user_ip6[2];
		w[3] = ctx->user_ip6[3];
		if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
			/* ::ffff:a.b.c.d is IPv4 traffic: judged as IPv4 */
			__builtin_memcpy(addr, &w[3], 4);
		} else {
			fam = AM_NETPOL_FAM_V6;
			__builtin_memcpy(addr, w, 16);
		}
	} else {
		__u32 ip = ctx->user_ip4;
		__builtin_memcpy(addr, &ip, 4);
	}

	__u32 cls = am_netpol_judge(agent_id, fam, addr, port);
	if (!(cls & a->flags))
		return 1;

	/* Refused: mark the thread for the exit tracepoint, then report. */
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;
	bpf_map_update_elem(&am_netdenied, &tid, &one, BPF_ANY);

	struct am_event *ev = am_evbuf_get();
	if (!ev) {
		am_agent_count(agent_id, 0);
		return 0;
	}
	struct task_struct *t = bpf_get_current_task_btf();
	am_fill_hdr(&ev->hdr, t, tr, AM_EV_NET);
	ev->hdr.flags = AM_EVF_DENIED;
	struct am_net_body *nb = &ev->net;
	nb->op = op;
	nb->ret = -AM_EPERM;
	/* the sockaddr as the caller gave it: a mapped address stays AF_INET6
	 * here, userspace normalises it exactly as for tracepoint events */
	nb->family = v6 ? AM_AF_INET6 : AM_AF_INET;
	nb->port = port;
	nb->sotype = ctx->type;
	nb->proto = ctx->protocol;
	__builtin_memset(nb->addr, 0, sizeof(nb->addr));
	if (v6 && fam == AM_NETPOL_FAM_V4) {
		nb->addr[10] = 0xff;
		nb->addr[11] = 0xff;
		__builtin_memcpy(nb->addr + 12, addr, 4);
	} else {
		__builtin_memcpy(nb->addr, addr, 16);
	}
	nb->path_len = 0;
	nb->pad = 0;
	/* no seen key (what == 0): a refusal is never an allowed repeat */
	__builtin_memset(&nb->seen, 0, sizeof(nb->seen));
	am_submit(ev, offsetof(struct am_event, net.path), 1);
	return 0;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return am_sockaddr(ctx, 0, AM_NOP_CONNECT);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return am_sockaddr(ctx, 1, AM_NOP_CONNECT);
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	return am_sockaddr(ctx, 0, AM_NOP_SENDTO);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	return am_sockaddr(ctx, 1, AM_NOP_SENDTO);
}

#endif
