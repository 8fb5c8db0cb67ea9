#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mounts.h"
#include "log.h"

/* mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
int am_find_mount(const char *mountinfo, const char *fstype, char *out, size_t outsz)
{
	FILE *f = fopen(mountinfo, "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[4096], type[256];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%255s", type) != 1 || strcmp(type, fstype) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo */
		size_t o = 0;
		for (const char *s = mnt; *s && o + 1 < outsz; s++) {
			unsigned v;
			if (s[0] == '\\' && sscanf(s + 1, "%3o", &v) == 1 && v < 256) {
				out[o++] = (char)v;
				s += 3;
			} else {
				out[o++] = *s;
			}
		}
		out[o] = 0;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int am_cgroup2_root(char *out, size_t outsz)
{
	const char *fallback = "/run/agentmon/cgroup2";
	int err = am_find_mount("/proc/self/mountinfo", "cgroup2", out, outsz);

	if (err != -ENOENT)
		return err;
	mkdir("/run/agentmon", 0700);
	if (mkdir(fallback, 0700) && errno != EEXIST)
		return -errno;
	if (mount("cgroup2", fallback, "cgroup2", 0, NULL))
		return -errno;
	am_debug("mounted cgroup2 at %s", fallback);
	snprintf(out, outsz, "%s", fallback);
	return 0;
}

int am_ensure_tracefs(void)
{
	const char *dir = "/sys/kernel/tracing";

	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", dir, "tracefs", 0, NULL))
		return -errno;
	am_debug("mounted tracefs at %s", dir);
	return 0;
}
