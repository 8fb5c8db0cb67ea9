#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "ctl_server.h"
#include "record.h"

/* A reply may push a queue this far past its bound before the client is cut
 * off: replies are never dropped, but a client that never reads must not
 * grow the daemon without limit either. */
#define AM_CTL_HARD_MAX (4u * AM_CTL_QUEUE_MAX)

static int mkdir_p(const char *dir, mode_t mode)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	snprintf(tmp, sizeof(tmp), "%s", dir);
	char *parent = dirname(tmp);
	if (strcmp(parent, dir) != 0 && strcmp(parent, "/") != 0 && strcmp(parent, ".") != 0) {
		int err = mkdir_p(parent, 0755);
		if (err)
			return err;
	}
	if (mkdir(dir, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int am_ctl_listen(struct am_ctl_server *srv, const char *path, int epfd, char *err, size_t errsz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int e;

	memset(srv, 0, sizeof(*srv));
	srv->lfd = -1;
	srv->epfd = epfd;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "%s: path too long for a unix socket (max %zu bytes)", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	char *d = dirname(dir);
	int created = stat(d, &st) != 0;
	e = mkdir_p(d, 0700);
	if (e) {
		snprintf(err, errsz, "%s: create directory: %s", d, strerror(-e));
		return e;
	}
	if (created)
		chmod(d, 0700);   /* whatever the umask */

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return e;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsz, "%s: exists and is not a socket", path);
			close(fd);
			return -EEXIST;
		}
		/* A daemon that answers owns it; a dead one's socket is stale. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			snprintf(err, errsz, "%s: another agentmon daemon is running", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || chmod(path, 0600) || listen(fd, 64)) {
		e = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return e;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = srv };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		e = -errno;
		snprintf(err, errsz, "epoll: %s", strerror(errno));
		close(fd);
		unlink(path);
		return e;
	}
	srv->lfd = fd;
	return 0;
}

static void set_events(struct am_ctl_client *c, struct am_ctl_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN | (c->outlen > c->outoff ? EPOLLOUT : 0),
				  .data.ptr = c };
	if (!c->dead)
		epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void drop_client(struct am_ctl_server *srv, struct am_ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	if (srv->on_close)
		srv->on_close(srv->ctx, c);
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
}

/* 0 when there is nothing (more) to accept. */
static int accept_one(struct am_ctl_server *srv)
{
	int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return errno == EINTR || errno == ECONNABORTED;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || cr.uid != 0) {
		/* One line, nothing more: a refused peer learns nothing else. */
		static const char msg[] = "{\"ok\":false,\"error\":\"permission denied\"}\n";
		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* nothing to do: it is closed either way */
		}
		srv->refused++;
		close(fd);
		return 1;
	}
	struct am_ctl_client *c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(AM_CTL_REQ_MAX + 1);
	if (!c || !c->in) {
		if (c)
			free(c);
		close(fd);
		return 1;
	}
	c->fd = fd;
	c->passed_fd = -1;
	c->srv = srv;
	c->uid = cr.uid;
	c->pid = cr.pid;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(c->in);
		free(c);
		close(fd);
		return 1;
	}
	c->next = srv->clients;
	srv->clients = c;
	srv->nclients++;
	return 1;
}

static int queue(struct am_ctl_client *c, const char *p, size_t n, int nl)
{
	size_t need = c->outlen + n + (nl ? 1 : 0);
	if (c->outoff && need > c->outcap) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
		need = c->outlen + n + (nl ? 1 : 0);
	}
	if (need > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap < need)
			cap *= 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return -ENOMEM;
		c->out = o;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	if (nl)
		c->out[c->outlen++] = '\n';
	return 0;
}

static int queue_notice(struct am_ctl_client *c, size_t then);

/* Send what the socket takes now, from inside the event path: never drops
 * the client (that would free an agent the monitor is handling); errors
 * are left for the loop's am_ctl_flush(). */
static void send_some(struct am_ctl_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c->outoff += (size_t)w;
	}
	c->outoff = c->outlen = 0;
}

void am_ctl_flush(struct am_ctl_client *c)
{
	struct am_ctl_server *srv = c->srv;

	if (c->dead)
		return;
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			drop_client(srv, c);
			return;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		/* drained: a client that lost lines hears of it now, not only with
		 * the next event (there may be none for a while) */
		if (c->dropped && !c->closing && queue_notice(c, 0) == 0) {
			set_events(c, c->srv);
			return;
		}
		if (c->closing) {
			drop_client(srv, c);
			return;
		}
	}
	set_events(c, srv);
}

void am_ctl_reply(struct am_ctl_client *c, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (c->dead) {
		free(s);
		return;
	}
	if (!s || c->outlen - c->outoff > AM_CTL_HARD_MAX || queue(c, s, strlen(s), 1)) {
		free(s);
		drop_client(c->srv, c);
		return;
	}
	free(s);
	am_ctl_flush(c);
}

void am_ctl_error(struct am_ctl_client *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	am_ctl_reply(c, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* Tell the client how many lines it lost, if it lost any and there is room
 * for the notice plus `then` more bytes. 0 when nothing is owed any more. */
static int queue_notice(struct am_ctl_client *c, size_t then)
{
	char notice[512], ts[64];
	struct timespec t;

	if (!c->dropped)
		return 0;
	/* no room: fail before formatting (this runs for every dropped line) */
	if (c->outlen - c->outoff + sizeof(notice) + then > AM_CTL_QUEUE_MAX)
		return -ENOBUFS;
	clock_gettime(CLOCK_REALTIME, &t);
	am_format_ts((uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec, ts, sizeof(ts));
	int n = snprintf(notice, sizeof(notice),
			 "{\"kind\":\"lost\",\"ts\":\"%s\",\"host\":\"%s\",\"lost\":{\"count\":%llu,"
			 "\"reason\":\"tail client too slow: events dropped for this client\"}}",
			 ts, c->srv->host ? c->srv->host : "", (unsigned long long)c->dropped);
	if (c->outlen - c->outoff + (size_t)n + 1 + then > AM_CTL_QUEUE_MAX ||
	    queue(c, notice, (size_t)n, 1))
		return -ENOBUFS;
	c->dropped = 0;
	return 0;
}

int am_ctl_stream(struct am_ctl_client *c, const char *line, size_t len)
{
	if (c->dead || c->closing)
		return -EPIPE;
	if (queue_notice(c, len + 1)) {
		c->dropped++;
		c->dropped_total++;
		return -ENOBUFS;
	}
	size_t queued = c->outlen - c->outoff;
	if (queued + len + 1 > AM_CTL_QUEUE_MAX / 2) {
		/* a big batch: send what the socket takes now rather than let the
		 * queue overflow before the end of the drain */
		send_some(c);
		queued = c->outlen - c->outoff;
	}
	if (queued + len + 1 > AM_CTL_QUEUE_MAX || queue(c, line, len, 1)) {
		c->dropped++;
		c->dropped_total++;
		return -ENOBUFS;
	}
	/* written by the caller's am_ctl_flush() after the batch (one send per
	 * batch, not per event); EPOLLOUT takes over what does not fit */
	return 0;
}

void am_ctl_finish(struct am_ctl_client *c)
{
	c->closing = 1;
	am_ctl_flush(c);
}

static void handle_line(struct am_ctl_server *srv, struct am_ctl_client *c, char *line, size_t n)
{
	json_error_t je;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;    /* blank lines are ignored, like a shell's */
	json_t *req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
	if (!req) {
		am_ctl_error(c, "malformed request: not JSON: %s (column %d)", je.text, je.column);
		return;
	}
	if (!json_is_object(req)) {
		json_decref(req);
		am_ctl_error(c, "malformed request: expected a JSON object");
		return;
	}
	srv->on_request(srv->ctx, c, req);
	json_decref(req);
}

/* Read like read(2), and keep a file descriptor the client sent along
 * (SCM_RIGHTS; `agentmon exec` hands over its --json file). Only the last
 * one is kept; any other is closed. */
static ssize_t recv_with_fd(struct am_ctl_client *c, void *buf, size_t n)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	ssize_t r = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return r;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->passed_fd >= 0)
				close(c->passed_fd);
			c->passed_fd = fd;
		}
	}
	return r;
}

static void read_client(struct am_ctl_server *srv, struct am_ctl_client *c)
{
	for (;;) {
		if (c->dead || c->closing)
			return;
		ssize_t r = recv_with_fd(c, c->in + c->inlen, AM_CTL_REQ_MAX + 1 - c->inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			drop_client(srv, c);
			return;
		}
		c->inlen += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < c->inlen && !c->dead && !c->closing; i++) {
			if (c->in[i] != '\n')
				continue;
			handle_line(srv, c, c->in + start, i - start);
			start = i + 1;
		}
		if (c->dead || c->closing)
			return;
		memmove(c->in, c->in + start, c->inlen - start);
		c->inlen -= start;
		if (c->inlen > AM_CTL_REQ_MAX) {
			am_ctl_error(c, "request too long (max %d bytes a line)", AM_CTL_REQ_MAX);
			am_ctl_finish(c);
			return;
		}
	}
}

void am_ctl_event(struct am_ctl_server *srv, void *ptr, uint32_t events)
{
	if (ptr == srv) {
		for (int i = 0; i < 64 && accept_one(srv); i++)
			;
		return;
	}
	struct am_ctl_client *c = ptr;
	if (c->dead)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		drop_client(srv, c);
		return;
	}
	if (events & EPOLLOUT)
		am_ctl_flush(c);
	if (events & EPOLLIN)
		read_client(srv, c);
}

void am_ctl_reap(struct am_ctl_server *srv)
{
	struct am_ctl_client **pp = &srv->clients;
	while (*pp) {
		struct am_ctl_client *c = *pp;
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c->in);
		free(c->out);
		free(c);
		srv->nclients--;
	}
}

void am_ctl_close_all(struct am_ctl_server *srv)
{
	for (struct am_ctl_client *c = srv->clients; c; c = c->next) {
		am_ctl_flush(c);
		drop_client(srv, c);
	}
	am_ctl_reap(srv);
	if (srv->lfd >= 0) {
		close(srv->lfd);
		srv->lfd = -1;
		unlink(srv->path);
	}
}
