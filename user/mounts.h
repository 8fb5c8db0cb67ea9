/* Filesystems agentmon needs: cgroup v2 (agent cgroups), tracefs (classic
 * tracepoints), bpffs (pinning). Found in /proc/self/mountinfo, mounted when
 * missing. */
#ifndef AGENTMON_MOUNTS_H
#define AGENTMON_MOUNTS_H

#include <stddef.h>

/* Mount point of the first filesystem of type `fstype` in a mountinfo file,
 * written to `out`. 0, -ENOENT if there is none, -errno on read error. */
int am_find_mount(const char *mountinfo, const char *fstype, char *out, size_t outsz);

/* cgroup v2 root: where it is mounted (hybrid hosts: /sys/fs/cgroup/unified),
 * or mounted at /run/agentmon/cgroup2 when the host has none. */
int am_cgroup2_root(char *out, size_t outsz);

/* tracefs at /sys/kernel/tracing, mounted there if missing. */
int am_ensure_tracefs(void);

#endif
