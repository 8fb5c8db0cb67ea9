/* The daemon's clients: `agentmon tail`, `status`, `freeze`, `thaw`, `kill`.
 * Each connects to the control socket (docs/control-protocol.md), sends one
 * request and prints the answer. Whatever the daemon sends is untrusted
 * input: a malformed reply is "bad reply from daemon", never a crash, and
 * its text is escaped before it reaches the terminal.
 *
 * Exit: 0 success (tail: interrupted), 1 failure (daemon not running,
 * permission denied, no such agent, action failed, bad reply, connection
 * lost), 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "commands.h"
#include "ctl_client.h"
#include "event_human.h"
#include "linebuf.h"
#include "log.h"

/* How long a reply may take. Actions are confirmed before the reply (the
 * cgroup reports frozen, or empty after a kill), which can take a while. */
#define STATUS_TIMEOUT_MS  30000
#define ACTION_TIMEOUT_MS  60000
#define TARGET_MAX         4096

enum { O_JSON = 1, O_AGENT = 2, O_ALL = 4, O_TARGET = 8 };

struct args {
	const char *cmd;
	const char *socket;
	const char *agent;
	const char *target;
	bool json, all;
};

static const char tail_usage[] =
	"usage: agentmon tail [--json] [--agent NAME] [--all] [--socket PATH]\n"
	"\n"
	"Stream live events from the running daemon (agentmon run), one line per\n"
	"event: by default violations, drift, actions and lost events.\n"
	"\n"
	"      --json         JSON lines in the SPEC event format, as the daemon sends them\n"
	"      --agent NAME   only this agent's events\n"
	"      --all          every event, allowed ones too\n"
	"      --socket PATH  the daemon's control socket (default " AM_CTL_DEFAULT_SOCKET ")\n"
	"  -h, --help         this text\n"
	"\n"
	"Runs until interrupted. Exit status: 0 interrupted (SIGINT, SIGTERM),\n"
	"1 daemon not running, permission denied or connection lost, 2 bad usage.\n";

static const char status_usage[] =
	"usage: agentmon status [--json] [--socket PATH]\n"
	"\n"
	"Show the running daemon: its agents with their profile (name, version,\n"
	"sha256), mode, sessions and counters (processes, events, lost, violations,\n"
	"actions), the BPF programs attached, kernel counters and the last reload.\n"
	"\n"
	"      --json         the status object as one JSON line\n"
	"      --socket PATH  the daemon's control socket (default " AM_CTL_DEFAULT_SOCKET ")\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0 success, 1 daemon not running, permission denied or bad\n"
	"reply, 2 bad usage.\n";

static const char action_usage[] =
	"usage: agentmon %s TARGET [--socket PATH]\n"
	"\n"
	"%s\n"
	"TARGET is an agent name (all its sessions), a pid or a cgroup path\n"
	"(an agent session's cgroup or one under it). The daemon confirms the\n"
	"action before it answers; one line per session says what happened.\n"
	"\n"
	"      --socket PATH  the daemon's control socket (default " AM_CTL_DEFAULT_SOCKET ")\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0 done, 1 daemon not running, permission denied, no such\n"
	"agent or the action failed, 2 bad usage.\n";

static void print_usage(const struct args *a)
{
	if (!strcmp(a->cmd, "tail"))
		fputs(tail_usage, stdout);
	else if (!strcmp(a->cmd, "status"))
		fputs(status_usage, stdout);
	else
		printf(action_usage, a->cmd,
		       !strcmp(a->cmd, "freeze") ? "Freeze an agent's cgroup: its processes stop where they are." :
		       !strcmp(a->cmd, "thaw") ? "Thaw a frozen agent: its processes run on." :
		       "Kill an agent's whole process tree (SIGKILL).");
}

/* Profile names (user/profile.c): letters, digits, '.', '_', '-'. */
static bool agent_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || (q > s && strchr("._-", *q))))
			return false;
	return true;
}

/* 0, 1 for --help (printed), or -1 after a usage error (printed). */
static int parse(int argc, char **argv, unsigned allow, struct args *a)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"agent", required_argument, NULL, 'a'},
		{"all", no_argument, NULL, 'A'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	a->socket = AM_CTL_DEFAULT_SOCKET;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(a);
			return 1;
		case 's':
			a->socket = optarg;
			continue;
		case 'j':
			if (allow & O_JSON) {
				a->json = true;
				continue;
			}
			break;
		case 'A':
			if (allow & O_ALL) {
				a->all = true;
				continue;
			}
			break;
		case 'a':
			if (allow & O_AGENT) {
				a->agent = optarg;
				continue;
			}
			break;
		case ':':
			am_err("%s: option '%s' needs a value", a->cmd, argv[optind - 1]);
			return -1;
		}
		am_err("%s: unknown option '%s' (see agentmon %s --help)", a->cmd,
		       argv[optind - 1], a->cmd);
		return -1;
	}
	if (a->agent && !agent_name_ok(a->agent)) {
		am_err("%s: --agent: '%.64s' is not an agent name (letters, digits, '.', '_', '-')",
		       a->cmd, a->agent);
		return -1;
	}
	if (allow & O_TARGET) {
		if (optind >= argc) {
			am_err("%s: no TARGET given (usage: agentmon %s TARGET [--socket PATH])",
			       a->cmd, a->cmd);
			return -1;
		}
		a->target = argv[optind++];
		if (!*a->target || strlen(a->target) > TARGET_MAX) {
			am_err("%s: TARGET must be 1 to %d bytes", a->cmd, TARGET_MAX);
			return -1;
		}
	}
	if (optind < argc) {
		am_err("%s: unexpected argument '%s' (see agentmon %s --help)", a->cmd,
		       argv[optind], a->cmd);
		return -1;
	}
	return 0;
}

/* Connect, or print why not: bad usage (path) is 2, the rest 1. */
static int connect_or_fail(const struct args *a, int *status)
{
	char err[512];
	int fd = am_ctl_connect(a->socket, err, sizeof(err));

	if (fd >= 0)
		return fd;
	am_err("%s: %s", a->cmd, err);
	*status = fd == -EINVAL || fd == -ENAMETOOLONG ? AM_EXIT_USAGE : AM_EXIT_FAIL;
	return -1;
}

/* A closed reader (`agentmon status | head -1`) is not our failure. */
static int flush_stdout(const char *cmd)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return 0;
	am_err("%s: writing to stdout: %s", cmd, strerror(errno));
	return -1;
}

/* --- tail --- */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

int cmd_tail(int argc, char **argv)
{
	struct args a;
	struct am_ctl_reader r;
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART */
	sigset_t block, waitmask;
	char err[512], *line, *human = NULL;
	json_t *req = NULL, *reply = NULL;
	size_t len;
	int fd, rc, status = AM_EXIT_FAIL;

	rc = parse(argc, argv, O_JSON | O_AGENT | O_ALL, &a);
	if (rc)
		return rc > 0 ? AM_EXIT_OK : AM_EXIT_USAGE;

	/* SIGINT/SIGTERM end tail with 0, but only while it waits for the daemon
	 * (ppoll under waitmask): never in the middle of writing a line. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fd = connect_or_fail(&a, &status);
	if (fd < 0)
		return status;
	am_ctl_reader_init(&r, fd, AM_CTL_LINE_MAX);
	r.timeout_ms = STATUS_TIMEOUT_MS;
	r.sigmask = &waitmask;
	req = json_pack("{s:s, s:b, s:o}", "cmd", "tail", "all", a.all, "agent",
			a.agent ? json_string(a.agent) : json_null());
	human = malloc(8192);
	if (!req || !human) {
		am_err("tail: out of memory");
		goto out;
	}
	rc = am_ctl_call(&r, req, &reply, err, sizeof(err));
	if (rc) {
		if (rc == -EINTR && stop_signal)
			status = AM_EXIT_OK;
		else
			am_err("tail: %s", err);
		goto out;
	}

	/* events: longer lines than replies, and no deadline */
	r.max = AM_CTL_STREAM_MAX;
	r.timeout_ms = -1;
	for (;;) {
		rc = am_ctl_read_line(&r, &line, &len);
		if (rc == 0) {
			am_err("tail: daemon closed the connection");
			break;
		}
		if (rc == -EINTR) {
			if (!stop_signal)
				continue;
			status = AM_EXIT_OK;
			break;
		}
		if (rc == -EMSGSIZE) {
			am_err("tail: bad event from daemon: line longer than %d bytes, skipped",
			       AM_CTL_STREAM_MAX);
			continue;
		}
		if (rc < 0) {
			am_err("tail: reading from the daemon: %s", strerror(-rc));
			break;
		}
		/* even in --json mode: pass on only what a JSON reader can take */
		json_error_t je;
		json_t *ev = json_loadb(line, len, 0, &je);
		if (!json_is_object(ev)) {
			struct am_line l;
			am_line_init(&l, human, 8192);
			am_line_put_max(&l, je.text, 200);
			am_err("tail: bad event from daemon: %s, skipped",
			       ev ? "not a JSON object" : human);
			json_decref(ev);
			continue;
		}
		if (a.json) {
			fwrite(line, 1, len, stdout);
			putchar('\n');
		} else {
			am_event_human(ev, human, 8192);
			puts(human);
		}
		json_decref(ev);
		if (fflush(stdout) || ferror(stdout)) {
			if (errno == EPIPE)	/* `agentmon tail | head`: done */
				status = AM_EXIT_OK;
			else
				am_err("tail: writing to stdout: %s", strerror(errno));
			break;
		}
	}
out:
	free(human);
	json_decref(req);
	json_decref(reply);
	am_ctl_reader_free(&r);
	close(fd);
	return status;
}

/* --- status --- */

/* An escaped, bounded copy of o[k] for printing; dflt if not a string. */
static const char *fstr(const json_t *o, const char *k, size_t max, char *buf, size_t sz,
			const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	struct am_line l;

	am_line_init(&l, buf, sz);
	if (!s)
		return dflt;
	am_line_put_max(&l, s, max);
	return buf;
}

static const char *fnum(const json_t *o, const char *k, char *buf, size_t sz)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
	return buf;
}

static void print_uptime(long long s)
{
	if (s < 0)
		printf("?");
	else if (s < 60)
		printf("%llds", s);
	else if (s < 3600)
		printf("%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		printf("%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		printf("%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* Structure the printer relies on; leaves that are missing print as "-". */
static const char *status_shape(const json_t *st)
{
	const json_t *v, *ag;
	size_t i;

	if (!json_is_object(st))
		return "no \"status\" object";
	v = json_object_get(st, "agents");
	if (v && !json_is_array(v))
		return "\"agents\" is not an array";
	json_array_foreach(v, i, ag)
		if (!json_is_object(ag))
			return "an agent is not an object";
	v = json_object_get(st, "programs");
	if (v && !json_is_array(v))
		return "\"programs\" is not an array";
	return NULL;
}

#define F 256

static void print_daemon(const json_t *st)
{
	const json_t *rl = json_object_get(st, "reload"), *k = json_object_get(st, "kernel");
	const json_t *v, *e;
	const char *key;
	char b1[F], b2[F], b3[F];
	size_t i;

	printf("daemon:    pid %s, agentmon %s on %s", fnum(st, "pid", b1, F),
	       fstr(st, "version", 32, b2, F, "?"), fstr(st, "host", 64, b3, F, "?"));
	v = json_object_get(st, "uptime_s");
	if (json_is_integer(v)) {
		printf(", up ");
		print_uptime(json_integer_value(v));
	}
	if (json_is_string(json_object_get(st, "started")))
		printf(" (since %s)", fstr(st, "started", 64, b1, F, ""));
	printf("\nsocket:    %s\n", fstr(st, "socket", 200, b1, F, "-"));
	printf("profiles:  %s\n", fstr(st, "profiles_dir", 200, b1, F, "-"));
	printf("json log:  %s\n", fstr(st, "json_log", 200, b1, F, "-"));
	if (json_is_object(rl)) {
		v = json_object_get(rl, "ok");
		printf("reloads:   %s", fnum(rl, "count", b1, F));
		if (json_is_string(json_object_get(rl, "last")))
			printf(", last %s", fstr(rl, "last", 64, b1, F, ""));
		printf("%s\n", json_is_false(v) ? ": failed" : json_is_true(v) ? ": ok" : "");
		json_array_foreach(json_object_get(rl, "errors"), i, e) {
			struct am_line l;
			am_line_init(&l, b1, F);
			am_line_put(&l, json_string_value(e) ? json_string_value(e) : "?");
			printf("           %s\n", b1);
		}
	}
	if (json_is_integer(json_object_get(st, "clients")))
		printf("clients:   %s\n", fnum(st, "clients", b1, F));
	if (json_is_object(k)) {
		const char *sep = "";
		printf("kernel:    ");
		json_object_foreach((json_t *)k, key, v) {
			struct am_line l;
			if (!json_is_integer(v))
				continue;
			am_line_init(&l, b1, F);
			am_line_put_max(&l, key, 64);
			printf("%s%s %lld", sep, b1, (long long)json_integer_value(v));
			sep = ", ";
		}
		printf("\n");
	}
}

static void print_programs(const json_t *progs)
{
	size_t i, n = json_array_size(progs), on = 0;
	const json_t *p;
	char b[F];

	if (!progs)
		return;
	json_array_foreach(progs, i, p)
		on += json_is_true(json_object_get(p, "attached"));
	printf("programs:  %zu of %zu attached", on, n);
	for (int want = 1; want >= 0; want--) {
		const char *sep = want ? ": " : "\n           not attached: ";
		if (!want && on == n)
			break;
		json_array_foreach(progs, i, p) {
			if (json_is_true(json_object_get(p, "attached")) != want)
				continue;
			printf("%s%s", sep, fstr(p, "name", 64, b, F, "?"));
			sep = ", ";
		}
	}
	printf("\n");
}

enum { C_NAME, C_VERSION, C_SHA, C_MODE, C_PROCS, C_EVENTS, C_LOST, C_VIOL, C_ACTIONS, C_N };

static const char *const col_names[C_N] = {
	"AGENT", "VERSION", "SHA256", "MODE", "PROCS", "EVENTS", "LOST", "VIOLATIONS", "ACTIONS",
};

typedef char row_t[C_N][80];

static void agent_row(const json_t *ag, row_t row)
{
	const json_t *prof = json_object_get(ag, "profile");
	const char *sha = json_string_value(json_object_get(prof, "sha256"));
	static const char *const counters[] = {
		[C_PROCS] = "processes", [C_EVENTS] = "events", [C_LOST] = "lost",
		[C_VIOL] = "violations", [C_ACTIONS] = "actions",
	};
	struct am_line l;

	fstr(ag, "name", 32, row[C_NAME], sizeof(row[0]), "?");
	if (row[C_NAME][0] == 0)
		strcpy(row[C_NAME], "?");
	if (!fstr(prof, "version", 16, row[C_VERSION], sizeof(row[0]), NULL))
		strcpy(row[C_VERSION], "-");
	am_line_init(&l, row[C_SHA], sizeof(row[0]));
	/* 12 hex digits tell releases apart; the full hash is in --json */
	am_line_putn(&l, sha ? sha : "-", sha ? strnlen(sha, 12) : 1);
	if (!fstr(ag, "mode", 16, row[C_MODE], sizeof(row[0]), NULL))
		strcpy(row[C_MODE], "-");
	for (int c = C_PROCS; c < C_N; c++) {
		const char *s = fnum(ag, counters[c], row[c], sizeof(row[0]));
		if (s != row[c])
			strcpy(row[c], s);
	}
}

static void print_sessions(const json_t *ag)
{
	const json_t *s;
	const char *src = json_string_value(json_object_get(ag, "source"));
	char b1[F], b2[F];
	size_t i;

	if (json_is_true(json_object_get(ag, "retired")))
		printf("  retired: its profile was removed; running processes keep it\n");
	if (src && strcmp(src, "profile") != 0)
		printf("  source: %s\n", fstr(ag, "source", 32, b1, F, ""));
	json_array_foreach(json_object_get(ag, "sessions"), i, s)
		printf("  session pid %s cgroup %s%s\n", fnum(s, "pid", b1, F),
		       fstr(s, "cgroup", 200, b2, F, "-"),
		       json_is_true(json_object_get(s, "frozen")) ? " (frozen)" : "");
}

static int print_agents(const json_t *agents)
{
	size_t n = json_array_size(agents), i;
	int w[C_N];
	row_t *rows;
	const json_t *ag;

	printf("\n");
	if (n == 0) {
		printf("agents:    none\n");
		return 0;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (int c = 0; c < C_N; c++)
		w[c] = (int)strlen(col_names[c]);
	json_array_foreach(agents, i, ag) {
		agent_row(ag, rows[i]);
		for (int c = 0; c < C_N; c++)
			if ((int)strlen(rows[i][c]) > w[c])
				w[c] = (int)strlen(rows[i][c]);
	}
	for (int c = 0; c < C_N; c++)
		printf(c < C_PROCS ? "%-*s  " : c + 1 < C_N ? "%*s  " : "%*s\n", w[c], col_names[c]);
	json_array_foreach(agents, i, ag) {
		for (int c = 0; c < C_N; c++)
			printf(c < C_PROCS ? "%-*s  " : c + 1 < C_N ? "%*s  " : "%*s\n", w[c], rows[i][c]);
		print_sessions(ag);
	}
	free(rows);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct args a;
	struct am_ctl_reader r;
	char err[512];
	json_t *req, *reply = NULL, *st;
	const char *bad;
	int fd, rc, status = AM_EXIT_FAIL;

	rc = parse(argc, argv, O_JSON, &a);
	if (rc)
		return rc > 0 ? AM_EXIT_OK : AM_EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	fd = connect_or_fail(&a, &status);
	if (fd < 0)
		return status;
	am_ctl_reader_init(&r, fd, AM_CTL_LINE_MAX);
	r.timeout_ms = STATUS_TIMEOUT_MS;
	req = json_pack("{s:s}", "cmd", "status");
	rc = req ? am_ctl_call(&r, req, &reply, err, sizeof(err)) : -ENOMEM;
	if (rc) {
		am_err("status: %s", rc == -ENOMEM ? "out of memory" : err);
		goto out;
	}
	st = json_object_get(reply, "status");
	bad = status_shape(st);
	if (bad) {
		am_err("status: bad reply from daemon: %s", bad);
		goto out;
	}
	if (a.json) {
		char *s = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!s) {
			am_err("status: out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else {
		print_daemon(st);
		print_programs(json_object_get(st, "programs"));
		if (print_agents(json_object_get(st, "agents"))) {
			am_err("status: out of memory");
			goto out;
		}
	}
	if (flush_stdout("status") == 0)
		status = AM_EXIT_OK;
out:
	json_decref(req);
	json_decref(reply);
	am_ctl_reader_free(&r);
	close(fd);
	return status;
}

/* --- freeze, thaw, kill --- */

/* "support-bot pid 4200 /agentmon/support-bot-4200: frozen" */
static void print_result(const json_t *res)
{
	char b1[F], b2[F], b3[F];
	const char *cg = fstr(res, "cgroup", 200, b3, F, NULL);

	printf("%s", fstr(res, "agent", 64, b1, F, "?"));
	if (json_is_integer(json_object_get(res, "pid")))
		printf(" pid %s", fnum(res, "pid", b2, F));
	if (cg)
		printf(" %s", cg);
	printf(": %s\n", fstr(res, "outcome", 200, b1, F, "?"));
}

static int cmd_action(int argc, char **argv)
{
	struct args a;
	struct am_ctl_reader r;
	char err[512];
	json_t *req, *reply = NULL, *results;
	const json_t *res;
	size_t i;
	int fd, rc, status = AM_EXIT_FAIL;

	rc = parse(argc, argv, O_TARGET, &a);
	if (rc)
		return rc > 0 ? AM_EXIT_OK : AM_EXIT_USAGE;
	req = json_pack("{s:s, s:s}", "cmd", a.cmd, "target", a.target);
	if (!req) {	/* the only way json_pack fails here: TARGET not UTF-8 */
		am_err("%s: TARGET is not valid UTF-8", a.cmd);
		return AM_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = connect_or_fail(&a, &status);
	if (fd < 0) {
		json_decref(req);
		return status;
	}
	am_ctl_reader_init(&r, fd, AM_CTL_LINE_MAX);
	r.timeout_ms = ACTION_TIMEOUT_MS;
	rc = am_ctl_call(&r, req, &reply, err, sizeof(err));
	results = json_object_get(reply, "results");
	if (rc == 0 && !json_is_array(results)) {
		am_err("%s: bad reply from daemon: no \"results\" array", a.cmd);
		goto out;
	}
	/* a partly failed action still lists what happened to every session */
	json_array_foreach(results, i, res)
		print_result(res);
	if (flush_stdout(a.cmd) == 0 && rc == 0)
		status = AM_EXIT_OK;
	if (rc)
		am_err("%s: %s", a.cmd, err);
out:
	json_decref(req);
	json_decref(reply);
	am_ctl_reader_free(&r);
	close(fd);
	return status;
}

int cmd_freeze(int argc, char **argv) { return cmd_action(argc, argv); }
int cmd_thaw(int argc, char **argv) { return cmd_action(argc, argv); }
int cmd_kill(int argc, char **argv) { return cmd_action(argc, argv); }
