/* The JSON formatter as it was with jansson (before the hand-written writer
 * in user/record.c), kept for the unit tests only: the new writer must
 * produce the same bytes for every record. */
#ifndef AGENTMON_RECORD_REF_H
#define AGENTMON_RECORD_REF_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "record.h"
#include "agentmon.h"

static void ref_format_ts(uint64_t ns, char *buf, size_t sz)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%09lluZ", base, (unsigned long long)(ns % 1000000000ull));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t ref_utf8_seq(const unsigned char *s, size_t n)
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
static json_t *ref_jstr_n(const char *s, size_t n)
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
		size_t l = ref_utf8_seq((const unsigned char *)s + i, n - i);
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

static json_t *ref_jstr(const char *s)
{
	return s ? ref_jstr_n(s, strlen(s)) : json_null();
}

static char *am_record_json_ref(const struct am_record *r)
{
	char ts[64];
	json_t *o = json_object();
	char *out;

	if (!o)
		return NULL;
	ref_format_ts(r->ts_ns, ts, sizeof(ts));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "host", ref_jstr(r->host));
	json_object_set_new(o, "agent", ref_jstr(r->agent));
	json_object_set_new(o, "profile", json_pack("{s:o,s:o}", "version", ref_jstr(r->profile_version),
						    "sha256", ref_jstr(r->profile_sha256)));
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "ppid", json_integer(r->ppid));
	json_object_set_new(o, "uid", json_integer(r->uid));
	json_object_set_new(o, "comm", ref_jstr(r->comm));
	json_object_set_new(o, "exe", ref_jstr(r->exe));
	json_object_set_new(o, "cgroup", ref_jstr(r->cgroup));
	json_object_set_new(o, "kind", ref_jstr(r->kind));
	if (r->argc > 0) {
		json_t *a = json_array();
		for (int i = 0; i < r->argc; i++)
			json_array_append_new(a, ref_jstr_n(r->argv[i], r->argv_len[i]));
		json_object_set_new(o, "argv", a);
	}
	if (r->has_exit) {
		if (r->exit_signal)
			json_object_set_new(o, "exit", json_pack("{s:i}", "signal", r->exit_signal));
		else
			json_object_set_new(o, "exit", json_pack("{s:i}", "code", r->exit_code));
	}
	if (r->path) {
		json_t *f = json_pack("{s:o,s:o}", "path", ref_jstr(r->path), "access", ref_jstr(r->access));
		if (r->file_op)
			json_object_set_new(f, "op", ref_jstr(r->file_op));
		if (r->path2)
			json_object_set_new(f, "to", ref_jstr(r->path2));
		json_object_set_new(o, "file", f);
	}
	if (r->has_net) {
		json_t *n = json_object();
		json_object_set_new(n, "proto", ref_jstr(r->net_proto));
		json_object_set_new(n, "family", ref_jstr(r->net_family));
		if (r->net_family && strcmp(r->net_family, "unix") == 0) {
			json_object_set_new(n, "path", ref_jstr(r->net_addr));
		} else {
			json_object_set_new(n, r->net_local ? "laddr" : "daddr", ref_jstr(r->net_addr));
			json_object_set_new(n, r->net_local ? "lport" : "dport", json_integer(r->net_port));
		}
		json_object_set_new(n, "result", json_integer(r->net_result));
		json_object_set_new(o, "net", n);
	}
	if (strcmp(r->kind ? r->kind : "", "lost") == 0)
		json_object_set_new(o, "lost", json_pack("{s:I,s:o}", "count", (json_int_t)r->lost,
							 "reason", ref_jstr(r->lost_reason)));
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
			json_object_set_new(o, "verdict", ref_jstr(r->verdict));
			json_object_set_new(o, "rule", ref_jstr(r->rule));
		}
		json_object_set_new(o, "action", ref_jstr(r->action));
		json_object_set_new(o, "outcome", ref_jstr(r->outcome));
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
							   "exe", ref_jstr(r->ancestry[i].exe)));
		json_object_set_new(o, "ancestry", a);
	}
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

#endif
