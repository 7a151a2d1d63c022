// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim compare: old vs new layout on traces, verdicts and exit codes.
 * Expected counts follow from the role layouts (kvm-mmu-facts §3.1), not
 * from running the code: see the comments in the tests/data/compare traces.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers/run.h"

static int line_value(const char *text, const char *metric, long *a, long *b)
{
	const char *p = strstr(text, metric);

	return p && sscanf(p + strlen(metric), " %ld %ld", a, b) == 2 ? 0 : -1;
}

Test(compare, smep_flip_costs_shadow_pages_only_in_the_new_layout)
{
	struct run_result r;
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing",
			       src_path("tests/data/compare/smep-flip.txt"), NULL };
	long a, b;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "counts differ -> exit 1; stderr: %s", r.err);
	/* old: one set of 4 indirect pages; new: two sets */
	cr_assert_eq(line_value(r.out, "\nsp.created", &a, &b), 0, "%s", r.out);
	cr_expect_eq(a, 4);
	cr_expect_eq(b, 8);
	cr_expect(strstr(r.out, "counts differ: "), "%s", r.out);
	cr_expect(strstr(r.out, "outcome logs identical"), "%s", r.out);
	run_result_free(&r);
}

Test(compare, plain_trace_identical)
{
	struct run_result r;
	const char *argv[] = { "compare", "--repeat", "2",
			       src_path("traces/hello-shadow.zst"), NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 0, "stdout: %s stderr: %s", r.out, r.err);
	cr_expect(strstr(r.out, "counts identical"), "%s", r.out);
	cr_expect(strstr(r.out, "outcome logs identical"), "%s", r.out);
	/* every table line fits a 72-column cover letter */
	for (const char *l = r.out; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		cr_expect_leq(n, 72, "line too long: %.*s", (int)n, l);
		l += n + (nl != NULL);
	}
	run_result_free(&r);
}

Test(compare, old_layout_refuses_mbec)
{
	struct run_result r;
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing",
			       src_path("tests/data/compare/mbec.txt"), NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "stdout: %s stderr: %s", r.out, r.err);
	cr_expect(strstr(r.out, "layout old refuses this trace"), "%s", r.out);
	cr_expect(strstr(r.out, "mbec=1"), "%s", r.out);
	run_result_free(&r);
}

Test(compare, two_saved_reports)
{
	struct run_result r;
	const char *a = test_path("a.json"), *b = test_path("b.json");
	const char *ra[] = { "replay", "-q", "-L", "old", "-j", a,
			     src_path("tests/data/compare/smep-flip.txt"), NULL };
	const char *rb[] = { "replay", "-q", "-L", "new", "-j", b,
			     src_path("tests/data/compare/smep-flip.txt"), NULL };
	const char *argv[] = { "compare", a, b, NULL };
	long va, vb;

	cr_assert_eq(run_tdpsim(&r, ra), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, rb), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_eq(line_value(r.out, "\nsp.created", &va, &vb), 0, "%s", r.out);
	cr_expect_eq(va, 4);
	cr_expect_eq(vb, 8);
	run_result_free(&r);
}

Test(compare, plot_dir_gets_figures)
{
	struct run_result r;
	const char *dir = test_path("figs");
	const char *argv[] = { "compare", "--repeat", "1", "--plot", dir,
			       src_path("tests/data/compare/smep-flip.txt"), NULL };
	static const char *const kinds[] = { "shadow-pages", "exits", "walk-cdf", "bars" };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "%s", r.err);
	for (int i = 0; i < 4; i++) {
		char path[600];
		struct stat st;
		unsigned char sig[8] = { 0 };
		FILE *f;

		snprintf(path, sizeof(path), "%s/smep-flip-%s.png", dir, kinds[i]);
		cr_assert_eq(stat(path, &st), 0, "missing %s (%s)", path, r.err);
		cr_expect_gt(st.st_size, 1024);
		f = fopen(path, "rb");
		cr_assert(f);
		cr_expect_eq(fread(sig, 1, 8, f), 8);
		fclose(f);
		cr_expect(!memcmp(sig, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG", path);
	}
	run_result_free(&r);
}

Test(compare, usage_errors)
{
	struct run_result r;
	const char *no_args[] = { "compare", NULL };
	const char *bad_rep[] = { "compare", "--repeat", "0", "x.zst", NULL };
	const char *missing[] = { "compare", "/nonexistent/t.zst", NULL };

	cr_assert_eq(run_tdpsim(&r, no_args), 0);
	cr_expect_eq(r.status, 2);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, bad_rep), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "--repeat"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, missing), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "/nonexistent/t.zst"), "%s", r.err);
	run_result_free(&r);
}

/*
 * Two traces: the overall table sums the counts, so the layouts differ by
 * exactly what smep-flip adds (4 shadow pages, see its comment), whatever
 * hello-shadow contributes to both.
 */
Test(compare, overall_table_sums_traces)
{
	struct run_result r;
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing",
			       src_path("traces/hello-shadow.zst"),
			       src_path("tests/data/compare/smep-flip.txt"), NULL };
	const char *overall;
	long a, b;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "%s", r.err);
	overall = strstr(r.out, "overall, 2 traces");
	cr_assert(overall, "%s", r.out);
	cr_assert_eq(line_value(overall, "\nsp.created", &a, &b), 0, "%s", overall);
	cr_expect_eq(b - a, 4, "old %ld new %ld", a, b);
	cr_expect(strstr(overall, "overall: outcomes or counts differ"), "%s", overall);
	run_result_free(&r);
}
