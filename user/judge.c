#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "judge.h"

const char *am_verdict_name(enum am_verdict v)
{
	switch (v) {
	case AM_ALLOW: return "allow";
	case AM_DRIFT: return "drift";
	case AM_VIOLATION: return "violation";
	case AM_CRITICAL: return "critical";
	}
	return "?";
}

const char *am_action_name(enum am_action a)
{
	switch (a) {
	case AM_ACT_NONE: return "none";
	case AM_ACT_ALERT: return "alert";
	case AM_ACT_STOP: return "stop";
	case AM_ACT_FREEZE: return "freeze";
	case AM_ACT_KILL: return "kill";
	}
	return "?";
}

static void worst(struct am_judgement *acc, const struct am_judgement *j)
{
	if (j->verdict > acc->verdict)
		*acc = *j;
}

static void judge_file(const struct am_profile *p, const struct am_record *r, uint64_t age,
		       struct am_judgement *j)
{
	int write = r->access && strcmp(r->access, "write") == 0;

	am_judge_file(p, r->path, write, age, j);
	if (r->path2) {
		/* rename and link write the new name too: the worse of both decides */
		struct am_judgement j2;
		am_judge_file(p, r->path2, 1, age, &j2);
		worst(j, &j2);
	}
}

static void judge_net(const struct am_profile *p, const struct am_event *ev,
		      const struct am_record *r, struct am_judgement *j)
{
	const struct am_net_body *n = &ev->net;

	if (n->family == AF_UNIX) {
		/* a unix socket is a name in the filesystem (or '@abstract') */
		am_judge_file(p, r->net_addr, 1, 0, j);
		return;
	}
	switch (n->op) {
	case AM_NOP_CONNECT:
	case AM_NOP_SENDTO:
		am_judge_connect(p, n->family, n->addr, n->port, j);
		return;
	case AM_NOP_BIND:
		if (n->port == 0) {
			/* an ephemeral port: nothing anyone can connect to */
			j->verdict = AM_ALLOW;
			snprintf(j->rule, sizeof(j->rule), "network.ephemeral");
			return;
		}
		/* binding a fixed port is judged like listening */
		__attribute__((fallthrough));
	case AM_NOP_LISTEN:
		am_judge_listen(p, n->port, j);
		return;
	}
	j->verdict = AM_VIOLATION;
	snprintf(j->rule, sizeof(j->rule), "network");
}

/* Count a violation; 1 when this one reaches response.escalate.count within
 * the window (the window is then cleared so it fires once per burst). */
static int escalate(const struct am_escalate *e, struct am_escalation *s, uint64_t now)
{
	unsigned cap = e->count < AM_ESC_MAX ? e->count : AM_ESC_MAX;

	if (!cap)
		return 0;
	s->ts[s->head] = now;
	s->head = (s->head + 1) % AM_ESC_MAX;
	if (s->n < AM_ESC_MAX)
		s->n++;
	unsigned in = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (now - s->ts[i] <= e->window_ns)
			in++;
	if (in < cap)
		return 0;
	s->n = s->head = 0;
	return 1;
}

void am_decide(const struct am_profile *p, const struct am_record *r, const struct am_event *ev,
	       uint64_t age_ns, uint64_t now_ns, struct am_escalation *esc, struct am_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->j.verdict = AM_ALLOW;
	if (!strcmp(r->kind, "exec"))
		am_judge_exec(p, r->exe, ev->hdr.depth, &d->j);
	else if (r->path)
		judge_file(p, r, age_ns, &d->j);
	else if (r->has_net)
		judge_net(p, ev, r, &d->j);
	else
		return;  /* exit, lost: no verdict */

	d->action = am_profile_action(p, d->j.verdict);
	if (d->j.verdict >= AM_VIOLATION) {
		const struct am_escalate *e = am_profile_escalate(p);
		if (e && esc && escalate(e, esc, now_ns) && e->action > d->action) {
			d->action = e->action;
			d->escalated = 1;
		}
	}
	/* Secrets are judged by age: a read allowed now may be critical later,
	 * so their repeats must keep reaching userspace. */
	d->seen_ok = d->j.verdict == AM_ALLOW && strncmp(d->j.rule, "secrets", 7) != 0 &&
		     !strstr(d->j.rule, ":secrets");
}
