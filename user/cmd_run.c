/* agentmon run: the daemon. Loads the BPF programs once, watches every
 * process a profile matches, enforces, and serves the control socket. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "agentmon.skel.h"
#include "cgroup.h"
#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "mounts.h"
#include "netpol.h"

#define DEFAULT_PROFILES "/etc/agentmon/profiles.d"
#define DEFAULT_SOCKET   "/run/agentmon/agentmon.sock"
#define LOST_CHECK_MS    100
#define MATCH_CHECK_MS   1000

static const char usage[] =
	"usage: agentmon run [--profiles DIR] [--json FILE] [--socket PATH] [-v]\n"
	"\n"
	"The daemon: load the BPF programs once, watch every process that a profile\n"
	"in DIR matches (exe, uid, cgroup; from its exec on, with its descendants, and\n"
	"those already running at start), enforce each profile's response, and serve\n"
	"the control socket for tail, status, freeze, thaw, kill and agentmon exec.\n"
	"\n"
	"  -d, --profiles DIR     profiles to load (default " DEFAULT_PROFILES ")\n"
	"  -j, --json FILE        append events as JSON lines to FILE ('-': stdout)\n"
	"  -s, --socket PATH      control socket (default " DEFAULT_SOCKET ")\n"
	"      --ringbuf-size N   kernel event buffer in bytes (power of two)\n"
	"  -v, --verbose          debug output\n"
	"  -h, --help             this text\n"
	"\n"
	"Signals: SIGHUP reloads the profiles (an invalid one is rejected with the\n"
	"reason and the one in force stays) and reopens the JSON file; SIGTERM or\n"
	"SIGINT detach and exit 0. Violations and actions are also logged to stderr.\n"
	"Profiles and their directory must be owned by root and not writable by others.\n";

enum { OPT_RINGBUF = 256 };

static int tag_sig, tag_rb;   /* epoll data.ptr of the non-client fds */

static long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static int open_json(struct am_daemon *d)
{
	if (!d->json_path)
		return 0;
	if (!strcmp(d->json_path, "-")) {
		d->json = stdout;
		return 0;
	}
	FILE *f = fopen(d->json_path, "ae");
	if (!f)
		return -errno;
	if (d->json && d->json != stdout)
		fclose(d->json);
	d->json = f;
	return 0;
}

static void reload(struct am_daemon *d)
{
	/* what the kernel queued so far is judged under the profiles it met */
	am_monitor_drain(&d->mon);
	int errors = am_daemon_load_profiles(d, 0);
	d->reloads++;
	int e = open_json(d);
	if (e)
		am_err("run: reopen --json %s: %s (still writing to the old file)", d->json_path, strerror(-e));
	d->mon.json = d->json;
	int n = 0;
	for (struct am_dagent *a = d->agents; a; a = a->next)
		n += !a->retired;
	am_warn("run: reloaded profiles: %d agents, %d errors", n, errors);
}

/* Sessions whose cgroup emptied, agents whose profile left and that have
 * nothing running any more. */
static void sweep(struct am_daemon *d)
{
	struct am_dagent *next;
	for (struct am_dagent *a = d->agents; a; a = next) {
		next = a->next;
		struct am_session **pp = &a->sessions;
		while (*pp) {
			struct am_session *s = *pp;
			/* an unreadable (removed) cgroup has nobody left in it either */
			int gone = s->own ? am_cgroup_populated(s->cgroup_abs) <= 0
					  : kill((pid_t)s->root_pid, 0) != 0 && errno == ESRCH;
			if (!gone) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			if (s->own)
				am_cgroup_remove(s->cgroup_abs);
			free(s);
		}
		if (a->source == AM_SRC_PROFILE && a->retired && !a->sessions)
			am_daemon_remove(d, a);
	}
}

static int wants_stream(struct am_daemon *d)
{
	for (struct am_ctl_client *c = d->srv.clients; c; c = c->next)
		if (!c->dead && (c->tail || c->reg_agent))
			return 1;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profiles", required_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct am_daemon d;    /* large: not on the stack */
	const char *profiles = DEFAULT_PROFILES, *sock = DEFAULT_SOCKET;
	uint32_t ringbuf = 0;
	int c, ret = AM_EXIT_FAIL, mon_ready = 0, sfd = -1, err;
	char errbuf[512];

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+d:j:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': profiles = optarg; break;
		case 'j': d.json_path = optarg; break;
		case 's': sock = optarg; break;
		case 'v': am_verbose = 2; break;
		case 'h': fputs(usage, stdout); return AM_EXIT_OK;
		case OPT_RINGBUF: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 0);
			if (*end || v < 4096 || v > (1ul << 30) || (v & (v - 1))) {
				am_err("run: --ringbuf-size %s: a power of two from 4096 to 1 GiB", optarg);
				return AM_EXIT_USAGE;
			}
			ringbuf = (uint32_t)v;
			break;
		}
		default:
			am_err("run: unknown or incomplete option '%s' (see agentmon run --help)",
			       argv[optind - 1]);
			return AM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		am_err("run: unexpected argument '%s' (see agentmon run --help)", argv[optind]);
		return AM_EXIT_USAGE;
	}
	if (strlen(profiles) >= sizeof(d.profiles_dir) || strlen(sock) >= sizeof(d.socket_path)) {
		am_err("run: %s: path too long", strlen(profiles) >= sizeof(d.profiles_dir) ? profiles : sock);
		return AM_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		am_err("run: permission denied: the daemon loads BPF programs and needs root");
		return AM_EXIT_FAIL;
	}
	struct stat pst;
	if (stat(profiles, &pst) || !S_ISDIR(pst.st_mode)) {
		am_err("run: profiles directory %s: %s", profiles,
		       stat(profiles, &pst) ? strerror(errno) : "not a directory");
		return AM_EXIT_FAIL;
	}
	snprintf(d.profiles_dir, sizeof(d.profiles_dir), "%s", profiles);
	snprintf(d.socket_path, sizeof(d.socket_path), "%s", sock);
	d.profile_flags = AM_PROFILE_STRICT_OWNER;
	d.next_id = 1;
	d.epfd = -1;
	d.srv.lfd = -1;
	d.reload_errors = json_array();
	if (open_json(&d)) {
		am_err("run: --json %s: %s", d.json_path, strerror(errno));
		return AM_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);

	am_bpf_setup_logging();
	err = am_cgroup2_root(d.cgroot, sizeof(d.cgroot));
	if (err) {
		am_err("run: cgroup v2: %s", strerror(-err));
		goto out;
	}
	err = am_ensure_tracefs();
	if (err) {
		am_err("run: mount tracefs at /sys/kernel/tracing (syscall tracepoints need it): %s",
		       strerror(-err));
		goto out;
	}
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0) {
		am_err("run: epoll: %s", strerror(errno));
		goto out;
	}
	/* The socket before the programs: a second daemon stops here, cheaply. */
	err = am_ctl_listen(&d.srv, d.socket_path, d.epfd, errbuf, sizeof(errbuf));
	if (err) {
		am_err("run: control socket: %s", errbuf);
		goto out;
	}
	d.srv.on_request = am_daemon_on_request;
	d.srv.on_close = am_daemon_on_close;
	d.srv.ctx = &d;
	d.srv.host = d.mon.host;

	if (am_bpf_load(&d.bpf, &(struct am_bpf_opts){ .ringbuf_bytes = ringbuf }))
		goto out;
	err = am_netpol_attach(&d.bpf, d.cgroot, &d.programs_attached);
	if (err)
		goto out;
	err = am_monitor_init(&d.mon, &d.bpf);
	if (err) {
		am_err("run: event buffer: %s", strerror(-err));
		goto out;
	}
	mon_ready = 1;
	d.mon.json = d.json;
	d.mon.human = stderr;
	d.mon.human_notable_only = 1;
	d.mon.on_proc = am_daemon_on_proc;
	d.mon.where_of = am_daemon_where_of;
	d.mon.proc_ctx = &d;
	d.mon.sink_ctx = &d;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	d.started_real_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct epoll_event ee = { .events = EPOLLIN, .data.ptr = &tag_sig };
	if (sfd < 0 || epoll_ctl(d.epfd, EPOLL_CTL_ADD, sfd, &ee)) {
		am_err("run: signals: %s", strerror(errno));
		goto out;
	}
	ee.data.ptr = &tag_rb;
	if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, am_bpf_events_fd(&d.bpf), &ee)) {
		am_err("run: epoll: %s", strerror(errno));
		goto out;
	}

	int errors = am_daemon_load_profiles(&d, 1);
	int nagents = 0;
	for (struct am_dagent *a = d.agents; a; a = a->next)
		nagents++;
	am_warn("run: watching %d agents (%d profile errors), %d BPF programs attached; socket %s",
		nagents, errors, d.bpf.skel->skeleton->prog_cnt, d.socket_path);

	long next_lost = mono_ms() + LOST_CHECK_MS, next_match = mono_ms() + MATCH_CHECK_MS;
	int stop = 0;
	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(d.epfd, evs, 64, 10);
		d.mon.sink = wants_stream(&d) ? am_daemon_sink : NULL;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_rb)
				continue;   /* drained below, every turn */
			if (evs[i].data.ptr != &tag_sig) {
				am_ctl_event(&d.srv, evs[i].data.ptr, evs[i].events);
				continue;
			}
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload(&d);
				else
					stop = 1;
			}
		}
		d.mon.sink = wants_stream(&d) ? am_daemon_sink : NULL;
		am_monitor_drain(&d.mon);
		long t = mono_ms();
		if (t >= next_lost) {
			am_monitor_check_lost(&d.mon);
			next_lost = t + LOST_CHECK_MS;
		}
		if (t >= next_match) {
			am_daemon_refresh_match(&d, 0);
			sweep(&d);
			next_match = t + MATCH_CHECK_MS;
		}
		am_daemon_flush_clients(&d);
		am_ctl_reap(&d.srv);
	}
	/* what is queued still gets out */
	am_monitor_drain(&d.mon);
	am_monitor_check_lost(&d.mon);
	am_daemon_flush_clients(&d);
	am_warn("run: stopping");
	ret = AM_EXIT_OK;
out:
	am_ctl_close_all(&d.srv);
	if (sfd >= 0)
		close(sfd);
	if (mon_ready)
		am_monitor_free(&d.mon);
	am_daemon_free_agents(&d);
	if (d.bpf.skel)
		am_bpf_release_in_background();
	am_bpf_destroy(&d.bpf);
	if (d.epfd >= 0)
		close(d.epfd);
	if (d.json && d.json != stdout)
		fclose(d.json);
	json_decref(d.reload_errors);
	return ret;
}
