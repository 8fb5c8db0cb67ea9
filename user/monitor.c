#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "monitor.h"
#include "net_event.h"
#include "file_event.h"
#include "respond.h"
#include "log.h"

static int64_t ts_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

#define AM_JBUF_SIZE (256 * 1024)

/* Readers of the JSON file (tail -f, log shippers) must only ever see whole
 * lines: lines are collected in jbuf and written whole, never split. */
static void write_all(int fd, const char *p, size_t n, uint64_t *errors)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			(*errors)++;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static int on_sample(void *ctx, void *data, size_t size)
{
	am_monitor_handle(ctx, data, size);
	return 0;
}

int am_monitor_init(struct am_monitor *m, struct am_bpf *bpf)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->bpf = bpf;
	if (gethostname(m->host, sizeof(m->host) - 1))
		strcpy(m->host, "unknown");
	m->boot_to_real_ns = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_BOOTTIME);
	err = am_proctable_init(&m->procs, 1024);
	if (err)
		return err;
	m->jbuf = malloc(AM_JBUF_SIZE);
	m->agents = calloc(AM_MAX_AGENTS, sizeof(*m->agents));
	if (!m->jbuf || !m->agents) {
		free(m->agents);
		free(m->jbuf);
		am_proctable_free(&m->procs);
		return -ENOMEM;
	}
	if (bpf) {
		m->rb = ring_buffer__new(am_bpf_events_fd(bpf), on_sample, m, NULL);
		if (!m->rb) {
			err = -errno;
			am_proctable_free(&m->procs);
			free(m->jbuf);
			free(m->agents);
			return err;
		}
	}
	return 0;
}

void am_monitor_free(struct am_monitor *m)
{
	am_monitor_flush(m);
	free(m->jbuf);
	m->jbuf = NULL;
	free(m->agents);
	m->agents = NULL;
	if (m->rb)
		ring_buffer__free(m->rb);
	m->rb = NULL;
	am_proctable_free(&m->procs);
}

int am_monitor_add_agent(struct am_monitor *m, struct am_agent_info *a)
{
	if (a->id == 0 || a->id >= AM_MAX_AGENTS)
		return -EINVAL;
	if (m->agents[a->id])
		return -EEXIST;
	m->agents[a->id] = a;
	m->n_agents++;
	return 0;
}

void am_monitor_del_agent(struct am_monitor *m, uint32_t id)
{
	if (id < AM_MAX_AGENTS && m->agents[id]) {
		m->agents[id] = NULL;
		m->n_agents--;
	}
}

/* Events name their agent by id: one array index, no search. */
static struct am_agent_info *agent_of(struct am_monitor *m, uint32_t id)
{
	return id < AM_MAX_AGENTS ? m->agents[id] : NULL;
}

uint64_t am_monitor_realtime(const struct am_monitor *m, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + m->boot_to_real_ns);
}

/* Records a person needs to look at: judged anything but allow, acted on,
 * or losses. The human sink of the daemon and `tail` show only these. */
int am_record_notable(const struct am_record *r)
{
	if (!strcmp(r->kind, "lost") || !strcmp(r->kind, "action"))
		return 1;
	if (r->verdict && strcmp(r->verdict, "allow") != 0)
		return 1;
	return r->action && strcmp(r->action, "none") != 0;
}

static void emit_for(struct am_monitor *m, const struct am_agent_info *a, const struct am_record *r)
{
	char *s = NULL, *heap = NULL;
	size_t n = 0;

	if (m->json || m->sink) {
		/* Formatted straight into the line buffer (no allocation per
		 * event); only a record longer than the room left takes the
		 * malloc'd path. Without a JSON file the buffer is scratch. */
		if (m->json && AM_JBUF_SIZE - m->jlen < AM_JBUF_SIZE / 8)
			am_monitor_flush(m);
		char *dst = m->jbuf + m->jlen;
		size_t room = AM_JBUF_SIZE - m->jlen;
		n = am_record_json_buf(r, dst, room);
		if (n + 1 < room) {
			s = dst;
		} else {
			s = heap = am_record_json(r);
			n = s ? strlen(s) : 0;
		}
	}
	if (m->sink && s)
		m->sink(m->sink_ctx, a, r, s, n);
	if (m->json && s) {
		if (s != heap) {
			s[n] = '\n';   /* in place: the line is now part of the buffer */
			m->jlen += n + 1;
		} else {
			am_monitor_flush(m);
			s[n] = '\n';   /* replaces the NUL: written by length */
			write_all(fileno(m->json), s, n + 1, &m->write_errors);
		}
	}
	free(heap);
	if (m->human && (!m->human_notable_only || am_record_notable(r))) {
		char line[8192];
		am_record_human(r, line, sizeof(line));
		fprintf(m->human, "%s\n", line);
	}
}

void am_monitor_emit(struct am_monitor *m, const struct am_record *r)
{
	emit_for(m, NULL, r);
}

void am_monitor_emit_agent(struct am_monitor *m, const struct am_agent_info *a,
			   const struct am_record *r)
{
	emit_for(m, a, r);
}

/* Ancestors of `pid` within its agent, root first. */
static void fill_ancestry(struct am_monitor *m, struct am_record *r, uint32_t pid)
{
	struct am_ancestor rev[AM_ANCESTRY_MAX];
	int n = 0;
	struct am_proc *p = am_proc_get(&m->procs, pid);

	while (p && p->depth > 0 && n < AM_ANCESTRY_MAX) {
		struct am_proc *pp = am_proc_get(&m->procs, p->ppid);
		if (!pp || pp->agent_id != p->agent_id)
			break;
		rev[n].pid = pp->pid;
		rev[n].exe = pp->exe;
		n++;
		p = pp;
	}
	r->n_ancestry = n;
	for (int i = 0; i < n; i++)
		r->ancestry[i] = rev[n - 1 - i];
}

static void base_record(struct am_monitor *m, struct am_record *r, const struct am_event_hdr *h,
			const struct am_agent_info *a, char *comm)
{
	memset(r, 0, sizeof(*r));
	memcpy(comm, h->comm, AM_COMM_LEN);
	comm[AM_COMM_LEN] = 0;
	r->ts_ns = am_monitor_realtime(m, h->ts_ns);
	r->host = m->host;
	r->agent = a->name;
	r->profile_version = a->version;
	r->profile_sha256 = a->sha256[0] ? a->sha256 : NULL;
	r->pid = h->pid;
	r->ppid = h->ppid;
	r->uid = h->uid;
	r->comm = comm;
	r->cgroup = m->where ? m->where->cgroup : a->cgroup;
	r->flags = h->flags;
}

/* Run the response `act` for record r (in audit mode only name it) and set
 * r->action and r->outcome; the buffers are the caller's. */
static void respond(struct am_agent_info *a, const char *cgroup_abs, enum am_action act,
		    pid_t pid, int escalated, struct am_record *r, char action[32], char outcome[256])
{
	int denied = r->flags & AM_EVF_DENIED;
	char res[200];

	r->action = am_action_name(act);
	if (denied)
		r->outcome = "denied";
	if (act == AM_ACT_NONE)
		return;
	a->actions++;
	if (a->audit) {
		snprintf(action, 32, "would:%s", am_action_name(act));
		r->action = action;
		return;
	}
	/* The kernel refused the operation already: that is the response, unless
	 * this refusal tipped the escalation, whose action runs too. */
	if (denied && !escalated)
		return;
	am_respond(act, pid, cgroup_abs, res, sizeof(res));
	snprintf(outcome, 256, denied ? "denied, %s" : "%s", res);
	r->outcome = outcome;
}

/* Judge a decoded record against the agent's profile, run the response,
 * and emit it. Allowed activity is remembered: its repeats stop here, and
 * from the first repeat on in the kernel (bpf_loader.h). */
static void conclude(struct am_monitor *m, struct am_agent_info *a, struct am_record *r,
		     const struct am_event *ev)
{
	char action[32], outcome[256];
	struct am_decision d;

	if (a->profile && (r->path || r->has_net || !strcmp(r->kind, "exec"))) {
		uint64_t start = m->where ? m->where->start_ns : a->start_ns;
		uint64_t age = ev->hdr.ts_ns > start ? ev->hdr.ts_ns - start : 0;
		am_decide(a->profile, r, ev, age, ev->hdr.ts_ns, &a->esc, &d);
		r->verdict = am_verdict_name(d.j.verdict);
		r->rule = d.j.rule;
		r->escalated = d.escalated;
		if (d.j.verdict >= AM_VIOLATION)
			a->violations++;
		respond(a, m->where ? m->where->cgroup_abs : a->cgroup_abs, d.action, (pid_t)r->pid,
			d.escalated, r, action, outcome);
		if (d.seen_ok && m->bpf && (r->path || r->has_net)) {
			const struct am_seen_key *k = r->path ? &ev->file.seen : &ev->net.seen;
			if (k->what)
				am_bpf_seen_allowed(m->bpf, k);
		}
	}
	if (r->n_ancestry == 0 && (!r->verdict || strcmp(r->verdict, "allow") != 0 ||
				   !strcmp(r->kind, "exec")))
		fill_ancestry(m, r, r->pid);
	emit_for(m, a, r);
	a->events++;
}

/* A repeat of activity already judged `allow` (bpf_loader.h): dropped, as
 * the kernel drops the later ones. */
static int seen_repeat(struct am_monitor *m, const struct am_event *ev, size_t size)
{
	const struct am_seen_key *k;

	if (!m->bpf)
		return 0;
	if (ev->hdr.kind == AM_EV_FILE &&
	    size >= offsetof(struct am_event, file) + offsetof(struct am_file_body, path))
		k = &ev->file.seen;
	else if (ev->hdr.kind == AM_EV_NET &&
		 size >= offsetof(struct am_event, net) + offsetof(struct am_net_body, path))
		k = &ev->net.seen;
	else
		return 0;
	if (!k->what || !am_bpf_seen_repeat(m->bpf, k, ev->hdr.ts_ns))
		return 0;
	m->repeats++;
	return 1;
}

int am_monitor_handle(struct am_monitor *m, const void *data, size_t size)
{
	const struct am_event *ev = data;
	const struct am_event_hdr *h = &ev->hdr;
	struct am_agent_info *a;
	struct am_record r;
	struct am_proc *p;
	char comm[AM_COMM_LEN + 1];

	if (size < sizeof(*h)) {
		m->malformed++;
		return -EINVAL;
	}
	a = agent_of(m, h->agent_id);
	if (!a)
		return 0;   /* another agentmon's agent, or one already gone */
	if (seen_repeat(m, ev, size))
		return 0;
	m->where = NULL;
	if (a->multi && m->where_of && h->kind != AM_EV_FORK && !(h->flags & AM_EVF_MATCHED))
		m->where = m->where_of(m->proc_ctx, a, h->pid);

	switch (h->kind) {
	case AM_EV_FORK: {
		if (size < offsetof(struct am_event, fork) + sizeof(ev->fork))
			goto bad;
		p = am_proc_fork(&m->procs, ev->fork.child_pid, h->pid, h->agent_id, h->depth + 1);
		struct am_proc *parent = am_proc_get(&m->procs, h->pid);
		if (p && parent && parent->exe)
			am_proc_set_exe(p, parent->exe);
		if (m->on_proc)
			m->on_proc(m->proc_ctx, a, AM_EV_FORK, ev->fork.child_pid, h);
		return 0;
	}
	case AM_EV_EXEC: {
		char path[AM_PATH_MAX];
		size_t hdr = offsetof(struct am_event, exec.path);
		if (size < hdr || ev->exec.path_len >= AM_PATH_MAX || ev->exec.args_len > AM_ARGS_MAX ||
		    size < hdr + ev->exec.path_len)
			goto bad;
		memcpy(path, ev->exec.path, ev->exec.path_len);
		path[ev->exec.path_len] = 0;
		p = am_proc_get(&m->procs, h->pid);
		if (!p || (h->flags & AM_EVF_MATCHED)) /* keep the parent it forked from */
			p = am_proc_put(&m->procs, h->pid, h->ppid, h->agent_id, h->depth);
		if (p)
			am_proc_set_exe(p, path);
		if (m->on_proc)
			m->on_proc(m->proc_ctx, a, AM_EV_EXEC, h->pid, h);
		if ((h->flags & AM_EVF_MATCHED) && a->multi && m->where_of)
			m->where = m->where_of(m->proc_ctx, a, h->pid);   /* its new session */
		base_record(m, &r, h, a, comm);
		r.kind = "exec";
		r.exe = path;
		am_record_set_args(&r, ev->exec.args, ev->exec.args_len);
		conclude(m, a, &r, ev);
		return 0;
	}
	case AM_EV_EXIT: {
		if (size < offsetof(struct am_event, exit) + sizeof(ev->exit))
			goto bad;
		p = am_proc_get(&m->procs, h->pid);
		base_record(m, &r, h, a, comm);
		r.kind = "exit";
		r.exe = p ? p->exe : NULL;
		r.has_exit = 1;
		r.exit_signal = ev->exit.status & 0x7f;
		r.exit_code = (ev->exit.status >> 8) & 0xff;
		emit_for(m, a, &r);
		a->events++;
		am_proc_exit(&m->procs, h->pid);
		if (m->on_proc)
			m->on_proc(m->proc_ctx, a, AM_EV_EXIT, h->pid, h);
		return 0;
	}
	case AM_EV_FILE: {
		static struct am_file_names names;
		size_t off = offsetof(struct am_event, file);
		if (size < off)
			goto bad;
		base_record(m, &r, h, a, comm);
		p = am_proc_get(&m->procs, h->pid);
		r.exe = p ? p->exe : NULL;
		if (am_file_record(&r, &ev->file, size - off, &names))
			goto bad;
		conclude(m, a, &r, ev);
		return 0;
	}
	case AM_EV_NET: {
		size_t off = offsetof(struct am_event, net);
		if (size < off + offsetof(struct am_net_body, path))
			goto bad;
		base_record(m, &r, h, a, comm);
		p = am_proc_get(&m->procs, h->pid);
		r.exe = p ? p->exe : NULL;
		if (am_net_record(&r, &ev->net, size - off))
			goto bad;
		conclude(m, a, &r, ev);
		return 0;
	}
	default:
		goto bad;
	}
bad:
	m->malformed++;
	return -EINVAL;
}

/* Pacing. The kernel wakes the consumer when a record lands in a ring it has
 * read to the end (an irq_work: a self-IPI inside the producer's syscall,
 * expensive in a VM, and a context switch here). A consumer that drains as
 * soon as it is woken is faster than the producer, so under a flood it is
 * woken for nearly every event: measured here, the open hook took ~1.5 us
 * per new file instead of ~0.9 us. After a drain that found more than one
 * event (events come faster than one per wake-up) we let the next ones
 * gather for AM_DRAIN_PACE_NS, so a flood costs one wake-up per batch. A
 * lone event (an exec, a first violation) is followed by no pause: what
 * comes next is handled at once too, so the kernel learns of a newly
 * allowed activity before a loop repeating it floods the ring. No event
 * waits longer than the pace (far below what the ring holds: at 400k
 * events/s 200 us is ~80 events, ~16 KiB). */
#define AM_DRAIN_PACE_NS 200000

int am_monitor_drain(struct am_monitor *m)
{
	int n = ring_buffer__consume(m->rb);
	/* one bpf() call and one write per drained batch, not per event */
	if (m->bpf)
		am_bpf_seen_flush(m->bpf);
	am_monitor_flush(m);
	if (n > 1) {
		struct timespec pace = { 0, AM_DRAIN_PACE_NS };
		nanosleep(&pace, NULL);
	}
	return n;
}

void am_monitor_flush(struct am_monitor *m)
{
	if (m->json && m->jlen) {
		write_all(fileno(m->json), m->jbuf, m->jlen, &m->write_errors);
		m->jlen = 0;
	}
	if (m->human)
		fflush(m->human);
}

void am_monitor_check_lost(struct am_monitor *m)
{
	for (uint32_t id = 1; id < AM_MAX_AGENTS; id++) {
		struct am_agent_info *a = m->agents[id];
		struct am_agent k;
		if (!a)
			continue;
		if (!m->bpf || am_bpf_agent_read(m->bpf, a->id, &k))
			continue;
		if (k.lost <= a->lost_reported)
			continue;
		struct am_record r;
		memset(&r, 0, sizeof(r));
		r.ts_ns = am_monitor_realtime(m, (uint64_t)ts_ns(CLOCK_BOOTTIME));
		r.host = m->host;
		r.agent = a->name;
		r.profile_version = a->version;
		r.profile_sha256 = a->sha256[0] ? a->sha256 : NULL;
		r.pid = a->root_pid;
		r.cgroup = a->cgroup;
		r.kind = "lost";
		r.lost = k.lost - a->lost_reported;
		r.lost_reason = "kernel could not deliver events (ring buffer full or tracking map full)";
		a->lost_reported = k.lost;
		a->lost += r.lost;
		/* Its behaviour can no longer be judged: response.lost decides. */
		char action[32], outcome[256];
		enum am_action act = a->profile ? am_profile_lost_action(a->profile) : AM_ACT_ALERT;
		respond(a, a->cgroup_abs, act, (pid_t)a->root_pid, 0, &r, action, outcome);
		emit_for(m, a, &r);
	}
	am_monitor_flush(m);
}
