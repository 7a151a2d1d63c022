// SPDX-License-Identifier: GPL-2.0-only
/*
 * 'tdpsim plot' end to end: real gnuplot, every kind in every format, the
 * files it leaves (or must not leave), and its failures.  Each test works in
 * its own fresh directory so "nothing else was left behind" can be checked
 * by listing it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers/run.h"

#define A_JSON "tests/data/reports/a.json"
#define B_JSON "tests/data/reports/b.json"

static char *fresh_dir(void)
{
	char *d = strdup(test_path("plot-XXXXXX"));

	cr_assert(d && mkdtemp(d));
	return d;
}

static char *in_dir(const char *dir, const char *name)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

/* Names in @dir, sorted, joined by ' ' ("" when empty). */
static char *list_dir(const char *dir)
{
	struct dirent **ents;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	int n = scandir(dir, &ents, NULL, alphasort);

	cr_assert(fp && n >= 0);
	for (int i = 0, first = 1; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			fprintf(fp, "%s%s", first ? "" : " ", ents[i]->d_name);
			first = 0;
		}
		free(ents[i]);
	}
	free(ents);
	fclose(fp);
	return out;
}

static void remove_dir(char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, NULL);

	for (int i = 0; i < n; i++) {
		char *p = in_dir(dir, ents[i]->d_name);

		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			unlink(p);
		free(p);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	rmdir(dir);
	free(dir);
}

static void expect_only(const char *dir, const char *names)
{
	char *got = list_dir(dir);

	cr_expect_str_eq(got, names, "directory holds '%s', want '%s'", got, names);
	free(got);
}

enum fmt { PNG, SVG, PDF };

static void expect_figure(const char *path, enum fmt f)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t len = 0;
	char *buf = read_file(path, &len);

	cr_assert(buf, "no figure at '%s'", path);
	cr_expect_gt(len, 1024, "'%s' is only %zu bytes", path, len);
	switch (f) {
	case PNG:
		cr_expect(len >= 8 && !memcmp(buf, png_sig, 8), "'%s' is not a PNG", path);
		break;
	case SVG:
		cr_expect(!strncmp(buf, "<?xml", 5) || !strncmp(buf, "<svg", 4),
			  "'%s' does not start like SVG", path);
		cr_expect(strstr(buf, "</svg>"), "'%s' has no </svg>", path);
		break;
	case PDF:
		cr_expect(!strncmp(buf, "%PDF-", 5), "'%s' is not a PDF", path);
		break;
	}
	free(buf);
}

static int plot(struct run_result *r, const char *const *args)
{
	const char *argv[32] = { "plot" };
	size_t n = 1;

	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return run_tdpsim(r, argv);
}

static void draw_all_kinds(enum fmt f, const char *suffix)
{
	static const char *const kinds[] = { "shadow-pages", "exits", "walk-cdf", "bars" };

	for (size_t k = 0; k < 4; k++) {
		char *dir = fresh_dir(), name[64];
		struct run_result r;

		snprintf(name, sizeof(name), "fig.%s", suffix);
		char *out = in_dir(dir, name);
		const char *args[] = { src_path(A_JSON), src_path(B_JSON), "-o", out,
				       "--kind", kinds[k], NULL };

		cr_assert_eq(plot(&r, args), 0);
		cr_expect_eq(r.status, 0, "%s %s: %s", kinds[k], suffix, r.err);
		expect_figure(out, f);
		/* script, data and the temporary figure are gone */
		expect_only(dir, name);
		run_result_free(&r);
		free(out);
		remove_dir(dir);
	}
}

Test(plot, every_kind_as_png) { draw_all_kinds(PNG, "png"); }
Test(plot, every_kind_as_svg) { draw_all_kinds(SVG, "svg"); }
Test(plot, every_kind_as_pdf) { draw_all_kinds(PDF, "pdf"); }

Test(plot, keep_script_leaves_script_and_data)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "fig.png"), *gp = in_dir(dir, "fig.gp");
	const char *args[] = { src_path(A_JSON), src_path(B_JSON), "-o", out, "--keep-script",
			       "--kind", "exits", "--label", "it's_A", "--label", "B \"new\"",
			       "--title", "exits: 'old' vs new_layout", NULL };
	struct run_result r;
	char *script;

	cr_assert_eq(plot(&r, args), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	/* one data file per report, numbered in argument order */
	expect_only(dir, "fig-1.dat fig-2.dat fig.gp fig.png");
	script = read_file(gp, NULL);
	cr_assert(script);
	cr_expect(strstr(script, "noenhanced"));
	/* single quotes doubled, nothing else escaped */
	cr_expect(strstr(script, "title 'it''s_A'"), "%s", script);
	cr_expect(strstr(script, "title 'B \"new\"'"), "%s", script);
	cr_expect(strstr(script, "tdp_title = 'exits: ''old'' vs new_layout'"), "%s", script);
	/* the fixture's marks, one labelled line each */
	cr_expect(strstr(script, "'start workload' at 4000"), "%s", script);
	cr_expect(strstr(script, "'fork_bomb ''x'' \"y\"' at 9000"), "%s", script);
	/*
	 * every figure names the trace, the layouts, the build and the
	 * machine (from the reports: both have the same trace and build);
	 * exits is not timing data, so nothing is "measured"
	 */
	cr_expect(strstr(script, "'trace: linux-small.zst  |  layouts: old; new'"), "%s", script);
	cr_expect(strstr(script, "'tdpsim 0.1.0, Release build, on AMD EPYC 7B13 (2 cpus)'"),
		  "%s", script);
	cr_expect_null(strstr(script, "measured"));
	free(script);

	/* the data: event 0 first (empty MMU), then a.json's timeline */
	char *datpath = in_dir(dir, "fig-1.dat"), *dat = read_file(datpath, NULL);

	free(datpath);
	cr_assert(dat);
	cr_expect(strstr(dat, "\n0 0\n1000 125\n"), "%s", dat);
	cr_expect(strstr(dat, "\n12000 1500\n"), "%s", dat);
	free(dat);
	run_result_free(&r);
	free(gp);
	free(out);
	remove_dir(dir);
}

/* A kept script run by hand draws to the real figure name. */
Test(plot, kept_script_reruns_by_hand)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "fig.svg"), *cmd;
	const char *args[] = { src_path(A_JSON), "-o", out, "--keep-script", NULL };
	struct run_result r;

	cr_assert_eq(plot(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* a single report: FILE.dat, not FILE-1.dat */
	expect_only(dir, "fig.dat fig.gp fig.svg");
	cr_assert_eq(unlink(out), 0);
	cr_assert(asprintf(&cmd, "gnuplot '%s/fig.gp' 2>/dev/null", dir) > 0);
	cr_expect_eq(system(cmd), 0);
	expect_figure(out, SVG);
	free(cmd);
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

Test(plot, walk_cdf_has_provenance_footnote)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "cdf.png");
	const char *args[] = { src_path(A_JSON), "-o", out, "--kind", "walk-cdf",
			       "--keep-script", NULL };
	char *gp = in_dir(dir, "cdf.gp"), *datpath = in_dir(dir, "cdf.dat");
	struct run_result r;
	char *script, *dat;

	cr_assert_eq(plot(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	script = read_file(gp, NULL);
	cr_assert(script);
	cr_expect(strstr(script, "'measured with tdpsim 0.1.0, Release build, on AMD EPYC 7B13 "
			 "(2 cpus), 1 repetition'"), "%s", script);
	cr_expect(strstr(script, "set logscale x"), "%s", script);
	/* the CDF ends at 1: every one of the 5000 walks is counted */
	dat = read_file(datpath, NULL);
	cr_assert(dat);
	cr_expect(dat[strlen(dat) - 2] == '1' && dat[strlen(dat) - 3] == ' ',
		  "last CDF value is not 1:\n%s", dat);
	free(dat);
	free(script);
	free(datpath);
	free(gp);
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

/* A comparison file with spreads: both reports, error bars. */
Test(plot, bars_from_comparison_have_error_bars)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "bars.pdf");
	const char *args[] = { src_path("tests/data/reports/compare-spread.json"), "-o", out,
			       "--kind", "bars", "--keep-script", NULL };
	char *gp = in_dir(dir, "bars.gp");
	struct run_result r;
	char *script;

	cr_assert_eq(plot(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_figure(out, PDF);
	expect_only(dir, "bars.dat bars.gp bars.pdf");
	script = read_file(gp, NULL);
	cr_assert(script);
	cr_expect(strstr(script, "errorbars"), "%s", script);
	cr_expect(strstr(script, "title 'old compare-spread'"), "%s", script);
	cr_expect(strstr(script, "title 'new compare-spread'"), "%s", script);
	free(script);
	free(gp);
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

/*
 * --kind latency: one group per walker / fault path that a report timed
 * (compare-latency.json: 1-D walks and the shadow #PF path only), the
 * mean and half the spread per layout, in that order.
 */
Test(plot, latency_groups_what_was_timed)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "lat.png");
	const char *args[] = { src_path("tests/data/reports/compare-latency.json"), "-o",
			       out, "--kind", "latency", "--keep-script", NULL };
	char *gp = in_dir(dir, "lat.gp"), *dat = in_dir(dir, "lat.dat");
	char *script, *data;
	struct run_result r;

	cr_assert_eq(plot(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_figure(out, PNG);
	script = read_file(gp, NULL);
	data = read_file(dat, NULL);
	cr_assert(script && data);
	/* old: 1d 30 ns (spread 2), shadow 400 (10); new: 36 (3), 410 (40) */
	cr_expect(strstr(data, "\n0 30 1 36 1.5\n1 400 5 410 20\n"), "%s", data);
	cr_expect(strstr(script, "set xtics (\"1-D walk\" 0, \"shadow\\n#PF exit\" 1)"),
		  "%s", script);
	cr_expect(strstr(script, "errorbars"), "%s", script);
	free(script);
	free(data);
	free(gp);
	free(dat);
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

/* Reports with nothing timed per walker: exit 2, nothing written. */
Test(plot, latency_without_timings_is_an_error)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "lat.png");
	const char *args[] = { src_path(A_JSON), src_path(B_JSON), "-o", out,
			       "--kind", "latency", NULL };
	struct run_result r;

	cr_assert_eq(plot(&r, args), 0);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect(strstr(r.err, "nothing to plot"), "%s", r.err);
	expect_only(dir, "");
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

struct bad_input {
	const char *file;
	const char *msg;
};

static const struct bad_input bad_inputs[] = {
	{ "tests/data/reports/empty.json", "1:1: unexpected token near end of file" },
	{ "tests/data/reports/truncated.json", "111:1: ']' expected near end of file" },
	{ "tests/data/reports/bad-version.json", "report version 3 is not supported" },
	{ "tests/data/reports/missing-faults-injected.json",
	  "missing field 'faults.injected'" },
};

Test(plot, bad_reports_exit_2_and_write_nothing)
{
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		char *dir = fresh_dir(), *out = in_dir(dir, "fig.png");
		/* the good report first: a later bad one must still stop everything */
		const char *args[] = { src_path(A_JSON), src_path(bad_inputs[i].file),
				       "-o", out, "--keep-script", NULL };
		struct run_result r;

		cr_assert_eq(plot(&r, args), 0);
		cr_expect_eq(r.status, 2, "%s", bad_inputs[i].file);
		cr_expect(strstr(r.err, bad_inputs[i].msg), "%s: %s", bad_inputs[i].file,
			  r.err);
		expect_only(dir, "");
		run_result_free(&r);
		free(out);
		remove_dir(dir);
	}
}

Test(plot, missing_gnuplot_is_a_clear_error)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "fig.png");
	char *empty = in_dir(dir, "nobin");
	const char *args[] = { src_path(A_JSON), "-o", out, NULL };
	struct run_result r;

	cr_assert_eq(mkdir(empty, 0755), 0);
	setenv("PATH", empty, 1);	/* this test's own process only */
	cr_assert_eq(plot(&r, args), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "gnuplot not found: install gnuplot-nox"), "%s", r.err);
	expect_only(dir, "nobin");
	run_result_free(&r);
	free(empty);
	free(out);
	remove_dir(dir);
}

/* A gnuplot that fails: the error names the script and shows its stderr. */
Test(plot, failing_gnuplot_names_the_script)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "fig.png"), *bin = in_dir(dir, "bin");
	char *fake = in_dir(bin, "gnuplot"), *want;
	static const char script[] = "#!/bin/sh\necho 'line 7: boom' >&2\nexit 3\n";
	const char *args[] = { src_path(A_JSON), "-o", out, NULL };
	struct run_result r;

	cr_assert_eq(mkdir(bin, 0755), 0);
	cr_assert_eq(write_file(fake, script, sizeof(script) - 1), 0);
	cr_assert_eq(chmod(fake, 0755), 0);
	setenv("PATH", bin, 1);
	cr_assert_eq(plot(&r, args), 0);
	cr_expect_eq(r.status, 2);
	cr_assert(asprintf(&want, "gnuplot failed on '%s/fig.gp' (exit status 3)", dir) > 0);
	cr_expect(strstr(r.err, want), "%s", r.err);
	cr_expect(strstr(r.err, "line 7: boom"), "%s", r.err);
	expect_only(dir, "bin");
	unlink(fake);
	rmdir(bin);
	free(want);
	free(fake);
	free(bin);
	run_result_free(&r);
	free(out);
	remove_dir(dir);
}

struct usage_case {
	const char *args[8];
	const char *msg;
};

Test(plot, usage_errors)
{
	const struct usage_case cases[] = {
		{ { A_JSON, "-o", "x.jpg", NULL }, "use .png, .svg or .pdf" },
		{ { A_JSON, NULL }, "no output given" },
		{ { "-o", "x.png", NULL }, "no report given" },
		{ { A_JSON, "-o", "x.png", "--kind", "pie", NULL }, "unknown kind 'pie'" },
		{ { A_JSON, B_JSON, "-o", "x.png", "--label", "one", NULL },
		  "1 --label given for 2 reports" },
		{ { A_JSON, "-o", "/nonexistent-dir/x.png", NULL }, "cannot create '" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_result r;

		cr_assert_eq(plot(&r, cases[i].args), 0);
		cr_expect_eq(r.status, 2, "case %zu: %s", i, r.err);
		cr_expect(strstr(r.err, cases[i].msg), "case %zu: %s", i, r.err);
		run_result_free(&r);
	}
	/* none of them drew anything in the source tree */
	cr_expect_neq(access("x.png", F_OK), 0);
	cr_expect_neq(access("x.jpg", F_OK), 0);
}

Test(plot, answers_help)
{
	const char *args[] = { "--help", NULL };
	struct run_result r;

	cr_assert_eq(plot(&r, args), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "usage: tdpsim plot"), "%s", r.out);
	run_result_free(&r);
}

/*
 * Many marks (a report of a long trace): a label seen 40 times is drawn as
 * ticks named once in the key with its count; 30 distinct labels packed
 * into 300 events of a 12000-event timeline cannot all be written without
 * overlapping, so those written keep a distance in each of the two label
 * rows and the rest are counted in the key.  Every mark is accounted for.
 */
Test(plot, dense_marks_never_overlap)
{
	char *dir = fresh_dir(), *out = in_dir(dir, "m.png"), *gp = in_dir(dir, "m.gp");
	char *json = in_dir(dir, "many.json"), *src = read_file(src_path(A_JSON), NULL);
	const char *args[] = { json, "-o", out, "--kind", "exits", "--keep-script", NULL };
	uint64_t last[2] = { 0, 0 };
	bool used[2] = { false, false };
	size_t labelled = 0, ticks = 0;
	struct run_result r;
	char *script, *marks, more[64];
	FILE *fp;

	cr_assert(src);
	marks = strstr(src, "\"marks\"");
	cr_assert(marks);
	*marks = '\0';
	fp = fopen(json, "w");
	cr_assert(fp);
	fprintf(fp, "%s\"marks\": [", src);
	for (int i = 0; i < 40; i++)
		fprintf(fp, "%s{ \"event\": %d, \"label\": \"wx-load\" }", i ? ", " : "",
			100 + 300 * i);
	for (int i = 0; i < 30; i++)
		fprintf(fp, ", { \"event\": %d, \"label\": \"phase-%d\" }", 5000 + 10 * i, i);
	fputs("] }\n", fp);
	cr_assert_eq(fclose(fp), 0);

	cr_assert_eq(plot(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	script = read_file(gp, NULL);
	cr_assert(script);
	for (char *save = NULL, *l = strtok_r(script, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long long ev;
		char *at = strstr(l, "' at ");
		double y;
		int row;

		if (!strncmp(l, "set arrow", 9) && strstr(l, "graph 0.035"))
			ticks++;
		if (strncmp(l, "set label", 9) || !strstr(l, "'phase-") || !at ||
		    sscanf(at + 5, "%llu, graph %lf", &ev, &y) != 2)
			continue;
		row = y < 0.9;
		/* 1/45 of the x range: rotated 10 pt text on a 1000 px figure */
		cr_expect(!used[row] || ev - last[row] >= 12000 / 45,
			  "labels at %llu and %llu in one row", (unsigned long long)last[row], ev);
		last[row] = ev;
		used[row] = true;
		labelled++;
	}
	free(script);
	script = read_file(gp, NULL);
	cr_assert(script);
	cr_expect_eq(ticks, 40);
	cr_expect(strstr(script, "'mark wx-load (40, ticks)'"), "%s", script);
	cr_expect(labelled >= 2 && labelled < 30, "%zu labelled", labelled);
	snprintf(more, sizeof(more), "'%zu more marks (dashed lines) not labelled'", 30 - labelled);
	cr_expect(strstr(script, more), "no %s in:\n%s", more, script);
	expect_figure(out, PNG);
	free(script);
	free(src);
	run_result_free(&r);
	free(json);
	free(gp);
	free(out);
	remove_dir(dir);
}
