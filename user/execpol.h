/* The part of an agent's exec policy the kernel enforces synchronously:
 * which resolved executables are killed before they run. */
#ifndef AGENTMON_EXECPOL_H
#define AGENTMON_EXECPOL_H

#include <stddef.h>
#include <stdint.h>
#include "bpf_loader.h"
#include "profile.h"

/* FNV-1a 64 over n bytes: the hash the BPF side computes over a path. */
uint64_t am_fnv1a64(const char *s, size_t n);

struct am_execpol_stats {
	unsigned kill_entries, allow_entries;
	unsigned unexpanded;     /* patterns that matched no file when installed */
	uint32_t flags;          /* AM_AGF_* set for the agent */
	int truncated;           /* the kernel map filled up: part is enforced late */
};

/* Install the policy of `p` for `agent_id` (enforce mode only; a no-op in
 * audit mode). Exec lists are expanded against the filesystem now, symlinks
 * followed too; a file created later that matches a deny glob is still
 * caught, just not synchronously (userspace kills it on the event). */
int am_execpol_install(struct am_bpf *b, uint32_t agent_id, const struct am_profile *p,
		       int audit, struct am_execpol_stats *st);

#endif
