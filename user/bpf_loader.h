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
/* Allowed activity userspace remembers (direct-mapped, power of two). */
#define AM_SEEN_MEMO 16384
/* A key sent to am_seen this long ago whose repeats still arrive was
 * evicted by the kernel's LRU: it is sent again. */
#define AM_SEEN_RESEND_NS 1000000000ull

struct am_seen_memo {
	struct am_seen_key k;
	uint64_t sent_ns;         /* event clock when sent to am_seen; 0: not yet */
};

struct am_bpf {
	struct agentmon_bpf *skel;
	/* am_seen keys waiting for one batched update (am_bpf_seen_flush) */
	struct am_seen_key seen_q[AM_SEEN_BATCH];
	uint32_t seen_n;
	struct am_seen_memo *memo;   /* AM_SEEN_MEMO slots; NULL: none */
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
/* Allowed activity and its repeats.
 *
 * am_bpf_seen_allowed(): userspace judged the activity of key k `allow`.
 * It is remembered here, not sent to the kernel yet: much activity happens
 * once (a new file, a new peer), and putting each of it into the kernel's
 * LRU would cost a bpf() call and an eviction per event and push out the
 * keys that do repeat.
 *
 * am_bpf_seen_repeat(): is k a remembered allowed activity? Then the event
 * is a repeat: the caller drops it (the first occurrence was recorded), and
 * on the first repeat, or when the kernel's LRU has evicted the key, k goes
 * to am_seen so that the kernel drops the next ones. Repeats already in the
 * ring when the key arrives are dropped here too.
 *
 * Keys for am_seen are queued: the first after a flush is sent at once (a
 * tight loop sends a repeat per microsecond until the kernel knows), the
 * others in one batched update when AM_SEEN_BATCH wait or at
 * am_bpf_seen_flush(), which am_monitor_drain() calls after each drained
 * batch. Without a memo (am_bpf_load() failed to allocate it, or a caller
 * that never loaded) allowed keys are queued at once. */
int am_bpf_seen_allowed(struct am_bpf *b, const struct am_seen_key *k);
int am_bpf_seen_repeat(struct am_bpf *b, const struct am_seen_key *k, uint64_t ts_ns);
/* Send the queued am_seen keys now. 0 or -errno (the queue is emptied). */
int am_bpf_seen_flush(struct am_bpf *b);
/* Forget agent_id's kernel policy: exec and network entries, allowed
 * repeats (the kernel's and the recent keys), its cgroup mapping; its flags
 * are cleared first. */
int am_bpf_policy_clear(struct am_bpf *b, uint32_t agent_id);
/* Stop tracking every process of agent_id. */
int am_bpf_untrack_agent(struct am_bpf *b, uint32_t agent_id);
/* Sum of the per-CPU stats (enum am_stat). */
int am_bpf_stats(struct am_bpf *b, uint64_t out[AM_STAT_MAX]);

#endif
