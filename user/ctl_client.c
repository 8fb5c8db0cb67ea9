#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "ctl_client.h"
#include "linebuf.h"

/* How long connect() waits when the daemon's backlog is full, and send()
 * when the daemon does not read: a hung daemon must not hang its clients. */
#define CONNECT_TIMEOUT_S 10

int am_ctl_connect(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	size_t n = strlen(path);
	int fd, e;

	if (n == 0) {
		snprintf(err, errsz, "--socket: the path is empty");
		return -EINVAL;
	}
	if (n >= sizeof(a.sun_path)) {
		snprintf(err, errsz, "--socket: path too long (%zu bytes, at most %zu)", n,
			 sizeof(a.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, path, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errsz, "socket: %s", strerror(e));
		return -e;
	}
	/* unix connect() and send() wait at most SO_SNDTIMEO */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	e = errno;
	close(fd);
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		snprintf(err, errsz, "daemon not running at %s (connect: %s)", path, strerror(e));
		break;
	case EACCES:
	case EPERM:
		snprintf(err, errsz, "permission denied: the control socket %s is root-only", path);
		break;
	case EAGAIN:
		snprintf(err, errsz, "daemon at %s does not accept connections (waited %d s)",
			 path, CONNECT_TIMEOUT_S);
		break;
	default:
		snprintf(err, errsz, "%s: connect: %s", path, strerror(e));
	}
	return -e;
}

int am_ctl_send(int fd, const json_t *req)
{
	return am_ctl_send_fd(fd, req, -1);
}

/* One sendmsg with the descriptor attached to the first byte of the line. */
static ssize_t send_first(int fd, const char *s, size_t n, int pass_fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)s, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

int am_ctl_send_fd(int fd, const json_t *req, int pass_fd)
{
	char *s = json_dumps(req, JSON_COMPACT);
	size_t n, off = 0;
	int ret = 0;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n > AM_CTL_LINE_MAX) {
		free(s);
		return -EMSGSIZE;
	}
	/* json_dumps escapes newlines in strings: this is the only one */
	s[n++] = '\n';		/* replaces the NUL; n is what is sent */
	while (off < n) {
		ssize_t w = off == 0 ? send_first(fd, s, n, pass_fd)
				     : send(fd, s + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		off += (size_t)w;
	}
	free(s);
	return ret;
}

void am_ctl_reader_init(struct am_ctl_reader *r, int fd, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max;
	r->timeout_ms = -1;
}

void am_ctl_reader_free(struct am_ctl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = r->scan = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for input until deadline (< 0: none), letting signals in only here. */
static int wait_input(struct am_ctl_reader *r, int64_t deadline)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;

	if (deadline >= 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		tsp = &ts;
	}
	int n = ppoll(&p, 1, tsp, r->sigmask);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* Room to read into; the buffer grows to at most max + 1 bytes (a longest
 * line and its '\n'), plus one for the NUL of a last unterminated line. */
static int make_room(struct am_ctl_reader *r)
{
	size_t cap;
	char *b;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->end < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 4096;
	if (cap > r->max + 1)
		cap = r->max + 1;
	if (cap <= r->cap)	/* cannot happen: end <= max here */
		return -EMSGSIZE;
	b = realloc(r->buf, cap + 1);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->cap = cap;
	return 0;
}

int am_ctl_read_line(struct am_ctl_reader *r, char **line, size_t *len)
{
	int64_t deadline = r->timeout_ms >= 0 ? now_ms() + r->timeout_ms : -1;
	int err;

	for (;;) {
		char *nl = r->end > r->scan ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
		if (nl) {
			char *s = r->buf + r->start;
			size_t n = (size_t)(nl - s);
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			if (r->skipping) {	/* the end of an over-long line */
				r->skipping = 0;
				continue;
			}
			if (n > r->max)
				return -EMSGSIZE;
			*nl = 0;
			*line = s;
			if (len)
				*len = n;
			return 1;
		}
		r->scan = r->end;
		if (r->skipping) {
			r->start = r->scan = r->end = 0;
		} else if (r->end - r->start > r->max) {
			/* never buffer more than max: drop it and the rest of the line */
			r->skipping = 1;
			r->start = r->scan = r->end = 0;
			return -EMSGSIZE;
		}
		if (r->eof) {
			if (r->skipping || r->end == r->start) {
				r->skipping = 0;
				return 0;
			}
			/* a last line without '\n': hand it over rather than lose it */
			*line = r->buf + r->start;
			if (len)
				*len = r->end - r->start;
			r->buf[r->end] = 0;
			r->start = r->scan = r->end;
			return 1;
		}
		err = make_room(r);
		if (err)
			return err;
		err = wait_input(r, deadline);
		if (err)
			return err;
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
}

static void set_err(char *err, size_t errsz, const char *what, const char *detail)
{
	struct am_line l;

	if (!errsz)
		return;
	/* daemon text (its error, or bytes jansson quotes) is escaped and bounded */
	am_line_init(&l, err, errsz);
	am_line_put(&l, what);
	am_line_put_max(&l, detail, 300);
}

int am_ctl_call(struct am_ctl_reader *r, const json_t *req, json_t **reply,
		char *err, size_t errsz)
{
	return am_ctl_call_fd(r, req, -1, reply, err, errsz);
}

int am_ctl_call_fd(struct am_ctl_reader *r, const json_t *req, int pass_fd, json_t **reply,
		   char *err, size_t errsz)
{
	char *line, num[96];
	size_t len;
	json_error_t je;
	json_t *j, *ok;
	const char *msg;
	int ret;

	*reply = NULL;
	ret = am_ctl_send_fd(r->fd, req, pass_fd);
	if (ret == -EPIPE || ret == -ECONNRESET) {
		/* The daemon may have answered before our request went out (a
		 * refused peer gets its one line at once): read what it said. */
		int rc = am_ctl_read_line(r, &line, &len);
		if (rc == 1 && strstr(line, "\"permission denied\"")) {
			set_err(err, errsz, "permission denied", NULL);
			return -EPERM;
		}
	}
	if (ret) {
		if (ret == -EPIPE || ret == -ECONNRESET)
			set_err(err, errsz, "daemon closed the connection", NULL);
		else if (ret == -EMSGSIZE)
			set_err(err, errsz, "request too long", NULL);
		else
			set_err(err, errsz, "sending the request: ", strerror(-ret));
		return ret;
	}
	ret = am_ctl_read_line(r, &line, &len);
	switch (ret) {
	case 1:
		break;
	case 0:
		set_err(err, errsz, "daemon closed the connection without a reply", NULL);
		return -ECONNRESET;
	case -EMSGSIZE:
		snprintf(num, sizeof(num), "reply longer than %zu bytes", r->max);
		set_err(err, errsz, "bad reply from daemon: ", num);
		return -EMSGSIZE;
	case -ETIMEDOUT:
		snprintf(num, sizeof(num), "within %d s", r->timeout_ms / 1000);
		set_err(err, errsz, "no reply from daemon ", num);
		return ret;
	case -ECONNRESET:
		set_err(err, errsz, "daemon closed the connection without a reply", NULL);
		return ret;
	default:
		set_err(err, errsz, "reading the reply: ", strerror(-ret));
		return ret;
	}
	j = json_loadb(line, len, 0, &je);
	if (!j) {
		char why[256];
		snprintf(why, sizeof(why), "not JSON (column %d: %s)", je.column, je.text);
		set_err(err, errsz, "bad reply from daemon: ", why);
		return -EBADMSG;
	}
	ok = json_object_get(j, "ok");
	if (!json_is_object(j) || !json_is_boolean(ok)) {
		set_err(err, errsz, "bad reply from daemon: ",
			json_is_object(j) ? "no boolean \"ok\"" : "not a JSON object");
		json_decref(j);
		return -EBADMSG;
	}
	*reply = j;
	if (json_is_true(ok))
		return 0;
	msg = json_string_value(json_object_get(j, "error"));
	if (msg && !strcmp(msg, "permission denied")) {
		set_err(err, errsz, "permission denied: the daemon serves root only", NULL);
		return -EPERM;
	}
	set_err(err, errsz, msg ? msg : "the daemon refused the request (no reason given)", NULL);
	return -EREMOTEIO;
}
