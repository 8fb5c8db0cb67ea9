/* Glob matcher: a table of (pattern, path, expected) checked three ways —
 * the reference matcher, a one-pattern globset, and one big globset holding
 * every pattern (which must return the first matching pattern's id) — and a
 * measurement of the trie against a linear scan. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "glob.h"

struct gcase {
	const char *pat, *path;
	bool match;
};

static const struct gcase cases[] = {
	/* literal */
	{"/etc/passwd", "/etc/passwd", true},
	{"/etc/passwd", "/etc/passwd2", false},
	{"/etc/passwd", "/etc/passw", false},
	{"/etc/passwd", "/etc", false},
	{"/etc/passwd", "/etc/passwd/x", false},
	{"/etc/passwd", "/ETC/passwd", false},
	{"/etc/passwd", "etc/passwd", false},
	{"/etc/passwd", "", false},
	{"/etc/passwd", "/etc//passwd", false},
	{"/etc/passwd", "/etc/passwd/", false},
	{"/etc/passwd", "/etc/./passwd", false},
	{"/", "/", true},
	{"/", "/etc", false},
	{"/a", "/a", true},
	{"/a", "/", false},
	/* '?', '[' and '\\' are literal */
	{"/a?c", "/abc", false},
	{"/a?c", "/a?c", true},
	{"/[ab]", "/a", false},
	{"/[ab]", "/[ab]", true},
	{"/a\\*", "/a\\x", true},
	{"/a\\*", "/a*", false},
	/* '*' within one segment */
	{"/usr/bin/python3*", "/usr/bin/python3", true},
	{"/usr/bin/python3*", "/usr/bin/python3.11", true},
	{"/usr/bin/python3*", "/usr/bin/python", false},
	{"/usr/bin/python3*", "/usr/bin/python3/x", false},
	{"/usr/bin/*", "/usr/bin/ls", true},
	{"/usr/bin/*", "/usr/bin", false},
	{"/usr/bin/*", "/usr/bin/a/b", false},
	{"/usr/bin/*", "/usr/bin/", true},	/* empty last segment */
	{"/tmp/support-bot-*", "/tmp/support-bot-1", true},
	{"/tmp/support-bot-*", "/tmp/support-bot-", true},
	{"/tmp/support-bot-*", "/tmp/support-bot", false},
	{"/tmp/support-bot-*", "/tmp/support-bot-1/x", false},
	{"/*/passwd", "/etc/passwd", true},
	{"/*/passwd", "/passwd", false},
	{"/*/passwd", "/a/b/passwd", false},
	{"/*", "/x", true},
	{"/*", "/", false},
	{"/*", "/x/y", false},
	{"/a*b*c", "/abc", true},
	{"/a*b*c", "/aXbYc", true},
	{"/a*b*c", "/aXbYcZ", false},
	{"/a*b*c", "/acb", false},
	{"/a*b*c", "/abcbc", true},
	{"/*a", "/aaa", true},
	{"/*a", "/aab", false},
	{"/a**", "/a", false},	/* invalid pattern never matches */
	{"/**a", "/a", false},
	{"/a/***", "/a/b", false},
	{"/home/*/.bashrc", "/home/alice/.bashrc", true},
	{"/home/*/.bashrc", "/home/.bashrc", false},
	{"/home/*/.bashrc", "/home/a/b/.bashrc", false},
	{"/proc/*/maps", "/proc/4242/maps", true},
	{"/proc/*/maps", "/proc/self/maps", true},
	{"/proc/*/maps", "/proc/4242/task/1/maps", false},
	/* '**' across segments */
	{"/opt/bot/**", "/opt/bot", true},
	{"/opt/bot/**", "/opt/bot/x", true},
	{"/opt/bot/**", "/opt/bot/x/y/z", true},
	{"/opt/bot/**", "/opt/botx", false},
	{"/opt/bot/**", "/opt", false},
	{"/opt/bot/**", "/opt/other/x", false},
	{"/**", "/", true},
	{"/**", "/anything/at/all", true},
	{"**", "/", true},
	{"**", "/x/y", true},
	{"**", "x", false},	/* not absolute */
	{"**/.ssh/**", "/home/u/.ssh/id_rsa", true},
	{"**/.ssh/**", "/root/.ssh", true},
	{"**/.ssh/**", "/.ssh/x", true},
	{"**/.ssh/**", "/home/u/.sshx/id", false},
	{"**/.ssh/**", "/home/u/x.ssh/id", false},
	{"**/.ssh", "/a/b/.ssh", true},
	{"**/.ssh", "/a/b/.ssh/c", false},
	{"/a/**/b", "/a/b", true},
	{"/a/**/b", "/a/x/b", true},
	{"/a/**/b", "/a/x/y/b", true},
	{"/a/**/b", "/a/x/y/bc", false},
	{"/a/**/b", "/a/b/c", false},
	{"/a/**/b", "/b", false},
	{"/a/**/b/**/c", "/a/b/c", true},
	{"/a/**/b/**/c", "/a/1/b/2/3/c", true},
	{"/a/**/b/**/c", "/a/1/c/2/b", false},
	{"/a/**/**/b", "/a/b", true},
	{"/a/**/**/b", "/a/1/2/3/b", true},
	{"/**/*.so", "/usr/lib/libc.so", true},
	{"/**/*.so", "/libc.so", true},
	{"/**/*.so", "/usr/lib/libc.so.6", false},
	{"/**/*.so*", "/usr/lib/libc.so.6", true},
	{"/usr/lib/x86_64-linux-gnu/**", "/usr/lib/x86_64-linux-gnu/libc.so.6", true},
	{"/usr/lib/x86_64-linux-gnu/**", "/usr/lib/x86_64-linux-gnu", true},
	{"/usr/lib/x86_64-linux-gnu/**", "/lib/x86_64-linux-gnu/libc.so.6", false},
	{"/a/*/**", "/a", false},
	{"/a/*/**", "/a/b", true},
	{"/a/*/**", "/a/b/c/d", true},
	/* paths with odd shapes never confuse the matcher */
	{"/a/**", "/a//b", true},
	{"/a/*/b", "/a//b", true},	/* '*' matches the empty segment */
	{"/a/b", "/a/b/", false},
	{"/a/**", "/a/", true},
	{"/a/..", "/a/..", false},	/* invalid pattern */
	{"/a/../b", "/b", false},
	{"/a//b", "/a//b", false},	/* invalid pattern */
	{"/a/", "/a/", false},		/* invalid pattern */
	{"/a/.", "/a/.", false},
	{"/a/.x", "/a/.x", true},
	{"/a/..x", "/a/..x", true},
	{"/a/...", "/a/...", true},
	/* unicode: bytes, '*' spans multi-byte characters */
	{"/home/*/r\xc3\xa9sum\xc3\xa9.txt", "/home/al/r\xc3\xa9sum\xc3\xa9.txt", true},
	{"/home/*/r\xc3\xa9sum\xc3\xa9.txt", "/home/al/resume.txt", false},
	{"/d/*", "/d/\xe6\x97\xa5\xe6\x9c\xac", true},
	{"/d/\xe6\x97\xa5*", "/d/\xe6\x97\xa5\xe6\x9c\xac", true},
	{"/d/*\xe6\x9c\xac", "/d/\xe6\x97\xa5\xe6\x9c\xac", true},
	{"/d/\xe6\x9c\xac*", "/d/\xe6\x97\xa5\xe6\x9c\xac", false},
	{"/\xf0\x9f\x98\x80/**", "/\xf0\x9f\x98\x80/x", true},
	/* spaces and control bytes are just bytes */
	{"/a b/c", "/a b/c", true},
	{"/a*c", "/a\nc", true},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void test_reference(void **state)
{
	for (size_t i = 0; i < NCASES; i++) {
		bool got = am_glob_match(cases[i].pat, cases[i].path);
		if (got != cases[i].match)
			fail_msg("case %zu: %s vs %s: got %d", i, cases[i].pat, cases[i].path, got);
	}
}

static void test_single_set(void **state)
{
	const char *why;
	for (size_t i = 0; i < NCASES; i++) {
		struct am_globset *gs = am_globset_new();
		assert_non_null(gs);
		int err = am_globset_add(gs, cases[i].pat, 7);
		bool valid = am_glob_check(cases[i].pat, &why) == 0;
		assert_int_equal(err == 0, valid);
		int64_t got = am_globset_match(gs, cases[i].path);
		if ((got == 7) != cases[i].match)
			fail_msg("case %zu: %s vs %s: got %lld", i, cases[i].pat, cases[i].path,
				 (long long)got);
		am_globset_free(gs);
	}
}

/* One set with every valid pattern: the answer is the smallest id whose
 * pattern matches, as computed by the reference matcher. */
static void test_big_set(void **state)
{
	struct am_globset *gs = am_globset_new();
	const char *why;
	for (size_t i = 0; i < NCASES; i++)
		if (!am_glob_check(cases[i].pat, &why))
			assert_int_equal(am_globset_add(gs, cases[i].pat, (uint32_t)i), 0);
	for (size_t k = 0; k < NCASES; k++) {
		int64_t want = -1;
		for (size_t i = 0; i < NCASES && want < 0; i++)
			if (am_glob_match(cases[i].pat, cases[k].path))
				want = (int64_t)i;
		assert_int_equal(am_globset_match(gs, cases[k].path), want);
	}
	am_globset_free(gs);
}

static void test_check_reasons(void **state)
{
	static const struct { const char *pat; const char *why; } bad[] = {
		{"", "empty pattern"},
		{"etc/passwd", "pattern must be an absolute path (start with '/' or '**/')"},
		{"*/x", "pattern must be an absolute path (start with '/' or '**/')"},
		{"~/x", "pattern must be an absolute path (start with '/' or '**/')"},
		{"/etc/", "trailing '/' never matches a resolved path (write /dir or /dir/**)"},
		{"/a//b", "empty path segment ('//') never matches a resolved path"},
		{"//", "trailing '/' never matches a resolved path (write /dir or /dir/**)"},
		{"/a/./b", "'.' and '..' segments never match a resolved path"},
		{"/a/../b", "'.' and '..' segments never match a resolved path"},
		{"/..", "'.' and '..' segments never match a resolved path"},
		{"/a/b**", "'**' must be a whole path segment (use '*' within a segment)"},
		{"/***", "'**' must be a whole path segment (use '*' within a segment)"},
		{"**x/a", "pattern must be an absolute path (start with '/' or '**/')"},
	};
	const char *why;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(am_glob_check(bad[i].pat, &why), 0);
		assert_string_equal(why, bad[i].why);
	}
	char *longp = malloc(AM_RULE_PATH_MAX + 2);
	memset(longp, 'a', AM_RULE_PATH_MAX + 1);
	longp[0] = '/';
	longp[AM_RULE_PATH_MAX + 1] = 0;
	assert_int_not_equal(am_glob_check(longp, &why), 0);
	longp[AM_RULE_PATH_MAX] = 0;	/* exactly 4095 bytes: fine */
	assert_int_equal(am_glob_check(longp, &why), 0);
	assert_true(am_glob_match(longp, longp));
	free(longp);
	assert_int_equal(am_glob_check("/", &why), 0);
	assert_int_equal(am_glob_check("**", &why), 0);
	assert_int_equal(am_glob_check("/a/**/b/**", &why), 0);
}

static void test_empty_and_first_id(void **state)
{
	struct am_globset *gs = am_globset_new();
	assert_int_equal(am_globset_match(gs, "/x"), -1);
	assert_int_equal(am_globset_match(gs, "/"), -1);
	assert_int_equal(am_globset_add(gs, "/a/**", 5), 0);
	assert_int_equal(am_globset_add(gs, "/a/b", 3), 0);
	assert_int_equal(am_globset_add(gs, "/a/b", 9), 0);	/* duplicate keeps min */
	assert_int_equal(am_globset_add(gs, "**", 11), 0);
	assert_int_equal(am_globset_add(gs, "/a/x", UINT32_MAX), -EINVAL);
	assert_int_equal(am_globset_add(gs, "rel", 1), -EINVAL);
	assert_int_equal(am_globset_match(gs, "/a/b"), 3);
	assert_int_equal(am_globset_match(gs, "/a/c"), 5);
	assert_int_equal(am_globset_match(gs, "/z"), 11);
	assert_int_equal(am_globset_match(gs, "z"), -1);
	assert_int_equal(am_globset_count(gs), 4);
	am_globset_free(gs);
}

/* Many '*' alternatives at one node overflow the on-stack state set and
 * take the fallback; the answer must not change. */
static void test_state_overflow(void **state)
{
	struct am_globset *gs = am_globset_new();
	char pat[64];
	for (int i = 0; i < 600; i++) {
		snprintf(pat, sizeof(pat), "/d/*%d*/**", i);
		assert_int_equal(am_globset_add(gs, pat, (uint32_t)i + 10), 0);
	}
	assert_int_equal(am_globset_add(gs, "/d/q", 1), 0);
	/* A segment holding every number matches all 600 '*' edges at once. */
	char path[4000] = "/d/";
	for (int i = 599; i >= 0; i--)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%d_", i);
	assert_int_equal(am_globset_match(gs, path), 10);
	strcat(path, "/y/z");
	assert_int_equal(am_globset_match(gs, path), 10);
	assert_int_equal(am_globset_match(gs, "/d/q"), 1);
	assert_int_equal(am_globset_match(gs, "/d/599"), 5 + 10);	/* "*5*" first */
	assert_int_equal(am_globset_match(gs, "/d/x"), -1);
	assert_int_equal(am_globset_match(gs, "/e/1"), -1);
	am_globset_free(gs);
}

/* ---- measurement ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Rules shaped like real profiles: directories with "**", files, a '*' per
 * segment now and then. */
static void make_rule(unsigned i, char *buf, size_t n)
{
	switch (i % 4) {
	case 0: snprintf(buf, n, "/srv/app%u/data/**", i); break;
	case 1: snprintf(buf, n, "/etc/conf%u.d/file%u.conf", i % 97, i); break;
	case 2: snprintf(buf, n, "/home/*/proj%u/*.py", i); break;
	default: snprintf(buf, n, "/usr/lib/pkg%u/lib*.so*", i); break;
	}
}

static void test_bench(void **state)
{
	static const unsigned sizes[] = {10, 100, 1000, 10000};
	static const char *const paths[] = {
		"/srv/app40/data/x/y/z.bin", "/etc/conf5.d/file5.conf", "/home/alice/proj6/main.py",
		"/usr/lib/pkg7/libfoo.so.1", "/nowhere/at/all/really", "/srv/app99999/data/q",
		"/home/bob/projX/main.py", "/etc/passwd",
	};
	char buf[128];
	printf("  %8s %14s %14s\n", "rules", "trie ns/match", "linear ns/match");
	double trie_small = 0, trie_big = 0;
	for (size_t s = 0; s < 4; s++) {
		unsigned n = sizes[s];
		struct am_globset *gs = am_globset_new();
		char **rules = calloc(n, sizeof(*rules));
		for (unsigned i = 0; i < n; i++) {
			make_rule(i, buf, sizeof(buf));
			rules[i] = strdup(buf);
			assert_int_equal(am_globset_add(gs, buf, i), 0);
		}
		unsigned iters = 200000;
		volatile int64_t sink = 0;
		uint64_t t0 = now_ns();
		for (unsigned k = 0; k < iters; k++)
			sink += am_globset_match(gs, paths[k % 8]);
		double trie = (double)(now_ns() - t0) / iters;
		/* the naive alternative: every rule, every event */
		unsigned liters = n >= 1000 ? 200 : 20000;
		t0 = now_ns();
		for (unsigned k = 0; k < liters; k++)
			for (unsigned i = 0; i < n; i++)
				if (am_glob_match(rules[i], paths[k % 8])) {
					sink += i;
					break;
				}
		double lin = (double)(now_ns() - t0) / liters;
		printf("  %8u %14.0f %14.0f\n", n, trie, lin);
		if (s == 0)
			trie_small = trie;
		trie_big = trie;
		for (unsigned i = 0; i < n; i++)
			free(rules[i]);
		free(rules);
		am_globset_free(gs);
		(void)sink;
	}
	/* 1000x the rules must not cost anywhere near 1000x: generous bound so
	 * sanitizer and valgrind builds pass too. */
	assert_true(trie_big < trie_small * 50 + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_single_set),
		cmocka_unit_test(test_big_set),
		cmocka_unit_test(test_check_reasons),
		cmocka_unit_test(test_empty_and_first_id),
		cmocka_unit_test(test_state_overflow),
		cmocka_unit_test(test_bench),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
