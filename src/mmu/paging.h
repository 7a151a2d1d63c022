/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest page-table walker: struct guest_walker per PTE type, the
 * FNAME(walk_addr_generic) / FNAME(gva_to_gpa) instantiations (walk.c +
 * paging_tmpl.h), kvm_translate_gpa() and the vendor translate_nested_gpa,
 * and the get_guest_pgd / get_pdptr callbacks kvm_init_mmu() installs.
 */
#ifndef TDPSIM_MMU_PAGING_H
#define TDPSIM_MMU_PAGING_H

#include "mmu.h"

/* arch/x86/kvm/mmu/mmu_internal.h */
#define PTE_PREFETCH_NUM	8

/* pte_flags_pkey(): protection key of a 64-bit PTE, bits 62:59. */
#define PT64_PKEY_SHIFT		59
#define PT64_PKEY_MASK		(0xfull << PT64_PKEY_SHIFT)

/*
 * struct guest_walker (paging_tmpl.h) emulates the hardware walker for one
 * PTE type; arrays are indexed by level - 1.  KVM keeps a host pointer to
 * each gPTE (ptep_user) for the A/D cmpxchg; here that is the L1 GPA of the
 * gPTE (ptep_gpa: pte_gpa after nested translation), read through gmem.
 */
#define DECLARE_GUEST_WALKER(name, pt_element_t, max_levels)		\
struct name {								\
	int level;							\
	unsigned max_level;						\
	gfn_t table_gfn[max_levels];					\
	pt_element_t ptes[max_levels];					\
	pt_element_t prefetch_ptes[PTE_PREFETCH_NUM];			\
	gpa_t pte_gpa[max_levels];					\
	gpa_t ptep_gpa[max_levels];					\
	bool pte_writable[max_levels];					\
	unsigned int pt_access[max_levels];				\
	unsigned int pte_access;					\
	gfn_t gfn;							\
	struct x86_exception fault;					\
}

DECLARE_GUEST_WALKER(guest_walker64, u64, PT64_ROOT_MAX_LEVEL);
DECLARE_GUEST_WALKER(guest_walker32, u32, 2);
DECLARE_GUEST_WALKER(guest_walkerEPT, u64, PT64_ROOT_MAX_LEVEL);

/*
 * FNAME(walk_addr_generic)() - walk @mmu's guest tables for @addr (a GVA,
 * or an L2 GPA for guest_mmu) with @access (PFERR_* bits, incl.
 * PFERR_GUEST_PAGE/FINAL in the new layout).  Returns 1 and fills
 * walker->gfn / pte_access / pt_access[] / level, or 0 with walker->fault
 * describing the #PF / EPT violation / misconfig to deliver.
 * FNAME(walk_addr)() walks vcpu->arch.mmu.
 */
int paging64_walk_addr_generic(struct guest_walker64 *walker,
			       struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			       gpa_t addr, u64 access);
int paging32_walk_addr_generic(struct guest_walker32 *walker,
			       struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			       gpa_t addr, u64 access);
int ept_walk_addr_generic(struct guest_walkerEPT *walker,
			  struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			  gpa_t addr, u64 access);
int paging64_walk_addr(struct guest_walker64 *walker, struct kvm_vcpu *vcpu,
		       gpa_t addr, u64 access);
int paging32_walk_addr(struct guest_walker32 *walker, struct kvm_vcpu *vcpu,
		       gpa_t addr, u64 access);
int ept_walk_addr(struct guest_walkerEPT *walker, struct kvm_vcpu *vcpu,
		  gpa_t addr, u64 access);

/*
 * mmu->gva_to_gpa implementations.  Return the translated GPA (L1 GPA for
 * nested_mmu) or INVALID_GPA with *@exception filled (if non-NULL).
 */
gpa_t paging64_gva_to_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			  gpa_t addr, u64 access, struct x86_exception *exception);
gpa_t paging32_gva_to_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			  gpa_t addr, u64 access, struct x86_exception *exception);
gpa_t ept_gva_to_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
		     gpa_t addr, u64 access, struct x86_exception *exception);
/* CR0.PG=0: identity, except through L1's EPT/NPT for nested_mmu. */
gpa_t nonpaging_gva_to_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			   gpa_t vaddr, u64 access,
			   struct x86_exception *exception);

/*
 * translate_nested_gpa, vendor-specific since patch 0031: translate an L2
 * GPA through L1's EPT (vmx) / NPT (svm), i.e. vcpu->arch.mmu ==
 * &guest_mmu.  @pte_access: ACC_* of the final L2 translation (used by
 * MBEC); ignored by the old layout, where both are the pre-series generic
 * translate_nested_gpa (access |= PFERR_USER_MASK).
 */
gpa_t vmx_translate_nested_gpa(struct kvm_vcpu *vcpu, gpa_t gpa, u64 access,
			       struct x86_exception *exception, u64 pte_access);
gpa_t svm_translate_nested_gpa(struct kvm_vcpu *vcpu, gpa_t gpa, u64 access,
			       struct x86_exception *exception, u64 pte_access);

/*
 * kvm_translate_gpa() (arch/x86/kvm/mmu.h) - identity unless @mmu is the
 * nested MMU (walking L2's tables), whose GPAs are L2 GPAs that must go
 * through L1's EPT/NPT.  Inline: it is called once per walk level.
 */
static inline gpa_t kvm_translate_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
				      gpa_t gpa, u64 access,
				      struct x86_exception *exception,
				      u64 pte_access)
{
	if (mmu != &vcpu->arch.nested_mmu)
		return gpa;
	if (vcpu->vendor == KVM_VENDOR_AMD)
		return svm_translate_nested_gpa(vcpu, gpa, access, exception,
						pte_access);
	return vmx_translate_nested_gpa(vcpu, gpa, access, exception,
					pte_access);
}

/*
 * get_guest_pgd / get_pdptr callbacks for guest_mmu, which KVM installs in
 * vmx/svm nested.c (nested_ept_init_mmu_context / nested_svm_init_mmu_context)
 * after kvm_init_shadow_{ept,npt}_mmu(); the simulator's nested entry must
 * install them likewise.  root_mmu and nested_mmu use mmu.c's get_guest_cr3
 * and kvm_pdptr_read (kvm_init_mmu sets those).
 *  EPT: nested_ept_get_eptp (vcpu->arch.nested.eptp); get_pdptr unused.
 *  NPT: nested_svm_get_tdp_cr3 (vcpu->arch.nested.nested_cr3) and
 *       nested_svm_get_tdp_pdptr, which reads the PDPTE from L1 memory at
 *       nested_cr3 as the CPU does for a PAE NPT (0 if outside memory).
 */
unsigned long nested_ept_get_eptp(struct kvm_vcpu *vcpu);
unsigned long nested_svm_get_tdp_cr3(struct kvm_vcpu *vcpu);
u64 nested_svm_get_tdp_pdptr(struct kvm_vcpu *vcpu, int index);

#endif /* TDPSIM_MMU_PAGING_H */
