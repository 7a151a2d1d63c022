// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference x86 paging walk from the Intel SDM, Vol. 3A §4.3-§4.6.
 * Deliberately plain and slow; it shares no code with src/mmu.
 */
#include <string.h>

#include "ref_walk.h"

#define CR0_WP	(1ull << 16)
#define CR0_PG	(1ull << 31)
#define CR4_PSE	(1ull << 4)
#define CR4_PAE	(1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE	(1ull << 22)
#define EFER_LME (1ull << 8)
#define EFER_NXE (1ull << 11)

#define EC_P	1u
#define EC_W	2u
#define EC_U	4u
#define EC_RSVD	8u
#define EC_ID	16u
#define EC_PK	32u

static uint64_t bits(unsigned hi, unsigned lo)
{
	return (~0ull >> (63 - hi)) & (~0ull << lo);
}

/* Bits [51:maxphyaddr] of an address field are reserved (SDM 4.5, Table 4-15+). */
static uint64_t above_maxphy(unsigned maxphyaddr)
{
	return maxphyaddr >= 52 ? 0 : bits(51, maxphyaddr);
}

void ref_translate(const struct ref_mem *mem, const struct ref_regs *r,
		   const struct ref_access *a, struct ref_result *res)
{
	bool user = a->cpl == 3 && !a->implicit;
	bool nxe = r->efer & EFER_NXE;
	bool lma = (r->efer & EFER_LME) && (r->cr0 & CR0_PG);
	bool pae = r->cr4 & CR4_PAE;
	bool la57 = lma && (r->cr4 & CR4_LA57);
	uint64_t ent_addr[5];	/* GPA of the entry used at each level (index level-1) */
	unsigned ent_size = 8;
	bool has_ad[5] = { false };
	bool U = true, W = true, XD = false;
	uint64_t leaf = 0, table, pa_base;
	int level, leaf_level = 1;
	uint32_t ec;

	memset(res, 0, sizeof(*res));
	/* base error code bits from the access itself */
	ec = (a->op == REF_WRITE ? EC_W : 0) | (user ? EC_U : 0) |
	     (a->op == REF_FETCH && (nxe || (r->cr4 & CR4_SMEP)) ? EC_ID : 0);

	if (!(r->cr0 & CR0_PG)) {
		res->gpa = a->gva;
		res->level = 0;
		return;
	}

	if (!pae) {
		/* 32-bit paging, SDM 4.3 */
		uint32_t la = (uint32_t)a->gva;
		uint64_t pde, pte;

		ent_size = 4;
		ent_addr[1] = (r->cr3 & 0xfffff000ull) + ((la >> 22) & 0x3ff) * 4;
		if (!mem->read(mem->ctx, ent_addr[1], 4, &pde) || !(pde & 1))
			goto not_present;
		has_ad[1] = true;
		U &= !!(pde & 4);
		W &= !!(pde & 2);
		if ((r->cr4 & CR4_PSE) && (pde & 0x80)) {
			/* 4 MiB page: PA bits 31:22 from 31:22, 39:32 from 20:13
			 * (PSE-36, capped at min(MAXPHYADDR, 40)); bit 21 and the
			 * PA bits beyond MAXPHYADDR are reserved. */
			unsigned m = r->maxphyaddr > 40 ? 40 : r->maxphyaddr;
			uint64_t rsvd = bits(21, 21);

			if (!r->pse36)
				rsvd |= bits(20, 13);
			else if (m < 40)
				rsvd |= bits(20, 13 + (m - 32));
			if (pde & rsvd)
				goto reserved;
			pa_base = (pde & 0xffc00000ull) |
				  (r->pse36 ? ((pde >> 13) & 0xffull) << 32 : 0);
			leaf = pde;
			leaf_level = 2;
			res->gpa = pa_base | (la & 0x3fffff);
			goto check;
		}
		table = pde & 0xfffff000ull;
		ent_addr[0] = table + ((la >> 12) & 0x3ff) * 4;
		if (!mem->read(mem->ctx, ent_addr[0], 4, &pte) || !(pte & 1))
			goto not_present;
		has_ad[0] = true;
		U &= !!(pte & 4);
		W &= !!(pte & 2);
		leaf = pte;
		leaf_level = 1;
		res->gpa = (pte & 0xfffff000ull) | (la & 0xfff);
		goto check;
	}

	/* PAE / 4-level / 5-level, SDM 4.4 and 4.5 */
	{
		uint64_t rsvd_addr = above_maxphy(r->maxphyaddr);
		uint64_t nx_rsvd = nxe ? 0 : (1ull << 63);
		uint64_t e;
		int top;

		if (lma) {
			top = la57 ? 5 : 4;
			table = r->cr3 & bits(51, 12);
		} else {
			/* PDPTE registers; P=0 -> not present (SDM 4.4.1) */
			uint64_t pdpte = r->pdpte[(a->gva >> 30) & 3];

			if (!(pdpte & 1))
				goto not_present;
			/* reserved PDPTE bits would have faulted MOV CR3 (#GP);
			 * tests do not build such PDPTEs */
			table = pdpte & bits(51, 12);
			top = 2;
		}
		for (level = top; level >= 1; level--) {
			unsigned shift = 12 + 9 * (level - 1);
			uint64_t idx = (a->gva >> shift) & 511;

			ent_addr[level - 1] = table + idx * 8;
			if (!mem->read(mem->ctx, ent_addr[level - 1], 8, &e) || !(e & 1))
				goto not_present;
			/* reserved: address bits above MAXPHYADDR, XD without NXE */
			if (e & (rsvd_addr | nx_rsvd))
				goto reserved;
			/* PS is reserved at PML5E/PML4E (SDM Table 4-15/4-14) */
			if (level >= 4 && (e & 0x80))
				goto reserved;
			has_ad[level - 1] = true;
			U &= !!(e & 4);
			W &= !!(e & 2);
			XD |= nxe && (e >> 63);
			if (level == 1 || (e & 0x80)) {
				/* large page: bits 12 (PAT) .. shift-1 except PAT are
				 * reserved; 2M: 20:13, 1G: 29:13 */
				if (level > 1 && (e & bits(shift - 1, 13)))
					goto reserved;
				leaf = e;
				leaf_level = level;
				pa_base = e & bits(51, shift);
				res->gpa = pa_base | (a->gva & bits(shift - 1, 0));
				goto check;
			}
			table = e & bits(51, 12);
		}
	}

check:
	/* Access rights, SDM 4.6.1 */
	{
		bool wp = r->cr0 & CR0_WP, smep = r->cr4 & CR4_SMEP,
		     smap = r->cr4 & CR4_SMAP;
		bool deny = false;

		if (a->op == REF_FETCH) {
			if (user)
				deny = !U || XD;
			else
				deny = (U && smep) || XD;
		} else if (user) {
			deny = !U || (a->op == REF_WRITE && !W);
		} else {
			/* supervisor data access */
			bool smap_blocks = U && smap && (a->implicit || !a->ac);

			if (smap_blocks)
				deny = true;
			else if (a->op == REF_WRITE)
				deny = wp && !W;
		}

		/* Protection keys, SDM 4.6.2: data accesses to user-mode pages
		 * in IA-32e mode with CR4.PKE. */
		if (lma && (r->cr4 & CR4_PKE) && r->pku && U && a->op != REF_FETCH) {
			unsigned key = (leaf >> 59) & 15;
			bool ad = (r->pkru >> (2 * key)) & 1;
			bool wd = (r->pkru >> (2 * key + 1)) & 1;

			if (ad || (a->op == REF_WRITE && wd && (user || wp))) {
				ec |= EC_PK;
				deny = true;
			}
		}
		if (deny) {
			res->fault = true;
			res->ec = ec | EC_P;
			return;
		}
	}
	/* A bits on every entry used, D on the leaf for writes (SDM 4.8) */
	for (level = 5; level >= 1; level--) {
		uint64_t v;

		if (!has_ad[level - 1] || level < leaf_level)
			continue;
		if (!mem->read(mem->ctx, ent_addr[level - 1], ent_size, &v))
			continue;
		v |= 0x20;
		if (level == leaf_level && a->op == REF_WRITE)
			v |= 0x40;
		mem->write(mem->ctx, ent_addr[level - 1], ent_size, v);
	}
	res->level = leaf_level;
	return;

not_present:
	res->fault = true;
	res->ec = ec;
	return;
reserved:
	res->fault = true;
	res->ec = ec | EC_P | EC_RSVD;
}
