/* agentmon exec: launch a command as an agent and watch its whole tree. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bpf_loader.h"
#include "cgroup.h"
#include "commands.h"
#include "ctl_client.h"
#include "event_human.h"
#include "exec_args.h"
#include "execpol.h"
#include "netpol.h"
#include "log.h"
#include "monitor.h"
#include "mounts.h"
#include "profile.h"

#define AGENT_ID 1              /* a standalone exec watches one agent */
#define LOST_CHECK_MS 100

/* Load the profile; refuse an invalid, unapproved or expired one unless the
 * caller insists (--allow-unapproved), which is logged loudly. */
static int load_profile(const struct am_exec_args *a, struct am_profile **out)
{
	struct am_diag diag;
	int err = am_profile_load(a->profile, 0, out, &diag);

	if (err) {
		am_err("%s", diag.msg);
		return err;
	}
	enum am_approval ap = am_profile_approval(*out, time(NULL));
	if (ap == AM_APPROVED)
		return 0;
	const char *why = ap == AM_APPROVAL_EXPIRED ? "its approval has expired" : "it has no approval";
	if (!a->allow_unapproved) {
		am_err("exec: %s: refusing to run: %s (override with --allow-unapproved)", a->profile, why);
		am_profile_free(*out);
		*out = NULL;
		return -EPERM;
	}
	am_warn("exec: %s: RUNNING UNAPPROVED: %s (--allow-unapproved)", a->profile, why);
	return 0;
}

static long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* The child: wait until the parent has tracked us and moved us into the
 * agent cgroup, then exec. A failed exec reports its errno on `errfd`. */
static void child_run(char **cmd, int gofd, int errfd, const sigset_t *orig)
{
	char go;
	int e;

	sigprocmask(SIG_SETMASK, orig, NULL);
	if (read(gofd, &go, 1) != 1)
		_exit(127);
	close(gofd);
	execvp(cmd[0], cmd);
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* With a daemon: the connection that registered the agent and carries its
 * events. */
struct remote {
	int fd;
	struct am_ctl_reader rd;
	FILE *json;
	FILE *human;
	int ended;      /* the daemon's end-of-agent reply arrived */
	int gone;       /* the daemon closed the connection */
};

/* Connect unless told not to. 1 connected, 0 no daemon (standalone), -1
 * error already reported (a --socket that does not answer). */
static int remote_connect(const struct am_exec_args *a, struct remote *rm)
{
	char err[512];
	const char *path = a->socket ? a->socket : AM_CTL_DEFAULT_SOCKET;

	if (a->standalone)
		return 0;
	rm->fd = am_ctl_connect(path, err, sizeof(err));
	if (rm->fd >= 0) {
		am_ctl_reader_init(&rm->rd, rm->fd, AM_CTL_STREAM_MAX);
		return 1;
	}
	if (a->socket) {
		am_err("exec: --socket: %s", err);
		return -1;
	}
	am_debug("exec: no daemon (%s): standalone", err);
	return 0;
}

static void remote_line(struct remote *rm, const char *line, size_t len)
{
	json_error_t je;
	json_t *o;

	/* Events start with "ts" and go to the JSON file as sent; only replies
	 * ({"ok":...}) and the human lines need parsing. */
	if (!rm->human && strncmp(line, "{\"ok\":", 6) != 0) {
		if (rm->json) {
			fwrite(line, 1, len, rm->json);
			fputc('\n', rm->json);
		}
		return;
	}
	o = json_loadb(line, len, 0, &je);

	if (!json_is_object(o)) {
		am_warn("exec: bad event from daemon, skipped");
		json_decref(o);
		return;
	}
	if (json_object_get(o, "ok")) {
		/* a reply among the events: the end of the agent, or an error */
		if (json_is_true(json_object_get(o, "end"))) {
			json_int_t lost = json_integer_value(json_object_get(o, "log_errors"));
			if (lost > 0)
				am_err("exec: --json: the daemon could not write %lld events: %s",
				       (long long)lost,
				       json_string_value(json_object_get(o, "log_error")) ?: "error");
			rm->ended = 1;
		}
		else if (!json_is_true(json_object_get(o, "ok")))
			am_err("exec: daemon: %s", json_string_value(json_object_get(o, "error")) ?: "error");
		json_decref(o);
		return;
	}
	if (rm->json) {
		fwrite(line, 1, len, rm->json);
		fputc('\n', rm->json);
	}
	if (rm->human) {
		char h[8192];
		am_event_human(o, h, sizeof(h));
		fprintf(rm->human, "%s\n", h);
	}
	json_decref(o);
}

/* Take every complete line the daemon has sent; wait up to timeout_ms for
 * the first. */
static void remote_pump(struct remote *rm, int timeout_ms)
{
	char *line;
	size_t len;

	rm->rd.timeout_ms = timeout_ms;
	for (;;) {
		int rc = am_ctl_read_line(&rm->rd, &line, &len);
		if (rc == 1) {
			remote_line(rm, line, len);
			rm->rd.timeout_ms = 0;
			continue;
		}
		if (rc == 0 || (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR && rc != -EMSGSIZE))
			rm->gone = 1;
		break;
	}
	if (rm->json)
		fflush(rm->json);
	if (rm->human)
		fflush(rm->human);
}

/* A --json that is a regular file (also "-" when stdout is one) is handed to
 * the daemon, which writes the agent's events into it itself: nothing is
 * copied through the socket or dropped for a slow reader. The connection then
 * carries events only for the readable lines on stderr. A pipe or terminal
 * is not handed over (the daemon must never block on a reader): events come
 * over the connection, and what a slow reader misses is reported as `lost`. */
static int remote_register(struct remote *rm, const char *profile, pid_t pid, const char *cg,
			   int audit)
{
	char abs[PATH_MAX], err[1024];
	json_t *reply = NULL;
	struct stat st;
	int log_fd = -1;

	if (!realpath(profile, abs)) {
		am_err("exec: %s: %s", profile, strerror(errno));
		return -1;
	}
	if (rm->json && !fstat(fileno(rm->json), &st) && S_ISREG(st.st_mode))
		log_fd = fileno(rm->json);
	json_t *req = json_pack("{s:s,s:s,s:i,s:s,s:b,s:b,s:s}", "cmd", "register", "profile", abs,
				"pid", (int)pid, "cgroup", cg, "audit", audit, "log", log_fd >= 0,
				"stream", log_fd >= 0 && !rm->human ? "none" : "all");
	rm->rd.timeout_ms = 10000;
	int rc = am_ctl_call_fd(&rm->rd, req, log_fd, &reply, err, sizeof(err));
	json_decref(req);
	json_decref(reply);
	if (rc) {
		am_err("exec: register with the daemon: %s", err);
		return -1;
	}
	if (log_fd >= 0)
		rm->json = NULL;   /* the daemon writes it now */
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	struct am_exec_args a;
	char errbuf[512];
	static struct am_agent_info agent;   /* large: not on the stack */
	struct am_profile *prof = NULL;
	struct am_bpf bpf = {};
	struct am_monitor mon;
	int mon_ready = 0;
	char cgroot[4096], cgpath[4096] = "";
	FILE *jsonf = NULL;
	sigset_t mask, orig;
	int sfd = -1, ep = -1, gopipe[2] = { -1, -1 }, errpipe[2] = { -1, -1 };
	pid_t child = -1;
	int status = 0, have_status = 0, got_signal = 0, ret = AM_EXIT_FAIL, err;
	struct remote rm = { .fd = -1 };
	int remote = 0;

	if (am_exec_parse(argc, argv, &a, errbuf, sizeof(errbuf))) {
		am_err("exec: %s", errbuf);
		return AM_EXIT_USAGE;
	}
	if (a.help) {
		fputs(am_exec_usage, stdout);
		return AM_EXIT_OK;
	}
	if (a.verbose)
		am_verbose = 2;

	if (geteuid() != 0) {
		am_err("exec: permission denied: loading BPF programs and creating cgroups needs root");
		return AM_EXIT_FAIL;
	}

	memset(&agent, 0, sizeof(agent));
	agent.id = AGENT_ID;
	err = load_profile(&a, &prof);
	if (err)
		return err == -EPERM ? AM_EXIT_FAIL : AM_EXIT_USAGE;
	snprintf(agent.name, sizeof(agent.name), "%s", am_profile_name(prof));
	snprintf(agent.version, sizeof(agent.version), "%s", am_profile_version(prof));
	snprintf(agent.sha256, sizeof(agent.sha256), "%s", am_profile_sha256(prof));
	agent.profile = prof;
	agent.audit = a.audit || am_profile_mode(prof) == AM_MODE_AUDIT;

	if (a.json) {
		if (strcmp(a.json, "-") == 0) {
			jsonf = stdout;
		} else {
			jsonf = fopen(a.json, "we");
			if (!jsonf) {
				am_err("exec: --json %s: %s", a.json, strerror(errno));
				return AM_EXIT_USAGE;
			}
		}
	}

	am_bpf_setup_logging();
	err = am_cgroup2_root(cgroot, sizeof(cgroot));
	if (err) {
		am_err("exec: cgroup v2: %s", strerror(-err));
		goto out;
	}
	remote = remote_connect(&a, &rm);
	if (remote < 0)
		goto out;
	if (remote) {
		rm.json = jsonf;
		if (!a.json || (jsonf != stdout && isatty(STDERR_FILENO)))
			rm.human = stderr;
		goto make_cgroup;   /* the daemon's programs watch it */
	}
	/* The network hooks are classic syscall tracepoints: they attach
	 * through tracefs, which is not mounted everywhere. */
	err = am_ensure_tracefs();
	if (err) {
		am_err("exec: mount tracefs at /sys/kernel/tracing (syscall tracepoints need it): %s", strerror(-err));
		goto out;
	}
	if (am_bpf_load(&bpf, &(struct am_bpf_opts){ .ringbuf_bytes = a.ringbuf_bytes }))
		goto out;
	err = am_monitor_init(&mon, &bpf);
	if (err) {
		am_err("exec: event buffer: %s", strerror(-err));
		goto out;
	}
	mon_ready = 1;
	mon.json = jsonf;
	/* Readable lines on stderr unless JSON already goes to the terminal. */
	if (!a.json || (jsonf != stdout && isatty(STDERR_FILENO)))
		mon.human = stderr;

make_cgroup:;
	char leaf[256];
	snprintf(leaf, sizeof(leaf), "%.200s-%d", agent.name, (int)getpid());
	for (char *c = leaf; *c; c++)
		if (*c == '/')
			*c = '_';
	err = am_cgroup_create(cgroot, leaf, cgpath, sizeof(cgpath));
	if (err) {
		am_err("exec: create cgroup %s/agentmon/%s: %s", cgroot, leaf, strerror(-err));
		cgpath[0] = 0;
		goto out;
	}
	snprintf(agent.cgroup, sizeof(agent.cgroup), "%s", cgpath + strlen(cgroot));
	snprintf(agent.cgroup_abs, sizeof(agent.cgroup_abs), "%s", cgpath);
	am_cgroup_id(cgpath, &agent.cgroup_id);
	if (remote)
		goto start;

	err = am_bpf_agent_add(&bpf, agent.id);
	if (err) {
		am_err("exec: register agent: %s", strerror(-err));
		goto out;
	}
	am_monitor_add_agent(&mon, &agent);
	struct am_execpol_stats eps;
	err = am_execpol_install(&bpf, agent.id, prof, agent.audit, &eps);
	if (err) {
		am_err("exec: install exec policy in the kernel: %s", strerror(-err));
		goto out;
	}
	am_debug("exec policy: %u kill, %u allow entries, %u patterns matched no file, flags %#x",
		 eps.kill_entries, eps.allow_entries, eps.unexpanded, eps.flags);
	struct am_netpol_stats nps;
	err = am_netpol_install(&bpf, agent.id, prof, agent.audit, cgpath, agent.cgroup_id, &nps);
	if (err) {
		am_err("exec: install network policy in the kernel: %s", strerror(-err));
		goto out;
	}
	am_debug("network policy: %u prefixes, flags %#x, %d programs attached",
		 nps.entries, nps.flags, nps.attached);

start:
	/* Signals become events of the loop; orphans of the tree are re-parented
	 * to us (subreaper), so "no child left" means the whole tree is gone. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &orig);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe2(gopipe, O_CLOEXEC) ||
	    pipe2(errpipe, O_CLOEXEC)) {
		am_err("exec: set-up: %s", strerror(errno));
		goto out;
	}

	fflush(NULL);
	child = fork();
	if (child < 0) {
		am_err("exec: fork: %s", strerror(errno));
		goto out;
	}
	if (child == 0) {
		close(gopipe[1]);
		close(errpipe[0]);
		child_run(a.cmd, gopipe[0], errpipe[1], &orig);
	}
	close(gopipe[0]);
	gopipe[0] = -1;
	close(errpipe[1]);
	errpipe[1] = -1;

	/* Track and confine the child before it runs a single instruction of CMD. */
	agent.root_pid = child;
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);   /* the clock of the kernel's event stamps */
	agent.start_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	err = remote ? 0 : am_bpf_track(&bpf, child, agent.id, 0);
	if (!err)
		err = am_cgroup_join(cgpath, child);
	if (!err && remote && remote_register(&rm, a.profile, child, cgpath, a.audit))
		err = -ECONNREFUSED;
	if (err) {
		am_err("exec: start agent: %s", strerror(-err));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
		goto out;
	}
	if (write(gopipe[1], "g", 1) != 1) {
		am_err("exec: start agent: %s", strerror(errno));
		goto out;
	}
	close(gopipe[1]);
	gopipe[1] = -1;

	int exec_errno = 0;
	if (read(errpipe[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno))
		am_err("exec: %s: %s", a.cmd[0], strerror(exec_errno));

	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ee = { .events = EPOLLIN };
	ee.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ee);
	ee.data.fd = remote ? rm.fd : am_bpf_events_fd(&bpf);
	epoll_ctl(ep, EPOLL_CTL_ADD, ee.data.fd, &ee);

	long next_lost = mono_ms() + LOST_CHECK_MS;
	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 10);
		(void)n;
		if (remote) {
			remote_pump(&rm, 0);
			if (rm.gone && !got_signal) {
				/* never leave an unwatched agent behind */
				am_err("exec: the daemon closed the connection: killing agent %s", agent.name);
				got_signal = SIGKILL;
				am_cgroup_kill(cgpath);
			}
		} else {
			am_monitor_drain(&mon);
		}

		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD)
				continue;
			/* Told to stop: never leave an unwatched agent behind. */
			if (!got_signal)
				am_err("exec: %s: killing agent %s", strsignal(si.ssi_signo), agent.name);
			got_signal = si.ssi_signo;
			am_cgroup_kill(cgpath);
		}
		int done = 0;
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p > 0) {
				if (p == child) {
					status = st;
					have_status = 1;
				}
				continue;
			}
			if (p < 0 && errno == ECHILD)
				done = 1;
			break;
		}
		if (!remote && mono_ms() >= next_lost) {
			am_monitor_check_lost(&mon);
			next_lost = mono_ms() + LOST_CHECK_MS;
		}
		if (done)
			break;
	}
	/* Exit events precede the parent's wake-up: one last drain gets them all. */
	if (remote) {
		json_t *req = json_pack("{s:s}", "cmd", "unregister");
		if (!rm.gone && am_ctl_send(rm.fd, req) == 0) {
			long deadline = mono_ms() + 5000;
			while (!rm.ended && !rm.gone && mono_ms() < deadline)
				remote_pump(&rm, 100);
		}
		json_decref(req);
	} else {
		am_monitor_drain(&mon);
		am_monitor_check_lost(&mon);
	}

	if (exec_errno)
		ret = exec_errno == ENOENT ? 127 : 126;
	else if (got_signal)
		ret = 128 + got_signal;
	else if (have_status && WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (have_status && WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
	else
		ret = AM_EXIT_FAIL;

out:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	for (int i = 0; i < 2; i++) {
		if (gopipe[i] >= 0)
			close(gopipe[i]);
		if (errpipe[i] >= 0)
			close(errpipe[i]);
	}
	if (mon_ready)
		am_monitor_free(&mon);
	if (bpf.skel)
		am_bpf_release_in_background();
	am_bpf_destroy(&bpf);
	if (cgpath[0]) {
		err = am_cgroup_remove(cgpath);
		if (err)
			am_warn("exec: remove cgroup %s: %s", cgpath, strerror(-err));
	}
	if (rm.fd >= 0) {
		am_ctl_reader_free(&rm.rd);
		close(rm.fd);
	}
	if (jsonf && jsonf != stdout)
		fclose(jsonf);
	am_profile_free(prof);
	return ret;
}
