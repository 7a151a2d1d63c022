// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/vmx/vmx.c and vmx/common.h: what KVM makes of an EPT
 * violation's exit qualification, and the CR intercepts it programs (the
 * guest/host masks of CR0 and CR4).
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

/*
 * kvm_cache_regs.h: the CR0/CR4 bits KVM may let the guest own, and the
 * CR4 bits whose change needs a TLB flush.
 */
#define KVM_POSSIBLE_CR0_GUEST_BITS	(X86_CR0_TS | X86_CR0_WP)
#define KVM_POSSIBLE_CR4_GUEST_BITS					\
	(X86_CR4_PVI | X86_CR4_DE | X86_CR4_PCE | X86_CR4_OSFXSR |	\
	 X86_CR4_OSXMMEXCPT | X86_CR4_PGE | X86_CR4_TSD |		\
	 X86_CR4_FSGSBASE | X86_CR4_CET)
#define X86_CR4_TLBFLUSH_BITS	(X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_PAE | \
				 X86_CR4_SMEP)


/*
 * vmx_cr_load_exits() - the MOVs to CR0/CR4 that exit (kvm-x86/linux
 * @042007c262e5): a MOV exits when it changes a bit of the guest/host
 * mask, i.e. one the guest does not own.  CR0 -- all but
 * vmx_l1_guest_owned_cr0_bits() (TS, and WP only with EPT); CR4 -- all but
 * set_cr4_guest_host_mask()'s cr4_guest_owned_bits
 * (KVM_POSSIBLE_CR4_GUEST_BITS minus the guest's reserved bits, minus
 * X86_CR4_TLBFLUSH_BITS and X86_CR4_PDPTR_BITS without EPT: CR4.PGE is the
 * guest's with EPT only).
 */
unsigned vmx_cr_load_exits(const struct tdp_engine *e,
			   const struct kvm_vcpu *vcpu,
			   const struct tdp_event *ev, unsigned long old_cr0,
			   unsigned long old_cr4, unsigned long cr0,
			   unsigned long cr4)
{
	const bool tdp = vcpu->tdp_enabled;
	unsigned long cr0_owned = tdp ? KVM_POSSIBLE_CR0_GUEST_BITS : X86_CR0_TS;
	unsigned long cr4_owned = KVM_POSSIBLE_CR4_GUEST_BITS &
				  ~cr4_guest_rsvd_bits(e, vcpu);
	unsigned exits = 0;

	if (!tdp)
		cr4_owned &= ~(X86_CR4_TLBFLUSH_BITS | X86_CR4_PDPTR_BITS);
	if (TDP_HAS(ev, SET, cr0) && ((old_cr0 ^ cr0) & ~cr0_owned))
		exits |= EXIT_CR0;
	if (TDP_HAS(ev, SET, cr4) && ((old_cr4 ^ cr4) & ~cr4_owned))
		exits |= EXIT_CR4;
	return exits;
}
