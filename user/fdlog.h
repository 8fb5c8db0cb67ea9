/* Lines appended to a file descriptor through a buffer: one write(2) per
 * batch of events, not per event. The daemon writes a registered agent's
 * events this way into the --json file its `agentmon exec` handed over. */
#ifndef AGENTMON_FDLOG_H
#define AGENTMON_FDLOG_H

#include <stddef.h>
#include <stdint.h>

#define AM_FDLOG_BUF (64u << 10)

struct am_fdlog {
	int fd;
	char *buf;
	size_t len;
	uint64_t lines;           /* lines accepted */
	uint64_t errors;          /* lines that could not be written */
	int last_errno;
};

/* Take ownership of fd. NULL if out of memory (fd is then left open). */
struct am_fdlog *am_fdlog_open(int fd);
/* Append one line of n bytes and a newline. */
void am_fdlog_line(struct am_fdlog *l, const char *s, size_t n);
/* Write out what is buffered. 0 or -errno of the first failed write. */
int am_fdlog_flush(struct am_fdlog *l);
/* Flush, close and free; NULL is a no-op. */
void am_fdlog_close(struct am_fdlog *l);

#endif
