/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shadow-page management (the shadow-MMU half of arch/x86/kvm/mmu/mmu.c and
 * page_track.c): the page hash, child pages, rmaps, write tracking, unsync
 * and sync, emulated writes, zapping, the page limit and roots.
 * Implemented in src/mmu/mmu_page.c.
 *
 * Errors are negative TDP_E_* codes; "no memory" is TDP_E_NOMEM and the
 * page limit (KVM's -ENOSPC) is TDP_E_NOSPC.
 */
#ifndef TDPSIM_MMU_PAGE_H
#define TDPSIM_MMU_PAGE_H

#include "mmu_internal.h"

#define KVM_MMU_ROOT_CURRENT		BIT(0)
#define KVM_MMU_ROOT_PREVIOUS(i)	BIT(1 + (i))
#define KVM_MMU_ROOTS_ALL		(BIT(1 + KVM_MMU_NUM_PREV_ROOTS) - 1)

static inline bool VALID_PAGE(hpa_t hpa)
{
	return hpa != INVALID_PAGE;
}
#define IS_VALID_PAE_ROOT(x)	(!!(x))

/* ---- VM and vCPU setup ---- */
/*
 * kvm_mmu_init_vm() - empty VM with @n_memslot_pages guest pages, legacy
 * SPTE masks (call kvm_mmu_set_ept_masks(&kvm->masks, ...) for EPT) and
 * the default page limit.  Returns 0.
 */
int kvm_mmu_init_vm(struct kvm *kvm, u64 n_memslot_pages);
/* kvm_mmu_uninit_vm() - free every page, rmap and root of the VM. */
void kvm_mmu_uninit_vm(struct kvm *kvm);
/* kvm_mmu_create() - attach @vcpu to @kvm with no roots.  TDP_E_RANGE if full. */
int kvm_mmu_create(struct kvm *kvm, struct kvm_vcpu *vcpu);

/* ---- pages ---- */
u32 kvm_page_table_hashfn(gfn_t gfn);
struct kvm_mmu_page *kvm_mmu_find_shadow_page(struct kvm *kvm,
					      struct kvm_vcpu *vcpu, gfn_t gfn,
					      union kvm_mmu_page_role role);
/* kvm_mmu_get_shadow_page() - find or create; NULL only when out of memory. */
struct kvm_mmu_page *kvm_mmu_get_shadow_page(struct kvm_vcpu *vcpu, gfn_t gfn,
					     union kvm_mmu_page_role role);
union kvm_mmu_page_role kvm_mmu_child_role(u64 *sptep, bool direct,
					   unsigned int access);
/*
 * kvm_mmu_get_child_sp() - the child page for a table SPTE; NULL with
 * *@exists set when @sptep already points to a table (KVM's -EEXIST),
 * NULL with *@exists clear when out of memory.
 */
struct kvm_mmu_page *kvm_mmu_get_child_sp(struct kvm_vcpu *vcpu, u64 *sptep,
					  gfn_t gfn, bool direct,
					  unsigned int access, bool *exists);
/* mark_mmio_spte() - install the MMIO SPTE for @gfn at @sptep. */
void mark_mmio_spte(struct kvm_vcpu *vcpu, u64 *sptep, gfn_t gfn,
		    unsigned int access);
/* validate_direct_spte() - unlink a direct child of other access. */
void validate_direct_spte(struct kvm_vcpu *vcpu, u64 *sptep, unsigned direct_access);
void link_shadow_page(struct kvm_vcpu *vcpu, u64 *sptep,
		      struct kvm_mmu_page *sp);
gfn_t kvm_mmu_page_get_gfn(struct kvm_mmu_page *sp, int index);
unsigned int kvm_mmu_page_get_access(struct kvm_mmu_page *sp, int index);

/*
 * mmu_set_spte() - install a leaf SPTE mapping @gfn with @pte_access and
 * add it to the rmap.  RET_PF_FIXED, RET_PF_SPURIOUS (unchanged),
 * RET_PF_EMULATE (an MMIO SPTE), or RET_PF_WRITE_PROTECTED (a write fault
 * whose SPTE had to be write-protected; kernel 6.12+).
 */
int mmu_set_spte(struct kvm_vcpu *vcpu, u64 *sptep, unsigned int pte_access,
		 gfn_t gfn, u64 pfn, bool prefetch, bool write_fault,
		 bool host_writable);
void drop_spte(struct kvm *kvm, u64 *sptep);

/* ---- rmap ---- */
unsigned int pte_list_count(const struct kvm_rmap_head *rmap_head);
/* gfn_to_rmap() - rmap of (gfn, level); NULL when never used. */
struct kvm_rmap_head *gfn_to_rmap(struct kvm *kvm, gfn_t gfn, int level);
/* rmap_contains() - is @sptep in @rmap_head (debug and tests). */
bool rmap_contains(const struct kvm_rmap_head *rmap_head, const u64 *sptep);

/* ---- write tracking (page_track.c) ---- */
bool kvm_gfn_is_write_tracked(struct kvm *kvm, gfn_t gfn);
/* lpage_info disallow_lpage count of the @level huge page holding @gfn. */
int kvm_lpage_disallowed(struct kvm *kvm, gfn_t gfn, int level);
bool kvm_mmu_slot_gfn_write_protect(struct kvm *kvm, gfn_t gfn, int min_level);

/* ---- unsync / sync ---- */
int mmu_try_to_unsync_pages(struct kvm *kvm, gfn_t gfn, bool can_unsync,
			    bool prefetch);
void kvm_mmu_sync_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_sync_prev_roots(struct kvm_vcpu *vcpu);
/* mmu_sync_children() - sync every unsync page below @parent; returns 0. */
int mmu_sync_children(struct kvm_vcpu *vcpu, struct kvm_mmu_page *parent);

/*
 * kvm_mmu_track_write() - an emulated write of @bytes bytes (value @new) at
 * @gpa of a write-tracked page.  Returns the number of shadow pages zapped
 * (flooded or misaligned); kvm->stats counts the details.
 */
int kvm_mmu_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, u64 new, int bytes);

/* ---- zapping and the page limit ---- */
bool kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
			      struct list_head *invalid_list);
void kvm_mmu_commit_zap_page(struct kvm *kvm, struct list_head *invalid_list);
unsigned long kvm_mmu_zap_oldest_mmu_pages(struct kvm *kvm,
					   unsigned long nr_to_zap);
unsigned long kvm_mmu_available_pages(struct kvm *kvm);
int make_mmu_pages_available(struct kvm_vcpu *vcpu);
unsigned long kvm_mmu_calculate_default_mmu_pages(struct kvm *kvm);
void kvm_mmu_change_mmu_pages(struct kvm *kvm, unsigned long goal_nr_mmu_pages);
void kvm_mmu_zap_all_fast(struct kvm *kvm);
bool kvm_mmu_unprotect_page(struct kvm *kvm, gfn_t gfn);

/* ---- roots ---- */
#define KVM_DUMMY_ROOT	((TDP_SPECIAL_PFN_BASE + TDP_SPECIAL_MAX - 1) << PAGE_SHIFT)
static inline bool kvm_mmu_is_dummy_root(hpa_t hpa)
{
	return hpa == KVM_DUMMY_ROOT;
}
int kvm_mmu_load(struct kvm_vcpu *vcpu);
void kvm_mmu_unload(struct kvm_vcpu *vcpu);
void kvm_mmu_free_roots(struct kvm *kvm, struct kvm_mmu *mmu,
			unsigned long roots_to_free);
void kvm_mmu_new_pgd(struct kvm_vcpu *vcpu, gpa_t new_pgd);
void kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu);
void kvm_mmu_invalidate_addr(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			     u64 addr, unsigned long roots);
void kvm_mmu_invlpg(struct kvm_vcpu *vcpu, gva_t gva);

/* for_each_shadow_entry_using_root (mmu.c) */
struct kvm_shadow_walk_iterator {
	u64 addr;
	hpa_t shadow_addr;
	u64 *sptep;
	int level;
	unsigned index;
};
void shadow_walk_init_using_root(struct kvm_shadow_walk_iterator *it,
				 struct kvm_vcpu *vcpu, hpa_t root, u64 addr);
bool shadow_walk_okay(struct kvm_shadow_walk_iterator *it, struct kvm *kvm);
void shadow_walk_next(struct kvm_shadow_walk_iterator *it);

#define for_each_shadow_entry_using_root(_vcpu, _root, _addr, _walker)	\
	for (shadow_walk_init_using_root(&(_walker), (_vcpu), (_root), (_addr)); \
	     shadow_walk_okay(&(_walker), (_vcpu)->kvm);			\
	     shadow_walk_next(&(_walker)))

/*
 * kvm_mmu_check_invariants() - NULL if consistent, else a static string
 * naming the first broken rule.  Debug only: O(pages * 512), allocates.
 */
const char *kvm_mmu_check_invariants(struct kvm *kvm);
/*
 * The same rules for one page / one SPTE an event touched (no census
 * counters): cheap enough to run after every event.  NULL if consistent.
 */
const char *kvm_mmu_check_touched_sp(struct kvm *kvm, struct kvm_mmu_page *sp);
const char *kvm_mmu_check_touched_spte(struct kvm *kvm, u64 *sptep);

/* check.c: what replay --check runs (see there). */
struct tdp_event;
int kvm_mmu_check_init(struct kvm *kvm, u64 every);
const char *kvm_mmu_check_event(struct kvm *kvm, struct kvm_vcpu *vcpu,
				const struct tdp_event *ev);
const char *kvm_mmu_check_full(struct kvm *kvm, struct kvm_vcpu *vcpu);

#endif /* TDPSIM_MMU_PAGE_H */
