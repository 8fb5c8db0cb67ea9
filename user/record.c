#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "record.h"
#include "utf8.h"
#include "agentmon.h"

/* Days since 1970-01-01 → civil date (proleptic Gregorian; H. Hinnant's
 * days_from_civil inverse). No locale, no tables, no libc time zone state. */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* 2026-11-26T09:14:03.123456789Z: 30 characters, NUL included 31. */
#define AM_TS_LEN 30

static size_t format_ts(uint64_t ns, char out[AM_TS_LEN + 1])
{
	/* events come in bursts within the same second: its text is kept */
	static __thread uint64_t last_s = UINT64_MAX;
	static __thread char last[20];
	uint64_t s = ns / 1000000000ull;
	unsigned sod = (unsigned)(s % 86400), m, d;
	int64_t y;
	char *p = out;

	if (s == last_s) {
		memcpy(p, last, 19);
		p += 19;
		*p++ = '.';
		p = put_digits(p, (unsigned)(ns % 1000000000ull), 9);
		*p++ = 'Z';
		*p = 0;
		return (size_t)(p - out);
	}
	civil((int64_t)(s / 86400), &y, &m, &d);
	p = put_digits(p, (unsigned)y, 4);   /* u64 ns since 1970 ends in 2554 */
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	memcpy(last, out, 19);
	last_s = s;
	*p++ = '.';
	p = put_digits(p, (unsigned)(ns % 1000000000ull), 9);
	*p++ = 'Z';
	*p = 0;
	return (size_t)(p - out);
}

void am_format_ts(uint64_t ns, char *buf, size_t sz)
{
	char t[AM_TS_LEN + 1];
	size_t n = format_ts(ns, t);

	if (sz == 0)
		return;
	if (n >= sz)
		n = sz - 1;
	memcpy(buf, t, n);
	buf[n] = 0;
}


/* --- JSON writer ---
 * Appends to a caller's buffer with snprintf semantics: never writes past
 * `sz`, always counts what the whole record needs, so a caller whose buffer
 * was too small can retry with one of the size returned. No allocation. */
struct jw {
	char *b;
	size_t sz;   /* capacity */
	size_t n;    /* bytes the record needs so far */
};

static inline void jw_mem(struct jw *w, const char *s, size_t len)
{
	if (w->n + len <= w->sz)
		memcpy(w->b + w->n, s, len);
	else if (w->n < w->sz)
		memcpy(w->b + w->n, s, w->sz - w->n);   /* cut: a prefix, like snprintf */
	w->n += len;
}

static inline void jw_c(struct jw *w, char c)
{
	if (w->n < w->sz)
		w->b[w->n] = c;
	w->n++;
}

#define jw_lit(w, s) jw_mem((w), (s), sizeof(s) - 1)

static void jw_u64(struct jw *w, uint64_t v)
{
	char t[20];
	int i = 20;

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_mem(w, t + i, (size_t)(20 - i));
}

static void jw_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		jw_c(w, '-');
		jw_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		jw_u64(w, (uint64_t)v);
	}
}

static const char hexd[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

/* Bytes that need no escape in a JSON string: 0x20..0x7f (and UTF-8 lead and
 * continuation bytes, which are checked separately) except '"' and '\'. */
static inline int plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

/* One character below 0x20, '"' or '\', escaped as jansson does. */
static void jw_esc(struct jw *w, unsigned char c)
{
	char e[6];

	switch (c) {
	case '"': jw_lit(w, "\\\""); return;
	case '\\': jw_lit(w, "\\\\"); return;
	case '\b': jw_lit(w, "\\b"); return;
	case '\f': jw_lit(w, "\\f"); return;
	case '\n': jw_lit(w, "\\n"); return;
	case '\r': jw_lit(w, "\\r"); return;
	case '\t': jw_lit(w, "\\t"); return;
	}
	e[0] = '\\';
	e[1] = 'u';
	e[2] = '0';
	e[3] = '0';
	e[4] = hexd[c >> 4];
	e[5] = hexd[c & 15];
	jw_mem(w, e, 6);
}

/* Length of the run of bytes at s (n left) that go into a JSON string as
 * they are: 0x20..0x7f but '"' and '\\'. Eight bytes at a time (paths are
 * mostly such runs): a word is taken whole when none of its bytes is below
 * 0x20, '"', '\\' or >= 0x80 (the has-zero-byte bit trick, which never
 * misses one; a false alarm only sends the word to the byte loop). */
static size_t plain_run(const unsigned char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v, q, b;
		memcpy(&v, s + i, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		if (((v - ones * 0x20) & ~v) & highs || (v & highs) ||
		    ((q - ones) & ~q & highs) || ((b - ones) & ~b & highs))
			break;
	}
	while (i < n && s[i] < 0x80 && plain(s[i]))
		i++;
	return i;
}

/* A JSON string from arbitrary bytes (paths and argv are not always UTF-8).
 * Valid UTF-8 is written as it is, with '"', '\' and control characters
 * escaped. A string that is not valid UTF-8 is written with each invalid
 * byte, and each NUL, as the four characters \xNN (so "\\xNN" in the JSON
 * text) and its valid sequences as they are: the reader sees every byte. */
static void jw_strn(struct jw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = w->n, i = 0;
	int bytes = 0;   /* fallback: the string is not valid UTF-8 */

	jw_c(w, '"');
	while (i < n) {
		/* runs of plain ASCII: one copy */
		size_t j = i + plain_run(u + i, n - i);
		if (j > i) {
			jw_mem(w, s + i, j - i);
			i = j;
			if (i == n)
				break;
		}
		unsigned char c = u[i];
		if (c < 0x80) {
			if (c == 0 && bytes) {
				jw_lit(w, "\\\\x00");
			} else {
				jw_esc(w, c);
			}
			i++;
			continue;
		}
		size_t l = am_utf8_seq(u + i, n - i);
		if (l) {
			jw_mem(w, s + i, l);
			i += l;
			continue;
		}
		if (!bytes) {
			/* start over: NULs already written must become \x00 too */
			bytes = 1;
			w->n = start;
			jw_c(w, '"');
			i = 0;
			continue;
		}
		char e[5] = { '\\', '\\', 'x', hexl[c >> 4], hexl[c & 15] };
		jw_mem(w, e, 5);
		i++;
	}
	jw_c(w, '"');
}

static void jw_str(struct jw *w, const char *s)
{
	if (s)
		jw_strn(w, s, strlen(s));
	else
		jw_lit(w, "null");
}

/* ,"key": (keys are literals of ours: nothing to escape) */
#define jw_key(w, k) jw_lit(w, ",\"" k "\":")

size_t am_record_json_buf(const struct am_record *r, char *buf, size_t sz)
{
	struct jw w = { buf, sz, 0 };
	char ts[AM_TS_LEN + 1];

	jw_lit(&w, "{\"ts\":\"");
	jw_mem(&w, ts, format_ts(r->ts_ns, ts));
	jw_c(&w, '"');
	jw_key(&w, "host");
	jw_str(&w, r->host);
	jw_key(&w, "agent");
	jw_str(&w, r->agent);
	jw_key(&w, "profile");
	jw_lit(&w, "{\"version\":");
	jw_str(&w, r->profile_version);
	jw_key(&w, "sha256");
	jw_str(&w, r->profile_sha256);
	jw_c(&w, '}');
	jw_key(&w, "pid");
	jw_u64(&w, r->pid);
	jw_key(&w, "ppid");
	jw_u64(&w, r->ppid);
	jw_key(&w, "uid");
	jw_u64(&w, r->uid);
	jw_key(&w, "comm");
	jw_str(&w, r->comm);
	jw_key(&w, "exe");
	jw_str(&w, r->exe);
	jw_key(&w, "cgroup");
	jw_str(&w, r->cgroup);
	jw_key(&w, "kind");
	jw_str(&w, r->kind);
	if (r->argc > 0) {
		jw_key(&w, "argv");
		jw_c(&w, '[');
		for (int i = 0; i < r->argc; i++) {
			if (i)
				jw_c(&w, ',');
			if (r->argv[i])
				jw_strn(&w, r->argv[i], r->argv_len[i]);
			else
				jw_lit(&w, "null");
		}
		jw_c(&w, ']');
	}
	if (r->has_exit) {
		if (r->exit_signal) {
			jw_key(&w, "exit");
			jw_lit(&w, "{\"signal\":");
			jw_i64(&w, r->exit_signal);
		} else {
			jw_key(&w, "exit");
			jw_lit(&w, "{\"code\":");
			jw_i64(&w, r->exit_code);
		}
		jw_c(&w, '}');
	}
	if (r->path) {
		jw_key(&w, "file");
		jw_lit(&w, "{\"path\":");
		jw_str(&w, r->path);
		jw_key(&w, "access");
		jw_str(&w, r->access);
		if (r->file_op) {
			jw_key(&w, "op");
			jw_str(&w, r->file_op);
		}
		if (r->path2) {
			jw_key(&w, "to");
			jw_str(&w, r->path2);
		}
		jw_c(&w, '}');
	}
	if (r->has_net) {
		jw_key(&w, "net");
		jw_lit(&w, "{\"proto\":");
		jw_str(&w, r->net_proto);
		jw_key(&w, "family");
		jw_str(&w, r->net_family);
		if (r->net_family && strcmp(r->net_family, "unix") == 0) {
			jw_key(&w, "path");
			jw_str(&w, r->net_addr);
		} else {
			if (r->net_local)
				jw_key(&w, "laddr");
			else
				jw_key(&w, "daddr");
			jw_str(&w, r->net_addr);
			if (r->net_local)
				jw_key(&w, "lport");
			else
				jw_key(&w, "dport");
			jw_u64(&w, r->net_port);
		}
		jw_key(&w, "result");
		jw_i64(&w, r->net_result);
		jw_c(&w, '}');
	}
	if (r->kind && strcmp(r->kind, "lost") == 0) {
		jw_key(&w, "lost");
		jw_lit(&w, "{\"count\":");
		/* jansson's integers are signed 64-bit */
		jw_i64(&w, (int64_t)r->lost);
		jw_key(&w, "reason");
		jw_str(&w, r->lost_reason);
		jw_c(&w, '}');
	}
	if (r->flags & (AM_EVF_PATH_TRUNC | AM_EVF_ARGS_TRUNC | AM_EVF_PATH_ERR)) {
		int first = 1;
		jw_key(&w, "flags");
		jw_c(&w, '[');
		if (r->flags & AM_EVF_PATH_TRUNC) {
			jw_lit(&w, "\"path_truncated\"");
			first = 0;
		}
		if (r->flags & AM_EVF_ARGS_TRUNC) {
			if (!first)
				jw_c(&w, ',');
			jw_lit(&w, "\"argv_truncated\"");
			first = 0;
		}
		if (r->flags & AM_EVF_PATH_ERR) {
			if (!first)
				jw_c(&w, ',');
			jw_lit(&w, "\"path_unreadable\"");
		}
		jw_c(&w, ']');
	}
	if (r->verdict || r->action) {
		if (r->verdict) {
			jw_key(&w, "verdict");
			jw_str(&w, r->verdict);
			jw_key(&w, "rule");
			jw_str(&w, r->rule);
		}
		jw_key(&w, "action");
		jw_str(&w, r->action);
		jw_key(&w, "outcome");
		jw_str(&w, r->outcome);
		if (r->escalated)
			jw_lit(&w, ",\"escalated\":true");
		if (r->flags & (AM_EVF_KILLED | AM_EVF_DENIED))
			jw_lit(&w, ",\"enforced\":\"kernel\"");
	}
	/* every non-allowed event names its ancestry, even an empty one (the root) */
	if (r->n_ancestry > 0 || (r->verdict && strcmp(r->verdict, "allow") != 0)) {
		jw_key(&w, "ancestry");
		jw_c(&w, '[');
		for (int i = 0; i < r->n_ancestry; i++) {
			if (i)
				jw_c(&w, ',');
			jw_lit(&w, "{\"pid\":");
			jw_u64(&w, r->ancestry[i].pid);
			jw_key(&w, "exe");
			jw_str(&w, r->ancestry[i].exe);
			jw_c(&w, '}');
		}
		jw_c(&w, ']');
	}
	jw_c(&w, '}');
	if (w.n < sz)
		buf[w.n] = 0;
	else if (sz)
		buf[sz - 1] = 0;
	return w.n;
}

char *am_record_json(const struct am_record *r)
{
	char tmp[4096];
	size_t n = am_record_json_buf(r, tmp, sizeof(tmp));
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n < sizeof(tmp))
		memcpy(s, tmp, n + 1);
	else
		am_record_json_buf(r, s, n + 1);
	return s;
}

/* Append s to buf escaping what a terminal would interpret. */
static size_t put_esc(char *buf, size_t sz, size_t o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o + 5 < sz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, sz - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o < sz ? o : sz - 1] = 0;
	return o;
}

static size_t put(char *buf, size_t sz, size_t o, const char *s)
{
	return s ? put_esc(buf, sz, o, s, strlen(s)) : o;
}

size_t am_record_human(const struct am_record *r, char *buf, size_t sz)
{
	char ts[64], num[64];
	size_t o = 0;

	if (sz == 0)
		return 0;
	buf[0] = 0;
	am_format_ts(r->ts_ns, ts, sizeof(ts));
	/* HH:MM:SS.mmm is enough on a live terminal */
	o = put(buf, sz, o, ts + 11);
	if (o >= 12)
		o = 12;
	buf[o] = 0;
	o = put(buf, sz, o, " ");
	o = put(buf, sz, o, r->agent);
	snprintf(num, sizeof(num), " %u ", r->pid);
	o = put(buf, sz, o, num);
	if (r->verdict) {
		o = put(buf, sz, o, r->verdict);
		o = put(buf, sz, o, " ");
	}
	o = put(buf, sz, o, r->kind);
	o = put(buf, sz, o, " ");
	if (r->argc > 0) {
		o = put(buf, sz, o, r->exe);
		for (int i = 1; i < r->argc; i++) {
			o = put(buf, sz, o, " ");
			o = put_esc(buf, sz, o, r->argv[i], r->argv_len[i]);
		}
	} else if (r->path) {
		o = put(buf, sz, o, r->access);
		o = put(buf, sz, o, " ");
		o = put(buf, sz, o, r->path);
		if (r->path2) {
			o = put(buf, sz, o, " -> ");
			o = put(buf, sz, o, r->path2);
		}
	} else if (r->has_net) {
		o = put(buf, sz, o, r->net_proto);
		o = put(buf, sz, o, " ");
		if (r->net_family && strcmp(r->net_family, "ipv6") == 0)
			snprintf(num, sizeof(num), "[%.40s]:%u", r->net_addr, r->net_port);
		else if (r->net_family && strcmp(r->net_family, "unix") == 0)
			snprintf(num, sizeof(num), "%.60s", r->net_addr);
		else
			snprintf(num, sizeof(num), "%.40s:%u", r->net_addr, r->net_port);
		o = put(buf, sz, o, num);
		if (r->net_result) {
			snprintf(num, sizeof(num), " (error %d)", -r->net_result);
			o = put(buf, sz, o, num);
		}
	} else if (r->has_exit) {
		o = put(buf, sz, o, r->comm);
		if (r->exit_signal)
			snprintf(num, sizeof(num), " signal %d", r->exit_signal);
		else
			snprintf(num, sizeof(num), " code %d", r->exit_code);
		o = put(buf, sz, o, num);
	} else if (r->lost) {
		snprintf(num, sizeof(num), "%llu events", (unsigned long long)r->lost);
		o = put(buf, sz, o, num);
		if (r->lost_reason) {
			o = put(buf, sz, o, " (");
			o = put(buf, sz, o, r->lost_reason);
			o = put(buf, sz, o, ")");
		}
	} else {
		o = put(buf, sz, o, r->exe ? r->exe : r->comm);
	}
	if (r->rule && r->rule[0]) {
		o = put(buf, sz, o, " [");
		o = put(buf, sz, o, r->rule);
		o = put(buf, sz, o, "]");
	}
	if (r->action && strcmp(r->action, "none") != 0) {
		o = put(buf, sz, o, " -> ");
		o = put(buf, sz, o, r->action);
		if (r->outcome) {
			o = put(buf, sz, o, ": ");
			o = put(buf, sz, o, r->outcome);
		}
	}
	/* every non-allowed event names its ancestry, even an empty one (the root) */
	if (r->n_ancestry > 0 || (r->verdict && strcmp(r->verdict, "allow") != 0)) {
		o = put(buf, sz, o, " via");
		for (int i = 0; i < r->n_ancestry; i++) {
			const char *e = r->ancestry[i].exe, *b = e ? strrchr(e, '/') : NULL;
			o = put(buf, sz, o, i ? "<" : " ");
			o = put(buf, sz, o, b ? b + 1 : (e ? e : "?"));
		}
	}
	return o;
}

void am_record_set_args(struct am_record *r, const char *args, size_t len)
{
	size_t i = 0;

	r->argc = 0;
	while (i < len && r->argc < AM_ARGV_MAX) {
		const char *s = args + i;
		size_t n = strnlen(s, len - i);
		r->argv[r->argc] = s;
		r->argv_len[r->argc] = n;
		r->argc++;
		i += n + 1;
	}
}
