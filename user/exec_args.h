/* Command line of `agentmon exec`, parsed without side effects (unit-tested). */
#ifndef AGENTMON_EXEC_ARGS_H
#define AGENTMON_EXEC_ARGS_H

#include <stdint.h>

struct am_exec_args {
	const char *profile;
	const char *json;          /* NULL: no JSON; "-": stdout */
	int audit;                 /* force audit mode */
	int allow_unapproved;      /* run even if the profile is invalid/expired (loudly) */
	int help;
	int verbose;
	uint32_t ringbuf_bytes;    /* 0: default */
	const char *socket;        /* daemon socket given with --socket, or NULL */
	int standalone;            /* never register with a daemon */
	char **cmd;                /* NULL-terminated */
	int ncmd;
};

/* 0 on success; on bad usage returns -EINVAL and writes a one-line reason
 * (without the "agentmon: exec: " prefix) to err. argv[0] is "exec". */
int am_exec_parse(int argc, char **argv, struct am_exec_args *a, char *err, int errsz);

extern const char am_exec_usage[];

#endif
