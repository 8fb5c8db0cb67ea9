/* One event from the daemon (SPEC "Event", a JSON object) as one readable
 * line, in the look of the daemon's own lines (record.c am_record_human):
 *
 *   09:14:03.123 support-bot 4242 violation connect tcp 203.0.113.7:443
 *     [network.connect] -> freeze: frozen via bot(4200) > sh(4231)
 *
 * (one line; wrapped here). Time is the event's UTC time of day, as the
 * daemon prints it. The event comes from over a socket: a field that is
 * missing or of the wrong type is left out (or shown as "?"), text is
 * escaped for the terminal, and the line is bounded by the buffer. */
#ifndef AGENTMON_EVENT_HUMAN_H
#define AGENTMON_EVENT_HUMAN_H

#include <stddef.h>
#include <jansson.h>

/* Longest argument and number of arguments shown of an exec's argv. */
#define AM_HUMAN_ARG_MAX   80
#define AM_HUMAN_ARGS_MAX  16
/* Ancestors shown: the first and the last few, "..." between. */
#define AM_HUMAN_ANCESTRY_MAX 6

/* Format ev into buf (sz > 0), no newline, always NUL-terminated. Returns the
 * length written. ev may be anything (NULL, not an object): that gives "?". */
size_t am_event_human(const json_t *ev, char *buf, size_t sz);

#endif
