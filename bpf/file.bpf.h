/* File activity of agents, observed at syscall exit.
 *
 * Opens: the path is that of the file the kernel opened, found through the
 * returned fd (current->files->fdt->fd[ret]), so symlinks, "..", dirfd,
 * the working directory and bind mounts are already resolved, and nothing the
 * caller can change after the fact is trusted.
 * Path-only operations (unlink, rename, chmod, …) have no file to look at
 * afterwards (an unlinked name is gone): we send the caller's string, read
 * after the kernel has used it, plus the directory it is relative to (dirfd
 * or working directory, resolved from the kernel's own structures).
 * Failed syscalls did nothing and are not reported.
 */
#ifndef AGENTMON_FILE_BPF_H
#define AGENTMON_FILE_BPF_H

#define AM_AT_FDCWD       -100
#define AM_AT_REMOVEDIR   0x200
#define AM_O_ACCMODE      00000003
#define AM_O_CREAT        00000100
#define AM_O_TRUNC        00001000
#define AM_O_APPEND       00002000

/* Repeats of activity userspace judged `allow` (see struct am_seen_key). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct am_seen_key);
	__type(value, __u8);
} am_seen SEC(".maps");

/* The file behind `fd` of task `t`. `t` is a BTF pointer (the current task
 * from bpf_get_current_task_btf()): t->files->fdt and its fields are plain
 * loads the JIT makes fault-safe, not helper calls; this runs on every
 * hooked file syscall of an agent, repeats included. Only the slot at a
 * variable index needs bpf_probe_read_kernel(). */
static __always_inline struct file *am_fd_file(struct task_struct *t, long fd)
{
	struct fdtable *fdt = t->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

static __always_inline __u32 am_open_access(__u32 flags)
{
	if ((flags & AM_O_ACCMODE) != 0 || (flags & (AM_O_CREAT | AM_O_TRUNC | AM_O_APPEND)))
		return AM_ACC_WRITE;
	return AM_ACC_READ;
}

static __always_inline struct am_task *am_current_agent(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&am_tasks, &tgid);
}

/* An open that returned `ret` with `flags`. */
static __always_inline int am_file_open(struct am_task *tr, long ret, __u32 flags)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file *f = am_fd_file(t, ret);
	if (!f)
		return 0;
	__u32 access = am_open_access(flags);
	struct path fp = {};
	bpf_core_read(&fp, sizeof(fp), &f->f_path);   /* dentry and mount in one read */
	struct am_seen_key k = {
		.agent_id = tr->agent_id,
		.what = (AM_EV_FILE << 16) | (AM_FOP_OPEN << 8) | access,
		.a = (__u64)fp.dentry,
		.b = (__u64)fp.mnt,
		.c = BPF_CORE_READ(f, f_inode, i_ino),
	};
	/* Already judged `allow`: drop it here, before the path walk. */
	if (bpf_map_lookup_elem(&am_seen, &k))
		return 0;

	struct am_event *ev = am_evbuf_get();
	if (!ev)
		return 0;
	am_fill_hdr(&ev->hdr, t, tr, AM_EV_FILE);
	struct am_file_body *b = &ev->file;
	b->op = AM_FOP_OPEN;
	b->access = access;
	b->oflags = flags;
	b->ret = ret;
	b->mode = 0;
	b->upath_len = b->path2_len = b->upath2_len = 0;
	b->pad = 0;
	b->seen = k;
	b->path_len = am_path_of(&f->f_path, b->path, &ev->hdr.flags);
	am_submit(ev, offsetof(struct am_event, file.path) + b->path_len + 1, 0);
	return 0;
}

/* Directory that a relative name given with `dfd` is relative to. */
static __always_inline __u32 am_base_dir(struct task_struct *t, long dfd, char *out, __u32 *flags)
{
	if (dfd == AM_AT_FDCWD) {
		struct fs_struct *fs = BPF_CORE_READ(t, fs);
		return am_path_of(&fs->pwd, out, flags);
	}
	struct file *f = am_fd_file(t, dfd);
	if (!f) {
		*flags |= AM_EVF_PATH_ERR;
		out[0] = 0;
		return 0;
	}
	return am_path_of(&f->f_path, out, flags);
}

/* The caller's name `up` (relative to `dfd`) into upath, its base into path. */
static __always_inline void am_name(struct task_struct *t, long dfd, const char *up,
				    char *path, __u32 *path_len, char *upath, __u32 *upath_len,
				    __u32 *flags)
{
	long n = bpf_probe_read_user_str(upath, AM_PATH_MAX, up);
	if (n <= 0) {
		*flags |= AM_EVF_PATH_ERR;
		am_stat_inc(AM_STAT_READ_ERR);
		upath[0] = 0;
		n = 1;
	}
	*upath_len = n - 1;
	*path_len = 0;
	path[0] = 0;
	if (upath[0] != '/')
		*path_len = am_base_dir(t, dfd, path, flags);
}

/* A path-only operation: op on (dfd, up) [and (dfd2, up2)], or on fd when
 * up is NULL (fchmod, fchown, ftruncate). */
static __always_inline int am_file_pathop(struct am_task *tr, __u32 op, long ret, long dfd,
					  const char *up, long dfd2, const char *up2, __u32 mode)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct am_event *ev = am_evbuf_get();
	if (!ev)
		return 0;
	am_fill_hdr(&ev->hdr, t, tr, AM_EV_FILE);
	struct am_file_body *b = &ev->file;
	b->op = op;
	b->access = AM_ACC_WRITE;
	b->oflags = 0;
	b->ret = ret;
	b->mode = mode;
	b->pad = 0;
	__builtin_memset(&b->seen, 0, sizeof(b->seen));
	b->upath_len = b->path2_len = b->upath2_len = 0;
	b->upath[0] = b->path2[0] = b->upath2[0] = 0;
	if (up) {
		am_name(t, dfd, up, b->path, &b->path_len, b->upath, &b->upath_len, &ev->hdr.flags);
	} else {
		struct file *f = am_fd_file(t, dfd);
		b->path_len = 0;
		b->path[0] = 0;
		if (!f)
			return 0;
		b->path_len = am_path_of(&f->f_path, b->path, &ev->hdr.flags);
	}
	if (up2)
		am_name(t, dfd2, up2, b->path2, &b->path2_len, b->upath2, &b->upath2_len,
			&ev->hdr.flags);
	am_submit(ev, sizeof(*ev), 0);
	return 0;
}

#define AM_ARGS struct trace_event_raw_sys_exit *ctx

/* --- opens --- */
SEC("tp/syscalls/sys_exit_openat")
int sys_exit_openat(AM_ARGS)
{
	struct am_task *tr = am_current_agent();
	if (!tr || ctx->ret < 0)
		return 0;
	return am_file_open(tr, ctx->ret, AM_SYSARG2(am_sys_regs()));
}

SEC("tp/syscalls/sys_exit_open")
int sys_exit_open(AM_ARGS)
{
	struct am_task *tr = am_current_agent();
	if (!tr || ctx->ret < 0)
		return 0;
	return am_file_open(tr, ctx->ret, AM_SYSARG1(am_sys_regs()));
}

SEC("tp/syscalls/sys_exit_creat")
int sys_exit_creat(AM_ARGS)
{
	struct am_task *tr = am_current_agent();
	if (!tr || ctx->ret < 0)
		return 0;
	return am_file_open(tr, ctx->ret, AM_O_CREAT | AM_O_TRUNC | 1);
}

/* openat2(dfd, filename, struct open_how *how, size): flags are how->flags,
 * a struct the kernel has just copied from this very user memory. */
SEC("tp/syscalls/sys_exit_openat2")
int sys_exit_openat2(AM_ARGS)
{
	struct am_task *tr = am_current_agent();
	__u64 flags = 0;
	if (!tr || ctx->ret < 0)
		return 0;
	bpf_probe_read_user(&flags, sizeof(flags), (void *)AM_SYSARG2(am_sys_regs()));
	return am_file_open(tr, ctx->ret, (__u32)flags);
}

/* --- path-only operations ---
 * The tracked-task lookup comes first: arguments are read only for agents. */
#define AM_PATHOP(name)                                                       \
	static __always_inline int do_##name(struct am_task *tr, long ret,     \
					     struct pt_regs *r);              \
	SEC("tp/syscalls/sys_exit_" #name)                                    \
	int sys_exit_##name(AM_ARGS)                                          \
	{                                                                     \
		struct am_task *tr = am_current_agent();                      \
		if (!tr || ctx->ret < 0)                                      \
			return 0;                                             \
		return do_##name(tr, ctx->ret, am_sys_regs());                \
	}                                                                     \
	static __always_inline int do_##name(struct am_task *tr, long ret,     \
					     struct pt_regs *r)

AM_PATHOP(unlink)
{
	return am_file_pathop(tr, AM_FOP_UNLINK, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL, 0);
}

AM_PATHOP(unlinkat)
{
	__u32 op = (AM_SYSARG2(r) & AM_AT_REMOVEDIR) ? AM_FOP_RMDIR : AM_FOP_UNLINK;
	return am_file_pathop(tr, op, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r), 0, NULL, 0);
}

AM_PATHOP(rmdir)
{
	return am_file_pathop(tr, AM_FOP_RMDIR, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL, 0);
}

AM_PATHOP(mkdir)
{
	return am_file_pathop(tr, AM_FOP_MKDIR, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL,
			      AM_SYSARG1(r));
}

AM_PATHOP(mkdirat)
{
	return am_file_pathop(tr, AM_FOP_MKDIR, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r), 0, NULL,
			      AM_SYSARG2(r));
}

AM_PATHOP(rename)
{
	return am_file_pathop(tr, AM_FOP_RENAME, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), AM_AT_FDCWD,
			      (void *)AM_SYSARG1(r), 0);
}

AM_PATHOP(renameat)
{
	return am_file_pathop(tr, AM_FOP_RENAME, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r),
			      (int)AM_SYSARG2(r), (void *)AM_SYSARG3(r), 0);
}

AM_PATHOP(renameat2)
{
	return am_file_pathop(tr, AM_FOP_RENAME, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r),
			      (int)AM_SYSARG2(r), (void *)AM_SYSARG3(r), 0);
}

AM_PATHOP(chmod)
{
	return am_file_pathop(tr, AM_FOP_CHMOD, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL,
			      AM_SYSARG1(r));
}

AM_PATHOP(fchmodat)
{
	return am_file_pathop(tr, AM_FOP_CHMOD, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r), 0, NULL,
			      AM_SYSARG2(r));
}

AM_PATHOP(fchmod)
{
	return am_file_pathop(tr, AM_FOP_CHMOD, ret, (int)AM_SYSARG0(r), NULL, 0, NULL, AM_SYSARG1(r));
}

AM_PATHOP(chown)
{
	return am_file_pathop(tr, AM_FOP_CHOWN, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL, 0);
}

AM_PATHOP(lchown)
{
	return am_file_pathop(tr, AM_FOP_CHOWN, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL, 0);
}

AM_PATHOP(fchownat)
{
	return am_file_pathop(tr, AM_FOP_CHOWN, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r), 0, NULL, 0);
}

AM_PATHOP(fchown)
{
	return am_file_pathop(tr, AM_FOP_CHOWN, ret, (int)AM_SYSARG0(r), NULL, 0, NULL, 0);
}

AM_PATHOP(truncate)
{
	return am_file_pathop(tr, AM_FOP_TRUNCATE, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), 0, NULL, 0);
}

AM_PATHOP(ftruncate)
{
	return am_file_pathop(tr, AM_FOP_TRUNCATE, ret, (int)AM_SYSARG0(r), NULL, 0, NULL, 0);
}

AM_PATHOP(link)
{
	return am_file_pathop(tr, AM_FOP_LINK, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), AM_AT_FDCWD,
			      (void *)AM_SYSARG1(r), 0);
}

AM_PATHOP(linkat)
{
	return am_file_pathop(tr, AM_FOP_LINK, ret, (int)AM_SYSARG0(r), (void *)AM_SYSARG1(r),
			      (int)AM_SYSARG2(r), (void *)AM_SYSARG3(r), 0);
}

/* symlink(target, linkpath): the target is only text; the new name is what
 * is written. upath = target, (path2, upath2) = the link. */
AM_PATHOP(symlink)
{
	return am_file_pathop(tr, AM_FOP_SYMLINK, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r), AM_AT_FDCWD,
			      (void *)AM_SYSARG1(r), 0);
}

AM_PATHOP(symlinkat)
{
	return am_file_pathop(tr, AM_FOP_SYMLINK, ret, AM_AT_FDCWD, (void *)AM_SYSARG0(r),
			      (int)AM_SYSARG1(r), (void *)AM_SYSARG2(r), 0);
}

#endif
