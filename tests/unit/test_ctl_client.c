/* Control-socket client: line reader, request/reply, connect errors.
 * The "daemon" is the other end of a socketpair, written before reading
 * (the socket buffer holds it), so nothing waits on anything. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ctl_client.h"

static int sv[2];	/* sv[0]: client, sv[1]: daemon */

static int setup(void **st)
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static int teardown(void **st)
{
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

static void daemon_says(const char *s, size_t n)
{
	assert_int_equal(write(sv[1], s, n), (ssize_t)n);
}
#define SAY(lit) daemon_says(lit, sizeof(lit) - 1)

/* A reply bigger than the socket buffer: a child writes it while we read. */
static pid_t daemon_says_async(const char *s, size_t n)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t off = 0;
		while (off < n) {
			ssize_t w = write(sv[1], s + off, n - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

static void daemon_hangs_up(void)
{
	close(sv[1]);
	sv[1] = -1;
}

static void test_lines(void **st)
{
	struct am_ctl_reader r;
	char *line;
	size_t len;

	am_ctl_reader_init(&r, sv[0], 64);
	SAY("one\ntwo\n\nthr");
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 1);
	assert_string_equal(line, "one");
	assert_int_equal(len, 3);
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 1);
	assert_string_equal(line, "two");
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 1);
	assert_string_equal(line, "");
	assert_int_equal(len, 0);
	SAY("ee\nfour");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	assert_string_equal(line, "three");
	daemon_hangs_up();
	/* a last line without '\n' is still handed over, then end of stream */
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 1);
	assert_string_equal(line, "four");
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 0);
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 0);
	am_ctl_reader_free(&r);
}

static void test_nul_in_line(void **st)
{
	struct am_ctl_reader r;
	char *line;
	size_t len;

	am_ctl_reader_init(&r, sv[0], 64);
	SAY("a\0b\n");
	assert_int_equal(am_ctl_read_line(&r, &line, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "a\0b", 4);
	am_ctl_reader_free(&r);
}

/* A line of exactly max bytes passes; one more byte is skipped whole, in
 * pieces of any size, and the line after it is read normally. */
static void test_max_and_skip(void **st)
{
	struct am_ctl_reader r;
	char *line, big[200];

	memset(big, 'x', sizeof(big));
	am_ctl_reader_init(&r, sv[0], 16);
	daemon_says(big, 16);
	SAY("\n");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	assert_int_equal(strlen(line), 16);

	daemon_says(big, 17);
	SAY("\nnext\n");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), -EMSGSIZE);
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	assert_string_equal(line, "next");

	/* the over-long line arrives in several writes, its end only later */
	daemon_says(big, sizeof(big));
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), -EMSGSIZE);
	daemon_says(big, sizeof(big));
	daemon_says(big, 5);
	SAY("\nafter\n");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	assert_string_equal(line, "after");

	/* an over-long last line cut by the end of stream: just the end */
	daemon_says(big, sizeof(big));
	daemon_hangs_up();
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), -EMSGSIZE);
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 0);
	am_ctl_reader_free(&r);
}

/* 1 MiB lines go through a reader whose max was raised after the reply. */
static void test_stream_max(void **st)
{
	struct am_ctl_reader r;
	char *line;
	size_t len, n = 300000;
	char *big = malloc(n + 1);
	int rc;

	assert_non_null(big);
	memset(big, 'e', n);
	big[n] = '\n';
	am_ctl_reader_init(&r, sv[0], 16);
	SAY("{\"ok\":true}\n");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	r.max = AM_CTL_STREAM_MAX;
	pid_t pid = daemon_says_async(big, n + 1);
	rc = am_ctl_read_line(&r, &line, &len);
	assert_int_equal(rc, 1);
	assert_int_equal(waitpid(pid, &rc, 0), pid);
	assert_int_equal(rc, 0);
	assert_int_equal(len, n);
	assert_int_equal(line[n - 1], 'e');
	free(big);
	am_ctl_reader_free(&r);
}

static void test_timeout(void **st)
{
	struct am_ctl_reader r;
	char *line;

	am_ctl_reader_init(&r, sv[0], 64);
	r.timeout_ms = 10;
	SAY("partial");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), -ETIMEDOUT);
	SAY(" line\n");
	assert_int_equal(am_ctl_read_line(&r, &line, NULL), 1);
	assert_string_equal(line, "partial line");
	am_ctl_reader_free(&r);
}

static char err[512];

/* Call with the reply already waiting; check what the client sent. */
static int call(const char *reply, size_t n, json_t **out)
{
	struct am_ctl_reader r;
	json_t *req = json_pack("{s:s}", "cmd", "status");
	char sent[256];
	int rc;

	if (reply)
		daemon_says(reply, n);
	else
		shutdown(sv[1], SHUT_WR);
	am_ctl_reader_init(&r, sv[0], AM_CTL_LINE_MAX);
	err[0] = 0;
	rc = am_ctl_call(&r, req, out, err, sizeof(err));
	ssize_t got = read(sv[1], sent, sizeof(sent) - 1);
	assert_true(got > 0);
	sent[got] = 0;
	assert_string_equal(sent, "{\"cmd\":\"status\"}\n");
	json_decref(req);
	am_ctl_reader_free(&r);
	return rc;
}
#define CALL(lit, out) call(lit, sizeof(lit) - 1, out)

static void test_call_ok(void **st)
{
	json_t *rep;

	assert_int_equal(CALL("{\"ok\":true,\"status\":{\"pid\":1}}\n", &rep), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "status"), "pid")), 1);
	json_decref(rep);
}

static void test_call_refused(void **st)
{
	json_t *rep;

	assert_int_equal(CALL("{\"ok\":false,\"error\":\"permission denied\"}\n", &rep), -EPERM);
	assert_non_null(rep);
	assert_string_equal(err, "permission denied: the daemon serves root only");
	json_decref(rep);

	assert_int_equal(CALL("{\"ok\":false,\"error\":\"no agent matches 'x\\u001b'\"}\n", &rep),
			 -EREMOTEIO);
	assert_string_equal(err, "no agent matches 'x\\x1b'");
	json_decref(rep);

	assert_int_equal(CALL("{\"ok\":false,\"error\":42}\n", &rep), -EREMOTEIO);
	assert_string_equal(err, "the daemon refused the request (no reason given)");
	json_decref(rep);
}

static void test_call_bad_replies(void **st)
{
	json_t *rep = (json_t *)1;

	assert_int_equal(CALL("not json\n", &rep), -EBADMSG);
	assert_null(rep);
	assert_non_null(strstr(err, "bad reply from daemon: not JSON"));
	assert_int_equal(CALL("[true]\n", &rep), -EBADMSG);
	assert_string_equal(err, "bad reply from daemon: not a JSON object");
	assert_int_equal(CALL("{\"ok\":\"yes\"}\n", &rep), -EBADMSG);
	assert_string_equal(err, "bad reply from daemon: no boolean \"ok\"");
	assert_int_equal(CALL("{}\n", &rep), -EBADMSG);
	assert_int_equal(CALL("{\"ok\":true} trailing\n", &rep), -EBADMSG);
	assert_int_equal(CALL("{\"ok\":true,\"x\":\"\\u0000\"}\n", &rep), -EBADMSG);
	assert_int_equal(CALL("\x1b[2J\n", &rep), -EBADMSG);
	assert_null(strchr(err, '\x1b'));
	assert_int_equal(call(NULL, 0, &rep), -ECONNRESET);
	assert_string_equal(err, "daemon closed the connection without a reply");
	assert_null(rep);
}

static void test_call_reply_too_long(void **st)
{
	json_t *rep;
	size_t n = AM_CTL_LINE_MAX + 10;
	struct am_ctl_reader r;
	json_t *req = json_pack("{s:s}", "cmd", "status");
	char *big = malloc(n);

	/* the client reads while the daemon's long reply is still arriving */
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	am_ctl_reader_init(&r, sv[0], AM_CTL_LINE_MAX);
	pid_t pid = daemon_says_async(big, n);
	int rc = am_ctl_call(&r, req, &rep, err, sizeof(err));
	assert_int_equal(rc, -EMSGSIZE);
	assert_null(rep);
	assert_int_equal(waitpid(pid, &rc, 0), pid);
	assert_string_equal(err, "bad reply from daemon: reply longer than 65536 bytes");
	free(big);
	json_decref(req);
	am_ctl_reader_free(&r);
}

static void test_send(void **st)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", "freeze", "target", "a\nb");
	char buf[128];

	assert_int_equal(am_ctl_send(sv[0], req), 0);
	ssize_t n = read(sv[1], buf, sizeof(buf) - 1);
	buf[n] = 0;
	assert_string_equal(buf, "{\"cmd\":\"freeze\",\"target\":\"a\\nb\"}\n");
	json_decref(req);

	/* over the daemon's request limit */
	char *big = malloc(AM_CTL_LINE_MAX + 1);
	memset(big, 'a', AM_CTL_LINE_MAX);
	big[AM_CTL_LINE_MAX] = 0;
	req = json_pack("{s:s}", "target", big);
	assert_int_equal(am_ctl_send(sv[0], req), -EMSGSIZE);
	json_decref(req);
	free(big);

	/* the daemon went away: an error, no SIGPIPE */
	daemon_hangs_up();
	req = json_pack("{s:s}", "cmd", "status");
	assert_int_equal(am_ctl_send(sv[0], req), -EPIPE);
	json_decref(req);
}

static void test_connect(void **st)
{
	char dir[] = "/tmp/am-ctl-XXXXXX", path[256], lng[200];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, l;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);

	assert_int_equal(am_ctl_connect(path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "daemon not running at "));
	assert_non_null(strstr(err, "(connect: No such file or directory)"));

	assert_int_equal(am_ctl_connect("", err, sizeof(err)), -EINVAL);
	memset(lng, 'a', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = 0;
	assert_int_equal(am_ctl_connect(lng, err, sizeof(err)), -ENAMETOOLONG);
	assert_string_equal(err, "--socket: path too long (199 bytes, at most 107)");

	/* a socket nobody listens on */
	strcpy(a.sun_path, path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(am_ctl_connect(path, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "daemon not running at "));

	assert_int_equal(listen(l, 1), 0);
	fd = am_ctl_connect(path, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	close(l);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_in_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_and_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_bad_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_reply_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test(test_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
