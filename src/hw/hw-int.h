/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the CPU model (src/hw): bit layouts as the manuals draw
 * them, host-memory access, and the stage-2 walkers (ept.c, npt.c) that
 * paging.c calls once per guest-physical access.  Nothing here comes from
 * src/mmu; the names follow the manuals, not KVM.
 */
#ifndef TDPSIM_HW_INT_H
#define TDPSIM_HW_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>

#define HW_BIT(n)		(1ull << (n))
/* bits @hi:@lo set */
#define HW_BITS(hi, lo)		((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/*
 * Control registers (SDM Vol. 3A §2.5, EFER §2.2.1).
 */
#define HW_CR0_WP		HW_BIT(16)
#define HW_CR0_PG		HW_BIT(31)
#define HW_CR4_PSE		HW_BIT(4)
#define HW_CR4_PAE		HW_BIT(5)
#define HW_CR4_PGE		HW_BIT(7)
#define HW_CR4_LA57		HW_BIT(12)
#define HW_CR4_SMEP		HW_BIT(20)
#define HW_CR4_SMAP		HW_BIT(21)
#define HW_CR4_PKE		HW_BIT(22)
#define HW_EFER_LMA		HW_BIT(10)
#define HW_EFER_NXE		HW_BIT(11)

/*
 * x86 paging-structure entries (SDM Vol. 3A §4.3-§4.5, Tables 4-4 to 4-20;
 * the NPT uses the same long-mode format, APM Vol. 2 §15.25.5):
 *
 *   63  62:59 58:52 51:M   M-1:12   11:9  8 7  6 5 4   3   2   1   0
 *  +--+-----+-----+-----+---------+----+-+--+-+-+---+---+---+---+---+
 *  |XD| PK  | ign | rsvd| address | ign|G|PS|D|A|PCD|PWT|U/S|R/W| P |
 *  +--+-----+-----+-----+---------+----+-+--+-+-+---+---+---+---+---+
 *
 * PS: leaf at the PDPTE (1 GiB) or PDE (2 MiB; 4 MiB with 32-bit paging);
 * reserved in PML5E/PML4E.  PK only in a 4/5-level leaf with CR4.PKE.
 * In a large leaf, bit 12 is PAT and bits (page shift - 1):13 are reserved.
 */
#define HW_PTE_P		HW_BIT(0)
#define HW_PTE_W		HW_BIT(1)
#define HW_PTE_U		HW_BIT(2)
#define HW_PTE_A		HW_BIT(5)
#define HW_PTE_D		HW_BIT(6)
#define HW_PTE_PS		HW_BIT(7)
#define HW_PTE_G		HW_BIT(8)
#define HW_PTE_XD		HW_BIT(63)
#define HW_PTE_PK_SHIFT		59
#define HW_PTE_ADDR		HW_BITS(51, 12)

static_assert(HW_PTE_ADDR == 0x000ffffffffff000ull, "x86 address field is 51:12");
static_assert(!(HW_PTE_ADDR & (HW_PTE_XD | HW_BITS(62, 52) | HW_BITS(11, 0))),
	      "the address field overlaps no flag");

/*
 * #PF error code (SDM Vol. 3A §4.7, Figure 4-12) and, for bits 0-4, the
 * #NPF EXITINFO1 (APM Vol. 2 §15.25.6) which adds bits 32 and 33:
 *
 *   33          32           5    4    3     2    1    0
 *  +-----------+-----------+----+----+-----+----+----+----+
 *  | guest page| final GPA | PK | I/D| RSVD| U/S| W/R| P  |
 *  +-----------+-----------+----+----+-----+----+----+----+
 */
#define HW_PF_P			HW_BIT(0)
#define HW_PF_W			HW_BIT(1)
#define HW_PF_U			HW_BIT(2)
#define HW_PF_RSVD		HW_BIT(3)
#define HW_PF_ID		HW_BIT(4)
#define HW_PF_PK		HW_BIT(5)
#define HW_NPF_FINAL		HW_BIT(32)
#define HW_NPF_PAGE		HW_BIT(33)

/*
 * EPT paging-structure entries (SDM Vol. 3C §29.3.2, Tables 29-1 to 29-7)
 * and the EPTP (§25.6.11):
 *
 *   entry: 51:12 address | 10 XU (MBEC) | 9 D | 8 A | 7 PS | 6 IPAT |
 *          5:3 memory type (leaf) | 2 X (XS under MBEC) | 1 W | 0 R
 *   EPTP:  51:12 root | 6 A/D enable | 5:3 page-walk length - 1 | 2:0 type
 */
#define HW_EPT_R		HW_BIT(0)
#define HW_EPT_W		HW_BIT(1)
#define HW_EPT_X		HW_BIT(2)
#define HW_EPT_RWX		(HW_EPT_R | HW_EPT_W | HW_EPT_X)
#define HW_EPT_MT_SHIFT		3
#define HW_EPT_PS		HW_BIT(7)
#define HW_EPT_A		HW_BIT(8)
#define HW_EPT_D		HW_BIT(9)
#define HW_EPT_XU		HW_BIT(10)
#define HW_EPTP_AD		HW_BIT(6)
#define HW_EPTP_PWL_SHIFT	3

static_assert(!(HW_EPT_XU & (HW_EPT_RWX | HW_EPT_A | HW_EPT_D | HW_EPT_PS |
			     HW_PTE_ADDR)), "XU is a bit of its own");

/*
 * Stage-2 access descriptor: the bits of an EPT-violation exit
 * qualification (SDM Vol. 3C §28.2.1, Table 28-7) that describe the access,
 * which the EPT walker copies into the qualification as they are; the NPT
 * walker derives EXITINFO1 from the same bits.
 *
 *   16          11   10   9     8       7        2     1     0
 *  +----------+----+----+----+-------+--------+-----+-----+-----+
 *  | CPL < 3  | XD | RW | US | final | linear | exec| write| read|
 *  +----------+----+----+----+-------+--------+-----+-----+-----+
 *
 * read/write/exec: the access type (a guest paging-structure access that
 * is a write reports read and write); linear: the access is part of the
 * translation of a linear address (qualification bit 7); final: it is the
 * access to the translation itself, not to a paging-structure entry (bit
 * 8); US/RW/XD: the stage-1 translation's rights (advanced information,
 * bits 9-11, only with final), US also selecting XU over XS under MBEC;
 * CPL < 3: for GMET (not part of the qualification).
 */
#define HW_S2_READ		HW_BIT(0)
#define HW_S2_WRITE		HW_BIT(1)
#define HW_S2_FETCH		HW_BIT(2)
#define HW_S2_LINEAR		HW_BIT(7)
#define HW_S2_FINAL		HW_BIT(8)
#define HW_S2_US		HW_BIT(9)
#define HW_S2_RW		HW_BIT(10)
#define HW_S2_XD		HW_BIT(11)
#define HW_S2_SUP		HW_BIT(16)
#define HW_S2_QUAL_MASK		HW_BITS(11, 0)

static_assert(HW_S2_QUAL_MASK == 0xfff, "qualification bits 0-11");

/* Bits 51:@maxphyaddr (reserved in every address field); 0 means 52. */
static inline uint64_t hw_above_maxphy(unsigned maxphyaddr)
{
	return maxphyaddr == 0 || maxphyaddr >= 52 ? 0 : HW_BITS(51, maxphyaddr);
}

/*
 * hw_mem_ptr() - the byte at host-physical @hpa, or NULL when there is no
 * memory there or the guest page was never written (it reads as zero).
 * Table pages of KVM come from mem->table(), guest frames from gmem.
 */
static inline uint8_t *hw_mem_ptr(const struct hw_mem *mem, uint64_t hpa)
{
	uint64_t pfn = hpa >> 12;
	uint8_t *page;

	/* the flat map first: a shadow walk reads only KVM's table pages */
	if (mem->nr_flat && pfn < *mem->nr_flat) {
		page = (uint8_t *)(*mem->flat)[pfn];
	} else if (pfn >= mem->guest_pfn_base) {
		uint64_t gfn = pfn - mem->guest_pfn_base;

		if (mem->nguest)
			++*mem->nguest;
		if (!mem->gmem || !tdp_gmem_gfn_in_slot(mem->gmem, gfn))
			return NULL;
		page = tdp_gmem_page_lookup(mem->gmem, gfn);
	} else {
		page = mem->table ?
		       (uint8_t *)mem->table(mem->ctx, hpa & ~0xfffull) : NULL;
	}
	return page ? page + (hpa & 0xfff) : NULL;
}

static inline uint64_t hw_load(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, size);	/* little endian, as x86 */
	return v;
}

/*
 * Set @bits in the entry at @p (A/D updates: a locked OR on the CPU).
 * Memory changes, so every memoised translation is stale (mem->gen).
 */
static inline uint64_t hw_set_bits(const struct hw_mem *mem, uint8_t *p,
				   unsigned size, uint64_t bits)
{
	uint64_t v = hw_load(p, size) | bits;

	memcpy(p, &v, size);
	if (mem->gen)
		++*mem->gen;
	return v;
}

/*
 * Stage-2 walkers: translate @gpa for the access @acc (HW_S2_*).  Return
 * true with *@hpa, or false with the exit in @res (kind, gpa, qual or
 * error_code).  They set the stage-2 A/D flags on success.
 */
bool hw_ept_translate(const struct hw_mem *mem, const struct hw_stage2 *s2,
		      uint64_t gpa, uint64_t acc, uint64_t *hpa,
		      struct hw_result *res);
bool hw_npt_translate(const struct hw_mem *mem, const struct hw_stage2 *s2,
		      uint64_t gpa, uint64_t acc, uint64_t *hpa,
		      struct hw_result *res);

/*
 * The stage-2 memo (struct hw_s2_memo).  An access class is what decides
 * whether a walk that reached a leaf translates and whether it stores:
 * read/write/fetch (bits 0-2), U/S of the linear address (bit 9: XU or XS
 * under MBEC) and CPL < 3 (bit 16: GMET).  Linear/final and the advanced
 * bits only shape a violation's qualification, and a violation is never
 * memoised.
 */
static inline unsigned hw_s2_class(uint64_t acc)
{
	return (unsigned)((acc & (HW_S2_READ | HW_S2_WRITE | HW_S2_FETCH)) |
			  ((acc & HW_S2_US) ? 8 : 0) | ((acc & HW_S2_SUP) ? 16 : 0));
}

/* The tables' identity and what else decides a walk (the kind included). */
static inline uint64_t hw_s2_root(const struct hw_stage2 *s2)
{
	if (s2->kind == HW_S2_EPT)
		return s2->eptp ^ (s2->mbec ? HW_BIT(62) : 0) ^
		       (s2->execonly ? HW_BIT(63) : 0);
	return (s2->ncr3 & HW_PTE_ADDR) | HW_BIT(63) | (uint64_t)(s2->npt_levels & 7) |
	       (s2->gmet ? 8 : 0);
}

/* The part of a memo slot's index that depends on the root only. */
static inline uint64_t hw_s2_root_hash(uint64_t root)
{
	return (root >> 12) * 0x9e3779b1u;
}

static inline struct hw_s2_memo_entry *hw_s2_slot(struct hw_s2_memo *m,
						  uint64_t gpa, uint64_t root_hash)
{
	return &m->e[((gpa >> 12) ^ root_hash) % HW_S2_MEMO_ENTRIES];
}

/*
 * A walk's stage-2 identity, computed once per stage-1 walk rather than at
 * each of its (up to 6) stage-2 lookups: the stage-2 context cannot change
 * during a walk.
 */
struct hw_s2_id {
	uint64_t root;		/* hw_s2_root() */
	uint64_t hash;		/* hw_s2_root_hash(root) */
};

static inline struct hw_s2_id hw_s2_id(const struct hw_stage2 *s2)
{
	const uint64_t root = s2->kind == HW_S2_NONE ? 0 : hw_s2_root(s2);

	return (struct hw_s2_id){ root, hw_s2_root_hash(root) };
}

/* The walk of a memo miss, memoised if it translated store-free (s2memo.c). */
bool hw_s2_memo_walk(const struct hw_mem *mem, const struct hw_stage2 *s2,
		     uint64_t gpa, uint64_t acc, uint64_t *hpa,
		     struct hw_result *res);

/*
 * hw_s2_translate() - the stage-2 translation of @gpa for the access @acc
 * by the walker of @kind (a constant where the caller has one), through
 * the memo when there is one; @id is hw_s2_id(@s2).
 */
static inline __attribute__((always_inline))
bool hw_s2_translate(const struct hw_mem *mem, const struct hw_stage2 *s2,
		     const enum hw_stage2_kind kind, const struct hw_s2_id id,
		     uint64_t gpa, uint64_t acc, uint64_t *hpa, struct hw_result *res)
{
	struct hw_s2_memo *m = s2->memo;

	if (m) {
		const struct hw_s2_memo_entry *s = hw_s2_slot(m, gpa, id.hash);

		if (s->gen == m->gen && s->gpa == (gpa & ~0xfffull) && s->root == id.root &&
		    ((s->ok >> hw_s2_class(acc)) & 1)) {
			*hpa = s->hpa | (gpa & 0xfff);
			return true;
		}
		return hw_s2_memo_walk(mem, s2, gpa, acc, hpa, res);
	}
	if (kind == HW_S2_EPT)
		return hw_ept_translate(mem, s2, gpa, acc, hpa, res);
	return hw_npt_translate(mem, s2, gpa, acc, hpa, res);
}

#endif /* TDPSIM_HW_INT_H */
