// SPDX-License-Identifier: GPL-2.0-only
/* Guest page-table builder for tests (see pt_builder.h). */
#include <stdio.h>
#include <stdlib.h>

#include "helpers/pt_builder.h"

static void ptb_die(const char *what, uint64_t gpa)
{
	fprintf(stderr, "pt_builder: %s at gpa 0x%llx\n", what,
		(unsigned long long)gpa);
	abort();
}

void ptb_init(struct pt_builder *b, struct tdp_gmem *gm, uint64_t base,
	      uint64_t limit)
{
	b->gm = gm;
	b->next = base;
	b->limit = limit;
}

uint64_t ptb_table(struct pt_builder *b)
{
	uint64_t gpa = b->next;

	if (gpa + 4096 > b->limit)
		ptb_die("table area exhausted", gpa);
	b->next += 4096;
	return gpa;
}

uint64_t ptb_read64(struct pt_builder *b, uint64_t gpa)
{
	uint64_t v;

	if (tdp_gmem_read(b->gm, gpa, 8, &v))
		ptb_die("bad read", gpa);
	return v;
}

uint32_t ptb_read32(struct pt_builder *b, uint64_t gpa)
{
	uint64_t v;

	if (tdp_gmem_read(b->gm, gpa, 4, &v))
		ptb_die("bad read", gpa);
	return (uint32_t)v;
}

void ptb_write64(struct pt_builder *b, uint64_t gpa, uint64_t val)
{
	if (tdp_gmem_write(b->gm, gpa, 8, val))
		ptb_die("bad write", gpa);
}

static unsigned esize(enum ptb_fmt fmt)
{
	return fmt == PTB_FMT_32 ? 4 : 8;
}

uint64_t ptb_get(struct pt_builder *b, enum ptb_fmt fmt, uint64_t table,
		 unsigned index)
{
	uint64_t v;

	if (tdp_gmem_read(b->gm, table + index * esize(fmt), esize(fmt), &v))
		ptb_die("bad entry read", table);
	return v;
}

void ptb_set(struct pt_builder *b, enum ptb_fmt fmt, uint64_t table,
	     unsigned index, uint64_t val)
{
	if (tdp_gmem_write(b->gm, table + index * esize(fmt), esize(fmt), val))
		ptb_die("bad entry write", table);
}

unsigned ptb_index(enum ptb_fmt fmt, uint64_t va, int level)
{
	unsigned bits = fmt == PTB_FMT_32 ? 10 : 9;

	return (va >> (12 + (level - 1) * bits)) & ((1u << bits) - 1);
}

/* Address field of a non-leaf entry (bits 51:12; 31:12 for 32-bit). */
static uint64_t next_table(enum ptb_fmt fmt, uint64_t e)
{
	return fmt == PTB_FMT_32 ? (e & 0xfffff000ull)
				 : (e & 0x000ffffffffff000ull);
}

uint64_t ptb_entry_gpa(struct pt_builder *b, enum ptb_fmt fmt, uint64_t root,
		       int levels, uint64_t va, int level)
{
	uint64_t table = root;

	for (int l = levels; l > level; l--)
		table = next_table(fmt, ptb_get(b, fmt, table, ptb_index(fmt, va, l)));
	return table + ptb_index(fmt, va, level) * esize(fmt);
}

uint64_t ptb_map(struct pt_builder *b, enum ptb_fmt fmt, uint64_t root,
		 int levels, uint64_t va, int leaf_level, uint64_t pa,
		 uint64_t table_flags, uint64_t leaf_flags)
{
	uint64_t table = root;

	for (int l = levels; l > leaf_level; l--) {
		unsigned i = ptb_index(fmt, va, l);
		uint64_t e = ptb_get(b, fmt, table, i);

		if (!e) {
			e = ptb_table(b) | table_flags;
			ptb_set(b, fmt, table, i, e);
		}
		table = next_table(fmt, e);
	}
	ptb_set(b, fmt, table, ptb_index(fmt, va, leaf_level), pa | leaf_flags);
	return table + ptb_index(fmt, va, leaf_level) * esize(fmt);
}
