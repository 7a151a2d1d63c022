// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CPU model's 2-D walk through EPT (src/hw/ept.c, paging.c) against
 * the Intel SDM Vol. 3C §29.3 and §28.2.1, and against what kvm-unit-tests
 * x86/vmx_tests.c (kvm-unit-tests/kvm-unit-tests @e329c328f369) expects of
 * real CPUs in ept_access_test_paddr_* and ept_access_test_*: expected
 * values are computed here from the rules, never from the model.
 *
 * Memory is one gmem (guest frame n = host frame n).  The guest (stage 1)
 * has 4-level tables at GPAs 0x1000 (PML4), 0x2000, 0x3000, 0x4000 (PT)
 * and maps GVA 0x401234 to GPA 0x9234; EPT maps each of those GPA pages
 * to HPA GPA + S1OFF with a 4 KiB leaf, its tables at EPT_ROOT.
 */
#include <criterion/criterion.h>

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>

#include "helpers/hw_util.h"
#include "oracle/perm_oracle.h"

#define S1OFF		0x40000000ull
#define EPT_ROOT	0x10000000ull
#define GVA		0x401234ull
#define PTE_GPA		(0x4000ull + 8)		/* the guest PTE for GVA */
#define DATA_GPA	0x9234ull

#define R		1ull
#define W		2ull
#define X		4ull
#define XU		(1ull << 10)
#define WB		(6ull << 3)
#define Q_LINEAR	0x80ull
#define Q_FINAL		0x100ull

#define gm	hw_fx_gmem
#define mem	hw_fx_mem

static void fresh_mem(void) { hw_fx_init(1ull << 31); }

struct fx {
	struct hw_regs r;
	struct hw_stage2 s2;
	struct hw_tree s1, ept;
};

TestSuite(hw_ept, .init = fresh_mem, .fini = hw_fx_fini);

static void ept_map(struct fx *f, uint64_t gpa, uint64_t rights)
{
	hw_tree_map(&f->ept, gpa, 1, ((gpa & ~0xfffull) + S1OFF) | rights | WB);
}

/* the EPT leaf mapping @gpa */
static uint64_t ept_leaf(struct fx *f, uint64_t gpa)
{
	return hw_tree_entry(&f->ept, gpa, 1);
}

static void ept_rights(struct fx *f, uint64_t gpa, uint64_t rights)
{
	uint64_t ea = ept_leaf(f, gpa);

	hw_put64(gm, ea, (hw_get64(gm, ea) & ~(R | W | X | XU)) | rights);
}

/* the guest entry for GVA at @level, as a host address */
static uint64_t s1_entry(struct fx *f, int level)
{
	return hw_tree_entry(&f->s1, GVA, level);
}

/*
 * A fresh guest: stage-1 entries with @upper above the leaf (P, W, U, A
 * as given) and @leaf; EPT @levels deep, A/D per @ad, MBEC per @mbec,
 * everything mapped RWX (and XU).
 */
static void fx_init(struct fx *f, int levels, bool ad, bool mbec,
		    uint64_t upper, uint64_t leaf)
{
	fresh_mem();
	hw_tree_init(&f->s1, gm, 4, 0x1000, S1OFF, upper);
	hw_tree_map(&f->s1, GVA, 1, 0x9000 | leaf);
	cr_assert_eq(f->s1.next, 0x5000);
	hw_tree_init(&f->ept, gm, levels, EPT_ROOT, 0, R | W | X | (mbec ? XU : 0));
	for (uint64_t g = 0x1000; g <= 0x4000; g += 0x1000)
		ept_map(f, g, R | W | X | XU);
	ept_map(f, DATA_GPA, R | W | X | XU);
	f->r = (struct hw_regs){
		.cr0 = (1ull << 31) | (1ull << 16) | 1, .cr3 = 0x1000,
		.cr4 = 1ull << 5, .efer = (1ull << 8) | (1ull << 10) | (1ull << 11),
		.maxphyaddr = 46,
	};
	f->s2 = (struct hw_stage2){
		.kind = HW_S2_EPT, .mbec = mbec, .execonly = true,
		.eptp = EPT_ROOT | 6 | (uint64_t)(levels - 1) << 3 | (ad ? 1ull << 6 : 0),
	};
}

static void run(struct fx *f, enum tdp_access_op op, unsigned cpl, struct hw_result *res)
{
	struct hw_access a = { .addr = GVA, .op = op, .cpl = cpl };

	hw_translate(&mem, &f->r, &f->s2, &a, res);
}

/* qualification bits 0-2 of a final access */
static uint64_t q_access(enum tdp_access_op op)
{
	return op == TDP_OP_READ ? R : op == TDP_OP_WRITE ? W : X;
}

static const char *const opn[3] = { "read", "write", "fetch" };

/*
 * ept_access_test_paddr_not_present_ad_disabled: EPT A/D off, the page
 * holding the guest PTE not mapped, guest A/D already set: the access to
 * the PTE is a read, qualification 0x81 (read; linear-address valid; not
 * the final translation), GPA = the PTE's address, for every access type.
 * With A/D on (..._not_present_ad_enabled) it is a write: 0x83.
 */
Test(hw_ept, pte_page_not_mapped_ad_off_is_read_0x81)
{
	for (int ad = 0; ad < 2; ad++)
	for (int op = 0; op < 3; op++) {
		struct fx f;
		struct hw_result res;

		fx_init(&f, 4, ad, false, 0x27, 0x67);
		hw_put64(gm, ept_leaf(&f, 0x4000), 0);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.kind, HW_EPT_VIOLATION, "ad %d %s", ad, opn[op]);
		cr_assert_eq(res.gpa, PTE_GPA);
		cr_assert_eq(res.qual, ad ? 0x83ull : 0x81ull, "ad %d %s: %#lx", ad, opn[op], res.qual);
		cr_assert_eq(hw_get64(gm, s1_entry(&f, 2)) & 0x60, 0x20,
			     "guest entries untouched");
	}
}

/*
 * ept_access_test_paddr_read_only_ad_disabled: the page of the guest PTE
 * mapped read-only, EPT A/D off.  PTE A=0: setting it is a write, all
 * accesses exit with qualification R|W|prot R|linear = 0x8b.  A=1, D=0:
 * reads and fetches pass (the PTE is only read), writes must set D: 0x8b.
 * A=1, D=1: everything passes.  ..._ad_enabled: always 0x8b.
 */
Test(hw_ept, pte_page_read_only_ad_off_and_on)
{
	for (int ad = 0; ad < 2; ad++)
	for (int pte_ad = 0; pte_ad < 3; pte_ad++)	/* none, A, A+D */
	for (int op = 0; op < 3; op++) {
		static const uint64_t ptead[3] = { 0, 0x20, 0x60 };
		struct fx f;
		struct hw_result res;
		bool write_needed = pte_ad == 0 || (pte_ad == 1 && op == TDP_OP_WRITE);
		bool exit = ad || write_needed;

		fx_init(&f, 4, ad, false, 0x27, 0x7 | ptead[pte_ad]);
		ept_rights(&f, 0x4000, R);
		run(&f, (enum tdp_access_op)op, 0, &res);
		if (exit) {
			cr_assert_eq(res.kind, HW_EPT_VIOLATION, "ad %d pte %d %s", ad, pte_ad, opn[op]);
			cr_assert_eq(res.gpa, PTE_GPA);
			cr_assert_eq(res.qual, 0x8bull, "ad %d pte %d %s: %#lx", ad, pte_ad,
				     opn[op], res.qual);
			/* only the update of the PTE failed; the entries above got A */
			cr_assert_eq(hw_get64(gm, s1_entry(&f, 1)) & 0x60, ptead[pte_ad]);
		} else {
			cr_assert_eq(res.kind, HW_OK, "ad %d pte %d %s: kind %d qual %#lx",
				     ad, pte_ad, opn[op], res.kind, res.qual);
			cr_assert_eq(res.gpa, DATA_GPA);
			cr_assert_eq(res.hpa, DATA_GPA + S1OFF);
		}
	}
}

/*
 * A/D flags of stage 1 are set only after the whole translation: a
 * violation on the final GPA comes before the write that would set A in a
 * read-only-mapped PTE, and sets no guest A flag.
 */
Test(hw_ept, final_violation_before_guest_ad_update)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, false, false, 0x7, 0x7);
	ept_rights(&f, 0x4000, R);
	hw_put64(gm, ept_leaf(&f, DATA_GPA), 0);
	run(&f, TDP_OP_READ, 0, &res);
	cr_assert_eq(res.kind, HW_EPT_VIOLATION);
	cr_assert_eq(res.gpa, DATA_GPA);
	/* read, linear, final, user-mode (U=1), writable (W=1), XD=0 */
	cr_assert_eq(res.qual, 0x781ull, "%#lx", res.qual);
	for (int l = 1; l <= 4; l++)
		cr_assert_eq(hw_get64(gm, s1_entry(&f, l)) & 0x20, 0, "level %d", l);
}

/*
 * Order of checks: stage 2 on a table read comes before a stage-1 fault
 * found in that table; a stage-1 fault above stops the walk before the
 * next table's stage-2 check.
 */
Test(hw_ept, order_table_violation_then_guest_fault)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, false, false, 0x27, 0x67);
	hw_put64(gm, s1_entry(&f, 1), 0);		/* PTE not present */
	hw_put64(gm, ept_leaf(&f, 0x4000), 0);		/* and its page unmapped */
	run(&f, TDP_OP_READ, 3, &res);
	cr_assert_eq(res.kind, HW_EPT_VIOLATION);
	cr_assert_eq(res.qual, 0x81ull);
	hw_put64(gm, s1_entry(&f, 2), 0);		/* PDE not present */
	run(&f, TDP_OP_READ, 3, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_assert_eq(res.error_code, 4ull);
}

/*
 * Advanced information (§28.2.1, bits 9-11, only with bit 8): U/S, R/W and
 * XD of the stage-1 translation, for every combination and access type
 * that stage 1 allows (CPL 0, CR0.WP=0, no SMEP/SMAP).
 */
Test(hw_ept, advanced_bits_of_final_violation)
{
	for (unsigned b = 0; b < 8; b++)
	for (int op = 0; op < 3; op++) {
		bool u = b & 1, w = b & 2, xd = b & 4;
		struct fx f;
		struct hw_result res;

		if (xd && op == TDP_OP_FETCH)
			continue;	/* a #PF in stage 1 */
		fx_init(&f, 4, true, false, 0x7,
			1 | (w ? 2 : 0) | (u ? 4 : 0) | (xd ? 1ull << 63 : 0));
		f.r.cr0 &= ~(1ull << 16);
		hw_put64(gm, ept_leaf(&f, DATA_GPA), 0);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.kind, HW_EPT_VIOLATION);
		cr_assert_eq(res.gpa, DATA_GPA);
		cr_assert_eq(res.qual, q_access((enum tdp_access_op)op) | Q_LINEAR | Q_FINAL |
			     (u ? 0x200u : 0) | (w ? 0x400u : 0) | (xd ? 0x800u : 0),
			     "u %d w %d xd %d %s: %#lx", u, w, xd, opn[op], res.qual);
	}
}

/*
 * Rights of the final access: every case of perm_oracle's EPT mode (SDM
 * §29.3.3.2 as plain if/else, XS/XU by the U/S of the linear address)
 * on the data page's leaf; bits 3-6 of the qualification are the leaf's
 * rights (the upper entries allow everything).
 */
Test(hw_ept, final_rights_match_sdm_predicates)
{
	struct tdp_perm_query q;
	unsigned n = 0;

	for (unsigned i = 0; perm_case(TDP_PERM_EPT, i, &q); i++) {
		uint64_t rights = (q.r ? R : 0) | (q.w ? W : 0) | (q.xs ? X : 0) |
				  (q.xu ? XU : 0);
		struct perm_verdict v;
		struct fx f;
		struct hw_result res;
		enum tdp_access_op op = (enum tdp_access_op)q.op;
		char buf[256];

		if (!perm_case_legal(&q))
			continue;
		perm_oracle(&q, &v);
		/* stage 1: U/S of the linear address is q.user; CPL 0, no SMEP */
		fx_init(&f, 4, false, q.mbec_gmet, 0x7, q.user ? 0x7 : 0x3);
		ept_rights(&f, DATA_GPA, rights);
		run(&f, op, 0, &res);
		perm_case_str(&q, buf, sizeof(buf));
		if (!v.fault) {
			cr_assert_eq(res.kind, HW_OK, "%s: qual %#lx", buf, res.qual);
			cr_assert_eq(res.hpa, DATA_GPA + S1OFF);
		} else {
			cr_assert_eq(res.kind, HW_EPT_VIOLATION, "%s", buf);
			cr_assert_eq(res.qual, q_access(op) | (rights & 7) << 3 |
				     (q.mbec_gmet && q.xu ? 0x40u : 0) | Q_LINEAR | Q_FINAL |
				     (q.user ? 0x200u : 0) | 0x400u, "%s: %#lx", buf, res.qual);
		}
		n++;
	}
	cr_expect_gt(n, 100);
}

/*
 * Misconfigurations (§29.3.3.1; kvm-unit-tests ept_access_test_reserved_bits,
 * _write_only, _write_execute, _execute_only): at each level of the data
 * page's EPT path.  Present entries only; a not-present entry with the
 * same bits is a violation (reserved bits are not checked).
 */
Test(hw_ept, misconfigurations)
{
	struct {
		const char *what;
		int level;		/* 0: every level */
		uint64_t clear, set;
		bool execonly;
	} c[] = {
		{ "write without read", 0, R | W | X | XU, W, true },
		{ "write-execute", 0, R | W | X | XU, W | X, true },
		{ "execute-only unsupported", 0, R | W | X | XU, X, false },
		{ "bit 46 (maxphyaddr)", 0, 0, 1ull << 46, true },
		{ "bit 51", 0, 0, 1ull << 51, true },
		{ "memory type 2", 1, 7ull << 3, 2ull << 3, true },
		{ "memory type 3", 1, 7ull << 3, 3ull << 3, true },
		{ "memory type 7", 1, 7ull << 3, 7ull << 3, true },
		{ "non-leaf bit 3", 2, 0, 1ull << 3, true },
		{ "non-leaf bit 6", 3, 0, 1ull << 6, true },
		{ "PML4E bit 7", 4, 0, 1ull << 7, true },
		{ "PML4E bit 5", 4, 0, 1ull << 5, true },
	};

	for (unsigned k = 0; k < sizeof(c) / sizeof(c[0]); k++)
	for (int level = 1; level <= 4; level++) {
		struct fx f;
		struct hw_result res;
		uint64_t ea, e;

		if (c[k].level && c[k].level != level)
			continue;
		fx_init(&f, 4, false, false, 0x27, 0x67);
		f.s2.execonly = c[k].execonly;
		ea = hw_tree_entry(&f.ept, DATA_GPA, level);
		e = hw_get64(gm, ea);
		hw_put64(gm, ea, (e & ~c[k].clear) | c[k].set);
		run(&f, TDP_OP_READ, 0, &res);
		cr_assert_eq(res.kind, HW_EPT_MISCONFIG, "%s at level %d: kind %d", c[k].what,
			     level, res.kind);
		/* above the leaf the path is shared with the guest's tables:
		 * the first GPA translated is the PML4E's */
		cr_assert_eq(res.gpa, level == 1 ? DATA_GPA : 0x1000ull, "%s at level %d",
			     c[k].what, level);
		if (!(c[k].set & (R | W | X))) {
			/* the same bits in a not-present entry: a violation */
			hw_put64(gm, ea, (e & ~(R | W | X | XU | c[k].clear)) | c[k].set);
			run(&f, TDP_OP_READ, 0, &res);
			cr_assert_eq(res.kind, HW_EPT_VIOLATION, "%s, not present, level %d",
				     c[k].what, level);
			cr_assert_eq(res.qual, level == 1 ? 0x781ull : 0x81ull, "%#lx", res.qual);
		}
	}
}

/*
 * Execute-only (ept_access_test_execute_only): with the capability, an
 * X-only leaf allows fetches, and a read exits with prot X (bit 5).
 */
Test(hw_ept, execute_only)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, false, false, 0x7, 0x7);
	ept_rights(&f, DATA_GPA, X);
	run(&f, TDP_OP_FETCH, 0, &res);
	cr_assert_eq(res.kind, HW_OK);
	run(&f, TDP_OP_READ, 0, &res);
	cr_assert_eq(res.kind, HW_EPT_VIOLATION);
	cr_assert_eq(res.qual, 0x7a1ull, "%#lx", res.qual);
	run(&f, TDP_OP_WRITE, 0, &res);
	cr_assert_eq(res.qual, 0x7a2ull, "%#lx", res.qual);
	f.s2.execonly = false;
	run(&f, TDP_OP_FETCH, 0, &res);
	cr_assert_eq(res.kind, HW_EPT_MISCONFIG);
}

/*
 * MBEC: a fetch needs XU if the linear address is user-mode (U/S=1 at
 * every stage-1 level, whatever the CPL), XS otherwise; qualification
 * bit 6 is the AND of XU.  U=0 at one upper level makes it supervisor.
 */
Test(hw_ept, mbec_picks_xu_by_linear_address)
{
	for (unsigned b = 0; b < 16; b++) {
		bool xs = b & 1, xu = b & 2, upper_u = b & 4, cpl3 = b & 8;
		bool user_la = upper_u;	/* the leaf has U=1 */
		struct fx f;
		struct hw_result res;
		bool ok = user_la ? xu : xs;

		if (cpl3 && !user_la)
			continue;	/* a #PF in stage 1 */
		fx_init(&f, 4, false, true, upper_u ? 0x7 : 0x3, 0x7);
		ept_rights(&f, DATA_GPA, R | (xs ? X : 0) | (xu ? XU : 0));
		run(&f, TDP_OP_FETCH, cpl3 ? 3 : 0, &res);
		cr_assert_eq(res.kind, ok ? HW_OK : HW_EPT_VIOLATION, "b %u", b);
		if (!ok)
			cr_assert_eq(res.qual, X | R << 3 | (xs ? 0x20u : 0) | (xu ? 0x40u : 0) |
				     Q_LINEAR | Q_FINAL | (user_la ? 0x200u : 0) | 0x400u,
				     "b %u: %#lx", b, res.qual);
	}
}

/* 5-level EPT (EPTP page-walk length 4): the walk works; PS in the PML5E is a misconfig */
Test(hw_ept, five_level_ept)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 5, true, false, 0x7, 0x7);
	run(&f, TDP_OP_WRITE, 0, &res);
	cr_assert_eq(res.kind, HW_OK, "kind %d", res.kind);
	cr_assert_eq(res.hpa, DATA_GPA + S1OFF);
	cr_assert_eq(hw_get64(gm, EPT_ROOT) & 0x100, 0x100, "A in the EPT PML5E");
	hw_put64(gm, EPT_ROOT, hw_get64(gm, EPT_ROOT) | 0x80);
	run(&f, TDP_OP_READ, 0, &res);
	cr_assert_eq(res.kind, HW_EPT_MISCONFIG);
	cr_assert_eq(res.gpa, 0x1000, "the PML4E's page is the first GPA translated");
}

/* 2 MiB and 1 GiB EPT leaves; address bits below the size are reserved */
Test(hw_ept, large_leaves)
{
	for (int level = 2; level <= 3; level++) {
		unsigned shift = level == 2 ? 21 : 30;
		struct fx f;
		struct hw_result res;
		uint64_t ea;

		fx_init(&f, 4, false, false, 0x7, 0x7);
		f.ept.next = EPT_ROOT + 0x100000;	/* a new tree beside the old */
		f.ept.root = EPT_ROOT + 0x80000;
		f.s2.eptp = f.ept.root | 6 | 3 << 3;
		/* GPA 0 .. 2 MiB / 1 GiB -> S1OFF in one leaf */
		ea = hw_tree_map(&f.ept, 0, level, S1OFF | R | W | X | WB | 0x80);
		run(&f, TDP_OP_READ, 0, &res);
		cr_assert_eq(res.kind, HW_OK, "level %d kind %d", level, res.kind);
		cr_assert_eq(res.hpa, S1OFF + DATA_GPA, "level %d", level);
		cr_assert_eq(shift, level == 2 ? 21u : 30u);
		hw_put64(gm, ea, hw_get64(gm, ea) | 1ull << 12);
		run(&f, TDP_OP_READ, 0, &res);
		cr_assert_eq(res.kind, HW_EPT_MISCONFIG, "level %d", level);
	}
}

/*
 * EPT A/D flags (§29.3.5): with EPTP bit 6 the walk sets A in every EPT
 * entry it uses and D in the leaf of a written GPA -- the guest's table
 * pages too, whose accesses are writes then; the data leaf gets D only on
 * a write.  Without bit 6 no EPT flag changes.
 */
Test(hw_ept, ept_accessed_dirty)
{
	for (int ad = 0; ad < 2; ad++)
	for (int op = 0; op < 2; op++) {
		struct fx f;
		struct hw_result res;

		fx_init(&f, 4, ad, false, 0x27, 0x67);
		run(&f, (enum tdp_access_op)op, 0, &res);
		cr_assert_eq(res.kind, HW_OK);
		for (uint64_t g = 0x1000; g <= 0x4000; g += 0x1000)
			cr_assert_eq(hw_get64(gm, ept_leaf(&f, g)) & 0x300, ad ? 0x300u : 0,
				     "ad %d table page %#lx", ad, g);
		cr_assert_eq(hw_get64(gm, ept_leaf(&f, DATA_GPA)) & 0x300,
			     ad ? (op ? 0x300u : 0x100u) : 0, "ad %d op %d", ad, op);
		cr_assert_eq(hw_get64(gm, hw_tree_entry(&f.ept, DATA_GPA, 2)) & 0x300,
			     ad ? 0x100u : 0, "non-leaf: A only");
	}
}

/*
 * PAE PDPTE loads through EPT (MOV to CR3): a read, not for a linear
 * address -- qualification bit 0 and the rights, bits 7-8 clear.
 */
Test(hw_ept, pdpte_load_is_a_read)
{
	struct fx f;
	struct hw_result res;

	fx_init(&f, 4, true, false, 0x7, 0x7);
	f.r.cr4 = 1ull << 5;
	f.r.efer = 0;
	f.r.cr3 = 0x9020;		/* a PDPT in the data page */
	hw_put64(gm, 0x9020 + 8 + S1OFF, 0x3001);
	cr_assert(hw_load_pdptes_exit(&mem, &f.s2, &f.r, &res));
	cr_assert_eq(f.r.pdpte[1], 0x3001);
	cr_assert_eq(hw_get64(gm, ept_leaf(&f, 0x9000)) & 0x200, 0, "no EPT D on a read");
	ept_rights(&f, 0x9000, X);
	cr_assert(!hw_load_pdptes_exit(&mem, &f.s2, &f.r, &res));
	cr_assert_eq(res.kind, HW_EPT_VIOLATION);
	cr_assert_eq(res.gpa, 0x9020);
	cr_assert_eq(res.qual, 0x21ull, "%#lx", res.qual);
}
