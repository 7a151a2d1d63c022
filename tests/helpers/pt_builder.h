/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test helper: build guest page tables in guest memory (gmem), by hand.
 * Layout independent: it knows the architectural formats (SDM Vol. 3A
 * ch. 4 and 29), not the MMU port.  Tables are taken from a bump allocator
 * of zeroed pages, so a test controls every gPTE it did not ask for (0).
 */
#ifndef TDPSIM_TEST_PT_BUILDER_H
#define TDPSIM_TEST_PT_BUILDER_H

#include <stdint.h>

#include <tdpsim/gmem.h>

/* x86 paging entry bits */
#define PTB_P		(1ull << 0)
#define PTB_W		(1ull << 1)
#define PTB_U		(1ull << 2)
#define PTB_A		(1ull << 5)
#define PTB_D		(1ull << 6)
#define PTB_PS		(1ull << 7)
#define PTB_NX		(1ull << 63)
#define PTB_PKEY(k)	((uint64_t)(k) << 59)
/* EPT entry bits */
#define PTB_EPT_R	(1ull << 0)
#define PTB_EPT_W	(1ull << 1)
#define PTB_EPT_X	(1ull << 2)
#define PTB_EPT_RWX	(7ull)
#define PTB_EPT_MT_WB	(6ull << 3)
#define PTB_EPT_PS	(1ull << 7)
#define PTB_EPT_A	(1ull << 8)
#define PTB_EPT_D	(1ull << 9)
#define PTB_EPT_XU	(1ull << 10)

enum ptb_fmt {
	PTB_FMT_64,	/* 8-byte entries, 9 bits per level (4/5-level, PAE, EPT) */
	PTB_FMT_32,	/* 4-byte entries, 10 bits per level */
};

struct pt_builder {
	struct tdp_gmem *gm;
	uint64_t next;		/* next free table page (GPA) */
	uint64_t limit;		/* end of the table area */
};

/* Tables are carved from [@base, @limit), page aligned. */
void ptb_init(struct pt_builder *b, struct tdp_gmem *gm, uint64_t base,
	      uint64_t limit);
/* A fresh zeroed table page; aborts the test when the area is used up. */
uint64_t ptb_table(struct pt_builder *b);

/* Entry @index of the table at @table: read / write, 8 or 4 bytes. */
uint64_t ptb_get(struct pt_builder *b, enum ptb_fmt fmt, uint64_t table,
		 unsigned index);
void ptb_set(struct pt_builder *b, enum ptb_fmt fmt, uint64_t table,
	     unsigned index, uint64_t val);

/* Index of @va in a table of level @level (1 = the last level). */
unsigned ptb_index(enum ptb_fmt fmt, uint64_t va, int level);

/*
 * ptb_map() - map @va from the root table @root (of level @levels) down to
 * @leaf_level, creating missing tables with entry value
 * (table | @table_flags).  The leaf entry is (@pa | @leaf_flags); set
 * PTB_PS in @leaf_flags yourself for a huge page.  Returns the GPA of the
 * leaf entry.  An existing non-zero entry on the path is followed as is.
 */
uint64_t ptb_map(struct pt_builder *b, enum ptb_fmt fmt, uint64_t root,
		 int levels, uint64_t va, int leaf_level, uint64_t pa,
		 uint64_t table_flags, uint64_t leaf_flags);

/* GPA of the entry for @va at @level, following the path from @root. */
uint64_t ptb_entry_gpa(struct pt_builder *b, enum ptb_fmt fmt, uint64_t root,
		       int levels, uint64_t va, int level);

/* 8- and 4-byte reads of guest memory (assert on failure). */
uint64_t ptb_read64(struct pt_builder *b, uint64_t gpa);
uint32_t ptb_read32(struct pt_builder *b, uint64_t gpa);
void ptb_write64(struct pt_builder *b, uint64_t gpa, uint64_t val);

#endif
