// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workloads made for scale (linux-smp, linux-kpti, linux-kpti-pcid,
 * db, zero): each replays under both ACC layouts with the MMU invariants
 * checked after every event (`replay --check`), and the #PFs the replay
 * delivers to the guest are exactly the ones the generator's own guest
 * model expected -- two separate models of the same guest (the generator's
 * page tables vs the port's walker and the CPU model), so an error in
 * either shows.  Plus determinism, sizing, and the property each workload
 * exists for, checked on the trace or the report.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/gen.h>
#include <tdpsim/report.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "helpers/run.h"

static const char *const new_workloads[] = {
	"linux-smp", "linux-kpti", "linux-kpti-pcid", "db", "zero",
};

static struct tdp_gen_stats gen_to(const char *path, const char *workload, uint64_t seed,
				   uint64_t events, enum tdp_paging paging)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_gen_workload *wl = tdp_gen_find(workload);
	struct tdp_gen_opts opts;
	struct tdp_gen_stats st;
	tdp_writer_t *w;

	cr_assert_not_null(wl, "no workload '%s'", workload);
	tdp_gen_opts_init(&opts);
	opts.seed = seed;
	opts.events = events;
	opts.paging = paging;
	cr_assert_eq(tdp_writer_open(&w, path, tdp_form_from_name(path), 0, NULL, errbuf), 0,
		     "%s", errbuf);
	cr_assert_eq(tdp_gen_run(wl, w, &opts, &st, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_close(w), 0, "%s", tdp_writer_errmsg(w));
	tdp_writer_free(w);
	return st;
}

/*
 * `tdpsim replay [--check] --layout @layout --json` of @trace, loaded back.
 * --check (the MMU invariants after every event) costs ~1 ms per event
 * under ASan, so the property tests replay without it.
 */
static struct tdp_report *replay_json(const char *trace, const char *layout, bool check)
{
	const char *json = test_path("r.json");
	const char *argv[] = { "replay", "--layout", layout, "--json", json, trace,
			       check ? "--check" : NULL, NULL };
	struct tdp_report *reps;
	struct run_result r;
	size_t n;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s --layout %s: exit %d: %s", trace, layout, r.status,
		     r.err);
	run_result_free(&r);
	cr_assert_eq(tdp_report_load(json, &reps, &n), 0);
	cr_assert_eq(n, 1);
	return reps;
}

static struct tdp_report *replay_checked(const char *trace, const char *layout)
{
	return replay_json(trace, layout, true);
}

Test(gen_workloads, replay_checked_under_both_layouts_with_the_expected_faults,
     .timeout = 300)
{
	for (size_t i = 0; i < ARRAY_SIZE(new_workloads); i++) {
		const char *trace = test_path("w.zst");
		struct tdp_gen_stats st = gen_to(trace, new_workloads[i], 3, 10000,
						 TDP_PAGING_SHADOW);
		struct tdp_report *old = replay_checked(trace, "old");
		struct tdp_report *new = replay_checked(trace, "new");

		/* shadow paging: every guest #PF is an intercepted one, injected */
		cr_expect_eq(new->faults.injected, st.pf_demand + st.pf_cow + st.pf_smap,
			     "%s: %lu #PF delivered, the guest expected %lu", new_workloads[i],
			     new->faults.injected, st.pf_demand + st.pf_cow + st.pf_smap);
		cr_expect_eq(old->faults.injected, new->faults.injected, "%s", new_workloads[i]);
		cr_expect_eq(new->events_total, st.events, "%s", new_workloads[i]);
		tdp_report_free_array(old, 1);
		tdp_report_free_array(new, 1);
	}
}

Test(gen_workloads, replay_checked_under_tdp, .timeout = 300)
{
	for (size_t i = 0; i < ARRAY_SIZE(new_workloads); i++) {
		const char *trace = test_path("t.zst");

		gen_to(trace, new_workloads[i], 5, 6000, TDP_PAGING_TDP);
		tdp_report_free_array(replay_checked(trace, "old"), 1);
		tdp_report_free_array(replay_checked(trace, "new"), 1);
	}
}

Test(gen_workloads, same_seed_same_bytes_target_met, .timeout = 120)
{
	for (size_t i = 0; i < ARRAY_SIZE(new_workloads); i++) {
		const char *a = test_path("a.txt"), *b = test_path("b.txt"),
			   *c = test_path("c.txt");
		struct tdp_gen_stats sa = gen_to(a, new_workloads[i], 42, 30000,
						 TDP_PAGING_SHADOW);

		gen_to(b, new_workloads[i], 42, 30000, TDP_PAGING_SHADOW);
		gen_to(c, new_workloads[i], 43, 30000, TDP_PAGING_SHADOW);
		cr_expect(files_equal(a, b), "%s: same seed, other bytes", new_workloads[i]);
		cr_expect(!files_equal(a, c), "%s: other seed, same bytes", new_workloads[i]);
		cr_expect(sa.events >= 30000 * 95 / 100 && sa.events <= 30000 * 105 / 100,
			  "%s: %lu events for --events 30000", new_workloads[i], sa.events);
	}
}

/* Counts of the events of @path: per vCPU for accesses, and set cr3 forms. */
struct scan {
	uint64_t access_on[8], cr3_loads, cr3_pcid, cr3_noflush, cr3_user, user_cpl3;
	uint64_t huge_user_leaves;
	unsigned int vcpus;
	bool pcide;
};

static void scan(const char *path, struct scan *s)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ev;
	tdp_trace_t *t;
	int ret;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
	s->vcpus = tdp_trace_config(t)->vcpus;
	while ((ret = tdp_trace_next(t, &ev)) == 1) {
		if (ev->kind == TDP_EV_ACCESS && ev->vcpu < 8)
			s->access_on[ev->vcpu]++;
		if (ev->kind == TDP_EV_SET && TDP_HAS(ev, SET, cr4) &&
		    (ev->u.set.cr4 & (1ull << 17)))
			s->pcide = true;
		if (ev->kind == TDP_EV_SET && TDP_HAS(ev, SET, cr3)) {
			uint64_t cr3 = ev->u.set.cr3;

			s->cr3_loads++;
			s->cr3_pcid += (cr3 & 0xfff) != 0;
			s->cr3_noflush += cr3 >> 63;
			if (cr3 & (1ull << 11)) {
				s->cr3_user++;
				s->user_cpl3 += TDP_HAS(ev, SET, cpl) && ev->u.set.cpl == 3;
			}
		}
		/* a 2 MiB user leaf: P, U and PS, an address 2 MiB aligned */
		if (ev->kind == TDP_EV_WRITE && (ev->u.write.val & 0x85) == 0x85 &&
		    !(ev->u.write.val & 0x1ff000))
			s->huge_user_leaves++;
	}
	cr_expect_eq(ret, 0);
	tdp_trace_close(t);
}

Test(gen_workloads, smp_runs_every_vcpu_and_pcid_tags_cr3, .timeout = 60)
{
	const char *trace = test_path("s.zst");
	struct scan s;

	gen_to(trace, "linux-smp", 1, 30000, TDP_PAGING_SHADOW);
	scan(trace, &s);
	cr_expect_eq(s.vcpus, 4);
	for (unsigned int v = 0; v < 4; v++)
		cr_expect_gt(s.access_on[v], 1000, "vcpu %u: %lu accesses", v, s.access_on[v]);
	cr_expect_eq(s.cr3_pcid, 0, "PCID bits without PCIDE");

	gen_to(trace, "linux-kpti-pcid", 1, 30000, TDP_PAGING_SHADOW);
	scan(trace, &s);
	cr_expect(s.pcide, "CR4.PCIDE never set");
	/* all but the vCPUs' boot loads of swapper (PCID 0) carry a PCID */
	cr_expect_geq(s.cr3_pcid + 4, s.cr3_loads);
	cr_expect_gt(s.cr3_noflush, s.cr3_loads / 2, "%lu of %lu with NOFLUSH",
		     s.cr3_noflush, s.cr3_loads);
	/* Linux's user PCID (bit 11) is loaded on the way out to user mode */
	cr_expect_gt(s.cr3_user, 1000);
	cr_expect_eq(s.user_cpl3, s.cr3_user);
}

/*
 * KPTI is a CR3 load at each kernel entry and exit: under shadow paging
 * each is an exit, so the same guest history has several times the CR
 * exits of the non-KPTI one.
 */
Test(gen_workloads, kpti_multiplies_cr3_exits, .timeout = 120)
{
	const char *trace = test_path("k.zst");
	struct tdp_report *smp, *kpti;

	gen_to(trace, "linux-smp", 2, 30000, TDP_PAGING_SHADOW);
	smp = replay_json(trace, "new", false);
	gen_to(trace, "linux-kpti", 2, 30000, TDP_PAGING_SHADOW);
	kpti = replay_json(trace, "new", false);
	cr_expect_gt(kpti->exits.cr, 5 * smp->exits.cr, "cr exits: kpti %lu, smp %lu",
		     kpti->exits.cr, smp->exits.cr);
	tdp_report_free_array(smp, 1);
	tdp_report_free_array(kpti, 1);
}

/*
 * zero exists to show shadow-fault throughput: the issue asks for a
 * workload where nearly every access faults, where the others stay at or
 * below ~23 % exits per event.
 */
Test(gen_workloads, zero_is_fault_dominated, .timeout = 60)
{
	const char *trace = test_path("z.zst");
	struct tdp_report *r;

	gen_to(trace, "zero", 1, 20000, TDP_PAGING_SHADOW);
	r = replay_json(trace, "new", false);
	cr_expect_gt(r->exits.total * 100, 30 * r->events_total, "%lu exits in %lu events",
		     r->exits.total, r->events_total);
	tdp_report_free_array(r, 1);
}

/* db maps its buffer pool with 2 MiB user pages, more of them with more memory. */
Test(gen_workloads, db_pool_is_huge_pages_sized_by_mem, .timeout = 60)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const char *trace = test_path("d.zst");
	struct tdp_gen_opts opts;
	struct tdp_gen_stats st;
	tdp_writer_t *w;
	struct scan small, big;

	gen_to(trace, "db", 1, 60000, TDP_PAGING_SHADOW);
	scan(trace, &small);
	tdp_gen_opts_init(&opts);
	opts.events = 60000;
	opts.mem = 2ull << 30;
	cr_assert_eq(tdp_writer_open(&w, trace, tdp_form_from_name(trace), 0, NULL, errbuf), 0, "%s",
		     errbuf);
	cr_assert_eq(tdp_gen_run(tdp_gen_find("db"), w, &opts, &st, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_close(w), 0);
	tdp_writer_free(w);
	scan(trace, &big);
	/* 256 MiB: a pool of 96 pages, all touched; 2 GiB: 992, most touched */
	cr_expect_gt(small.huge_user_leaves, 50);
	cr_expect_leq(small.huge_user_leaves, 96);
	cr_expect_gt(big.huge_user_leaves, 2 * small.huge_user_leaves);
}

/*
 * zero sizes each round from the events left; a round that overshot the
 * target once made the count wrap and the generator ran forever (seen at
 * mem >= 1 GiB, where a round can be as large as the rest of the budget).
 */
Test(gen_workloads, zero_meets_the_target_at_any_mem, .timeout = 60)
{
	static const uint64_t mems[] = { 1ull << 30, 4ull << 30 };

	for (size_t i = 0; i < ARRAY_SIZE(mems); i++) {
		char errbuf[TDP_ERRBUF_SIZE];
		const char *trace = test_path("zm.zst");
		struct tdp_gen_opts opts;
		struct tdp_gen_stats st;
		tdp_writer_t *w;

		tdp_gen_opts_init(&opts);
		opts.events = 100000;
		opts.mem = mems[i];
		cr_assert_eq(tdp_writer_open(&w, trace, tdp_form_from_name(trace), 0, NULL,
					     errbuf), 0, "%s", errbuf);
		cr_assert_eq(tdp_gen_run(tdp_gen_find("zero"), w, &opts, &st, errbuf), 0, "%s",
			     errbuf);
		cr_assert_eq(tdp_writer_close(w), 0);
		tdp_writer_free(w);
		cr_expect(st.events >= 95000 && st.events <= 105000,
			  "mem %lu: %lu events for --events 100000", mems[i], st.events);
	}
}
