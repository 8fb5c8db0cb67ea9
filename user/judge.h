/* From a record to a verdict and the response the profile asks for.
 * Pure: no side effects beyond the escalation window it is given. */
#ifndef AGENTMON_JUDGE_H
#define AGENTMON_JUDGE_H

#include <stdint.h>
#include "agentmon.h"
#include "profile.h"
#include "record.h"

#define AM_ESC_MAX 256  /* violations remembered per agent for escalation */

/* Recent violation times of one agent (a ring). */
struct am_escalation {
	uint64_t ts[AM_ESC_MAX];
	unsigned head, n;
};

struct am_decision {
	struct am_judgement j;   /* verdict + deciding rule */
	enum am_action action;   /* what the profile asks for this record */
	int escalated;           /* the action came from response.escalate */
	int seen_ok;             /* allowed and stable: the kernel may drop repeats */
};

/* Judge one decoded record of an agent. `ev` is the raw kernel event (for
 * addresses); `age_ns` is the time since the agent started (secret TTLs);
 * `now_ns` is the event time, for the escalation window. Records with no
 * verdict (exit, fork) give verdict allow and action none with rule "". */
void am_decide(const struct am_profile *p, const struct am_record *r, const struct am_event *ev,
	       uint64_t age_ns, uint64_t now_ns, struct am_escalation *esc, struct am_decision *d);

const char *am_verdict_name(enum am_verdict v);
const char *am_action_name(enum am_action a);

#endif
