/* Bounded, escaped terminal lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "linebuf.h"

static void test_plain_and_escapes(void **st)
{
	char b[128];
	struct am_line l;

	am_line_init(&l, b, sizeof(b));
	am_line_put(&l, "abc ");
	am_line_put(&l, NULL);
	am_line_put(&l, "\x1b[31mred\n\t\x7f");
	assert_string_equal(b, "abc \\x1b[31mred\\x0a\\x09\\x7f");
	assert_int_equal(l.len, strlen(b));
	assert_false(l.full);

	/* UTF-8 passes; C1 controls (CSI U+009B) and invalid bytes do not */
	am_line_init(&l, b, sizeof(b));
	am_line_put(&l, "caf\xc3\xa9 \xe2\x82\xac \xc2\x9b[2J \xff\xc3 \xc2\xa0");
	assert_string_equal(b, "caf\xc3\xa9 \xe2\x82\xac \\xc2\\x9b[2J \\xff\\xc3 \xc2\xa0");

	/* embedded NUL with an explicit length */
	am_line_init(&l, b, sizeof(b));
	am_line_putn(&l, "a\0b", 3);
	assert_string_equal(b, "a\\x00b");
}

static void test_printf(void **st)
{
	char b[64];
	struct am_line l;

	am_line_init(&l, b, sizeof(b));
	am_line_printf(&l, "%d:%s", 42, "x\ny");
	assert_string_equal(b, "42:x\\x0ay");
}

static void test_put_max(void **st)
{
	char b[64];
	struct am_line l;

	am_line_init(&l, b, sizeof(b));
	am_line_put_max(&l, "abcdef", 6);
	am_line_put(&l, "|");
	am_line_put_max(&l, "abcdefg", 6);
	assert_string_equal(b, "abcdef|abcdef...");
	/* never cuts a character in two */
	am_line_init(&l, b, sizeof(b));
	am_line_put_max(&l, "ab\xc3\xa9z", 3);
	assert_string_equal(b, "ab...");
	assert_false(l.full);
}

/* Every size from 0 up: NUL-terminated inside the buffer, "..." when cut. */
static void test_truncation_every_size(void **st)
{
	const char *text = "0123456789\x1b" "abcdefghij\xe2\x82\xac" "klmnopqrstuvwxyz";
	char full[256];
	struct am_line l;

	am_line_init(&l, full, sizeof(full));
	am_line_put(&l, text);
	assert_false(l.full);
	for (size_t sz = 1; sz < strlen(full) + 4; sz++) {
		char *b = malloc(sz);	/* exact size: ASan sees any overflow */
		assert_non_null(b);
		am_line_init(&l, b, sz);
		am_line_put(&l, text);
		am_line_put(&l, "more");
		assert_true(l.len < sz);
		assert_int_equal(strlen(b), l.len);
		if (l.full && sz >= 8) {
			assert_true(l.len >= 3);
			assert_memory_equal(b + l.len - 3, "...", 3);
			assert_memory_equal(b, full, l.len - 3);
		}
		/* once full, nothing more is appended */
		size_t len = l.len;
		am_line_put(&l, "x");
		am_line_printf(&l, "%d", 1);
		assert_int_equal(l.len, len);
		free(b);
	}
	/* sz == 0 is allowed and writes nothing */
	am_line_init(&l, NULL, 0);
	am_line_put(&l, "x");
	assert_int_equal(l.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_escapes),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_put_max),
		cmocka_unit_test(test_truncation_every_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
