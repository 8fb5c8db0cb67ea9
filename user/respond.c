#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include "cgroup.h"
#include "respond.h"

#define CONFIRM_MS 2000

/* State letter of /proc/PID/stat, 0 if the process is gone. */
static char proc_state(pid_t pid)
{
	char p[64], buf[512];
	FILE *f;
	char st = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		char *e = strrchr(buf, ')');  /* comm may contain spaces and ')' */
		if (e && e[1] == ' ')
			st = e[2];
	}
	fclose(f);
	return st;
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static int do_stop(pid_t pid, char *out, size_t sz)
{
	if (kill(pid, SIGSTOP)) {
		snprintf(out, sz, "failed: SIGSTOP: %s", strerror(errno));
		return -errno;
	}
	long deadline = now_ms() + CONFIRM_MS;
	for (;;) {
		char st = proc_state(pid);
		if (st == 'T' || st == 't') {
			snprintf(out, sz, "stopped");
			return 0;
		}
		if (st == 0 || st == 'Z' || st == 'X') {
			snprintf(out, sz, "failed: process exited");
			return -ESRCH;
		}
		if (now_ms() > deadline) {
			snprintf(out, sz, "failed: not stopped after %d ms", CONFIRM_MS);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, 1);
	}
}

static int do_kill(const char *cg, char *out, size_t sz)
{
	int err = am_cgroup_kill(cg);
	if (err) {
		snprintf(out, sz, "failed: cgroup.kill: %s", strerror(-err));
		return err;
	}
	/* confirmed when the cgroup has no process left */
	long deadline = now_ms() + CONFIRM_MS;
	for (;;) {
		int pop = am_cgroup_populated(cg);
		if (pop == 0) {
			snprintf(out, sz, "killed");
			return 0;
		}
		if (pop < 0) {
			snprintf(out, sz, "failed: cgroup.events: %s", strerror(-pop));
			return pop;
		}
		if (now_ms() > deadline) {
			snprintf(out, sz, "failed: processes left after %d ms", CONFIRM_MS);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, 1);
	}
}

int am_respond(enum am_action act, pid_t pid, const char *cg, char *out, size_t sz)
{
	int err;

	switch (act) {
	case AM_ACT_NONE:
		out[0] = 0;
		return 0;
	case AM_ACT_ALERT:
		snprintf(out, sz, "alerted");
		return 0;
	case AM_ACT_STOP:
		return do_stop(pid, out, sz);
	case AM_ACT_FREEZE:
		if (!cg || !cg[0]) {
			snprintf(out, sz, "failed: agent has no cgroup");
			return -ENOENT;
		}
		err = am_cgroup_freeze(cg, 1, CONFIRM_MS);
		if (err)
			snprintf(out, sz, "failed: cgroup.freeze: %s", strerror(-err));
		else
			snprintf(out, sz, "frozen");
		return err;
	case AM_ACT_KILL:
		if (!cg || !cg[0]) {
			if (kill(pid, SIGKILL)) {
				snprintf(out, sz, "failed: SIGKILL: %s", strerror(errno));
				return -errno;
			}
			snprintf(out, sz, "killed");
			return 0;
		}
		return do_kill(cg, out, sz);
	}
	snprintf(out, sz, "failed: unknown action");
	return -EINVAL;
}
