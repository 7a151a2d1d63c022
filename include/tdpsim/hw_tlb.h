/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CPU model's TLB (replay --tlb; shadow paging): per vCPU, direct
 * mapped by linear page number, holding what a walk of the shadow tables
 * found.  Flushed by every TLB flush KVM requests (KVM_REQ_TLB_FLUSH*,
 * after zapping or write-protecting SPTEs), by guest flushes (MOV CR3:
 * the non-global entries; CR4.PGE toggle: all; the flush event's two
 * kinds) and per address by INVLPG.  A hit whose rights
 * do not allow the access, or a write through a clean entry, walks again,
 * as the CPU may (SDM 4.10.2.3/4.10.4.1: a TLB entry is used only if it
 * allows the access; a write through an entry with D=0 re-walks to set D).
 * With it, a port that forgets a flush shows stale translations.
 */
#ifndef TDPSIM_HW_TLB_H
#define TDPSIM_HW_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <tdpsim/trace.h>	/* enum tdp_access_op */

#define HW_TLB_ENTRIES 64

struct hw_tlb_entry {
	uint64_t tag;		/* linear page number + 1; 0 = invalid */
	uint64_t pa;		/* physical page of the translation */
	bool w, u, nx, dirty;	/* rights accumulated over the walk, leaf D */
	bool global;		/* CR4.PGE and G in the leaf (SDM 4.10.2.4) */
};

/*
 * hw_rights_deny() - the access rights of SDM 4.6 on the accumulated W/U/NX
 * of a translation (NPT with GMET: APM 15.25.x, U=0 does not restrict data,
 * U=1 blocks supervisor fetches).  @user is the access's U/S (CPL 3 and not
 * implicit), @ac EFLAGS.AC.
 */
static inline bool hw_rights_deny(enum tdp_access_op op, bool user, bool ac,
				  bool implicit, bool W, bool U, bool NX,
				  bool wp, bool smep, bool smap, bool npt_gmet)
{
	if (npt_gmet)
		return (op == TDP_OP_WRITE && !W) ||
		       (op == TDP_OP_FETCH && (NX || (U && !user)));
	if (op == TDP_OP_FETCH)
		return NX || (user ? !U : (U && smep));
	if (user)
		return !U || (op == TDP_OP_WRITE && !W);
	return (U && smap && (implicit || !ac)) || (op == TDP_OP_WRITE && wp && !W);
}

static inline struct hw_tlb_entry *hw_tlb_slot(struct hw_tlb_entry *tlb,
					       uint64_t addr)
{
	return &tlb[(addr >> 12) % HW_TLB_ENTRIES];
}

static inline void hw_tlb_flush(struct hw_tlb_entry *tlb)
{
	if (tlb)
		memset(tlb, 0, HW_TLB_ENTRIES * sizeof(*tlb));
}

/*
 * MOV to CR3 without PCIDE (SDM 4.10.4.1): every entry except the global
 * ones.  A CR4.PGE toggle flushes everything (hw_tlb_flush()).
 */
static inline void hw_tlb_flush_nonglobal(struct hw_tlb_entry *tlb)
{
	if (!tlb)
		return;
	for (int i = 0; i < HW_TLB_ENTRIES; i++)
		if (!tlb[i].global)
			tlb[i].tag = 0;
}

/* INVLPG: drop the entry for @addr's page */
static inline void hw_tlb_flush_addr(struct hw_tlb_entry *tlb, uint64_t addr)
{
	if (tlb && hw_tlb_slot(tlb, addr)->tag == (addr >> 12) + 1)
		hw_tlb_slot(tlb, addr)->tag = 0;
}

#endif /* TDPSIM_HW_TLB_H */
