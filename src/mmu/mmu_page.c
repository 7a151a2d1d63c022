// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow-page management: a port of the shadow-MMU half of
 * arch/x86/kvm/mmu/mmu.c and of page_track.c (kvm-x86/linux @8cd6d6724eae,
 * ~v6.7), over simulated host memory (see mmu_internal.h).
 *
 * One VM is one struct kvm, used by one thread: KVM's mmu_lock, RCU and
 * memory caches have no counterpart.  Each function names the kernel
 * function it corresponds to.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>
#include <tdpsim/replay.h>

#include "mmu_page.h"

#define SP_CHUNK		64
#define DESC_CHUNK		256

static inline int spte_index(u64 *sptep)
{
	return (int)(((uintptr_t)sptep & 4095) / sizeof(u64));
}

#define SPTE_LEVEL_SHIFT(level)	(PAGE_SHIFT + ((level) - 1) * 9)
#define SPTE_INDEX(addr, level)	(((addr) >> SPTE_LEVEL_SHIFT(level)) & 511)

/* ------------------------------------------------------------------ */
/* gfn info: per-(gfn, level) rmap, gfn_write_track and lpage_info     */
/* ------------------------------------------------------------------ */

#define GFN_INFO_EMPTY	(~0ull)

static u64 gfn_info_key(gfn_t gfn, int level)
{
	return (gfn >> ((level - 1) * 9)) << 2 | (u64)(level - 1);
}

static u64 gfn_info_hash(u64 key)
{
	return (key * GOLDEN_RATIO_64) >> 20;
}

/*
 * The slot's arrays (struct kvm): gfn_to_index() with base_gfn 0.  Records
 * never written read as zero (empty rmap, not tracked, lpage allowed),
 * which is what the kernel's zeroed arrays hold.
 */
#define GFN_ARR_CHUNK	128	/* records per bit of gfn_arr_touched */

static inline struct kvm_gfn_info *gfn_arr_slot(struct kvm *kvm, gfn_t gfn, int level)
{
	/* the rmaps KVM has: 4K, 2M, 1G (the checker also asks at other levels) */
	if (level > KVM_NR_PAGE_SIZES || gfn >= kvm->n_memslot_pages ||
	    !kvm->gfn_arr[level - 1])
		return NULL;
	return &kvm->gfn_arr[level - 1][gfn >> ((level - 1) * 9)];
}

static int gfn_arr_init(struct kvm *kvm)
{
	for (int l = 0; l < KVM_NR_PAGE_SIZES; l++) {
		u64 n = kvm->n_memslot_pages ?
			((kvm->n_memslot_pages - 1) >> (l * 9)) + 1 : 0;
		void *a;

		if (!n)
			return 0;
		/* address space only, as gmem: a page is committed by its first store */
		a = mmap(NULL, n * sizeof(struct kvm_gfn_info), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (a == MAP_FAILED)
			return 0;	/* that level uses the hash */
		kvm->gfn_arr_touched[l] = calloc((n + GFN_ARR_CHUNK * 64 - 1) /
						 (GFN_ARR_CHUNK * 64), sizeof(u64));
		if (!kvm->gfn_arr_touched[l]) {
			munmap(a, n * sizeof(struct kvm_gfn_info));
			return TDP_E_NOMEM;
		}
		kvm->gfn_arr[l] = a;
		kvm->gfn_arr_n[l] = n;
	}
	return 0;
}

static void gfn_arr_free(struct kvm *kvm)
{
	for (int l = 0; l < KVM_NR_PAGE_SIZES; l++) {
		if (kvm->gfn_arr[l])
			munmap(kvm->gfn_arr[l], kvm->gfn_arr_n[l] * sizeof(struct kvm_gfn_info));
		free(kvm->gfn_arr_touched[l]);
		kvm->gfn_arr[l] = NULL;
		kvm->gfn_arr_touched[l] = NULL;
		kvm->gfn_arr_n[l] = 0;
	}
}

static struct kvm_gfn_info *gfn_info_lookup(struct kvm *kvm, gfn_t gfn,
					    int level)
{
	struct kvm_gfn_info *a = gfn_arr_slot(kvm, gfn, level);
	u64 key = gfn_info_key(gfn, level), i;

	if (a)
		return a;
	if (!kvm->gfn_info)
		return NULL;
	for (i = gfn_info_hash(key) & kvm->gfn_info_mask;;
	     i = (i + 1) & kvm->gfn_info_mask) {
		struct kvm_gfn_info *e = &kvm->gfn_info[i];

		if (e->key == key)
			return e;
		if (e->key == GFN_INFO_EMPTY)
			return NULL;
	}
}

static int gfn_info_grow(struct kvm *kvm)
{
	u64 ncap = kvm->gfn_info ? (kvm->gfn_info_mask + 1) * 2 : 1024, i;
	struct kvm_gfn_info *n = malloc(ncap * sizeof(*n));

	if (!n)
		return TDP_E_NOMEM;
	for (i = 0; i < ncap; i++)
		n[i] = (struct kvm_gfn_info){ .key = GFN_INFO_EMPTY };
	/*
	 * Entries hold rmap heads only by value, and nothing keeps a pointer
	 * to an entry across calls, so rehashing may move them.
	 */
	if (kvm->gfn_info) {
		for (i = 0; i <= kvm->gfn_info_mask; i++) {
			struct kvm_gfn_info *e = &kvm->gfn_info[i];
			u64 j;

			if (e->key == GFN_INFO_EMPTY)
				continue;
			for (j = gfn_info_hash(e->key) & (ncap - 1);
			     n[j].key != GFN_INFO_EMPTY; j = (j + 1) & (ncap - 1))
				;
			n[j] = *e;
		}
		free(kvm->gfn_info);
	}
	kvm->gfn_info = n;
	kvm->gfn_info_mask = ncap - 1;
	return 0;
}

/* Lookup or insert; NULL only when out of memory. */
static struct kvm_gfn_info *gfn_info_get(struct kvm *kvm, gfn_t gfn, int level)
{
	struct kvm_gfn_info *e = gfn_arr_slot(kvm, gfn, level);
	u64 key = gfn_info_key(gfn, level), i;

	if (e) {
		u64 idx = (u64)(e - kvm->gfn_arr[level - 1]) / GFN_ARR_CHUNK;

		/*
		 * For the full check's walk over the records
		 * (kvm_mmu_check_invariants()); an array record needs no
		 * key: its place says its gfn and level.
		 */
		kvm->gfn_arr_touched[level - 1][idx / 64] |= 1ull << (idx % 64);
		return e;
	}
	e = gfn_info_lookup(kvm, gfn, level);
	if (e)
		return e;
	if (!kvm->gfn_info || (kvm->gfn_info_used + 1) * 2 > kvm->gfn_info_mask + 1)
		if (gfn_info_grow(kvm))
			return NULL;
	for (i = gfn_info_hash(key) & kvm->gfn_info_mask;
	     kvm->gfn_info[i].key != GFN_INFO_EMPTY;
	     i = (i + 1) & kvm->gfn_info_mask)
		;
	kvm->gfn_info_used++;
	kvm->gfn_info[i].key = key;
	return &kvm->gfn_info[i];
}

/* gfn_to_rmap() */
struct kvm_rmap_head *gfn_to_rmap(struct kvm *kvm, gfn_t gfn, int level)
{
	struct kvm_gfn_info *e = gfn_info_lookup(kvm, gfn, level);

	return e ? &e->rmap : NULL;
}

/* ------------------------------------------------------------------ */
/* pte_list (rmap) primitives                                          */
/* ------------------------------------------------------------------ */

static struct pte_list_desc *desc_alloc(struct kvm *kvm)
{
	struct pte_list_desc *d;

	if (!kvm->desc_free) {
		struct pte_list_desc **chunks, *c;
		u32 i;

		chunks = realloc(kvm->desc_chunks,
				 (kvm->nr_desc_chunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		kvm->desc_chunks = chunks;
		c = calloc(DESC_CHUNK, sizeof(*c));
		if (!c)
			return NULL;
		chunks[kvm->nr_desc_chunks++] = c;
		for (i = 0; i < DESC_CHUNK; i++) {
			c[i].more = kvm->desc_free;
			kvm->desc_free = &c[i];
		}
	}
	d = kvm->desc_free;
	kvm->desc_free = d->more;
	memset(d, 0, sizeof(*d));
	return d;
}

static void desc_free(struct kvm *kvm, struct pte_list_desc *d)
{
	d->more = kvm->desc_free;
	kvm->desc_free = d;
}

/*
 * pte_list_add() - returns the number of entries before the add, or
 * TDP_E_NOMEM.  New descs go to the head; only the head may be partial
 * (the kernel's invariant, which makes removal O(1) by moving the head's
 * last entry into the hole).
 */
static int pte_list_add(struct kvm *kvm, u64 *spte,
			struct kvm_rmap_head *rmap_head)
{
	struct pte_list_desc *desc;
	int count = 0;

	if (!rmap_head->val) {
		rmap_head->val = (unsigned long)spte;
	} else if (!(rmap_head->val & 1)) {
		desc = desc_alloc(kvm);
		if (!desc)
			return TDP_E_NOMEM;
		desc->sptes[0] = (u64 *)rmap_head->val;
		desc->sptes[1] = spte;
		desc->spte_count = 2;
		desc->tail_count = 0;
		rmap_head->val = (unsigned long)desc | 1;
		++count;
	} else {
		desc = (struct pte_list_desc *)(rmap_head->val & ~1ul);
		count = desc->tail_count + desc->spte_count;
		if (desc->spte_count == PTE_LIST_EXT) {
			struct pte_list_desc *n = desc_alloc(kvm);

			if (!n)
				return TDP_E_NOMEM;
			n->more = desc;
			n->tail_count = count;
			desc = n;
			rmap_head->val = (unsigned long)desc | 1;
		}
		desc->sptes[desc->spte_count++] = spte;
	}
	return count;
}

static void pte_list_desc_remove_entry(struct kvm *kvm,
				       struct kvm_rmap_head *rmap_head,
				       struct pte_list_desc *desc, int i)
{
	struct pte_list_desc *head_desc =
		(struct pte_list_desc *)(rmap_head->val & ~1ul);
	int j = head_desc->spte_count - 1;

	/* Fill the hole with the head's last entry: only the head is partial. */
	desc->sptes[i] = head_desc->sptes[j];
	head_desc->sptes[j] = NULL;
	head_desc->spte_count--;
	if (head_desc->spte_count)
		return;

	if (!head_desc->more)
		rmap_head->val = 0;
	else
		rmap_head->val = (unsigned long)head_desc->more | 1;
	desc_free(kvm, head_desc);
}

/* pte_list_remove() - returns false if @spte was not in the list. */
static bool pte_list_remove(struct kvm *kvm, u64 *spte,
			    struct kvm_rmap_head *rmap_head)
{
	struct pte_list_desc *desc;
	u32 i;

	if (!rmap_head->val)
		return false;
	if (!(rmap_head->val & 1)) {
		if ((u64 *)rmap_head->val != spte)
			return false;
		rmap_head->val = 0;
		return true;
	}
	for (desc = (struct pte_list_desc *)(rmap_head->val & ~1ul); desc;
	     desc = desc->more) {
		for (i = 0; i < desc->spte_count; ++i) {
			if (desc->sptes[i] == spte) {
				pte_list_desc_remove_entry(kvm, rmap_head, desc, i);
				return true;
			}
		}
	}
	return false;
}

/* pte_list_count() */
unsigned int pte_list_count(const struct kvm_rmap_head *rmap_head)
{
	struct pte_list_desc *desc;

	if (!rmap_head->val)
		return 0;
	if (!(rmap_head->val & 1))
		return 1;
	desc = (struct pte_list_desc *)(rmap_head->val & ~1ul);
	return desc->tail_count + desc->spte_count;
}

/* rmap_get_first(): any entry (KVM: the first of the iterator). */
static u64 *rmap_get_first(const struct kvm_rmap_head *rmap_head)
{
	struct pte_list_desc *desc;

	if (!rmap_head->val)
		return NULL;
	if (!(rmap_head->val & 1))
		return (u64 *)rmap_head->val;
	desc = (struct pte_list_desc *)(rmap_head->val & ~1ul);
	return desc->sptes[0];
}

bool rmap_contains(const struct kvm_rmap_head *rmap_head, const u64 *sptep)
{
	struct pte_list_desc *desc;
	u32 i;

	if (!rmap_head || !rmap_head->val)
		return false;
	if (!(rmap_head->val & 1))
		return (const u64 *)rmap_head->val == sptep;
	for (desc = (struct pte_list_desc *)(rmap_head->val & ~1ul); desc;
	     desc = desc->more)
		for (i = 0; i < desc->spte_count; i++)
			if (desc->sptes[i] == sptep)
				return true;
	return false;
}

/* Visit every entry; @fn may not modify the list. */
#define for_each_rmap_spte(_rmap_head, _desc, _i, _sptep)			\
	for (_desc = NULL, _i = 0,						\
	     _sptep = !(_rmap_head)->val ? NULL :				\
		      !((_rmap_head)->val & 1) ? (u64 *)(_rmap_head)->val :	\
		      (_desc = (struct pte_list_desc *)((_rmap_head)->val & ~1ul))->sptes[0]; \
	     _sptep;								\
	     _sptep = !_desc ? NULL :						\
		      ++_i < _desc->spte_count ? _desc->sptes[_i] :		\
		      (_i = 0, _desc = _desc->more) ? _desc->sptes[0] : NULL)

/* ------------------------------------------------------------------ */
/* flushes and requests                                                */
/* ------------------------------------------------------------------ */

static void kvm_make_all_cpus_request(struct kvm *kvm, int req)
{
	int i;

	for (i = 0; i < kvm->nr_vcpus; i++)
		kvm_make_request(req, kvm->vcpus[i]);
}

/* kvm_flush_remote_tlbs() */
static void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	kvm->stats.remote_tlb_flushes++;
	kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
}

/* ------------------------------------------------------------------ */
/* SPTE helpers                                                        */
/* ------------------------------------------------------------------ */

/* mmu_spte_update(): returns true if a TLB flush is needed. */
static bool mmu_spte_update(struct kvm *kvm, u64 *sptep, u64 new_spte)
{
	u64 old_spte = *sptep;

	*sptep = new_spte;
	kvm_chk_spte(kvm, sptep);
	if (!is_shadow_present_pte(old_spte))
		return false;
	/* Dropping W (or any access bit) must be seen by every vCPU. */
	return (old_spte & PT_WRITABLE_MASK) && !(new_spte & PT_WRITABLE_MASK);
}

gfn_t kvm_mmu_page_get_gfn(struct kvm_mmu_page *sp, int index)
{
	if (sp->role.passthrough)
		return sp->gfn;
	if (!sp->role.direct)
		return sp->shadowed_translation[index] >> PAGE_SHIFT;
	return sp->gfn + ((gfn_t)index << ((sp->role.level - 1) * 9));
}

unsigned int kvm_mmu_page_get_access(struct kvm_mmu_page *sp, int index)
{
	if (!sp->role.direct)
		return sp->shadowed_translation[index] & ACC_ALL;
	/* Direct pages map with the role's access (kvm_mmu_page_get_access). */
	return sp->role.access;
}

/* kvm_mmu_page_set_translation() */
static void kvm_mmu_page_set_translation(struct kvm_mmu_page *sp, int index,
					 gfn_t gfn, unsigned int access)
{
	if (!sp->role.direct)
		sp->shadowed_translation[index] = (gfn << PAGE_SHIFT) | access;
}

/* kvm_zap_all_rmap_sptes() */
static bool kvm_zap_all_rmap_sptes(struct kvm *kvm,
				   struct kvm_rmap_head *rmap_head)
{
	struct pte_list_desc *desc, *next;
	int i;

	if (!rmap_head->val)
		return false;
	/* each mmu_spte_clear_track_bits(): kvm_update_page_stats(-1) */
	if (!(rmap_head->val & 1)) {
		kvm->stats.pages[sptep_to_sp((u64 *)rmap_head->val)->role.level - 1]--;
		*(u64 *)rmap_head->val = 0;
		kvm_chk_spte(kvm, (u64 *)rmap_head->val);
		goto out;
	}
	for (desc = (struct pte_list_desc *)(rmap_head->val & ~1ul); desc;
	     desc = next) {
		for (i = 0; i < (int)desc->spte_count; i++) {
			kvm->stats.pages[sptep_to_sp(desc->sptes[i])->role.level - 1]--;
			*desc->sptes[i] = 0;
			kvm_chk_spte(kvm, desc->sptes[i]);
		}
		next = desc->more;
		desc_free(kvm, desc);
	}
out:
	rmap_head->val = 0;
	return true;
}

/* rmap_add() */
static int rmap_add(struct kvm *kvm, u64 *spte, gfn_t gfn, unsigned int access)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);
	struct kvm_gfn_info *e;
	int rmap_count;

	kvm_mmu_page_set_translation(sp, spte_index(spte), gfn, access);
	e = gfn_info_get(kvm, gfn, sp->role.level);
	if (!e)
		return TDP_E_NOMEM;
	rmap_count = pte_list_add(kvm, spte, &e->rmap);
	if (rmap_count < 0)
		return rmap_count;
	/* __rmap_add(): kvm_update_page_stats(kvm, sp->role.level, 1) */
	kvm->stats.pages[sp->role.level - 1]++;
	if (rmap_count > RMAP_RECYCLE_THRESHOLD) {
		kvm->stats.rmap_recycles++;
		kvm_zap_all_rmap_sptes(kvm, &e->rmap);
		kvm_flush_remote_tlbs(kvm);
	}
	return 0;
}

/* rmap_remove() */
static void rmap_remove(struct kvm *kvm, u64 *spte)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);
	gfn_t gfn = kvm_mmu_page_get_gfn(sp, spte_index(spte));
	struct kvm_rmap_head *rmap_head = gfn_to_rmap(kvm, gfn, sp->role.level);

	if (rmap_head && pte_list_remove(kvm, spte, rmap_head))
		/* mmu_spte_clear_track_bits(): kvm_update_page_stats(-1) */
		kvm->stats.pages[sp->role.level - 1]--;
}

/* drop_spte() */
void drop_spte(struct kvm *kvm, u64 *sptep)
{
	u64 old_spte = *sptep;

	*sptep = 0;	/* mmu_spte_clear_track_bits(); SHADOW_NONPRESENT_VALUE */
	kvm_chk_spte(kvm, sptep);
	if (is_shadow_present_pte(old_spte))
		rmap_remove(kvm, sptep);
}

/* drop_parent_pte() */
static void drop_parent_pte(struct kvm *kvm, struct kvm_mmu_page *sp,
			    u64 *parent_pte)
{
	pte_list_remove(kvm, parent_pte, &sp->parent_ptes);
	*parent_pte = 0;	/* mmu_spte_clear_no_track() */
	kvm_chk_spte(kvm, parent_pte);
	kvm_chk_sp(kvm, sp);
}

/* ------------------------------------------------------------------ */
/* the shadow page pool                                                */
/* ------------------------------------------------------------------ */

static struct kvm_mmu_page *sp_pool_alloc(struct kvm *kvm)
{
	struct kvm_mmu_page *sp;

	if (!kvm->sp_free) {
		struct kvm_mmu_page **chunks, *c;
		u64 **tables;
		u32 i;

		if (kvm->nr_sp + SP_CHUNK > TDP_SP_POOL_MAX)
			return NULL;
		chunks = realloc(kvm->sp_chunks,
				 (kvm->nr_sp_chunks + 1) * sizeof(*chunks));
		if (!chunks)
			return NULL;
		kvm->sp_chunks = chunks;
		/* the CPU model's flat map of table pages, by host pfn */
		tables = realloc(kvm->host_tables,
				 (kvm->nr_sp + SP_CHUNK + 1) * sizeof(*tables));
		if (!tables)
			return NULL;
		kvm->host_tables = tables;
		c = aligned_alloc(4096, SP_CHUNK * sizeof(*c));
		if (!c)
			return NULL;
		chunks[kvm->nr_sp_chunks++] = c;
		/*
		 * Push in reverse so the lowest index is handed out first.
		 * Only the pool fields are set: the tables are cleared when
		 * a page is handed out, so untouched memory stays unfaulted.
		 */
		for (i = SP_CHUNK; i-- > 0;) {
			c[i].index = kvm->nr_sp + i;
			c[i].on_free_list = true;
			c[i].next_free = kvm->sp_free;
			kvm->sp_free = c[i].index + 1;
			kvm->host_tables[c[i].index + 1] = NULL;
		}
		kvm->host_tables[0] = NULL;
		kvm->nr_sp += SP_CHUNK;
		kvm->nr_host_tables = kvm->nr_sp + 1;
	}
	sp = kvm_mmu_sp_by_index(kvm, kvm->sp_free - 1);
	kvm->sp_free = sp->next_free;
	sp->on_free_list = false;
	kvm->host_tables[sp->index + 1] = sp->spt;
	return sp;
}

static void sp_pool_free(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->host_tables[sp->index + 1] = NULL;
	sp->on_free_list = true;
	sp->next_free = kvm->sp_free;
	kvm->sp_free = sp->index + 1;
}

u64 *kvm_mmu_hpa_to_table(struct kvm *kvm, hpa_t hpa)
{
	u64 pfn = (hpa & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
	struct kvm_mmu_page *sp;

	if (pfn >= TDP_SPECIAL_PFN_BASE &&
	    pfn < TDP_SPECIAL_PFN_BASE + kvm->nr_special)
		return kvm->special[pfn - TDP_SPECIAL_PFN_BASE];
	sp = to_shadow_page(kvm, hpa & SPTE_BASE_ADDR_MASK);
	if (!sp || sp->on_free_list)
		return NULL;
	return sp->spt;
}

static hpa_t special_hpa(struct kvm *kvm, const u64 *page)
{
	u32 i;

	for (i = 0; i < kvm->nr_special; i++)
		if (kvm->special[i] == page)
			return (TDP_SPECIAL_PFN_BASE + i) << PAGE_SHIFT;
	return INVALID_PAGE;
}

static u64 *special_alloc(struct kvm *kvm)
{
	u64 *p;

	if (kvm->nr_special >= TDP_SPECIAL_SLOTS)
		return NULL;
	p = calloc(SPTE_ENT_PER_PAGE, sizeof(u64));
	if (p)
		kvm->special[kvm->nr_special++] = p;
	return p;
}

/* ------------------------------------------------------------------ */
/* accounting                                                          */
/* ------------------------------------------------------------------ */

/* kvm_account_mmu_page() */
static void kvm_account_mmu_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct kvm_mmu_stats *s = &kvm->stats;
	int d = sp->role.direct, l = sp->role.level - 1;

	kvm->arch.n_used_mmu_pages++;
	s->sp_created[d][l]++;
	if (sp->role.guest_mode && !d) {
		s->sp_nested_created++;
		s->sp_nested_live++;
	}
	if (++s->sp_live[d][l] > s->sp_peak[d][l])
		s->sp_peak[d][l] = s->sp_live[d][l];
	if (++s->sp_live_total > s->sp_peak_total)
		s->sp_peak_total = s->sp_live_total;
}

/* kvm_unaccount_mmu_page() */
static void kvm_unaccount_mmu_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->arch.n_used_mmu_pages--;
	kvm->stats.sp_live[sp->role.direct][sp->role.level - 1]--;
	if (sp->role.guest_mode && !sp->role.direct)
		kvm->stats.sp_nested_live--;
	kvm->stats.sp_live_total--;
}

/* update_gfn_disallow_lpage_count() */
static void update_gfn_disallow_lpage_count(struct kvm *kvm, gfn_t gfn, int count)
{
	int i;

	for (i = PG_LEVEL_2M; i <= KVM_MAX_HUGEPAGE_LEVEL; ++i) {
		struct kvm_gfn_info *e = gfn_info_get(kvm, gfn, i);

		if (e)
			e->disallow_lpage += count;
	}
}

int kvm_lpage_disallowed(struct kvm *kvm, gfn_t gfn, int level)
{
	struct kvm_gfn_info *e = gfn_info_lookup(kvm, gfn, level);

	return e ? e->disallow_lpage : 0;
}

/* kvm_gfn_is_write_tracked() (page_track.c) */
bool kvm_gfn_is_write_tracked(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_gfn_info *e = gfn_info_lookup(kvm, gfn, PG_LEVEL_4K);

	return e && e->write_track;
}

/* spte_write_protect() */
static bool spte_write_protect(struct kvm *kvm, u64 *sptep, bool pt_protect)
{
	u64 spte = *sptep;

	if (!is_writable_pte(spte) &&
	    !(pt_protect && is_mmu_writable_spte(&kvm->masks, spte)))
		return false;
	if (pt_protect)
		spte &= ~kvm->masks.mmu_writable_mask;
	spte &= ~PT_WRITABLE_MASK;
	kvm->stats.write_protects++;
	return mmu_spte_update(kvm, sptep, spte);
}

/* rmap_write_protect() */
static bool rmap_write_protect(struct kvm *kvm, struct kvm_rmap_head *rmap_head,
			       bool pt_protect)
{
	struct pte_list_desc *desc;
	bool flush = false;
	u64 *sptep;
	u32 i;

	for_each_rmap_spte(rmap_head, desc, i, sptep)
		flush |= spte_write_protect(kvm, sptep, pt_protect);
	return flush;
}

/* kvm_mmu_slot_gfn_write_protect() */
bool kvm_mmu_slot_gfn_write_protect(struct kvm *kvm, gfn_t gfn, int min_level)
{
	bool write_protected = false;
	int i;

	for (i = min_level; i <= KVM_MAX_HUGEPAGE_LEVEL; ++i) {
		struct kvm_rmap_head *rmap_head = gfn_to_rmap(kvm, gfn, i);

		if (rmap_head)
			write_protected |= rmap_write_protect(kvm, rmap_head, true);
	}
	return write_protected;
}

/* account_shadowed() (+ __kvm_write_track_add_gfn for upper levels) */
static void account_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	gfn_t gfn = sp->gfn;

	kvm->arch.indirect_shadow_pages++;
	if (sp->role.level > PG_LEVEL_4K) {
		struct kvm_gfn_info *e = gfn_info_get(kvm, gfn, PG_LEVEL_4K);

		if (e)
			e->write_track++;
	}
	/* Tracked or shadowed: no huge page may cover the gfn. */
	update_gfn_disallow_lpage_count(kvm, gfn, 1);
	if (kvm_mmu_slot_gfn_write_protect(kvm, gfn, PG_LEVEL_4K))
		kvm_flush_remote_tlbs(kvm);
}

/* unaccount_shadowed() (+ __kvm_write_track_remove_gfn) */
static void unaccount_shadowed(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	gfn_t gfn = sp->gfn;

	kvm->arch.indirect_shadow_pages--;
	if (sp->role.level > PG_LEVEL_4K) {
		struct kvm_gfn_info *e = gfn_info_lookup(kvm, gfn, PG_LEVEL_4K);

		if (e)
			e->write_track--;
	}
	update_gfn_disallow_lpage_count(kvm, gfn, -1);
}

/* ------------------------------------------------------------------ */
/* the hash                                                            */
/* ------------------------------------------------------------------ */

/* kvm_page_table_hashfn() */
u32 kvm_page_table_hashfn(gfn_t gfn)
{
	return hash_64(gfn, KVM_MMU_HASH_SHIFT);
}

#define for_each_valid_sp(_kvm, _sp, _node, _list)				\
	for (_node = (_list)->first; _node; _node = _node->next)		\
		if ((_sp = container_of(_node, struct kvm_mmu_page, hash_link)), \
		    is_obsolete_sp((_kvm), (_sp))) {				\
		} else

#define for_each_gfn_valid_sp_with_gptes(_kvm, _sp, _node, _gfn)		\
	for_each_valid_sp(_kvm, _sp, _node,					\
	  &(_kvm)->arch.mmu_page_hash[kvm_page_table_hashfn(_gfn)])		\
		if ((_sp)->gfn != (_gfn) || !sp_has_gptes(_sp)) {} else

static void clear_unsync_child_bit(struct kvm *kvm, struct kvm_mmu_page *sp, int idx)
{
	kvm_chk_sp(kvm, sp);
	--sp->unsync_children;
	sp->unsync_child_bitmap[idx / 64] &= ~(1ull << (idx % 64));
}

static bool test_and_set_unsync_bit(struct kvm_mmu_page *sp, int idx)
{
	u64 bit = 1ull << (idx % 64);
	bool was = sp->unsync_child_bitmap[idx / 64] & bit;

	sp->unsync_child_bitmap[idx / 64] |= bit;
	return was;
}

static void kvm_mmu_mark_parents_unsync(struct kvm *kvm, struct kvm_mmu_page *sp);

/* mark_unsync() */
static void mark_unsync(struct kvm *kvm, u64 *spte)
{
	struct kvm_mmu_page *sp = sptep_to_sp(spte);

	kvm_chk_sp(kvm, sp);
	if (test_and_set_unsync_bit(sp, spte_index(spte)))
		return;
	if (sp->unsync_children++)
		return;
	kvm_mmu_mark_parents_unsync(kvm, sp);
}

/* kvm_mmu_mark_parents_unsync() */
static void kvm_mmu_mark_parents_unsync(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct pte_list_desc *desc;
	u64 *sptep;
	u32 i;

	for_each_rmap_spte(&sp->parent_ptes, desc, i, sptep)
		mark_unsync(kvm, sptep);
}

/* kvm_unlink_unsync_page() */
static void kvm_unlink_unsync_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	sp->unsync = 0;
	--kvm->stats.unsync_live;
	kvm_chk_sp(kvm, sp);
}

/* kvm_unsync_page() */
static void kvm_unsync_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	kvm->stats.unsync++;
	kvm->stats.unsync_live++;
	sp->unsync = 1;
	kvm_chk_sp(kvm, sp);
	kvm_mmu_mark_parents_unsync(kvm, sp);
}

/* mmu_try_to_unsync_pages() */
int mmu_try_to_unsync_pages(struct kvm *kvm, gfn_t gfn, bool can_unsync,
			    bool prefetch)
{
	struct hlist_node *node;
	struct kvm_mmu_page *sp;

	/*
	 * Upper-level shadow pages are write-tracked; this also guards the
	 * "only 4K pages go unsync" rule below.
	 */
	if (kvm_gfn_is_write_tracked(kvm, gfn))
		return TDP_E_UNSUPP;	/* -EPERM */

	for_each_gfn_valid_sp_with_gptes(kvm, sp, node, gfn) {
		if (!can_unsync)
			return TDP_E_UNSUPP;	/* -EPERM */
		if (sp->unsync)
			continue;
		if (prefetch)
			return TDP_E_RANGE;	/* -EEXIST */
		kvm_unsync_page(kvm, sp);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* zapping                                                             */
/* ------------------------------------------------------------------ */

static bool __kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
				       struct list_head *invalid_list,
				       int *nr_zapped);

/* mmu_page_zap_pte() - returns the number of child pages zapped. */
static int mmu_page_zap_pte(struct kvm *kvm, struct kvm_mmu_page *sp, u64 *spte,
			    struct list_head *invalid_list)
{
	u64 pte = *spte;
	struct kvm_mmu_page *child;

	if (!is_shadow_present_pte(pte)) {
		if (is_mmio_spte(&kvm->masks, pte)) {
			*spte = 0;	/* mmu_spte_clear_no_track() */
			kvm_chk_spte(kvm, spte);
		}
		return 0;
	}
	if (is_last_spte(pte, sp->role.level)) {
		drop_spte(kvm, spte);
		return 0;
	}
	child = spte_to_child_sp(kvm, pte);
	drop_parent_pte(kvm, child, spte);
	/*
	 * Nested TDP pages without parents are unlikely to be used again:
	 * zap them now rather than keep many stale ones around.
	 */
	if (kvm->tdp_enabled && invalid_list && child->role.guest_mode &&
	    !child->parent_ptes.val)
		return kvm_mmu_prepare_zap_page(kvm, child, invalid_list);
	return 0;
}

/* kvm_mmu_page_unlink_children() */
static int kvm_mmu_page_unlink_children(struct kvm *kvm, struct kvm_mmu_page *sp,
					struct list_head *invalid_list)
{
	int zapped = 0, i;

	for (i = 0; i < SPTE_ENT_PER_PAGE; ++i)
		zapped += mmu_page_zap_pte(kvm, sp, sp->spt + i, invalid_list);
	return zapped;
}

/* kvm_mmu_unlink_parents() */
static void kvm_mmu_unlink_parents(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	u64 *sptep;

	while ((sptep = rmap_get_first(&sp->parent_ptes)))
		drop_parent_pte(kvm, sp, sptep);
}

/*
 * mmu_unsync_walk() + the per-page step of mmu_sync_children() and
 * mmu_zap_unsync_children(), depth first, one page at a time: for every
 * marked child that is unsync, call @fn; clear the parent's bit once a
 * child has nothing unsync left below it (stale bits, e.g. of a child
 * that was unlinked, are cleared here, as __mmu_unsync_walk() does).
 * Levels strictly decrease along SPTEs, so the recursion ends.
 */
typedef int (*unsync_fn)(struct kvm_vcpu *vcpu, struct kvm *kvm,
			 struct kvm_mmu_page *sp, struct list_head *invalid_list,
			 bool *flush);

static int mmu_unsync_walk(struct kvm_vcpu *vcpu, struct kvm *kvm,
			   struct kvm_mmu_page *parent, unsync_fn fn,
			   struct list_head *invalid_list, bool *flush)
{
	int n = 0, w, b;

	for (w = 0; w < SPTE_ENT_PER_PAGE / 64; w++) {
		/* Each marked entry is visited once, so this terminates. */
		u64 pending = parent->unsync_child_bitmap[w];

		while (pending) {
			struct kvm_mmu_page *child;
			u64 ent;
			int idx;

			b = __builtin_ctzll(pending);
			pending &= pending - 1;
			idx = w * 64 + b;
			if (!(parent->unsync_child_bitmap[w] & (1ull << b)))
				continue;	/* cleared by a nested zap */
			ent = parent->spt[idx];
			if (!is_shadow_present_pte(ent) ||
			    is_last_spte(ent, parent->role.level)) {
				clear_unsync_child_bit(kvm, parent, idx);
				continue;
			}
			child = spte_to_child_sp(kvm, ent);
			if (child->unsync_children)
				n += mmu_unsync_walk(vcpu, kvm, child, fn,
						     invalid_list, flush);
			if (child->unsync)
				n += fn(vcpu, kvm, child, invalid_list, flush);
			/*
			 * mmu_pages_clear_parents(): the path is clean once
			 * the child was unlinked (zapped) or has nothing
			 * unsync left below it.
			 */
			if (parent->spt[idx] != ent ||
			    (!child->unsync && !child->unsync_children))
				clear_unsync_child_bit(kvm, parent, idx);
		}
	}
	return n;
}

static int zap_unsync_one(struct kvm_vcpu *vcpu, struct kvm *kvm,
			  struct kvm_mmu_page *sp, struct list_head *invalid_list,
			  bool *flush)
{
	(void)vcpu;
	(void)flush;
	kvm_mmu_prepare_zap_page(kvm, sp, invalid_list);
	return 1;
}

/* mmu_zap_unsync_children() */
static int mmu_zap_unsync_children(struct kvm *kvm, struct kvm_mmu_page *parent,
				   struct list_head *invalid_list)
{
	bool flush = false;

	if (parent->role.level == PG_LEVEL_4K)
		return 0;
	return mmu_unsync_walk(NULL, kvm, parent, zap_unsync_one, invalid_list,
			       &flush);
}

/* __kvm_mmu_prepare_zap_page() */
static bool __kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
				       struct list_head *invalid_list,
				       int *nr_zapped)
{
	bool list_unstable, zapped_root = false;

	++kvm->stats.mmu_shadow_zapped;	/* KVM counts every call */
	if (!sp->role.invalid)
		kvm->stats.sp_zapped[sp->role.direct][sp->role.level - 1]++;
	*nr_zapped = mmu_zap_unsync_children(kvm, sp, invalid_list);
	*nr_zapped += kvm_mmu_page_unlink_children(kvm, sp, invalid_list);
	kvm_mmu_unlink_parents(kvm, sp);

	/* Zapping children means active_mmu_pages has become unstable. */
	list_unstable = *nr_zapped;

	if (!sp->role.invalid && sp_has_gptes(sp))
		unaccount_shadowed(kvm, sp);
	if (sp->unsync)
		kvm_unlink_unsync_page(kvm, sp);
	if (!sp->root_count) {
		(*nr_zapped)++;
		/*
		 * Invalid pages (former roots) are off the active list
		 * already, see the else branch.
		 */
		if (sp->role.invalid)
			list_add(&sp->link, invalid_list);
		else
			list_move(&sp->link, invalid_list);
		kvm_unaccount_mmu_page(kvm, sp);
	} else {
		/* A live root: freed when its last user drops it. */
		list_del(&sp->link);
		zapped_root = !is_obsolete_sp(kvm, sp);
	}
	sp->nx_huge_page_disallowed = false;
	sp->role.invalid = 1;
	kvm_chk_sp(kvm, sp);
	if (zapped_root)
		kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);
	return list_unstable;
}

/* kvm_mmu_prepare_zap_page() */
bool kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_mmu_page *sp,
			      struct list_head *invalid_list)
{
	int nr_zapped;

	__kvm_mmu_prepare_zap_page(kvm, sp, invalid_list, &nr_zapped);
	return nr_zapped;
}

/* kvm_mmu_free_shadow_page() */
static void kvm_mmu_free_shadow_page(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	hlist_del(&sp->hash_link);
	list_del(&sp->link);
	sp_pool_free(kvm, sp);
}

/* kvm_mmu_commit_zap_page() */
void kvm_mmu_commit_zap_page(struct kvm *kvm, struct list_head *invalid_list)
{
	if (list_empty(invalid_list))
		return;
	/* Remote flush before freeing: no vCPU may still walk these tables. */
	kvm_flush_remote_tlbs(kvm);
	while (!list_empty(invalid_list)) {
		struct kvm_mmu_page *sp =
			container_of(invalid_list->next, struct kvm_mmu_page, link);

		kvm_mmu_free_shadow_page(kvm, sp);
	}
}

/* kvm_mmu_remote_flush_or_zap() */
static bool kvm_mmu_remote_flush_or_zap(struct kvm *kvm,
					struct list_head *invalid_list,
					bool remote_flush)
{
	if (!remote_flush && list_empty(invalid_list))
		return false;
	if (!list_empty(invalid_list))
		kvm_mmu_commit_zap_page(kvm, invalid_list);
	else
		kvm_flush_remote_tlbs(kvm);
	return true;
}

/* kvm_mmu_zap_oldest_mmu_pages() - oldest first, active roots skipped. */
unsigned long kvm_mmu_zap_oldest_mmu_pages(struct kvm *kvm,
					   unsigned long nr_to_zap)
{
	unsigned long total_zapped = 0;
	struct list_head invalid_list, *pos, *prev;
	bool unstable;
	int nr_zapped;

	INIT_LIST_HEAD(&invalid_list);
	if (list_empty(&kvm->arch.active_mmu_pages))
		return 0;
restart:
	for (pos = kvm->arch.active_mmu_pages.prev, prev = pos->prev;
	     pos != &kvm->arch.active_mmu_pages; pos = prev, prev = pos->prev) {
		struct kvm_mmu_page *sp =
			container_of(pos, struct kvm_mmu_page, link);

		/* Zapping an active root only forces a reload. */
		if (sp->root_count)
			continue;
		unstable = __kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list,
						      &nr_zapped);
		total_zapped += nr_zapped;
		if (total_zapped >= nr_to_zap)
			break;
		if (unstable)
			goto restart;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	kvm->stats.oldest_zaps += total_zapped;
	return total_zapped;
}

/* kvm_mmu_available_pages() */
unsigned long kvm_mmu_available_pages(struct kvm *kvm)
{
	if (kvm->arch.n_max_mmu_pages > kvm->arch.n_used_mmu_pages)
		return kvm->arch.n_max_mmu_pages - kvm->arch.n_used_mmu_pages;
	return 0;
}

/* make_mmu_pages_available() */
int make_mmu_pages_available(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	unsigned long avail = kvm_mmu_available_pages(kvm);

	if (avail >= KVM_MIN_FREE_MMU_PAGES)
		return 0;
	kvm_mmu_zap_oldest_mmu_pages(kvm, KVM_REFILL_PAGES - avail);
	/*
	 * Soft limit: one free page is enough, the caller may still take
	 * up to four (PAE roots, a 4-level walk).
	 */
	if (!kvm_mmu_available_pages(kvm)) {
		kvm->stats.nospc++;
		return TDP_E_NOSPC;
	}
	return 0;
}

/* kvm_mmu_calculate_default_mmu_pages() */
unsigned long kvm_mmu_calculate_default_mmu_pages(struct kvm *kvm)
{
	unsigned long nr_mmu_pages =
		kvm->n_memslot_pages / KVM_MEMSLOT_PAGES_TO_MMU_PAGES_RATIO;

	return nr_mmu_pages > KVM_MIN_ALLOC_MMU_PAGES ? nr_mmu_pages
						      : KVM_MIN_ALLOC_MMU_PAGES;
}

/* kvm_mmu_change_mmu_pages() */
void kvm_mmu_change_mmu_pages(struct kvm *kvm, unsigned long goal_nr_mmu_pages)
{
	if (kvm->arch.n_used_mmu_pages > goal_nr_mmu_pages) {
		kvm_mmu_zap_oldest_mmu_pages(kvm, kvm->arch.n_used_mmu_pages -
						  goal_nr_mmu_pages);
		goal_nr_mmu_pages = kvm->arch.n_used_mmu_pages;
	}
	kvm->arch.n_max_mmu_pages = goal_nr_mmu_pages;
}

/* kvm_zap_obsolete_pages() */
static void kvm_zap_obsolete_pages(struct kvm *kvm)
{
	struct list_head invalid_list, *pos, *prev;
	int nr_zapped;
	bool unstable;

	INIT_LIST_HEAD(&invalid_list);
restart:
	for (pos = kvm->arch.active_mmu_pages.prev, prev = pos->prev;
	     pos != &kvm->arch.active_mmu_pages; pos = prev, prev = pos->prev) {
		struct kvm_mmu_page *sp =
			container_of(pos, struct kvm_mmu_page, link);

		/* FIFO: nothing obsolete lies before a valid page. */
		if (!is_obsolete_sp(kvm, sp))
			break;
		if (sp->role.invalid)
			continue;
		unstable = __kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list,
						      &nr_zapped);
		if (unstable)
			goto restart;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
}

/* kvm_mmu_zap_all_fast() */
void kvm_mmu_zap_all_fast(struct kvm *kvm)
{
	kvm->stats.zap_all_fast++;
	kvm->arch.mmu_valid_gen = kvm->arch.mmu_valid_gen ? 0 : 1;
	kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);
	kvm_zap_obsolete_pages(kvm);
}

/*
 * kvm_mmu_unprotect_page() - the zap loop of __kvm_mmu_unprotect_gfn_and_
 * retry() (mmu.c; the port keeps the pre-6.12 name for it): zap every
 * valid shadow page with gPTEs at @gfn.  Returns whether any went to the
 * invalid list -- "snapshot the result before zapping", as the kernel
 * does: an active root is only unlinked there, not listed, so zapping
 * just a root that is in use does not count.
 */
bool kvm_mmu_unprotect_page(struct kvm *kvm, gfn_t gfn)
{
	struct list_head invalid_list;
	struct hlist_node *node;
	struct kvm_mmu_page *sp;
	bool r;

	INIT_LIST_HEAD(&invalid_list);
	for_each_gfn_valid_sp_with_gptes(kvm, sp, node, gfn) {
		kvm->stats.unprotect_zaps++;
		kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list);
	}
	r = !list_empty(&invalid_list);
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	return r;
}

/* ------------------------------------------------------------------ */
/* sync                                                                */
/* ------------------------------------------------------------------ */

/* kvm_sync_page_check() */
static bool kvm_sync_page_check(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	union kvm_mmu_page_role root_role = vcpu->arch.mmu->root_role;
	union kvm_mmu_page_role sync_role_ign = {0};

	/*
	 * A page can be synced only by an MMU whose root role matches it in
	 * everything but level, access, quadrant and passthrough.
	 */
	sync_role_ign.level = 0xf;
	sync_role_ign.access = ACC_ALL;
	sync_role_ign.quadrant = 0x3;
	sync_role_ign.passthrough = 0x1;
	if (sp->role.direct || !vcpu->arch.mmu->sync_spte ||
	    ((sp->role.word ^ root_role.word) & ~sync_role_ign.word))
		return false;
	return true;
}

/* kvm_sync_spte() */
static int kvm_sync_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i)
{
	if (!sp->spt[i])
		return 0;
	return vcpu->arch.mmu->sync_spte(vcpu, sp, i);
}

/*
 * __kvm_sync_page(): <0 if the page cannot be synced, else >0 if a TLB
 * flush is needed.  As in KVM, sync_spte() == -1 (gPTE unreadable) is ORed
 * into the result and so fails the page after the loop; < -1 fails it at
 * once.
 */
static int __kvm_sync_page(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	int flush = 0, i;

	if (!kvm_sync_page_check(vcpu, sp))
		return -1;
	for (i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		int ret = kvm_sync_spte(vcpu, sp, i);

		if (ret < -1)
			return -1;
		flush |= ret;
	}
	return flush;
}

/* kvm_sync_page() - a page that fails to sync is zapped. */
static int kvm_sync_page(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
			 struct list_head *invalid_list)
{
	int ret;

	vcpu->kvm->stats.sync++;
	ret = __kvm_sync_page(vcpu, sp);
	if (ret < 0) {
		vcpu->kvm->stats.sync_zapped++;
		kvm_mmu_prepare_zap_page(vcpu->kvm, sp, invalid_list);
	}
	return ret;
}

static int sync_unsync_one(struct kvm_vcpu *vcpu, struct kvm *kvm,
			   struct kvm_mmu_page *sp, struct list_head *invalid_list,
			   bool *flush)
{
	/* Write-protect first: the gfn must not change while it is re-read. */
	if (kvm_mmu_slot_gfn_write_protect(kvm, sp->gfn, PG_LEVEL_4K)) {
		kvm_mmu_remote_flush_or_zap(kvm, invalid_list, true);
		*flush = false;
	}
	kvm_unlink_unsync_page(kvm, sp);
	*flush |= kvm_sync_page(vcpu, sp, invalid_list) > 0;
	return 1;
}

/*
 * mmu_sync_children() - always 0: KVM returns -EINTR only when it yielded
 * mmu_lock, which never happens here.  kvm->stats.sync counts the pages.
 */
int mmu_sync_children(struct kvm_vcpu *vcpu, struct kvm_mmu_page *parent)
{
	struct list_head invalid_list;
	bool flush = false;

	INIT_LIST_HEAD(&invalid_list);
	mmu_unsync_walk(vcpu, vcpu->kvm, parent, sync_unsync_one,
			&invalid_list, &flush);
	kvm_mmu_remote_flush_or_zap(vcpu->kvm, &invalid_list, flush);
	return 0;
}

/* is_unsync_root() */
static bool is_unsync_root(struct kvm *kvm, hpa_t root)
{
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(root) || kvm_mmu_is_dummy_root(root))
		return false;
	sp = to_shadow_page(kvm, root & SPTE_BASE_ADDR_MASK);
	if (!sp)
		return false;
	return sp->unsync || sp->unsync_children;
}

/* kvm_mmu_sync_roots() */
void kvm_mmu_sync_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	struct kvm *kvm = vcpu->kvm;
	int i;

	if (mmu->root_role.direct)
		return;
	if (!VALID_PAGE(mmu->root.hpa))
		return;
	if (mmu->cpu_role.base.level >= PT64_ROOT_4LEVEL) {
		hpa_t root = mmu->root.hpa;

		if (!is_unsync_root(kvm, root))
			return;
		mmu_sync_children(vcpu, to_shadow_page(kvm, root));
		return;
	}
	if (!mmu->pae_root)
		return;
	for (i = 0; i < 4; ++i) {
		hpa_t root = mmu->pae_root[i];

		if (IS_VALID_PAE_ROOT(root))
			mmu_sync_children(vcpu, spte_to_child_sp(kvm, root));
	}
}

/* kvm_mmu_sync_prev_roots() - sync prev_roots by freeing unsync ones. */
void kvm_mmu_sync_prev_roots(struct kvm_vcpu *vcpu)
{
	unsigned long roots_to_free = 0;
	int i;

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (is_unsync_root(vcpu->kvm, vcpu->arch.mmu->prev_roots[i].hpa))
			roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	kvm_mmu_free_roots(vcpu->kvm, vcpu->arch.mmu, roots_to_free);
}

/* ------------------------------------------------------------------ */
/* lookup and creation                                                 */
/* ------------------------------------------------------------------ */

/* kvm_mmu_find_shadow_page() */
struct kvm_mmu_page *kvm_mmu_find_shadow_page(struct kvm *kvm,
					      struct kvm_vcpu *vcpu, gfn_t gfn,
					      union kvm_mmu_page_role role)
{
	struct hlist_head *sp_list =
		&kvm->arch.mmu_page_hash[kvm_page_table_hashfn(gfn)];
	struct list_head invalid_list;
	struct hlist_node *node;
	struct kvm_mmu_page *sp;
	int ret;

	INIT_LIST_HEAD(&invalid_list);
	for_each_valid_sp(kvm, sp, node, sp_list) {
		if (sp->gfn != gfn) {
			kvm->stats.sp_hash_collisions++;
			continue;
		}
		if (sp->role.word != role.word) {
			/*
			 * A new upper-level page for this gfn will be
			 * write-protected: unsync pages of the gfn cannot
			 * stay, and are most likely dead anyway.
			 */
			if (role.level > PG_LEVEL_4K && sp->unsync)
				kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list);
			continue;
		}
		/* unsync and write flooding only apply to indirect SPs */
		if (sp->role.direct)
			goto out;
		if (sp->unsync) {
			if (!vcpu)
				break;
			/*
			 * Stale but good: re-read the gPTEs without
			 * write-protecting or marking it synced; that waits
			 * for the guest's TLB flush.  On failure it is zapped.
			 */
			ret = kvm_sync_page(vcpu, sp, &invalid_list);
			if (ret < 0)
				break;
			if (ret > 0)
				kvm_flush_remote_tlbs(kvm);
		}
		sp->write_flooding_count = 0;	/* __clear_sp_write_flooding_count */
		goto out;
	}
	sp = NULL;
	++kvm->stats.mmu_cache_miss;
out:
	if (sp)
		kvm->stats.sp_hash_hits++;
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
	return sp;
}

/* kvm_mmu_alloc_shadow_page() */
static struct kvm_mmu_page *kvm_mmu_alloc_shadow_page(struct kvm *kvm, gfn_t gfn,
						      union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *sp = sp_pool_alloc(kvm);
	u32 index;

	if (!sp)
		return NULL;
	index = sp->index;
	memset(sp->spt, 0, sizeof(sp->spt));
	memset(sp->unsync_child_bitmap, 0, sizeof(sp->unsync_child_bitmap));
	sp->index = index;
	sp->unsync = false;
	sp->nx_huge_page_disallowed = false;
	sp->root_count = 0;
	sp->unsync_children = 0;
	sp->parent_ptes.val = 0;
	sp->write_flooding_count = 0;
	sp->hash_link.next = NULL;
	sp->hash_link.pprev = NULL;

	/* FIFO at the head: kvm_zap_obsolete_pages() relies on it. */
	sp->mmu_valid_gen = kvm->arch.mmu_valid_gen;
	list_add(&sp->link, &kvm->arch.active_mmu_pages);
	sp->gfn = gfn;
	sp->role = role;
	kvm_chk_sp(kvm, sp);
	kvm_account_mmu_page(kvm, sp);
	hlist_add_head(&sp->hash_link,
		       &kvm->arch.mmu_page_hash[kvm_page_table_hashfn(gfn)]);
	if (sp_has_gptes(sp))
		account_shadowed(kvm, sp);
	return sp;
}

/* kvm_mmu_get_shadow_page() */
struct kvm_mmu_page *kvm_mmu_get_shadow_page(struct kvm_vcpu *vcpu, gfn_t gfn,
					     union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *sp;

	sp = kvm_mmu_find_shadow_page(vcpu->kvm, vcpu, gfn, role);
	if (!sp)
		sp = kvm_mmu_alloc_shadow_page(vcpu->kvm, gfn, role);
	return sp;
}

/* kvm_mmu_child_role() */
union kvm_mmu_page_role kvm_mmu_child_role(u64 *sptep, bool direct,
					   unsigned int access)
{
	struct kvm_mmu_page *parent_sp = sptep_to_sp(sptep);
	union kvm_mmu_page_role role;

	role = parent_sp->role;
	role.level--;
	role.access = access;
	role.direct = direct;
	role.passthrough = 0;

	/*
	 * 4-byte gPTEs are shadowed by 8-byte SPTEs.  A 4-byte PTE table
	 * maps 4 MiB (bits 21:12) but an 8-byte one only 2 MiB (20:12), so
	 * two shadow PTs cover one guest PT; bit 21, i.e. the low bit of
	 * the shadow PDE index, picks the half: quadrant 0 or 1.  (Roots
	 * use quadrants 0-3 for bits 31:30, see mmu_alloc_shadow_roots().)
	 */
	if (role.has_4_byte_gpte)
		role.quadrant = spte_index(sptep) & 1;
	return role;
}

/*
 * kvm_mmu_get_child_sp() - as of 81ccda30b4e8 (v7.2-rc1, "Fix shadow
 * paging use-after-free due to unexpected role", CVE-2026-53359) on top of
 * 0cb2af2ea66a ("... due to unexpected GFN", v7.1): the table already
 * linked at @sptep is reused only if it is for @gfn *and* has the role
 * this walk asks for.  Before those, any present non-leaf SPTE was taken
 * as the right child.  It need not be: a guest PDE that mapped a huge page
 * left a direct child (gfn = the huge page's base, role.direct = 1), and
 * the same, unwritten PDE read as a table pointer after CR4.PSE is cleared
 * (or an L1 EPT/NPT entry changed behind KVM) asks for an indirect child
 * for another gfn.  Reusing the direct one put a leaf under it whose rmap
 * key (the gPTE's gfn) differs from the one rmap_remove() recomputes
 * (sp->gfn + index): the "gfn mismatch under direct page" WARN, then a
 * KVM_BUG_ON in pte_list_remove() or a use-after-free.  A mismatch now
 * falls through to kvm_mmu_get_shadow_page(), and link_shadow_page()
 * zaps the old SPTE.
 */
struct kvm_mmu_page *kvm_mmu_get_child_sp(struct kvm_vcpu *vcpu, u64 *sptep,
					  gfn_t gfn, bool direct,
					  unsigned int access, bool *exists)
{
	union kvm_mmu_page_role role = kvm_mmu_child_role(sptep, direct, access);

	*exists = false;
	if (is_shadow_present_pte(*sptep) && !is_large_pte(*sptep)) {
		struct kvm_mmu_page *child = spte_to_child_sp(vcpu->kvm, *sptep);

		if (child && child->gfn == gfn && child->role.word == role.word) {
			*exists = true;
			return NULL;
		}
	}
	return kvm_mmu_get_shadow_page(vcpu, gfn, role);
}

/*
 * link_shadow_page() / __link_shadow_page().  A present SPTE here is a
 * huge leaf, or (since 0cb2af2ea66a) a table SPTE whose child was refused
 * by kvm_mmu_get_child_sp(): mmu_page_zap_pte() drops either (the leaf
 * with its rmap entry, the table with its parent link; a nested-TDP child
 * left without parents is zapped), then kvm_mmu_remote_flush_or_zap()
 * flushes and frees.  This replaced drop_large_spte().
 */
void link_shadow_page(struct kvm_vcpu *vcpu, u64 *sptep, struct kvm_mmu_page *sp)
{
	struct kvm *kvm = vcpu->kvm;

	if (is_shadow_present_pte(*sptep)) {
		struct list_head invalid_list;

		INIT_LIST_HEAD(&invalid_list);
		mmu_page_zap_pte(kvm, sptep_to_sp(sptep), sptep, &invalid_list);
		kvm_mmu_remote_flush_or_zap(kvm, &invalid_list, true);
	}

	*sptep = make_nonleaf_spte(&kvm->masks, kvm_mmu_sp_hpa(sp),
				   sp->role.ad_disabled);
	kvm_chk_spte(kvm, sptep);
	kvm_chk_sp(kvm, sp);
	/* A failed add only loses unsync propagation; checked by invariants. */
	(void)pte_list_add(kvm, sptep, &sp->parent_ptes);

	if (sp->unsync_children || sp->unsync)
		mark_unsync(kvm, sptep);
}

/*
 * validate_direct_spte() (mmu.c) - a direct child whose role.access is not
 * @direct_access (the guest PDE of a huge page went from clean to dirty, so
 * protect_clean_gpte() no longer strips W) is unlinked: drop_parent_pte()
 * and a remote flush.  The child is not zapped: it stays in the hash, and
 * on active_mmu_pages, without a parent; a later fault with its access
 * finds it again, else it is reclaimed (kvm_mmu_zap_oldest_mmu_pages) or
 * zapped with its gfn.
 */
void validate_direct_spte(struct kvm_vcpu *vcpu, u64 *sptep, unsigned direct_access)
{
	if (is_shadow_present_pte(*sptep) && !is_large_pte(*sptep)) {
		struct kvm_mmu_page *child = spte_to_child_sp(vcpu->kvm, *sptep);

		if (child->role.access == direct_access)
			return;
		drop_parent_pte(vcpu->kvm, child, sptep);
		kvm_flush_remote_tlbs(vcpu->kvm);	/* kvm_flush_remote_tlbs_sptep */
	}
}

/* mark_mmio_spte() */
void mark_mmio_spte(struct kvm_vcpu *vcpu, u64 *sptep, gfn_t gfn,
		    unsigned int access)
{
	/*
	 * Never present here: mmu_set_spte() drops a present SPTE before it
	 * gets here (aad885e77496), sync_spte() only refreshes MMIO SPTEs,
	 * and mmu_spte_set() WARNs otherwise.  Checked by --check.
	 */
	*sptep = make_mmio_spte(vcpu, gfn, access);	/* mmu_spte_set() */
	kvm_chk_spte(vcpu->kvm, sptep);
}

/* mmu_set_spte() */
int mmu_set_spte(struct kvm_vcpu *vcpu, u64 *sptep, unsigned int pte_access,
		 gfn_t gfn, u64 pfn, bool prefetch, bool write_fault,
		 bool host_writable)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);
	int level = sp->role.level;
	int was_rmapped = 0;
	int ret = RET_PF_FIXED;
	bool flush = false;
	bool wrprot;
	u64 spte;

	if (is_shadow_present_pte(*sptep)) {
		if (level > PG_LEVEL_4K && !is_large_pte(*sptep)) {
			/* a 2M/1G leaf replaces a table: unlink the child */
			struct kvm_mmu_page *child = spte_to_child_sp(kvm, *sptep);

			drop_parent_pte(kvm, child, sptep);
			flush = true;
		} else if (pfn != spte_to_pfn(*sptep)) {
			drop_spte(kvm, sptep);
			flush = true;
		} else {
			was_rmapped = 1;
		}
	}

	/*
	 * A gfn without memslot (kvm_handle_noslot_fault() let the fault go
	 * on because MMIO caching is on): the SPTE caches the MMIO access,
	 * the next access faults with PFERR_RSVD (EPT: misconfiguration)
	 * and is emulated by handle_mmio_page_fault() without a walk.  Since
	 * aad885e77496 (v7.0) this comes after the present SPTE, if any
	 * (a gPTE that moved from RAM to MMIO without KVM seeing the store),
	 * was dropped above, and flushes for it.
	 */
	if (is_noslot_pfn(pfn)) {
		/* mmu_set_spte(): "vcpu->stat.pf_mmio_spte_created++" */
		if (vcpu->tdp_stats)
			vcpu->tdp_stats->pf_mmio_spte_created++;
		mark_mmio_spte(vcpu, sptep, gfn, pte_access);
		if (flush)
			kvm_flush_remote_tlbs(kvm);	/* kvm_flush_remote_tlbs_gfn */
		return RET_PF_EMULATE;
	}

	wrprot = make_spte(vcpu, sp, pte_access, gfn, pfn, *sptep, prefetch,
			   true, host_writable, &spte);
	if (*sptep == spte)
		ret = RET_PF_SPURIOUS;
	else
		flush |= mmu_spte_update(kvm, sptep, spte);

	if (wrprot && write_fault)
		ret = RET_PF_WRITE_PROTECTED;
	if (flush)
		kvm_flush_remote_tlbs(kvm);

	if (!was_rmapped) {
		int r = rmap_add(kvm, sptep, gfn, pte_access);

		if (r < 0)
			return r;
	} else {
		kvm_mmu_page_set_translation(sp, spte_index(sptep), gfn,
					     pte_access);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* emulated writes to shadowed guest page tables                       */
/* ------------------------------------------------------------------ */

/* detect_write_misaligned() */
static bool detect_write_misaligned(struct kvm_mmu_page *sp, gpa_t gpa,
				    int bytes)
{
	unsigned int offset, pte_size, misaligned;

	offset = gpa & ~PAGE_MASK;
	pte_size = sp->role.has_4_byte_gpte ? 4 : 8;

	/* e.g. Linux's clear_bit() updates status bits with one "andb". */
	if (!(offset & (pte_size - 1)) && bytes == 1)
		return false;

	misaligned = (offset ^ (offset + bytes - 1)) & ~(pte_size - 1);
	misaligned |= bytes < 4;
	return misaligned;
}

/* detect_write_flooding() */
static bool detect_write_flooding(struct kvm_mmu_page *sp)
{
	/* 4K pages can go unsync instead of being write-protected. */
	if (sp->role.level == PG_LEVEL_4K)
		return false;
	return ++sp->write_flooding_count >= 3;
}

/* get_written_sptes() */
static u64 *get_written_sptes(struct kvm_mmu_page *sp, gpa_t gpa, int *nspte)
{
	unsigned int page_offset, quadrant;
	int level = sp->role.level;

	page_offset = gpa & ~PAGE_MASK;
	*nspte = 1;
	if (sp->role.has_4_byte_gpte) {
		page_offset <<= 1;	/* 32->64 */
		/*
		 * A 32-bit PDE maps 4MB while the shadow PDEs map 2MB: double
		 * the offset again and zap two PDEs.
		 */
		if (level == PT32_ROOT_LEVEL) {
			page_offset &= ~7;	/* kill rounding error */
			page_offset <<= 1;
			*nspte = 2;
		}
		quadrant = page_offset >> PAGE_SHIFT;
		page_offset &= ~PAGE_MASK;
		if (quadrant != sp->role.quadrant)
			return NULL;
	}
	return &sp->spt[page_offset / sizeof(u64)];
}

/* kvm_mmu_track_write() */
int kvm_mmu_track_write(struct kvm_vcpu *vcpu, gpa_t gpa, u64 new, int bytes)
{
	struct kvm *kvm = vcpu->kvm;
	gfn_t gfn = gpa >> PAGE_SHIFT;
	struct list_head invalid_list;
	struct hlist_node *node;
	struct kvm_mmu_page *sp;
	bool flush = false;
	int zapped = 0;
	u64 gentry = 0;

	if (!kvm->arch.indirect_shadow_pages)
		return 0;
	INIT_LIST_HEAD(&invalid_list);

	/* mmu_pte_write_fetch_gpte(): a PAE guest writing half a gPTE */
	if ((vcpu->arch.cr4 & X86_CR4_PAE) && bytes == 4) {
		gpa &= ~(gpa_t)7;
		bytes = 8;
	}
	(void)new;
	kvm->stats.pte_writes++;
	/*
	 * mmu_pte_write_fetch_gpte(): the gPTE as it is after the store, read
	 * back only for 4- and 8-byte writes (else 0); mmu_pde_zapped counts
	 * the upper-level SPTEs zapped for a non-zero one.
	 */
	if ((bytes == 4 || bytes == 8) && vcpu->gmem &&
	    tdp_gmem_read(vcpu->gmem, gpa, (unsigned)bytes, &gentry))
		gentry = 0;

	for_each_gfn_valid_sp_with_gptes(kvm, sp, node, gfn) {
		u64 *spte;
		int npte;

		if (detect_write_misaligned(sp, gpa, bytes)) {
			kvm->stats.misaligned_zaps++;
			kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list);
			zapped++;
			continue;
		}
		if (detect_write_flooding(sp)) {
			kvm->stats.flooding_zaps++;
			kvm_mmu_prepare_zap_page(kvm, sp, &invalid_list);
			zapped++;
			continue;
		}
		spte = get_written_sptes(sp, gpa, &npte);
		if (!spte)
			continue;
		while (npte--) {
			u64 entry = *spte;

			mmu_page_zap_pte(kvm, sp, spte, NULL);
			if (gentry && sp->role.level != PG_LEVEL_4K)
				++kvm->stats.mmu_pde_zapped;
			if (is_shadow_present_pte(entry)) {
				kvm->stats.pte_updated++;
				flush = true;
			}
			++spte;
		}
	}
	kvm_mmu_remote_flush_or_zap(kvm, &invalid_list, flush);
	return zapped;
}

/* ------------------------------------------------------------------ */
/* roots                                                               */
/* ------------------------------------------------------------------ */

/* mmu_free_root_page() */
static void mmu_free_root_page(struct kvm *kvm, hpa_t *root_hpa,
			       struct list_head *invalid_list)
{
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(*root_hpa))
		return;
	sp = kvm_mmu_is_dummy_root(*root_hpa) ? NULL :
	     to_shadow_page(kvm, *root_hpa & SPTE_BASE_ADDR_MASK);
	if (sp && !--sp->root_count && sp->role.invalid)
		kvm_mmu_prepare_zap_page(kvm, sp, invalid_list);
	*root_hpa = INVALID_PAGE;
}

/* kvm_mmu_free_roots() */
void kvm_mmu_free_roots(struct kvm *kvm, struct kvm_mmu *mmu,
			unsigned long roots_to_free)
{
	struct list_head invalid_list;
	bool free_active_root;
	int i;

	INIT_LIST_HEAD(&invalid_list);
	free_active_root = (roots_to_free & KVM_MMU_ROOT_CURRENT) &&
			   VALID_PAGE(mmu->root.hpa);
	if (!free_active_root) {
		for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
			if ((roots_to_free & KVM_MMU_ROOT_PREVIOUS(i)) &&
			    VALID_PAGE(mmu->prev_roots[i].hpa))
				break;
		if (i == KVM_MMU_NUM_PREV_ROOTS)
			return;
	}

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (roots_to_free & KVM_MMU_ROOT_PREVIOUS(i))
			mmu_free_root_page(kvm, &mmu->prev_roots[i].hpa,
					   &invalid_list);

	if (free_active_root) {
		if (kvm_mmu_is_dummy_root(mmu->root.hpa)) {
			/* nothing to drop */
		} else if (to_shadow_page(kvm, mmu->root.hpa)) {
			mmu_free_root_page(kvm, &mmu->root.hpa, &invalid_list);
		} else if (mmu->pae_root) {
			for (i = 0; i < 4; ++i) {
				hpa_t r = mmu->pae_root[i];

				if (!IS_VALID_PAE_ROOT(r))
					continue;
				mmu_free_root_page(kvm, &r, &invalid_list);
				mmu->pae_root[i] = INVALID_PAE_ROOT;
			}
		}
		mmu->root.hpa = INVALID_PAGE;
		mmu->root.pgd = 0;
	}
	kvm_mmu_commit_zap_page(kvm, &invalid_list);
}

/* mmu_alloc_root() - returns the root's hpa, or INVALID_PAGE (no memory). */
static hpa_t mmu_alloc_root(struct kvm_vcpu *vcpu, gfn_t gfn, int quadrant,
			    u8 level)
{
	union kvm_mmu_page_role role = vcpu->arch.mmu->root_role;
	struct kvm_mmu_page *sp;

	role.level = level;
	role.quadrant = quadrant;
	sp = kvm_mmu_get_shadow_page(vcpu, gfn, role);
	if (!sp)
		return INVALID_PAGE;
	++sp->root_count;
	vcpu->kvm->stats.root_allocs++;
	return kvm_mmu_sp_hpa(sp);
}

/* mmu_alloc_direct_roots() */
static int mmu_alloc_direct_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	u8 shadow_root_level = mmu->root_role.level;
	hpa_t root;
	int r, i;

	r = make_mmu_pages_available(vcpu);
	if (r < 0)
		return r;
	if (shadow_root_level >= PT64_ROOT_4LEVEL) {
		root = mmu_alloc_root(vcpu, 0, 0, shadow_root_level);
		if (!VALID_PAGE(root))
			return TDP_E_NOMEM;
		mmu->root.hpa = root;
	} else if (shadow_root_level == PT32E_ROOT_LEVEL) {
		if (!mmu->pae_root)
			return TDP_E_INTERNAL;
		for (i = 0; i < 4; ++i) {
			root = mmu_alloc_root(vcpu, (gfn_t)i << (30 - PAGE_SHIFT),
					      0, PT32_ROOT_LEVEL);
			if (!VALID_PAGE(root))
				return TDP_E_NOMEM;
			mmu->pae_root[i] = root | PT_PRESENT_MASK;
		}
		mmu->root.hpa = special_hpa(vcpu->kvm, mmu->pae_root);
	} else {
		return TDP_E_INTERNAL;
	}
	mmu->root.pgd = 0;
	return 0;
}

/* kvm_vcpu_is_visible_gfn() over the one flat memslot */
static bool kvm_vcpu_is_visible_gfn(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	return gfn < vcpu->kvm->n_memslot_pages;
}

/* mmu_alloc_shadow_roots() */
static int mmu_alloc_shadow_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	u64 pdptrs[4] = {0}, pm_mask;
	gfn_t root_gfn, root_pgd;
	int quadrant, i, r;
	hpa_t root;

	root_pgd = mmu->get_guest_pgd(vcpu);
	root_gfn = (root_pgd & GENMASK_ULL(51, 12)) >> PAGE_SHIFT;
	if (!kvm_vcpu_is_visible_gfn(vcpu, root_gfn)) {
		mmu->root.hpa = KVM_DUMMY_ROOT;
		mmu->root.pgd = root_pgd;
		return 0;
	}

	/* Read the PDPTRs before taking the lock (SVM reads guest memory). */
	if (mmu->cpu_role.base.level == PT32E_ROOT_LEVEL) {
		for (i = 0; i < 4; ++i) {
			pdptrs[i] = mmu->get_pdptr(vcpu, i);
			if (!(pdptrs[i] & PT_PRESENT_MASK))
				continue;
			if (!kvm_vcpu_is_visible_gfn(vcpu,
				(pdptrs[i] & GENMASK_ULL(51, 12)) >> PAGE_SHIFT))
				pdptrs[i] = 0;
		}
	}

	r = make_mmu_pages_available(vcpu);
	if (r < 0)
		return r;

	/* A long-mode guest table: write-protect its root and shadow it. */
	if (mmu->cpu_role.base.level >= PT64_ROOT_4LEVEL) {
		root = mmu_alloc_root(vcpu, root_gfn, 0, mmu->root_role.level);
		if (!VALID_PAGE(root))
			return TDP_E_NOMEM;
		mmu->root.hpa = root;
		goto set_root_pgd;
	}

	if (!mmu->pae_root)
		return TDP_E_INTERNAL;

	/*
	 * A 32-bit guest (2-level or PAE): four PAE roots, wrapped in a
	 * PML4 (and PML5) when the shadow uses more levels (NPT).
	 */
	pm_mask = PT_PRESENT_MASK;
	if (mmu->root_role.level >= PT64_ROOT_4LEVEL) {
		pm_mask |= PT_ACCESSED_MASK | PT_WRITABLE_MASK | PT_USER_MASK;
		if (!mmu->pml4_root)
			return TDP_E_INTERNAL;
		mmu->pml4_root[0] = special_hpa(vcpu->kvm, mmu->pae_root) | pm_mask;
		if (mmu->root_role.level == PT64_ROOT_5LEVEL) {
			if (!mmu->pml5_root)
				return TDP_E_INTERNAL;
			mmu->pml5_root[0] =
				special_hpa(vcpu->kvm, mmu->pml4_root) | pm_mask;
		}
	}

	for (i = 0; i < 4; ++i) {
		if (mmu->cpu_role.base.level == PT32E_ROOT_LEVEL) {
			if (!(pdptrs[i] & PT_PRESENT_MASK)) {
				mmu->pae_root[i] = INVALID_PAE_ROOT;
				continue;
			}
			root_gfn = (pdptrs[i] & GENMASK_ULL(51, 12)) >> PAGE_SHIFT;
		}
		/*
		 * 2-level guests: each PAE page directory maps one quarter
		 * (1 GiB) of the guest's 4 GiB, i.e. 256 of the guest PD's
		 * 1024 entries: quadrant i.  PAE guests map PDPTE i itself.
		 */
		quadrant = (mmu->cpu_role.base.level == PT32_ROOT_LEVEL) ? i : 0;
		root = mmu_alloc_root(vcpu, root_gfn, quadrant, PT32_ROOT_LEVEL);
		if (!VALID_PAGE(root))
			return TDP_E_NOMEM;
		mmu->pae_root[i] = root | pm_mask;
	}

	if (mmu->root_role.level == PT64_ROOT_5LEVEL)
		mmu->root.hpa = special_hpa(vcpu->kvm, mmu->pml5_root);
	else if (mmu->root_role.level == PT64_ROOT_4LEVEL)
		mmu->root.hpa = special_hpa(vcpu->kvm, mmu->pml4_root);
	else
		mmu->root.hpa = special_hpa(vcpu->kvm, mmu->pae_root);

set_root_pgd:
	mmu->root.pgd = root_pgd;
	return 0;
}

/* mmu_alloc_special_roots() - pae_root/pml4_root/pml5_root on first use. */
static int mmu_alloc_special_roots(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	bool need_pml5 = mmu->root_role.level > PT64_ROOT_4LEVEL;

	/* Only needed to shadow a 32-bit guest (or direct PAE): */
	if (mmu->root_role.direct ? mmu->root_role.level != PT32E_ROOT_LEVEL
				  : mmu->cpu_role.base.level >= PT64_ROOT_4LEVEL)
		return 0;
	if (mmu->pae_root && (mmu->root_role.level < PT64_ROOT_4LEVEL ||
			      mmu->pml4_root) && (!need_pml5 || mmu->pml5_root))
		return 0;
	if (!mmu->pae_root && !(mmu->pae_root = special_alloc(vcpu->kvm)))
		return TDP_E_NOMEM;
	if (mmu->root_role.level >= PT64_ROOT_4LEVEL && !mmu->pml4_root &&
	    !(mmu->pml4_root = special_alloc(vcpu->kvm)))
		return TDP_E_NOMEM;
	if (need_pml5 && !mmu->pml5_root &&
	    !(mmu->pml5_root = special_alloc(vcpu->kvm)))
		return TDP_E_NOMEM;
	return 0;
}

/* kvm_mmu_load() */
int kvm_mmu_load(struct kvm_vcpu *vcpu)
{
	int r;

	r = mmu_alloc_special_roots(vcpu);
	if (r)
		return r;
	if (vcpu->arch.mmu->root_role.direct)
		r = mmu_alloc_direct_roots(vcpu);
	else
		r = mmu_alloc_shadow_roots(vcpu);
	if (r)
		return r;
	kvm_mmu_sync_roots(vcpu);
	kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
	return 0;
}

/* kvm_mmu_unload() */
void kvm_mmu_unload(struct kvm_vcpu *vcpu)
{
	kvm_mmu_free_roots(vcpu->kvm, &vcpu->arch.root_mmu, KVM_MMU_ROOTS_ALL);
	kvm_mmu_free_roots(vcpu->kvm, &vcpu->arch.guest_mmu, KVM_MMU_ROOTS_ALL);
}

/* is_root_usable() */
static bool is_root_usable(struct kvm *kvm, struct kvm_mmu_root_info *root,
			   gpa_t pgd, union kvm_mmu_page_role role)
{
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(root->hpa) || kvm_mmu_is_dummy_root(root->hpa))
		return false;
	if (!role.direct && pgd != root->pgd)
		return false;
	sp = to_shadow_page(kvm, root->hpa);
	if (!sp)
		return false;
	return role.word == sp->role.word;
}

static void swap_roots(struct kvm_mmu_root_info *a, struct kvm_mmu_root_info *b)
{
	struct kvm_mmu_root_info t = *a;

	*a = *b;
	*b = t;
}

/* cached_root_find_and_keep_current() */
static bool cached_root_find_and_keep_current(struct kvm *kvm,
					      struct kvm_mmu *mmu, gpa_t new_pgd,
					      union kvm_mmu_page_role new_role)
{
	int i;

	if (is_root_usable(kvm, &mmu->root, new_pgd, new_role))
		return true;
	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
		/*
		 * The swaps rotate the cache:
		 *   C 0 1 2 3   (on entry)
		 *   0 C 1 2 3
		 *   1 C 0 2 3
		 *   2 C 0 1 3
		 *   3 C 0 1 2   (on exit from the loop)
		 * i.e. the old current becomes prev[0], the MRU slot.
		 */
		swap_roots(&mmu->root, &mmu->prev_roots[i]);
		if (is_root_usable(kvm, &mmu->root, new_pgd, new_role))
			return true;
	}
	/* Miss: the LRU root is now current, free it. */
	kvm_mmu_free_roots(kvm, mmu, KVM_MMU_ROOT_CURRENT);
	return false;
}

/* cached_root_find_without_current() */
static bool cached_root_find_without_current(struct kvm *kvm,
					     struct kvm_mmu *mmu, gpa_t new_pgd,
					     union kvm_mmu_page_role new_role)
{
	int i;

	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (is_root_usable(kvm, &mmu->prev_roots[i], new_pgd, new_role))
			goto hit;
	return false;
hit:
	swap_roots(&mmu->root, &mmu->prev_roots[i]);
	/* Bubble up the remaining roots. */
	for (; i < KVM_MMU_NUM_PREV_ROOTS - 1; i++)
		mmu->prev_roots[i] = mmu->prev_roots[i + 1];
	mmu->prev_roots[i].hpa = INVALID_PAGE;
	mmu->prev_roots[i].pgd = 0;
	return true;
}

/* fast_pgd_switch() */
static bool fast_pgd_switch(struct kvm *kvm, struct kvm_mmu *mmu,
			    gpa_t new_pgd, union kvm_mmu_page_role new_role)
{
	/* Roots without a shadow page (PAE, dummy) are never cached. */
	if (VALID_PAGE(mmu->root.hpa) && !to_shadow_page(kvm, mmu->root.hpa))
		kvm_mmu_free_roots(kvm, mmu, KVM_MMU_ROOT_CURRENT);
	if (VALID_PAGE(mmu->root.hpa))
		return cached_root_find_and_keep_current(kvm, mmu, new_pgd,
							 new_role);
	return cached_root_find_without_current(kvm, mmu, new_pgd, new_role);
}

/* kvm_mmu_new_pgd() */
void kvm_mmu_new_pgd(struct kvm_vcpu *vcpu, gpa_t new_pgd)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;
	union kvm_mmu_page_role new_role = mmu->root_role;
	struct kvm_mmu_page *sp;

	/* No usable root: kvm_mmu_load() builds one before the next entry. */
	if (!fast_pgd_switch(vcpu->kvm, mmu, new_pgd, new_role)) {
		vcpu->kvm->stats.prev_roots_misses++;
		return;
	}
	vcpu->kvm->stats.prev_roots_hits++;
	/*
	 * An obsolete cached root is freed by the
	 * KVM_REQ_MMU_FREE_OBSOLETE_ROOTS that came with the generation bump.
	 */
	kvm_make_request(KVM_REQ_LOAD_MMU_PGD, vcpu);
	if (!new_role.direct) {
		sp = to_shadow_page(vcpu->kvm, mmu->root.hpa);
		if (sp)
			sp->write_flooding_count = 0;
	}
}

/* is_obsolete_root() */
static bool is_obsolete_root(struct kvm *kvm, hpa_t root_hpa)
{
	struct kvm_mmu_page *sp;

	if (!VALID_PAGE(root_hpa))
		return false;
	/* Roots without a shadow page cannot be checked: treat as obsolete. */
	sp = kvm_mmu_is_dummy_root(root_hpa) ? NULL :
	     to_shadow_page(kvm, root_hpa);
	return !sp || is_obsolete_sp(kvm, sp);
}

/* __kvm_mmu_free_obsolete_roots() */
static void __kvm_mmu_free_obsolete_roots(struct kvm *kvm, struct kvm_mmu *mmu)
{
	unsigned long roots_to_free = 0;
	int i;

	if (is_obsolete_root(kvm, mmu->root.hpa))
		roots_to_free |= KVM_MMU_ROOT_CURRENT;
	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (is_obsolete_root(kvm, mmu->prev_roots[i].hpa))
			roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	if (roots_to_free)
		kvm_mmu_free_roots(kvm, mmu, roots_to_free);
}

/* kvm_mmu_free_obsolete_roots() */
void kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu)
{
	__kvm_mmu_free_obsolete_roots(vcpu->kvm, &vcpu->arch.root_mmu);
	__kvm_mmu_free_obsolete_roots(vcpu->kvm, &vcpu->arch.guest_mmu);
}

/* shadow_walk_init_using_root() */
void shadow_walk_init_using_root(struct kvm_shadow_walk_iterator *it,
				 struct kvm_vcpu *vcpu, hpa_t root, u64 addr)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;

	it->addr = addr;
	it->shadow_addr = root;
	it->level = mmu->root_role.level;

	if (it->level >= PT64_ROOT_4LEVEL &&
	    mmu->cpu_role.base.level < PT64_ROOT_4LEVEL &&
	    !mmu->root_role.direct)
		it->level = PT32E_ROOT_LEVEL;

	if (it->level == PT32E_ROOT_LEVEL) {
		/* prev_roots are only used for 64-bit hosts (no PAE root). */
		it->shadow_addr = mmu->pae_root ?
			mmu->pae_root[(addr >> 30) & 3] & SPTE_BASE_ADDR_MASK : 0;
		--it->level;
		if (!it->shadow_addr)
			it->level = 0;
	}
	if (kvm_mmu_is_dummy_root(root))
		it->level = 0;
}

/* shadow_walk_okay() */
bool shadow_walk_okay(struct kvm_shadow_walk_iterator *it, struct kvm *kvm)
{
	u64 *table;

	if (it->level < PG_LEVEL_4K)
		return false;
	table = kvm_mmu_hpa_to_table(kvm, it->shadow_addr);
	if (!table)
		return false;
	it->index = SPTE_INDEX(it->addr, it->level);
	it->sptep = table + it->index;
	return true;
}

/* shadow_walk_next() / __shadow_walk_next() */
void shadow_walk_next(struct kvm_shadow_walk_iterator *it)
{
	u64 spte = *it->sptep;

	if (!is_shadow_present_pte(spte) || is_last_spte(spte, it->level)) {
		it->level = 0;
		return;
	}
	it->shadow_addr = spte & SPTE_BASE_ADDR_MASK;
	--it->level;
}

/* __kvm_mmu_invalidate_addr() */
static void __kvm_mmu_invalidate_addr(struct kvm_vcpu *vcpu,
				      struct kvm_mmu *mmu, u64 addr,
				      hpa_t root_hpa)
{
	struct kvm_shadow_walk_iterator iterator;
	struct kvm *kvm = vcpu->kvm;

	/* Walking and syncing assume the current MMU. */
	if (mmu != vcpu->arch.mmu)
		return;
	if (!VALID_PAGE(root_hpa))
		return;

	for_each_shadow_entry_using_root(vcpu, root_hpa, addr, iterator) {
		struct kvm_mmu_page *sp = sptep_to_sp(iterator.sptep);

		if (sp->unsync) {
			int ret = kvm_sync_spte(vcpu, sp, iterator.index);

			kvm->stats.invlpg_syncs++;
			if (ret < 0)
				mmu_page_zap_pte(kvm, sp, iterator.sptep, NULL);
			if (ret)
				kvm_flush_remote_tlbs(kvm);
		}
		if (!sp->unsync_children)
			break;
	}
}

static bool is_noncanonical_address(u64 la, struct kvm_vcpu *vcpu)
{
	int bits = (vcpu->arch.cr4 & X86_CR4_LA57) ? 57 : 48;

	return (u64)((int64_t)(la << (64 - bits)) >> (64 - bits)) != la;
}

/* kvm_mmu_invalidate_addr() */
void kvm_mmu_invalidate_addr(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			     u64 addr, unsigned long roots)
{
	int i;

	/* For guest_mmu it is a GPA, never "non-canonical". */
	if (mmu != &vcpu->arch.guest_mmu && is_noncanonical_address(addr, vcpu))
		return;
	if (!mmu->sync_spte)
		return;
	if (roots & KVM_MMU_ROOT_CURRENT)
		__kvm_mmu_invalidate_addr(vcpu, mmu, addr, mmu->root.hpa);
	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
		if (roots & KVM_MMU_ROOT_PREVIOUS(i))
			__kvm_mmu_invalidate_addr(vcpu, mmu, addr,
						  mmu->prev_roots[i].hpa);
}

/* kvm_mmu_invlpg() */
void kvm_mmu_invlpg(struct kvm_vcpu *vcpu, gva_t gva)
{
	kvm_mmu_invalidate_addr(vcpu, vcpu->arch.walk_mmu, gva,
				KVM_MMU_ROOTS_ALL);
	if (vcpu->tdp_stats)	/* unit tests drive the MMU without stats */
		++vcpu->tdp_stats->invlpg;
}

/* ------------------------------------------------------------------ */
/* VM / vCPU lifetime                                                  */
/* ------------------------------------------------------------------ */

/* kvm_mmu_init_vm() */
int kvm_mmu_init_vm(struct kvm *kvm, u64 n_memslot_pages)
{
	memset(kvm, 0, sizeof(*kvm));
	INIT_LIST_HEAD(&kvm->arch.active_mmu_pages);
	kvm_mmu_reset_all_pte_masks(&kvm->masks);
	kvm->n_memslot_pages = n_memslot_pages;
	kvm->arch.n_max_mmu_pages = kvm_mmu_calculate_default_mmu_pages(kvm);
	return gfn_arr_init(kvm);
}

static void kvm_mmu_init_roots(struct kvm_mmu *mmu)
{
	int i;

	mmu->root.hpa = INVALID_PAGE;
	mmu->root.pgd = 0;
	for (i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++) {
		mmu->prev_roots[i].hpa = INVALID_PAGE;
		mmu->prev_roots[i].pgd = 0;
	}
	mmu->pae_root = NULL;
	mmu->pml4_root = NULL;
	mmu->pml5_root = NULL;
}

/* kvm_mmu_create() / __kvm_mmu_create() */
int kvm_mmu_create(struct kvm *kvm, struct kvm_vcpu *vcpu)
{
	if (kvm->nr_vcpus >= KVM_MAX_VCPUS)
		return TDP_E_RANGE;
	kvm->vcpus[kvm->nr_vcpus++] = vcpu;
	vcpu->kvm = kvm;
	kvm_mmu_init_roots(&vcpu->arch.root_mmu);
	kvm_mmu_init_roots(&vcpu->arch.guest_mmu);
	kvm_mmu_init_roots(&vcpu->arch.nested_mmu);
	if (!vcpu->arch.mmu)
		vcpu->arch.mmu = &vcpu->arch.root_mmu;
	if (!vcpu->arch.walk_mmu)
		vcpu->arch.walk_mmu = &vcpu->arch.root_mmu;
	return 0;
}

void kvm_mmu_uninit_vm(struct kvm *kvm)
{
	u32 i;

	for (i = 0; i < kvm->nr_sp_chunks; i++)
		free(kvm->sp_chunks[i]);
	free(kvm->sp_chunks);
	free(kvm->host_tables);
	kvm->host_tables = NULL;
	kvm->nr_host_tables = 0;
	for (i = 0; i < kvm->nr_special; i++)
		free(kvm->special[i]);
	for (i = 0; i < kvm->nr_desc_chunks; i++)
		free(kvm->desc_chunks[i]);
	free(kvm->desc_chunks);
	free(kvm->gfn_info);
	gfn_arr_free(kvm);
	free(kvm->chk);
	kvm->chk = NULL;
	for (i = 0; i < (u32)kvm->nr_vcpus; i++) {
		kvm_mmu_init_roots(&kvm->vcpus[i]->arch.root_mmu);
		kvm_mmu_init_roots(&kvm->vcpus[i]->arch.guest_mmu);
	}
	kvm->sp_chunks = NULL;
	kvm->desc_chunks = NULL;
	kvm->gfn_info = NULL;
	kvm->nr_sp_chunks = kvm->nr_desc_chunks = kvm->nr_special = 0;
	kvm->nr_sp = 0;
}

/* ------------------------------------------------------------------ */
/* invariants                                                          */
/* ------------------------------------------------------------------ */

static bool sp_is_live(const struct kvm_mmu_page *sp)
{
	return !sp->on_free_list;
}

/*
 * The record of (@gfn, @level) for kvm_mmu_check_invariants(): its rmap
 * entries are present SPTEs, counted into @rmaps and @rmap_pages, and the
 * core shadow-paging rule holds for the writable ones.
 */
static const char *check_gfn_info(struct kvm *kvm, const struct kvm_gfn_info *e,
				  gfn_t gfn, int level, u64 *rmaps, int64_t *rmap_pages)
{
	struct pte_list_desc *desc;
	u64 *sptep;
	u32 k;

	*rmaps += pte_list_count(&e->rmap);
	if (level <= KVM_NR_PAGE_SIZES)
		rmap_pages[level - 1] += pte_list_count(&e->rmap);
	if (e->disallow_lpage < 0)
		return "negative disallow_lpage";
	for_each_rmap_spte(&e->rmap, desc, k, sptep) {
		struct kvm_mmu_page *sp = sptep_to_sp(sptep);

		if (!sp_is_live(sp) || !is_shadow_present_pte(*sptep))
			return "rmap entry is not a present SPTE";
		/* The core shadow-paging rule: shadowed gfns are RO. */
		if (is_writable_pte(*sptep) && level == PG_LEVEL_4K) {
			struct hlist_node *node;
			struct kvm_mmu_page *s;

			if (e->write_track)
				return "writable SPTE maps a write-tracked gfn";
			for_each_gfn_valid_sp_with_gptes(kvm, s, node, gfn)
				if (!s->unsync)
					return "writable SPTE maps a synced shadowed gfn";
		}
	}
	return NULL;
}

const char *kvm_mmu_check_invariants(struct kvm *kvm)
{
	u64 live[2][PT64_ROOT_MAX_LEVEL] = {{0}}, total = 0, nonleaf = 0,
	    parents = 0, leaves = 0, rmaps = 0, indirect = 0, unsync = 0, i;
	int64_t rmap_pages[3] = { 0 };
	struct list_head *pos;
	u8 *on_active;
	const char *err = NULL;
	u32 n;

	on_active = calloc(kvm->nr_sp ? kvm->nr_sp : 1, 1);
	if (!on_active)
		return "out of memory in the checker";

	for (pos = kvm->arch.active_mmu_pages.next;
	     pos != &kvm->arch.active_mmu_pages; pos = pos->next) {
		struct kvm_mmu_page *sp = container_of(pos, struct kvm_mmu_page, link);

		if (!sp_is_live(sp)) {
			err = "free page on active_mmu_pages";
			goto out_free;
		}
		if (sp->role.invalid) {
			err = "invalid page on active_mmu_pages";
			goto out_free;
		}
		on_active[sp->index] = 1;
	}

	for (n = 0; n < KVM_NUM_MMU_PAGES; n++) {
		struct hlist_node *node;

		for (node = kvm->arch.mmu_page_hash[n].first; node; node = node->next) {
			struct kvm_mmu_page *sp =
				container_of(node, struct kvm_mmu_page, hash_link);

			if (!sp_is_live(sp) || kvm_page_table_hashfn(sp->gfn) != n) {
				err = "hashed page is free or in the wrong bucket";
				goto out_free;
			}
			if (!on_active[sp->index] &&
			    !(sp->role.invalid && sp->root_count)) {
				err = "hashed page not on active_mmu_pages";
				goto out_free;
			}
		}
	}

	for (n = 0; n < kvm->nr_sp; n++) {
		struct kvm_mmu_page *sp = kvm_mmu_sp_by_index(kvm, n);
		unsigned int bits = 0;
		int j;

		if (!sp_is_live(sp))
			continue;
		if (hlist_unhashed(&sp->hash_link)) {
			err = "live page not hashed";
			goto out_free;
		}
		if (!on_active[n] && !(sp->role.invalid && sp->root_count)) {
			err = "live page neither active nor a zapped root";
			goto out_free;
		}
		live[sp->role.direct][sp->role.level - 1]++;
		total++;
		if (sp_has_gptes(sp) && !sp->role.invalid)
			indirect++;
		unsync += sp->unsync;
		if (sp->unsync && (sp->role.level != PG_LEVEL_4K || sp->role.direct)) {
			err = "unsync page that is not an indirect 4K page";
			goto out_free;
		}
		for (j = 0; j < SPTE_ENT_PER_PAGE / 64; j++)
			bits += __builtin_popcountll(sp->unsync_child_bitmap[j]);
		if (bits != sp->unsync_children) {
			err = "unsync_children differs from the bitmap";
			goto out_free;
		}
		parents += pte_list_count(&sp->parent_ptes);

		for (j = 0; j < SPTE_ENT_PER_PAGE; j++) {
			u64 spte = sp->spt[j];
			struct kvm_mmu_page *child;
			gfn_t gfn;

			if (!is_shadow_present_pte(spte)) {
				if (spte && (!is_mmio_spte(&kvm->masks, spte) ||
					     sp->role.level != PG_LEVEL_4K)) {
					err = "non-present SPTE neither 0 nor a 4K MMIO SPTE";
					goto out_free;
				}
				continue;
			}
			if (is_last_spte(spte, sp->role.level)) {
				struct kvm_rmap_head *rh;

				leaves++;
				gfn = kvm_mmu_page_get_gfn(sp, j);
				rh = gfn_to_rmap(kvm, gfn, sp->role.level);
				if (!rmap_contains(rh, &sp->spt[j])) {
					err = "leaf SPTE missing from its gfn rmap";
					goto out_free;
				}
				if (spte_to_pfn(spte) != kvm_gfn_to_host_pfn(gfn)) {
					err = "leaf SPTE pfn does not follow the host pfn rule";
					goto out_free;
				}
				continue;
			}
			nonleaf++;
			child = spte_to_child_sp(kvm, spte);
			if (!child || !sp_is_live(child)) {
				err = "non-leaf SPTE points to no live page";
				goto out_free;
			}
			if (child->role.level != sp->role.level - 1) {
				err = "child level is not parent level - 1";
				goto out_free;
			}
			if (!rmap_contains(&child->parent_ptes, &sp->spt[j])) {
				err = "non-leaf SPTE missing from child's parent_ptes";
				goto out_free;
			}
			if ((child->unsync || child->unsync_children) &&
			    !(sp->unsync_child_bitmap[j / 64] & (1ull << (j % 64)))) {
				err = "unsync child not marked in the parent bitmap";
				goto out_free;
			}
		}
	}

	if (parents != nonleaf) {
		err = "parent_ptes entries differ from non-leaf SPTEs";
		goto out_free;
	}
	for (i = 0; kvm->gfn_info && i <= kvm->gfn_info_mask; i++) {
		struct kvm_gfn_info *e = &kvm->gfn_info[i];

		if (e->key == GFN_INFO_EMPTY)
			continue;
		/* the key: gfn >> 9 * (level - 1) << 2 | (level - 1) */
		err = check_gfn_info(kvm, e, (e->key >> 2) << ((e->key & 3) * 9),
				     (int)(e->key & 3) + 1, &rmaps, rmap_pages);
		if (err)
			goto out_free;
	}
	/*
	 * The slot's arrays: the chunks ever written (a record never written
	 * is empty), a bitmap word at a time -- a 16 TiB slot has 2^32
	 * records at level 1, and --check runs this every N events.
	 */
	for (int l = 0; l < KVM_NR_PAGE_SIZES; l++) {
		const u64 chunks = (kvm->gfn_arr_n[l] + GFN_ARR_CHUNK - 1) / GFN_ARR_CHUNK;

		for (u64 w = 0; kvm->gfn_arr[l] && w < (chunks + 63) / 64; w++) {
			for (u64 bits = kvm->gfn_arr_touched[l][w]; bits; bits &= bits - 1) {
				u64 c = w * 64 + __builtin_ctzll(bits);
				u64 end = (c + 1) * GFN_ARR_CHUNK;

				for (i = c * GFN_ARR_CHUNK; i < end && i < kvm->gfn_arr_n[l]; i++) {
					err = check_gfn_info(kvm, &kvm->gfn_arr[l][i],
							     i << (l * 9), l + 1, &rmaps,
							     rmap_pages);
					if (err)
						goto out_free;
				}
			}
		}
	}
	if (rmaps != leaves) {
		err = "rmap entries differ from leaf SPTEs";
		goto out_free;
	}
	for (i = 0; i < 3; i++)
		if (rmap_pages[i] != kvm->stats.pages[i]) {
			err = "pages_4k/2m/1g differ from the rmap entries";
			goto out_free;
		}
	if (unsync != kvm->stats.unsync_live) {
		err = "unsync_live differs from the unsync pages";
		goto out_free;
	}
	if (indirect != kvm->arch.indirect_shadow_pages) {
		err = "indirect_shadow_pages differs from the pages";
		goto out_free;
	}
	if (total != kvm->arch.n_used_mmu_pages || total != kvm->stats.sp_live_total) {
		err = "n_used_mmu_pages differs from the live pages";
		goto out_free;
	}
	for (i = 0; i < 2 * PT64_ROOT_MAX_LEVEL; i++) {
		if (live[i / PT64_ROOT_MAX_LEVEL][i % PT64_ROOT_MAX_LEVEL] !=
		    kvm->stats.sp_live[i / PT64_ROOT_MAX_LEVEL][i % PT64_ROOT_MAX_LEVEL]) {
			err = "sp_live per level differs from the pages";
			goto out_free;
		}
	}
out_free:
	free(on_active);
	return err;
}

/*
 * The incremental checks (replay --check between full checks, check.c):
 * the rules kvm_mmu_check_invariants() applies to every page and SPTE,
 * applied to one page or one SPTE that the event touched.  The counters
 * that need a census (n_used_mmu_pages, sp_live, unsync_live,
 * indirect_shadow_pages, rmap totals) are left to the full check.
 */
const char *kvm_mmu_check_touched_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	struct pte_list_desc *desc;
	unsigned int bits = 0;
	u64 *sptep;
	u32 k;

	if (!sp_is_live(sp))
		return NULL;
	if (hlist_unhashed(&sp->hash_link))
		return "live page not hashed";
	if (sp->link.next) {
		/* on active_mmu_pages: zapped pages leave it within the event */
		if (sp->role.invalid)
			return "invalid page on active_mmu_pages";
		if (sp->link.next->prev != &sp->link || sp->link.prev->next != &sp->link)
			return "live page neither active nor a zapped root";
	} else if (!(sp->role.invalid && sp->root_count)) {
		return "live page neither active nor a zapped root";
	}
	if (sp->unsync && (sp->role.level != PG_LEVEL_4K || sp->role.direct))
		return "unsync page that is not an indirect 4K page";
	for (int j = 0; j < SPTE_ENT_PER_PAGE / 64; j++)
		bits += __builtin_popcountll(sp->unsync_child_bitmap[j]);
	if (bits != sp->unsync_children)
		return "unsync_children differs from the bitmap";
	if (sp_has_gptes(sp) && !sp->role.invalid && !sp->unsync &&
	    !is_obsolete_sp(kvm, sp)) {
		/* the mirror of the writable-leaf rule: a new shadow is RO */
		struct kvm_rmap_head *rh = gfn_to_rmap(kvm, sp->gfn, PG_LEVEL_4K);

		if (rh)
			for_each_rmap_spte(rh, desc, k, sptep)
				if (is_writable_pte(*sptep))
					return "writable SPTE maps a synced shadowed gfn";
	}
	for_each_rmap_spte(&sp->parent_ptes, desc, k, sptep) {
		struct kvm_mmu_page *parent = sptep_to_sp(sptep);
		int j = spte_index(sptep);

		if (!sp_is_live(parent) || !is_shadow_present_pte(*sptep) ||
		    is_last_spte(*sptep, parent->role.level) ||
		    spte_to_child_sp(kvm, *sptep) != sp)
			return "parent_ptes entry is not a table SPTE for the page";
		if (sp->role.level != parent->role.level - 1)
			return "child level is not parent level - 1";
		if ((sp->unsync || sp->unsync_children) &&
		    !(parent->unsync_child_bitmap[j / 64] & (1ull << (j % 64))))
			return "unsync child not marked in the parent bitmap";
	}
	return NULL;
}

const char *kvm_mmu_check_touched_spte(struct kvm *kvm, u64 *sptep)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep), *child;
	int j = spte_index(sptep);
	u64 spte = *sptep;
	gfn_t gfn;

	if (!sp_is_live(sp))
		return NULL;
	if (!is_shadow_present_pte(spte)) {
		struct kvm_rmap_head *rh;

		/* mark_mmio_spte() installs MMIO SPTEs at 4K only */
		if (spte && (!is_mmio_spte(&kvm->masks, spte) ||
			     sp->role.level != PG_LEVEL_4K))
			return "non-present SPTE neither 0 nor a 4K MMIO SPTE";
		/* a dropped leaf must have left its rmap */
		if (!sp->role.direct && !sp->shadowed_translation[j])
			return NULL;
		rh = gfn_to_rmap(kvm, kvm_mmu_page_get_gfn(sp, j), sp->role.level);
		if (rh && rmap_contains(rh, sptep))
			return "rmap entry is not a present SPTE";
		return NULL;
	}
	if (is_last_spte(spte, sp->role.level)) {
		struct kvm_rmap_head *rh;
		struct kvm_gfn_info *e;

		gfn = kvm_mmu_page_get_gfn(sp, j);
		rh = gfn_to_rmap(kvm, gfn, sp->role.level);
		if (!rh || !rmap_contains(rh, sptep))
			return "leaf SPTE missing from its gfn rmap";
		if (spte_to_pfn(spte) != kvm_gfn_to_host_pfn(gfn))
			return "leaf SPTE pfn does not follow the host pfn rule";
		if (!is_writable_pte(spte) || sp->role.level != PG_LEVEL_4K)
			return NULL;
		/* The core shadow-paging rule: shadowed gfns are RO. */
		e = gfn_info_lookup(kvm, gfn, PG_LEVEL_4K);
		if (e && e->write_track)
			return "writable SPTE maps a write-tracked gfn";
		{
			struct hlist_node *node;
			struct kvm_mmu_page *s;

			for_each_gfn_valid_sp_with_gptes(kvm, s, node, gfn) {
				if (!s->unsync)
					return "writable SPTE maps a synced shadowed gfn";
			}
		}
		return NULL;
	}
	child = spte_to_child_sp(kvm, spte);
	if (!child || !sp_is_live(child))
		return "non-leaf SPTE points to no live page";
	if (child->role.level != sp->role.level - 1)
		return "child level is not parent level - 1";
	if (!rmap_contains(&child->parent_ptes, sptep))
		return "non-leaf SPTE missing from child's parent_ptes";
	if ((child->unsync || child->unsync_children) &&
	    !(sp->unsync_child_bitmap[j / 64] & (1ull << (j % 64))))
		return "unsync child not marked in the parent bitmap";
	return NULL;
}
