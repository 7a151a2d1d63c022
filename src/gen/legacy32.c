// SPDX-License-Identifier: GPL-2.0-only
/* legacy32: the linux workload on 32-bit (2-level) paging. */
#include "gen/gen-int.h"

/*
 * 32-bit paging (CR4.PAE=0, so no NX: R-X and RW- differ only in W): the
 * PDEs from 768 (0xc0000000) up map [0, min(mem, 896M)) with 4 MiB PSE
 * pages, writable, text included; user layout as for PAE, with the heap
 * crossing a 4 MiB boundary.  PSE-36 bits 20:13 stay 0 (mem < 4 GiB).
 */
#define LEGACY_HEAP_BASE	0x93c0000ull
#define LEGACY_HPAGE_SIZE	(4ull << 20)

static void boot_legacy(struct gen *g);

static const struct pmode mode_legacy = {
	.levels = 2, .bits = 10, .esize = 4, .nx = 0, .top_entries = 1024, .top_user = 768,
	.text_base = 0x8000000ull, .heap_base = LEGACY_HEAP_BASE, .stack_top = 0xbffff000ull,
	.kdirect = PAE_PAGE_OFFSET, .ktext_va = PAE_PAGE_OFFSET + KTEXT_PHYS,
	.ktext_phys = KTEXT_PHYS, .kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS,
	.direct_max = PAE_MEM_MAX, .map_kernel = boot_legacy,
};

_Static_assert(LEGACY_HEAP_BASE / LEGACY_HPAGE_SIZE !=
	       (LEGACY_HEAP_BASE + HEAP_PAGES * PAGE_SIZE - 1) / LEGACY_HPAGE_SIZE,
	       "the 32-bit heap should span two PT pages too");

/* 32-bit swapper_pg_dir: PDEs 768.. map the direct map with 4 MiB pages. */
static void boot_legacy(struct gen *g)
{
	uint64_t end = g->opts->mem < PAE_MEM_MAX ? g->opts->mem : PAE_MEM_MAX;

	for (uint64_t pa = 0; pa < end && g->swapper; pa += LEGACY_HPAGE_SIZE)
		pt_set(g, g->swapper, g->m->top_user + pa / LEGACY_HPAGE_SIZE,
		       pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL, 0);
}


static const struct gen_kind kind_legacy32 = {
	.m = &mode_legacy, .nproc = 6, .post_slice = linux_step,
};

GEN_WORKLOAD_FN(gen_legacy32)
{
	return gen_run_kind(&kind_legacy32, w, opts, stats, errbuf);
}
