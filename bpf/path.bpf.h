/* Absolute path of a `struct path` as the kernel resolved it, rebuilt in BPF.
 *
 * bpf_d_path() is refused in tracepoints (KERNEL.md), so we walk dentries the
 * way d_path() does: name by name up to the mount's root, then hop from the
 * mount's root to its mountpoint in the parent mount, until the global root.
 * A plain bounded loop of this depth exceeds the verifier's budget, so each
 * step is a bpf_loop() callback.
 *
 * The path is written backwards from the end of a per-CPU buffer. Buffer
 * arithmetic (for the verifier): the write position `off` stays in
 * [0, AM_PATH_MAX); a component is at most 255 bytes (NAME_MAX) plus its '/',
 * so every access lies within buf[0, AM_PATH_MAX + 256) and the buffer is
 * 2 * AM_PATH_MAX.
 */
#ifndef AGENTMON_PATH_BPF_H
#define AGENTMON_PATH_BPF_H

#define AM_NAME_MAX 255

struct am_pathbuf {
	char b[2 * AM_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct am_pathbuf);
} am_pathbuf SEC(".maps");

struct am_walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct am_pathbuf *buf;
	__s32 off;     /* first used byte of the path in buf */
	__u32 flags;   /* AM_EVF_PATH_* */
};

static long am_walk_step(__u32 i, void *ctx)
{
	struct am_walk *w = ctx;
	/* Copy our own struct's fields to locals first: inside BPF_CORE_READ()
	 * they would get CO-RE relocations against a type the kernel lacks. */
	struct dentry *d = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);

	if (d == mnt_root) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt)
			return 1;          /* root of the root mount: done */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (d == parent)
		return 1;                  /* root of a detached or pseudo filesystem */

	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	if (len > AM_NAME_MAX)
		len = AM_NAME_MAX;
	__s32 off = w->off - (__s32)len - 1;
	if (off < 0) {
		w->flags |= AM_EVF_PATH_TRUNC;
		return 1;
	}
	struct am_pathbuf *buf = w->buf;
	if (!buf)
		return 1;
	buf->b[off & (AM_PATH_MAX - 1)] = '/';
	if (bpf_probe_read_kernel(&buf->b[(off + 1) & (AM_PATH_MAX - 1)], len & AM_NAME_MAX, name))
		w->flags |= AM_EVF_PATH_ERR;
	w->off = off;
	w->dentry = parent;
	return 0;
}

/* Write the absolute path of `p` into `out` (AM_PATH_MAX bytes, NUL-terminated).
 * Returns its length without the NUL; adds AM_EVF_PATH_* to *flags. */
static __always_inline __u32 am_path_of(const struct path *p, char *out, __u32 *flags)
{
	__u32 zero = 0;
	struct am_walk w = {};

	w.buf = bpf_map_lookup_elem(&am_pathbuf, &zero);
	if (!w.buf) {
		*flags |= AM_EVF_PATH_ERR;
		out[0] = 0;
		return 0;
	}
	w.dentry = BPF_CORE_READ(p, dentry);
	w.mnt = container_of(BPF_CORE_READ(p, mnt), struct mount, mnt);
	w.off = AM_PATH_MAX - 1;
	w.buf->b[AM_PATH_MAX - 1] = 0;

	long n = bpf_loop(AM_PATH_DEPTH, am_walk_step, &w, 0);
	if (n >= AM_PATH_DEPTH)
		w.flags |= AM_EVF_PATH_TRUNC;
	if (w.off == AM_PATH_MAX - 1) {
		/* nothing above: the root itself */
		w.off = AM_PATH_MAX - 2;
		w.buf->b[AM_PATH_MAX - 2] = '/';
	}
	/* off in [0, AM_PATH_MAX): the copy (path + NUL) is 1..AM_PATH_MAX bytes */
	__u64 off = (__u64)w.off & (AM_PATH_MAX - 1);
	__u64 sz = AM_PATH_MAX - off;
	bpf_probe_read_kernel(out, sz, &w.buf->b[off]);
	__u32 len = sz - 1;
	if (w.flags & AM_EVF_PATH_TRUNC)
		am_stat_inc(AM_STAT_PATH_TRUNC);
	if (w.flags & AM_EVF_PATH_ERR)
		am_stat_inc(AM_STAT_READ_ERR);
	*flags |= w.flags;
	return len;
}

#endif
