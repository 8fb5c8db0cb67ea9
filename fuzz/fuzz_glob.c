/* libFuzzer target: differential test of the compiled globset against the
 * reference matcher. Input: patterns, one per line, then a final line that
 * is the path. The set must answer the smallest matching index. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *lines[65];
	int n = 0;
	const char *why;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *s = buf, *e; n < 65 && s; s = e ? e + 1 : NULL) {
		e = strchr(s, '\n');
		if (e)
			*e = 0;
		lines[n++] = s;
	}
	if (n < 2) {
		free(buf);
		return 0;
	}
	const char *path = lines[n - 1];
	struct am_globset *gs = am_globset_new();
	int64_t want = -1;
	for (int i = 0; i < n - 1; i++) {
		int valid = am_glob_check(lines[i], &why) == 0;
		if ((am_globset_add(gs, lines[i], (uint32_t)i) == 0) != valid)
			__builtin_trap();
		if (want < 0 && am_glob_match(lines[i], path))
			want = i;
	}
	if (am_globset_match(gs, path) != want)
		__builtin_trap();
	am_globset_free(gs);
	free(buf);
	return 0;
}
