/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small shared helpers: diagnostics in git's style (lower case, subject
 * quoted, no final period), atomic output files, TTY-aware progress.
 */
#ifndef TDPSIM_UTIL_H
#define TDPSIM_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TDP_ERRBUF_SIZE 512

/*
 * tdp_error() - print "tdpsim: <msg>" to stderr and return @err.
 * Lets one line both report and set the status:
 *	ret = tdp_error(TDP_E_IO, "cannot open '%s': %s", path, strerror(errno));
 */
int tdp_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tdp_warn() - print "tdpsim: warning: <msg>" to stderr. */
void tdp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set the program name used as the prefix of diagnostics (default "tdpsim"). */
void tdp_set_progname(const char *name);

/*
 * Atomic output file: written to "<path>.tmp.<pid>" and renamed over @path
 * only by tdp_outfile_commit(); tdp_outfile_abort() unlinks the temporary,
 * so a failed run never leaves a half-written file in place of a good one.
 * "-" means stdout (commit flushes, abort does nothing).
 */
struct tdp_outfile {
	FILE *fp;
	char *path;
	char *tmp;
};
int tdp_outfile_open(struct tdp_outfile *of, const char *path, const char *mode);
int tdp_outfile_commit(struct tdp_outfile *of);
void tdp_outfile_abort(struct tdp_outfile *of);

/* Parse a decimal or 0x-hex unsigned number; the whole string must match. */
int tdp_parse_u64(const char *s, uint64_t *out);

/* Progress on stderr, only when stderr is a TTY and TDPSIM_NO_PROGRESS unset. */
bool tdp_progress_enabled(void);

#endif /* TDPSIM_UTIL_H */
