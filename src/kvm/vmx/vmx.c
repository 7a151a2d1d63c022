// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/vmx/vmx.c and vmx/common.h: what KVM makes of an EPT
 * violation's exit qualification.
 */
#include "kvm/kvm.h"

/*
 * __vmx_handle_ept_violation() (vmx/common.h): KVM's page-fault error code
 * from an EPT violation's exit qualification.  Pre-series a read was
 * reported as PFERR_USER_MASK; the series drops that (0028), counts XU as
 * "present" under MBEC and takes U from the advanced GVA_USER bit (0036).
 */
u64 vmx_ept_violation_error_code(struct kvm_mmu *mmu, u64 qual)
{
	u64 ec = 0;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	(void)mmu;
	if (qual & EPT_VIOLATION_ACC_READ)
		ec |= PFERR_USER_MASK;
#endif
	if (qual & EPT_VIOLATION_ACC_WRITE)
		ec |= PFERR_WRITE_MASK;
	if (qual & EPT_VIOLATION_ACC_INSTR)
		ec |= PFERR_FETCH_MASK;
	if (qual & (EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_WRITE |
		    EPT_VIOLATION_PROT_EXEC))
		ec |= PFERR_PRESENT_MASK;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	if (mmu_has_mbec(mmu) && (qual & EPT_VIOLATION_PROT_USER_EXEC))
		ec |= PFERR_PRESENT_MASK;
#endif
	if (qual & EPT_VIOLATION_GVA_IS_VALID) {
		ec |= (qual & EPT_VIOLATION_GVA_TRANSLATED) ?
		      PFERR_GUEST_FINAL_MASK : PFERR_GUEST_PAGE_MASK;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		if ((qual & (EPT_VIOLATION_GVA_TRANSLATED | EPT_VIOLATION_GVA_USER)) ==
		    (EPT_VIOLATION_GVA_TRANSLATED | EPT_VIOLATION_GVA_USER))
			ec |= PFERR_USER_MASK;
#endif
	}
	return ec;
}

/*
 * The GVA bits of the exit qualification behind KVM's error code of an EPT
 * violation: the inverse of the GVA part of vmx_ept_violation_error_code(),
 * for recorded faults (the `fault` event) that carry only the error code.
 */
u64 vmx_ept_qual_from_error_code(u64 ec)
{
	u64 q = 0;

	if (ec & (PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK))
		q |= EPT_VIOLATION_GVA_IS_VALID;
	if (ec & PFERR_GUEST_FINAL_MASK) {
		q |= EPT_VIOLATION_GVA_TRANSLATED;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		if (ec & PFERR_USER_MASK)
			q |= EPT_VIOLATION_GVA_USER;
#endif
	}
	return q;
}
