/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test helpers for replay: run a trace in-process (tdp_replay_run) and get
 * its outcome log and counters, and compare outcome logs with golden files.
 */
#ifndef TDPSIM_TEST_REPLAY_UTIL_H
#define TDPSIM_TEST_REPLAY_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <tdpsim/replay.h>

struct replay_run {
	struct tdp_replay_result *res;	/* malloc'd (large) */
	char *log;	/* outcome log, comment lines removed (malloc'd) */
	int ret;	/* tdp_replay_run's return */
	char err[512];
};

struct replay_args {
	const char *layout;		/* "old" / "new" */
	bool check;			/* invariant checker after every event */
	uint64_t max_mmu_pages;		/* 0: the trace's */
};

/* Replay the trace file @path; returns rr->ret.  Timing is off. */
int replay_file(struct replay_run *rr, const char *path,
		const struct replay_args *a);
/* Write @text to a scratch file and replay it. */
int replay_text(struct replay_run *rr, const char *text,
		const struct replay_args *a);
void replay_run_free(struct replay_run *rr);

/*
 * log_normalize() - the log's meaningful content: '#' comments (whole-line
 * or trailing) and surrounding spaces removed, runs of blanks folded to one
 * space, blank lines dropped; one '\n' per line.  malloc'd.
 */
char *log_normalize(const char *text);

/* The outcome text of event @n ("ok gpa=0x..."), or NULL if it has none. */
const char *replay_outcome(const struct replay_run *rr, uint64_t n,
			   char *buf, unsigned len);

#endif
