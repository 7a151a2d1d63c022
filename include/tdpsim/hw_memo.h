/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A memo of the CPU model's translations, for replay speed only: what
 * hw_translate() returned for (vCPU, linear page, CPL, AC, implicit), and
 * for which access types, kept while nothing the walk read can have
 * changed.  It is not a TLB (include/tdpsim/hw_tlb.h models one): a
 * memoised translation is exactly what the walk would return now, so
 * counts and outcomes are those of walking every time.
 *
 * Validity is one generation number, bumped after anything that may change
 * what a walk reads or the registers it runs with: every store of the CPU
 * model itself (A/D flags, through hw_mem.gen), every pass through KVM
 * (exits, requests serviced at VM entry, trapped or emulated stores), every
 * trace event other than an access or a plain store, and a plain store to
 * a guest frame that a memoised walk read (guest page tables under TDP; a
 * shadow walk reads only KVM's tables).  An entry counts only if it carries
 * the current generation, so a bump drops all entries at once.  Only a walk
 * that translated and stored nothing is memoised.  For one generation the
 * translation of a page is the same for every access type (a walk that
 * would set D bumps it), so an entry keeps one translation and a mask of
 * the access types it is known to allow.
 *
 * Direct mapped; a miss costs the walk the replay made anyway.
 *
 * The memo of stage-2 walks (struct hw_s2_memo, include/tdpsim/hw.h) lives
 * here too, with a generation of its own: it survives the stage-1-only
 * bumps (a guest store to a walked frame, the CPU's A/D updates), so a
 * nested 2D walk, which this memo does not keep, still finds its EPT02 /
 * NPT02 translations while L2 stores to its own page tables.
 */
#ifndef TDPSIM_HW_MEMO_H
#define TDPSIM_HW_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include <tdpsim/hw.h>

#define HW_MEMO_ENTRIES	4096		/* 128 KiB of entries */
#define HW_MEMO_GFN_BITS 20		/* filter of walked guest frames: 128 KiB */

struct hw_memo_entry {
	uint64_t key;		/* linear page | CPL | AC << 2 | implicit << 3 */
	uint64_t gen;		/* generation << 16 | vCPU (vcpus <= 65536) */
	/*
	 * host page | w u nx dirty global (bits 0-4) | level (5-7) | the
	 * access types (1 << op) the translation allowed (8-10)
	 */
	uint64_t hpa;
	uint64_t gpa;		/* stage-1 output page */
};

struct hw_memo {
	uint64_t gen;		/* current generation; entries with another are stale */
	/*
	 * Guest frames a memoised walk read, by gfn modulo 2^20: a superset
	 * (bits are never cleared), so a plain store to a frame not in it
	 * cannot change any memoised walk.
	 */
	uint64_t walked[(1u << HW_MEMO_GFN_BITS) / 64];
	struct hw_memo_entry e[HW_MEMO_ENTRIES];
	/* the guest frames the current walk read (hw_mem.rd), at most 8 */
	uint64_t rd[8];
	unsigned nrd;
	struct hw_s2_memo s2;	/* stage-2 walks: hw_context() hands it to the CPU */
};

static inline uint64_t hw_memo_key(const struct hw_access *acc)
{
	return (acc->addr & ~0xfffull) | (acc->cpl & 3) | (uint64_t)acc->ac << 2 |
	       (uint64_t)acc->implicit << 3;
}

static inline struct hw_memo_entry *hw_memo_slot(struct hw_memo *m,
						 uint64_t addr, unsigned vcpu)
{
	return &m->e[((addr >> 12) ^ ((uint64_t)vcpu * 0x9e3779b1u)) % HW_MEMO_ENTRIES];
}

/* Everything memoised may be stale from now on (KVM ran, an event came). */
static inline void hw_memo_bump(struct hw_memo *m)
{
	m->gen++;
	m->s2.gen++;
}

/*
 * A guest store landed in a frame a memoised walk read: the stage-1 walks
 * may be stale, the stage-2 ones cannot be (KVM's tables are not in guest
 * memory).
 */
static inline void hw_memo_bump_stage1(struct hw_memo *m)
{
	m->gen++;
}

/* Did a memoised walk read guest frame @gfn (or one that aliases it)? */
static inline bool hw_memo_gfn_walked(const struct hw_memo *m, uint64_t gfn)
{
	gfn %= 1u << HW_MEMO_GFN_BITS;
	return (m->walked[gfn / 64] >> (gfn % 64)) & 1;
}

/* The memoised translation of @acc by @vcpu into @res, or false. */
static inline bool hw_memo_find(struct hw_memo *m, const struct hw_access *acc,
				unsigned vcpu, struct hw_result *res)
{
	const struct hw_memo_entry *s = hw_memo_slot(m, acc->addr, vcpu);
	const uint64_t off = acc->addr & 0xfff;
	uint64_t h;

	/* the generation first: after an exit every entry is stale */
	if (s->gen != (m->gen << 16 | (vcpu & 0xffff)) || s->key != hw_memo_key(acc))
		return false;
	h = s->hpa;
	if (!((h >> (8 + (acc->op & 3))) & 1))
		return false;
	res->kind = HW_OK;
	res->hpa = (h & ~0xfffull) | off;
	res->gpa = s->gpa | off;
	res->error_code = res->qual = 0;
	res->w = h & 1;
	res->u = (h >> 1) & 1;
	res->nx = (h >> 2) & 1;
	res->dirty = (h >> 3) & 1;
	res->global = (h >> 4) & 1;
	res->level = (int)((h >> 5) & 7);
	return true;
}

/*
 * Memoise @res, what hw_translate() returned for @acc with nothing stored,
 * having read the guest frames in m->rd.
 */
static inline void hw_memo_add(struct hw_memo *m, const struct hw_access *acc,
			       unsigned vcpu, const struct hw_result *res)
{
	struct hw_memo_entry *s = hw_memo_slot(m, acc->addr, vcpu);
	const uint64_t key = hw_memo_key(acc), gen = m->gen << 16 | (vcpu & 0xffff);
	const uint64_t op = 1ull << (8 + (acc->op & 3));

	for (unsigned i = 0; i < m->nrd; i++) {
		uint64_t gfn = m->rd[i] % (1u << HW_MEMO_GFN_BITS);

		m->walked[gfn / 64] |= 1ull << (gfn % 64);
	}
	if (s->key == key && s->gen == gen) {
		s->hpa |= op;
		return;
	}
	s->key = key;
	s->gen = gen;
	s->hpa = (res->hpa & ~0xfffull) | (uint64_t)res->w | (uint64_t)res->u << 1 |
		 (uint64_t)res->nx << 2 | (uint64_t)res->dirty << 3 |
		 (uint64_t)res->global << 4 | (uint64_t)(res->level & 7) << 5 | op;
	s->gpa = res->gpa & ~0xfffull;
}

#endif /* TDPSIM_HW_MEMO_H */
