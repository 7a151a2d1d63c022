// SPDX-License-Identifier: GPL-2.0-only
/*
 * NPT: the CPU's translation of a guest-physical address through the
 * nested page tables, from the AMD APM Vol. 2:
 *   §15.25.5  nested table walk: long-mode format tables at nCR3, walked
 *             with the host's paging mode (KVM: 4- or 5-level, EFER.NXE=1);
 *             every nested access is a user access; accesses to guest
 *             page tables are writes (below)
 *   §15.25.6  nested versus guest page faults: #VMEXIT(NPF), EXITINFO1 =
 *             #PF-style error code + bit 32 (final GPA) / bit 33 (guest
 *             page table), EXITINFO2 = the GPA
 *   GMET      guest mode execute trap (§15.25.x): U/S of the nested
 *             translation no longer restricts data; a fetch at CPL < 3
 *             from a user page (U = 1 at every level) is a #NPF
 *   §5.4-§5.6 the long-mode entry format, reserved bits, A/D.
 */
#include "hw-int.h"

bool hw_npt_translate(const struct hw_mem *mem, const struct hw_stage2 *s2,
		      uint64_t gpa, uint64_t acc, uint64_t *hpa,
		      struct hw_result *res)
{
	const bool gmet = s2->gmet;
	const bool write = acc & HW_S2_WRITE, fetch = acc & HW_S2_FETCH;
	/* an access to a guest paging-structure entry */
	const bool page = (acc & (HW_S2_LINEAR | HW_S2_FINAL)) == HW_S2_LINEAR;
	/* host EFER.NXE = 1: bit 63 is NX, not reserved */
	const uint64_t rsvd = hw_above_maxphy(mem->host_maxphyaddr);
	int top = s2->npt_levels == 5 ? 5 : 4;
	uint8_t *path[5];
	uint64_t table = s2->ncr3 & HW_PTE_ADDR;
	uint64_t ec, e = 0;
	bool w = true, u = true, nx = false, deny;
	int level;

	/*
	 * EXITINFO1 bits 0-4 as a #PF error code of the nested access: W for
	 * writes (guest page-table accesses included), U because nested
	 * accesses are user accesses -- under GMET only for guest page-table
	 * accesses and CPL 3 (fetch faults below: erratum 1218), I/D for
	 * fetches (host EFER.NXE = 1).
	 */
	ec = (write ? HW_PF_W : 0) | (fetch ? HW_PF_ID : 0) |
	     (!gmet || page || !(acc & HW_S2_SUP) ? HW_PF_U : 0) |
	     (page ? HW_NPF_PAGE : (acc & HW_S2_FINAL) ? HW_NPF_FINAL : 0);

	for (level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint8_t *p = hw_mem_ptr(mem, table + ((gpa >> shift) & 511) * 8);

		e = hw_load(p, 8);
		path[level - 1] = p;
		if (!(e & HW_PTE_P))
			goto npf;
		/*
		 * Reserved (APM §5.3.3, Figures 5-18 to 5-25): bits
		 * 51:MAXPHYADDR; bits 8:7 of a PML5E/PML4E (AMD reserves bit
		 * 8 there too, unlike Intel: kvm-unit-tests x86/svm_npt.c
		 * npt_rsvd_pfwalk sets PML4E bit 8 and expects RSVD, and
		 * KVM's __reset_rsvds_bits_mask() has nonleaf_bit8_rsvd);
		 * bits (shift-1):13 of a large leaf.
		 */
		if ((e & rsvd) || (level >= 4 && (e & HW_BITS(8, 7))))
			goto reserved;
		w = w && (e & HW_PTE_W);
		u = u && (e & HW_PTE_U);
		nx = nx || (e & HW_PTE_XD);
		if (level == 1 || (e & HW_PTE_PS)) {
			if (level > 1 && (e & HW_BITS(shift - 1, 13)))
				goto reserved;
			*hpa = (e & HW_PTE_ADDR & ~HW_BITS(shift - 1, 0)) |
			       (gpa & HW_BITS(shift - 1, 0));
			break;
		}
		table = e & HW_PTE_ADDR;
	}

	/*
	 * Rights: writes need W; fetches need !NX; without GMET every access
	 * is a user access and needs U = 1 at every level; with GMET U only
	 * matters for fetches at CPL < 3, which a user page (U = 1 at every
	 * level) refuses.
	 */
	deny = (write && !w) || (fetch && nx);
	if (gmet)
		deny = deny || (fetch && (acc & HW_S2_SUP) && u);
	else
		deny = deny || !u;
	if (deny) {
		ec |= HW_PF_P;
		goto npf;
	}

	/* A on every entry used, D on the leaf for writes (APM §5.4.2) */
	for (int l = top; l > level; l--)
		if (!(hw_load(path[l - 1], 8) & HW_PTE_A))
			hw_set_bits(mem, path[l - 1], 8, HW_PTE_A);
	if (!(e & HW_PTE_A) || (write && !(e & HW_PTE_D)))
		hw_set_bits(mem, path[level - 1], 8, HW_PTE_A | (write ? HW_PTE_D : 0));
	return true;

reserved:
	ec |= HW_PF_P | HW_PF_RSVD;
npf:
	/*
	 * AMD erratum 1218: with GMET, EXITINFO1.U may be set on a fetch
	 * fault whatever the CPL.  The model sets it, so KVM's workaround
	 * (npf_interception) is exercised.
	 */
	if (gmet && fetch)
		ec |= HW_PF_U;
	res->kind = HW_NPF;
	res->gpa = gpa;
	res->error_code = ec;
	return false;
}
