// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page-fault entry points of arch/x86/kvm/mmu/mmu.c: kvm_mmu_page_fault(),
 * the direct path (direct_page_fault / direct_map, used by TDP with the
 * shadow MMU's page machinery, i.e. KVM with tdp_mmu=N, and by shadow
 * paging while CR0.PG=0), hugepage adjustment and page-track handling.
 * The per-PTE-type handlers live in paging_fault_tmpl.h (via walk.c).
 */
#include <tdpsim/gmem.h>

#include "fault.h"
#include "paging.h"

void kvm_inject_emulated_page_fault(struct kvm_vcpu *vcpu,
				    struct x86_exception *fault)
{
	vcpu->exception_pending = true;
	vcpu->exception = *fault;
}

/* kvm_mmu_max_mapping_level(): largest level not disallowed for @gfn. */
static int kvm_mmu_max_mapping_level(struct kvm *kvm, gfn_t gfn, int max_level)
{
	int level;

	max_level = max_level < TDP_HOST_MAPPING_LEVEL ? max_level :
		    TDP_HOST_MAPPING_LEVEL;
	for (level = max_level; level > PG_LEVEL_4K; level--)
		if (!kvm_lpage_disallowed(kvm, gfn, level))
			break;
	return level;
}

/* kvm_mmu_hugepage_adjust() */
void kvm_mmu_hugepage_adjust(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	u64 mask;

	fault->huge_page_disallowed = fault->exec &&
				      fault->nx_huge_page_workaround_enabled;
	if (fault->max_level == PG_LEVEL_4K)
		return;
	if (is_noslot_pfn(fault->pfn))	/* is_error_noslot_pfn() */
		return;

	/* The whole huge page must be inside the memslot. */
	fault->req_level = (u8)kvm_mmu_max_mapping_level(vcpu->kvm, fault->gfn,
							 fault->max_level);
	while (fault->req_level > PG_LEVEL_4K &&
	       !tdp_gmem_gfn_in_slot(vcpu->gmem,
				     gfn_round_for_level(fault->gfn, fault->req_level) +
				     KVM_PAGES_PER_HPAGE(fault->req_level) - 1))
		fault->req_level--;
	if (fault->req_level == PG_LEVEL_4K || fault->huge_page_disallowed)
		return;

	/* mmu_invalidate_retry() cannot race here: go. */
	fault->goal_level = fault->req_level;
	mask = KVM_PAGES_PER_HPAGE(fault->goal_level) - 1;
	fault->pfn &= ~mask;
}

/* disallowed_hugepage_adjust() */
void disallowed_hugepage_adjust(struct kvm *kvm, struct kvm_page_fault *fault,
				u64 spte, int cur_level)
{
	struct kvm_mmu_page *child;

	if (cur_level > PG_LEVEL_4K && cur_level == fault->goal_level &&
	    is_shadow_present_pte(spte) && !is_large_pte(spte)) {
		child = spte_to_child_sp(kvm, spte);
		if (child && child->nx_huge_page_disallowed) {
			/*
			 * A small SPTE exists for this pfn, but FNAME(fetch),
			 * direct_map() or kvm_tdp_mmu_map() would like to
			 * create a large PTE instead: just force them to go
			 * down another level, patching back the pfn.
			 */
			u64 page_mask = KVM_PAGES_PER_HPAGE(cur_level) -
					KVM_PAGES_PER_HPAGE(cur_level - 1);

			fault->pfn |= fault->gfn & page_mask;
			fault->goal_level--;
		}
	}
}

/*
 * __direct_pte_prefetch() / direct_pte_prefetch_many(): map the other
 * SPTEs of the 8-aligned group of a 4K direct page (FNAME(pte_prefetch)
 * calls this one directly for direct pages).
 */
void kvm_direct_pte_prefetch(struct kvm_vcpu *vcpu, u64 *sptep)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);
	int i, start;

	if (sp->role.level > PG_LEVEL_4K)
		return;
	start = (int)(sptep - sp->spt) & ~(PTE_PREFETCH_NUM - 1);
	for (i = start; i < start + PTE_PREFETCH_NUM; i++) {
		gfn_t gfn;

		if (&sp->spt[i] == sptep || is_shadow_present_pte(sp->spt[i]))
			continue;
		gfn = kvm_mmu_page_get_gfn(sp, i);
		if (!tdp_gmem_gfn_in_slot(vcpu->gmem, gfn))
			break;
		mmu_set_spte(vcpu, &sp->spt[i], sp->role.access, gfn,
			     kvm_gfn_to_host_pfn(gfn), true, false, true);
		vcpu->tdp_stats->pf_prefetched++;
	}
}

/*
 * direct_pte_prefetch() - from direct_map(): without accessed bits there is
 * no way to tell prefetched translations from accessed ones, so there is
 * no prefetch on A/D-disabled pages (sp_ad_disabled()).
 */
static void direct_pte_prefetch(struct kvm_vcpu *vcpu, u64 *sptep)
{
	if (sptep_to_sp(sptep)->role.ad_disabled)
		return;
	kvm_direct_pte_prefetch(vcpu, sptep);
}

/*
 * kvm_handle_noslot_fault() - a gfn without memslot is MMIO: emulate at
 * once if MMIO caching is off (shadow paging and NPT on this 52-bit host,
 * spte.h), else go on and let mmu_set_spte() install an MMIO SPTE.  The
 * per-vCPU MMIO info cache (vcpu_cache_mmio_info) is not modelled: it only
 * saves the emulator a walk.
 */
static int kvm_handle_noslot_fault(struct kvm_vcpu *vcpu,
				   struct kvm_page_fault *fault,
				   unsigned int access)
{
	(void)access;
	fault->slot = false;
	fault->pfn = KVM_PFN_NOSLOT;
	fault->map_writable = false;

	if (!vcpu->kvm->masks.enable_mmio_caching)
		return RET_PF_EMULATE;
	/* kvm_mmu_max_gfn(): no MMIO SPTE above host.MAXPHYADDR */
	if (fault->gfn > (1ull << (KVM_HOST_MAXPHYADDR - PAGE_SHIFT)) - 1)
		return RET_PF_EMULATE;
	return RET_PF_CONTINUE;
}

/* kvm_mmu_faultin_pfn() / kvm_faultin_pfn(): the host pfn of the gfn. */
int kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			unsigned int access)
{
	fault->slot = tdp_gmem_gfn_in_slot(vcpu->gmem, fault->gfn);
	if (!fault->slot)
		return kvm_handle_noslot_fault(vcpu, fault, access);
	fault->pfn = kvm_gfn_to_host_pfn(fault->gfn);
	fault->map_writable = true;
	return RET_PF_CONTINUE;
}

/* page_fault_handle_page_track(): a write to a write-tracked gfn. */
bool page_fault_handle_page_track(struct kvm_vcpu *vcpu,
				  struct kvm_page_fault *fault)
{
	if (fault->rsvd)
		return false;
	if (!fault->present || !fault->write)
		return false;
	/* guest page table write-protected by KVM */
	return kvm_gfn_is_write_tracked(vcpu->kvm, fault->gfn);
}

/* shadow_page_table_clear_flood(): the last-level table is in use. */
void shadow_page_table_clear_flood(struct kvm_vcpu *vcpu, gva_t addr)
{
	struct kvm_shadow_walk_iterator it;
	u64 spte = 0;

	if (!VALID_PAGE(vcpu->arch.mmu->root.hpa) ||
	    kvm_mmu_is_dummy_root(vcpu->arch.mmu->root.hpa))
		return;
	for_each_shadow_entry_using_root(vcpu, vcpu->arch.mmu->root.hpa, addr, it) {
		spte = *it.sptep;
		clear_sp_write_flooding_count(it.sptep);
		if (!is_shadow_present_pte(spte))
			break;
	}
}

/* is_page_fault_stale(): the root was zapped (or is obsolete) meanwhile. */
bool is_page_fault_stale(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_page *sp = to_shadow_page(vcpu->kvm,
						 vcpu->arch.mmu->root.hpa);

	return sp && is_obsolete_sp(vcpu->kvm, sp);
}

/* direct_map() */
static int direct_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	unsigned int access = vcpu->arch.mmu->root_role.access;
	struct kvm_shadow_walk_iterator it;
	struct kvm_mmu_page *sp;
	gfn_t base_gfn = fault->gfn;
	bool exists;
	int ret;

	kvm_mmu_hugepage_adjust(vcpu, fault);

	for_each_shadow_entry_using_root(vcpu, vcpu->arch.mmu->root.hpa,
					 fault->addr, it) {
		/* An NX large page must not overwrite existing page tables. */
		if (fault->nx_huge_page_workaround_enabled)
			disallowed_hugepage_adjust(vcpu->kvm, fault, *it.sptep,
						   it.level);

		base_gfn = gfn_round_for_level(fault->gfn, it.level);
		if (it.level == fault->goal_level)
			break;

		sp = kvm_mmu_get_child_sp(vcpu, it.sptep, base_gfn, true,
					  access, &exists);
		if (!sp && exists)
			continue;
		if (!sp)
			return TDP_E_NOMEM;
		link_shadow_page(vcpu, it.sptep, sp);
		if (fault->huge_page_disallowed)
			sp->nx_huge_page_disallowed = true;
	}

	if (it.level != fault->goal_level)
		return TDP_E_INTERNAL;

	ret = mmu_set_spte(vcpu, it.sptep, access, base_gfn, fault->pfn,
			   false, fault->write, true);
	if (ret == RET_PF_SPURIOUS)
		return ret;

	direct_pte_prefetch(vcpu, it.sptep);
	return ret;
}

/*
 * ---- fast_page_fault() (mmu.c): fix or dismiss a fault without mmu_lock.
 * Read at CriticalShift/linux-ubuntu-resolute @584f561e (mmu.c, a 6.18+
 * tree: is_access_allowed() has moved to spte.h there); the series (pve-
 * kernel 0020..0047 @6e44995) changes none of these functions, only
 * is_executable_pte() (0032: XS or XU), which spte.h follows per layout.
 * No vCPU runs concurrently here, so the lockless walk is a plain walk
 * and the cmpxchg cannot lose: the retry loop runs once.
 */

/*
 * page_fault_can_be_fast() - no PFERR_RSVD (MMIO generation refresh is
 * slow-path work); no private memory here.  Fast if the SPTE may be
 * access-tracked (not present, and KVM runs without A/D bits: EPT with
 * ept_ad=0) or the fault is a write on a present SPTE (write protection).
 */
static bool page_fault_can_be_fast(struct kvm *kvm, struct kvm_page_fault *fault)
{
	if (fault->rsvd)
		return false;
	if (!fault->present)
		return !kvm->masks.ad_enabled;	/* !kvm_ad_enabled */
	/* instruction fetches and writes are mutually exclusive */
	return fault->write;
}

/*
 * fast_pf_fix_direct_spte() - try_cmpxchg64() of the SPTE; always wins
 * here.  mark_page_dirty_in_slot(): no dirty log is modelled.
 */
static bool fast_pf_fix_direct_spte(struct kvm_vcpu *vcpu,
				    struct kvm_page_fault *fault,
				    u64 *sptep, u64 old_spte, u64 new_spte)
{
	(void)fault;
	if (*sptep != old_spte)
		return false;
	*sptep = new_spte;
	kvm_chk_spte(vcpu->kvm, sptep);
	return true;
}

/*
 * is_access_allowed() (spte.h) - would the faulting access pass the SPTE's
 * rights now?  The caller has checked for a present leaf.  A fetch asks
 * is_executable_pte(), which with the series' 0032 accepts XS or XU (the
 * fast path never sees shadow EPT, whose pages alone can differ).
 */
static bool is_access_allowed(const struct kvm_spte_masks *m,
			      struct kvm_page_fault *fault, u64 spte)
{
	if (fault->exec)
		return is_executable_pte(m, spte);
	if (fault->write)
		return is_writable_pte(spte);
	/* Fault was on Read access */
	return spte & PT_PRESENT_MASK;
}

/*
 * fast_pf_get_last_sptep() - the last SPTE the lockless walk for @gpa
 * reaches (shadow_walk_next() stops at a non-present or leaf SPTE), and
 * its value in *@spte; NULL if no walk was possible.
 */
static u64 *fast_pf_get_last_sptep(struct kvm_vcpu *vcpu, gpa_t gpa, u64 *spte)
{
	struct kvm_shadow_walk_iterator it;
	u64 *sptep = NULL;

	for_each_shadow_entry_using_root(vcpu, vcpu->arch.mmu->root.hpa, gpa, it) {
		sptep = it.sptep;
		*spte = *it.sptep;
	}
	return sptep;
}

/*
 * fast_page_fault() - RET_PF_INVALID (take the slow path), RET_PF_FIXED
 * (made writable / access-tracking undone) or RET_PF_SPURIOUS (the SPTE
 * already allows the access); vcpu->stat.pf_fast counts the last two.
 * On this host every direct SPTE is either writable and MMU-writable or
 * neither (no dirty logging; write protection for shadowed gfns clears
 * both), so with A/D bits on only the spurious case can happen.
 */
static int fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	const struct kvm_spte_masks *m = &vcpu->kvm->masks;
	struct kvm_mmu_page *sp;
	int ret = RET_PF_INVALID;
	u64 spte = 0;
	u64 *sptep;
	unsigned int retry_count = 0;

	if (!page_fault_can_be_fast(vcpu->kvm, fault))
		return ret;

	do {
		u64 new_spte;

		sptep = fast_pf_get_last_sptep(vcpu, fault->addr, &spte);
		/* the vCPU holds its root: a failed walk is a WARN */
		if (!sptep)
			spte = 0;	/* FROZEN_SPTE: not shadow-present */
		if (!is_shadow_present_pte(spte))
			break;

		sp = sptep_to_sp(sptep);
		if (!is_last_spte(spte, sp->role.level))
			break;

		/*
		 * Would the access still fault?  If not, the fault is
		 * spurious (a lazily flushed TLB, or fixed meanwhile).  Upper
		 * levels are ACC_ALL, only the leaf needs checking.
		 */
		if (is_access_allowed(m, fault, spte)) {
			ret = RET_PF_SPURIOUS;
			break;
		}

		new_spte = spte;

		/* access tracking exists only without A/D bits */
		if (!m->ad_enabled && is_access_track_spte(m, spte))
			new_spte = restore_acc_track_spte(m, new_spte) |
				   (m->ad_enabled ? m->accessed_mask : 0);

		/*
		 * Only MMU-writable SPTEs are made writable out of mmu_lock;
		 * the large-SPTE exception for dirty logging cannot apply
		 * (kvm_slot_dirty_track_enabled() is false: no dirty log).
		 */
		if (fault->write && is_mmu_writable_spte(m, spte))
			new_spte |= PT_WRITABLE_MASK;

		/* Verify that the fault can be handled in the fast path */
		if (new_spte == spte || !is_access_allowed(m, fault, new_spte))
			break;

		/* direct pages only: the gfn of an indirect one is unstable */
		if (fast_pf_fix_direct_spte(vcpu, fault, sptep, spte, new_spte)) {
			ret = RET_PF_FIXED;
			break;
		}

		if (++retry_count > 4)
			break;	/* "Fast #PF retrying more than 4 times." */
	} while (true);

	/* fast_page_fault(): "if (ret != RET_PF_INVALID) vcpu->stat.pf_fast++" */
	if (ret != RET_PF_INVALID && vcpu->tdp_stats)
		vcpu->tdp_stats->pf_fast++;
	return ret;
}

/*
 * direct_page_fault() - kvm_tdp_page_fault() for TDP (KVM with tdp_mmu=N:
 * kvm_tdp_mmu_page_fault() has the same steps on the TDP MMU), and
 * nonpaging_page_fault() for shadow paging with CR0.PG=0.
 */
static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	/* Dirty logging / write tracking of guest page tables (nested). */
	if (page_fault_handle_page_track(vcpu, fault))
		return RET_PF_WRITE_PROTECTED;

	r = fast_page_fault(vcpu, fault);
	if (r != RET_PF_INVALID)
		return r;

	r = kvm_mmu_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	if (is_page_fault_stale(vcpu))
		return RET_PF_RETRY;

	r = make_mmu_pages_available(vcpu);
	if (r)
		return r;

	return direct_map(vcpu, fault);
}

static int kvm_tdp_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	return direct_page_fault(vcpu, fault);
}

void kvm_mmu_init_fault_callbacks(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu)
{
	if (mmu->root_role.direct) {
		mmu->page_fault = kvm_tdp_page_fault;
		mmu->sync_spte = NULL;
	} else if (mmu == &vcpu->arch.guest_mmu &&
		   vcpu->vendor == KVM_VENDOR_INTEL) {
		mmu->page_fault = ept_page_fault;
		mmu->sync_spte = ept_sync_spte;
	} else if (mmu->cpu_role.base.has_4_byte_gpte) {
		mmu->page_fault = paging32_page_fault;
		mmu->sync_spte = paging32_sync_spte;
	} else {
		mmu->page_fault = paging64_page_fault;
		mmu->sync_spte = paging64_sync_spte;
	}
}

/*
 * get_mmio_spte() / get_walk(): the last SPTE the shadow walk for @addr
 * reaches (0 if none).  KVM also WARNs on reserved bits in the present
 * SPTEs on the way; the port never builds such SPTEs.
 */
static u64 get_mmio_spte(struct kvm_vcpu *vcpu, u64 addr)
{
	struct kvm_shadow_walk_iterator it;
	u64 spte = 0;

	if (!VALID_PAGE(vcpu->arch.mmu->root.hpa) ||
	    kvm_mmu_is_dummy_root(vcpu->arch.mmu->root.hpa))
		return 0;
	for_each_shadow_entry_using_root(vcpu, vcpu->arch.mmu->root.hpa, addr, it)
		spte = *it.sptep;
	return spte;
}

/*
 * handle_mmio_page_fault() - a fault with PFERR_RSVD (an EPT
 * misconfiguration) on an MMIO SPTE: emulate without walking the guest's
 * tables.  Anything else is RET_PF_RETRY ("the page table was zapped by
 * another CPU").  check_mmio_spte() cannot fail: the memslot generation
 * never changes here.
 */
static int handle_mmio_page_fault(struct kvm_vcpu *vcpu, u64 addr, bool direct)
{
	u64 spte = get_mmio_spte(vcpu, addr);

	(void)direct;	/* only the MMIO info cache, not modelled, uses it */
	if (is_mmio_spte(&vcpu->kvm->masks, spte))
		return RET_PF_EMULATE;
	return RET_PF_RETRY;
}

/*
 * ---- RET_PF_WRITE_PROTECTED: kvm_mmu_write_protect_fault() (mmu.c, 6.12+;
 * read at CriticalShift/linux-ubuntu-resolute @584f561e, which the
 * series leaves alone).
 */

/*
 * kvm_event_needs_reinjection() (x86.h) - an exception or interrupt was
 * being delivered when the exit happened.  Never: a trace has no event
 * delivery in flight at an exit (no `fault`, `access` or `write` event
 * is part of one).
 */
static inline bool kvm_event_needs_reinjection(struct kvm_vcpu *vcpu)
{
	(void)vcpu;
	return false;
}

/* is_write_to_guest_page_table(): a write fault on a guest paging structure */
static bool is_write_to_guest_page_table(u64 error_code)
{
	const u64 mask = PFERR_GUEST_PAGE_MASK | PFERR_WRITE_MASK |
			 PFERR_PRESENT_MASK;

	return (error_code & mask) == mask;
}

/*
 * __kvm_mmu_unprotect_gfn_and_retry() - zap the shadow pages with gPTEs
 * of the faulting gfn (a shadow MMU first translates the GVA like a
 * write, kvm_mmu_gva_to_gpa_write()) and say whether any was zapped; if
 * so (or @always_retry) remember RIP and address for the retry guard.
 */
static bool __kvm_mmu_unprotect_gfn_and_retry(struct kvm_vcpu *vcpu,
					      gpa_t cr2_or_gpa, bool always_retry)
{
	struct kvm *kvm = vcpu->kvm;
	gpa_t gpa = cr2_or_gpa;
	bool r = false;

	/* no write-protected shadow pages at all: skip taking mmu_lock */
	if (!kvm->arch.indirect_shadow_pages)
		goto out;

	if (!vcpu->arch.mmu->root_role.direct) {
		struct kvm_mmu *w = vcpu->arch.walk_mmu;
		struct x86_exception exc = { 0 };
		u64 access = PFERR_WRITE_MASK |
			     (vcpu->arch.cpl == 3 ? PFERR_USER_MASK : 0);

		if (vcpu->tdp_stats)
			vcpu->tdp_stats->walks++;
		gpa = w->gva_to_gpa(vcpu, w, cr2_or_gpa, access, &exc);
		if (gpa == INVALID_GPA)
			goto out;
	}

	r = kvm_mmu_unprotect_page(kvm, gpa >> PAGE_SHIFT);
out:
	if (r || always_retry) {
		vcpu->arch.last_retry_eip = kvm_rip_read(vcpu);
		vcpu->arch.last_retry_addr = cr2_or_gpa;
	}
	return r;
}

static bool kvm_mmu_unprotect_gfn_and_retry(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa)
{
	return __kvm_mmu_unprotect_gfn_and_retry(vcpu, cr2_or_gpa, false);
}

/*
 * kvm_mmu_write_protect_fault() - RET_PF_EMULATE or RET_PF_RETRY for a
 * write to a write-protected gfn.
 *
 * The RIP guard compares kvm_rip_read(), which tdpsim models as the
 * event's number (kvm-vcpu.h insn_seq): only a refault inside the same
 * event matches.  After a successful unprotect the gfn is no longer write-
 * tracked, and nothing in one event re-shadows it, so in traces the
 * guard never fires; a guest loop re-running one instruction over several
 * events would match in KVM and does not here (docs/FIDELITY.md, "What a
 * trace does not carry").
 *
 * EMULTYPE_ALLOW_RETRY_PF (outside guest mode) lets x86_emulate_instruction
 * unprotect and retry instead of emulating, but only for an instruction
 * that x86_page_table_writing_insn() (ctxt->d & PageTable) says does not
 * write page tables.  A trace store -- `write gva=`, `access op=w` -- is a
 * MOV to memory (opcodes 0x88/0x89: DstMem | SrcReg | ModRM | Mov |
 * PageTable in emulate.c), so the emulator always emulates it: the flag is
 * computed here for the record and has no consumer in tdpsim.
 */
#define EMULTYPE_ALLOW_RETRY_PF	(1 << 3)	/* kvm_host.h */
#define EMULTYPE_PF		(1 << 6)
static int kvm_mmu_write_protect_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa,
				       u64 error_code, int *emulation_type)
{
	bool direct = vcpu->arch.mmu->root_role.direct;

	/* the same RIP and address as the last unprotect: do not loop */
	if (vcpu->arch.last_retry_eip == kvm_rip_read(vcpu) &&
	    vcpu->arch.last_retry_addr == cr2_or_gpa)
		return RET_PF_EMULATE;

	vcpu->arch.last_retry_eip = 0;
	vcpu->arch.last_retry_addr = 0;

	/*
	 * mmio_info_in_cache(): the MMIO info cache is not modelled, and a
	 * write-protected gfn always has a memslot.
	 *
	 * Direct MMU: a write fault of the CPU's own walk of L1's page tables
	 * (EPT A/D on, or NPT: the walk writes through stage 2) on a page KVM
	 * write-protects because it also holds L1's EPT/NPT tables for L2.
	 * KVM does not shadow L1's page tables, so unprotect (zap the shadow
	 * pages) and let L1 retry.  Shadow MMU: unprotect only if an event
	 * awaits reinjection (never here).
	 */
	if (((direct && is_write_to_guest_page_table(error_code)) ||
	     (!direct && kvm_event_needs_reinjection(vcpu))) &&
	    kvm_mmu_unprotect_gfn_and_retry(vcpu, cr2_or_gpa))
		return RET_PF_RETRY;

	if (!is_guest_mode(vcpu))
		*emulation_type |= EMULTYPE_ALLOW_RETRY_PF;

	return RET_PF_EMULATE;
}

/*
 * kvm_mmu_page_fault() / kvm_mmu_do_page_fault(): build the fault record
 * from KVM's error code, call the MMU's handler, and turn
 * RET_PF_WRITE_PROTECTED into emulation or a retry
 * (kvm_mmu_write_protect_fault).  The x86_emulate_instruction() call is
 * the engine's (src/kvm): it emulates on RET_PF_EMULATE.
 */
int kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 error_code)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	struct kvm_page_fault fault = {
		.addr = cr2_or_gpa,
		.error_code = error_code,
		.exec = error_code & PFERR_FETCH_MASK,
		.write = error_code & PFERR_WRITE_MASK,
		.present = error_code & PFERR_PRESENT_MASK,
		.rsvd = error_code & PFERR_RSVD_MASK,
		.user = error_code & PFERR_USER_MASK,
		.prefetch = false,
		.is_tdp = mmu->page_fault == kvm_tdp_page_fault,
		.nx_huge_page_workaround_enabled = vcpu->kvm->nx_huge_pages,
		.max_level = KVM_MAX_HUGEPAGE_LEVEL,
		.req_level = PG_LEVEL_4K,
		.goal_level = PG_LEVEL_4K,
	};
	struct tdp_stats *st = vcpu->tdp_stats;
	int emulation_type = EMULTYPE_PF;
	int r;

	if (fault.rsvd) {
		/*
		 * handle_mmio_page_fault(): RET_PF_EMULATE goes straight to
		 * the emulator ("goto emulate", no stats), RET_PF_RETRY
		 * returns uncounted; RET_PF_INVALID would go on, but cannot
		 * happen here (check_mmio_spte() never fails).
		 */
		r = handle_mmio_page_fault(vcpu, cr2_or_gpa, mmu->root_role.direct);
		if (r == RET_PF_EMULATE || r == RET_PF_RETRY)
			return r;
	}

	if (fault.is_tdp || mmu->root_role.direct)
		fault.gfn = cr2_or_gpa >> PAGE_SHIFT;

	/* kvm_mmu_page_fault(): "vcpu->stat.pf_taken++" before the handler */
	if (st)
		st->pf_taken++;
	r = mmu->page_fault(vcpu, &fault);
	if (r < 0)
		return r;

	if (r == RET_PF_WRITE_PROTECTED)
		r = kvm_mmu_write_protect_fault(vcpu, cr2_or_gpa, error_code,
						&emulation_type);

	/*
	 * kvm_mmu_page_fault() counts pf_fixed, pf_emulate, pf_spurious by
	 * the final RET_PF_* (since 6.12, after kvm_mmu_write_protect_fault:
	 * a write-protected fault that is emulated is a pf_emulate, one that
	 * is unprotected and retried counts in none).
	 */
	if (st && r == RET_PF_FIXED)
		st->pf_fixed++;
	else if (st && r == RET_PF_EMULATE)
		st->pf_emulate++;
	else if (st && r == RET_PF_SPURIOUS)
		st->pf_spurious++;
	return r;
}
