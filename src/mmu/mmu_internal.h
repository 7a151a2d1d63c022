/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shadow-MMU internals (arch/x86/kvm/mmu/mmu_internal.h + the VM-wide part of
 * struct kvm_arch): struct kvm_mmu_page, struct kvm, RET_PF_*, the rmap and
 * the simulated host memory that shadow page tables live in.
 *
 * Simulated host physical addresses
 * ---------------------------------
 * Shadow tables are real arrays of 512 u64 inside struct kvm_mmu_page, kept in
 * a pool; a non-leaf SPTE holds a *fake* hpa from which the child page is
 * found in O(1).  Leaf SPTEs map guest frames to "host" frames by a fixed
 * rule.  Host pfn space (bits 51:12 of an SPTE):
 *
 *   pfn 0                      never valid (hpa 0 / INVALID_PAGE are "none")
 *   pfn 1 .. TDP_SP_POOL_MAX   shadow page with pool index pfn - 1
 *   pfn TDP_SPECIAL_PFN_BASE+k special root page k (pae_root/pml4_root/...)
 *   pfn HOST_GUEST_PFN_BASE+g  the host page backing guest frame g
 *
 *   hpa = (pool index + 1) << PAGE_SHIFT          for shadow pages
 *   host pfn = gfn + HOST_GUEST_PFN_BASE          for guest memory
 *
 * so a table hpa can never be mistaken for guest memory, and the hardware
 * model can tell an SPTE's target kind from its pfn alone.  Guest frames
 * must be below 2^40 - HOST_GUEST_PFN_BASE (MAXPHYADDR 52 minus 2^24 pages).
 */
#ifndef TDPSIM_MMU_INTERNAL_H
#define TDPSIM_MMU_INTERNAL_H

#include "kvm-vcpu.h"
#include "spte.h"

#define TDP_SP_POOL_MAX		((1u << 23) - 1)	/* pool indices */
#define TDP_SPECIAL_PFN_BASE	(1ull << 23)
#define TDP_SPECIAL_MAX		(1u << 16)	/* pfns reserved */
#define TDP_SPECIAL_SLOTS	512		/* pages that exist */
static_assert(TDP_SP_POOL_MAX + 1ull <= TDP_SPECIAL_PFN_BASE, "pool below specials");
static_assert(TDP_SPECIAL_PFN_BASE + TDP_SPECIAL_MAX <= HOST_GUEST_PFN_BASE,
	      "specials below guest memory");
static_assert(TDP_SPECIAL_SLOTS < TDP_SPECIAL_MAX, "last special pfn is the dummy root");
static_assert(((HOST_GUEST_PFN_BASE << PAGE_SHIFT) >> 52) == 0, "fits an SPTE");

/* ---- KVM's constants (kvm_host.h, mmu.c, mmu_internal.h) ---- */
#define KVM_MMU_HASH_SHIFT			12
#define KVM_NUM_MMU_PAGES			(1 << KVM_MMU_HASH_SHIFT)
#define KVM_MIN_FREE_MMU_PAGES			5
#define KVM_REFILL_PAGES			25
#define KVM_MIN_ALLOC_MMU_PAGES			64UL
#define KVM_MEMSLOT_PAGES_TO_MMU_PAGES_RATIO	50
#define PTE_PREFETCH_NUM			8
#define RMAP_RECYCLE_THRESHOLD			1000
#define KVM_PAGES_PER_HPAGE(x)			(1ULL << (((x) - 1) * 9))
#define SPTE_ENT_PER_PAGE			512
#define INVALID_PAE_ROOT			0
#define KVM_MAX_VCPUS				64

#define GOLDEN_RATIO_64 0x61C8864680B583EBull
/* hash_64() (include/linux/hash.h): multiplicative hash, top bits. */
static inline u32 hash_64(u64 val, unsigned int bits)
{
	return (u32)((val * GOLDEN_RATIO_64) >> (64 - bits));
}

/* ---- intrusive lists (include/linux/list.h subset) ---- */
struct list_head {
	struct list_head *next, *prev;
};
struct hlist_node {
	struct hlist_node *next, **pprev;
};
struct hlist_head {
	struct hlist_node *first;
};

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l->prev = l;
}
static inline bool list_empty(const struct list_head *l)
{
	return l->next == l;
}
static inline void list_add(struct list_head *n, struct list_head *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}
static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}
static inline void list_move(struct list_head *n, struct list_head *head)
{
	list_del(n);
	list_add(n, head);
}
static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	n->next = h->first;
	if (h->first)
		h->first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}
static inline void hlist_del(struct hlist_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}
static inline bool hlist_unhashed(const struct hlist_node *n)
{
	return !n->pprev;
}
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * struct kvm_rmap_head - a set of SPTE pointers (pte_list in mmu.c).
 * val == 0: empty; bit 0 clear: val is the only u64 *sptep; bit 0 set:
 * val & ~1 is a struct pte_list_desc chain (descs come from a per-VM free
 * list, never freed until the VM is).
 */
struct kvm_rmap_head {
	unsigned long val;
};

#define PTE_LIST_EXT 14
struct pte_list_desc {
	struct pte_list_desc *more;
	u32 spte_count;		/* entries used in this desc */
	u32 tail_count;		/* entries in all following descs */
	u64 *sptes[PTE_LIST_EXT];
};

/*
 * struct kvm_mmu_page (mmu_internal.h).  spt[] comes first and the struct
 * is 4 KiB aligned, so sptep_to_sp() is a mask: the kernel's
 * page->private lookup.
 */
struct kvm_mmu_page {
	_Alignas(4096) u64 spt[SPTE_ENT_PER_PAGE];
	/*
	 * Indirect pages: gfn << PAGE_SHIFT | access of what each SPTE maps
	 * (kvm_mmu_page_{get,set}_gfn/access).  Unused for direct pages.
	 */
	u64 shadowed_translation[SPTE_ENT_PER_PAGE];
	u64 unsync_child_bitmap[SPTE_ENT_PER_PAGE / 64];

	struct list_head link;		/* active_mmu_pages / invalid list */
	struct hlist_node hash_link;
	bool unsync;
	bool nx_huge_page_disallowed;
	bool on_free_list;
	u8 mmu_valid_gen;
	union kvm_mmu_page_role role;
	gfn_t gfn;
	int root_count;
	unsigned int unsync_children;
	struct kvm_rmap_head parent_ptes;
	/* detect_write_flooding(): emulated writes since last use */
	int write_flooding_count;
	u32 index;			/* pool index: hpa = (index+1) << 12 */
	u32 next_free;			/* free-list link (pool index + 1) */
};
static_assert(offsetof(struct kvm_mmu_page, spt) == 0, "spt first");
static_assert(_Alignof(struct kvm_mmu_page) == 4096, "page aligned");

/* Counters (plain increments). Level index = role.level - 1 (0..4). */
struct kvm_mmu_stats {
	u64 sp_created[2][PT64_ROOT_MAX_LEVEL];	/* [direct][level-1] */
	/* shadow EPT/NPT pages: indirect pages of guest_mmu (role.guest_mode) */
	u64 sp_nested_created;
	u64 sp_nested_live;
	u64 sp_zapped[2][PT64_ROOT_MAX_LEVEL];
	u64 sp_live[2][PT64_ROOT_MAX_LEVEL];
	u64 sp_peak[2][PT64_ROOT_MAX_LEVEL];
	u64 sp_live_total;
	u64 sp_peak_total;
	u64 sp_hash_hits;
	u64 sp_hash_collisions;	/* gfn mismatch while walking a bucket */
	u64 unsync;		/* kvm_unsync_page */
	u64 unsync_live;	/* pages unsync now (KVM's mmu_unsync) */
	u64 sync;		/* kvm_sync_page */
	u64 sync_zapped;	/* kvm_sync_page failed (sync_spte < 0), zapped */
	u64 flooding_zaps;	/* mmu_flooded */
	u64 misaligned_zaps;
	u64 pte_writes;		/* mmu_pte_write */
	u64 pte_updated;	/* SPTEs zapped by emulated writes */
	u64 root_allocs;
	u64 prev_roots_hits;
	u64 prev_roots_misses;
	u64 rmap_recycles;
	u64 oldest_zaps;	/* kvm_mmu_zap_oldest_mmu_pages */
	u64 nospc;		/* make_mmu_pages_available failures */
	u64 zap_all_fast;
	u64 unprotect_zaps;
	u64 write_protects;	/* SPTEs made read-only by account_shadowed */
	u64 remote_tlb_flushes;
	u64 invlpg_syncs;	/* SPTEs re-synced by invalidate_addr */
	/*
	 * KVM's own struct kvm_vm_stat members, counted where the kernel
	 * counts them (docs/report-schema.md names the lines).
	 */
	u64 mmu_shadow_zapped;	/* every __kvm_mmu_prepare_zap_page() */
	u64 mmu_pde_zapped;	/* kvm_mmu_track_write(), non-4K SPTE zapped */
	u64 mmu_cache_miss;	/* kvm_mmu_find_shadow_page() found none */
	int64_t pages[3];		/* kvm_update_page_stats(): leaf SPTEs 4K/2M/1G */
};

/* One (gfn, level) record: rmap, write track, huge page disallow count. */
struct kvm_gfn_info {
	u64 key;			/* hash only: gfn >> 9 * (level - 1) << 2 | (level - 1); ~0 empty */
	struct kvm_rmap_head rmap;
	u16 write_track;		/* level 1 only: gfn_write_track */
	int disallow_lpage;		/* level 2/3: lpage_info, gfn aligned */
};

/*
 * struct kvm_check_log - what the current event touched, for the
 * incremental invariant check (check.c, replay --check): every SPTE
 * written and every shadow page whose bookkeeping changed (allocated,
 * zapped, made unsync or synced, unsync_children).  Entries may repeat and
 * may name pages freed since; the checker skips those.  A full log sets
 * @overflow and the event gets the full check instead.
 */
#define KVM_CHECK_LOG_MAX 2048
struct kvm_check_log {
	u32 nsptes, nsps;
	bool overflow;
	u64 *sptes[KVM_CHECK_LOG_MAX];
	struct kvm_mmu_page *sps[KVM_CHECK_LOG_MAX];
	u64 every;		/* full check every this many events */
	u64 since_full;		/* events since the last full check */
	struct kvm_vcpu *last_vcpu;	/* judges gPTEs in the final check */
};

/*
 * struct kvm - the VM-wide MMU state (kvm->arch in KVM).  Memslots are one
 * flat slot of n_memslot_pages guest pages; its per-level rmap arrays,
 * gfn_write_track and lpage_info are struct kvm_gfn_info records in one
 * array per level, indexed as the kernel indexes slot->arch.rmap[] and
 * lpage_info[] (gfn_to_index()): address space reserved for the whole
 * slot, memory committed as gfns are touched.  A gfn outside the slot, or
 * a slot too big to reserve, goes to an open-addressed hash keyed by
 * (gfn, level), grown by doubling.
 */
struct kvm {
	struct {
		unsigned long n_used_mmu_pages;
		unsigned long n_requested_mmu_pages;
		unsigned long n_max_mmu_pages;
		unsigned int indirect_shadow_pages;
		u8 mmu_valid_gen;
		struct hlist_head mmu_page_hash[KVM_NUM_MMU_PAGES];
		struct list_head active_mmu_pages;
	} arch;
	struct kvm_spte_masks masks;
	bool nx_huge_pages;		/* is_nx_huge_page_enabled() */
	bool tdp_enabled;		/* EPT/NPT: nested SPs are zapped eagerly */
	u64 n_memslot_pages;

	/* shadow page pool: chunks of 64 pages, free list by index */
	struct kvm_mmu_page **sp_chunks;
	u32 nr_sp_chunks;
	u32 nr_sp;			/* pool slots ever created */
	u32 sp_free;			/* free list head: index + 1, 0 = none */
	/*
	 * Simulator plumbing, not KVM's: the table page at each pool hpa
	 * (host pfn index + 1; NULL while free), so the CPU model reads
	 * shadow tables with one load (struct hw_mem's flat map).
	 */
	u64 **host_tables;
	u32 nr_host_tables;

	/* special root pages (pae_root, pml4_root, pml5_root): 3 per MMU */
	u64 *special[TDP_SPECIAL_SLOTS];
	u32 nr_special;

	/* per level (index level - 1): NULL if the reservation failed */
	struct kvm_gfn_info *gfn_arr[KVM_NR_PAGE_SIZES];
	u64 gfn_arr_n[KVM_NR_PAGE_SIZES];	/* records */
	/* bit i: records [i * GFN_ARR_CHUNK, +GFN_ARR_CHUNK) were ever written */
	u64 *gfn_arr_touched[KVM_NR_PAGE_SIZES];
	struct kvm_gfn_info *gfn_info;	/* the hash */
	u64 gfn_info_mask;		/* capacity - 1 */
	u64 gfn_info_used;

	struct pte_list_desc *desc_free;
	struct pte_list_desc **desc_chunks;
	u32 nr_desc_chunks;

	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	int nr_vcpus;

	struct kvm_mmu_stats stats;
	/* replay --check only; NULL otherwise, so the hooks cost one branch */
	struct kvm_check_log *chk;
};

/*
 * The checker's hooks, at every SPTE store and shadow-page state change.
 * With --check off @chk is NULL: one well-predicted branch, nothing more.
 */
static inline void kvm_chk_spte(struct kvm *kvm, u64 *sptep)
{
	struct kvm_check_log *l = kvm->chk;

	if (__builtin_expect(!l, 1))
		return;
	if (l->nsptes && l->sptes[l->nsptes - 1] == sptep)
		return;
	if (l->nsptes == KVM_CHECK_LOG_MAX)
		l->overflow = true;
	else
		l->sptes[l->nsptes++] = sptep;
}

static inline void kvm_chk_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct kvm_check_log *l = kvm->chk;

	if (__builtin_expect(!l, 1))
		return;
	if (l->nsps && l->sps[l->nsps - 1] == sp)
		return;
	if (l->nsps == KVM_CHECK_LOG_MAX)
		l->overflow = true;
	else
		l->sps[l->nsps++] = sp;
}

/* vcpu->requests bits (KVM_REQ_*) */
#define KVM_REQ_TLB_FLUSH		0
#define KVM_REQ_MMU_RELOAD		1
#define KVM_REQ_LOAD_MMU_PGD		2
#define KVM_REQ_MMU_FREE_OBSOLETE_ROOTS	3
#define KVM_REQ_MMU_SYNC		4
#define KVM_REQ_TLB_FLUSH_CURRENT	5

static inline void kvm_make_request(int req, struct kvm_vcpu *vcpu)
{
	vcpu->requests |= 1ull << req;
}
static inline bool kvm_check_request(int req, struct kvm_vcpu *vcpu)
{
	bool r = vcpu->requests & (1ull << req);

	vcpu->requests &= ~(1ull << req);
	return r;
}

/*
 * RET_PF_* (mmu_internal.h):
 * RET_PF_CONTINUE: so far, so good, keep handling the page fault.
 * RET_PF_RETRY: let CPU fault again on the address.
 * RET_PF_EMULATE: mmio page fault or write-protected page, emulate directly.
 * RET_PF_WRITE_PROTECTED: the gfn is write-protected, emulate or unprotect.
 * RET_PF_INVALID: the spte is invalid, let the real page fault path update it.
 * RET_PF_FIXED: the faulting entry has been fixed.
 * RET_PF_SPURIOUS: the faulting entry was already fixed, e.g. by another vCPU.
 */
enum {
	RET_PF_CONTINUE = 0,
	RET_PF_RETRY,
	RET_PF_EMULATE,
	RET_PF_WRITE_PROTECTED,
	RET_PF_INVALID,
	RET_PF_FIXED,
	RET_PF_SPURIOUS,
};

/* struct kvm_page_fault (mmu_internal.h), the fields the shadow MMU uses. */
struct kvm_page_fault {
	const gpa_t addr;
	const u64 error_code;
	const bool prefetch;
	const bool exec;
	const bool write;
	const bool present;
	const bool rsvd;
	const bool user;
	const bool is_tdp;
	const bool nx_huge_page_workaround_enabled;
	bool huge_page_disallowed;
	u8 max_level;
	u8 req_level;
	u8 goal_level;
	gfn_t gfn;
	bool slot;		/* fault->slot != NULL: the gfn has a memslot */
	u64 pfn;
	bool map_writable;
	bool write_fault_to_shadow_pgtable;
};

/* ---- simulated host memory ---- */
static inline hpa_t kvm_mmu_sp_hpa(const struct kvm_mmu_page *sp)
{
	return ((hpa_t)sp->index + 1) << PAGE_SHIFT;
}

static inline struct kvm_mmu_page *kvm_mmu_sp_by_index(const struct kvm *kvm,
							u32 index)
{
	return &kvm->sp_chunks[index >> 6][index & 63];
}

/*
 * to_shadow_page() / root_to_sp(): the SP behind a table hpa, NULL for
 * INVALID_PAGE, hpa 0 and special roots (which have no kvm_mmu_page, like
 * KVM's PAE roots).
 */
static inline struct kvm_mmu_page *to_shadow_page(const struct kvm *kvm,
						  hpa_t hpa)
{
	u64 pfn = hpa >> PAGE_SHIFT;

	if (hpa == INVALID_PAGE || pfn == 0 || pfn > kvm->nr_sp)
		return NULL;
	return kvm_mmu_sp_by_index(kvm, (u32)(pfn - 1));
}

/* sptep_to_sp(): spt[] is the first member of a 4 KiB aligned struct. */
static inline struct kvm_mmu_page *sptep_to_sp(u64 *sptep)
{
	return (struct kvm_mmu_page *)((uintptr_t)sptep & ~(uintptr_t)4095);
}

/* spte_to_child_sp(): the SP a non-leaf SPTE points to. */
static inline struct kvm_mmu_page *spte_to_child_sp(const struct kvm *kvm,
						    u64 spte)
{
	return to_shadow_page(kvm, spte & SPTE_BASE_ADDR_MASK);
}

/* kvm_mmu_hpa_to_table() - the 512 SPTEs at a table hpa, for the hw model. */
u64 *kvm_mmu_hpa_to_table(struct kvm *kvm, hpa_t hpa);

static inline bool is_obsolete_sp(const struct kvm *kvm,
				  const struct kvm_mmu_page *sp)
{
	return sp->role.invalid || sp->mmu_valid_gen != kvm->arch.mmu_valid_gen;
}

/* sp_has_gptes(): the page shadows a guest table (write-tracked gfn). */
static inline bool sp_has_gptes(const struct kvm_mmu_page *sp)
{
	return !sp->role.direct && !sp->role.passthrough;
}

#endif /* TDPSIM_MMU_INTERNAL_H */
