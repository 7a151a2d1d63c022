// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/x86.c, the emulator's side: what KVM does after its fault
 * handler returns RET_PF_EMULATE (x86_emulate_instruction() ->
 * emulator_read_write() -> vcpu->arch.walk_mmu->gva_to_gpa, then
 * emulator_write_phys() and kvm_page_track_write()), and how a fault KVM
 * found is delivered (kvm_inject_emulated_page_fault(): a #PF to the
 * current context, or an exit reflected to L1).  Split from x86.c, which
 * keeps the register loads, requests and event handlers.
 */
#include "kvm/kvm.h"

/* pf_injected bookkeeping for a #PF the guest receives. */
void count_injected(struct tdp_stats *st, u64 ec)
{
	static const u64 bits[6] = { PFERR_PRESENT_MASK, PFERR_WRITE_MASK,
				     PFERR_USER_MASK, PFERR_RSVD_MASK,
				     PFERR_FETCH_MASK, PFERR_PK_MASK };

	st->pf_injected++;
	for (int i = 0; i < 6; i++)
		if (ec & bits[i])
			st->pf_injected_by_bit[i]++;
}

/*
 * The emulator translates through walk_mmu: nested_mmu in L2 (a 2-D walk
 * through L1's EPT/NPT), else the guest's own tables.
 */
static enum tdp_walk_kind emulator_walk_kind(struct kvm_vcpu *vcpu,
					     const struct kvm_mmu *w)
{
	return w == &vcpu->arch.nested_mmu ? TDP_WALK_2D : TDP_WALK_1D;
}

/*
 * deliver_fault() - a fault found by one of KVM's software walks: reflected
 * to L1 when it was found in L1's EPT/NPT, else a #PF for the current
 * context (kvm_inject_emulated_page_fault picks the MMU the same way).
 */
void deliver_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  const struct x86_exception *fault,
			  struct tdp_outcome *out)
{
	if (fault->nested_page_fault) {
		reflect_to_l1(e, vcpu, fault, out);
		return;
	}
	out->kind = TDP_OUT_PF;
	out->ec = fault->error_code & 0xffff;
	count_injected(e->stats, out->ec);
	if (vcpu->arch.guest_mode)
		e->stats->l2_pf++;
}

/* Emulation of an access KVM could not map (MMIO, write-protected gfn). */
void emulate_access(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			   u64 gva, u64 access, struct tdp_outcome *out)
{
	struct kvm_mmu *w = vcpu->arch.walk_mmu;
	struct x86_exception exc = { 0 };
	gpa_t gpa;

	gpa = kvm_timed_walk(vcpu, emulator_walk_kind(vcpu, w),
			     w->gva_to_gpa(vcpu, w, gva, access, &exc));
	if (gpa == INVALID_GPA) {
		deliver_fault(e, vcpu, &exc, out);
		return;
	}
	if ((access & PFERR_WRITE_MASK) &&
	    kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT)) {
		/*
		 * The emulated store rewrites the entry it hits, with the
		 * store's own width: an `access` has none, so it is one gPTE
		 * of the current mode, 4 bytes without CR4.PAE.  emulator_
		 * write_phys() -> kvm_page_track_write(gpa, val, bytes) ->
		 * kvm_mmu_track_write(), where mmu_pte_write_fetch_gpte()
		 * widens 4 to 8 only if is_pae(); an 8-byte store on 32-bit
		 * paging would trip detect_write_misaligned() and zap.
		 */
		int bytes = (vcpu->arch.cr4 & X86_CR4_PAE) ? 8 : 4;
		gpa_t at = gpa & ~(gpa_t)(bytes - 1);
		u64 cur = 0;

		if (!tdp_gmem_read(e->gmem, at, (unsigned int)bytes, &cur))
			kvm_mmu_track_write(vcpu, at, cur, bytes);
	}
	out->kind = TDP_OUT_OK;
	out->gpa = gpa;
}

/*
 * emulate_store() - KVM's emulator makes a store the CPU could not
 * (x86_emulate_instruction() after RET_PF_EMULATE): it translates @gva
 * itself (emulator_write_emulated -> vcpu->arch.walk_mmu->gva_to_gpa, a
 * fault there is injected), writes the instruction's own width
 * (emulator_write_phys -> kvm_vcpu_write_guest) and reports those bytes
 * to page tracking (kvm_page_track_write -> kvm_mmu_track_write(), whose
 * misaligned-write and flooding checks see the real width: a 4-byte gPTE
 * store on 32-bit paging is aligned, an 8-byte one there is not).
 */
void emulate_store(struct tdp_engine *e, struct kvm_vcpu *vcpu, u64 gva,
		   u64 access, const struct vcpu_store *store,
		   struct tdp_outcome *out, int *err)
{
	struct kvm_mmu *w = vcpu->arch.walk_mmu;
	struct x86_exception exc = { 0 };
	gpa_t gpa;
	int r;

	gpa = kvm_timed_walk(vcpu, emulator_walk_kind(vcpu, w),
			     w->gva_to_gpa(vcpu, w, gva, access, &exc));
	if (gpa == INVALID_GPA) {
		deliver_fault(e, vcpu, &exc, out);
		return;
	}
	out->kind = TDP_OUT_OK;
	out->gpa = gpa;
	if (gpa != store->gpa) {
		*err = engine_fail(e, TDP_E_STATE, "write gva=0x%llx: the guest's mapping "
				   "leads to gpa 0x%llx, not gpa=0x%llx",
				   (unsigned long long)gva, (unsigned long long)gpa,
				   (unsigned long long)store->gpa);
		return;
	}
	r = tdp_gmem_write_bytes(e->gmem, gpa, &store->val, store->size);
	if (r) {
		*err = engine_fail(e, r, "emulated write failed");
		return;
	}
	kvm_mmu_track_write(vcpu, gpa, store->val, (int)store->size);
}

/*
 * account_ret_pf() - check what KVM's fault handler returned.  KVM's own
 * pf_fixed / pf_emulate / pf_spurious are counted where the kernel counts
 * them (kvm_mmu_page_fault() in src/mmu/fault.c); pf_retry, tdpsim's own,
 * here.  Returns @r for a RET_PF_* value, or a negative TDP_E_* code
 * (message set) for an error or a value the engine does not expect.
 */
int account_ret_pf(struct tdp_engine *e, int r)
{
	switch (r) {
	case RET_PF_FIXED:
	case RET_PF_SPURIOUS:
	case RET_PF_EMULATE:
		return r;
	case RET_PF_RETRY:
		e->stats->pf_retry++;
		return r;
	default:
		return engine_fail(e, r < 0 ? r : TDP_E_INTERNAL,
				   "page fault handler failed (%d)", r);
	}
}

/*
 * take_injected() - the fault KVM queued, if any, as the outcome: a #PF for
 * the guest, or an exit reflected to L1.
 */
bool take_injected(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  struct tdp_outcome *out)
{
	if (!vcpu->exception_pending)
		return false;
	vcpu->exception_pending = false;
	deliver_fault(e, vcpu, &vcpu->exception, out);
	return true;
}
