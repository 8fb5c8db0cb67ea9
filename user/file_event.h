/* Decoding file events (struct am_file_body) into records. */
#ifndef AGENTMON_FILE_EVENT_H
#define AGENTMON_FILE_EVENT_H

#include <stddef.h>
#include "agentmon.h"
#include "record.h"

/* Storage for the absolute names a record points to. */
struct am_file_names {
	char path[2 * AM_PATH_MAX];
	char path2[2 * AM_PATH_MAX];
};

/* Join `rel` to the absolute directory `base` (ignored when rel is absolute)
 * and normalise lexically: "//" and "." dropped, ".." removes one component
 * (never above "/"). 0, or -ENAMETOOLONG. */
int am_path_join(const char *base, const char *rel, char *out, size_t outsz);

/* Fill r->kind, r->path, r->access, r->file_op (and r->path2) from `b`
 * (`avail` bytes received). 0, or -EINVAL when malformed. */
int am_file_record(struct am_record *r, const struct am_file_body *b, size_t avail,
		   struct am_file_names *names);

#endif
