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
#include <tdpsim/json_load.h>
#include <tdpsim/replay.h>
#include <tdpsim/report.h>
#include <tdpsim/trace.h>

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

/*
 * Every line at most 72 columns (the text is ASCII, so bytes = columns),
 * but for one unbreakable word such as a long path (line_fits()).
 */
static void expect_width(const char *text)
{
	int lineno = 1;

	for (const char *p = text; *p; lineno++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		cr_expect(line_fits(p, len, 72), "line %d is %zu columns: %.*s", lineno, len,
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
	cr_expect_eq(r->faults.fixed, 1100);	/* kvm_stats.pf_fixed */
	cr_expect_eq(r->kvm.pf_taken, 1330);
	cr_expect_eq(r->kvm.mmu_flooded, 4);
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
	/* jansson's words; nothing read on line 1: column 1 */
	{ "empty.json", TDP_E_JSON, "empty.json': 1:1: unexpected token near end of file" },
	/* the file ends after line 110 (column 0: shown as 1), inside an open array */
	{ "truncated.json", TDP_E_JSON, "truncated.json': 111:1: ']' expected near end of file" },
	{ "bad-version.json", TDP_E_VERSION, "report version 3 is not supported" },
	/* a version-1 report (tdpsim's names for KVM's stats): refused, clearly */
	{ "v1.json", TDP_E_VERSION, "report version 1 is not supported (expected 2; "
	  "version 1 predates KVM's stat names: replay the trace again)" },
	{ "missing-faults-injected.json", TDP_E_JSON,
	  "missing field 'faults.injected'" },
	{ "wrong-type-exits-total.json", TDP_E_JSON,
	  "field 'kvm_stats.exits' is a string, expected an unsigned integer" },
	{ "missing-column-sp-live.json", TDP_E_JSON,
	  "missing column 'sp_live' in field 'timeline.columns'" },
	{ "no-such-file.json", TDP_E_IO, "cannot open '" },
	{ "compare-second-lacks-exits.json", TDP_E_JSON,
	  "compare-second-lacks-exits.json' (reports[1]): missing field 'kvm_stats.exits'" },
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
	/* jansson keeps no positions in the tree: the field's path names it */
	static const char *const want[] = {
		"a report is an object, not an array",
		"not a tdpsim report: missing field 'tdpsim_report'",
		"field 'tdpsim_report' is a string, expected an unsigned integer",
	};

	for (size_t i = 0; i < 3; i++) {
		struct tdp_report r = { 0 };
		char err[256];
		json_t *v;

		cr_assert_eq(tdp_json_load(docs[i], strlen(docs[i]), &v, NULL, 0), 0);
		cr_expect_eq(tdp_report_from_json(&r, v, err, sizeof(err)), TDP_E_JSON);
		cr_expect_str_eq(err, want[i]);
		tdp_report_release(&r);
		json_decref(v);
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
	cr_expect_str_eq(last_line(t.text), "counts differ: exits, exits.pf, pf_taken, pf_fixed");
	cr_expect_null(strstr(t.text, "noise"), "no spread, no noise column");
	cr_expect(strstr(t.text, "A: old (old layout, Release build)\n"), "%s", t.text);
	cr_expect(strstr(t.text, "B: new (new layout, Release build)\n"), "%s", t.text);

	expect_row(t.text, "events", "12000", "12000", "0", "0.0%");
	/* -20 / 1500 = -1.333% */
	expect_row(t.text, "exits", "1500", "1480", "-20", "-1.3%");
	/* -20 / 1200 = -1.667% */
	expect_row(t.text, "exits.pf", "1200", "1180", "-20", "-1.7%");
	expect_row(t.text, "exits.emulated_write", "200", "200", "0", "0.0%");
	/* -20 / 1100 = -1.818%; KVM's pf_fixed (schema 2) */
	expect_row(t.text, "pf_fixed", "1100", "1080", "-20", "-1.8%");
	/* each of the 20 #PF exits was one pf_taken: 1330 = 1100 + 30 + 200 */
	expect_row(t.text, "pf_taken", "1330", "1310", "-20", "-1.5%");
	expect_row(t.text, "faults.injected", "150", "150", "0", "0.0%");
	expect_row(t.text, "sp.created", "420", "420", "0", "0.0%");
	expect_row(t.text, "sp.peak", "310", "310", "0", "0.0%");
	expect_row(t.text, "sp.zapped", "120", "120", "0", "0.0%");
	expect_row(t.text, "sp.unsync_made", "55", "55", "0", "0.0%");
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
	cr_expect_str_eq(last_line(t.text), "counts differ: exits, exits.pf, pf_taken, pf_fixed");
	/* the timing verdict: the unmarked timing rows, in table order */
	cr_expect(strstr(t.text, "\nbeyond noise: walk p99 (ns), ns/perm check\n"), "%s",
		  t.text);
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
	expect_row(t.text, "pf_fixed", "4000000000", "4000000001", "+1", "0.0%");
	free(t.text);
}

/* Every count differs: the verdict wraps, names all of them, stays in 72. */
Test(compare, long_verdict_wraps)
{
	static const char *const names[] = {
		"events", "exits", "exits.pf", "exits.ept_violation",
		"exits.ept_misconfig", "exits.emulated_write", "exits.cr",
		"exits.invlpg", "pf_taken", "pf_fixed", "pf_spurious", "pf_emulate",
		"invlpg", "tlb_flush", "mmu_shadow_zapped", "mmu_pte_write",
		"mmu_pde_zapped", "mmu_flooded", "mmu_recycled", "mmu_cache_miss",
		"mmu_unsync", "pages_4k", "pages_2m", "pages_1g",
		"faults.retry", "faults.injected", "faults.to_l1", "faults.gp_set",
		"faults.gp_noncanon", "sp.created",
		"sp.peak", "sp.zapped", "sp.unsync_made", "sp.sync", "prev_roots hit %",
	};
	struct tdp_report a = { 0 }, b = {
		.events_total = 1,
		.exits = { 1, 1, 1, 1, 1, 1, 1, 1 },
		.faults = { 1, 1, 1, 1, 1, 1, 1, 1 },
		.kvm = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
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

/* ---- nested counters: text report, JSON report, reader, comparison ---- */

/*
 * Hand-picked nested counters of an intel L1 with MBEC, made consistent the
 * way the hardware would: 37 violations + 3 misconfigurations = 40
 * reflected; a misconfiguration has no qualification, so the qualification
 * bits sum over the 37 violations: bit 7 (GVA valid) on all 37, bit 8 on
 * the 30 final accesses (7 on L2 paging structures), and the fetch bit 2 on
 * 5 user-mode + 2 supervisor-mode fetches.  Bits 4 and 10 are 0.
 */
static void nested_ept_stats(struct tdp_stats *s)
{
	static const uint64_t qual[12] = { 20, 10, 7, 25, 0, 4, 2, 37, 30, 12, 0, 5 };

	s->nested_vmenter = 7;
	s->nested_vmexit = 6;
	s->nested_invept_single = 3;
	s->nested_invept_global = 1;
	s->l2_accesses = 5000;
	s->l2_exits = 120;
	s->l2_pf = 9;
	s->nested_reflected = 40;
	s->reflected_ept_violation = 37;
	s->reflected_ept_misconfig = 3;
	memcpy(s->reflected_qual_bit, qual, sizeof(qual));
	s->reflected_final = 30;
	s->reflected_page = 7;
	s->reflected_exec_user = 5;
	s->reflected_exec_supervisor = 2;
	s->sp_nested_created = 64;
	s->sp_nested_live = 48;
}

/*
 * An amd L1 with GMET: 11 #NPFs, 8 on the final GPA and 3 on L2 paging
 * structures; EXITINFO1 P on 4, W on 6, U on 3, ID on 5 (2 fetches at
 * CPL 3, 3 at CPL 0-2), RSVD on none; 4 nested TLB flushes.
 */
static void nested_npt_stats(struct tdp_stats *s)
{
	static const uint64_t npf[5] = { 4, 6, 3, 0, 5 };

	s->nested_vmenter = 2;
	s->nested_vmexit = 2;
	s->nested_invept_global = 4;
	s->l2_accesses = 900;
	s->l2_exits = 33;
	s->l2_pf = 1;
	s->nested_reflected = 11;
	s->reflected_npf = 11;
	memcpy(s->reflected_npf_bit, npf, sizeof(npf));
	s->reflected_final = 8;
	s->reflected_page = 3;
	s->reflected_exec_user = 2;
	s->reflected_exec_supervisor = 3;
	s->sp_nested_created = 12;
	s->sp_nested_live = 10;
}

static struct tdp_replay_result *new_result(void)
{
	struct tdp_replay_result *res = calloc(1, sizeof(*res));

	cr_assert(res);
	return res;
}

static struct tdp_config nested_config(enum tdp_vendor vendor)
{
	struct tdp_config cfg;

	tdp_config_init(&cfg);
	cfg.vendor = vendor;
	cfg.paging = TDP_PAGING_NESTED;
	cfg.mbec = vendor == TDP_VENDOR_INTEL;
	cfg.gmet = vendor == TDP_VENDOR_AMD;
	return cfg;
}

static char *render_text(const struct tdp_config *cfg, const struct tdp_replay_result *res)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	cr_assert(fp);
	cr_assert_eq(tdp_report_print_text(fp, "t.txt", cfg, "new", res), 0);
	fclose(fp);
	return text;
}

static char *render_json(const struct tdp_config *cfg, const struct tdp_replay_result *res,
			 size_t *len)
{
	char *text = NULL;
	FILE *fp = open_memstream(&text, len);

	cr_assert(fp);
	cr_assert_eq(tdp_report_write_json(fp, "t.txt", cfg, "new", res), 0);
	fclose(fp);
	return text;
}

/*
 * The text report row "  <label>   <value>" (labels are padded to 36
 * columns): NULL if absent, else what follows the label, blanks skipped.
 */
static const char *text_row(const char *text, const char *label)
{
	size_t n = strlen(label);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		const char *v = p + 2 + n;

		if (strncmp(p, "  ", 2) || strncmp(p + 2, label, n) || *v != ' ')
			continue;
		/* the rest of the label column must be padding */
		while (*v == ' ')
			v++;
		if (v - p >= 2 + 36 + 1)
			return v;
	}
	return NULL;
}

static void expect_text_u64(const char *text, const char *label, uint64_t want)
{
	const char *v = text_row(text, label);
	unsigned long long got;

	cr_assert(v, "no row '%s' in:\n%s", label, text);
	cr_assert_eq(sscanf(v, "%llu", &got), 1, "row '%s': %s", label, v);
	cr_expect_eq(got, want, "row '%s': %llu, expected %llu", label, got,
		     (unsigned long long)want);
}

static void expect_text_pair(const char *text, const char *label, uint64_t a, uint64_t b)
{
	const char *v = text_row(text, label);
	unsigned long long x, y;

	cr_assert(v, "no row '%s' in:\n%s", label, text);
	cr_assert_eq(sscanf(v, "%llu / %llu", &x, &y), 2, "row '%s': %s", label, v);
	cr_expect_eq(x, a, "row '%s' first value", label);
	cr_expect_eq(y, b, "row '%s' second value", label);
}

Test(report_text, nested_ept_section)
{
	static const char *const qual_rows[12] = {
		"  qual bit 0 read", "  qual bit 1 write", "  qual bit 2 fetch",
		"  qual bit 3 GPA readable (R)", "  qual bit 4 GPA writable (W)",
		"  qual bit 5 GPA executable (X/XS)", "  qual bit 6 GPA user-exec (XU)",
		"  qual bit 7 GVA valid", "  qual bit 8 GVA translated",
		"  qual bit 9 GVA user-mode (U/S)", "  qual bit 10 GVA writable (R/W)",
		"  qual bit 11 GVA exec-disable (XD)",
	};
	struct tdp_config cfg = nested_config(TDP_VENDOR_INTEL);
	struct tdp_replay_result *res = new_result();
	char *t;

	nested_ept_stats(&res->stats);
	t = render_text(&cfg, res);
	expect_width(t);
	cr_expect(strstr(t, "\nnested (L2 under L1's EPT)\n"), "%s", t);
	expect_text_pair(t, "vmenter / vmexit", 7, 6);
	expect_text_pair(t, "INVEPT single / global", 3, 1);
	expect_text_u64(t, "L2 accesses", 5000);
	expect_text_u64(t, "#PF delivered to L2", 9);
	expect_text_u64(t, "L2 exits into L0 (EPT02 misses)", 120);
	expect_text_u64(t, "exits reflected to L1", 40);
	expect_text_u64(t, "  EPT violations", 37);
	expect_text_u64(t, "  EPT misconfigurations", 3);
	cr_expect_null(text_row(t, "  #NPF"), "no NPT rows on intel:\n%s", t);
	cr_expect_null(strstr(t, "EXITINFO1"), "no NPT rows on intel:\n%s", t);
	expect_text_pair(t, "  on final GPA / on L2 paging struct", 30, 7);
	expect_text_u64(t, "  fetch of user-mode GVA (MBEC: XU)", 5);
	expect_text_u64(t, "  fetch of supervisor GVA (MBEC: XS)", 2);
	/* non-zero qualification bits only: 4 and 10 are 0 */
	for (int b = 0; b < 12; b++) {
		if (b == 4 || b == 10) {
			cr_expect_null(text_row(t, qual_rows[b]), "bit %d shown:\n%s", b, t);
			continue;
		}
		expect_text_u64(t, qual_rows[b], res->stats.reflected_qual_bit[b]);
	}
	expect_text_pair(t, "EPT02 shadow pages created / at end", 64, 48);
	free(t);
	free(res);
}

Test(report_text, nested_npt_section)
{
	struct tdp_config cfg = nested_config(TDP_VENDOR_AMD);
	struct tdp_replay_result *res = new_result();
	char *t;

	nested_npt_stats(&res->stats);
	t = render_text(&cfg, res);
	expect_width(t);
	cr_expect(strstr(t, "\nnested (L2 under L1's NPT)\n"), "%s", t);
	expect_text_pair(t, "vmenter / vmexit", 2, 2);
	/* amd has no INVEPT: its invept events are nested TLB flushes */
	cr_expect_null(text_row(t, "INVEPT single / global"), "%s", t);
	expect_text_u64(t, "nested TLB flushes (invept)", 4);
	expect_text_u64(t, "L2 accesses", 900);
	expect_text_u64(t, "#PF delivered to L2", 1);
	expect_text_u64(t, "L2 exits into L0 (NPT02 misses)", 33);
	expect_text_u64(t, "exits reflected to L1", 11);
	expect_text_u64(t, "  #NPF", 11);
	cr_expect_null(text_row(t, "  EPT violations"), "%s", t);
	cr_expect_null(strstr(t, "qual bit"), "%s", t);
	expect_text_pair(t, "  on final GPA / on L2 paging struct", 8, 3);
	expect_text_u64(t, "  fetch at CPL 3 (user)", 2);
	expect_text_u64(t, "  fetch at CPL 0-2 (supervisor)", 3);
	expect_text_u64(t, "  EXITINFO1.P (present entry denied)", 4);
	expect_text_u64(t, "  EXITINFO1.W (write)", 6);
	expect_text_u64(t, "  EXITINFO1.U (user access)", 3);
	expect_text_u64(t, "  EXITINFO1.ID (fetch)", 5);
	cr_expect_null(strstr(t, "EXITINFO1.RSVD"), "RSVD is 0:\n%s", t);
	expect_text_pair(t, "NPT02 shadow pages created / at end", 12, 10);
	free(t);
	free(res);
}

/* No nested section for a shadow trace; a stray nested count still shows. */
Test(report_text, nested_section_only_when_nested)
{
	struct tdp_config cfg;
	struct tdp_replay_result *res = new_result();
	char *t;

	tdp_config_init(&cfg);
	cfg.paging = TDP_PAGING_SHADOW;
	t = render_text(&cfg, res);
	expect_width(t);
	cr_expect_null(strstr(t, "nested"), "%s", t);
	cr_expect_null(strstr(t, "L2"), "%s", t);
	free(t);

	/* paging=nested with nothing counted: the section, all zeros */
	cfg.paging = TDP_PAGING_NESTED;
	t = render_text(&cfg, res);
	expect_text_u64(t, "L2 accesses", 0);
	/* without MBEC offered, no XU/XS in the labels: both need X */
	expect_text_u64(t, "  fetch of user-mode GVA", 0);
	cr_expect_null(strstr(t, "MBEC"), "%s", t);
	expect_text_pair(t, "EPT02 shadow pages created / at end", 0, 0);
	free(t);

	cfg.paging = TDP_PAGING_TDP;
	res->stats.reflected_qual_bit[11] = 1;
	t = render_text(&cfg, res);
	expect_text_u64(t, "  qual bit 11 GVA exec-disable (XD)", 1);
	free(t);
	free(res);
}

static void expect_nested_equal(const struct tdp_report *r, const struct tdp_stats *s)
{
	cr_expect(r->has_nested);
	cr_expect_eq(r->nested.vmenter, s->nested_vmenter);
	cr_expect_eq(r->nested.vmexit, s->nested_vmexit);
	cr_expect_eq(r->nested.invept_single, s->nested_invept_single);
	cr_expect_eq(r->nested.invept_global, s->nested_invept_global);
	cr_expect_eq(r->nested.l2_accesses, s->l2_accesses);
	cr_expect_eq(r->nested.l2_pf, s->l2_pf);
	cr_expect_eq(r->nested.l2_exits, s->l2_exits);
	cr_expect_eq(r->nested.reflected, s->nested_reflected);
	cr_expect_eq(r->faults.reflected_to_l1, s->nested_reflected);
	cr_expect_eq(r->nested.ept_violation, s->reflected_ept_violation);
	cr_expect_eq(r->nested.ept_misconfig, s->reflected_ept_misconfig);
	cr_expect_eq(r->nested.npf, s->reflected_npf);
	cr_expect_eq(r->nested.final, s->reflected_final);
	cr_expect_eq(r->nested.paging_structure, s->reflected_page);
	cr_expect_eq(r->nested.exec_user, s->reflected_exec_user);
	cr_expect_eq(r->nested.exec_supervisor, s->reflected_exec_supervisor);
	for (int b = 0; b < 12; b++)
		cr_expect_eq(r->nested.qual_bit[b], s->reflected_qual_bit[b], "bit %d", b);
	for (int b = 0; b < 5; b++)
		cr_expect_eq(r->nested.npf_bit[b], s->reflected_npf_bit[b], "bit %d", b);
	cr_expect_eq(r->nested.sp_created, s->sp_nested_created);
	cr_expect_eq(r->nested.sp_live, s->sp_nested_live);
}

/* The JSON report's "nested" object, by path, and back through the reader. */
Test(report_json, nested_object_round_trip)
{
	for (int v = 0; v < 2; v++) {
		struct tdp_config cfg = nested_config(v ? TDP_VENDOR_AMD : TDP_VENDOR_INTEL);
		struct tdp_replay_result *res = new_result();
		const json_t *q;
		json_t *root;
		struct tdp_report r = { 0 };
		uint64_t u = 99;
		char err[256] = "";
		size_t len;
		char *js;

		if (v)
			nested_npt_stats(&res->stats);
		else
			nested_ept_stats(&res->stats);
		js = render_json(&cfg, res, &len);
		cr_assert_eq(tdp_json_load(js, len, &root, err, sizeof(err)), 0, "%s", err);
		/* the schema's names (docs/report-schema.md) */
		q = tdp_json_path(root, "nested.reflected.qual_by_bit");
		cr_assert(json_is_array(q) && json_array_size(q) == 12);
		cr_assert(tdp_json_as_u64(json_array_get(q, 8), &u));
		cr_expect_eq(u, v ? 0 : 30);
		q = tdp_json_path(root, "nested.reflected.exitinfo1_by_bit.ID");
		cr_assert(tdp_json_as_u64(q, &u));
		cr_expect_eq(u, v ? 5 : 0);
		q = tdp_json_path(root, "nested.l2_exits");
		cr_assert(tdp_json_as_u64(q, &u));
		cr_expect_eq(u, v ? 33 : 120);
		q = tdp_json_path(root, "nested.shadow_pages.live");
		cr_assert(tdp_json_as_u64(q, &u));
		cr_expect_eq(u, v ? 10 : 48);

		cr_assert_eq(tdp_report_from_json(&r, root, err, sizeof(err)), 0, "%s", err);
		cr_expect(r.paging_nested);
		expect_nested_equal(&r, &res->stats);
		tdp_report_release(&r);
		json_decref(root);
		free(js);
		free(res);
	}
}

/* A report written before the nested counters (a.json) still loads. */
Test(report_load, report_without_nested_loads)
{
	struct tdp_report *r = load_one("a.json", 1);

	cr_expect_not(r->has_nested);
	cr_expect_not(r->paging_nested);
	cr_expect_eq(r->nested.l2_accesses, 0);
	tdp_report_free_array(r, 1);
}

/* a.json with @nested spliced in as its last member */
static int load_with_nested(const char *nested, char *err, size_t errlen)
{
	char *base = read_file(src_path("tests/data/reports/a.json"), NULL);
	struct tdp_report r = { 0 };
	char *doc, *end;
	json_t *root;
	int ret;

	cr_assert(base);
	end = strrchr(base, '}');
	cr_assert(end);
	*end = '\0';
	cr_assert(asprintf(&doc, "%s, \"nested\": %s }", base, nested) > 0);
	cr_assert_eq(tdp_json_load(doc, strlen(doc), &root, err, errlen), 0, "%s", err);
	ret = tdp_report_from_json(&r, root, err, errlen);
	tdp_report_release(&r);
	json_decref(root);
	free(doc);
	free(base);
	return ret;
}

#define NESTED_OK							\
	"{ \"vmenter\": 1, \"vmexit\": 1, \"invept_single\": 0, "	\
	"\"invept_global\": 0, \"l2_accesses\": 5, \"l2_pf\": 0, "	\
	"\"l2_exits\": 2, \"reflected\": { \"total\": 1, "		\
	"\"ept_violation\": 1, \"ept_misconfig\": 0, \"npf\": 0, "	\
	"\"final\": 1, \"paging_structure\": 0, \"exec_user\": 0, "	\
	"\"exec_supervisor\": 0, "					\
	"\"qual_by_bit\": [1,0,0,0,0,0,0,1,1,0,0,0], "			\
	"\"exitinfo1_by_bit\": { \"P\": 0, \"W\": 0, \"U\": 0, "	\
	"\"RSVD\": 0, \"ID\": 0 } }, "					\
	"\"shadow_pages\": { \"created\": 3, \"live\": 3 } }"

/* Present, "nested" must be complete: a partial one is not a v1 writer's. */
Test(report_load, partial_nested_fails_with_named_field)
{
	char err[256], *doc;

	cr_expect_eq(load_with_nested(NESTED_OK, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(load_with_nested("[]", err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "field 'nested' is an array, expected an object"), "%s", err);

	/* drop l2_pf */
	doc = strdup(NESTED_OK);
	cr_assert(doc);
	memcpy(strstr(doc, "\"l2_pf\""), "\"l2_px\"", 7);
	cr_expect_eq(load_with_nested(doc, err, sizeof(err)), TDP_E_JSON);
	cr_expect_str_eq(err, "missing field 'nested.l2_pf'");
	free(doc);

	/* 11 qualification bits instead of 12 */
	doc = strdup(NESTED_OK);
	cr_assert(doc);
	memcpy(strstr(doc, "0,0,0]"), "0,0]  ", 6);
	cr_expect_eq(load_with_nested(doc, err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "'nested.reflected.qual_by_bit' is not an array of 12 counts"),
		  "%s", err);
	free(doc);

	/* a count that is not an unsigned integer */
	doc = strdup(NESTED_OK);
	cr_assert(doc);
	memcpy(strstr(doc, "\"ID\": 0"), "\"ID\":-1", 7);
	cr_expect_eq(load_with_nested(doc, err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "field 'nested.reflected.exitinfo1_by_bit.ID' is"), "%s", err);
	free(doc);
}

static void set_nested(struct tdp_report *r, uint64_t l2_exits, uint64_t exec_user,
		       uint64_t qual2)
{
	r->has_nested = true;
	r->paging_nested = true;
	r->nested.vmenter = 4;
	r->nested.vmexit = 4;
	r->nested.l2_accesses = 1000;
	r->nested.l2_exits = l2_exits;
	r->nested.ept_violation = 6;
	r->nested.final = 6;
	r->nested.exec_user = exec_user;
	r->nested.qual_bit[2] = qual2;
	r->nested.sp_created = 20;
	r->nested.sp_live = 16;
}

/*
 * Old vs new layout on a nested trace: B has 10 more EPT02 misses
 * (+10 / 50 = +20%) and 2 fewer user-mode fetch faults, which the fetch
 * qualification bit shows too (3 -> 1: -2 / 3 = -66.7%).
 */
Test(compare, nested_rows_when_present)
{
	struct tdp_report a = { .timing = true }, b = { .timing = true };
	struct table t;

	set_nested(&a, 50, 3, 3);
	set_nested(&b, 60, 1, 1);
	t = compare(&a, &b);
	cr_expect_eq(t.ret, 1);
	expect_width(t.text);
	expect_row(t.text, "nested.vmenter", "4", "4", "0", "0.0%");
	expect_row(t.text, "nested.l2_accesses", "1000", "1000", "0", "0.0%");
	expect_row(t.text, "nested.l2_exits", "50", "60", "+10", "+20.0%");
	expect_row(t.text, "nested.ept_violation", "6", "6", "0", "0.0%");
	expect_row(t.text, "nested.final", "6", "6", "0", "0.0%");
	expect_row(t.text, "nested.exec_user", "3", "1", "-2", "-66.7%");
	/* a core row is shown even at 0 in both */
	expect_row(t.text, "nested.exec_super", "0", "0", "0", "0.0%");
	expect_row(t.text, "nested.qual[2]", "3", "1", "-2", "-66.7%");
	expect_row(t.text, "nested.sp_created", "20", "20", "0", "0.0%");
	expect_row(t.text, "nested.sp_live", "16", "16", "0", "0.0%");
	/* breakdown rows that are 0 in both are left out */
	cr_expect_null(strstr(t.text, "nested.npf"), "%s", t.text);
	cr_expect_null(strstr(t.text, "nested.qual[0]"), "%s", t.text);
	cr_expect_null(strstr(t.text, "nested.ept_misconfig"), "%s", t.text);
	cr_expect_str_eq(last_line(t.text),
			 "counts differ: nested.l2_exits, nested.exec_user, nested.qual[2]");
	free(t.text);
}

/* A report without the nested object: its side is '-', never a delta. */
Test(compare, nested_rows_against_a_report_without_them)
{
	struct tdp_report a = { .timing = true }, b = { .timing = true };
	struct table t;

	set_nested(&b, 60, 1, 1);
	t = compare(&a, &b);
	cr_expect_eq(t.ret, 0);
	expect_width(t.text);
	expect_row(t.text, "nested.l2_exits", "-", "60", "-", "-");
	expect_row(t.text, "nested.qual[2]", "-", "1", "-", "-");
	cr_expect_str_eq(last_line(t.text), "counts identical");
	free(t.text);
}

/* Shadow-paging reports keep the short table, nested object or not. */
Test(compare, no_nested_rows_for_non_nested_reports)
{
	struct tdp_report *a = load_one("a.json", 1), *b = load_one("b.json", 1);
	struct tdp_report c = { .timing = true, .has_nested = true },
			  d = { .timing = true, .has_nested = true };
	struct table t = compare(a, b);

	cr_expect_null(strstr(t.text, "nested."), "%s", t.text);
	free(t.text);
	t = compare(&c, &d);
	cr_expect_null(strstr(t.text, "nested."), "%s", t.text);
	free(t.text);
	/* a nested count off paging=nested still shows the group */
	d.nested.l2_pf = 2;
	t = compare(&c, &d);
	expect_row(t.text, "nested.l2_pf", "0", "2", "+2", "n/a");
	expect_row(t.text, "nested.l2_accesses", "0", "0", "0", "0.0%");
	free(t.text);
	tdp_report_free_array(a, 1);
	tdp_report_free_array(b, 1);
}

/*
 * End to end: `tdpsim replay --json` on the nested scenarios, counters
 * derived by hand from the traces and their golden logs
 * (tests/scenarios/nested-ept.{txt,log}):
 *   L2 accesses: events 18-24, 33, 35, 36, 42, 49, 50 = 13; #PF to L2: 22, 24.
 *   reflected: 20 21 23 36 42 (violations) + 49 (misconfiguration) = 6;
 *   final GPA: 20 21 23 36, paging structure: 42.
 *   qualification bits over 0x18a 0x18c 0x181 0x181 0xab: bit 0 x3, 1 x2,
 *   2 x1, 3 x3, 5 x1, 7 x5, 8 x4; advanced bits of the final accesses:
 *   0x6010 (twice) and 0x6000 are supervisor RW pages (R/W), 0x7000 is
 *   user RW (U/S, R/W): bit 9 x1, bit 10 x4, bit 11 none (no XD).
 *   the one fetch (21) is of a supervisor GVA.
 *   L2 exits into L0: 18 misses the 4 L2 tables and 0x5000 (5); 19 writes
 *   0x5000, mapped read-only while the EPT D bit was clear (6); 20, 21, 23
 *   miss 0x6000/0x7000 (9); after INVEPT the shadow pages are found again,
 *   so 33 misses 0x7000 (10), 35 writes it (11), 36 misses 0x6000 (12);
 *   42 misses the PT page KVM zapped on L1's write 38 (13); 49 misses the
 *   PT page again (write 44) and 0x5000 (write 45) (15); 50 hits.
 */
Test(report_cli, nested_ept_scenario_counters)
{
	struct run_result r;
	const char *json = test_path("nested-ept.json");
	const char *argv[] = { "replay", "--json", json,
			       src_path("tests/scenarios/nested-ept.txt"), NULL };
	static const uint64_t qual[12] = { 3, 2, 1, 3, 0, 1, 0, 5, 4, 1, 4, 0 };
	struct tdp_report *rep;
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_width(r.out);
	cr_expect(strstr(r.out, "\nnested (L2 under L1's EPT)\n"), "%s", r.out);
	expect_text_u64(r.out, "L2 accesses", 13);
	expect_text_u64(r.out, "exits reflected to L1", 6);
	expect_text_u64(r.out, "  fetch of supervisor GVA", 1);
	expect_text_u64(r.out, "  qual bit 10 GVA writable (R/W)", 4);

	cr_assert_eq(tdp_report_load(json, &rep, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect(rep->has_nested && rep->paging_nested);
	cr_expect_eq(rep->nested.vmenter, 4);
	cr_expect_eq(rep->nested.vmexit, 3);
	cr_expect_eq(rep->nested.invept_single, 1);	/* 31 */
	cr_expect_eq(rep->nested.invept_global, 2);	/* 39, 46 */
	cr_expect_eq(rep->nested.l2_accesses, 13);
	cr_expect_eq(rep->nested.l2_pf, 2);
	cr_expect_eq(rep->nested.l2_exits, 15);
	cr_expect_eq(rep->nested.reflected, 6);
	cr_expect_eq(rep->faults.reflected_to_l1, 6);
	cr_expect_eq(rep->nested.ept_violation, 5);
	cr_expect_eq(rep->nested.ept_misconfig, 1);
	cr_expect_eq(rep->nested.npf, 0);
	cr_expect_eq(rep->nested.final, 4);
	cr_expect_eq(rep->nested.paging_structure, 1);
	cr_expect_eq(rep->nested.exec_user, 0);
	cr_expect_eq(rep->nested.exec_supervisor, 1);
	for (int b = 0; b < 12; b++)
		cr_expect_eq(rep->nested.qual_bit[b], qual[b], "qual bit %d", b);
	cr_expect_gt(rep->nested.sp_created, 0);
	cr_expect_leq(rep->nested.sp_live, rep->nested.sp_created);
	tdp_report_free_array(rep, n);
	run_result_free(&r);
}

/*
 * tests/scenarios/nested-npt.{txt,log}: L2 accesses 20-27, 34, 41, 47, 52
 * = 12; #PF to L2: 26, 27; reflected #NPFs 23 24 25 34 (final) and 41 47
 * (L2 paging structure); EXITINFO1 over 0x100000007 0x100000015
 * 0x100000005 0x100000006 0x200000007 0x200000006: P x4 (23 24 25 41),
 * W x4 (23 34 41 47), U x6 (no GMET: every NPT access is a user access),
 * ID x1 (24, a fetch at CPL 0); 4 nested TLB flushes.
 */
Test(report_cli, nested_npt_scenario_counters)
{
	struct run_result r;
	const char *json = test_path("nested-npt.json");
	const char *argv[] = { "replay", "--json", json,
			       src_path("tests/scenarios/nested-npt.txt"), NULL };
	static const uint64_t npf[5] = { 4, 4, 6, 0, 1 };
	struct tdp_report *rep;
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_width(r.out);
	cr_expect(strstr(r.out, "\nnested (L2 under L1's NPT)\n"), "%s", r.out);
	expect_text_u64(r.out, "  #NPF", 6);
	expect_text_u64(r.out, "  fetch at CPL 0-2 (supervisor)", 1);
	expect_text_u64(r.out, "nested TLB flushes (invept)", 4);

	cr_assert_eq(tdp_report_load(json, &rep, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(rep->nested.vmenter, 5);
	cr_expect_eq(rep->nested.vmexit, 4);
	cr_expect_eq(rep->nested.invept_single + rep->nested.invept_global, 4);
	cr_expect_eq(rep->nested.l2_accesses, 12);
	cr_expect_eq(rep->nested.l2_pf, 2);
	cr_expect_eq(rep->nested.reflected, 6);
	cr_expect_eq(rep->nested.npf, 6);
	cr_expect_eq(rep->nested.ept_violation + rep->nested.ept_misconfig, 0);
	cr_expect_eq(rep->nested.final, 4);
	cr_expect_eq(rep->nested.paging_structure, 2);
	cr_expect_eq(rep->nested.exec_user, 0);
	cr_expect_eq(rep->nested.exec_supervisor, 1);
	for (int b = 0; b < 5; b++)
		cr_expect_eq(rep->nested.npf_bit[b], npf[b], "EXITINFO1 bit %d", b);
	for (int b = 0; b < 12; b++)
		cr_expect_eq(rep->nested.qual_bit[b], 0);
	cr_expect_geq(rep->nested.l2_exits, 6, "each reflected #NPF entered L0 first");
	tdp_report_free_array(rep, n);
	run_result_free(&r);
}

/* A text report row's single value, or -1 when the row is absent. */
static long long text_u64_or(const char *text, const char *label)
{
	const char *v = text_row(text, label);
	long long x;

	return v && sscanf(v, "%lld", &x) == 1 ? x : -1;
}

/*
 * The shipped HVCI traces (issue 5's "done when"): the report shows the
 * MBEC/GMET effect both ways -- fetches reflected to L1 for user-mode code
 * run in kernel mode and for kernel-mode code run in user mode.  The
 * workload's only reflected exits are those exec violations (gen 'hvci'),
 * so the two rows add up to the reflected total.
 */
Test(report_cli, hvci_traces_show_both_directions)
{
	static const struct {
		const char *trace, *user, *sup;
	} cases[] = {
		{ "traces/hvci-intel.zst", "  fetch of user-mode GVA (MBEC: XU)",
		  "  fetch of supervisor GVA (MBEC: XS)" },
		{ "traces/hvci-amd.zst", "  fetch at CPL 3 (user)",
		  "  fetch at CPL 0-2 (supervisor)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "replay", src_path(cases[i].trace), NULL };
		struct run_result r;
		long long user, sup, total;

		cr_assert_eq(run_tdpsim(&r, argv), 0);
		cr_assert_eq(r.status, 0, "%s: %s", cases[i].trace, r.err);
		expect_width(r.out);
		user = text_u64_or(r.out, cases[i].user);
		sup = text_u64_or(r.out, cases[i].sup);
		total = text_u64_or(r.out, "exits reflected to L1");
		cr_expect_gt(user, 0, "%s:\n%s", cases[i].trace, r.out);
		cr_expect_gt(sup, 0, "%s:\n%s", cases[i].trace, r.out);
		cr_expect_eq(user + sup, total, "%s:\n%s", cases[i].trace, r.out);
		run_result_free(&r);
	}
}

/*
 * Per walker and per fault path (compare-latency.json: compare-spread.json
 * with walks.by_kind and fault_paths added by hand): a row only for what
 * either side timed, noise = the larger spread, and the verdict names the
 * timing rows beyond noise in table order.
 *   walk.1d: 30 -> 36, spreads 2, 3 -> noise 3.0; |6.0| > 3.0: beyond
 *   pf.shadow: 400 -> 410, spreads 10, 40 -> 40.0; |10.0| <= 40.0: within
 *   walk p99 and ns/perm check are beyond noise as in the test above.
 */
Test(compare, walker_and_fault_path_rows)
{
	struct tdp_report *r = load_one("compare-latency.json", 2);
	struct table t = compare(&r[0], &r[1]);
	struct row row;

	cr_expect_eq(r[0].walk_kind_count[TDP_WALK_1D], 12);
	cr_expect_eq(r[1].fault_path_count[TDP_FPATH_SHADOW], 5);
	cr_expect_eq(r[0].timer_overhead_ns, 7.5);
	expect_width(t.text);
	row = get_row(t.text, "walk.1d mean (ns)");
	cr_expect_str_eq(row.delta, "+6.0");
	cr_expect_str_eq(row.noise, "3.0");
	cr_expect_not(row.marked);
	row = get_row(t.text, "pf.shadow mean (ns)");
	cr_expect_str_eq(row.a, "400.0");
	cr_expect_str_eq(row.noise, "40.0");
	cr_expect(row.marked);
	/* nothing timed on either side: no row */
	cr_expect_null(strstr(t.text, "walk.ept"), "%s", t.text);
	cr_expect_null(strstr(t.text, "walk.npt"), "%s", t.text);
	cr_expect_null(strstr(t.text, "walk.2d"), "%s", t.text);
	cr_expect_null(strstr(t.text, "pf.direct"), "%s", t.text);
	cr_expect_null(strstr(t.text, "pf.nested"), "%s", t.text);
	cr_expect(strstr(t.text, "\nbeyond noise: walk p99 (ns), walk.1d mean (ns), "
			 "ns/perm check\n"), "%s", t.text);
	free(t.text);
	tdp_report_free_array(r, 2);
}

/* Reports from before the per-walker fields load, and show no such rows. */
Test(compare, reports_without_walker_fields)
{
	struct tdp_report *r = load_one("compare-spread.json", 2);
	struct table t = compare(&r[0], &r[1]);

	for (int k = 0; k < TDP_WALK_KINDS; k++)
		cr_expect_eq(r[0].walk_kind_count[k], 0);
	cr_expect_null(strstr(t.text, "walk.1d"), "%s", t.text);
	cr_expect_null(strstr(t.text, "pf.shadow"), "%s", t.text);
	free(t.text);
	tdp_report_free_array(r, 2);
}
