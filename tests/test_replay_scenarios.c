// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay scenarios: small hand-written traces (tests/scenarios/NAME.txt)
 * whose outcome logs are checked against golden files (NAME.log, each line
 * derived by hand from the SDM with a comment saying why), under both ACC
 * layouts with the invariant checker on, plus the KVM counters each
 * scenario is about.  Architectural scenarios are also replayed with
 * paging=tdp for intel and amd: the guest must see the same outcomes.
 */
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
	/* one indirect shadow page per guest table, nothing direct */
	for (int l = 0; l < 4; l++) {
		cr_assert_eq(n.sp_created[l][0], 1, "level %d", l + 1);
		cr_assert_eq(n.sp_created[l][1], 0, "level %d", l + 1);
	}
	cr_assert_eq(n.sp_live, 4);
	cr_assert_eq(n.root_allocs, 1);
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
	/* A, B, C each get a root once; returning to a cached one is a hit */
	cr_assert_eq(n.root_allocs, 3);
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
	cr_assert_eq(zapped_total(&unl), 0, "KVM's default limit is far above 19 pages");
	cr_assert_eq(unl.sp_peak, 19, "PML4, PDPT, PD and 16 PTs");

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
		 * 11, the emulated stores 18-20 (3), the CR load 9, INVLPG 15.
		 */
		cr_assert_eq(tdp_stats_exits(s), 15);
		/* pf_taken (kvm_mmu_do_page_fault): the 9 #PF exits + 11 */
		cr_assert_eq(s->pf_taken, 10);
		/*
		 * pf_fixed: 10, 12, 14, 17, 21, 22, 23, 24.  pf_spurious: 11,
		 * a read of the read-only SPTE of 10 (make_spte() gives the
		 * SPTE the CPU holds, A included).  pf_emulate: 13, a gfn with
		 * no memslot (RET_PF_EMULATE).
		 */
		cr_assert_eq(s->pf_fixed, 8);
		cr_assert_eq(s->pf_spurious, 1);
		cr_assert_eq(s->pf_emulate, 1);
		/*
		 * pf_fast: no fast_page_fault() in the port.
		 * pf_mmio_spte_created: KVM would count 1 at 13 (mmu_set_spte
		 * -> mark_mmio_spte); the port emulates before FNAME(fetch)
		 * and creates no MMIO SPTE (issue 12 item 5).
		 */
		cr_assert_eq(s->pf_fast, 0);
		cr_assert_eq(s->pf_mmio_spte_created, 0);
		/* invlpg (kvm_mmu_invlpg): event 15 */
		cr_assert_eq(s->invlpg, 1);
		/*
		 * tlb_flush: 9 (kvm_post_set_cr4: PAE toggled, and kvm_set_cr3:
		 * one KVM_REQ_TLB_FLUSH_CURRENT), 16 (kvm_vcpu_flush_tlb_guest),
		 * 17 (the remote flush after 16 write-protected the PT again),
		 * 21 (the remote flush of the zap at 20).  kvm_mmu_load()'s
		 * flush of the new root at 10 is a direct call, no stat.
		 */
		cr_assert_eq(s->tlb_flush, 4);
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
		 * mmu_cache_miss (kvm_mmu_find_shadow_page found none): PML4,
		 * PDPT, PD, PT at 10; PD and PT again at 21; at 23 the direct
		 * page that splits the 1 GiB guest page into 2 MiB ones.
		 */
		cr_assert_eq(s->mmu_cache_miss, 7);
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

Test(replay_scenarios, architectural_scenarios_under_tdp)
{
	/* unsync-invlpg is excluded: it checks a stale shadow translation,
	 * which TDP (no TLB modelled) does not have */
	static const char *names[] = { "wp-upper", "cr3-switch", "flood", "evict",
				       "pae", "32bit", "wp0-smep", "smep-smap",
				       "nx-rsvd", "gp" };

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
 *  - root_allocs 2: at 17 (first EPT02 root) and 23 (INVEPT at 20 freed
 *    it); none at 30-32 (same EPTP, root still current);
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
	cr_assert_eq(n.root_allocs, 2);
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

Test(replay_scenarios, nested_npt)
{
	scenario("nested-npt", NULL, NULL);
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
