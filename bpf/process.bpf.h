/* Process lifecycle of agents: fork (inherit tracking), exec, exit.
 *
 * BTF tracepoints (tp_btf) give typed task_struct/linux_binprm pointers and
 * need no tracefs. For a process that is not an agent each hook costs one
 * am_tasks lookup.
 */
#ifndef AGENTMON_PROCESS_BPF_H
#define AGENTMON_PROCESS_BPF_H

/* sched_process_fork runs in the parent after copy_process(), before the
 * child can run: the child is tracked before its first instruction, so
 * double-forked and re-parented descendants stay with their agent. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	struct am_task *pt = bpf_map_lookup_elem(&am_tasks, &ptgid);
	if (!pt)
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == ptgid)
		return 0;                   /* a new thread: its group is tracked */

	struct am_task ct = { .agent_id = pt->agent_id, .depth = pt->depth + 1 };
	if (bpf_map_update_elem(&am_tasks, &ctgid, &ct, BPF_ANY)) {
		/* The child escapes tracking: report it as a loss of this agent. */
		am_stat_inc(AM_STAT_TASKS_FULL);
		am_agent_count(pt->agent_id, 0);
		return 0;
	}
	struct am_event *ev = am_evbuf_get();
	if (!ev)
		return 0;
	am_fill_hdr(&ev->hdr, parent, pt, AM_EV_FORK);
	ev->fork.child_pid = ctgid;
	ev->fork.pad = 0;
	am_submit(ev, offsetof(struct am_event, fork) + sizeof(ev->fork), 0);
	return 0;
}

/* sched_process_exec fires after the new image is committed and before it
 * returns to user mode: bprm->file is the opened executable (symlinks
 * resolved), and the new mm already holds argv. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct am_task matched;
	struct am_task *tr = bpf_map_lookup_elem(&am_tasks, &tgid);
	__u32 flags = 0;
	if (!tr) {
		if (!am_match_exec(p, bprm, &matched))
			return 0;
		tr = &matched;
		flags = AM_EVF_MATCHED;
	}
	struct am_event *ev = am_evbuf_get();
	if (!ev)
		return 0;
	am_fill_hdr(&ev->hdr, p, tr, AM_EV_EXEC);
	ev->hdr.flags = flags;

	struct file *f = BPF_CORE_READ(bprm, file);
	ev->exec.path_len = am_path_of(&f->f_path, ev->exec.path, &ev->hdr.flags);

	unsigned long as = BPF_CORE_READ(p, mm, arg_start);
	unsigned long ae = BPF_CORE_READ(p, mm, arg_end);
	__u64 alen = ae > as ? ae - as : 0;
	if (alen > AM_ARGS_MAX) {
		alen = AM_ARGS_MAX;
		ev->hdr.flags |= AM_EVF_ARGS_TRUNC;
	}
	ev->exec.args_len = 0;
	if (alen && bpf_probe_read_user(ev->exec.args, alen, (void *)as) == 0)
		ev->exec.args_len = alen;
	else if (alen)
		am_stat_inc(AM_STAT_READ_ERR);

	am_exec_enforce(ev, tr);
	/* execs are rare and decide a lot: wake the consumer now */
	am_submit(ev, offsetof(struct am_event, exec.path) + ev->exec.path_len + 1, 1);
	return 0;
}

/* sched_process_exit fires for every thread; the group is gone when its live
 * count has dropped to zero (do_exit() decrements it before the tracepoint). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct am_task *tr = bpf_map_lookup_elem(&am_tasks, &tgid);
	if (!tr)
		return 0;
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct am_event *ev = am_evbuf_get();
	if (ev) {
		am_fill_hdr(&ev->hdr, p, tr, AM_EV_EXIT);
		ev->exit.status = BPF_CORE_READ(p, exit_code);
		ev->exit.pad = 0;
		am_submit(ev, offsetof(struct am_event, exit) + sizeof(ev->exit), 0);
	}
	bpf_map_delete_elem(&am_tasks, &tgid);
	return 0;
}

#endif
