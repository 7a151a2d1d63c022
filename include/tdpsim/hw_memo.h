/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memos of the CPU model's translations, for replay speed only: what
 * hw_translate() returned for (vCPU, linear page, CPL, AC, implicit), and
 * for which access types, kept while nothing the walk read can have
 * changed.  They are not a TLB (include/tdpsim/hw_tlb.h models one): a
 * memoised translation is exactly what the walk would return now, so
 * counts and outcomes are those of walking every time (replay --no-memo;
 * tests/test_replay_memo.c).  Three of them:
 *
 *  - shadow paging (struct hw_memo_entry): the walk reads only KVM's
 *    tables; below.
 *  - TDP and nested TDP (struct hw_memo_tdp_entry): the walk reads the
 *    guest's tables, which the guest keeps storing to; an entry re-reads
 *    the stage-1 entries instead, and is keyed on the paging registers.
 *  - stage-2 walks (struct hw_s2_memo, include/tdpsim/hw.h), used by the
 *    CPU model inside every TDP walk that misses.
 *
 * Shadow paging: validity is one generation number, bumped after anything
 * that may change what a walk reads or the registers it runs with: every
 * store of the CPU model itself (A/D flags, through hw_mem.gen), every
 * pass through KVM (exits, requests serviced at VM entry, trapped or
 * emulated stores), and every trace event other than an access or a plain
 * store (the walk reads only KVM's tables, so a store the guest makes
 * without KVM seeing it cannot change it).  An entry counts only if it
 * carries the current generation, so a bump drops all entries at once.  Only a walk
 * that translated and stored nothing is memoised.  For one generation the
 * translation of a page is the same for every access type (a walk that
 * would set D bumps it), so an entry keeps one translation and a mask of
 * the access types it is known to allow.
 *
 * Direct mapped; a miss costs the walk the replay made anyway.
 *
 * The TDP memo and the stage-2 memo share a generation of their own
 * (hw_s2_memo.gen): a pass through KVM or an event other than an access,
 * a store, an INVLPG or a MOV to CR that KVM does not see bumps it; a
 * guest store to a walked frame and the CPU's A/D updates do not.
 */
#ifndef TDPSIM_HW_MEMO_H
#define TDPSIM_HW_MEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <tdpsim/hw.h>

#define HW_MEMO_ENTRIES	4096		/* 128 KiB of entries */

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

/*
 * Under TDP (nested included) stage 1 is the guest's own tables, which the
 * guest keeps storing to; instead of dropping everything on such a store,
 * an entry keeps where the walk read each stage-1 entry and what it read
 * (guest frames do not move), and is current while those entries still
 * hold the same values, the registers match and the stage-2 memo's
 * generation is unchanged (stage-2 tables as they were).
 */
#define HW_MEMO_TDP_ENTRIES	1024	/* 168 KiB */
#define HW_MEMO_CTX_WORDS	5	/* CR0, CR3, CR4, EFER, PKRU */

struct hw_memo_tdp_entry {
	struct hw_memo_entry t;	/* gen: hw_s2_memo.gen << 16 | vCPU */
	/*
	 * The paging registers the walk ran with (src/kvm/run.c): a guest
	 * MOV to CR3/CR0/CR4 that KVM does not see keeps every entry, and a
	 * return to an earlier CR3 finds its translations again.
	 */
	uint64_t ctx[HW_MEMO_CTX_WORDS];
	struct hw_s1_log log;	/* the stage-1 entries read, all in guest memory */
};

struct hw_memo {
	uint64_t gen;		/* current generation; entries with another are stale */
	struct hw_memo_entry e[HW_MEMO_ENTRIES];
	unsigned nguest;	/* guest frames read (hw_mem.nguest) */
	struct hw_s2_memo s2;	/* stage-2 walks: hw_context() hands it to the CPU */
	/* TDP walks, checked against the stage-1 entries they read (above) */
	struct hw_memo_tdp_entry tdp[HW_MEMO_TDP_ENTRIES];
	struct hw_s1_log log;	/* the current walk's (hw_mem.s1log) */
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

/* The entry word of @res for the access types @op: see hw_memo_entry.hpa. */
static inline uint64_t hw_memo_pack(const struct hw_result *res, uint64_t op)
{
	return (res->hpa & ~0xfffull) | (uint64_t)res->w | (uint64_t)res->u << 1 |
	       (uint64_t)res->nx << 2 | (uint64_t)res->dirty << 3 |
	       (uint64_t)res->global << 4 | (uint64_t)(res->level & 7) << 5 | op;
}

static inline uint64_t hw_memo_op(const struct hw_access *acc)
{
	return 1ull << (8 + (acc->op & 3));
}

/* @s's translation of the page, at offset @off, into @res. */
static inline void hw_memo_unpack(const struct hw_memo_entry *s, uint64_t off,
				  struct hw_result *res)
{
	const uint64_t h = s->hpa;

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
}

/* The memoised translation of @acc by @vcpu into @res, or false. */
static inline bool hw_memo_find(struct hw_memo *m, const struct hw_access *acc,
				unsigned vcpu, struct hw_result *res)
{
	const struct hw_memo_entry *s = hw_memo_slot(m, acc->addr, vcpu);

	/* the generation first: after an exit every entry is stale */
	if (s->gen != (m->gen << 16 | (vcpu & 0xffff)) || s->key != hw_memo_key(acc) ||
	    !(s->hpa & hw_memo_op(acc)))
		return false;
	hw_memo_unpack(s, acc->addr & 0xfff, res);
	return true;
}

/* Memoise @res, what hw_translate() returned for @acc with nothing stored. */
static inline void hw_memo_add(struct hw_memo *m, const struct hw_access *acc,
			       unsigned vcpu, const struct hw_result *res)
{
	struct hw_memo_entry *s = hw_memo_slot(m, acc->addr, vcpu);
	const uint64_t key = hw_memo_key(acc), gen = m->gen << 16 | (vcpu & 0xffff);

	if (s->key == key && s->gen == gen) {
		s->hpa |= hw_memo_op(acc);
		return;
	}
	s->key = key;
	s->gen = gen;
	s->hpa = hw_memo_pack(res, hw_memo_op(acc));
	s->gpa = res->gpa & ~0xfffull;
}

/*
 * The memo of TDP walks (guest tables under EPT/NPT, L2's under EPT02/NPT02).
 */
static inline struct hw_memo_tdp_entry *hw_memo_tdp_slot(struct hw_memo *m,
							 uint64_t addr, unsigned vcpu)
{
	return &m->tdp[((addr >> 12) ^ ((uint64_t)vcpu * 0x9e3779b1u)) %
		       HW_MEMO_TDP_ENTRIES];
}

/* Do the stage-1 entries of @l still hold what the walk read? */
static inline bool hw_s1_log_current(const struct hw_s1_log *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		uint64_t v = 0;

		if (l->size == 8)
			memcpy(&v, l->ptr[i], 8);
		else
			memcpy(&v, l->ptr[i], 4);
		if (v != l->val[i])
			return false;
	}
	return true;
}

/*
 * @ctx: the registers the walk runs with beyond the stage-2 context, which
 * changes only through KVM: CR0, CR3, CR4, EFER, PKRU.  The PAE PDPTE
 * registers are not in it: a load of them bumps the generation.
 */
static inline bool hw_memo_tdp_find(struct hw_memo *m, const struct hw_access *acc,
				    unsigned vcpu, const uint64_t *ctx,
				    struct hw_result *res)
{
	const struct hw_memo_tdp_entry *s = hw_memo_tdp_slot(m, acc->addr, vcpu);

	if (s->t.gen != (m->s2.gen << 16 | (vcpu & 0xffff)) ||
	    s->t.key != hw_memo_key(acc) || !(s->t.hpa & hw_memo_op(acc)) ||
	    memcmp(s->ctx, ctx, sizeof(s->ctx)) || !hw_s1_log_current(&s->log))
		return false;
	hw_memo_unpack(&s->t, acc->addr & 0xfff, res);
	return true;
}

/*
 * Memoise @res, what hw_translate() returned for @acc with nothing stored,
 * having read the stage-1 entries in m->log.
 */
static inline void hw_memo_tdp_add(struct hw_memo *m, const struct hw_access *acc,
				   unsigned vcpu, const uint64_t *ctx,
				   const struct hw_result *res)
{
	struct hw_memo_tdp_entry *s = hw_memo_tdp_slot(m, acc->addr, vcpu);
	const uint64_t key = hw_memo_key(acc), gen = m->s2.gen << 16 | (vcpu & 0xffff);
	const struct hw_s1_log *l = &m->log;

	if (l->n > HW_S1_LOG_MAX)
		return;
	for (unsigned i = 0; i < l->n; i++)
		if (!l->ptr[i])
			return;
	/* the same walk for another access type: one more type allowed */
	if (s->t.key == key && s->t.gen == gen && !memcmp(s->ctx, ctx, sizeof(s->ctx)) &&
	    s->log.n == l->n &&
	    !memcmp(s->log.ptr, l->ptr, l->n * sizeof(l->ptr[0])) &&
	    !memcmp(s->log.val, l->val, l->n * sizeof(l->val[0]))) {
		s->t.hpa |= hw_memo_op(acc);
		return;
	}
	s->t = (struct hw_memo_entry){
		.key = key, .gen = gen, .hpa = hw_memo_pack(res, hw_memo_op(acc)),
		.gpa = res->gpa & ~0xfffull,
	};
	memcpy(s->ctx, ctx, sizeof(s->ctx));
	s->log = *l;
}

#endif /* TDPSIM_HW_MEMO_H */
