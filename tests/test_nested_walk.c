// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested TDP beyond the leaf enumeration: faults on L2's paging structures
 * (KVM selftest nested_tdp_fault_test's four rows, every L2 level), 5-level,
 * execute-only and 2M/1G EPT, misconfigurations in non-leaf entries, INVEPT
 * dropping stale translations, MMIO, L2 with paging off under MBEC, MBEC's
 * user/supervisor from every L2 level, XU and GMET's U as ANDs over the
 * EPT/NPT levels, L1's registers across vmexit/vmenter, old vs new layout
 * (every trace here without MBEC/GMET runs on both), and bad input.  The
 * hand-written nested scenarios run in test_replay_scenarios.c.
 *
 * Every expected outcome here is written by hand (SDM 29.3.3 / 28.2.1,
 * APM 15.25.6, the selftest rows of /work/shared/reference/peers.md §1.2)
 * and must also agree with the predicate of tests/oracle/nested_oracle.c.
 *
 * Memory map: L2 tables at L2 GPAs 0x1000-0x10000, stored at L1 GPA +
 * 0x100000; EPT/NPT tables at L1 GPA 0x10000-0x30000; L2 data pages at
 * GVA = L2 GPA 0x200000 + k * 0x1000 (their own EPT/NPT page table, apart
 * from the one mapping the L2 tables), mapped to L1 GPA 0x600000 + ...
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/replay_util.h"
#include "helpers/run.h"
#include "oracle/nested_oracle.h"

#define TDP_BASE	0x10000ull
#define L2_TABLES	0x1000ull
#define L2_OFF		0x100000ull
#define DATA(k)		(0x200000ull + (uint64_t)(k) * 0x1000)
#define L1_DATA(k)	(0x600000ull + (uint64_t)(k) * 0x1000)
#define L1_PML4		0x80000ull

struct wenv {
	struct nt t;
	struct nt_tree tdp, l2;
	struct nt_vm vm;
	bool in_l2;
};

/* all rights in an EPT/NPT leaf */
static uint64_t full(const struct wenv *e)
{
	return e->vm.amd ? NT_P | NT_W | NT_U : NT_EPT_TABLE | NT_EPT_WB;
}

/*
 * @amd: NPT (L1 in 4-level long mode with NXE), else EPT with @levels and
 * A/D @ad; @x: MBEC / GMET at vmenter (config offers it when @x).  L2: 4-level
 * long mode, NXE, no SMEP/SMAP; data pages 0..3 mapped user RW, EPT/NPT
 * leaves for them left to the test.
 */
static void wenv_init(struct wenv *e, bool amd, int levels, bool ad, bool x)
{
	char cfg[128];

	memset(e, 0, sizeof(*e));
	snprintf(cfg, sizeof(cfg), "vendor=%s paging=nested mem=0x1000000 %s=%d",
		 amd ? "amd" : "intel", amd ? "gmet" : "mbec", x);
	nt_init(&e->t, cfg);
	e->vm.amd = amd;
	if (amd) {
		nt_event(&e->t, "set cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx",
			 NT_CR0_PAGING, L1_PML4, NT_CR4_PAE,
			 NT_EFER_LME | NT_EFER_NXE);
		e->vm.gmet = x;
		e->vm.l1_nxe = true;
	} else {
		e->vm.mbec = x;
	}
	nt_tree_init(&e->tdp, &e->t, amd ? 4 : levels, TDP_BASE, TDP_BASE + 0x20000,
		     0, amd ? NT_P | NT_W | NT_U : NT_EPT_TABLE);
	nt_tree_init(&e->l2, &e->t, 4, L2_TABLES, 0x10000, L2_OFF,
		     NT_P | NT_W | NT_U);
	for (int k = 0; k < 4; k++)
		nt_tree_map(&e->l2, DATA(k), 1, DATA(k) | NT_P | NT_W | NT_U);
	e->vm.eptp = NT_EPTP(e->tdp.root, levels, ad);
	e->vm.ncr3 = e->tdp.root;
	e->vm.cr0 = NT_CR0_PAGING;
	e->vm.cr3 = e->l2.root;
	e->vm.cr4 = NT_CR4_PAE;
	e->vm.efer = NT_EFER_LME | NT_EFER_NXE;
}

/* EPT/NPT: the L2 table pages built so far, all rights, at + L2_OFF */
static void map_l2_tables(struct wenv *e)
{
	for (uint64_t p = L2_TABLES; p < e->l2.next; p += 0x1000)
		nt_tree_map(&e->tdp, p, 1, (p + L2_OFF) | full(e));
}

/* L1 GPA of the EPT/NPT leaf for @l2gpa (writes it: @val). */
static uint64_t tdp_map(struct wenv *e, uint64_t l2gpa, uint64_t val)
{
	return nt_tree_map(&e->tdp, l2gpa, 1, val) + e->tdp.off;
}

static void enter(struct wenv *e, bool set_regs)
{
	nt_vmenter(&e->t, &e->vm, set_regs);
	e->in_l2 = true;
}

/* L1 changes an EPT/NPT entry: vmexit, store, INVEPT, back into L2. */
static void change(struct wenv *e, uint64_t l1gpa, uint64_t val)
{
	if (e->in_l2)
		nt_event(&e->t, "vmexit");
	nt_write(&e->t, l1gpa, val);
	nt_event(&e->t, "invept");
	enter(e, true);
}

/* An L2 access whose outcome is @want (hand-derived); the predicate must agree. */
static void acc(struct wenv *e, uint64_t gva, enum nt_op op, unsigned cpl,
		const char *want, const char *why)
{
	char out[96];

	/* (nt_access predicts again: the A/D bits it sets change nothing) */
	nt_predict(&e->t, &e->vm, gva, op, cpl, out, sizeof(out));
	cr_assert_str_eq(out, want, "predicate disagrees with the hand-derived row: %s", why);
	nt_access(&e->t, &e->vm, gva, op, cpl, "%s", why);
}

/* Replay under @layout and compare with the expectations; returns the log. */
static char *check_layout(struct wenv *e, const char *layout)
{
	char msg[4096];
	char *log;

	cr_assert_eq(nt_run(&e->t, layout, &log, NULL, msg, sizeof(msg)), 0,
		     "layout %s:\n%s", layout, msg);
	return log;
}

/* New layout; without MBEC/GMET also old, with the same log. */
static void check(struct wenv *e)
{
	char *ln = check_layout(e, "new");

	if (!e->vm.mbec && !e->vm.gmet) {
		char *lo = check_layout(e, "old");

		cr_assert_str_eq(lo, ln, "old and new layouts disagree");
		free(lo);
	}
	free(ln);
	nt_free(&e->t);
}

/* ---- faults on L2's paging structures ---- */

/*
 * The four rows of nested_tdp_fault_test (EPT): L1 unmaps or
 * write-protects (R+X) the final page or L2's last-level table page.
 * Paging-structure accesses have bit 8 clear.  With EPT A/D enabled they
 * are read+write (bits 0 and 1); with A/D disabled a read, and setting a
 * clear A/D flag in the entry a separate read+write (SDM 29.3.5;
 * kvm-unit-tests ept_access_test_paddr_not_present_ad_disabled and
 * ept_access_test_paddr_read_only_ad_disabled).
 */
static void ept_selftest_rows(bool ad)
{
	struct wenv e;
	uint64_t leaf, pt_leaf, pt;

	wenv_init(&e, false, 4, ad, false);
	map_l2_tables(&e);
	/* L2's PT for DATA(0): the table holding its entry */
	pt = nt_tree_entry(&e.l2, DATA(0), 1) & ~0xfffull;
	pt_leaf = nt_tree_entry(&e.tdp, pt, 1);
	leaf = tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	tdp_map(&e, DATA(1), L1_DATA(1) | full(&e));
	enter(&e, true);
	acc(&e, DATA(0) + 0x123, NT_READ, 0, "ok gpa=0x600123", "all mapped");
	change(&e, leaf, 0);
	acc(&e, DATA(0) + 0x123, NT_READ, 0, "ept_violation gpa=0x200123 qual=0x181",
	    "final page unmapped: READ|GVA_VALID|GVA_TRANSLATED");
	change(&e, leaf, L1_DATA(0) | NT_EPT_R | NT_EPT_X | NT_EPT_WB);
	acc(&e, DATA(0) + 0x123, NT_WRITE, 0, "ept_violation gpa=0x200123 qual=0x1aa",
	    "final page write-protected: WRITE|PROT_READ|PROT_EXEC|GVA_VALID|GVA_TRANSLATED");
	change(&e, leaf, L1_DATA(0) | full(&e));
	change(&e, pt_leaf, 0);
	if (ad)
		acc(&e, DATA(0) + 0x123, NT_READ, 0, "ept_violation gpa=0x4000 qual=0x83",
		    "PT page unmapped, EPT A/D on: READ|WRITE|GVA_VALID, at the PTE's L2 GPA");
	else
		acc(&e, DATA(0) + 0x123, NT_READ, 0, "ept_violation gpa=0x4000 qual=0x81",
		    "PT page unmapped, EPT A/D off: READ|GVA_VALID, at the PTE's L2 GPA");
	change(&e, pt_leaf, (pt + L2_OFF) | NT_EPT_R | NT_EPT_X | NT_EPT_WB);
	if (ad)
		acc(&e, DATA(0) + 0x123, NT_READ, 0, "ept_violation gpa=0x4000 qual=0xab",
		    "PT page write-protected: READ|WRITE|PROT_READ|PROT_EXEC|GVA_VALID");
	else
		acc(&e, DATA(0) + 0x123, NT_READ, 0, "ok gpa=0x600123",
		    "PT page write-protected, EPT A/D off, the PTE's A already set: a read");
	acc(&e, DATA(1) + 0x10, NT_FETCH, 0, "ept_violation gpa=0x4008 qual=0xab",
	    ad ? "a fetch's table access is a data read+write, not a fetch" :
		 "EPT A/D off: setting A in the PTE is a read+write, after the final GPA");
	check(&e);
}

Test(nested_walk, ept_selftest_rows_ad0) { ept_selftest_rows(false); }
Test(nested_walk, ept_selftest_rows_ad1) { ept_selftest_rows(true); }

/* The same four rows on NPT: W|U for table accesses, bits 32/33. */
static void npt_selftest_rows(bool gmet)
{
	struct wenv e;
	uint64_t leaf, pt_leaf, pt;

	wenv_init(&e, true, 4, false, gmet);
	map_l2_tables(&e);
	pt = nt_tree_entry(&e.l2, DATA(0), 1) & ~0xfffull;
	pt_leaf = nt_tree_entry(&e.tdp, pt, 1);
	leaf = tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	enter(&e, true);
	acc(&e, DATA(0) + 0x123, NT_READ, 3, "ok gpa=0x600123", "all mapped");
	change(&e, leaf, 0);
	acc(&e, DATA(0) + 0x123, NT_READ, 3, "npf gpa=0x200123 ec=0x100000004",
	    "final page unmapped: USER|GUEST_FINAL");
	change(&e, leaf, L1_DATA(0) | NT_P | NT_U);
	acc(&e, DATA(0) + 0x123, NT_WRITE, 3, "npf gpa=0x200123 ec=0x100000007",
	    "final page write-protected: PRESENT|WRITE|USER|GUEST_FINAL");
	change(&e, leaf, L1_DATA(0) | full(&e));
	change(&e, pt_leaf, 0);
	acc(&e, DATA(0) + 0x123, NT_READ, 3, "npf gpa=0x4000 ec=0x200000006",
	    "PT page unmapped: WRITE|USER|GUEST_PAGE");
	change(&e, pt_leaf, (pt + L2_OFF) | NT_P | NT_U);
	acc(&e, DATA(0) + 0x123, NT_READ, 3, "npf gpa=0x4000 ec=0x200000007",
	    "PT page write-protected: PRESENT|WRITE|USER|GUEST_PAGE");
	/* a supervisor table page: a user walk faults without GMET only */
	change(&e, pt_leaf, (pt + L2_OFF) | NT_P | NT_W);
	acc(&e, DATA(0) + 0x123, NT_READ, 0,
	    gmet ? "ok gpa=0x600123" : "npf gpa=0x4000 ec=0x200000007",
	    gmet ? "GMET: U=0 does not restrict table accesses"
		 : "no GMET: NPT walks are user accesses, U=0 faults");
	check(&e);
}

Test(nested_walk, npt_selftest_rows_gmet0) { npt_selftest_rows(false); }
Test(nested_walk, npt_selftest_rows_gmet1) { npt_selftest_rows(true); }

/*
 * Each of L2's four table pages unmapped in turn: the exit names the
 * entry's L2 GPA in that table (DATA(2) = 0x202000: indices 0, 0, 1, 2).
 */
static void every_level(bool amd)
{
	static const uint64_t want_gpa[5] = { 0, 0x4010, 0x3008, 0x2000, 0x1000 };
	struct wenv e;

	wenv_init(&e, amd, 4, true, false);
	map_l2_tables(&e);
	tdp_map(&e, DATA(2), L1_DATA(2) | full(&e));
	enter(&e, true);
	for (int level = 4; level >= 1; level--) {
		uint64_t table = nt_tree_entry(&e.l2, DATA(2), level) & ~0xfffull;
		uint64_t ent = nt_tree_entry(&e.tdp, table, 1);
		char want[96], why[96];

		cr_assert_eq(nt_tree_entry(&e.l2, DATA(2), level), want_gpa[level]);
		if (amd)
			snprintf(want, sizeof(want), "npf gpa=0x%llx ec=0x200000006",
				 (unsigned long long)want_gpa[level]);
		else
			snprintf(want, sizeof(want), "ept_violation gpa=0x%llx qual=0x83",
				 (unsigned long long)want_gpa[level]);
		snprintf(why, sizeof(why), "L2 level-%d table unmapped", level);
		change(&e, ent, 0);
		acc(&e, DATA(2) + 0x8, NT_WRITE, 0, want, why);
		change(&e, ent, (table + L2_OFF) | full(&e));
		acc(&e, DATA(2) + 0x8, NT_WRITE, 0, "ok gpa=0x602008", "remapped");
	}
	check(&e);
}

Test(nested_walk, ept_every_l2_level) { every_level(false); }
Test(nested_walk, npt_every_l2_level) { every_level(true); }

/* ---- EPT formats ---- */

Test(nested_walk, ept_five_level)
{
	struct wenv e;
	uint64_t leaf;

	wenv_init(&e, false, 5, true, false);
	cr_assert_eq(e.vm.eptp & 0x38, 4 << 3, "walk length - 1 = 4");
	map_l2_tables(&e);
	leaf = tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	enter(&e, true);
	acc(&e, DATA(0) + 0x40, NT_WRITE, 0, "ok gpa=0x600040", "5-level EPT");
	acc(&e, DATA(0) + 0x40, NT_FETCH, 3, "ok gpa=0x600040", "5-level EPT, fetch");
	change(&e, leaf, L1_DATA(0) | NT_EPT_R | NT_EPT_WB);
	acc(&e, DATA(0) + 0x40, NT_WRITE, 0, "ept_violation gpa=0x200040 qual=0x18a",
	    "5-level EPT, read-only leaf");
	/* the PML5 entry (level 5) with bit 7: reserved */
	change(&e, nt_tree_entry(&e.tdp, DATA(0), 5),
	       nt_mem_read(&e.t, nt_tree_entry(&e.tdp, DATA(0), 5)) | NT_EPT_PS);
	acc(&e, DATA(0) + 0x40, NT_READ, 0, "ept_misconfig gpa=0x1000",
	    "PML5E bit 7 set: misconfiguration on the first table access");
	check(&e);
}

Test(nested_walk, ept_execute_only)
{
	struct wenv e;

	wenv_init(&e, false, 4, false, false);
	map_l2_tables(&e);
	tdp_map(&e, DATA(0), L1_DATA(0) | NT_EPT_X | NT_EPT_WB);
	enter(&e, true);
	acc(&e, DATA(0) + 0x10, NT_FETCH, 0, "ok gpa=0x600010", "X only: fetch");
	acc(&e, DATA(0) + 0x10, NT_READ, 0, "ept_violation gpa=0x200010 qual=0x1a1",
	    "X only: read, PROT_EXEC");
	acc(&e, DATA(0) + 0x10, NT_WRITE, 3, "ept_violation gpa=0x200010 qual=0x1a2",
	    "X only: write, PROT_EXEC");
	check(&e);
}

Test(nested_walk, ept_misconfig_non_leaf)
{
	struct wenv e;
	uint64_t pde, pdpte, pml4e, leaf;

	wenv_init(&e, false, 4, true, false);
	map_l2_tables(&e);
	leaf = tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	pde = nt_tree_entry(&e.tdp, DATA(0), 2);
	pdpte = nt_tree_entry(&e.tdp, DATA(0), 3);
	pml4e = nt_tree_entry(&e.tdp, DATA(0), 4);
	enter(&e, true);
	acc(&e, DATA(0), NT_READ, 0, "ok gpa=0x600000", "all mapped");
	/* the data page's own PDE: memory-type bits are reserved there */
	change(&e, pde, nt_mem_read(&e.t, pde) | NT_EPT_WB);
	acc(&e, DATA(0) + 0x8, NT_READ, 0, "ept_misconfig gpa=0x200008",
	    "PDE bits 5:3 set");
	change(&e, pde, nt_mem_read(&e.t, pde) & ~NT_EPT_WB);
	/* the PDPTE above the L2 tables too: write without read */
	change(&e, pdpte, (nt_mem_read(&e.t, pdpte) & ~NT_EPT_RWX) | NT_EPT_W);
	acc(&e, DATA(0) + 0x8, NT_READ, 0, "ept_misconfig gpa=0x1000",
	    "PDPTE W without R: the first L2 table access");
	change(&e, pdpte, nt_mem_read(&e.t, pdpte) | NT_EPT_RWX);
	/* PML4E bit 7 */
	change(&e, pml4e, nt_mem_read(&e.t, pml4e) | NT_EPT_PS);
	acc(&e, DATA(0) + 0x8, NT_FETCH, 0, "ept_misconfig gpa=0x1000",
	    "PML4E bit 7 set");
	change(&e, pml4e, nt_mem_read(&e.t, pml4e) & ~NT_EPT_PS);
	/* leaf memory type 2 */
	change(&e, leaf, (L1_DATA(0) | NT_EPT_RWX | (2ull << 3)));
	acc(&e, DATA(0) + 0x8, NT_WRITE, 0, "ept_misconfig gpa=0x200008",
	    "leaf memory type 2");
	change(&e, leaf, L1_DATA(0) | full(&e));
	acc(&e, DATA(0) + 0x8, NT_WRITE, 0, "ok gpa=0x600008", "repaired");
	check(&e);
}

/* ---- INVEPT, MMIO ---- */

static void invept_drops_stale(bool amd)
{
	struct wenv e;
	uint64_t leaf;
	char want[96];

	wenv_init(&e, amd, 4, false, false);
	map_l2_tables(&e);
	leaf = tdp_map(&e, DATA(1), L1_DATA(1) | full(&e));
	enter(&e, true);
	acc(&e, DATA(1) + 0x20, NT_WRITE, 0, "ok gpa=0x601020", "mapped");
	acc(&e, DATA(1) + 0x20, NT_READ, 0, "ok gpa=0x601020", "again");
	change(&e, leaf, 0);
	snprintf(want, sizeof(want), amd ? "npf gpa=0x201020 ec=0x100000004"
				      : "ept_violation gpa=0x201020 qual=0x181");
	acc(&e, DATA(1) + 0x20, NT_READ, 0, want, "removed + invept");
	change(&e, leaf, L1_DATA(3) | full(&e));
	acc(&e, DATA(1) + 0x20, NT_READ, 0, "ok gpa=0x603020", "new target");
	/* retarget again, with a single-context INVEPT on intel */
	nt_event(&e.t, "vmexit");
	nt_write(&e.t, leaf, L1_DATA(2) | full(&e));
	if (amd)
		nt_event(&e.t, "invept");
	else
		nt_event(&e.t, "invept eptp=0x%llx", (unsigned long long)e.vm.eptp);
	enter(&e, true);
	acc(&e, DATA(1) + 0x20, NT_WRITE, 3, "ok gpa=0x602020", "retargeted");
	check(&e);
}

Test(nested_walk, ept_invept_drops_stale) { invept_drops_stale(false); }
Test(nested_walk, npt_flush_drops_stale) { invept_drops_stale(true); }

static void mmio(bool amd)
{
	struct wenv e;

	wenv_init(&e, amd, 4, true, false);
	map_l2_tables(&e);
	/* L1 GPA 0x2000000 is past mem=0x1000000: MMIO, emulated */
	tdp_map(&e, DATA(3), 0x2000000 | full(&e));
	enter(&e, true);
	acc(&e, DATA(3) + 0x123, NT_READ, 0, "ok gpa=0x2000123", "MMIO read");
	acc(&e, DATA(3) + 0x124, NT_WRITE, 0, "ok gpa=0x2000124", "MMIO write");
	acc(&e, DATA(3) + 0x123, NT_READ, 0, "ok gpa=0x2000123", "MMIO read again");
	check(&e);
}

Test(nested_walk, ept_mmio) { mmio(false); }
Test(nested_walk, npt_mmio) { mmio(true); }

/* ---- MBEC: user-mode is the L2 translation's U/S, never the CPL ---- */

/*
 * With CR0.PG=0 the linear address is the L2 GPA (SDM 28.2.1: the
 * guest-physical address of the access): a violation reports it as is
 * (an earlier engine added the page offset twice).
 */
Test(nested_walk, mbec_paging_off_is_user)
{
	struct wenv e;
	uint64_t leaf;

	wenv_init(&e, false, 4, false, true);
	map_l2_tables(&e);
	leaf = tdp_map(&e, DATA(0), L1_DATA(0) | NT_EPT_X | NT_EPT_WB);
	/* no `set`: L2 starts with CR0.PG = 0, the GVA is the L2 GPA */
	e.vm.cr0 = NT_CR0_PE;
	e.vm.cr3 = e.vm.cr4 = e.vm.efer = 0;
	enter(&e, false);
	acc(&e, DATA(0) + 0x10, NT_FETCH, 0, "ept_violation gpa=0x200010 qual=0x1a4",
	    "paging off, XS only: user-mode, needs XU");
	nt_event(&e.t, "vmexit");
	nt_write(&e.t, leaf, L1_DATA(0) | NT_EPT_XU | NT_EPT_WB);
	nt_event(&e.t, "invept");
	enter(&e, false);
	acc(&e, DATA(0) + 0x10, NT_FETCH, 0, "ok gpa=0x600010", "paging off, XU only");
	acc(&e, DATA(0) + 0x10, NT_READ, 0, "ept_violation gpa=0x200010 qual=0x1c1",
	    "paging off, XU only, read: PROT_USER_EXEC");
	check(&e);
}

/* The same with NPT: the #NPF's EXITINFO2 is the GPA of the access. */
Test(nested_walk, npt_paging_off_gpa)
{
	struct wenv e;

	wenv_init(&e, true, 4, false, false);
	map_l2_tables(&e);
	tdp_map(&e, DATA(0), L1_DATA(0) | NT_P | NT_U);
	e.vm.cr0 = NT_CR0_PE;
	e.vm.cr3 = e.vm.cr4 = e.vm.efer = 0;
	enter(&e, false);
	acc(&e, DATA(0) + 0x10, NT_READ, 0, "ok gpa=0x600010", "paging off, read");
	acc(&e, DATA(0) + 0x10, NT_WRITE, 0, "npf gpa=0x200010 ec=0x100000007",
	    "paging off, NPT read-only: P|W|U|final at the L2 GPA");
	acc(&e, DATA(1) + 0x10, NT_READ, 0, "npf gpa=0x201010 ec=0x100000004",
	    "paging off, NPT entry not present: U|final");
	check(&e);
}

Test(nested_walk, mbec_upper_level_supervisor)
{
	struct wenv e;
	uint64_t gva = 0x400000, pt, leaf;

	wenv_init(&e, false, 4, true, true);
	/* GVA 0x400000: PTE U=1 under a PDE with U=0 -> supervisor-mode */
	nt_tree_map(&e.l2, gva, 1, DATA(5) | NT_P | NT_W | NT_U);
	pt = nt_tree_entry(&e.l2, gva, 1) & ~0xfffull;
	nt_tree_set(&e.l2, gva, 2, pt | NT_P | NT_W);
	map_l2_tables(&e);
	leaf = tdp_map(&e, DATA(5), L1_DATA(5) | NT_EPT_XU | NT_EPT_WB);
	tdp_map(&e, DATA(0), L1_DATA(0) | NT_EPT_X | NT_EPT_WB);
	enter(&e, true);
	acc(&e, gva + 0x10, NT_FETCH, 0, "ept_violation gpa=0x205010 qual=0x1c4",
	    "PDE U=0: supervisor-mode, XU does not help");
	change(&e, leaf, L1_DATA(5) | NT_EPT_X | NT_EPT_WB);
	acc(&e, gva + 0x10, NT_FETCH, 0, "ok gpa=0x605010", "supervisor-mode, XS");
	/* the user page next to it under a U=1 PDE wants XU */
	acc(&e, DATA(0), NT_FETCH, 0, "ept_violation gpa=0x200000 qual=0x1a4",
	    "user-mode at CPL 0, XS only");
	check(&e);
}

/* MBEC's bit 6 and the XU check are an AND over every EPT level */
Test(nested_walk, mbec_xu_over_levels)
{
	struct wenv e;
	uint64_t pde;

	wenv_init(&e, false, 4, false, true);
	map_l2_tables(&e);
	tdp_map(&e, DATA(0), L1_DATA(0) | NT_EPT_R | NT_EPT_X | NT_EPT_XU | NT_EPT_WB);
	pde = nt_tree_entry(&e.tdp, DATA(0), 2);
	nt_write(&e.t, pde, nt_mem_read(&e.t, pde) & ~NT_EPT_XU);
	enter(&e, true);
	acc(&e, DATA(0) + 0x4, NT_FETCH, 3, "ept_violation gpa=0x200004 qual=0x1ac",
	    "leaf XU but the PDE without: user-mode fetch, PROT_READ|PROT_EXEC, no bit 6");
	acc(&e, DATA(0) + 0x4, NT_READ, 3, "ok gpa=0x600004", "reads need R only");
	check(&e);
}

/* GMET's user-mode is the AND of U over the NPT levels */
static void npt_upper_u0(bool gmet)
{
	struct wenv e;
	uint64_t pde;

	wenv_init(&e, true, 4, false, gmet);
	map_l2_tables(&e);
	tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	pde = nt_tree_entry(&e.tdp, DATA(0), 2);
	nt_write(&e.t, pde, nt_mem_read(&e.t, pde) & ~NT_U);
	enter(&e, true);
	acc(&e, DATA(0) + 0x4, NT_FETCH, 0,
	    gmet ? "ok gpa=0x600004" : "npf gpa=0x200004 ec=0x100000015",
	    gmet ? "GMET: U=0 in the NPT PDE makes it supervisor, CPL 0 may run it"
		 : "no GMET: U=0 anywhere faults, P|U|I/D|final");
	acc(&e, DATA(0) + 0x4, NT_WRITE, 3,
	    gmet ? "ok gpa=0x600004" : "npf gpa=0x200004 ec=0x100000007",
	    gmet ? "GMET: U=0 does not restrict writes" : "no GMET: P|W|U|final");
	check(&e);
}

Test(nested_walk, npt_upper_u0_gmet0) { npt_upper_u0(false); }
Test(nested_walk, npt_upper_u0_gmet1) { npt_upper_u0(true); }

/* 2 MiB and 1 GiB EPT leaves (both offered to L1) */
Test(nested_walk, ept_large_pages)
{
	struct wenv e;
	uint64_t pde, pdpte;

	wenv_init(&e, false, 4, true, false);
	nt_tree_map(&e.l2, 0x600000, 1, 0x600000 | NT_P | NT_W | NT_U);
	nt_tree_map(&e.l2, 0x601000, 1, 0x40200000 | NT_P | NT_W | NT_U);
	map_l2_tables(&e);
	/* L2 GPA 0x600000: EPT PDE[3] a 2 MiB leaf at L1 0xa00000 */
	pde = nt_tree_entry(&e.tdp, 0x600000, 2);
	nt_write(&e.t, pde, 0xa00000 | NT_EPT_RWX | NT_EPT_WB | NT_EPT_PS);
	/* L2 GPA 0x40000000: EPT PDPTE[1] a 1 GiB leaf at L1 0 */
	pdpte = nt_tree_entry(&e.tdp, 0x40000000, 3);
	nt_write(&e.t, pdpte, NT_EPT_RWX | NT_EPT_WB | NT_EPT_PS);
	enter(&e, true);
	acc(&e, 0x600123, NT_WRITE, 0, "ok gpa=0xa00123", "2 MiB EPT page");
	acc(&e, 0x601123, NT_READ, 0, "ok gpa=0x200123", "1 GiB EPT page");
	/* bit 12 of a 2 MiB leaf is reserved */
	change(&e, pde, 0xa01000 | NT_EPT_RWX | NT_EPT_WB | NT_EPT_PS);
	acc(&e, 0x600123, NT_READ, 0, "ept_misconfig gpa=0x600123",
	    "2 MiB EPT leaf with bit 12 set");
	check(&e);
}

/* ---- L1's registers across vmenter/vmexit ---- */

Test(nested_walk, vmexit_restores_l1)
{
	struct wenv e;
	struct nt_tree l1;
	unsigned ev;

	wenv_init(&e, false, 4, false, false);
	map_l2_tables(&e);
	tdp_map(&e, DATA(0), L1_DATA(0) | full(&e));
	/* L1's own 4-level tables: GVA 0x7000000 -> 0x700000, supervisor */
	nt_tree_init(&l1, &e.t, 4, L1_PML4, L1_PML4 + 0x10000, 0, NT_P | NT_W);
	nt_tree_map(&l1, 0x7000000, 1, 0x700000 | NT_P | NT_W);
	nt_event(&e.t, "set cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx cpl=0",
		 NT_CR0_PAGING, L1_PML4, NT_CR4_PAE, NT_EFER_LME | NT_EFER_NXE);
	ev = nt_event(&e.t, "access gva=0x7000123 op=w");
	nt_expect(&e.t, ev, "ok gpa=0x700123", "L1 through its own tables");
	for (int round = 0; round < 2; round++) {
		enter(&e, true);
		nt_event(&e.t, "set cpl=3");
		ev = nt_event(&e.t, "access gva=0x%llx op=r",
			      (unsigned long long)DATA(0) + 0x30);
		nt_expect(&e.t, ev, "ok gpa=0x600030", "L2 at CPL 3 (from set)");
		/* L2 has no mapping for L1's GVA: a #PF there (P=0, W, U) */
		ev = nt_event(&e.t, "access gva=0x7000123 op=w");
		nt_expect(&e.t, ev, "pf ec=0x6", "L1's GVA in L2, CPL 3");
		nt_event(&e.t, "vmexit");
		e.in_l2 = false;
		/* CPL 0 and L1's CR3 again: a supervisor write succeeds */
		ev = nt_event(&e.t, "access gva=0x7000123 op=w");
		nt_expect(&e.t, ev, "ok gpa=0x700123", "L1 after vmexit: its CR3, CPL 0");
	}
	/* a vmenter resets L2: paging off, the GVA is the L2 GPA */
	enter(&e, false);
	ev = nt_event(&e.t, "access gva=0x%llx op=r", (unsigned long long)DATA(0) + 0x8);
	nt_expect(&e.t, ev, "ok gpa=0x600008", "L2 after vmenter: CR0.PG=0");
	check(&e);
}

/* ---- bad input: non-zero exit, the message names the line ---- */

static void bad_trace(const char *name, const char *body, unsigned line,
		      const char *what)
{
	const char *path = test_path(name);
	const char *argv[] = { "replay", "--no-timing", path, NULL };
	struct run_result r;
	char where[64];

	cr_assert_eq(write_file(path, body, strlen(body)), 0);
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_neq(r.status, 0, "%s: accepted", name);
	snprintf(where, sizeof(where), "%s:%u:", name, line);
	cr_assert_not_null(strstr(r.err, where), "%s: want '%s' in: %s", name,
			   where, r.err);
	cr_assert_not_null(strstr(r.err, what), "%s: want '%s' in: %s", name,
			   what, r.err);
	run_result_free(&r);
}

/* MBEC needs the series' ACC layout: the old one refuses the config */
Test(nested_walk, old_layout_refuses_mbec)
{
	const char *path = test_path("old-mbec.txt");
	const char *body = "tdpsim-trace 1\n"
		"config vendor=intel paging=nested mem=0x1000000 mbec=1\n"
		"vmenter eptp=0x1001e mbec=1\n";
	const char *argv[] = { "replay", "--layout", "old", path, NULL };
	struct run_result r;

	cr_assert_eq(write_file(path, body, strlen(body)), 0);
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_neq(r.status, 0);
	cr_assert_not_null(strstr(r.err, "mbec"), "%s", r.err);
	run_result_free(&r);
}

#define INTEL_HDR	"tdpsim-trace 1\nconfig vendor=intel paging=nested mem=0x1000000\n"
#define AMD_HDR		"tdpsim-trace 1\nconfig vendor=amd paging=nested mem=0x1000000\n"

Test(nested_walk, errors_name_the_line)
{
	bad_trace("twice.txt", INTEL_HDR "write gpa=0x10000 val=0\n"
		  "vmenter eptp=0x1001e\nvmenter eptp=0x1001e\n", 5, "vmenter");
	bad_trace("exit-l1.txt", INTEL_HDR "write gpa=0x10000 val=0\nvmexit\n", 4, "vmexit");
	bad_trace("mbec.txt", INTEL_HDR "vmenter eptp=0x1001e mbec=1\n", 3, "mbec");
	bad_trace("memtype.txt", INTEL_HDR "vmenter eptp=0x1001a\n", 3, "0x1001a");
	bad_trace("walk2.txt", INTEL_HDR "\n# two levels\nvmenter eptp=0x1000e\n", 5, "0x1000e");
	bad_trace("eptp-rsvd.txt", INTEL_HDR "vmenter eptp=0x1009e\n", 3, "0x1009e");
	/*
	 * nested_vmx_check_eptp() against what nested_vmx_setup_ctls_msrs()
	 * offers: UC is never offered (only VMX_EPTP_WB_BIT), 5-level walks
	 * and A/D only when the host has them
	 */
	bad_trace("uc.txt", INTEL_HDR "vmenter eptp=0x10018\n", 3, "0x10018");
	bad_trace("ad-off.txt", "tdpsim-trace 1\nconfig vendor=intel paging=nested "
		  "mem=0x1000000 ept_ad=0\nvmenter eptp=0x1005e\n", 3, "0x1005e");
	bad_trace("pwl5-off.txt", "tdpsim-trace 1\nconfig vendor=intel paging=nested "
		  "mem=0x1000000 ept_5level=0\nvmenter eptp=0x10026\n", 3, "0x10026");
	/* NPT follows L1's paging mode: L1 with paging off has none */
	bad_trace("npt-nopg.txt", AMD_HDR "vmenter ncr3=0x10000\n", 3, "long mode");
}
