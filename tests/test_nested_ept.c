// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested EPT, end to end: every combination of the EPT leaf's R/W/XS/XU
 * bits, MBEC off/on, the L2 PTE's U bit, L2's CPL, the access type and
 * EPT A/D enable is replayed as an L2 access (trace in, outcome log out)
 * and its log line compared with the SDM predicate of
 * tests/oracle/nested_oracle.c: `ok gpa=` (L1 GPA), `ept_violation` with
 * qualification bits 0-8, `ept_misconfig` (write without read), or L2's
 * own `pf` (CPL 3 on a supervisor page, which the hardware checks before
 * the final EPT translation).
 *
 * Memory map (L1 GPAs):
 *   0x10000-0x20000     L1's EPT tables
 *   0x101000-0x105000   L2's page tables (L2 GPAs 0x1000-0x5000, mapped
 *                       RWX+XU by EPT so that walks never fault)
 *   L2 GVA 0x5000 (PTE U=1) and 0x6000 (U=0) -> L2 GPA 0x5000 -> EPT leaf
 *   -> L1 GPA 0x400000 + case * 0x1000: a fresh target per case, so a
 *   stale translation shows as a wrong `ok gpa=`.
 *
 * Each case is a full L1 round: vmexit, rewrite the leaf, INVEPT (rights
 * may be removed), vmenter, L2's registers, the access.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/replay.h>

#include "oracle/nested_oracle.h"

#define EPT_BASE	0x10000ull
#define L2_TABLES	0x1000ull
#define L2_OFF		0x100000ull
#define L2_DATA		0x5000ull
#define GVA_USER	0x5000ull
#define GVA_SUPER	0x6000ull
#define TARGET(i)	(0x400000ull + (uint64_t)(i) * 0x1000)

struct ept_env {
	struct nt t;
	struct nt_tree ept, l2;
	struct nt_vm vm;
	uint64_t leaf_gpa;	/* L1 GPA of the EPT leaf for L2_DATA */
	unsigned exec_user, exec_super;	/* fetch violations by L2 page */
};

static void ept_env_init(struct ept_env *e, bool cfg_mbec, bool mbec, bool ad)
{
	char cfg[128];

	snprintf(cfg, sizeof(cfg),
		 "vendor=intel paging=nested mem=0x1000000 mbec=%d", cfg_mbec);
	nt_init(&e->t, cfg);
	nt_tree_init(&e->ept, &e->t, 4, EPT_BASE, EPT_BASE + 0x10000, 0,
		     NT_EPT_TABLE);
	nt_tree_init(&e->l2, &e->t, 4, L2_TABLES, L2_DATA, L2_OFF,
		     NT_P | NT_W | NT_U);
	nt_comment(&e->t, "L2 tables: GVA 0x5000 user, 0x6000 supervisor, both -> L2 GPA 0x5000");
	nt_tree_map(&e->l2, GVA_USER, 1, L2_DATA | NT_P | NT_W | NT_U);
	nt_tree_map(&e->l2, GVA_SUPER, 1, L2_DATA | NT_P | NT_W);
	nt_comment(&e->t, "EPT: L2 table pages -> L1 GPA + 0x100000, all rights");
	for (uint64_t p = L2_TABLES; p < e->l2.next; p += 0x1000)
		nt_tree_map(&e->ept, p, 1, (p + L2_OFF) | NT_EPT_TABLE | NT_EPT_WB);
	e->leaf_gpa = nt_tree_map(&e->ept, L2_DATA, 1, 0);

	memset(&e->vm, 0, sizeof(e->vm));
	e->exec_user = e->exec_super = 0;
	e->vm.eptp = NT_EPTP(e->ept.root, 4, ad);
	e->vm.mbec = mbec;
	e->vm.cr0 = NT_CR0_PAGING;
	e->vm.cr3 = e->l2.root;
	e->vm.cr4 = NT_CR4_PAE;
	e->vm.efer = NT_EFER_LME | NT_EFER_NXE;
}

/*
 * The whole enumeration for one (MBEC, A/D) in one trace.  Per case: the
 * leaf R/W/XS bits (0-7) and XU, the L2 page (user / supervisor), L2's
 * CPL (0, 3) and the access type.  CPL 0 with SMEP and SMAP off passes
 * L2's own check on either page; CPL 3 passes only on the user page.
 */
static void build_enumeration(struct ept_env *e)
{
	unsigned i = 0;

	for (unsigned xwr = 0; xwr < 8; xwr++) {
		for (unsigned xu = 0; xu < 2; xu++) {
			for (unsigned pg = 0; pg < 2; pg++) {
				for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
					for (int op = NT_READ; op <= NT_FETCH; op++, i++) {
						uint64_t leaf = TARGET(i) | xwr |
							(xu ? NT_EPT_XU : 0) | NT_EPT_WB;

						if (i)
							nt_event(&e->t, "vmexit");
						nt_write(&e->t, e->leaf_gpa, leaf);
						if (i & 1)
							nt_event(&e->t, "invept");
						else
							nt_event(&e->t, "invept eptp=0x%llx",
								 (unsigned long long)e->vm.eptp);
						nt_vmenter(&e->t, &e->vm, true);
						nt_access(&e->t, &e->vm,
							  (pg ? GVA_USER : GVA_SUPER) + 0x123,
							  op, cpl,
							  "mbec=%d ad=%d leaf R=%u W=%u XS=%u XU=%u L2 U=%u cpl=%u op=%s",
							  e->vm.mbec, (int)(e->vm.eptp >> 6 & 1),
							  xwr & 1, xwr >> 1 & 1, xwr >> 2 & 1, xu,
							  pg, cpl, nt_op_name[op]);
						if (op == NT_FETCH &&
						    !strncmp(e->t.exp[e->t.nexp - 1].out,
							     "ept_violation", 13)) {
							if (pg)
								e->exec_user++;
							else
								e->exec_super++;
						}
					}
				}
			}
		}
	}
}

static char *replay_checked(struct ept_env *e, const char *layout,
			    struct tdp_stats *st)
{
	char msg[4096];
	char *log;

	cr_assert_eq(nt_run(&e->t, layout, &log, st, msg, sizeof(msg)), 0,
		     "layout %s, against the SDM predicate:\n%s", layout, msg);
	return log;
}

/*
 * The report's nested counters add up to what the expected log says:
 * every violation/misconfiguration is one exit reflected to L1, every
 * `pf` one #PF delivered to L2.
 */
static void check_counters(const struct ept_env *e, const struct tdp_stats *st)
{
	struct nt_counts c;

	nt_count(&e->t, &c);
	cr_assert_eq(st->l2_accesses, 192);
	cr_assert_eq(st->nested_vmenter, 192);
	cr_assert_eq(st->nested_vmexit, 192);
	cr_assert_eq(st->nested_invept_single, 96, "even cases name the eptp");
	cr_assert_eq(st->nested_invept_global, 96);
	cr_assert_eq(st->reflected_ept_violation, c.viol);
	cr_assert_eq(st->reflected_ept_misconfig, c.misconf);
	cr_assert_eq(st->reflected_npf, 0);
	cr_assert_eq(st->nested_reflected, c.viol + c.misconf);
	cr_assert_eq(st->l2_pf, c.pf);
	cr_assert_eq(st->reflected_final, c.viol);
	cr_assert_eq(st->reflected_page, 0);
	for (int b = 0; b < 9; b++)
		cr_assert_eq(st->reflected_qual_bit[b], c.qual_bit[b], "qual bit %d", b);
	/* by the L2 translation's U/S, not the CPL (bit 9, new layout) */
	cr_assert_eq(st->reflected_exec_user, e->exec_user);
	cr_assert_eq(st->reflected_exec_supervisor, e->exec_super);
	cr_assert_gt(st->sp_nested_created, 0);
}

static void enumerate(bool mbec, bool ad)
{
	struct ept_env e;
	struct tdp_stats st;

	ept_env_init(&e, true, mbec, ad);
	build_enumeration(&e);
	/* 16 leaves x 2 pages x 2 CPLs x 3 ops */
	cr_assert_eq(e.t.nexp, 192);
	/* L2's entries: A everywhere, D on both leaves (ok writes on both) */
	nt_event(&e.t, "vmexit");
	for (int level = 4; level >= 1; level--)
		nt_peek(&e.t, nt_tree_entry(&e.l2, GVA_USER, level) + L2_OFF, "L2 A/D");
	nt_peek(&e.t, nt_tree_entry(&e.l2, GVA_SUPER, 1) + L2_OFF, "L2 A/D");
	cr_assert_eq(nt_mem_read(&e.t, nt_tree_entry(&e.l2, GVA_SUPER, 1) + L2_OFF),
		     L2_DATA | NT_P | NT_W | NT_A | NT_D);
	free(replay_checked(&e, "new", &st));
	check_counters(&e, &st);
	nt_free(&e.t);
}

Test(nested_ept, enumeration_mbec0_ad0) { enumerate(false, false); }
Test(nested_ept, enumeration_mbec0_ad1) { enumerate(false, true); }
Test(nested_ept, enumeration_mbec1_ad0) { enumerate(true, false); }
Test(nested_ept, enumeration_mbec1_ad1) { enumerate(true, true); }

/*
 * Without MBEC (config mbec=0) the old ACC layout must give the same log,
 * and both must match the predicate.
 */
static void old_vs_new(bool ad)
{
	struct ept_env e;
	char *lo, *ln;

	ept_env_init(&e, false, false, ad);
	build_enumeration(&e);
	lo = replay_checked(&e, "old", NULL);
	ln = replay_checked(&e, "new", NULL);
	cr_assert_str_eq(lo, ln);
	free(lo);
	free(ln);
	nt_free(&e.t);
}

Test(nested_ept, old_layout_same_log_ad0) { old_vs_new(false); }
Test(nested_ept, old_layout_same_log_ad1) { old_vs_new(true); }

/*
 * A sanity check of the predicate itself on rows that the SDM and KVM's
 * selftest spell out, so that the enumeration above does not rest on an
 * oracle nobody checked by hand.
 */
Test(nested_ept, predicate_spot_checks)
{
	struct ept_env e;
	char out[96];

	ept_env_init(&e, true, true, true);
	/* leaf R only: a read is fine, a write violates with PROT_READ */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_EPT_R | NT_EPT_WB);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_READ, 0, out, sizeof(out)),
			 "ok gpa=0x777123");
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_WRITE, 0, out, sizeof(out)),
			 "ept_violation gpa=0x5123 qual=0x18a");
	/* XS only, MBEC: supervisor page fetch ok, user page fetch
	 * violates with PROT_EXEC and no PROT_USER_EXEC, at any CPL */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_EPT_X | NT_EPT_WB);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x6123, NT_FETCH, 0, out, sizeof(out)),
			 "ok gpa=0x777123");
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 0, out, sizeof(out)),
			 "ept_violation gpa=0x5123 qual=0x1a4");
	/* XU only: present under MBEC; a read reports PROT_USER_EXEC */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_EPT_XU | NT_EPT_WB);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 3, out, sizeof(out)),
			 "ok gpa=0x777123");
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_READ, 3, out, sizeof(out)),
			 "ept_violation gpa=0x5123 qual=0x1c1");
	/* W without R: misconfiguration whatever the access */
	nt_write(&e.t, e.leaf_gpa, 0x777000 | NT_EPT_W | NT_EPT_X | NT_EPT_WB);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x5123, NT_FETCH, 0, out, sizeof(out)),
			 "ept_misconfig gpa=0x5123");
	/* CPL 3 on the supervisor page: L2's #PF (P|U|I/D) comes first */
	nt_write(&e.t, e.leaf_gpa, 0);
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x6123, NT_FETCH, 3, out, sizeof(out)),
			 "pf ec=0x15");
	/* not present: only the access bit, GVA valid, translated */
	cr_assert_str_eq(nt_predict(&e.t, &e.vm, 0x6123, NT_READ, 0, out, sizeof(out)),
			 "ept_violation gpa=0x5123 qual=0x181");
	nt_free(&e.t);
}
