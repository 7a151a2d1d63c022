// SPDX-License-Identifier: GPL-2.0-only
/*
 * pae: the linux workload on a 32-bit PAE kernel (3G/1G split).
 *
 * PAE (a 32-bit kernel with a 3G/1G split): PDPTE 3 maps the kernel, with
 * the direct map of [0, min(mem, 896M)) at 0xc0000000 in 2 MiB pages and
 * the kernel text being the direct map's page at 16 MiB; user text at
 * 0x8000000, heap at 0x91c0000, stack below 0xc0000000.  The PDPTEs are
 * loaded with CR3 and have no R/W, U/S or NX bits, so, as Linux's PAE
 * pgd_alloc() does, all four are set up front and never change while the
 * PDPT is in use (user PDs are freed only with the PDPT).
 */
#include "gen/gen-int.h"

static void boot_pae(struct gen *g);

static const struct pmode mode_pae = {
	.levels = 3, .bits = 9, .esize = 8, .nx = PT_NX, .top_entries = 4, .top_user = 3,
	.text_base = 0x8000000ull, .heap_base = PAE_HEAP_BASE, .stack_top = 0xbffff000ull,
	.kdirect = PAE_PAGE_OFFSET, .ktext_va = PAE_PAGE_OFFSET + KTEXT_PHYS,
	.ktext_phys = KTEXT_PHYS, .kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS,
	.direct_max = PAE_MEM_MAX, .map_kernel = boot_pae,
};

_Static_assert(PT_INDEX(PAE_PAGE_OFFSET, 3) == 3, "PAE kernel PDPTE");
_Static_assert(PT_INDEX(PAE_HEAP_BASE, 2) != PT_INDEX(PAE_HEAP_BASE + HEAP_PAGES * PAGE_SIZE - 1, 2),
	       "the PAE heap should span two PT pages too");

/* PAE swapper_pg_dir: PDPTE 3 -> one PD with the direct map, text included. */
static void boot_pae(struct gen *g)
{
	uint64_t end = g->opts->mem < PAE_MEM_MAX ? g->opts->mem : PAE_MEM_MAX;
	uint16_t kpd = g->swapper ? pt_link_new(g, g->swapper, 3, PT_PRESENT) : 0;

	for (uint64_t pa = 0; pa < end && kpd; pa += HPAGE_SIZE) {
		uint64_t flags = pa == KTEXT_PHYS ? PT_PRESENT | PT_PAGE_SIZE | PT_GLOBAL :
			PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL | PT_NX;

		pt_set(g, kpd, pa / HPAGE_SIZE, pa | flags, 0);
	}
}

static const struct gen_kind kind_pae = {
	.m = &mode_pae, .nproc = 6, .post_slice = linux_step,
};

GEN_WORKLOAD_FN(gen_pae)
{
	return gen_run_kind(&kind_pae, w, opts, stats, errbuf);
}
