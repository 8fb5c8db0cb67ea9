/* Bench agent: wait for a byte on stdin, write CLOCK_MONOTONIC (ns) to the
 * file argv[1], then commit the violation (create argv[2]) and wait to be
 * frozen or killed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char go, buf[32];
	struct timespec t;
	int fd;

	if (argc != 3 || read(0, &go, 1) != 1)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	clock_gettime(CLOCK_MONOTONIC, &t);
	snprintf(buf, sizeof(buf), "%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
	if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
		return 2;
	close(fd);
	close(open(argv[2], O_WRONLY | O_CREAT, 0644));   /* the violation */
	for (;;)
		pause();
}
