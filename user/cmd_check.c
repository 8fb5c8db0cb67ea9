/* `agentmon check [--strict] [--json] PROFILE...`: the release gate.
 *
 * Text mode: errors and warnings on stderr, one line each
 *   agentmon: FILE:LINE:COL: files.read[3]: what is wrong
 *   agentmon: FILE:LINE:COL: warning: files.write[0]: ... grants write access ...
 * and "FILE: ok sha256=<hex>" on stdout for each profile that passes.
 * With --strict a warning is an error (printed without "warning:").
 * --json: one object per profile on stdout,
 *   {"file":…,"ok":bool,"sha256":hex|null,"errors":[…],"warnings":[…]},
 * each message "FILE:LINE:COL: what"; under --strict warnings go to errors.
 *
 * Exit: 0 every profile passed; 2 a profile is invalid (bad input, per
 * SPEC); 1 every profile is valid but --strict failed one on warnings;
 * 2 for bad usage. */
#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "log.h"
#include "profile.h"

struct run {
	bool strict, json;
	int errors, warnings;
	json_t *jerr, *jwarn;	/* --json */
};

static void report(void *arg, int is_warning, const char *where, const char *what)
{
	struct run *r = arg;
	bool as_error = !is_warning || r->strict;
	char line[8192];

	if (as_error)
		r->errors++;
	else
		r->warnings++;
	if (r->json) {
		snprintf(line, sizeof(line), "%s: %s", where, what);
		json_array_append_new(as_error ? r->jerr : r->jwarn, json_string(line));
	} else if (is_warning && !r->strict) {
		am_err("%s: warning: %s", where, what);
	} else {
		am_err("%s: %s", where, what);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: agentmon check [--strict] [--json] PROFILE...\n"
		"\n"
		"Validate agent profiles before release: report every error with\n"
		"FILE:LINE:COL, warn about over-broad grants (write to /, shells or\n"
		"interpreters without exec.max_depth, connect to any address, secrets\n"
		"without ttl, missing/expired/expiring approval, allow entries that a\n"
		"deny list overrides) and print each profile's sha256.\n"
		"\n"
		"  --strict   treat warnings as errors\n"
		"  --json     one JSON object per profile on stdout\n"
		"  -h, --help this help\n"
		"\n"
		"Exit status: 0 all passed, 1 --strict failed on warnings,\n"
		"2 invalid profile or bad usage.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"strict", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct run r = {0};
	int c, status = AM_EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': r.strict = true; break;
		case 'j': r.json = true; break;
		case 'h': usage(stdout); return AM_EXIT_OK;
		default:
			am_err("check: unknown option '%s' (see agentmon check --help)",
			       argv[optind - 1]);
			return AM_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		am_err("check: no profile given (usage: agentmon check [--strict] [--json] "
		       "PROFILE...)");
		return AM_EXIT_USAGE;
	}

	time_t now = time(NULL);
	for (int i = optind; i < argc; i++) {
		struct am_profile *p = NULL;
		const char *file = argv[i];
		r.errors = r.warnings = 0;
		if (r.json) {
			r.jerr = json_array();
			r.jwarn = json_array();
		}
		int err = am_profile_check(file, 0, now, report, &r, &p);
		bool ok = !err && !r.errors;
		if (err || (!r.errors && !p)) {
			status = AM_EXIT_USAGE;	/* invalid profile: bad input */
		} else if (!ok && status == AM_EXIT_OK) {
			status = AM_EXIT_FAIL;	/* valid, but --strict warnings */
		}
		if (r.json) {
			json_t *o = json_pack("{s:s, s:b, s:s?, s:o, s:o}", "file", file, "ok", ok,
					      "sha256", ok ? am_profile_sha256(p) : NULL,
					      "errors", r.jerr, "warnings", r.jwarn);
			char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		} else if (ok) {
			printf("%s: ok sha256=%s\n", file, am_profile_sha256(p));
		}
		fflush(stdout);
		am_profile_free(p);
	}
	return status;
}
