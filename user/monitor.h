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
};

#define AM_MAX_LOCAL_AGENTS 64

struct am_monitor {
	struct am_bpf *bpf;
	struct ring_buffer *rb;
	struct am_proctable procs;
	struct am_agent_info *agents[AM_MAX_LOCAL_AGENTS];
	int n_agents;
	char host[256];
	int64_t boot_to_real_ns;   /* add to a bpf_ktime_get_boot_ns() value */
	FILE *json;                /* JSON lines sink, or NULL */
	FILE *human;               /* human lines sink, or NULL */
	uint64_t malformed;        /* records too short for their kind */
	char *jbuf;                /* whole JSON lines waiting for one write() */
	size_t jlen;
	uint64_t write_errors;     /* JSON lines that could not be written */
};

int am_monitor_init(struct am_monitor *m, struct am_bpf *bpf);
void am_monitor_free(struct am_monitor *m);
int am_monitor_add_agent(struct am_monitor *m, struct am_agent_info *a);
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
/* Realtime ns of a boot-time ns stamp. */
uint64_t am_monitor_realtime(const struct am_monitor *m, uint64_t boot_ns);

#endif
