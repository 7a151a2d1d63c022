// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading reports and the 72-column comparison table.
 *
 * The fixtures in tests/data/reports/ carry hand-picked numbers; every
 * expected delta below is worked out from those numbers in the comments,
 * not taken from the program's output.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/jsonread.h>
#include <tdpsim/report.h>

#include "helpers/run.h"

static struct tdp_report *load_one(const char *name, size_t want_n)
{
	char path[256];
	struct tdp_report *r;
	size_t n;

	snprintf(path, sizeof(path), "tests/data/reports/%s", name);
	cr_assert_eq(tdp_report_load(src_path(path), &r, &n), 0, "%s", name);
	cr_assert_eq(n, want_n, "%s", name);
	return r;
}

struct table {
	char *text;
	int ret;
};

static struct table compare(const struct tdp_report *a, const struct tdp_report *b)
{
	struct table t = { 0 };
	size_t len;
	FILE *fp = open_memstream(&t.text, &len);

	cr_assert(fp);
	t.ret = tdp_report_compare_print(fp, a, b, "old", "new");
	fclose(fp);
	return t;
}

/* Every line at most 72 columns (the text is ASCII, so bytes = columns). */
static void expect_width(const char *text)
{
	int lineno = 1;

	for (const char *p = text; *p; lineno++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		cr_expect_leq(len, 72, "line %d is %zu columns: %.*s", lineno, len,
			      (int)len, p);
		for (size_t i = 0; i < len; i++)
			cr_expect((unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f,
				  "line %d: non-ASCII byte", lineno);
		p += len + (nl ? 1 : 0);
	}
}

struct row {
	char a[32], b[32], delta[32], pct[32], noise[32];
	bool marked;
};

/*
 * Find the row of @metric (names take the first 20 columns) and split the
 * rest into fields.  The noise field, when present, may carry a '~'.
 */
static struct row get_row(const char *text, const char *metric)
{
	struct row r = { 0 };
	size_t mlen = strlen(metric);
	const char *p = text;
	char line[128];

	for (;;) {
		const char *nl = strchr(p, '\n');

		cr_assert(nl, "no row '%s' in:\n%s", metric, text);
		if (!strncmp(p, metric, mlen) && p[mlen] == ' ' &&
		    (p[mlen + 1] == ' ' || mlen >= 20)) {
			snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
			break;
		}
		p = nl + 1;
	}
	cr_assert_gt(strlen(line), 20, "%s", line);
	int n = sscanf(line + 20, "%31s %31s %31s %31s %31s", r.a, r.b, r.delta, r.pct,
		       r.noise);
	cr_assert_geq(n, 4, "row '%s'", line);
	size_t nl = strlen(r.noise);

	if (nl && r.noise[nl - 1] == '~') {
		r.marked = true;
		r.noise[nl - 1] = '\0';
	}
	return r;
}

static void expect_row(const char *text, const char *metric, const char *a,
		       const char *b, const char *delta, const char *pct)
{
	struct row r = get_row(text, metric);

	cr_expect_str_eq(r.a, a, "%s: A", metric);
	cr_expect_str_eq(r.b, b, "%s: B", metric);
	cr_expect_str_eq(r.delta, delta, "%s: delta", metric);
	cr_expect_str_eq(r.pct, pct, "%s: delta%%", metric);
}

static const char *last_line(const char *text)
{
	static char buf[256];
	size_t len = strlen(text);
	const char *end = text + len, *p;

	if (len && end[-1] == '\n')
		end--;
	p = end;
	while (p > text && p[-1] != '\n')
		p--;
	snprintf(buf, sizeof(buf), "%.*s", (int)(end - p), p);
	return buf;
}

Test(report_load, fields_of_a_report)
{
	struct tdp_report *r = load_one("a.json", 1);
	uint64_t walks = 0;

	cr_expect_str_eq(r->tool_layout, "old");
	cr_expect_str_eq(r->tool_build, "Release");
	cr_expect_str_eq(r->machine, "AMD EPYC 7B13 (2 cpus)");
	cr_expect_eq(r->repetitions, 1);
	cr_expect(r->timing);
	cr_expect_eq(r->events_total, 12000);
	cr_expect_eq(r->exits.total, 1500);
	cr_expect_eq(r->exits.pf, 1200);
	cr_expect_eq(r->faults.fixed, 1100);
	cr_expect_eq(r->faults.injected, 150);
	cr_expect_eq(r->sp.peak, 310);
	cr_expect_eq(r->sp.prev_roots_hit_rate, 0.9);
	cr_expect_eq(r->t.walk_p50, 45.5);
	cr_expect_eq(r->t.perm_mean_ns, 1.25);
	cr_expect_not(r->has_spread);
	/* the histogram holds every walk: walks.count is 5000 */
	for (size_t i = 0; i < r->nhist; i++)
		walks += r->hist[i].count;
	cr_expect_eq(walks, 5000);
	cr_expect_eq(r->ntl, 12);
	cr_expect_eq(r->tl[11].event, 12000);
	cr_expect_eq(r->tl[11].exits, 1500);
	cr_assert_eq(r->nmarks, 3);
	cr_expect_eq(r->marks[2].event, 9000);
	cr_expect_str_eq(r->marks[2].label, "fork_bomb 'x' \"y\"");
	tdp_report_free_array(r, 1);
}

Test(report_load, comparison_file_gives_each_report_with_spread)
{
	struct tdp_report *r = load_one("compare-spread.json", 2);

	cr_expect_str_eq(r[0].tool_layout, "old");
	cr_expect_str_eq(r[1].tool_layout, "new");
	cr_expect(r[0].has_spread && r[1].has_spread);
	cr_expect_eq(r[0].repetitions, 5);
	cr_expect_eq(r[0].spread.walk_p50, 2.0);
	cr_expect_eq(r[1].spread.perm_mean_ns, 0.1);
	cr_expect_eq(r[0].spread.events_per_s, 150000.0);
	tdp_report_free_array(r, 2);
}

/* spread-siblings.json: spreads next to the fields, not a top-level mirror */
Test(report_load, spread_as_sibling_objects)
{
	struct tdp_report *r = load_one("spread-siblings.json", 1);

	cr_expect(r->has_spread);
	cr_expect_eq(r->spread.walk_p50, 0.5);
	cr_expect_eq(r->spread.walk_p99, 4.0);
	cr_expect_eq(r->spread.walk_p90, 0.0);
	cr_expect_eq(r->spread.perm_mean_ns, 0.02);
	cr_expect_eq(r->spread.events_per_s, 50000.0);
	/* the walks.spread member does not disturb the walks fields */
	cr_expect_eq(r->t.walk_p50, 45.5);
	tdp_report_free_array(r, 1);
}

struct load_err_case {
	const char *file;
	int err;
	const char *msg;	/* substring of the message on stderr */
};

static const struct load_err_case load_errs[] = {
	{ "empty.json", TDP_E_JSON, "empty.json': 1:1: unexpected end of input" },
	{ "truncated.json", TDP_E_JSON, "unexpected end of input" },
	{ "bad-version.json", TDP_E_VERSION, "report version 2 is not supported" },
	{ "missing-faults-injected.json", TDP_E_JSON,
	  "missing field 'faults.injected'" },
	{ "wrong-type-exits-total.json", TDP_E_JSON,
	  "field 'exits.total' is a string, expected an unsigned integer" },
	{ "missing-column-sp-live.json", TDP_E_JSON,
	  "missing column 'sp_live' in field 'timeline.columns'" },
	{ "no-such-file.json", TDP_E_IO, "cannot open '" },
	{ "compare-second-lacks-exits.json", TDP_E_JSON,
	  "compare-second-lacks-exits.json' (reports[1]): missing field 'exits.total'" },
};

Test(report_load, bad_reports_fail_with_named_field)
{
	const char *log = test_path("stderr.log");
	char *all;

	/* each Test runs in its own process: stderr can go to a file */
	cr_assert(freopen(log, "w", stderr));
	for (size_t i = 0; i < sizeof(load_errs) / sizeof(load_errs[0]); i++) {
		char path[256];
		struct tdp_report *r = (void *)1;
		size_t n = 99;

		snprintf(path, sizeof(path), "tests/data/reports/%s", load_errs[i].file);
		cr_expect_eq(tdp_report_load(path, &r, &n), load_errs[i].err, "%s",
			     load_errs[i].file);
		cr_expect_null(r, "%s", load_errs[i].file);
		cr_expect_eq(n, 0);
	}
	fflush(stderr);
	all = read_file(log, NULL);
	cr_assert(all);
	for (size_t i = 0; i < sizeof(load_errs) / sizeof(load_errs[0]); i++)
		cr_expect(strstr(all, load_errs[i].msg), "no '%s' in:\n%s",
			  load_errs[i].msg, all);
	free(all);
}

Test(report_load, report_must_be_an_object_with_version)
{
	static const char *const docs[] = { "[]", "{}", "{\"tdpsim_report\": \"1\"}" };
	static const char *const want[] = {
		"1:1: a report is an object, not an array",
		"not a tdpsim report: missing field 'tdpsim_report'",
		"1:19: field 'tdpsim_report' is a string, expected an unsigned integer",
	};

	for (size_t i = 0; i < 3; i++) {
		struct tdp_json_value v;
		struct tdp_report r = { 0 };
		char err[256];

		cr_assert_eq(tdp_json_parse(docs[i], strlen(docs[i]), NULL, &v, NULL, 0), 0);
		cr_expect_eq(tdp_report_from_json(&r, &v, err, sizeof(err)), TDP_E_JSON);
		cr_expect_str_eq(err, want[i]);
		tdp_report_release(&r);
		tdp_json_free(&v);
	}
}

/*
 * a.json vs b.json (see the fixture): B has 20 fewer exits, all of them #PF
 * exits, and 20 fewer fixed faults; everything else counted is equal.
 */
Test(compare, deltas_and_verdict_for_differing_counts)
{
	struct tdp_report *a = load_one("a.json", 1), *b = load_one("b.json", 1);
	struct table t = compare(a, b);

	cr_expect_eq(t.ret, 1);
	expect_width(t.text);
	cr_expect_str_eq(last_line(t.text), "counts differ: exits, exits.pf, faults.fixed");
	cr_expect_null(strstr(t.text, "noise"), "no spread, no noise column");
	cr_expect(strstr(t.text, "A: old (old layout, Release build)\n"), "%s", t.text);
	cr_expect(strstr(t.text, "B: new (new layout, Release build)\n"), "%s", t.text);

	expect_row(t.text, "events", "12000", "12000", "0", "0.0%");
	/* -20 / 1500 = -1.333% */
	expect_row(t.text, "exits", "1500", "1480", "-20", "-1.3%");
	/* -20 / 1200 = -1.667% */
	expect_row(t.text, "exits.pf", "1200", "1180", "-20", "-1.7%");
	expect_row(t.text, "exits.emulated_write", "200", "200", "0", "0.0%");
	/* -20 / 1100 = -1.818% */
	expect_row(t.text, "faults.fixed", "1100", "1080", "-20", "-1.8%");
	expect_row(t.text, "faults.injected", "150", "150", "0", "0.0%");
	expect_row(t.text, "sp.created", "420", "420", "0", "0.0%");
	expect_row(t.text, "sp.peak", "310", "310", "0", "0.0%");
	expect_row(t.text, "sp.zapped", "120", "120", "0", "0.0%");
	expect_row(t.text, "sp.unsync", "55", "55", "0", "0.0%");
	expect_row(t.text, "prev_roots hit %", "90.0", "90.0", "0.0", "0.0%");
	/* 44.0 - 45.5 = -1.5; -1.5 / 45.5 = -3.297% */
	expect_row(t.text, "walk p50 (ns)", "45.5", "44.0", "-1.5", "-3.3%");
	/* 118.0 - 120.5 = -2.5; -2.5 / 120.5 = -2.075% */
	expect_row(t.text, "walk p99 (ns)", "120.5", "118.0", "-2.5", "-2.1%");
	/* 1.50 - 1.25 = +0.25 = +20% */
	expect_row(t.text, "ns/perm check", "1.25", "1.50", "+0.25", "+20.0%");
	/* 2.6M - 2.5M = +100000 = +4% */
	expect_row(t.text, "events/s", "2500000", "2600000", "+100000", "+4.0%");
	free(t.text);
	tdp_report_free_array(a, 1);
	tdp_report_free_array(b, 1);
}

/* c-same-counts.json: a.json's counts, other timings. */
Test(compare, timing_only_differences_keep_counts_identical)
{
	struct tdp_report *a = load_one("a.json", 1), *c = load_one("c-same-counts.json", 1);
	struct table t = compare(a, c);

	cr_expect_eq(t.ret, 0);
	expect_width(t.text);
	cr_expect_str_eq(last_line(t.text), "counts identical");
	expect_row(t.text, "exits", "1500", "1500", "0", "0.0%");
	/* 47.0 - 45.5 = +1.5 = +3.297% */
	expect_row(t.text, "walk p50 (ns)", "45.5", "47.0", "+1.5", "+3.3%");
	/* 2.4M - 2.5M = -100000 = -4% */
	expect_row(t.text, "events/s", "2500000", "2400000", "-100000", "-4.0%");
	free(t.text);
	tdp_report_free_array(a, 1);
	tdp_report_free_array(c, 1);
}

/*
 * Spreads (compare-spread.json): noise = larger of the two spreads.
 *   p50: spreads 2.0, 1.0 -> 2.0; |delta| 1.5 <= 2.0 -> marked
 *   p99: spreads 1.0, 2.0 -> 2.0; |delta| 2.5 >  2.0 -> not marked
 *   perm: 0.05, 0.1 -> 0.10; |delta| 0.25 > 0.10 -> not marked
 *   events/s: 150000, 120000 -> 150000; |delta| 100000 -> marked
 */
Test(compare, noise_column_and_markers)
{
	struct tdp_report *r = load_one("compare-spread.json", 2);
	struct table t = compare(&r[0], &r[1]);
	struct row row;

	cr_expect_eq(t.ret, 1);
	expect_width(t.text);
	cr_expect(strstr(t.text, "A: old (old layout, Release build, 5 reps)\n"), "%s",
		  t.text);
	cr_expect(strstr(t.text, " noise\n"), "header has a noise column:\n%s", t.text);

	row = get_row(t.text, "walk p50 (ns)");
	cr_expect_str_eq(row.delta, "-1.5");
	cr_expect_str_eq(row.noise, "2.0");
	cr_expect(row.marked);
	row = get_row(t.text, "walk p99 (ns)");
	cr_expect_str_eq(row.noise, "2.0");
	cr_expect_not(row.marked);
	row = get_row(t.text, "ns/perm check");
	cr_expect_str_eq(row.noise, "0.10");
	cr_expect_not(row.marked);
	row = get_row(t.text, "events/s");
	cr_expect_str_eq(row.noise, "150000");
	cr_expect(row.marked);
	/* counts get no noise: they are deterministic */
	row = get_row(t.text, "exits");
	cr_expect_str_eq(row.noise, "");
	cr_expect_str_eq(last_line(t.text), "counts differ: exits, exits.pf, faults.fixed");
	free(t.text);
	tdp_report_free_array(r, 2);
}

/* Extreme counts: exact signed u64 delta or a compact exponent form. */
Test(compare, extreme_counts_fit_their_columns)
{
	struct tdp_report a = { .timing = true }, b = { .timing = true };
	struct table t;

	a.exits.total = 0;
	b.exits.total = UINT64_MAX;
	a.exits.pf = UINT64_MAX;
	b.exits.pf = 0;
	a.faults.fixed = 4000000000ull;
	b.faults.fixed = 4000000001ull;
	t = compare(&a, &b);
	expect_width(t.text);
	/* 18446744073709551615 has 20 digits: 1.84e+19 in 10 columns */
	expect_row(t.text, "exits", "0", "1.84e+19", "+1.84e+19", "n/a");
	expect_row(t.text, "exits.pf", "1.84e+19", "0", "-1.84e+19", "-100.0%");
	/* 1 / 4e9 = 0.000000025%: rounds to zero, printed without a sign */
	expect_row(t.text, "faults.fixed", "4000000000", "4000000001", "+1", "0.0%");
	free(t.text);
}

/* Every count differs: the verdict wraps, names all of them, stays in 72. */
Test(compare, long_verdict_wraps)
{
	static const char *const names[] = {
		"events", "exits", "exits.pf", "exits.ept_violation",
		"exits.ept_misconfig", "exits.emulated_write", "exits.cr",
		"exits.invlpg", "faults.fixed", "faults.spurious", "faults.emulated",
		"faults.retry", "faults.injected", "faults.to_l1", "sp.created",
		"sp.peak", "sp.zapped", "sp.unsync", "sp.sync", "prev_roots hit %",
	};
	struct tdp_report a = { 0 }, b = {
		.events_total = 1,
		.exits = { 1, 1, 1, 1, 1, 1, 1, 1 },
		.faults = { 1, 1, 1, 1, 1, 1 },
		.sp = { .created = 1, .peak = 1, .zapped = 1, .unsync = 1, .sync = 1,
			.prev_roots_hit_rate = 0.5 },
	};
	struct table t = compare(&a, &b);
	const char *v = strstr(t.text, "counts differ: ");

	cr_expect_eq(t.ret, 1);
	expect_width(t.text);
	cr_assert(v, "%s", t.text);
	cr_expect(strchr(v, '\n') < v + strlen(v) - 1, "verdict should wrap:\n%s", v);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* each name appears once in the verdict, followed by ',' or end */
		char want[64];

		snprintf(want, sizeof(want), "%s%s", names[i],
			 i + 1 < sizeof(names) / sizeof(names[0]) ? "," : "\n");
		cr_expect(strstr(v, want), "verdict lacks '%s':\n%s", names[i], v);
	}
	/* timing is unmeasured in both: shown as '-', and never a verdict */
	expect_row(t.text, "walk p50 (ns)", "-", "-", "-", "-");
	free(t.text);
}

Test(compare, write_error_is_reported)
{
	struct tdp_report a = { 0 }, b = { 0 };
	FILE *fp = fopen("/dev/full", "w");

	cr_assert(fp);
	setvbuf(fp, NULL, _IONBF, 0);
	cr_expect_eq(tdp_report_compare_print(fp, &a, &b, "a", "b"), TDP_E_IO);
	fclose(fp);
}

/* The noise bound is inclusive: |delta| == noise is still noise. */
Test(compare, delta_equal_to_noise_is_marked)
{
	struct tdp_report a = { .timing = true, .has_spread = true },
			  b = { .timing = true };
	struct table t;
	struct row row;

	a.t.walk_p50 = 10.0;
	b.t.walk_p50 = 12.0;
	a.spread.walk_p50 = 2.0;	/* b has no spread: noise is a's */
	a.t.walk_p99 = 10.0;
	b.t.walk_p99 = 12.5;
	a.spread.walk_p99 = 2.0;
	t = compare(&a, &b);
	row = get_row(t.text, "walk p50 (ns)");
	cr_expect_str_eq(row.delta, "+2.0");
	cr_expect_str_eq(row.noise, "2.0");
	cr_expect(row.marked);
	row = get_row(t.text, "walk p99 (ns)");
	cr_expect_not(row.marked);
	cr_expect_eq(t.ret, 0);
	free(t.text);
}

/* A delta that rounds to zero at the row's precision prints as plain zero. */
Test(compare, tiny_timing_delta_prints_unsigned_zero)
{
	struct tdp_report a = { .timing = true }, b = { .timing = true };
	struct table t;

	a.t.walk_p50 = 610.24;
	b.t.walk_p50 = 610.21;		/* -0.03 rounds to 0.0 at one decimal */
	a.t.perm_mean_ns = 1000.0;
	b.t.perm_mean_ns = 1000.4;	/* +0.04%: 0.0% */
	t = compare(&a, &b);
	expect_row(t.text, "walk p50 (ns)", "610.2", "610.2", "0.0", "0.0%");
	expect_row(t.text, "ns/perm check", "1000.00", "1000.40", "+0.40", "0.0%");
	free(t.text);
}
