/* Bench workload: N getppid() calls, a syscall agentmon does not hook.
 * What it pays with agentmon loaded is the price of syscall tracepoints as
 * such: while any is attached, every thread of the host takes the kernel's
 * slower syscall entry/exit path. Prints "<ns per call> <N>". */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bench_common.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;

	if (n <= 0)
		return 2;
	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);   /* not the libc wrapper: no caching */
	long long t1 = bench_now_ns();
	bench_report(t0, t1, n);
	return 0;
}
