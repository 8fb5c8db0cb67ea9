/* agentmon: command table and dispatch. */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "log.h"

#ifndef AGENTMON_VERSION
#define AGENTMON_VERSION "0.1.0"
#endif

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);   /* NULL: not built yet */
	const char *summary;
};

static const struct cmd cmds[] = {
	{ "check",  cmd_check, "validate profiles (release gate); print their sha256" },
	{ "exec",   cmd_exec,  "run a command as an agent under a profile" },
	{ "run",    cmd_run,    "the daemon: watch every agent matched by a profile" },
	{ "tail",   cmd_tail,   "stream live events from the daemon" },
	{ "status", cmd_status, "agents, profiles, counters, attached programs" },
	{ "freeze", cmd_freeze, "freeze an agent's cgroup (agent name, pid or cgroup path)" },
	{ "thaw",   cmd_thaw,   "thaw a frozen agent" },
	{ "kill",   cmd_kill,   "kill an agent's whole process tree" },
	{ "learn",  NULL,      "record a command's activity into a draft profile" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: agentmon [--help] [--version] COMMAND [ARG...]\n\n"
		   "Runtime monitor for AI agents: holds what they do (exec, files, network)\n"
		   "against their release-approved profile and contains those that leave it.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s%s\n", cmds[i].name, cmds[i].summary,
			cmds[i].fn ? "" : " (not built yet)");
	fprintf(f, "\n'agentmon COMMAND --help' describes a command.\n"
		   "Exit status: 0 success, 1 failure or violation found, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return AM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("agentmon %s\n", AGENTMON_VERSION);
		return AM_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (!cmds[i].fn) {
			am_err("%s: not implemented yet", cmds[i].name);
			return AM_EXIT_USAGE;
		}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	am_err("unknown command '%s' (see agentmon --help)", argv[1]);
	return AM_EXIT_USAGE;
}
