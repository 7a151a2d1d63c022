// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference access-rights predicates (see perm_oracle.h).  Each rule below is
 * a sentence of the manuals turned into an if; nothing here knows about ACC_*
 * encodings, permissions[] or pkru_mask.
 */
#include <stdio.h>

#include "perm_oracle.h"

/* Intel SDM Vol. 3A §4.6.2: PKRU bits 2i (AD) and 2i+1 (WD) for key i. */
static bool pkru_ad(const struct tdp_perm_query *q)
{
	return (q->pkru >> (2 * q->pkey)) & 1;
}

static bool pkru_wd(const struct tdp_perm_query *q)
{
	return (q->pkru >> (2 * q->pkey + 1)) & 1;
}

/*
 * SDM §4.6: an access is a supervisor-mode access if CPL < 3 or it is an
 * implicit access (descriptor tables, TSS, ...); user-mode otherwise.  The
 * page is a user-mode address iff U/S=1 at every level (q->u, accumulated).
 */
static void paging_oracle(const struct tdp_perm_query *q, struct perm_verdict *v)
{
	bool supervisor = !q->user || q->implicit;
	/* SMAP applies unless EFLAGS.AC=1 and the access is explicit */
	bool smap_blocks = q->cr4_smap && (q->implicit || !q->ac);

	v->fault = false;
	v->pk = false;

	switch (q->op) {
	case TDP_PERM_READ:
		if (!supervisor) {
			/* user-mode data reads: only user-mode addresses */
			if (!q->u)
				v->fault = true;
		} else if (q->u && smap_blocks) {
			/* supervisor reads of user-mode addresses under SMAP */
			v->fault = true;
		}
		break;
	case TDP_PERM_WRITE:
		if (!supervisor) {
			/* user-mode writes: user-mode address with R/W=1 */
			if (!q->u || !q->w)
				v->fault = true;
		} else {
			if (q->u && smap_blocks)
				v->fault = true;
			/* CR0.WP=0: supervisor writes ignore R/W; =1: need R/W=1 */
			if (q->cr0_wp && !q->w)
				v->fault = true;
		}
		break;
	case TDP_PERM_FETCH:
		/* XD=1 forbids fetches when IA32_EFER.NXE=1 (both modes) */
		if (q->efer_nx && q->nx)
			v->fault = true;
		if (!supervisor) {
			/* user-mode fetches: only user-mode addresses */
			if (!q->u)
				v->fault = true;
		} else if (q->u && q->cr4_smep) {
			/* SMEP: no supervisor fetch from a user-mode address */
			v->fault = true;
		}
		break;
	}

	/*
	 * §4.6.2 protection keys (IA-32e paging, CR4.PKE=1), for data accesses
	 * to user-mode addresses only:
	 *  - AD=1: no data access at all, in either mode;
	 *  - WD=1: no user-mode write; no supervisor write if CR0.WP=1.
	 */
	if (q->cr4_pke && q->u && q->op != TDP_PERM_FETCH) {
		if (pkru_ad(q))
			v->pk = true;
		if (q->op == TDP_PERM_WRITE && pkru_wd(q) &&
		    (!supervisor || q->cr0_wp))
			v->pk = true;
	}
	if (v->pk)
		v->fault = true;
}

/*
 * SDM Vol. 3C §29.3.3.2: an EPT violation occurs for a data read of a
 * translation with R=0, a data write with W=0, and an instruction fetch with
 * X=0 -- or, with mode-based execute control, XS=0 (bit 2) when the guest
 * linear address is supervisor-mode and XU=0 (bit 10) when it is user-mode
 * (U/S of the guest paging structures, not CPL).  PKRU, CR0/CR4 and EFLAGS
 * play no part in EPT.
 */
static void ept_oracle(const struct tdp_perm_query *q, struct perm_verdict *v)
{
	v->pk = false;
	switch (q->op) {
	case TDP_PERM_READ:
		v->fault = !q->r;
		break;
	case TDP_PERM_WRITE:
		v->fault = !q->w;
		break;
	case TDP_PERM_FETCH:
		if (q->mbec_gmet)
			v->fault = q->user ? !q->xu : !q->xs;
		else
			v->fault = !q->xs;
		break;
	}
}

/*
 * AMD APM Vol. 2 §15.25.5: all nested page table accesses made by the
 * guest are user accesses, so U/S=0 anywhere in the nested walk faults, W
 * is needed for writes, and NX (with the nested EFER.NXE) forbids fetches.
 * GMET (§15.25 "Guest Mode Execute Trap"): the U/S bit no longer restricts
 * data accesses, W still applies to every write, and a supervisor-mode
 * (CPL < 3) instruction fetch from a U/S=1 nested page faults.  Guest CR0.WP,
 * SMEP, SMAP and PKRU do not apply to nested (guest-physical) translations.
 */
static void npt_oracle(const struct tdp_perm_query *q, struct perm_verdict *v)
{
	bool supervisor = !q->user || q->implicit;

	v->pk = false;
	v->fault = false;
	if (!q->mbec_gmet) {
		if (!q->u)
			v->fault = true;
	} else if (q->op == TDP_PERM_FETCH && supervisor && q->u) {
		v->fault = true;
	}
	if (q->op == TDP_PERM_WRITE && !q->w)
		v->fault = true;
	if (q->op == TDP_PERM_FETCH && q->efer_nx && q->nx)
		v->fault = true;
}

void perm_oracle(const struct tdp_perm_query *q, struct perm_verdict *v)
{
	switch (q->mode) {
	case TDP_PERM_PAGING:
		paging_oracle(q, v);
		break;
	case TDP_PERM_EPT:
		ept_oracle(q, v);
		break;
	case TDP_PERM_NPT:
		npt_oracle(q, v);
		break;
	}
}

bool perm_case_legal(const struct tdp_perm_query *q)
{
	switch (q->mode) {
	case TDP_PERM_PAGING:
	case TDP_PERM_NPT:
		/* XD=1 with EFER.NXE=0 is a reserved-bit fault (SDM §4.5) */
		if (q->nx && !q->efer_nx)
			return false;
		/* implicit accesses are supervisor-mode: CPL 3 is meaningless */
		if (q->implicit && q->user)
			return false;
		/* implicit accesses are data accesses, never fetches */
		if (q->implicit && q->op == TDP_PERM_FETCH)
			return false;
		return true;
	case TDP_PERM_EPT:
		/* XWR = 010 or 110 is an EPT misconfiguration (§29.3.3.1) */
		if (q->w && !q->r)
			return false;
		/*
		 * Not present (bits 2:0 clear, and bit 10 too under MBEC):
		 * the walk stops before any access-rights check.
		 */
		if (!q->r && !q->w && !q->xs && !(q->mbec_gmet && q->xu))
			return false;
		/* X-only (and XU-only) entries are legal: execute-only EPT */
		return true;
	}
	return false;
}

/*
 * Enumeration.  Index layout (low bits toggle fastest):
 *   PAGING  op(3) x w u nx wp smep smap pke nxe ad wd user ac implicit
 *   EPT     op(3) x r w xs xu mbec user
 *   NPT     op(3) x w u nx gmet user nxe smep smap pke wp ac ad
 * The key cycles with the index so every key is used; the other keys' PKRU
 * bits are the complement of the page key's.
 */
static bool bit(unsigned int v, unsigned int n)
{
	return (v >> n) & 1;
}

static uint32_t make_pkru(unsigned int pkey, bool ad, bool wd)
{
	uint32_t own = (ad ? 1u : 0) | (wd ? 2u : 0);
	uint32_t pkru = 0;
	unsigned int k;

	for (k = 0; k < 16; k++)
		pkru |= (k == pkey ? own : 3u & ~own) << (2 * k);
	return pkru;
}

bool perm_case(enum tdp_perm_mode mode, unsigned int i, struct tdp_perm_query *q)
{
	unsigned int b = i / 3;

	*q = (struct tdp_perm_query){ .mode = mode, .op = (enum tdp_perm_op)(i % 3) };
	q->pkey = (uint8_t)((i * 7 + i / 48) % 16);
	switch (mode) {
	case TDP_PERM_PAGING:
		if (b >= 1u << 13)
			return false;
		q->w = bit(b, 0);
		q->u = bit(b, 1);
		q->nx = bit(b, 2);
		q->cr0_wp = bit(b, 3);
		q->cr4_smep = bit(b, 4);
		q->cr4_smap = bit(b, 5);
		q->cr4_pke = bit(b, 6);
		q->efer_nx = bit(b, 7);
		q->pkru = make_pkru(q->pkey, bit(b, 8), bit(b, 9));
		q->user = bit(b, 10);
		q->ac = bit(b, 11);
		q->implicit = bit(b, 12);
		q->r = true;
		return true;
	case TDP_PERM_EPT:
		if (b >= 1u << 6)
			return false;
		q->r = bit(b, 0);
		q->w = bit(b, 1);
		q->xs = bit(b, 2);
		q->xu = bit(b, 3);
		q->mbec_gmet = bit(b, 4);
		q->user = bit(b, 5);
		/* noise that EPT must ignore */
		q->pkru = ~0u;
		q->cr4_pke = q->cr4_smap = q->cr4_smep = true;
		return true;
	case TDP_PERM_NPT:
		if (b >= 1u << 12)
			return false;
		q->w = bit(b, 0);
		q->u = bit(b, 1);
		q->nx = bit(b, 2);
		q->mbec_gmet = bit(b, 3);
		q->user = bit(b, 4);
		q->efer_nx = bit(b, 5);
		q->cr4_smep = bit(b, 6);
		q->cr4_smap = bit(b, 7);
		q->cr4_pke = bit(b, 8);
		q->cr0_wp = bit(b, 9);
		q->ac = bit(b, 10);
		q->pkru = make_pkru(q->pkey, bit(b, 11), bit(b, 11));
		q->r = true;
		return true;
	}
	return false;
}

const char *perm_case_str(const struct tdp_perm_query *q, char *buf, size_t size)
{
	static const char *const modes[] = { "paging", "ept", "npt" };
	static const char *const ops[] = { "read", "write", "fetch" };

	snprintf(buf, size,
		 "%s %s r=%d w=%d u=%d nx=%d xs=%d xu=%d wp=%d smep=%d smap=%d "
		 "pke=%d nxe=%d mbec/gmet=%d user=%d ac=%d implicit=%d pkey=%u "
		 "pkru=%#x",
		 modes[q->mode], ops[q->op], q->r, q->w, q->u, q->nx, q->xs, q->xu,
		 q->cr0_wp, q->cr4_smep, q->cr4_smap, q->cr4_pke, q->efer_nx,
		 q->mbec_gmet, q->user, q->ac, q->implicit, q->pkey,
		 (unsigned int)q->pkru);
	return buf;
}
