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
#define AM_RINGBUF_DEFAULT (4u << 20)  /* see README "Performance": RSS vs. burst room */

enum am_event_kind {
	AM_EV_EXEC = 1,  /* sched_process_exec of a tracked task */
	AM_EV_EXIT = 2,  /* last thread of a tracked thread group exited */
	AM_EV_FORK = 3,  /* a tracked task forked a new process (internal: keeps the process table) */
	AM_EV_FILE = 4,  /* a file operation (struct am_file_body) */
	AM_EV_NET  = 5,  /* a network operation (struct am_net_body) */
	AM_EV_KIND_MAX,
};

/* am_event_hdr.flags */
#define AM_EVF_PATH_TRUNC  (1u << 0)  /* path longer than AM_PATH_MAX or deeper than AM_PATH_DEPTH */
#define AM_EVF_ARGS_TRUNC  (1u << 1)  /* argv longer than AM_ARGS_MAX */
#define AM_EVF_PATH_ERR    (1u << 2)  /* path could not be read at all */
#define AM_EVF_KILLED      (1u << 3)  /* the kernel sent SIGKILL before the new program ran */
#define AM_EVF_DENIED      (1u << 4)  /* the kernel refused the operation (EPERM) itself */
#define AM_EVF_MATCHED     (1u << 5)  /* exec: a profile's match made this process an agent's root */

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

/* File operations (am_file_body.op). */
enum am_file_op {
	AM_FOP_OPEN = 1,   /* open, openat, openat2, creat */
	AM_FOP_UNLINK,     /* unlink, unlinkat (without AT_REMOVEDIR) */
	AM_FOP_RMDIR,      /* rmdir, unlinkat(AT_REMOVEDIR) */
	AM_FOP_MKDIR,      /* mkdir, mkdirat */
	AM_FOP_RENAME,     /* rename, renameat, renameat2: path → path2 */
	AM_FOP_CHMOD,      /* chmod, fchmod, fchmodat */
	AM_FOP_CHOWN,      /* chown, lchown, fchown, fchownat */
	AM_FOP_TRUNCATE,   /* truncate, ftruncate */
	AM_FOP_LINK,       /* link, linkat: path (existing) → path2 (new name) */
	AM_FOP_SYMLINK,    /* symlink, symlinkat: path2 (new name) → upath (target text) */
	AM_FOP_MAX,
};

/* am_file_body.access */
#define AM_ACC_READ  (1u << 0)
#define AM_ACC_WRITE (1u << 1)

/* Key of the "am_seen" map: an activity of an agent that userspace judged
 * `allow`. The kernel drops repeats of it before the expensive part (path walk,
 * ring buffer). For files it names the exact dentry on the exact mount, plus
 * the inode number so a recycled dentry address never matches another file. */
struct am_seen_key {
	__u32 agent_id;
	__u32 what;        /* (kind << 16) | (op << 8) | access */
	__u64 a;           /* file: dentry address; net: address (first 8 bytes) */
	__u64 b;           /* file: vfsmount address; net: address (last 8 bytes) */
	__u64 c;           /* file: inode number; net: (family << 16) | port */
};
_Static_assert(sizeof(struct am_seen_key) == 32, "am_seen_key layout");

/* A file operation. Opens (and fd-based ops) carry the opened file's path as
 * the kernel resolved it in `path`. Path-only ops (unlink, rename, chmod…)
 * carry the caller's string in `upath` and, when that is relative, the
 * directory it is relative to (dirfd or working directory, resolved by the
 * kernel) in `path`; userspace joins and normalises them. Records of opens are
 * sent up to the end of `path`; others in full. */
struct am_file_body {
	__u32 op;          /* enum am_file_op */
	__u32 access;      /* AM_ACC_* */
	__u32 oflags;      /* open(2) flags as the caller passed them */
	__s32 ret;         /* syscall result (fd, 0, or -errno) */
	__u32 mode;        /* chmod/open mode */
	__u32 path_len;
	__u32 upath_len;
	__u32 path2_len;
	__u32 upath2_len;
	__u32 pad;
	struct am_seen_key seen;   /* what userspace inserts into am_seen if allowed */
	char  path[AM_PATH_MAX];
	char  upath[AM_PATH_MAX];
	char  path2[AM_PATH_MAX];
	char  upath2[AM_PATH_MAX];
};

/* Network operations (am_net_body.op). */
enum am_net_op {
	AM_NOP_CONNECT = 1,
	AM_NOP_BIND,
	AM_NOP_LISTEN,
	AM_NOP_SENDTO,     /* sendto/sendmsg with an explicit destination */
	AM_NOP_MAX,
};

#define AM_UNIX_PATH_MAX 108

struct am_net_body {
	__u32 op;          /* enum am_net_op */
	__s32 ret;         /* syscall result (0 or -errno; EINPROGRESS counts as started) */
	__u16 family;      /* AF_INET, AF_INET6, AF_UNIX */
	__u16 port;        /* host byte order */
	__u16 sotype;      /* SOCK_STREAM, SOCK_DGRAM, … */
	__u16 proto;       /* IPPROTO_TCP, IPPROTO_UDP, 0 */
	__u8  addr[16];    /* IPv4 in the first 4 bytes; IPv6 as is */
	__u32 path_len;    /* AF_UNIX: bytes of path (abstract names start with '@') */
	__u32 pad;
	struct am_seen_key seen;
	char  path[AM_UNIX_PATH_MAX];
	char  pad2[4];
};

struct am_event {
	struct am_event_hdr hdr;
	union {
		struct am_exec_body exec;
		struct am_exit_body exit;
		struct am_fork_body fork;
		struct am_file_body file;
		struct am_net_body net;
	};
};
_Static_assert(sizeof(struct am_net_body) % 8 == 0, "am_net_body padding");
_Static_assert(__builtin_offsetof(struct am_file_body, path) % 8 == 0, "am_file_body layout");
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
	__u32 flags;     /* AM_AGF_*: what the kernel enforces for this agent */
	__u32 max_depth; /* with AM_AGF_DEPTH_KILL: deeper execs are killed */
};
_Static_assert(sizeof(struct am_agent) == 24, "am_agent layout");

/* am_agent.flags: synchronous enforcement in the kernel (enforce mode only). */
#define AM_AGF_EXEC_POLICY   (1u << 0)  /* look execs up in am_execpol */
#define AM_AGF_EXEC_DEFKILL  (1u << 1)  /* an exec not in am_execpol is killed */
#define AM_AGF_DEPTH_KILL    (1u << 2)  /* an exec deeper than max_depth is killed */
#define AM_AGF_NET_VIOLATION (1u << 3)  /* refuse destinations that match no network.connect rule */
#define AM_AGF_NET_CRITICAL  (1u << 4)  /* refuse destinations that match a network.deny rule */
#define AM_AGF_NET_ANY       (AM_AGF_NET_VIOLATION | AM_AGF_NET_CRITICAL)

/* Key of "am_execpol": an agent's resolved executable path, hashed with
 * am_fnv1a64 (below) over the path's bytes without the NUL. */
struct am_execpol_key {
	__u32 agent_id;
	__u32 pad;
	__u64 hash;
};
_Static_assert(sizeof(struct am_execpol_key) == 16, "am_execpol_key layout");

enum am_execpol {
	AM_EXECPOL_ALLOW = 1,   /* let it run */
	AM_EXECPOL_KILL = 2,    /* SIGKILL before its first instruction */
};

/* Key of the "am_netpol" LPM trie: destinations of an agent's connect and
 * sendmsg (cgroup sock_addr hooks). The agent id and the family tag are
 * always fully part of the prefix (prefixlen = AM_NETPOL_FIXED_BITS + address
 * bits), so agents never see each other's rules and IPv6 rules never cover
 * IPv4 traffic (IPv4-mapped IPv6 destinations are looked up as IPv4, the way
 * userspace judges them). IPv4 addresses use the first 4 bytes of addr. */
struct am_netpol_key {
	__u32 prefixlen;
	__u32 agent_id;
	__u8  fam;          /* AM_NETPOL_FAM_V4 or AM_NETPOL_FAM_V6 */
	__u8  pad[3];
	__u8  addr[16];
};
_Static_assert(sizeof(struct am_netpol_key) == 28, "am_netpol_key layout");

#define AM_NETPOL_FAM_V4     4
#define AM_NETPOL_FAM_V6     6
#define AM_NETPOL_FIXED_BITS 64   /* agent_id + fam + pad */

#define AM_NETPOL_PORTS      16   /* allowed ports kept per prefix */
#define AM_NETPOL_DENY_PORTS 8    /* denied ports kept per prefix */

/* Value of "am_netpol": everything the profile says about the addresses
 * under this prefix, merged by userspace over all covering rules, so the
 * longest-prefix match alone decides. */
struct am_netpol_val {
	__u32 flags;        /* AM_NETPOL_* */
	__u16 nallow;       /* used entries of allow[] */
	__u16 ndeny;        /* used entries of deny[] */
	__u16 allow[AM_NETPOL_PORTS];
	__u16 deny[AM_NETPOL_DENY_PORTS];
};
_Static_assert(sizeof(struct am_netpol_val) == 56, "am_netpol_val layout");

#define AM_NETPOL_ALLOW_ANY  (1u << 0)  /* every port is allowed (unless denied) */
#define AM_NETPOL_DENY_ANY   (1u << 1)  /* every port is denied: critical */
#define AM_NETPOL_OVERFLOW   (1u << 2)  /* more ports than fit: the kernel does not refuse
					 * here, userspace judges the event and responds */

/* Recognising new agents at exec (agentmon run). The kernel looks up the
 * executed file by (device, inode) in "am_match"; each candidate is a
 * profile whose other match fields (uid, cgroup subtree) must hold too. The
 * first candidate that holds makes the process the root of that agent before
 * the new program runs. Key {0, 0} holds the profiles without match.exe; it
 * is only looked up when am_match_wild is set. */
#define AM_MATCH_CANDS   8
#define AM_MATCH_ANY     0xffffffffu   /* uid or cgroup index: any */
#define AM_MATCH_NEVER   0xfffffffeu   /* cgroup index: the cgroup does not exist (yet) */
#define AM_MATCH_CGROUPS 256           /* distinct match.cgroup directories */

struct am_match_key {
	__u64 ino;
	__u32 dev;          /* the kernel's encoding: major << 20 | minor */
	__u32 pad;
};
_Static_assert(sizeof(struct am_match_key) == 16, "am_match_key layout");

struct am_match_cand {
	__u32 agent_id;
	__u32 uid;          /* real uid, or AM_MATCH_ANY */
	__u32 cg_idx;       /* index in am_match_cg, AM_MATCH_ANY or AM_MATCH_NEVER */
	__u32 pad;
};

struct am_match_val {
	__u32 n;
	__u32 pad;
	struct am_match_cand c[AM_MATCH_CANDS];
};
_Static_assert(sizeof(struct am_match_val) == 136, "am_match_val layout");

#define AM_FNV_OFFSET 0xcbf29ce484222325ULL
#define AM_FNV_PRIME  0x100000001b3ULL

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
