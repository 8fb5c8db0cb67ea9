// Path globs for profile rules.
//
// Syntax: a pattern is an absolute path ("/etc/ssl/**") or starts with a
// "**" segment ("**/.ssh/**"). Within a segment '*' matches any run of
// bytes except '/'. A segment that is exactly "**" matches zero or more whole
// segments, so "/a/**" matches "/a", "/a/b" and "/a/b/c". Every other byte,
// including '?', '[' and '\', is literal. Rejected because they can never
// match a kernel-resolved path: empty segments ("//"), a trailing '/',
// "." and ".." segments, and "**" mixed with other bytes in one segment.
//
// Matching is on bytes (UTF-8 needs no special case: '/' never occurs inside
// a multi-byte sequence). A path that does not start with '/' never matches.
// (Line comments here because the examples contain slash-star.)
#ifndef AGENTMON_GLOB_H
#define AGENTMON_GLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AM_RULE_PATH_MAX 4095	/* bytes, without the NUL (PATH_MAX - 1) */

/* 0 if pattern is valid, else -EINVAL and a static reason in *why. */
int am_glob_check(const char *pattern, const char **why);

/* Reference matcher for one pattern: a segment-level dynamic programme,
 * O(pattern segments x path segments), no allocation. Used by tests, the
 * fuzzer and as the globset's fallback. Invalid patterns never match. */
bool am_glob_match(const char *pattern, const char *path);

/* A compiled set of patterns, each with a caller-chosen id. Patterns are
 * folded into a trie keyed by path segment: literal segments are looked up by
 * binary search, '*' segments and "**" are edges tried at each node, so a
 * match costs about the depth of the path, not the number of patterns.
 * Immutable once built; matching is thread-safe and does not allocate. */
struct am_globset;

struct am_globset *am_globset_new(void);
void am_globset_free(struct am_globset *gs);
/* 0, -EINVAL (invalid pattern, see am_glob_check) or -ENOMEM. */
int am_globset_add(struct am_globset *gs, const char *pattern, uint32_t id);
size_t am_globset_count(const struct am_globset *gs);
/* The smallest id whose pattern matches path, or -1. */
int64_t am_globset_match(const struct am_globset *gs, const char *path);

#endif
