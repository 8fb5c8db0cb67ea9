/* Internal layout of a loaded profile, shared by profile.c (parser) and
 * verdict.c (judging). Not for other files: use profile.h. */
#ifndef AGENTMON_PROFILE_IMPL_H
#define AGENTMON_PROFILE_IMPL_H

#include <stdbool.h>
#include "glob.h"
#include "netrule.h"
#include "profile.h"

struct rule_list {
	char **items;		/* as written */
	uint16_t *origin;	/* 0 the profile itself, else index into origins */
	uint32_t *index;	/* position in the origin's own list */
	size_t n, cap;
	struct am_globset *gs;	/* path lists: id = position in items */
	struct am_netrule *net;	/* network connect/deny */
	uint16_t *ports;	/* network listen */
};

struct am_profile {
	char *path, *name, *version, *by;
	bool has_approval, has_expires;
	time_t at, expires;
	char *match_exe, *match_cgroup;
	int64_t match_uid;
	enum am_mode mode;
	bool has_max_depth;
	unsigned max_depth;
	struct rule_list lists[AM_L__COUNT];
	uint64_t *secret_ttl;	/* parallel to lists[AM_L_SECRETS] */
	size_t secret_cap;
	enum am_action act[4];	/* indexed by enum am_verdict */
	enum am_action lost;
	bool has_escalate;
	struct am_escalate esc;
	char sha256[65];
	char **origins;		/* include names as written; [0] is NULL */
	size_t norigins;
};

/* "files.read" etc. */
extern const char *const am_list_names[AM_L__COUNT];

/* Write the label of lists[l].items[i] ("exec.allow[2]", "base:files.read[3]"). */
void am_rule_label(const struct am_profile *p, enum am_list l, size_t i, char *buf, size_t n);

#endif
