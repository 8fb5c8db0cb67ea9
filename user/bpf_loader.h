/* Loading agentmon's BPF object and talking to its maps. */
#ifndef AGENTMON_BPF_LOADER_H
#define AGENTMON_BPF_LOADER_H

#include <stdint.h>
#include <sys/types.h>
#include "agentmon.h"

struct agentmon_bpf;

struct am_bpf_opts {
	uint32_t ringbuf_bytes;   /* power of two, >= page size; 0: default */
};

#define AM_SEEN_BATCH 32

struct am_bpf {
	struct agentmon_bpf *skel;
	/* am_seen keys waiting for one batched update (am_bpf_seen_flush) */
	struct am_seen_key seen_q[AM_SEEN_BATCH];
	uint32_t seen_n;
};

/* Route libbpf's messages into our logger (debug only, -v). */
void am_bpf_setup_logging(void);
/* open → configure → load → attach. 0 or -errno (error already reported). */
int am_bpf_load(struct am_bpf *b, const struct am_bpf_opts *o);
void am_bpf_destroy(struct am_bpf *b);
/* Before a short-lived command exits: leave the slow detach of the syscall
 * tracepoints (one RCU grace period each, serialized in the kernel) to a
 * child that holds the last references and exits once we have. */
void am_bpf_release_in_background(void);

int am_bpf_events_fd(const struct am_bpf *b);
/* Start tracking process `pid` as part of agent `agent_id` at `depth`. */
int am_bpf_track(struct am_bpf *b, pid_t pid, uint32_t agent_id, uint32_t depth);
/* Create the kernel's per-agent state (counters). */
int am_bpf_agent_add(struct am_bpf *b, uint32_t agent_id);
int am_bpf_agent_del(struct am_bpf *b, uint32_t agent_id);
int am_bpf_agent_read(struct am_bpf *b, uint32_t agent_id, struct am_agent *out);
/* Tell the kernel that an activity was judged `allow`: drop its repeats.
 * The first key after a flush is sent at once; the next ones are queued and
 * go in one batched update when AM_SEEN_BATCH are waiting or at
 * am_bpf_seen_flush(), which am_monitor_drain() calls after each drained
 * batch: under a flood of new activity, two bpf() calls per AM_SEEN_BATCH
 * events instead of one per event. Call the flush before clearing am_seen
 * too, or a queued key outlives the clear. */
int am_bpf_seen_add(struct am_bpf *b, const struct am_seen_key *k);
/* Send the queued am_seen keys now. 0 or -errno (the queue is emptied). */
int am_bpf_seen_flush(struct am_bpf *b);
/* Forget agent_id's kernel policy: exec and network entries, allowed
 * repeats, its cgroup mapping; its flags are cleared first. */
int am_bpf_policy_clear(struct am_bpf *b, uint32_t agent_id);
/* Stop tracking every process of agent_id. */
int am_bpf_untrack_agent(struct am_bpf *b, uint32_t agent_id);
/* Sum of the per-CPU stats (enum am_stat). */
int am_bpf_stats(struct am_bpf *b, uint64_t out[AM_STAT_MAX]);

#endif
