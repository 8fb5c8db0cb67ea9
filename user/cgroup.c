#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"

static int write_file(const char *dir, const char *name, const char *val)
{
	char p[4096];
	int fd, err = 0;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Value of `key` in a "key value" file such as cgroup.events; -errno. */
static int read_key(const char *dir, const char *file, const char *key, long *val)
{
	char p[4096], line[256];
	FILE *f;
	int err = -ENOENT;
	size_t kl = strlen(key);

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			*val = strtol(line + kl + 1, NULL, 10);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int am_cgroup_create(const char *root, const char *leaf, char *out, size_t outsz)
{
	char parent[4096];

	if (snprintf(parent, sizeof(parent), "%s/agentmon", root) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	if (mkdir(parent, 0755) && errno != EEXIST)
		return -errno;
	if (snprintf(out, outsz, "%s/%s", parent, leaf) >= (int)outsz)
		return -ENAMETOOLONG;
	if (mkdir(out, 0755))
		return -errno;
	return 0;
}

int am_cgroup_id(const char *path, uint64_t *id)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

int am_cgroup_join(const char *path, pid_t pid)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	return write_file(path, "cgroup.procs", v);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int am_cgroup_freeze(const char *path, int freeze, int timeout_ms)
{
	char ev[4096];
	long v, deadline = now_ms() + timeout_ms;
	int err, fd;

	err = write_file(path, "cgroup.freeze", freeze ? "1" : "0");
	if (err)
		return err;
	/* cgroup.events raises POLLPRI when it changes: wait on it, not a sleep loop. */
	snprintf(ev, sizeof(ev), "%s/cgroup.events", path);
	fd = open(ev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		err = read_key(path, "cgroup.events", "frozen", &v);
		if (err || v == !!freeze)
			break;
		long left = deadline - now_ms();
		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		char tmp[256];
		if (pread(fd, tmp, sizeof(tmp), 0) < 0) {
			err = -errno;
			break;
		}
		poll(&pfd, 1, left > 50 ? 50 : (int)left);
	}
	close(fd);
	return err;
}

int am_cgroup_kill(const char *path)
{
	int err = write_file(path, "cgroup.kill", "1");
	if (err != -ENOENT)
		return err;
	/* Kernels before 5.14 have no cgroup.kill: signal every member. */
	char p[4096];
	FILE *f;
	int pid;
	snprintf(p, sizeof(p), "%s/cgroup.procs", path);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	fclose(f);
	return 0;
}

int am_cgroup_populated(const char *path)
{
	long v;
	int err = read_key(path, "cgroup.events", "populated", &v);
	return err ? err : (v != 0);
}

int am_cgroup_frozen(const char *path)
{
	long v;
	int err = read_key(path, "cgroup.events", "frozen", &v);
	return err ? err : (v != 0);
}

int am_cgroup_remove(const char *path)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}
