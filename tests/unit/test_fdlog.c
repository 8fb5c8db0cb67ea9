/* Lines appended to a file descriptor through a buffer (fdlog.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fdlog.h"

/* Lines reach the file whole and in order; a failed write is counted */
static void test_fdlog(void **st)
{
	char path[] = "/tmp/agentmon-fdlog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct am_fdlog *l = am_fdlog_open(fd);
	char big[AM_FDLOG_BUF + 10];
	memset(big, 'x', sizeof(big));
	am_fdlog_line(l, "{\"a\":1}", 7);
	am_fdlog_line(l, big, sizeof(big));          /* longer than the buffer */
	for (int i = 0; i < 20000; i++)
		am_fdlog_line(l, "{\"b\":2}", 7);
	assert_int_equal(am_fdlog_flush(l), 0);
	assert_int_equal(l->lines, 20002);
	assert_int_equal(l->errors, 0);
	am_fdlog_close(l);

	FILE *f = fopen(path, "r");
	static char line[AM_FDLOG_BUF + 64];
	int n = 0;
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "{\"a\":1}\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(strlen(line), sizeof(big) + 1);
	while (fgets(line, sizeof(line), f)) {
		assert_string_equal(line, "{\"b\":2}\n");
		n++;
	}
	assert_int_equal(n, 20000);
	fclose(f);
	unlink(path);

	int ro = open("/dev/null", 0);   /* read-only: every write fails */
	l = am_fdlog_open(ro);
	am_fdlog_line(l, "x", 1);
	am_fdlog_line(l, "y", 1);
	assert_true(am_fdlog_flush(l) < 0);
	assert_int_equal(l->errors, 2);
	am_fdlog_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdlog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
