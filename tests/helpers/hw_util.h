/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calling the CPU model (src/hw, include/tdpsim/hw.h) from tests whose
 * memory is one gmem: guest frame n is host frame n, no KVM tables.
 */
#ifndef TDPSIM_TEST_HW_UTIL_H
#define TDPSIM_TEST_HW_UTIL_H

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>

/* CPU memory that is @gm alone; EPT/NPT tables, if any, live in it too. */
static inline struct hw_mem hw_mem_gmem(struct tdp_gmem *gm, unsigned host_maxphyaddr)
{
	return (struct hw_mem){ .gmem = gm, .host_maxphyaddr = host_maxphyaddr };
}

/* EFER.LMA as the CPU sets it: LME with CR0.PG (SDM Vol. 3A §10.8.5) */
static inline uint64_t hw_efer_lma(uint64_t efer, uint64_t cr0)
{
	efer &= ~(1ull << 10);
	if ((efer & (1ull << 8)) && (cr0 & (1ull << 31)))
		efer |= 1ull << 10;
	return efer;
}

/*
 * hw_walk1d() - hw_translate() without stage 2, for registers as a trace
 * sets them (EFER.LMA derived, not given).
 */
static inline void hw_walk1d(const struct hw_mem *mem, const struct hw_regs *regs,
			     const struct hw_access *acc, struct hw_result *res)
{
	struct hw_regs r = *regs;

	r.efer = hw_efer_lma(r.efer, r.cr0);
	hw_translate(mem, &r, NULL, acc, res);
}

/*
 * A tree of 4 KiB tables with 8-byte entries (x86 4/5-level, EPT or NPT)
 * built in gmem: tables at addresses of the tree's own space, stored at
 * own + @off; fresh tables come from @next (zeroed pages).
 */
struct hw_tree {
	struct tdp_gmem *gm;
	uint64_t root, next, off;
	int levels;
	uint64_t table_flags;	/* flags of entries that point to tables */
};

void hw_tree_init(struct hw_tree *t, struct tdp_gmem *gm, int levels,
		  uint64_t root, uint64_t off, uint64_t table_flags);
/* Make the path to @va down to @level and store @leaf there; returns the
 * host address of that entry. */
uint64_t hw_tree_map(struct hw_tree *t, uint64_t va, int level, uint64_t leaf);
/* Host address of the entry for @va at @level (the path must exist). */
uint64_t hw_tree_entry(const struct hw_tree *t, uint64_t va, int level);
uint64_t hw_get64(struct tdp_gmem *gm, uint64_t hpa);

/*
 * The hw suites' fixture: a fresh guest memory of @size bytes per test and
 * the CPU's view of it (no KVM tables, host MAXPHYADDR 46).
 */
extern struct tdp_gmem *hw_fx_gmem;
extern struct hw_mem hw_fx_mem;
void hw_fx_init(uint64_t size);
void hw_fx_fini(void);
void hw_put64(struct tdp_gmem *gm, uint64_t hpa, uint64_t val);

#endif
