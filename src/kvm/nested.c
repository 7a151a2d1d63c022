// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested entry and exit, the part VMX and SVM share: L1's and L2's
 * registers switched as VMCS01/VMCB01 and VMCS12/VMCB12 hold them, the
 * MMU contexts (guest_mmu shadows L1's EPT/NPT, nested_mmu walks L2's
 * tables), and the accounting of exits reflected to L1.
 */
#include "kvm/kvm.h"

/* The registers a context switch saves and loads. */
static const struct kvm_ctx_regs l2_reset_regs = { .cr0 = X86_CR0_PE };

/* The reflected exit as the outcome, and its counters. */
void reflect_to_l1(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  const struct x86_exception *fault,
			  struct tdp_outcome *out)
{
	static const u64 npf_bits[5] = { PFERR_PRESENT_MASK, PFERR_WRITE_MASK,
					 PFERR_USER_MASK, PFERR_RSVD_MASK,
					 PFERR_FETCH_MASK };
	struct tdp_stats *st = e->stats;
	bool fetch, user;

	st->nested_reflected++;
	if (vcpu->vendor == KVM_VENDOR_INTEL) {
		nested_ept_inject_page_fault(vcpu, fault, out);
		if (out->kind == TDP_OUT_EPT_MISCONFIG) {
			st->reflected_ept_misconfig++;
			return;
		}
		st->reflected_ept_violation++;
		for (int i = 0; i < 12; i++)
			if (out->qual & (1ull << i))
				st->reflected_qual_bit[i]++;
		if (out->qual & EPT_VIOLATION_GVA_TRANSLATED)
			st->reflected_final++;
		else
			st->reflected_page++;
		/*
		 * MBEC judges the U/S of the L2 translation: the hardware's
		 * advanced information (the old layout does not pass it to L1)
		 */
		fetch = out->qual & EPT_VIOLATION_ACC_INSTR;
		user = vcpu->arch.exit_qualification & EPT_VIOLATION_GVA_USER;
	} else {
		nested_svm_inject_npf_exit(vcpu, fault, out);
		st->reflected_npf++;
		for (int i = 0; i < 5; i++)
			if (out->ec & npf_bits[i])
				st->reflected_npf_bit[i]++;
		if (out->ec & PFERR_GUEST_FINAL_MASK)
			st->reflected_final++;
		else
			st->reflected_page++;
		/* GMET judges the CPL */
		fetch = (out->ec & (PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK)) ==
			(PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK);
		user = vcpu->exit_cpl == 3;
	}
	if (fetch && user)
		st->reflected_exec_user++;
	else if (fetch)
		st->reflected_exec_supervisor++;
}

/* Save the current context's registers into @save (if any), load @load. */
static void swap_ctx_regs(struct kvm_vcpu_arch *a, struct kvm_ctx_regs *save,
			  const struct kvm_ctx_regs *load)
{
	if (save)
		*save = (struct kvm_ctx_regs){ a->cr0, a->cr3, a->cr4, a->efer,
					       a->pkru, a->cpl };
	a->cr0 = load->cr0;
	a->cr3 = load->cr3;
	a->cr4 = load->cr4;
	a->efer = load->efer;
	a->pkru = load->pkru;
	a->cpl = load->cpl;
}

/*
 * The `vmenter` event: L1's VMLAUNCH/VMRESUME or VMRUN of L2 with nested
 * EPT/NPT -- nested_vmx_enter_non_root_mode() + nested_ept_init_mmu_context()
 * (intel) or enter_svm_guest_mode() + nested_svm_init_mmu_context() (amd).
 * L1's registers are saved; L2 starts with paging off until the trace's
 * first `set` in L2, which is the rest of this VM entry (l2_regs_pending:
 * nested_vmx_load_cr3() / nested_svm_load_cr3() load L2's CR3 and
 * kvm_init_mmu() recomputes the roles without unloading the roots).
 */
int handle_vmenter(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   const struct tdp_event *ev)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	struct kvm_nested_state *n = &a->nested;
	bool intel = vcpu->vendor == KVM_VENDOR_INTEL;
	int r;

	if (a->guest_mode)
		return engine_fail(e, TDP_E_STATE, "vmenter while already running L2");
	r = intel ? nested_vmx_enter_non_root_mode(e, vcpu, ev) :
		    enter_svm_guest_mode(e, vcpu, ev);
	if (r)
		return r;

	/* VMCS01 / VMCB01 keep L1's state; L2 starts with paging off */
	swap_ctx_regs(a, &n->l1, &l2_reset_regs);
	a->guest_mode = true;
	n->l2_regs_pending = true;

	a->mmu = &a->guest_mmu;
	r = intel ? nested_vmx_enter_non_root_mode(e, vcpu, NULL) :
		    enter_svm_guest_mode(e, vcpu, NULL);
	if (r)
		return engine_fail(e, r, "cannot set up the shadow %s for L2",
				   intel ? "EPT" : "NPT");
	kvm_mmu_init_fault_callbacks(vcpu, a->mmu);
	/* kvm_init_shadow_{ept,npt}_mmu() end with kvm_mmu_new_pgd() */
	kvm_mmu_new_pgd(vcpu, intel ? n->eptp : n->nested_cr3);
	a->walk_mmu = &a->nested_mmu;
	kvm_init_mmu(vcpu);
	if (!intel)
		nested_svm_transition_tlb_flush(vcpu);
	e->stats->nested_vmenter++;
	return 0;
}

/* The `vmexit` event: nested_vmx_vmexit() / nested_svm_vmexit(), back to L1. */
int handle_vmexit(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;

	if (!a->guest_mode)
		return engine_fail(e, TDP_E_STATE, "vmexit while running L1");
	a->guest_mode = false;
	a->nested.l2_regs_pending = false;
	swap_ctx_regs(a, NULL, &a->nested.l1);
	/* nested_ept_uninit_mmu_context() / nested_svm_uninit_mmu_context() */
	a->mmu = &a->root_mmu;
	a->walk_mmu = &a->root_mmu;
	kvm_init_mmu(vcpu);
	kvm_mmu_init_fault_callbacks(vcpu, a->mmu);
	if (vcpu->vendor == KVM_VENDOR_AMD)
		nested_svm_transition_tlb_flush(vcpu);
	e->stats->nested_vmexit++;
	return 0;
}
