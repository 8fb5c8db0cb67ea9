/* From records to verdicts, actions and escalation, with a real profile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "judge.h"

static const char profile_text[] =
	"{\"name\":\"t\",\"version\":\"1\","
	"\"approval\":{\"by\":\"a@b\",\"at\":\"2026-01-01T00:00:00Z\",\"expires\":\"2099-01-01T00:00:00Z\"},"
	"\"exec\":{\"allow\":[\"/usr/bin/git\"],\"review\":[\"/usr/bin/curl\"],\"deny\":[\"/usr/bin/nc\"],\"max_depth\":2},"
	"\"files\":{\"read\":[\"/etc/ssl/**\"],\"write\":[\"/tmp/a-*\"],\"deny\":[\"/etc/shadow\"]},"
	"\"secrets\":[{\"path\":\"/run/secrets/k\",\"ttl\":\"10s\"}],"
	"\"network\":{\"connect\":[\"127.0.0.1:8080\"],\"listen\":[9100]},"
	"\"response\":{\"drift\":\"alert\",\"violation\":\"stop\",\"critical\":\"kill\","
	"\"escalate\":{\"count\":3,\"window\":\"60s\",\"action\":\"freeze\"}}}";

static struct am_profile *prof;
static struct am_event ev;

static int setup(void **st)
{
	char path[] = "/tmp/agentmon-judge-XXXXXX";
	int fd = mkstemp(path);
	struct am_diag d;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, profile_text, sizeof(profile_text) - 1), (ssize_t)sizeof(profile_text) - 1);
	close(fd);
	int err = am_profile_load(path, 0, &prof, &d);
	unlink(path);
	if (err)
		fprintf(stderr, "%s\n", d.msg);
	return err;
}

static int teardown(void **st)
{
	am_profile_free(prof);
	return 0;
}

static void decide_exec(const char *exe, unsigned depth, struct am_decision *d)
{
	struct am_record r = { .kind = "exec", .exe = exe };
	memset(&ev, 0, sizeof(ev));
	ev.hdr.depth = depth;
	am_decide(prof, &r, &ev, 0, 0, NULL, d);
}

static void test_exec(void **st)
{
	struct am_decision d;
	decide_exec("/usr/bin/git", 0, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	assert_int_equal(d.action, AM_ACT_NONE);
	decide_exec("/usr/bin/curl", 1, &d);
	assert_int_equal(d.j.verdict, AM_DRIFT);
	assert_int_equal(d.action, AM_ACT_ALERT);
	decide_exec("/usr/bin/id", 1, &d);
	assert_int_equal(d.j.verdict, AM_VIOLATION);
	assert_int_equal(d.action, AM_ACT_STOP);
	decide_exec("/usr/bin/nc", 0, &d);
	assert_int_equal(d.j.verdict, AM_CRITICAL);
	assert_int_equal(d.action, AM_ACT_KILL);
	decide_exec("/usr/bin/git", 3, &d);
	assert_int_equal(d.j.verdict, AM_CRITICAL);
	assert_string_equal(d.j.rule, "exec.max_depth");
	assert_false(d.seen_ok);
}

static void test_files_and_secrets(void **st)
{
	struct am_decision d;
	struct am_record r = { .kind = "open", .path = "/etc/ssl/certs/x", .access = "read" };
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	assert_true(d.seen_ok);
	r.access = "write";
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_VIOLATION);
	assert_false(d.seen_ok);
	/* a secret is allowed within its TTL, but never cached in the kernel */
	r.path = "/run/secrets/k";
	r.access = "read";
	am_decide(prof, &r, &ev, 9ull * 1000000000, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	assert_false(d.seen_ok);
	am_decide(prof, &r, &ev, 11ull * 1000000000, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_CRITICAL);
	/* rename: the new name counts too */
	struct am_record rn = { .kind = "rename", .path = "/tmp/a-1", .path2 = "/etc/shadow", .access = "write" };
	am_decide(prof, &rn, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_CRITICAL);
	assert_string_equal(d.j.rule, "files.deny[0]");
}

static void test_net(void **st)
{
	struct am_decision d;
	struct am_record r = { .kind = "connect", .has_net = 1 };
	memset(&ev, 0, sizeof(ev));
	ev.net.op = AM_NOP_CONNECT;
	ev.net.family = AF_INET;
	ev.net.addr[0] = 127;
	ev.net.addr[3] = 1;
	ev.net.port = 8080;
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	ev.net.port = 8081;
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_VIOLATION);
	ev.net.op = AM_NOP_BIND;
	ev.net.port = 0;
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	assert_string_equal(d.j.rule, "network.ephemeral");
	ev.net.op = AM_NOP_LISTEN;
	ev.net.port = 9100;
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	ev.net.port = 9101;
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_VIOLATION);
}

static void test_no_verdict_kinds(void **st)
{
	struct am_decision d;
	struct am_record r = { .kind = "exit" };
	am_decide(prof, &r, &ev, 0, 0, NULL, &d);
	assert_int_equal(d.j.verdict, AM_ALLOW);
	assert_int_equal(d.action, AM_ACT_NONE);
	assert_false(d.seen_ok);
}

/* The Nth violation within the window escalates; N-1 do not; outside the
 * window they do not add up. */
static void test_escalation(void **st)
{
	struct am_escalation esc;
	struct am_decision d;
	struct am_record r = { .kind = "exec", .exe = "/usr/bin/id" };
	const uint64_t s = 1000000000ull;
	memset(&esc, 0, sizeof(esc));
	memset(&ev, 0, sizeof(ev));
	am_decide(prof, &r, &ev, 0, 1 * s, &esc, &d);
	assert_false(d.escalated);
	am_decide(prof, &r, &ev, 0, 2 * s, &esc, &d);
	assert_false(d.escalated);
	assert_int_equal(d.action, AM_ACT_STOP);
	am_decide(prof, &r, &ev, 0, 3 * s, &esc, &d);
	assert_true(d.escalated);
	assert_int_equal(d.action, AM_ACT_FREEZE);
	/* the window starts again after firing */
	am_decide(prof, &r, &ev, 0, 4 * s, &esc, &d);
	assert_false(d.escalated);
	/* two old ones and one new one, 70 s apart: no escalation */
	memset(&esc, 0, sizeof(esc));
	am_decide(prof, &r, &ev, 0, 10 * s, &esc, &d);
	am_decide(prof, &r, &ev, 0, 11 * s, &esc, &d);
	am_decide(prof, &r, &ev, 0, 81 * s, &esc, &d);
	assert_false(d.escalated);
	/* a critical one also counts, and keeps its stronger kill */
	am_decide(prof, &r, &ev, 0, 82 * s, &esc, &d);
	struct am_record c = { .kind = "exec", .exe = "/usr/bin/nc" };
	am_decide(prof, &c, &ev, 0, 83 * s, &esc, &d);
	assert_int_equal(d.action, AM_ACT_KILL);
	assert_false(d.escalated);
	/* allowed records do not count */
	memset(&esc, 0, sizeof(esc));
	struct am_record ok = { .kind = "exec", .exe = "/usr/bin/git" };
	for (int i = 0; i < 5; i++)
		am_decide(prof, &ok, &ev, 0, 90 * s, &esc, &d);
	assert_int_equal(esc.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_files_and_secrets),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_no_verdict_kinds),
		cmocka_unit_test(test_escalation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
