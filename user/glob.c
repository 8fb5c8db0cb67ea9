#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "glob.h"

#define NONE UINT32_MAX

int am_glob_check(const char *pat, const char **why)
{
	size_t len = strlen(pat);

	*why = NULL;
	if (!len) {
		*why = "empty pattern";
		return -EINVAL;
	}
	if (len > AM_RULE_PATH_MAX) {
		*why = "pattern longer than 4095 bytes";
		return -EINVAL;
	}
	if (pat[0] != '/' && strcmp(pat, "**") && strncmp(pat, "**/", 3)) {
		*why = "pattern must be an absolute path (start with '/' or '**/')";
		return -EINVAL;
	}
	if (!strcmp(pat, "/"))
		return 0;
	if (pat[len - 1] == '/') {
		*why = "trailing '/' never matches a resolved path (write /dir or /dir/**)";
		return -EINVAL;
	}
	const char *s = pat[0] == '/' ? pat + 1 : pat;
	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (!n) {
			*why = "empty path segment ('//') never matches a resolved path";
			return -EINVAL;
		}
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
			*why = "'.' and '..' segments never match a resolved path";
			return -EINVAL;
		}
		if (memmem(s, n, "**", 2) && n != 2) {
			*why = "'**' must be a whole path segment (use '*' within a segment)";
			return -EINVAL;
		}
		s = *e ? e + 1 : e;
	}
	return 0;
}

/* '*' within one segment: iterative with one backtrack point, so it is
 * O(p * s) at worst and linear in the usual case. */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

struct seg { const char *s; size_t n; };

/* Split after the leading '/'; "/" gives no segments. A leading "**"
 * pattern segment is just the first segment. Returns count or -1 if more
 * than max. */
static int split(const char *p, struct seg *v, int max)
{
	int n = 0;
	if (*p == '/')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		const char *e = strchrnul(p, '/');
		if (n == max)
			return -1;
		v[n].s = p;
		v[n++].n = (size_t)(e - p);
		if (!*e)
			return n;
		p = e + 1;
	}
}

static bool is_dstar(const struct seg *g)
{
	return g->n == 2 && g->s[0] == '*' && g->s[1] == '*';
}

#define MAX_SEGS (AM_RULE_PATH_MAX / 2 + 2)

bool am_glob_match(const char *pattern, const char *path)
{
	const char *why;
	struct seg ps[MAX_SEGS], ss[MAX_SEGS];
	bool row[MAX_SEGS + 1], next[MAX_SEGS + 1];

	if (am_glob_check(pattern, &why) || path[0] != '/' || strlen(path) > AM_RULE_PATH_MAX)
		return false;
	int np = split(pattern, ps, MAX_SEGS), ns = split(path, ss, MAX_SEGS);
	if (np < 0 || ns < 0)
		return false;
	/* row[j]: pattern segments [0, i) match path segments [0, j). */
	memset(row, 0, sizeof(row[0]) * (size_t)(ns + 1));
	row[0] = true;
	for (int i = 0; i < np; i++) {
		bool any = false;
		if (is_dstar(&ps[i])) {
			/* zero or more segments: next[j] = row[k] for some k <= j */
			bool seen = false;
			for (int j = 0; j <= ns; j++) {
				seen = seen || row[j];
				next[j] = seen;
				any |= seen;
			}
		} else {
			next[0] = false;
			for (int j = 1; j <= ns; j++) {
				next[j] = row[j - 1] &&
					  seg_match(ps[i].s, ps[i].n, ss[j - 1].s, ss[j - 1].n);
				any |= next[j];
			}
		}
		if (!any)
			return false;
		memcpy(row, next, sizeof(row[0]) * (size_t)(ns + 1));
	}
	return row[ns];
}

/* ---- compiled set ---- */

struct edge {
	char *seg;
	uint32_t n;
	uint32_t child;
};

struct node {
	struct edge *lit;	/* sorted by (n, bytes) for binary search */
	struct edge *star;	/* segments containing '*' */
	uint32_t nlit, caplit, nstar, capstar;
	uint32_t dstar;		/* child through a "**" segment, or NONE */
	uint32_t term;		/* smallest id of a pattern ending here, or NONE */
	bool loops;		/* reached through "**": consumes any segment */
};

struct pat {
	char *s;
	uint32_t id;
};

struct am_globset {
	struct node *nodes;
	uint32_t nnodes, capnodes;
	struct pat *pats;	/* kept for the fallback and for count() */
	size_t npats, cappats;
};

static int grow(void **v, uint32_t *cap, uint32_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	uint32_t c = *cap ? *cap * 2 : 4;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, (size_t)c * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

static int64_t new_node(struct am_globset *gs, bool loops)
{
	if (grow((void **)&gs->nodes, &gs->capnodes, gs->nnodes + 1, sizeof(struct node)))
		return -ENOMEM;
	struct node *n = &gs->nodes[gs->nnodes];
	memset(n, 0, sizeof(*n));
	n->dstar = NONE;
	n->term = NONE;
	n->loops = loops;
	return gs->nnodes++;
}

struct am_globset *am_globset_new(void)
{
	struct am_globset *gs = calloc(1, sizeof(*gs));
	if (gs && new_node(gs, false) < 0) {
		free(gs);
		return NULL;
	}
	return gs;
}

void am_globset_free(struct am_globset *gs)
{
	if (!gs)
		return;
	for (uint32_t i = 0; i < gs->nnodes; i++) {
		struct node *n = &gs->nodes[i];
		for (uint32_t j = 0; j < n->nlit; j++)
			free(n->lit[j].seg);
		for (uint32_t j = 0; j < n->nstar; j++)
			free(n->star[j].seg);
		free(n->lit);
		free(n->star);
	}
	for (size_t i = 0; i < gs->npats; i++)
		free(gs->pats[i].s);
	free(gs->nodes);
	free(gs->pats);
	free(gs);
}

size_t am_globset_count(const struct am_globset *gs)
{
	return gs->npats;
}

static int edge_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

/* Binary search; returns the index of the match or where to insert (~pos). */
static int64_t lit_find(const struct node *n, const char *s, size_t len)
{
	uint32_t lo = 0, hi = n->nlit;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = edge_cmp(n->lit[mid].seg, n->lit[mid].n, s, len);
		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return ~(int64_t)lo;
}

/* Child of node `at` through segment g, created if missing. */
static int64_t child_for(struct am_globset *gs, uint32_t at, const struct seg *g)
{
	int64_t c;

	if (is_dstar(g)) {
		if (gs->nodes[at].dstar != NONE)
			return gs->nodes[at].dstar;
		if ((c = new_node(gs, true)) < 0)
			return c;
		gs->nodes[at].dstar = (uint32_t)c;
		return c;
	}
	bool star = memchr(g->s, '*', g->n) != NULL;
	struct node *n = &gs->nodes[at];
	int64_t pos = 0;
	if (star) {
		for (uint32_t j = 0; j < n->nstar; j++)
			if (!edge_cmp(n->star[j].seg, n->star[j].n, g->s, g->n))
				return n->star[j].child;
	} else {
		pos = lit_find(n, g->s, g->n);
		if (pos >= 0)
			return n->lit[pos].child;
		pos = ~pos;
	}
	char *copy = strndup(g->s, g->n);
	if (!copy || (c = new_node(gs, false)) < 0) {
		free(copy);
		return -ENOMEM;
	}
	n = &gs->nodes[at];	/* new_node may have moved the array */
	struct edge e = {.seg = copy, .n = (uint32_t)g->n, .child = (uint32_t)c};
	if (star) {
		if (grow((void **)&n->star, &n->capstar, n->nstar + 1, sizeof(e)))
			goto nomem;
		n->star[n->nstar++] = e;
	} else {
		if (grow((void **)&n->lit, &n->caplit, n->nlit + 1, sizeof(e)))
			goto nomem;
		memmove(&n->lit[pos + 1], &n->lit[pos], (n->nlit - (size_t)pos) * sizeof(e));
		n->lit[pos] = e;
		n->nlit++;
	}
	return c;
nomem:
	/* The orphan node stays allocated and unreachable; freed with the set. */
	free(copy);
	return -ENOMEM;
}

int am_globset_add(struct am_globset *gs, const char *pattern, uint32_t id)
{
	const char *why;
	struct seg *v;
	int n, err = 0;

	if (id == NONE || am_glob_check(pattern, &why))
		return -EINVAL;
	v = malloc(sizeof(*v) * MAX_SEGS);
	if (!v)
		return -ENOMEM;
	n = split(pattern, v, MAX_SEGS);
	uint32_t at = 0;
	for (int i = 0; i < n; i++) {
		int64_t c = child_for(gs, at, &v[i]);
		if (c < 0) {
			err = (int)c;
			goto out;
		}
		at = (uint32_t)c;
	}
	if (gs->npats == gs->cappats) {
		size_t cap = gs->cappats ? gs->cappats * 2 : 8;
		struct pat *np = realloc(gs->pats, cap * sizeof(*np));
		if (!np) {
			err = -ENOMEM;
			goto out;
		}
		gs->pats = np;
		gs->cappats = cap;
	}
	char *copy = strdup(pattern);
	if (!copy) {
		err = -ENOMEM;
		goto out;
	}
	gs->pats[gs->npats++] = (struct pat){copy, id};
	if (id < gs->nodes[at].term)
		gs->nodes[at].term = id;
out:
	free(v);
	return err;
}

/* State sets during a match: small and on the stack; a set that would not
 * fit (only with pathological pattern sets) falls back to the reference
 * matcher over every pattern, which is slow but allocation-free. */
#define MAX_STATES 256

static int add_state(uint32_t *set, int n, uint32_t s)
{
	for (int i = 0; i < n; i++)
		if (set[i] == s)
			return n;
	if (n == MAX_STATES)
		return -1;
	set[n] = s;
	return n + 1;
}

/* Add the "**" children (zero segments) of every state, transitively. */
static int closure(const struct am_globset *gs, uint32_t *set, int n)
{
	for (int i = 0; i < n && n >= 0; i++)
		if (gs->nodes[set[i]].dstar != NONE)
			n = add_state(set, n, gs->nodes[set[i]].dstar);
	return n;
}

static int64_t fallback(const struct am_globset *gs, const char *path)
{
	int64_t best = -1;
	for (size_t i = 0; i < gs->npats; i++)
		if ((best < 0 || gs->pats[i].id < (uint64_t)best) &&
		    am_glob_match(gs->pats[i].s, path))
			best = gs->pats[i].id;
	return best;
}

int64_t am_globset_match(const struct am_globset *gs, const char *path)
{
	uint32_t a[MAX_STATES], b[MAX_STATES], *cur = a, *nxt = b;
	int n = 1;

	if (path[0] != '/')
		return -1;
	cur[0] = 0;
	n = closure(gs, cur, n);
	const char *p = path + 1;
	bool last = !*p;	/* "/" has no segments */
	while (!last && n > 0) {
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		int m = 0;
		for (int i = 0; i < n && m >= 0; i++) {
			const struct node *nd = &gs->nodes[cur[i]];
			if (nd->loops)
				m = add_state(nxt, m, cur[i]);
			if (m >= 0 && nd->nlit) {
				int64_t k = lit_find(nd, p, len);
				if (k >= 0)
					m = add_state(nxt, m, nd->lit[k].child);
			}
			for (uint32_t j = 0; j < nd->nstar && m >= 0; j++)
				if (seg_match(nd->star[j].seg, nd->star[j].n, p, len))
					m = add_state(nxt, m, nd->star[j].child);
		}
		if (m >= 0)
			m = closure(gs, nxt, m);
		if (m < 0)
			return fallback(gs, path);
		uint32_t *t = cur;
		cur = nxt;
		nxt = t;
		n = m;
		last = !*e;
		p = e + 1;
	}
	if (n < 0)
		return fallback(gs, path);
	uint32_t best = NONE;
	for (int i = 0; i < n; i++)
		if (gs->nodes[cur[i]].term < best)
			best = gs->nodes[cur[i]].term;
	return best == NONE ? -1 : (int64_t)best;
}
