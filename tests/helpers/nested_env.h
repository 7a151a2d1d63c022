/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vCPU in L2 with nested EPT / NPT for the layout tests of KVM's walker
 * on L1's tables (test_walk_nested_layout, test_diff_nested_layout):
 * guest memory, page-table builders for L2's tables and L1's EPT/NPT, and
 * guest_mmu / nested_mmu set up as nested entry does.  Included by *_layout.c
 * tests only (it needs the port's internals, compiled per ACC layout); the
 * including file defines MEM_SIZE, L2_TABLES(_END), TDP_TABLES(_END), EPTP_WB.
 */
#ifndef TDPSIM_TEST_NESTED_ENV_H
#define TDPSIM_TEST_NESTED_ENV_H

#include <criterion/criterion.h>
#include <string.h>

#include <tdpsim/gmem.h>

#include "mmu/paging.h"
#include "helpers/pt_builder.h"

struct nenv {
	struct kvm_vcpu v;
	struct tdp_gmem *gm;
	struct pt_builder b;	/* L2 tables */
	struct pt_builder tb;	/* EPT / NPT tables */
	u64 tdp_root;
	int tdp_levels;
	u64 l2_root;
	bool npt;
};

static void nenv_common(struct nenv *e, enum kvm_vendor vendor)
{
	memset(e, 0, sizeof(*e));
	cr_assert_eq(tdp_gmem_create(&e->gm, MEM_SIZE), 0);
	ptb_init(&e->b, e->gm, L2_TABLES, L2_TABLES_END);
	ptb_init(&e->tb, e->gm, TDP_TABLES, TDP_TABLES_END);
	e->v.gmem = e->gm;
	e->v.vendor = vendor;
	e->v.maxphyaddr = 46;
	e->v.arch.guest_mode = true;
	e->v.arch.mmu = &e->v.arch.guest_mmu;
	e->v.arch.walk_mmu = &e->v.arch.nested_mmu;
	e->tdp_root = ptb_table(&e->tb);
}

/* L1 runs L2 with EPT (@levels 4/5), EPT A/D as @ad, MBEC as @mbec; the EPTP. */
static u64 nenv_vmx(struct nenv *e, int levels, bool ad, bool mbec,
		    bool execonly)
{
	u64 eptp;

	nenv_common(e, KVM_VENDOR_INTEL);
	e->tdp_levels = levels;
	eptp = e->tdp_root | EPTP_WB |
	       (levels == 5 ? VMX_EPTP_PWL_5 : VMX_EPTP_PWL_4) |
	       (ad ? VMX_EPTP_AD_ENABLE_BIT : 0);
	e->v.arch.nested.eptp = eptp;
	e->v.arch.nested.mbec = mbec;
	cr_assert_eq(kvm_init_shadow_ept_mmu(&e->v, execonly, PG_LEVEL_1G, ad,
					     mbec, eptp), 0);
	e->v.arch.guest_mmu.get_guest_pgd = nested_ept_get_eptp;
	cr_assert_eq(e->v.arch.guest_mmu.gva_to_gpa, ept_gva_to_gpa);
	return eptp;
}

static void nenv_svm(struct nenv *e, u64 misc_ctl)
{
	nenv_common(e, KVM_VENDOR_AMD);
	e->npt = true;
	e->tdp_levels = 4;
	e->v.arch.nested.nested_cr3 = e->tdp_root;
	e->v.arch.nested.misc_ctl = SVM_MISC_ENABLE_NP | misc_ctl;
	cr_assert_eq(kvm_init_shadow_npt_mmu(&e->v, X86_CR4_PAE,
					     EFER_LME | EFER_LMA | EFER_NX,
					     e->tdp_root, e->v.arch.nested.misc_ctl), 0);
	e->v.arch.guest_mmu.get_guest_pgd = nested_svm_get_tdp_cr3;
	e->v.arch.guest_mmu.get_pdptr = nested_svm_get_tdp_pdptr;
	cr_assert_eq(e->v.arch.guest_mmu.gva_to_gpa, paging64_gva_to_gpa);
}

#endif /* TDPSIM_TEST_NESTED_ENV_H */
