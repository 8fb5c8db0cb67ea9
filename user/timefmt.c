#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "timefmt.h"

/* Read exactly n decimal digits. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int am_parse_rfc3339(const char *s, time_t *out, const char **why)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;

	*why = "expected an RFC 3339 time such as 2026-11-20T10:00:00Z";
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D))
		return -EINVAL;
	if (*p != 'T' && *p != 't')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -EINVAL;
	} else {
		*why = "time zone missing: end the time with Z or an offset such as +02:00";
		return -EINVAL;
	}
	if (*p) {
		*why = "unexpected text after the time";
		return -EINVAL;
	}
	*why = "date or time out of range";
	if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	if (D > mdays[M - 1] + (M == 2 && leap(Y)))
		return -EINVAL;
	if (Y < 1970) {
		*why = "time before 1970";
		return -EINVAL;
	}

	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
			.tm_hour = h, .tm_min = m, .tm_sec = sec};
	time_t t = timegm(&tm);	/* sec == 60 (leap second) rolls over */
	t -= (time_t)sign * (oh * 3600 + om * 60);
	*out = t;
	*why = NULL;
	return 0;
}

void am_format_rfc3339(time_t t, char *buf, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

int am_parse_duration(const char *s, uint64_t *ns, const char **why)
{
	static const struct { char unit; uint64_t sec; } units[] = {
		{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
	};
	const char *p = s;
	size_t next = 0;	/* index of the smallest unit still allowed */
	uint64_t total = 0;

	*why = "expected a duration such as 90s, 15m, 2h or 1h30m";
	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t v = 0;
		int nd = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p++ - '0');
			if (++nd > 9) {
				*why = "duration too long (at most 366d)";
				return -EINVAL;
			}
		}
		if (!nd)
			return -EINVAL;
		size_t u = next;
		while (u < 4 && units[u].unit != *p)
			u++;
		if (u == 4) {
			*why = *p ? "unknown or misplaced duration unit (use d, h, m, s in that order)"
				  : "duration unit missing (use d, h, m or s, e.g. 90s)";
			return -EINVAL;
		}
		p++;
		next = u + 1;
		total += v * units[u].sec;	/* v < 1e9, sec <= 86400: no overflow */
		if (total > AM_DURATION_MAX_NS / 1000000000ULL) {
			*why = "duration too long (at most 366d)";
			return -EINVAL;
		}
	}
	if (!total) {
		*why = "duration must be greater than zero";
		return -EINVAL;
	}
	*ns = total * 1000000000ULL;
	*why = NULL;
	return 0;
}
