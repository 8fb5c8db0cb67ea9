/* Bench workload: TCP connect()+accept()+close() over loopback in a loop.
 *
 *   tcp_connect_loop same     N   connect to 127.0.0.1:PORT every time
 *   tcp_connect_loop distinct N   connect to a new loopback address every
 *                                 time: 127.0.0.1, 127.0.0.2, … (worst case)
 *
 * Loopback only, by construction: the program first moves into a network
 * namespace of its own (unshare(CLONE_NEWNET), root), which has nothing but
 * `lo`; the listener binds the wildcard address of that namespace on an
 * ephemeral port, so every 127.x.y.z reaches it and nothing outside can.
 * One thread: on loopback the handshake completes inside connect(), so the
 * connection is already queued when accept() runs. The client closes with
 * SO_LINGER 0 (RST): no TIME_WAIT pile-up, every iteration takes the same
 * path. Prints "<ns per connect+accept+close> <N>". */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench_common.h"

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr))) {
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: tcp_connect_loop same|distinct N\n");
		return 2;
	}
	long n = atol(argv[2]);
	int distinct = strcmp(argv[1], "distinct") == 0;
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t al = sizeof(la);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1;

	if (n <= 0 || n > (1L << 24) - 2)
		return 2;
	if (unshare(CLONE_NEWNET) || lo_up()) {
		perror("tcp_connect_loop: private network namespace");
		return 1;
	}
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&la, sizeof(la)) || listen(ls, 128) ||
	    getsockname(ls, (struct sockaddr *)&la, &al)) {
		perror("tcp_connect_loop: listener");
		return 1;
	}

	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		struct sockaddr_in d = la;
		/* 127.0.0.1 + i: 127.0.0.1, 127.0.0.2, …, 127.0.1.0, … */
		d.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (distinct ? (uint32_t)i : 0));
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&d, sizeof(d))) {
			perror("tcp_connect_loop: connect");
			return 1;
		}
		int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0) {
			perror("tcp_connect_loop: accept");
			return 1;
		}
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
		close(s);
	}
	long long t1 = bench_now_ns();
	bench_report(t0, t1, n);
	return 0;
}
