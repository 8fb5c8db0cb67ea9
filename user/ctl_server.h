/* The daemon's side of the control socket (docs/control-protocol.md):
 * listening, peer credentials, line framing, bounded per-client output
 * queues. What a request means is the daemon's business (a callback). */
#ifndef AGENTMON_CTL_SERVER_H
#define AGENTMON_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define AM_CTL_REQ_MAX   65536        /* one request line, newline excluded */
#define AM_CTL_QUEUE_MAX (1u << 20)   /* queued stream output per client */

struct am_ctl_server;
struct am_fdlog;

/* What a registered agent's connection carries of its events. */
enum { AM_CTL_STREAM_ALL, AM_CTL_STREAM_NOTABLE, AM_CTL_STREAM_NONE };

struct am_ctl_client {
	struct am_ctl_server *srv;
	int fd;
	uid_t uid;
	pid_t pid;
	char *in;                 /* partial request line */
	size_t inlen;
	char *out;                /* queued output */
	size_t outlen, outcap, outoff;
	int closing;              /* close once the queue is written */
	int dead;                 /* closed: freed at the end of the loop turn */
	/* what the daemon made of this client */
	int tail, tail_all;
	char tail_agent[128];
	uint32_t reg_agent;       /* agent registered by an `agentmon exec` */
	int passed_fd;            /* a file descriptor the client sent (SCM_RIGHTS); -1 */
	struct am_fdlog *log;     /* the registered agent's events go here (fdlog.h) */
	int stream;               /* registered agent: AM_CTL_STREAM_* */
	uint64_t dropped;         /* stream lines dropped since the last notice */
	uint64_t dropped_total;
	struct am_ctl_client *next;
};

/* A request line parsed as a JSON object; the handler replies with
 * am_ctl_reply()/am_ctl_error(). */
typedef void (*am_ctl_request_fn)(void *ctx, struct am_ctl_client *c, json_t *req);
/* The client is going away (EOF, error or closed by us). */
typedef void (*am_ctl_close_fn)(void *ctx, struct am_ctl_client *c);

struct am_ctl_server {
	int lfd;
	int epfd;
	char path[108];
	struct am_ctl_client *clients;
	unsigned nclients;
	uint64_t refused;         /* non-root peers turned away */
	const char *host;         /* for the loss notices */
	am_ctl_request_fn on_request;
	am_ctl_close_fn on_close;
	void *ctx;
};

/* Create the socket directory (0700) if missing, refuse to start when a
 * daemon already answers at `path`, bind (0600) and listen; register the
 * listening fd in `epfd` with data.ptr = srv. 0 or -errno, `err` set. */
int am_ctl_listen(struct am_ctl_server *srv, const char *path, int epfd, char *err, size_t errsz);
/* Handle an epoll event whose data.ptr is srv (accept) or a client. */
void am_ctl_event(struct am_ctl_server *srv, void *ptr, uint32_t events);
/* Free clients closed during this loop turn. */
void am_ctl_reap(struct am_ctl_server *srv);
void am_ctl_close_all(struct am_ctl_server *srv);

/* Queue one reply line (never dropped; a client whose queue is far over
 * its bound is disconnected instead). Takes ownership of `o`. */
void am_ctl_reply(struct am_ctl_client *c, json_t *o);
void am_ctl_error(struct am_ctl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Queue one stream line of len bytes (no newline). Dropped and counted if the
 * client's queue is full; a notice of the drops goes first once it has room.
 * Returns 0 if queued. */
int am_ctl_stream(struct am_ctl_client *c, const char *line, size_t len);
/* Write out what can be written now without blocking. */
void am_ctl_flush(struct am_ctl_client *c);
/* Close the client once its queue is written (or now, if it is stuck). */
void am_ctl_finish(struct am_ctl_client *c);

#endif
