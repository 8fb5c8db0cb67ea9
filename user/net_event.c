/* Placeholder until network observation lands. */
#include <errno.h>
#include "net_event.h"

int am_net_record(struct am_record *r, const struct am_net_body *n, size_t avail)
{
	(void)r;
	(void)n;
	(void)avail;
	return -EINVAL;
}
