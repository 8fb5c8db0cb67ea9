/* Event formatting: JSON lines per SPEC and readable lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "agentmon.h"

static void base(struct am_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1795684443123456789ull;  /* 2026-11-26T09:14:03.123456789Z */
	r->host = "agent-host-1";
	r->agent = "support-bot";
	r->profile_version = "1.4.0";
	r->profile_sha256 = "9f2c";
	r->pid = 4242;
	r->ppid = 4200;
	r->uid = 1001;
	r->comm = "curl";
	r->exe = "/usr/bin/curl";
	r->cgroup = "/agentmon/support-bot-4200";
	r->kind = "exec";
}

static json_t *parse(const struct am_record *r)
{
	char *s = am_record_json(r);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));   /* one line */
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	assert_non_null(j);
	free(s);
	return j;
}

static void test_ts_format(void **st)
{
	char b[64];
	am_format_ts(1795684443123456789ull, b, sizeof(b));
	assert_string_equal(b, "2026-11-26T09:14:03.123456789Z");
	am_format_ts(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00.000000000Z");
	am_format_ts(5, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00.000000005Z");
}

static void test_exec_json_fields(void **st)
{
	struct am_record r;
	static const char args[] = "curl\0-s\0https://x";
	base(&r);
	am_record_set_args(&r, args, sizeof(args));
	r.n_ancestry = 2;
	r.ancestry[0] = (struct am_ancestor){ 4200, "/opt/support-bot/bin/bot" };
	r.ancestry[1] = (struct am_ancestor){ 4231, "/bin/sh" };
	r.verdict = "violation";
	r.rule = "network.connect";
	r.action = "freeze";
	r.outcome = "frozen";
	json_t *j = parse(&r);
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-11-26T09:14:03.123456789Z");
	assert_string_equal(json_string_value(json_object_get(j, "host")), "agent-host-1");
	assert_string_equal(json_string_value(json_object_get(j, "agent")), "support-bot");
	json_t *p = json_object_get(j, "profile");
	assert_string_equal(json_string_value(json_object_get(p, "version")), "1.4.0");
	assert_string_equal(json_string_value(json_object_get(p, "sha256")), "9f2c");
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 4242);
	assert_int_equal(json_integer_value(json_object_get(j, "ppid")), 4200);
	assert_int_equal(json_integer_value(json_object_get(j, "uid")), 1001);
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "curl");
	assert_string_equal(json_string_value(json_object_get(j, "exe")), "/usr/bin/curl");
	assert_string_equal(json_string_value(json_object_get(j, "cgroup")), "/agentmon/support-bot-4200");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "exec");
	json_t *a = json_object_get(j, "argv");
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_array_get(a, 2)), "https://x");
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "violation");
	assert_string_equal(json_string_value(json_object_get(j, "rule")), "network.connect");
	assert_string_equal(json_string_value(json_object_get(j, "action")), "freeze");
	assert_string_equal(json_string_value(json_object_get(j, "outcome")), "frozen");
	json_t *an = json_object_get(j, "ancestry");
	assert_int_equal(json_array_size(an), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(an, 0), "pid")), 4200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(an, 1), "exe")), "/bin/sh");
	assert_null(json_object_get(j, "exit"));
	assert_null(json_object_get(j, "flags"));
	json_decref(j);
}

static void test_exit_code_and_signal(void **st)
{
	struct am_record r;
	base(&r);
	r.kind = "exit";
	r.has_exit = 1;
	r.exit_code = 3;
	json_t *j = parse(&r);
	json_t *x = json_object_get(j, "exit");
	assert_int_equal(json_integer_value(json_object_get(x, "code")), 3);
	assert_null(json_object_get(x, "signal"));
	json_decref(j);
	r.exit_signal = 9;
	j = parse(&r);
	x = json_object_get(j, "exit");
	assert_int_equal(json_integer_value(json_object_get(x, "signal")), 9);
	assert_null(json_object_get(x, "code"));
	assert_null(json_object_get(j, "verdict"));
	json_decref(j);
}

static void test_lost(void **st)
{
	struct am_record r;
	base(&r);
	r.kind = "lost";
	r.lost = 123456789012ull;
	r.lost_reason = "ring buffer full";
	json_t *j = parse(&r);
	json_t *l = json_object_get(j, "lost");
	assert_int_equal(json_integer_value(json_object_get(l, "count")), 123456789012ll);
	assert_string_equal(json_string_value(json_object_get(l, "reason")), "ring buffer full");
	json_decref(j);
	char line[512];
	am_record_human(&r, line, sizeof(line));
	assert_non_null(strstr(line, "lost 123456789012 events (ring buffer full)"));
}

static void test_invalid_utf8_and_nulls(void **st)
{
	struct am_record r;
	base(&r);
	r.exe = "/tmp/\xff\xfe" "bad";
	r.comm = NULL;
	r.profile_sha256 = NULL;
	json_t *j = parse(&r);
	assert_string_equal(json_string_value(json_object_get(j, "exe")), "/tmp/\\xff\\xfebad");
	assert_true(json_is_null(json_object_get(j, "comm")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "profile"), "sha256")));
	json_decref(j);
	/* valid multi-byte UTF-8 passes through */
	r.exe = "/tmp/caf\xc3\xa9";
	j = parse(&r);
	assert_string_equal(json_string_value(json_object_get(j, "exe")), "/tmp/caf\xc3\xa9");
	json_decref(j);
	/* overlong encoding and surrogate are not valid */
	r.exe = "/\xc0\xaf" "x\xed\xa0\x80";
	j = parse(&r);
	assert_string_equal(json_string_value(json_object_get(j, "exe")), "/\\xc0\\xafx\\xed\\xa0\\x80");
	json_decref(j);
}

static void test_flags(void **st)
{
	struct am_record r;
	base(&r);
	r.flags = AM_EVF_PATH_TRUNC | AM_EVF_ARGS_TRUNC;
	json_t *j = parse(&r);
	json_t *f = json_object_get(j, "flags");
	assert_int_equal(json_array_size(f), 2);
	assert_string_equal(json_string_value(json_array_get(f, 0)), "path_truncated");
	assert_string_equal(json_string_value(json_array_get(f, 1)), "argv_truncated");
	json_decref(j);
}

static void test_human_line_escapes_controls(void **st)
{
	struct am_record r;
	static const char args[] = "sh\0-c\0echo \x1b[31mred\n";
	char line[512];
	base(&r);
	am_record_set_args(&r, args, sizeof(args));
	size_t n = am_record_human(&r, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_null(strchr(line, '\x1b'));
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "\\x1b[31mred\\x0a"));
	assert_non_null(strstr(line, "09:14:03.123 support-bot 4242 exec /usr/bin/curl -c"));
}

static void test_human_truncates_safely(void **st)
{
	struct am_record r;
	char line[16];
	base(&r);
	size_t n = am_record_human(&r, line, sizeof(line));
	assert_true(n < sizeof(line));
	assert_int_equal(strlen(line), n);
	assert_int_equal(am_record_human(&r, line, 0), 0);
}

static void test_human_verdict_action_ancestry(void **st)
{
	struct am_record r;
	char line[512];
	base(&r);
	r.kind = "open";
	r.path = "/etc/shadow";
	r.access = "read";
	r.verdict = "critical";
	r.rule = "files.deny[0]";
	r.action = "kill";
	r.outcome = "killed";
	r.n_ancestry = 2;
	r.ancestry[0] = (struct am_ancestor){ 1, "/opt/bot" };
	r.ancestry[1] = (struct am_ancestor){ 2, "/usr/bin/dash" };
	am_record_human(&r, line, sizeof(line));
	assert_non_null(strstr(line, "critical open read /etc/shadow [files.deny[0]] -> kill: killed via bot<dash"));
}

static void test_set_args(void **st)
{
	struct am_record r;
	memset(&r, 0, sizeof(r));
	am_record_set_args(&r, "a\0bb\0", 5);
	assert_int_equal(r.argc, 2);
	assert_int_equal(r.argv_len[1], 2);
	/* truncated last argument without NUL */
	am_record_set_args(&r, "a\0bbb", 5);
	assert_int_equal(r.argc, 2);
	assert_int_equal(r.argv_len[1], 3);
	am_record_set_args(&r, "", 0);
	assert_int_equal(r.argc, 0);
	/* more than AM_ARGV_MAX arguments are capped */
	char many[200];
	memset(many, 0, sizeof(many));
	am_record_set_args(&r, many, sizeof(many));
	assert_int_equal(r.argc, AM_ARGV_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ts_format),
		cmocka_unit_test(test_exec_json_fields),
		cmocka_unit_test(test_exit_code_and_signal),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_invalid_utf8_and_nulls),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_human_line_escapes_controls),
		cmocka_unit_test(test_human_truncates_safely),
		cmocka_unit_test(test_human_verdict_action_ancestry),
		cmocka_unit_test(test_set_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
