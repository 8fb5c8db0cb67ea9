#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "linebuf.h"
#include "utf8.h"

#define ELLIPSIS "..."

void am_line_init(struct am_line *l, char *buf, size_t sz)
{
	l->buf = buf;
	l->sz = sz;
	l->len = 0;
	l->full = false;
	if (sz)
		buf[0] = 0;
}

/* Room kept for the "..." that marks a truncated line (none in tiny buffers). */
static size_t limit(const struct am_line *l)
{
	size_t reserve = l->sz >= 8 ? strlen(ELLIPSIS) : 0;
	return l->sz ? l->sz - 1 - reserve : 0;
}

/* Append n raw bytes as one unit, or mark the line full. */
static bool raw(struct am_line *l, const char *s, size_t n)
{
	if (l->full)
		return false;
	if (l->len + n > limit(l)) {
		l->full = true;
		if (l->sz >= 8) {
			memcpy(l->buf + l->len, ELLIPSIS, strlen(ELLIPSIS));
			l->len += strlen(ELLIPSIS);
		}
		if (l->sz)
			l->buf[l->len] = 0;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = 0;
	return true;
}


static bool esc_byte(struct am_line *l, unsigned char c)
{
	char x[8];
	snprintf(x, sizeof(x), "\\x%02x", c);
	return raw(l, x, 4);
}

void am_line_putn(struct am_line *l, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (!s)
		return;
	while (i < n && !l->full) {
		size_t k = am_utf8_seq(u + i, n - i);
		if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
			esc_byte(l, u[i]);
			i++;
		} else if (k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) {
			/* C1 controls: 0x9b is CSI to many terminals */
			if (esc_byte(l, u[i]))
				esc_byte(l, u[i + 1]);
			i += 2;
		} else {
			raw(l, s + i, k);
			i += k;
		}
	}
}

void am_line_put(struct am_line *l, const char *s)
{
	if (s)
		am_line_putn(l, s, strlen(s));
}

void am_line_put_max(struct am_line *l, const char *s, size_t max)
{
	size_t n, cut;

	if (!s)
		return;
	n = strlen(s);
	if (n <= max) {
		am_line_putn(l, s, n);
		return;
	}
	/* back up to a character boundary so the cut keeps valid UTF-8 */
	cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	am_line_putn(l, s, cut);
	raw(l, ELLIPSIS, strlen(ELLIPSIS));
}

void am_line_printf(struct am_line *l, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	am_line_putn(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}
