#include <stdio.h>
#include "log.h"

int am_verbose = 1;

static void emit(const char *prefix, const char *fmt, va_list ap)
{
	/* Build the line first so it reaches stderr in one write. */
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "agentmon: %s", prefix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	fprintf(stderr, "%s\n", buf);
}

void am_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void am_warn(const char *fmt, ...)
{
	va_list ap;
	if (am_verbose < 1)
		return;
	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}

void am_debug(const char *fmt, ...)
{
	va_list ap;
	if (am_verbose < 2)
		return;
	va_start(ap, fmt);
	emit("debug: ", fmt, ap);
	va_end(ap);
}
