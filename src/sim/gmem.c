// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sparse guest-physical memory (see include/tdpsim/gmem.h for the lookup
 * layout and the access rule).
 *
 * Invariants: top[i] is 0 when no page of leaf i (pages[i * 512] ..) was
 * ever allocated -- its pages[] entries are all NULL -- else 1; a page
 * pointer is NULL (never written: reads as zero) or a zeroed-on-allocation
 * 4 KiB page.  Nothing is freed before destroy, so a pointer returned by
 * tdp_gmem_page_get() stays valid for the memory's life.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>

static_assert(TDP_GMEM_MAX_SIZE >> TDP_GMEM_PAGE_SHIFT >> TDP_GMEM_LEAF_BITS <=
	      (1ull << 23), "top[] stays at most 8 MiB");

static size_t pages_bytes(const struct tdp_gmem *gm)
{
	return gm->ntop * TDP_GMEM_LEAF_ENTRIES * sizeof(*gm->pages);
}

int tdp_gmem_create(struct tdp_gmem **out, uint64_t size)
{
	struct tdp_gmem *gm;

	*out = NULL;
	if (size == 0 || size > TDP_GMEM_MAX_SIZE ||
	    (size & (TDP_GMEM_PAGE_SIZE - 1)))
		return TDP_E_RANGE;

	gm = calloc(1, sizeof(*gm));
	if (!gm)
		return TDP_E_NOMEM;
	gm->size = size;
	gm->npages = size >> TDP_GMEM_PAGE_SHIFT;
	gm->ntop = (gm->npages + TDP_GMEM_LEAF_ENTRIES - 1) >> TDP_GMEM_LEAF_BITS;
	gm->top = calloc(gm->ntop, sizeof(*gm->top));
	if (!gm->top)
		goto err_free_gm;
	/* address space only: a leaf's 4 KiB is committed by its first store */
	gm->pages = mmap(NULL, pages_bytes(gm), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (gm->pages == MAP_FAILED)
		goto err_free_top;
	*out = gm;
	return 0;

err_free_top:
	free(gm->top);
err_free_gm:
	free(gm);
	return TDP_E_NOMEM;
}

void tdp_gmem_destroy(struct tdp_gmem *gm)
{
	if (!gm)
		return;
	for (uint64_t i = 0; i < gm->ntop; i++) {
		if (!gm->top[i])
			continue;
		for (unsigned j = 0; j < TDP_GMEM_LEAF_ENTRIES; j++)
			free(gm->pages[i * TDP_GMEM_LEAF_ENTRIES + j]);
	}
	munmap(gm->pages, pages_bytes(gm));
	free(gm->top);
	free(gm);
}

uint8_t *tdp_gmem_page_get(struct tdp_gmem *gm, uint64_t gfn)
{
	uint8_t **pagep;

	if (!tdp_gmem_gfn_in_slot(gm, gfn))
		return NULL;
	if (!gm->top[gfn >> TDP_GMEM_LEAF_BITS]) {
		gm->top[gfn >> TDP_GMEM_LEAF_BITS] = 1;
		gm->leaves_allocated++;
	}
	pagep = &gm->pages[gfn];
	if (!*pagep) {
		*pagep = calloc(1, TDP_GMEM_PAGE_SIZE);
		if (!*pagep)
			return NULL;
		gm->pages_allocated++;
	}
	return *pagep;
}

int tdp_gmem_write(struct tdp_gmem *gm, uint64_t gpa, unsigned size, uint64_t val)
{
	uint64_t gfn = gpa >> TDP_GMEM_PAGE_SHIFT;
	uint8_t *page;

	if (!tdp_gmem_access_ok(gpa, size))
		return TDP_E_USAGE;
	if (!tdp_gmem_gfn_in_slot(gm, gfn))
		return TDP_E_RANGE;
	page = tdp_gmem_page_lookup(gm, gfn);
	if (!page) {
		/* Untouched pages already read as zero: keep them untouched. */
		if (size < 8)
			val &= (1ull << (size * 8)) - 1;
		if (!val)
			return 0;
		page = tdp_gmem_page_get(gm, gfn);
		if (!page)
			return TDP_E_NOMEM;
	}
	memcpy(page + (gpa & (TDP_GMEM_PAGE_SIZE - 1)), &val, size);
	return 0;
}

/*
 * One replay is one single-threaded process, so compare-and-store needs no
 * atomics; the contract is kept so a racing A/D update in KVM (retry_walk)
 * has a place to be modelled.
 */
int tdp_gmem_cmpxchg64(struct tdp_gmem *gm, uint64_t gpa, uint64_t *old,
		       uint64_t new)
{
	uint64_t cur;
	int ret;

	ret = tdp_gmem_read(gm, gpa, 8, &cur);
	if (ret)
		return ret;
	if (cur != *old) {
		*old = cur;
		return 1;
	}
	return tdp_gmem_write(gm, gpa, 8, new);
}

static bool range_in_slot(const struct tdp_gmem *gm, uint64_t gpa, uint64_t len)
{
	return len <= gm->size && gpa <= gm->size - len;
}

int tdp_gmem_read_bytes(const struct tdp_gmem *gm, uint64_t gpa, void *buf,
			uint64_t len)
{
	uint8_t *dst = buf;

	if (!range_in_slot(gm, gpa, len))
		return TDP_E_RANGE;
	while (len) {
		uint64_t off = gpa & (TDP_GMEM_PAGE_SIZE - 1);
		uint64_t n = TDP_GMEM_PAGE_SIZE - off;
		const uint8_t *page = tdp_gmem_page_lookup(gm, gpa >> TDP_GMEM_PAGE_SHIFT);

		if (n > len)
			n = len;
		if (page)
			memcpy(dst, page + off, n);
		else
			memset(dst, 0, n);
		dst += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int tdp_gmem_write_bytes(struct tdp_gmem *gm, uint64_t gpa, const void *buf,
			 uint64_t len)
{
	const uint8_t *src = buf;

	if (!range_in_slot(gm, gpa, len))
		return TDP_E_RANGE;
	while (len) {
		uint64_t off = gpa & (TDP_GMEM_PAGE_SIZE - 1);
		uint64_t n = TDP_GMEM_PAGE_SIZE - off;
		uint8_t *page;

		if (n > len)
			n = len;
		page = tdp_gmem_page_get(gm, gpa >> TDP_GMEM_PAGE_SHIFT);
		if (!page)
			return TDP_E_NOMEM;
		memcpy(page + off, src, n);
		src += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

uint64_t tdp_gmem_footprint(const struct tdp_gmem *gm)
{
	return gm->pages_allocated * TDP_GMEM_PAGE_SIZE +
	       gm->leaves_allocated * TDP_GMEM_LEAF_ENTRIES * sizeof(uint8_t *) +
	       gm->ntop * sizeof(*gm->top);
}
