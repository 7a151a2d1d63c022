/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-physical memory of L1: one memslot at GPA 0 of a configured size.
 *
 * Sparse and page granular: a 4 KiB page is allocated on its first write;
 * untouched pages read as zero.  Memory therefore grows with the pages a
 * trace touches (the guest's page tables, mostly), never with its length.
 *
 * Lookup is one load: pages[gfn], a flat array of page pointers for the
 * whole memslot, grouped in leaves of 512 (one leaf maps 2 MiB):
 *
 *   gfn:    [ ...... top index ...... ][ leaf index (9 bits) ]
 *   pages[]: one pointer per 4 KiB page, indexed by the whole gfn
 *   top[]:   one flag per 2 MiB: leaf pages[top index * 512 ..] holds a page
 *
 * pages[] is reserved address space (mmap MAP_NORESERVE, 8 bytes per 4 KiB
 * of slot): a leaf becomes resident, 4 KiB, when a page in its 2 MiB is
 * first written, exactly as a separately allocated radix leaf would, and
 * an untouched leaf reads as NULL pointers.  Only strict overcommit
 * (vm.overcommit_memory=2) charges the reservation up front; there a huge
 * slot can fail with TDP_E_NOMEM.  top[] (calloc'd, so its untouched
 * part costs no RSS) records the leaves in use, for the footprint and so
 * that destroy visits only those.  Pages are
 * allocated by writes.  The flat array saves the guest walker a dependent
 * load per page-table read (a radix read is top[], then leaf[]); a 2D walk
 * makes 24 dependent reads.
 *
 * Access rule: reads and writes are 1, 2, 4 or 8 bytes, naturally aligned
 * (gpa % size == 0).  A naturally aligned access never crosses a page, so
 * every access touches exactly one page; anything else is TDP_E_USAGE.
 * A gfn >= size/4096 is "not in a memslot" (KVM's kvm_vcpu_gfn_to_memslot
 * returning NULL): accesses there return TDP_E_RANGE and do nothing, and
 * the MMU turns that into KVM's no-memslot behaviour.
 *
 * Layout independent: used by both builds of the MMU port.
 */
#ifndef TDPSIM_GMEM_H
#define TDPSIM_GMEM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <tdpsim/errors.h>

#define TDP_GMEM_PAGE_SHIFT	12
#define TDP_GMEM_PAGE_SIZE	(1ull << TDP_GMEM_PAGE_SHIFT)
#define TDP_GMEM_LEAF_BITS	9
#define TDP_GMEM_LEAF_ENTRIES	(1u << TDP_GMEM_LEAF_BITS)
/* Largest memslot: 16 TiB (top[] is then 2^23 bytes of address space). */
#define TDP_GMEM_MAX_SIZE	(1ull << 44)

/* Fields are private to gmem.c; they are here so lookups can be inlined. */
struct tdp_gmem {
	uint64_t size;			/* bytes, multiple of the page size */
	uint64_t npages;		/* size >> 12: gfns [0, npages) exist */
	uint8_t **pages;		/* [ntop * 512]: page of each gfn */
	uint8_t *top;			/* [ntop]: 1 if leaf i holds a page */
	uint64_t ntop;			/* npages >> 9 rounded up */
	uint64_t pages_allocated;	/* data pages (not leaves) */
	uint64_t leaves_allocated;
};

/*
 * tdp_gmem_create() - memory of @size bytes (a non-zero multiple of 4 KiB,
 * at most TDP_GMEM_MAX_SIZE).  Returns 0, TDP_E_RANGE or TDP_E_NOMEM.
 */
int tdp_gmem_create(struct tdp_gmem **out, uint64_t size);
void tdp_gmem_destroy(struct tdp_gmem *gm);

/* kvm_vcpu_gfn_to_memslot() != NULL: is @gfn backed by the memslot? */
static inline bool tdp_gmem_gfn_in_slot(const struct tdp_gmem *gm, uint64_t gfn)
{
	return gfn < gm->npages;
}

/* Page holding @gfn if it was ever written, else NULL.  @gfn must be in slot. */
static inline uint8_t *tdp_gmem_page_lookup(const struct tdp_gmem *gm, uint64_t gfn)
{
	return gm->pages[gfn];
}

/*
 * Page holding @gfn, allocated (zeroed) if needed.  NULL if @gfn is not in
 * the slot or on allocation failure.
 */
uint8_t *tdp_gmem_page_get(struct tdp_gmem *gm, uint64_t gfn);

static inline bool tdp_gmem_access_ok(uint64_t gpa, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       (gpa & (size - 1)) == 0;
}

/*
 * tdp_gmem_read() - read @size bytes at @gpa (little endian, zero-extended
 * into *@val).  Returns 0, TDP_E_USAGE (size/alignment rule broken) or
 * TDP_E_RANGE (not in the memslot; *@val untouched).
 */
static inline int tdp_gmem_read(const struct tdp_gmem *gm, uint64_t gpa,
				unsigned size, uint64_t *val)
{
	uint64_t gfn = gpa >> TDP_GMEM_PAGE_SHIFT;
	const uint8_t *page;
	uint64_t v = 0;

	if (!tdp_gmem_access_ok(gpa, size))
		return TDP_E_USAGE;
	if (!tdp_gmem_gfn_in_slot(gm, gfn))
		return TDP_E_RANGE;
	page = tdp_gmem_page_lookup(gm, gfn);
	if (page)
		memcpy(&v, page + (gpa & (TDP_GMEM_PAGE_SIZE - 1)), size);
	*val = v;
	return 0;
}

/* Fast paths for page-table reads (8- and 4-byte guest PTEs). */
static inline int tdp_gmem_read64(const struct tdp_gmem *gm, uint64_t gpa,
				  uint64_t *val)
{
	return tdp_gmem_read(gm, gpa, 8, val);
}

/*
 * tdp_gmem_write() - write the low @size bytes of @val at @gpa.  Returns 0,
 * TDP_E_USAGE, TDP_E_RANGE (not in the memslot; nothing written) or
 * TDP_E_NOMEM.  Writing zero to an untouched page allocates nothing.
 */
int tdp_gmem_write(struct tdp_gmem *gm, uint64_t gpa, unsigned size, uint64_t val);

/*
 * tdp_gmem_cmpxchg64() - if the 8 bytes at @gpa equal *@old, store @new and
 * return 0; else store the current value in *@old and return 1 (KVM's
 * __try_cmpxchg_user() contract, used for guest A/D-bit updates).  Negative
 * TDP_E_* as tdp_gmem_write().  @gpa must be 8-byte aligned.
 */
int tdp_gmem_cmpxchg64(struct tdp_gmem *gm, uint64_t gpa, uint64_t *old,
		       uint64_t new);

/*
 * Byte-range copies for loaders and tests: may cross pages, any alignment.
 * Return 0, TDP_E_RANGE if any byte is outside the slot (nothing copied),
 * or TDP_E_NOMEM.
 */
int tdp_gmem_read_bytes(const struct tdp_gmem *gm, uint64_t gpa, void *buf,
			uint64_t len);
int tdp_gmem_write_bytes(struct tdp_gmem *gm, uint64_t gpa, const void *buf,
			 uint64_t len);

/* Bytes of host memory held for guest pages, leaves of pages[] and top[]. */
uint64_t tdp_gmem_footprint(const struct tdp_gmem *gm);

#endif /* TDPSIM_GMEM_H */
