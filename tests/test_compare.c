// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim compare: old vs new layout on traces, verdicts and exit codes.
 * Expected counts follow from the role layouts (kvm-mmu-facts §3.1), not
 * from running the code: see the comments in the tests/data/compare traces.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tdpsim/report.h>

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
	/*
	 * old: one set of 4 indirect pages; new: two sets.  Both also create
	 * the 4 direct PAE roots of the paging-off MMU that the first `write`
	 * enters the guest with (smep-flip.txt's header): 4 + 4 and 8 + 4.
	 */
	cr_assert_eq(line_value(r.out, "\nsp.created", &a, &b), 0, "%s", r.out);
	cr_expect_eq(a, 8);
	cr_expect_eq(b, 12);
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

		cr_expect(line_fits(l, n, 72), "line too long: %.*s", (int)n, l);
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
	cr_expect(contains_unwrapped(r.out, "layout old refuses this trace"), "%s", r.out);
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
	cr_expect_eq(va, 8);	/* see smep_flip_costs_... above */
	cr_expect_eq(vb, 12);
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

/* The text of a table row's A and B columns ("walk p50 (ns)   7764.8 ..."). */
static int row_texts(const char *text, const char *metric, char *a, char *b)
{
	const char *p = strstr(text, metric);

	return p && sscanf(p + strlen(metric), " %31s %31s", a, b) == 2 ? 0 : -1;
}

/* A table row's noise column (after A, B, delta, delta%), without its '~'. */
static int row_noise(const char *text, const char *metric, char *noise)
{
	const char *p = strstr(text, metric);

	return p && sscanf(p + strlen(metric), " %*s %*s %*s %*s %31[^~ \n]",
			   noise) == 1 ? 0 : -1;
}

/* No "<name>.tmp.<pid>" left next to @dir's files. */
static void expect_no_temp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	cr_assert(d);
	while ((e = readdir(d)))
		cr_expect_null(strstr(e->d_name, ".tmp."), "left behind: %s", e->d_name);
	closedir(d);
}

/*
 * --json saves what the table compared: per trace the old then the new
 * layout's report, counts of the first repetition (smep-flip: 4 and 8
 * shadow pages, see above), timing fields the medians the table prints,
 * their spread, and the repetition count.
 */
Test(compare, json_saves_the_compared_reports)
{
	struct run_result r;
	const char *json = test_path("cmp.json");
	const char *argv[] = { "compare", "--repeat", "3", "--json", json,
			       src_path("tests/data/compare/smep-flip.txt"), NULL };
	struct tdp_report *rep;
	char a[32], b[32], want[32];
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "counts differ -> exit 1; stderr: %s", r.err);
	cr_assert_eq(tdp_report_load(json, &rep, &n), 0);
	cr_assert_eq(n, 2);
	for (int l = 0; l < 2; l++) {
		cr_expect_str_eq(rep[l].tool_layout, l ? "new" : "old");
		cr_expect(strstr(rep[l].trace_path, "smep-flip.txt"));
		cr_expect_eq(rep[l].repetitions, 3);
		cr_expect(rep[l].has_spread, "3 repetitions have a spread");
		cr_expect(rep[l].timing);
		cr_expect(rep[l].has_nested);
		cr_expect_not(rep[l].paging_nested);
	}
	cr_expect_eq(rep[0].sp.created, 8);	/* 4 paging-off roots + 4 */
	cr_expect_eq(rep[1].sp.created, 12);	/* 4 paging-off roots + 2 x 4 */
	/* the medians are what the table shows */
	cr_assert_eq(row_texts(r.out, "\nwalk p50 (ns)", a, b), 0, "%s", r.out);
	snprintf(want, sizeof(want), "%.1f", rep[0].t.walk_p50);
	cr_expect_str_eq(a, want);
	snprintf(want, sizeof(want), "%.1f", rep[1].t.walk_p50);
	cr_expect_str_eq(b, want);
	/* the spreads are the noise the table shows: the larger of the two */
	cr_assert_eq(row_noise(r.out, "\nwalk p50 (ns)", a), 0, "%s", r.out);
	snprintf(want, sizeof(want), "%.1f",
		 fmax(rep[0].spread.walk_p50, rep[1].spread.walk_p50));
	cr_expect_str_eq(a, want);
	cr_assert_eq(row_texts(r.out, "\nns/perm check", a, b), 0, "%s", r.out);
	snprintf(want, sizeof(want), "%.2f", rep[1].t.perm_mean_ns);
	cr_expect_str_eq(b, want);
	tdp_report_free_array(rep, n);
	expect_no_temp(test_tmpdir());
	run_result_free(&r);
}

/* Several traces: old, new per trace in order; one repetition, no spread. */
Test(compare, json_holds_every_trace_in_order)
{
	struct run_result r;
	const char *json = test_path("two.json");
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing", "-j", json,
			       src_path("traces/hello-shadow.zst"),
			       src_path("tests/data/compare/smep-flip.txt"), NULL };
	struct tdp_report *rep;
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "%s", r.err);
	cr_assert_eq(tdp_report_load(json, &rep, &n), 0);
	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(rep[i].tool_layout, i % 2 ? "new" : "old");
		cr_expect(strstr(rep[i].trace_path, i < 2 ? "hello-shadow" : "smep-flip"),
			  "%s", rep[i].trace_path);
		cr_expect_eq(rep[i].repetitions, 1);
		cr_expect_not(rep[i].has_spread);
		cr_expect_not(rep[i].timing);
	}
	cr_expect_eq(rep[3].sp.created - rep[2].sp.created, 4);
	tdp_report_free_array(rep, n);
	run_result_free(&r);
}

/* A layout that refuses the trace has no report in the file. */
Test(compare, json_without_refused_layout)
{
	struct run_result r;
	const char *json = test_path("mbec.json");
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing", "--json", json,
			       src_path("tests/data/compare/mbec.txt"), NULL };
	struct tdp_report *rep;
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 1, "%s", r.err);
	cr_assert_eq(tdp_report_load(json, &rep, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(rep[0].tool_layout, "new");
	tdp_report_free_array(rep, n);
	run_result_free(&r);
}

/* An error leaves the previous file as it was and no temporary behind. */
Test(compare, json_is_atomic)
{
	static const char old[] = "previous content\n";
	struct run_result r;
	const char *json = test_path("keep.json");
	const char *argv[] = { "compare", "--repeat", "1", "--no-timing", "--json", json,
			       src_path("tests/data/compare/smep-flip.txt"),
			       "/nonexistent/t.zst", NULL };
	char *text;

	cr_assert_eq(write_file(json, old, sizeof(old) - 1), 0);
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2, "%s", r.err);
	text = read_file(json, NULL);
	cr_assert(text);
	cr_expect_str_eq(text, old);
	free(text);
	expect_no_temp(test_tmpdir());
	run_result_free(&r);
}

Test(compare, json_usage_errors)
{
	struct run_result r;
	const char *to_stdout[] = { "compare", "--json", "-",
				    src_path("tests/data/compare/smep-flip.txt"), NULL };
	const char *reports[] = { "compare", "--json", test_path("x.json"), "a.json",
				  "b.json", NULL };

	cr_assert_eq(run_tdpsim(&r, to_stdout), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "--json"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, reports), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "--json"), "%s", r.err);
	run_result_free(&r);
}

/*
 * Per walker and per fault path.  Each guest walk KVM makes is timed into
 * exactly one walker's histogram, so the walker counts add up to the walk
 * count; which walkers appear follows from the trace: under shadow paging
 * KVM walks only the guest's own tables (1-D); in a nested Intel guest it
 * walks L1's EPT tables (ept_page_fault on guest_mmu) and never NPT ones,
 * in a nested AMD guest L1's NPT tables (paging64 on guest_mmu) and never
 * EPT ones.  Exits into kvm_mmu_page_fault() of L2 go to guest_mmu (the
 * nested path), those of a shadow-paging guest with paging on to the
 * shadow path; neither kind of guest uses the other's.
 */
Test(compare, times_each_walker_and_fault_path)
{
	static const struct {
		const char *trace;
		enum tdp_walk_kind kind, never;
		enum tdp_fault_path path, never_path;
	} cases[] = {
		{ "tests/data/compare/smep-flip.txt", TDP_WALK_1D, TDP_WALK_EPT,
		  TDP_FPATH_SHADOW, TDP_FPATH_NESTED },
		{ "traces/nested-intel.zst", TDP_WALK_EPT, TDP_WALK_NPT,
		  TDP_FPATH_NESTED, TDP_FPATH_SHADOW },
		{ "traces/nested-amd.zst", TDP_WALK_NPT, TDP_WALK_EPT,
		  TDP_FPATH_NESTED, TDP_FPATH_SHADOW },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_result r;
		const char *json = test_path("kinds.json");
		const char *argv[] = { "compare", "--repeat", "1", "--json", json,
				       src_path(cases[i].trace), NULL };
		struct tdp_report *rep;
		size_t n;

		cr_assert_eq(run_tdpsim(&r, argv), 0);
		cr_assert_eq(tdp_report_load(json, &rep, &n), 0, "%s", r.err);
		cr_assert_eq(n, 2);
		for (int l = 0; l < 2; l++) {
			uint64_t sum = 0;

			for (int k = 0; k < TDP_WALK_KINDS; k++)
				sum += rep[l].walk_kind_count[k];
			cr_expect_eq(sum, rep[l].walks_count, "%s", cases[i].trace);
			cr_expect_gt(rep[l].walk_kind_count[cases[i].kind], 0, "%s",
				     cases[i].trace);
			cr_expect_eq(rep[l].walk_kind_count[cases[i].never], 0, "%s",
				     cases[i].trace);
			cr_expect_gt(rep[l].fault_path_count[cases[i].path], 0, "%s",
				     cases[i].trace);
			cr_expect_eq(rep[l].fault_path_count[cases[i].never_path], 0,
				     "%s", cases[i].trace);
			cr_expect_gt(rep[l].t.kind_mean[cases[i].kind], 0);
			cr_expect(rep[l].timer_overhead_ns > 0 &&
				  rep[l].timer_overhead_ns < 1000,
				  "timer cost %.1f ns", rep[l].timer_overhead_ns);
		}
		cr_expect(strstr(r.out, cases[i].kind == TDP_WALK_1D ? "\nwalk.1d mean (ns)" :
				 cases[i].kind == TDP_WALK_EPT ? "\nwalk.ept mean (ns)" :
				 "\nwalk.npt mean (ns)"), "%s", r.out);
		tdp_report_free_array(rep, n);
		run_result_free(&r);
	}
}
