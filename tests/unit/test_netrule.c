/* Network rules: parsing (canonical form or exact error) and matching. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "netrule.h"

static const struct { const char *in, *canon; } good[] = {
	{"127.0.0.1:8080", "127.0.0.1:8080"},
	{"10.20.0.0/16:443", "10.20.0.0/16:443"},
	{"10.20.0.0/32:443", "10.20.0.0:443"},
	{"0.0.0.0/0:*", "0.0.0.0/0:*"},
	{"1.2.3.4:0", "1.2.3.4:0"},
	{"1.2.3.4:65535", "1.2.3.4:65535"},
	{"*:*", "*:*"},
	{"*:443", "*:443"},
	{"[::1]:*", "[::1]:*"},
	{"[::]:80", "[::]:80"},
	{"[::/0]:*", "[::/0]:*"},
	{"[::]/0:*", "[::/0]:*"},
	{"[fd00::/8]:53", "[fd00::/8]:53"},
	{"[fd00::]/8:53", "[fd00::/8]:53"},
	{"[2001:db8::1]:443", "[2001:db8::1]:443"},
	{"[2001:DB8::1]:443", "[2001:db8::1]:443"},
	{"[::ffff:10.0.0.1]:80", "10.0.0.1:80"},
	{"[::ffff:10.0.0.0/104]:80", "10.0.0.0/8:80"},
	{"[::ffff:0.0.0.0/96]:*", "0.0.0.0/0:*"},
	{"[::/80]:*", "[::/80]:*"},
	{"[fe80::1%eth0]:1", NULL},	/* zone ids are not addresses */
};

static const struct { const char *in, *why; } bad[] = {
	{"", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"127.0.0.1", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"127.0.0.1:", "port must be 0..65535 or '*'"},
	{"127.0.0.1:65536", "port must be 0..65535 or '*'"},
	{"127.0.0.1:-1", "port must be 0..65535 or '*'"},
	{"127.0.0.1:08", "port must be 0..65535 or '*'"},
	{"127.0.0.1:http", "port must be 0..65535 or '*'"},
	{"127.0.0.1:1 ", "port must be 0..65535 or '*'"},
	{"256.0.0.1:1", "invalid IPv4 address (IPv6 goes in brackets, any address is '*')"},
	{"localhost:80", "invalid IPv4 address (IPv6 goes in brackets, any address is '*')"},
	{"10.0.0.0/33:1", "prefix must be 0..32"},
	{"10.0.0.0/:1", "prefix must be 0..32"},
	{"10.0.0.0/08:1", "prefix must be 0..32"},
	{"10.0.0.1/8:1", "address has bits set beyond the prefix (use the network address)"},
	{"::1:80", "put IPv6 addresses in brackets, e.g. [::1]:443"},
	{"[::1]", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"[::1]80", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"[::1:80", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"[10.0.0.1]:80", "invalid IPv6 address"},
	{"[::/129]:1", "prefix must be 0..128"},
	{"[::1/64]:1", "address has bits set beyond the prefix (use the network address)"},
	{"[::/8]/8:1", "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*"},
	{"*/0:1", "'*' takes no prefix"},
	{"[fe80::1%eth0]:1", "invalid IPv6 address"},
};

static void test_parse(void **state)
{
	struct am_netrule r;
	const char *why;
	char buf[96];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!good[i].canon)
			continue;
		if (am_netrule_parse(good[i].in, &r, &why))
			fail_msg("%s: %s", good[i].in, why);
		am_netrule_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, good[i].canon);
		/* the canonical form parses to the same rule */
		struct am_netrule r2;
		assert_int_equal(am_netrule_parse(buf, &r2, &why), 0);
		assert_memory_equal(&r, &r2, sizeof(r));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!am_netrule_parse(bad[i].in, &r, &why))
			fail_msg("%s parsed", bad[i].in);
		assert_string_equal(why, bad[i].why);
	}
	char huge[200];
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = 0;
	assert_int_not_equal(am_netrule_parse(huge, &r, &why), 0);
	huge[0] = '[';
	assert_int_not_equal(am_netrule_parse(huge, &r, &why), 0);
}

struct mcase {
	const char *rule;
	const char *addr;	/* v4 dotted or v6 text */
	uint16_t port;
	bool match;
};

static const struct mcase mcases[] = {
	{"127.0.0.1:8080", "127.0.0.1", 8080, true},
	{"127.0.0.1:8080", "127.0.0.1", 8081, false},
	{"127.0.0.1:8080", "127.0.0.2", 8080, false},
	{"127.0.0.1:*", "127.0.0.1", 0, true},
	{"127.0.0.1:*", "127.0.0.1", 65535, true},
	{"127.0.0.1:0", "127.0.0.1", 0, true},
	{"127.0.0.1:0", "127.0.0.1", 1, false},
	{"1.2.3.4:65535", "1.2.3.4", 65535, true},
	{"1.2.3.4:65535", "1.2.3.4", 65534, false},
	{"10.20.0.0/16:443", "10.20.255.1", 443, true},
	{"10.20.0.0/16:443", "10.21.0.1", 443, false},
	{"10.20.0.0/16:443", "10.20.0.1", 80, false},
	{"10.0.0.0/8:*", "10.255.255.255", 1, true},
	{"10.0.0.0/8:*", "11.0.0.0", 1, false},
	{"192.168.1.128/25:*", "192.168.1.200", 1, true},
	{"192.168.1.128/25:*", "192.168.1.100", 1, false},
	{"0.0.0.0/0:*", "8.8.8.8", 53, true},
	{"0.0.0.0/0:*", "::1", 53, false},
	{"0.0.0.0/0:*", "::ffff:8.8.8.8", 53, true},
	{"*:*", "8.8.8.8", 53, true},
	{"*:*", "2001:db8::1", 53, true},
	{"*:443", "2001:db8::1", 443, true},
	{"*:443", "2001:db8::1", 80, false},
	{"[::1]:*", "::1", 22, true},
	{"[::1]:*", "::2", 22, false},
	{"[::1]:*", "127.0.0.1", 22, false},
	{"[::]:80", "::", 80, true},
	{"[::]:80", "::1", 80, false},
	{"[::/0]:*", "2001:db8::1", 1, true},
	{"[::/0]:*", "10.0.0.1", 1, false},		/* v6 "any" is not IPv4 */
	{"[::/0]:*", "::ffff:10.0.0.1", 1, false},	/* mapped is IPv4 */
	{"[fd00::/8]:53", "fd12:3456::1", 53, true},
	{"[fd00::/8]:53", "fe80::1", 53, false},
	{"[2001:db8::/33]:*", "2001:db8:7fff::1", 1, true},
	{"[2001:db8::/33]:*", "2001:db8:8000::1", 1, false},
	{"10.0.0.1:80", "::ffff:10.0.0.1", 80, true},	/* mapped event as v4 */
	{"10.0.0.0/8:80", "::ffff:10.9.9.9", 80, true},
	{"10.0.0.0/8:80", "::ffff:11.9.9.9", 80, false},
	{"[::ffff:10.0.0.1]:80", "10.0.0.1", 80, true},	/* mapped rule as v4 */
	{"[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80, true},
	{"[::ffff:10.0.0.0/104]:80", "10.1.2.3", 80, true},
	{"169.254.169.254:*", "169.254.169.254", 80, true},
	{"169.254.169.254:*", "::ffff:169.254.169.254", 80, true},
	{"[::/80]:*", "::ffff:10.0.0.1", 1, false},
	{"[::/80]:*", "::1", 1, true},
};

static void parse_addr(const char *s, int *fam, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*fam = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	*fam = AF_INET6;
}

static void test_match(void **state)
{
	struct am_netrule r;
	const char *why;
	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		int fam;
		uint8_t a[16];
		assert_int_equal(am_netrule_parse(mcases[i].rule, &r, &why), 0);
		parse_addr(mcases[i].addr, &fam, a);
		if (am_netrule_match(&r, fam, a, mcases[i].port) != mcases[i].match)
			fail_msg("case %zu: %s vs %s port %u", i, mcases[i].rule, mcases[i].addr,
				 mcases[i].port);
	}
	/* unknown families never match, not even "*:*" */
	uint8_t a[16] = {0};
	assert_int_equal(am_netrule_parse("*:*", &r, &why), 0);
	assert_false(am_netrule_match(&r, AF_UNIX, a, 1));
	/* an IPv4 event ignores junk after the first 4 bytes */
	memset(a, 0xee, 16);
	a[0] = 10, a[1] = 0, a[2] = 0, a[3] = 1;
	assert_int_equal(am_netrule_parse("10.0.0.1:1", &r, &why), 0);
	assert_true(am_netrule_match(&r, AF_INET, a, 1));
}

static void test_any_addr(void **state)
{
	static const struct { const char *r; bool any; } c[] = {
		{"*:*", true}, {"*:443", true}, {"0.0.0.0/0:443", true}, {"[::/0]:*", true},
		{"0.0.0.0/1:*", false}, {"[::1]:*", false}, {"10.0.0.0/8:*", false},
	};
	struct am_netrule r;
	const char *why;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(am_netrule_parse(c[i].r, &r, &why), 0);
		assert_int_equal(am_netrule_any_addr(&r), c[i].any);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_any_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
