#include <string.h>
#include "event_human.h"
#include "linebuf.h"

/* Each getter takes whatever the daemon sent: a wrong type reads as missing. */
static const json_t *get(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(get(o, k));
}

static int num(const json_t *o, const char *k, json_int_t *v)
{
	const json_t *j = get(o, k);
	if (!json_is_integer(j))
		return 0;
	*v = json_integer_value(j);
	return 1;
}

/* A JSON string may hold NUL bytes when built in memory: use its length. */
static void put_jstr(struct am_line *l, const json_t *v, size_t max)
{
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);

	if (!s)
		return;
	if (n > max) {
		am_line_put_max(l, s, max);
		return;
	}
	am_line_putn(l, s, n);
}

static void put_str(struct am_line *l, const json_t *o, const char *k, const char *dflt)
{
	const json_t *v = get(o, k);
	if (json_is_string(v))
		put_jstr(l, v, (size_t)-1);
	else
		am_line_put(l, dflt);
}

/* The event's time of day (HH:MM:SS.mmm) from its RFC 3339 "ts". */
static void put_time(struct am_line *l, const char *ts)
{
	char t[16];
	size_t n = 0;

	if (ts && strnlen(ts, 12) > 11 && (ts[10] == 'T' || ts[10] == 't' || ts[10] == ' '))
		for (const char *p = ts + 11; *p && n < 12; p++) {
			if (!((*p >= '0' && *p <= '9') || *p == ':' || *p == '.'))
				break;
			t[n++] = *p;
		}
	t[n] = 0;
	am_line_put(l, n ? t : "--:--:--.---");
}

static void put_arg(struct am_line *l, const json_t *a)
{
	const char *s = json_string_value(a);

	if (!s) {
		am_line_put(l, "?");
		return;
	}
	/* quote what would otherwise read as several arguments or none */
	if (!*s || strpbrk(s, " \t'")) {
		am_line_put(l, "'");
		put_jstr(l, a, AM_HUMAN_ARG_MAX);
		am_line_put(l, "'");
	} else {
		put_jstr(l, a, AM_HUMAN_ARG_MAX);
	}
}

static void put_exec(struct am_line *l, const json_t *ev)
{
	const json_t *argv = get(ev, "argv");
	size_t n = json_is_array(argv) ? json_array_size(argv) : 0;

	if (str(ev, "exe"))
		put_str(l, ev, "exe", "?");
	else if (n > 0 && json_is_string(json_array_get(argv, 0)))
		put_jstr(l, json_array_get(argv, 0), (size_t)-1);
	else
		put_str(l, ev, "comm", "?");
	for (size_t i = 1; i < n; i++) {
		if (i > AM_HUMAN_ARGS_MAX) {
			am_line_printf(l, " ...(+%zu)", n - i);
			break;
		}
		am_line_put(l, " ");
		put_arg(l, json_array_get(argv, i));
	}
}

static void put_file(struct am_line *l, const json_t *f)
{
	if (str(f, "access")) {
		put_str(l, f, "access", "");
		am_line_put(l, " ");
	}
	put_str(l, f, "path", "?");
	if (str(f, "to")) {
		am_line_put(l, " -> ");
		put_str(l, f, "to", "");
	}
}

static void put_net(struct am_line *l, const json_t *n)
{
	const char *fam = str(n, "family"), *addr;
	json_int_t port, res;
	int has_port;

	put_str(l, n, "proto", "?");
	am_line_put(l, " ");
	if (str(n, "path")) {	/* unix socket */
		put_str(l, n, "path", "");
	} else {
		addr = str(n, "daddr");
		has_port = num(n, "dport", &port);
		if (!addr) {
			addr = str(n, "laddr");
			has_port = num(n, "lport", &port);
		}
		if (addr && ((fam && !strcmp(fam, "ipv6")) || strchr(addr, ':'))) {
			am_line_put(l, "[");
			am_line_put(l, addr);
			am_line_put(l, "]");
		} else {
			am_line_put(l, addr ? addr : "?");
		}
		if (has_port)
			am_line_printf(l, ":%lld", (long long)port);
	}
	if (num(n, "result", &res) && res)
		am_line_printf(l, " (error %lld)", (long long)(res < 0 ? -res : res));
}

static void put_exit(struct am_line *l, const json_t *ev, const json_t *x)
{
	json_int_t v;

	put_str(l, ev, "comm", "?");
	if (num(x, "signal", &v))
		am_line_printf(l, " signal %lld", (long long)v);
	else if (num(x, "code", &v))
		am_line_printf(l, " code %lld", (long long)v);
}

static void put_lost(struct am_line *l, const json_t *x)
{
	json_int_t v;

	if (num(x, "count", &v))
		am_line_printf(l, "%lld events", (long long)v);
	else
		am_line_put(l, "? events");
	if (str(x, "reason")) {
		am_line_put(l, " (");
		put_str(l, x, "reason", "");
		am_line_put(l, ")");
	}
}

static void put_what(struct am_line *l, const json_t *ev, const char *kind)
{
	const json_t *x;

	if (json_is_array(get(ev, "argv")) || !strcmp(kind, "exec"))
		put_exec(l, ev);
	else if (json_is_object(x = get(ev, "file")))
		put_file(l, x);
	else if (json_is_object(x = get(ev, "net")))
		put_net(l, x);
	else if (json_is_object(x = get(ev, "exit")))
		put_exit(l, ev, x);
	else if (json_is_object(x = get(ev, "lost")) || !strcmp(kind, "lost"))
		put_lost(l, x);
	else if (!strcmp(kind, "action"))	/* containment by hand */
		put_str(l, ev, "target", "?");
	else if (str(ev, "exe"))
		put_str(l, ev, "exe", "");
	else
		put_str(l, ev, "comm", "?");
}

static void put_ancestor(struct am_line *l, const json_t *a)
{
	const char *e = str(a, "exe"), *b = e ? strrchr(e, '/') : NULL;
	json_int_t pid;

	if (b && b[1])
		e = b + 1;
	am_line_put_max(l, e ? e : "?", 64);
	if (num(a, "pid", &pid))
		am_line_printf(l, "(%lld)", (long long)pid);
}

/* " via bot(4200) > sh(4231)", oldest first; a long chain keeps its ends. */
static void put_ancestry(struct am_line *l, const json_t *anc)
{
	size_t n = json_is_array(anc) ? json_array_size(anc) : 0;
	size_t skip_from = n, skip_to = n;

	if (n == 0)
		return;
	if (n > AM_HUMAN_ANCESTRY_MAX) {
		skip_from = 1;
		skip_to = n - (AM_HUMAN_ANCESTRY_MAX - 1);
	}
	am_line_put(l, " via ");
	for (size_t i = 0; i < n; i++) {
		if (i == skip_from) {
			am_line_put(l, " > ...");
			i = skip_to - 1;
			continue;
		}
		if (i)
			am_line_put(l, " > ");
		put_ancestor(l, json_array_get(anc, i));
	}
}

size_t am_event_human(const json_t *ev, char *buf, size_t sz)
{
	struct am_line l;
	const char *kind = str(ev, "kind"), *action = str(ev, "action");
	json_int_t pid;

	if (sz == 0)
		return 0;
	am_line_init(&l, buf, sz);
	put_time(&l, str(ev, "ts"));
	am_line_put(&l, " ");
	put_str(&l, ev, "agent", "-");
	if (num(ev, "pid", &pid))
		am_line_printf(&l, " %lld", (long long)pid);
	if (str(ev, "verdict")) {
		am_line_put(&l, " ");
		put_str(&l, ev, "verdict", "");
	}
	am_line_put(&l, " ");
	am_line_put(&l, kind ? kind : "?");
	am_line_put(&l, " ");
	put_what(&l, ev, kind ? kind : "");
	if (str(ev, "rule") && *str(ev, "rule")) {
		am_line_put(&l, " [");
		put_str(&l, ev, "rule", "");
		am_line_put(&l, "]");
	}
	if (action && strcmp(action, "none") != 0) {
		am_line_put(&l, " -> ");
		put_str(&l, ev, "action", "");
		if (str(ev, "outcome")) {
			am_line_put(&l, ": ");
			put_str(&l, ev, "outcome", "");
		}
		if (str(ev, "enforced") && !strcmp(str(ev, "enforced"), "kernel"))
			am_line_put(&l, " in kernel");
		if (json_is_true(get(ev, "escalated")))
			am_line_put(&l, " (escalated)");
	}
	put_ancestry(&l, get(ev, "ancestry"));
	return l.len;
}
