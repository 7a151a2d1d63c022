// SPDX-License-Identifier: GPL-2.0-only
/*
 * Report-to-report comparison: a plain-text table that fits a 72-column
 * patch cover letter.
 *
 *   metric                       A          B      delta   delta%   noise
 *   |<------- 20 ------>| |<- 10 ->| |<- 10 ->| |<- 10 ->| |<-8->| |<-8->|M
 *
 * 20 + 3 * (1 + 10) + (1 + 8) + (1 + 8) + 1 marker = 72 columns exactly;
 * without a spread the last two fields are dropped (62 columns).
 *
 * Counts are deterministic: any difference is an outcome change and is named
 * in the verdict line.  Timing rows are measurements: they never make the
 * verdict, and when a spread is known a row whose |delta| is within the
 * noise (the larger of the two spreads, i.e. max - min over repetitions) is
 * marked '~' so nobody reads a cover letter's "+3%" that is only jitter.
 *
 * Nested rows ("nested.*") join the table only for nested traces (or when
 * something nested was counted), and their breakdown rows (kinds, stages,
 * qualification / EXITINFO1 bits) only when non-zero on one side, so a
 * shadow-paging comparison keeps its short table.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/report.h>
#include <tdpsim/util.h>

#include "report/timed.h"

#define COLS		72
#define NAME_W		20
#define VAL_W		10
#define PCT_W		8
#define NOISE_W		8

_Static_assert(NAME_W + 3 * (1 + VAL_W) + (1 + PCT_W) + (1 + NOISE_W) + 1 == COLS,
	       "table row must be exactly 72 columns with the noise column");

enum metric_kind {
	M_COUNT,	/* u64 in struct tdp_report, deterministic */
	M_RATE,		/* double in struct tdp_report, deterministic, shown * scale */
	M_TIMING,	/* double in struct tdp_report_timing, measured */
	M_NESTED,	/* u64 in ->nested, deterministic, "-" if the report has none */
};

struct metric {
	const char *name;
	enum metric_kind kind;
	size_t off;
	int decimals;
	double scale;
	bool always;	/* M_NESTED: shown with the group even when 0 in both */
	size_t need;	/* 1 + offset of a u64 count that must be non-zero in A
			 * or B for the row to show (0: no such condition) */
};

#define C(n, m)		{ n, M_COUNT, offsetof(struct tdp_report, m), 0, 1, false, 0 }
#define T(n, m, d)	{ n, M_TIMING, offsetof(struct tdp_report_timing, m), d, 1, false, 0 }
#define N(n, m, a)	{ n, M_NESTED, offsetof(struct tdp_report, nested.m), 0, 1, a, 0 }
/* a timing row per walker / fault path, shown when either side timed one */
#define K(n, m, c)	{ n, M_TIMING, offsetof(struct tdp_report_timing, m), 1, 1, \
			  false, 1 + offsetof(struct tdp_report, c) }

#define TIMED_ROW(o, w, i, m, c, cl, pl) K(cl "." w " mean (ns)", m##_mean[i], c[i]),
static const struct metric metrics[] = {
	C("events", events_total),
	C("exits", exits.total),
	C("exits.pf", exits.pf),
	C("exits.ept_violation", exits.ept_violation),
	C("exits.ept_misconfig", exits.ept_misconfig),
	C("exits.emulated_write", exits.emulated_write),
	C("exits.cr", exits.cr),
	C("exits.invlpg", exits.invlpg),
	/* KVM's stats by KVM's names (report schema version 2) */
	C("pf_taken", kvm.pf_taken),
	C("pf_fixed", faults.fixed),
	C("pf_spurious", faults.spurious),
	C("pf_emulate", faults.emulated),
	C("invlpg", kvm.invlpg),
	C("tlb_flush", kvm.tlb_flush),
	C("mmu_shadow_zapped", kvm.mmu_shadow_zapped),
	C("mmu_pte_write", kvm.mmu_pte_write),
	C("mmu_pde_zapped", kvm.mmu_pde_zapped),
	C("mmu_flooded", kvm.mmu_flooded),
	C("mmu_recycled", kvm.mmu_recycled),
	C("mmu_cache_miss", kvm.mmu_cache_miss),
	C("mmu_unsync", kvm.mmu_unsync),
	C("pages_4k", kvm.pages_4k),
	C("pages_2m", kvm.pages_2m),
	C("pages_1g", kvm.pages_1g),
	/* tdpsim's own */
	C("faults.retry", faults.retry),
	C("faults.injected", faults.injected),
	C("faults.to_l1", faults.reflected_to_l1),
	C("faults.gp_set", faults.gp_set_refused),
	C("faults.gp_noncanon", faults.gp_noncanonical),
	C("sp.created", sp.created),
	C("sp.peak", sp.peak),
	C("sp.zapped", sp.zapped),
	C("sp.unsync_made", sp.unsync),
	C("sp.sync", sp.sync),
	{ "prev_roots hit %", M_RATE,
	  offsetof(struct tdp_report, sp.prev_roots_hit_rate), 1, 100, false, 0 },
	/*
	 * Nested rows (see show_nested()): the core of what L2 cost, then the
	 * breakdown of reflected exits, whose rows appear only when non-zero
	 * in A or B (a vendor's EPT rows are always 0 on the other vendor).
	 */
	N("nested.vmenter", vmenter, true),
	N("nested.vmexit", vmexit, true),
	N("nested.invept_single", invept_single, false),
	N("nested.invept_global", invept_global, false),
	N("nested.l2_accesses", l2_accesses, true),
	N("nested.l2_pf", l2_pf, true),
	N("nested.l2_exits", l2_exits, true),
	N("nested.ept_violation", ept_violation, false),
	N("nested.ept_misconfig", ept_misconfig, false),
	N("nested.npf", npf, false),
	N("nested.final", final, false),
	N("nested.paging_struct", paging_structure, false),
	N("nested.exec_user", exec_user, true),
	N("nested.exec_super", exec_supervisor, true),
	N("nested.qual[0]", qual_bit[0], false),
	N("nested.qual[1]", qual_bit[1], false),
	N("nested.qual[2]", qual_bit[2], false),
	N("nested.qual[3]", qual_bit[3], false),
	N("nested.qual[4]", qual_bit[4], false),
	N("nested.qual[5]", qual_bit[5], false),
	N("nested.qual[6]", qual_bit[6], false),
	N("nested.qual[7]", qual_bit[7], false),
	N("nested.qual[8]", qual_bit[8], false),
	N("nested.qual[9]", qual_bit[9], false),
	N("nested.qual[10]", qual_bit[10], false),
	N("nested.qual[11]", qual_bit[11], false),
	N("nested.npf.P", npf_bit[0], false),
	N("nested.npf.W", npf_bit[1], false),
	N("nested.npf.U", npf_bit[2], false),
	N("nested.npf.RSVD", npf_bit[3], false),
	N("nested.npf.ID", npf_bit[4], false),
	N("nested.sp_created", sp_created, true),
	N("nested.sp_live", sp_live, true),
	T("walk p50 (ns)", walk_p50, 1),
	T("walk p99 (ns)", walk_p99, 1),
	FOR_EACH_TIMED(TIMED_ROW)
	T("ns/perm check", perm_mean_ns, 2),
	T("events/s", events_per_s, 0),
};
#undef C
#undef N
#undef T
#undef TIMED_ROW
#undef K

static uint64_t count_of(const struct tdp_report *r, const struct metric *m)
{
	uint64_t v;

	memcpy(&v, (const char *)r + m->off, sizeof(v));
	return v;
}

/*
 * The nested rows are shown when a report has the nested counters and the
 * trace is nested or counted anything nested: a shadow-paging comparison
 * keeps its cover-letter table as short as before.
 */
static bool show_nested(const struct tdp_report *a, const struct tdp_report *b)
{
	if (!a->has_nested && !b->has_nested)
		return false;
	if (a->paging_nested || b->paging_nested)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++)
		if (metrics[i].kind == M_NESTED &&
		    (count_of(a, &metrics[i]) || count_of(b, &metrics[i])))
			return true;
	return false;
}

/* A nested row: with its group, and a breakdown row only when non-zero in A or B. */
static bool row_shown(const struct metric *m, bool nested, const struct tdp_report *a,
		      const struct tdp_report *b)
{
	if (m->need) {
		uint64_t x, y;

		memcpy(&x, (const char *)a + m->need - 1, sizeof(x));
		memcpy(&y, (const char *)b + m->need - 1, sizeof(y));
		return x || y;
	}
	if (m->kind != M_NESTED)
		return true;
	return nested && (m->always || count_of(a, m) || count_of(b, m));
}

static double double_of(const struct tdp_report *r, const struct metric *m)
{
	const char *base = m->kind == M_TIMING ? (const char *)&r->t : (const char *)r;
	double v;

	memcpy(&v, base + m->off, sizeof(v));
	return v * m->scale;
}

static double spread_of(const struct tdp_report *r, const struct metric *m)
{
	double v;

	if (!r->has_spread)
		return 0;
	memcpy(&v, (const char *)&r->spread + m->off, sizeof(v));
	return v;
}

/*
 * Fit a number into @w columns: fixed point with @dec decimals if it fits,
 * else 3 significant digits in exponent form.  @sign forces '+' on
 * positives; zero is always printed unsigned.
 */
static void fmt_double(char *buf, size_t size, int w, double v, int dec, bool sign)
{
	int n;

	/* what prints as zero is zero: no "-0.0" for a tiny negative delta */
	if (fabs(v) < 0.5 * pow(10, -dec)) {
		v = 0;
		sign = false;
	}
	n = snprintf(buf, size, sign ? "%+.*f" : "%.*f", dec, v);
	if (n > w)
		snprintf(buf, size, sign ? "%+.2e" : "%.2e", v);
}

static void fmt_count(char *buf, size_t size, int w, uint64_t v)
{
	if (snprintf(buf, size, "%llu", (unsigned long long)v) > w)
		snprintf(buf, size, "%.2e", (double)v);
}

/* b - a exactly, as a signed decimal, for any two u64 */
static void fmt_count_delta(char *buf, size_t size, int w, uint64_t a, uint64_t b)
{
	uint64_t mag = b >= a ? b - a : a - b;
	const char *sign = b > a ? "+" : b < a ? "-" : "";

	if (snprintf(buf, size, "%s%llu", sign, (unsigned long long)mag) > w)
		snprintf(buf, size, "%s%.2e", sign, (double)mag);
}

static void fmt_pct(char *buf, size_t size, double a, double b)
{
	double pct;

	if (a == b) {
		snprintf(buf, size, "0.0%%");
		return;
	}
	if (a == 0) {
		snprintf(buf, size, "n/a");
		return;
	}
	pct = (b - a) / fabs(a) * 100.0;
	if (fabs(pct) < 0.05) {		/* prints as zero: no sign */
		snprintf(buf, size, "0.0%%");
		return;
	}
	if (snprintf(buf, size, "%+.1f%%", pct) > PCT_W)
		snprintf(buf, size, "%+.0e%%", pct);
}

/*
 * Whether @r has a value for @m: a report without timing has no
 * measurement, one written before the nested counters has no nested rows.
 */
static bool has_value(const struct tdp_report *r, const struct metric *m)
{
	return m->kind == M_TIMING ? r->timing :
	       m->kind == M_NESTED ? r->has_nested : true;
}

static void fmt_value(char *buf, size_t size, const struct tdp_report *r,
		      const struct metric *m)
{
	if (m->kind == M_COUNT || m->kind == M_NESTED)
		fmt_count(buf, size, VAL_W, count_of(r, m));
	else
		fmt_double(buf, size, VAL_W, double_of(r, m), m->decimals, false);
}

/* "A: label (new layout, Release build, 3 reps)", cut to 72 columns. */
static void print_head(FILE *out, char which, const char *label,
		       const struct tdp_report *r)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "%c: %s (%s layout, %s build", which,
		     label ? label : r->path ? r->path : "?",
		     r->tool_layout ? r->tool_layout : "?",
		     r->tool_build ? r->tool_build : "?");
	if (n > 0 && (size_t)n < sizeof(line) && r->repetitions > 1)
		snprintf(line + n, sizeof(line) - n, ", %llu reps",
			 (unsigned long long)r->repetitions);
	n = (int)strlen(line);
	if (n >= COLS) {
		n = COLS - 4;	/* room for "...)" */
		memcpy(line + n, "...", 3);
		n += 3;
	}
	fprintf(out, "%.*s)\n", n, line);
}

/*
 * A verdict: @lead and the rows' names, wrapped at 72 columns with the
 * names indented under the first; @none when there are none.
 */
static void print_verdict(FILE *out, const char *lead, const char *none,
			  const struct metric *const *diff, size_t ndiff)
{
	const size_t ind = strlen(lead);
	size_t col;

	if (!ndiff) {
		fprintf(out, "%s\n", none);
		return;
	}
	fputs(lead, out);
	col = ind;
	for (size_t i = 0; i < ndiff; i++) {
		size_t len = strlen(diff[i]->name) + (i + 1 < ndiff ? 1 : 0);

		if (i && col + 1 + len > COLS) {
			fprintf(out, "\n%*s", (int)ind, "");
			col = ind;
		} else if (i) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%s%s", diff[i]->name, i + 1 < ndiff ? "," : "");
		col += len;
	}
	fputc('\n', out);
}

int tdp_report_compare_print(FILE *out, const struct tdp_report *a,
			     const struct tdp_report *b, const char *label_a,
			     const char *label_b)
{
	const struct metric *diff[ARRAY_SIZE(metrics)], *beyond[ARRAY_SIZE(metrics)];
	bool noise = a->has_spread || b->has_spread;
	bool nested = show_nested(a, b);
	size_t ndiff = 0, nbeyond = 0;

	print_head(out, 'A', label_a, a);
	print_head(out, 'B', label_b, b);
	fputc('\n', out);
	fprintf(out, "%-*s %*s %*s %*s %*s", NAME_W, "metric", VAL_W, "A", VAL_W, "B",
		VAL_W, "delta", PCT_W, "delta%");
	if (noise)
		fprintf(out, " %*s", NOISE_W, "noise");
	fputc('\n', out);

	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		const struct metric *m = &metrics[i];
		char va[32], vb[32], vd[32], vp[32], vn[32] = "";
		bool within = false;

		if (!row_shown(m, nested, a, b))
			continue;
		if (!has_value(a, m) || !has_value(b, m)) {
			/* nothing measured or counted on one side: no delta */
			snprintf(va, sizeof(va), "-");
			snprintf(vb, sizeof(vb), "-");
			if (has_value(a, m))
				fmt_value(va, sizeof(va), a, m);
			if (has_value(b, m))
				fmt_value(vb, sizeof(vb), b, m);
			snprintf(vd, sizeof(vd), "-");
			snprintf(vp, sizeof(vp), "-");
		} else if (m->kind == M_COUNT || m->kind == M_NESTED) {
			uint64_t x = count_of(a, m), y = count_of(b, m);

			fmt_count(va, sizeof(va), VAL_W, x);
			fmt_count(vb, sizeof(vb), VAL_W, y);
			fmt_count_delta(vd, sizeof(vd), VAL_W, x, y);
			fmt_pct(vp, sizeof(vp), (double)x, (double)y);
			if (x != y)
				diff[ndiff++] = m;
		} else {
			double x = double_of(a, m), y = double_of(b, m);

			fmt_double(va, sizeof(va), VAL_W, x, m->decimals, false);
			fmt_double(vb, sizeof(vb), VAL_W, y, m->decimals, false);
			fmt_double(vd, sizeof(vd), VAL_W, y - x, m->decimals, true);
			fmt_pct(vp, sizeof(vp), x, y);
			if (m->kind == M_RATE && x != y)
				diff[ndiff++] = m;
			if (m->kind == M_TIMING && noise) {
				double nz = fmax(spread_of(a, m), spread_of(b, m));

				fmt_double(vn, sizeof(vn), NOISE_W, nz, m->decimals, false);
				within = fabs(y - x) <= nz;
				if (!within)
					beyond[nbeyond++] = m;
			}
		}
		fprintf(out, "%-*s %*s %*s %*s %*s", NAME_W, m->name, VAL_W, va,
			VAL_W, vb, VAL_W, vd, PCT_W, vp);
		if (noise && (vn[0] || within))
			fprintf(out, " %*s%s", NOISE_W, vn, within ? "~" : "");
		fputc('\n', out);
	}
	fputc('\n', out);
	if (noise) {
		fputs("~ |delta| within noise (largest max-min over repetitions)\n", out);
		print_verdict(out, "beyond noise: ", "timings: every delta within noise",
			      beyond, nbeyond);
	}
	print_verdict(out, "counts differ: ", "counts identical", diff, ndiff);

	if (fflush(out) || ferror(out))
		return TDP_E_IO;
	return ndiff ? 1 : 0;
}
