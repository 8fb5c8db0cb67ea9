#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fdlog.h"

struct am_fdlog *am_fdlog_open(int fd)
{
	struct am_fdlog *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->buf = malloc(AM_FDLOG_BUF);
	if (!l->buf) {
		free(l);
		return NULL;
	}
	l->fd = fd;
	return l;
}

/* Whole lines only: on a failed write the rest of the batch is counted lost,
 * never half-written (a partial write is retried until it completes or fails). */
static int write_all(struct am_fdlog *l, const char *s, size_t n, uint64_t lines)
{
	while (n) {
		ssize_t w = write(l->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			l->last_errno = w < 0 ? errno : EIO;
			l->errors += lines;
			return -l->last_errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint64_t count_lines(const char *s, size_t n)
{
	uint64_t k = 0;
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + n - p))); p++)
		k++;
	return k;
}

int am_fdlog_flush(struct am_fdlog *l)
{
	if (!l || !l->len)
		return 0;
	int err = write_all(l, l->buf, l->len, 0);
	if (err)
		l->errors += count_lines(l->buf, l->len);
	l->len = 0;
	return err;
}

void am_fdlog_line(struct am_fdlog *l, const char *s, size_t n)
{
	l->lines++;
	if (l->len + n + 1 > AM_FDLOG_BUF)
		am_fdlog_flush(l);
	if (n + 1 > AM_FDLOG_BUF) {        /* longer than the buffer: straight out */
		if (!write_all(l, s, n, 1))
			write_all(l, "\n", 1, 1);
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->buf[l->len + n] = '\n';
	l->len += n + 1;
}

void am_fdlog_close(struct am_fdlog *l)
{
	if (!l)
		return;
	am_fdlog_flush(l);
	close(l->fd);
	free(l->buf);
	free(l);
}
