/* cgroup v2 directories of agents: create, join, freeze, kill, remove. */
#ifndef AGENTMON_CGROUP_H
#define AGENTMON_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Create <root>/agentmon/<leaf> (and the agentmon parent). Writes the full
 * path to `out`. 0 or -errno. */
int am_cgroup_create(const char *root, const char *leaf, char *out, size_t outsz);
/* The cgroup id the kernel reports for a directory (its kernfs inode). */
int am_cgroup_id(const char *path, uint64_t *id);
/* Move process `pid` into the cgroup. */
int am_cgroup_join(const char *path, pid_t pid);
/* Write "1"/"0" to cgroup.freeze, then wait (bounded) until cgroup.events says
 * frozen 1/0. 0, -ETIMEDOUT, or -errno. */
int am_cgroup_freeze(const char *path, int freeze, int timeout_ms);
/* Kill every process in the cgroup (cgroup.kill). */
int am_cgroup_kill(const char *path);
/* 1 if any process is in the cgroup or its children, 0 if empty, -errno. */
int am_cgroup_populated(const char *path);
/* 1 if cgroup.events says frozen 1, 0 if not, -errno. */
int am_cgroup_frozen(const char *path);
/* rmdir, retrying briefly while the last exits are being accounted. */
int am_cgroup_remove(const char *path);

#endif
