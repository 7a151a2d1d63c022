// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest walker instantiations (paging_tmpl.h for PTTYPE 64, 32 and
 * EPT, as arch/x86/kvm/mmu/mmu.c includes it), nonpaging_gva_to_gpa, the
 * vendor translate_nested_gpa (vmx/nested.c, svm/nested.c) and guest_mmu's
 * get_guest_pgd / get_pdptr callbacks.  See paging.h.
 */
#include <tdpsim/gmem.h>

#include "fault.h"
#include "paging.h"

#define PTTYPE_EPT 18 /* arbitrary */
#define PTTYPE PTTYPE_EPT
#include "paging_tmpl.h"
#undef PTTYPE

#define PTTYPE 64
#include "paging_tmpl.h"
#undef PTTYPE

#define PTTYPE 32
#include "paging_tmpl.h"
#undef PTTYPE

/*
 * nonpaging_gva_to_gpa() (mmu.c): CR0.PG=0, the address is the GPA.  The
 * series tags it as a final access with full ACC rights (0029/0030): with
 * paging off every linear address is a user address for MBEC.
 */
gpa_t nonpaging_gva_to_gpa(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			   gpa_t vaddr, u64 access,
			   struct x86_exception *exception)
{
	if (exception)
		exception->error_code = 0;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	return kvm_translate_gpa(vcpu, mmu, vaddr, access | PFERR_GUEST_FINAL_MASK,
				 exception, ACC_ALL);
#else
	return kvm_translate_gpa(vcpu, mmu, vaddr, access, exception, 0);
#endif
}

/*
 * vmx_translate_nested_gpa() (vmx/nested.c, 0031 + 0037): translate an L2
 * GPA through L1's EPT.  MBEC picks XS or XU from the U/S bit of the L2
 * translation of the final access, not from CPL; paging-structure
 * accesses are never "user" for EPT.  Pre-series: the generic
 * translate_nested_gpa (x86.c), which made every access a user access (EPT
 * reads were PFERR_USER_MASK then).
 */
gpa_t vmx_translate_nested_gpa(struct kvm_vcpu *vcpu, gpa_t gpa, u64 access,
			       struct x86_exception *exception, u64 pte_access)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	access &= ~PFERR_USER_MASK;
	if ((pte_access & ACC_USER_MASK) && (access & PFERR_GUEST_FINAL_MASK))
		access |= PFERR_USER_MASK;
#else
	(void)pte_access;
	access |= PFERR_USER_MASK;
#endif
	return mmu->gva_to_gpa(vcpu, mmu, gpa, access, exception);
}

/*
 * svm_translate_nested_gpa() (svm/nested.c, 0031 + 0044): NPT walks are
 * user walks, unless L1 enabled GMET, where the CPL of the access counts
 * (U=0 then only restricts supervisor fetches).
 */
gpa_t svm_translate_nested_gpa(struct kvm_vcpu *vcpu, gpa_t gpa, u64 access,
			       struct x86_exception *exception, u64 pte_access)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;

	(void)pte_access;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	if (!(vcpu->arch.nested.misc_ctl & SVM_MISC_ENABLE_GMET))
		access |= PFERR_USER_MASK;
#else
	access |= PFERR_USER_MASK;
#endif
	return mmu->gva_to_gpa(vcpu, mmu, gpa, access, exception);
}

/* nested_ept_get_eptp() (vmx/nested.c): vmcs12->ept_pointer */
unsigned long nested_ept_get_eptp(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.nested.eptp;
}

/* nested_svm_get_tdp_cr3() (svm/nested.c): vmcb12 nested_cr3 */
unsigned long nested_svm_get_tdp_cr3(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.nested.nested_cr3;
}

/*
 * nested_svm_get_tdp_pdptr() (svm/nested.c): a PAE NPT's PDPTEs are not
 * cached; they are read from L1 memory at nested_cr3 (32-byte aligned).
 * A failed read gives 0, i.e. a not-present PDPTE.
 */
u64 nested_svm_get_tdp_pdptr(struct kvm_vcpu *vcpu, int index)
{
	u64 cr3 = vcpu->arch.nested.nested_cr3;
	u64 pdpte = 0;

	if (tdp_gmem_read(vcpu->gmem, (cr3 & ~31ull) + index * 8, 8, &pdpte))
		return 0;
	return pdpte;
}
