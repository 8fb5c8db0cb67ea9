/* Verdicts are declared in profile.h (am_judge_*); this header exists so
 * callers that only judge can say so. Precedence, per SPEC "deny beats allow":
 *
 *   exec:    exec.deny -> critical; depth > exec.max_depth -> critical;
 *            exec.allow -> allow; exec.review -> drift; else violation.
 *   file:    files.deny -> critical; a secrets[] path: read within its TTL
 *            (from the agent's start) -> allow, after it -> critical;
 *            write: files.write -> allow; read: files.read or files.write
 *            -> allow; else violation ("files.read" / "files.write").
 *   connect: network.deny -> critical; network.connect -> allow; else
 *            violation. Mapped IPv4 is judged as IPv4.
 *   listen:  network.deny entries with address '*' and this port (or '*')
 *            -> critical; network.listen -> allow; else violation.
 * Among several matching rules of one list the first one is named.
 */
#ifndef AGENTMON_VERDICT_H
#define AGENTMON_VERDICT_H

#include "profile.h"

#endif
