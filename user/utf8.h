/* UTF-8 validation shared by the JSON writer and the terminal-safe lines:
 * agents' paths and argv are bytes, not always UTF-8. */
#ifndef AGENTMON_UTF8_H
#define AGENTMON_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), 0 if it is not
 * one (overlong forms, surrogates and code points over U+10FFFF rejected). */
size_t am_utf8_seq(const unsigned char *s, size_t n);

#endif
