/* Time formats used by profiles: RFC 3339 timestamps and short durations. */
#ifndef AGENTMON_TIMEFMT_H
#define AGENTMON_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Longest duration accepted: 366 days. Longer TTLs/windows are a typo. */
#define AM_DURATION_MAX_NS (366ULL * 86400 * 1000000000ULL)

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (RFC 3339 section 5.6;
 * 'T'/'Z' may be lower case; the fraction is accepted and dropped).
 * 0 and *out = seconds since the epoch, or -EINVAL with *why set. */
int am_parse_rfc3339(const char *s, time_t *out, const char **why);

/* Format as "YYYY-MM-DDTHH:MM:SSZ" (UTC). buf needs 21 bytes. */
void am_format_rfc3339(time_t t, char *buf, size_t n);

/* Parse "90s", "15m", "2h", "1d", "1h30m", "1d2h3m4s": units in descending
 * order, each at most once, value > 0 and <= AM_DURATION_MAX_NS.
 * 0 and *ns, or -EINVAL with *why set. */
int am_parse_duration(const char *s, uint64_t *ns, const char **why);

#endif
