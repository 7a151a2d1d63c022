// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/svm/svm.c: the CR intercepts KVM programs for an SVM guest.
 */
#include "kvm/kvm.h"

/*
 * svm_cr_load_exits() - the MOVs to CR0/CR4 that exit (kvm-x86/linux
 * @042007c262e5): init_vmcb() sets INTERCEPT_CR4_WRITE always and
 * INTERCEPT_SELECTIVE_CR0 always (a MOV to CR0 that changes a bit other
 * than TS and MP exits), and svm_set_cr0() sets INTERCEPT_CR0_WRITE (every
 * MOV to CR0 exits) while the CR0 the CPU runs with differs from the
 * guest's: without NPT when the guest has PG or WP clear (KVM forces both
 * on), and with CD or NW set (KVM_X86_QUIRK_CD_NW_CLEARED clears them).
 */
unsigned svm_cr_load_exits(const struct kvm_vcpu *vcpu,
			   const struct tdp_event *ev, unsigned long old_cr0,
			   unsigned long cr0)
{
	bool cr0_write = (old_cr0 & (X86_CR0_CD | X86_CR0_NW)) ||
			 (!vcpu->tdp_enabled &&
			  (~old_cr0 & (X86_CR0_PG | X86_CR0_WP)));
	unsigned exits = 0;

	if (TDP_HAS(ev, SET, cr0) &&
	    (cr0_write || ((old_cr0 ^ cr0) & ~(X86_CR0_TS | X86_CR0_MP))))
		exits |= EXIT_CR0;
	if (TDP_HAS(ev, SET, cr4))
		exits |= EXIT_CR4;
	return exits;
}
