/* Network policy for the kernel: profile rules → merged LPM-trie entries,
 * and attaching the cgroup sock_addr programs to an agent's cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "netpol.h"
#include "agentmon.skel.h"
#include "log.h"

#define NETPOL_MAX_ENTRIES 16384   /* am_netpol's max_entries */

/* One rule of one family: tag, address bits, port (or AM_NET_ANY_PORT). */
struct flat {
	uint8_t fam;
	uint8_t bits;
	uint8_t addr[16];
	int32_t port;
};

static void mask(uint8_t a[16], unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a[i] &= (uint8_t)(0xff00u >> bits);
		bits = 0;
	}
}

/* Expand rules into per-family prefixes; returns how many were written. */
static size_t flatten(const struct am_netrule *r, size_t n, struct flat *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct flat f = { .port = r[i].port };
		if (r[i].family == 0) {
			f.fam = AM_NETPOL_FAM_V4;       /* any address: both families */
			out[k++] = f;
			f.fam = AM_NETPOL_FAM_V6;
			out[k++] = f;
			continue;
		}
		f.fam = r[i].family == AF_INET ? AM_NETPOL_FAM_V4 : AM_NETPOL_FAM_V6;
		f.bits = r[i].prefix;
		memcpy(f.addr, r[i].addr, f.fam == AM_NETPOL_FAM_V4 ? 4 : 16);
		mask(f.addr, f.bits);
		out[k++] = f;
	}
	return k;
}

/* Does prefix `c` cover prefix `t` (same family, shorter or equal, same bits)? */
static bool covers(const struct flat *c, const struct flat *t)
{
	uint8_t a[16];
	if (c->fam != t->fam || c->bits > t->bits)
		return false;
	memcpy(a, t->addr, 16);
	mask(a, c->bits);
	return memcmp(a, c->addr, 16) == 0;
}

static void add_port(struct am_netpol_val *v, int deny, int32_t port)
{
	uint16_t *ports = deny ? v->deny : v->allow;
	uint16_t *n = deny ? &v->ndeny : &v->nallow;
	unsigned max = deny ? AM_NETPOL_DENY_PORTS : AM_NETPOL_PORTS;

	if (port == AM_NET_ANY_PORT) {
		v->flags |= deny ? AM_NETPOL_DENY_ANY : AM_NETPOL_ALLOW_ANY;
		return;
	}
	for (unsigned i = 0; i < *n; i++)
		if (ports[i] == (uint16_t)port)
			return;
	if (*n >= max) {
		v->flags |= AM_NETPOL_OVERFLOW;
		return;
	}
	ports[(*n)++] = (uint16_t)port;
}

int am_netpol_build(uint32_t agent_id, const struct am_netrule *allow, size_t nallow,
		    const struct am_netrule *deny, size_t ndeny, struct am_netpol_entry *out,
		    size_t max)
{
	struct flat *fa = calloc(2 * nallow + 1, sizeof(*fa));
	struct flat *fd = calloc(2 * ndeny + 1, sizeof(*fd));
	size_t na, nd, n = 0;
	int ret = -ENOMEM;

	if (!fa || !fd)
		goto out;
	na = flatten(allow, nallow, fa);
	nd = flatten(deny, ndeny, fd);
	ret = 0;
	for (size_t i = 0; i < na + nd; i++) {
		const struct flat *t = i < na ? &fa[i] : &fd[i - na];
		struct am_netpol_key key = {
			.prefixlen = AM_NETPOL_FIXED_BITS + t->bits,
			.agent_id = agent_id,
			.fam = t->fam,
		};
		memcpy(key.addr, t->addr, 16);
		size_t j;
		for (j = 0; j < n; j++)
			if (!memcmp(&out[j].key, &key, sizeof(key)))
				break;
		if (j < n)
			continue;       /* this prefix is done already */
		if (n >= max) {
			ret = -ENOSPC;
			goto out;
		}
		struct am_netpol_entry *e = &out[n++];
		memset(e, 0, sizeof(*e));
		e->key = key;
		for (size_t k = 0; k < na; k++)
			if (covers(&fa[k], t))
				add_port(&e->val, 0, fa[k].port);
		for (size_t k = 0; k < nd; k++)
			if (covers(&fd[k], t))
				add_port(&e->val, 1, fd[k].port);
	}
	ret = (int)n;
out:
	free(fa);
	free(fd);
	return ret;
}

static bool refuses(enum am_action a)
{
	return a == AM_ACT_STOP || a == AM_ACT_FREEZE || a == AM_ACT_KILL;
}

uint32_t am_netpol_flags(const struct am_profile *p, int audit)
{
	uint32_t f = 0;
	if (audit)
		return 0;
	if (refuses(am_profile_action(p, AM_VIOLATION)))
		f |= AM_AGF_NET_VIOLATION;
	if (refuses(am_profile_action(p, AM_CRITICAL)))
		f |= AM_AGF_NET_CRITICAL;
	return f;
}

static int parse_list(const struct am_profile *p, enum am_list l, struct am_netrule **out,
		      size_t *n)
{
	*n = am_profile_list_len(p, l);
	*out = calloc(*n + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		const char *why;
		if (am_netrule_parse(am_profile_list_item(p, l, i), &(*out)[i], &why))
			return -EINVAL;     /* the profile was validated: cannot happen */
	}
	return 0;
}

int am_netpol_install(struct am_bpf *b, uint32_t agent_id, const struct am_profile *p, int audit,
		      const char *cgpath, uint64_t cgroup_id, struct am_netpol_stats *st)
{
	struct am_netrule *allow = NULL, *deny = NULL;
	struct am_netpol_entry *ents = NULL;
	size_t nallow, ndeny;
	struct am_agent a;
	int err, n;

	memset(st, 0, sizeof(*st));
	st->flags = am_netpol_flags(p, audit);
	if (!st->flags)
		return 0;
	err = parse_list(p, AM_L_NET_CONNECT, &allow, &nallow);
	if (!err)
		err = parse_list(p, AM_L_NET_DENY, &deny, &ndeny);
	if (err)
		goto out;
	ents = calloc(2 * (nallow + ndeny) + 1, sizeof(*ents));
	if (!ents) {
		err = -ENOMEM;
		goto out;
	}
	n = am_netpol_build(agent_id, allow, nallow, deny, ndeny, ents, 2 * (nallow + ndeny) + 1);
	if (n < 0) {
		err = n;
		goto out;
	}
	int mfd = bpf_map__fd(b->skel->maps.am_netpol);
	for (int i = 0; i < n; i++) {
		if (bpf_map_update_elem(mfd, &ents[i].key, &ents[i].val, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	st->entries = (unsigned)n;
	if (cgroup_id &&
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_netcg), &cgroup_id, &agent_id, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	/* Flags before attaching: the programs must never see half a policy.
	 * The exec bits set by am_execpol_install() stay as they are. */
	err = am_bpf_agent_read(b, agent_id, &a);
	if (err)
		goto out;
	a.flags |= st->flags;
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_agents), &agent_id, &a, BPF_EXIST)) {
		err = -errno;
		goto out;
	}

	if (cgpath)
		err = am_netpol_attach(b, cgpath, &st->attached);
	else
		err = 0;
out:
	free(ents);
	free(allow);
	free(deny);
	return err;
}

int am_netpol_attach(struct am_bpf *b, const char *cgpath, int *attached)
{
	struct { struct bpf_program *prog; struct bpf_link **link; } progs[] = {
		{ b->skel->progs.connect4, &b->skel->links.connect4 },
		{ b->skel->progs.connect6, &b->skel->links.connect6 },
		{ b->skel->progs.sendmsg4, &b->skel->links.sendmsg4 },
		{ b->skel->progs.sendmsg6, &b->skel->links.sendmsg6 },
	};
	int cgfd, err = 0;

	cgfd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (*progs[i].link) {
			(*attached)++;   /* attached once per object is enough */
			continue;
		}
		struct bpf_link *l = bpf_program__attach_cgroup(progs[i].prog, cgfd);
		if (!l) {
			err = -errno;
			am_err("bpf: attach %s to %s: %s", bpf_program__name(progs[i].prog), cgpath,
			       strerror(-err));
			break;
		}
		*progs[i].link = l;     /* destroyed with the skeleton */
		(*attached)++;
	}
	close(cgfd);
	return err;
}
