#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proctable.h"

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however many processes come and go. */

static uint32_t hash(uint32_t pid)
{
	return pid * 2654435761u;
}

int am_proctable_init(struct am_proctable *t, uint32_t cap)
{
	uint32_t c = 64;
	while (c < cap * 2)
		c <<= 1;
	t->slots = calloc(c, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = c;
	t->used = 0;
	return 0;
}

void am_proctable_free(struct am_proctable *t)
{
	for (uint32_t i = 0; t->slots && i < t->cap; i++)
		free(t->slots[i].exe);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}

struct am_proc *am_proc_get(struct am_proctable *t, uint32_t pid)
{
	uint32_t m = t->cap - 1;
	for (uint32_t i = hash(pid) & m;; i = (i + 1) & m) {
		if (t->slots[i].pid == pid)
			return &t->slots[i];
		if (t->slots[i].pid == 0)
			return NULL;
	}
}

static int grow(struct am_proctable *t)
{
	struct am_proctable n;
	if (am_proctable_init(&n, t->cap) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cap; i++) {
		struct am_proc *s = &t->slots[i];
		if (!s->pid)
			continue;
		uint32_t m = n.cap - 1, j = hash(s->pid) & m;
		while (n.slots[j].pid)
			j = (j + 1) & m;
		n.slots[j] = *s;
		n.used++;
	}
	free(t->slots);
	*t = n;
	return 0;
}

struct am_proc *am_proc_put(struct am_proctable *t, uint32_t pid, uint32_t ppid,
			    uint32_t agent_id, uint32_t depth)
{
	struct am_proc *p = am_proc_get(t, pid);

	if (!p) {
		if ((t->used + 1) * 2 > t->cap && grow(t) < 0)
			return NULL;
		uint32_t m = t->cap - 1, i = hash(pid) & m;
		while (t->slots[i].pid)
			i = (i + 1) & m;
		p = &t->slots[i];
		p->pid = pid;
		p->exe = NULL;
		p->nchild = 0;
		t->used++;
	}
	p->ppid = ppid;
	p->agent_id = agent_id;
	p->depth = depth;
	p->exited = 0;
	return p;
}

struct am_proc *am_proc_fork(struct am_proctable *t, uint32_t child, uint32_t ppid,
			     uint32_t agent_id, uint32_t depth)
{
	struct am_proc *old = am_proc_get(t, child);
	if (old && old->exited) {
		/* a reused pid: the new process owes nothing to the old one's parent */
		struct am_proc *op = am_proc_get(t, old->ppid);
		if (op && op->nchild)
			op->nchild--;
	}
	struct am_proc *c = am_proc_put(t, child, ppid, agent_id, depth);
	if (!c)
		return NULL;
	struct am_proc *p = am_proc_get(t, ppid);   /* after put: it may have moved */
	if (p && p != c)
		p->nchild++;
	return am_proc_get(t, child);
}

void am_proc_exit(struct am_proctable *t, uint32_t pid)
{
	/* bounded: a chain cannot be longer than the table */
	for (uint32_t guard = 0; guard <= t->cap; guard++) {
		struct am_proc *p = am_proc_get(t, pid);
		if (!p)
			return;
		if (p->nchild) {
			p->exited = 1;
			return;
		}
		uint32_t ppid = p->ppid;
		am_proc_del(t, pid);
		struct am_proc *pp = am_proc_get(t, ppid);
		if (!pp || pp->pid == pid)
			return;
		if (pp->nchild)
			pp->nchild--;
		if (!pp->exited || pp->nchild)
			return;
		pid = ppid;   /* an exited parent whose last child is gone */
	}
}

int am_proc_set_exe(struct am_proc *p, const char *exe)
{
	char *d = strdup(exe);
	if (!d)
		return -ENOMEM;
	free(p->exe);
	p->exe = d;
	return 0;
}

void am_proc_del(struct am_proctable *t, uint32_t pid)
{
	struct am_proc *p = am_proc_get(t, pid);
	uint32_t m = t->cap - 1, i, j;

	if (!p)
		return;
	free(p->exe);
	i = (uint32_t)(p - t->slots);
	t->slots[i].pid = 0;
	t->slots[i].exe = NULL;
	t->used--;
	/* shift back following entries that would be unreachable across the hole */
	for (j = (i + 1) & m; t->slots[j].pid; j = (j + 1) & m) {
		uint32_t h = hash(t->slots[j].pid) & m;
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j].pid = 0;
			t->slots[j].exe = NULL;
			i = j;
		}
	}
}
