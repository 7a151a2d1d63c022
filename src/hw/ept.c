// SPDX-License-Identifier: GPL-2.0-only
/*
 * EPT: the CPU's translation of a guest-physical address through the
 * extended page tables, from the Intel SDM Vol. 3C:
 *   §29.3.2   EPT translation mechanism (4- or 5-level by the EPTP's
 *             page-walk length; 1 GiB / 2 MiB leaves by bit 7)
 *   §29.3.3.1 EPT misconfigurations
 *   §29.3.3.2 EPT violations (R/W/X; XS/XU under mode-based execute
 *             control)
 *   §29.3.5   accessed and dirty flags for EPT (EPTP bit 6)
 *   §28.2.1   exit qualification for EPT violations (Table 28-7)
 * (older editions number these §28.2.x / §27.2.1).
 */
#include "hw-int.h"

/*
 * Memory types a leaf may hold (§29.3.3.1): 2, 3 and 7 are reserved and
 * make the entry a misconfiguration.
 */
#define EPT_MT_BAD_MASK		((1u << 2) | (1u << 3) | (1u << 7))

static inline bool ept_mt_bad(uint64_t e)
{
	return EPT_MT_BAD_MASK >> ((e >> HW_EPT_MT_SHIFT) & 7) & 1;
}

/*
 * Bits 2:0 (XWR) of a present entry that are a misconfiguration
 * (§29.3.3.1), as a mask indexed by XWR: 010 and 110 (write without
 * read) always; 100 (execute-only) and 000 (XU only, present under MBEC)
 * when execute-only translations are not supported.
 */
#define EPT_XWR_BAD		((1u << 2) | (1u << 6))
#define EPT_XWR_BAD_NOEXECONLY	(EPT_XWR_BAD | (1u << 4) | (1u << 0))

bool hw_ept_translate(const struct hw_mem *mem, const struct hw_stage2 *s2,
		      uint64_t gpa, uint64_t acc, uint64_t *hpa,
		      struct hw_result *res)
{
	const uint64_t eptp = s2->eptp;
	const bool mbec = s2->mbec;
	/* §29.3.2: an entry is present if any of bits 2:0 (or XU) is set */
	const uint64_t present = HW_EPT_RWX | (mbec ? HW_EPT_XU : 0);
	const uint64_t rsvd_hi = hw_above_maxphy(mem->host_maxphyaddr);
	int top = (int)((eptp >> HW_EPTP_PWL_SHIFT) & 7) + 1;
	uint8_t *path[5];
	uint64_t table = eptp & HW_PTE_ADDR;
	const unsigned xwr_bad = s2->execonly ? EPT_XWR_BAD : EPT_XWR_BAD_NOEXECONLY;
	uint64_t rights = HW_EPT_RWX | HW_EPT_XU | HW_EPT_A;	/* AND over the walk */
	uint64_t e = 0;
	int level;
	bool ok;

	if (top > 5)
		top = 5;
	for (level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint8_t *p = hw_mem_ptr(mem, table + ((gpa >> shift) & 511) * 8);

		e = hw_load(p, 8);
		path[level - 1] = p;
		rights &= e;
		if (!(e & present))
			goto violation;
		/*
		 * §29.3.3.1 misconfigurations of a present entry: write
		 * without read; execute without read when execute-only
		 * translations are not supported (IA32_VMX_EPT_VPID_CAP bit
		 * 0), XU included under MBEC; bits 51:MAXPHYADDR.
		 */
		if (((xwr_bad >> (e & 7)) & 1) | !!(e & rsvd_hi))
			goto misconfig;
		if (level == 1 || (level <= 3 && (e & HW_EPT_PS))) {
			/*
			 * A leaf: memory type 2, 3 or 7 is a misconfiguration,
			 * and so is an address bit below a large page's size
			 * (bits 29:12 of a 1 GiB, 20:12 of a 2 MiB leaf).
			 */
			if (ept_mt_bad(e))
				goto misconfig;
			if (level > 1 && (e & HW_BITS(shift - 1, 12)))
				goto misconfig;
			*hpa = (e & HW_PTE_ADDR & ~HW_BITS(shift - 1, 0)) |
			       (gpa & HW_BITS(shift - 1, 0));
			break;
		}
		/*
		 * A non-leaf entry: bits 7:3 are reserved (at the EPT PML5E
		 * and PML4E bit 7 too, so PS there is a misconfiguration).
		 */
		if (e & HW_BITS(7, 3))
			goto misconfig;
		table = e & HW_PTE_ADDR;
	}

	/*
	 * §29.3.3.2: a read needs R, a write W, an instruction fetch X; under
	 * MBEC a fetch from a user-mode linear address (U/S = 1 at every
	 * level of its translation) needs XU instead, from a supervisor-mode
	 * one XS (bit 2).
	 */
	ok = !((acc & HW_S2_READ) && !(rights & HW_EPT_R)) &&
	     !((acc & HW_S2_WRITE) && !(rights & HW_EPT_W));
	if (acc & HW_S2_FETCH)
		ok = ok && (rights & (mbec && (acc & HW_S2_US) ? HW_EPT_XU : HW_EPT_X));
	if (!ok)
		goto violation;

	/*
	 * §29.3.5: with EPTP bit 6 the CPU sets A in every EPT entry used and
	 * D in the leaf for a write (guest paging-structure accesses are
	 * writes then, so they set it too).
	 */
	if ((eptp & HW_EPTP_AD) &&
	    (!(rights & HW_EPT_A) || ((acc & HW_S2_WRITE) && !(e & HW_EPT_D)))) {
		for (int l = top; l > level; l--)
			if (!(hw_load(path[l - 1], 8) & HW_EPT_A))
				hw_set_bits(mem, path[l - 1], 8, HW_EPT_A);
		if ((e & (HW_EPT_A | HW_EPT_D)) != (HW_EPT_A | HW_EPT_D))
			hw_set_bits(mem, path[level - 1], 8, HW_EPT_A |
				    (acc & HW_S2_WRITE ? HW_EPT_D : 0));
	}
	return true;

violation:
	/*
	 * Exit qualification, §28.2.1 Table 28-7: bits 0-2 the access, 3-5
	 * the AND of bits 0-2 over the entries walked (the non-present one
	 * included), 6 the AND of XU under MBEC, 7-8 as the access says, 9-11
	 * the advanced information only when bit 8 is set.
	 */
	res->kind = HW_EPT_VIOLATION;
	res->gpa = gpa;
	res->qual = (acc & (HW_S2_READ | HW_S2_WRITE | HW_S2_FETCH |
			    HW_S2_LINEAR | HW_S2_FINAL)) |
		    (rights & HW_EPT_RWX) << 3 |
		    (mbec && (rights & HW_EPT_XU) ? HW_BIT(6) : 0);
	if (acc & HW_S2_FINAL)
		res->qual |= acc & (HW_S2_US | HW_S2_RW | HW_S2_XD);
	return false;

misconfig:
	res->kind = HW_EPT_MISCONFIG;
	res->gpa = gpa;
	res->qual = 0;
	return false;
}
