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

/*
 * handle_set_l2() - a `set` while L2 runs under nested EPT/NPT (@entry: the
 * one right after `vmenter`, the rest of that VM entry).  @why is what
 * set_refused() found; the registers already hold the new values, @old
 * the previous ones.
 *
 * PAE paging (SDM Vol. 3A §4.4.1 lists the loads) -- who loads L2's
 * PDPTEs, per vendor:
 *   VM entry, intel  the CPU takes them from VMCS12's GUEST_PDPTRn
 *                    (§26.3.2.4), which KVM copies into vmcs02 without
 *                    reading memory (prepare_vmcs02(); nested_vmx_load_cr3()
 *                    skips load_pdptrs() with nested EPT); their values:
 *                    nested_vmx_vmcs12_pdptrs().  A present one with a
 *                    reserved bit fails the entry (§26.3.1.6; the CPU's
 *                    check of vmcs02, which KVM reflects to L1 as a failed
 *                    VM entry, EXIT_REASON_INVALID_STATE).
 *   VM entry, amd    nothing: the VMCB has no PDPE fields and
 *                    nested_svm_load_cr3() skips load_pdptrs() with nested
 *                    NPT; the CPU reads the PDPEs during each walk
 *                    (hw_regs.pdpte_walk).
 *   MOV CR3 in PAE paging, or a CR4.PGE toggle, intel: not intercepted
 *                    (CR3 exiting is off with EPT, PGE is guest-owned in
 *                    KVM's CR4 mask): the CPU loads them through EPT02,
 *                    vcpu_run_pdpte_load() -- an EPT violation KVM fixes
 *                    or reflects to L1, or #GP.  The MOV CR3 comes first:
 *                    if it does not complete, nothing of the `set` is.
 *                    amd: nothing is read.
 *   MOV CR0/CR4 changing another bit of X86_CR0/CR4_PDPTR_BITS (PG, CD,
 *                    NW, PAE, PSE, SMEP): intercepted by KVM, which
 *                    emulates it -- kvm_set_cr0/4() -> load_pdptrs() reads
 *                    the PDPT through L1's EPT/NPT (kvm_translate_gpa on
 *                    walk_mmu = nested_mmu) and injects #GP if it cannot
 *                    (both vendors; on amd only KVM's copy is loaded).
 */
int handle_set_l2(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			 const struct tdp_event *ev, bool entry,
			 struct tdp_outcome *out, const char *why, bool reset,
			 unsigned exits, unsigned long old_cr0, unsigned long old_cr4,
			 unsigned long old_cr3, u64 old_efer, u64 old_pkru,
			 int old_cpl)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	const bool intel = vcpu->vendor == KVM_VENDOR_INTEL;
	const bool was_pae = (old_cr0 & X86_CR0_PG) && (old_cr4 & X86_CR4_PAE) &&
			     !(old_efer & EFER_LMA);
	/* a PDPTR bit changed by a MOV that KVM intercepts and emulates */
	const bool kvm_bits = (((old_cr0 ^ a->cr0) & X86_CR0_PDPTR_BITS) &&
			       (exits & EXIT_CR0)) ||
			      (((old_cr4 ^ a->cr4) & X86_CR4_PDPTR_BITS) &&
			       (exits & EXIT_CR4));

	if (!why && entry && intel && is_pae_paging(vcpu)) {
		/* pdptr_rsvd_bits(): 63:MAXPHYADDR, 8:5, 2:1 of a present one */
		const u64 rsvd = ~0ull << vcpu->maxphyaddr | 0x1e0ull | 0x6ull;
		u64 pdptrs[4];

		if (!nested_vmx_vmcs12_pdptrs(vcpu, pdptrs)) {
			set_restore(vcpu, old_cr0, old_cr4, old_cr3, old_efer,
				    old_pkru, old_cpl);
			return engine_fail(e, TDP_E_STATE, "L2's cr3=0x%llx: L1's EPT maps "
					   "no memory at its PAE PDPT, so VMCS12's "
					   "PDPTE fields are undefined",
					   (unsigned long long)ev->u.set.cr3);
		}
		for (int i = 0; i < 4; i++)
			if ((pdptrs[i] & PT_PRESENT_MASK) && (pdptrs[i] & rsvd))
				why = "a VMCS12 PDPTE has a reserved bit";
		if (!why)
			memcpy(a->walk_mmu->pdptrs, pdptrs, sizeof(pdptrs));
	}
	if (why) {
		set_restore(vcpu, old_cr0, old_cr4, old_cr3, old_efer, old_pkru,
			    old_cpl);
		/* L2's registers come with VM entry: its checks fail it */
		if (entry)
			return engine_fail(e, TDP_E_STATE, "L2's cr0=0x%llx cr4=0x%llx "
					   "efer=0x%llx: VM entry fails (%s)",
					   (unsigned long long)ev->u.set.cr0,
					   (unsigned long long)ev->u.set.cr4,
					   (unsigned long long)ev->u.set.efer, why);
		return set_inject_gp(e, exits, out);
	}
	if (!set_loads_cr(ev))
		return 0;

	/*
	 * The first `set` after `vmenter` is the rest of that VM entry: L2's
	 * CR0/CR3/CR4/EFER come from VMCS12 / VMCB12, and KVM loads them
	 * without an exit and without unloading the nested MMU's roots --
	 * nested_vmx_load_cr3() / nested_svm_load_cr3() only recompute the
	 * roles with kvm_init_mmu() (with nested EPT/NPT, L2's CR3 is not
	 * shadowed, so guest_mmu's root stays).
	 */
	if (entry) {
		kvm_init_mmu(vcpu);
		return 0;
	}

	/* the CPU's own PDPTE load (intel), see above */
	if (intel && was_pae && is_pae_paging(vcpu) &&
	    (TDP_HAS(ev, SET, cr3) ||
	     (((old_cr4 ^ a->cr4) & X86_CR4_PGE) && !(exits & EXIT_CR4)))) {
		int r = vcpu_run_pdpte_load(e, vcpu, out);

		if (r) {
			set_restore(vcpu, old_cr0, old_cr4, old_cr3, old_efer,
				    old_pkru, old_cpl);
			if (r > 0 && out->kind == TDP_OUT_GP)
				e->stats->gp_set_refused++;
			return r < 0 ? r : 0;
		}
	}
	/* KVM's emulated MOV CR0/CR4 (kvm_set_cr0/4 -> load_pdptrs) */
	if (kvm_bits && is_pae_paging(vcpu) && !load_pdptrs(vcpu, true)) {
		set_restore(vcpu, old_cr0, old_cr4, old_cr3, old_efer, old_pkru,
			    old_cpl);
		return set_inject_gp(e, exits, out);
	}
	/*
	 * L0 intercepts what it intercepts with TDP (cr_load_exits()); CR3
	 * loads reach no one but the CPU.  A role change after entry is an
	 * emulated MOV to CR0/CR4: kvm_post_set_cr0/4() ->
	 * kvm_mmu_reset_context(), which unloads the roots of root_mmu and
	 * guest_mmu alike (kvm_mmu_unload()).  exit_cr: one exit for the
	 * `set` if any of its loads exits, and only those make KVM's requests.
	 */
	if (exits)
		e->stats->exit_cr++;
	set_tlb_flush_requests(vcpu, exits, old_cr0, old_cr4);
	if (reset)
		kvm_mmu_reset_context(vcpu);
	return 0;
}
