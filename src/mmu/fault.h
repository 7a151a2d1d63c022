/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-fault entry points (arch/x86/kvm/mmu/mmu.c): kvm_mmu_page_fault,
 * the direct path used by TDP and by shadow paging with CR0.PG=0, the
 * hugepage adjustment, and the helpers the per-PTE-type fault template
 * (paging_fault_tmpl.h) shares.  Implemented in src/mmu/fault.c.
 */
#ifndef TDPSIM_MMU_FAULT_H
#define TDPSIM_MMU_FAULT_H

#include <tdpsim/replay.h>
#include <tdpsim/tsc.h>

#include "mmu_page.h"

/*
 * Host mapping level: the simulated host backs guest memory with 2 MiB
 * transparent huge pages (host_pfn_mapping_level() in KVM), so KVM maps
 * at most 2 MiB unless a smaller guest page or a shadowed gfn forbids it.
 */
#define TDP_HOST_MAPPING_LEVEL	PG_LEVEL_2M

static inline gfn_t gfn_round_for_level(gfn_t gfn, int level)
{
	return gfn & -KVM_PAGES_PER_HPAGE(level);
}

/* clear_sp_write_flooding_count(): the SP holding @spte was just used. */
static inline void clear_sp_write_flooding_count(u64 *spte)
{
	sptep_to_sp(spte)->write_flooding_count = 0;
}

/* kvm_mmu_page_set_access(): update the shadowed access of SPTE @index. */
static inline void kvm_mmu_page_set_access(struct kvm_mmu_page *sp, int index,
					   unsigned int access)
{
	if (!sp->role.direct)
		sp->shadowed_translation[index] =
			(sp->shadowed_translation[index] & PAGE_MASK) | access;
}

/* mmu_spte_update(): store @new_spte, true if a TLB flush is needed. */
static inline int mmu_spte_update(struct kvm *kvm, u64 *sptep, u64 new_spte)
{
	u64 old_spte = *sptep;

	*sptep = new_spte;
	kvm_chk_spte(kvm, sptep);
	return is_shadow_present_pte(old_spte) &&
	       (old_spte & PT_WRITABLE_MASK) && !(new_spte & PT_WRITABLE_MASK);
}

/*
 * (pte_access | shadow_present_mask) == SHADOW_NONPRESENT_VALUE: only EPT
 * with execute-only support and pte_access 0 makes a non-present SPTE.
 */
static inline bool kvm_pte_access_nonpresent(const struct kvm *kvm,
					     unsigned int pte_access)
{
	return (pte_access | kvm->masks.present_mask) == 0;
}

/*
 * kvm_timed_walk() - count a guest walk by KVM and, when timing is on,
 * put its TSC ticks into the latency histogram of its walker @kind
 * (enum tdp_walk_kind).  Simulator instrumentation around the port's
 * walk, not part of it; @expr's value is the macro's.
 */
#define kvm_timed_walk(vcpu, kind, expr) ({				\
	struct tdp_stats *__s = (vcpu)->tdp_stats;			\
	u64 __t0 = (vcpu)->timing ? tdp_tsc() : 0;			\
	__typeof__(expr) __r = (expr);					\
	if ((vcpu)->timing)						\
		tdp_hist_add(&__s->walk_kind_ticks[kind],		\
			     tdp_tsc() - __t0);				\
	__s->walks++;							\
	__r;								\
})

/*
 * kvm_inject_emulated_page_fault() - KVM queues the walker's fault for the
 * guest (a #PF, or a nested EPT violation / #NPF for L1); the engine turns
 * the pending fault into the event's outcome.
 */
void kvm_inject_emulated_page_fault(struct kvm_vcpu *vcpu,
				    struct x86_exception *fault);

/*
 * kvm_mmu_page_fault() - handle an exit: a #PF intercept at @cr2_or_gpa
 * (shadow paging) or an EPT violation / NPF (TDP), with KVM's error code.
 * Returns a RET_PF_* value (>= 0) or a negative TDP_E_* error.
 */
int kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 error_code);

/*
 * kvm_timed_page_fault() - an exit into kvm_mmu_page_fault(), timed (when
 * timing is on) into the histogram of the path that handles it: the
 * nested MMU (guest_mmu), KVM's own TDP, or shadow paging.
 */
static inline int kvm_timed_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa,
				       u64 error_code)
{
	const struct kvm_mmu *mmu = vcpu->arch.mmu;
	enum tdp_fault_path path = mmu == &vcpu->arch.guest_mmu ? TDP_FPATH_NESTED :
				   mmu->root_role.direct ? TDP_FPATH_DIRECT :
				   TDP_FPATH_SHADOW;
	u64 t0;
	int r;

	if (!vcpu->timing)
		return kvm_mmu_page_fault(vcpu, cr2_or_gpa, error_code);
	t0 = tdp_tsc();
	r = kvm_mmu_page_fault(vcpu, cr2_or_gpa, error_code);
	tdp_hist_add(&vcpu->tdp_stats->fault_ticks[path], tdp_tsc() - t0);
	return r;
}

/* kvm_mmu_init_fault_callbacks() - mmu->page_fault / sync_spte for @mmu. */
void kvm_mmu_init_fault_callbacks(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu);

void kvm_mmu_hugepage_adjust(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
void disallowed_hugepage_adjust(struct kvm *kvm, struct kvm_page_fault *fault,
				u64 spte, int cur_level);
void kvm_direct_pte_prefetch(struct kvm_vcpu *vcpu, u64 *sptep);
/* kvm_mmu_faultin_pfn() - fault->pfn, or the MMIO decision (noslot). */
int kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			unsigned int access);
bool page_fault_handle_page_track(struct kvm_vcpu *vcpu,
				  struct kvm_page_fault *fault);
void shadow_page_table_clear_flood(struct kvm_vcpu *vcpu, gva_t addr);
bool is_page_fault_stale(struct kvm_vcpu *vcpu);

/* Per-PTE-type handlers from the fault template (walk.c). */
int paging64_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int paging32_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int ept_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int paging64_sync_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
int paging32_sync_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
int ept_sync_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
const char *paging64_check_sp_gptes(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp);
const char *paging32_check_sp_gptes(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp);
const char *ept_check_sp_gptes(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp);
/* One entry, and the entries a guest store to [gpa, gpa + len) covers. */
const char *paging64_check_sp_gpte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
const char *paging32_check_sp_gpte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
const char *ept_check_sp_gpte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
const char *paging64_check_sp_gptes_range(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
					  gpa_t gpa, unsigned int len);
const char *paging32_check_sp_gptes_range(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
					  gpa_t gpa, unsigned int len);
const char *ept_check_sp_gptes_range(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
				     gpa_t gpa, unsigned int len);

#endif /* TDPSIM_MMU_FAULT_H */
