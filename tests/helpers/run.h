/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers: run the tdpsim CLI and capture its output. */
#ifndef TDPSIM_TEST_RUN_H
#define TDPSIM_TEST_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct run_result {
	int status;		/* exit status, or 128+signal */
	char *out;		/* captured stdout (NUL-terminated, malloc'd) */
	char *err;		/* captured stderr */
};

/*
 * run_tdpsim() - run $TDPSIM_BIN with the NULL-terminated argv (argv[0] is
 * the first argument after the program name); stdin is /dev/null.
 */
int run_tdpsim(struct run_result *r, const char *const *argv);
void run_result_free(struct run_result *r);

/* Path of a fresh scratch directory for this test process (created once). */
const char *test_tmpdir(void);
/* test_tmpdir()/name, in a static buffer rotated over 8 slots. */
const char *test_path(const char *name);
/* Write @len bytes to @path; returns 0 or -1. */
int write_file(const char *path, const void *buf, size_t len);
/* Read a whole file (malloc'd, NUL-terminated); NULL on error. */
char *read_file(const char *path, size_t *len);
/* Path relative to the source tree ($TDPSIM_SRC_DIR), static buffer. */
const char *src_path(const char *rel);
/* Does @path exist? */
bool file_exists(const char *path);
/* Do files @a and @b hold the same bytes?  (Asserts both are readable.) */
bool files_equal(const char *a, const char *b);
/*
 * Does @needle occur in @hay, where any run of white space in @hay (a
 * message wrapped at 72 columns, whose break points move with the length of
 * the path it quotes) matches one space in @needle?
 */
/*
 * Does a @n-byte output line fit @cols columns?  A line may go over only by
 * one word no wrapping can break (a long path quoted from the command line):
 * without its longest word it must fit.
 */
bool line_fits(const char *line, size_t n, size_t cols);
bool contains_unwrapped(const char *hay, const char *needle);

#endif
