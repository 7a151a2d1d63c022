// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/x86.c, the part the MMU depends on: register loads as
 * kvm_set_cr0/3/4 and kvm_set_efer make them, requests serviced by
 * vcpu_enter_guest(), guest stores that trap (emulated writes and
 * kvm_page_track_write), INVLPG, TLB flushes, recorded faults, and the
 * dispatch of trace events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

#define KVM_MMU_CR0_ROLE_BITS	(X86_CR0_PG | X86_CR0_WP)
#define KVM_MMU_CR4_ROLE_BITS	(X86_CR4_PSE | X86_CR4_PAE | X86_CR4_SMEP | \
				 X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_LA57)
#define KVM_MMU_EFER_ROLE_BITS	(EFER_LME | EFER_NX)

/*
 * load_pdptrs(): the four PAE PDPTEs at CR3 (32-byte aligned).  Under
 * shadow paging the PAE root's four entries were built from the old
 * registers, so KVM frees the current root when they change (x86.c:
 * "Shadow page roots need to be reconstructed instead"); keeping it would
 * leave root entries that no longer match mmu->pdptrs, which FNAME(fetch)
 * cannot walk (a CR3 reload after a PDPTE store then failed).
 */
bool load_pdptrs(struct kvm_vcpu *vcpu, bool strict)
{
	struct kvm_mmu *mmu = vcpu->arch.walk_mmu;
	gpa_t base = vcpu->arch.cr3 & ~0x1full;
	/* pdptr_rsvd_bits(): 63:MAXPHYADDR, 8:5, 2:1 of a present PDPTE */
	const u64 rsvd = ~0ull << vcpu->maxphyaddr | 0x1e0ull | 0x6ull;
	u64 pdpte[4];

	/* L2's CR3 is an L2 GPA: KVM reads it through L1's EPT/NPT */
	if (mmu_is_nested(vcpu)) {
		gpa_t real = kvm_translate_gpa(vcpu, mmu, base & PAGE_MASK,
					       PFERR_USER_MASK | PFERR_WRITE_MASK,
					       NULL, 0);

		base = real == INVALID_GPA ? INVALID_GPA :
		       real | (base & ~PAGE_MASK);
	}
	for (int i = 0; i < 4; i++) {
		if (base == INVALID_GPA ||
		    tdp_gmem_read(vcpu->gmem, base + i * 8, 8, &pdpte[i])) {
			/* kvm_vcpu_read_guest_page() failed: KVM returns 0 */
			if (strict)
				return false;
			pdpte[i] = 0;
		}
		if (strict && (pdpte[i] & PT_PRESENT_MASK) && (pdpte[i] & rsvd))
			return false;
	}
	if (!vcpu->tdp_enabled && memcmp(mmu->pdptrs, pdpte, sizeof(pdpte)))
		kvm_mmu_free_roots(vcpu->kvm, mmu, KVM_MMU_ROOT_CURRENT);
	memcpy(mmu->pdptrs, pdpte, sizeof(pdpte));
	return true;
}

/*
 * svm_cache_reg(VCPU_EXREG_PDPTR) (svm/svm.c): with NPT the PDPTEs are
 * not in the VMCB and svm_vcpu_run() marks KVM's copy unavailable after
 * every VMRUN, so the first kvm_pdptr_read() after an exit re-reads them
 * from memory with load_pdptrs(vcpu, kvm_read_cr3(vcpu)) -- whose failure
 * leaves the old copy.  Called where KVM's emulator is about to walk L2's
 * tables under nested NPT.
 */
void svm_cache_pdptrs(struct kvm_vcpu *vcpu)
{
	if (is_pae_paging(vcpu))
		load_pdptrs(vcpu, true);
}

/* kvm_mmu_reset_context(): drop the roots and recompute the roles. */
void kvm_mmu_reset_context(struct kvm_vcpu *vcpu)
{
	kvm_mmu_unload(vcpu);
	kvm_init_mmu(vcpu);
	kvm_mmu_init_fault_callbacks(vcpu, vcpu->arch.mmu);
}

/*
 * KVM_REQ_TLB_FLUSH_GUEST (arch/x86/include/asm/kvm_host.h): only x86.c
 * makes it -- kvm_post_set_cr0/cr4(), kvm_invalidate_pcid() -- so the bit
 * lives here, beside the MMU's KVM_REQ_* bits (mmu_internal.h, 0..5).
 */
#define KVM_REQ_TLB_FLUSH_GUEST		6

/*
 * The three flushes vcpu_enter_guest() makes for the TLB-flush requests
 * (x86.c, kvm-x86/linux @042007c262e5), each one "++vcpu->stat.tlb_flush"
 * -- the only places KVM counts the stat.  A request made twice before
 * the guest is entered is one flush.
 *
 * kvm_vcpu_flush_tlb_all(): KVM_REQ_TLB_FLUSH; flushing all ASIDs also
 * flushes the current one, so KVM_REQ_TLB_FLUSH_CURRENT is cleared.
 */
static void kvm_vcpu_flush_tlb_all(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	++e->stats->tlb_flush;
	hw_tlb_flush(vcpu_tlb(e, vcpu));
	vcpu->requests &= ~(1ull << KVM_REQ_TLB_FLUSH_CURRENT);	/* kvm_clear_request() */
}

/*
 * kvm_vcpu_flush_tlb_guest(): KVM_REQ_TLB_FLUSH_GUEST, a flush on the
 * guest's behalf.  With shadow paging KVM must bring unsync shadow pages
 * back in sync (the guest may have changed PTEs since): current and
 * previous roots; with TDP there is nothing to do in software.
 */
static void kvm_vcpu_flush_tlb_guest(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	++e->stats->tlb_flush;
	if (!vcpu->tdp_enabled) {
		kvm_mmu_sync_roots(vcpu);
		kvm_mmu_sync_prev_roots(vcpu);
	}
	hw_tlb_flush(vcpu_tlb(e, vcpu));
}

/* kvm_vcpu_flush_tlb_current(): KVM_REQ_TLB_FLUSH_CURRENT */
static void kvm_vcpu_flush_tlb_current(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	++e->stats->tlb_flush;
	hw_tlb_flush(vcpu_tlb(e, vcpu));
}

/*
 * kvm_service_requests() - the requests at the top of vcpu_enter_guest(),
 * in KVM's order: KVM_REQ_MMU_FREE_OBSOLETE_ROOTS ->
 * kvm_mmu_free_obsolete_roots(), KVM_REQ_MMU_SYNC -> kvm_mmu_sync_roots(),
 * KVM_REQ_LOAD_MMU_PGD, KVM_REQ_TLB_FLUSH -> kvm_vcpu_flush_tlb_all(),
 * then kvm_service_local_tlb_flush_requests(): _CURRENT ->
 * kvm_vcpu_flush_tlb_current(), _GUEST -> kvm_vcpu_flush_tlb_guest().
 * Also called by the events that are guest instructions but run no guest
 * access here (`set`, `vmenter`, `vmexit`, `invept`): the VM entry that
 * let the guest execute them serviced what was pending, so two requests
 * separated by a guest instruction are two flushes, as in KVM.
 */
void kvm_service_requests(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	if (kvm_check_request(KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, vcpu))
		kvm_mmu_free_obsolete_roots(vcpu);
	if (kvm_check_request(KVM_REQ_MMU_SYNC, vcpu))
		kvm_mmu_sync_roots(vcpu);
	kvm_check_request(KVM_REQ_LOAD_MMU_PGD, vcpu);	/* nothing to load */
	if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
		kvm_vcpu_flush_tlb_all(e, vcpu);
	if (kvm_check_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu))
		kvm_vcpu_flush_tlb_current(e, vcpu);
	if (kvm_check_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu))
		kvm_vcpu_flush_tlb_guest(e, vcpu);
}

/*
 * vcpu_enter_guest() (x86.c) - the requests KVM services before VM entry
 * (kvm_service_requests()), then kvm_mmu_reload(): kvm_mmu_load() if the
 * current root is invalid.  Every event that runs guest code (access,
 * write, invlpg, flush, fault) passes here first, as every guest
 * instruction follows a VM entry.
 */
int vcpu_enter_guest(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	/* as vcpu_enter_guest() does: if (kvm_request_pending(vcpu)) { ... } */
	if (vcpu->requests)
		kvm_service_requests(e, vcpu);
	if (!VALID_PAGE(vcpu->arch.mmu->root.hpa)) {
		int r = kvm_mmu_load(vcpu);

		if (r)
			return r;
	}
	/*
	 * kvm_mmu_load() flushes the new root with a direct
	 * flush_tlb_current() call, no stat (the port raises _CURRENT for
	 * it); a remote flush (KVM_REQ_TLB_FLUSH) requested while loading is
	 * serviced on KVM's next pass through vcpu_enter_guest(): counted
	 * (kvm_vcpu_flush_tlb_all()).
	 */
	if (!vcpu->requests)
		return 0;
	if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
		kvm_vcpu_flush_tlb_all(e, vcpu);
	if (kvm_check_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu))
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	return 0;
}

/* arch/x86/kvm/x86.h CR4_RESERVED_BITS: what no KVM guest may set */
#define CR4_RESERVED_BITS						\
	(~(u64)(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |	\
		X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |	\
		X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_PCIDE |		\
		X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_FSGSBASE |	\
		X86_CR4_OSXMMEXCPT | X86_CR4_LA57 | X86_CR4_VMXE |	\
		X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_UMIP |		\
		X86_CR4_LAM_SUP | X86_CR4_CET))

/*
 * __cr4_reserved_bits() over the guest's CPUID: the CPUID-gated bits the
 * guest lacks (XSAVE, FSGSBASE, UMIP, LAM, CET never; PKU only with TDP;
 * LA57 with la57=1; VMX for an intel L1 hypervisor).
 */
u64 cr4_guest_rsvd_bits(const struct tdp_engine *e,
			const struct kvm_vcpu *vcpu)
{
	u64 r = CR4_RESERVED_BITS | X86_CR4_OSXSAVE | X86_CR4_FSGSBASE |
		X86_CR4_UMIP | X86_CR4_LAM_SUP | X86_CR4_CET;

	if (e->cfg.paging == TDP_PAGING_SHADOW)
		r |= X86_CR4_PKE;
	if (!e->cfg.la57)
		r |= X86_CR4_LA57;
	if (!(e->cfg.paging == TDP_PAGING_NESTED && vcpu->vendor == KVM_VENDOR_INTEL))
		r |= X86_CR4_VMXE;
	return r;
}

/*
 * kvm_valid_efer(): efer_reserved_bits (SCE, LME, LMA, plus what
 * kvm_enable_efer_bits() opened: NX; SVME on amd), then __kvm_valid_efer()
 * for the guest's CPUID (SVM only for an amd L1 hypervisor; FFXSR and
 * AUTOIBRS are not offered, so stay reserved).
 */
static bool kvm_valid_efer(const struct tdp_engine *e,
			   const struct kvm_vcpu *vcpu, u64 efer)
{
	u64 ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	if (e->cfg.paging == TDP_PAGING_NESTED && vcpu->vendor == KVM_VENDOR_AMD)
		ok |= EFER_SVME;
	return !(efer & ~ok);
}

/*
 * set_refused() - would KVM refuse this register load with #GP?  The
 * `set` is one load of several registers; each check below is one KVM
 * makes, with "before" read as the registers before the event and
 * "after" as the new ones, so that a `set` standing for a legal sequence
 * of MOVs (say PG off and LME off together) passes.  Returns the reason,
 * or NULL.  @a holds the new values, EFER.LMA already derived.
 */
static const char *set_refused(const struct tdp_engine *e,
			       const struct kvm_vcpu *vcpu,
			       const struct tdp_event *ev, unsigned long old_cr0,
			       unsigned long old_cr4, u64 old_efer)
{
	const struct kvm_vcpu_arch *a = &vcpu->arch;
	bool was_long = (old_efer & EFER_LMA), is_long = (a->efer & EFER_LMA);

	/* kvm_is_valid_cr0() */
	if (a->cr0 & 0xffffffff00000000ull)
		return "CR0 bits 63:32 are reserved";
	if ((a->cr0 & X86_CR0_NW) && !(a->cr0 & X86_CR0_CD))
		return "CR0.NW without CR0.CD";
	if ((a->cr0 & X86_CR0_PG) && !(a->cr0 & X86_CR0_PE))
		return "CR0.PG without CR0.PE";
	/* kvm_is_valid_cr4() -> __kvm_is_valid_cr4() */
	if (a->cr4 & cr4_guest_rsvd_bits(e, vcpu))
		return (a->cr4 & ~old_cr4 & X86_CR4_LA57) && !e->cfg.la57 ?
		       "CR4.LA57 without la57=1" : "a reserved CR4 bit";
	/* set_efer(): efer_reserved_bits, __kvm_valid_efer() */
	if (TDP_HAS(ev, SET, efer) && !kvm_valid_efer(e, vcpu, ev->u.set.efer))
		return "a reserved EFER bit";
	/* set_efer(): EFER.LME may not change while paging is on */
	if ((old_cr0 & X86_CR0_PG) && (a->cr0 & X86_CR0_PG) &&
	    ((old_efer ^ a->efer) & EFER_LME))
		return "EFER.LME changed while paging";
	/*
	 * kvm_set_cr0(): PG with EFER.LME needs CR4.PAE (kvm_is_valid_sregs()
	 * asks the same of the final state); kvm_set_cr4(): in long mode
	 * CR4.PAE may not be cleared.  Both are "long mode without PAE".
	 */
	if (is_long && !(a->cr4 & X86_CR4_PAE))
		return "long mode needs CR4.PAE";
	/* kvm_set_cr4(): CR4.LA57 may not change in long mode */
	if (was_long && is_long && ((old_cr4 ^ a->cr4) & X86_CR4_LA57))
		return "CR4.LA57 changed in long mode";
	/* kvm_set_cr4(): PCIDE 0 -> 1 needs long mode and CR3[11:0] = 0 */
	if ((a->cr4 & X86_CR4_PCIDE) && !(old_cr4 & X86_CR4_PCIDE) &&
	    (!is_long || (a->cr3 & X86_CR3_PCID_MASK)))
		return "CR4.PCIDE needs long mode and PCID 0";
	/* kvm_set_cr0(): PG may not be cleared with CR4.PCIDE set */
	if (!(a->cr0 & X86_CR0_PG) && (a->cr4 & X86_CR4_PCIDE))
		return "CR0.PG cleared with CR4.PCIDE";
	/*
	 * kvm_set_cr3() -> kvm_vcpu_is_legal_cr3(): no address bit at or
	 * above MAXPHYADDR (PCIDE: bit 63 is NOFLUSH, not an address bit).
	 */
	if (TDP_HAS(ev, SET, cr3)) {
		u64 cr3 = a->cr3;

		if (a->cr4 & X86_CR4_PCIDE)
			cr3 &= ~X86_CR3_PCID_NOFLUSH;
		if (cr3 & (~0ull << vcpu->maxphyaddr))
			return "CR3 has bits above MAXPHYADDR";
	}
	return NULL;
}

/*
 * cr_load_exits() - which of the MOVs to CR0/CR3/CR4 (and the WRMSR to
 * EFER) that load @cr0/@cr4 over @old_cr0/@old_cr4 cause a VM exit, with
 * the intercepts KVM programs (kvm-x86/linux @042007c262e5): CR0/CR4 by
 * the vendor (vmx_cr_load_exits(), svm_cr_load_exits()); MOV to CR3 only
 * without EPT/NPT (CPU_BASED_CR3_LOAD_EXITING cleared by vmx_exec_control()
 * with EPT, an unrestricted guest assumed; INTERCEPT_CR3_WRITE cleared by
 * init_vmcb() with NPT); MSR_EFER is in neither vendor's pass-through MSR
 * list, so every WRMSR to it exits.  With nested TDP the same holds for L2
 * (L0 runs it with EPT/NPT; what L1 intercepts on top is not in the trace).
 */
unsigned cr_load_exits(const struct tdp_engine *e, const struct kvm_vcpu *vcpu,
		       const struct tdp_event *ev, unsigned long old_cr0,
		       unsigned long old_cr4, unsigned long cr0, unsigned long cr4)
{
	unsigned exits = vcpu->vendor == KVM_VENDOR_INTEL ?
		vmx_cr_load_exits(e, vcpu, ev, old_cr0, old_cr4, cr0, cr4) :
		svm_cr_load_exits(vcpu, ev, old_cr0, cr0);

	if (TDP_HAS(ev, SET, cr3) && !vcpu->tdp_enabled)
		exits |= EXIT_CR3;
	if (TDP_HAS(ev, SET, efer))
		exits |= EXIT_EFER;
	return exits;
}

/*
 * set_tlb_flush_requests() - the TLB-flush requests the loads that exit
 * (@exits) make, serviced -- and counted in tlb_flush -- by the next
 * vcpu_enter_guest(): kvm_post_set_cr0() -- PG cleared: _GUEST;
 * kvm_post_set_cr4() -- PGE toggled or PCIDE cleared: _GUEST, else PAE
 * toggled or SMEP set: _CURRENT; kvm_set_cr3() -> kvm_invalidate_pcid(),
 * unless PCIDE with NOFLUSH: KVM_REQ_MMU_SYNC and _CURRENT (CR3 exits only
 * with shadow paging, so its _GUEST branch for TDP is not reached).
 */
void set_tlb_flush_requests(struct kvm_vcpu *vcpu, unsigned exits,
			    unsigned long old_cr0, unsigned long old_cr4)
{
	const struct kvm_vcpu_arch *a = &vcpu->arch;

	if ((exits & EXIT_CR0) && (old_cr0 & X86_CR0_PG) &&
	    !(a->cr0 & X86_CR0_PG))
		kvm_make_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu);
	if ((exits & EXIT_CR4) &&
	    (((old_cr4 ^ a->cr4) & X86_CR4_PGE) ||
	     ((old_cr4 & X86_CR4_PCIDE) && !(a->cr4 & X86_CR4_PCIDE))))
		kvm_make_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu);
	else if ((exits & EXIT_CR4) &&
		 (((old_cr4 ^ a->cr4) & X86_CR4_PAE) ||
		  (a->cr4 & ~old_cr4 & X86_CR4_SMEP)))
		kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
	if ((exits & EXIT_CR3) &&
	    !((a->cr4 & X86_CR4_PCIDE) && (a->cr3 & X86_CR3_PCID_NOFLUSH))) {
		kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
		kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
	}
}

/* A refused or faulting `set`: the registers keep their old values. */
void set_restore(struct kvm_vcpu *vcpu, unsigned long cr0,
		 unsigned long cr4, unsigned long cr3, u64 efer,
			u64 pkru, int cpl)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;

	a->cr0 = cr0;
	a->cr4 = cr4;
	a->cr3 = cr3;
	a->efer = efer;
	a->pkru = pkru;
	a->cpl = cpl;
}

/*
 * set_inject_gp() - a load KVM refuses: kvm_inject_gp(), which needs the
 * load to exit; one that does not exit (CR3 under TDP) is refused by the
 * CPU itself (SDM 4.4.1, 2.5), without an exit.  Either way the guest
 * takes #GP and the registers keep their old values (set_restore()).
 */
int set_inject_gp(struct tdp_engine *e, unsigned exits, struct tdp_outcome *out)
{
	if (exits)
		e->stats->exit_cr++;
	e->stats->gp_set_refused++;
	out->kind = TDP_OUT_GP;
	return 0;
}

/*
 * The `set` event: the registers are loaded at once and KVM reacts once,
 * as the architectural MOV-to-CR instructions make it (kvm_set_cr0/3/4,
 * kvm_set_efer): role bits changed -> kvm_mmu_reset_context(); a new CR3
 * (same roles) -> kvm_mmu_new_pgd() and, without PCID, a guest TLB flush;
 * PAE PDPTEs reloaded where kvm_set_cr3/cr0/cr4 reload them (below).
 */
static int handle_set(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		      const struct tdp_event *ev, bool entry,
		      struct tdp_outcome *out)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	unsigned long old_cr0 = a->cr0, old_cr4 = a->cr4, old_cr3 = a->cr3;
	u64 old_efer = a->efer, old_pkru = a->pkru;
	int old_cpl = a->cpl;
	const char *why;
	unsigned exits;
	bool reset, new_cr3;

	/* the VM entry that ran the MOV serviced what was pending */
	if (!entry)
		kvm_service_requests(e, vcpu);
	if (TDP_HAS(ev, SET, cr0))
		a->cr0 = ev->u.set.cr0;
	if (TDP_HAS(ev, SET, cr4))
		a->cr4 = ev->u.set.cr4;
	if (TDP_HAS(ev, SET, efer))
		a->efer = ev->u.set.efer;
	if (TDP_HAS(ev, SET, cr3))
		a->cr3 = ev->u.set.cr3;
	if (TDP_HAS(ev, SET, pkru))
		a->pkru = ev->u.set.pkru;
	if (TDP_HAS(ev, SET, cpl))
		a->cpl = ev->u.set.cpl;
	/* EFER.LMA follows EFER.LME and CR0.PG (set_efer() ignores LMA) */
	if ((a->efer & EFER_LME) && (a->cr0 & X86_CR0_PG))
		a->efer |= EFER_LMA;
	else
		a->efer &= ~EFER_LMA;

	/*
	 * What kvm_set_cr0/cr3/cr4() and set_efer() refuse with #GP (their
	 * "return 1" -> kvm_complete_insn_gp() -> kvm_inject_gp()): the
	 * registers keep their old values and the guest takes #GP.  The MMU's
	 * roles rely on it (long mode without PAE gave a 32-bit walker level
	 * 4, which overran its arrays: fuzz_replay, issue 13).  PAE paging
	 * then reloads the PDPTEs, which load_pdptrs() may refuse too.
	 */
	why = set_refused(e, vcpu, ev, old_cr0, old_cr4, old_efer);
	exits = cr_load_exits(e, vcpu, ev, old_cr0, old_cr4, a->cr0, a->cr4);
	reset = ((old_cr0 ^ a->cr0) & KVM_MMU_CR0_ROLE_BITS) ||
		((old_cr4 ^ a->cr4) & KVM_MMU_CR4_ROLE_BITS) ||
		((old_efer ^ a->efer) & (KVM_MMU_EFER_ROLE_BITS | EFER_LMA));
	new_cr3 = TDP_HAS(ev, SET, cr3);
	if (mmu_is_nested(vcpu))
		return handle_set_l2(e, vcpu, ev, entry, out, why, reset, exits,
				     old_cr0, old_cr4, old_cr3, old_efer,
				     old_pkru, old_cpl);
	/*
	 * The PDPTEs are reloaded exactly where KVM reloads them: kvm_set_cr3()
	 * always under PAE paging ("PDPTRs are always reloaded for PAE
	 * paging", even for the same value), kvm_set_cr0() when a bit of
	 * X86_CR0_PDPTR_BITS changes, kvm_set_cr4() when a bit of
	 * X86_CR4_PDPTR_BITS changes (both only if the result is PAE paging:
	 * PG=1, PAE=1, not long mode).  A role change outside those bits
	 * (CR0.WP, CR4.SMAP/PKE, EFER.NX) resets the MMU but keeps the PDPTEs
	 * the vCPU has, even if the PDPT in memory changed since.
	 */
	if (!why && is_pae_paging(vcpu) &&
	    (new_cr3 || ((old_cr0 ^ a->cr0) & X86_CR0_PDPTR_BITS) ||
	     ((old_cr4 ^ a->cr4) & X86_CR4_PDPTR_BITS)) &&
	    !load_pdptrs(vcpu, true))
		why = "a PAE PDPTE has a reserved bit or is not in memory";
	if (why) {
		set_restore(vcpu, old_cr0, old_cr4, old_cr3, old_efer, old_pkru,
			    old_cpl);
		return set_inject_gp(e, exits, out);
	}
	if (!set_loads_cr(ev))
		return 0;

	/*
	 * exit_cr: one exit for the `set` if any of its loads exits
	 * (cr_load_exits(); a `set` stands for several MOVs but is counted
	 * as one exit), and only the loads that exit make KVM's requests.
	 */
	if (exits)
		e->stats->exit_cr++;
	set_tlb_flush_requests(vcpu, exits, old_cr0, old_cr4);
	if (reset) {
		kvm_mmu_reset_context(vcpu);
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	} else if (new_cr3 && a->cr3 != old_cr3) {
		kvm_mmu_new_pgd(vcpu, a->cr3);
		if (!VALID_PAGE(vcpu->arch.mmu->root.hpa))
			e->stats->prev_root_misses++;
		else
			e->stats->prev_root_hits++;
	}
	/*
	 * The syncs come with the requests, at the next vcpu_enter_guest():
	 * a PGE toggle is KVM_REQ_TLB_FLUSH_GUEST (current and prev_roots
	 * synced; unsync prev_roots freed).  MOV CR3 without PCIDE is
	 * kvm_invalidate_pcid(): KVM_REQ_MMU_SYNC for the current root only
	 * -- a prev_root is synced when a later MOV CR3 makes it current
	 * again, so it stays cached (freeing it lost every prev_roots hit of
	 * a guest that writes a PTE before switching).
	 */
	/* the CPU's side of MOV CR3 without PCIDE: the TLB is flushed */
	if (new_cr3)
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	return 0;
}

static u64 access_to_pfec(const struct kvm_vcpu *vcpu, enum tdp_access_op op,
			  unsigned cpl, bool implicit)
{
	u64 access = 0;

	if (op == TDP_OP_WRITE)
		access |= PFERR_WRITE_MASK;
	else if (op == TDP_OP_FETCH)
		access |= PFERR_FETCH_MASK;
	if (cpl == 3 && !implicit)
		access |= PFERR_USER_MASK;
	if (implicit)
		access |= PFERR_IMPLICIT_ACCESS;
	return access;
}

/*
 * The `invlpg` event: the guest runs (vcpu_enter_guest()) and executes
 * INVLPG.  With shadow paging it is intercepted: handle_invlpg() (vmx.c) /
 * invlpg_interception() (svm.c) -> kvm_mmu_invlpg().  With TDP it is not.
 */
/*
 * INVLPG: with TDP KVM does not intercept it (the CPU flushes its TLB);
 * with shadow paging it exits to kvm_mmu_invlpg().  *@memo_kept: neither
 * KVM nor memory changed (TDP, nothing pending at VM entry), so every
 * memoised walk stays what a walk returns -- the memo is not a TLB.
 */
static int handle_invlpg(struct tdp_engine *e, struct kvm_vcpu *vcpu, u64 gva,
			 bool *memo_kept)
{
	bool quiet = vcpu_entry_quiet(vcpu);
	int r = vcpu_enter_guest(e, vcpu);

	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	hw_tlb_flush_addr(vcpu_tlb(e, vcpu), gva);
	if (!vcpu->tdp_enabled) {
		e->stats->exit_invlpg++;
		kvm_mmu_invlpg(vcpu, gva);
	}
	*memo_kept = quiet && vcpu->tdp_enabled;
	return 0;
}

/*
 * One MOV to CR3 / CR4 of a `flush` that keeps the register's value.
 * Whether it exits is cr_load_exits()'s rule: MOV CR3 only with shadow
 * paging; MOV CR4 flipping PGE with shadow paging, and on amd always
 * (INTERCEPT_CR4_WRITE) -- with EPT, CR4.PGE is the guest's.  If it does
 * not exit (and for L2 under nested TDP, as L0 runs it with EPT/NPT) only
 * the CPU acts: it reloads the PAE PDPTEs (SDM 4.4.1; for L2 on intel
 * through EPT02, vcpu_run_pdpte_load(), which may exit -- then the MOV does
 * not complete and nothing is flushed; an NPT guest has no PDPE registers,
 * hw_regs.pdpte_walk) and flushes.  If it exits it is one CR exit
 * (exit_cr), and KVM:
 *   cr3     kvm_set_cr3() with cr3 == kvm_read_cr3(): load_pdptrs() under
 *           PAE paging, no kvm_mmu_new_pgd(); kvm_invalidate_pcid(0):
 *           KVM_REQ_MMU_SYNC + KVM_REQ_TLB_FLUSH_CURRENT -- the current
 *           root is synced, prev_roots are kept (no PCIDE).
 *   global  kvm_set_cr4() with only CR4.PGE changed: load_pdptrs() under
 *           PAE paging (PGE is in X86_CR4_PDPTR_BITS; for L2 on amd
 *           through L1's NPT); kvm_post_set_cr4(): no role change,
 *           KVM_REQ_TLB_FLUSH_GUEST -> kvm_vcpu_flush_tlb_guest(): current
 *           and previous roots synced with shadow paging, nothing more
 *           with TDP.
 * The requests are serviced (and tlb_flush counted) by the
 * vcpu_enter_guest() that resumes the guest after the exit.  An imported
 * `flush kind=global` stands for an INVPCID exit or a PV TLB flush, not
 * two MOVs to CR4: its exit_cr is not what the recording's cr_loads
 * counts (docs/IMPORT.md).  Returns 0, > 0 when an L2 PDPTE load exited
 * (@out says how), or a negative error.
 */
static int guest_mov_cr(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			enum tdp_flush_kind kind, struct tdp_outcome *out)
{
	struct hw_tlb_entry *tlb = vcpu_tlb(e, vcpu);
	const struct kvm_vcpu_arch *a = &vcpu->arch;
	struct tdp_event mov = { .kind = TDP_EV_SET };
	unsigned long cr4 = a->cr4;
	unsigned exits;

	if (kind == TDP_FLUSH_GLOBAL) {
		mov.present = TDP_KEY_BIT(SET, cr4);
		cr4 ^= X86_CR4_PGE;
	} else {
		mov.present = TDP_KEY_BIT(SET, cr3);
	}
	exits = cr_load_exits(e, vcpu, &mov, a->cr0, a->cr4, a->cr0, cr4);
	if (is_pae_paging(vcpu) && !exits && mmu_is_nested(vcpu)) {
		if (vcpu->vendor == KVM_VENDOR_INTEL) {
			int r = vcpu_run_pdpte_load(e, vcpu, out);

			if (r > 0 && out->kind == TDP_OUT_GP)
				e->stats->gp_set_refused++;
			if (r)
				return r;
		}
	} else if (is_pae_paging(vcpu)) {
		/* same value: no #GP modelled for a PDPT changed since (the
		 * trace's flush has no outcome line); KVM would refuse a bad
		 * one */
		load_pdptrs(vcpu, false);
	}
	if (!exits) {
		/* SDM 4.10.4.1: MOV CR3 keeps global entries, PGE toggle not */
		if (kind == TDP_FLUSH_GLOBAL)
			hw_tlb_flush(tlb);
		else
			hw_tlb_flush_nonglobal(tlb);
		return 0;
	}
	e->stats->exit_cr++;
	if (kind == TDP_FLUSH_GLOBAL) {
		kvm_make_request(KVM_REQ_TLB_FLUSH_GUEST, vcpu);
		return 0;
	}
	kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
	kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
	return 0;
}

/*
 * The `flush` event: the guest runs and flushes its TLB with one of the
 * two instruction sequences of tdp_flush_kind: MOV CR3 with the current
 * value (kind=cr3), or the CR4.PGE toggle of Linux's
 * native_flush_tlb_global() -- two MOVs to CR4, each a kvm_set_cr4() with
 * PGE changed, and a VM entry in between (kind=global).
 */
static int handle_flush(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			unsigned int kind, struct tdp_outcome *out)
{
	int r = vcpu_enter_guest(e, vcpu);

	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	if (kind != TDP_FLUSH_GLOBAL) {
		r = guest_mov_cr(e, vcpu, TDP_FLUSH_CR3, out);
		return r < 0 ? r : 0;
	}
	/* CR4.PGE flipped; an L2 PDPTE load that exits stops the sequence */
	r = guest_mov_cr(e, vcpu, TDP_FLUSH_GLOBAL, out);
	if (r)
		return r < 0 ? r : 0;
	r = vcpu_enter_guest(e, vcpu);
	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	r = guest_mov_cr(e, vcpu, TDP_FLUSH_GLOBAL, out);	/* and back */
	return r < 0 ? r : 0;
}

/*
 * The `write` event with gva=: the current context stores through its own
 * mapping -- an `access op=w` that carries data (vcpu_run_access()).  The
 * CPU walks @gva; a missing or read-only SPTE (shadow paging: a gfn KVM
 * write-protects because it shadows a guest table) exits, and KVM's fault
 * handler decides as for any write: FNAME(page_fault) -> mmu_set_spte ->
 * mmu_try_to_unsync_pages() unsyncs a last-level table page and maps it
 * writable (the CPU then stores), or the gfn stays write-protected and
 * the store is emulated (RET_PF_EMULATE -> emulate_store()).  A #PF the
 * guest receives is the outcome, and nothing is stored.
 */
static int handle_write_gva(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			    const struct tdp_event *ev, struct tdp_outcome *out)
{
	unsigned cpl = TDP_HAS(ev, WRITE, cpl) ? ev->u.write.cpl :
		       (unsigned)vcpu->arch.cpl;
	const struct hw_access acc = {
		.addr = ev->u.write.gva, .op = TDP_OP_WRITE, .cpl = cpl,
		.ac = ev->u.write.ac,
	};
	struct vcpu_store st = {
		.gva = ev->u.write.gva, .gpa = ev->u.write.gpa,
		.val = ev->u.write.val, .size = ev->u.write.size,
	};
	int err = 0;

	if (!tdp_gmem_gfn_in_slot(e->gmem, st.gpa >> PAGE_SHIFT) ||
	    !tdp_gmem_gfn_in_slot(e->gmem, (st.gpa + st.size - 1) >> PAGE_SHIFT))
		return engine_fail(e, TDP_E_RANGE,
				   "write at 0x%llx is outside guest memory",
				   (unsigned long long)st.gpa);
	if (st.size < 8)
		st.val &= (1ull << (8 * st.size)) - 1;
	vcpu->arch.rflags = ev->u.write.ac ? X86_EFLAGS_AC : 0;
	vcpu_run_access(e, vcpu, &acc,
			access_to_pfec(vcpu, TDP_OP_WRITE, cpl, false), &st,
			out, &err);
	return err;
}

static int handle_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			const struct tdp_event *ev, struct tdp_outcome *out)
{
	int r = vcpu_enter_guest(e, vcpu);

	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	e->stats->exit_recorded++;
	vcpu->exit_cpl = (unsigned)vcpu->arch.cpl;	/* a reflected fault's mode */
	/*
	 * The hardware exit a recorded fault stands for: what KVM keeps of it
	 * for a reflected exit is the exit qualification (vmx_get_exit_qual)
	 * or EXITINFO1.  On amd that is the error code itself; on intel the
	 * GVA bits that __vmx_handle_ept_violation() turned into
	 * PFERR_GUEST_FINAL/PAGE (and, with the series, U) come back from
	 * the error code: bit 7 GVA valid, bit 8 final translation, bit 9
	 * user-mode address (0036).  The other advanced bits (10, 11) are not
	 * in the error code and read as 0.  Without this, a reflected
	 * recorded fault would carry the bits of the last access's exit.
	 */
	vcpu->arch.exit_qualification = vcpu->vendor == KVM_VENDOR_AMD ?
		ev->u.fault.ec : vmx_ept_qual_from_error_code(ev->u.fault.ec);
	vcpu->exception_pending = false;
	r = kvm_timed_page_fault(vcpu, ev->u.fault.addr, ev->u.fault.ec);
	if (take_injected(e, vcpu, out))
		return 0;
	/* a recorded fault with nothing left to do is reported as spurious */
	if (r == RET_PF_RETRY)
		r = RET_PF_SPURIOUS;
	r = account_ret_pf(e, r);
	if (r < 0)
		return r;
	if (r == RET_PF_FIXED) {
		out->kind = TDP_OUT_FIXED;
	} else if (r == RET_PF_SPURIOUS) {
		out->kind = TDP_OUT_SPURIOUS;
	} else {
		bool direct = vcpu->arch.mmu->root_role.direct;

		out->kind = direct && !tdp_gmem_gfn_in_slot(e->gmem,
							    ev->u.fault.addr >> PAGE_SHIFT) ?
			    TDP_OUT_MMIO : TDP_OUT_EMULATE;
	}
	return 0;
}

int engine_event(struct tdp_engine *e, const struct tdp_event *ev,
			struct tdp_outcome *out)
{
	struct kvm_vcpu *vcpu;
	bool entry, memo_kept = false;
	int err = 0;

	out->kind = TDP_OUT_NONE;
	if (ev->vcpu >= e->nr_vcpus)
		return engine_fail(e, TDP_E_RANGE, "vcpu %u does not exist", ev->vcpu);
	vcpu = &e->vcpus[ev->vcpu];
	e->stats->ev_by_kind[ev->kind & 15]++;
	vcpu->arch.insn_seq++;	/* kvm_rip_read(): one instruction per event */
	/* only a `set` right after `vmenter` loads L2's entry registers */
	entry = vcpu->arch.nested.l2_regs_pending;
	vcpu->arch.nested.l2_regs_pending = false;

	switch (ev->kind) {
	case TDP_EV_WRITE:
		if (TDP_HAS(ev, WRITE, gva))
			err = handle_write_gva(e, vcpu, ev, out);
		else
			err = handle_write(e, vcpu, ev);
		break;
	case TDP_EV_SET: {
		/*
		 * Under TDP a MOV to CR that KVM does not intercept changes
		 * only registers, which the TDP memo keys on: no bump.  Known
		 * from the outside, so that no path of handle_set() is missed:
		 * nothing pending at entry, not the VM entry that loads L2's
		 * registers (kvm_init_mmu), no exit counted, the same MMU and
		 * root after, nothing requested, no #GP, and no PAE paging
		 * before or after (PDPTE loads: load_pdptrs(), or the CPU's
		 * through EPT02, which may exit).
		 */
		const struct kvm_mmu *mmu = vcpu->arch.mmu;
		const hpa_t root = mmu->root.hpa;
		const u64 exits = tdp_stats_exits(e->stats);
		const bool quiet = vcpu->tdp_enabled && !entry && vcpu_entry_quiet(vcpu) &&
				   !is_pae_paging(vcpu);

		err = handle_set(e, vcpu, ev, entry, out);
		memo_kept = quiet && !err && out->kind == TDP_OUT_NONE &&
			    tdp_stats_exits(e->stats) == exits && vcpu->arch.mmu == mmu &&
			    mmu->root.hpa == root && !vcpu->requests && !is_pae_paging(vcpu);
		break;
	}
	case TDP_EV_ACCESS: {
		unsigned cpl = TDP_HAS(ev, ACCESS, cpl) ? ev->u.access.cpl :
			       (unsigned)vcpu->arch.cpl;
		u64 access = access_to_pfec(vcpu, ev->u.access.op, cpl,
					    ev->u.access.implicit);
		const struct hw_access acc = {
			.addr = ev->u.access.gva, .op = ev->u.access.op,
			.cpl = cpl, .ac = ev->u.access.ac,
			.implicit = ev->u.access.implicit,
		};

		e->stats->accesses_by_op[ev->u.access.op % 3]++;
		vcpu->arch.rflags = ev->u.access.ac ? X86_EFLAGS_AC : 0;
		vcpu_run_access(e, vcpu, &acc, access, NULL, out, &err);
		break;
	}
	case TDP_EV_INVLPG:
		err = handle_invlpg(e, vcpu, ev->u.invlpg.gva, &memo_kept);
		break;
	case TDP_EV_FLUSH:
		err = handle_flush(e, vcpu, ev->u.flush.kind, out);
		break;
	case TDP_EV_FAULT:
		err = handle_fault(e, vcpu, ev, out);
		break;
	case TDP_EV_PEEK: {
		u64 v = 0;

		if (tdp_gmem_read_bytes(e->gmem, ev->u.peek.gpa, &v, ev->u.peek.size))
			return engine_fail(e, TDP_E_RANGE,
					   "peek at 0x%llx is outside guest memory",
					   (unsigned long long)ev->u.peek.gpa);
		out->kind = TDP_OUT_VAL;
		out->val = v;
		break;
	}
	case TDP_EV_MARK:
		break;
	case TDP_EV_VMENTER:
	case TDP_EV_VMEXIT:
	case TDP_EV_INVEPT:
		/* the trace reader accepts them only with paging=nested */
		if (e->cfg.paging != TDP_PAGING_NESTED)
			return engine_fail(e, TDP_E_STATE, "'%s' needs paging=nested",
					   tdp_event_name(ev->kind));
		/* VMLAUNCH/VMRUN, INVEPT and the exit from L2 follow a VM
		 * entry, which serviced the pending requests */
		kvm_service_requests(e, vcpu);
		err = ev->kind == TDP_EV_VMENTER ? handle_vmenter(e, vcpu, ev) :
		      ev->kind == TDP_EV_VMEXIT ? handle_vmexit(e, vcpu) :
		      vcpu->vendor == KVM_VENDOR_AMD ? nested_svm_tlb_control_flush(e, vcpu) :
		      handle_invept(e, vcpu, ev);
		break;
	default:
		return engine_fail(e, TDP_E_EVENT, "unknown event kind %u", ev->kind);
	}
	/*
	 * Any other event may have changed memory, registers or KVM's tables;
	 * accesses and stores say so themselves (vcpu_run_access(),
	 * handle_write()), marks and peeks change nothing, nor does an INVLPG
	 * that KVM does not see.
	 */
	if (ev->kind != TDP_EV_ACCESS && ev->kind != TDP_EV_WRITE &&
	    ev->kind != TDP_EV_MARK && ev->kind != TDP_EV_PEEK && !memo_kept)
		hw_memo_bump(e->memo);
	if (err)
		return err;
	e->stats->sp_live = e->kvm.stats.sp_live_total;
	if (e->check) {
		/* what the event touched; everything periodically (check.c) */
		const char *why = kvm_mmu_check_event(&e->kvm, vcpu, ev);

		if (why)
			return engine_fail(e, TDP_E_INTERNAL, "MMU invariant broken: %s", why);
	}
	return 0;
}
