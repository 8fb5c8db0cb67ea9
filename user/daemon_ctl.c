/* The daemon's control requests (docs/control-protocol.md) and the event
 * stream to its clients. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agentmon.skel.h"
#include "cgroup.h"
#include "daemon.h"
#include "fdlog.h"
#include "log.h"
#include "profile.h"
#include "record.h"
#include "respond.h"

#ifndef AGENTMON_VERSION
#define AGENTMON_VERSION "0.1.0"
#endif

static json_t *ts_json(struct am_daemon *d, uint64_t boot_ns)
{
	char ts[64];
	am_format_ts(am_monitor_realtime(&d->mon, boot_ns), ts, sizeof(ts));
	return json_string(ts);
}

static unsigned count_procs(struct am_daemon *d, uint32_t id)
{
	struct am_proctable *t = &d->mon.procs;
	unsigned n = 0;
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->slots[i].pid && t->slots[i].agent_id == id && !t->slots[i].exited)
			n++;
	return n;
}

static json_t *agent_json(struct am_daemon *d, struct am_dagent *a)
{
	json_t *sess = json_array();
	for (struct am_session *s = a->sessions; s; s = s->next) {
		int frozen = s->own ? am_cgroup_frozen(s->cgroup_abs) : 0;
		json_array_append_new(sess, json_pack("{s:i,s:s,s:b}", "pid", (int)s->root_pid,
						      "cgroup", s->cgroup, "frozen", frozen > 0));
	}
	if (a->source == AM_SRC_EXEC) {
		int frozen = am_cgroup_frozen(a->info.cgroup_abs);
		json_array_append_new(sess, json_pack("{s:i,s:s,s:b}", "pid", (int)a->info.root_pid,
						      "cgroup", a->info.cgroup, "frozen", frozen > 0));
	}
	json_t *match = json_object();
	if (am_profile_match_exe(a->prof))
		json_object_set_new(match, "exe", json_string(am_profile_match_exe(a->prof)));
	if (am_profile_match_uid(a->prof) >= 0)
		json_object_set_new(match, "uid", json_integer(am_profile_match_uid(a->prof)));
	if (am_profile_match_cgroup(a->prof))
		json_object_set_new(match, "cgroup", json_string(am_profile_match_cgroup(a->prof)));
	return json_pack("{s:s,s:i,s:s,s:{s:s,s:s,s:s},s:s,s:o,s:i,s:b,s:o,s:I,s:I,s:I,s:I}",
			 "name", a->info.name, "id", (int)a->info.id,
			 "source", a->source == AM_SRC_EXEC ? "exec" : "profile",
			 "profile", "path", a->path, "version", a->info.version, "sha256", a->info.sha256,
			 "mode", a->info.audit ? "audit" : "enforce", "match", match,
			 "processes", (int)count_procs(d, a->info.id), "retired", a->retired,
			 "sessions", sess,
			 "events", (json_int_t)a->info.events, "lost", (json_int_t)a->info.lost,
			 "violations", (json_int_t)a->info.violations, "actions", (json_int_t)a->info.actions);
}

static json_t *programs_json(struct am_daemon *d)
{
	const struct bpf_object_skeleton *sk = d->bpf.skel->skeleton;
	json_t *arr = json_array();
	for (int i = 0; i < sk->prog_cnt; i++)
		json_array_append_new(arr, json_pack("{s:s,s:b}", "name", sk->progs[i].name, "attached",
						     *sk->progs[i].link != NULL));
	return arr;
}

static void do_status(struct am_daemon *d, struct am_ctl_client *c)
{
	uint64_t st[AM_STAT_MAX] = { 0 };
	json_t *agents = json_array();

	am_bpf_stats(&d->bpf, st);
	for (struct am_dagent *a = d->agents; a; a = a->next)
		json_array_append_new(agents, agent_json(d, a));
	uint64_t now = am_boot_ns();
	char started[64];
	am_format_ts(d->started_real_ns, started, sizeof(started));
	json_t *s = json_pack(
		"{s:s,s:i,s:s,s:s,s:I,s:s,s:s,s:s?,s:{s:i,s:o,s:b,s:O},s:o,s:o,"
		"s:{s:I,s:I,s:I,s:I,s:I},s:{s:i,s:i},s:i}",
		"version", AGENTMON_VERSION, "pid", (int)getpid(), "host", d->mon.host,
		"started", started,
		"uptime_s", (json_int_t)((am_monitor_realtime(&d->mon, now) - d->started_real_ns) / 1000000000ull),
		"socket", d->socket_path, "profiles_dir", d->profiles_dir, "json_log", d->json_path,
		"reload", "count", (int)d->reloads, "last", ts_json(d, d->last_reload_ns),
		"ok", d->last_reload_ok, "errors", d->reload_errors,
		"agents", agents, "programs", programs_json(d),
		"kernel", "events", (json_int_t)st[AM_STAT_EVENTS], "ringbuf_full",
		(json_int_t)st[AM_STAT_RB_FULL], "tasks_full", (json_int_t)st[AM_STAT_TASKS_FULL],
		"path_truncated", (json_int_t)st[AM_STAT_PATH_TRUNC], "read_errors",
		(json_int_t)st[AM_STAT_READ_ERR],
		"match", "rules", (int)d->match.rules, "pending", (int)d->match.pending,
		"clients", (int)d->srv.nclients);
	if (!s) {
		am_ctl_error(c, "internal error: status could not be built");
		return;
	}
	json_object_set_new(s, "userspace",
			    json_pack("{s:I,s:I,s:I}", "repeats_dropped", (json_int_t)d->mon.repeats,
				      "malformed", (json_int_t)d->mon.malformed, "write_errors",
				      (json_int_t)d->mon.write_errors));
	am_ctl_reply(c, json_pack("{s:b,s:o}", "ok", 1, "status", s));
}

/* ---- freeze, thaw, kill by hand ---- */

struct target {
	struct am_dagent *a;
	uint32_t pid;                /* session root */
	const char *cgroup, *cgroup_abs;
};

static size_t add_target(struct target *t, size_t n, size_t max, struct am_dagent *a, uint32_t pid,
			 const char *cg, const char *abs)
{
	if (n < max) {
		t[n].a = a;
		t[n].pid = pid;
		t[n].cgroup = cg;
		t[n].cgroup_abs = abs;
		n++;
	}
	return n;
}

/* Sessions (agent cgroups) that TARGET names. */
static size_t resolve(struct am_daemon *d, const char *target, struct target *t, size_t max,
		      char *err, size_t errsz)
{
	size_t n = 0;
	int digits = target[0] != 0;
	for (const char *p = target; *p; p++)
		digits &= isdigit((unsigned char)*p) != 0;

	if (digits) {
		uint32_t pid = (uint32_t)strtoul(target, NULL, 10);
		struct am_task tk;
		if (bpf_map_lookup_elem(bpf_map__fd(d->bpf.skel->maps.am_tasks), &pid, &tk)) {
			snprintf(err, errsz, "pid %s is not an agent process", target);
			return 0;
		}
		struct am_dagent *a = am_daemon_agent(d, tk.agent_id);
		if (!a) {
			snprintf(err, errsz, "pid %s belongs to no agent of this daemon", target);
			return 0;
		}
		if (a->source == AM_SRC_EXEC)
			return add_target(t, 0, max, a, a->info.root_pid, a->info.cgroup, a->info.cgroup_abs);
		struct am_session *s = am_daemon_session_of(d, a, pid);
		if (!s) {
			snprintf(err, errsz, "pid %s: its agent session is not known", target);
			return 0;
		}
		return add_target(t, 0, max, a, s->root_pid, s->cgroup, s->cgroup_abs);
	}
	if (target[0] == '/') {
		const char *rel = target;
		size_t rl = strlen(d->cgroot);
		if (!strncmp(target, d->cgroot, rl) && (target[rl] == '/' || !target[rl]))
			rel = target[rl] ? target + rl : "/";
		for (struct am_dagent *a = d->agents; a; a = a->next) {
			if (a->source == AM_SRC_EXEC && am_cgroup_under(rel, a->info.cgroup))
				n = add_target(t, n, max, a, a->info.root_pid, rel, NULL);
			for (struct am_session *s = a->sessions; s; s = s->next)
				if (s->own && am_cgroup_under(rel, s->cgroup))
					n = add_target(t, n, max, a, s->root_pid, rel, NULL);
		}
		if (!n)
			snprintf(err, errsz, "cgroup %s is not (under) an agent's cgroup", target);
		return n;
	}
	int known = 0;
	for (struct am_dagent *a = d->agents; a; a = a->next) {
		if (strcmp(a->info.name, target) != 0)
			continue;
		known = 1;
		if (a->source == AM_SRC_EXEC)
			n = add_target(t, n, max, a, a->info.root_pid, a->info.cgroup, a->info.cgroup_abs);
		for (struct am_session *s = a->sessions; s; s = s->next)
			n = add_target(t, n, max, a, s->root_pid, s->cgroup, s->cgroup_abs);
	}
	if (!n)
		snprintf(err, errsz, known ? "agent '%s' has no running processes" : "no agent matches '%s'",
			 target);
	return n;
}

static void emit_action(struct am_daemon *d, struct target *t, const char *action, const char *outcome)
{
	struct am_record r;
	memset(&r, 0, sizeof(r));
	r.ts_ns = am_monitor_realtime(&d->mon, am_boot_ns());
	r.host = d->mon.host;
	r.agent = t->a->info.name;
	r.profile_version = t->a->info.version;
	r.profile_sha256 = t->a->info.sha256;
	r.pid = t->pid;
	r.cgroup = t->cgroup;
	r.kind = "action";
	r.rule = "operator";
	r.action = action;
	r.outcome = outcome;
	am_monitor_emit_agent(&d->mon, &t->a->info, &r);
	am_monitor_flush(&d->mon);
}

static void do_contain(struct am_daemon *d, struct am_ctl_client *c, const char *cmd, json_t *req)
{
	const char *target = json_string_value(json_object_get(req, "target"));
	struct target t[256];
	char err[512] = "", abs[PATH_MAX];

	if (!target || !target[0]) {
		am_ctl_error(c, "%s: \"target\" (agent name, pid or cgroup path) is required", cmd);
		return;
	}
	size_t n = resolve(d, target, t, sizeof(t) / sizeof(t[0]), err, sizeof(err));
	if (!n) {
		am_ctl_error(c, "%s", err);
		return;
	}
	json_t *results = json_array();
	int all_ok = 1;
	for (size_t i = 0; i < n; i++) {
		char outcome[256];
		const char *cg = t[i].cgroup_abs;
		if (!cg) {
			snprintf(abs, sizeof(abs), "%s%s", d->cgroot, t[i].cgroup);
			cg = abs;
		}
		int e;
		if (!cg[0]) {
			e = -ENOENT;
			if (!strcmp(cmd, "kill") && kill((pid_t)t[i].pid, SIGKILL) == 0)
				e = 0, snprintf(outcome, sizeof(outcome), "killed");
			else
				snprintf(outcome, sizeof(outcome), "failed: agent has no cgroup of its own");
		} else if (!strcmp(cmd, "freeze") || !strcmp(cmd, "thaw")) {
			int fr = !strcmp(cmd, "freeze");
			e = am_cgroup_freeze(cg, fr, 2000);
			if (e)
				snprintf(outcome, sizeof(outcome), "failed: cgroup.freeze: %s", strerror(-e));
			else
				snprintf(outcome, sizeof(outcome), fr ? "frozen" : "thawed");
		} else {
			/* a frozen cgroup is killed too: cgroup.kill does not need a thaw */
			e = am_respond(AM_ACT_KILL, (pid_t)t[i].pid, cg, outcome, sizeof(outcome));
		}
		if (e)
			all_ok = 0;
		t[i].a->info.actions++;
		emit_action(d, &t[i], cmd, outcome);
		json_array_append_new(results, json_pack("{s:s,s:i,s:s,s:s}", "agent", t[i].a->info.name,
							 "pid", (int)t[i].pid, "cgroup", t[i].cgroup,
							 "outcome", outcome));
	}
	json_t *rep = json_pack("{s:b,s:o}", "ok", all_ok, "results", results);
	if (!all_ok)
		json_object_set_new(rep, "error", json_string("the action failed for some targets"));
	am_ctl_reply(c, rep);
}

/* ---- streams ---- */

static void do_tail(struct am_daemon *d, struct am_ctl_client *c, json_t *req)
{
	json_t *all = json_object_get(req, "all"), *agent = json_object_get(req, "agent");
	(void)d;
	if ((all && !json_is_boolean(all)) || (agent && !json_is_null(agent) && !json_is_string(agent))) {
		am_ctl_error(c, "tail: \"all\" must be a boolean and \"agent\" a string");
		return;
	}
	c->tail_all = json_is_true(all);
	c->tail_agent[0] = 0;
	if (json_is_string(agent))
		snprintf(c->tail_agent, sizeof(c->tail_agent), "%s", json_string_value(agent));
	am_ctl_reply(c, json_pack("{s:b}", "ok", 1));
	c->tail = 1;
}

/* "log": true: the file descriptor sent with the request (SCM_RIGHTS) is
 * where the agent's events are written, by us, in full: a regular file open
 * for writing. The connection then carries what "stream" asks for. */
static int register_log(struct am_ctl_client *c, json_t *req)
{
	const char *stream = json_string_value(json_object_get(req, "stream"));
	struct stat st;
	int fl;

	if (!stream || !strcmp(stream, "all"))
		c->stream = AM_CTL_STREAM_ALL;
	else if (!strcmp(stream, "notable"))
		c->stream = AM_CTL_STREAM_NOTABLE;
	else if (!strcmp(stream, "none"))
		c->stream = AM_CTL_STREAM_NONE;
	else {
		am_ctl_error(c, "register: \"stream\" is \"all\", \"notable\" or \"none\"");
		return -1;
	}
	if (!json_is_true(json_object_get(req, "log")))
		return 0;
	if (c->passed_fd < 0) {
		am_ctl_error(c, "register: \"log\" needs a file descriptor sent with the request");
		return -1;
	}
	if (fstat(c->passed_fd, &st) || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(c->passed_fd, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_RDONLY) {
		am_ctl_error(c, "register: \"log\": not a regular file open for writing");
		return -1;
	}
	c->log = am_fdlog_open(c->passed_fd);
	if (!c->log) {
		am_ctl_error(c, "register: \"log\": out of memory");
		return -1;
	}
	c->passed_fd = -1;
	return 0;
}

static void do_register(struct am_daemon *d, struct am_ctl_client *c, json_t *req)
{
	const char *prof = json_string_value(json_object_get(req, "profile"));
	const char *cg = json_string_value(json_object_get(req, "cgroup"));
	json_t *pidj = json_object_get(req, "pid");
	char err[1200];

	if (c->reg_agent) {
		am_ctl_error(c, "register: this connection has registered an agent already");
		return;
	}
	if (!prof || !cg || !json_is_integer(pidj) || json_integer_value(pidj) <= 0 ||
	    json_integer_value(pidj) > 0x7fffffff) {
		am_ctl_error(c, "register: needs \"profile\", \"pid\" and \"cgroup\"");
		return;
	}
	if (register_log(c, req))
		return;
	struct am_dagent *a = am_daemon_register(d, prof, (pid_t)json_integer_value(pidj), cg,
						 json_is_true(json_object_get(req, "audit")), err,
						 sizeof(err));
	if (!a) {
		am_fdlog_close(c->log);
		c->log = NULL;
		am_ctl_error(c, "register: %s", err);
		return;
	}
	a->owner = c;
	c->reg_agent = a->info.id;
	am_ctl_reply(c, json_pack("{s:b,s:i}", "ok", 1, "agent", (int)a->info.id));
}

static void unregister(struct am_daemon *d, struct am_ctl_client *c)
{
	struct am_dagent *a = am_daemon_agent(d, c->reg_agent);
	if (a && a->owner == c) {
		/* what the kernel still holds of it goes to the client first */
		am_monitor_drain(&d->mon);
		am_monitor_check_lost(&d->mon);
		am_daemon_remove(d, a);
	}
	c->reg_agent = 0;
}

void am_daemon_on_request(void *ctx, struct am_ctl_client *c, json_t *req)
{
	struct am_daemon *d = ctx;
	json_t *cmdj = json_object_get(req, "cmd");
	const char *cmd = json_string_value(cmdj);

	if (!cmd) {
		am_ctl_error(c, "malformed request: \"cmd\" (a string) is required");
		return;
	}
	if (c->tail && strcmp(cmd, "status") != 0) {
		am_ctl_error(c, "%s: this connection is a tail stream; open another", cmd);
		return;
	}
	if (!strcmp(cmd, "status"))
		do_status(d, c);
	else if (!strcmp(cmd, "tail"))
		do_tail(d, c, req);
	else if (!strcmp(cmd, "freeze") || !strcmp(cmd, "thaw") || !strcmp(cmd, "kill"))
		do_contain(d, c, cmd, req);
	else if (!strcmp(cmd, "register"))
		do_register(d, c, req);
	else if (!strcmp(cmd, "unregister")) {
		if (!c->reg_agent) {
			am_ctl_error(c, "unregister: nothing registered on this connection");
			return;
		}
		unregister(d, c);
		json_t *rep = json_pack("{s:b,s:b}", "ok", 1, "end", 1);
		if (c->log) {
			am_fdlog_flush(c->log);
			json_object_set_new(rep, "log_lines", json_integer((json_int_t)c->log->lines));
			json_object_set_new(rep, "log_errors", json_integer((json_int_t)c->log->errors));
			if (c->log->errors)
				json_object_set_new(rep, "log_error",
						    json_string(strerror(c->log->last_errno)));
		}
		am_ctl_reply(c, rep);
	} else {
		char shown[64];
		snprintf(shown, sizeof(shown), "%s", cmd);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
				*p = '?';
		am_ctl_error(c, "unknown command \"%s\" (status, tail, freeze, thaw, kill)", shown);
	}
}

void am_daemon_on_close(void *ctx, struct am_ctl_client *c)
{
	struct am_daemon *d = ctx;
	am_fdlog_close(c->log);
	c->log = NULL;
	if (c->reg_agent) {
		struct am_dagent *a = am_daemon_agent(d, c->reg_agent);
		if (a && a->owner == c) {
			a->owner = NULL;
			am_daemon_remove(d, a);
		}
		c->reg_agent = 0;
	}
}

void am_daemon_sink(void *ctx, const struct am_agent_info *a, const struct am_record *r,
		    const char *json, size_t len)
{
	struct am_daemon *d = ctx;
	int notable = -1;

	for (struct am_ctl_client *c = d->srv.clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->reg_agent) {
			if (!a || a->id != c->reg_agent)
				continue;
			if (c->log)
				am_fdlog_line(c->log, json, len);
			if (c->stream == AM_CTL_STREAM_NOTABLE && notable < 0)
				notable = am_record_notable(r);
			if (c->stream == AM_CTL_STREAM_ALL ||
			    (c->stream == AM_CTL_STREAM_NOTABLE && notable))
				am_ctl_stream(c, json, len);
			continue;
		}
		if (!c->tail)
			continue;
		if (c->tail_agent[0] && (!r->agent || strcmp(c->tail_agent, r->agent) != 0))
			continue;
		if (!c->tail_all) {
			if (notable < 0)
				notable = am_record_notable(r);
			if (!notable)
				continue;
		}
		am_ctl_stream(c, json, len);
	}
}

void am_daemon_flush_clients(struct am_daemon *d)
{
	for (struct am_ctl_client *c = d->srv.clients; c; c = c->next) {
		if (c->log)
			am_fdlog_flush(c->log);
		if (!c->dead && c->outlen > c->outoff)
			am_ctl_flush(c);
	}
}
