#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

int am_bpf_seen_add(struct am_bpf *b, const struct am_seen_key *k)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.am_seen), k, &one, BPF_ANY))
		return -errno;
	return 0;
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
