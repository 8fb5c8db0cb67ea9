#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "execpol.h"
#include "agentmon.skel.h"
#include "log.h"

#include "glob.h"

#define WALK_MAX_ENTRIES 100000  /* per pattern: expansion must stay quick */

uint64_t am_fnv1a64(const char *s, size_t n)
{
	uint64_t h = AM_FNV_OFFSET;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * AM_FNV_PRIME;
	return h;
}

struct ctx {
	int fd;
	uint32_t agent;
	uint8_t val;
	const char *pattern;
	unsigned added, walked;
	int err;
};

static struct ctx *walk_ctx;   /* nftw has no user argument */

static void put(struct ctx *c, const char *path)
{
	struct am_execpol_key k = { .agent_id = c->agent, .hash = am_fnv1a64(path, strlen(path)) };
	char real[PATH_MAX];

	if (bpf_map_update_elem(c->fd, &k, &c->val, BPF_ANY)) {
		c->err = -errno;
		return;
	}
	c->added++;
	/* the kernel reports the resolved file: add where a symlink leads too */
	if (realpath(path, real) && strcmp(real, path) != 0) {
		k.hash = am_fnv1a64(real, strlen(real));
		if (bpf_map_update_elem(c->fd, &k, &c->val, BPF_ANY))
			c->err = -errno;
	}
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct ctx *c = walk_ctx;
	if (++c->walked > WALK_MAX_ENTRIES || c->err)
		return 1;
	if ((type == FTW_F || type == FTW_SL) && am_glob_match(c->pattern, path))
		put(c, path);
	return 0;
}

static void expand(struct ctx *c, const char *pattern)
{
	char dir[PATH_MAX];
	const char *star = strchr(pattern, '*');

	c->pattern = pattern;
	if (!star) {
		put(c, pattern);
		return;
	}
	/* walk from the last '/' before the first wildcard */
	size_t n = (size_t)(star - pattern);
	while (n > 0 && pattern[n - 1] != '/')
		n--;
	if (n == 0 || n >= sizeof(dir))
		return;             /* "**" at the start: not expandable, detection only */
	memcpy(dir, pattern, n);
	dir[n > 1 ? n - 1 : 1] = 0;
	c->walked = 0;
	walk_ctx = c;
	nftw(dir, visit, 16, FTW_PHYS);
	walk_ctx = NULL;
}

int am_execpol_install(struct am_bpf *b, uint32_t agent_id, const struct am_profile *p,
		       int audit, struct am_execpol_stats *st)
{
	static const struct { enum am_list l; enum am_verdict v; } lists[] = {
		/* deny last: its kill overwrites a broader allow of the same file */
		{ AM_L_EXEC_ALLOW, AM_ALLOW }, { AM_L_EXEC_REVIEW, AM_DRIFT }, { AM_L_EXEC_DENY, AM_CRITICAL },
	};
	struct ctx c = { .fd = bpf_map__fd(b->skel->maps.am_execpol), .agent = agent_id };
	struct am_agent a;
	unsigned depth;
	int err;

	memset(st, 0, sizeof(*st));
	if (audit)
		return 0;
	/* Allow entries only matter when an unlisted exec is killed. */
	int defkill = am_profile_action(p, AM_VIOLATION) == AM_ACT_KILL;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		enum am_action act = lists[i].v == AM_ALLOW ? AM_ACT_NONE : am_profile_action(p, lists[i].v);
		c.val = act == AM_ACT_KILL ? AM_EXECPOL_KILL : AM_EXECPOL_ALLOW;
		if (c.val == AM_EXECPOL_ALLOW && !defkill)
			continue;
		for (size_t j = 0; j < am_profile_list_len(p, lists[i].l); j++) {
			unsigned before = c.added;
			expand(&c, am_profile_list_item(p, lists[i].l, j));
			if (c.added == before)
				st->unexpanded++;
			if (c.val == AM_EXECPOL_KILL)
				st->kill_entries += c.added - before;
			else
				st->allow_entries += c.added - before;
		}
	}
	if (c.err == -E2BIG) {
		/* The kernel map is full: keep what fits, but never kill an allowed
		 * program because its entry is missing. Userspace still judges every
		 * exec and kills after the fact. */
		am_warn("exec policy: kernel map full after %u entries; %s", c.added,
			defkill ? "unlisted execs are killed by userspace, not synchronously"
				: "some denied execs are killed by userspace, not synchronously");
		defkill = 0;
		st->truncated = 1;
	} else if (c.err) {
		return c.err;
	}
	if (defkill)
		st->flags |= AM_AGF_EXEC_POLICY | AM_AGF_EXEC_DEFKILL;
	if (st->kill_entries)
		st->flags |= AM_AGF_EXEC_POLICY;
	err = am_bpf_agent_read(b, agent_id, &a);
	if (err)
		return err;
	if (am_profile_max_depth(p, &depth) && am_profile_action(p, AM_CRITICAL) == AM_ACT_KILL) {
		st->flags |= AM_AGF_DEPTH_KILL;
		a.max_depth = depth;
	}
	a.flags = st->flags;
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_agents), &agent_id, &a, BPF_EXIST))
		return -errno;
	return 0;
}
