/* The pure parts of a profile's match: cgroup subtree by components, and the
 * kernel's device number encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/sysmacros.h>
#include <cmocka.h>
#include "match.h"

static void test_cgroup_under(void **st)
{
	(void)st;
	assert_true(am_cgroup_under("/system.slice/bot.service", "/system.slice/bot.service"));
	assert_true(am_cgroup_under("/system.slice/bot.service/agentmon-x", "/system.slice/bot.service"));
	assert_true(am_cgroup_under("/system.slice/bot.service", "/system.slice/"));
	assert_false(am_cgroup_under("/system.slice/bot.service2", "/system.slice/bot.service"));
	assert_false(am_cgroup_under("/system.slice", "/system.slice/bot.service"));
	assert_false(am_cgroup_under("/user.slice/x", "/system.slice"));
	assert_true(am_cgroup_under("/anything", "/"));
	assert_true(am_cgroup_under("/", "/"));
}

static void test_kdev(void **st)
{
	(void)st;
	assert_int_equal(am_kdev(makedev(8, 1)), (8u << 20) | 1u);
	assert_int_equal(am_kdev(makedev(0, 38)), 38u);
	assert_int_equal(am_kdev(makedev(259, 300)), (259u << 20) | 300u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_under),
		cmocka_unit_test(test_kdev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
