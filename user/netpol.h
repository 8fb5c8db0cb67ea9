/* The part of an agent's network policy the kernel enforces synchronously:
 * connects and UDP sends to destinations the profile does not allow are
 * refused with EPERM by cgroup sock_addr programs (bpf/netpol.bpf.h). */
#ifndef AGENTMON_NETPOL_H
#define AGENTMON_NETPOL_H

#include <stddef.h>
#include <stdint.h>
#include "agentmon.h"
#include "bpf_loader.h"
#include "netrule.h"
#include "profile.h"

struct am_netpol_entry {
	struct am_netpol_key key;
	struct am_netpol_val val;
};

/* Pure: turn network.connect (allow) and network.deny rules of agent
 * `agent_id` into LPM-trie entries, one per distinct prefix, each complete on
 * its own: its value holds the ports of every allow rule and every deny rule
 * whose prefix covers it (they all cover any address that falls under it),
 * so the longest-prefix match alone decides, and a deny wins over an allow.
 * A rule for any address ("*:PORT") becomes an IPv4 /0 and an IPv6 /0.
 * Returns the number of entries written (<= max), or -ENOSPC. */
int am_netpol_build(uint32_t agent_id, const struct am_netrule *allow, size_t nallow,
		    const struct am_netrule *deny, size_t ndeny, struct am_netpol_entry *out,
		    size_t max);

/* Which AM_AGF_NET_* bits a profile asks for: refusing a class of verdicts
 * only when its response is stop, freeze or kill (alert and none let the
 * operation happen and report it). 0 in audit mode. */
uint32_t am_netpol_flags(const struct am_profile *p, int audit);

struct am_netpol_stats {
	unsigned entries;
	uint32_t flags;
	int attached;
};

/* Install the policy of `p` for `agent_id`, whose cgroup is `cgpath` (id
 * `cgroup_id`), and attach the sock_addr programs to that cgroup (their
 * links live in the skeleton and go with am_bpf_destroy()). A no-op when
 * nothing is to be refused (audit mode, alert responses). The daemon passes
 * cgpath NULL (its programs sit on the cgroup2 root, am_netpol_attach) and
 * cgroup_id 0 for agents that have no cgroup of their own. */
int am_netpol_install(struct am_bpf *b, uint32_t agent_id, const struct am_profile *p, int audit,
		      const char *cgpath, uint64_t cgroup_id, struct am_netpol_stats *st);

/* Attach the sock_addr programs to the cgroup `cgpath` (once per object: a
 * second call counts them and attaches nothing). At the cgroup2 root they see
 * every socket of the host and decide per task (am_tasks), which covers
 * agents whose sockets predate their tracking. */
int am_netpol_attach(struct am_bpf *b, const char *cgpath, int *attached);

#endif
