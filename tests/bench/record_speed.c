/* Userspace cost of turning one event into its JSON line: the jansson
 * formatter agentmon used before (tests/unit/record_ref.h) against the
 * hand-written writer (user/record.c), on a typical `open` record and an
 * `exec` record with ancestry: best of 3 rounds of N (default 20,000).
 * Prints one JSON object with ns per record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "bench_common.h"
#include "../unit/record_ref.h"

static void fill(struct am_record *r, int exec)
{
	static const char args[] = "python3\0-m\0agent.tools.search\0--query\0x";
	memset(r, 0, sizeof(*r));
	r->ts_ns = 1795684443123456789ull;
	r->host = "agent-host-1";
	r->agent = "support-bot";
	r->profile_version = "1.4.0";
	r->profile_sha256 = "9f2c5b7e0d1a4c3b8e6f9a2d5c7b1e4f3a6d9c2b5e8f1a4d7c0b3e6f9a2d5c8b";
	r->pid = 424242;
	r->ppid = 424200;
	r->uid = 1001;
	r->comm = "open_loop";
	r->exe = "/opt/support-bot/bin/bot";
	r->cgroup = "/agentmon/support-bot-424200";
	r->verdict = "allow";
	r->rule = "files.read[0]";
	r->action = "none";
	if (exec) {
		r->kind = "exec";
		am_record_set_args(r, args, sizeof(args));
		r->n_ancestry = 2;
		r->ancestry[0] = (struct am_ancestor){ 424200, "/opt/support-bot/bin/bot" };
		r->ancestry[1] = (struct am_ancestor){ 424231, "/usr/bin/dash" };
	} else {
		r->kind = "open";
		r->path = "/var/lib/support-bot/cache/f123456";
		r->access = "read";
		r->file_op = "open";
	}
}

static double run(struct am_record *r, int ref, long n)
{
	size_t sink = 0;
	long long t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		r->ts_ns += 1000;
		char *s = ref ? am_record_json_ref(r) : am_record_json(r);
		sink += strlen(s);
		free(s);
	}
	long long t1 = bench_now_ns();
	if (!sink)
		abort();
	return (double)(t1 - t0) / n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	struct am_record o, e;
	double best[4] = { 1e18, 1e18, 1e18, 1e18 };

	fill(&o, 0);
	fill(&e, 1);
	for (int round = 0; round < 3; round++) {
		double v[4] = { run(&o, 1, n), run(&o, 0, n), run(&e, 1, n), run(&e, 0, n) };
		for (int i = 0; i < 4; i++)
			if (v[i] < best[i])
				best[i] = v[i];
	}
	printf("{\"open_jansson_ns\":%.0f,\"open_writer_ns\":%.0f,"
	       "\"exec_jansson_ns\":%.0f,\"exec_writer_ns\":%.0f}\n",
	       best[0], best[1], best[2], best[3]);
	return 0;
}
