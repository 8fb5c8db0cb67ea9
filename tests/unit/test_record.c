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
#include "record_ref.h"

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

/* The hand-written writer must give the same bytes as the jansson formatter
 * it replaced (record_ref.h), and its snprintf-style contract must hold. */
static void same_as_ref(const struct am_record *r)
{
	char *ref = am_record_json_ref(r);
	char *got = am_record_json(r);
	assert_non_null(ref);
	assert_non_null(got);
	assert_string_equal(got, ref);
	/* every cut is NUL-terminated, a prefix, and reports the full length */
	size_t n = strlen(ref);
	char small[64];
	for (size_t sz = 0; sz <= sizeof(small); sz += 7) {
		memset(small, 'X', sizeof(small));
		size_t m = am_record_json_buf(r, small, sz);
		assert_int_equal(m, n);
		if (sz) {
			size_t k = n < sz ? n : sz - 1;
			assert_int_equal(strlen(small), k);
			assert_memory_equal(small, ref, k);
		}
		if (sz < sizeof(small))
			assert_int_equal(small[sz], 'X');   /* nothing written past sz */
	}
	free(ref);
	free(got);
}

static void test_json_same_as_jansson_fixed(void **st)
{
	struct am_record r;
	static const char args[] = "sh\0-c\0echo \"q\" \\ \x01\x1f\x7f tab\there\0\xff\xfe\0caf\xc3\xa9";
	base(&r);
	same_as_ref(&r);
	am_record_set_args(&r, args, sizeof(args));
	r.flags = AM_EVF_PATH_TRUNC | AM_EVF_ARGS_TRUNC | AM_EVF_PATH_ERR | AM_EVF_KILLED;
	r.verdict = "critical";
	r.rule = "exec.deny[0]";
	r.action = "kill";
	r.outcome = "killed";
	r.escalated = 1;
	r.n_ancestry = 3;
	r.ancestry[0] = (struct am_ancestor){ 1, "/a\"b" };
	r.ancestry[1] = (struct am_ancestor){ 4294967295u, NULL };
	r.ancestry[2] = (struct am_ancestor){ 7, "/x\xc0\xafy\n" };
	same_as_ref(&r);
	/* NUL inside a string: \u0000 in valid UTF-8, the text \x00 otherwise */
	r.argc = 2;
	r.argv[0] = "a\0b";
	r.argv_len[0] = 3;
	r.argv[1] = "a\0\xff";
	r.argv_len[1] = 3;
	same_as_ref(&r);
	char *js = am_record_json(&r);
	assert_non_null(strstr(js, "\"argv\":[\"a\\u0000b\",\"a\\\\x00\\\\xff\"]"));
	free(js);
	/* file, with a rename target; every string NULL or odd */
	base(&r);
	r.kind = "rename";
	r.path = "/tmp/a\\b";
	r.access = "write";
	r.file_op = "rename";
	r.path2 = "/tmp/\xe2\x80\xa8\xf0\x9f\x98\x80\xf4\x90\x80\x80";
	r.verdict = "allow";
	r.rule = "files.write[0]";
	r.action = "none";
	same_as_ref(&r);
	r.host = r.agent = r.profile_version = r.profile_sha256 = r.comm = r.exe = r.cgroup = NULL;
	r.access = NULL;
	same_as_ref(&r);
	/* network: remote, local, unix */
	base(&r);
	r.kind = "connect";
	r.has_net = 1;
	r.net_proto = "tcp";
	r.net_family = "ipv6";
	strcpy(r.net_addr, "::ffff:127.0.0.1");
	r.net_port = 65535;
	r.net_result = -115;
	r.verdict = "violation";
	r.rule = "network.connect";
	r.action = "would:freeze";
	r.flags = AM_EVF_DENIED;
	same_as_ref(&r);
	r.net_local = 1;
	r.kind = "bind";
	same_as_ref(&r);
	r.net_family = "unix";
	strcpy(r.net_addr, "@abs\\x00name\"");
	same_as_ref(&r);
	/* exit code and signal, lost, no kind at all */
	base(&r);
	r.kind = "exit";
	r.has_exit = 1;
	r.exit_code = 255;
	same_as_ref(&r);
	r.exit_signal = 9;
	same_as_ref(&r);
	base(&r);
	r.kind = "lost";
	r.lost = 18446744073709551615ull;   /* wraps as jansson's signed integer */
	r.lost_reason = "ring buffer full";
	r.action = "would:alert";
	same_as_ref(&r);
	r.kind = NULL;
	same_as_ref(&r);
	/* timestamps: epoch, leap day, far future */
	r.ts_ns = 0;
	same_as_ref(&r);
	r.ts_ns = 951782400999999999ull;     /* 2000-02-29T00:00:00.999999999Z */
	same_as_ref(&r);
	r.ts_ns = 18446744073709551615ull;
	same_as_ref(&r);
}

/* Random records: random bytes in every string (often not UTF-8, with
 * quotes, backslashes, controls and NULs inside argv), random fields. */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char *rstr(char *buf, size_t cap, size_t *len)
{
	static const char pool[] = "/aZ09\"\\\x01\x1f\x7f\x80\xbf\xc0\xc2\xa9\xe0\xa0\xed\xa0\xef\xbf\xbd"
				   "\xf0\x90\xf4\x8f\xf5\xff\xe2\x82\xac\n\t";
	size_t n = rnd() % (cap - 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = rnd();
		buf[i] = (x & 1) ? (char)('a' + x % 26) : pool[(x >> 8) % (sizeof(pool) - 1)];
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static void test_json_same_as_jansson_random(void **st)
{
	static char s[16][64], args[200];
	struct am_record r;

	for (int it = 0; it < 20000; it++) {
		memset(&r, 0, sizeof(r));
		uint64_t x = rnd();
		r.ts_ns = rnd();
		r.host = (x & 1) ? rstr(s[0], 64, NULL) : NULL;
		r.agent = rstr(s[1], 64, NULL);
		r.profile_version = rstr(s[2], 8, NULL);
		r.profile_sha256 = (x & 2) ? rstr(s[3], 64, NULL) : NULL;
		r.pid = (uint32_t)rnd();
		r.ppid = (uint32_t)rnd();
		r.uid = (uint32_t)rnd();
		r.comm = rstr(s[4], 17, NULL);
		r.exe = (x & 4) ? rstr(s[5], 64, NULL) : NULL;
		r.cgroup = rstr(s[6], 64, NULL);
		static const char *kinds[] = { "exec", "open", "lost", "exit", "connect", NULL };
		r.kind = kinds[(x >> 3) % 6];
		if (x & 0x40) {
			size_t n;
			rstr(args, sizeof(args), &n);
			for (size_t i = 0; i < n; i++)
				if (rnd() % 8 == 0)
					args[i] = 0;
			am_record_set_args(&r, args, n);
		}
		if (x & 0x80) {
			r.has_exit = 1;
			r.exit_code = (int)(rnd() % 256);
			r.exit_signal = (x & 0x100) ? (int)(rnd() % 65) : 0;
		}
		if (x & 0x200) {
			r.path = rstr(s[7], 64, NULL);
			r.access = (x & 0x400) ? "write" : "read";
			r.file_op = (x & 0x800) ? rstr(s[8], 10, NULL) : NULL;
			r.path2 = (x & 0x1000) ? rstr(s[9], 64, NULL) : NULL;
		}
		if (x & 0x2000) {
			static const char *fams[] = { "ipv4", "ipv6", "unix", NULL };
			r.has_net = 1;
			r.net_proto = (x & 0x4000) ? "tcp" : NULL;
			r.net_family = fams[(x >> 15) % 4];
			rstr(r.net_addr, sizeof(r.net_addr), NULL);
			r.net_port = (uint32_t)rnd() % 70000;
			r.net_local = (x >> 17) & 1;
			r.net_result = -(int)(rnd() % 200);
		}
		r.lost = rnd();
		r.lost_reason = (x & 0x40000) ? rstr(s[10], 40, NULL) : NULL;
		r.flags = (uint32_t)rnd() & 0x1f;
		if (x & 0x80000) {
			static const char *v[] = { "allow", "drift", "violation", "critical" };
			r.verdict = v[(x >> 20) % 4];
			r.rule = rstr(s[11], 30, NULL);
		}
		if (x & 0x400000)
			r.action = rstr(s[12], 16, NULL);
		r.outcome = (x & 0x800000) ? rstr(s[13], 30, NULL) : NULL;
		r.escalated = (x >> 24) & 1;
		r.n_ancestry = (int)((x >> 25) % 4);
		for (int i = 0; i < r.n_ancestry; i++)
			r.ancestry[i] = (struct am_ancestor){ (uint32_t)rnd(),
							      (x >> (30 + i)) & 1 ? NULL : rstr(s[14 + (i & 1)], 64, NULL) };
		same_as_ref(&r);
	}
}

/* A record far larger than am_record_json's first try (4 KiB). */
static void test_json_long_strings(void **st)
{
	static char path[AM_PATH_MAX], exe[AM_PATH_MAX];
	struct am_record r;
	base(&r);
	memset(path, '"', sizeof(path) - 1);    /* every byte escaped: 2x */
	memset(exe, '\x01', sizeof(exe) - 1);   /* every byte \u0001: 6x */
	r.kind = "open";
	r.path = path;
	r.access = "read";
	r.exe = exe;
	r.n_ancestry = AM_ANCESTRY_MAX;
	for (int i = 0; i < AM_ANCESTRY_MAX; i++)
		r.ancestry[i] = (struct am_ancestor){ (uint32_t)i, exe };
	same_as_ref(&r);
	char *s = am_record_json(&r);
	assert_true(strlen(s) > 33 * 6 * (AM_PATH_MAX - 1));
	free(s);
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
		cmocka_unit_test(test_json_same_as_jansson_fixed),
		cmocka_unit_test(test_json_same_as_jansson_random),
		cmocka_unit_test(test_json_long_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
