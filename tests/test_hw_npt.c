// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CPU model's 2-D walk through NPT (src/hw/npt.c, paging.c) against
 * the AMD APM Vol. 2 §15.25 and what kvm-unit-tests x86/svm_npt.c
 * (kvm-unit-tests/kvm-unit-tests) expects of real CPUs (npt_np, npt_nx,
 * npt_us, npt_rw, npt_rw_pfwalk, npt_rsvd_pfwalk): expected values are
 * computed here from the rules, never from the model.
 *
 * Same memory layout as test_hw_ept.c: guest tables at GPAs 0x1000-0x4000,
 * GVA 0x401234 -> GPA 0x9234, NPT maps each page to GPA + S1OFF.
 */
#include <criterion/criterion.h>

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>

#include "helpers/hw_util.h"
#include "oracle/perm_oracle.h"

#define S1OFF		0x40000000ull
#define NPT_ROOT	0x10000000ull
#define GVA		0x401234ull
#define PTE_GPA		(0x4000ull + 8)
#define DATA_GPA	0x9234ull

#define P		1ull
#define W		2ull
#define U		4ull
#define NX		(1ull << 63)
#define FINAL		(1ull << 32)
#define PAGE		(1ull << 33)

#define gm	hw_fx_gmem
#define mem	hw_fx_mem

static void fresh_mem(void) { hw_fx_init(1ull << 31); }

struct fx {
	struct hw_regs r;
	struct hw_stage2 s2;
	struct hw_tree s1, npt;
};

TestSuite(hw_npt, .init = fresh_mem, .fini = hw_fx_fini);

static uint64_t npt_leaf(struct fx *f, uint64_t gpa)
{
	return hw_tree_entry(&f->npt, gpa, 1);
}

static void npt_flags(struct fx *f, uint64_t gpa, uint64_t flags)
{
	uint64_t ea = npt_leaf(f, gpa);

	hw_put64(gm, ea, (hw_get64(gm, ea) & 0x000ffffffffff000ull) | flags);
}

static void fx_init(struct fx *f, int levels, bool gmet, uint64_t upper, uint64_t leaf)
{
	fresh_mem();
	hw_tree_init(&f->s1, gm, 4, 0x1000, S1OFF, upper);
	hw_tree_map(&f->s1, GVA, 1, 0x9000 | leaf);
	hw_tree_init(&f->npt, gm, levels, NPT_ROOT, 0, P | W | U);
	for (uint64_t g = 0x1000; g <= 0x4000; g += 0x1000)
		hw_tree_map(&f->npt, g, 1, (g + S1OFF) | P | W | U);
	hw_tree_map(&f->npt, DATA_GPA, 1, (0x9000 + S1OFF) | P | W | U);
	f->r = (struct hw_regs){
		.cr0 = (1ull << 31) | (1ull << 16) | 1, .cr3 = 0x1000,
		.cr4 = 1ull << 5, .efer = (1ull << 8) | (1ull << 10) | (1ull << 11),
		.maxphyaddr = 46,
	};
	f->s2 = (struct hw_stage2){ .kind = HW_S2_NPT, .ncr3 = NPT_ROOT,
				    .npt_levels = levels, .gmet = gmet };
}

static void run(struct fx *f, enum tdp_access_op op, unsigned cpl, struct hw_result *res)
{
	struct hw_access a = { .addr = GVA, .op = op, .cpl = cpl };

	hw_translate(&mem, &f->r, &f->s2, &a, res);
}

static const char *const opn[3] = { "read", "write", "fetch" };

/*
 * kvm-unit-tests npt_np / npt_nx / npt_us / npt_rw on the final GPA:
 * EXITINFO1 0x100000004 (not present, read: U only -- nested accesses are
 * user accesses), 0x100000015 (fetch of NX: P|U|ID), 0x100000005 (U=0:
 * P|U), 0x100000007 (write to W=0: P|W|U); EXITINFO2 the GPA.
 */
Test(hw_npt, final_gpa_exitinfo)
{
	struct {
		uint64_t flags;
		enum tdp_access_op op;
		uint64_t ec;
	} c[] = {
		{ 0, TDP_OP_READ, 0x100000004ull },
		{ P | W | U | NX, TDP_OP_FETCH, 0x100000015ull },
		{ P | W, TDP_OP_READ, 0x100000005ull },
		{ P | U, TDP_OP_WRITE, 0x100000007ull },
		{ 0, TDP_OP_WRITE, 0x100000006ull },
		{ 0, TDP_OP_FETCH, 0x100000014ull },
	};

	for (unsigned k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct fx f;
		struct hw_result res;

		fx_init(&f, 4, false, 0x7, 0x7);
		npt_flags(&f, DATA_GPA, c[k].flags);
		run(&f, c[k].op, 0, &res);
		cr_assert_eq(res.kind, HW_NPF, "case %u", k);
		cr_assert_eq(res.gpa, DATA_GPA);
		cr_assert_eq(res.error_code, c[k].ec, "case %u: %#lx", k, res.error_code);
	}
}

/*
 * Guest page-table accesses are user writes (npt_rw_pfwalk: a read-only
 * nested PTE over the guest's table gives 0x200000007 whatever the guest
 * entry's A/D bits and the access; a missing one 0x200000006), reported
 * with EXITINFO1 bit 33 and the GPA of the entry.  With GMET U no longer
 * matters for them.
 */
Test(hw_npt, guest_page_table_access_is_user_write)
{
	for (int gmet = 0; gmet < 2; gmet++)
	for (int a = 0; a < 2; a++)
	for (int op = 0; op < 3; op++) {
		struct fx f;
		struct hw_result res;
		uint64_t ad = a ? 0x60 : 0;

		fx_init(&f, 4, gmet, 0x7 | (ad & 0x20), 0x7 | ad);
		npt_flags(&f, 0x4000, P | U);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.kind, HW_NPF);
		cr_assert_eq(res.gpa, PTE_GPA);
		cr_assert_eq(res.error_code, 0x200000007ull, "gmet %d a %d %s: %#lx", gmet, a,
			     opn[op], res.error_code);
		npt_flags(&f, 0x4000, 0);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.error_code, 0x200000006ull);
		npt_flags(&f, 0x4000, P | W);		/* U = 0 */
		run(&f, (enum tdp_access_op)op, 0, &res);
		if (gmet)	/* (a CPL-0 fetch of the U=1 data page exits, later) */
			cr_assert(res.kind == HW_OK ||
				  (op == TDP_OP_FETCH && res.gpa == DATA_GPA),
				  "GMET: U does not restrict the walk");
		else
			cr_assert_eq(res.error_code, 0x200000007ull);
	}
}

/* npt_rsvd_pfwalk: PML4E bit 8 is reserved on AMD -> 0x20000000f at the first table */
Test(hw_npt, reserved_bits)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, false, 0x7, 0x7);
	hw_put64(gm, NPT_ROOT, hw_get64(gm, NPT_ROOT) | 1ull << 8);
	run(&f, TDP_OP_READ, 0, &res);
	cr_assert_eq(res.kind, HW_NPF);
	cr_assert_eq(res.gpa, 0x1000);
	cr_assert_eq(res.error_code, 0x20000000full, "%#lx", res.error_code);
	hw_put64(gm, NPT_ROOT, hw_get64(gm, NPT_ROOT) & ~(1ull << 8));
	/* bits 51:46 of the data leaf; the NX bit is not reserved (host EFER.NXE) */
	for (unsigned b = 46; b <= 52; b++) {
		uint64_t ea = npt_leaf(&f, DATA_GPA), e = hw_get64(gm, ea);

		hw_put64(gm, ea, e | 1ull << b);
		run(&f, TDP_OP_WRITE, 3, &res);
		if (b <= 51) {
			cr_assert_eq(res.kind, HW_NPF, "bit %u", b);
			cr_assert_eq(res.error_code, 0x10000000full, "bit %u: %#lx", b, res.error_code);
		} else {
			cr_assert_eq(res.kind, HW_OK, "bit 52 is ignored");
		}
		hw_put64(gm, ea, e);
	}
	hw_put64(gm, npt_leaf(&f, DATA_GPA), hw_get64(gm, npt_leaf(&f, DATA_GPA)) | NX);
	run(&f, TDP_OP_READ, 3, &res);
	cr_assert_eq(res.kind, HW_OK);
}

/*
 * Rights of the final access, every case of perm_oracle's NPT mode (APM
 * §15.25.5 and GMET as plain if/else), and EXITINFO1: P, W for writes, U
 * (always without GMET; with GMET CPL 3, and every fetch: erratum 1218,
 * the model's choice), ID for fetches, bit 32.
 */
Test(hw_npt, final_rights_match_apm_predicates)
{
	struct tdp_perm_query q;
	unsigned n = 0;

	for (unsigned i = 0; perm_case(TDP_PERM_NPT, i, &q); i++) {
		uint64_t flags = P | (q.w ? W : 0) | (q.u ? U : 0) | (q.nx ? NX : 0);
		struct perm_verdict v;
		struct fx f;
		struct hw_result res;
		enum tdp_access_op op = (enum tdp_access_op)q.op;
		uint64_t ec;
		char buf[256];

		if (!perm_case_legal(&q) || (q.cr4_pke || q.cr4_smap || q.cr4_smep || q.ac || q.cr0_wp))
			continue;	/* guest-only noise: once is enough */
		perm_oracle(&q, &v);
		fx_init(&f, 4, q.mbec_gmet, 0x7, 0x7);
		npt_flags(&f, DATA_GPA, flags);
		run(&f, op, q.user ? 3 : 0, &res);
		perm_case_str(&q, buf, sizeof(buf));
		if (!v.fault) {
			cr_assert_eq(res.kind, HW_OK, "%s: ec %#lx", buf, res.error_code);
			cr_assert_eq(res.hpa, DATA_GPA + S1OFF);
			continue;
		}
		ec = P | (op == TDP_OP_WRITE ? W : 0) |
		     (!q.mbec_gmet || q.user || op == TDP_OP_FETCH ? U : 0) |
		     (op == TDP_OP_FETCH ? 0x10 : 0) | FINAL;
		cr_assert_eq(res.kind, HW_NPF, "%s", buf);
		cr_assert_eq(res.error_code, ec, "%s: %#lx", buf, res.error_code);
		n++;
	}
	cr_expect_gt(n, 20);
}

/*
 * GMET, the HVCI case: L1 marks kernel text U=0 in its NPT; a CPL-0 fetch
 * of a U=1 page exits (U set: erratum 1218), CPL 3 may fetch it; data
 * accesses to U=0 pages pass.  U=0 at any level makes the page a
 * supervisor page.
 */
Test(hw_npt, gmet_supervisor_fetch_of_user_page)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, true, 0x7, 0x7);
	run(&f, TDP_OP_FETCH, 0, &res);
	cr_assert_eq(res.kind, HW_NPF);
	cr_assert_eq(res.error_code, 0x100000015ull, "%#lx", res.error_code);
	run(&f, TDP_OP_FETCH, 3, &res);
	cr_assert_eq(res.kind, HW_OK);
	hw_put64(gm, hw_tree_entry(&f.npt, DATA_GPA, 2),
		 hw_get64(gm, hw_tree_entry(&f.npt, DATA_GPA, 2)) & ~U);
	run(&f, TDP_OP_FETCH, 0, &res);
	cr_assert_eq(res.kind, HW_OK, "U=0 in the PDE: a supervisor page");
	run(&f, TDP_OP_WRITE, 0, &res);
	cr_assert_eq(res.kind, HW_OK);
}

/* A in every NPT entry used, D in the leaf of written pages (guest tables included) */
Test(hw_npt, npt_accessed_dirty_and_5level)
{
	for (int levels = 4; levels <= 5; levels++)
	for (int op = 0; op < 2; op++) {
		struct fx f;
		struct hw_result res;

		fx_init(&f, levels, false, 0x27, 0x67);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.kind, HW_OK, "levels %d", levels);
		cr_assert_eq(res.hpa, DATA_GPA + S1OFF);
		for (uint64_t g = 0x1000; g <= 0x4000; g += 0x1000)
			cr_assert_eq(hw_get64(gm, npt_leaf(&f, g)) & 0x60, 0x60u, "table %#lx", g);
		cr_assert_eq(hw_get64(gm, npt_leaf(&f, DATA_GPA)) & 0x60, op ? 0x60u : 0x20u);
		cr_assert_eq(hw_get64(gm, NPT_ROOT) & 0x60, 0x20u, "top: A only");
	}
}
