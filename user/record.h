/* A record: one event as users see it (SPEC "Event"), assembled from the raw
 * kernel event plus what userspace knows (agent, profile, process table,
 * verdict). Pointers borrow from their owners for the time of formatting. */
#ifndef AGENTMON_RECORD_H
#define AGENTMON_RECORD_H

#include <stdint.h>
#include <stddef.h>

#define AM_ANCESTRY_MAX 32
#define AM_ARGV_MAX     32

struct am_ancestor {
	uint32_t pid;
	const char *exe;
};

struct am_record {
	uint64_t ts_ns;              /* realtime, ns since the epoch */
	const char *host;
	const char *agent;
	const char *profile_version;
	const char *profile_sha256;  /* may be NULL */
	uint32_t pid, ppid, uid;
	const char *comm;
	const char *exe;             /* may be NULL when unknown */
	const char *cgroup;          /* cgroup path, may be NULL */
	const char *kind;            /* "exec", "exit", "lost", ... */
	uint32_t flags;              /* AM_EVF_* */
	/* exec */
	int argc;
	const char *argv[AM_ARGV_MAX];
	size_t argv_len[AM_ARGV_MAX];
	/* exit */
	int has_exit;
	int exit_code;               /* valid when exit_signal == 0 */
	int exit_signal;
	/* file */
	const char *path;
	const char *access;          /* "read" / "write" */
	const char *file_op;         /* precise operation: "open", "mkdir", "rmdir", ... */
	const char *path2;           /* rename/link: the new name; symlink: the link */
	/* network */
	int has_net;
	const char *net_proto;       /* "tcp", "udp", "unix", "raw" ... */
	const char *net_family;      /* "ipv4", "ipv6", "unix" */
	char net_addr[128];          /* numeric address, or the unix socket path */
	uint32_t net_port;
	int net_local;               /* bind/listen: laddr/lport instead of daddr/dport */
	int net_result;              /* 0, or -errno of the syscall */
	/* lost */
	uint64_t lost;
	const char *lost_reason;
	/* judgement */
	const char *verdict;         /* NULL until judged */
	const char *rule;
	const char *action;
	const char *outcome;
	int escalated;               /* the action came from response.escalate */
	int n_ancestry;
	struct am_ancestor ancestry[AM_ANCESTRY_MAX];
};

/* One JSON object, no newline, into buf (at most sz bytes, NUL-terminated
 * when sz > 0), the way snprintf does: returns the length of the whole
 * object without the NUL; when that is >= sz the output was cut and the
 * caller may retry with a buffer of the returned length + 1. No allocation.
 * Strings that are not valid UTF-8 are written with each invalid byte (and
 * each NUL) as the text \xNN; valid UTF-8 passes through; '"', '\' and
 * control characters are escaped (\n, \u001B, ...). */
size_t am_record_json_buf(const struct am_record *r, char *buf, size_t sz);
/* The same into a malloc'd string (caller frees); NULL on allocation failure. */
char *am_record_json(const struct am_record *r);
/* One human-readable line, no newline, control characters escaped. Returns
 * the length written (truncated to fit `sz`). */
size_t am_record_human(const struct am_record *r, char *buf, size_t sz);
/* RFC 3339 UTC with nanoseconds: 2026-11-26T09:14:03.123456789Z */
void am_format_ts(uint64_t ns, char *buf, size_t sz);
/* Split NUL-separated argv bytes into r->argv (at most AM_ARGV_MAX). */
void am_record_set_args(struct am_record *r, const char *args, size_t len);

#endif
