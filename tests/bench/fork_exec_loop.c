/* Bench workload: fork()+execve()+wait of a tiny static program in a loop.
 *
 *   fork_exec_loop same     N PROG      exec PROG N times (steady state)
 *   fork_exec_loop distinct N PREFIX    exec PREFIX0 … PREFIX<N-1> (hard links
 *                                       of the tiny program made by the
 *                                       harness: every exec is a new path)
 *
 * vfork-style semantics are not used on purpose: fork+exec is what shells
 * and agents' tool runners do. Prints "<ns per fork+exec+wait> <N>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench_common.h"

extern char **environ;

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fork_exec_loop same|distinct N PROG|PREFIX\n");
		return 2;
	}
	long n = atol(argv[2]);
	int distinct = strcmp(argv[1], "distinct") == 0;
	size_t stride = strlen(argv[3]) + 24;
	long names = distinct ? n : 1;
	char *buf = malloc(stride * (size_t)names);

	if (n <= 0 || !buf)
		return 2;
	for (long i = 0; i < names; i++)
		if (distinct)
			snprintf(buf + i * stride, stride, "%s%ld", argv[3], i);
		else
			snprintf(buf, stride, "%s", argv[3]);

	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		char *path = buf + (distinct ? i * stride : 0);
		pid_t p = fork();
		if (p < 0) {
			perror("fork_exec_loop: fork");
			return 1;
		}
		if (p == 0) {
			char *av[] = { path, NULL };
			execve(path, av, environ);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork_exec_loop: %s failed\n", path);
			return 1;
		}
	}
	long long t1 = bench_now_ns();
	bench_report(t0, t1, n);
	return 0;
}
