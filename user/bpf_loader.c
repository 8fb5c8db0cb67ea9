#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_loader.h"
#include "agentmon.skel.h"
#include "log.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (am_verbose < 2)
		return 0;
	fprintf(stderr, "agentmon: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void am_bpf_setup_logging(void)
{
	libbpf_set_print(libbpf_print);
}

/* An empty key (what == 0) is never looked up: a cleared slot matches nothing. */
static void forget_memo(struct am_bpf *b)
{
	if (b->memo)
		memset(b->memo, 0, AM_SEEN_MEMO * sizeof(*b->memo));
}

int am_bpf_load(struct am_bpf *b, const struct am_bpf_opts *o)
{
	struct agentmon_bpf *s;
	uint32_t rb = o && o->ringbuf_bytes ? o->ringbuf_bytes : AM_RINGBUF_DEFAULT;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	int err;

	/* Kernels without memcg accounting of BPF memory charge RLIMIT_MEMLOCK. */
	setrlimit(RLIMIT_MEMLOCK, &rl);
	b->skel = NULL;
	s = agentmon_bpf__open();
	if (!s) {
		err = -errno;
		am_err("bpf: open: %s", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(s->maps.am_events, rb);
	if (err) {
		am_err("bpf: ring buffer size %u: %s", rb, strerror(-err));
		goto fail;
	}

	/* The sock_addr programs attach to an agent's cgroup once it exists
	 * (am_netpol_install()), not here. */
	bpf_program__set_autoattach(s->progs.connect4, false);
	bpf_program__set_autoattach(s->progs.connect6, false);
	bpf_program__set_autoattach(s->progs.sendmsg4, false);
	bpf_program__set_autoattach(s->progs.sendmsg6, false);

	err = agentmon_bpf__load(s);
	if (err) {
		am_err("bpf: load: %s%s", strerror(-err), am_verbose < 2 ? " (run with -v for the verifier log)" : "");
		goto fail;
	}
	err = agentmon_bpf__attach(s);
	if (err) {
		am_err("bpf: attach: %s", strerror(-err));
		goto fail;
	}
	b->skel = s;
	b->memo = calloc(AM_SEEN_MEMO, sizeof(*b->memo));   /* optional: see bpf_loader.h */
	return 0;
fail:
	agentmon_bpf__destroy(s);
	return err;
}

void am_bpf_release_in_background(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		char c;
		int null = open("/dev/null", O_RDWR);
		/* hold no one's terminal or pipe open */
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		close(p[1]);
		/* EOF once the parent has exited: then ours are the last references */
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	if (pid < 0)
		close(p[1]);
	/* p[1] stays open until this process exits */
}

void am_bpf_destroy(struct am_bpf *b)
{
	if (!b->skel)
		return;
	agentmon_bpf__destroy(b->skel);
	b->skel = NULL;
	free(b->memo);
	b->memo = NULL;
}

int am_bpf_events_fd(const struct am_bpf *b)
{
	return bpf_map__fd(b->skel->maps.am_events);
}

int am_bpf_track(struct am_bpf *b, pid_t pid, uint32_t agent_id, uint32_t depth)
{
	struct am_task t = { .agent_id = agent_id, .depth = depth };
	uint32_t k = (uint32_t)pid;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_tasks), &k, &t, BPF_ANY))
		return -errno;
	return 0;
}

int am_bpf_agent_add(struct am_bpf *b, uint32_t agent_id)
{
	struct am_agent a = {};

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_agents), &agent_id, &a, BPF_NOEXIST))
		return -errno;
	return 0;
}

int am_bpf_agent_del(struct am_bpf *b, uint32_t agent_id)
{
	forget_memo(b);   /* the id may be given again */
	if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.am_agents), &agent_id))
		return -errno;
	return 0;
}

int am_bpf_agent_read(struct am_bpf *b, uint32_t agent_id, struct am_agent *out)
{
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.am_agents), &agent_id, out))
		return -errno;
	return 0;
}

int am_bpf_seen_flush(struct am_bpf *b)
{
	static const __u8 ones[AM_SEEN_BATCH] = { [0 ... AM_SEEN_BATCH - 1] = 1 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 count = b->seen_n;
	int fd, err = 0;

	if (!count || !b->skel) {
		b->seen_n = 0;   /* nothing loaded: nothing to tell */
		return 0;
	}
	fd = bpf_map__fd(b->skel->maps.am_seen);
	if (bpf_map_update_batch(fd, b->seen_q, ones, &count, &opts)) {
		/* a kernel without batch updates, or one that stopped part
		 * way: all of them one by one (updating twice is harmless) */
		for (__u32 i = 0; i < b->seen_n; i++)
			if (bpf_map_update_elem(fd, &b->seen_q[i], ones, BPF_ANY))
				err = -errno;
	}
	b->seen_n = 0;
	return err;
}

static void seen_queue(struct am_bpf *b, const struct am_seen_key *k)
{
	b->seen_q[b->seen_n++] = *k;
	if (b->seen_n == 1 || b->seen_n == AM_SEEN_BATCH)
		am_bpf_seen_flush(b);
}

static struct am_seen_memo *memo_slot(const struct am_bpf *b, const struct am_seen_key *k)
{
	uint64_t h = (k->a ^ (k->b * 0x9e3779b97f4a7c15ull) ^ (k->c * 0xc2b2ae3d27d4eb4full) ^
		      ((uint64_t)k->what << 32) ^ k->agent_id) * 0x9e3779b97f4a7c15ull;
	return &b->memo[h >> 50];   /* top 14 bits */
}
_Static_assert(AM_SEEN_MEMO == 1 << 14, "memo_slot takes 14 bits");

int am_bpf_seen_allowed(struct am_bpf *b, const struct am_seen_key *k)
{
	if (!b->memo) {
		seen_queue(b, k);
		return 0;
	}
	struct am_seen_memo *m = memo_slot(b, k);
	m->k = *k;
	m->sent_ns = 0;
	return 0;
}

int am_bpf_seen_repeat(struct am_bpf *b, const struct am_seen_key *k, uint64_t ts_ns)
{
	if (!b->memo)
		return 0;
	struct am_seen_memo *m = memo_slot(b, k);
	if (memcmp(&m->k, k, sizeof(*k)) != 0)
		return 0;
	if (!m->sent_ns || ts_ns > m->sent_ns + AM_SEEN_RESEND_NS) {
		seen_queue(b, k);
		m->sent_ns = ts_ns ? ts_ns : 1;
	}
	return 1;
}

int am_bpf_stats(struct am_bpf *b, uint64_t out[AM_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	int fd = bpf_map__fd(b->skel->maps.am_stats);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < AM_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

/* Delete every entry of map `fd` whose key (or value, if by_value) has the
 * u32 `id` at byte offset `off`. Keys are collected first: deleting while
 * walking with get_next_key can restart or skip the walk. */
static int delete_where(int fd, size_t ksz, size_t vsz, size_t off, int by_value, uint32_t id)
{
	size_t cap = 256, n = 0;
	char *keys = malloc(cap * ksz), *k = malloc(ksz), *v = malloc(vsz ? vsz : 1);
	int err = 0, first = 1;

	if (!keys || !k || !v) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (bpf_map_get_next_key(fd, first ? NULL : k, k))
			break;
		first = 0;
		uint32_t got;
		if (by_value) {
			if (bpf_map_lookup_elem(fd, k, v))
				continue;
			memcpy(&got, v + off, sizeof(got));
		} else {
			memcpy(&got, k + off, sizeof(got));
		}
		if (got != id)
			continue;
		if (n == cap) {
			char *nk = realloc(keys, 2 * cap * ksz);
			if (!nk) {
				err = -ENOMEM;
				goto out;
			}
			keys = nk;
			cap *= 2;
		}
		memcpy(keys + n * ksz, k, ksz);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * ksz);
out:
	free(keys);
	free(k);
	free(v);
	return err;
}

int am_bpf_policy_clear(struct am_bpf *b, uint32_t agent_id)
{
	struct agentmon_bpf *s = b->skel;
	struct am_agent a;
	int err = 0, e;

	/* Queued allow keys first, or one could land after the clear. */
	am_bpf_seen_flush(b);
	forget_memo(b);
	/* Flags first: the kernel must not enforce a half-removed policy. */
	if (!am_bpf_agent_read(b, agent_id, &a)) {
		a.flags = 0;
		a.max_depth = 0;
		bpf_map_update_elem(bpf_map__fd(s->maps.am_agents), &agent_id, &a, BPF_EXIST);
	}
	e = delete_where(bpf_map__fd(s->maps.am_execpol), sizeof(struct am_execpol_key), 1,
			 offsetof(struct am_execpol_key, agent_id), 0, agent_id);
	err = err ? err : e;
	e = delete_where(bpf_map__fd(s->maps.am_netpol), sizeof(struct am_netpol_key),
			 sizeof(struct am_netpol_val), offsetof(struct am_netpol_key, agent_id), 0,
			 agent_id);
	err = err ? err : e;
	e = delete_where(bpf_map__fd(s->maps.am_seen), sizeof(struct am_seen_key), 1,
			 offsetof(struct am_seen_key, agent_id), 0, agent_id);
	err = err ? err : e;
	e = delete_where(bpf_map__fd(s->maps.am_netcg), sizeof(uint64_t), sizeof(uint32_t), 0, 1,
			 agent_id);
	return err ? err : e;
}

int am_bpf_untrack_agent(struct am_bpf *b, uint32_t agent_id)
{
	return delete_where(bpf_map__fd(b->skel->maps.am_tasks), sizeof(uint32_t),
			    sizeof(struct am_task), offsetof(struct am_task, agent_id), 1, agent_id);
}
