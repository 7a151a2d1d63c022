// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay resource bounds and KVM's documented livelock:
 *  - a trace with a fixed working set keeps shadow pages and host memory
 *    bounded: N and 4N events give the same peak and the same footprint;
 *  - an implicit supervisor access to a user page with EFLAGS.AC=1 under
 *    SMAP livelocks shadow-paging KVM (the #PF error code cannot say
 *    "implicit"); replay must count it, not hide it or hang.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <tdpsim/replay.h>
#include <tdpsim/util.h>

#include "helpers/replay_util.h"
#include "helpers/run.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		cr_assert_geq(n, 0);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	b->len += (size_t)n;
}

/*
 * Two 4-level address spaces (CR3 0x1000 and 0x11000) each mapping 64 user
 * pages through one PT; then @rounds rounds of: touch every page of the
 * current space (reads and writes), rewrite one PTE + INVLPG, switch CR3.
 * The set of guest tables never changes, so KVM needs the same shadow
 * pages however long the trace is.
 */
static char *working_set_trace(unsigned rounds, const char *paging)
{
	struct sbuf b = { malloc(1 << 16), 0, 1 << 16 };

	cr_assert_not_null(b.p);
	sb_printf(&b, "tdpsim-trace 1\nconfig vendor=intel paging=%s mem=0x1000000\n",
		  paging);
	for (unsigned as = 0; as < 2; as++) {
		uint64_t base = 0x1000 + as * 0x10000;

		sb_printf(&b, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 "\n", base,
			  base + 0x1007);
		sb_printf(&b, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 "\n",
			  base + 0x1000, base + 0x2007);
		sb_printf(&b, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 "\n",
			  base + 0x2000, base + 0x3007);
		for (unsigned i = 0; i < 64; i++)
			sb_printf(&b, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 "\n",
				  base + 0x3000 + 8 * i,
				  (uint64_t)(0x100000 + as * 0x100000 + i * 0x1000 + 7));
	}
	sb_printf(&b, "set cr0=0x80010011 cr3=0x1000 cr4=0x20 efer=0x900\n");
	for (unsigned r = 0; r < rounds; r++) {
		unsigned as = r & 1, pte = (r * 7) % 64;
		uint64_t base = 0x1000 + as * 0x10000;

		for (unsigned i = 0; i < 64; i++)
			sb_printf(&b, "access gva=0x%x op=%s cpl=3\n", i * 0x1000 + 0x10,
				  (i + r) % 3 ? "r" : "w");
		/* same target, A/D cleared: KVM must resync, not grow */
		sb_printf(&b, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 "\n",
			  base + 0x3000 + 8 * pte,
			  (uint64_t)(0x100000 + as * 0x100000 + pte * 0x1000 + 7));
		sb_printf(&b, "invlpg gva=0x%x\n", pte * 0x1000);
		sb_printf(&b, "set cr3=0x%" PRIx64 "\n", (uint64_t)(0x1000 + (as ^ 1) * 0x10000));
	}
	return b.p;
}

static void bounded(const char *paging)
{
	struct tdp_stats s[2];
	uint64_t events[2];
	const unsigned rounds[2] = { 30, 120 };

	for (int i = 0; i < 2; i++) {
		char *text = working_set_trace(rounds[i], paging);
		struct replay_args a = { .layout = i ? "old" : "new" };
		struct replay_run rr;

		replay_text(&rr, text, &a);
		cr_assert_eq(rr.ret, 0, "%s", rr.err);
		s[i] = rr.res->stats;
		events[i] = rr.res->stats.events;
		cr_assert_leq(rr.res->nrows, TDP_TIMELINE_MAX);
		replay_run_free(&rr);
		free(text);
	}
	cr_assert_gt(events[1], 3 * events[0], "the long run is ~4x longer");
	cr_assert_eq(s[1].sp_peak, s[0].sp_peak, "%s: peak %" PRIu64 " vs %" PRIu64,
		     paging, s[1].sp_peak, s[0].sp_peak);
	cr_assert_eq(s[1].sp_live, s[0].sp_live);
	cr_assert_eq(s[1].host_bytes, s[0].host_bytes, "%s: host memory grew", paging);
	cr_assert_eq(s[1].pf_livelock, 0);
	if (!strcmp(paging, "shadow")) {
		/*
		 * 2 spaces x (PML4, PDPT, PD, PT), plus the 4 direct roots
		 * of the paging-off MMU: the first `write` runs the guest
		 * with CR0.PG=0 (vcpu_enter_guest -> kvm_mmu_reload ->
		 * mmu_alloc_direct_roots: a PAE root_role, so four
		 * PT32_ROOT_LEVEL roots), and the `set` that enables paging
		 * only unloads them: mmu_free_root_page() zaps a root at
		 * root_count 0 only if it is invalid, so they stay live.
		 */
		cr_assert_eq(s[0].sp_peak, 12);
		/*
		 * the switches hit prev_roots after the first two 4-level
		 * roots; the 4 paging-off roots are 4 mmu_alloc_root() calls
		 */
		cr_assert_eq(s[1].root_allocs, 6, "%" PRIu64 " hits %" PRIu64, s[1].root_allocs, s[1].prev_root_hits);
		cr_assert_gt(s[1].sp_unsync, s[0].sp_unsync, "the work did happen");
	}
}

Test(replay_bounds, fixed_working_set_shadow)
{
	bounded("shadow");
}

Test(replay_bounds, fixed_working_set_tdp)
{
	bounded("tdp");
}

static const char livelock_trace[] =
	"tdpsim-trace 1\n"
	"config vendor=intel paging=%s mem=0x1000000\n"
	"write gpa=0x1000 val=0x2007\n"		/* 1 */
	"write gpa=0x2000 val=0x3007\n"		/* 2 */
	"write gpa=0x3000 val=0x4007\n"		/* 3 */
	"write gpa=0x4000 val=0x5007\n"		/* 4 user RW page at gva 0 */
	"set cr0=0x80010011 cr3=0x1000 cr4=0x300020 efer=0x900\n" /* 5 SMEP SMAP */
	"access gva=0x123 op=r ac=1 implicit=1\n"	/* 6 */
	"access gva=0x123 op=r ac=1\n"			/* 7 */
	"access gva=0x123 op=r ac=1 implicit=1\n";	/* 8 */

/*
 * SDM 4.6.1: implicit supervisor accesses to user pages fault under SMAP
 * whatever EFLAGS.AC says, so events 6 and 8 are #PF P (read, supervisor).
 * Shadow paging: the CPU faults on the shadow tables, but KVM's walker sees
 * an explicit access with AC=1, finds it allowed and re-enters: a livelock
 * the engine bounds, counts in pf_livelock, and reports with the fault the
 * hardware raised.  TDP: the CPU delivers the #PF itself, no livelock.
 */
Test(replay_bounds, smap_implicit_ac_livelock_is_counted)
{
	static const char *pagings[2] = { "shadow", "tdp" };

	for (int p = 0; p < 2; p++) {
		for (int l = 0; l < 2; l++) {
			struct replay_args a = { .layout = l ? "new" : "old", .check = true };
			struct replay_run rr;
			char text[1024], buf[64];

			snprintf(text, sizeof(text), livelock_trace, pagings[p]);
			replay_text(&rr, text, &a);
			cr_assert_eq(rr.ret, 0, "%s", rr.err);
			cr_assert_str_eq(replay_outcome(&rr, 6, buf, sizeof(buf)), "pf ec=0x1");
			cr_assert_str_eq(replay_outcome(&rr, 7, buf, sizeof(buf)), "ok gpa=0x5123");
			cr_assert_str_eq(replay_outcome(&rr, 8, buf, sizeof(buf)), "pf ec=0x1");
			if (p == 0) {
				cr_assert_eq(rr.res->stats.pf_livelock, 2, "%s/%s",
					     pagings[p], a.layout);
				/* each livelocked access exited more than once */
				cr_assert_gt(rr.res->stats.exit_pf, 4);
			} else {
				cr_assert_eq(rr.res->stats.pf_livelock, 0);
				cr_assert_eq(rr.res->stats.exit_pf, 0);
			}
			replay_run_free(&rr);
		}
	}
}

/*
 * The timeline (docs/report-schema.md): a row at every multiple of the
 * interval, the interval doubling whenever TDP_TIMELINE_MAX rows are full,
 * and a last row at the last event.  traces/linux-small.zst has 99,880
 * events; from an interval of 1 it doubles until 99,880 / interval fits
 * 1,024 rows: 64 gives 1,560, 128 gives 780 rows (128 ... 99,840), then
 * the last row at 99,880.
 */
Test(replay_bounds, timeline_rows_at_multiples_of_the_interval)
{
	struct tdp_replay_result *res = calloc(1, sizeof(*res));
	struct tdp_replay_opts o = { .layout = "new", .interval = 1 };
	char err[TDP_ERRBUF_SIZE];

	cr_assert_not_null(res);
	cr_assert_eq(tdp_replay_run("traces/linux-small.zst", &o, NULL, res, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(res->stats.events, 99880);
	cr_assert_eq(res->interval, 128);
	cr_assert_eq(res->nrows, 781);
	for (unsigned i = 0; i < 780; i++) {
		cr_assert_eq(res->rows[i].event, 128ull * (i + 1), "row %u", i);
		if (i)
			cr_assert_geq(res->rows[i].exits, res->rows[i - 1].exits, "row %u", i);
	}
	cr_assert_eq(res->rows[780].event, 99880);
	free(res);
}
