// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest reserved-bit masks, spot-checked against values derived by hand
 * from the Intel SDM Vol. 3A §4.3-4.5 (paging-structure entry formats) and
 * Vol. 3C §29.3.2 (EPT entry formats / misconfigurations).
 *
 * rsvd_bits_mask[bit7][level - 1]: the mask for an entry at @level whose
 * bit 7 (PS) is @bit7.
 */
#include <criterion/criterion.h>

#include "mmu/mmu.h"

static struct rsvd_bits_validate guest_rsvd(u8 maxphyaddr, enum kvm_vendor vendor,
					    unsigned long cr4, u64 efer, int level)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = maxphyaddr, .vendor = vendor };
	struct kvm_mmu_role_regs regs = { .cr0 = X86_CR0_PG | X86_CR0_PE,
					  .cr4 = cr4, .efer = efer };

	vcpu.arch.root_mmu.cpu_role = kvm_calc_cpu_role(&vcpu, &regs);
	cr_assert_eq(vcpu.arch.root_mmu.cpu_role.base.level, level);
	reset_guest_rsvds_bits_mask(&vcpu, &vcpu.arch.root_mmu);
	return vcpu.arch.root_mmu.guest_rsvd_check;
}

#define BITS(h, l)	GENMASK_ULL(h, l)
#define LM		(EFER_LME | EFER_LMA)

/* MAXPHYADDR 46, 4-level, NXE=1 (SDM Table 4-15 .. 4-20) */
Test(rsvd, four_level_maxphyaddr_46)
{
	struct rsvd_bits_validate r =
		guest_rsvd(46, KVM_VENDOR_INTEL, X86_CR4_PAE, LM | EFER_NX, 4);
	int lvl, ps;

	/* bits 51:46 (M..51) are reserved in every entry */
	for (lvl = 0; lvl < 4; lvl++)
		for (ps = 0; ps < 2; ps++) {
			cr_assert_eq(r.rsvd_bits_mask[ps][lvl] & BITS(51, 46), BITS(51, 46),
				     "level %d ps %d", lvl + 1, ps);
			/* bit 63 (XD) is legal with NXE=1; 45:12 hold addresses */
			cr_assert_eq(r.rsvd_bits_mask[ps][lvl] & BIT_ULL(63), 0);
			cr_assert_eq(r.rsvd_bits_mask[0][lvl] & BITS(45, 12), 0);
			/* bits 62:52 are ignored (or the protection key) */
			cr_assert_eq(r.rsvd_bits_mask[ps][lvl] & BITS(62, 52), 0);
		}
	/* PS must be 0 in a PML4E */
	cr_assert(r.rsvd_bits_mask[0][3] & BIT_ULL(7));
	/* 1 GiB page: bits 29:13 reserved (12 is PAT); 2 MiB: 20:13 */
	cr_assert_eq(r.rsvd_bits_mask[1][2] & BITS(45, 12), BITS(29, 13));
	cr_assert_eq(r.rsvd_bits_mask[1][1] & BITS(45, 12), BITS(20, 13));
	/* 4K PTE: bit 7 is PAT, not reserved */
	cr_assert_eq(r.rsvd_bits_mask[0][0] & BIT_ULL(7), 0);
	/* guest CPUID has 1 GiB pages: PS in a PDPTE is legal */
	cr_assert_eq(r.rsvd_bits_mask[0][2] & BIT_ULL(7), 0);
	/* Intel: bit 8 of a non-leaf PML4E is ignored, not reserved */
	cr_assert_eq(r.rsvd_bits_mask[0][3] & BIT_ULL(8), 0);
}

/* NXE=0: bit 63 becomes reserved at every level (SDM §4.5 "XD ... reserved") */
Test(rsvd, no_nx_reserves_bit_63)
{
	struct rsvd_bits_validate r =
		guest_rsvd(46, KVM_VENDOR_INTEL, X86_CR4_PAE, LM, 4);
	int lvl, ps;

	for (lvl = 0; lvl < 4; lvl++)
		for (ps = 0; ps < 2; ps++)
			cr_assert(r.rsvd_bits_mask[ps][lvl] & BIT_ULL(63),
				  "level %d ps %d", lvl + 1, ps);
}

/* MAXPHYADDR 52: no address bit is reserved any more. */
Test(rsvd, maxphyaddr_52)
{
	struct rsvd_bits_validate r =
		guest_rsvd(52, KVM_VENDOR_INTEL, X86_CR4_PAE, LM | EFER_NX, 4);

	cr_assert_eq(r.rsvd_bits_mask[0][0], 0);
	cr_assert_eq(r.rsvd_bits_mask[0][1], 0);
	cr_assert_eq(r.rsvd_bits_mask[0][3], BIT_ULL(7));
}

/* MAXPHYADDR 36: bits 51:36 reserved. */
Test(rsvd, maxphyaddr_36)
{
	struct rsvd_bits_validate r =
		guest_rsvd(36, KVM_VENDOR_INTEL, X86_CR4_PAE, LM | EFER_NX, 4);

	cr_assert_eq(r.rsvd_bits_mask[0][0], BITS(51, 36));
	cr_assert_eq(r.rsvd_bits_mask[1][1], BITS(51, 36) | BITS(20, 13));
}

/* 5-level: the PML5E reserves PS and M..51 like a PML4E. */
Test(rsvd, five_level)
{
	struct rsvd_bits_validate r = guest_rsvd(
		46, KVM_VENDOR_INTEL, X86_CR4_PAE | X86_CR4_LA57, LM | EFER_NX, 5);

	cr_assert_eq(r.rsvd_bits_mask[0][4], BITS(51, 46) | BIT_ULL(7));
	cr_assert_eq(r.rsvd_bits_mask[1][4], r.rsvd_bits_mask[0][4]);
}

/* AMD APM: bit 8 of a PML4E/PML5E must be zero (MBZ). */
Test(rsvd, amd_pml4e_bit8)
{
	struct rsvd_bits_validate r =
		guest_rsvd(46, KVM_VENDOR_AMD, X86_CR4_PAE, LM | EFER_NX, 4);

	cr_assert(r.rsvd_bits_mask[0][3] & BIT_ULL(8));
	/* not in leaf entries, where bit 8 is G */
	cr_assert_eq(r.rsvd_bits_mask[0][0] & BIT_ULL(8), 0);
	cr_assert_eq(r.rsvd_bits_mask[1][1] & BIT_ULL(8), 0);
}

/*
 * PAE (SDM Tables 4-8 .. 4-11): PDPTE bits 2:1 and 8:5 reserved, and bit 63
 * too (no XD in PDPTEs); bits M..62 reserved in every PAE entry, bit 63 of
 * the others only when NXE=0.
 */
Test(rsvd, pae)
{
	struct rsvd_bits_validate r =
		guest_rsvd(40, KVM_VENDOR_INTEL, X86_CR4_PAE, EFER_NX, 3);

	cr_assert_eq(r.rsvd_bits_mask[0][2] & BITS(11, 0), BITS(8, 5) | BITS(2, 1));
	cr_assert(r.rsvd_bits_mask[0][2] & BIT_ULL(63));
	cr_assert_eq(r.rsvd_bits_mask[0][2] & BITS(62, 40), BITS(62, 40));
	cr_assert_eq(r.rsvd_bits_mask[0][0] & BITS(39, 0), 0);
	cr_assert_eq(r.rsvd_bits_mask[0][0] & BIT_ULL(63), 0, "NXE=1");
	/* 2 MiB PAE page: bits 20:13 */
	cr_assert_eq(r.rsvd_bits_mask[1][1] & BITS(39, 0), BITS(20, 13));
}

/*
 * 32-bit paging: 4K entries have no reserved bits; with CR4.PSE a 4 MiB PDE
 * with PSE-36 holds PA bits in 20:13 and reserves bit 21 (SDM Table 4-4).
 * KVM reserves 21:17 (a 36-bit PSE-36 width); check the SDM-mandated ends.
 */
Test(rsvd, two_level_pse36)
{
	struct rsvd_bits_validate r = guest_rsvd(46, KVM_VENDOR_INTEL, X86_CR4_PSE, 0, 2);

	cr_assert_eq(r.rsvd_bits_mask[0][0], 0);
	cr_assert_eq(r.rsvd_bits_mask[0][1], 0);
	cr_assert(r.rsvd_bits_mask[1][1] & BIT_ULL(21));
	cr_assert_eq(r.rsvd_bits_mask[1][1] & BITS(16, 12), 0,
		     "PA bits 35:32 (13:16) and PAT (12) usable");

	/* without CR4.PSE, bit 7 of a PDE is ignored: nothing reserved */
	r = guest_rsvd(46, KVM_VENDOR_INTEL, 0, 0, 2);
	cr_assert_eq(r.rsvd_bits_mask[1][1], 0);
}

/*
 * EPT (SDM §29.3.3.1 misconfigurations): memory types 2, 3, 7 are reserved;
 * XWR = 010 (write-only) and 110 (write+execute) are illegal; 100
 * (execute-only) is illegal unless execute-only translations are supported.
 * Checked exhaustively over all 64 values of bits 5:0.
 */
Test(rsvd, ept_bad_mt_xwr)
{
	unsigned int xo, v;

	for (xo = 0; xo < 2; xo++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46 };
		struct kvm_mmu *mmu = &vcpu.arch.guest_mmu;

		reset_rsvds_bits_mask_ept(&vcpu, mmu, xo, PG_LEVEL_1G);
		for (v = 0; v < 64; v++) {
			unsigned int mt = v >> 3, xwr = v & 7;
			bool bad = mt == 2 || mt == 3 || mt == 7 || xwr == 2 ||
				   xwr == 6 || (xwr == 4 && !xo);

			cr_assert_eq((mmu->guest_rsvd_check.bad_mt_xwr >> v) & 1, bad,
				     "execonly %u mt %u xwr %u", xo, mt, xwr);
		}
	}
}

/*
 * EPT reserved bits: M..51 everywhere; bits 7:3 in non-leaf PML4Es; 6:3 in
 * non-leaf PDPTEs/PDEs; 1 GiB page 29:12, 2 MiB 20:12; PS reserved at a
 * level whose page size is not supported.
 */
Test(rsvd, ept_levels)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46 };
	struct rsvd_bits_validate *r = &vcpu.arch.guest_mmu.guest_rsvd_check;

	reset_rsvds_bits_mask_ept(&vcpu, &vcpu.arch.guest_mmu, true, PG_LEVEL_1G);
	cr_assert_eq(r->rsvd_bits_mask[0][3], BITS(51, 46) | BITS(7, 3));
	cr_assert_eq(r->rsvd_bits_mask[0][2], BITS(51, 46) | BITS(6, 3));
	cr_assert_eq(r->rsvd_bits_mask[0][1], BITS(51, 46) | BITS(6, 3));
	cr_assert_eq(r->rsvd_bits_mask[0][0], BITS(51, 46));
	cr_assert_eq(r->rsvd_bits_mask[1][2], BITS(51, 46) | BITS(29, 12));
	cr_assert_eq(r->rsvd_bits_mask[1][1], BITS(51, 46) | BITS(20, 12));

	/* only 2 MiB pages: PS in a PDPTE is reserved, in a PDE it is not */
	reset_rsvds_bits_mask_ept(&vcpu, &vcpu.arch.guest_mmu, true, PG_LEVEL_2M);
	cr_assert(r->rsvd_bits_mask[0][2] & BIT_ULL(7));
	cr_assert(r->rsvd_bits_mask[1][2] & BIT_ULL(7));
	cr_assert_eq(r->rsvd_bits_mask[1][1] & BIT_ULL(7), 0);
	/* 4K only */
	reset_rsvds_bits_mask_ept(&vcpu, &vcpu.arch.guest_mmu, true, PG_LEVEL_4K);
	cr_assert(r->rsvd_bits_mask[1][1] & BIT_ULL(7));
}

/* kvm_init_shadow_ept_mmu() installs the EPT masks with its execonly. */
Test(rsvd, ept_init_installs_masks)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };

	vcpu.arch.guest_mode = true;
	cr_assert_eq(kvm_init_shadow_ept_mmu(&vcpu, false, PG_LEVEL_2M, true, false,
					     VMX_EPTP_PWL_4), 0);
	/* X-only (xwr 100, mt 0 -> bit 4) is bad without execonly */
	cr_assert(vcpu.arch.guest_mmu.guest_rsvd_check.bad_mt_xwr & BIT_ULL(4));
	cr_assert(vcpu.arch.guest_mmu.guest_rsvd_check.rsvd_bits_mask[1][2] &
		  BIT_ULL(7));
}
