/* Client side of the control socket (docs/control-protocol.md): connect,
 * send one request line, read reply and event lines. Used by tail, status,
 * freeze/thaw/kill and by exec when it registers with a running daemon, so it
 * knows nothing about any one command.
 *
 * Functions return 0 (or a documented positive value) or -errno. Those that
 * take err/errsz also leave a one-line "<what>: <why>" there, ready to follow
 * "agentmon: <cmd>: ". Nothing here prints or exits. */
#ifndef AGENTMON_CTL_CLIENT_H
#define AGENTMON_CTL_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <jansson.h>

#define AM_CTL_DEFAULT_SOCKET "/run/agentmon/agentmon.sock"
/* Longest request and reply line, without its '\n' (the daemon's limit). */
#define AM_CTL_LINE_MAX   (64 * 1024)
/* Longest streamed event line: the daemon's per-client queue. */
#define AM_CTL_STREAM_MAX (1024 * 1024)

/* Connect to the daemon's socket. Returns the fd (close-on-exec), or
 * -EINVAL (empty path) / -ENAMETOOLONG (longer than sun_path): bad usage;
 * -ENOENT / -ECONNREFUSED: "daemon not running at PATH (...)";
 * -EACCES / -EPERM: "permission denied: ..."; -EAGAIN: the daemon does not
 * accept within its backlog (connect times out after 10 s); other -errno. */
int am_ctl_connect(const char *path, char *err, size_t errsz);

/* Write req as one compact JSON line. 0, -EMSGSIZE (over AM_CTL_LINE_MAX),
 * -ENOMEM, or the -errno of send() (-EPIPE: the daemon went away; no SIGPIPE
 * is raised). */
int am_ctl_send(int fd, const json_t *req);
/* The same, with file descriptor pass_fd sent along (SCM_RIGHTS) unless it
 * is negative. */
int am_ctl_send_fd(int fd, const json_t *req, int pass_fd);

/* A buffered line reader over a socket. Set the public fields after
 * am_ctl_reader_init; they may change between calls (a tail client reads its
 * reply with max AM_CTL_LINE_MAX, then events with AM_CTL_STREAM_MAX). */
struct am_ctl_reader {
	int fd;
	size_t max;              /* longest line accepted, without its '\n' */
	int timeout_ms;          /* per line; < 0 waits for ever */
	/* If set, the mask to wait under (ppoll): a caller blocks SIGINT/SIGTERM,
	 * passes a mask that lets them through, and learns of them as -EINTR
	 * without the race of checking a flag before a blocking read. */
	const sigset_t *sigmask;
	/* private */
	char *buf;
	size_t cap, start, end, scan;
	int skipping;            /* discarding the rest of an over-long line */
	int eof;
};

void am_ctl_reader_init(struct am_ctl_reader *r, int fd, size_t max);
/* Frees the buffer; does not close the fd. */
void am_ctl_reader_free(struct am_ctl_reader *r);

/* Next line, '\n' removed and NUL-terminated, valid until the next call;
 * *len (if not NULL) is its length. Returns 1 with a line; 0 at end of
 * stream (a last line without '\n' is returned first); -EMSGSIZE for a line
 * over r->max, which is skipped (the next call reads the line after it);
 * -ETIMEDOUT; -EINTR (a signal, see sigmask); -ENOMEM; other -errno of read. */
int am_ctl_read_line(struct am_ctl_reader *r, char **line, size_t *len);

/* One request, one reply: send req on r->fd, read one line with r->max and
 * r->timeout_ms and parse it. Returns
 *   0           {"ok":true,...}; *reply is the object (caller decrefs)
 *   -EREMOTEIO  {"ok":false,"error":...}; *reply is set, err holds the error
 *   -EPERM      {"ok":false,"error":"permission denied"}; *reply is set
 *   -EBADMSG    the reply is not JSON, not an object, or has no boolean "ok";
 *               err says "bad reply from daemon: ..."
 *   -ECONNRESET the daemon closed the connection before replying
 *   other -errno from am_ctl_send / am_ctl_read_line (-EMSGSIZE, -ETIMEDOUT,
 *               -EINTR, ...), err describing it.
 * Lines after the reply stay buffered in r for the caller (tail, register). */
int am_ctl_call(struct am_ctl_reader *r, const json_t *req, json_t **reply,
		char *err, size_t errsz);
/* am_ctl_call() sending pass_fd with the request (see am_ctl_send_fd). */
int am_ctl_call_fd(struct am_ctl_reader *r, const json_t *req, int pass_fd, json_t **reply,
		   char *err, size_t errsz);

#endif
