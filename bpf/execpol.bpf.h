/* Synchronous exec enforcement: an exec the agent's profile answers with
 * `kill` gets SIGKILL from sched_process_exec itself. The signal is pending
 * when the task returns to user mode, so the new program never runs an
 * instruction (KERNEL.md, measured). Userspace fills am_execpol with the
 * hashed resolved paths of the profile's exec lists (globs expanded against
 * the filesystem) and sets the agent's AM_AGF_* flags; it stays the source of
 * truth for everything else. */
#ifndef AGENTMON_EXECPOL_BPF_H
#define AGENTMON_EXECPOL_BPF_H

#define AM_SIGKILL 9

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct am_execpol_key);
	__type(value, __u8);            /* enum am_execpol */
} am_execpol SEC(".maps");

struct am_hash_ctx {
	const char *s;
	__u32 len;
	__u64 h;
};

static long am_hash_step(__u32 i, void *ctx)
{
	struct am_hash_ctx *c = ctx;
	if (i >= c->len)
		return 1;
	const char *s = c->s;
	char ch = 0;
	bpf_probe_read_kernel(&ch, 1, s + (i & (AM_PATH_MAX - 1)));
	c->h = (c->h ^ (__u8)ch) * AM_FNV_PRIME;
	return 0;
}

/* FNV-1a 64 of path[0..len): the same as am_fnv1a64() in userspace. */
static __always_inline __u64 am_path_hash(const char *path, __u32 len)
{
	struct am_hash_ctx c = { .s = path, .len = len, .h = AM_FNV_OFFSET };
	bpf_loop(AM_PATH_MAX, am_hash_step, &c, 0);
	return c.h;
}

/* Decide on an exec event already filled in `ev`; kill if the policy says so. */
static __always_inline void am_exec_enforce(struct am_event *ev, const struct am_task *tr)
{
	__u32 id = tr->agent_id;
	struct am_agent *a = bpf_map_lookup_elem(&am_agents, &id);
	if (!a || !(a->flags & (AM_AGF_EXEC_POLICY | AM_AGF_DEPTH_KILL)))
		return;
	int kill = 0;
	if ((a->flags & AM_AGF_DEPTH_KILL) && tr->depth > a->max_depth)
		kill = 1;
	if (!kill && (a->flags & AM_AGF_EXEC_POLICY)) {
		struct am_execpol_key k = { .agent_id = id,
					    .hash = am_path_hash(ev->exec.path, ev->exec.path_len) };
		__u8 *v = bpf_map_lookup_elem(&am_execpol, &k);
		if (v)
			kill = *v == AM_EXECPOL_KILL;
		else
			kill = !!(a->flags & AM_AGF_EXEC_DEFKILL);
	}
	if (kill && bpf_send_signal(AM_SIGKILL) == 0)
		ev->hdr.flags |= AM_EVF_KILLED;
}

#endif
