/* The event path: ring buffer → decoded record → sinks (JSON lines, human
 * lines). Also turns the kernel's loss counters into `lost` events. */
#ifndef AGENTMON_MONITOR_H
#define AGENTMON_MONITOR_H

#include <stdint.h>
#include <stdio.h>
#include "bpf_loader.h"
#include "proctable.h"
#include "record.h"
#include "judge.h"

struct ring_buffer;

/* One agent session: a root process and its descendants under one profile. */
struct am_agent_info {
	uint32_t id;
	char name[128];
	char version[64];
	char sha256[65];
	char cgroup[4096];         /* path relative to the cgroup2 root, e.g. /agentmon/x-1 */
	uint64_t cgroup_id;
	uint32_t root_pid;
	uint64_t start_ns;         /* boot-time ns when the agent started */
	uint64_t lost_reported;    /* kernel per-agent lost count already reported */
	uint64_t events;           /* records emitted */
	uint64_t lost;             /* lost events reported */
	uint64_t violations;       /* records judged violation or critical */
	uint64_t actions;          /* actions run (or, in audit mode, reported) */
	const struct am_profile *profile;  /* NULL: observe only, no verdicts */
	int audit;                 /* report actions as would:..., run none */
	char cgroup_abs[4096];     /* absolute cgroup directory, for containment */
	struct am_escalation esc;  /* recent violations, for response.escalate */
	int multi;                 /* several sessions (daemon): cgroup and start per process,
				    * from the monitor's where_of */
};

/* Where a process of a multi-session agent lives: its session's cgroup and
 * start (the daemon matches one agent's profile many times). */
struct am_where {
	const char *cgroup;        /* relative to the cgroup2 root */
	const char *cgroup_abs;
	uint64_t start_ns;
	uint32_t root_pid;
};

struct am_event_hdr;

/* Where records go besides the JSON file and the human sink (the daemon's
 * clients): the record, its agent (NULL for records of no agent) and its
 * JSON text (no newline). */
typedef void (*am_sink_fn)(void *ctx, const struct am_agent_info *a, const struct am_record *r,
			   const char *json, size_t len);
/* Process lifecycle of agents, after the monitor has handled the event:
 * kind AM_EV_FORK (pid: the child), AM_EV_EXEC, AM_EV_EXIT. */
typedef void (*am_proc_fn)(void *ctx, struct am_agent_info *a, uint32_t kind, uint32_t pid,
			   const struct am_event_hdr *h);

struct am_monitor {
	struct am_bpf *bpf;
	struct ring_buffer *rb;
	struct am_proctable procs;
	struct am_agent_info **agents;   /* indexed by agent id, AM_MAX_AGENTS slots */
	int n_agents;
	am_sink_fn sink;
	void *sink_ctx;
	am_proc_fn on_proc;
	void *proc_ctx;            /* also passed to where_of */
	const struct am_where *(*where_of)(void *ctx, struct am_agent_info *a, uint32_t pid);
	const struct am_where *where;   /* of the event being handled, or NULL */
	int human_notable_only;          /* human sink: only am_record_notable() records */
	char host[256];
	int64_t boot_to_real_ns;   /* add to a bpf_ktime_get_boot_ns() value */
	FILE *json;                /* JSON lines sink, or NULL */
	FILE *human;               /* human lines sink, or NULL */
	uint64_t malformed;        /* records too short for their kind */
	uint64_t repeats;          /* allowed repeats dropped here (am_bpf_seen_repeat) */
	char *jbuf;                /* whole JSON lines waiting for one write() */
	size_t jlen;
	uint64_t write_errors;     /* JSON lines that could not be written */
};

int am_monitor_init(struct am_monitor *m, struct am_bpf *bpf);
void am_monitor_free(struct am_monitor *m);
/* Events of agent a->id (1 .. AM_MAX_AGENTS-1) are handled from now on. */
int am_monitor_add_agent(struct am_monitor *m, struct am_agent_info *a);
void am_monitor_del_agent(struct am_monitor *m, uint32_t id);
/* Drain everything queued in the ring buffer; returns events handled or -errno. */
int am_monitor_drain(struct am_monitor *m);
/* Compare the kernel's loss counters with what was reported; emit `lost`
 * records for the difference. */
void am_monitor_check_lost(struct am_monitor *m);
/* Handle one raw event (exposed for tests). */
int am_monitor_handle(struct am_monitor *m, const void *data, size_t size);
/* Write buffered records out (the drain does it after each batch). */
void am_monitor_flush(struct am_monitor *m);
/* Write a record to the sinks (buffered). */
void am_monitor_emit(struct am_monitor *m, const struct am_record *r);
void am_monitor_emit_agent(struct am_monitor *m, const struct am_agent_info *a,
			   const struct am_record *r);
/* 1 if a person should see r: not allowed, acted on, a loss or an action. */
int am_record_notable(const struct am_record *r);
/* Realtime ns of a boot-time ns stamp. */
uint64_t am_monitor_realtime(const struct am_monitor *m, uint64_t boot_ns);

#endif
