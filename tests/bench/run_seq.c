/* Run commands one after another, each to completion:
 *   run_seq [--cpu N] CMD1 [ARG...] ';' CMD2 [ARG...] ';' ...
 * Lets one `agentmon exec` (one BPF load, one detach) cover several bench
 * workloads. Static and libc-only, so as an agent it opens nothing itself.
 * --cpu N: run the commands on CPU N only (this process and its children;
 * nothing else is pinned), so unmonitored and monitored runs of a workload
 * meet the same CPU. A command "@sleep MS" just waits (no exec).
 * Exits with the first non-zero status of a command. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--cpu") == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(atoi(argv[2]), &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("run_seq: --cpu");
			return 1;
		}
		i = 3;
	}

	while (i < argc) {
		int j = i;
		while (j < argc && strcmp(argv[j], ";") != 0)
			j++;
		argv[j < argc ? j : argc] = NULL;
		if (j > i && strcmp(argv[i], "@sleep") == 0) {
			long ms = j > i + 1 ? atol(argv[i + 1]) : 0;
			struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&d, NULL);
		} else if (j > i) {
			fflush(stdout);
			pid_t p = fork();
			if (p < 0) {
				perror("run_seq: fork");
				return 1;
			}
			if (p == 0) {
				execv(argv[i], argv + i);
				perror(argv[i]);
				_exit(127);
			}
			int st;
			if (waitpid(p, &st, 0) != p)
				return 1;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		i = j + 1;
	}
	return 0;
}
