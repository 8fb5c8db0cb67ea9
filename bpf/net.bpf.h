/* Network operations of agents: connect, bind, listen, and sendto/sendmsg
 * with an explicit destination. Observation only; verdicts are userspace's.
 *
 * Why syscall *exit* tracepoints: fentry/kprobes/LSM cannot attach on our
 * kernels (KERNEL.md), and the exit is the one place where we have both the
 * result and arguments the kernel has already read. The arguments are not in
 * the exit tracepoint's record, so they come from the task's saved user
 * registers (bpf_task_pt_regs(); syscall handlers read them but never write
 * them back, except the return value register). By then the kernel has
 * copied the sockaddr (move_addr_to_kernel()), so its page is mapped and our
 * bpf_probe_read_user() cannot hit the not-yet-faulted page that makes
 * sys_enter reads fail right after fork. A second thread could still rewrite
 * the buffer between the kernel's copy and ours: this is observation, the
 * cgroup sock_addr hooks are the place to enforce.
 *
 * Socket type and protocol come from the kernel socket (fd → file → socket →
 * sock), never from the address. listen has no address argument: its port
 * and address are the socket's (skc_num, skc_rcv_saddr, unix_sock->addr).
 *
 * Cost for a process that is not an agent: one am_tasks lookup per hooked
 * syscall, nothing else. Each syscall has its own tracepoint, so unrelated
 * syscalls pay nothing (raw_tp/sys_exit would tax every syscall).
 *
 * Not seen here: 32-bit compat syscalls (x86 syscall tracepoints skip them),
 * sendmmsg, and io_uring connect/send (no syscall tracepoint fires).
 */
#ifndef AGENTMON_NET_BPF_H
#define AGENTMON_NET_BPF_H

#ifndef AM_AF_UNIX
#define AM_AF_UNIX  1
#define AM_AF_INET  2
#define AM_AF_INET6 10
#endif

/* Scratch for one sockaddr. The largest we decode is sockaddr_un (110 bytes:
 * family + 108 path bytes); the read length is clamped to AM_SA_READ_MAX so
 * every access stays inside the 128-byte buffer, which is zeroed so that
 * bytes the caller did not pass read as 0. */
#define AM_SA_BUF      128
#define AM_SA_READ_MAX (2 + AM_UNIX_PATH_MAX)

/* A sockaddr length the verifier can bound: clamped to AM_SA_READ_MAX, then
 * masked (behind a compiler barrier, or the mask is optimised away and the
 * verifier sees a 64-bit value again) so it is provably < AM_SA_BUF. */
static __always_inline __u32 am_sa_len(__u32 len)
{
	if (len > AM_SA_READ_MAX)
		len = AM_SA_READ_MAX;
	asm volatile("" : "+r"(len));
	return len & (AM_SA_BUF - 1);
}

/* The socket behind `fd` of task `t`, or NULL (closed meanwhile, not a
 * socket). A file is a socket when its private_data is a struct socket that
 * points back at the file (sock_from_file() compares f_op instead; an O_PATH
 * file of a socket inode fails this check too). */
static __always_inline struct sock *am_net_sock(struct task_struct *t, int fd)
{
	struct file *f = NULL;

	if (fd < 0)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fda = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fda[fd]) || !f)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != f)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* Decode `len` bytes of a sockaddr in `sa` (AM_SA_BUF bytes, zero beyond
 * len) into family/port/addr or the unix path. 0, or -1 for a family we do
 * not report or a length too short for it. */
static __always_inline int am_net_parse(struct am_net_body *nb, const __u8 *sa, __u32 len)
{
	__u16 fam, port;

	if (len < 2)
		return -1;
	__builtin_memcpy(&fam, sa, 2);
	nb->family = fam;
	switch (fam) {
	case AM_AF_INET:
		if (len < 8)                    /* sin_port, sin_addr */
			return -1;
		__builtin_memcpy(&port, sa + 2, 2);
		nb->port = bpf_ntohs(port);
		__builtin_memcpy(nb->addr, sa + 4, 4);
		return 0;
	case AM_AF_INET6:
		if (len < 24)                   /* up to sin6_addr (RFC 2133 size) */
			return -1;
		__builtin_memcpy(&port, sa + 2, 2);
		nb->port = bpf_ntohs(port);
		__builtin_memcpy(nb->addr, sa + 8, 16);
		return 0;
	case AM_AF_UNIX: {
		__u32 n = len - 2, i;
		if (n > AM_UNIX_PATH_MAX)
			n = AM_UNIX_PATH_MAX;
		__builtin_memcpy(nb->path, sa + 2, AM_UNIX_PATH_MAX);
		if (n && nb->path[0] == 0) {
			/* abstract: the name is all n bytes after the NUL */
			nb->path[0] = '@';
			nb->path_len = n;
			return 0;
		}
		/* pathname: up to the first NUL (the kernel does the same) */
		for (i = 0; i < AM_UNIX_PATH_MAX; i++)
			if (i >= n || nb->path[i] == 0)
				break;
		nb->path_len = i;
		return 0;
	}
	}
	return -1;
}

/* Family, local address and port of a socket as the kernel holds them:
 * listen(2), and a bind whose port the kernel picked. */
static __always_inline int am_net_local(struct am_net_body *nb, struct sock *sk, __u8 *sa)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	nb->family = fam;
	if (fam == AM_AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(nb->addr, &a, 4);
		nb->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		return 0;
	}
	if (fam == AM_AF_INET6) {
		BPF_CORE_READ_INTO(&nb->addr, sk, __sk_common.skc_v6_rcv_saddr);
		nb->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		return 0;
	}
	if (fam == AM_AF_UNIX) {
		struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
		if (!ua)
			return 0;               /* unbound: no name */
		__u32 len = am_sa_len(BPF_CORE_READ(ua, len));
		if (len < 2)
			return 0;
		void *name = (void *)ua + bpf_core_field_offset(struct unix_address, name);
		if (bpf_probe_read_kernel(sa, len, name))
			return -1;
		return am_net_parse(nb, sa, len);
	}
	return -1;
}

/* Build and send one AM_EV_NET event of tracked task `t`. `uaddr`/`ulen` is
 * the caller's sockaddr (NULL for listen). */
static __always_inline int am_net_event(struct task_struct *t, const struct am_task *tr, __u32 op,
					long ret, int fd, const void *uaddr, __u32 ulen)
{
	__u8 sa[AM_SA_BUF] = {};
	struct am_event *ev = am_evbuf_get();
	if (!ev)
		return 0;
	struct am_net_body *nb = &ev->net;
	struct sock *sk = am_net_sock(t, fd);

	am_fill_hdr(&ev->hdr, t, tr, AM_EV_NET);
	nb->op = op;
	nb->ret = ret > 0 ? 0 : ret;    /* sendto: a byte count means success */
	nb->family = 0;
	nb->port = 0;
	nb->sotype = 0;
	nb->proto = 0;
	__builtin_memset(nb->addr, 0, sizeof(nb->addr));
	nb->path_len = 0;
	nb->pad = 0;
	__builtin_memset(&nb->seen, 0, sizeof(nb->seen));
	if (sk) {
		nb->sotype = am_sk_type(sk);
		nb->proto = am_sk_protocol(sk);
	}

	if (op == AM_NOP_LISTEN) {
		if (!sk)
			return 0;       /* not a socket: listen failed, nothing happened */
		if (am_net_local(nb, sk, sa)) {
			if (ret == 0)
				am_stat_inc(AM_STAT_READ_ERR);
			return 0;
		}
	} else {
		/* The kernel refuses shorter addresses (EINVAL) before doing anything. */
		if (!uaddr || ulen < 2)
			return 0;
		ulen = am_sa_len(ulen);
		if (bpf_probe_read_user(sa, ulen, uaddr)) {
			/* The kernel read it a moment ago: another thread unmapped or
			 * the call failed with EFAULT. Without an address there is
			 * nothing to judge; count it, never drop it silently. */
			am_stat_inc(AM_STAT_READ_ERR);
			if (ret == 0)
				am_agent_count(tr->agent_id, 0);
			return 0;
		}
		if (am_net_parse(nb, sa, ulen))
			return 0;       /* AF_UNSPEC (disconnect), netlink, packet...: not reported */
		/* bind to port 0: report the port the kernel chose */
		if (op == AM_NOP_BIND && ret == 0 && sk && nb->port == 0 &&
		    (nb->family == AM_AF_INET || nb->family == AM_AF_INET6))
			nb->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	}

	if (nb->family == AM_AF_INET || nb->family == AM_AF_INET6) {
		/* Key for kernel-side dedup of allowed repeats. Unix paths do not
		 * fit in 16 bytes and a hash could be forged to collide with an
		 * allowed path, so unix events carry no key (what == 0). */
		nb->seen.agent_id = tr->agent_id;
		nb->seen.what = ((__u32)AM_EV_NET << 16) | (op << 8);
		__builtin_memcpy(&nb->seen.a, nb->addr, 8);
		__builtin_memcpy(&nb->seen.b, nb->addr + 8, 8);
		nb->seen.c = ((__u64)nb->family << 16) | nb->port;
		/* Judged `allow` before: repeats stop here (see am_seen). */
		if (bpf_map_lookup_elem(&am_seen, &nb->seen))
			return 0;
	}
	__u32 plen = nb->path_len;
	if (plen > AM_UNIX_PATH_MAX)
		plen = AM_UNIX_PATH_MAX;
	am_submit(ev, offsetof(struct am_event, net.path) + plen, 0);
	return 0;
}

/* The tracked task behind the current syscall, or NULL: the only work a
 * process that is not an agent does in these hooks. */
static __always_inline struct am_task *am_net_tracked(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&am_tasks, &tgid);
}

/* connect(fd, addr, addrlen): every outbound connection, and UDP "connects"
 * that fix a destination. -EINPROGRESS (non-blocking) is a started connect. */
SEC("tp/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct am_task *tr = am_net_tracked();
	if (!tr)
		return 0;
	if (am_net_was_denied(ctx->ret))
		return 0;       /* refused and reported by cgroup/connect4/6 */
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = am_sys_regs();
	return am_net_event(t, tr, AM_NOP_CONNECT, ctx->ret, (int)AM_SYSARG0(regs),
			    (void *)AM_SYSARG1(regs),
			    (__u32)AM_SYSARG2(regs));
}

/* bind(fd, addr, addrlen): the local address an agent claims (a port it will
 * serve on, a unix socket path it creates). */
SEC("tp/syscalls/sys_exit_bind")
int sys_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct am_task *tr = am_net_tracked();
	if (!tr)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = am_sys_regs();
	return am_net_event(t, tr, AM_NOP_BIND, ctx->ret, (int)AM_SYSARG0(regs),
			    (void *)AM_SYSARG1(regs),
			    (__u32)AM_SYSARG2(regs));
}

/* listen(fd, backlog): the moment a port really accepts connections. The
 * address is the socket's (bound explicitly or implicitly by the kernel). */
SEC("tp/syscalls/sys_exit_listen")
int sys_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	struct am_task *tr = am_net_tracked();
	if (!tr)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = am_sys_regs();
	return am_net_event(t, tr, AM_NOP_LISTEN, ctx->ret, (int)AM_SYSARG0(regs),
			    NULL, 0);
}

/* sendto(fd, buf, len, flags, addr, addrlen): datagrams to an explicit
 * destination (DNS queries, UDP without connect). Without addr the socket's
 * connected peer is used, which its connect already reported. */
SEC("tp/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	struct am_task *tr = am_net_tracked();
	if (!tr)
		return 0;
	if (am_net_was_denied(ctx->ret))
		return 0;       /* refused and reported by cgroup/sendmsg4/6 */
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = am_sys_regs();
	void *uaddr = (void *)AM_SYSARG4(regs);
	__u32 ulen = (__u32)AM_SYSARG5(regs);
	if (!uaddr || !ulen)
		return 0;
	return am_net_event(t, tr, AM_NOP_SENDTO, ctx->ret, (int)AM_SYSARG0(regs),
			    uaddr, ulen);
}

/* sendmsg(fd, msg, flags): the same with msg->msg_name as the destination.
 * The kernel copied the msghdr (copy_msghdr_from_user()), so it is mapped. */
SEC("tp/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct user_msghdr mh;
	struct am_task *tr = am_net_tracked();
	if (!tr)
		return 0;
	if (am_net_was_denied(ctx->ret))
		return 0;       /* refused and reported by cgroup/sendmsg4/6 */
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = am_sys_regs();
	void *umsg = (void *)AM_SYSARG1(regs);
	if (bpf_probe_read_user(&mh, sizeof(mh), umsg)) {
		if (ctx->ret >= 0) {
			am_stat_inc(AM_STAT_READ_ERR);
			am_agent_count(tr->agent_id, 0);
		}
		return 0;
	}
	if (!mh.msg_name || mh.msg_namelen <= 0)
		return 0;
	return am_net_event(t, tr, AM_NOP_SENDTO, ctx->ret, (int)AM_SYSARG0(regs),
			    mh.msg_name, (__u32)mh.msg_namelen);
}

#endif
