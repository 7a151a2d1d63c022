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
	if (access & PFERR_WRITE_MASK)
		emulated_access_write(e, vcpu, gpa);
	out->kind = TDP_OUT_OK;
	out->gpa = gpa;
}

/*
 * emulated_access_write() - an emulated `access op=w` (no data) to @gpa:
 * if the gfn is write-tracked, the store rewrites the entry it hits with
 * the store's own width: an `access` has none, so it is one gPTE of the
 * current mode, 4 bytes without CR4.PAE.  emulator_write_phys() ->
 * kvm_page_track_write(gpa, val, bytes) -> kvm_mmu_track_write(), where
 * mmu_pte_write_fetch_gpte() widens 4 to 8 only if is_pae(); an 8-byte
 * store on 32-bit paging would trip detect_write_misaligned() and zap.
 */
void emulated_access_write(struct tdp_engine *e, struct kvm_vcpu *vcpu, gpa_t gpa)
{
	int bytes = (vcpu->arch.cr4 & X86_CR4_PAE) ? 8 : 4;
	gpa_t at = gpa & ~(gpa_t)(bytes - 1);
	u64 cur = 0;

	if (!kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT))
		return;
	if (!tdp_gmem_read(e->gmem, at, (unsigned int)bytes, &cur))
		kvm_mmu_track_write(vcpu, at, cur, bytes);
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

/* Which shadowed guest page tables live at @gfn (kvm_mmu_find_shadow_page). */
static void gfn_shadowed(struct kvm *kvm, gfn_t gfn, bool *upper, bool *sync_leaf)
{
	struct hlist_node *n;

	*upper = *sync_leaf = false;
	for (n = kvm->arch.mmu_page_hash[kvm_page_table_hashfn(gfn)].first; n;
	     n = n->next) {
		struct kvm_mmu_page *sp = container_of(n, struct kvm_mmu_page,
						       hash_link);

		if (sp->gfn != gfn || !sp_has_gptes(sp) || is_obsolete_sp(kvm, sp))
			continue;
		if (sp->role.level > PG_LEVEL_4K)
			*upper = true;
		else if (!sp->unsync)
			*sync_leaf = true;
	}
}

/*
 * emulate_write() - KVM's emulator stores to a write-protected guest page
 * table: the memory write, then kvm_page_track_write -> kvm_mmu_track_write.
 */
static int emulate_write(struct tdp_engine *e, struct kvm_vcpu *vcpu, gpa_t gpa,
			 u64 val, unsigned size)
{
	int r = tdp_gmem_write_bytes(e->gmem, gpa, &val, size);

	if (r)
		return r;
	kvm_mmu_track_write(vcpu, gpa, val, (int)size);
	return 0;
}

/*
 * The `write` event: a guest store to @gpa.  Under shadow paging a store to
 * a shadowed guest page table traps: for an upper-level table (write
 * tracked) KVM emulates it; for a last-level table KVM's fault handler
 * unsyncs the shadow pages and maps the gfn writable, and the store lands.
 */
int handle_write(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		 const struct tdp_event *ev)
{
	gpa_t gpa = ev->u.write.gpa;
	unsigned size = ev->u.write.size;
	u64 val = ev->u.write.val;
	bool upper, sync_leaf, quiet;
	int r;

	if (!tdp_gmem_gfn_in_slot(e->gmem, gpa >> PAGE_SHIFT) ||
	    !tdp_gmem_gfn_in_slot(e->gmem, (gpa + size - 1) >> PAGE_SHIFT))
		return engine_fail(e, TDP_E_RANGE,
				   "write at 0x%llx is outside guest memory",
				   (unsigned long long)gpa);
	/*
	 * Memoised walks (include/tdpsim/hw_memo.h) stay valid only if KVM
	 * does nothing here (the TDP memo re-reads the guest entries it
	 * used; a shadow walk reads none).
	 */
	quiet = vcpu_entry_quiet(vcpu);
	/* the store is a guest instruction: it runs after vcpu_enter_guest() */
	r = vcpu_enter_guest(e, vcpu);
	if (!quiet)
		hw_memo_bump(e->memo);
	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	if (size < 8)
		val &= (1ull << (8 * size)) - 1;
	/* under TDP only nested (guest_mmu) pages shadow guest tables */
	if (vcpu->tdp_enabled && e->cfg.paging != TDP_PAGING_NESTED)
		goto store;

	/*
	 * A store that traps is one #PF intercept (shadow paging) or EPT
	 * violation / #NPF (L1's store to its EPT/NPT under nested TDP) that
	 * reaches kvm_mmu_page_fault() (6.12+: "vcpu->stat.pf_taken++" before
	 * the handler), then counts the final RET_PF_*: RET_PF_FIXED is
	 * pf_fixed; RET_PF_WRITE_PROTECTED (page_fault_handle_page_track() for
	 * a write-tracked gfn, or mmu_set_spte() keeping the SPTE read-only
	 * when the gfn cannot be unsynced) goes through
	 * kvm_mmu_write_protect_fault(), which for a store by L1 to its own
	 * tables (no event awaiting reinjection, not a guest page-table walk)
	 * returns RET_PF_EMULATE: pf_emulate, and the emulator, inside the
	 * same exit.  tdpsim splits the exit by how it ends: exit_emulated_write
	 * for an emulated store, exit_pf / exit_ept_violation for a fixed one.
	 */
	gfn_shadowed(&e->kvm, gpa >> PAGE_SHIFT, &upper, &sync_leaf);
	if (upper || kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT)) {
		hw_memo_bump(e->memo);
		e->stats->pf_taken++;
		e->stats->pf_emulate++;
		e->stats->exit_emulated_write++;
		r = emulate_write(e, vcpu, gpa, val, size);
		return r ? engine_fail(e, r, "emulated write failed") : 0;
	}
	if (sync_leaf) {
		/* fault on the read-only mapping; the fault unsyncs the page */
		e->stats->pf_taken++;
		r = mmu_try_to_unsync_pages(&e->kvm, gpa >> PAGE_SHIFT, true, false);
		hw_memo_bump(e->memo);
		if (r) {
			e->stats->pf_emulate++;
			e->stats->exit_emulated_write++;
			r = emulate_write(e, vcpu, gpa, val, size);
			return r ? engine_fail(e, r, "emulated write failed") : 0;
		}
		if (vcpu->tdp_enabled)
			e->stats->exit_ept_violation++;
		else
			e->stats->exit_pf++;
		e->stats->pf_fixed++;
	}
store:
	r = tdp_gmem_write_bytes(e->gmem, gpa, &val, size);
	return r ? engine_fail(e, r, "write at 0x%llx failed",
			       (unsigned long long)gpa) : 0;
}
