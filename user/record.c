#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "record.h"
#include "agentmon.h"

void am_format_ts(uint64_t ns, char *buf, size_t sz)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%09lluZ", base, (unsigned long long)(ns % 1000000000ull));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0 && c >= 0xc2)
		len = 2;
	else if ((c & 0xf0) == 0xe0)
		len = 3;
	else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3-byte, surrogates, > U+10FFFF */
	if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
		return 0;
	if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
		return 0;
	return len;
}

/* A JSON string from arbitrary bytes: paths and argv are not always UTF-8. */
static json_t *jstr_n(const char *s, size_t n)
{
	json_t *j;
	size_t i = 0, o = 0;
	char *tmp;

	if (!s)
		return json_null();
	j = json_stringn(s, n);
	if (j)
		return j;
	tmp = malloc(n * 4 + 1);
	if (!tmp)
		return NULL;
	while (i < n) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);
		if (l && s[i] != 0) {
			memcpy(tmp + o, s + i, l);
			o += l;
			i += l;
		} else {
			o += sprintf(tmp + o, "\\x%02x", (unsigned char)s[i]);
			i++;
		}
	}
	j = json_stringn(tmp, o);
	free(tmp);
	return j;
}

static json_t *jstr(const char *s)
{
	return s ? jstr_n(s, strlen(s)) : json_null();
}

char *am_record_json(const struct am_record *r)
{
	char ts[64];
	json_t *o = json_object();
	char *out;

	if (!o)
		return NULL;
	am_format_ts(r->ts_ns, ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "host", jstr(r->host));
	json_object_set_new(o, "agent", jstr(r->agent));
	json_object_set_new(o, "profile", json_pack("{s:o,s:o}", "version", jstr(r->profile_version),
						    "sha256", jstr(r->profile_sha256)));
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "ppid", json_integer(r->ppid));
	json_object_set_new(o, "uid", json_integer(r->uid));
	json_object_set_new(o, "comm", jstr(r->comm));
	json_object_set_new(o, "exe", jstr(r->exe));
	json_object_set_new(o, "cgroup", jstr(r->cgroup));
	json_object_set_new(o, "kind", jstr(r->kind));
	if (r->argc > 0) {
		json_t *a = json_array();
		for (int i = 0; i < r->argc; i++)
			json_array_append_new(a, jstr_n(r->argv[i], r->argv_len[i]));
		json_object_set_new(o, "argv", a);
	}
	if (r->has_exit) {
		if (r->exit_signal)
			json_object_set_new(o, "exit", json_pack("{s:i}", "signal", r->exit_signal));
		else
			json_object_set_new(o, "exit", json_pack("{s:i}", "code", r->exit_code));
	}
	if (r->path) {
		json_t *f = json_pack("{s:o,s:o}", "path", jstr(r->path), "access", jstr(r->access));
		if (r->file_op)
			json_object_set_new(f, "op", jstr(r->file_op));
		if (r->path2)
			json_object_set_new(f, "to", jstr(r->path2));
		json_object_set_new(o, "file", f);
	}
	if (r->has_net) {
		json_t *n = json_object();
		json_object_set_new(n, "proto", jstr(r->net_proto));
		json_object_set_new(n, "family", jstr(r->net_family));
		if (r->net_family && strcmp(r->net_family, "unix") == 0) {
			json_object_set_new(n, "path", jstr(r->net_addr));
		} else {
			json_object_set_new(n, r->net_local ? "laddr" : "daddr", jstr(r->net_addr));
			json_object_set_new(n, r->net_local ? "lport" : "dport", json_integer(r->net_port));
		}
		json_object_set_new(n, "result", json_integer(r->net_result));
		json_object_set_new(o, "net", n);
	}
	if (strcmp(r->kind ? r->kind : "", "lost") == 0)
		json_object_set_new(o, "lost", json_pack("{s:I,s:o}", "count", (json_int_t)r->lost,
							 "reason", jstr(r->lost_reason)));
	if (r->flags & (AM_EVF_PATH_TRUNC | AM_EVF_ARGS_TRUNC | AM_EVF_PATH_ERR)) {
		json_t *t = json_array();
		if (r->flags & AM_EVF_PATH_TRUNC)
			json_array_append_new(t, json_string("path_truncated"));
		if (r->flags & AM_EVF_ARGS_TRUNC)
			json_array_append_new(t, json_string("argv_truncated"));
		if (r->flags & AM_EVF_PATH_ERR)
			json_array_append_new(t, json_string("path_unreadable"));
		json_object_set_new(o, "flags", t);
	}
	if (r->verdict || r->action) {
		if (r->verdict) {
			json_object_set_new(o, "verdict", jstr(r->verdict));
			json_object_set_new(o, "rule", jstr(r->rule));
		}
		json_object_set_new(o, "action", jstr(r->action));
		json_object_set_new(o, "outcome", jstr(r->outcome));
		if (r->escalated)
			json_object_set_new(o, "escalated", json_true());
		if (r->flags & (AM_EVF_KILLED | AM_EVF_DENIED))
			json_object_set_new(o, "enforced", json_string("kernel"));
	}
	/* every non-allowed event names its ancestry, even an empty one (the root) */
	if (r->n_ancestry > 0 || (r->verdict && strcmp(r->verdict, "allow") != 0)) {
		json_t *a = json_array();
		for (int i = 0; i < r->n_ancestry; i++)
			json_array_append_new(a, json_pack("{s:I,s:o}", "pid", (json_int_t)r->ancestry[i].pid,
							   "exe", jstr(r->ancestry[i].exe)));
		json_object_set_new(o, "ancestry", a);
	}
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
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
