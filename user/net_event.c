/* Decoding network events (struct am_net_body) into records.
 *
 * The body comes from the kernel, but it is still input: every length,
 * enum and range is checked before use, and a body that breaks the contract
 * in include/agentmon.h is rejected as malformed rather than half-printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "net_event.h"

#define AM_ERRNO_MAX 4095   /* the kernel's MAX_ERRNO */

static const char *op_kind(uint32_t op)
{
	switch (op) {
	case AM_NOP_CONNECT: return "connect";
	case AM_NOP_BIND:    return "bind";
	case AM_NOP_LISTEN:  return "listen";
	case AM_NOP_SENDTO:  return "sendto";
	}
	return NULL;
}

/* Transport name from the kernel socket's type and protocol. */
static const char *proto_name(uint16_t family, uint16_t sotype, uint16_t proto)
{
	if (family == AF_UNIX)
		return "unix";
	if (sotype == SOCK_RAW)
		return "raw";
	switch (proto) {
	case IPPROTO_TCP:     return "tcp";
	case IPPROTO_UDP:     return "udp";
	case IPPROTO_UDPLITE: return "udplite";
	case IPPROTO_SCTP:    return "sctp";
	case IPPROTO_ICMP:    return "icmp";     /* ping sockets */
	case IPPROTO_ICMPV6:  return "icmpv6";
	case 262:             return "mptcp";    /* IPPROTO_MPTCP */
	}
	/* socket closed between the syscall and the hook, or an exotic one */
	return sotype == 0 && proto == 0 ? "unknown" : "other";
}

/* Unix socket name into `out`: pathname sockets stop at the first NUL (as
 * the kernel does); abstract names ("@…") are taken in full, their NUL bytes
 * written as \x00 so the name stays one C string. Returns 1 if cut. */
static int unix_name(char *out, size_t sz, const char *path, size_t len)
{
	size_t o = 0;
	int abstract = len > 0 && path[0] == '@';

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c == 0 && !abstract)
			break;
		if (c == 0) {
			if (o + 4 >= sz) {
				out[o] = 0;
				return 1;
			}
			memcpy(out + o, "\\x00", 4);
			o += 4;
			continue;
		}
		if (o + 1 >= sz) {
			out[o] = 0;
			return 1;
		}
		out[o++] = (char)c;
	}
	out[o] = 0;
	return 0;
}

int am_net_record(struct am_record *r, const struct am_net_body *n, size_t avail)
{
	size_t head = offsetof(struct am_net_body, path);
	const char *kind;

	if (!r || !n || avail < head)
		return -EINVAL;
	kind = op_kind(n->op);
	if (!kind)
		return -EINVAL;
	if (n->ret > 0 || n->ret < -AM_ERRNO_MAX)
		return -EINVAL;

	switch (n->family) {
	case AF_INET:
	case AF_INET6:
		if (n->path_len != 0)
			return -EINVAL;
		if (!inet_ntop(n->family, n->addr, r->net_addr, sizeof(r->net_addr)))
			return -EINVAL;
		r->net_family = n->family == AF_INET ? "ipv4" : "ipv6";
		r->net_port = n->port;
		break;
	case AF_UNIX:
		if (n->path_len > AM_UNIX_PATH_MAX || avail < head + n->path_len || n->port != 0)
			return -EINVAL;
		if (unix_name(r->net_addr, sizeof(r->net_addr), n->path, n->path_len))
			r->flags |= AM_EVF_PATH_TRUNC;
		r->net_family = "unix";
		r->net_port = 0;
		break;
	default:
		return -EINVAL;
	}
	r->kind = kind;
	r->has_net = 1;
	r->net_proto = proto_name(n->family, n->sotype, n->proto);
	r->net_local = n->op == AM_NOP_BIND || n->op == AM_NOP_LISTEN;
	r->net_result = n->ret;
	return 0;
}
