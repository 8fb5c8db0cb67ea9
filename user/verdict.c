/* Judging events against a loaded profile; the precedence is in verdict.h. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "profile_impl.h"
#include "verdict.h"

static void set(struct am_judgement *j, enum am_verdict v, const char *rule)
{
	/* once per event: a bounded copy, not snprintf's format machinery */
	size_t n = 0;

	while (n < sizeof(j->rule) - 1 && rule[n])
		n++;
	j->verdict = v;
	memcpy(j->rule, rule, n);
	j->rule[n] = 0;
}

static void set_rule(const struct am_profile *p, struct am_judgement *j, enum am_verdict v,
		     enum am_list l, size_t i)
{
	j->verdict = v;
	am_rule_label(p, l, i, j->rule, sizeof(j->rule));
}

/* First matching entry of a path list, or -1. */
static int64_t match(const struct am_profile *p, enum am_list l, const char *path)
{
	const struct rule_list *r = &p->lists[l];
	return r->n ? am_globset_match(r->gs, path) : -1;
}

void am_judge_exec(const struct am_profile *p, const char *path, unsigned depth,
		   struct am_judgement *j)
{
	int64_t i;
	if ((i = match(p, AM_L_EXEC_DENY, path)) >= 0)
		return set_rule(p, j, AM_CRITICAL, AM_L_EXEC_DENY, (size_t)i);
	if (p->has_max_depth && depth > p->max_depth)
		return set(j, AM_CRITICAL, "exec.max_depth");
	if ((i = match(p, AM_L_EXEC_ALLOW, path)) >= 0)
		return set_rule(p, j, AM_ALLOW, AM_L_EXEC_ALLOW, (size_t)i);
	if ((i = match(p, AM_L_EXEC_REVIEW, path)) >= 0)
		return set_rule(p, j, AM_DRIFT, AM_L_EXEC_REVIEW, (size_t)i);
	set(j, AM_VIOLATION, "exec.allow");
}

void am_judge_file(const struct am_profile *p, const char *path, int write,
		   uint64_t ns_since_start, struct am_judgement *j)
{
	int64_t i;
	if ((i = match(p, AM_L_FILES_DENY, path)) >= 0)
		return set_rule(p, j, AM_CRITICAL, AM_L_FILES_DENY, (size_t)i);
	/* Secrets come before the allow lists: a TTL must not be defeated by a
	 * broad files.read entry that happens to cover the secret. */
	if (!write && (i = match(p, AM_L_SECRETS, path)) >= 0) {
		uint64_t ttl = p->secret_ttl[i];
		return set_rule(p, j, !ttl || ns_since_start < ttl ? AM_ALLOW : AM_CRITICAL,
				AM_L_SECRETS, (size_t)i);
	}
	if ((i = match(p, AM_L_FILES_WRITE, path)) >= 0)
		return set_rule(p, j, AM_ALLOW, AM_L_FILES_WRITE, (size_t)i);
	if (!write && (i = match(p, AM_L_FILES_READ, path)) >= 0)
		return set_rule(p, j, AM_ALLOW, AM_L_FILES_READ, (size_t)i);
	set(j, AM_VIOLATION, write ? "files.write" : "files.read");
}

void am_judge_connect(const struct am_profile *p, int family, const uint8_t addr[16],
		      uint16_t port, struct am_judgement *j)
{
	const struct rule_list *d = &p->lists[AM_L_NET_DENY], *c = &p->lists[AM_L_NET_CONNECT];
	/* A linear scan: network lists are short (tens), a rule is 24 bytes. */
	for (size_t i = 0; i < d->n; i++)
		if (am_netrule_match(&d->net[i], family, addr, port))
			return set_rule(p, j, AM_CRITICAL, AM_L_NET_DENY, i);
	for (size_t i = 0; i < c->n; i++)
		if (am_netrule_match(&c->net[i], family, addr, port))
			return set_rule(p, j, AM_ALLOW, AM_L_NET_CONNECT, i);
	set(j, AM_VIOLATION, "network.connect");
}

void am_judge_listen(const struct am_profile *p, uint16_t port, struct am_judgement *j)
{
	const struct rule_list *d = &p->lists[AM_L_NET_DENY], *l = &p->lists[AM_L_NET_LISTEN];
	for (size_t i = 0; i < d->n; i++)
		if (d->net[i].family == 0 &&
		    (d->net[i].port == AM_NET_ANY_PORT || d->net[i].port == port))
			return set_rule(p, j, AM_CRITICAL, AM_L_NET_DENY, i);
	for (size_t i = 0; i < l->n; i++)
		if (l->ports[i] == port)
			return set_rule(p, j, AM_ALLOW, AM_L_NET_LISTEN, i);
	set(j, AM_VIOLATION, "network.listen");
}

const char *am_verdict_str(enum am_verdict v)
{
	static const char *const s[] = {"allow", "drift", "violation", "critical"};
	return (unsigned)v < 4 ? s[v] : "?";
}

const char *am_action_str(enum am_action a)
{
	static const char *const s[] = {"none", "alert", "stop", "freeze", "kill"};
	return (unsigned)a < 5 ? s[a] : "?";
}

const char *am_mode_str(enum am_mode m)
{
	return m == AM_MODE_AUDIT ? "audit" : "enforce";
}
