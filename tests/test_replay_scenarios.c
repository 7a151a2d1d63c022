// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay scenarios: small hand-written traces (tests/scenarios/NAME.txt)
 * whose outcome logs are checked against golden files (NAME.log, each line
 * derived by hand from the SDM with a comment saying why), under both ACC
 * layouts with the invariant checker on, plus the KVM counters each
 * scenario is about.  Architectural scenarios are also replayed with
 * paging=tdp for intel and amd: the guest must see the same outcomes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers/replay_util.h"
#include "helpers/run.h"

static char *slurp_src(const char *rel)
{
	char *s = read_file(src_path(rel), NULL);

	cr_assert_not_null(s, "cannot read '%s'", rel);
	return s;
}

/* @text with the first @from replaced by @to (malloc'd). */
static char *subst(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	size_t n = strlen(text) + strlen(to) + 1;
	char *out = malloc(n);

	cr_assert_not_null(p, "'%s' not in the trace", from);
	cr_assert_not_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	return out;
}

/*
 * Replay @text (a scenario, possibly rewritten) under @layout with the
 * invariant checker and compare its log with tests/scenarios/@golden.log.
 */
static void run_against_golden(struct replay_run *rr, const char *text,
			       const char *golden, const char *layout,
			       uint64_t max_pages)
{
	struct replay_args a = { .layout = layout, .check = true,
				 .max_mmu_pages = max_pages };
	char rel[256];
	char *want_raw, *want;

	snprintf(rel, sizeof(rel), "tests/scenarios/%s.log", golden);
	want_raw = slurp_src(rel);
	want = log_normalize(want_raw);
	replay_text(rr, text, &a);
	cr_assert_eq(rr->ret, 0, "%s (%s): %s", golden, layout, rr->err);
	cr_assert_str_eq(rr->log, want, "%s, layout %s:\n--- got\n%s--- want\n%s",
			 golden, layout, rr->log, want);
	free(want);
	free(want_raw);
}

/* Run scenario @name under both layouts; *@old_s / *@new_s get the stats. */
static void scenario(const char *name, struct tdp_stats *old_s,
		     struct tdp_stats *new_s)
{
	static const char *layouts[2] = { "old", "new" };
	struct tdp_stats *out[2] = { old_s, new_s };
	char rel[256];
	char *text;

	snprintf(rel, sizeof(rel), "tests/scenarios/%s.txt", name);
	text = slurp_src(rel);
	for (int i = 0; i < 2; i++) {
		struct replay_run rr;

		run_against_golden(&rr, text, name, layouts[i], 0);
		if (out[i])
			*out[i] = rr.res->stats;
		replay_run_free(&rr);
	}
	free(text);
}

/* The same guest under paging=tdp (@vendor): same outcomes, new stats. */
static void scenario_tdp(const char *name, const char *vendor,
			 struct tdp_stats *st)
{
	char rel[256], to[64];
	char *text, *tdp;

	snprintf(rel, sizeof(rel), "tests/scenarios/%s.txt", name);
	snprintf(to, sizeof(to), "vendor=%s paging=tdp", vendor);
	text = slurp_src(rel);
	tdp = subst(text, "vendor=intel paging=shadow", to);
	for (int i = 0; i < 2; i++) {
		struct replay_run rr;

		run_against_golden(&rr, tdp, name, i ? "new" : "old", 0);
		if (st)
			*st = rr.res->stats;
		replay_run_free(&rr);
	}
	free(tdp);
	free(text);
}

/* Counters that do not depend on the ACC layout must agree. */
static void same_counters(const struct tdp_stats *a, const struct tdp_stats *b)
{
	cr_assert_eq(a->exit_pf, b->exit_pf);
	cr_assert_eq(a->exit_emulated_write, b->exit_emulated_write);
	cr_assert_eq(a->pf_fixed, b->pf_fixed);
	cr_assert_eq(a->pf_injected, b->pf_injected);
	cr_assert_eq(a->sp_peak, b->sp_peak);
	cr_assert_eq(a->sp_unsync, b->sp_unsync);
	cr_assert_eq(a->root_allocs, b->root_allocs);
	cr_assert_eq(a->pf_livelock, 0);
	cr_assert_eq(b->pf_livelock, 0);
}

static uint64_t zapped_total(const struct tdp_stats *s)
{
	uint64_t n = 0;

	for (int l = 0; l < TDP_MAX_LEVEL; l++)
		n += s->sp_zapped[l][0] + s->sp_zapped[l][1];
	return n;
}

Test(replay_scenarios, first_touch)
{
	struct tdp_stats o, n;

	scenario("first-touch", &o, &n);
	same_counters(&o, &n);
	/*
	 * #PF exits: events 8 (nothing mapped), 9 (event 8 mapped a clean
	 * gPTE read-only so that the write sets D), 10, 11 (its PTE is
	 * shadowed only now: no gPTE had A set, so nothing was prefetched),
	 * 12, 13 and 14.  KVM fixes 8, 9, 11, 14 and injects 10, 12, 13.
	 */
	cr_assert_eq(n.exit_pf, 7);
	cr_assert_eq(n.pf_fixed, 4);
	/*
	 * KVM's pf_taken: every one of the 7 exits reaches
	 * kvm_mmu_do_page_fault(); the 3 injected ones return RET_PF_RETRY
	 * (kvm_inject_emulated_page_fault), counted in no pf_* result stat.
	 */
	cr_assert_eq(n.pf_taken, 7);
	cr_assert_eq(n.pf_spurious + n.pf_emulate, 0);
	cr_assert_eq(n.pf_injected, 3);
	cr_assert_eq(n.pf_injected_by_bit[0], 2);	/* P: 10, 12 */
	cr_assert_eq(n.pf_injected_by_bit[1], 1);	/* W: 10 */
	cr_assert_eq(n.pf_injected_by_bit[2], 1);	/* U: 12 */
	cr_assert_eq(n.exit_cr, 1);
	/*
	 * One indirect shadow page per guest table.  Direct: the 4 roots of
	 * the paging-off MMU.  Event 1, a `write` with CR0.PG=0, runs the
	 * guest: vcpu_enter_guest -> kvm_mmu_reload -> kvm_mmu_load ->
	 * mmu_alloc_direct_roots(); kvm_init_shadow_mmu() gives a paging-off
	 * guest a direct root_role of level PT32E_ROOT_LEVEL, hence four
	 * PT32_ROOT_LEVEL (level 2) roots, one mmu_alloc_root() each.  The
	 * `set` at 7 unloads them (kvm_mmu_reset_context -> kvm_mmu_unload);
	 * mmu_free_root_page() zaps a root whose root_count reaches 0 only if
	 * it is invalid, so all 4 stay live.
	 */
	for (int l = 0; l < 4; l++) {
		cr_assert_eq(n.sp_created[l][0], 1, "level %d", l + 1);
		cr_assert_eq(n.sp_created[l][1], l == 1 ? 4 : 0, "level %d", l + 1);
	}
	cr_assert_eq(n.sp_live, 8);
	cr_assert_eq(n.root_allocs, 5);	/* 4 paging-off roots + the PML4 root */
	cr_assert_eq(n.exit_emulated_write, 0, "nothing was shadowed yet at the writes");
}

Test(replay_scenarios, first_touch_tdp_intel_and_amd)
{
	static const char *vendors[2] = { "intel", "amd" };

	for (int v = 0; v < 2; v++) {
		struct tdp_stats s;

		scenario_tdp("first-touch", vendors[v], &s);
		/* no #PF intercepts with TDP: guest faults are delivered by
		 * the CPU, the three of them still counted as injected */
		cr_assert_eq(s.exit_pf, 0, "%s", vendors[v]);
		cr_assert_eq(s.pf_injected, 3, "%s", vendors[v]);
		cr_assert_gt(s.exit_ept_violation, 0, "%s", vendors[v]);
		cr_assert_eq(s.exit_ept_violation, s.pf_fixed + s.pf_spurious +
			     s.pf_retry + s.pf_emulate, "%s", vendors[v]);
		cr_assert_eq(s.pf_livelock, 0);
		/* direct pages only */
		for (int l = 0; l < TDP_MAX_LEVEL; l++)
			cr_assert_eq(s.sp_created[l][0], 0, "%s", vendors[v]);
		cr_assert_eq(s.exit_emulated_write, 0);
	}
}

Test(replay_scenarios, emulated_write_to_upper_table)
{
	struct tdp_stats o, n;

	scenario("wp-upper", &o, &n);
	same_counters(&o, &n);
	/* events 10 and 11 hit shadowed tables (PD, PML4): emulated */
	cr_assert_eq(n.exit_emulated_write, 2);
	/* the new PT 0x8000 got its own shadow page */
	cr_assert_eq(n.sp_created[0][0], 2);
	cr_assert_eq(n.sp_unsync, 0, "upper-level tables never go unsync");
}

Test(replay_scenarios, unsync_then_invlpg)
{
	struct tdp_stats o, n;

	scenario("unsync-invlpg", &o, &n);
	same_counters(&o, &n);
	/* events 9 and 16 unsync the PT; the flush (14) syncs it once */
	cr_assert_eq(n.sp_unsync, 2);
	cr_assert_eq(n.sp_sync, 1);
	cr_assert_eq(n.exit_invlpg, 2);
	cr_assert_eq(n.exit_emulated_write, 0, "last-level stores land, not emulated");
	/* no zap: unsync keeps the shadow pages */
	cr_assert_eq(zapped_total(&n), 0);
}

Test(replay_scenarios, cr3_switch_prev_roots)
{
	struct tdp_stats o, n;

	scenario("cr3-switch", &o, &n);
	same_counters(&o, &n);
	/*
	 * A, B, C each get a root once; returning to a cached one is a hit.
	 * Before them, write 1 runs the paging-off guest (vcpu_enter_guest ->
	 * kvm_mmu_load -> mmu_alloc_direct_roots): 4 PAE roots, 4
	 * mmu_alloc_root() calls; the `set` at 13 unloads them all
	 * (kvm_mmu_reset_context), so they never reach prev_roots.
	 */
	cr_assert_eq(n.root_allocs, 4 + 3);
	cr_assert_eq(n.prev_root_hits, 3, "events 17, 21, 23");
	cr_assert_eq(n.prev_root_misses, 2, "events 15, 19");
	cr_assert_eq(n.sp_created[3][0], 3);
	cr_assert_eq(n.exit_pf, 3, "only the first access in each space faults");
}

Test(replay_scenarios, write_flooding_zap)
{
	struct tdp_stats o, n;

	scenario("flood", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.sp_flood_zaps, 1);
	/* three emulated stores; the 4th lands once the PD is unshadowed */
	cr_assert_eq(n.exit_emulated_write, 3);
	cr_assert_eq(n.sp_zapped[1][0], 1, "the PD shadow page");
	cr_assert_eq(n.sp_created[1][0], 2, "rebuilt by event 13");
}

Test(replay_scenarios, eviction_at_page_limit)
{
	struct tdp_stats o, n;

	scenario("evict", &o, &n);
	same_counters(&o, &n);
	cr_assert_gt(zapped_total(&n), 0);
	cr_assert_leq(n.sp_peak, 8);
	cr_assert_leq(n.sp_live, 8);
	/*
	 * Every zap here is make_mmu_pages_available() ->
	 * kvm_mmu_zap_oldest_mmu_pages(): no guest store after paging is on,
	 * no unsync page, roots skipped.  Each zapped page is one
	 * __kvm_mmu_prepare_zap_page() call (mmu_shadow_zapped) and one
	 * nr_zapped (mmu_recycled += total_zapped): the two KVM stats and
	 * tdpsim's distinct-page count agree.
	 */
	cr_assert_gt(n.mmu_recycled, 0);
	cr_assert_eq(n.mmu_recycled, n.mmu_shadow_zapped);
	cr_assert_eq(n.mmu_recycled, zapped_total(&n));
	cr_assert_eq(o.mmu_recycled, n.mmu_recycled);
	/* 16 distinct PTs were shadowed at least once each, twice over */
	cr_assert_geq(n.sp_created[0][0], 16);
}

Test(replay_scenarios, eviction_with_cli_limit)
{
	/* same guest without the config limit, limited by the option */
	char *text = slurp_src("tests/scenarios/evict.txt");
	char *nolim = subst(text, " max_mmu_pages=8", "");
	struct replay_run rr;
	struct tdp_stats unl;

	run_against_golden(&rr, nolim, "evict", "new", 0);
	unl = rr.res->stats;
	replay_run_free(&rr);
	/*
	 * PML4, PDPT, PD and 16 PTs, plus the 4 direct roots the paging-off
	 * guest ran with at write 1 (vcpu_enter_guest -> kvm_mmu_load): the
	 * `set` unloads them but does not zap them (mmu_free_root_page()
	 * zaps only invalid roots), and nothing reclaims them below KVM's
	 * default limit.
	 */
	cr_assert_eq(zapped_total(&unl), 0, "KVM's default limit is far above 23 pages");
	cr_assert_eq(unl.sp_peak, 4 + 19, "paging-off roots, PML4, PDPT, PD and 16 PTs");

	run_against_golden(&rr, nolim, "evict", "new", 8);
	cr_assert_gt(zapped_total(&rr.res->stats), 0);
	cr_assert_leq(rr.res->stats.sp_peak, 8);
	replay_run_free(&rr);
	free(nolim);
	free(text);
}

Test(replay_scenarios, pae_guest)
{
	struct tdp_stats o, n;

	scenario("pae", &o, &n);
	same_counters(&o, &n);
	/* PAE shadow: PDs and PTs shadowed (level 2, 1); the PDPT is the
	 * special PAE root, not a shadow page of level 3 */
	cr_assert_eq(n.sp_created[2][0], 0);
	cr_assert_geq(n.sp_created[1][0], 2);
	/*
	 * KVM's guest walks (FNAME(page_fault), one per #PF intercept) and
	 * the guest tables they read, by hand: 9 PD+PT (2), 10 the 2 MiB PDE
	 * (1), 11 and 12 PD(3)[511]+PT[511] (2 each), 13 and 15 none: they
	 * stop at the PDPTE register (walk_addr_generic's "goto error" before
	 * max_level is set; tdpsim used to count whatever the uninitialised
	 * max_level held).  17 does not exit: the CR3 reload gave pae_root[1] the
	 * shadow PD of gfn 0x2000, which event 9 already filled.
	 */
	cr_expect_eq(n.walks, 6);
	cr_expect_eq(n.walk_mem_refs, 7);
	cr_expect_eq(o.walk_mem_refs, 7);
}

/*
 * Issue 12 item 1: write, invlpg and flush pass vcpu_enter_guest() ->
 * kvm_mmu_reload() first.  Hand count (entry-write.txt):
 *  - root_allocs 7: write 1 runs the paging-off guest, whose shadow MMU is
 *    direct with a PAE root_role (kvm_init_shadow_mmu), so
 *    mmu_alloc_direct_roots() makes 4 PT32_ROOT_LEVEL roots; write 8
 *    loads A's root (the `set` at 7 unloaded everything), invlpg 11 B's
 *    and flush 13 C's (10 and 12 are prev_roots misses: nothing loaded
 *    until the next entry);
 *  - exit_emulated_write 1: store 8 hits gfn 1, which A's root (made by
 *    that same entry) write-tracks (account_shadowed, level 4);
 *  - exit_pf 1, pf_fixed 1: access 9 (PDPT, PD and PT shadowed then);
 *  - exit_invlpg 1, exit_cr 4: the three `set`s and flush 13, a MOV CR3
 *    that exits under shadow paging (CPU_BASED_CR3_LOAD_EXITING without
 *    EPT; cr_load_exits()); prev_root_misses 2;
 *  - shadow pages: level 4 A, B, C; level 3 and 1 one each; level 2 one
 *    indirect and the 4 direct paging-off roots, which stay live (a root
 *    whose root_count drops to 0 is zapped only if invalid): 10 live.
 * Without the entries the write at 8 would land unseen and B's and C's
 * roots would never be allocated (root_allocs 1).
 */
Test(replay_scenarios, write_invlpg_flush_enter_the_guest)
{
	struct tdp_stats o, n;

	scenario("entry-write", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.root_allocs, 7);
	cr_assert_eq(n.exit_emulated_write, 1);
	cr_assert_eq(n.exit_pf, 1);
	cr_assert_eq(n.pf_fixed, 1);
	cr_assert_eq(n.exit_invlpg, 1);
	cr_assert_eq(n.exit_cr, 4);
	cr_assert_eq(n.prev_root_misses, 2);
	cr_assert_eq(n.prev_root_hits, 0);
	cr_assert_eq(n.sp_created[3][0], 3);
	cr_assert_eq(n.sp_created[2][0], 1);
	cr_assert_eq(n.sp_created[1][0], 1);
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.sp_created[0][0], 1);
	cr_assert_eq(n.sp_live, 10);
	cr_assert_eq(zapped_total(&n), 0);
}

/*
 * Issue 12 item 4: PDPTEs reloaded at MOV CR3 and at changes of the
 * PDPTR bits only (pae-pdpte.txt; log lines say what each access sees).
 * Hand count:
 *  - root_allocs 8: 4 paging-off roots (write 1); access 7 (PAE root from
 *    PDPTE 0x2001: mmu_alloc_root for PD gfn 2); access 11 (the WP flip
 *    at 10 reset the MMU; same PDPTEs, new role); access 13 (the flush at
 *    12 loaded different PDPTEs: load_pdptrs frees the current root);
 *    flush 16 (its first MOV to CR4 loaded 0x2001 again and freed the
 *    root; the entry before its second MOV allocates the root, finding
 *    the WP=0 PD of access 11);
 *  - exit_pf 3 (7, 11, 13) all fixed; 9 and 15 use the current root;
 *    17 finds the WP=0 PD and PT of access 11 still mapped;
 *  - shadow pages: PDs gfn 2 (WP=1), gfn 2 (WP=0), gfn 6; PTs gfn 3
 *    (WP=1), gfn 3 (WP=0), gfn 7; no level-3 page (the PDPT is the PAE
 *    root); 4 direct paging-off roots;
 *  - exit_cr 5: the two `set`s, the MOV CR3 of flush 12 and the two MOVs
 *    to CR4 of flush 16 -- all exit under shadow paging (CR3 load
 *    exiting; CR4.PGE is not guest-owned without EPT,
 *    set_cr4_guest_host_mask()).
 */
Test(replay_scenarios, pae_pdptes_reload_points)
{
	struct tdp_stats o, n;

	scenario("pae-pdpte", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.root_allocs, 8);
	cr_assert_eq(n.exit_pf, 3);
	cr_assert_eq(n.pf_fixed, 3);
	cr_assert_eq(n.sp_created[2][0], 0);
	cr_assert_eq(n.sp_created[1][0], 3);
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.sp_created[0][0], 3);
	cr_assert_eq(n.exit_cr, 5);
	cr_assert_eq(zapped_total(&n), 0);
}

/*
 * Issue 12 item 3: flush kind=cr3 syncs the current root only; kind=global
 * also frees the unsync prev_roots (flush-kinds.txt).  Hand count:
 *  - sp_unsync 3 (stores 13, 18, 22 to the sync PT 0x4000), sp_sync 3
 *    (flush 14: current root A; `set` 20: A became current again,
 *    kvm_set_cr3 -> KVM_REQ_MMU_SYNC; access 26: kvm_mmu_load ->
 *    kvm_mmu_sync_roots on A's re-allocated root);
 *  - prev_root_hits 2 (20, 23), misses 2 (16: B is new; 25: flush 24 freed
 *    A, unsync, from prev_roots -- kvm_mmu_sync_prev_roots);
 *  - root_allocs 7: 4 paging-off roots, A (11), B (17), A again (26).
 * The same trace with `flush` (kind=cr3) at 24 keeps A cached: 25 hits
 * (hits 3, misses 1, root_allocs 6), A is synced by that `set`, and the
 * log is the same.
 */
Test(replay_scenarios, flush_cr3_vs_global)
{
	struct tdp_stats o, n;
	char *text = slurp_src("tests/scenarios/flush-kinds.txt");
	char *cr3 = subst(text, "flush kind=global", "flush kind=cr3");
	struct replay_run rr;

	scenario("flush-kinds", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.sp_unsync, 3);
	cr_assert_eq(n.sp_sync, 3);
	cr_assert_eq(n.prev_root_hits, 2);
	cr_assert_eq(n.prev_root_misses, 2);
	cr_assert_eq(n.root_allocs, 7);

	for (int i = 0; i < 2; i++) {
		run_against_golden(&rr, cr3, "flush-kinds", i ? "new" : "old", 0);
		cr_assert_eq(rr.res->stats.sp_unsync, 3);
		cr_assert_eq(rr.res->stats.sp_sync, 3);
		cr_assert_eq(rr.res->stats.prev_root_hits, 3);
		cr_assert_eq(rr.res->stats.prev_root_misses, 1);
		cr_assert_eq(rr.res->stats.root_allocs, 6);
		replay_run_free(&rr);
	}
	free(cr3);
	free(text);
}

Test(replay_scenarios, legacy_32bit_guest)
{
	struct tdp_stats o, n;

	scenario("32bit", &o, &n);
	same_counters(&o, &n);
	/*
	 * The 1024-entry guest PD is shadowed by four 512-entry PDs, one per
	 * role.quadrant, all made when the PAE root is built; only PT 0x2000
	 * is shadowed at level 1.  The 4 MiB pages become 2 MiB host leaves,
	 * so no direct page is needed.
	 */
	cr_assert_eq(n.sp_created[1][0], 4);
	cr_assert_eq(n.sp_created[0][0], 1);
	cr_assert_eq(n.sp_created[0][1], 0);
}

Test(replay_scenarios, cr0_wp0_and_smep)
{
	struct tdp_stats o, n;

	scenario("wp0-smep", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.pf_injected, 4, "events 10, 13, 15, 18");
}

Test(replay_scenarios, smep_smap)
{
	struct tdp_stats o, n;

	scenario("smep-smap", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.pf_injected, 6);
	cr_assert_eq(n.pf_injected_by_bit[4], 1, "I/D only for the SMEP fetch");
	cr_assert_eq(n.pf_injected_by_bit[2], 0, "no U bit: all supervisor");
}

Test(replay_scenarios, nx_and_reserved_bits)
{
	struct tdp_stats o, n;

	scenario("nx-rsvd", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.pf_injected_by_bit[3], 4, "RSVD: events 13, 14, 17, 18");
}

/*
 * Issue 12 item 6: loads KVM refuses with #GP, non-canonical accesses.
 * The refused sets are events 5, 6, 10-18 and 25 (one per KVM check, see
 * gp.log): 12.  Non-canonical: accesses 20 and 21.  Every `set` outside
 * L2 is a CR/EFER exit, refused or not: 5, 6, 8, 10-18, 23, 25, 30 = 15.
 */
Test(replay_scenarios, gp_refused_loads_and_noncanonical)
{
	struct tdp_stats o, n;

	scenario("gp", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.gp_set_refused, 12);
	cr_assert_eq(o.gp_set_refused, 12);
	cr_assert_eq(n.gp_noncanonical, 2);
	cr_assert_eq(o.gp_noncanonical, 2);
	cr_assert_eq(n.exit_cr, 15);
	cr_assert_eq(n.pf_injected, 1, "event 22 only: a #GP is not a #PF");
}

/*
 * Issue 12 item 7: every KVM stat tdpsim reports, with its exact value,
 * derived from where the kernel counts it (docs/report-schema.md).
 */
Test(replay_scenarios, kvm_stats)
{
	struct tdp_stats o, n;

	scenario("stats", &o, &n);
	same_counters(&o, &n);
	for (int i = 0; i < 2; i++) {
		const struct tdp_stats *s = i ? &n : &o;

		/*
		 * exits (vcpu_enter_guest, once per VM exit): #PF intercepts
		 * 10, 12, 13, 14, 17, 21, 22, 23, 24 (9), the recorded fault
		 * 11, the emulated stores 18-20 (3), the CR load 9, INVLPG 15,
		 * the MOV CR3 of flush 16 (CR3 loads exit without EPT).
		 */
		cr_assert_eq(tdp_stats_exits(s), 16);
		/*
		 * pf_taken (kvm_mmu_page_fault, 6.12+): the 9 #PF exits, 11,
		 * and the #PF exits of the trapped stores 18-20, which the
		 * handler ends with RET_PF_WRITE_PROTECTED
		 * (page_fault_handle_page_track: the PD's gfn is write-tracked)
		 * and kvm_mmu_write_protect_fault() turns into RET_PF_EMULATE:
		 * each also a pf_emulate.
		 */
		cr_assert_eq(s->pf_taken, 13);
		/*
		 * pf_fixed: 10, 12, 14, 17, 21, 22, 23, 24.  pf_spurious: 11,
		 * a read of the read-only SPTE of 10 (make_spte() gives the
		 * SPTE the CPU holds, A included).  pf_emulate: 13, a gfn with
		 * no memslot (RET_PF_EMULATE), and the stores 18-20 (above).
		 */
		cr_assert_eq(s->pf_fixed, 8);
		cr_assert_eq(s->pf_spurious, 1);
		cr_assert_eq(s->pf_emulate, 4);
		/*
		 * pf_fast 0: with CR0.PG=1 shadow paging faults go to
		 * FNAME(page_fault), which has no fast path (fast_page_fault()
		 * is called from direct_page_fault() only; fast-pf*.txt).
		 * pf_mmio_spte_created 0: on the simulated host (MAXPHYADDR
		 * 52, src/mmu/spte.h) no PA bit is reserved, so
		 * kvm_mmu_reset_all_pte_masks() sets no MMIO value for shadow
		 * paging and kvm_handle_noslot_fault() emulates 13 without an
		 * MMIO SPTE (scenarios/mmio-tdp has them, under EPT).
		 */
		cr_assert_eq(s->pf_fast, 0);
		cr_assert_eq(s->pf_mmio_spte_created, 0);
		/* invlpg (kvm_mmu_invlpg): event 15 */
		cr_assert_eq(s->invlpg, 1);
		/*
		 * tlb_flush, counted when vcpu_enter_guest() services the
		 * requests: at 10, the one KVM_REQ_TLB_FLUSH_CURRENT of set 9
		 * (kvm_post_set_cr4: PAE toggled; kvm_set_cr3 ->
		 * kvm_invalidate_pcid: the same request, made twice, one
		 * kvm_vcpu_flush_tlb_current).  At 17, the requests of flush
		 * 16's MOV CR3 (KVM_REQ_MMU_SYNC + _CURRENT): the sync
		 * write-protects the unsync PT again, a remote flush
		 * (KVM_REQ_TLB_FLUSH), serviced right after in the same pass
		 * by kvm_vcpu_flush_tlb_all(), which clears _CURRENT: one.
		 * At 21, the remote flush of the zap at 20.
		 * kvm_mmu_load()'s flush of the new root at 10 is a direct
		 * call, no stat.
		 */
		cr_assert_eq(s->tlb_flush, 3);
		/*
		 * 18-20 are emulated stores to the PD: mmu_pte_write 3;
		 * mmu_pde_zapped 1 (18: a non-zero gentry on a level-2 page;
		 * 19 writes 0; 20 zaps instead); mmu_flooded 1 (20 is the
		 * third store without a use of the PD: detect_write_flooding);
		 * mmu_shadow_zapped 2: the PD and, from
		 * mmu_zap_unsync_children(), the unsync PT below it.
		 */
		cr_assert_eq(s->mmu_pte_write, 3);
		cr_assert_eq(s->mmu_pde_zapped, 1);
		cr_assert_eq(s->mmu_flooded, 1);
		cr_assert_eq(s->mmu_shadow_zapped, 2);
		/* no page limit reached (see eviction_at_page_limit) */
		cr_assert_eq(s->mmu_recycled, 0);
		/*
		 * mmu_cache_miss (kvm_mmu_find_shadow_page found none): 4 at
		 * event 1, whose VM entry loads the CR0.PG=0 MMU's root --
		 * mmu_alloc_direct_roots() builds a PAE root, four level-2
		 * direct pages; PML4, PDPT, PD, PT at 10 (the set at 9 reset
		 * the MMU); PD and PT again at 21; at 23 the direct page that
		 * splits the 1 GiB guest page into 2 MiB ones.
		 */
		cr_assert_eq(s->mmu_cache_miss, 11);
		/* mmu_unsync (gauge): the PT, unsync since 24 */
		cr_assert_eq(s->mmu_unsync, 1);
		/*
		 * pages_* (gauges of rmap'd leaf SPTEs): 4K: 0x5000 and the
		 * PT's own page (prefetched at 21, made writable at 24); 2M:
		 * the 2 MiB page, and the 1 GiB page mapped at 2 MiB -- the
		 * simulated host backs memory with 2 MiB THP
		 * (TDP_HOST_MAPPING_LEVEL), so pages_1g stays 0.
		 */
		cr_assert_eq(s->pages[0], 2);
		cr_assert_eq(s->pages[1], 2);
		cr_assert_eq(s->pages[2], 0);
	}
}

/*
 * validate_direct_spte() unlinks the direct child (drop_parent_pte +
 * kvm_flush_remote_tlbs_sptep, mmu.c) and never zaps it
 * (tests/scenarios/direct-access.txt).  Hand-counted from the kernel:
 *  - exit_pf 3: 5 (nothing shadowed), 6 (write on the SPTE that 5 made
 *    read-only: FNAME(protect_clean_gpte) stripped W from the clean PDE),
 *    8 (the emulated store 7 zapped the PD's SPTE, kvm_mmu_track_write);
 *  - pf_fixed 2 (5, 6), pf_spurious 1: at 8 kvm_mmu_find_shadow_page()
 *    finds direct PT #1 (gfn 0, same role: access R|U|X again, as the
 *    PDE is now read-only), still holding the SPTE for gfn 5 that 5 made,
 *    and mmu_set_spte() rebuilds the same value;
 *  - sp_created: one indirect page per guest table (PML4 root, PDPT, PD),
 *    two direct PTs (5 without W, 6 with W); the guest page tables sit in
 *    the 2 MiB frame, so it is lpage-disallowed and split to 4K;
 *  - writes 1-3 run the guest before any `set` (vcpu_enter_guest ->
 *    kvm_mmu_load): CR0.PG=0 under shadow paging is a direct MMU with a
 *    PAE root (root_role.level PT32E_ROOT_LEVEL), so mmu_alloc_direct_roots()
 *    creates 4 direct level-2 pages; the `set` unloads them
 *    (kvm_mmu_free_roots), but a root that is not invalid stays hashed;
 *  - nothing zapped, 9 pages live: those 4, and 5 of the guest's (both
 *    direct PTs are parentless after 8 but #1 is linked again; #2 stays,
 *    unreachable, until reclaimed);
 *  - pf_prefetched 14: direct_pte_prefetch fills the other 7 SPTEs of
 *    the 8-aligned group at 5 and at 6; 8 returns RET_PF_SPURIOUS before
 *    prefetching.
 * Zapping the child instead (what the port did) gives pf_fixed 3, no
 * spurious fault, a third direct PT and one zapped page.
 */
Test(replay_scenarios, direct_child_unlinked_not_zapped)
{
	struct tdp_stats o, n;

	scenario("direct-access", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.exit_pf, 3);
	cr_assert_eq(n.pf_fixed, 2);
	cr_assert_eq(n.pf_spurious, 1);
	cr_assert_eq(o.pf_spurious, 1);
	for (int l = 1; l < 4; l++) {
		cr_assert_eq(n.sp_created[l][0], 1, "level %d", l + 1);
		/* level 2: the paging-off root of writes 1-3 (entry-write.txt) */
		cr_assert_eq(n.sp_created[l][1], l == 1 ? 4 : 0, "level %d", l + 1);
	}
	cr_assert_eq(n.sp_created[0][0], 0);
	cr_assert_eq(n.sp_created[0][1], 2, "two direct PTs, the first reused");
	cr_assert_eq(zapped_total(&n), 0);
	cr_assert_eq(zapped_total(&o), 0);
	cr_assert_eq(n.sp_live, 9);
	cr_assert_eq(n.pf_prefetched, 14);
	cr_assert_eq(o.pf_prefetched, 14);
	cr_assert_eq(n.exit_emulated_write, 1);
}

/*
 * FNAME(sync_spte) passes can_unsync = false to make_spte()
 * (tests/scenarios/sync-nounsync.txt).  Hand-counted from the kernel:
 *  - exit_pf 6: 10, 11 (first touch), 12, 13 (the stores to the synced
 *    last-level tables A and T fault; mmu_try_to_unsync_pages() unsyncs
 *    them and maps the gfn writable), 14 (PDE[2] not shadowed yet) and
 *    15: the sync of A at 14 (kvm_mmu_find_shadow_page -> kvm_sync_page
 *    -> sync_spte for A.PTE[0], now W=1 D=1) calls make_spte() with
 *    can_unsync = false, so mmu_try_to_unsync_pages(gfn 5) returns -EPERM
 *    for T although T is unsync: the SPTE stays read-only and the write
 *    at 15 faults.  With can_unsync = true T was skipped (already
 *    unsync), the SPTE became writable at 14 and 15 did not exit
 *    (exit_pf 5, what the port did);
 *  - pf_fixed 6: all of them (15: the fault path may unsync, T already is);
 *  - sp_unsync 2 (A at 12, T at 13), sp_sync 1 (A at 14; the page stays
 *    unsync, kvm_mmu_find_shadow_page does not write-protect it);
 *  - no prefetch: A.PTE[1] has A clear, the other gPTEs are zero.
 */
Test(replay_scenarios, sync_spte_never_unsyncs)
{
	struct tdp_stats o, n;

	scenario("sync-nounsync", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.exit_pf, 6);
	cr_assert_eq(n.pf_fixed, 6);
	cr_assert_eq(n.sp_unsync, 2);
	cr_assert_eq(n.sp_sync, 1);
	cr_assert_eq(o.sp_sync, 1);
	cr_assert_eq(n.pf_prefetched, 0);
	cr_assert_eq(n.sp_created[0][0], 2, "A and T");
	cr_assert_eq(zapped_total(&n), 0);
}

/*
 * An emulated store on 32-bit paging writes one 4-byte gPTE
 * (tests/scenarios/emul-32bit.txt).  Hand-counted from the kernel:
 *  - exit_pf 3: 5 (first touch), 6 (PTE[1] not shadowed yet), 7 (the
 *    emulated store zapped the shadow PDEs of gPDE[0]);
 *  - pf_fixed 1 (5); pf_emulate 1 (6: the PD's gfn is write-tracked, so
 *    make_spte() keeps the SPTE read-only and mmu_set_spte() returns
 *    RET_PF_EMULATE for the write fault); pf_spurious 1 (7: the PT page
 *    is found again in the hash with its SPTE for gva 0x123);
 *  - kvm_mmu_track_write(gpa 0x1000, 4 bytes): not misaligned, the PD's
 *    flooding count goes to 1, get_written_sptes() zaps spt[0..1] of the
 *    quadrant-0 PD only: no page zapped, 4 PDs + 1 PT created.
 * An 8-byte store (what the port did) is misaligned for 4-byte gPTEs:
 * four misaligned zaps (the roots) and four PDs rebuilt at 7.
 */
Test(replay_scenarios, emulated_store_32bit_width)
{
	struct tdp_stats o, n;

	scenario("emul-32bit", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.exit_pf, 3);
	cr_assert_eq(n.pf_fixed, 1);
	cr_assert_eq(n.pf_emulate, 1);
	cr_assert_eq(n.pf_spurious, 1);
	cr_assert_eq(n.sp_misaligned_zaps, 0);
	cr_assert_eq(o.sp_misaligned_zaps, 0);
	cr_assert_eq(n.sp_flood_zaps, 0);
	cr_assert_eq(zapped_total(&n), 0);
	cr_assert_eq(n.sp_created[1][0], 4, "one PD per quadrant, built once");
	cr_assert_eq(n.sp_created[0][0], 1);
	/*
	 * mmu_alloc_root() once per PAE root entry, twice: writes 1-3 run the
	 * guest with CR0.PG=0 first (vcpu_enter_guest -> kvm_mmu_load: a direct
	 * MMU with a PAE root, 4 direct level-2 pages), then the 32-bit
	 * shadow root after `set` (4 PDs, one per quadrant).
	 */
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.root_allocs, 8);
}

/*
 * Stores through the guest's own mapping (`write gva=`, issue 12 item 2):
 * each is an access op=w that carries data, so KVM's fault path decides
 * what happens to it (x86.c handle_write_gva, run.c vcpu_run_access).
 */
Test(replay_scenarios, write_gva)
{
	struct tdp_stats o, n;

	scenario("write-gva", &o, &n);
	same_counters(&o, &n);
	/*
	 * #PF intercepts, one per event (no gPTE has A before its first
	 * use, so FNAME(pte_prefetch) installs nothing):
	 *  12  root SPTE[0] missing: PDPT, PD, PT 0x4000 shadowed -> fixed
	 *  13  PD's SPTE[1] missing: PT 0x8000 shadowed; the leaf for gfn 3
	 *      (the PD, write-tracked by its level-2 shadow page) stays
	 *      read-only: mmu_try_to_unsync_pages() fails, mmu_set_spte()
	 *      gives RET_PF_WRITE_PROTECTED -> emulated (pf_emulate), and
	 *      kvm_mmu_track_write() drops PD SPTE[2] (not present)
	 *  14  PD SPTE[2] missing: PT 0xa000 shadowed -> fixed
	 *  15  SPTE[4] of PT 0x8000's shadow missing; the leaf for gfn 4
	 *      (PT 0x4000, level-1 shadow only) unsyncs it: kvm_unsync_page()
	 *      and a writable SPTE -> fixed, the CPU then stores
	 *  16  SPTE[2] of the unsync PT missing -> fixed
	 *  17  SPTE[1] missing; the guest walk finds a user RO page written
	 *      at CPL 3 -> #PF P|W|U injected
	 *  18  SPTE[6] missing; supervisor write to RO with CR0.WP=1 ->
	 *      #PF P|W injected
	 *  20  after the CR0.WP change (role change: kvm_mmu_reset_context)
	 *      a new root; its SPTE[0] missing: PDPT, PD, PT 0x8000 shadowed
	 *      again with cr0_wp=0, the leaf made writable and supervisor
	 *      (FNAME(page_fault)'s !is_cr0_wp() case) -> fixed
	 * The stores are handled inside their #PF exit: none is counted as
	 * a separate emulated-write exit.
	 */
	cr_assert_eq(n.exit_pf, 8);
	cr_assert_eq(n.pf_fixed, 5);
	cr_assert_eq(n.pf_emulate, 1);
	cr_assert_eq(n.pf_injected, 2);
	cr_assert_eq(n.pf_injected_by_bit[0], 2);	/* P: 17, 18 */
	cr_assert_eq(n.pf_injected_by_bit[1], 2);	/* W: 17, 18 */
	cr_assert_eq(n.pf_injected_by_bit[2], 1);	/* U: 17 */
	cr_assert_eq(n.exit_emulated_write, 0);
	cr_assert_eq(n.exit_cr, 2);
	cr_assert_eq(n.sp_unsync, 1, "event 15");
	cr_assert_eq(n.sp_sync, 0);
	/* two roles (cr0_wp=1, then 0): PML4, PDPT, PD twice; level 1:
	 * PT 0x4000, PT 0x8000 (twice), PT 0xa000.  Nothing is zapped. */
	cr_assert_eq(n.sp_created[3][0], 2);
	cr_assert_eq(n.sp_created[2][0], 2);
	cr_assert_eq(n.sp_created[1][0], 2);
	cr_assert_eq(n.sp_created[0][0], 4);
	cr_assert_eq(zapped_total(&n), 0);
	/*
	 * 4 + 2: writes 1-10 run the guest before the first `set`
	 * (vcpu_enter_guest -> kvm_mmu_load with CR0.PG=0: a direct MMU with
	 * a PAE root, mmu_alloc_root() for each of its 4 entries), then one
	 * root per role.
	 */
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.root_allocs, 6);
}

Test(replay_scenarios, write_gva_tdp_intel_and_amd)
{
	static const char *vendors[2] = { "intel", "amd" };

	for (int v = 0; v < 2; v++) {
		struct tdp_stats s;

		/* the same outcomes: the stores are the CPU's under TDP */
		scenario_tdp("write-gva", vendors[v], &s);
		cr_assert_eq(s.exit_pf, 0, "%s", vendors[v]);
		cr_assert_eq(s.pf_emulate, 0, "%s: nothing is shadowed", vendors[v]);
		cr_assert_eq(s.pf_injected, 2, "%s: events 17, 18", vendors[v]);
		cr_assert_eq(s.exit_emulated_write, 0);
		scenario_tdp("write-gva-32bit", vendors[v], &s);
		cr_assert_eq(s.exit_pf, 0, "%s", vendors[v]);
	}
}

/*
 * A write gva= whose translation leads elsewhere than its gpa= is bad
 * input: the trace contradicts its own memory.  The replay stops with an
 * error naming the event, before anything is stored.
 */
Test(replay_scenarios, write_gva_elsewhere_is_an_error)
{
	static const char text[] =
		"tdpsim-trace 1\n"
		"config vendor=intel paging=shadow mem=0x1000000\n"
		"write gpa=0x1000 val=0x2007\n"
		"write gpa=0x2000 val=0x3007\n"
		"write gpa=0x3000 val=0x4007\n"
		"write gpa=0x4000 val=0x5003\n"	/* gva 0 -> 0x5000 */
		"set cr0=0x80010011 cr3=0x1000 cr4=0x20 efer=0x900\n"
		"write gpa=0x6008 val=0x1 gva=0x8\n";
	struct replay_args a = { .layout = "new", .check = true };
	struct replay_run rr;

	replay_text(&rr, text, &a);
	cr_assert_neq(rr.ret, 0);
	cr_expect(strstr(rr.err, "event 6") && strstr(rr.err, "leads to gpa 0x5008"),
		  "%s", rr.err);
	replay_run_free(&rr);
}

/*
 * vcpu= on a write gva= picks the context that stores: vCPU 1 runs with
 * paging on (gva 0 -> 0x5000), vCPU 0 with paging off (gva = gpa).
 */
Test(replay_scenarios, write_gva_per_vcpu)
{
	static const char text[] =
		"tdpsim-trace 1\n"
		"config vendor=intel paging=shadow vcpus=2 mem=0x1000000\n"
		"write gpa=0x1000 val=0x2007\n"
		"write gpa=0x2000 val=0x3007\n"
		"write gpa=0x3000 val=0x4007\n"
		"write gpa=0x4000 val=0x5003\n"
		"set vcpu=1 cr0=0x80010011 cr3=0x1000 cr4=0x20 efer=0x900\n"
		"write gpa=0x5008 val=0x7 gva=0x8 vcpu=1\n"	/* 6: vCPU 1's mapping */
		"write gpa=0x8 val=0x9 gva=0x8\n"		/* 7: vCPU 0, paging off */
		"peek gpa=0x5008\n"
		"peek gpa=0x8\n";
	/* 6: PML4E -> PDPTE -> PDE -> PTE[0] = 0x5003, supervisor RW, CPL 0;
	 * 7: CR0.PG=0, so the linear address is the physical one */
	static const char want[] = "6 ok gpa=0x5008\n7 ok gpa=0x8\n8 val=0x7\n9 val=0x9\n";

	for (int i = 0; i < 2; i++) {
		struct replay_args a = { .layout = i ? "new" : "old", .check = true };
		struct replay_run rr;

		replay_text(&rr, text, &a);
		cr_assert_eq(rr.ret, 0, "%s", rr.err);
		cr_expect_str_eq(rr.log, want);
		replay_run_free(&rr);
	}
}

Test(replay_scenarios, write_gva_32bit_width)
{
	struct tdp_stats o, n;

	scenario("write-gva-32bit", &o, &n);
	same_counters(&o, &n);
	/*
	 *   8  PAE root with four quadrant PDs for the 1024-entry guest PD
	 *      (4 of the root_allocs); PD SPTE[0] missing: PT 0x2000 shadowed
	 *   9  SPTE[2] (0x400000 / 2 MiB) missing: PT 0x3000 shadowed; the
	 *      leaf for gfn 1 (the PD, write-tracked) stays read-only ->
	 *      emulated.  kvm_mmu_track_write(0x1008, 4 bytes): CR4.PAE=0,
	 *      so no widening to 8; detect_write_misaligned(): offset 8,
	 *      4 bytes, 4-byte gPTEs -> (8 ^ 11) & ~3 = 0, aligned.  With
	 *      8 bytes it would be (8 ^ 15) & ~3 = 4: all four quadrant
	 *      PDs zapped.  get_written_sptes(): quadrant 0 only, its two
	 *      2 MiB halves of the 4 MiB PDE (4, 5), not present.
	 *  10  PD SPTE[4] missing: PT 0x6000 shadowed -> fixed
	 *  11  PT 0x3000's SPTE[2] missing; the leaf for gfn 2 (PT 0x2000,
	 *      level 1) unsyncs it -> fixed, the CPU stores
	 *  12  SPTE[1] of the unsync PT missing -> fixed
	 */
	cr_assert_eq(n.exit_pf, 5);
	cr_assert_eq(n.pf_fixed, 4);
	cr_assert_eq(n.pf_emulate, 1);
	cr_assert_eq(n.sp_misaligned_zaps, 0, "a 4-byte store to a 4-byte gPTE");
	cr_assert_eq(n.sp_flood_zaps, 0);
	cr_assert_eq(zapped_total(&n), 0);
	cr_assert_eq(n.sp_created[1][0], 4);
	cr_assert_eq(n.sp_created[0][0], 3);
	cr_assert_eq(n.sp_unsync, 1);
	/*
	 * 8 = 4 + 4: writes 1-6 run the guest before the first `set` (CR0.PG=0:
	 * a direct MMU with a PAE root, 4 direct level-2 pages), then the
	 * 32-bit shadow root of event 8.
	 */
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.root_allocs, 8);
}

Test(replay_scenarios, architectural_scenarios_under_tdp)
{
	/* unsync-invlpg is excluded: it checks a stale shadow translation,
	 * which TDP (no TLB modelled) does not have */
	static const char *names[] = { "wp-upper", "cr3-switch", "flood", "evict",
				       "pae", "32bit", "wp0-smep", "smep-smap",
				       "nx-rsvd", "entry-write", "pae-pdpte",
				       "flush-kinds", "gp" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct tdp_stats s;

		scenario_tdp(names[i], "intel", &s);
		cr_assert_eq(s.exit_pf, 0, "%s", names[i]);
		scenario_tdp(names[i], "amd", &s);
		cr_assert_eq(s.exit_pf, 0, "%s", names[i]);
	}
}

/*
 * Nested EPT / NPT (no MBEC/GMET, so both layouts): L1 builds its tables,
 * L2 walks through them; golden logs derived by hand from the SDM/APM
 * rules in docs/NESTED.md (each line's reason is in the .log file).
 */
Test(replay_scenarios, nested_ept)
{
	scenario("nested-ept", NULL, NULL);
}

/*
 * VM entry loads L2's CR0/CR3/CR4 without unloading the nested MMU
 * (nested_vmx_load_cr3() -> kvm_init_mmu(), no kvm_mmu_reset_context()):
 * the `set` after each vmenter is no CR exit, and EPT02's root survives a
 * vmexit/vmenter pair without INVEPT.  Hand-counted:
 *  - root_allocs 3: at 1, L1's own TDP root (the `write` runs L1:
 *    vcpu_enter_guest -> kvm_mmu_load -> mmu_alloc_direct_roots, one
 *    4-level root for root_mmu, kept while L2 runs on guest_mmu), at 17
 *    (first EPT02 root) and 23 (INVEPT at 20 freed it); none at 19 (L1
 *    again: root_mmu's root is still valid) or 30-32 (same EPTP, root
 *    still current);
 *  - exit_cr 0: L1 loads no register, the three L2 `set`s are entries;
 *  - l2_exits 10: 17 three table pages + the PT page; 23 the PT page
 *    (now mapped) and 0x5000 -- the table pages' EPT02 entries survived
 *    INVEPT in the hashed shadow pages; 24 0x6000 and the A update; 26
 *    0x7000; 31 the D update; 32 none;
 *  - reflected 5: 17, 24, 26, 27, 31;
 *  - exit_ept_violation 11: the ten L2 exits and L1's store to its
 *    write-protected EPT page at 19.
 */
Test(replay_scenarios, nested_entry_ept_ad_off)
{
	struct tdp_stats o, n;

	scenario("nested-entry", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.root_allocs, 3);
	cr_assert_eq(n.exit_cr, 0);
	cr_assert_eq(n.l2_exits, 10);
	cr_assert_eq(n.nested_reflected, 5);
	cr_assert_eq(n.exit_ept_violation, 11);
}

/* Capabilities offered to L1 follow the host's (scenario comments). */
Test(replay_scenarios, nested_ept_without_execonly)
{
	scenario("nested-caps", NULL, NULL);
}

Test(replay_scenarios, nested_gmet_not_offered)
{
	scenario("nested-gmet-off", NULL, NULL);
}

/*
 * kvm_mmu_write_protect_fault()'s direct case (nested-unprotect.txt): L1's
 * walk writes to its PT page, which is also its EPT PD that KVM shadows for
 * L2.  Hand-counted (mmu.c, 6.18+):
 *  - pf_taken 6: 9, 11, and four exits at 14 (0x20000, 0x12800 twice,
 *    0x30123);
 *  - pf_fixed 5: all but the first 0x12800 exit, which is RET_PF_RETRY
 *    after the unprotect (counted in none of KVM's stats; pf_retry 1);
 *  - pf_emulate 0: the unprotect succeeded, nothing is emulated;
 *  - mmu_shadow_zapped 2: the EPT PD's shadow page (gfn 0x12, level 2) and
 *    its child for the EPT PT (gfn 0x13), parentless nested TDP page zapped
 *    with it (mmu_page_zap_pte(): "Recursively zap nested TDP SPs");
 *  - pf_fast 0: the retry's fault is present and a write, so fast is tried,
 *    but the SPTE is not MMU-writable (write protection cleared it).
 */
Test(replay_scenarios, nested_unprotect_and_retry)
{
	struct tdp_stats o, n;

	scenario("nested-unprotect", &o, &n);
	same_counters(&o, &n);
	for (int i = 0; i < 2; i++) {
		const struct tdp_stats *s = i ? &n : &o;

		cr_assert_eq(s->pf_taken, 6);
		cr_assert_eq(s->pf_fixed, 5);
		cr_assert_eq(s->pf_retry, 1);
		cr_assert_eq(s->pf_emulate, 0);
		cr_assert_eq(s->pf_fast, 0);
		cr_assert_eq(s->mmu_shadow_zapped, 2);
	}
}

Test(replay_scenarios, nested_npt)
{
	scenario("nested-npt", NULL, NULL);
}

/*
 * L2 in PAE paging mode under nested EPT: the PDPTEs come from VMCS12 at
 * entry and from the CPU's own load through EPT02 at L2's MOV CR3; the
 * reflected violation of 15 differs by layout (the .log comments), so each
 * layout has its golden.  Hand-counted (both layouts):
 *  - l2_exits 5: 14 three (PD, PT, 0x5000), 15 one (PDPT B, reflected),
 *    21 one (PDPT B, fixed); 16, 22, 24, 25 none;
 *  - exit_ept_violation 6: those five and L1's store at 18 to its EPT
 *    page, which EPT02 shadows;
 *  - nested_reflected 1 (15); gp_set_refused 1 (24, the CPU's #GP);
 *  - exit_cr 0: the `set`s are VM entries or unintercepted MOV CR3s.
 */
Test(replay_scenarios, nested_pae_ept)
{
	static const char *layouts[2] = { "old", "new" };
	char *text = slurp_src("tests/scenarios/nested-pae-ept.txt");

	for (int i = 0; i < 2; i++) {
		struct replay_run rr;
		char golden[64];
		const struct tdp_stats *s;

		snprintf(golden, sizeof(golden), "nested-pae-ept.%s", layouts[i]);
		run_against_golden(&rr, text, golden, layouts[i], 0);
		s = &rr.res->stats;
		cr_assert_eq(s->l2_exits, 5, "layout %d", i);
		cr_assert_eq(s->exit_ept_violation, 6, "layout %d", i);
		cr_assert_eq(s->nested_reflected, 1, "layout %d", i);
		cr_assert_eq(s->gp_set_refused, 1, "layout %d", i);
		cr_assert_eq(s->exit_cr, 0, "layout %d", i);
		replay_run_free(&rr);
	}
	free(text);
}

/*
 * VM entry with nested EPT does not read L2's PDPT: the trace's VMCS12
 * PDPTE fields are L2's PDPT as L1's EPT maps it, so an unmapped one
 * leaves them undefined (an error naming the line), and a present PDPTE
 * with a reserved bit fails the VM entry (SDM 26.3.1.6).
 */
Test(replay_scenarios, nested_pae_ept_entry_errors)
{
	char *text = slurp_src("tests/scenarios/nested-pae-ept.txt");
	char *unmapped = subst(text, "cr3=0x1000 cr4=0x20 efer=0\t# 13",
			       "cr3=0x8000 cr4=0x20 efer=0\t# 13");
	char *rsvd = subst(text, "val=0x2001\t# 1:", "val=0x2003\t# 1:");
	struct replay_args a = { .layout = "new", .check = true };
	struct replay_run rr;

	replay_text(&rr, unmapped, &a);
	cr_assert_neq(rr.ret, 0);
	cr_assert_not_null(strstr(rr.err, "PDPTE fields are undefined"), "%s", rr.err);
	cr_assert_not_null(strstr(rr.err, "13"), "%s", rr.err);
	replay_run_free(&rr);
	replay_text(&rr, rsvd, &a);
	cr_assert_neq(rr.ret, 0);
	cr_assert_not_null(strstr(rr.err, "VM entry fails"), "%s", rr.err);
	replay_run_free(&rr);
	free(rsvd);
	free(unmapped);
	free(text);
}

/*
 * Nested NPT, PAE L2: PDPEs read in the walk.  Hand-counted (both
 * layouts): l2_exits 6 (15 four, 17 one reflected, 22 one);
 * exit_ept_violation 7 (those and L1's store at 19 to its NPT page);
 * nested_reflected 1 (17); l2_pf 2 (24, 26); gp_set_refused 0 (MOV CR3
 * reads nothing); exit_cr 1 (L1's own `set` at 1).
 */
Test(replay_scenarios, nested_pae_npt)
{
	struct tdp_stats o, n;

	scenario("nested-pae-npt", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.l2_exits, 6);
	cr_assert_eq(n.exit_ept_violation, 7);
	cr_assert_eq(n.nested_reflected, 1);
	cr_assert_eq(n.l2_pf, 2);
	cr_assert_eq(n.gp_set_refused, 0);
	cr_assert_eq(n.exit_cr, 1);
}

Test(replay_scenarios, recorded_faults_shadow)
{
	struct tdp_stats o, n;

	scenario("fault-shadow", &o, &n);
	cr_assert_eq(n.exit_recorded, 6);
	cr_assert_eq(o.exit_recorded, 6);
	cr_assert_eq(n.pf_emulate, 2);
	cr_assert_eq(n.pf_spurious, 1);
}

Test(replay_scenarios, recorded_faults_tdp)
{
	struct tdp_stats o, n;

	scenario("fault-tdp", &o, &n);
	cr_assert_eq(n.exit_recorded, 4);
	cr_assert_eq(n.pf_emulate, 1, "the MMIO gpa");
	cr_assert_eq(n.exit_pf, 0);
	cr_assert_eq(n.exit_ept_violation, 0, "recorded exits are counted apart");
}

/*
 * fast_page_fault() (mmu.c) under TDP, tests/scenarios/fast-pf.txt, as
 * intel and as amd (kvm_ad_enabled either way: EPT A/D on, NPT always).
 * Hand-counted:
 *  - pf_taken 5: every recorded exit reaches kvm_mmu_do_page_fault();
 *  - pf_fast 2: 2 and 4, P|W faults on the writable 2 MiB leaf
 *    ("if (ret != RET_PF_INVALID) vcpu->stat.pf_fast++"); 1 and 3 are not
 *    fast (no P / not a write), 5 walks to a non-present PDE (INVALID);
 *  - pf_spurious 2 (the fast path's RET_PF_SPURIOUS is counted like any
 *    other by kvm_mmu_page_fault()), pf_fixed 3: 1, 3, 5.
 */
Test(replay_scenarios, fast_page_fault_tdp_intel_and_amd)
{
	static const char *vendors[2] = { "intel", "amd" };
	char *text = slurp_src("tests/scenarios/fast-pf.txt");

	for (int v = 0; v < 2; v++) {
		char to[64], *t;

		snprintf(to, sizeof(to), "vendor=%s paging=tdp", vendors[v]);
		t = subst(text, "vendor=intel paging=tdp", to);
		for (int i = 0; i < 2; i++) {
			struct replay_run rr;
			const struct tdp_stats *s;

			run_against_golden(&rr, t, "fast-pf", i ? "new" : "old", 0);
			s = &rr.res->stats;
			cr_assert_eq(s->pf_taken, 5, "%s", vendors[v]);
			cr_assert_eq(s->pf_fast, 2, "%s", vendors[v]);
			cr_assert_eq(s->pf_spurious, 2, "%s", vendors[v]);
			cr_assert_eq(s->pf_fixed, 3, "%s", vendors[v]);
			cr_assert_eq(s->pf_emulate, 0, "%s", vendors[v]);
			replay_run_free(&rr);
		}
		free(t);
	}
	free(text);
}

/*
 * fast_page_fault() without A/D bits (fast-pf-noad.txt, ept_ad=0):
 * page_fault_can_be_fast() lets faults without PFERR_PRESENT in.
 *  - pf_fast 2: 2, 3 (spurious on the present leaf); 1 tried the fast
 *    path but found no SPTE (RET_PF_INVALID, not counted);
 *  - pf_fixed 1 (1), pf_spurious 2, pf_taken 3.
 */
Test(replay_scenarios, fast_page_fault_without_ad_bits)
{
	struct tdp_stats o, n;

	scenario("fast-pf-noad", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.pf_taken, 3);
	cr_assert_eq(n.pf_fast, 2);
	cr_assert_eq(n.pf_spurious, 2);
	cr_assert_eq(n.pf_fixed, 1);
	cr_assert_eq(o.pf_fast, 2);
}

/*
 * fast_page_fault() from nonpaging_page_fault() (fast-pf-shadow.txt:
 * shadow paging, CR0.PG=0, direct MMU):
 *  - exit_pf 1 (1), exit_recorded 2 (2, 3), pf_taken 3;
 *  - pf_fast 1 (2: P|W on the writable leaf of 1), pf_spurious 1;
 *  - pf_fixed 2: 1, and 3 (a read is never fast; the slow path drops D).
 */
Test(replay_scenarios, fast_page_fault_nonpaging)
{
	struct tdp_stats o, n;

	scenario("fast-pf-shadow", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.exit_pf, 1);
	cr_assert_eq(n.exit_recorded, 2);
	cr_assert_eq(n.pf_taken, 3);
	cr_assert_eq(n.pf_fast, 1);
	cr_assert_eq(n.pf_spurious, 1);
	cr_assert_eq(n.pf_fixed, 2);
	cr_assert_eq(o.pf_fast, 1);
}

/*
 * MMIO under TDP (tests/scenarios/mmio-tdp.txt), hand-counted from
 * mmu.c/spte.c.  intel (EPT: MMIO caching on, shadow_mmio_value = W|X):
 *  - exit_ept_violation 3: 1 (nothing mapped), 3 (MMIO SPTE missing in
 *    the existing PT), 4 (RAM); exit_ept_misconfig 1: 2 hits the MMIO
 *    SPTE of 1 (handle_mmio_page_fault, no walk, no new SPTE);
 *  - pf_fixed 1 (4); pf_mmio_spte_created 2 (mmu_set_spte() before
 *    mark_mmio_spte() at 1 and 3), pf_emulate 2 (their RET_PF_EMULATE);
 *    2 goes from handle_mmio_page_fault() straight to the emulator
 *    ("goto emulate" in kvm_mmu_page_fault()): no pf_taken, no pf_emulate;
 *  - direct pages: root, PDPT, PD (built at 1 for 0x2000000, reused at 4:
 *    index 0 of the root and PDPT, the PD holds both), and the PT for
 *    0x2000000 (kvm_mmu_hugepage_adjust() returns for a noslot pfn, so
 *    direct_map() goes down to 4K): 4 pages, one per level.  The RAM
 *    access at 4 is a 2 MiB leaf in the PD.
 * amd (NPT on the 52-bit host: no MMIO value, enable_mmio_caching off):
 *  - exit_ept_violation (#NPF) 4, no misconfiguration: every MMIO access
 *    is emulated at once by kvm_handle_noslot_fault(), nothing installed;
 *  - direct pages: root, PDPT, PD for the RAM access at 4 only, no PT.
 * Before (the port emulated MMIO at once everywhere): intel had 4 EPT
 * violations, no misconfiguration and no PT.
 */
Test(replay_scenarios, mmio_spte_under_ept)
{
	char *text = slurp_src("tests/scenarios/mmio-tdp.txt");
	char *amd = subst(text, "vendor=intel", "vendor=amd");
	struct tdp_stats o, n;
	struct replay_run rr;

	scenario("mmio-tdp", &o, &n);
	for (int i = 0; i < 2; i++) {
		const struct tdp_stats *s = i ? &n : &o;

		cr_assert_eq(s->exit_ept_violation, 3, "layout %d", i);
		cr_assert_eq(s->exit_ept_misconfig, 1, "layout %d", i);
		cr_assert_eq(s->pf_fixed, 1, "layout %d", i);
		cr_assert_eq(s->pf_mmio_spte_created, 2, "layout %d", i);
		cr_assert_eq(s->pf_emulate, 2, "layout %d", i);
		cr_assert_eq(s->pf_taken, 3, "layout %d", i);
		for (int l = 0; l < 4; l++) {
			cr_assert_eq(s->sp_created[l][1], 1, "level %d", l + 1);
			cr_assert_eq(s->sp_created[l][0], 0, "level %d", l + 1);
		}
		cr_assert_eq(zapped_total(s), 0);
		cr_assert_eq(s->pf_livelock, 0);
	}
	for (int i = 0; i < 2; i++) {
		run_against_golden(&rr, amd, "mmio-tdp", i ? "new" : "old", 0);
		cr_assert_eq(rr.res->stats.exit_ept_violation, 4);
		cr_assert_eq(rr.res->stats.exit_ept_misconfig, 0);
		cr_assert_eq(rr.res->stats.pf_fixed, 1);
		cr_assert_eq(rr.res->stats.pf_emulate, 3, "one per MMIO access");
		cr_assert_eq(rr.res->stats.pf_mmio_spte_created, 0);
		cr_assert_eq(rr.res->stats.sp_created[0][1], 0, "no PT for MMIO");
		for (int l = 1; l < 4; l++)
			cr_assert_eq(rr.res->stats.sp_created[l][1], 1, "level %d", l + 1);
		replay_run_free(&rr);
	}
	free(amd);
	free(text);
}

/*
 * MMIO through nested EPT (tests/scenarios/nested-mmio.txt): the fault goes
 * on through FNAME(fetch) to an MMIO SPTE, as FNAME(page_fault) does in
 * KVM.  Hand-counted:
 *  - l2_exits 6: EPT violations at 8 (empty EPT02), 10 (PT entry 6 empty),
 *    11 (entry 7), 16 (entry 5, dropped by the sync at 15); EPT
 *    misconfigurations at 9 and 17 (the MMIO SPTEs of 8 and 10);
 *  - exit_ept_violation 5: those four and L1's store at 13 to its shadowed
 *    EPT PT (the fault unsyncs it); exit_ept_misconfig 2;
 *  - pf_fixed 3: 11, 13, 16 (8 and 10 end in RET_PF_EMULATE from
 *    mmu_set_spte, 9 and 17 in handle_mmio_page_fault);
 *  - shadow EPT pages: one per level (root, PDPT, PD, PT of L1's EPT),
 *    all made at 8 by FNAME(fetch) before the MMIO SPTE; nothing zapped;
 *  - sp_unsync 1 (the PT at 13), sp_sync 1 (the PT when the root is
 *    loaded at 15: sync_mmio_spte() drops entry 5, refreshes entry 6);
 *    root_allocs 3: L1's direct TDP root when write 1 runs L1
 *    (vcpu_enter_guest -> kvm_mmu_load; it stays loaded while L1 is in
 *    L2 and is still valid for L1's store at 13), and the shadow EPT
 *    roots at 7 and 15 (after INVEPT freed the first);
 *  - nothing reflected to L1.
 * Before (MMIO emulated before FNAME(fetch)): no misconfiguration, 7 EPT
 * violations, the shadow EPT path built only at 11.
 */
Test(replay_scenarios, nested_ept_mmio_spte)
{
	struct tdp_stats o, n;

	scenario("nested-mmio", &o, &n);
	for (int i = 0; i < 2; i++) {
		const struct tdp_stats *s = i ? &n : &o;

		cr_assert_eq(s->l2_exits, 6, "layout %d", i);
		cr_assert_eq(s->exit_ept_violation, 5, "layout %d", i);
		cr_assert_eq(s->exit_ept_misconfig, 2, "layout %d", i);
		cr_assert_eq(s->pf_fixed, 3, "layout %d", i);
		for (int l = 0; l < 4; l++) {
			cr_assert_eq(s->sp_created[l][0], 1, "level %d", l + 1);
			/* L1's own TDP root, loaded when write 1 runs L1 */
			cr_assert_eq(s->sp_created[l][1], l == 3, "level %d", l + 1);
		}
		cr_assert_eq(s->sp_nested_created, 4);
		cr_assert_eq(zapped_total(s), 0);
		cr_assert_eq(s->sp_unsync, 1);
		cr_assert_eq(s->sp_sync, 1);
		cr_assert_eq(s->root_allocs, 3);
		cr_assert_eq(s->nested_reflected, 0);
		cr_assert_eq(s->pf_livelock, 0);
	}
}

/* The CLI path: --check, --layout, --log and --json agree with the golden. */
Test(replay_scenarios, cli_first_touch)
{
	const char *log = test_path("cli-first.log");
	const char *json = test_path("cli-first.json");
	const char *argv[] = { "replay", "--check", "--layout", "old", "--no-timing",
			       "--log", log, "--json", json,
			       src_path("tests/scenarios/first-touch.txt"), NULL };
	struct run_result r;
	char *got, *gotn, *want_raw, *want, *js;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	got = read_file(log, NULL);
	cr_assert_not_null(got);
	cr_assert(strstr(got, "layout=old"), "log header names the layout");
	gotn = log_normalize(got);
	want_raw = slurp_src("tests/scenarios/first-touch.log");
	want = log_normalize(want_raw);
	cr_assert_str_eq(gotn, want);
	js = read_file(json, NULL);
	cr_assert_not_null(js);
	cr_assert(strstr(js, "\"pf\": 7"), "%s", js);
	/* KVM's names (schema 2): kvm_stats.pf_fixed, kvm_stats.pf_taken */
	cr_assert(strstr(js, "\"pf_fixed\": 4"), "%s", js);
	cr_assert(strstr(js, "\"pf_taken\": 7"), "%s", js);
	cr_assert(strstr(js, "\"tdpsim_report\": 2"), "%s", js);
	free(js);
	free(want);
	free(want_raw);
	free(gotn);
	free(got);
	run_result_free(&r);
}

/* --max-mmu-pages on the command line overrides the trace's (no) limit. */
/*
 * --max-mmu-pages follows KVM_SET_NR_MMU_PAGES: below
 * KVM_MIN_ALLOC_MMU_PAGES (64) it is refused up front with the range; at
 * 64 it overrides the trace's max_mmu_pages=8, so evict.txt's 19 pages all
 * fit and nothing is evicted, while the architectural outcomes stay those
 * of the golden log.
 */
Test(replay_scenarios, cli_max_mmu_pages)
{
	const char *trace = src_path("tests/scenarios/evict.txt");
	const char *log = test_path("evict-cli.log");
	const char *json = test_path("evict-cli.json");
	const char *low[] = { "replay", "-q", "--max-mmu-pages", "8", trace, NULL };
	const char *argv[] = { "replay", "--check", "--no-timing", "--max-mmu-pages", "64",
			       "--log", log, "--json", json, trace, NULL };
	struct run_result r;
	char *got, *gotn, *want_raw, *want, *js;

	cr_assert_eq(run_tdpsim(&r, low), 0);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect(strstr(r.err, "'8'") && strstr(r.err, "64..") &&
		  strstr(r.err, "KVM_MIN_ALLOC_MMU_PAGES"), "%s", r.err);
	cr_expect(!file_exists(log) && !file_exists(json), "refused runs write nothing");
	run_result_free(&r);

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	got = read_file(log, NULL);
	cr_assert_not_null(got);
	gotn = log_normalize(got);
	want_raw = slurp_src("tests/scenarios/evict.log");
	want = log_normalize(want_raw);
	cr_assert_str_eq(gotn, want);
	js = read_file(json, NULL);
	cr_assert_not_null(js);
	cr_assert(strstr(js, "\"zapped\": 0,"), "no eviction under 64 pages: %s", js);
	free(js);
	free(want);
	free(want_raw);
	free(gotn);
	free(got);
	run_result_free(&r);
}

/*
 * CR4.PSE cleared under 4 MiB pages that KVM had split into direct shadow
 * pages (tests/scenarios/pse-relink.txt), counted by hand from mmu.c with
 * 0cb2af2ea66a and 81ccda30b4e8 (kvm_mmu_get_child_sp() compares the child's
 * gfn and role; __link_shadow_page() zaps the refused SPTE):
 *   level 2: 4 indirect (the 1024-entry PD shadowed per role.quadrant at
 *     root load) and 4 direct (the non-paging PAE roots the `write` events
 *     ran under before event 7);
 *   level 1 indirect 3: PT 0x402000 (event 8), and, because both direct
 *     children are refused, PT 0x1000 (event 12: gfn 0 != 1) and PT
 *     0x400000 (event 13: same gfn 0x400, role.direct differs).  Without
 *     the checks the count is 1 and --check fails at event 12;
 *   level 1 direct 2: the splits of events 9 and 10, never zapped:
 *     mmu_page_zap_pte() only drops their parent link (a shadow-paging page
 *     is zapped there only if it is a nested TDP one), so they stay live;
 *   pages_4k 19 = 1 (event 8; PTE[1..7] are 0, nothing prefetched)
 *     + 8 + 8 (events 9, 10: the leaf and __direct_pte_prefetch() of the
 *     other 7 of its aligned 8) + 1 + 1 (events 12, 13; their gPTE
 *     neighbours are 0);
 *   pf_fixed 5 (events 8-13), pf_taken 6 (and event 14, a guest #PF).
 */
Test(replay_scenarios, pse_cleared_under_split_huge_pages)
{
	struct tdp_stats o, n;

	scenario("pse-relink", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.sp_created[1][0], 4);
	cr_assert_eq(n.sp_created[1][1], 4);
	cr_assert_eq(n.sp_created[0][0], 3);
	cr_assert_eq(n.sp_created[0][1], 2);
	cr_assert_eq(n.sp_live, 13);
	cr_assert_eq(n.mmu_shadow_zapped, 0);
	cr_assert_eq(n.pages[0], 19);
	cr_assert_eq(n.pf_prefetched, 14);
	cr_assert_eq(n.pf_fixed, 5);
	cr_assert_eq(n.pf_taken, 6);
	cr_assert_eq(n.pf_injected, 1);
}

/* Replay cr-exits.txt with @cfg in place of its config's vendor/paging. */
static struct tdp_stats cr_exits_under(const char *cfg)
{
	char *text = slurp_src("tests/scenarios/cr-exits.txt");
	char *t = subst(text, "vendor=intel paging=shadow", cfg);
	struct tdp_stats st = { 0 };

	for (int i = 0; i < 2; i++) {
		struct replay_run rr;

		run_against_golden(&rr, t, "cr-exits", i ? "new" : "old", 0);
		if (i)
			st = rr.res->stats;
		replay_run_free(&rr);
	}
	free(t);
	free(text);
	return st;
}

/*
 * Issue 12 item 7: which loads, flushes and INVLPGs exit, and the
 * tlb_flush they cost (cr-exits.txt), as KVM programs the intercepts
 * (kvm-x86/linux @042007c262e5: vmx.c set_cr4_guest_host_mask(),
 * vmx_l1_guest_owned_cr0_bits(), vmx_exec_control(); svm.c init_vmcb(),
 * svm_set_cr0()) and counts tlb_flush (x86.c kvm_vcpu_flush_tlb_all /
 * _current / _guest, when vcpu_enter_guest() services the requests).
 * Hand count, shadow paging, intel:
 *  - exit_cr 9: set 5 (CR0.PG, CR3, CR4.PAE, EFER all exit), flush 9 (MOV
 *    CR3: CPU_BASED_CR3_LOAD_EXITING without EPT), flush 10 (two MOVs to
 *    CR4: PGE is not guest-owned without EPT), sets 12 (CR3), 13 (PGE),
 *    14 and 16 (CR0.WP is not guest-owned without EPT), 18 (SMEP).
 *    15 and 17 rewrite CR0/CR4 unchanged: no bit of the guest/host mask
 *    differs from the read shadow, no exit;
 *  - exit_invlpg 1 (11: INVLPG exiting without EPT), invlpg 1;
 *  - tlb_flush 7, each at the entry after the request: 6 (set 5:
 *    KVM_REQ_TLB_FLUSH_CURRENT from kvm_post_set_cr4, PAE toggled, and
 *    from kvm_invalidate_pcid -- one request), 10 (flush 9's _CURRENT),
 *    10 again between the two MOVs and 11 (each MOV to CR4 flips PGE:
 *    kvm_post_set_cr4 -> KVM_REQ_TLB_FLUSH_GUEST), 13 (set 12's _CURRENT),
 *    14 (set 13's _GUEST), 19 (set 18's _CURRENT: SMEP set).  No remote
 *    flush: no gfn that became a shadowed table was mapped by an SPTE;
 *  - the stores without gva=: 7 hits the sync PT, a #PF exit whose fault
 *    unsyncs it (exit_pf, pf_taken, pf_fixed); 8 hits the PD, which is
 *    write-tracked: a #PF exit ending in RET_PF_WRITE_PROTECTED, which
 *    kvm_mmu_write_protect_fault() turns into RET_PF_EMULATE
 *    (exit_emulated_write, pf_taken, pf_emulate);
 *  - exit_pf 3 (6, 7, 19: roles changed at 14, 16, 18), pf_taken 4,
 *    pf_fixed 3, pf_emulate 1.
 * amd, shadow paging: the same, plus 15 (svm_set_cr0() left
 * INTERCEPT_CR0_WRITE on since 14: without NPT KVM runs the guest with
 * CR0.WP forced on, so the CR0 it runs differs from the guest's) and 17
 * (INTERCEPT_CR4_WRITE is always on): exit_cr 11.
 * intel, EPT: exit_cr 2 -- set 5 (CR0.PG and CR4.PAE are not guest-owned,
 * EFER is intercepted) and 18 (SMEP); CR3 loads, CR4.PGE (guest-owned
 * with EPT), CR0.WP (vmx_l1_guest_owned_cr0_bits() with EPT) and INVLPG
 * do not exit; tlb_flush 2 (6 and 19, _CURRENT); no store traps.
 * amd, NPT: exit_cr 8 -- 5, the two MOVs of 10, 13, 14, 16, 17, 18 (every
 * CR4 write; CR0 writes through the selective CR0 intercept when a bit
 * other than TS/MP changes: not 15); tlb_flush 5: 6, 10 between the
 * MOVs, 11, 14 (set 13: _GUEST), 19.  Under TDP every exit that reaches
 * kvm_mmu_do_page_fault() is an EPT violation / #NPF: pf_taken equals it.
 */
Test(replay_scenarios, cr_exits_shadow_and_tdp)
{
	static const struct {
		const char *cfg;
		uint64_t cr, invlpg, tlb_flush, pf, emulated_write, pf_taken,
			 pf_fixed;
	} want[] = {
		{ "vendor=intel paging=shadow", 9, 1, 7, 3, 1, 4, 3 },
		{ "vendor=amd paging=shadow", 11, 1, 7, 3, 1, 4, 3 },
		{ "vendor=intel paging=tdp", 2, 0, 2, 0, 0, 1, 1 },
		{ "vendor=amd paging=tdp", 8, 0, 5, 0, 0, 1, 1 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct tdp_stats s = cr_exits_under(want[i].cfg);
		const char *c = want[i].cfg;

		cr_assert_eq(s.exit_cr, want[i].cr, "%s", c);
		cr_assert_eq(s.exit_invlpg, want[i].invlpg, "%s", c);
		cr_assert_eq(s.invlpg, want[i].invlpg, "%s", c);
		cr_assert_eq(s.tlb_flush, want[i].tlb_flush, "%s", c);
		cr_assert_eq(s.exit_pf, want[i].pf, "%s", c);
		cr_assert_eq(s.exit_emulated_write, want[i].emulated_write, "%s", c);
		cr_assert_eq(s.pf_taken, want[i].pf_taken, "%s", c);
		cr_assert_eq(s.pf_fixed, want[i].pf_fixed, "%s", c);
		/* pf_emulate: the trapped store 8, counted with its exit */
		cr_assert_eq(s.pf_emulate, want[i].emulated_write, "%s", c);
		cr_assert_eq(s.pf_spurious, 0, "%s", c);
		if (!want[i].pf)
			cr_assert_eq(s.exit_ept_violation, s.pf_taken, "%s", c);
	}
}

/*
 * KVM's pf_* invariants on every shipped trace (traces/NAME.zst): every
 * RET_PF_* that kvm_mmu_do_page_fault() counts in pf_fixed / pf_emulate /
 * pf_spurious comes from a fault it counted in pf_taken, and every
 * pf_taken is an exit (#PF intercept, EPT violation / #NPF, a trapped
 * store, a recorded fault).
 */
Test(replay_scenarios, shipped_traces_pf_stats_consistent, .timeout = 300)
{
	const char *dir = src_path("traces");
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d, "cannot open %s", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct replay_args a = { .layout = "new" };
		struct replay_run rr;
		const struct tdp_stats *s;
		char path[4096];

		if (len < 5 || strcmp(de->d_name + len - 4, ".zst"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cr_assert_eq(replay_file(&rr, path, &a), 0, "%s: %s", path, rr.err);
		s = &rr.res->stats;
		cr_expect_leq(s->pf_fixed + s->pf_emulate + s->pf_spurious,
			      s->pf_taken, "%s", de->d_name);
		cr_expect_leq(s->pf_taken, s->exit_pf + s->exit_ept_violation +
			      s->exit_emulated_write + s->exit_recorded,
			      "%s", de->d_name);
		replay_run_free(&rr);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 9, "only %d traces in %s", n, dir);
}

/*
 * L1's store to an EPT table KVM shadows (nested-l1-store.txt), counted by
 * hand from mmu.c / x86.c (6.12+), the same in both layouts:
 *  - exit_ept_violation 3 (6, 8, 11), pf_taken 3; pf_fixed 1 (6: EPT02
 *    leaf); pf_emulate 1 (8: RET_PF_WRITE_PROTECTED from mmu_set_spte(),
 *    emulated by kvm_mmu_write_protect_fault()); 11 is reflected to L1
 *    (nested_reflected 1) and counts in no pf_* result;
 *  - mmu_pte_write 1 (8's emulated store, kvm_mmu_track_write()); the PDE
 *    it clears is dropped, not counted in mmu_pde_zapped (gentry 0), and
 *    no page is zapped (mmu_page_zap_pte() with no invalid_list);
 *  - shadow pages: EPT02 levels 4-1 (6), L1's TDP root (loaded by the
 *    first `write`) and its levels 3-1 for gfn 0x12 (8), one each;
 *    pf_prefetched 7 (8: direct_pte_prefetch() maps gfns 0x10-0x17 but
 *    0x12, read-only where tracked); pages_4k 9 = 1 (EPT02 leaf) + 8.
 */
Test(replay_scenarios, nested_l1_store_to_shadowed_ept)
{
	struct tdp_stats o, n;

	scenario("nested-l1-store", &o, &n);
	same_counters(&o, &n);
	cr_assert_eq(n.exit_ept_violation, 3);
	cr_assert_eq(n.pf_taken, 3);
	cr_assert_eq(n.pf_fixed, 1);
	cr_assert_eq(n.pf_emulate, 1);
	cr_assert_eq(n.nested_reflected, 1);
	cr_assert_eq(n.mmu_pte_write, 1);
	cr_assert_eq(n.mmu_pde_zapped, 0);
	cr_assert_eq(n.mmu_shadow_zapped, 0);
	for (int l = 0; l < 4; l++) {
		cr_assert_eq(n.sp_created[l][0], 1, "level %d indirect", l + 1);
		cr_assert_eq(n.sp_created[l][1], 1, "level %d direct", l + 1);
	}
	cr_assert_eq(n.pf_prefetched, 7);
	cr_assert_eq(n.pages[0], 9);
}
