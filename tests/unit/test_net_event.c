/* Network event decoding: struct am_net_body → record fields. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "agentmon.h"
#include "net_event.h"
#include "record.h"

#define HEAD offsetof(struct am_net_body, path)

static struct am_net_body inet(uint32_t op, uint16_t family, const void *addr, size_t alen,
			       uint16_t port, uint16_t sotype, uint16_t proto, int32_t ret)
{
	struct am_net_body n;
	memset(&n, 0, sizeof(n));
	n.op = op;
	n.family = family;
	memcpy(n.addr, addr, alen);
	n.port = port;
	n.sotype = sotype;
	n.proto = proto;
	n.ret = ret;
	return n;
}

static struct am_net_body unixb(uint32_t op, const char *path, size_t len, int32_t ret)
{
	struct am_net_body n;
	memset(&n, 0, sizeof(n));
	n.op = op;
	n.family = AF_UNIX;
	n.sotype = SOCK_STREAM;
	memcpy(n.path, path, len);
	n.path_len = (uint32_t)len;
	n.ret = ret;
	return n;
}

static const uint8_t LO4[4] = { 127, 0, 0, 1 };
static const uint8_t LO6[16] = { [15] = 1 };
static const uint8_t MAPPED[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };

static void test_ipv4_connect(void **st)
{
	struct am_record r;
	struct am_net_body n = inet(AM_NOP_CONNECT, AF_INET, LO4, 4, 8080, SOCK_STREAM, IPPROTO_TCP, -ECONNREFUSED);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.kind, "connect");
	assert_int_equal(r.has_net, 1);
	assert_string_equal(r.net_proto, "tcp");
	assert_string_equal(r.net_family, "ipv4");
	assert_string_equal(r.net_addr, "127.0.0.1");
	assert_int_equal(r.net_port, 8080);
	assert_int_equal(r.net_local, 0);
	assert_int_equal(r.net_result, -ECONNREFUSED);
}

static void test_ipv6_and_mapped(void **st)
{
	struct am_record r;
	struct am_net_body n = inet(AM_NOP_CONNECT, AF_INET6, LO6, 16, 443, SOCK_STREAM, IPPROTO_TCP, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.net_family, "ipv6");
	assert_string_equal(r.net_addr, "::1");
	assert_int_equal(r.net_port, 443);

	/* IPv4-mapped: stays ipv6, the bytes kept and shown as such */
	n = inet(AM_NOP_SENDTO, AF_INET6, MAPPED, 16, 53, SOCK_DGRAM, IPPROTO_UDP, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.kind, "sendto");
	assert_string_equal(r.net_family, "ipv6");
	assert_string_equal(r.net_proto, "udp");
	assert_string_equal(r.net_addr, "::ffff:127.0.0.1");
}

static void test_bind_listen_are_local(void **st)
{
	struct am_record r;
	struct am_net_body n = inet(AM_NOP_BIND, AF_INET, LO4, 4, 9100, SOCK_STREAM, IPPROTO_TCP, -EADDRINUSE);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.kind, "bind");
	assert_int_equal(r.net_local, 1);
	assert_int_equal(r.net_result, -EADDRINUSE);
	n.op = AM_NOP_LISTEN;
	n.ret = 0;
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.kind, "listen");
	assert_int_equal(r.net_local, 1);

	/* JSON: laddr/lport for local operations */
	r.host = "h";
	r.agent = "a";
	r.profile_version = "1";
	r.comm = "c";
	char *js = am_record_json(&r);
	assert_non_null(js);
	json_t *o = json_loads(js, 0, NULL);
	assert_non_null(o);
	json_t *net = json_object_get(o, "net");
	assert_string_equal(json_string_value(json_object_get(net, "laddr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(net, "lport")), 9100);
	assert_null(json_object_get(net, "daddr"));
	json_decref(o);
	free(js);
}

static void test_proto_names(void **st)
{
	static const struct { uint16_t sotype, proto; const char *name; } cases[] = {
		{ SOCK_STREAM, IPPROTO_TCP, "tcp" },
		{ SOCK_DGRAM, IPPROTO_UDP, "udp" },
		{ SOCK_DGRAM, IPPROTO_UDPLITE, "udplite" },
		{ SOCK_DGRAM, IPPROTO_ICMP, "icmp" },
		{ SOCK_RAW, IPPROTO_ICMP, "raw" },
		{ SOCK_STREAM, 262, "mptcp" },
		{ SOCK_STREAM, IPPROTO_SCTP, "sctp" },
		{ 0, 0, "unknown" },
		{ SOCK_DGRAM, 200, "other" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct am_record r;
		struct am_net_body n = inet(AM_NOP_CONNECT, AF_INET, LO4, 4, 1, cases[i].sotype, cases[i].proto, 0);
		memset(&r, 0, sizeof(r));
		assert_int_equal(am_net_record(&r, &n, HEAD), 0);
		assert_string_equal(r.net_proto, cases[i].name);
	}
}

static void test_unix_path(void **st)
{
	struct am_record r;
	struct am_net_body n = unixb(AM_NOP_CONNECT, "/run/x.sock", 11, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + 11), 0);
	assert_string_equal(r.net_family, "unix");
	assert_string_equal(r.net_proto, "unix");
	assert_string_equal(r.net_addr, "/run/x.sock");
	assert_int_equal(r.net_port, 0);

	/* a pathname stops at its first NUL, whatever follows */
	n = unixb(AM_NOP_BIND, "/a\0junk", 7, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + 7), 0);
	assert_string_equal(r.net_addr, "/a");

	/* unnamed (autobind, socketpair) */
	n = unixb(AM_NOP_LISTEN, "", 0, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	assert_string_equal(r.net_addr, "");

	/* the longest path fits */
	char longp[AM_UNIX_PATH_MAX];
	memset(longp, 'p', sizeof(longp));
	longp[0] = '/';
	n = unixb(AM_NOP_CONNECT, longp, sizeof(longp), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + sizeof(longp)), 0);
	assert_int_equal(strlen(r.net_addr), AM_UNIX_PATH_MAX);
	assert_int_equal(r.flags & AM_EVF_PATH_TRUNC, 0);
}

static void test_unix_abstract(void **st)
{
	struct am_record r;
	/* every byte of an abstract name counts, NULs included */
	struct am_net_body n = unixb(AM_NOP_CONNECT, "@bus\0x", 6, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + 6), 0);
	assert_string_equal(r.net_addr, "@bus\\x00x");

	n = unixb(AM_NOP_CONNECT, "@", 1, 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + 1), 0);
	assert_string_equal(r.net_addr, "@");

	/* all NULs: the escaped form does not fit, it is cut and flagged */
	char zeros[AM_UNIX_PATH_MAX] = { '@' };
	n = unixb(AM_NOP_CONNECT, zeros, sizeof(zeros), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(am_net_record(&r, &n, HEAD + sizeof(zeros)), 0);
	assert_true(r.flags & AM_EVF_PATH_TRUNC);
	assert_true(strlen(r.net_addr) < sizeof(r.net_addr));
	assert_memory_equal(r.net_addr, "@\\x00\\x00", 9);
}

static void test_malformed(void **st)
{
	struct am_record r;
	struct am_net_body n;

	memset(&r, 0, sizeof(r));
	n = inet(AM_NOP_CONNECT, AF_INET, LO4, 4, 80, SOCK_STREAM, IPPROTO_TCP, 0);
	assert_int_equal(am_net_record(&r, &n, HEAD - 1), -EINVAL);     /* short record */
	assert_int_equal(am_net_record(&r, &n, 0), -EINVAL);
	assert_int_equal(am_net_record(NULL, &n, HEAD), -EINVAL);
	assert_int_equal(am_net_record(&r, NULL, HEAD), -EINVAL);
	n.path_len = 3;                                                 /* inet with a path */
	assert_int_equal(am_net_record(&r, &n, HEAD + 3), -EINVAL);
	n.path_len = 0;
	n.op = 0;
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);
	n.op = AM_NOP_MAX;
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);
	n.op = AM_NOP_CONNECT;
	n.ret = 5;                                                      /* results are 0 or -errno */
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);
	n.ret = -4096;
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);
	n.ret = -4095;
	assert_int_equal(am_net_record(&r, &n, HEAD), 0);
	n.ret = 0;
	n.family = 0;
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);
	n.family = AF_NETLINK;
	assert_int_equal(am_net_record(&r, &n, HEAD), -EINVAL);

	n = unixb(AM_NOP_CONNECT, "/x.sock", 7, 0);
	assert_int_equal(am_net_record(&r, &n, HEAD + 6), -EINVAL);     /* path beyond the record */
	n.path_len = AM_UNIX_PATH_MAX + 1;
	assert_int_equal(am_net_record(&r, &n, sizeof(n)), -EINVAL);    /* longer than sun_path */
	n.path_len = UINT32_MAX;                                        /* no wrap-around */
	assert_int_equal(am_net_record(&r, &n, sizeof(n)), -EINVAL);
	n.path_len = 7;
	n.port = 1;                                                     /* unix has no port */
	assert_int_equal(am_net_record(&r, &n, HEAD + 7), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_connect),
		cmocka_unit_test(test_ipv6_and_mapped),
		cmocka_unit_test(test_bind_listen_are_local),
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
