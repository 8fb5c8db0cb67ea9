// Release-approved profiles: load, inspect, judge.
//
// A profile is loaded once (am_profile_load), is immutable afterwards and
// may be shared between threads. Every loading mistake becomes one line
// "FILE:LINE:COL: what is wrong" (or "FILE: what is wrong" when the file as
// a whole is at fault); README.md has the field reference.
//
// Defaults when a field is absent: mode "enforce"; response drift "alert",
// violation "alert", critical "kill", lost "alert"; no escalation; no
// exec.max_depth (any depth); secrets without ttl are readable forever.
//
// Includes: "include" lists fragments. A name without '/' is looked up in the
// abstractions directory: $AGENTMON_ABSTRACTIONS if set, else
// <dir of the agentmon binary>/../abstractions (a source tree), else
// /usr/local/share/agentmon/abstractions. A name with '/' is relative to the
// including file; if that does not exist and the name is "abstractions/X",
// X is looked up as above (so the SPEC's "abstractions/base" works anywhere).
// A fragment holds rule lists only: include, exec.{allow,review,deny},
// files.{read,write,deny}, secrets, network.{connect,listen,deny}. Its
// entries are appended after the including file's. Cycles are errors; a
// fragment reached twice is merged once.
//
// Canonical digest: sha256 of json_dumps(JSON_SORT_KEYS | JSON_COMPACT) of
// the profile with every fragment merged in and "include" removed, so layout,
// key order and string escapes do not change it, and a changed fragment does.
//
// Verdict rules: each judgement names the deciding rule, e.g. "files.deny[0]",
// "exec.allow[2]", "network.connect[1]", "secrets[0]", "exec.max_depth";
// a rule from a fragment is prefixed with the include name as written, e.g.
// "base:files.read[3]". A violation names the list that was consulted and did
// not match: "exec.allow", "files.read", "files.write", "network.connect",
// "network.listen".
#ifndef AGENTMON_PROFILE_H
#define AGENTMON_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct am_profile;

#define AM_PROFILE_MAX_BYTES	(1u << 20)	/* per file */
#define AM_PROFILE_MAX_RULES	10000		/* per list */
#define AM_PROFILE_MAX_INCLUDE_DEPTH 8
#define AM_PROFILE_MAX_INCLUDES	64		/* files per profile */

/* Flags for am_profile_load(). */
enum {
	/* Daemon mode (like sshd StrictModes): refuse a profile or fragment that
	 * is not owned by root or is writable by group/other, or whose directory
	 * is writable by group/other without the sticky bit. */
	AM_PROFILE_STRICT_OWNER = 1u << 0,
};

/* First fatal error, formatted "FILE:LINE:COL: what" (no "agentmon: "). */
struct am_diag {
	char msg[1024];
};

/* 0 and *out, or -errno (-EINVAL bad content, -ENOENT, -EACCES, -EPERM
 * strict ownership, -ENOMEM...) with diag->msg set. diag may be NULL. */
int am_profile_load(const char *path, unsigned flags, struct am_profile **out,
		    struct am_diag *diag);

/* Diagnostics callback: is_warning 0 for errors, 1 for warnings; where is
 * "FILE:LINE:COL" or "FILE", what the message (struct am_diag joins them
 * with ": "). */
typedef void (*am_report_fn)(void *arg, int is_warning, const char *where, const char *what);

/* The release gate behind `agentmon check`: like am_profile_load, but reports
 * every error it finds (up to 20), not only the first, and warns about
 * over-broad grants and the approval relative to now (see cmd_check.c).
 * *out may be NULL if the caller only wants the diagnostics. */
int am_profile_check(const char *path, unsigned flags, time_t now, am_report_fn report,
		     void *arg, struct am_profile **out);

void am_profile_free(struct am_profile *p);

const char *am_profile_name(const struct am_profile *p);
const char *am_profile_version(const struct am_profile *p);
const char *am_profile_sha256(const struct am_profile *p);	/* 64 hex chars */
const char *am_profile_path(const struct am_profile *p);	/* as passed to load */

enum am_mode { AM_MODE_ENFORCE, AM_MODE_AUDIT };
enum am_mode am_profile_mode(const struct am_profile *p);

/* Approval relative to now. */
enum am_approval { AM_APPROVED, AM_APPROVAL_MISSING, AM_APPROVAL_EXPIRED };
enum am_approval am_profile_approval(const struct am_profile *p, time_t now);
/* 1 if approved and expired at now (expires <= now), else 0. */
int am_profile_expired(const struct am_profile *p, time_t now);
/* Approval fields; NULL / 0 when absent. */
const char *am_profile_approved_by(const struct am_profile *p);
time_t am_profile_approved_at(const struct am_profile *p);
time_t am_profile_expires(const struct am_profile *p);

/* match: NULL / -1 when that field is not set. */
const char *am_profile_match_exe(const struct am_profile *p);
int64_t am_profile_match_uid(const struct am_profile *p);
const char *am_profile_match_cgroup(const struct am_profile *p);	/* a prefix */

enum am_verdict { AM_ALLOW, AM_DRIFT, AM_VIOLATION, AM_CRITICAL };
enum am_action { AM_ACT_NONE, AM_ACT_ALERT, AM_ACT_STOP, AM_ACT_FREEZE, AM_ACT_KILL };

struct am_judgement {
	enum am_verdict verdict;
	char rule[64];		/* see "Verdict rules" above */
};

/* depth: generations below the agent's first process (that one is 0);
 * critical when depth > exec.max_depth. */
void am_judge_exec(const struct am_profile *p, const char *path, unsigned depth,
		   struct am_judgement *j);
/* write: nonzero for write access (a path in files.write may also be read).
 * ns_since_start: time since the agent started, for secret TTLs. */
void am_judge_file(const struct am_profile *p, const char *path, int write,
		   uint64_t ns_since_start, struct am_judgement *j);
/* family AF_INET (address in the first 4 bytes) or AF_INET6. */
void am_judge_connect(const struct am_profile *p, int family, const uint8_t addr[16],
		      uint16_t port, struct am_judgement *j);
void am_judge_listen(const struct am_profile *p, uint16_t port, struct am_judgement *j);

/* response.<verdict>; AM_ALLOW always gives AM_ACT_NONE. */
enum am_action am_profile_action(const struct am_profile *p, enum am_verdict v);
enum am_action am_profile_lost_action(const struct am_profile *p);

struct am_escalate {
	unsigned count;		/* violations ... */
	uint64_t window_ns;	/* ... within this window ... */
	enum am_action action;	/* ... trigger this */
};
/* NULL when the profile has no escalation. */
const struct am_escalate *am_profile_escalate(const struct am_profile *p);

/* Rule lists as written (fragments' entries after the profile's own), for
 * code that pushes exact paths or ports into the kernel. */
enum am_list {
	AM_L_EXEC_ALLOW, AM_L_EXEC_REVIEW, AM_L_EXEC_DENY,
	AM_L_FILES_READ, AM_L_FILES_WRITE, AM_L_FILES_DENY,
	AM_L_SECRETS,		/* secret paths; TTL via am_profile_secret_ttl */
	AM_L_NET_CONNECT, AM_L_NET_DENY,
	AM_L_NET_LISTEN,	/* ports as decimal strings */
	AM_L__COUNT
};
size_t am_profile_list_len(const struct am_profile *p, enum am_list l);
const char *am_profile_list_item(const struct am_profile *p, enum am_list l, size_t i);
/* TTL of secrets[i] in ns, 0 when it has none. */
uint64_t am_profile_secret_ttl(const struct am_profile *p, size_t i);
/* 1 and *depth if exec.max_depth is set, else 0. */
int am_profile_max_depth(const struct am_profile *p, unsigned *depth);

const char *am_verdict_str(enum am_verdict v);	/* "allow", "drift", ... */
const char *am_action_str(enum am_action a);	/* "none", "alert", ... */
const char *am_mode_str(enum am_mode m);

#endif
