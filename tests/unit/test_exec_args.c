/* `agentmon exec` command line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "exec_args.h"

/* The parsed result points into argv: keep it alive after the macro. */
static char *argvbuf[32];
#define PARSE(rc, ...) do { \
	char *v_[] = { "exec", __VA_ARGS__, NULL }; \
	memcpy(argvbuf, v_, sizeof(v_)); \
	err[0] = 0; \
	assert_int_equal(am_exec_parse((int)(sizeof(v_) / sizeof(v_[0])) - 1, argvbuf, &a, err, sizeof(err)), rc); \
} while (0)

static void test_ok(void **st)
{
	struct am_exec_args a;
	char err[256];
	PARSE(0, "--profile", "p.json", "--json", "-", "--", "sh", "-c", "x");
	assert_string_equal(a.profile, "p.json");
	assert_string_equal(a.json, "-");
	assert_int_equal(a.ncmd, 3);
	assert_string_equal(a.cmd[0], "sh");
	assert_string_equal(a.cmd[2], "x");
	assert_null(a.cmd[3]);
	/* CMD's own options are not ours, even without "--" */
	PARSE(0, "-p", "p.json", "ls", "--json", "-v");
	assert_int_equal(a.ncmd, 3);
	assert_null(a.json);
	assert_int_equal(a.verbose, 0);
	PARSE(0, "--profile=p", "--audit", "--allow-unapproved", "-v", "--ringbuf-size", "4096", "--", "true");
	assert_true(a.audit && a.allow_unapproved && a.verbose == 1);
	assert_int_equal(a.ringbuf_bytes, 4096);
}

static void test_errors(void **st)
{
	struct am_exec_args a;
	char err[256];
	PARSE(-22, "--", "true");
	assert_string_equal(err, "--profile FILE is required");
	PARSE(-22, "--profile", "p");
	assert_string_equal(err, "no command given (agentmon exec --profile FILE -- CMD [ARG...])");
	PARSE(-22, "--profile", "p", "--");
	assert_string_equal(err, "no command given (agentmon exec --profile FILE -- CMD [ARG...])");
	PARSE(-22, "--bogus", "--profile", "p", "--", "true");
	assert_string_equal(err, "unknown option '--bogus'");
	PARSE(-22, "--profile");
	assert_string_equal(err, "option '--profile' needs a value");
	PARSE(-22, "--profile", "p", "--ringbuf-size", "5000", "--", "true");
	assert_string_equal(err, "--ringbuf-size: '5000' is not a power of two between 4096 and 2^30");
	PARSE(-22, "--profile", "p", "--ringbuf-size", "1024", "--", "true");
	PARSE(-22, "--profile", "p", "--ringbuf-size", "99999999999999999999999", "--", "true");
	PARSE(-22, "--profile", "p", "--ringbuf-size", "4096x", "--", "true");
}

static void test_help(void **st)
{
	struct am_exec_args a;
	char err[256];
	PARSE(0, "--help");
	assert_true(a.help);
	assert_non_null(strstr(am_exec_usage, "usage: agentmon exec --profile FILE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
