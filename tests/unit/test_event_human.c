/* Events from the daemon as readable lines (agentmon tail). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event_human.h"

static char out[8192];

/* Format the event in JSON text s into `out`. */
static const char *fmt(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	size_t n = am_event_human(j, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_null(strchr(out, '\n'));
	json_decref(j);
	return out;
}

#define HEAD "\"ts\":\"2026-11-26T09:14:03.123456789Z\",\"agent\":\"support-bot\",\"pid\":4242"

static void test_spec_example(void **st)
{
	assert_string_equal(fmt(
		"{\"ts\":\"2026-11-26T09:14:03.123456789Z\",\"host\":\"agent-host-1\",\"agent\":\"support-bot\","
		"\"profile\":{\"version\":\"1.4.0\",\"sha256\":\"9f2c\"},"
		"\"pid\":4242,\"ppid\":4200,\"uid\":1001,\"comm\":\"curl\",\"exe\":\"/usr/bin/curl\","
		"\"cgroup\":\"/agentmon/support-bot-4200\","
		"\"kind\":\"connect\",\"net\":{\"proto\":\"tcp\",\"daddr\":\"203.0.113.7\",\"dport\":443},"
		"\"verdict\":\"violation\",\"rule\":\"network.connect\",\"action\":\"freeze\",\"outcome\":\"frozen\","
		"\"ancestry\":[{\"pid\":4200,\"exe\":\"/opt/support-bot/bin/bot\"},{\"pid\":4231,\"exe\":\"/bin/sh\"}]}"),
		"09:14:03.123 support-bot 4242 violation connect tcp 203.0.113.7:443 [network.connect]"
		" -> freeze: frozen via bot(4200) > sh(4231)");
}

static void test_exec(void **st)
{
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exec\",\"exe\":\"/usr/bin/git\","
				"\"argv\":[\"git\",\"commit\",\"-m\",\"two words\",\"\",\"it's\"],"
				"\"verdict\":\"drift\",\"rule\":\"exec.review\",\"action\":\"alert\",\"outcome\":\"alerted\"}"),
		"09:14:03.123 support-bot 4242 drift exec /usr/bin/git commit -m 'two words' '' 'it's'"
		" [exec.review] -> alert: alerted");
	/* no exe: argv[0]; no argv either: comm */
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exec\",\"argv\":[\"sh\",\"-c\"]}"),
			    "09:14:03.123 support-bot 4242 exec sh -c");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exec\",\"comm\":\"sh\"}"),
			    "09:14:03.123 support-bot 4242 exec sh");
	/* kernel-enforced kill, escalation */
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exec\",\"exe\":\"/usr/bin/nc\",\"argv\":[\"nc\"],"
				"\"verdict\":\"critical\",\"rule\":\"exec.deny\",\"action\":\"kill\","
				"\"outcome\":\"killed\",\"enforced\":\"kernel\",\"escalated\":true,\"ancestry\":[]}"),
		"09:14:03.123 support-bot 4242 critical exec /usr/bin/nc [exec.deny] -> kill: killed"
		" in kernel (escalated)");
}

static void test_exec_long_argv(void **st)
{
	char ev[4096], want[4096];
	int o = snprintf(ev, sizeof(ev), "{" HEAD ",\"kind\":\"exec\",\"exe\":\"/bin/echo\",\"argv\":[\"echo\"");
	int w = snprintf(want, sizeof(want), "09:14:03.123 support-bot 4242 exec /bin/echo");
	for (int i = 1; i <= 20; i++) {
		o += snprintf(ev + o, sizeof(ev) - o, ",\"a%d\"", i);
		if (i <= AM_HUMAN_ARGS_MAX)
			w += snprintf(want + w, sizeof(want) - w, " a%d", i);
	}
	snprintf(ev + o, sizeof(ev) - o, "]}");
	snprintf(want + w, sizeof(want) - w, " ...(+4)");
	assert_string_equal(fmt(ev), want);

	/* one very long argument is cut at AM_HUMAN_ARG_MAX bytes */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	snprintf(ev, sizeof(ev), "{" HEAD ",\"kind\":\"exec\",\"exe\":\"/bin/echo\",\"argv\":[\"echo\",\"%s\"]}", big);
	snprintf(want, sizeof(want), "09:14:03.123 support-bot 4242 exec /bin/echo %.*s...",
		 AM_HUMAN_ARG_MAX, big);
	assert_string_equal(fmt(ev), want);
}

static void test_files(void **st)
{
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"open\",\"file\":{\"path\":\"/etc/shadow\",\"access\":\"read\"},"
				"\"verdict\":\"critical\",\"rule\":\"files.deny\",\"action\":\"freeze\",\"outcome\":\"frozen\","
				"\"ancestry\":[{\"pid\":4200,\"exe\":\"/opt/bot\"}]}"),
		"09:14:03.123 support-bot 4242 critical open read /etc/shadow [files.deny] -> freeze: frozen via bot(4200)");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"rename\",\"file\":{\"path\":\"/tmp/a\",\"access\":\"write\","
				"\"op\":\"rename\",\"to\":\"/tmp/b\"},\"verdict\":\"allow\",\"rule\":\"\",\"action\":\"none\"}"),
		"09:14:03.123 support-bot 4242 allow rename write /tmp/a -> /tmp/b");
	/* file without access or path */
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"unlink\",\"file\":{}}"),
			    "09:14:03.123 support-bot 4242 unlink ?");
}

static void test_net(void **st)
{
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"connect\",\"net\":{\"proto\":\"tcp\",\"family\":\"ipv6\","
				"\"daddr\":\"::1\",\"dport\":8080,\"result\":-1}}"),
			    "09:14:03.123 support-bot 4242 connect tcp [::1]:8080 (error 1)");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"listen\",\"net\":{\"proto\":\"tcp\",\"family\":\"ipv4\","
				"\"laddr\":\"0.0.0.0\",\"lport\":9100,\"result\":0}}"),
			    "09:14:03.123 support-bot 4242 listen tcp 0.0.0.0:9100");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"connect\",\"net\":{\"proto\":\"unix\",\"family\":\"unix\","
				"\"path\":\"/run/x.sock\"}}"),
			    "09:14:03.123 support-bot 4242 connect unix /run/x.sock");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"sendto\",\"net\":{}}"),
			    "09:14:03.123 support-bot 4242 sendto ? ?");
}

static void test_exit_lost_action(void **st)
{
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exit\",\"comm\":\"curl\",\"exit\":{\"code\":3}}"),
			    "09:14:03.123 support-bot 4242 exit curl code 3");
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exit\",\"comm\":\"curl\",\"exit\":{\"signal\":9}}"),
			    "09:14:03.123 support-bot 4242 exit curl signal 9");
	assert_string_equal(fmt("{\"kind\":\"lost\",\"ts\":\"2026-11-26T09:14:03.5Z\",\"host\":\"h\","
				"\"lost\":{\"count\":17,\"reason\":\"tail client too slow\"}}"),
			    "09:14:03.5 - lost 17 events (tail client too slow)");
	assert_string_equal(fmt("{\"kind\":\"lost\",\"agent\":\"a\",\"verdict\":\"violation\","
				"\"action\":\"freeze\",\"outcome\":\"frozen\"}"),
			    "--:--:--.--- a violation lost ? events -> freeze: frozen");
	assert_string_equal(fmt("{\"ts\":\"2026-11-26T09:14:03.123Z\",\"agent\":\"support-bot\",\"kind\":\"action\","
				"\"action\":\"freeze\",\"outcome\":\"frozen\",\"target\":\"support-bot\"}"),
			    "09:14:03.123 support-bot action support-bot -> freeze: frozen");
	assert_string_equal(fmt("{\"kind\":\"action\",\"action\":\"thaw\",\"outcome\":\"failed: no such cgroup\"}"),
			    "--:--:--.--- - action ? -> thaw: failed: no such cgroup");
}

static void test_ancestry(void **st)
{
	char ev[2048], *p = ev;
	p += sprintf(p, "{" HEAD ",\"kind\":\"exec\",\"exe\":\"/bin/true\",\"ancestry\":[");
	for (int i = 0; i < 10; i++)
		p += sprintf(p, "%s{\"pid\":%d,\"exe\":\"/bin/a%d\"}", i ? "," : "", 100 + i, i);
	sprintf(p, "]}");
	assert_string_equal(fmt(ev), "09:14:03.123 support-bot 4242 exec /bin/true via a0(100) > ... > "
			    "a5(105) > a6(106) > a7(107) > a8(108) > a9(109)");
	/* odd entries: not objects, no exe, no pid, a trailing slash */
	assert_string_equal(fmt("{" HEAD ",\"kind\":\"exec\",\"exe\":\"/x\",\"ancestry\":"
				"[1,{\"pid\":2},{\"exe\":\"/usr/bin/\"},{\"exe\":\"sh\",\"pid\":\"3\"}]}"),
			    "09:14:03.123 support-bot 4242 exec /x via ? > ?(2) > /usr/bin/ > sh");
}

static void test_time_forms(void **st)
{
	assert_string_equal(fmt("{\"ts\":\"2026-11-26T09:14:03Z\",\"kind\":\"exit\"}"),
			    "09:14:03 - exit ?");
	assert_string_equal(fmt("{\"ts\":\"yesterday at noon\",\"kind\":\"exit\"}"),
			    "--:--:--.--- - exit ?");
	assert_string_equal(fmt("{\"ts\":\"2026-11-26T0\\u001b[2J\",\"kind\":\"exit\"}"),
			    "0 - exit ?");
	assert_string_equal(fmt("{\"ts\":\"2026-11-26t09:14:03.123456789+02:00\",\"kind\":\"exit\"}"),
			    "09:14:03.123 - exit ?");
}

/* Missing fields and wrong types: defaults, never a crash. */
static void test_missing_and_wrong_types(void **st)
{
	assert_string_equal(fmt("{}"), "--:--:--.--- - ? ?");
	assert_string_equal(fmt("[]"), "--:--:--.--- - ? ?");
	assert_string_equal(fmt("\"x\""), "--:--:--.--- - ? ?");
	assert_string_equal(fmt("null"), "--:--:--.--- - ? ?");
	am_event_human(NULL, out, sizeof(out));
	assert_string_equal(out, "--:--:--.--- - ? ?");
	assert_string_equal(fmt("{\"ts\":5,\"agent\":7,\"pid\":\"42\",\"verdict\":[],\"kind\":{},"
				"\"argv\":\"x\",\"file\":[],\"net\":3,\"rule\":1,\"action\":true,"
				"\"outcome\":2,\"ancestry\":{}}"),
			    "--:--:--.--- - ? ?");
	assert_string_equal(fmt("{\"kind\":\"exec\",\"argv\":[1,null,{}],\"exe\":[]}"),
			    "--:--:--.--- - exec ? ? ?");
	assert_string_equal(fmt("{\"kind\":\"connect\",\"net\":{\"proto\":1,\"daddr\":2,\"dport\":\"443\",\"result\":\"x\"}}"),
			    "--:--:--.--- - connect ? ?");
	assert_string_equal(fmt("{\"kind\":\"exit\",\"exit\":{\"code\":\"1\"}}"), "--:--:--.--- - exit ?");
	assert_string_equal(fmt("{\"kind\":\"lost\",\"lost\":{\"count\":1.5,\"reason\":false}}"),
			    "--:--:--.--- - lost ? events");
	/* numbers beyond 32 bits print as they are */
	assert_string_equal(fmt("{\"pid\":-9223372036854775807,\"kind\":\"exit\",\"exit\":{\"code\":4294967296}}"),
			    "--:--:--.--- - -9223372036854775807 exit ? code 4294967296");
	/* action "none" and an empty rule are not shown */
	assert_string_equal(fmt("{\"kind\":\"open\",\"file\":{\"path\":\"/a\"},\"rule\":\"\",\"action\":\"none\","
				"\"outcome\":\"x\"}"),
			    "--:--:--.--- - open /a");
}

static void test_escapes(void **st)
{
	assert_string_equal(fmt("{\"agent\":\"a\\u001b[31m\",\"kind\":\"open\\n\","
				"\"file\":{\"path\":\"/tmp/x\\ny\\r\\u009b2J\",\"access\":\"read\"}}"),
			    "--:--:--.--- a\\x1b[31m open\\x0a read /tmp/x\\x0ay\\x0d\\xc2\\x9b2J");
	/* strings with NUL built in memory, and bytes that are not UTF-8 */
	json_t *j = json_object();
	json_object_set_new(j, "agent", json_stringn("a\0b", 3));
	json_object_set_new(j, "kind", json_string("exec"));
	json_object_set_new(j, "exe", json_stringn_nocheck("/bin/\xff\xfe", 7));
	json_t *argv = json_array();
	json_array_append_new(argv, json_string("x"));
	json_array_append_new(argv, json_stringn("c\0d", 3));
	json_object_set_new(j, "argv", argv);
	am_event_human(j, out, sizeof(out));
	assert_string_equal(out, "--:--:--.--- a\\x00b exec /bin/\\xff\\xfe c\\x00d");
	json_decref(j);
}

/* A huge path and small buffers: bounded, NUL-terminated, "..." at the end. */
static void test_truncation(void **st)
{
	size_t n = 100000;
	char *path = malloc(n + 1);
	assert_non_null(path);
	memset(path, 'p', n);
	path[0] = '/';
	path[n] = 0;
	json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s}", "agent", "support-bot",
			      "kind", "open", "file", "path", path, "access", "read",
			      "verdict", "violation", "rule", "files.read", "action", "alert");
	assert_non_null(j);
	size_t len = am_event_human(j, out, sizeof(out));
	assert_int_equal(len, sizeof(out) - 1);
	assert_int_equal(strlen(out), len);
	assert_memory_equal(out + len - 3, "...", 3);

	for (size_t sz = 1; sz < 200; sz++) {
		char *b = malloc(sz);	/* exact size: ASan sees any overflow */
		assert_non_null(b);
		len = am_event_human(j, b, sz);
		assert_true(len < sz);
		assert_int_equal(strlen(b), len);
		free(b);
	}
	assert_int_equal(am_event_human(j, out, 0), 0);
	json_decref(j);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_exec_long_argv),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_exit_lost_action),
		cmocka_unit_test(test_ancestry),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_missing_and_wrong_types),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
