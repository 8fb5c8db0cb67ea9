/* Decoding network events (struct am_net_body) into records. */
#ifndef AGENTMON_NET_EVENT_H
#define AGENTMON_NET_EVENT_H

#include <stddef.h>
#include "agentmon.h"
#include "record.h"

/* Fill r->kind and the r->net_* fields from `n` (`avail` bytes of it were
 * received). 0, or -EINVAL when the body is malformed. */
int am_net_record(struct am_record *r, const struct am_net_body *n, size_t avail);

#endif
