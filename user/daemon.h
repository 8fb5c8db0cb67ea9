/* agentmon run: the daemon's state, shared by its parts:
 *   cmd_run.c         arguments, the event loop, signals, lifecycle
 *   daemon_agents.c   profiles (load, reload), agents, sessions, /proc scan
 *   daemon_ctl.c      control requests and the event stream to clients */
#ifndef AGENTMON_DAEMON_H
#define AGENTMON_DAEMON_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "bpf_loader.h"
#include "ctl_server.h"
#include "match.h"
#include "monitor.h"

/* One run of an agent: a matched root process and its descendants, in a
 * cgroup of their own (nested where the root was, so the unit that started
 * it, a systemd service say, still contains it). */
struct am_session {
	uint32_t root_pid;
	uint64_t start_ns;          /* boot-time ns */
	int own;                    /* we created the cgroup (removed once empty) */
	struct am_where where;      /* points into the strings below */
	char cgroup[PATH_MAX];      /* relative to the cgroup2 root */
	char cgroup_abs[PATH_MAX];
	struct am_session *next;
};

enum am_agent_source { AM_SRC_PROFILE, AM_SRC_EXEC };

struct am_dagent {
	struct am_agent_info info;  /* first: the monitor's view of this agent */
	enum am_agent_source source;
	char path[PATH_MAX];        /* profile file */
	struct am_profile *prof;    /* owned */
	int retired;                /* removed from the directory; kept while it runs */
	struct am_session *sessions;
	struct am_ctl_client *owner; /* AM_SRC_EXEC: the registering exec */
	struct am_dagent *next;
};

struct am_daemon {
	struct am_bpf bpf;
	struct am_monitor mon;
	struct am_ctl_server srv;
	int epfd;
	char cgroot[PATH_MAX];
	char profiles_dir[PATH_MAX];
	char socket_path[108];
	char *json_path;            /* NULL, "-" or a file */
	FILE *json;
	unsigned profile_flags;     /* am_profile_load flags (strict ownership) */
	struct am_dagent *agents;
	uint32_t next_id;
	uint64_t match_sig;
	struct am_match_stats match;
	uint64_t started_real_ns;
	unsigned reloads;
	uint64_t last_reload_ns;
	int last_reload_ok;
	json_t *reload_errors;      /* array of strings */
	int programs_attached;
};

/* daemon_agents.c */
/* (Re)load every *.json profile of the directory. An invalid one is
 * reported and skipped; an agent whose file now fails keeps its old profile.
 * Returns the number of errors. */
int am_daemon_load_profiles(struct am_daemon *d, int initial);
/* Install what the kernel must recognise at exec; run now and then: a match
 * exe or cgroup that appears later is picked up (and running processes that
 * match it are adopted). */
void am_daemon_refresh_match(struct am_daemon *d, int force);
/* Adopt running processes that a profile matches (start-up, reload). */
void am_daemon_scan(struct am_daemon *d);
struct am_dagent *am_daemon_agent(struct am_daemon *d, uint32_t id);
/* Register an agent launched by `agentmon exec`: returns it or NULL (err set). */
struct am_dagent *am_daemon_register(struct am_daemon *d, const char *profile, pid_t pid,
				     const char *cgroup_abs, int audit, char *err, size_t errsz);
/* Forget an agent: kernel state, monitor entry, memory. */
void am_daemon_remove(struct am_daemon *d, struct am_dagent *a);
/* The session a process of agent a belongs to (by its ancestry), or NULL. */
struct am_session *am_daemon_session_of(struct am_daemon *d, struct am_dagent *a, uint32_t pid);
/* Monitor callbacks. */
void am_daemon_on_proc(void *ctx, struct am_agent_info *ai, uint32_t kind, uint32_t pid,
		       const struct am_event_hdr *h);
const struct am_where *am_daemon_where_of(void *ctx, struct am_agent_info *ai, uint32_t pid);
void am_daemon_free_agents(struct am_daemon *d);
/* Boot-time ns now (the clock of the kernel's event stamps). */
uint64_t am_boot_ns(void);

/* daemon_ctl.c */
void am_daemon_on_request(void *ctx, struct am_ctl_client *c, json_t *req);
void am_daemon_on_close(void *ctx, struct am_ctl_client *c);
void am_daemon_sink(void *ctx, const struct am_agent_info *a, const struct am_record *r,
		    const char *json, size_t len);
/* Write out what the clients were sent during a loop turn. */
void am_daemon_flush_clients(struct am_daemon *d);

#endif
