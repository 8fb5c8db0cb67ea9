/* Shared by the bench workloads: a monotonic clock in ns and the one output
 * line every workload prints, "<ns per iteration> <iterations>". */
#ifndef AGENTMON_BENCH_COMMON_H
#define AGENTMON_BENCH_COMMON_H

#include <stdio.h>
#include <time.h>

static inline long long bench_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline void bench_report(long long t0, long long t1, long n)
{
	printf("%.1f %ld\n", (double)(t1 - t0) / (double)n, n);
	fflush(stdout);
}

#endif
