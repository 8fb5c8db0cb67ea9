/* The daemon's agents: profiles from the profiles directory (load, reload),
 * agents registered by `agentmon exec`, sessions of matched processes and
 * their cgroups, adoption of processes already running. */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agentmon.skel.h"
#include "cgroup.h"
#include "daemon.h"
#include "execpol.h"
#include "log.h"
#include "netpol.h"
#include "profile.h"

uint64_t am_boot_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct am_dagent *am_daemon_agent(struct am_daemon *d, uint32_t id)
{
	for (struct am_dagent *a = d->agents; a; a = a->next)
		if (a->info.id == id)
			return a;
	return NULL;
}

static uint32_t alloc_id(struct am_daemon *d)
{
	for (uint32_t tries = 0; tries < AM_MAX_AGENTS; tries++) {
		uint32_t id = d->next_id++;
		if (d->next_id >= AM_MAX_AGENTS)
			d->next_id = 1;
		if (id && !am_daemon_agent(d, id))
			return id;
	}
	return 0;
}

static void set_profile(struct am_dagent *a, struct am_profile *p, int audit)
{
	snprintf(a->info.name, sizeof(a->info.name), "%s", am_profile_name(p));
	snprintf(a->info.version, sizeof(a->info.version), "%s", am_profile_version(p));
	snprintf(a->info.sha256, sizeof(a->info.sha256), "%s", am_profile_sha256(p));
	a->info.profile = p;
	a->info.audit = audit || am_profile_mode(p) == AM_MODE_AUDIT;
	memset(&a->info.esc, 0, sizeof(a->info.esc));
	a->prof = p;
}

/* The kernel's share of the profile: synchronous exec kills and network
 * refusals. The sock_addr programs sit on the cgroup2 root already. */
static int install_policy(struct am_daemon *d, struct am_dagent *a)
{
	struct am_execpol_stats eps;
	struct am_netpol_stats nps;
	int err = am_execpol_install(&d->bpf, a->info.id, a->prof, a->info.audit, &eps);

	if (!err)
		err = am_netpol_install(&d->bpf, a->info.id, a->prof, a->info.audit, NULL,
					a->info.cgroup_id, &nps);
	if (err)
		am_err("run: %s: install its policy in the kernel: %s", a->info.name, strerror(-err));
	return err;
}

static struct am_dagent *new_agent(struct am_daemon *d, enum am_agent_source src)
{
	struct am_dagent *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->source = src;
	a->info.id = alloc_id(d);
	if (!a->info.id || am_bpf_agent_add(&d->bpf, a->info.id)) {
		free(a);
		return NULL;
	}
	return a;
}

static void link_agent(struct am_daemon *d, struct am_dagent *a)
{
	struct am_dagent **pp = &d->agents;
	while (*pp)
		pp = &(*pp)->next;
	*pp = a;
	am_monitor_add_agent(&d->mon, &a->info);
}

static void remove_session(struct am_session *s)
{
	if (s->own) {
		int err = am_cgroup_remove(s->cgroup_abs);
		if (err && err != -ENOENT)
			am_warn("run: remove cgroup %s: %s", s->cgroup_abs, strerror(-err));
	}
	free(s);
}

void am_daemon_remove(struct am_daemon *d, struct am_dagent *a)
{
	struct am_dagent **pp = &d->agents;
	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp)
		*pp = a->next;
	am_monitor_del_agent(&d->mon, a->info.id);
	am_bpf_policy_clear(&d->bpf, a->info.id);
	am_bpf_untrack_agent(&d->bpf, a->info.id);
	am_bpf_agent_del(&d->bpf, a->info.id);
	while (a->sessions) {
		struct am_session *s = a->sessions;
		a->sessions = s->next;
		remove_session(s);
	}
	am_profile_free(a->prof);
	free(a);
}

void am_daemon_free_agents(struct am_daemon *d)
{
	while (d->agents) {
		struct am_dagent *a = d->agents;
		d->agents = a->next;
		while (a->sessions) {
			struct am_session *s = a->sessions;
			a->sessions = s->next;
			/* empty ones go; a frozen or running agent keeps its cgroup */
			if (s->own && am_cgroup_populated(s->cgroup_abs) == 0)
				am_cgroup_remove(s->cgroup_abs);
			free(s);
		}
		am_profile_free(a->prof);
		free(a);
	}
}

/* ---- profiles ---- */

static int is_profile_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

static void reload_error(struct am_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reload_error(struct am_daemon *d, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	am_err("run: %s", msg);
	json_array_append_new(d->reload_errors, json_string(msg));
}

/* A "#!" file: exec runs its interpreter, whose inode is what the kernel sees. */
static int is_script(const char *exe)
{
	char magic[2];
	int fd = exe ? open(exe, O_RDONLY | O_CLOEXEC) : -1;
	int script = fd >= 0 && read(fd, magic, 2) == 2 && magic[0] == '#' && magic[1] == '!';
	if (fd >= 0)
		close(fd);
	return script;
}

static int has_match(const struct am_profile *p)
{
	return am_profile_match_exe(p) || am_profile_match_uid(p) >= 0 || am_profile_match_cgroup(p);
}

int am_daemon_load_profiles(struct am_daemon *d, int initial)
{
	struct dirent **ents = NULL;
	int n, errors = 0;

	json_decref(d->reload_errors);
	d->reload_errors = json_array();
	n = scandir(d->profiles_dir, &ents, is_profile_file, alphasort);
	if (n < 0) {
		reload_error(d, "%s: %s", d->profiles_dir, strerror(errno));
		d->last_reload_ok = 0;
		return 1;
	}
	/* paths seen this pass (loaded or failed): their agents are not retired */
	char **seen = calloc((size_t)n + 1, sizeof(*seen));
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct am_profile *p = NULL;
		struct am_diag diag;

		if ((size_t)snprintf(path, sizeof(path), "%s/%.255s", d->profiles_dir, ents[i]->d_name) >=
		    sizeof(path)) {
			reload_error(d, "%s/%s: path too long", d->profiles_dir, ents[i]->d_name);
			errors++;
			continue;
		}
		seen[i] = strdup(path);
		if (am_profile_load(path, d->profile_flags, &p, &diag)) {
			reload_error(d, "%s", diag.msg);
			errors++;
			continue;
		}
		enum am_approval ap = am_profile_approval(p, time(NULL));
		if (ap != AM_APPROVED) {
			reload_error(d, "%s: rejected: %s", path,
				     ap == AM_APPROVAL_EXPIRED ? "its approval has expired" : "it has no approval");
			am_profile_free(p);
			errors++;
			continue;
		}
		struct am_dagent *same = NULL, *clash = NULL;
		for (struct am_dagent *a = d->agents; a; a = a->next) {
			if (a->source != AM_SRC_PROFILE)
				continue;
			if (!strcmp(a->path, path))
				same = a;
			else if (!a->retired && !strcmp(a->info.name, am_profile_name(p)))
				clash = a;
		}
		if (clash) {
			reload_error(d, "%s: rejected: agent name already used by %s", path, clash->path);
			am_profile_free(p);
			errors++;
			continue;
		}
		if (!has_match(p))
			am_warn("run: %s: no \"match\": the daemon never matches it (agentmon exec can use it)", path);
		else if (is_script(am_profile_match_exe(p)))
			am_warn("run: %s: match.exe %s is a script: the kernel runs its interpreter, so "
				"it never matches; match the interpreter with uid or cgroup instead",
				path, am_profile_match_exe(p));
		if (same && !same->retired && !strcmp(same->info.sha256, am_profile_sha256(p))) {
			am_profile_free(p);
			continue;
		}
		if (same) {
			/* A new version of a running agent's profile: its processes are
			 * judged by the new one from now on. */
			struct am_profile *old = same->prof;
			am_bpf_policy_clear(&d->bpf, same->info.id);
			set_profile(same, p, 0);
			same->retired = 0;
			install_policy(d, same);
			am_profile_free(old);
			am_debug("run: %s: reloaded %s %s", path, same->info.name, same->info.version);
			continue;
		}
		struct am_dagent *a = new_agent(d, AM_SRC_PROFILE);
		if (!a) {
			reload_error(d, "%s: %s", path, "no room for another agent");
			am_profile_free(p);
			errors++;
			continue;
		}
		snprintf(a->path, sizeof(a->path), "%s", path);
		set_profile(a, p, 0);
		a->info.multi = 1;
		install_policy(d, a);
		link_agent(d, a);
		if (!initial)
			am_debug("run: %s: new agent %s %s", path, a->info.name, a->info.version);
	}
	/* Files gone from the directory: stop matching them; what runs under
	 * them stays watched under the profile it started with. */
	for (struct am_dagent *a = d->agents; a; a = a->next) {
		if (a->source != AM_SRC_PROFILE || a->retired)
			continue;
		int found = 0;
		for (int i = 0; i < n && !found; i++)
			found = seen[i] && !strcmp(seen[i], a->path);
		if (!found)
			a->retired = 1;
	}
	for (int i = 0; i < n; i++) {
		free(seen[i]);
		free(ents[i]);
	}
	free(seen);
	free(ents);
	d->last_reload_ok = errors == 0;
	d->last_reload_ns = am_boot_ns();
	am_daemon_refresh_match(d, 1);
	am_daemon_scan(d);
	return errors;
}

/* ---- matching ---- */

static size_t build_rules(struct am_daemon *d, struct am_match_rule *r, size_t max)
{
	size_t n = 0;
	for (struct am_dagent *a = d->agents; a && n < max; a = a->next) {
		if (a->source != AM_SRC_PROFILE || a->retired || !has_match(a->prof))
			continue;
		r[n].agent_id = a->info.id;
		r[n].exe = am_profile_match_exe(a->prof);
		r[n].uid = am_profile_match_uid(a->prof);
		r[n].cgroup = am_profile_match_cgroup(a->prof);
		n++;
	}
	return n;
}

void am_daemon_refresh_match(struct am_daemon *d, int force)
{
	static struct am_match_rule rules[AM_MAX_AGENTS];
	size_t n = build_rules(d, rules, AM_MAX_AGENTS);

	if (!force && am_match_signature(d->cgroot, rules, n) == d->match_sig)
		return;
	int err = am_match_install(&d->bpf, d->cgroot, rules, n, &d->match);
	if (err)
		am_err("run: install the match table in the kernel: %s", strerror(-err));
	d->match_sig = d->match.sig;
	if (!force)
		am_daemon_scan(d);   /* something appeared: adopt what already runs */
}

/* ---- sessions ---- */

static struct am_session *new_session(struct am_daemon *d, struct am_dagent *a, uint32_t pid,
				      uint64_t start_ns)
{
	struct am_session *s = calloc(1, sizeof(*s));
	char path[64], buf[4096], cur[PATH_MAX] = "/";
	int fd, err;

	if (!s)
		return NULL;
	s->root_pid = pid;
	s->start_ns = start_ns;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[r > 0 ? r : 0] = 0;
		char *l = strstr(buf, "0::");
		if (l == buf || (l && l[-1] == '\n')) {
			char *e = strchr(l, '\n');
			if (e)
				*e = 0;
			snprintf(cur, sizeof(cur), "%s", l + 3);
		}
	}
	char leaf[256];
	snprintf(leaf, sizeof(leaf), "%.200s-%u", a->info.name, pid);
	for (char *c = leaf; *c; c++)
		if (*c == '/')
			*c = '_';
	const char *base = strrchr(cur, '/') ? strrchr(cur, '/') + 1 : cur;
	if (!strcmp(base, leaf) || (!strncmp(base, "agentmon-", 9) && !strcmp(base + 9, leaf))) {
		/* already in the cgroup an earlier daemon made for it: keep that */
		int n = snprintf(s->cgroup_abs, sizeof(s->cgroup_abs), "%s%s", d->cgroot, cur);
		err = n < 0 || (size_t)n >= sizeof(s->cgroup_abs) ? -ENAMETOOLONG : 0;
	} else if (!strcmp(cur, "/")) {
		err = am_cgroup_create(d->cgroot, leaf, s->cgroup_abs, sizeof(s->cgroup_abs));
	} else {
		/* nested where it runs: its service (or scope) still contains it */
		int n = snprintf(s->cgroup_abs, sizeof(s->cgroup_abs), "%s%s/agentmon-%s", d->cgroot,
				 cur, leaf);
		err = n < 0 || (size_t)n >= sizeof(s->cgroup_abs) ? -ENAMETOOLONG : 0;
		if (!err && mkdir(s->cgroup_abs, 0755) && errno != EEXIST)
			err = -errno;
	}
	if (!err) {
		err = am_cgroup_join(s->cgroup_abs, (pid_t)pid);
		if (err)
			rmdir(s->cgroup_abs);
	}
	if (err) {
		am_warn("run: %s pid %u: no cgroup of its own (%s): freeze is not possible, kill is by pid",
			a->info.name, pid, strerror(-err));
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", cur);
		s->cgroup_abs[0] = 0;
	} else {
		s->own = 1;
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", s->cgroup_abs + strlen(d->cgroot));
	}
	s->where.cgroup = s->cgroup;
	s->where.cgroup_abs = s->cgroup_abs;
	s->where.start_ns = start_ns;
	s->where.root_pid = pid;
	s->next = a->sessions;
	a->sessions = s;
	/* the monitor's fallback for records and responses of this agent */
	snprintf(a->info.cgroup, sizeof(a->info.cgroup), "%s", s->cgroup);
	snprintf(a->info.cgroup_abs, sizeof(a->info.cgroup_abs), "%s", s->cgroup_abs);
	a->info.root_pid = pid;
	if (!a->info.start_ns)
		a->info.start_ns = start_ns;
	return s;
}

struct am_session *am_daemon_session_of(struct am_daemon *d, struct am_dagent *a, uint32_t pid)
{
	struct am_proc *p = am_proc_get(&d->mon.procs, pid);
	uint32_t root = pid;

	for (int guard = 0; p && p->depth > 0 && guard < 4096; guard++) {
		struct am_proc *pp = am_proc_get(&d->mon.procs, p->ppid);
		if (!pp || pp->agent_id != p->agent_id)
			break;
		p = pp;
	}
	if (p)
		root = p->pid;
	for (struct am_session *s = a->sessions; s; s = s->next)
		if (s->root_pid == root)
			return s;
	return a->sessions && !a->sessions->next ? a->sessions : NULL;
}

const struct am_where *am_daemon_where_of(void *ctx, struct am_agent_info *ai, uint32_t pid)
{
	struct am_daemon *d = ctx;
	struct am_session *s = am_daemon_session_of(d, (struct am_dagent *)ai, pid);
	return s ? &s->where : NULL;
}

void am_daemon_on_proc(void *ctx, struct am_agent_info *ai, uint32_t kind, uint32_t pid,
		       const struct am_event_hdr *h)
{
	struct am_daemon *d = ctx;
	struct am_dagent *a = (struct am_dagent *)ai;

	if (a->source != AM_SRC_PROFILE)
		return;
	if (kind == AM_EV_EXEC && (h->flags & AM_EVF_MATCHED)) {
		new_session(d, a, pid, h->ts_ns);
	} else if (kind == AM_EV_FORK) {
		/* Children forked before their session's root moved stay behind:
		 * each is moved when its fork is seen (its own children follow it). */
		struct am_session *s = am_daemon_session_of(d, a, h->pid);
		if (s && s->own)
			am_cgroup_join(s->cgroup_abs, (pid_t)pid);
	}
}

/* ---- adopting what already runs ---- */

static int tracked(struct am_daemon *d, uint32_t pid)
{
	struct am_task t;
	return bpf_map_lookup_elem(bpf_map__fd(d->bpf.skel->maps.am_tasks), &pid, &t) == 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct am_pinfo *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static struct am_pinfo *find_pid(struct am_pinfo *v, size_t n, uint32_t pid)
{
	struct am_pinfo k = { .pid = pid };
	return bsearch(&k, v, n, sizeof(*v), by_pid);
}

/* Track every untracked descendant of a tracked process (parents first, so
 * each child's parent is known). Returns how many were added. */
static unsigned adopt_children(struct am_daemon *d, struct am_pinfo *v, size_t n)
{
	unsigned added = 0, more = 1;
	while (more) {
		more = 0;
		for (size_t i = 0; i < n; i++) {
			struct am_task pt;
			uint32_t pid = v[i].pid, ppid = v[i].ppid;
			if (tracked(d, pid) || !ppid ||
			    bpf_map_lookup_elem(bpf_map__fd(d->bpf.skel->maps.am_tasks), &ppid, &pt))
				continue;
			struct am_dagent *a = am_daemon_agent(d, pt.agent_id);
			if (!a || a->source != AM_SRC_PROFILE)
				continue;
			if (am_bpf_track(&d->bpf, (pid_t)pid, pt.agent_id, pt.depth + 1))
				continue;
			struct am_proc *p = am_proc_fork(&d->mon.procs, pid, ppid, pt.agent_id, pt.depth + 1);
			if (p && v[i].exe)
				am_proc_set_exe(p, v[i].exe);
			struct am_session *s = am_daemon_session_of(d, a, pid);
			if (s && s->own)
				am_cgroup_join(s->cgroup_abs, (pid_t)pid);
			added++;
			more = 1;
		}
	}
	return added;
}

void am_daemon_scan(struct am_daemon *d)
{
	static struct am_match_rule rules[AM_MAX_AGENTS];
	size_t nr = build_rules(d, rules, AM_MAX_AGENTS), n;
	struct am_pinfo *v;
	unsigned roots = 0, kids;

	if (!nr || am_procscan(&v, &n))
		return;
	qsort(v, n, sizeof(*v), by_pid);
	uint32_t *agent = calloc(n ? n : 1, sizeof(*agent));
	if (!agent) {
		am_procscan_free(v, n);
		return;
	}
	pid_t self = getpid();
	for (size_t i = 0; i < n; i++) {
		if (v[i].pid == (uint32_t)self || tracked(d, v[i].pid))
			continue;
		for (size_t j = 0; j < nr; j++)
			if (am_match_proc(&rules[j], &v[i])) {
				agent[i] = rules[j].agent_id;
				break;
			}
	}
	/* roots: matched, with no matched or tracked ancestor */
	for (size_t i = 0; i < n; i++) {
		if (!agent[i])
			continue;
		int covered = 0;
		struct am_pinfo *p = &v[i];
		for (int guard = 0; guard < 4096 && p->ppid; guard++) {
			struct am_pinfo *pp = find_pid(v, n, p->ppid);
			if (!pp)
				break;
			if (agent[pp - v] || tracked(d, pp->pid)) {
				covered = 1;
				break;
			}
			p = pp;
		}
		if (covered)
			continue;
		struct am_dagent *a = am_daemon_agent(d, agent[i]);
		if (!a || am_bpf_track(&d->bpf, (pid_t)v[i].pid, a->info.id, 0))
			continue;
		struct am_proc *pr = am_proc_put(&d->mon.procs, v[i].pid, v[i].ppid, a->info.id, 0);
		if (pr && v[i].exe)
			am_proc_set_exe(pr, v[i].exe);
		new_session(d, a, v[i].pid, am_boot_ns());
		am_warn("run: adopted running process %u (%s) as agent %s", v[i].pid,
			v[i].exe ? v[i].exe : "?", a->info.name);
		roots++;
	}
	free(agent);
	kids = adopt_children(d, v, n);
	am_procscan_free(v, n);
	/* children forked while we looked: one more pass over a fresh view */
	if (roots && am_procscan(&v, &n) == 0) {
		qsort(v, n, sizeof(*v), by_pid);
		kids += adopt_children(d, v, n);
		am_procscan_free(v, n);
	}
	if (roots)
		am_debug("run: adopted %u running agent processes and %u descendants", roots, kids);
}

/* ---- agents of `agentmon exec` ---- */

struct am_dagent *am_daemon_register(struct am_daemon *d, const char *profile, pid_t pid,
				     const char *cgroup_abs, int audit, char *err, size_t errsz)
{
	struct am_profile *p = NULL;
	struct am_diag diag;
	size_t rl = strlen(d->cgroot);

	if (strncmp(cgroup_abs, d->cgroot, rl) != 0 || cgroup_abs[rl] != '/') {
		snprintf(err, errsz, "cgroup %s is not under %s", cgroup_abs, d->cgroot);
		return NULL;
	}
	if (am_profile_load(profile, 0, &p, &diag)) {
		snprintf(err, errsz, "%s", diag.msg);
		return NULL;
	}
	struct am_dagent *a = new_agent(d, AM_SRC_EXEC);
	if (!a) {
		snprintf(err, errsz, "no room for another agent");
		am_profile_free(p);
		return NULL;
	}
	snprintf(a->path, sizeof(a->path), "%s", profile);
	set_profile(a, p, audit);
	snprintf(a->info.cgroup_abs, sizeof(a->info.cgroup_abs), "%s", cgroup_abs);
	snprintf(a->info.cgroup, sizeof(a->info.cgroup), "%s", cgroup_abs + rl);
	am_cgroup_id(cgroup_abs, &a->info.cgroup_id);
	a->info.root_pid = (uint32_t)pid;
	a->info.start_ns = am_boot_ns();
	int e = install_policy(d, a);
	if (!e)
		e = am_bpf_track(&d->bpf, pid, a->info.id, 0);
	if (e) {
		snprintf(err, errsz, "set up the agent in the kernel: %s", strerror(-e));
		am_bpf_policy_clear(&d->bpf, a->info.id);
		am_bpf_agent_del(&d->bpf, a->info.id);
		am_profile_free(p);
		free(a);
		return NULL;
	}
	am_proc_put(&d->mon.procs, (uint32_t)pid, (uint32_t)getpid(), a->info.id, 0);
	link_agent(d, a);
	return a;
}
