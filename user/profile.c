/* Profile loader: reads a profile and its fragments, validates every field
 * against the SPEC schema, reports each mistake with FILE:LINE:COL, merges
 * the fragments, computes the canonical digest and compiles the matchers.
 * Lint warnings for `agentmon check` live in lint() at the end. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile_impl.h"
#include "timefmt.h"

#define MAX_ERRORS 20
#define MAX_NESTING 32		/* the schema needs 4; anything deeper is junk */
#define MAX_JPATH 8		/* JSON path components we ever descend */

const char *const am_list_names[AM_L__COUNT] = {
	[AM_L_EXEC_ALLOW] = "exec.allow",	[AM_L_EXEC_REVIEW] = "exec.review",
	[AM_L_EXEC_DENY] = "exec.deny",		[AM_L_FILES_READ] = "files.read",
	[AM_L_FILES_WRITE] = "files.write",	[AM_L_FILES_DENY] = "files.deny",
	[AM_L_SECRETS] = "secrets",		[AM_L_NET_CONNECT] = "network.connect",
	[AM_L_NET_DENY] = "network.deny",	[AM_L_NET_LISTEN] = "network.listen",
};

struct src {
	char *path;		/* as opened: the profile path, or the resolved include */
	char *text;
	size_t len;
	dev_t dev;
	ino_t ino;
	json_t *root;
};

struct comp {
	const char *key;	/* NULL: array index */
	size_t idx;
};

struct ctx {
	unsigned flags;
	time_t now;
	am_report_fn report;
	void *arg;
	struct am_diag *diag;
	int nerr, nwarn;
	int first_err;		/* -errno of the first error */
	struct am_profile *p;
	struct src src[AM_PROFILE_MAX_INCLUDES + 1];
	int nsrc;
	int cur;		/* src being walked */
	bool fragment;
	struct comp path[MAX_JPATH];
	int depth;
	int stack[AM_PROFILE_MAX_INCLUDE_DEPTH + 1];	/* include chain (src ids) */
	int nstack;
	json_t *merged;
};

/* ---- locating a JSON path in the source text ---- */

struct scan {
	const char *s, *end;
	int line, col;
};

static int peek(struct scan *sc)
{
	return sc->s < sc->end ? (unsigned char)*sc->s : -1;
}

static void adv(struct scan *sc)
{
	unsigned char c = (unsigned char)*sc->s++;
	if (c == '\n') {
		sc->line++;
		sc->col = 0;
	} else if ((c & 0xc0) != 0x80) {	/* count characters, like jansson */
		sc->col++;
	}
}

static void skip_ws(struct scan *sc)
{
	while (peek(sc) == ' ' || peek(sc) == '\t' || peek(sc) == '\n' || peek(sc) == '\r')
		adv(sc);
}

static int hex4(const char *s, const char *end, unsigned *v)
{
	*v = 0;
	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
			     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
		if (d > 15)
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

/* Read a string token into buf (decoded, truncated to cap-1 with *trunc). */
static int scan_string(struct scan *sc, char *buf, size_t cap, bool *trunc)
{
	size_t n = 0;
	*trunc = false;
	if (peek(sc) != '"')
		return -1;
	adv(sc);
	for (;;) {
		int c = peek(sc);
		char tmp[4];
		size_t tn = 0;
		if (c < 0)
			return -1;
		adv(sc);
		if (c == '"')
			break;
		if (c == '\\') {
			int e = peek(sc);
			if (e < 0)
				return -1;
			adv(sc);
			switch (e) {
			case 'b': tmp[tn++] = '\b'; break;
			case 'f': tmp[tn++] = '\f'; break;
			case 'n': tmp[tn++] = '\n'; break;
			case 'r': tmp[tn++] = '\r'; break;
			case 't': tmp[tn++] = '\t'; break;
			case 'u': {
				unsigned u, lo;
				if (hex4(sc->s, sc->end, &u))
					return -1;
				for (int i = 0; i < 4; i++)
					adv(sc);
				if (u >= 0xd800 && u < 0xdc00 && sc->end - sc->s >= 6 &&
				    sc->s[0] == '\\' && sc->s[1] == 'u' &&
				    !hex4(sc->s + 2, sc->end, &lo) && lo >= 0xdc00 && lo < 0xe000) {
					for (int i = 0; i < 6; i++)
						adv(sc);
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (u < 0x80) {
					tmp[tn++] = (char)u;
				} else if (u < 0x800) {
					tmp[tn++] = (char)(0xc0 | (u >> 6));
					tmp[tn++] = (char)(0x80 | (u & 0x3f));
				} else if (u < 0x10000) {
					tmp[tn++] = (char)(0xe0 | (u >> 12));
					tmp[tn++] = (char)(0x80 | ((u >> 6) & 0x3f));
					tmp[tn++] = (char)(0x80 | (u & 0x3f));
				} else {
					tmp[tn++] = (char)(0xf0 | (u >> 18));
					tmp[tn++] = (char)(0x80 | ((u >> 12) & 0x3f));
					tmp[tn++] = (char)(0x80 | ((u >> 6) & 0x3f));
					tmp[tn++] = (char)(0x80 | (u & 0x3f));
				}
				break;
			}
			default: tmp[tn++] = (char)e; break;
			}
		} else {
			tmp[tn++] = (char)c;
		}
		for (size_t i = 0; i < tn; i++) {
			if (n + 1 < cap)
				buf[n++] = tmp[i];
			else
				*trunc = true;
		}
	}
	buf[n] = 0;
	return 0;
}

/* Skip one value; nesting tracked with a counter, not recursion. */
static int skip_value(struct scan *sc)
{
	int depth = 0;
	char dummy[1];
	bool t;
	do {
		skip_ws(sc);
		int c = peek(sc);
		if (c < 0)
			return -1;
		if (c == '"') {
			if (scan_string(sc, dummy, sizeof(dummy), &t))
				return -1;
		} else if (c == '{' || c == '[') {
			depth++;
			adv(sc);
		} else if (c == '}' || c == ']') {
			depth--;
			adv(sc);
		} else if (c == ',' || c == ':') {
			adv(sc);
		} else {
			/* a scalar: at least one byte, up to a delimiter (a NUL byte
			 * is not one: strchr would find the terminator) */
			do
				adv(sc);
			while (peek(sc) > 0 && !strchr(",]} \t\r\n", peek(sc)));
		}
	} while (depth > 0);
	return 0;
}

/* Find comps[0..n) in text; the line and column of the value (or its key). */
static int locate(const char *text, size_t len, const struct comp *comps, int n,
		  bool want_key, int *line, int *col)
{
	struct scan sc = {text, text + len, 1, 0};
	char key[256];
	bool trunc;

	for (int i = 0; i < n; i++) {
		skip_ws(&sc);
		if (comps[i].key) {
			if (peek(&sc) != '{')
				return -1;
			adv(&sc);
			for (;;) {
				skip_ws(&sc);
				if (peek(&sc) != '"')
					return -1;
				int kl = sc.line, kc = sc.col + 1;
				if (scan_string(&sc, key, sizeof(key), &trunc))
					return -1;
				skip_ws(&sc);
				if (peek(&sc) != ':')
					return -1;
				adv(&sc);
				if (!trunc && !strcmp(key, comps[i].key)) {
					if (i == n - 1 && want_key) {
						*line = kl;
						*col = kc;
						return 0;
					}
					break;
				}
				if (skip_value(&sc))
					return -1;
				skip_ws(&sc);
				if (peek(&sc) != ',')
					return -1;
				adv(&sc);
			}
		} else {
			if (peek(&sc) != '[')
				return -1;
			adv(&sc);
			for (size_t k = 0; k < comps[i].idx; k++) {
				if (skip_value(&sc))
					return -1;
				skip_ws(&sc);
				if (peek(&sc) != ',')
					return -1;
				adv(&sc);
			}
		}
	}
	skip_ws(&sc);
	if (peek(&sc) < 0)
		return -1;
	*line = sc.line;
	*col = sc.col + 1;
	return 0;
}

/* Nesting depth check before jansson recurses into the document. */
static int nesting_ok(const char *text, size_t len, int *line, int *col)
{
	struct scan sc = {text, text + len, 1, 0};
	int depth = 0;
	char dummy[1];
	bool t;
	while (peek(&sc) >= 0) {
		int c = peek(&sc);
		if (c == '"') {
			if (scan_string(&sc, dummy, sizeof(dummy), &t))
				return 0;	/* jansson reports the syntax error */
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > MAX_NESTING) {
				*line = sc.line;
				*col = sc.col + 1;
				return -1;
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
		adv(&sc);
	}
	return 0;
}

/* ---- diagnostics ---- */

static void jpath_str(const struct comp *c, int n, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < n && o < cap; i++) {
		int w = c[i].key ? snprintf(buf + o, cap - o, "%s%s", i ? "." : "", c[i].key)
				 : snprintf(buf + o, cap - o, "[%zu]", c[i].idx);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static void emit(struct ctx *c, int is_warning, const char *where, const char *what)
{
	if (!is_warning) {
		if (!c->nerr && c->diag)
			snprintf(c->diag->msg, sizeof(c->diag->msg), "%s: %s", where, what);
		if (!c->first_err)
			c->first_err = -EINVAL;
		if (++c->nerr > MAX_ERRORS)
			return;
		if (c->nerr == MAX_ERRORS && c->report) {
			c->report(c->arg, 0, where, what);
			c->report(c->arg, 0, c->src[0].path ? c->src[0].path : "?",
				  "too many errors, giving up");
			return;
		}
	} else {
		c->nwarn++;
	}
	if (c->report)
		c->report(c->arg, is_warning, where, what);
}

/* Message about the value at a JSON path in file src, or the file as a
 * whole when n is 0. */
static void vdiag(struct ctx *c, int is_warning, int src, const struct comp *comps, int n,
		  bool want_key, const char *fmt, va_list ap)
{
	char what[768], msg[1100], jp[256], where[PATH_MAX + 32];
	int line, col;
	const struct src *s = &c->src[src];

	vsnprintf(what, sizeof(what), fmt, ap);
	/* An error at a key (unknown field) names the object holding it. */
	jpath_str(comps, want_key ? n - 1 : n, jp, sizeof(jp));
	if (n && !locate(s->text, s->len, comps, n, want_key, &line, &col))
		snprintf(where, sizeof(where), "%s:%d:%d", s->path, line, col);
	else
		snprintf(where, sizeof(where), "%s", s->path);
	if (jp[0])
		snprintf(msg, sizeof(msg), "%s: %s", jp, what);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	emit(c, is_warning, where, msg);
}

/* Error about the current path, plus optional key/index component. */
__attribute__((format(printf, 4, 5)))
static void perr_at(struct ctx *c, const struct comp *extra, bool want_key, const char *fmt, ...)
{
	struct comp comps[MAX_JPATH + 1];
	int n = c->depth;
	va_list ap;
	memcpy(comps, c->path, sizeof(comps[0]) * (size_t)n);
	if (extra)
		comps[n++] = *extra;
	va_start(ap, fmt);
	vdiag(c, 0, c->cur, comps, n, want_key, fmt, ap);
	va_end(ap);
}

#define perr(c, ...) perr_at(c, NULL, false, __VA_ARGS__)

__attribute__((format(printf, 3, 4)))
static void ferr(struct ctx *c, int err, const char *fmt, ...)
{
	va_list ap;
	if (!c->first_err)
		c->first_err = err;
	va_start(ap, fmt);
	vdiag(c, 0, c->cur, NULL, 0, false, fmt, ap);
	va_end(ap);
}

static void push_key(struct ctx *c, const char *k)
{
	c->path[c->depth++] = (struct comp){k, 0};
}

static void push_idx(struct ctx *c, size_t i)
{
	c->path[c->depth++] = (struct comp){NULL, i};
}

static void pop(struct ctx *c)
{
	c->depth--;
}

/* ---- typo suggestions ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];
	if (la > 30 || lb > 30)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* Unknown key: one error at the key, with the closest known name. */
static void unknown_key(struct ctx *c, const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t bd = 3;
	for (const char *const *k = known; *k; k++) {
		size_t d = edit_distance(key, *k);
		if (d < bd) {
			bd = d;
			best = *k;
		}
	}
	struct comp e = {key, 0};
	if (best)
		perr_at(c, &e, true, "unknown field \"%s\" (did you mean \"%s\"?)", key, best);
	else
		perr_at(c, &e, true, "unknown field \"%s\"", key);
}

/* Check obj is an object whose keys are all in known; false if not an object. */
static bool check_object(struct ctx *c, json_t *obj, const char *const *known)
{
	const char *k;
	json_t *v;
	if (!json_is_object(obj)) {
		perr(c, "must be an object");
		return false;
	}
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (const char *const *n = known; *n && !ok; n++)
			ok = !strcmp(k, *n);
		if (!ok)
			unknown_key(c, k, known);
	}
	return true;
}

/* ---- field parsers ---- */

static char *dup_or_die(struct ctx *c, const char *s)
{
	char *d = strdup(s);
	if (!d)
		ferr(c, -ENOMEM, "out of memory");
	return d;
}

static const char *get_string(struct ctx *c, json_t *v, size_t maxlen)
{
	if (!json_is_string(v)) {
		perr(c, "must be a string");
		return NULL;
	}
	const char *s = json_string_value(v);
	if (!*s) {
		perr(c, "must not be empty");
		return NULL;
	}
	if (json_string_length(v) > maxlen) {
		perr(c, "longer than %zu bytes", maxlen);
		return NULL;
	}
	return s;
}

static bool get_int(struct ctx *c, json_t *v, long long lo, long long hi, long long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		perr(c, "must be an integer from %lld to %lld", lo, hi);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

static int list_push(struct ctx *c, enum am_list l, const char *item, size_t idx)
{
	struct rule_list *r = &c->p->lists[l];
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		char **it = realloc(r->items, cap * sizeof(*it));
		if (it)
			r->items = it;
		uint16_t *o = realloc(r->origin, cap * sizeof(*o));
		if (o)
			r->origin = o;
		uint32_t *x = realloc(r->index, cap * sizeof(*x));
		if (x)
			r->index = x;
		if (!it || !o || !x) {
			ferr(c, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
		r->cap = cap;
	}
	if (!(r->items[r->n] = dup_or_die(c, item)))
		return -ENOMEM;
	r->origin[r->n] = (uint16_t)c->cur;
	r->index[r->n] = (uint32_t)idx;
	r->n++;
	return 0;
}

/* A JSON array of at most AM_PROFILE_MAX_RULES entries. */
static bool check_array(struct ctx *c, json_t *v, const char *what)
{
	if (!json_is_array(v)) {
		perr(c, "must be an array of %s", what);
		return false;
	}
	if (json_array_size(v) > AM_PROFILE_MAX_RULES) {
		perr(c, "more than %d entries", AM_PROFILE_MAX_RULES);
		return false;
	}
	return true;
}

static void path_list(struct ctx *c, json_t *v, enum am_list l)
{
	size_t i;
	json_t *e;
	const char *why;
	if (!check_array(c, v, "path patterns"))
		return;
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		const char *s = get_string(c, e, AM_RULE_PATH_MAX);
		if (s && am_glob_check(s, &why))
			perr(c, "%s", why);
		else if (s)
			list_push(c, l, s, i);
		pop(c);
	}
}

static void net_list(struct ctx *c, json_t *v, enum am_list l)
{
	size_t i;
	json_t *e;
	const char *why;
	struct am_netrule r;
	if (!check_array(c, v, "ADDR[/PREFIX]:PORT strings"))
		return;
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		const char *s = get_string(c, e, 80);
		if (s && am_netrule_parse(s, &r, &why))
			perr(c, "\"%s\": %s", s, why);
		else if (s)
			list_push(c, l, s, i);
		pop(c);
	}
}

static void listen_list(struct ctx *c, json_t *v)
{
	size_t i;
	json_t *e;
	long long port;
	char buf[8];
	if (!check_array(c, v, "port numbers"))
		return;
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		if (get_int(c, e, 0, 65535, &port)) {
			snprintf(buf, sizeof(buf), "%lld", port);
			list_push(c, AM_L_NET_LISTEN, buf, i);
		}
		pop(c);
	}
}

static enum am_action parse_action(struct ctx *c, json_t *v, enum am_action dflt)
{
	static const char *const names[] = {"none", "alert", "stop", "freeze", "kill", NULL};
	if (json_is_string(v))
		for (int i = 0; names[i]; i++)
			if (!strcmp(json_string_value(v), names[i]))
				return (enum am_action)i;
	perr(c, "must be one of \"none\", \"alert\", \"stop\", \"freeze\", \"kill\"");
	return dflt;
}

static bool parse_time(struct ctx *c, json_t *v, time_t *t)
{
	const char *why;
	const char *s = get_string(c, v, 64);
	if (!s)
		return false;
	if (am_parse_rfc3339(s, t, &why)) {
		perr(c, "\"%s\": %s", s, why);
		return false;
	}
	return true;
}

static bool parse_dur(struct ctx *c, json_t *v, uint64_t *ns)
{
	const char *why;
	const char *s = get_string(c, v, 32);
	if (!s)
		return false;
	if (am_parse_duration(s, ns, &why)) {
		perr(c, "\"%s\": %s", s, why);
		return false;
	}
	return true;
}

static void f_name(struct ctx *c, json_t *v)
{
	const char *s = get_string(c, v, 64);
	if (!s)
		return;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || (q > s && strchr("._-", *q)))) {
			perr(c, "must be letters, digits, '.', '_' or '-', starting with a letter or digit");
			return;
		}
	c->p->name = dup_or_die(c, s);
}

static void f_version(struct ctx *c, json_t *v)
{
	const char *s = get_string(c, v, 64);
	if (!s)
		return;
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			perr(c, "must be printable with no spaces");
			return;
		}
	c->p->version = dup_or_die(c, s);
}

static void f_approval(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"by", "at", "expires", NULL};
	struct am_profile *p = c->p;
	json_t *x;
	bool ok = true;
	if (!check_object(c, v, known))
		return;
	p->has_approval = true;
	if (!(x = json_object_get(v, "by"))) {
		perr(c, "missing \"by\" (who approved)");
		ok = false;
	} else {
		push_key(c, "by");
		const char *s = get_string(c, x, 256);
		if (s)
			p->by = dup_or_die(c, s);
		pop(c);
	}
	if (!(x = json_object_get(v, "at"))) {
		perr(c, "missing \"at\" (when it was approved)");
		ok = false;
	} else {
		push_key(c, "at");
		ok &= parse_time(c, x, &p->at);
		pop(c);
	}
	if ((x = json_object_get(v, "expires"))) {
		push_key(c, "expires");
		if (parse_time(c, x, &p->expires)) {
			p->has_expires = true;
			if (ok && p->expires <= p->at)
				perr(c, "expires before or at approval.at");
		}
		pop(c);
	}
}

static void f_match(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"exe", "uid", "cgroup", NULL};
	struct am_profile *p = c->p;
	json_t *x;
	const char *s, *why;
	long long uid;
	if (!check_object(c, v, known))
		return;
	if ((x = json_object_get(v, "exe"))) {
		push_key(c, "exe");
		if ((s = get_string(c, x, AM_RULE_PATH_MAX))) {
			if (s[0] != '/' || am_glob_check(s, &why))
				perr(c, "must be an absolute, normalized path");
			else if (strchr(s, '*'))
				perr(c, "must be an exact path (no '*')");
			else
				p->match_exe = dup_or_die(c, s);
		}
		pop(c);
	}
	if ((x = json_object_get(v, "uid"))) {
		push_key(c, "uid");
		if (get_int(c, x, 0, 4294967294LL, &uid))
			p->match_uid = uid;
		pop(c);
	}
	if ((x = json_object_get(v, "cgroup"))) {
		push_key(c, "cgroup");
		if ((s = get_string(c, x, AM_RULE_PATH_MAX))) {
			if (s[0] != '/' || am_glob_check(s, &why) || strchr(s, '*'))
				perr(c, "must be a cgroup path such as /system.slice/x.service");
			else
				p->match_cgroup = dup_or_die(c, s);
		}
		pop(c);
	}
}

static void f_mode(struct ctx *c, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	if (!strcmp(s, "enforce"))
		c->p->mode = AM_MODE_ENFORCE;
	else if (!strcmp(s, "audit"))
		c->p->mode = AM_MODE_AUDIT;
	else
		perr(c, "must be \"enforce\" or \"audit\"");
}

static void f_exec(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"allow", "review", "deny", "max_depth", NULL};
	static const char *const known_frag[] = {"allow", "review", "deny", NULL};
	json_t *x;
	long long d;
	if (!check_object(c, v, c->fragment ? known_frag : known))
		return;
	static const struct { const char *k; enum am_list l; } lists[] = {
		{"allow", AM_L_EXEC_ALLOW}, {"review", AM_L_EXEC_REVIEW}, {"deny", AM_L_EXEC_DENY},
	};
	for (size_t i = 0; i < 3; i++)
		if ((x = json_object_get(v, lists[i].k))) {
			push_key(c, lists[i].k);
			path_list(c, x, lists[i].l);
			pop(c);
		}
	if (!c->fragment && (x = json_object_get(v, "max_depth"))) {
		push_key(c, "max_depth");
		if (get_int(c, x, 0, 1024, &d)) {
			c->p->has_max_depth = true;
			c->p->max_depth = (unsigned)d;
		}
		pop(c);
	}
}

static void f_files(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"read", "write", "deny", NULL};
	static const struct { const char *k; enum am_list l; } lists[] = {
		{"read", AM_L_FILES_READ}, {"write", AM_L_FILES_WRITE}, {"deny", AM_L_FILES_DENY},
	};
	json_t *x;
	if (!check_object(c, v, known))
		return;
	for (size_t i = 0; i < 3; i++)
		if ((x = json_object_get(v, lists[i].k))) {
			push_key(c, lists[i].k);
			path_list(c, x, lists[i].l);
			pop(c);
		}
}

static void f_secrets(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"path", "ttl", NULL};
	struct am_profile *p = c->p;
	size_t i;
	json_t *e, *x;
	const char *s, *why;
	if (!check_array(c, v, "{\"path\", \"ttl\"} objects"))
		return;
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		uint64_t ttl = 0;
		bool ok = check_object(c, e, known);
		if (ok && !(x = json_object_get(e, "path"))) {
			perr(c, "missing \"path\"");
			ok = false;
		} else if (ok) {
			push_key(c, "path");
			s = get_string(c, x, AM_RULE_PATH_MAX);
			if (s && am_glob_check(s, &why)) {
				perr(c, "%s", why);
				s = NULL;
			}
			ok = s != NULL;
			pop(c);
		}
		if (ok && (x = json_object_get(e, "ttl"))) {
			push_key(c, "ttl");
			ok = parse_dur(c, x, &ttl);
			pop(c);
		}
		if (ok) {
			struct rule_list *r = &p->lists[AM_L_SECRETS];
			if (p->secret_cap <= r->n) {
				size_t cap = p->secret_cap ? p->secret_cap * 2 : 8;
				uint64_t *t = realloc(p->secret_ttl, cap * sizeof(*t));
				if (!t) {
					ferr(c, -ENOMEM, "out of memory");
					pop(c);
					return;
				}
				p->secret_ttl = t;
				p->secret_cap = cap;
			}
			p->secret_ttl[r->n] = ttl;
			list_push(c, AM_L_SECRETS, s, i);
		}
		pop(c);
	}
}

static void f_network(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"connect", "listen", "deny", NULL};
	json_t *x;
	if (!check_object(c, v, known))
		return;
	if ((x = json_object_get(v, "connect"))) {
		push_key(c, "connect");
		net_list(c, x, AM_L_NET_CONNECT);
		pop(c);
	}
	if ((x = json_object_get(v, "listen"))) {
		push_key(c, "listen");
		listen_list(c, x);
		pop(c);
	}
	if ((x = json_object_get(v, "deny"))) {
		push_key(c, "deny");
		net_list(c, x, AM_L_NET_DENY);
		pop(c);
	}
}

static void f_escalate(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"count", "window", "action", NULL};
	struct am_escalate *e = &c->p->esc;
	json_t *x;
	long long n;
	bool ok = true;
	if (!check_object(c, v, known))
		return;
	for (const char *const *k = known; *k; k++)
		if (!json_object_get(v, *k)) {
			perr(c, "missing \"%s\" (escalate needs count, window and action)", *k);
			ok = false;
		}
	if (!ok)
		return;
	push_key(c, "count");
	if (get_int(c, json_object_get(v, "count"), 1, 1000000, &n))
		e->count = (unsigned)n;
	pop(c);
	push_key(c, "window");
	parse_dur(c, json_object_get(v, "window"), &e->window_ns);
	pop(c);
	push_key(c, "action");
	x = json_object_get(v, "action");
	e->action = parse_action(c, x, AM_ACT_ALERT);
	pop(c);
	c->p->has_escalate = true;
}

static void f_response(struct ctx *c, json_t *v)
{
	static const char *const known[] = {"drift", "violation", "critical", "lost", "escalate",
					    NULL};
	static const struct { const char *k; enum am_verdict vd; } acts[] = {
		{"drift", AM_DRIFT}, {"violation", AM_VIOLATION}, {"critical", AM_CRITICAL},
	};
	json_t *x;
	if (!check_object(c, v, known))
		return;
	for (size_t i = 0; i < 3; i++)
		if ((x = json_object_get(v, acts[i].k))) {
			push_key(c, acts[i].k);
			c->p->act[acts[i].vd] = parse_action(c, x, c->p->act[acts[i].vd]);
			pop(c);
		}
	if ((x = json_object_get(v, "lost"))) {
		push_key(c, "lost");
		c->p->lost = parse_action(c, x, c->p->lost);
		pop(c);
	}
	if ((x = json_object_get(v, "escalate"))) {
		push_key(c, "escalate");
		f_escalate(c, x);
		pop(c);
	}
}

static void f_include(struct ctx *c, json_t *v)
{
	size_t i;
	json_t *e;
	if (!check_array(c, v, "fragment names"))
		return;
	if (json_array_size(v) > AM_PROFILE_MAX_INCLUDES) {
		perr(c, "more than %d includes", AM_PROFILE_MAX_INCLUDES);
		return;
	}
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		get_string(c, e, AM_RULE_PATH_MAX);	/* resolved later */
		pop(c);
	}
}

struct field {
	const char *key;
	void (*fn)(struct ctx *, json_t *);
	bool in_fragment;
};

static const struct field fields[] = {
	{"name", f_name, false},	{"version", f_version, false},
	{"approval", f_approval, false}, {"match", f_match, false},
	{"include", f_include, true},	{"mode", f_mode, false},
	{"exec", f_exec, true},		{"files", f_files, true},
	{"secrets", f_secrets, true},	{"network", f_network, true},
	{"response", f_response, false},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void walk(struct ctx *c, json_t *root)
{
	const char *known[NFIELDS + 1];
	const char *k;
	json_t *v;
	size_t nk = 0;

	for (size_t i = 0; i < NFIELDS; i++)
		if (!c->fragment || fields[i].in_fragment)
			known[nk++] = fields[i].key;
	known[nk] = NULL;
	json_object_foreach(root, k, v) {
		size_t i;
		for (i = 0; i < NFIELDS && strcmp(fields[i].key, k); i++)
			;
		struct comp e = {k, 0};
		if (i == NFIELDS) {
			unknown_key(c, k, known);
		} else if (c->fragment && !fields[i].in_fragment) {
			perr_at(c, &e, true, "\"%s\" is not allowed in a fragment "
				"(fragments hold only rule lists)", k);
		} else {
			push_key(c, k);
			fields[i].fn(c, v);
			pop(c);
		}
	}
	if (!c->fragment) {
		if (!json_object_get(root, "name"))
			ferr(c, -EINVAL, "missing \"name\"");
		if (!json_object_get(root, "version"))
			ferr(c, -EINVAL, "missing \"version\"");
	}
}

/* ---- files ---- */

static int check_owner(struct ctx *c, const char *path, const struct stat *st)
{
	char dirbuf[PATH_MAX];
	struct stat ds;
	if (st->st_uid != 0) {
		ferr(c, -EPERM, "refusing profile owned by uid %u, not root (strict ownership)",
		     (unsigned)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		ferr(c, -EPERM, "refusing profile writable by group or others (mode %04o); "
		     "run chmod go-w on it", (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	const char *dir = dirname(dirbuf);
	if (stat(dir, &ds) == 0 && (ds.st_uid != 0 ||
	    ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX)))) {
		ferr(c, -EPERM, "refusing profile in %s, which is not owned by root or is "
		     "writable by group or others", dir);
		return -EPERM;
	}
	return 0;
}

/* Open, check and read one file into c->src[c->nsrc]; the index or -errno. */
static int read_src(struct ctx *c, const char *path)
{
	struct src *s = &c->src[c->nsrc];
	struct stat st;
	int fd, err = 0;
	size_t cap;

	memset(s, 0, sizeof(*s));
	int prev = c->cur;
	c->cur = c->nsrc++;
	if (!(s->path = strdup(path))) {
		c->cur = prev;
		return -ENOMEM;
	}
	/* O_NONBLOCK: a FIFO must not hang the loader; rejected below. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ferr(c, err, "%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		ferr(c, err, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		ferr(c, err, "not a regular file");
		goto out;
	}
	if ((c->flags & AM_PROFILE_STRICT_OWNER) && (err = check_owner(c, path, &st)))
		goto out;
	if (st.st_size > AM_PROFILE_MAX_BYTES) {
		err = -EFBIG;
		ferr(c, err, "file is larger than %u bytes", AM_PROFILE_MAX_BYTES);
		goto out;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	cap = (size_t)st.st_size + 1;
	if (!(s->text = malloc(cap + 1))) {
		err = -ENOMEM;
		ferr(c, err, "out of memory");
		goto out;
	}
	for (;;) {	/* the file may have grown since fstat */
		ssize_t r = read(fd, s->text + s->len, cap - s->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			ferr(c, err, "%s", strerror(errno));
			goto out;
		}
		if (!r)
			break;
		s->len += (size_t)r;
		if (s->len > AM_PROFILE_MAX_BYTES) {
			err = -EFBIG;
			ferr(c, err, "file is larger than %u bytes", AM_PROFILE_MAX_BYTES);
			goto out;
		}
		if (s->len == cap) {
			char *t = realloc(s->text, cap * 2 + 1);
			if (!t) {
				err = -ENOMEM;
				ferr(c, err, "out of memory");
				goto out;
			}
			s->text = t;
			cap *= 2;
		}
	}
	s->text[s->len] = 0;
out:
	if (fd >= 0)
		close(fd);
	c->cur = prev;
	return err ? err : c->nsrc - 1;
}

/* Parse src i as JSON; NULL after reporting. */
static json_t *parse_src(struct ctx *c, int i)
{
	struct src *s = &c->src[i];
	json_error_t je;
	int line, col;
	char msg[128], where[PATH_MAX + 32];

	if (nesting_ok(s->text, s->len, &line, &col)) {
		snprintf(where, sizeof(where), "%s:%d:%d", s->path, line, col);
		snprintf(msg, sizeof(msg), "nested deeper than %d levels", MAX_NESTING);
		emit(c, 0, where, msg);
		return NULL;
	}
	json_t *root = json_loadb(s->text, s->len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(where, sizeof(where), "%s:%d:%d", s->path, je.line > 0 ? je.line : 1,
			 je.column > 0 ? je.column : 1);
		emit(c, 0, where, strstr(je.text, "JSON_ALLOW_NUL") ?
			"\\u0000 is not allowed in strings" : je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(where, sizeof(where), "%s:1:1", s->path);
		emit(c, 0, where, c->fragment || i ? "a fragment must be a JSON object"
						   : "a profile must be a JSON object");
		json_decref(root);
		return NULL;
	}
	s->root = root;
	return root;
}

/* ---- includes ---- */

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Candidate abstraction directories, in order; returns how many. */
static int abstraction_dirs(char dirs[][PATH_MAX], int max)
{
	int n = 0;
	const char *env = getenv("AGENTMON_ABSTRACTIONS");
	if (env && *env) {
		snprintf(dirs[n++], PATH_MAX, "%s", env);
		return n;
	}
	char exe[PATH_MAX];
	ssize_t r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (r > 0) {
		exe[r] = 0;
		char *d = dirname(exe);
		const char *up[] = {"/..", "/../..", "/../../.."};
		for (int i = 0; i < 3 && n < max - 2; i++)
			snprintf(dirs[n++], PATH_MAX, "%s%s/abstractions", d, up[i]);
		/* installed: PREFIX/sbin/agentmon and PREFIX/share/agentmon/ */
		snprintf(dirs[n++], PATH_MAX, "%s/../share/agentmon/abstractions", d);
	}
	snprintf(dirs[n++], PATH_MAX, "/usr/local/share/agentmon/abstractions");
	return n;
}

static int find_abstraction(const char *name, char *out)
{
	char dirs[5][PATH_MAX];
	int n = abstraction_dirs(dirs, 5);
	for (int i = 0; i < n; i++) {
		if (snprintf(out, PATH_MAX, "%s/%s", dirs[i], name) >= PATH_MAX)
			continue;
		if (exists(out))
			return 0;
	}
	return -ENOENT;
}

static int resolve_include(const char *name, const char *includer, char *out)
{
	char buf[PATH_MAX];
	if (!strchr(name, '/'))
		return find_abstraction(name, out);
	if (name[0] == '/') {
		snprintf(out, PATH_MAX, "%s", name);
		return 0;
	}
	while (!strncmp(name, "./", 2))
		name += 2;
	snprintf(buf, sizeof(buf), "%s", includer);
	if (snprintf(out, PATH_MAX, "%s/%s", dirname(buf), name) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (exists(out))
		return 0;
	if (!strncmp(name, "abstractions/", 13) && !strchr(name + 13, '/') && name[13])
		return find_abstraction(name + 13, out);
	return 0;	/* let open() report it */
}

static void append_lists(json_t *dst, json_t *src);
static void load_tree(struct ctx *c, int si);

static void do_includes(struct ctx *c, int si)
{
	json_t *inc = json_object_get(c->src[si].root, "include"), *e;
	size_t i;
	char path[PATH_MAX];

	if (!json_is_array(inc))
		return;
	json_array_foreach(inc, i, e) {
		const char *name = json_string_value(e);
		if (!name || !*name || strlen(name) > AM_RULE_PATH_MAX)
			continue;	/* already reported */
		c->cur = si;
		c->depth = 0;
		push_key(c, "include");
		push_idx(c, i);
		struct stat st;
		if (resolve_include(name, c->src[si].path, path)) {
			perr(c, "fragment \"%s\" not found (looked in $AGENTMON_ABSTRACTIONS, "
			     "abstractions/ near the binary, /usr/local/share/agentmon/abstractions)",
			     name);
			continue;
		}
		if (stat(path, &st)) {
			perr(c, "cannot include \"%s\": %s: %s", name, path, strerror(errno));
			continue;
		}
		{
			bool seen = false;
			for (int k = 0; k < c->nstack; k++)
				if (c->src[c->stack[k]].dev == st.st_dev &&
				    c->src[c->stack[k]].ino == st.st_ino) {
					perr(c, "include cycle: \"%s\" includes itself", name);
					seen = true;
				}
			for (int k = 0; k < c->nsrc && !seen; k++)
				if (c->src[k].dev == st.st_dev && c->src[k].ino == st.st_ino)
					seen = true;	/* diamond: merged once */
			if (seen)
				continue;
		}
		if (c->nstack >= AM_PROFILE_MAX_INCLUDE_DEPTH) {
			perr(c, "includes nested deeper than %d", AM_PROFILE_MAX_INCLUDE_DEPTH);
			continue;
		}
		if (c->nsrc > AM_PROFILE_MAX_INCLUDES) {
			perr(c, "more than %d included files", AM_PROFILE_MAX_INCLUDES);
			return;
		}
		/* Name it as written, for rule labels. */
		char **o = realloc(c->p->origins, sizeof(*o) * (size_t)(c->nsrc + 1));
		if (!o) {
			ferr(c, -ENOMEM, "out of memory");
			return;
		}
		c->p->origins = o;
		o[c->nsrc] = strdup(name);
		c->p->norigins = (size_t)c->nsrc + 1;
		int fi = read_src(c, path);	/* reports its own errors */
		if (fi >= 0)
			load_tree(c, fi);
	}
}

/* Parse, validate and merge src si and everything it includes. */
static void load_tree(struct ctx *c, int si)
{
	json_t *root = c->src[si].root ? c->src[si].root : parse_src(c, si);
	if (!root)
		return;
	c->cur = si;
	c->depth = 0;
	c->fragment = si != 0;
	walk(c, root);
	if (si)
		append_lists(c->merged, root);
	c->stack[c->nstack++] = si;
	do_includes(c, si);
	c->nstack--;
}

/* Append fragment lists to the merged document (only known, validated keys). */
static void append_lists(json_t *dst, json_t *src)
{
	static const char *const secs[][4] = {
		{"exec", "allow", "review", "deny"},
		{"files", "read", "write", "deny"},
		{"network", "connect", "listen", "deny"},
	};
	for (size_t i = 0; i < 3; i++) {
		json_t *so = json_object_get(src, secs[i][0]);
		if (!json_is_object(so))
			continue;
		json_t *dobj = json_object_get(dst, secs[i][0]);
		if (!dobj) {
			dobj = json_object();
			json_object_set_new(dst, secs[i][0], dobj);
		}
		for (int k = 1; k < 4; k++) {
			json_t *sl = json_object_get(so, secs[i][k]);
			if (!json_is_array(sl))
				continue;
			json_t *dl = json_object_get(dobj, secs[i][k]);
			if (!dl) {
				dl = json_array();
				json_object_set_new(dobj, secs[i][k], dl);
			}
			json_array_extend(dl, sl);
		}
	}
	json_t *ss = json_object_get(src, "secrets");
	if (json_is_array(ss)) {
		json_t *ds = json_object_get(dst, "secrets");
		if (!ds) {
			ds = json_array();
			json_object_set_new(dst, "secrets", ds);
		}
		json_array_extend(ds, ss);
	}
}

/* ---- build ---- */

static int digest(struct ctx *c)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *txt = json_dumps(c->merged, JSON_SORT_KEYS | JSON_COMPACT);
	if (!txt)
		return -ENOMEM;
	int ok = EVP_Digest(txt, strlen(txt), md, &mdlen, EVP_sha256(), NULL);
	free(txt);
	if (!ok || mdlen != 32)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(c->p->sha256 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int compile(struct am_profile *p)
{
	static const enum am_list paths[] = {
		AM_L_EXEC_ALLOW, AM_L_EXEC_REVIEW, AM_L_EXEC_DENY, AM_L_FILES_READ,
		AM_L_FILES_WRITE, AM_L_FILES_DENY, AM_L_SECRETS,
	};
	const char *why;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct rule_list *r = &p->lists[paths[i]];
		if (!(r->gs = am_globset_new()))
			return -ENOMEM;
		for (size_t k = 0; k < r->n; k++) {
			int err = am_globset_add(r->gs, r->items[k], (uint32_t)k);
			if (err)
				return err;
		}
	}
	for (enum am_list l = AM_L_NET_CONNECT; l <= AM_L_NET_DENY; l++) {
		struct rule_list *r = &p->lists[l];
		if (r->n && !(r->net = calloc(r->n, sizeof(*r->net))))
			return -ENOMEM;
		for (size_t k = 0; k < r->n; k++)
			if (am_netrule_parse(r->items[k], &r->net[k], &why))
				return -EINVAL;
	}
	struct rule_list *r = &p->lists[AM_L_NET_LISTEN];
	if (r->n && !(r->ports = calloc(r->n, sizeof(*r->ports))))
		return -ENOMEM;
	for (size_t k = 0; k < r->n; k++)
		r->ports[k] = (uint16_t)atoi(r->items[k]);
	return 0;
}

/* Append at most max bytes of s to buf (capacity n, used *o), cut to fit. */
static void label_put(char *buf, size_t n, size_t *o, const char *s, size_t max)
{
	size_t k = 0;
	while (k < max && s[k])
		k++;
	if (*o + k >= n)
		k = n - 1 - *o;
	memcpy(buf + *o, s, k);
	*o += k;
}

/* "files.read[3]" or "base:files.read[3]" (the fragment's name cut to 24
 * bytes), cut to fit n like snprintf. Runs once per judged event: no
 * snprintf. */
void am_rule_label(const struct am_profile *p, enum am_list l, size_t i, char *buf, size_t n)
{
	const struct rule_list *r = &p->lists[l];
	uint16_t o = r->origin[i];
	char num[16];
	size_t k = sizeof(num), at = 0;
	unsigned v = r->index[i];

	if (n == 0)
		return;
	num[--k] = ']';
	do {
		num[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	num[--k] = '[';
	if (o && o < p->norigins && p->origins[o]) {
		label_put(buf, n, &at, p->origins[o], 24);
		label_put(buf, n, &at, ":", 1);
	}
	label_put(buf, n, &at, am_list_names[l], SIZE_MAX);
	label_put(buf, n, &at, num + k, sizeof(num) - k);
	buf[at] = 0;
}

/* ---- lint: over-broad grants, for `agentmon check` ---- */

/* Warning at rule i of list l, in the file it came from. */
__attribute__((format(printf, 4, 5)))
static void rule_warn(struct ctx *c, enum am_list l, size_t i, const char *fmt, ...)
{
	const struct rule_list *r = &c->p->lists[l];
	char sec[16];
	const char *dot = strchr(am_list_names[l], '.');
	struct comp comps[4];
	int n = 0;
	va_list ap;

	if (dot) {
		snprintf(sec, sizeof(sec), "%.*s", (int)(dot - am_list_names[l]), am_list_names[l]);
		comps[n++] = (struct comp){sec, 0};
		comps[n++] = (struct comp){dot + 1, 0};
	} else {
		comps[n++] = (struct comp){am_list_names[l], 0};
	}
	comps[n++] = (struct comp){NULL, r->index[i]};
	if (l == AM_L_SECRETS)
		comps[n++] = (struct comp){"path", 0};
	va_start(ap, fmt);
	vdiag(c, 1, r->origin[i], comps, n, false, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static void field_warn(struct ctx *c, const char *k1, const char *k2, const char *fmt, ...)
{
	struct comp comps[2] = {{k1, 0}, {k2, 0}};
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, 1, 0, comps, k1 ? (k2 ? 2 : 1) : 0, false, fmt, ap);
	va_end(ap);
}

static const char *const interpreters[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "busybox",
	"python", "python3", "python3.11", "python2", "perl", "perl5.36", "ruby", "node",
	"nodejs", "php", "lua", "lua5.4", "tclsh", "pwsh", "osascript", "env", NULL,
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries present in both an allow-side list and a deny list. */
static void contradictions(struct ctx *c, enum am_list allow, enum am_list deny, bool net)
{
	struct rule_list *a = &c->p->lists[allow], *d = &c->p->lists[deny];
	char **sorted, buf[96], lab[64];
	if (!a->n || !d->n)
		return;
	if (!(sorted = malloc(d->n * sizeof(*sorted))))
		return;
	char *canon = net ? calloc(d->n, 96) : NULL;
	if (net && !canon) {
		free(sorted);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (net) {
			am_netrule_format(&d->net[i], canon + 96 * i, 96);
			sorted[i] = canon + 96 * i;
		} else {
			sorted[i] = d->items[i];
		}
	}
	qsort(sorted, d->n, sizeof(*sorted), cmp_str);
	for (size_t i = 0; i < a->n; i++) {
		char *key = a->items[i];
		if (net) {
			am_netrule_format(&a->net[i], buf, sizeof(buf));
			key = buf;
		}
		char **hit = bsearch(&key, sorted, d->n, sizeof(*sorted), cmp_str);
		if (!hit)
			continue;
		/* find the deny entry's label */
		for (size_t k = 0; k < d->n; k++) {
			const char *dk = net ? canon + 96 * k : d->items[k];
			if (!strcmp(dk, *hit)) {
				am_rule_label(c->p, deny, k, lab, sizeof(lab));
				break;
			}
		}
		rule_warn(c, allow, i, "\"%s\" is also denied by %s; deny wins, so this grant "
			  "does nothing", a->items[i], lab);
	}
	free(canon);
	free(sorted);
}

static void lint(struct ctx *c)
{
	struct am_profile *p = c->p;
	struct rule_list *r;
	char buf[32];

	r = &p->lists[AM_L_FILES_WRITE];
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->items[i], "/") || !strcmp(r->items[i], "/**") ||
		    !strcmp(r->items[i], "**"))
			rule_warn(c, AM_L_FILES_WRITE, i, "\"%s\" grants write access to the whole "
				  "filesystem", r->items[i]);

	for (enum am_list l = AM_L_EXEC_ALLOW; !p->has_max_depth && l <= AM_L_EXEC_REVIEW; l++) {
		r = &p->lists[l];
		for (size_t i = 0; i < r->n; i++) {
			const char *last = strrchr(r->items[i], '/');
			last = last ? last + 1 : r->items[i];
			for (const char *const *n = interpreters; *n; n++) {
				char probe[64];
				snprintf(probe, sizeof(probe), "/%s", *n);
				char pat[AM_RULE_PATH_MAX + 2];
				snprintf(pat, sizeof(pat), "/%s", last);
				if (!strcmp(last, "**") || am_glob_match(pat, probe)) {
					rule_warn(c, l, i, "\"%s\" allows a shell or interpreter (%s) "
						  "and exec.max_depth is not set", r->items[i],
						  strcmp(last, "**") ? *n : "any program");
					break;
				}
			}
		}
	}

	r = &p->lists[AM_L_NET_CONNECT];
	for (size_t i = 0; i < r->n; i++)
		if (am_netrule_any_addr(&r->net[i]))
			rule_warn(c, AM_L_NET_CONNECT, i, "\"%s\" allows connecting to any address",
				  r->items[i]);

	r = &p->lists[AM_L_SECRETS];
	for (size_t i = 0; i < r->n; i++)
		if (!p->secret_ttl[i])
			rule_warn(c, AM_L_SECRETS, i, "secret \"%s\" has no ttl: readable for the "
				  "agent's whole life", r->items[i]);

	contradictions(c, AM_L_FILES_READ, AM_L_FILES_DENY, false);
	contradictions(c, AM_L_FILES_WRITE, AM_L_FILES_DENY, false);
	contradictions(c, AM_L_EXEC_ALLOW, AM_L_EXEC_DENY, false);
	contradictions(c, AM_L_EXEC_REVIEW, AM_L_EXEC_DENY, false);
	contradictions(c, AM_L_NET_CONNECT, AM_L_NET_DENY, true);

	if (!p->has_approval) {
		field_warn(c, NULL, NULL, "no approval: this profile was not approved for release");
	} else if (p->has_expires) {
		am_format_rfc3339(p->expires, buf, sizeof(buf));
		if (p->expires <= c->now)
			field_warn(c, "approval", "expires", "approval expired on %s", buf);
		else if (p->expires - c->now < 7 * 86400)
			field_warn(c, "approval", "expires", "approval expires within 7 days (%s)",
				   buf);
	}
}

/* ---- entry points ---- */

void am_profile_free(struct am_profile *p)
{
	if (!p)
		return;
	for (int l = 0; l < AM_L__COUNT; l++) {
		struct rule_list *r = &p->lists[l];
		for (size_t i = 0; i < r->n; i++)
			free(r->items[i]);
		free(r->items);
		free(r->origin);
		free(r->index);
		am_globset_free(r->gs);
		free(r->net);
		free(r->ports);
	}
	for (size_t i = 0; i < p->norigins; i++)
		free(p->origins[i]);
	free(p->origins);
	free(p->secret_ttl);
	free(p->path);
	free(p->name);
	free(p->version);
	free(p->by);
	free(p->match_exe);
	free(p->match_cgroup);
	free(p);
}

static int load(const char *path, unsigned flags, time_t now, am_report_fn report, void *arg,
		struct am_diag *diag, bool do_lint, struct am_profile **out)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct am_profile *p = NULL;
	int err;

	if (out)
		*out = NULL;
	if (diag)
		diag->msg[0] = 0;
	if (!c || !(p = calloc(1, sizeof(*p)))) {
		if (diag)
			snprintf(diag->msg, sizeof(diag->msg), "%s: out of memory", path);
		free(c);
		return -ENOMEM;
	}
	c->flags = flags;
	c->now = now;
	c->report = report;
	c->arg = arg;
	c->diag = diag;
	c->p = p;
	p->match_uid = -1;
	p->act[AM_ALLOW] = AM_ACT_NONE;
	p->act[AM_DRIFT] = AM_ACT_ALERT;
	p->act[AM_VIOLATION] = AM_ACT_ALERT;
	p->act[AM_CRITICAL] = AM_ACT_KILL;
	p->lost = AM_ACT_ALERT;
	p->path = strdup(path);
	p->origins = calloc(1, sizeof(*p->origins));
	p->norigins = 1;
	if (!p->path || !p->origins) {
		err = -ENOMEM;
		goto out;
	}

	if (read_src(c, path) < 0)
		goto done;
	if (!parse_src(c, 0))
		goto done;
	if (!(c->merged = json_deep_copy(c->src[0].root))) {
		err = -ENOMEM;
		goto out;
	}
	json_object_del(c->merged, "include");
	load_tree(c, 0);
	if (!c->nerr && (err = digest(c)))
		goto out;
	if (!c->nerr && (err = compile(p))) {
		ferr(c, err, "cannot compile rules: %s", strerror(-err));
		goto done;
	}
	if (!c->nerr && do_lint)
		lint(c);
done:
	err = c->nerr ? (c->first_err ? c->first_err : -EINVAL) : 0;
out:
	if (err && diag && !diag->msg[0])
		snprintf(diag->msg, sizeof(diag->msg), "%s: %s", path, strerror(-err));
	for (int i = 0; i < c->nsrc; i++) {
		free(c->src[i].path);
		free(c->src[i].text);
		json_decref(c->src[i].root);
	}
	json_decref(c->merged);
	free(c);
	if (err || !out)
		am_profile_free(p);
	else
		*out = p;
	return err;
}

int am_profile_load(const char *path, unsigned flags, struct am_profile **out,
		    struct am_diag *diag)
{
	return load(path, flags, time(NULL), NULL, NULL, diag, false, out);
}

int am_profile_check(const char *path, unsigned flags, time_t now, am_report_fn report,
		     void *arg, struct am_profile **out)
{
	return load(path, flags, now, report, arg, NULL, true, out);
}

/* ---- accessors ---- */

const char *am_profile_name(const struct am_profile *p) { return p->name; }
const char *am_profile_version(const struct am_profile *p) { return p->version; }
const char *am_profile_sha256(const struct am_profile *p) { return p->sha256; }
const char *am_profile_path(const struct am_profile *p) { return p->path; }
enum am_mode am_profile_mode(const struct am_profile *p) { return p->mode; }
const char *am_profile_approved_by(const struct am_profile *p) { return p->by; }
time_t am_profile_approved_at(const struct am_profile *p) { return p->has_approval ? p->at : 0; }
time_t am_profile_expires(const struct am_profile *p) { return p->has_expires ? p->expires : 0; }
const char *am_profile_match_exe(const struct am_profile *p) { return p->match_exe; }
int64_t am_profile_match_uid(const struct am_profile *p) { return p->match_uid; }
const char *am_profile_match_cgroup(const struct am_profile *p) { return p->match_cgroup; }
enum am_action am_profile_lost_action(const struct am_profile *p) { return p->lost; }

enum am_approval am_profile_approval(const struct am_profile *p, time_t now)
{
	if (!p->has_approval)
		return AM_APPROVAL_MISSING;
	return am_profile_expired(p, now) ? AM_APPROVAL_EXPIRED : AM_APPROVED;
}

int am_profile_expired(const struct am_profile *p, time_t now)
{
	return p->has_approval && p->has_expires && p->expires <= now;
}

enum am_action am_profile_action(const struct am_profile *p, enum am_verdict v)
{
	return (unsigned)v <= AM_CRITICAL && v != AM_ALLOW ? p->act[v] : AM_ACT_NONE;
}

const struct am_escalate *am_profile_escalate(const struct am_profile *p)
{
	return p->has_escalate ? &p->esc : NULL;
}

size_t am_profile_list_len(const struct am_profile *p, enum am_list l)
{
	return (unsigned)l < AM_L__COUNT ? p->lists[l].n : 0;
}

const char *am_profile_list_item(const struct am_profile *p, enum am_list l, size_t i)
{
	return (unsigned)l < AM_L__COUNT && i < p->lists[l].n ? p->lists[l].items[i] : NULL;
}

uint64_t am_profile_secret_ttl(const struct am_profile *p, size_t i)
{
	return i < p->lists[AM_L_SECRETS].n ? p->secret_ttl[i] : 0;
}

int am_profile_max_depth(const struct am_profile *p, unsigned *depth)
{
	if (!p->has_max_depth)
		return 0;
	*depth = p->max_depth;
	return 1;
}
