/* Recognising new agents at exec, for the daemon (agentmon run).
 *
 * At sched_process_exec of a process no agent owns, the executed file's
 * (device, inode) is looked up in am_match; a candidate whose uid and cgroup
 * subtree also hold makes the process the root (depth 0) of that agent, here,
 * before the new program's first instruction: its exec, files and network are
 * judged from then on, and its exec policy applies to this very exec.
 *
 * Cost for everyone else: nothing unless the daemon has loaded a profile with
 * a match (am_match_on), then one hash lookup per exec (plus one more for
 * profiles without match.exe, only when such a profile exists). */
#ifndef AGENTMON_MATCH_BPF_H
#define AGENTMON_MATCH_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct am_match_key);
	__type(value, struct am_match_val);
} am_match SEC(".maps");

/* match.cgroup directories; bpf_current_task_under_cgroup() tests the subtree. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, AM_MATCH_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} am_match_cg SEC(".maps");

/* Set by userspace through the skeleton's .bss. */
__u32 am_match_on = 0;     /* am_match holds entries */
__u32 am_match_wild = 0;   /* ... including key {0, 0} */

static __always_inline int am_match_try(const struct am_match_key *k, __u32 uid,
					struct am_task *out)
{
	struct am_match_val *v = bpf_map_lookup_elem(&am_match, k);
	if (!v)
		return 0;
	for (__u32 i = 0; i < AM_MATCH_CANDS; i++) {
		if (i >= v->n)
			break;
		struct am_match_cand *c = &v->c[i];
		if (c->uid != AM_MATCH_ANY && c->uid != uid)
			continue;
		if (c->cg_idx == AM_MATCH_NEVER)
			continue;
		if (c->cg_idx != AM_MATCH_ANY &&
		    bpf_current_task_under_cgroup(&am_match_cg, c->cg_idx) != 1)
			continue;
		out->agent_id = c->agent_id;
		out->depth = 0;
		return 1;
	}
	return 0;
}

/* 1 and *out filled (and the task tracked) when exec of bprm by p starts an
 * agent; 0 otherwise. */
static __always_inline int am_match_exec(struct task_struct *p, struct linux_binprm *bprm,
					 struct am_task *out)
{
	if (!am_match_on)
		return 0;
	struct inode *ino = BPF_CORE_READ(bprm, file, f_inode);
	struct am_match_key k = {
		.ino = BPF_CORE_READ(ino, i_ino),
		.dev = BPF_CORE_READ(ino, i_sb, s_dev),
	};
	__u32 uid = BPF_CORE_READ(p, cred, uid.val);
	if (!am_match_try(&k, uid, out)) {
		if (!am_match_wild)
			return 0;
		k.ino = 0;
		k.dev = 0;
		if (!am_match_try(&k, uid, out))
			return 0;
	}
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (bpf_map_update_elem(&am_tasks, &tgid, out, BPF_NOEXIST)) {
		/* Not watched although it should be: a loss of that agent. */
		am_stat_inc(AM_STAT_TASKS_FULL);
		am_agent_count(out->agent_id, 0);
		return 0;
	}
	return 1;
}

#endif
