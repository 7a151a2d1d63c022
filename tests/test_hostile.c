// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile input and safe outputs (issue 13), through the CLI as a user
 * meets them: one test per way tdpsim used to misbehave.  Each one failed
 * on the code before the fix it names.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/trace.h>

#include "helpers/run.h"

/* A valid two-event trace with @extra (a line) between header and events. */
static const char *trace_with_line(const char *name, const char *extra)
{
	const char *path = test_path(name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "tdpsim-trace 1\nconfig vendor=intel paging=tdp mem=0x1000000\n%s\n"
		"access gva=0x1000 op=r\naccess gva=0x2000 op=w\n", extra);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* ---- text reader: bounded lines ---- */

Test(hostile_reader, line_over_the_limit_is_refused_with_its_line_number)
{
	/* a comment is valid syntax at any length: only the cap refuses it */
	size_t n = TDP_TEXT_LINE_MAX + 1;
	char *line = malloc(n + 1), want[256];
	struct run_result r;
	const char *path;

	cr_assert_not_null(line);
	memset(line, 'x', n);
	line[0] = '#';
	line[n] = 0;
	path = trace_with_line("long.txt", line);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", path, NULL }), 0);
	cr_expect_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
	/* header, config, then the long line: line 3 */
	snprintf(want, sizeof(want), "tdpsim: %s:3: line longer than %u bytes", path,
		 TDP_TEXT_LINE_MAX);
	cr_expect(strstr(r.err, want), "stderr: %s", r.err);
	run_result_free(&r);
	free(line);
}

Test(hostile_reader, line_at_the_limit_is_read)
{
	size_t n = TDP_TEXT_LINE_MAX;
	char *line = malloc(n + 1);
	struct run_result r;
	const char *path;

	cr_assert_not_null(line);
	memset(line, 'x', n);
	line[0] = '#';
	line[n] = 0;
	path = trace_with_line("limit.txt", line);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", path, NULL }), 0);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	run_result_free(&r);
	free(line);
}
