/* A profile's `match` (exe, uid, cgroup subtree; every given field must
 * hold), in the kernel (am_match, checked at each exec) and for processes
 * that already run when the daemon starts (/proc). */
#ifndef AGENTMON_MATCH_H
#define AGENTMON_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "bpf_loader.h"

struct am_match_rule {
	uint32_t agent_id;
	const char *exe;      /* NULL: any */
	int64_t uid;          /* -1: any */
	const char *cgroup;   /* NULL: any; a path relative to the cgroup2 root */
};

/* 1 if cgroup path `path` is `prefix` or lies below it, by whole components
 * ("/a/b" is under "/a", "/ab" is not). Both start with '/'. */
int am_cgroup_under(const char *path, const char *prefix);

/* The kernel's device number encoding (major << 20 | minor) of a dev_t. */
uint32_t am_kdev(dev_t d);

struct am_match_stats {
	unsigned rules;       /* installed */
	unsigned pending;     /* exe missing or cgroup not there yet: not matched at exec */
	uint64_t sig;         /* changes when what the rules resolve to changes */
};

/* What the rules resolve to now (exe inodes, cgroup directories): a cheap
 * check, run periodically, tells when to install again. */
uint64_t am_match_signature(const char *cgroot, const struct am_match_rule *r, size_t n);

/* Make the kernel recognise exactly these rules at exec. Earlier entries are
 * replaced in place (added and updated first, stale ones removed last), so an
 * exec during the update meets either the old or the new rule. */
int am_match_install(struct am_bpf *b, const char *cgroot, const struct am_match_rule *r,
		     size_t n, struct am_match_stats *st);

/* A running process as /proc shows it. */
struct am_pinfo {
	uint32_t pid, ppid, uid;
	int has_exe;
	dev_t dev;
	ino_t ino;
	char *exe;            /* readlink of /proc/PID/exe, or NULL */
	char *cgroup;         /* the cgroup2 ("0::") path, or NULL */
};

/* Every process of the host (kernel threads skipped). 0 or -errno. */
int am_procscan(struct am_pinfo **out, size_t *n);
void am_procscan_free(struct am_pinfo *p, size_t n);
/* 1 if process `p` satisfies rule `r` (exe compared by inode). */
int am_match_proc(const struct am_match_rule *r, const struct am_pinfo *p);

#endif
