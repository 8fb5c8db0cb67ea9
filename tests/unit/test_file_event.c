/* Decoding file events: joining a caller's name to its kernel-resolved base,
 * and refusing malformed records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "file_event.h"

static void test_join_table(void **st)
{
	static const struct { const char *base, *rel, *want; } cases[] = {
		{ "/etc", "hostname", "/etc/hostname" },
		{ "/etc/ssl", "../hostname", "/etc/hostname" },
		{ "/", "a", "/a" },
		{ "/a/b", "/abs/path", "/abs/path" },
		{ "/a/b", "./c/./d", "/a/b/c/d" },
		{ "/a/b", "c//d///e", "/a/b/c/d/e" },
		{ "/a", "../../../../x", "/x" },
		{ "/", "..", "/" },
		{ "/a/b", "..", "/a" },
		{ "/a/b", "../..", "/" },
		{ "/a/b", "", "/a/b" },
		{ "/a/b", ".", "/a/b" },
		{ "/a/b/", "c/", "/a/b/c" },
		{ "/tmp", "...", "/tmp/..." },
		{ "/tmp", "..a/b..", "/tmp/..a/b.." },
		{ "/t", "caf\xc3\xa9/x", "/t/caf\xc3\xa9/x" },
		{ "", "rel", "/rel" },
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(am_path_join(cases[i].base, cases[i].rel, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
}

static void test_join_too_long(void **st)
{
	char out[8];
	assert_int_equal(am_path_join("/abc", "defgh", out, sizeof(out)), -36);
	assert_int_equal(am_path_join("/ab", "c", out, sizeof(out)), 0);
	assert_string_equal(out, "/ab/c");
	assert_int_equal(am_path_join("/", "x", out, 1), -36);
}

static struct am_file_body *body(void)
{
	struct am_file_body *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	return b;
}

static void test_open_record(void **st)
{
	static struct am_file_names n;
	struct am_record r = { 0 };
	struct am_file_body *b = body();
	b->op = AM_FOP_OPEN;
	b->access = AM_ACC_READ;
	strcpy(b->path, "/etc/hostname");
	b->path_len = 13;
	size_t sz = offsetof(struct am_file_body, path) + 14;
	assert_int_equal(am_file_record(&r, b, sz, &n), 0);
	assert_string_equal(r.kind, "open");
	assert_string_equal(r.path, "/etc/hostname");
	assert_string_equal(r.access, "read");
	assert_null(r.path2);
	/* claims more path than was received */
	assert_int_equal(am_file_record(&r, b, sz - 2, &n), -22);
	b->path_len = AM_PATH_MAX;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), -22);
	b->path_len = 13;
	b->op = 0;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), -22);
	b->op = AM_FOP_MAX;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), -22);
	assert_int_equal(am_file_record(&r, b, 3, &n), -22);
	free(b);
}

static void test_rename_relative(void **st)
{
	static struct am_file_names n;
	struct am_record r = { 0 };
	struct am_file_body *b = body();
	b->op = AM_FOP_RENAME;
	b->access = AM_ACC_WRITE;
	strcpy(b->path, "/home/u");
	b->path_len = 7;
	strcpy(b->upath, "../u/a.txt");
	b->upath_len = 10;
	strcpy(b->path2, "/srv");
	b->path2_len = 4;
	strcpy(b->upath2, "b.txt");
	b->upath2_len = 5;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), 0);
	assert_string_equal(r.kind, "rename");
	assert_string_equal(r.file_op, "rename");
	assert_string_equal(r.path, "/home/u/a.txt");
	assert_string_equal(r.path2, "/srv/b.txt");
	assert_string_equal(r.access, "write");
	/* path-only records must arrive whole */
	assert_int_equal(am_file_record(&r, b, sizeof(*b) - 1, &n), -22);
	/* lengths that do not fit their fields */
	b->upath2_len = AM_PATH_MAX + 5;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), -22);
	free(b);
}

static void test_kinds(void **st)
{
	static struct am_file_names n;
	static const struct { unsigned op; const char *kind, *opname; } k[] = {
		{ AM_FOP_UNLINK, "unlink", "unlink" }, { AM_FOP_RMDIR, "unlink", "rmdir" },
		{ AM_FOP_MKDIR, "open", "mkdir" }, { AM_FOP_CHMOD, "chmod", "chmod" },
		{ AM_FOP_CHOWN, "chmod", "chown" }, { AM_FOP_TRUNCATE, "open", "truncate" },
	};
	struct am_file_body *b = body();
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct am_record r = { 0 };
		memset(b, 0, sizeof(*b));
		b->op = k[i].op;
		b->access = AM_ACC_WRITE;
		strcpy(b->upath, "/var/x");
		b->upath_len = 6;
		assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), 0);
		assert_string_equal(r.kind, k[i].kind);
		assert_string_equal(r.file_op, k[i].opname);
		assert_string_equal(r.path, "/var/x");
	}
	free(b);
}

static void test_symlink_names_the_link(void **st)
{
	static struct am_file_names n;
	struct am_record r = { 0 };
	struct am_file_body *b = body();
	b->op = AM_FOP_SYMLINK;
	strcpy(b->upath, "/etc/shadow");   /* the target: only text */
	b->upath_len = 11;
	strcpy(b->path2, "/tmp");
	b->path2_len = 4;
	strcpy(b->upath2, "lnk");
	b->upath2_len = 3;
	assert_int_equal(am_file_record(&r, b, sizeof(*b), &n), 0);
	assert_string_equal(r.path, "/tmp/lnk");
	assert_string_equal(r.file_op, "symlink");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_table),
		cmocka_unit_test(test_join_too_long),
		cmocka_unit_test(test_open_record),
		cmocka_unit_test(test_rename_relative),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_symlink_names_the_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
