/* Wire format shared by the BPF programs (bpf/) and userspace (user/).
 *
 * Rules: fixed-width types only, explicit padding, no pointers or bool;
 * every struct's size is asserted on both sides so a mismatch fails the build.
 *
 * Events travel through one BPF ring buffer ("am_events"). Every event starts
 * with struct am_event_hdr; `kind` says which body follows. Bodies that carry a
 * path put it last and the program sends only the used part of it, so the
 * record length is offsetof(path) + path_len (+1 for the NUL).
 */
#ifndef AGENTMON_H
#define AGENTMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define AM_PATH_MAX   4096  /* resolved paths, NUL included; longer ones are cut and flagged */
#define AM_ARGS_MAX   256   /* first part of argv, NUL-separated */
#define AM_COMM_LEN   16
#define AM_PATH_DEPTH 1024  /* path components walked before giving up (flagged) */

/* Sizes of the maps (userspace may change some before load). */
#define AM_MAX_TASKS   65536  /* tracked thread groups across all agents */
#define AM_MAX_AGENTS  4096
#define AM_RINGBUF_DEFAULT (8u << 20)

enum am_event_kind {
	AM_EV_EXEC = 1,  /* sched_process_exec of a tracked task */
	AM_EV_EXIT = 2,  /* last thread of a tracked thread group exited */
	AM_EV_FORK = 3,  /* a tracked task forked a new process (internal: keeps the process table) */
	AM_EV_KIND_MAX,
};

/* am_event_hdr.flags */
#define AM_EVF_PATH_TRUNC  (1u << 0)  /* path longer than AM_PATH_MAX or deeper than AM_PATH_DEPTH */
#define AM_EVF_ARGS_TRUNC  (1u << 1)  /* argv longer than AM_ARGS_MAX */
#define AM_EVF_PATH_ERR    (1u << 2)  /* path could not be read at all */

struct am_event_hdr {
	__u64 ts_ns;       /* bpf_ktime_get_boot_ns(): userspace adds the boot→realtime offset */
	__u64 cgroup_id;   /* cgroup v2 id of the task (kernfs inode number of its directory) */
	__u32 kind;        /* enum am_event_kind */
	__u32 agent_id;    /* which agent session the task belongs to (userspace-assigned) */
	__u32 pid;         /* thread group id */
	__u32 tid;         /* thread id that acted */
	__u32 ppid;        /* thread group id of the real parent */
	__u32 uid;         /* real uid */
	__u32 depth;       /* process-tree depth below the agent's root process (root = 0) */
	__u32 flags;       /* AM_EVF_* */
	char  comm[AM_COMM_LEN];
};
_Static_assert(sizeof(struct am_event_hdr) == 64, "am_event_hdr layout");

struct am_exec_body {
	__u32 path_len;            /* bytes of path used, without the NUL */
	__u32 args_len;            /* bytes of args used (NUL-separated argv) */
	char  args[AM_ARGS_MAX];
	char  path[AM_PATH_MAX];   /* executable as the kernel resolved it (bprm->file) */
};

struct am_exit_body {
	__u32 status;   /* wait(2)-style status: (code << 8) | signal */
	__u32 pad;
};

struct am_fork_body {
	__u32 child_pid;
	__u32 pad;
};

struct am_event {
	struct am_event_hdr hdr;
	union {
		struct am_exec_body exec;
		struct am_exit_body exit;
		struct am_fork_body fork;
	};
};
_Static_assert(sizeof(struct am_exec_body) == 8 + AM_ARGS_MAX + AM_PATH_MAX, "am_exec_body layout");
_Static_assert(__builtin_offsetof(struct am_event, exec) == 64, "am_event body offset");

/* Value of the "am_tasks" map, keyed by thread group id: which agent a process
 * belongs to. Inherited at fork, removed at exit of the group. */
struct am_task {
	__u32 agent_id;
	__u32 depth;
};
_Static_assert(sizeof(struct am_task) == 8, "am_task layout");

/* Value of the "am_agents" map, keyed by agent id: per-agent state the kernel
 * keeps (counters userspace reads). */
struct am_agent {
	__u64 lost;      /* events of this agent that could not be delivered */
	__u64 events;    /* events delivered */
};
_Static_assert(sizeof(struct am_agent) == 16, "am_agent layout");

/* Indices of the per-CPU "am_stats" array: why events were lost or degraded. */
enum am_stat {
	AM_STAT_RB_FULL = 0,    /* ring buffer reserve/output failed: event dropped */
	AM_STAT_TASKS_FULL,     /* am_tasks full: a child could not be tracked */
	AM_STAT_PATH_TRUNC,     /* a path was cut (still delivered, flagged) */
	AM_STAT_READ_ERR,       /* a kernel/user read helper failed */
	AM_STAT_EVENTS,         /* events delivered */
	AM_STAT_MAX,
};

#endif /* AGENTMON_H */
