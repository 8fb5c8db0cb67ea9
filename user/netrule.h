/* Network rules: "ADDR[/PREFIX]:PORT" where PORT is a number or '*'.
 *
 *   127.0.0.1:8080        one IPv4 address, one port
 *   10.20.0.0/16:443      an IPv4 network (host bits must be zero)
 *   [::1]:*               IPv6 in brackets, any port
 *   [fd00::/8]:53         IPv6 network; "[fd00::]/8:53" is accepted too
 *   *:443  *:*            any address (IPv4 or IPv6)
 *
 * IPv4-mapped IPv6 addresses ("::ffff:10.0.0.1") are IPv4: in rules they
 * are stored as IPv4 (prefix minus 96), in events they are judged as IPv4,
 * so "10.0.0.0/8:*" covers a v6 socket talking to a mapped address and
 * "::/0" does not cover IPv4 traffic. Only '*' covers both families.
 */
#ifndef AGENTMON_NETRULE_H
#define AGENTMON_NETRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AM_NET_ANY_PORT (-1)

struct am_netrule {
	int family;		/* AF_INET, AF_INET6, or 0 for any address */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes */
	uint8_t prefix;		/* bits; 0 with family 0 */
	int32_t port;		/* 0..65535 or AM_NET_ANY_PORT */
};

/* 0, or -EINVAL with a static reason in *why. */
int am_netrule_parse(const char *s, struct am_netrule *r, const char **why);

/* Canonical text, e.g. "10.20.0.0/16:443", "[::1]:*", "*:*". buf >= 64. */
void am_netrule_format(const struct am_netrule *r, char *buf, size_t n);

/* Turn an IPv4-mapped IPv6 address into AF_INET in place. */
void am_netaddr_normalize(int *family, uint8_t addr[16]);

/* Does (family, addr, port) fall under r? family is AF_INET or AF_INET6
 * (mapped addresses are normalized here); other families never match. */
bool am_netrule_match(const struct am_netrule *r, int family, const uint8_t addr[16],
		      uint16_t port);

/* True if the rule covers every address of a family (prefix 0). */
bool am_netrule_any_addr(const struct am_netrule *r);

#endif
