#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agentmon.skel.h"
#include "match.h"
#include "execpol.h"
#include "log.h"

int am_cgroup_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	if (strncmp(path, prefix, n) != 0)
		return 0;
	return path[n] == 0 || path[n] == '/';
}

uint32_t am_kdev(dev_t d)
{
	return (uint32_t)((major(d) << 20) | minor(d));
}

static int cgroup_dir(const char *cgroot, const char *rel, char *out, size_t sz)
{
	int n = snprintf(out, sz, "%s%s", cgroot, strcmp(rel, "/") ? rel : "");
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

uint64_t am_match_signature(const char *cgroot, const struct am_match_rule *r, size_t n)
{
	uint64_t h = AM_FNV_OFFSET;
	char dir[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		uint64_t v[3] = { i, 0, 0 };
		if (r[i].exe && stat(r[i].exe, &st) == 0) {
			v[1] = st.st_ino;
			v[2] = st.st_dev;
		}
		if (r[i].cgroup && cgroup_dir(cgroot, r[i].cgroup, dir, sizeof(dir)) == 0 &&
		    stat(dir, &st) == 0)
			v[2] ^= st.st_ino << 1;
		h = (h ^ am_fnv1a64((const char *)v, sizeof(v))) * AM_FNV_PRIME;
	}
	return h;
}

struct slot {
	struct am_match_key key;
	struct am_match_val val;
};

static struct slot *slot_for(struct slot *s, size_t *ns, const struct am_match_key *k)
{
	for (size_t i = 0; i < *ns; i++)
		if (!memcmp(&s[i].key, k, sizeof(*k)))
			return &s[i];
	memset(&s[*ns], 0, sizeof(s[*ns]));
	s[*ns].key = *k;
	return &s[(*ns)++];
}

int am_match_install(struct am_bpf *b, const char *cgroot, const struct am_match_rule *r,
		     size_t n, struct am_match_stats *st)
{
	struct agentmon_bpf *s = b->skel;
	int mfd = bpf_map__fd(s->maps.am_match), cgfd = bpf_map__fd(s->maps.am_match_cg);
	struct slot *slots = calloc(n + 1, sizeof(*slots));
	const char *cgs[AM_MATCH_CGROUPS];
	size_t nslots = 0, ncg = 0;
	int wild = 0, err = 0;

	memset(st, 0, sizeof(*st));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct am_match_key k = {};
		struct am_match_cand c = { .agent_id = r[i].agent_id, .uid = AM_MATCH_ANY,
					   .cg_idx = AM_MATCH_ANY };
		struct stat sb;

		if (r[i].exe) {
			if (stat(r[i].exe, &sb) != 0) {
				st->pending++;   /* found by the periodic check once it exists */
				continue;
			}
			k.ino = sb.st_ino;
			k.dev = am_kdev(sb.st_dev);
		}
		if (r[i].uid >= 0)
			c.uid = (uint32_t)r[i].uid;
		if (r[i].cgroup && strcmp(r[i].cgroup, "/") != 0) {
			size_t j;
			for (j = 0; j < ncg; j++)
				if (!strcmp(cgs[j], r[i].cgroup))
					break;
			if (j == ncg) {
				char dir[PATH_MAX];
				int fd = -1;
				uint32_t idx = (uint32_t)ncg;
				if (ncg < AM_MATCH_CGROUPS && cgroup_dir(cgroot, r[i].cgroup, dir, sizeof(dir)) == 0)
					fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0 || bpf_map_update_elem(cgfd, &idx, &fd, BPF_ANY)) {
					if (fd >= 0)
						close(fd);
					st->pending++;   /* the cgroup does not exist yet */
					continue;
				}
				close(fd);
				cgs[ncg++] = r[i].cgroup;
			}
			c.cg_idx = (uint32_t)j;
		}
		struct slot *sl = slot_for(slots, &nslots, &k);
		if (sl->val.n >= AM_MATCH_CANDS) {
			am_warn("match: more than %d profiles match %s: agent %u is not matched at exec",
				AM_MATCH_CANDS, r[i].exe ? r[i].exe : "any executable", r[i].agent_id);
			st->pending++;
			continue;
		}
		sl->val.c[sl->val.n++] = c;
		if (!k.ino)
			wild = 1;
		st->rules++;
	}
	/* add and update first ... */
	for (size_t i = 0; i < nslots && !err; i++)
		if (bpf_map_update_elem(mfd, &slots[i].key, &slots[i].val, BPF_ANY))
			err = -errno;
	/* ... then remove what is no longer wanted */
	struct am_match_key k, next, *prev = NULL;
	struct am_match_key stale[64];
	size_t nstale = 0;
	while (!err && bpf_map_get_next_key(mfd, prev, &next) == 0) {
		int keep = 0;
		for (size_t i = 0; i < nslots; i++)
			if (!memcmp(&slots[i].key, &next, sizeof(next)))
				keep = 1;
		if (!keep && nstale < sizeof(stale) / sizeof(stale[0]))
			stale[nstale++] = next;
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < nstale; i++)
		bpf_map_delete_elem(mfd, &stale[i]);
	for (uint32_t idx = (uint32_t)ncg; idx < AM_MATCH_CGROUPS; idx++)
		bpf_map_delete_elem(cgfd, &idx);
	s->bss->am_match_wild = wild;
	s->bss->am_match_on = nslots > 0;
	st->sig = am_match_signature(cgroot, r, n);
	free(slots);
	return err;
}

static char *read_small(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t r = read(fd, buf, sz - 1);
	close(fd);
	if (r < 0)
		return NULL;
	buf[r] = 0;
	return buf;
}

static int scan_one(uint32_t pid, struct am_pinfo *p)
{
	char path[64], buf[4096], link[PATH_MAX];
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (!read_small(path, buf, sizeof(buf)))
		return -ESRCH;
	char *e = strrchr(buf, ')');   /* comm may hold spaces and ')' */
	char state;
	unsigned ppid;
	if (!e || sscanf(e + 1, " %c %u", &state, &ppid) != 2)
		return -EINVAL;
	p->ppid = ppid;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (!read_small(path, buf, sizeof(buf)))
		return -ESRCH;
	char *u = strstr(buf, "\nUid:");
	if (!u || sscanf(u + 5, "%u", &p->uid) != 1)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st) == 0) {
		p->has_exe = 1;
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			p->exe = strdup(link);
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (read_small(path, buf, sizeof(buf))) {
		char *l = buf;
		while (l && *l) {
			char *nl = strchr(l, '\n');
			if (nl)
				*nl = 0;
			if (!strncmp(l, "0::", 3)) {
				p->cgroup = strdup(l + 3);
				break;
			}
			l = nl ? nl + 1 : NULL;
		}
	}
	return 0;
}

int am_procscan(struct am_pinfo **out, size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 256, cnt = 0;
	struct am_pinfo *v = malloc(cap * sizeof(*v));

	if (!d || !v) {
		int err = d ? -ENOMEM : -errno;
		if (d)
			closedir(d);
		free(v);
		return err;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		if (cnt == cap) {
			struct am_pinfo *nv = realloc(v, 2 * cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		if (scan_one(pid, &v[cnt]) == 0 && v[cnt].has_exe)
			cnt++;
		else
			free(v[cnt].exe), free(v[cnt].cgroup);
	}
	closedir(d);
	*out = v;
	*n = cnt;
	return 0;
}

void am_procscan_free(struct am_pinfo *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].exe);
		free(p[i].cgroup);
	}
	free(p);
}

int am_match_proc(const struct am_match_rule *r, const struct am_pinfo *p)
{
	struct stat st;

	if (r->uid >= 0 && (int64_t)p->uid != r->uid)
		return 0;
	if (r->cgroup && (!p->cgroup || !am_cgroup_under(p->cgroup, r->cgroup)))
		return 0;
	if (r->exe) {
		if (!p->has_exe || stat(r->exe, &st) != 0)
			return 0;
		if (st.st_dev != p->dev || st.st_ino != p->ino)
			return 0;
	}
	return 1;
}
