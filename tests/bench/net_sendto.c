/* Cost of agentmon's network hooks for a process that is NOT an agent:
 * N loopback UDP sendto() calls with an explicit destination (the syscall
 * sys_exit_sendto hooks). Prints nanoseconds per call. Loopback only.
 * With "badfd" as second argument the calls go to fd -1 and fail at once
 * (EBADF): the cheapest syscall that still runs the hook, so the worst-case
 * ratio. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct timespec t0, t1;
	char b = 'x';
	int badfd = argc > 2 && strcmp(argv[2], "badfd") == 0;

	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(rx, (struct sockaddr *)&a, &al)) {
		perror("net_sendto: socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; badfd && i < n; i++)
		sendto(-1, &b, 1, 0, (struct sockaddr *)&a, sizeof(a));
	for (long i = 0; !badfd && i < n; i++) {
		if (sendto(tx, &b, 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1) {
			perror("net_sendto: sendto");
			return 1;
		}
		/* keep the receiver's queue short so every send takes the same path */
		if ((i & 63) == 63)
			while (recv(rx, &b, 1, MSG_DONTWAIT) > 0)
				;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
	return 0;
}
