/* Loader: diagnostics of am_profile_load, includes (depth, diamonds,
 * cycles), strict ownership, defaults, and the time/duration parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "profile.h"
#include "timefmt.h"

static char dir[64];

static const char *put(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/am-profile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Load and expect failure with msg == "<dir>/<file>:<rest>". */
static void expect_error(const char *file, const char *rest)
{
	struct am_profile *p = (void *)1;
	struct am_diag d;
	char want[1024], path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_not_equal(am_profile_load(path, 0, &p, &d), 0);
	assert_null(p);
	snprintf(want, sizeof(want), "%s%s", path, rest);
	assert_string_equal(d.msg, want);
}

static void test_diag(void **state)
{
	put("a.json", "{\"name\": \"a\", \"version\": \"1\",\n \"exec\": {\"alow\": []}}");
	expect_error("a.json", ":2:11: exec: unknown field \"alow\" (did you mean \"allow\"?)");
	put("b.json", "{\"name\": \"a\", \"version\": \"1\", \"zzz\": 1}");
	expect_error("b.json", ":1:31: unknown field \"zzz\"");
	put("c.json", "{\"name\": \"a\"}");
	expect_error("c.json", ": missing \"version\"");
	put("d.json", "{\"name\": \"a\", \"version\": \"1\", \"files\": {\"read\": [\"/ok\", \"/x/\"]}}");
	expect_error("d.json", ":1:57: files.read[1]: trailing '/' never matches a resolved path "
		     "(write /dir or /dir/**)");
	put("e.json", "{\"name\": \"\xc3\xa9\", \"version\": \"1\"}");
	expect_error("e.json", ":1:10: name: must be letters, digits, '.', '_' or '-', starting "
		     "with a letter or digit");
	/* columns count characters, not bytes, like jansson */
	put("f.json", "{\"version\": \"\xc3\xa9\xc3\xa9\", \"name\": 1}");
	expect_error("f.json", ":1:27: name: must be a string");
	expect_error("nonexistent.json", ": No such file or directory");
	/* -ENOENT comes through as such */
	struct am_profile *p;
	assert_int_equal(am_profile_load("/nonexistent/x", 0, &p, NULL), -ENOENT);
}

static void test_defaults(void **state)
{
	struct am_profile *p;
	struct am_diag d;
	const char *path = put("min.json", "{\"name\": \"m\", \"version\": \"1\"}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), 0);
	assert_int_equal(am_profile_mode(p), AM_MODE_ENFORCE);
	assert_int_equal(am_profile_action(p, AM_DRIFT), AM_ACT_ALERT);
	assert_int_equal(am_profile_action(p, AM_VIOLATION), AM_ACT_ALERT);
	assert_int_equal(am_profile_action(p, AM_CRITICAL), AM_ACT_KILL);
	assert_int_equal(am_profile_lost_action(p), AM_ACT_ALERT);
	assert_null(am_profile_escalate(p));
	assert_null(am_profile_match_exe(p));
	assert_int_equal(am_profile_match_uid(p), -1);
	unsigned depth;
	assert_int_equal(am_profile_max_depth(p, &depth), 0);
	assert_int_equal(am_profile_approval(p, 0), AM_APPROVAL_MISSING);
	assert_int_equal(am_profile_expired(p, 0), 0);
	struct am_judgement j;
	am_judge_file(p, "/etc/passwd", 0, 0, &j);
	assert_int_equal(j.verdict, AM_VIOLATION);
	assert_string_equal(j.rule, "files.read");
	am_judge_exec(p, "/bin/true", 100, &j);
	assert_int_equal(j.verdict, AM_VIOLATION);
	am_profile_free(p);
}

static void test_includes(void **state)
{
	struct am_profile *p;
	struct am_diag d;
	char name[32], text[128];
	/* a diamond: both sides include "leaf"; merged once */
	put("leaf", "{\"files\": {\"read\": [\"/leaf\"]}}");
	put("left", "{\"include\": [\"./leaf\"], \"files\": {\"read\": [\"/left\"]}}");
	put("right", "{\"include\": [\"./leaf\"]}");
	const char *path = put("top.json", "{\"name\": \"t\", \"version\": \"1\", "
			       "\"include\": [\"./left\", \"./right\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), 0);
	assert_int_equal(am_profile_list_len(p, AM_L_FILES_READ), 2);
	struct am_judgement j;
	am_judge_file(p, "/leaf", 0, 0, &j);
	assert_string_equal(j.rule, "./leaf:files.read[0]");
	am_profile_free(p);

	/* a chain deeper than the limit */
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "chain%d", i);
		snprintf(text, sizeof(text), "{\"include\": [\"./chain%d\"]}", i + 1);
		put(name, i == 11 ? "{}" : text);
	}
	path = put("deep.json", "{\"name\": \"t\", \"version\": \"1\", \"include\": [\"./chain0\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), -EINVAL);
	char want[512];
	snprintf(want, sizeof(want), "%s/chain6:1:14: include[0]: includes nested deeper than 8",
		 dir);
	assert_string_equal(d.msg, want);

	/* self-inclusion */
	path = put("self.json", "{\"name\": \"t\", \"version\": \"1\", \"include\": [\"./self.json\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "include[0]: include cycle: \"./self.json\" includes itself"));

	/* fragments may not carry profile-only fields, including max_depth */
	put("frag-depth", "{\"exec\": {\"max_depth\": 2}}");
	path = put("fd.json", "{\"name\": \"t\", \"version\": \"1\", \"include\": [\"./frag-depth\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s/frag-depth:1:11: exec: unknown field \"max_depth\"", dir);
	assert_string_equal(d.msg, want);

	/* a named abstraction via $AGENTMON_ABSTRACTIONS */
	char absdir[128];
	snprintf(absdir, sizeof(absdir), "%s", dir);
	setenv("AGENTMON_ABSTRACTIONS", absdir, 1);
	path = put("named.json", "{\"name\": \"t\", \"version\": \"1\", \"include\": [\"leaf\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), 0);
	am_judge_file(p, "/leaf", 0, 0, &j);
	assert_string_equal(j.rule, "leaf:files.read[0]");
	am_profile_free(p);
	path = put("named2.json", "{\"name\": \"t\", \"version\": \"1\", \"include\": [\"base\"]}");
	assert_int_equal(am_profile_load(path, 0, &p, &d), -EINVAL);
	assert_non_null(strstr(d.msg, ":1:43: include[0]: fragment \"base\" not found"));
	unsetenv("AGENTMON_ABSTRACTIONS");
}

static void test_strict_owner(void **state)
{
	struct am_profile *p;
	struct am_diag d;
	char want[512];
	const char *path = put("own.json", "{\"name\": \"o\", \"version\": \"1\"}");
	char saved[256];
	snprintf(saved, sizeof(saved), "%s", path);
	if (geteuid() != 0)
		skip();
	chmod(dir, 0755);
	chmod(saved, 0644);
	assert_int_equal(am_profile_load(saved, AM_PROFILE_STRICT_OWNER, &p, &d), 0);
	am_profile_free(p);
	chmod(saved, 0664);
	assert_int_equal(am_profile_load(saved, AM_PROFILE_STRICT_OWNER, &p, &d), -EPERM);
	snprintf(want, sizeof(want), "%s: refusing profile writable by group or others (mode 0664); "
		 "run chmod go-w on it", saved);
	assert_string_equal(d.msg, want);
	assert_int_equal(am_profile_load(saved, 0, &p, &d), 0);	/* check does not care */
	am_profile_free(p);
	chmod(saved, 0644);
	assert_int_equal(chown(saved, 65534, 65534), 0);
	assert_int_equal(am_profile_load(saved, AM_PROFILE_STRICT_OWNER, &p, &d), -EPERM);
	snprintf(want, sizeof(want), "%s: refusing profile owned by uid 65534, not root "
		 "(strict ownership)", saved);
	assert_string_equal(d.msg, want);
	assert_int_equal(chown(saved, 0, 0), 0);
	chmod(dir, 0777);
	assert_int_equal(am_profile_load(saved, AM_PROFILE_STRICT_OWNER, &p, &d), -EPERM);
	chmod(dir, 01777);	/* sticky, like /tmp: fine */
	assert_int_equal(am_profile_load(saved, AM_PROFILE_STRICT_OWNER, &p, &d), 0);
	am_profile_free(p);
	chmod(dir, 0700);
}

static void test_rfc3339(void **state)
{
	static const struct { const char *s; long long t; } ok[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2026-11-20T10:00:00Z", 1795168800},
		{"2026-11-20t10:00:00z", 1795168800},
		{"2026-11-20T12:00:00+02:00", 1795168800},
		{"2026-11-20T05:30:00-04:30", 1795168800},
		{"2026-11-20T10:00:00.123456789Z", 1795168800},
		{"2024-02-29T00:00:00Z", 1709164800},
		{"2016-12-31T23:59:60Z", 1483228800},
	};
	static const char *const bad[] = {
		"", "2026-11-20", "2026-11-20T10:00:00", "2026-11-20 10:00:00Z", "2026-13-01T00:00:00Z",
		"2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-20T24:00:00Z",
		"2026-11-20T10:60:00Z", "2026-11-20T10:00:00.Z", "2026-11-20T10:00:00Zjunk",
		"2026-11-20T10:00:00+2:00", "1969-12-31T23:59:59Z", "20261120T100000Z",
		"2026-11-20T10:00:00+24:00", "2026-00-10T00:00:00Z",
	};
	time_t t;
	const char *why;
	char buf[32];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (am_parse_rfc3339(ok[i].s, &t, &why))
			fail_msg("%s: %s", ok[i].s, why);
		assert_int_equal(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!am_parse_rfc3339(bad[i], &t, &why))
			fail_msg("%s accepted", bad[i]);
	am_format_rfc3339(1795168800, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-20T10:00:00Z");
}

static void test_duration(void **state)
{
	static const struct { const char *s; uint64_t sec; } ok[] = {
		{"1s", 1}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"1h30m", 5400}, {"1d", 86400},
		{"1d2h3m4s", 93784}, {"366d", 366 * 86400}, {"0h1s", 1}, {"100000s", 100000},
	};
	static const char *const bad[] = {
		"", "0s", "0m0s", "15", "m", "15x", "15 m", " 15m", "15m ", "1m1h", "1h1h", "-1s",
		"1.5h", "367d", "999999999d", "9999999999s", "15M", "1w",
	};
	uint64_t ns;
	const char *why;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (am_parse_duration(ok[i].s, &ns, &why))
			fail_msg("%s: %s", ok[i].s, why);
		assert_int_equal(ns, ok[i].sec * 1000000000ULL);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!am_parse_duration(bad[i], &ns, &why))
			fail_msg("%s accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_strict_owner),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
