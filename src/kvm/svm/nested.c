// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/svm/nested.c: nested NPT as KVM offers it to L1 -- VMRUN's
 * nested CR3 and GMET, TLB control, and #NPF exits reflected to L1.
 */
#include "kvm/kvm.h"

/*
 * nested_svm_inject_npf_exit() (svm/nested.c): an #NPF exit to L1 whose
 * EXITINFO1 keeps the high half (bits 32/33: final GPA or paging
 * structure) of the NPF KVM is handling and takes bits 31:0 from the
 * walk of L1's NPT.
 */
void nested_svm_inject_npf_exit(struct kvm_vcpu *vcpu,
				       const struct x86_exception *fault,
				       struct tdp_outcome *out)
{
	u64 info1 = vcpu->arch.exit_qualification & ~0xffffffffull;

	info1 |= fault->error_code;
	out->kind = TDP_OUT_NPF;
	out->gpa = fault->address;	/* EXITINFO2 */
	out->ec = info1 & (0x3full | PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK);
}

/*
 * nested_svm_transition_tlb_flush() (svm/nested.c): on every VMRUN and
 * #VMEXIT -- and for L1's TLB_CONTROL flushes -- KVM syncs the current
 * MMU's shadow pages (ASIDs may invalidate nested translations) and
 * flushes.  For EPT, stale translations are L1's to flush with INVEPT.
 */
void nested_svm_transition_tlb_flush(struct kvm_vcpu *vcpu)
{
	kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
	kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
}

/*
 * VMRUN with nested paging: the checks nested_vmcb_check_controls() and
 * the VMRUN instruction make (nCR3 within MAXPHYADDR), the misc_ctl copy of
 * __nested_copy_vmcb_control_to_cache() -- which clears the GMET bit when
 * GMET is not offered to L1 (patch 0047: "ignored-if-unavailable bits are
 * zero"), so L1 asking for it on a host without it simply runs without --
 * then, once in guest mode, nested_svm_init_mmu_context().  @ev is NULL for
 * the second step.
 */
int enter_svm_guest_mode(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			 const struct tdp_event *ev)
{
	struct kvm_nested_state *n = &vcpu->arch.nested;
	struct kvm_mmu *g = &vcpu->arch.guest_mmu;
	int r;

	if (ev) {
		u64 ncr3 = ev->u.vmenter.ncr3;

		if (ncr3 >> vcpu->maxphyaddr)
			return engine_fail(e, TDP_E_RANGE,
					   "ncr3 0x%llx is beyond MAXPHYADDR",
					   (unsigned long long)ncr3);
		/* the NPT format follows L1's CR4/EFER: tdpsim shadows 4/5-level */
		if (!(vcpu->arch.efer & EFER_LMA))
			return engine_fail(e, TDP_E_UNSUPP,
					   "nested NPT needs L1 in long mode (legacy/PAE NPT formats are not simulated)");
		n->nested_cr3 = ncr3;
		n->misc_ctl = SVM_MISC_ENABLE_NP;
		if (ev->u.vmenter.gmet && vcpu->host_gmet)
			n->misc_ctl |= SVM_MISC_ENABLE_GMET;
		return 0;
	}
	r = kvm_init_shadow_npt_mmu(vcpu, n->l1.cr4, n->l1.efer, n->nested_cr3,
				    n->misc_ctl);
	g->get_guest_pgd = nested_svm_get_tdp_cr3;
	g->get_pdptr = nested_svm_get_tdp_pdptr;
	return r;
}

/*
 * L1's TLB_CONTROL flush of L2's ASID (the `invept` event on amd), which
 * KVM turns into an NPT02 sync on the next VMRUN
 * (nested_svm_transition_tlb_flush()).
 */
int nested_svm_tlb_control_flush(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	e->stats->nested_invept_global++;
	if (vcpu->arch.guest_mode)
		nested_svm_transition_tlb_flush(vcpu);
	return 0;
}
