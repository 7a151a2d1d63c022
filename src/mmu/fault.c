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
 * direct_page_fault() - kvm_tdp_page_fault() for TDP, nonpaging_page_fault()
 * for shadow paging with CR0.PG=0.  fast_page_fault() is not modelled: it
 * only changes how a spurious or access-tracked fault is resolved, not the
 * resulting SPTEs.
 */
static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	/* Dirty logging / write tracking of guest page tables (nested). */
	if (page_fault_handle_page_track(vcpu, fault))
		return RET_PF_WRITE_PROTECTED;

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
 * kvm_mmu_page_fault() / kvm_mmu_do_page_fault(): build the fault record
 * from KVM's error code and call the MMU's handler.  RET_PF_WRITE_PROTECTED
 * is turned into RET_PF_EMULATE: KVM's unprotect-and-retry heuristics
 * (kvm_mmu_write_protect_fault) key on the guest RIP, which traces do not
 * carry, and end in emulation for writes to shadowed page tables.
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
	bool stats;
	int r;

	if (fault.rsvd) {
		r = handle_mmio_page_fault(vcpu, cr2_or_gpa, mmu->root_role.direct);
		if (r == RET_PF_EMULATE || r == RET_PF_RETRY)
			return r;	/* RET_PF_INVALID goes on */
	}

	if (fault.is_tdp || mmu->root_role.direct)
		fault.gfn = cr2_or_gpa >> PAGE_SHIFT;

	/*
	 * KVM sends a PFERR_RSVD_MASK exit to handle_mmio_page_fault() first
	 * and reaches kvm_mmu_do_page_fault() -- where its stats are counted
	 * -- only for other faults (handle_mmio_page_fault() above returns
	 * before, for every PFERR_RSVD fault the port sees).
	 */
	stats = !(error_code & PFERR_RSVD_MASK) && vcpu->tdp_stats;
	/* kvm_mmu_do_page_fault(): "if (!prefetch) vcpu->stat.pf_taken++" */
	if (stats)
		vcpu->tdp_stats->pf_taken++;
	r = mmu->page_fault(vcpu, &fault);
	/*
	 * kvm_mmu_do_page_fault(): pf_fixed, pf_emulate, pf_spurious by the
	 * handler's RET_PF_* -- before the write-protected case becomes an
	 * emulation (kvm_mmu_write_protect_fault), which KVM does not count
	 * as pf_emulate.
	 */
	if (stats && r == RET_PF_FIXED)
		vcpu->tdp_stats->pf_fixed++;
	else if (stats && r == RET_PF_EMULATE)
		vcpu->tdp_stats->pf_emulate++;
	else if (stats && r == RET_PF_SPURIOUS)
		vcpu->tdp_stats->pf_spurious++;
	if (r == RET_PF_WRITE_PROTECTED)
		r = RET_PF_EMULATE;
	return r;
}
