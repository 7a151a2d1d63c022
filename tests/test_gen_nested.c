// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim gen --workload hvci: an L1 hypervisor with MBEC (intel) / GMET
 * (amd) running a linux L2; --workload nested: the same without MBEC/GMET,
 * so both ACC layouts replay it.  Three views must agree:
 *  - the generator's own expectations (struct tdp_gen_stats);
 *  - an independent two-dimensional walk written here from the SDM/APM
 *    (L2's 4-level tables read through EPT/NPT, L2's permission check,
 *    then the final GPA through EPT/NPT with MBEC's user/supervisor split
 *    or GMET's CPL rule, or plain EPT X / NPT user-access rules without
 *    them), applied to the trace alone;
 *  - the replay engine (struct tdp_stats and the outcome log), for nested
 *    under both layouts, whose outcome logs must be identical.
 * The oracle also checks the workload's shape: every exit reflected to L1
 * is a marked violation, every #PF in L2 is retried successfully, and
 * L1's own accesses never fault.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/gen.h>
#include <tdpsim/gmem.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "helpers/replay_util.h"
#include "helpers/hw_util.h"
#include "helpers/run.h"

#define ADDR		0x000ffffffffff000ull
#define P		(1ull << 0)
#define RW		(1ull << 1)
#define US		(1ull << 2)
#define PS		(1ull << 7)
#define NX		(1ull << 63)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)

static void gen_wl(const char *name, const char *path, enum tdp_vendor vendor, uint64_t seed,
		   uint64_t events, uint64_t mem, struct tdp_gen_stats *st)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_gen_workload *wl = tdp_gen_find(name);
	struct tdp_gen_opts opts;
	tdp_writer_t *w;

	cr_assert_not_null(wl);
	cr_assert(wl->nested);
	tdp_gen_opts_init(&opts);
	opts.seed = seed;
	opts.events = events;
	opts.vendor = vendor;
	opts.mem = mem;
	cr_assert_eq(tdp_writer_open(&w, path, tdp_form_from_name(path), 0, NULL, errbuf), 0,
		     "%s", errbuf);
	cr_assert_eq(tdp_gen_run(wl, w, &opts, st, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_close(w), 0, "%s", tdp_writer_errmsg(w));
	tdp_writer_free(w);
}

/* ------------------------------------------------------------------ */
/* The oracle */

enum verdict { V_OK, V_PF, V_EXEC_USER, V_EXEC_SUP, V_OTHER_EXIT };

struct reflected {
	uint64_t event, gpa, code;	/* code: EPT qualification 0-8 / EXITINFO1 */
};

struct oscan {
	struct tdp_config cfg;
	uint64_t vmenters, vmexits, invept_single, invept_global;
	uint64_t l1_accesses, l2_accesses, l2_pf, exec_user, exec_sup, other_exits, retries;
	uint64_t marks_sup, marks_user;
	const char *mark_user, *mark_sup;	/* the violations' labels */
	struct reflected refl[256];
	unsigned int nrefl;
	/*
	 * intel: reflected final accesses whose L2 translation is user-mode,
	 * writable, execute-disable: the advanced qualification bits 9-11
	 * (the series passes them to L1, pre-series KVM does not)
	 */
	uint64_t adv[3];
	char fail[256];
};

struct ctx {
	struct oscan *s;
	struct tdp_gmem *gm;
	bool intel, in_l2;
	bool mbec, gmet;		/* as the last vmenter set them */
	uint64_t eptp;
	struct hw_regs l1, l2;
};

#define FAIL(s, ...)							\
	do {								\
		if (!(s)->fail[0])					\
			snprintf((s)->fail, sizeof((s)->fail), __VA_ARGS__); \
	} while (0)

static uint64_t rd(struct ctx *c, uint64_t gpa)
{
	uint64_t v = 0;

	tdp_gmem_read64(c->gm, gpa, &v);
	return v;
}

/* The address @addr maps to through leaf @e at @level (1: 4K, 2: 2M, ...). */
static uint64_t leaf_addr(uint64_t e, int level, uint64_t addr)
{
	uint64_t mask = (1ull << (12 + 9 * (level - 1))) - 1;

	return (e & ADDR & ~mask) | (addr & mask);
}

/*
 * One EPT/NPT translation of L2 GPA @gpa.  @op is TDP_OP_READ/WRITE/FETCH;
 * a paging-structure access is passed as TDP_OP_WRITE (EPT A/D on; NPT
 * treats them as writes).  @user: intel, the L2 translation is user-mode
 * (MBEC picks XU); amd, the access is at CPL 3.  Returns true if allowed,
 * else fills *@code with the qualification / EXITINFO1 the SDM / APM
 * give (final access).  Without MBEC a fetch needs X (bit 2) whatever
 * the mode and bit 10 is ignored; without GMET every NPT access is a user
 * access (U=0 at any level faults) and EXITINFO1.U is 1.
 */
static bool tdp_translate(struct ctx *c, uint64_t gpa, int op, bool user, uint64_t *l1gpa,
			  uint64_t *code)
{
	uint64_t table = c->eptp & ADDR, e = 0;
	/* intel: AND of R, W, XS, XU; amd: AND of U, W and OR of NX */
	bool r = true, w = true, xs = true, xu = true, u = true, nx = false, present = true;
	int level;

	for (level = 4; level >= 1; level--) {
		e = rd(c, table + 8 * ((gpa >> (12 + 9 * (level - 1))) & 511));
		if (c->intel ? !(e & 7) && !(c->mbec && (e & (1ull << 10))) : !(e & P)) {
			/* not present: its rights (all 0) are in the AND */
			r = w = xs = xu = u = present = false;
			break;
		}
		if (c->intel) {
			r &= e & 1;
			w &= !!(e & 2);
			xs &= !!(e & 4);
			xu &= !!(e & (1ull << 10));
		} else {
			u &= !!(e & US);
			w &= !!(e & RW);
			nx |= !!(e & NX);
		}
		if (level == 1 || (e & PS))
			break;
		table = e & ADDR;
	}
	if (present)
		*l1gpa = leaf_addr(e, level, gpa);
	if (c->intel) {
		bool ok = op == TDP_OP_READ ? r : op == TDP_OP_WRITE ? r && w :
			  (c->mbec && user ? xu : xs);

		if (!ok)
			*code = (op == TDP_OP_READ ? 1 : op == TDP_OP_WRITE ? 2 : 4) | (uint64_t)r << 3 |
				(uint64_t)w << 4 | (uint64_t)xs << 5 |
				(uint64_t)(c->mbec && xu) << 6 | 1ull << 7 | 1ull << 8;
		return ok;
	}
	/*
	 * GMET: U=0 restricts nothing; CPL < 3 fetches of all-U pages fault.
	 * Without it every access is a user one: U=0 anywhere faults.
	 */
	bool ok = present && (c->gmet || u) && (op != TDP_OP_WRITE || w) &&
		  (op != TDP_OP_FETCH || (!nx && (!c->gmet || user || !u)));

	if (!ok)
		*code = (uint64_t)present | (op == TDP_OP_WRITE ? 2 : 0) |
			(!c->gmet || user ? 4 : 0) | (op == TDP_OP_FETCH ? 0x10 : 0) | 1ull << 32;
	return ok;
}

/* An L2 access: the 2D walk in hardware order (docs/NESTED.md). */
static enum verdict l2_access(struct ctx *c, const struct hw_access *a, uint64_t *gpa_out,
			      uint64_t *code, bool adv[3])
{
	uint64_t table = c->l2.cr3 & ADDR, e = 0, gpa, l1gpa = 0, ign;
	bool u = true, w = true, nx = false;
	int level;

	for (level = 4; level >= 1; level--) {
		uint64_t egpa = table + 8 * ((a->addr >> (12 + 9 * (level - 1))) & 511);

		if (!tdp_translate(c, egpa, TDP_OP_WRITE, true, &l1gpa, &ign))
			return V_OTHER_EXIT;	/* a paging-structure violation */
		e = rd(c, l1gpa);
		if (!(e & P) || (level == 4 && (e & PS)))
			return V_PF;
		u &= !!(e & US);
		w &= !!(e & RW);
		nx |= !!(e & NX);
		if (level == 1 || (e & PS))
			break;
		table = e & ADDR;
	}
	/* L2's own rights: U/S, R/W with CR0.WP=1, NX, SMEP, SMAP */
	if ((a->cpl == 3 && !u) || (a->op == TDP_OP_WRITE && !w) || (a->op == TDP_OP_FETCH && nx) ||
	    (a->op == TDP_OP_FETCH && a->cpl < 3 && u && (c->l2.cr4 & CR4_SMEP)) ||
	    (a->op != TDP_OP_FETCH && a->cpl < 3 && u && !a->ac && (c->l2.cr4 & CR4_SMAP)))
		return V_PF;
	gpa = leaf_addr(e, level, a->addr);
	*gpa_out = gpa;
	adv[0] = u;
	adv[1] = w;
	adv[2] = nx;
	if (tdp_translate(c, gpa, a->op, c->intel ? u : a->cpl == 3, &l1gpa, code))
		return V_OK;
	if (a->op != TDP_OP_FETCH)
		return V_OTHER_EXIT;
	return (c->intel ? u : a->cpl == 3) ? V_EXEC_USER : V_EXEC_SUP;
}

/*
 * Every store of L1 and L2 is their kernel's (CPL 0) through their own
 * mapping: L1's identity map or, paging off, the physical address; L2's
 * direct map through its tables and L1's EPT/NPT, or, paging off, its
 * physical address through EPT/NPT.  It must be allowed and land on gpa=.
 */
static void check_store_gva(struct ctx *c, const struct hw_mem *mem,
			    const struct tdp_event *ev, uint64_t nev)
{
	struct hw_access a = { .addr = ev->u.write.gva, .op = TDP_OP_WRITE, .cpl = 0 };
	uint64_t gpa = a.addr, l1gpa = 0, code = 0;
	bool adv[3], ok;

	if (!TDP_HAS(ev, WRITE, gva)) {
		FAIL(c->s, "event %lu: a store without gva=", nev);
		return;
	}
	if (!c->in_l2) {
		struct hw_result r;

		hw_walk1d(mem, &c->l1, &a, &r);
		ok = r.kind == HW_OK;
		l1gpa = r.gpa;
	} else {
		ok = (!(c->l2.cr0 & (1ull << 31)) ||
		      l2_access(c, &a, &gpa, &code, adv) == V_OK) &&
		     tdp_translate(c, gpa, TDP_OP_WRITE, false, &l1gpa, &code);
	}
	if (!ok || l1gpa != ev->u.write.gpa)
		FAIL(c->s, "event %lu: store through %#lx (%s) does not land at gpa=%#lx",
		     nev, a.addr, c->in_l2 ? "L2" : "L1", ev->u.write.gpa);
}

static void oracle_scan(const char *path, struct oscan *s)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ev;
	struct ctx c = { .s = s };
	struct hw_mem mem;
	struct hw_access pending = { 0 };
	bool have_pending = false;
	enum verdict marked = V_OK;	/* the violation the previous event announced */
	uint64_t nev = 0;
	tdp_trace_t *t;
	int ret;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
	s->cfg = *tdp_trace_config(t);
	/* hvci's violations are MBEC/GMET's; nested's fetch no-execute pages */
	s->mark_user = s->cfg.mbec || s->cfg.gmet ? "hvci-exec-user" : "nx-exec-user";
	s->mark_sup = s->cfg.mbec || s->cfg.gmet ? "hvci-exec-supervisor" : "nx-exec-supervisor";
	c.intel = s->cfg.vendor == TDP_VENDOR_INTEL;
	cr_assert_eq(tdp_gmem_create(&c.gm, s->cfg.mem), 0);
	mem = hw_mem_gmem(c.gm, s->cfg.maxphyaddr);
	c.l1.maxphyaddr = c.l2.maxphyaddr = s->cfg.maxphyaddr;

	while (!s->fail[0] && (ret = tdp_trace_next(t, &ev)) == 1) {
		struct hw_regs *regs = c.in_l2 ? &c.l2 : &c.l1;

		nev++;
		switch (ev->kind) {
		case TDP_EV_WRITE:
			check_store_gva(&c, &mem, ev, nev);
			tdp_gmem_write(c.gm, ev->u.write.gpa, ev->u.write.size, ev->u.write.val);
			break;
		case TDP_EV_SET:
			if (TDP_HAS(ev, SET, cr0))
				regs->cr0 = ev->u.set.cr0;
			if (TDP_HAS(ev, SET, cr3))
				regs->cr3 = ev->u.set.cr3;
			if (TDP_HAS(ev, SET, cr4))
				regs->cr4 = ev->u.set.cr4;
			if (TDP_HAS(ev, SET, efer))
				regs->efer = ev->u.set.efer;
			if (have_pending)
				FAIL(s, "event %lu: context switch before the retry of %#lx", nev,
				     pending.addr);
			break;
		case TDP_EV_VMENTER:
			if (c.in_l2)
				FAIL(s, "event %lu: vmenter in L2", nev);
			c.in_l2 = true;
			c.eptp = c.intel ? ev->u.vmenter.eptp : ev->u.vmenter.ncr3;
			c.mbec = c.intel && TDP_HAS(ev, VMENTER, mbec) && ev->u.vmenter.mbec;
			c.gmet = !c.intel && TDP_HAS(ev, VMENTER, gmet) && ev->u.vmenter.gmet;
			/* the workloads use MBEC/GMET exactly when the config offers it */
			if (c.intel ? c.mbec != s->cfg.mbec || (c.eptp & 0xfff) != 0x5e :
				      c.gmet != s->cfg.gmet)
				FAIL(s, "event %lu: vmenter MBEC/GMET not as the config, or not "
				     "a WB 4-level A/D EPTP (%#lx)", nev, c.eptp);
			/* L2 restarts with paging off (docs/NESTED.md) */
			memset(&c.l2, 0, sizeof(c.l2));
			c.l2.cr0 = 1;
			c.l2.maxphyaddr = s->cfg.maxphyaddr;
			s->vmenters++;
			break;
		case TDP_EV_VMEXIT:
			if (!c.in_l2 || have_pending)
				FAIL(s, "event %lu: vmexit in L1 or before a retry", nev);
			c.in_l2 = false;
			s->vmexits++;
			break;
		case TDP_EV_INVEPT:
			if (c.in_l2)
				FAIL(s, "event %lu: invept in L2", nev);
			if (TDP_HAS(ev, INVEPT, eptp))
				s->invept_single++;
			else
				s->invept_global++;
			break;
		case TDP_EV_ACCESS: {
			struct hw_access a = {
				.addr = ev->u.access.gva, .op = (enum tdp_access_op)ev->u.access.op,
				.cpl = ev->u.access.cpl, .ac = ev->u.access.ac,
			};
			uint64_t gpa = 0, code = 0;
			bool adv[3] = { false };
			enum verdict v;

			if (!c.in_l2) {
				struct hw_result r;

				hw_walk1d(&mem, &c.l1, &a, &r);
				if (r.kind != HW_OK)
					FAIL(s, "event %lu: L1 access %#lx faults", nev, a.addr);
				s->l1_accesses++;
				break;
			}
			s->l2_accesses++;
			if (!(c.l2.cr0 & (1ull << 31))) {
				FAIL(s, "event %lu: L2 access with paging off", nev);
				break;
			}
			v = l2_access(&c, &a, &gpa, &code, adv);
			if (have_pending) {
				/* the #PF handler's own accesses (clear_page, copies) */
				if (a.addr != pending.addr || a.op != pending.op || a.cpl != pending.cpl) {
					if (v != V_OK || a.cpl == 3)
						FAIL(s, "event %lu: %#lx before the retry of %#lx",
						     nev, a.addr, pending.addr);
					break;
				}
				if (v != V_OK)
					FAIL(s, "event %lu: the retry of %#lx fails (%d)", nev,
					     a.addr, v);
				have_pending = false;
				s->retries++;
				break;
			}
			switch (v) {
			case V_OK:
				break;
			case V_PF:
				s->l2_pf++;
				pending = a;
				have_pending = true;
				break;
			case V_EXEC_USER:
			case V_EXEC_SUP:
				if (marked != v)
					FAIL(s, "event %lu: unmarked exec violation at %#lx (%d)",
					     nev, a.addr, v);
				if (v == V_EXEC_USER)
					s->exec_user++;
				else
					s->exec_sup++;
				if (s->nrefl < ARRAY_SIZE(s->refl))
					s->refl[s->nrefl++] = (struct reflected){ nev, gpa, code };
				for (int b = 0; b < 3 && c.intel; b++)
					s->adv[b] += adv[b];
				break;
			case V_OTHER_EXIT:
				s->other_exits++;
				FAIL(s, "event %lu: unexpected exit to L1 at %#lx op %d", nev,
				     a.addr, a.op);
				break;
			}
			break;
		}
		case TDP_EV_MARK:
			if (!strcmp(ev->u.mark.label, s->mark_user))
				s->marks_user++;
			if (!strcmp(ev->u.mark.label, s->mark_sup))
				s->marks_sup++;
			break;
		default:
			break;
		}
		marked = ev->kind != TDP_EV_MARK ? V_OK :
			 !strcmp(ev->u.mark.label, s->mark_user) ? V_EXEC_USER :
			 !strcmp(ev->u.mark.label, s->mark_sup) ? V_EXEC_SUP : V_OK;
	}
	if (!s->fail[0]) {
		cr_expect_eq(ret, 0, "%s", tdp_trace_errmsg(t));
		if (have_pending)
			FAIL(s, "trace ends before the retry of %#lx", pending.addr);
		if (c.in_l2)
			FAIL(s, "trace ends in L2");
	}
	tdp_gmem_destroy(c.gm);
	tdp_trace_close(t);
}

static void expect_oracle_matches_gen(const struct oscan *s, const struct tdp_gen_stats *st)
{
	cr_expect_eq(s->vmenters, st->vmenters);
	cr_expect_eq(s->vmexits, st->vmexits);
	cr_expect_eq(s->invept_single, st->invept_single);
	cr_expect_eq(s->invept_global, st->invept_global);
	cr_expect_eq(s->l2_accesses, st->l2_accesses);
	cr_expect_eq(s->l1_accesses + s->l2_accesses, st->accesses);
	cr_expect_eq(s->l2_pf, st->l2_pf, "oracle %lu, gen %lu", s->l2_pf, st->l2_pf);
	cr_expect_eq(s->retries, st->l2_pf);
	cr_expect_eq(s->exec_user, st->reflected_exec_user);
	cr_expect_eq(s->exec_sup, st->reflected_exec_supervisor);
	cr_expect_eq(s->exec_user + s->exec_sup, st->reflected);
	cr_expect_eq(s->marks_user, st->reflected_exec_user);
	cr_expect_eq(s->marks_sup, st->reflected_exec_supervisor);
}

static void check_wl(const char *wl, enum tdp_vendor vendor, uint64_t seed, uint64_t events,
		     uint64_t mem)
{
	const char *path = test_path(vendor == TDP_VENDOR_INTEL ? "hvci-i.zst" : "hvci-a.zst");
	bool hvci = !strcmp(wl, "hvci");
	struct tdp_gen_stats st;
	struct oscan s;

	gen_wl(wl, path, vendor, seed, events, mem, &st);
	oracle_scan(path, &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.cfg.paging, TDP_PAGING_NESTED);
	cr_expect_eq(s.cfg.vendor, vendor);
	cr_expect_eq(s.cfg.mem, mem);
	/* nested: nothing the old layout refuses */
	cr_expect_eq(s.cfg.mbec, hvci && vendor == TDP_VENDOR_INTEL);
	cr_expect_eq(s.cfg.gmet, hvci && vendor == TDP_VENDOR_AMD);
	expect_oracle_matches_gen(&s, &st);
	/* the workload's shape */
	cr_expect_geq(s.exec_user, 2, "user-mode exec violations: %lu", s.exec_user);
	cr_expect_geq(s.exec_sup, 2, "supervisor exec violations: %lu", s.exec_sup);
	cr_expect_gt(s.l2_pf, 100);
	cr_expect_gt(s.vmenters, 10);
	cr_expect_gt(st.wx_flips, 10);
	cr_expect_gt(s.invept_single + s.invept_global, 5);
	cr_expect_eq(vendor == TDP_VENDOR_INTEL ? s.invept_global : s.invept_single, 0);
	cr_expect_gt(st.cr3_loads, 50, "L2 context switches");
}

Test(gen_nested, hvci_intel_agrees_with_an_independent_2d_walk, .timeout = 60)
{
	check_wl("hvci", TDP_VENDOR_INTEL, 3, 20000, TDP_GEN_MEM_DEFAULT);
}

Test(gen_nested, hvci_amd_agrees_with_an_independent_2d_walk, .timeout = 60)
{
	check_wl("hvci", TDP_VENDOR_AMD, 4, 20000, TDP_GEN_MEM_DEFAULT);
}

Test(gen_nested, hvci_at_minimum_mem_and_events, .timeout = 60)
{
	check_wl("hvci", TDP_VENDOR_INTEL, 5, 30000, TDP_GEN_MEM_MIN);
	check_wl("hvci", TDP_VENDOR_AMD, 6, 30000, TDP_GEN_MEM_MIN);
}

Test(gen_nested, nested_intel_agrees_with_an_independent_2d_walk, .timeout = 60)
{
	check_wl("nested", TDP_VENDOR_INTEL, 3, 20000, TDP_GEN_MEM_DEFAULT);
}

Test(gen_nested, nested_amd_agrees_with_an_independent_2d_walk, .timeout = 60)
{
	check_wl("nested", TDP_VENDOR_AMD, 4, 20000, TDP_GEN_MEM_DEFAULT);
}

Test(gen_nested, nested_at_minimum_mem_and_events, .timeout = 60)
{
	check_wl("nested", TDP_VENDOR_INTEL, 5, 30000, TDP_GEN_MEM_MIN);
	check_wl("nested", TDP_VENDOR_AMD, 6, 30000, TDP_GEN_MEM_MIN);
}

/* ------------------------------------------------------------------ */
/* Replay: the engine sees what the generator and the oracle expect */

/*
 * Replay @path (generated with expectations @st, scanned by the oracle
 * into @s) under @layout with the invariant checker; return the outcome
 * log (malloc'd).
 */
static char *replay_layout(const char *path, const char *layout, const struct tdp_gen_stats *st,
			   const struct oscan *s, bool intel)
{
	struct replay_args args = { .layout = layout, .check = true };
	struct replay_run rr;
	const struct tdp_stats *x;
	char *log;

	cr_assert_eq(replay_file(&rr, path, &args), 0, "layout %s: %s", layout, rr.err);
	x = &rr.res->stats;
	cr_expect_eq(x->nested_vmenter, st->vmenters);
	cr_expect_eq(x->nested_vmexit, st->vmexits);
	cr_expect_eq(x->nested_invept_single, st->invept_single);
	cr_expect_eq(x->nested_invept_global, st->invept_global);
	cr_expect_eq(x->l2_accesses, st->l2_accesses, "replay %lu, gen %lu", x->l2_accesses,
		     st->l2_accesses);
	cr_expect_eq(x->l2_pf, st->l2_pf, "replay %lu, gen %lu", x->l2_pf, st->l2_pf);
	cr_expect_eq(x->reflected_exec_user, st->reflected_exec_user);
	cr_expect_eq(x->reflected_exec_supervisor, st->reflected_exec_supervisor);
	cr_expect_eq(x->nested_reflected, st->reflected);
	cr_expect_eq(intel ? x->reflected_ept_violation : x->reflected_npf, st->reflected);
	cr_expect_eq(intel ? x->reflected_npf : x->reflected_ept_violation, 0);
	cr_expect_eq(x->reflected_ept_misconfig, 0);
	cr_expect_eq(x->reflected_final, st->reflected);
	cr_expect_eq(x->reflected_page, 0);
	cr_expect_eq(x->accesses_by_op[0] + x->accesses_by_op[1] + x->accesses_by_op[2],
		     st->accesses);
	/* bits 9-11 reach L1 only with the series (patch 0035); not logged */
	for (int b = 0; b < 3; b++)
		cr_expect_eq(x->reflected_qual_bit[9 + b], strcmp(layout, "new") ? 0 : s->adv[b],
			     "layout %s: qualification bit %d on %lu exits", layout, 9 + b,
			     x->reflected_qual_bit[9 + b]);
	/* each violation's outcome line: the L2 GPA and the hardware's code */
	for (unsigned int i = 0; i < s->nrefl; i++) {
		char want[96], buf[128];
		const char *got = replay_outcome(&rr, s->refl[i].event, buf, sizeof(buf));

		if (intel)
			snprintf(want, sizeof(want), "ept_violation gpa=%#lx qual=%#lx",
				 s->refl[i].gpa, s->refl[i].code);
		else
			snprintf(want, sizeof(want), "npf gpa=%#lx ec=%#lx", s->refl[i].gpa,
				 s->refl[i].code);
		cr_expect(got && !strcmp(got, want), "event %lu: got '%s', want '%s'",
			  s->refl[i].event, got ? got : "(none)", want);
	}
	log = strdup(rr.log);
	cr_assert_not_null(log);
	replay_run_free(&rr);
	return log;
}

/*
 * Generate @wl, check it with the oracle, replay it under @layouts (NULL
 * terminated): every layout shows the generator's counters and the
 * oracle's reflected exits, and all their outcome logs are identical.
 */
static void replay_matches_wl(const char *wl, enum tdp_vendor vendor, uint64_t seed,
			      uint64_t events, const char *const *layouts)
{
	const char *path = test_path(vendor == TDP_VENDOR_INTEL ? "rp-i.zst" : "rp-a.zst");
	struct tdp_gen_stats st;
	struct oscan s;
	char *first = NULL;

	gen_wl(wl, path, vendor, seed, events, TDP_GEN_MEM_DEFAULT, &st);
	oracle_scan(path, &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_assert_gt(s.nrefl, 0);
	for (const char *const *l = layouts; *l; l++) {
		char *log = replay_layout(path, *l, &st, &s, vendor == TDP_VENDOR_INTEL);

		if (!first) {
			first = log;
			continue;
		}
		cr_expect(!strcmp(first, log), "outcome logs of layouts %s and %s differ",
			  layouts[0], *l);
		free(log);
	}
	free(first);
}

/* hvci: MBEC/GMET, which only the series' layout has */
static const char *const new_only[] = { "new", NULL };

Test(gen_nested, hvci_intel_replays_with_the_expected_nested_counters, .timeout = 120)
{
	replay_matches_wl("hvci", TDP_VENDOR_INTEL, 7, 20000, new_only);
}

Test(gen_nested, hvci_amd_replays_with_the_expected_nested_counters, .timeout = 120)
{
	replay_matches_wl("hvci", TDP_VENDOR_AMD, 8, 20000, new_only);
}

/*
 * nested: no MBEC/GMET, so the pre-series layout runs it too, with the
 * same outcome for every event (nothing in it depends on the ACC layout).
 */
static const char *const both_layouts[] = { "old", "new", NULL };

Test(gen_nested, nested_intel_replays_identically_under_both_layouts, .timeout = 240)
{
	replay_matches_wl("nested", TDP_VENDOR_INTEL, 7, 20000, both_layouts);
}

Test(gen_nested, nested_amd_replays_identically_under_both_layouts, .timeout = 240)
{
	replay_matches_wl("nested", TDP_VENDOR_AMD, 8, 20000, both_layouts);
}

Test(gen_nested, old_layout_refuses_mbec_and_gmet)
{
	static const struct {
		enum tdp_vendor vendor;
		const char *msg;
	} cases[] = {
		{ TDP_VENDOR_INTEL, "mbec=1" },
		{ TDP_VENDOR_AMD, "gmet=1" },
	};
	struct replay_args args = { .layout = "old" };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *path = test_path("old.zst");
		struct tdp_gen_stats st;
		struct replay_run rr;

		gen_wl("hvci", path, cases[i].vendor, 1, TDP_GEN_EVENTS_MIN, TDP_GEN_MEM_MIN, &st);
		cr_expect_eq(replay_file(&rr, path, &args), TDP_E_UNSUPP, "%s", rr.err);
		cr_expect(strstr(rr.err, cases[i].msg) && strstr(rr.err, "layout"),
			  "message: %s", rr.err);
		replay_run_free(&rr);
	}
}

/* ------------------------------------------------------------------ */
/* Determinism, sizing, the command line */

Test(gen_nested, same_seed_same_bytes_other_seed_other_bytes, .timeout = 60)
{
	static const char *const wls[] = { "hvci", "nested" };

	for (size_t k = 0; k < ARRAY_SIZE(wls); k++) {
		for (int v = 0; v < 2; v++) {
			struct tdp_gen_stats st, st2;
			const char *a = test_path("a.txt"), *b = test_path("b.txt");
			const char *c = test_path("c.txt");

			gen_wl(wls[k], a, (enum tdp_vendor)v, 42, 8000, TDP_GEN_MEM_DEFAULT, &st);
			gen_wl(wls[k], b, (enum tdp_vendor)v, 42, 8000, TDP_GEN_MEM_DEFAULT, &st2);
			cr_expect_eq(memcmp(&st, &st2, sizeof(st)), 0,
				     "%s vendor %d: seed 42 twice, other expectations", wls[k], v);
			gen_wl(wls[k], c, (enum tdp_vendor)v, 43, 8000, TDP_GEN_MEM_DEFAULT, &st);
			cr_expect(files_equal(a, b), "%s vendor %d: seed 42 twice differs",
				  wls[k], v);
			cr_expect_not(files_equal(a, c), "%s vendor %d: seeds 42 and 43 agree",
				      wls[k], v);
		}
	}
}

/*
 * The same seed gives the same guest under hvci and nested: only L1's
 * policy differs, so L2's history (and the generator's counts) is equal
 * and the traces differ (config, vmenter keys, EPT/NPT leaves, marks).
 */
Test(gen_nested, nested_is_hvci_without_mbec_gmet, .timeout = 60)
{
	for (int v = 0; v < 2; v++) {
		struct tdp_gen_stats sh, sn;
		const char *a = test_path("h.txt"), *b = test_path("n.txt");

		gen_wl("hvci", a, (enum tdp_vendor)v, 11, 8000, TDP_GEN_MEM_DEFAULT, &sh);
		gen_wl("nested", b, (enum tdp_vendor)v, 11, 8000, TDP_GEN_MEM_DEFAULT, &sn);
		cr_expect_eq(sh.events, sn.events);
		cr_expect_eq(sh.l2_accesses, sn.l2_accesses);
		cr_expect_eq(sh.l2_pf, sn.l2_pf);
		cr_expect_eq(sh.reflected_exec_user, sn.reflected_exec_user);
		cr_expect_eq(sh.reflected_exec_supervisor, sn.reflected_exec_supervisor);
		cr_expect_not(files_equal(a, b), "vendor %d: hvci and nested agree", v);
	}
}

Test(gen_nested, events_target_is_met_within_5_percent, .timeout = 60)
{
	static const uint64_t targets[] = { TDP_GEN_EVENTS_MIN, 20000, 60000 };

	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
			struct tdp_gen_stats st;

			gen_wl("hvci", test_path("n.zst"), (enum tdp_vendor)v, i + 1,
			       targets[i], TDP_GEN_MEM_DEFAULT, &st);
			cr_expect(st.events >= targets[i] * 95 / 100 &&
				  st.events <= targets[i] * 105 / 100,
				  "vendor %d: %lu events for --events %lu", v, st.events, targets[i]);
		}
	}
}

Test(gen_nested, cli_writes_the_library_trace_and_prints_nested_expectations)
{
	struct run_result r;
	const char *out = test_path("cli.txt");
	const char *argv[] = { "gen", "--workload", "hvci", "--vendor", "amd", "--paging",
			       "nested", "--seed", "9", "--events", "6000", "-o", out, NULL };
	struct tdp_gen_stats st;
	const char *lib = test_path("lib.txt");
	char want[256];

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	gen_wl("hvci", lib, TDP_VENDOR_AMD, 9, 6000, TDP_GEN_MEM_DEFAULT, &st);
	cr_expect(files_equal(out, lib), "CLI and library traces differ");
	/* each printed count is the library's field of that name */
	snprintf(want, sizeof(want), "%lu vmenters, %lu vmexits, %lu invept, %lu L2 accesses, "
		 "%lu L2 #PF, %lu exits reflected to L1 (exec: %lu user, %lu supervisor), "
		 "%lu W^X flips", st.vmenters, st.vmexits, st.invept_single + st.invept_global,
		 st.l2_accesses, st.l2_pf, st.reflected, st.reflected_exec_user,
		 st.reflected_exec_supervisor, st.wx_flips);
	cr_expect(strstr(r.err, want), "stderr: %s\nwant: %s", r.err, want);
	run_result_free(&r);
}
