#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exec_args.h"

const char am_exec_usage[] =
	"usage: agentmon exec --profile FILE [--json FILE] [--audit] [-v] -- CMD [ARG...]\n"
	"\n"
	"Run CMD as an agent under the release-approved profile FILE: in its own\n"
	"cgroup, watched from the kernel with all its descendants until the last\n"
	"exits. Exits with CMD's status (128+signal if it was killed).\n"
	"\n"
	"  -p, --profile FILE     the agent's profile (required)\n"
	"  -j, --json FILE        write events as JSON lines to FILE ('-': stdout)\n"
	"      --audit            report actions as 'would' instead of running them\n"
	"      --allow-unapproved run even if the profile is invalid or expired (logged)\n"
	"      --ringbuf-size N   kernel event buffer in bytes (power of two, >= 4096)\n"
	"      --socket PATH      register with the daemon at PATH (default: the daemon\n"
	"                         at /run/agentmon/agentmon.sock if one runs)\n"
	"      --standalone       load agentmon's own BPF programs even if a daemon runs\n"
	"  -v, --verbose          debug output (libbpf, verifier)\n"
	"  -h, --help             this text\n"
	"\n"
	"Without --json, events are printed as readable lines on stderr. When a daemon\n"
	"runs, the agent is registered with it (it appears in status, tail, freeze)\n"
	"and exec prints the events the daemon sends; if the daemon goes away while\n"
	"the agent runs, exec kills the agent rather than leave it unwatched.\n";

enum { OPT_AUDIT = 256, OPT_UNAPPROVED, OPT_RINGBUF, OPT_SOCKET, OPT_STANDALONE };

int am_exec_parse(int argc, char **argv, struct am_exec_args *a, char *err, int errsz)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "json", required_argument, NULL, 'j' },
		{ "audit", no_argument, NULL, OPT_AUDIT },
		{ "allow-unapproved", no_argument, NULL, OPT_UNAPPROVED },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "standalone", no_argument, NULL, OPT_STANDALONE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option, which is CMD */
	while ((c = getopt_long(argc, argv, "+:p:j:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->profile = optarg; break;
		case 'j': a->json = optarg; break;
		case 'v': a->verbose++; break;
		case 'h': a->help = 1; return 0;
		case OPT_AUDIT: a->audit = 1; break;
		case OPT_UNAPPROVED: a->allow_unapproved = 1; break;
		case OPT_SOCKET: a->socket = optarg; break;
		case OPT_STANDALONE: a->standalone = 1; break;
		case OPT_RINGBUF: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || v < 4096 || v > (1ull << 30) || (v & (v - 1))) {
				snprintf(err, errsz, "--ringbuf-size: '%s' is not a power of two between 4096 and 2^30", optarg);
				return -EINVAL;
			}
			a->ringbuf_bytes = (uint32_t)v;
			break;
		}
		case ':':
			snprintf(err, errsz, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errsz, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!a->profile) {
		snprintf(err, errsz, "--profile FILE is required");
		return -EINVAL;
	}
	if (optind >= argc) {
		snprintf(err, errsz, "no command given (agentmon exec --profile FILE -- CMD [ARG...])");
		return -EINVAL;
	}
	a->cmd = argv + optind;
	a->ncmd = argc - optind;
	return 0;
}
