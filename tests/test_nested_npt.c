// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested NPT, end to end: every combination of the NPT leaf's U/W/NX bits,
 * GMET off/on, L2's CPL and the access type is replayed as an L2 access
 * and its log line compared with the APM predicate of
 * tests/oracle/nested_oracle.c: `ok gpa=` (L1 GPA) or `npf gpa= ec=` with
 * EXITINFO1 bits 0-5, 32 and 33.  L2's own PTE is a user RW executable
 * page and SMEP/SMAP are off, so L2's check passes at CPL 0 and 3 and only
 * the NPT decides.
 *
 * L1 runs 4-level long mode with EFER.NXE (the NPT format, and the I/D bit
 * of EXITINFO1 for fetches).  Memory map (L1 GPAs):
 *   0x10000-0x20000     L1's NPT tables
 *   0x101000-0x105000   L2's page tables (L2 GPAs 0x1000-0x5000, NPT P|W|U)
 *   L2 GVA 0x5000 -> L2 GPA 0x5000 -> NPT leaf -> 0x400000 + case * 0x1000
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/replay.h>

#include "oracle/nested_oracle.h"

#define NPT_BASE	0x10000ull
#define L1_PML4		0x80000ull
#define L2_TABLES	0x1000ull
#define L2_OFF		0x100000ull
#define L2_DATA		0x5000ull
#define TARGET(i)	(0x400000ull + (uint64_t)(i) * 0x1000)
#define NPT_TABLE	(NT_P | NT_W | NT_U)

struct npt_env {
	struct nt t;
	struct nt_tree npt, l2;
	struct nt_vm vm;
	uint64_t leaf_gpa;
	unsigned exec_user, exec_super;	/* fetch #NPFs by CPL */
};

static void npt_env_init(struct npt_env *e, bool cfg_gmet, bool gmet)
{
	char cfg[128];

	snprintf(cfg, sizeof(cfg),
		 "vendor=amd paging=nested mem=0x1000000 gmet=%d", cfg_gmet);
	nt_init(&e->t, cfg);
	nt_comment(&e->t, "L1: 4-level long mode, NXE (the NPT format follows it)");
	nt_event(&e->t, "set cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx",
		 NT_CR0_PAGING, L1_PML4, NT_CR4_PAE, NT_EFER_LME | NT_EFER_NXE);
	nt_tree_init(&e->npt, &e->t, 4, NPT_BASE, NPT_BASE + 0x10000, 0, NPT_TABLE);
	nt_tree_init(&e->l2, &e->t, 4, L2_TABLES, L2_DATA, L2_OFF, NPT_TABLE);
	nt_comment(&e->t, "L2 tables: GVA 0x5000 -> L2 GPA 0x5000, user RW");
	nt_tree_map(&e->l2, L2_DATA, 1, L2_DATA | NT_P | NT_W | NT_U);
	nt_comment(&e->t, "NPT: L2 table pages -> L1 GPA + 0x100000, P|W|U");
	for (uint64_t p = L2_TABLES; p < e->l2.next; p += 0x1000)
		nt_tree_map(&e->npt, p, 1, (p + L2_OFF) | NPT_TABLE);
	e->leaf_gpa = nt_tree_map(&e->npt, L2_DATA, 1, 0);

	memset(&e->vm, 0, sizeof(e->vm));
	e->exec_user = e->exec_super = 0;
	e->vm.amd = true;
	e->vm.ncr3 = e->npt.root;
	e->vm.gmet = gmet;
	e->vm.l1_nxe = true;
	e->vm.cr0 = NT_CR0_PAGING;
	e->vm.cr3 = e->l2.root;
	e->vm.cr4 = NT_CR4_PAE;
	e->vm.efer = NT_EFER_LME | NT_EFER_NXE;
}

static void build_enumeration(struct npt_env *e)
{
	unsigned i = 0;

	for (unsigned bits = 0; bits < 8; bits++) {
		for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
			for (int op = NT_READ; op <= NT_FETCH; op++, i++) {
				uint64_t leaf = TARGET(i) | NT_P |
					(bits & 1 ? NT_U : 0) | (bits & 2 ? NT_W : 0) |
					(bits & 4 ? NT_NX : 0);

				if (i)
					nt_event(&e->t, "vmexit");
				nt_write(&e->t, e->leaf_gpa, leaf);
				/* a nested TLB flush: rights may have gone */
				nt_event(&e->t, "invept");
				nt_vmenter(&e->t, &e->vm, true);
				nt_access(&e->t, &e->vm, L2_DATA + 0x123, op, cpl,
					  "gmet=%d leaf U=%u W=%u NX=%u cpl=%u op=%s",
					  e->vm.gmet, bits & 1, bits >> 1 & 1,
					  bits >> 2 & 1, cpl, nt_op_name[op]);
				if (op == NT_FETCH &&
				    !strncmp(e->t.exp[e->t.nexp - 1].out, "npf", 3)) {
					if (cpl == 3)
						e->exec_user++;
					else
						e->exec_super++;
				}
			}
		}
	}
}

static char *replay_checked(struct npt_env *e, const char *layout,
			    struct tdp_stats *st)
{
	char msg[4096];
	char *log;

	cr_assert_eq(nt_run(&e->t, layout, &log, st, msg, sizeof(msg)), 0,
		     "layout %s, against the APM predicate:\n%s", layout, msg);
	return log;
}

/* The report's nested counters add up to what the expected log says. */
static void check_counters(const struct npt_env *e, const struct tdp_stats *st)
{
	struct nt_counts c;

	nt_count(&e->t, &c);
	cr_assert_eq(st->l2_accesses, 48);
	cr_assert_eq(st->nested_vmenter, 48);
	cr_assert_eq(st->nested_vmexit, 47);
	cr_assert_eq(st->reflected_npf, c.npf);
	cr_assert_eq(st->reflected_ept_violation, 0);
	cr_assert_eq(st->nested_reflected, c.npf);
	cr_assert_eq(st->l2_pf, 0, "L2's own PTE allows everything");
	cr_assert_eq(st->reflected_final, c.npf);
	cr_assert_eq(st->reflected_page, 0);
	for (int b = 0; b < 5; b++)
		cr_assert_eq(st->reflected_npf_bit[b], c.npf_bit[b], "EXITINFO1 bit %d", b);
	/* fetch faults by CPL: 3 vs below */
	cr_assert_eq(st->reflected_exec_user, e->exec_user);
	cr_assert_eq(st->reflected_exec_supervisor, e->exec_super);
}

static void enumerate(bool gmet)
{
	struct npt_env e;
	struct tdp_stats st;

	npt_env_init(&e, true, gmet);
	build_enumeration(&e);
	cr_assert_eq(e.t.nexp, 48);	/* 8 leaves x 2 CPLs x 3 ops */
	free(replay_checked(&e, "new", &st));
	check_counters(&e, &st);
	nt_free(&e.t);
}

Test(nested_npt, enumeration_gmet0) { enumerate(false); }
Test(nested_npt, enumeration_gmet1) { enumerate(true); }

/* Without GMET (config gmet=0) the old ACC layout gives the same log. */
Test(nested_npt, old_layout_same_log)
{
	struct npt_env e;
	char *lo, *ln;

	npt_env_init(&e, false, false);
	build_enumeration(&e);
	lo = replay_checked(&e, "old", NULL);
	ln = replay_checked(&e, "new", NULL);
	cr_assert_str_eq(lo, ln);
	free(lo);
	free(ln);
	nt_free(&e.t);
}

/* The predicate on rows the APM and kvm-unit-tests (svm_npt.c) give. */
Test(nested_npt, predicate_spot_checks)
{
	struct npt_env e;
	char out[96];

	npt_env_init(&e, true, false);
	/* U=0 leaf without GMET: every access is a user access, P|U|final
	 * (kvm-unit-tests expects 0x100000005 for such a read) */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_P | NT_W);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_READ, 0, out, sizeof(out)),
			 "npf gpa=0x5123 ec=0x100000005");
	/* read-only user leaf, write: 0x100000007 */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_P | NT_U);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_WRITE, 3, out, sizeof(out)),
			 "npf gpa=0x5123 ec=0x100000007");
	/* NX leaf, fetch: P|U|I/D (L1 has NXE) */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_P | NT_U | NT_W | NT_NX);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 3, out, sizeof(out)),
			 "npf gpa=0x5123 ec=0x100000015");
	/* GMET: a supervisor fetch from a user leaf faults, U clear (CPL 0) */
	e.vm.gmet = true;
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_P | NT_U | NT_W);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 0, out, sizeof(out)),
			 "npf gpa=0x5123 ec=0x100000011");
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 3, out, sizeof(out)),
			 "ok gpa=0x777123");
	/* GMET: U=0 restricts nothing at CPL 0 */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_P | NT_W);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 0, out, sizeof(out)),
			 "ok gpa=0x777123");
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_WRITE, 3, out, sizeof(out)),
			 "ok gpa=0x777123");
	nt_free(&e.t);
}
