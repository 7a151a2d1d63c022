// SPDX-License-Identifier: GPL-2.0-only
/*
 * Port vs. hardware, on random nested guests: the port's software 2D walk
 * (vcpu->arch.nested_mmu.gva_to_gpa: L2's tables through L1's EPT / NPT on
 * guest_mmu, src/mmu/paging_tmpl.h) against the CPU model (hw_translate,
 * src/hw, written from the SDM/APM and sharing no code with the port) with
 * L1's own EPT/NPT as stage 2 and L2's registers as stage 1.
 *
 * Each iteration builds a fresh L1 memory (gmem) with random L2 PTEs (P, W,
 * U, A, D, NX, PS at 2M, now and then a reserved bit), random EPT leaves
 * (R/W/X, XU, A/D, write-without-read misconfigurations, 4K or 2M) or NPT
 * leaves (P/W/U/NX, A/D) for L2's table pages and data page, random EPT/NPT
 * upper entries, EPT A/D on or off, MBEC / GMET (new layout), execute-only
 * support, L2's CR0.WP / CR4.SMEP / EFER.NXE, and one access (read, write,
 * fetch at CPL 0 or 3).  The hardware runs first on a snapshot of the table
 * pages, which is then restored for the port (both set A/D flags).
 *
 * Per access:
 *   both translate        -> the same L1 GPA, and the same L2 A/D flags
 *   hw #PF                <-> port fault that is not a nested_page_fault,
 *                             same error code (bits 15:0), address = GVA
 *   hw EPT violation      <-> port nested_page_fault at the same L2 GPA,
 *                             qualification bits 8:0 equal
 *   hw EPT misconfig      <-> port nested_page_fault with PFERR_RSVD
 *   hw #NPF               <-> port nested_page_fault at the same L2 GPA,
 *                             EXITINFO1 bits 4:0 and 33:32 equal
 * except the divergences that are KVM's own behaviour, each spelled out in
 * kvm_divergence() with the kernel code it comes from, and counted: the
 * test prints how many iterations each exclusion took.
 *
 * Memory map (L1 GPAs), as in test_walk_nested_layout.c:
 *   0x200000-0x400000  L2 page tables (identity-mapped by EPT/NPT)
 *   0x800000-0xa00000  EPT / NPT tables
 *   L2 GPA 0x600000-0x800000 -> L1 GPA 0x1600000-0x1800000: data
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>

#include "mmu/paging.h"
#include "helpers/hw_util.h"
#include "helpers/pt_builder.h"

#define MEM_SIZE	(64ull << 20)
#define L2_TABLES	0x200000ull
#define L2_TABLES_END	0x400000ull
#define TDP_TABLES	0x800000ull
#define TDP_TABLES_END	0xa00000ull
#define L2_GVA_BASE	0x0000000040400000ull
#define L2_DATA_GPA	0x600000ull
#define L1_DATA_OFF	0x1000000ull	/* L1 GPA = L2 GPA + this for data */

#define UPPER		(PTB_P | PTB_W | PTB_U)
#define EPTP_WB		6ull

#include "helpers/nested_env.h"
#define ITERS		2000

#define GVA_BITS	(EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED)

/* ---- the environment: copied from test_walk_nested_layout.c ---- */

/* ---- randomness ---- */

static u64 rng_state;

static u64 rnd(u64 n)
{
	/* xorshift64*: deterministic per seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 2685821657736338717ull >> 11) % n;
}

/* true with probability @pct % */
static bool chance(unsigned pct)
{
	return rnd(100) < pct;
}

/* ---- one random guest ---- */

struct guest {
	bool intel, ad, mbec, execonly, gmet;
	int tdp_levels;
	u64 eptp;
	u64 cr0, cr4, efer;
	int l2_leaf_level;		/* 1 or 2 (PS) */
	u64 gva;
	u64 l2_pte_gpa[4];		/* L2 entries for gva, level 1..4 */
	u64 final_l2gpa;		/* the L2 GPA the leaf points at */
	enum tdp_access_op op;
	unsigned cpl;
};

/* Random EPT / NPT rights for a leaf mapping page @l2gpa to @l1gpa. */
static u64 rand_tdp_leaf(struct guest *g, u64 l1gpa)
{
	u64 f = l1gpa;

	if (g->intel) {
		static const u64 xwr[] = { 7, 7, 7, 7, 1, 3, 5, 4, 0, 2, 6 };

		f |= xwr[rnd(sizeof(xwr) / sizeof(xwr[0]))];
		f |= PTB_EPT_MT_WB;
		if (chance(40))
			f |= PTB_EPT_XU;
		if (chance(50))
			f |= PTB_EPT_A;
		if (chance(30))
			f |= PTB_EPT_D;
	} else {
		f |= chance(92) ? PTB_P : 0;
		f |= chance(75) ? PTB_W : 0;
		f |= chance(80) ? PTB_U : 0;
		f |= chance(15) ? PTB_NX : 0;
		f |= chance(50) ? PTB_A : 0;
		f |= chance(30) ? PTB_D : 0;
	}
	return f;
}

/* Random L2 PTE flags for level @level (@leaf: it maps the page). */
static u64 rand_l2_flags(bool leaf)
{
	u64 f = 0;

	f |= chance(96) ? PTB_P : 0;
	f |= chance(leaf ? 70 : 92) ? PTB_W : 0;
	f |= chance(leaf ? 60 : 92) ? PTB_U : 0;
	f |= chance(60) ? PTB_A : 0;
	if (leaf)
		f |= chance(50) ? PTB_D : 0;
	f |= chance(leaf ? 20 : 3) ? PTB_NX : 0;
	if (chance(2))
		f |= 1ull << 51;		/* above MAXPHYADDR 46: reserved */
	return f;
}

/* @table: a page of L2's tables, mostly mapped with full rights */
static void map_tdp_page(struct nenv *e, struct guest *g, u64 l2gpa, u64 l1gpa,
			 bool table)
{
	u64 table_flags = e->npt ? UPPER : PTB_EPT_RWX | PTB_EPT_XU;
	u64 leaf = rand_tdp_leaf(g, l1gpa);

	if (table && chance(80))
		leaf |= e->npt ? UPPER : PTB_EPT_RWX;
	ptb_map(&e->tb, PTB_FMT_64, e->tdp_root, e->tdp_levels, l2gpa, 1, 0,
		table_flags, 0);
	ptb_write64(&e->tb, ptb_entry_gpa(&e->tb, PTB_FMT_64, e->tdp_root,
					  e->tdp_levels, l2gpa, 1), leaf);
}

static void build(struct nenv *e, struct guest *g, bool intel)
{
	u64 l2_leaf_pa, pte, tdp_table_end;
	bool huge_tdp;

	memset(g, 0, sizeof(*g));
	g->intel = intel;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	g->mbec = intel && chance(50);
	g->gmet = !intel && chance(50);
#endif
	if (intel) {
		g->ad = chance(50);
		g->execonly = chance(80);
		g->tdp_levels = chance(20) ? 5 : 4;
		g->eptp = nenv_vmx(e, g->tdp_levels, g->ad, g->mbec, g->execonly);
	} else {
		g->tdp_levels = 4;
		nenv_svm(e, g->gmet ? SVM_MISC_ENABLE_GMET : 0);
	}

	/* L2's tables: 4-level, GVA -> a 4K page or a 2M page */
	g->l2_leaf_level = chance(25) ? 2 : 1;
	g->gva = L2_GVA_BASE + rnd(0x200000);
	if (g->l2_leaf_level == 2)
		l2_leaf_pa = L2_DATA_GPA | (chance(3) ? 1ull << 13 : 0);
	else
		l2_leaf_pa = L2_DATA_GPA + (rnd(512) << 12);
	e->l2_root = ptb_table(&e->b);
	ptb_map(&e->b, PTB_FMT_64, e->l2_root, 4, g->gva, g->l2_leaf_level,
		l2_leaf_pa, UPPER, 0);
	for (int l = 4; l >= g->l2_leaf_level; l--)
		g->l2_pte_gpa[l - 1] = ptb_entry_gpa(&e->b, PTB_FMT_64, e->l2_root,
						     4, g->gva, l);
	for (int l = 4; l >= g->l2_leaf_level; l--) {
		bool leaf = l == g->l2_leaf_level;

		pte = ptb_read64(&e->b, g->l2_pte_gpa[l - 1]);
		if (!leaf)
			pte &= ~0xfffull;
		pte |= rand_l2_flags(leaf) | (leaf && l == 2 ? PTB_PS : 0);
		ptb_write64(&e->b, g->l2_pte_gpa[l - 1], pte);
	}
	g->final_l2gpa = (l2_leaf_pa & ~((1ull << (12 + 9 * (g->l2_leaf_level - 1))) - 1)) +
			 (g->gva & ((1ull << (12 + 9 * (g->l2_leaf_level - 1))) - 1));

	/* L1's EPT/NPT: L2's table pages 1:1, the data page(s) at +16M */
	for (u64 gpa = L2_TABLES; gpa < e->b.next; gpa += 4096)
		map_tdp_page(e, g, gpa, gpa, true);
	huge_tdp = chance(15);
	if (huge_tdp) {
		u64 table_flags = e->npt ? UPPER : PTB_EPT_RWX | PTB_EPT_XU;
		u64 leaf = rand_tdp_leaf(g, L2_DATA_GPA + L1_DATA_OFF);

		ptb_map(&e->tb, PTB_FMT_64, e->tdp_root, e->tdp_levels,
			L2_DATA_GPA, 2, 0, table_flags, 0);
		ptb_write64(&e->tb, ptb_entry_gpa(&e->tb, PTB_FMT_64, e->tdp_root,
						  e->tdp_levels, L2_DATA_GPA, 2),
			    leaf | (e->npt ? PTB_PS : PTB_EPT_PS));
	} else {
		u64 page = g->final_l2gpa & ~0xfffull;

		map_tdp_page(e, g, page, page + L1_DATA_OFF, false);
	}
	/* now and then an EPT/NPT table entry loses rights */
	tdp_table_end = e->tb.next;
	if (chance(15)) {
		u64 t = TDP_TABLES + (rnd((tdp_table_end - TDP_TABLES) >> 12) << 12);

		for (unsigned i = 0; i < 512; i++) {
			u64 a = t + i * 8, v = ptb_read64(&e->tb, a);

			if (!v || (v & PTB_PS))
				continue;
			/* a non-leaf entry: entries of level-1 tables point
			 * above TDP_TABLES_END only for data, skip those */
			if ((v & ~0xfffull & ((1ull << 52) - 1)) < TDP_TABLES ||
			    (v & ~0xfffull & ((1ull << 52) - 1)) >= TDP_TABLES_END)
				continue;
			if (e->npt)
				v &= ~(chance(50) ? PTB_W : chance(50) ? PTB_U : PTB_P);
			else
				v &= ~(chance(40) ? PTB_EPT_W : chance(50) ? PTB_EPT_X :
				       chance(50) ? PTB_EPT_XU : PTB_EPT_RWX);
			ptb_write64(&e->tb, a, v);
		}
	}

	/* L2's registers: long mode, WP / SMEP / NXE at random */
	g->cr0 = X86_CR0_PG | X86_CR0_PE | (chance(80) ? X86_CR0_WP : 0);
	g->cr4 = X86_CR4_PAE | (chance(30) ? X86_CR4_SMEP : 0);
	g->efer = EFER_LME | EFER_LMA | (chance(85) ? EFER_NX : 0);
	e->v.arch.cr0 = g->cr0;
	e->v.arch.cr4 = g->cr4;
	e->v.arch.efer = g->efer;
	e->v.arch.cr3 = e->l2_root;
	kvm_init_mmu(&e->v);
	cr_assert_eq(e->v.arch.nested_mmu.gva_to_gpa, paging64_gva_to_gpa);

	g->op = (enum tdp_access_op)rnd(3);
	g->cpl = chance(50) ? 3 : 0;
}

/* ---- snapshots of the table pages (both sides set A/D flags) ---- */

struct snap {
	u8 l2[L2_TABLES_END - L2_TABLES];
	u8 tdp[TDP_TABLES_END - TDP_TABLES];
	u64 l2_len, tdp_len;
};

static void snap_take(struct nenv *e, struct snap *s)
{
	s->l2_len = e->b.next - L2_TABLES;
	s->tdp_len = e->tb.next - TDP_TABLES;
	cr_assert_eq(tdp_gmem_read_bytes(e->gm, L2_TABLES, s->l2, s->l2_len), 0);
	cr_assert_eq(tdp_gmem_read_bytes(e->gm, TDP_TABLES, s->tdp, s->tdp_len), 0);
}

static void snap_restore(struct nenv *e, const struct snap *s)
{
	cr_assert_eq(tdp_gmem_write_bytes(e->gm, L2_TABLES, s->l2, s->l2_len), 0);
	cr_assert_eq(tdp_gmem_write_bytes(e->gm, TDP_TABLES, s->tdp, s->tdp_len), 0);
}

/* ---- the two sides ---- */

static void run_hw(struct nenv *e, struct guest *g, struct hw_result *res)
{
	struct hw_mem mem = hw_mem_gmem(e->gm, 46);
	struct hw_regs r = {
		.cr0 = g->cr0, .cr3 = e->l2_root, .cr4 = g->cr4, .efer = g->efer,
		.maxphyaddr = 46,
	};
	struct hw_stage2 s2;
	struct hw_access a = { .addr = g->gva, .op = g->op, .cpl = g->cpl };

	if (g->intel)
		s2 = (struct hw_stage2){ .kind = HW_S2_EPT, .eptp = g->eptp,
					 .mbec = g->mbec, .execonly = g->execonly };
	else
		s2 = (struct hw_stage2){ .kind = HW_S2_NPT, .ncr3 = e->tdp_root,
					 .npt_levels = 4, .gmet = g->gmet };
	memset(res, 0, sizeof(*res));
	hw_translate(&mem, &r, &s2, &a, res);
}

static gpa_t run_port(struct nenv *e, struct guest *g, struct x86_exception *ex)
{
	struct kvm_mmu *mmu = e->v.arch.walk_mmu;
	u64 access = (g->op == TDP_OP_WRITE ? PFERR_WRITE_MASK : 0) |
		     (g->op == TDP_OP_FETCH ? PFERR_FETCH_MASK : 0) |
		     (g->cpl == 3 ? PFERR_USER_MASK : 0);

	memset(ex, 0, sizeof(*ex));
	return mmu->gva_to_gpa(&e->v, mmu, g->gva, access, ex);
}

/* ---- comparing ---- */

static const char *const kind_name[] = { "ok", "#PF", "ept-violation",
					 "ept-misconfig", "#NPF" };
static const char *const op_name[] = { "read", "write", "fetch" };

/* the EPT/NPT rights ANDed over the walk of @l2gpa, -1 if not mapped */
static u64 tdp_rights(struct nenv *e, u64 l2gpa, int *level)
{
	u64 table = e->tdp_root, rights = ~0ull;

	for (int l = e->tdp_levels; l >= 1; l--) {
		u64 v = ptb_read64(&e->tb, table + ptb_index(PTB_FMT_64, l2gpa, l) * 8);

		rights &= e->npt ? (v ^ PTB_NX) : v;
		*level = l;
		if (l == 1 || (v & PTB_PS))
			return rights;
		table = v & 0x000ffffffffff000ull;
		if (!(v & (e->npt ? PTB_P : PTB_EPT_RWX | PTB_EPT_XU)))
			return rights;
	}
	return rights;
}

enum excl {
	EX_NONE,
	EX_EPT_TABLE_AS_WRITE,
	EX_OLD_EPT_READ_AS_USER,
	EX_OLD_NPT_NO_STAGE,
	EX_OLD_EPT_EXEC_ONLY,
	EX_PAGE_ADDRESS,
	EX_GMET_ERRATUM_1218,
	EX_NR
};

static const char *const excl_name[EX_NR] = {
	[EX_NONE] = "none",
	[EX_EPT_TABLE_AS_WRITE] = "EPT A/D off: L2 table access checked as a write",
	[EX_OLD_EPT_READ_AS_USER] = "old layout: EPT accesses carry ACC_READ",
	[EX_OLD_NPT_NO_STAGE] = "old layout: no EXITINFO1 bits 32/33",
	[EX_OLD_EPT_EXEC_ONLY] = "old layout: no fetch from an execute-only EPT page",
	[EX_PAGE_ADDRESS] = "fault GPA without page offset",
	[EX_GMET_ERRATUM_1218] = "GMET fetch: EXITINFO1.U (erratum 1218)",
};

static unsigned excl_count[EX_NR];

static bool l2_table_gpa(struct nenv *e, u64 gpa)
{
	return gpa >= L2_TABLES && gpa < e->b.next;
}

/*
 * The L2 GPA of a stage-2 fault.  KVM's walker translates page addresses,
 * of a table and of the final page alike (paging_tmpl.h
 * FNAME(walk_addr_generic): "real_gpa = kvm_translate_gpa(vcpu, mmu,
 * gfn_to_gpa(table_gfn), nested_access, &walker->fault)" and
 * "real_gpa = kvm_translate_gpa(vcpu, mmu, gfn_to_gpa(gfn), access,
 * &walker->fault)"), so its fault.address has no page offset, while the CPU
 * reports the byte's (SDM 28.2.1 guest-physical address; APM EXITINFO2):
 * the page offset of the CPU's GPA is dropped, nothing else.
 */
static bool same_fault_gpa(const struct hw_result *hw,
			   const struct x86_exception *ex, unsigned *why)
{
	if (ex->address == hw->gpa)
		return true;
	if (ex->address == (hw->gpa & ~0xfffull)) {
		*why |= 1u << EX_PAGE_ADDRESS;
		return true;
	}
	return false;
}

/*
 * Whether the two results are equal, up to KVM's own divergences; @why
 * says which divergence excused a difference.
 */
static bool agree(struct nenv *e, struct guest *g, const struct hw_result *hw,
		  gpa_t gpa, const struct x86_exception *ex, unsigned *why)
{
	*why = 0;

	/*
	 * KVM's software walker checks every L2 paging-structure access
	 * against L1's EPT as a write whenever the L2 walk has A/D
	 * (paging_tmpl.h FNAME(walk_addr_generic): "nested_access = (have_ad
	 * ? PFERR_WRITE_MASK : 0) | PFERR_USER_MASK", and so the qualification
	 * has ACC_WRITE|ACC_READ), while the CPU with EPT A/D off reads the
	 * entry (SDM 29.3.5 / 29.3.3.2; qualification 0x81) and writes it only
	 * to set a clear A/D flag, after the final translation.  When the port
	 * stops at an L2 table page whose EPT mapping is readable but not
	 * writable, or reports write on a table page that is not mapped, the
	 * CPU may go on.  Only this case: EPT, A/D off, the port's fault at an
	 * L2 table GPA with ACC_WRITE for an access that is not a write.
	 */
	if (g->intel && !g->ad && gpa == INVALID_GPA && ex->nested_page_fault &&
	    l2_table_gpa(e, ex->address) &&
	    !(ex->error_code & PFERR_RSVD_MASK) &&
	    (ex->exit_qualification & EPT_VIOLATION_ACC_WRITE)) {
		int lvl;
		u64 r = tdp_rights(e, ex->address & ~0xfffull, &lvl);

		/*
		 * Readable, not writable: the port's qualification is a
		 * read+write refused for want of W; the CPU reads on, and can
		 * only stop at this table or a later point of the walk (L2's
		 * table pages are allocated in walk order).
		 */
		if ((r & PTB_EPT_R) && !(r & PTB_EPT_W) &&
		    (ex->exit_qualification & (EPT_VIOLATION_ACC_READ |
					       EPT_VIOLATION_ACC_WRITE |
					       EPT_VIOLATION_ACC_INSTR |
					       EPT_VIOLATION_PROT_READ |
					       EPT_VIOLATION_PROT_WRITE)) ==
		    (EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE |
		     EPT_VIOLATION_PROT_READ) &&
		    !((hw->kind == HW_EPT_VIOLATION || hw->kind == HW_EPT_MISCONFIG) &&
		      l2_table_gpa(e, hw->gpa) &&
		      (hw->gpa & ~0xfffull) < (ex->address & ~0xfffull))) {
			*why |= 1u << EX_EPT_TABLE_AS_WRITE;
			return true;
		}
		/* not readable: both stop here, the CPU's qualification is
		 * a read (bit 1 clear), the port's a read + write */
		if (!(r & PTB_EPT_R) && hw->kind == HW_EPT_VIOLATION &&
		    same_fault_gpa(hw, ex, why) &&
		    !(hw->qual & EPT_VIOLATION_ACC_WRITE) &&
		    ((hw->qual ^ ex->exit_qualification) & 0x1ff) ==
		    EPT_VIOLATION_ACC_WRITE) {
			*why |= 1u << EX_EPT_TABLE_AS_WRITE;
			return true;
		}
	}

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	/*
	 * Pre-series KVM: translate_nested_gpa (x86.c) makes every nested
	 * access a user access ("NPT walks are always user-walks"), and the
	 * EPT walker's FNAME(gpte_access) turned R into ACC_USER_MASK, so
	 * the software walker refuses a fetch from an execute-only EPT page
	 * (X without R) that the CPU allows.  Only a final fetch, the
	 * qualification saying "read+fetch, X granted, R not".
	 */
	if (g->intel && hw->kind == HW_OK && g->op == TDP_OP_FETCH &&
	    gpa == INVALID_GPA && ex->nested_page_fault &&
	    ex->address == (hw->gpa & ~0xfffull) &&
	    (ex->exit_qualification & 0x3f) ==
	    (EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_INSTR |
	     EPT_VIOLATION_PROT_EXEC)) {
		*why |= 1u << EX_OLD_EPT_EXEC_ONLY;
		return true;
	}
#endif
	if (hw->kind == HW_OK)
		return gpa != INVALID_GPA && gpa == hw->hpa;
	if (gpa != INVALID_GPA)
		return false;

	switch (hw->kind) {
	case HW_PF:
		return !ex->nested_page_fault && ex->address == g->gva &&
		       (ex->error_code & 0xffff) == (hw->error_code & 0xffff);
	case HW_EPT_MISCONFIG:
		/* the CPU does not say which stage: a table if it is one */
		return g->intel && ex->nested_page_fault &&
		       same_fault_gpa(hw, ex, why) &&
		       (ex->error_code & PFERR_RSVD_MASK);
	case HW_EPT_VIOLATION: {
		u64 want = hw->qual & 0x1ff, got = ex->exit_qualification & 0x1ff;

		if (!g->intel || !ex->nested_page_fault ||
		    !same_fault_gpa(hw, ex, why) ||
		    (ex->error_code & PFERR_RSVD_MASK))
			return false;
		if (got == want)
			return true;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
		/*
		 * Pre-series KVM: translate_nested_gpa (x86.c) ORs
		 * PFERR_USER_MASK into every nested access, and the EPT
		 * walker reported it as a read ("if (user_fault) eq |=
		 * EPT_VIOLATION_ACC_READ", paging_tmpl.h before 0035), so
		 * writes and fetches also carry bit 0.
		 */
		if ((got & ~(u64)EPT_VIOLATION_ACC_READ) ==
		    (want & ~(u64)EPT_VIOLATION_ACC_READ) &&
		    (got & EPT_VIOLATION_ACC_READ)) {
			*why |= 1u << EX_OLD_EPT_READ_AS_USER;
			return true;
		}
#endif
		return false;
	}
	case HW_NPF: {
		u64 mask = 0x1full | PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK;

		if (g->intel || !ex->nested_page_fault ||
		    !same_fault_gpa(hw, ex, why))
			return false;
		if ((ex->error_code & mask) == (hw->error_code & mask))
			return true;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		/*
		 * AMD erratum 1218: with GMET the CPU may set EXITINFO1.U on
		 * any fetch fault (the model always does), and KVM recomputes
		 * U from the CPL (npf_interception, series patch 0046; the
		 * engine's handle_tdp_exit in src/kvm/run.c).  The software
		 * walker gives the architectural value: U clear for a CPL0
		 * final fetch.  Only that bit, only then.
		 */
		if (g->gmet && g->op == TDP_OP_FETCH && g->cpl == 0 &&
		    (hw->error_code & PFERR_GUEST_FINAL_MASK) &&
		    ((ex->error_code ^ hw->error_code) & mask) == PFERR_USER_MASK &&
		    (hw->error_code & PFERR_USER_MASK)) {
			*why |= 1u << EX_GMET_ERRATUM_1218;
			return true;
		}
#endif
#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
		/*
		 * Pre-series KVM had no PFERR_GUEST_FINAL/PAGE in the
		 * walker's fault (nested_svm_inject_npf_exit took bits 32/33
		 * from the hardware exit): compare bits 4:0 only.
		 */
		if ((ex->error_code & 0x1f) == (hw->error_code & 0x1f)) {
			*why |= 1u << EX_OLD_NPT_NO_STAGE;
			return true;
		}
#endif
		return false;
	}
	default:
		return false;
	}
}

#define ULL(x)	((unsigned long long)(x))

static void dump(struct nenv *e, struct guest *g, u64 seed, unsigned it,
		 const struct hw_result *hw, gpa_t gpa,
		 const struct x86_exception *ex)
{
	int tl = 0;
	u64 r;

	fprintf(stderr, "seed %#llx iteration %u: %s %s%s%s exec-only %d, "
		"L2 cr0 %#llx cr4 %#llx efer %#llx, %s at CPL%u gva %#llx\n",
		ULL(seed), it, g->intel ? "EPT" : "NPT",
		g->intel ? (g->ad ? "A/D on" : "A/D off") : "",
		g->mbec ? " MBEC" : "", g->gmet ? " GMET" : "", g->execonly,
		ULL(g->cr0), ULL(g->cr4), ULL(g->efer), op_name[g->op], g->cpl,
		ULL(g->gva));
	for (int l = 4; l >= g->l2_leaf_level; l--) {
		u64 pa = g->l2_pte_gpa[l - 1];

		r = tdp_rights(e, pa & ~0xfffull, &tl);
		fprintf(stderr, "  L2 level %d pte @%#llx = %#llx (after the port's walk);"
			" its table page's EPT/NPT rights %#llx\n", l, ULL(pa),
			ULL(ptb_read64(&e->b, pa)), ULL(r & 0xfffull));
	}
	r = tdp_rights(e, g->final_l2gpa & ~0xfffull, &tl);
	fprintf(stderr, "  final L2 GPA %#llx: EPT/NPT rights %#llx (nx %d), leaf level %d\n",
		ULL(g->final_l2gpa), ULL(r & 0xfffull), !!(r & PTB_NX), tl);
	fprintf(stderr, "  hw:   %s hpa %#llx gpa %#llx ec %#llx qual %#llx\n",
		kind_name[hw->kind], ULL(hw->hpa), ULL(hw->gpa),
		ULL(hw->error_code), ULL(hw->qual));
	fprintf(stderr, "  port: gpa %#llx nested %d address %#llx ec %#llx qual %#llx\n",
		ULL(gpa), ex->nested_page_fault, ULL(ex->address),
		ULL(ex->error_code), ULL(ex->exit_qualification));
}

static void diff_run(bool intel, u64 seed)
{
	static struct snap before, after_hw;
	unsigned fails = 0, kinds[5] = { 0 }, exact = 0;

	memset(excl_count, 0, sizeof(excl_count));
	rng_state = seed;
	for (unsigned it = 0; it < ITERS; it++) {
		struct nenv e;
		struct guest g;
		struct hw_result hw;
		struct x86_exception ex;
		unsigned why;
		gpa_t gpa;
		bool ok;

		build(&e, &g, intel);
		snap_take(&e, &before);
		run_hw(&e, &g, &hw);
		snap_take(&e, &after_hw);
		snap_restore(&e, &before);
		/*
		 * Pre-series KVM took qualification bits 8:7 from the
		 * hardware exit (__vmx_handle_ept_violation ->
		 * vcpu->arch.exit_qualification); give it the CPU's.
		 */
		e.v.arch.exit_qualification = hw.kind == HW_EPT_VIOLATION ?
					      hw.qual & GVA_BITS : GVA_BITS;
		gpa = run_port(&e, &g, &ex);

		ok = agree(&e, &g, &hw, gpa, &ex, &why);
		/* both translated: L2's A/D flags must agree too */
		if (ok && hw.kind == HW_OK && gpa != INVALID_GPA) {
			u8 l2[L2_TABLES_END - L2_TABLES];

			cr_assert_eq(tdp_gmem_read_bytes(e.gm, L2_TABLES, l2,
							 before.l2_len), 0);
			if (memcmp(l2, after_hw.l2, before.l2_len)) {
				fprintf(stderr, "L2 A/D flags differ:\n");
				ok = false;
			}
			{
				static u8 tdp[TDP_TABLES_END - TDP_TABLES];

				cr_assert_eq(tdp_gmem_read_bytes(e.gm, TDP_TABLES, tdp,
								 before.tdp_len), 0);
				for (u64 i = 0; i < before.tdp_len; i += 8) {
					u64 x, y;

					memcpy(&x, tdp + i, 8);
					memcpy(&y, after_hw.tdp + i, 8);
					if (x != y) {
						fprintf(stderr, "TDP entry @%#llx: port %#llx hw %#llx\n",
							ULL(TDP_TABLES + i), ULL(x), ULL(y));
						ok = false;
					}
				}
			}
		}
		if (!ok) {
			if (fails++ < 8)
				dump(&e, &g, seed, it, &hw, gpa, &ex);
		} else {
			kinds[hw.kind]++;
			exact += !why;
			for (int i = 1; i < EX_NR; i++)
				if (why & (1u << i))
					excl_count[i]++;
		}
		tdp_gmem_destroy(e.gm);
	}
	fprintf(stderr, "%s seed %#llx: %u accesses, hw ok %u #PF %u EPT violation %u "
		"misconfig %u #NPF %u; %u equal as is\n", intel ? "EPT" : "NPT",
		ULL(seed), ITERS, kinds[HW_OK], kinds[HW_PF], kinds[HW_EPT_VIOLATION],
		kinds[HW_EPT_MISCONFIG], kinds[HW_NPF], exact);
	for (int i = 1; i < EX_NR; i++)
		if (excl_count[i])
			fprintf(stderr, "%s seed %#llx: %u x excluded: %s\n",
				intel ? "EPT" : "NPT", ULL(seed), excl_count[i], excl_name[i]);
	cr_assert_eq(fails, 0, "%u of %u accesses differ (seed %#llx)",
		     fails, ITERS, ULL(seed));
}

static u64 seed_from_env(u64 dflt)
{
	const char *s = getenv("TDPSIM_DIFF_SEED");

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

Test(diff_nested, intel_ept)
{
	diff_run(true, seed_from_env(0x5eed0001ull));
}

Test(diff_nested, amd_npt)
{
	diff_run(false, seed_from_env(0x5eed0002ull));
}
