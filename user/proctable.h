/* What userspace remembers of each agent process: parent and executable, for
 * exe fields and ancestry. Filled from fork/exec events. An exited process
 * stays while a descendant it forked lives, so ancestry keeps exited
 * intermediate parents (a double fork's middle process, a shell that exec'd
 * and quit). */
#ifndef AGENTMON_PROCTABLE_H
#define AGENTMON_PROCTABLE_H

#include <stdint.h>

struct am_proc {
	uint32_t pid;       /* 0: free slot */
	uint32_t ppid;
	uint32_t agent_id;
	uint32_t depth;
	uint32_t nchild;    /* forked children still in the table */
	uint32_t exited;    /* gone, kept for its descendants' ancestry */
	char *exe;          /* owned; NULL until known */
};

struct am_proctable {
	struct am_proc *slots;
	uint32_t cap;       /* power of two */
	uint32_t used;
};

int am_proctable_init(struct am_proctable *t, uint32_t cap);
void am_proctable_free(struct am_proctable *t);
struct am_proc *am_proc_get(struct am_proctable *t, uint32_t pid);
/* Insert or update; returns the entry or NULL when out of memory. */
struct am_proc *am_proc_put(struct am_proctable *t, uint32_t pid, uint32_t ppid,
			    uint32_t agent_id, uint32_t depth);
int am_proc_set_exe(struct am_proc *p, const char *exe);
void am_proc_del(struct am_proctable *t, uint32_t pid);
/* A fork: put `child` (of parent `ppid`) and count it on the parent. */
struct am_proc *am_proc_fork(struct am_proctable *t, uint32_t child, uint32_t ppid,
			     uint32_t agent_id, uint32_t depth);
/* An exit: drop `pid` unless a child of it lives (then only mark it), and
 * drop exited ancestors that nothing needs any more. */
void am_proc_exit(struct am_proctable *t, uint32_t pid);

#endif
