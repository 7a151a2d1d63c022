// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CPU model's stage 1 (src/hw/paging.c) without stage 2, against the
 * SDM Vol. 3A ch. 4: hand-computed cases (they were the reference walker's
 * own tests when it lived in tests/oracle), then enumerations whose
 * expected values come from the rules written as plain predicates here
 * and in tests/oracle/perm_oracle.c.  Memory is one gmem: guest frame n
 * at host frame n.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>
#include <tdpsim/hw_tlb.h>

#include "helpers/hw_util.h"
#include "oracle/perm_oracle.h"

#define gm	hw_fx_gmem
#define mem	hw_fx_mem

static void fresh_mem(void) { hw_fx_init(1ull << 34); }

TestSuite(hw_paging, .init = fresh_mem, .fini = hw_fx_fini);

static void put64(uint64_t gpa, uint64_t v) { cr_assert_eq(tdp_gmem_write(gm, gpa, 8, v), 0); }
static void put32(uint64_t gpa, uint32_t v) { cr_assert_eq(tdp_gmem_write(gm, gpa, 4, v), 0); }
static uint64_t get64(uint64_t gpa) { uint64_t v = 0; tdp_gmem_read(gm, gpa, 8, &v); return v; }
static uint32_t get32(uint64_t gpa) { uint64_t v = 0; tdp_gmem_read(gm, gpa, 4, &v); return (uint32_t)v; }

/* 4-level: gva 0x401000 -> PML4[0] PDPT[0] PD[2] PT[1] -> page 0x9000 */
static void build_4level(uint64_t pte_flags, uint64_t upper_flags)
{
	put64(0x1000, 0x2000 | upper_flags);	/* PML4E */
	put64(0x2000, 0x3000 | upper_flags);	/* PDPTE */
	put64(0x3000 + 2 * 8, 0x4000 | upper_flags); /* PDE for 0x400000 */
	put64(0x4000 + 1 * 8, 0x9000 | pte_flags);   /* PTE for 0x401000 */
}

static struct hw_regs regs64(void)
{
	struct hw_regs r = {
		.cr0 = (1ull << 31) | (1ull << 16) | 1, .cr3 = 0x1000,
		.cr4 = 1ull << 5, .efer = (1ull << 8) | (1ull << 10) | (1ull << 11),
		.maxphyaddr = 46, .pse36 = true,
	};
	return r;
}

Test(hw_paging, ok_sets_accessed_and_dirty)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401234, .op = TDP_OP_WRITE, .cpl = 3 };
	struct hw_result res;

	build_4level(7, 7);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK, "ec=%lx", res.error_code);
	cr_expect_eq(res.gpa, 0x9234);
	cr_expect_eq(get64(0x4008) & 0x60, 0x60, "leaf A+D");
	cr_expect_eq(get64(0x3010) & 0x60, 0x20, "PDE A only");
	cr_expect_eq(get64(0x1000) & 0x60, 0x20, "PML4E A only");
}

/*
 * SDM 4.10.2.4: a translation is global iff CR4.PGE=1 and G (bit 8) is
 * set in the entry that maps the page (G of a non-leaf entry is ignored).
 * MOV to CR3 without PCIDE keeps global TLB entries, a PGE toggle does
 * not (4.10.4.1): the TLB model's two flushes.
 */
Test(hw_paging, global_translation_and_tlb_flushes)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_READ, .cpl = 0 };
	struct hw_tlb_entry tlb[HW_TLB_ENTRIES] = { 0 };
	struct hw_result res;

	build_4level(0x103, 0x103);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK);
	cr_expect_not(res.global, "CR4.PGE=0: G is ignored");
	r.cr4 |= 1ull << 7;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK);
	cr_expect(res.global, "CR4.PGE=1 and G in the PTE");
	build_4level(0x003, 0x103);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect_not(res.global, "G only in the upper entries");

	tlb[1] = (struct hw_tlb_entry){ .tag = 2, .global = true };
	tlb[2] = (struct hw_tlb_entry){ .tag = 3 };
	hw_tlb_flush_nonglobal(tlb);
	cr_expect_eq(tlb[1].tag, 2, "MOV CR3 keeps a global entry");
	cr_expect_eq(tlb[2].tag, 0, "and drops the others");
	hw_tlb_flush(tlb);
	cr_expect_eq(tlb[1].tag, 0, "a PGE toggle drops global entries too");
}

Test(hw_paging, user_write_to_readonly_is_p_w_u)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_WRITE, .cpl = 3 };
	struct hw_result res;

	build_4level(5, 7);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_expect_eq(res.error_code, 7);
	cr_expect_eq(get64(0x4008) & 0x20, 0, "no A bit on a fault");
}

Test(hw_paging, not_present_pde_fetch_with_nx)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_FETCH, .cpl = 0 };
	struct hw_result res;

	build_4level(7, 7);
	put64(0x3010, 0);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_expect_eq(res.error_code, 0x10, "I/D only, P=0");
	r.efer &= ~(1ull << 11);		/* no NXE, no SMEP: no I/D bit */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect_eq(res.error_code, 0);
}

Test(hw_paging, smap_and_ac)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_READ, .cpl = 0 };
	struct hw_result res;

	build_4level(7, 7);
	r.cr4 |= 1ull << 21;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_PF && res.error_code == 1, "supervisor read of user page under SMAP");
	a.ac = true;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_OK, "AC=1 lifts SMAP for explicit accesses");
	a.implicit = true;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_PF && res.error_code == 1, "implicit access ignores AC");
}

Test(hw_paging, reserved_bit_above_maxphyaddr)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_READ, .cpl = 3 };
	struct hw_result res;

	build_4level(7 | (1ull << 47), 7);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_expect_eq(res.error_code, 0xd, "P|U|RSVD");
}

Test(hw_paging, pkru_write_disable_supervisor_with_wp)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .addr = 0x401000, .op = TDP_OP_WRITE, .cpl = 0 };
	struct hw_result res;

	build_4level(7 | (3ull << 59), 7);	/* key 3 */
	r.cr4 |= 1ull << 22;
	r.pkru = 2u << (2 * 3);			/* WD for key 3 */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_PF && res.error_code == (1 | 2 | 0x20), "ec=%lx", res.error_code);
	r.cr0 &= ~(1ull << 16);			/* WP=0: supervisor ignores WD */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_OK);
}

Test(hw_paging, pse_4m_page_32bit)
{
	struct hw_regs r = { .cr0 = (1ull << 31) | 1, .cr3 = 0x1000,
			      .cr4 = 1ull << 4, .maxphyaddr = 36, .pse36 = true };
	struct hw_access a = { .addr = 0x00c01234, .op = TDP_OP_READ, .cpl = 0 };
	struct hw_result res;
	uint32_t pde = 0x00800000 | (1u << 13) | 0x83;	/* PA 0x1_0080_0000 */

	put32(0x1000 + 3 * 4, pde);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK, "ec=%lx", res.error_code);
	cr_expect_eq(res.gpa, 0x100801234ull);
	cr_expect_eq(res.level, 2);
	pde |= 1u << 17;			/* beyond MAXPHYADDR 36: reserved */
	put32(0x1000 + 3 * 4, pde);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_expect(res.kind == HW_PF && res.error_code == 9, "ec=%lx", res.error_code);
}

/* ---- enumerations against plain predicates ---- */

#define CR0_PGWP	((1ull << 31) | (1ull << 16) | 1)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)
#define CR4_PKE		(1ull << 22)
#define EFER_LM		((1ull << 8) | (1ull << 10))	/* LME + LMA */
#define EFER_NXE	(1ull << 11)

/*
 * 4 MiB pages (SDM §4.3, Table 4-4): PDE bit b in 13..20 holds physical
 * address bit b - 13 + 32 when PSE-36 is supported (M = min(MAXPHYADDR,
 * 40)), else M = 32; a bit for a PA bit >= M is reserved, and so is bit 21.
 */
Test(hw_paging, pse36_reserved_bits_by_maxphyaddr)
{
	static const unsigned maxphys[] = { 32, 36, 39, 40, 46, 52 };
	unsigned n = 0;

	for (unsigned m = 0; m < 6; m++)
	for (unsigned pse36 = 0; pse36 < 2; pse36++)
	for (unsigned b = 13; b <= 21; b++) {
		struct hw_regs r = { .cr0 = CR0_PGWP, .cr3 = 0x1000, .cr4 = CR4_PSE,
				     .maxphyaddr = maxphys[m], .pse36 = pse36 };
		struct hw_access a = { .addr = 0x00c01234, .op = TDP_OP_READ };
		struct hw_result res;
		unsigned width = pse36 ? (maxphys[m] > 40 ? 40 : maxphys[m]) : 32;
		bool rsvd = b == 21 || b - 13 + 32 >= width;

		put32(0x1000 + 3 * 4, 0x00800000u | (1u << b) | 0x83);
		hw_translate(&mem, &r, NULL, &a, &res);
		if (rsvd) {
			cr_assert_eq(res.kind, HW_PF, "m %u pse36 %u bit %u", maxphys[m], pse36, b);
			cr_assert_eq(res.error_code, 9);
		} else {
			cr_assert_eq(res.kind, HW_OK, "m %u pse36 %u bit %u", maxphys[m], pse36, b);
			cr_assert_eq(res.gpa, 0x801234ull | 1ull << (b - 13 + 32));
			cr_assert_eq(res.level, 2);
		}
		n++;
	}
	cr_expect_eq(n, 6 * 2 * 9);
}

/*
 * PAE (SDM §4.4.1): the walk uses the PDPTE registers, not memory; a
 * PDPTE register with P=0 is a not-present #PF; MOV to CR3 (here
 * hw_load_pdptes) refuses a present PDPTE with a reserved bit (2:1, 8:5,
 * 63:MAXPHYADDR).
 */
Test(hw_paging, pae_uses_pdpte_registers)
{
	struct hw_regs r = { .cr0 = CR0_PGWP, .cr3 = 0x1020, .cr4 = CR4_PAE,
			     .maxphyaddr = 36 };
	struct hw_access a = { .addr = 0x40201000 | 0x88, .op = TDP_OP_READ };
	struct hw_result res;

	put64(0x1020 + 8, 0x2000 | 1);		/* PDPTE 1 */
	put64(0x2000 + 8, 0x3000 | 7);		/* PDE 1 */
	put64(0x3000 + 8, 0x9000 | 7);		/* PTE 1 */
	cr_assert(hw_load_pdptes(&mem, NULL, &r));
	cr_assert_eq(r.pdpte[1], 0x2001);
	cr_assert_eq(r.pdpte[0], 0);
	put64(0x1020 + 8, 0);			/* memory changes, the register not */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK, "ec %lx", res.error_code);
	cr_assert_eq(res.gpa, 0x9088);
	a.addr = 0x1000;			/* PDPTE 0: P=0 */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_assert_eq(res.error_code, 0);

	for (unsigned b = 1; b < 64; b++) {
		bool rsvd = (b >= 1 && b <= 2) || (b >= 5 && b <= 8) || b >= 36;
		struct hw_regs r2 = r;

		if (b >= 12 && b < 36)
			continue;	/* address bits */
		put64(0x1020 + 16, 0x4000 | 1 | (1ull << b));
		cr_assert_eq(hw_load_pdptes(&mem, NULL, &r2), !rsvd, "bit %u", b);
		if (!rsvd)
			cr_assert_eq(r2.pdpte[2], 0x4001 | (1ull << b));
		else
			cr_assert_eq(r2.pdpte[1], r.pdpte[1], "a failed load loads nothing");
		/* not present: nothing is reserved */
		put64(0x1020 + 16, 0x4000 | (1ull << b));
		cr_assert(hw_load_pdptes(&mem, NULL, &r2));
	}
	put64(0x1020 + 16, 0);
}

/* 5-level paging (SDM §4.5): LA57 adds the PML5 index 56:48; PS there is reserved */
Test(hw_paging, la57_walk_and_pml5e_ps)
{
	struct hw_regs r = regs64();
	const uint64_t la = (3ull << 48) | 0x401234;
	struct hw_access a = { .addr = la, .op = TDP_OP_READ, .cpl = 3 };
	struct hw_result res;

	r.cr4 |= CR4_LA57;
	r.cr3 = 0x5000;
	put64(0x5000 + 3 * 8, 0x1000 | 7);	/* PML5E 3 -> the 4-level tree */
	build_4level(7, 7);
	put64(0x5000 + 3 * 8, 0x1000 | 7);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_OK, "ec %lx", res.error_code);
	cr_assert_eq(res.gpa, 0x9234);
	cr_assert_eq(get64(0x5000 + 3 * 8) & 0x20, 0x20, "A in the PML5E");
	put64(0x5000 + 3 * 8, 0x1000 | 7 | 0x80);
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_assert_eq(res.error_code, 0xd, "P|U|RSVD");
}

/*
 * SDM Vol. 3A §3.3.7.1: in IA-32e mode a linear address must be canonical
 * (bits 63:47 equal; 63:56 with LA57) or the access takes #GP(0) before
 * any paging-structure access: no A flag is set.  Outside IA-32e mode
 * (PAE) the rule does not exist.
 */
Test(hw_paging, noncanonical_is_gp_before_the_walk)
{
	struct hw_regs r = regs64();
	struct hw_access a = { .op = TDP_OP_READ, .cpl = 3 };
	struct hw_result res;

	build_4level(7, 7);
	/* bit 47 set, 63:48 clear: not canonical for 48 bits */
	a.addr = (1ull << 47) | 0x401234;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_GP);
	cr_expect_eq(get64(0x1000) & 0x20, 0, "nothing walked: PML4E A clear");
	/* the same with a write and a fetch */
	a.op = TDP_OP_WRITE;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_GP);
	a.op = TDP_OP_FETCH;
	a.addr = 0x8000000000401234ull;	/* bit 63 only */
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_GP);
	/* canonical upper half: walked (PML4E[256] absent: #PF, not #GP) */
	a.op = TDP_OP_READ;
	a.addr = 0xffff800000000000ull;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF);
	cr_assert_eq(res.error_code, 0x4, "not present, user read");
	/* with LA57 the same bit-47 address is canonical (bit 56 rule) */
	r.cr4 |= CR4_LA57;
	r.cr3 = 0x5000;
	put64(0x5000, 0x1000 | 7);	/* PML5E 0 -> the 4-level tree */
	a.addr = (1ull << 47) | 0x401234;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_PF, "PML4E[256] absent");
	a.addr = (1ull << 56) | 0x401234;
	hw_translate(&mem, &r, NULL, &a, &res);
	cr_assert_eq(res.kind, HW_GP, "bit 56 set, 63:57 clear");
}

/*
 * The I/D rule (SDM §4.7): a fetch fault reports I/D iff CR4.SMEP = 1, or
 * CR4.PAE = 1 and EFER.NXE = 1 -- never with 32-bit paging without SMEP.
 */
Test(hw_paging, id_bit_rule)
{
	for (unsigned mode = 0; mode < 3; mode++)	/* 32-bit, PAE, 4-level */
	for (unsigned nxe = 0; nxe < 2; nxe++)
	for (unsigned smep = 0; smep < 2; smep++)
	for (unsigned op = 0; op < 3; op++) {
		struct hw_regs r = { .cr0 = CR0_PGWP, .cr3 = 0x7000, .maxphyaddr = 46,
				     .cr4 = (mode ? CR4_PAE : 0) | (smep ? CR4_SMEP : 0),
				     .efer = (nxe ? EFER_NXE : 0) | (mode == 2 ? EFER_LM : 0) };
		struct hw_access a = { .addr = 0x1000, .op = (enum tdp_access_op)op };
		struct hw_result res;
		bool id = op == TDP_OP_FETCH && (smep || (mode && nxe));

		/* CR3 -> an empty table: not present at the top */
		hw_translate(&mem, &r, NULL, &a, &res);
		cr_assert_eq(res.kind, HW_PF);
		cr_assert_eq(res.error_code, (id ? 0x10u : 0) | (op == 1 ? 2u : 0),
			     "mode %u nxe %u smep %u op %u", mode, nxe, smep, op);
	}
}

static bool bitset(uint64_t v, unsigned b)
{
	return (v >> b) & 1;
}

/*
 * Access rights, every case of tests/oracle/perm_oracle.c (SDM §4.6 as
 * plain if/else) on a real 4-level walk: the leaf holds W/U/XD/key, the
 * upper levels allow everything.  Fault, error code (P, W, U, I/D, PK)
 * and, on success, the A/D flags.
 */
Test(hw_paging, rights_match_sdm_predicates, .timeout = 60)
{
	struct tdp_perm_query q;
	unsigned n = 0;

	for (unsigned i = 0; perm_case(TDP_PERM_PAGING, i, &q); i++) {
		struct hw_regs r = regs64();
		struct hw_access a = { .addr = 0x401000, .op = (enum tdp_access_op)q.op,
				       .cpl = q.user ? 3 : 0, .ac = q.ac,
				       .implicit = q.implicit };
		struct hw_result res;
		struct perm_verdict v;
		uint64_t leaf = 1 | (q.w ? 2 : 0) | (q.u ? 4 : 0) |
				(q.nx ? 1ull << 63 : 0) | (uint64_t)q.pkey << 59;
		uint64_t ec;
		char buf[256];

		if (!perm_case_legal(&q))
			continue;
		r.cr0 = q.cr0_wp ? CR0_PGWP : CR0_PGWP & ~(1ull << 16);
		r.cr4 = CR4_PAE | (q.cr4_smep ? CR4_SMEP : 0) | (q.cr4_smap ? CR4_SMAP : 0) |
			(q.cr4_pke ? CR4_PKE : 0);
		r.efer = EFER_LM | (q.efer_nx ? EFER_NXE : 0);
		r.pkru = q.pkru;
		build_4level(leaf, 7);
		perm_oracle(&q, &v);
		hw_translate(&mem, &r, NULL, &a, &res);
		perm_case_str(&q, buf, sizeof(buf));
		cr_assert_eq(res.kind, v.fault ? HW_PF : HW_OK, "%s", buf);
		ec = 1 | (q.op == TDP_PERM_WRITE ? 2 : 0) |
		     (q.user && !q.implicit ? 4 : 0) |
		     (q.op == TDP_PERM_FETCH && (q.efer_nx || q.cr4_smep) ? 0x10 : 0) |
		     (v.pk ? 0x20 : 0);
		if (v.fault) {
			cr_assert_eq(res.error_code, ec, "%s", buf);
			cr_assert_eq(get64(0x4008) & 0x60, 0, "no A/D on a fault: %s", buf);
		} else {
			cr_assert_eq(res.gpa, 0x9000);
			cr_assert_eq(res.w, q.w);
			cr_assert_eq(res.u, q.u);
			cr_assert_eq(res.nx, q.nx);
			cr_assert_eq(get64(0x4008) & 0x60,
				     q.op == TDP_PERM_WRITE ? 0x60u : 0x20u, "%s", buf);
		}
		n++;
	}
	cr_expect_gt(n, 10000);
}

/*
 * Reserved bits of 4-level entries (SDM §4.5, Tables 4-15 to 4-20), at
 * each level with and without PS, EFER.NXE 0/1, MAXPHYADDR 46: bits
 * 51:46, XD without NXE, PS in the PML4E, bits 29:13 (1 GiB) / 20:13
 * (2 MiB) in a large leaf; 62:52 and 11:8 are ignored.
 */
Test(hw_paging, reserved_bits_4level)
{
	static const unsigned bits[] = { 8, 9, 11, 12, 13, 20, 21, 29, 30, 45, 46, 51, 52, 58, 62, 63 };
	unsigned n = 0;

	for (unsigned level = 1; level <= 4; level++)
	for (unsigned ps = 0; ps < 2; ps++)
	for (unsigned nxe = 0; nxe < 2; nxe++)
	for (unsigned k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
		struct hw_regs r = regs64();
		struct hw_access a = { .addr = 0x401000, .op = TDP_OP_READ, .cpl = 3 };
		struct hw_result res;
		unsigned b = bits[k];
		uint64_t ea = level == 4 ? 0x1000 : level == 3 ? 0x2000 :
			      level == 2 ? 0x3010 : 0x4008;
		bool large = ps && (level == 2 || level == 3);
		bool rsvd;

		if (ps && level == 1)
			continue;	/* bit 7 of a PTE is PAT */
		if (!large && b >= 12 && b < 46)
			continue;	/* address of the next table */
		if (large && b >= (level == 3 ? 30u : 21u) && b < 46)
			continue;	/* address of the page */
		rsvd = (b >= 46 && b <= 51) || (b == 63 && !nxe) ||
		       (level == 4 && ps) ||
		       (large && b >= 13 && b < (level == 3 ? 30u : 21u));
		r.efer = nxe ? r.efer : r.efer & ~EFER_NXE;
		build_4level(7, 7);
		/* a large leaf maps frame 0, so its address bits are clear */
		put64(ea, (large ? get64(ea) & 0xfff : get64(ea)) | (ps ? 0x80 : 0) | (1ull << b));
		hw_translate(&mem, &r, NULL, &a, &res);
		if (rsvd) {
			cr_assert_eq(res.kind, HW_PF, "level %u ps %u nxe %u bit %u", level, ps, nxe, b);
			cr_assert_eq(res.error_code, 0xd, "level %u ps %u bit %u", level, ps, b);
		} else {
			cr_assert_eq(res.kind, HW_OK, "level %u ps %u nxe %u bit %u ec %lx",
				     level, ps, nxe, b, res.error_code);
			cr_assert_eq(res.level, large ? (int)level : 1);
		}
		n++;
	}
	cr_expect_gt(n, 100);
}

/*
 * A/D (SDM §4.8) with 4-byte entries: after a successful access, A is set
 * in the PDE and PTE, D in the PTE for a write only; bits already set stay.
 */
Test(hw_paging, accessed_dirty_32bit)
{
	for (unsigned init = 0; init < 4; init++)	/* leaf A, D preset */
	for (unsigned op = 0; op < 3; op++) {
		struct hw_regs r = { .cr0 = CR0_PGWP, .cr3 = 0x1000, .maxphyaddr = 32 };
		struct hw_access a = { .addr = 0x00401234, .op = (enum tdp_access_op)op };
		struct hw_result res;
		uint32_t pte = 0x9007 | (init & 1 ? 0x20 : 0) | (init & 2 ? 0x40 : 0);

		put32(0x1000 + 1 * 4, 0x2007);
		put32(0x2000 + 1 * 4, pte);
		hw_translate(&mem, &r, NULL, &a, &res);
		cr_assert_eq(res.kind, HW_OK);
		cr_assert_eq(res.gpa, 0x9234);
		cr_assert_eq(get32(0x1004), 0x2027u, "PDE: A only");
		cr_assert_eq(get32(0x2004), pte | 0x20 | (op == 1 ? 0x40 : 0), "init %u op %u", init, op);
		cr_assert_eq(res.dirty, bitset(get32(0x2004), 6));
	}
}

/*
 * PAE entries (SDM §4.4, Tables 4-10/4-11): bits 62:MAXPHYADDR are
 * reserved (not only 51:M as in 4-level paging), bit 63 without NXE.
 */
Test(hw_paging, reserved_bits_pae)
{
	for (unsigned b = 36; b < 64; b++)
	for (unsigned nxe = 0; nxe < 2; nxe++) {
		struct hw_regs r = { .cr0 = CR0_PGWP, .cr3 = 0x1000, .cr4 = CR4_PAE,
				     .efer = nxe ? EFER_NXE : 0, .maxphyaddr = 36,
				     .pdpte = { 0x2001 } };
		struct hw_access a = { .addr = 0x1000, .op = TDP_OP_READ };
		struct hw_result res;
		bool rsvd = b <= 62 || !nxe;

		put64(0x2000, 0x3007);
		put64(0x3008, 0x9007 | 1ull << b);
		hw_translate(&mem, &r, NULL, &a, &res);
		cr_assert_eq(res.kind, rsvd ? HW_PF : HW_OK, "bit %u nxe %u", b, nxe);
		if (rsvd)
			cr_assert_eq(res.error_code, 9);
	}
}
