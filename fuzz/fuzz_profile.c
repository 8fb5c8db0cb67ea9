/* libFuzzer target: the profile loader and lint on arbitrary bytes, then a
 * few judgements on whatever loaded. Input goes through a memfd so the real
 * file path (open, fstat, size limits) is exercised. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "profile.h"

static void sink(void *arg, int is_warning, const char *where, const char *what)
{
	(void)arg, (void)is_warning;
	/* every message must be a terminated string */
	if (strlen(where) + strlen(what) > 1u << 20)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct am_profile *p = NULL;
	struct am_judgement j;
	static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 1, 2};

	if (fd < 0 && (fd = memfd_create("profile", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (am_profile_check(path, 0, 1795168800, sink, NULL, &p) == 0 && p) {
		am_judge_exec(p, "/usr/bin/python3", 5, &j);
		am_judge_file(p, "/etc/shadow", 0, 0, &j);
		am_judge_file(p, "/run/secrets/openai_key", 0, 1000000000000ULL, &j);
		am_judge_file(p, "/var/lib/x/y", 1, 0, &j);
		am_judge_connect(p, AF_INET6, v6, 443, &j);
		am_judge_listen(p, 9100, &j);
		if (strlen(am_profile_sha256(p)) != 64)
			__builtin_trap();
		am_profile_free(p);
	}
	return 0;
}
