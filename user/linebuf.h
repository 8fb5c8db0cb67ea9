/* Bounded lines for a terminal: text from the daemon (agent names, paths,
 * argv, error messages) is whatever an agent or a peer put there, so every
 * byte a terminal would interpret is written as \xNN, and a line that does
 * not fit its buffer ends in "..." instead of being cut silently. */
#ifndef AGENTMON_LINEBUF_H
#define AGENTMON_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

struct am_line {
	char *buf;
	size_t sz;       /* bytes in buf, including the terminating NUL */
	size_t len;      /* bytes written, buf[len] == 0 */
	bool full;       /* something did not fit: the line ends in "..." */
};

/* Start an empty line in buf (sz >= 1). */
void am_line_init(struct am_line *l, char *buf, size_t sz);
/* Append s escaped: C0 controls, DEL, C1 controls (U+0080..U+009F) and bytes
 * that are not valid UTF-8 become \xNN; a character is never split. NULL
 * appends nothing. */
void am_line_put(struct am_line *l, const char *s);
void am_line_putn(struct am_line *l, const char *s, size_t n);
/* As am_line_put, but at most `max` bytes of s; a longer s ends in "...". */
void am_line_put_max(struct am_line *l, const char *s, size_t max);
/* Append printf-formatted text (escaped like the rest). */
void am_line_printf(struct am_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
