/* Decoding network events (struct am_net_body) into records. */
#ifndef AGENTMON_NET_EVENT_H
#define AGENTMON_NET_EVENT_H

#include <stddef.h>
#include "agentmon.h"
#include "record.h"

/* Fill r->kind and the r->net_* fields from `n` (`avail` bytes of it were
 * received). Addresses are numeric (inet_ntop; IPv4-mapped IPv6 stays family
 * "ipv6" as "::ffff:a.b.c.d"); unix names are the path, or '@' and the
 * abstract name with its NUL bytes written as \x00. 0, or -EINVAL when the
 * body is malformed (unknown op or family, bad lengths, result not 0/-errno). */
int am_net_record(struct am_record *r, const struct am_net_body *n, size_t avail);

#endif
