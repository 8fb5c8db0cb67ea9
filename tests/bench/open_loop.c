/* Bench workload: open()+close() in a tight loop.
 *
 *   open_loop same     N DIR   open DIR/f N times (one file: steady state)
 *   open_loop distinct N DIR   open DIR/f0 … DIR/f<N-1>, each once (every
 *                              open is new activity: worst case)
 *   open_loop create   N DIR   create DIR/f and DIR/f0 … DIR/f<N-1> (set-up)
 *
 * An optional 4th argument DELAY_MS sleeps that long before the loop (the
 * bench stops agentmon's consumer meanwhile to time a drain of the backlog).
 * Prints "<ns per open+close> <N>". The names are formatted before the clock
 * starts so the timed loop is only the syscalls. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: open_loop same|distinct|create N DIR [DELAY_MS]\n");
		return 2;
	}
	const char *mode = argv[1], *dir = argv[3];
	long n = atol(argv[2]);
	int distinct = strcmp(mode, "same") != 0;
	int create = strcmp(mode, "create") == 0;
	size_t stride = strlen(dir) + 24;
	long names = distinct ? n : 1;
	char *buf = malloc(stride * (size_t)names);

	if (n <= 0 || !buf)
		return 2;
	for (long i = 0; i < names; i++)
		if (distinct)
			snprintf(buf + i * stride, stride, "%s/f%ld", dir, i);
		else
			snprintf(buf, stride, "%s/f", dir);
	if (create) {
		char one[4096];
		snprintf(one, sizeof(one), "%s/f", dir);
		for (long i = -1; i < n; i++) {
			const char *p = i < 0 ? one : buf + i * stride;
			int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0) {
				perror(p);
				return 1;
			}
			close(fd);
		}
		return 0;
	}

	if (argc == 5) {
		long ms = atol(argv[4]);
		struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&d, NULL);
	}
	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int fd = open(buf + (distinct ? i * stride : 0), O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("open_loop: open");
			return 1;
		}
		close(fd);
	}
	long long t1 = bench_now_ns();
	bench_report(t0, t1, n);
	return 0;
}
