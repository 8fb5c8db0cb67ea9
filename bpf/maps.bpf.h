/* Maps and the event-delivery helpers every hook uses. */
#ifndef AGENTMON_MAPS_BPF_H
#define AGENTMON_MAPS_BPF_H

/* Which process (thread group) belongs to which agent. The one lookup every
 * hooked event of a non-agent process pays. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_MAX_TASKS);
	__type(key, __u32);              /* tgid */
	__type(value, struct am_task);
} am_tasks SEC(".maps");

/* Per-agent counters the kernel keeps. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_MAX_AGENTS);
	__type(key, __u32);              /* agent id */
	__type(value, struct am_agent);
} am_agents SEC(".maps");

/* Why events were lost or degraded, per CPU (enum am_stat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AM_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} am_stats SEC(".maps");

/* All events to userspace. Size set by userspace before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AM_RINGBUF_DEFAULT);
} am_events SEC(".maps");

/* Events are built here, then copied to the ring buffer with only the used
 * part of their path: too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct am_event);
} am_evbuf SEC(".maps");

static __always_inline void am_stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&am_stats, &idx);
	if (v)
		*v += 1; /* per-CPU: no atomics needed */
}

static __always_inline void am_agent_count(__u32 agent_id, int delivered)
{
	struct am_agent *a = bpf_map_lookup_elem(&am_agents, &agent_id);
	if (!a)
		return;
	if (delivered)
		__sync_fetch_and_add(&a->events, 1);
	else
		__sync_fetch_and_add(&a->lost, 1);
}

static __always_inline struct am_event *am_evbuf_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&am_evbuf, &zero);
}

/* Fill the common header for task `t` acting as tracked task `tr`. `t` is
 * a BTF pointer (a tp_btf argument or bpf_get_current_task_btf()), so the
 * fields are plain fault-safe loads, not one helper call each. */
static __always_inline void am_fill_hdr(struct am_event_hdr *h, struct task_struct *t,
					const struct am_task *tr, __u32 kind)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->kind = kind;
	h->agent_id = tr->agent_id;
	h->pid = t->tgid;
	h->tid = t->pid;
	h->ppid = t->real_parent->tgid;
	h->uid = t->cred->uid.val;
	h->depth = tr->depth;
	h->flags = 0;
	__builtin_memcpy(h->comm, t->comm, AM_COMM_LEN);
	h->comm[AM_COMM_LEN - 1] = 0;
}

/* Send `size` bytes of `ev`. A failure is never silent: it is counted per CPU
 * and per agent, and userspace turns the counts into `lost` events. */
static __always_inline void am_submit(struct am_event *ev, __u64 size, int urgent)
{
	/* Default (0): the kernel wakes the consumer only when this record is the
	 * first one it has not seen yet, so an idle consumer hears of a violation
	 * at once and a busy one is not woken per event (a wake-up per event caps
	 * the consumer far below the event rate, KERNEL.md). */
	__u64 flags = urgent ? BPF_RB_FORCE_WAKEUP : 0;
	if (size > sizeof(*ev))
		size = sizeof(*ev);
	if (bpf_ringbuf_output(&am_events, ev, size, flags)) {
		am_stat_inc(AM_STAT_RB_FULL);
		am_agent_count(ev->hdr.agent_id, 0);
		return;
	}
	am_stat_inc(AM_STAT_EVENTS);
	am_agent_count(ev->hdr.agent_id, 1);
}

#endif
