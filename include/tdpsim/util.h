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
 * Output files.  A regular file (or a missing one) is written to
 * "<target>.tmp.<pid>" in the same directory and renamed over the target
 * only by tdp_outfile_commit(); tdp_outfile_abort() unlinks the temporary,
 * so a failed run never leaves a half-written file in place of a good one.
 * A symbolic link is followed: its target is what gets replaced.  A
 * character device or FIFO (/dev/null, a pipe) is opened and written
 * directly, never replaced.  "-" means stdout (commit flushes, abort does
 * nothing).
 */
struct tdp_outfile {
	FILE *fp;
	char *path;		/* the target; NULL for stdout */
	char *tmp;		/* NULL when written directly */
	bool direct;
};
int tdp_outfile_open(struct tdp_outfile *of, const char *path, const char *mode);
int tdp_outfile_commit(struct tdp_outfile *of);
void tdp_outfile_abort(struct tdp_outfile *of);

/*
 * tdp_output_target() - where writing @path really goes: *@target
 * (malloc'd) is the symlink-resolved file to replace, or @path itself with
 * *@direct set for a device or FIFO.  0, or TDP_E_* with a message in @err
 * (a directory, a dangling link).
 */
int tdp_output_target(const char *path, char **target, bool *direct,
		      char *err, size_t errlen);

/*
 * tdp_check_same_files() - refuse an output that is the same file (device
 * and inode, so links and other spellings count) as an input or as another
 * output, before anything is written: reading a trace while replacing it
 * would destroy it.  Devices and FIFOs are not compared.  NULL entries and
 * "-" are skipped.  Prints the reason; returns 0 or TDP_E_USAGE.
 */
int tdp_check_same_files(const char *const *in, size_t nin,
			 const char *const *out, size_t nout);

/*
 * Temporary files and signals.  tdp_signals_install() (once, in main)
 * makes SIGINT, SIGTERM and SIGHUP remove every temporary registered with
 * tdp_tmp_register() and end the process by the same signal (exit status
 * 128+sig); a second signal while that runs ends it at once.  Up to 16
 * temporaries at a time.
 */
void tdp_signals_install(void);
void tdp_tmp_register(const char *tmp);
void tdp_tmp_forget(const char *tmp);

/* Width of every text output line (a cover letter's 72 columns). */
#define TDP_TEXT_COLS 72u
/*
 * tdp_fputs_wrapped() - print @text folded at spaces to TDP_TEXT_COLS,
 * continuation lines indented by @indent; ends with a newline.
 */
void tdp_fputs_wrapped(FILE *fp, const char *text, unsigned int indent);

/* Parse a decimal or 0x-hex unsigned number; the whole string must match. */
int tdp_parse_u64(const char *s, uint64_t *out);

/* Progress on stderr, only when stderr is a TTY and TDPSIM_NO_PROGRESS unset. */
bool tdp_progress_enabled(void);

/*
 * A progress line (src/util/progress.c): "1.2 M events, 27% of 45.6 MB,
 * 2.1 M/s, ETA 0:12", at most 10 redraws a second, within 72 columns.
 * Time is passed in (tdp_now_ns()) so tests can drive it.
 */
struct tdp_progress {
	FILE *fp;
	uint64_t total_bytes;	/* the input's size; 0: unknown (a pipe) */
	uint64_t t0, next;	/* start, earliest next redraw (ns) */
	bool shown;
};
void tdp_progress_init(struct tdp_progress *p, FILE *fp, uint64_t total_bytes,
		       uint64_t now_ns);
/* Redraw if 100 ms have passed; true if it did. */
bool tdp_progress_update(struct tdp_progress *p, uint64_t events, uint64_t done_bytes,
			 uint64_t now_ns);
/* Erase the line. */
void tdp_progress_end(struct tdp_progress *p);
/* The line's text (no \r), as snprintf. */
int tdp_progress_format(char *buf, size_t len, uint64_t events, uint64_t done_bytes,
			uint64_t total_bytes, double secs);

#endif /* TDPSIM_UTIL_H */
