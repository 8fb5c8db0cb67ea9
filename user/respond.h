/* Running a response action against an agent and confirming its outcome. */
#ifndef AGENTMON_RESPOND_H
#define AGENTMON_RESPOND_H

#include <stddef.h>
#include <sys/types.h>
#include "profile.h"

/* Run `act` on the process `pid` of the agent whose cgroup is `cgroup_abs`.
 * Writes the confirmed outcome to `outcome` ("stopped", "frozen", "killed",
 * "alerted", or "failed: <why>"). Returns 0 when the outcome is confirmed. */
int am_respond(enum am_action act, pid_t pid, const char *cgroup_abs, char *outcome, size_t sz);

#endif
