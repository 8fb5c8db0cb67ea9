#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "netrule.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void am_netaddr_normalize(int *family, uint8_t addr[16])
{
	if (*family == AF_INET6 && !memcmp(addr, mapped_prefix, 12)) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
}

static int parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (!n || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static bool host_bits_zero(const uint8_t *a, unsigned bits, unsigned prefix)
{
	for (unsigned b = prefix; b < bits; b++)
		if (a[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

int am_netrule_parse(const char *s, struct am_netrule *r, const char **why)
{
	char host[64];
	const char *colon, *pfx = NULL;
	size_t hn, pn = 0;
	unsigned v;

	memset(r, 0, sizeof(*r));
	*why = "expected ADDR[/PREFIX]:PORT, e.g. 10.0.0.0/8:443, [::1]:*, *:*";
	if (strlen(s) > 80)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] == 0)
			return -EINVAL;
		hn = (size_t)(rb - s - 1);
		if (hn >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hn);
		host[hn] = 0;
		char *slash = strchr(host, '/');
		if (slash) {			/* [addr/prefix]:port */
			*slash = 0;
			pfx = s + 1 + (slash - host) + 1;
			pn = (size_t)(rb - pfx);
			hn = (size_t)(slash - host);
		}
		colon = rb + 1;
		if (*colon == '/') {		/* [addr]/prefix:port */
			if (pfx)
				return -EINVAL;
			pfx = colon + 1;
			colon = strchr(pfx, ':');
			if (!colon)
				return -EINVAL;
			pn = (size_t)(colon - pfx);
		}
		if (*colon != ':')
			return -EINVAL;
		if (inet_pton(AF_INET6, host, r->addr) != 1) {
			*why = "invalid IPv6 address";
			return -EINVAL;
		}
		r->family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hn = (size_t)(colon - s);
		if (hn >= sizeof(host))
			return -EINVAL;
		if (memchr(s, ':', hn)) {
			*why = "put IPv6 addresses in brackets, e.g. [::1]:443";
			return -EINVAL;
		}
		memcpy(host, s, hn);
		host[hn] = 0;
		char *slash = strchr(host, '/');
		if (slash) {
			*slash = 0;
			pfx = s + (slash - host) + 1;
			pn = (size_t)(colon - pfx);
		}
		if (!strcmp(host, "*")) {
			if (pfx) {
				*why = "'*' takes no prefix";
				return -EINVAL;
			}
			r->family = 0;
		} else if (inet_pton(AF_INET, host, r->addr) == 1) {
			r->family = AF_INET;
		} else {
			*why = "invalid IPv4 address (IPv6 goes in brackets, any address is '*')";
			return -EINVAL;
		}
	}

	unsigned bits = r->family == AF_INET ? 32 : r->family == AF_INET6 ? 128 : 0;
	r->prefix = (uint8_t)bits;
	if (pfx) {
		if (parse_uint(pfx, pn, bits, &v)) {
			*why = r->family == AF_INET ? "prefix must be 0..32" : "prefix must be 0..128";
			return -EINVAL;
		}
		r->prefix = (uint8_t)v;
		if (!host_bits_zero(r->addr, bits, v)) {
			*why = "address has bits set beyond the prefix (use the network address)";
			return -EINVAL;
		}
	}
	/* A mapped rule is an IPv4 rule. A prefix shorter than 96 spans more
	 * than the mapped range: keep it IPv6. */
	if (r->family == AF_INET6 && r->prefix >= 96 && !memcmp(r->addr, mapped_prefix, 12)) {
		int fam = AF_INET6;
		am_netaddr_normalize(&fam, r->addr);
		r->family = fam;
		r->prefix -= 96;
	}

	const char *port = colon + 1;
	if (!strcmp(port, "*")) {
		r->port = AM_NET_ANY_PORT;
	} else if (parse_uint(port, strlen(port), 65535, &v)) {
		*why = "port must be 0..65535 or '*'";
		return -EINVAL;
	} else {
		r->port = (int32_t)v;
	}
	*why = NULL;
	return 0;
}

void am_netrule_format(const struct am_netrule *r, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "*", p[8] = "*";

	if (r->port != AM_NET_ANY_PORT)
		snprintf(p, sizeof(p), "%d", r->port);
	if (r->family == AF_INET) {
		inet_ntop(AF_INET, r->addr, a, sizeof(a));
		if (r->prefix == 32)
			snprintf(buf, n, "%s:%s", a, p);
		else
			snprintf(buf, n, "%s/%u:%s", a, r->prefix, p);
	} else if (r->family == AF_INET6) {
		inet_ntop(AF_INET6, r->addr, a, sizeof(a));
		if (r->prefix == 128)
			snprintf(buf, n, "[%s]:%s", a, p);
		else
			snprintf(buf, n, "[%s/%u]:%s", a, r->prefix, p);
	} else {
		snprintf(buf, n, "*:%s", p);
	}
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return (a[full] & mask) == (b[full] & mask);
}

bool am_netrule_match(const struct am_netrule *r, int family, const uint8_t addr[16],
		      uint16_t port)
{
	uint8_t a[16];

	if (family != AF_INET && family != AF_INET6)
		return false;
	if (r->port != AM_NET_ANY_PORT && r->port != port)
		return false;
	if (r->family == 0)
		return true;
	memcpy(a, addr, 16);
	if (family == AF_INET)
		memset(a + 4, 0, 12);
	am_netaddr_normalize(&family, a);
	return family == r->family && prefix_eq(a, r->addr, r->prefix);
}

bool am_netrule_any_addr(const struct am_netrule *r)
{
	return r->family == 0 || r->prefix == 0;
}
