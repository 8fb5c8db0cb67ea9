/* Verdicts: a table of events judged against a profile written for the
 * test (and the SPEC example), asserting verdict, deciding rule and the
 * response action. Run from the repository root (scripts/run-tests.sh). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "profile.h"
#include "profile_impl.h"

static const char profile_json[] =
	"{\"name\": \"vt\", \"version\": \"1\",\n"
	" \"include\": [\"base\"],\n"
	" \"exec\": {\"allow\": [\"/usr/bin/python3*\", \"/usr/bin/git\", \"/opt/vt/bin/**\"],\n"
	"          \"review\": [\"/usr/bin/curl\", \"/usr/bin/git\"],\n"
	"          \"deny\": [\"/usr/bin/nc*\", \"/opt/vt/bin/evil\"], \"max_depth\": 3},\n"
	" \"files\": {\"read\": [\"/opt/vt/**\", \"/etc/ssl/**\", \"/run/secrets/**\", \"/\"],\n"
	"           \"write\": [\"/var/lib/vt/**\", \"/tmp/vt-*\"],\n"
	"           \"deny\": [\"/etc/shadow\", \"/root/**\", \"**/.ssh/**\", \"/opt/vt/keys/*\"]},\n"
	" \"secrets\": [{\"path\": \"/run/secrets/api_key\", \"ttl\": \"15m\"},\n"
	"             {\"path\": \"/run/secrets/forever\"},\n"
	"             {\"path\": \"/run/secrets/db*\", \"ttl\": \"90s\"}],\n"
	" \"network\": {\"connect\": [\"127.0.0.1:8080\", \"10.20.0.0/16:443\", \"[::1]:*\",\n"
	"                         \"[fd00::/8]:53\", \"0.0.0.0/0:0\"],\n"
	"             \"listen\": [9100, 0, 65535],\n"
	"             \"deny\": [\"169.254.169.254:*\", \"10.20.99.0/24:443\", \"*:25\"]},\n"
	" \"response\": {\"drift\": \"none\", \"violation\": \"freeze\", \"critical\": \"kill\",\n"
	"              \"lost\": \"stop\", \"escalate\": {\"count\": 3, \"window\": \"1m30s\", \"action\": \"kill\"}}}\n";

static struct am_profile *prof;
static char tmpdir[64];

static int setup(void **state)
{
	char path[128];
	struct am_diag d;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/am-verdict-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/p.json", tmpdir);
	FILE *f = fopen(path, "w");
	fputs(profile_json, f);
	fclose(f);
	if (am_profile_load(path, 0, &prof, &d)) {
		fprintf(stderr, "load: %s\n", d.msg);
		return -1;
	}
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static int teardown(void **state)
{
	am_profile_free(prof);
	return 0;
}

#define MIN (60ULL * 1000000000ULL)

struct fcase {
	const char *path;
	int write;
	uint64_t ns;
	enum am_verdict v;
	const char *rule;
};

static const struct fcase fcases[] = {
	{"/opt/vt/app.py", 0, 0, AM_ALLOW, "files.read[0]"},
	{"/opt/vt", 0, 0, AM_ALLOW, "files.read[0]"},
	{"/opt/vt/a/b/c", 0, 0, AM_ALLOW, "files.read[0]"},
	{"/opt/vt/app.py", 1, 0, AM_VIOLATION, "files.write"},
	{"/opt/vtx", 0, 0, AM_VIOLATION, "files.read"},
	{"/etc/ssl/certs/ca.pem", 0, 0, AM_ALLOW, "files.read[1]"},
	{"/", 0, 0, AM_ALLOW, "files.read[3]"},
	{"/etc", 0, 0, AM_VIOLATION, "files.read"},
	{"/etc/hosts", 0, 0, AM_VIOLATION, "files.read"},
	{"/etc/hosts", 1, 0, AM_VIOLATION, "files.write"},
	/* deny beats allow, for read and write */
	{"/etc/shadow", 0, 0, AM_CRITICAL, "files.deny[0]"},
	{"/etc/shadow", 1, 0, AM_CRITICAL, "files.deny[0]"},
	{"/root/.bashrc", 0, 0, AM_CRITICAL, "files.deny[1]"},
	{"/root", 0, 0, AM_CRITICAL, "files.deny[1]"},
	{"/opt/vt/.ssh/id_rsa", 0, 0, AM_CRITICAL, "files.deny[2]"},
	{"/home/u/.ssh/authorized_keys", 1, 0, AM_CRITICAL, "files.deny[2]"},
	{"/opt/vt/keys/k1", 0, 0, AM_CRITICAL, "files.deny[3]"},
	{"/opt/vt/keys/sub/k1", 0, 0, AM_ALLOW, "files.read[0]"},
	/* write grants */
	{"/var/lib/vt/state.db", 1, 0, AM_ALLOW, "files.write[0]"},
	{"/var/lib/vt/state.db", 0, 0, AM_ALLOW, "files.write[0]"},	/* write implies read */
	{"/tmp/vt-123", 1, 0, AM_ALLOW, "files.write[1]"},
	{"/tmp/vt-123/x", 1, 0, AM_VIOLATION, "files.write"},
	{"/tmp/vt", 1, 0, AM_VIOLATION, "files.write"},
	/* secrets: allowed within TTL, critical after, even though files.read
	 * covers /run/secrets/ */
	{"/run/secrets/api_key", 0, 0, AM_ALLOW, "secrets[0]"},
	{"/run/secrets/api_key", 0, 15 * MIN - 1, AM_ALLOW, "secrets[0]"},
	{"/run/secrets/api_key", 0, 15 * MIN, AM_CRITICAL, "secrets[0]"},
	{"/run/secrets/api_key", 0, 1000 * MIN, AM_CRITICAL, "secrets[0]"},
	{"/run/secrets/forever", 0, 1000 * MIN, AM_ALLOW, "secrets[1]"},
	{"/run/secrets/db_password", 0, 89ULL * 1000000000ULL, AM_ALLOW, "secrets[2]"},
	{"/run/secrets/db_password", 0, 91ULL * 1000000000ULL, AM_CRITICAL, "secrets[2]"},
	{"/run/secrets/other", 0, 1000 * MIN, AM_ALLOW, "files.read[2]"},
	{"/run/secrets/api_key", 1, 0, AM_VIOLATION, "files.write"},	/* secrets are read-only */
	/* base fragment */
	{"/etc/ld.so.cache", 0, 0, AM_ALLOW, "base:files.read[0]"},
	{"/usr/lib/x86_64-linux-gnu/libc.so.6", 0, 0, AM_ALLOW, "base:files.read[2]"},
	{"/usr/lib/locale/C.utf8/LC_CTYPE", 0, 0, AM_ALLOW, "base:files.read[4]"},
	{"/proc/4242/maps", 0, 0, AM_ALLOW, "base:files.read[14]"},
	{"/proc/4242/environ", 0, 0, AM_VIOLATION, "files.read"},
	{"/dev/null", 1, 0, AM_ALLOW, "base:files.write[0]"},
	{"/dev/null", 0, 0, AM_ALLOW, "base:files.write[0]"},
	{"/dev/urandom", 1, 0, AM_VIOLATION, "files.write"},
	/* odd paths */
	{"relative/path", 0, 0, AM_VIOLATION, "files.read"},
	{"", 0, 0, AM_VIOLATION, "files.read"},
	{"/etc//shadow", 0, 0, AM_VIOLATION, "files.read"},
	{"/opt/vt/../../etc/shadow", 0, 0, AM_ALLOW, "files.read[0]"},	/* kernel resolves first */
	{"/opt/vt/r\xc3\xa9sum\xc3\xa9", 0, 0, AM_ALLOW, "files.read[0]"},
};

static void test_files(void **state)
{
	struct am_judgement j;
	for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];
		am_judge_file(prof, c->path, c->write, c->ns, &j);
		if (j.verdict != c->v || strcmp(j.rule, c->rule))
			fail_msg("case %zu %s (%s): got %s %s, want %s %s", i, c->path,
				 c->write ? "w" : "r", am_verdict_str(j.verdict), j.rule,
				 am_verdict_str(c->v), c->rule);
	}
}

struct ecase {
	const char *path;
	unsigned depth;
	enum am_verdict v;
	const char *rule;
};

static const struct ecase ecases[] = {
	{"/usr/bin/python3", 0, AM_ALLOW, "exec.allow[0]"},
	{"/usr/bin/python3.11", 3, AM_ALLOW, "exec.allow[0]"},
	{"/usr/bin/python3.11", 4, AM_CRITICAL, "exec.max_depth"},
	{"/usr/bin/python3.11", 4000000000u, AM_CRITICAL, "exec.max_depth"},
	{"/usr/bin/python2", 0, AM_VIOLATION, "exec.allow"},
	{"/usr/bin/git", 0, AM_ALLOW, "exec.allow[1]"},	/* allow before review */
	{"/usr/bin/curl", 0, AM_DRIFT, "exec.review[0]"},
	{"/usr/bin/curl", 9, AM_CRITICAL, "exec.max_depth"},
	{"/usr/bin/nc", 0, AM_CRITICAL, "exec.deny[0]"},
	{"/usr/bin/ncat", 0, AM_CRITICAL, "exec.deny[0]"},
	{"/usr/bin/nc", 99, AM_CRITICAL, "exec.deny[0]"},	/* deny named before depth */
	{"/opt/vt/bin/tool", 1, AM_ALLOW, "exec.allow[2]"},
	{"/opt/vt/bin/sub/tool", 1, AM_ALLOW, "exec.allow[2]"},
	{"/opt/vt/bin/evil", 1, AM_CRITICAL, "exec.deny[1]"},
	{"/bin/sh", 0, AM_VIOLATION, "exec.allow"},
	{"/usr/bin/curl2", 0, AM_VIOLATION, "exec.allow"},
	{"/", 0, AM_VIOLATION, "exec.allow"},
};

static void test_exec(void **state)
{
	struct am_judgement j;
	for (size_t i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		const struct ecase *c = &ecases[i];
		am_judge_exec(prof, c->path, c->depth, &j);
		if (j.verdict != c->v || strcmp(j.rule, c->rule))
			fail_msg("case %zu %s depth %u: got %s %s, want %s %s", i, c->path, c->depth,
				 am_verdict_str(j.verdict), j.rule, am_verdict_str(c->v), c->rule);
	}
}

struct ncase {
	const char *addr;
	uint16_t port;
	enum am_verdict v;
	const char *rule;
};

static const struct ncase ncases[] = {
	{"127.0.0.1", 8080, AM_ALLOW, "network.connect[0]"},
	{"127.0.0.1", 8081, AM_VIOLATION, "network.connect"},
	{"::ffff:127.0.0.1", 8080, AM_ALLOW, "network.connect[0]"},
	{"10.20.1.2", 443, AM_ALLOW, "network.connect[1]"},
	{"10.20.99.7", 443, AM_CRITICAL, "network.deny[1]"},
	{"::ffff:10.20.99.7", 443, AM_CRITICAL, "network.deny[1]"},
	{"10.20.1.2", 80, AM_VIOLATION, "network.connect"},
	{"::1", 1, AM_ALLOW, "network.connect[2]"},
	{"::1", 65535, AM_ALLOW, "network.connect[2]"},
	{"::1", 25, AM_CRITICAL, "network.deny[2]"},
	{"::", 0, AM_VIOLATION, "network.connect"},
	{"fd00::53", 53, AM_ALLOW, "network.connect[3]"},
	{"fe80::53", 53, AM_VIOLATION, "network.connect"},
	{"169.254.169.254", 80, AM_CRITICAL, "network.deny[0]"},
	{"::ffff:169.254.169.254", 80, AM_CRITICAL, "network.deny[0]"},
	{"8.8.8.8", 0, AM_ALLOW, "network.connect[4]"},
	{"8.8.8.8", 1, AM_VIOLATION, "network.connect"},
	{"8.8.8.8", 25, AM_CRITICAL, "network.deny[2]"},
};

static void test_connect(void **state)
{
	struct am_judgement j;
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		const struct ncase *c = &ncases[i];
		uint8_t a[16] = {0};
		int fam = AF_INET;
		if (inet_pton(AF_INET, c->addr, a) != 1) {
			assert_int_equal(inet_pton(AF_INET6, c->addr, a), 1);
			fam = AF_INET6;
		}
		am_judge_connect(prof, fam, a, c->port, &j);
		if (j.verdict != c->v || strcmp(j.rule, c->rule))
			fail_msg("case %zu %s:%u: got %s %s, want %s %s", i, c->addr, c->port,
				 am_verdict_str(j.verdict), j.rule, am_verdict_str(c->v), c->rule);
	}
	uint8_t a[16] = {0};
	am_judge_connect(prof, AF_UNIX, a, 1, &j);
	assert_int_equal(j.verdict, AM_VIOLATION);
}

static void test_listen(void **state)
{
	static const struct { uint16_t port; enum am_verdict v; const char *rule; } c[] = {
		{9100, AM_ALLOW, "network.listen[0]"},
		{0, AM_ALLOW, "network.listen[1]"},
		{65535, AM_ALLOW, "network.listen[2]"},
		{25, AM_CRITICAL, "network.deny[2]"},	/* "*:25" covers listening too */
		{9101, AM_VIOLATION, "network.listen"},
		{443, AM_VIOLATION, "network.listen"},
	};
	struct am_judgement j;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		am_judge_listen(prof, c[i].port, &j);
		assert_int_equal(j.verdict, c[i].v);
		assert_string_equal(j.rule, c[i].rule);
	}
}

static void test_actions_and_fields(void **state)
{
	assert_int_equal(am_profile_action(prof, AM_ALLOW), AM_ACT_NONE);
	assert_int_equal(am_profile_action(prof, AM_DRIFT), AM_ACT_NONE);
	assert_int_equal(am_profile_action(prof, AM_VIOLATION), AM_ACT_FREEZE);
	assert_int_equal(am_profile_action(prof, AM_CRITICAL), AM_ACT_KILL);
	assert_int_equal(am_profile_lost_action(prof), AM_ACT_STOP);
	const struct am_escalate *e = am_profile_escalate(prof);
	assert_non_null(e);
	assert_int_equal(e->count, 3);
	assert_int_equal(e->window_ns, 90ULL * 1000000000ULL);
	assert_int_equal(e->action, AM_ACT_KILL);
	unsigned d;
	assert_int_equal(am_profile_max_depth(prof, &d), 1);
	assert_int_equal(d, 3);
	assert_int_equal(am_profile_mode(prof), AM_MODE_ENFORCE);
	assert_int_equal(am_profile_approval(prof, 0), AM_APPROVAL_MISSING);
	assert_string_equal(am_verdict_str(AM_CRITICAL), "critical");
	assert_string_equal(am_action_str(AM_ACT_FREEZE), "freeze");
	/* lists as written, fragment entries after the profile's own */
	assert_int_equal(am_profile_list_len(prof, AM_L_EXEC_DENY), 2);
	assert_string_equal(am_profile_list_item(prof, AM_L_EXEC_DENY, 1), "/opt/vt/bin/evil");
	assert_null(am_profile_list_item(prof, AM_L_EXEC_DENY, 2));
	assert_string_equal(am_profile_list_item(prof, AM_L_FILES_READ, 4), "/etc/ld.so.cache");
	assert_string_equal(am_profile_list_item(prof, AM_L_NET_LISTEN, 0), "9100");
	assert_int_equal(am_profile_secret_ttl(prof, 0), 15 * MIN);
	assert_int_equal(am_profile_secret_ttl(prof, 1), 0);
}

static void test_spec_example(void **state)
{
	struct am_profile *p;
	struct am_diag d;
	struct am_judgement j;
	assert_int_equal(am_profile_load("tests/profiles/good/spec-example.json", 0, &p, &d), 0);
	assert_string_equal(am_profile_name(p), "support-bot");
	assert_string_equal(am_profile_version(p), "1.4.0");
	assert_string_equal(am_profile_match_exe(p), "/opt/support-bot/bin/bot");
	assert_int_equal(am_profile_match_uid(p), 1001);
	assert_string_equal(am_profile_match_cgroup(p), "/system.slice/support-bot.service");
	assert_string_equal(am_profile_approved_by(p), "secops@example.com");
	assert_int_equal(am_profile_approved_at(p), 1795168800);	/* 2026-11-20T10:00:00Z */
	assert_int_equal(am_profile_expires(p), 1803081600);	/* 2027-02-20T00:00:00Z */
	assert_int_equal(am_profile_approval(p, 1795168800), AM_APPROVED);
	assert_int_equal(am_profile_expired(p, 1803081599), 0);
	assert_int_equal(am_profile_expired(p, 1803081600), 1);
	assert_int_equal(strlen(am_profile_sha256(p)), 64);
	am_judge_exec(p, "/usr/bin/nc.openbsd", 1, &j);
	assert_int_equal(j.verdict, AM_CRITICAL);
	am_judge_exec(p, "/usr/bin/curl", 1, &j);
	assert_int_equal(j.verdict, AM_DRIFT);
	am_judge_file(p, "/home/x/.ssh/id_ed25519", 0, 0, &j);
	assert_string_equal(j.rule, "files.deny[2]");
	am_judge_file(p, "/etc/ld.so.cache", 0, 0, &j);
	assert_string_equal(j.rule, "abstractions/base:files.read[0]");
	am_profile_free(p);
}

/* am_rule_label() writes rule names by hand (once per judged event): the
 * same text as snprintf("%.24s:%s[%u]" / "%s[%u]"), cut the same way. */
static void test_rule_label_like_snprintf(void **state)
{
	char got[64], want[64];
	int seen_origin = 0;
	for (int l = 0; l < AM_L__COUNT; l++) {
		const struct rule_list *r = &prof->lists[l];
		for (size_t i = 0; i < r->n; i++) {
			uint16_t o = r->origin[i];
			for (size_t n = 0; n <= sizeof(got); n++) {
				memset(got, 'X', sizeof(got));
				memset(want, 'X', sizeof(want));
				if (o && o < prof->norigins && prof->origins[o]) {
					seen_origin = 1;
					snprintf(want, n, "%.24s:%s[%u]", prof->origins[o], am_list_names[l],
						 r->index[i]);
				} else {
					snprintf(want, n, "%s[%u]", am_list_names[l], r->index[i]);
				}
				am_rule_label(prof, (enum am_list)l, i, got, n);
				assert_memory_equal(got, want, sizeof(got));
			}
		}
	}
	assert_true(seen_origin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_actions_and_fields),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_rule_label_like_snprintf),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
