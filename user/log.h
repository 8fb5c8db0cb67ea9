/* One error convention for all of agentmon's userspace.
 *
 * Functions return 0 or -errno (or a positive count where documented).
 * Errors shown to the user are one line on stderr: "agentmon: <what>: <why>".
 * Exit status is decided in one place per command (see user/main.c):
 *   0 success, 1 failure or violation found, 2 bad usage or bad input.
 */
#ifndef AGENTMON_LOG_H
#define AGENTMON_LOG_H

#include <stdarg.h>

enum {
	AM_EXIT_OK = 0,
	AM_EXIT_FAIL = 1,
	AM_EXIT_USAGE = 2,
};

/* Verbosity: 0 quiet (errors only), 1 normal warnings/info, 2 debug (-v). */
extern int am_verbose;

/* "agentmon: " + formatted message + "\n" on stderr. */
void am_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "agentmon: warning: ..." on stderr. */
void am_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void am_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
