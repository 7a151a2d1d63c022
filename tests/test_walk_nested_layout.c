// SPDX-License-Identifier: GPL-2.0-only
/*
 * The walker on L1's EPT / NPT (guest_mmu) and the 2D walk of L2's tables
 * through them (nested_mmu + kvm_translate_gpa): EPT 4/5-level, huge
 * pages, misconfigurations, A/D on and off, EPT-violation exit
 * qualifications and NPF error codes for table and final accesses, MBEC
 * (XS/XU chosen by the L2 PTE's U bit) and GMET (CPL rule).
 *
 * Oracle rows: the KVM selftest nested_tdp_fault_test.c (peers.md §1.2) for
 * the four table/final x unmapped/write-protected cases, the SDM (29.3.3,
 * 28.2.1 for MBEC) and the APM (15.25.6 nested page faults, GMET) for the
 * rest.  Built once per ACC layout; layout differences are KVM's own (the
 * old walker had no PFERR_GUEST_PAGE/FINAL and reported EPT reads as
 * PFERR_USER_MASK) and are spelled out where they matter.
 *
 * Memory map (L1 GPAs; gmem is L1 memory):
 *   0x200000-0x400000  L2 page tables (also their L2 GPAs: EPT/NPT map the
 *                      pages in use 1:1 with 4K pages)
 *   0x800000-0xa00000  EPT / NPT tables
 *   L2 GPA 0x600000 -> L1 GPA 0x1600000: the data page
 */
#include <criterion/criterion.h>
#include <string.h>

#include <tdpsim/gmem.h>

#include "mmu/paging.h"
#include "helpers/pt_builder.h"

#define MEM_SIZE	(64ull << 20)
#define L2_TABLES	0x200000ull
#define L2_TABLES_END	0x400000ull
#define TDP_TABLES	0x800000ull
#define TDP_TABLES_END	0xa00000ull
#define L2_GVA		0x0000000040401234ull
#define L2_DATA_GPA	0x600000ull
#define L1_DATA_GPA	0x1600000ull

#define UPPER		(PTB_P | PTB_W | PTB_U)
#define EPT_ALL		(PTB_EPT_RWX | PTB_EPT_MT_WB)
#define EPTP_WB		6ull

#include "helpers/nested_env.h"

#define GVA_BITS	(EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED)

static void map_tdp(struct nenv *e, u64 l2gpa, u64 l1gpa, u64 leaf_flags)
{
	/* non-leaf EPTEs: RWX + XU (bits 7:3 are reserved in them) */
	u64 table_flags = e->npt ? UPPER : PTB_EPT_RWX | PTB_EPT_XU;

	ptb_map(&e->tb, PTB_FMT_64, e->tdp_root, e->tdp_levels, l2gpa, 1, l1gpa,
		table_flags, leaf_flags);
}

/* GPA of the EPT/NPT leaf that maps @l2gpa. */
static u64 tdp_leaf(struct nenv *e, u64 l2gpa)
{
	return ptb_entry_gpa(&e->tb, PTB_FMT_64, e->tdp_root, e->tdp_levels,
			     l2gpa, 1);
}

/* L2: 4-level, WP, NX; L2_GVA -> L2_DATA_GPA as a supervisor page. */
static void setup_l2(struct nenv *e, u64 leaf_flags)
{
	u64 tdp_leaf_flags = e->npt ? UPPER : EPT_ALL;

	e->l2_root = ptb_table(&e->b);
	ptb_map(&e->b, PTB_FMT_64, e->l2_root, 4, L2_GVA, 1, L2_DATA_GPA,
		UPPER, leaf_flags);
	/* identity-map the L2 table pages built so far, and the data page */
	for (u64 gpa = L2_TABLES; gpa < e->b.next; gpa += 4096)
		map_tdp(e, gpa, gpa, tdp_leaf_flags);
	map_tdp(e, L2_DATA_GPA, L1_DATA_GPA, tdp_leaf_flags);

	e->v.arch.cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
	e->v.arch.cr4 = X86_CR4_PAE;
	e->v.arch.efer = EFER_LME | EFER_LMA | EFER_NX;
	e->v.arch.cr3 = e->l2_root;
	kvm_init_mmu(&e->v);
	cr_assert_eq(e->v.arch.nested_mmu.gva_to_gpa, paging64_gva_to_gpa);
}

/* L1 runs L2 with 4-level NPT; @misc_ctl may enable GMET. */
static void nenv_fini(struct nenv *e)
{
	tdp_gmem_destroy(e->gm);
}

/* The 2D walk: L2 GVA -> L1 GPA. */
static gpa_t l2_xlate(struct nenv *e, u64 gva, u64 access,
		      struct x86_exception *ex)
{
	struct kvm_mmu *mmu = e->v.arch.walk_mmu;

	memset(ex, 0, sizeof(*ex));
	return mmu->gva_to_gpa(&e->v, mmu, gva, access, ex);
}

/* One walk of L1's EPT alone (guest_mmu), for an L2 GPA. */
static int ept_walk(struct nenv *e, u64 l2gpa, u64 access,
		    struct guest_walkerEPT *w)
{
	memset(w, 0, sizeof(*w));
	return ept_walk_addr_generic(w, &e->v, &e->v.arch.guest_mmu, l2gpa,
				     access);
}

/* ACC bits of an EPT walk, from the layout's meaning (facts §2.1). */
static unsigned eacc(bool r, bool w, bool x, bool xu)
{
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	return (r ? ACC_READ_MASK : 0) | (w ? ACC_WRITE_MASK : 0) |
	       (x ? ACC_EXEC_MASK : 0) | (xu ? ACC_USER_EXEC_MASK : 0);
#else
	(void)xu;	/* bit 10 is ignored before the series */
	return (r ? ACC_USER_MASK : 0) | (w ? ACC_WRITE_MASK : 0) |
	       (x ? ACC_EXEC_MASK : 0);
#endif
}

/* A read access to an EPT page: the pre-series MMU saw reads as "user". */
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define EPT_READ	0ull
#else
#define EPT_READ	PFERR_USER_MASK
#endif

Test(ept, four_level_rights_and_ad)
{
	struct nenv e;
	struct guest_walkerEPT w;
	u64 leaf;

	nenv_vmx(&e, 4, true, false, true);
	map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA,
		PTB_EPT_R | PTB_EPT_X | PTB_EPT_MT_WB | PTB_EPT_XU);
	leaf = tdp_leaf(&e, L2_DATA_GPA);

	cr_assert_eq(ept_walk(&e, L2_DATA_GPA + 0x10, EPT_READ, &w), 1);
	cr_expect_eq(w.gfn, L1_DATA_GPA >> 12);
	cr_expect_eq(w.level, 1);
	cr_expect_eq(w.pte_access, eacc(true, false, true, true));
	/* EPT A/D: A (bit 8) on every level for a read, no D (bit 9) */
	for (int l = 4; l >= 1; l--) {
		u64 epte = ptb_read64(&e.tb, ptb_entry_gpa(&e.tb, PTB_FMT_64,
						e.tdp_root, 4, L2_DATA_GPA, l));
		cr_expect(epte & PTB_EPT_A, "A at level %d", l);
		cr_expect(!(epte & PTB_EPT_D), "no D at level %d", l);
	}
	/* a write to a non-writable page: violation, ACC_WRITE and the AND of
	 * the EPTE permissions (R, X here) in the qualification */
	cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_WRITE_MASK, &w), 0);
	cr_expect_eq(w.fault.exit_qualification & 0x3f,
		     EPT_VIOLATION_ACC_WRITE | EPT_VIOLATION_PROT_READ |
		     EPT_VIOLATION_PROT_EXEC);
	cr_expect_eq(w.fault.error_code & PFERR_PRESENT_MASK, PFERR_PRESENT_MASK);
	cr_expect(!(ptb_read64(&e.tb, leaf) & PTB_EPT_D));
	/* writable now: the write sets D on the leaf */
	ptb_write64(&e.tb, leaf, ptb_read64(&e.tb, leaf) | PTB_EPT_W);
	cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_WRITE_MASK, &w), 1);
	cr_expect(ptb_read64(&e.tb, leaf) & PTB_EPT_D);
	nenv_fini(&e);
}

Test(ept, ad_disabled_leaves_entries_alone)
{
	struct nenv e;
	struct guest_walkerEPT w;
	u64 before[4];

	nenv_vmx(&e, 4, false, false, true);
	map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, EPT_ALL);
	for (int l = 4; l >= 1; l--)
		before[l - 1] = ptb_read64(&e.tb, ptb_entry_gpa(&e.tb, PTB_FMT_64,
						e.tdp_root, 4, L2_DATA_GPA, l));
	cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_WRITE_MASK, &w), 1);
	/* without A/D, a clean leaf keeps W: there is no D bit to track */
	cr_expect_eq(w.pte_access, eacc(true, true, true, false));
	for (int l = 4; l >= 1; l--)
		cr_expect_eq(ptb_read64(&e.tb, ptb_entry_gpa(&e.tb, PTB_FMT_64,
						e.tdp_root, 4, L2_DATA_GPA, l)),
			     before[l - 1], "level %d untouched", l);
	nenv_fini(&e);
}

Test(ept, five_level_and_huge_pages)
{
	struct nenv e;
	struct guest_walkerEPT w;
	const u64 gpa5 = (1ull << 48) | 0x5000;	/* needs the 5th level */
	const u64 gpa2m = 0x40000000 + (3 << 21) + 0x1234;
	const u64 gpa1g = (9ull << 30) + 0x2345678;

	nenv_vmx(&e, 5, true, false, true);
	cr_assert_eq(e.v.arch.guest_mmu.cpu_role.base.level, 5);
	map_tdp(&e, gpa5, 0x7000, EPT_ALL);
	ptb_map(&e.tb, PTB_FMT_64, e.tdp_root, 5, gpa2m, 2, 0x1400000,
		PTB_EPT_RWX, EPT_ALL | PTB_EPT_PS);
	ptb_map(&e.tb, PTB_FMT_64, e.tdp_root, 5, gpa1g, 3, 0x40000000,
		PTB_EPT_RWX, EPT_ALL | PTB_EPT_PS);

	cr_assert_eq(ept_walk(&e, gpa5, EPT_READ, &w), 1);
	cr_expect_eq(w.gfn, 7);
	cr_expect_eq(w.max_level, 5);
	cr_assert_eq(ept_walk(&e, gpa2m, EPT_READ, &w), 1);
	cr_expect_eq(w.level, 2);
	cr_expect_eq(w.gfn, (0x1400000ull + 0x1234) >> 12);
	cr_assert_eq(ept_walk(&e, gpa1g, EPT_READ, &w), 1);
	cr_expect_eq(w.level, 3);
	cr_expect_eq(w.gfn, (0x40000000ull + 0x2345678) >> 12);
	nenv_fini(&e);
}

/* EPT misconfigurations (SDM 29.3.3.1): write-only, write+exec without
 * read, reserved memory types 2/3/7 at the leaf, address bits above
 * MAXPHYADDR; reported as RSVD with no violation qualification. */
Test(ept, misconfigurations)
{
	static const struct { u64 leaf; const char *what; } bad[] = {
		{ PTB_EPT_W | PTB_EPT_MT_WB, "write-only" },
		{ PTB_EPT_W | PTB_EPT_X | PTB_EPT_MT_WB, "write+exec" },
		{ PTB_EPT_RWX | (2ull << 3), "memtype 2" },
		{ PTB_EPT_RWX | (3ull << 3), "memtype 3" },
		{ PTB_EPT_RWX | (7ull << 3), "memtype 7" },
		{ EPT_ALL | (1ull << 50), "bit 50 above MAXPHYADDR" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nenv e;
		struct guest_walkerEPT w;

		nenv_vmx(&e, 4, true, false, true);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, bad[i].leaf);
		cr_assert_eq(ept_walk(&e, L2_DATA_GPA, EPT_READ, &w), 0, "%s",
			     bad[i].what);
		cr_expect_eq(w.fault.error_code & (PFERR_RSVD_MASK | PFERR_PRESENT_MASK),
			     PFERR_RSVD_MASK | PFERR_PRESENT_MASK, "%s", bad[i].what);
		cr_expect_eq(w.fault.exit_qualification, 0, "%s", bad[i].what);
		nenv_fini(&e);
	}
	/* execute-only is a misconfiguration only without the capability */
	{
		struct nenv e;
		struct guest_walkerEPT w;

		nenv_vmx(&e, 4, true, false, false);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, PTB_EPT_X | PTB_EPT_MT_WB);
		cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_FETCH_MASK, &w), 0);
		cr_expect(w.fault.error_code & PFERR_RSVD_MASK);
		nenv_fini(&e);
	}
}

/* Not present at each EPT level: violation, P=0, and the qualification's
 * permission bits are the AND up to and including the failing entry (0). */
Test(ept, not_present_at_each_level)
{
	for (int lvl = 4; lvl >= 1; lvl--) {
		struct nenv e;
		struct guest_walkerEPT w;
		u64 gpa;

		nenv_vmx(&e, 4, true, false, true);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, EPT_ALL);
		gpa = ptb_entry_gpa(&e.tb, PTB_FMT_64, e.tdp_root, 4, L2_DATA_GPA, lvl);
		ptb_write64(&e.tb, gpa, ptb_read64(&e.tb, gpa) & ~PTB_EPT_RWX);
		cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_WRITE_MASK, &w), 0);
		cr_expect_eq(w.fault.error_code & (PFERR_PRESENT_MASK | PFERR_RSVD_MASK),
			     0, "level %d", lvl);
		cr_expect_eq(w.fault.exit_qualification & 0x7f,
			     EPT_VIOLATION_ACC_WRITE, "level %d", lvl);
		cr_expect_eq(w.fault.address, L2_DATA_GPA);
		nenv_fini(&e);
	}
}

/*
 * nested_tdp_fault_test rows, EPT.  L2 runs at CPL0 with supervisor pages.
 * New layout (series + kvm-x86): GVA_IS_VALID always, GVA_TRANSLATED for
 * the final access, table accesses read+write (EPT A/D on).  Old layout:
 * bits 8:7 come from the hardware exit qualification (set here as for a
 * final access), and every access is a "user" one so ACC_READ also shows
 * on final writes.
 */
static void vmx_row(bool table, bool wprot, u64 access, u64 want_new,
		    u64 want_old)
{
	struct nenv e;
	struct x86_exception ex;
	/* L2's PD page (tables come PML4, PDPT, PD, PT from L2_TABLES) */
	u64 target = table ? L2_TABLES + 0x2000 : L2_DATA_GPA;

	nenv_vmx(&e, 4, true, false, true);
	e.v.arch.exit_qualification = GVA_BITS;
	setup_l2(&e, PTB_P | PTB_W);
	cr_assert_eq(ptb_entry_gpa(&e.b, PTB_FMT_64, e.l2_root, 4, L2_GVA, 2) & ~0xfffull,
		     L2_TABLES + 0x2000);
	ptb_write64(&e.tb, tdp_leaf(&e, target),
		    wprot ? ((table ? target : L1_DATA_GPA) | PTB_EPT_R |
			     PTB_EPT_X | PTB_EPT_MT_WB) : 0);

	cr_assert_eq(l2_xlate(&e, L2_GVA, access, &ex), INVALID_GPA);
	cr_expect(ex.nested_page_fault, "an L1 (EPT) fault, not an L2 #PF");
	cr_expect_eq(ex.address, target, "the faulting L2 GPA");
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	cr_expect_eq(ex.exit_qualification, want_new, "table %d wprot %d: %#lx",
		     table, wprot, ex.exit_qualification);
#else
	cr_expect_eq(ex.exit_qualification, want_old, "table %d wprot %d: %#lx",
		     table, wprot, ex.exit_qualification);
#endif
	nenv_fini(&e);
}

Test(nested_ept, final_page_unmapped)
{
	vmx_row(false, false, 0,
		EPT_VIOLATION_ACC_READ | GVA_BITS,
		EPT_VIOLATION_ACC_READ | GVA_BITS);
}

Test(nested_ept, table_page_unmapped)
{
	vmx_row(true, false, 0,
		EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE |
		EPT_VIOLATION_GVA_IS_VALID,
		EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE | GVA_BITS);
}

Test(nested_ept, final_page_write_protected)
{
	vmx_row(false, true, PFERR_WRITE_MASK,
		EPT_VIOLATION_ACC_WRITE | EPT_VIOLATION_PROT_READ |
		EPT_VIOLATION_PROT_EXEC | GVA_BITS,
		EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE |
		EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_EXEC | GVA_BITS);
}

Test(nested_ept, table_page_write_protected)
{
	vmx_row(true, true, 0,
		EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE |
		EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_EXEC |
		EPT_VIOLATION_GVA_IS_VALID,
		EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE |
		EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_EXEC | GVA_BITS);
}

/* A successful 2D read: L2 PTEs get A; L1's EPT marks the L2 table pages
 * A and D (KVM makes guest paging-structure accesses writes when the L2
 * walk has A/D), the data page A only. */
Test(nested_ept, two_d_walk_and_ad_bits)
{
	struct nenv e;
	struct x86_exception ex;
	struct guest_walker64 w;

	nenv_vmx(&e, 4, true, false, true);
	setup_l2(&e, PTB_P | PTB_W);
	cr_assert_eq(l2_xlate(&e, L2_GVA, 0, &ex), L1_DATA_GPA + 0x234);
	for (int l = 4; l >= 1; l--) {
		u64 pte_gpa = ptb_entry_gpa(&e.b, PTB_FMT_64, e.l2_root, 4, L2_GVA, l);

		cr_expect(ptb_read64(&e.b, pte_gpa) & PTB_A, "L2 A at level %d", l);
		cr_expect_eq(ptb_read64(&e.tb, tdp_leaf(&e, pte_gpa & ~0xfffull)) &
			     (PTB_EPT_A | PTB_EPT_D), PTB_EPT_A | PTB_EPT_D,
			     "EPT A/D for the L2 table at level %d", l);
	}
	cr_expect_eq(ptb_read64(&e.tb, tdp_leaf(&e, L2_DATA_GPA)) &
		     (PTB_EPT_A | PTB_EPT_D), PTB_EPT_A, "data page: read, A only");
	/* the walker's gfn is the L1 gfn */
	memset(&w, 0, sizeof(w));
	cr_assert_eq(paging64_walk_addr_generic(&w, &e.v, &e.v.arch.nested_mmu,
						L2_GVA, 0), 1);
	cr_expect_eq(w.gfn, L1_DATA_GPA >> 12);
	/* table_gfn stays in L2 GPA space */
	cr_expect_eq(w.table_gfn[3], e.l2_root >> 12);
	nenv_fini(&e);
}

/* An L2 #PF (L2's own tables) is not a nested fault. */
Test(nested_ept, l2_fault_is_not_nested)
{
	struct nenv e;
	struct x86_exception ex;

	nenv_vmx(&e, 4, true, false, true);
	setup_l2(&e, PTB_P);	/* read-only supervisor page */
	cr_assert_eq(l2_xlate(&e, L2_GVA, PFERR_WRITE_MASK, &ex), INVALID_GPA);
	cr_expect(!ex.nested_page_fault);
	cr_expect_eq(ex.error_code, PFERR_PRESENT_MASK | PFERR_WRITE_MASK);
	cr_expect_eq(ex.address, L2_GVA);
	nenv_fini(&e);
}

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
/*
 * MBEC (SDM 28.2.1 / 29.3.3.2): with mode-based execute control the EPT
 * checks XU for a linear address that is user-mode in L2's tables (U=1)
 * and XS for a supervisor one, whatever the CPL.  All fetches here are
 * CPL0 (no PFERR_USER_MASK), without SMEP, so L2's own check passes.
 */
static void mbec_case(u64 l2_leaf_flags, u64 ept_leaf, bool ok, u64 want_eq)
{
	struct nenv e;
	struct x86_exception ex;
	gpa_t gpa;

	nenv_vmx(&e, 4, true, true, true);
	setup_l2(&e, l2_leaf_flags);
	ptb_write64(&e.tb, tdp_leaf(&e, L2_DATA_GPA), L1_DATA_GPA | ept_leaf);
	gpa = l2_xlate(&e, L2_GVA, PFERR_FETCH_MASK, &ex);
	if (ok) {
		cr_expect_eq(gpa, L1_DATA_GPA + 0x234, "l2 %#lx ept %#lx",
			     l2_leaf_flags, ept_leaf);
	} else {
		cr_assert_eq(gpa, INVALID_GPA, "l2 %#lx ept %#lx", l2_leaf_flags,
			     ept_leaf);
		cr_expect(ex.nested_page_fault);
		cr_expect_eq(ex.exit_qualification, want_eq, "%#lx",
			     ex.exit_qualification);
	}
	nenv_fini(&e);
}

Test(mbec, supervisor_page_uses_xs)
{
	mbec_case(PTB_P, PTB_EPT_R | PTB_EPT_X | PTB_EPT_MT_WB, true, 0);
	mbec_case(PTB_P, PTB_EPT_R | PTB_EPT_XU | PTB_EPT_MT_WB, false,
		  EPT_VIOLATION_ACC_INSTR | EPT_VIOLATION_PROT_READ |
		  EPT_VIOLATION_PROT_USER_EXEC | GVA_BITS);
}

Test(mbec, user_page_uses_xu_even_at_cpl0)
{
	mbec_case(PTB_P | PTB_U, PTB_EPT_R | PTB_EPT_XU | PTB_EPT_MT_WB, true, 0);
	mbec_case(PTB_P | PTB_U, PTB_EPT_R | PTB_EPT_X | PTB_EPT_MT_WB, false,
		  EPT_VIOLATION_ACC_INSTR | EPT_VIOLATION_PROT_READ |
		  EPT_VIOLATION_PROT_EXEC | GVA_BITS);
}

/* With MBEC, an entry with only XU set is present (execute-only). */
Test(mbec, xu_alone_is_present_only_with_mbec)
{
	for (int mbec = 0; mbec < 2; mbec++) {
		struct nenv e;
		struct guest_walkerEPT w;

		nenv_vmx(&e, 4, true, mbec, true);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, PTB_EPT_XU | PTB_EPT_MT_WB);
		/* a "user" fetch: PFERR_USER_MASK is how MBEC's XU is asked */
		cr_expect_eq(ept_walk(&e, L2_DATA_GPA,
				      PFERR_FETCH_MASK | PFERR_USER_MASK, &w), mbec,
			     "mbec %d", mbec);
		if (!mbec)
			cr_expect_eq(w.fault.error_code & PFERR_PRESENT_MASK, 0);
		nenv_fini(&e);
	}
	/* XU folds into X for bad_mt_xwr: XU-only without execute-only
	 * support is a misconfiguration */
	{
		struct nenv e;
		struct guest_walkerEPT w;

		nenv_vmx(&e, 4, true, true, false);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, PTB_EPT_XU | PTB_EPT_MT_WB);
		cr_assert_eq(ept_walk(&e, L2_DATA_GPA, PFERR_FETCH_MASK, &w), 0);
		cr_expect(w.fault.error_code & PFERR_RSVD_MASK);
		nenv_fini(&e);
	}
}
#endif

/*
 * nested_tdp_fault_test rows, NPT: NPT walks are user walks (U in every
 * error code), table accesses are writes (the L2 walk has A/D), and the new
 * layout reports the stage in bits 32/33 (PFERR_GUEST_FINAL/PAGE).
 */
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define STAGE(x)	(x)
#else
#define STAGE(x)	0ull
#endif

static void svm_row(bool table, bool wprot, u64 access, u64 want)
{
	struct nenv e;
	struct x86_exception ex;
	u64 target = table ? L2_TABLES + 0x2000 : L2_DATA_GPA;

	nenv_svm(&e, 0);
	setup_l2(&e, PTB_P | PTB_W);
	ptb_write64(&e.tb, tdp_leaf(&e, target),
		    wprot ? ((table ? target : L1_DATA_GPA) | PTB_P | PTB_U) : 0);
	cr_assert_eq(l2_xlate(&e, L2_GVA, access, &ex), INVALID_GPA);
	cr_expect(ex.nested_page_fault);
	cr_expect_eq(ex.address, target);
	cr_expect_eq(ex.error_code, want, "table %d wprot %d: %#lx", table, wprot,
		     ex.error_code);
	nenv_fini(&e);
}

Test(nested_npt, final_page_unmapped)
{
	svm_row(false, false, 0, PFERR_USER_MASK | STAGE(PFERR_GUEST_FINAL_MASK));
}

Test(nested_npt, table_page_unmapped)
{
	svm_row(true, false, 0, PFERR_WRITE_MASK | PFERR_USER_MASK |
		STAGE(PFERR_GUEST_PAGE_MASK));
}

Test(nested_npt, final_page_write_protected)
{
	svm_row(false, true, PFERR_WRITE_MASK, PFERR_PRESENT_MASK |
		PFERR_WRITE_MASK | PFERR_USER_MASK | STAGE(PFERR_GUEST_FINAL_MASK));
}

Test(nested_npt, table_page_write_protected)
{
	svm_row(true, true, 0, PFERR_PRESENT_MASK | PFERR_WRITE_MASK |
		PFERR_USER_MASK | STAGE(PFERR_GUEST_PAGE_MASK));
}

/* Without GMET every NPT access is a user access: a U=0 NPT entry blocks
 * even a supervisor read (APM 15.25.5). */
Test(nested_npt, u0_entry_faults_without_gmet)
{
	struct nenv e;
	struct x86_exception ex;

	nenv_svm(&e, 0);
	setup_l2(&e, PTB_P | PTB_W);
	ptb_write64(&e.tb, tdp_leaf(&e, L2_DATA_GPA), L1_DATA_GPA | PTB_P | PTB_W);
	cr_assert_eq(l2_xlate(&e, L2_GVA, 0, &ex), INVALID_GPA);
	cr_expect_eq(ex.error_code, PFERR_PRESENT_MASK | PFERR_USER_MASK |
		     STAGE(PFERR_GUEST_FINAL_MASK));
	nenv_fini(&e);
}

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
/*
 * GMET (APM 15.25.13): the CPL of the access decides; U=1 NPT pages are
 * not supervisor-executable (SMEP-like), U=0 no longer restricts reads,
 * writes or user fetches.  L1 has EFER.NX, so fetch faults report I/D.
 */
static void gmet_case(u64 l2_flags, u64 npt_leaf, u64 access, bool ok, u64 want)
{
	struct nenv e;
	struct x86_exception ex;
	gpa_t gpa;

	nenv_svm(&e, SVM_MISC_ENABLE_GMET);
	setup_l2(&e, l2_flags);
	ptb_write64(&e.tb, tdp_leaf(&e, L2_DATA_GPA), L1_DATA_GPA | npt_leaf);
	gpa = l2_xlate(&e, L2_GVA, access, &ex);
	if (ok) {
		cr_expect_eq(gpa, L1_DATA_GPA + 0x234, "npt %#lx access %#lx",
			     npt_leaf, access);
	} else {
		cr_assert_eq(gpa, INVALID_GPA, "npt %#lx access %#lx", npt_leaf,
			     access);
		cr_expect_eq(ex.error_code, want, "%#lx", ex.error_code);
	}
	nenv_fini(&e);
}

Test(gmet, supervisor_fetch_from_user_npt_page_faults)
{
	gmet_case(PTB_P, PTB_P | PTB_W | PTB_U, PFERR_FETCH_MASK, false,
		  PFERR_PRESENT_MASK | PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK);
	/* the same page fetched at CPL3 (L2 PTE U=1) is fine */
	gmet_case(PTB_P | PTB_U, PTB_P | PTB_W | PTB_U,
		  PFERR_FETCH_MASK | PFERR_USER_MASK, true, 0);
}

Test(gmet, u0_npt_page_allows_everything_but_user_nx)
{
	gmet_case(PTB_P, PTB_P | PTB_W, PFERR_FETCH_MASK, true, 0);
	gmet_case(PTB_P | PTB_W, PTB_P | PTB_W, PFERR_WRITE_MASK, true, 0);
	gmet_case(PTB_P | PTB_U, PTB_P | PTB_W, PFERR_USER_MASK, true, 0);
	/* NX still applies */
	gmet_case(PTB_P, PTB_P | PTB_W | PTB_NX, PFERR_FETCH_MASK, false,
		  PFERR_PRESENT_MASK | PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK);
}
#endif

/* L1's EPT maps an L2 table page to an L1 GPA with no memslot: KVM's walk
 * fails on the memslot lookup (kvm_vcpu_gfn_to_memslot), not in EPT, so
 * the fault is an L2 #PF with only the access bits (not present). */
Test(nested_ept, table_translated_outside_memory)
{
	struct nenv e;
	struct x86_exception ex;
	const u64 pd = L2_TABLES + 0x2000;

	nenv_vmx(&e, 4, true, false, true);
	setup_l2(&e, PTB_P | PTB_W);
	ptb_write64(&e.tb, tdp_leaf(&e, pd), MEM_SIZE | EPT_ALL);
	cr_assert_eq(l2_xlate(&e, L2_GVA, PFERR_WRITE_MASK, &ex), INVALID_GPA);
	cr_expect(!ex.nested_page_fault);
	cr_expect_eq(ex.error_code, PFERR_WRITE_MASK);
	cr_expect_eq(ex.address, L2_GVA);
	nenv_fini(&e);
}

/* L2 with PAE paging: the top level comes from nested_mmu's PDPTE
 * registers (walk_mmu->pdptrs), the two lower tables through EPT. */
Test(nested_ept, l2_pae_through_ept)
{
	struct nenv e;
	struct x86_exception ex;
	u64 pdpt;
	const u64 gva = 0x40401234;

	nenv_vmx(&e, 4, true, false, true);
	pdpt = ptb_table(&e.b);
	ptb_map(&e.b, PTB_FMT_64, pdpt, 3, gva, 1, L2_DATA_GPA, PTB_P, UPPER);
	for (u64 gpa = L2_TABLES; gpa < L2_TABLES + 0x10000; gpa += 4096)
		map_tdp(&e, gpa, gpa, EPT_ALL);
	map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, EPT_ALL);
	e.v.arch.cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
	e.v.arch.cr4 = X86_CR4_PAE;
	e.v.arch.efer = EFER_NX;
	e.v.arch.cr3 = pdpt;
	kvm_init_mmu(&e.v);
	cr_assert_eq(e.v.arch.nested_mmu.cpu_role.base.level, 3);
	for (int i = 0; i < 4; i++)
		e.v.arch.nested_mmu.pdptrs[i] = ptb_get(&e.b, PTB_FMT_64, pdpt, i);
	cr_expect_eq(l2_xlate(&e, gva, 0, &ex), L1_DATA_GPA + 0x234);
	/* the PD is the first table below the PDPT; unmap it in EPT */
	ptb_write64(&e.tb, tdp_leaf(&e, pdpt + 0x1000), 0);
	cr_assert_eq(l2_xlate(&e, gva, 0, &ex), INVALID_GPA);
	cr_expect(ex.nested_page_fault);
	cr_expect_eq(ex.address, pdpt + 0x1000);
	nenv_fini(&e);
}

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
/* L2 with paging off under MBEC: every linear address counts as a user
 * address (nonpaging_gva_to_gpa passes ACC_ALL), so XU decides. */
Test(mbec, l2_paging_off_uses_xu)
{
	for (int xu = 0; xu < 2; xu++) {
		struct nenv e;
		struct x86_exception ex;
		gpa_t gpa;

		nenv_vmx(&e, 4, true, true, true);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, PTB_EPT_R | PTB_EPT_MT_WB |
			(xu ? PTB_EPT_XU : PTB_EPT_X));
		e.v.arch.cr0 = X86_CR0_PE;
		kvm_init_mmu(&e.v);
		cr_assert_eq(e.v.arch.nested_mmu.gva_to_gpa, nonpaging_gva_to_gpa);
		gpa = l2_xlate(&e, L2_DATA_GPA + 0x10, PFERR_FETCH_MASK, &ex);
		if (xu) {
			cr_expect_eq(gpa, L1_DATA_GPA + 0x10);
		} else {
			cr_expect_eq(gpa, INVALID_GPA);
			cr_expect_eq(ex.exit_qualification,
				     EPT_VIOLATION_ACC_INSTR | EPT_VIOLATION_PROT_READ |
				     EPT_VIOLATION_PROT_EXEC | GVA_BITS);
		}
		nenv_fini(&e);
	}
}
#endif

/*
 * Exhaustive EPT leaf permissions (SDM 29.3.3): every combination of R, W,
 * X(S) and XU in the leaf (upper levels grant everything), read / write /
 * fetch, user or supervisor linear address, MBEC off and (new layout) on,
 * execute-only supported.  Expected, from the SDM:
 *   present     R|W|X, or XU with MBEC (bit 10 is ignored without it)
 *   misconfig   W without R
 *   violation   read && !R, write && !W,
 *               fetch && !(MBEC ? (user ? XU : XS) : XS)
 *   qualification: ACC_WRITE / else ACC_INSTR / else ACC_READ, GVA valid
 *   and translated (a final access), PROT bits = the leaf's R/W/XS (+XU
 *   as bit 6 with MBEC).
 * The old layout walks with KVM's pre-series conventions: every nested
 * access is a "user" access (translate_nested_gpa), which for EPT means a
 * read check, so writes and fetches need R too, and the qualification's
 * bits 8:7 come from the hardware (0 here).
 */
Test(ept, exhaustive_leaf_permissions)
{
	for (int mbec = 0; mbec < (TDP_ACC_LAYOUT == TDP_LAYOUT_NEW ? 2 : 1); mbec++) {
		struct nenv e;
		u64 leaf_gpa;

		nenv_vmx(&e, 4, true, mbec, true);
		map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, EPT_ALL);
		leaf_gpa = tdp_leaf(&e, L2_DATA_GPA);

		for (unsigned bits = 0; bits < 16; bits++)
		for (unsigned op = 0; op < 3; op++)
		for (unsigned user = 0; user < 2; user++) {
			bool r = bits & 1, w = bits & 2, x = bits & 4, xu = bits & 8;
			u64 leaf = L1_DATA_GPA | PTB_EPT_MT_WB | (r ? PTB_EPT_R : 0) |
				   (w ? PTB_EPT_W : 0) | (x ? PTB_EPT_X : 0) |
				   (xu ? PTB_EPT_XU : 0);
			u64 access = (op == 1 ? PFERR_WRITE_MASK : 0) |
				     (op == 2 ? PFERR_FETCH_MASK : 0) |
				     (user ? PFERR_USER_MASK : 0);
			bool present, misconfig, allowed;
			u64 want_eq;
			struct guest_walkerEPT wk;
			int ret;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
			present = r || w || x || (mbec && xu);
			misconfig = present && w && !r;
			allowed = op == 0 ? r : op == 1 ? w :
				  (mbec ? (user ? xu : x) : x);
			want_eq = (op == 1 ? EPT_VIOLATION_ACC_WRITE :
				   op == 2 ? EPT_VIOLATION_ACC_INSTR :
					     EPT_VIOLATION_ACC_READ) | GVA_BITS |
				  (r ? EPT_VIOLATION_PROT_READ : 0) |
				  (w ? EPT_VIOLATION_PROT_WRITE : 0) |
				  (x ? EPT_VIOLATION_PROT_EXEC : 0) |
				  (mbec && xu ? EPT_VIOLATION_PROT_USER_EXEC : 0);
#else
			access |= PFERR_USER_MASK;
			present = r || w || x;
			misconfig = present && w && !r;
			allowed = r && (op == 0 || (op == 1 ? w : x));
			want_eq = (op == 1 ? EPT_VIOLATION_ACC_WRITE : 0) |
				  EPT_VIOLATION_ACC_READ |
				  (op == 2 ? EPT_VIOLATION_ACC_INSTR : 0) |
				  (r ? EPT_VIOLATION_PROT_READ : 0) |
				  (w ? EPT_VIOLATION_PROT_WRITE : 0) |
				  (x ? EPT_VIOLATION_PROT_EXEC : 0);
#endif
			ptb_write64(&e.tb, leaf_gpa, leaf);
			ret = ept_walk(&e, L2_DATA_GPA + 0x18,
				       access
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
				       | PFERR_GUEST_FINAL_MASK
#endif
				       , &wk);
			if (present && !misconfig && allowed) {
				cr_assert_eq(ret, 1, "mbec %d leaf %#x op %u user %u",
					     mbec, bits, op, user);
				cr_assert_eq(wk.gfn, L1_DATA_GPA >> 12);
				continue;
			}
			cr_assert_eq(ret, 0, "mbec %d leaf %#x op %u user %u", mbec,
				     bits, op, user);
			if (misconfig) {
				cr_assert(wk.fault.error_code & PFERR_RSVD_MASK,
					  "misconfig: mbec %d leaf %#x", mbec, bits);
				continue;
			}
			cr_assert_eq(wk.fault.error_code & (PFERR_RSVD_MASK |
							    PFERR_PRESENT_MASK),
				     present ? PFERR_PRESENT_MASK : 0,
				     "mbec %d leaf %#x op %u user %u", mbec, bits, op,
				     user);
			cr_assert_eq(wk.fault.exit_qualification, want_eq,
				     "mbec %d leaf %#x op %u user %u: %#lx", mbec, bits,
				     op, user, wk.fault.exit_qualification);
		}
		nenv_fini(&e);
	}
}

/* A PAE NPT (L1 in 32-bit PAE mode): the top level is read from L1 memory
 * at nested_cr3 (32-byte aligned) by nested_svm_get_tdp_pdptr, not from
 * PDPTE registers (APM 15.25.x: the nested PDPTEs are not cached). */
Test(nested_npt, pae_npt_reads_pdptes_from_memory)
{
	struct nenv e;
	struct x86_exception ex;
	u64 pdpt = TDP_TABLES + 0x20;	/* inside the root page, 32-byte aligned */

	nenv_common(&e, KVM_VENDOR_AMD);
	e.npt = true;
	e.tdp_levels = 3;
	e.v.arch.nested.nested_cr3 = pdpt;
	e.v.arch.nested.misc_ctl = SVM_MISC_ENABLE_NP;
	cr_assert_eq(kvm_init_shadow_npt_mmu(&e.v, X86_CR4_PAE, EFER_NX, pdpt,
					     SVM_MISC_ENABLE_NP), 0);
	cr_assert_eq(e.v.arch.guest_mmu.cpu_role.base.level, 3);
	e.v.arch.guest_mmu.get_guest_pgd = nested_svm_get_tdp_cr3;
	e.v.arch.guest_mmu.get_pdptr = nested_svm_get_tdp_pdptr;
	/* build the 3-level NPT with its PDPT at nested_cr3 */
	e.tdp_root = pdpt;
	map_tdp(&e, L2_DATA_GPA, L1_DATA_GPA, UPPER);
	cr_assert_neq(ptb_read64(&e.tb, pdpt), 0, "PDPTE 0 written at nested_cr3");

	memset(&ex, 0, sizeof(ex));
	cr_expect_eq(e.v.arch.guest_mmu.gva_to_gpa(&e.v, &e.v.arch.guest_mmu,
						   L2_DATA_GPA + 0x42,
						   PFERR_USER_MASK, &ex),
		     L1_DATA_GPA + 0x42);
	/* clearing the PDPTE in memory takes effect at once */
	ptb_write64(&e.tb, pdpt, 0);
	cr_expect_eq(e.v.arch.guest_mmu.gva_to_gpa(&e.v, &e.v.arch.guest_mmu,
						   L2_DATA_GPA, PFERR_USER_MASK, &ex),
		     INVALID_GPA);
	cr_expect_eq(ex.error_code & PFERR_PRESENT_MASK, 0);
	nenv_fini(&e);
}
