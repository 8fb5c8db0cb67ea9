/* Merging network rules into the kernel's LPM-trie entries (am_netpol_build):
 * explicit entries, and a model of the kernel's lookup checked against the
 * linear rule matching userspace judges with. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "netpol.h"

#define MAXR 16
#define MAXE 64

struct set {
	struct am_netrule allow[MAXR], deny[MAXR];
	size_t na, nd;
	struct am_netpol_entry e[MAXE];
	int n;
};

static void build(struct set *s, const char *const *allow, const char *const *deny)
{
	const char *why;
	memset(s, 0, sizeof(*s));
	for (; allow && *allow; allow++)
		assert_int_equal(am_netrule_parse(*allow, &s->allow[s->na++], &why), 0);
	for (; deny && *deny; deny++)
		assert_int_equal(am_netrule_parse(*deny, &s->deny[s->nd++], &why), 0);
	s->n = am_netpol_build(7, s->allow, s->na, s->deny, s->nd, s->e, MAXE);
	assert_true(s->n >= 0);
}

static int bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* The LPM trie's answer: the entry with the longest prefix matching key. */
static const struct am_netpol_entry *lpm(const struct set *s, const struct am_netpol_key *k)
{
	const struct am_netpol_entry *best = NULL;
	for (int i = 0; i < s->n; i++) {
		const struct am_netpol_key *e = &s->e[i].key;
		const uint8_t *ed = (const uint8_t *)e + 4, *kd = (const uint8_t *)k + 4;
		unsigned j;
		for (j = 0; j < e->prefixlen; j++)
			if (bit(ed, j) != bit(kd, j))
				break;
		if (j == e->prefixlen && (!best || e->prefixlen > best->key.prefixlen))
			best = &s->e[i];
	}
	return best;
}

static int in(const uint16_t *p, unsigned n, uint16_t port)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i] == port)
			return 1;
	return 0;
}

/* The same decision as am_netpol_judge() in bpf/netpol.bpf.h. */
static uint32_t kernel_judge(const struct set *s, int family, const uint8_t addr[16], uint16_t port)
{
	struct am_netpol_key k = { .agent_id = 7 };
	uint8_t a[16];
	int fam = family;
	memcpy(a, addr, 16);
	am_netaddr_normalize(&fam, a);
	k.fam = fam == AF_INET ? AM_NETPOL_FAM_V4 : AM_NETPOL_FAM_V6;
	k.prefixlen = AM_NETPOL_FIXED_BITS + (fam == AF_INET ? 32 : 128);
	memcpy(k.addr, a, fam == AF_INET ? 4 : 16);
	const struct am_netpol_entry *e = lpm(s, &k);
	if (!e)
		return AM_AGF_NET_VIOLATION;
	const struct am_netpol_val *v = &e->val;
	assert_false(v->flags & AM_NETPOL_OVERFLOW);
	if ((v->flags & AM_NETPOL_DENY_ANY) || in(v->deny, v->ndeny, port))
		return AM_AGF_NET_CRITICAL;
	if ((v->flags & AM_NETPOL_ALLOW_ANY) || in(v->allow, v->nallow, port))
		return 0;
	return AM_AGF_NET_VIOLATION;
}

/* How userspace judges (am_judge_connect): deny first, then allow. */
static uint32_t linear_judge(const struct set *s, int family, const uint8_t addr[16], uint16_t port)
{
	for (size_t i = 0; i < s->nd; i++)
		if (am_netrule_match(&s->deny[i], family, addr, port))
			return AM_AGF_NET_CRITICAL;
	for (size_t i = 0; i < s->na; i++)
		if (am_netrule_match(&s->allow[i], family, addr, port))
			return 0;
	return AM_AGF_NET_VIOLATION;
}

static void addr_of(const char *s, int *family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	*family = AF_INET6;
}

static const char *const probes[] = {
	"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.1.2.3", "10.0.0.1", "10.20.1.1", "10.21.0.1",
	"169.254.169.254", "8.8.8.8", "0.0.0.0", "255.255.255.255", "::1", "::2", "fd00::1",
	"fe80::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:127.0.0.2", "::ffff:10.20.3.4",
	"::ffff:8.8.8.8", "::", NULL,
};
static const uint16_t ports[] = { 0, 1, 22, 53, 80, 443, 8080, 9000, 65535 };

/* Every probe: the trie agrees with the rules. */
static void check_model(const char *const *allow, const char *const *deny)
{
	struct set s;
	build(&s, allow, deny);
	for (const char *const *p = probes; *p; p++) {
		int fam;
		uint8_t a[16];
		addr_of(*p, &fam, a);
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			uint32_t want = linear_judge(&s, fam, a, ports[i]);
			uint32_t got = kernel_judge(&s, fam, a, ports[i]);
			if (want != got)
				fail_msg("%s port %u: kernel %u, rules %u", *p, ports[i], got, want);
		}
	}
}

static void test_model(void **state)
{
	check_model((const char *[]){ "127.0.0.1:8080", NULL }, NULL);
	check_model((const char *[]){ "127.0.0.0/8:*", NULL }, (const char *[]){ "127.0.0.2:*", NULL });
	check_model((const char *[]){ "127.0.0.0/8:80", "127.0.0.1:443", "10.20.0.0/16:443", NULL },
		    (const char *[]){ "127.0.0.1:22", "169.254.169.254:*", NULL });
	check_model((const char *[]){ "*:*", NULL }, (const char *[]){ "10.0.0.0/8:*", "[fd00::/8]:53", NULL });
	check_model((const char *[]){ "*:443", "[::1]:*", NULL }, (const char *[]){ "*:22", NULL });
	check_model((const char *[]){ "[::/0]:*", NULL }, NULL);      /* never IPv4 */
	check_model((const char *[]){ "[::ffff:127.0.0.0/104]:80", NULL }, NULL);
	check_model((const char *[]){ "0.0.0.0/0:53", "127.0.0.0/8:80", "127.0.0.0/24:443",
				      "127.0.0.1:8080", NULL },
		    (const char *[]){ "127.0.0.0/16:9000", NULL });
	check_model(NULL, NULL);
	check_model(NULL, (const char *[]){ "*:*", NULL });
}

static const struct am_netpol_entry *find(const struct set *s, uint8_t fam, const char *addr,
					  unsigned bits)
{
	uint8_t a[16] = { 0 };
	int f;
	if (addr)
		addr_of(addr, &f, a);
	for (int i = 0; i < s->n; i++)
		if (s->e[i].key.fam == fam && s->e[i].key.prefixlen == AM_NETPOL_FIXED_BITS + bits &&
		    !memcmp(s->e[i].key.addr, a, 16))
			return &s->e[i];
	return NULL;
}

static void test_entries(void **state)
{
	struct set s;
	const struct am_netpol_entry *e;

	/* a more specific deny inherits the covering allow, and deny wins */
	build(&s, (const char *[]){ "127.0.0.0/8:*", "127.0.0.2:80", NULL },
	      (const char *[]){ "127.0.0.2:*", NULL });
	assert_int_equal(s.n, 2);
	e = find(&s, AM_NETPOL_FAM_V4, "127.0.0.0", 8);
	assert_non_null(e);
	assert_int_equal(e->key.agent_id, 7);
	assert_int_equal(e->val.flags, AM_NETPOL_ALLOW_ANY);
	e = find(&s, AM_NETPOL_FAM_V4, "127.0.0.2", 32);
	assert_non_null(e);
	assert_int_equal(e->val.flags, AM_NETPOL_ALLOW_ANY | AM_NETPOL_DENY_ANY);
	assert_int_equal(e->val.nallow, 1);
	assert_int_equal(e->val.allow[0], 80);

	/* ports accumulate down the chain, without duplicates */
	build(&s, (const char *[]){ "10.0.0.0/8:443", "10.20.0.0/16:80", "10.20.0.0/16:443", NULL }, NULL);
	assert_int_equal(s.n, 2);
	e = find(&s, AM_NETPOL_FAM_V4, "10.20.0.0", 16);
	assert_non_null(e);
	assert_int_equal(e->val.flags, 0);
	assert_int_equal(e->val.nallow, 2);
	assert_true(in(e->val.allow, 2, 80) && in(e->val.allow, 2, 443));

	/* any address: one /0 per family; host bits never stored */
	build(&s, (const char *[]){ "*:*", NULL }, NULL);
	assert_int_equal(s.n, 2);
	assert_non_null(find(&s, AM_NETPOL_FAM_V4, NULL, 0));
	assert_non_null(find(&s, AM_NETPOL_FAM_V6, NULL, 0));

	/* the same prefix twice is one entry */
	build(&s, (const char *[]){ "[::1]:1", "[::1]:2", NULL }, (const char *[]){ "[::1]:3", NULL });
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].val.nallow, 2);
	assert_int_equal(s.e[0].val.ndeny, 1);
}

static void test_overflow_and_space(void **state)
{
	struct am_netrule r[AM_NETPOL_PORTS + 1];
	struct am_netpol_entry e[4];
	const char *why;
	char buf[64];

	for (int i = 0; i <= AM_NETPOL_PORTS; i++) {
		snprintf(buf, sizeof(buf), "127.0.0.1:%d", 1000 + i);
		assert_int_equal(am_netrule_parse(buf, &r[i], &why), 0);
	}
	assert_int_equal(am_netpol_build(1, r, AM_NETPOL_PORTS, NULL, 0, e, 4), 1);
	assert_int_equal(e[0].val.flags, 0);
	assert_int_equal(am_netpol_build(1, r, AM_NETPOL_PORTS + 1, NULL, 0, e, 4), 1);
	assert_int_equal(e[0].val.flags, AM_NETPOL_OVERFLOW);

	assert_int_equal(am_netrule_parse("*:*", &r[0], &why), 0);
	assert_int_equal(am_netpol_build(1, r, 1, NULL, 0, e, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_overflow_and_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
