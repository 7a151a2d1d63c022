// SPDX-License-Identifier: GPL-2.0-only
/* Page-table trees in gmem for the CPU-model tests (see hw_util.h). */
#include <stdlib.h>

#include "hw_util.h"

#define ADDR_MASK	0x000ffffffffff000ull

struct tdp_gmem *hw_fx_gmem;
struct hw_mem hw_fx_mem;

void hw_fx_init(uint64_t size)
{
	hw_fx_fini();
	if (tdp_gmem_create(&hw_fx_gmem, size))
		abort();
	hw_fx_mem = hw_mem_gmem(hw_fx_gmem, 46);
}

void hw_fx_fini(void)
{
	tdp_gmem_destroy(hw_fx_gmem);
	hw_fx_gmem = NULL;
}

uint64_t hw_get64(struct tdp_gmem *gm, uint64_t hpa)
{
	uint64_t v = 0;

	if (tdp_gmem_read(gm, hpa, 8, &v))
		abort();
	return v;
}

void hw_put64(struct tdp_gmem *gm, uint64_t hpa, uint64_t val)
{
	if (tdp_gmem_write(gm, hpa, 8, val))
		abort();
}

void hw_tree_init(struct hw_tree *t, struct tdp_gmem *gm, int levels,
		  uint64_t root, uint64_t off, uint64_t table_flags)
{
	*t = (struct hw_tree){ .gm = gm, .root = root, .next = root + 0x1000,
			       .off = off, .levels = levels,
			       .table_flags = table_flags };
}

static unsigned idx(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

uint64_t hw_tree_map(struct hw_tree *t, uint64_t va, int level, uint64_t leaf)
{
	uint64_t table = t->root;

	for (int l = t->levels; l > level; l--) {
		uint64_t ea = table + idx(va, l) * 8 + t->off;
		uint64_t e = hw_get64(t->gm, ea);

		if (!e) {
			e = t->next | t->table_flags;
			t->next += 0x1000;
			hw_put64(t->gm, ea, e);
		}
		table = e & ADDR_MASK;
	}
	table += idx(va, level) * 8 + t->off;
	hw_put64(t->gm, table, leaf);
	return table;
}

uint64_t hw_tree_entry(const struct hw_tree *t, uint64_t va, int level)
{
	uint64_t table = t->root;

	for (int l = t->levels; l > level; l--)
		table = hw_get64(t->gm, table + idx(va, l) * 8 + t->off) & ADDR_MASK;
	return table + idx(va, level) * 8 + t->off;
}
