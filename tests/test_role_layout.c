// SPDX-License-Identifier: GPL-2.0-only
/*
 * Roles, per ACC layout: the ROLE_*_SHIFT constants against the bitfields,
 * kvm_calc_cpu_role() per paging mode, and the root roles of the shadow,
 * TDP, nested EPT and nested NPT MMUs, plus kvm_init_mmu()'s choice of MMU
 * and its skip-if-unchanged rule.
 */
#include <criterion/criterion.h>

#include <tdpsim/errors.h>

#include "mmu/paging.h"

#define IS_NEW (TDP_ACC_LAYOUT == TDP_LAYOUT_NEW)

/* One field set to all-ones must land exactly at its documented shift. */
#define CHECK_FIELD(field, shift, width)				\
	do {								\
		union kvm_mmu_page_role r = { .word = 0 };		\
		r.field = (1u << (width)) - 1;				\
		cr_assert_eq(r.word, ((1u << (width)) - 1) << (shift),	\
			     #field ": word %#x", r.word);		\
	} while (0)

Test(role, shifts_match_bitfields)
{
	CHECK_FIELD(level, ROLE_LEVEL_SHIFT, 4);
	CHECK_FIELD(has_4_byte_gpte, ROLE_HAS_4_BYTE_SHIFT, 1);
	CHECK_FIELD(quadrant, ROLE_QUADRANT_SHIFT, 2);
	CHECK_FIELD(direct, ROLE_DIRECT_SHIFT, 1);
	CHECK_FIELD(access, ROLE_ACCESS_SHIFT, ACC_BITS);
	CHECK_FIELD(invalid, ROLE_INVALID_SHIFT, 1);
	CHECK_FIELD(efer_nx, ROLE_EFER_NX_SHIFT, 1);
	CHECK_FIELD(cr0_wp, ROLE_CR0_WP_SHIFT, 1);
	CHECK_FIELD(smap_andnot_wp, ROLE_SMAP_ANDNOT_WP_SHIFT, 1);
#if IS_NEW
	CHECK_FIELD(cr4_smep, ROLE_CR4_SMEP_SHIFT, 1);
#else
	CHECK_FIELD(smep_andnot_wp, ROLE_SMEP_ANDNOT_WP_SHIFT, 1);
#endif
	CHECK_FIELD(ad_disabled, ROLE_AD_DISABLED_SHIFT, 1);
	CHECK_FIELD(guest_mode, ROLE_GUEST_MODE_SHIFT, 1);
	CHECK_FIELD(passthrough, ROLE_PASSTHROUGH_SHIFT, 1);
	CHECK_FIELD(is_mirror, ROLE_IS_MIRROR_SHIFT, 1);
	CHECK_FIELD(smm, ROLE_SMM_SHIFT, 8);
}

/* The published positions (kvm-mmu-facts §3.1), not derived from the shifts. */
Test(role, positions_as_documented)
{
	union kvm_mmu_page_role r = { .word = 0 };

	r.access = ACC_ALL;
	cr_assert_eq(r.word, IS_NEW ? 0xf00u : 0x700u);
	r.word = 0;
	r.cr0_wp = 1;
	cr_assert_eq(r.word, IS_NEW ? 1u << 14 : 1u << 13);
#if IS_NEW
	r.word = 0;
	r.cr4_smep = 1;
	cr_assert_eq(r.word, 1u << 20);
#endif
}

static void set_regs(struct kvm_vcpu *vcpu, unsigned long cr0, unsigned long cr4,
		     u64 efer)
{
	vcpu->arch.cr0 = cr0;
	vcpu->arch.cr4 = cr4;
	vcpu->arch.efer = efer;
}

static union kvm_cpu_role role_of(unsigned long cr0, unsigned long cr4, u64 efer)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46 };
	struct kvm_mmu_role_regs regs = { .cr0 = cr0, .cr4 = cr4, .efer = efer };

	return kvm_calc_cpu_role(&vcpu, &regs);
}

#define PG	(X86_CR0_PG | X86_CR0_PE)
#define LM	(EFER_LME | EFER_LMA)

Test(role, cpu_role_levels)
{
	union kvm_cpu_role r;

	r = role_of(X86_CR0_PE, X86_CR4_PAE, 0);
	cr_assert(r.base.direct && r.base.level == 0 && r.ext.valid);
	cr_assert_eq(r.base.access, ACC_ALL);

	r = role_of(PG, 0, 0);
	cr_assert_eq(r.base.level, PT32_ROOT_LEVEL);
	cr_assert(r.base.has_4_byte_gpte && !r.base.direct);

	r = role_of(PG, X86_CR4_PAE, 0);
	cr_assert_eq(r.base.level, PT32E_ROOT_LEVEL);
	cr_assert(!r.base.has_4_byte_gpte);

	r = role_of(PG, X86_CR4_PAE, LM);
	cr_assert_eq(r.base.level, PT64_ROOT_4LEVEL);
	cr_assert(r.ext.efer_lma);

	r = role_of(PG, X86_CR4_PAE | X86_CR4_LA57, LM);
	cr_assert_eq(r.base.level, PT64_ROOT_5LEVEL);
	cr_assert(r.ext.cr4_la57);

	/* LA57 and PKE are inert outside long mode */
	r = role_of(PG, X86_CR4_PAE | X86_CR4_LA57 | X86_CR4_PKE, 0);
	cr_assert_eq(r.base.level, PT32E_ROOT_LEVEL);
	cr_assert(!r.ext.cr4_la57 && !r.ext.cr4_pke);
	r = role_of(PG, X86_CR4_PAE | X86_CR4_PKE, LM);
	cr_assert(r.ext.cr4_pke);
}

Test(role, cpu_role_wp_smep_smap)
{
	unsigned int wp, smep, smap;

	for (wp = 0; wp < 2; wp++)
		for (smep = 0; smep < 2; smep++)
			for (smap = 0; smap < 2; smap++) {
				union kvm_cpu_role r = role_of(
					PG | (wp ? X86_CR0_WP : 0),
					X86_CR4_PAE | (smep ? X86_CR4_SMEP : 0) |
					(smap ? X86_CR4_SMAP : 0), LM | EFER_NX);

				cr_assert_eq(r.base.cr0_wp, wp);
				cr_assert_eq(r.base.smap_andnot_wp, smap && !wp);
				cr_assert_eq(r.ext.cr4_smap, smap);
				cr_assert_eq(r.base.efer_nx, 1);
#if IS_NEW
				cr_assert_eq(r.base.cr4_smep, smep);
				cr_assert_eq(r.ext.has_pferr_fetch, 1);
#else
				cr_assert_eq(r.ext.cr4_smep, smep);
				cr_assert_eq(r.base.smep_andnot_wp, smep && !wp);
#endif
			}
}

/* Shadow paging: PAE or deeper shadow tables, EFER.NX forced on. */
Test(role, shadow_root_role)
{
	static const struct { unsigned long cr4; u64 efer; int guest, root; } m[] = {
		{ 0, 0, PT32_ROOT_LEVEL, PT32E_ROOT_LEVEL },
		{ X86_CR4_PAE, 0, PT32E_ROOT_LEVEL, PT32E_ROOT_LEVEL },
		{ X86_CR4_PAE, LM, PT64_ROOT_4LEVEL, PT64_ROOT_4LEVEL },
		{ X86_CR4_PAE | X86_CR4_LA57, LM, PT64_ROOT_5LEVEL, PT64_ROOT_5LEVEL },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46 };
		struct kvm_mmu *mmu;

		set_regs(&vcpu, PG | X86_CR0_WP, m[i].cr4, m[i].efer);
		kvm_init_mmu(&vcpu);
		mmu = vcpu.arch.mmu;
		cr_assert_eq(mmu, &vcpu.arch.root_mmu);
		cr_assert_eq(vcpu.arch.walk_mmu, &vcpu.arch.root_mmu);
		cr_assert_eq(mmu->cpu_role.base.level, m[i].guest, "mode %zu", i);
		cr_assert_eq(mmu->root_role.level, m[i].root, "mode %zu", i);
		cr_assert(!mmu->cpu_role.base.efer_nx && mmu->root_role.efer_nx);
		cr_assert(!mmu->root_role.direct);
		cr_assert_eq(mmu->root_role.access, ACC_ALL);
		cr_assert_eq(mmu->get_guest_pgd(&vcpu), vcpu.arch.cr3);
	}
}

static union kvm_mmu_page_role tdp_root(enum kvm_vendor vendor, u8 maxphyaddr,
					bool mbec, bool gmet)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = maxphyaddr, .tdp_enabled = true,
				 .vendor = vendor, .host_mbec = mbec,
				 .host_gmet = gmet };

	set_regs(&vcpu, PG, 0, 0);	/* 32-bit guest: TDP does not care */
	kvm_init_mmu(&vcpu);
	cr_assert_eq(vcpu.arch.mmu->cpu_role.base.level, PT32_ROOT_LEVEL);
	return vcpu.arch.mmu->root_role;
}

Test(role, tdp_root_role)
{
	union kvm_mmu_page_role r;

	r = tdp_root(KVM_VENDOR_INTEL, 46, false, false);
	cr_assert(r.direct && r.cr0_wp && r.efer_nx && !r.has_4_byte_gpte);
	cr_assert_eq(r.level, PT64_ROOT_4LEVEL);
	cr_assert_eq(r.access, ACC_ALL);
	/* 5-level TDP only when the guest can address beyond 48 bits */
	cr_assert_eq(tdp_root(KVM_VENDOR_INTEL, 52, false, false).level,
		     PT64_ROOT_5LEVEL);

#if IS_NEW
	/* host MBEC: the SMEP slot; EPT has no U bit, so access stays full */
	r = tdp_root(KVM_VENDOR_INTEL, 46, true, false);
	cr_assert(r.cr4_smep);
	cr_assert_eq(r.access, ACC_ALL);
	/* host GMET: all NPT pages supervisor (U=0) so they stay executable */
	r = tdp_root(KVM_VENDOR_AMD, 46, false, true);
	cr_assert(r.cr4_smep);
	cr_assert_eq(r.access, ACC_READ_MASK | ACC_WRITE_MASK | ACC_EXEC_MASK);
	r = tdp_root(KVM_VENDOR_AMD, 46, false, false);
	cr_assert(!r.cr4_smep);
	cr_assert_eq(r.access, ACC_ALL);
#else
	/* pre-series KVM has no host MBEC/GMET: the flags change nothing */
	cr_assert_eq(tdp_root(KVM_VENDOR_AMD, 46, false, true).word,
		     tdp_root(KVM_VENDOR_AMD, 46, false, false).word);
	cr_assert_eq(tdp_root(KVM_VENDOR_INTEL, 46, true, false).word,
		     tdp_root(KVM_VENDOR_INTEL, 46, false, false).word);
#endif
}

Test(role, nested_ept_role)
{
	unsigned int ad, xo, pwl5, mbec;

	for (ad = 0; ad < 2; ad++)
	for (xo = 0; xo < 2; xo++)
	for (pwl5 = 0; pwl5 < 2; pwl5++)
	for (mbec = 0; mbec < 2; mbec++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };
		struct kvm_mmu *mmu = &vcpu.arch.guest_mmu;
		u64 eptp = 0x123000 | (pwl5 ? VMX_EPTP_PWL_5 : VMX_EPTP_PWL_4) |
			   (ad ? VMX_EPTP_AD_ENABLE_BIT : 0);
		int ret;

		vcpu.arch.guest_mode = true;
		ret = kvm_init_shadow_ept_mmu(&vcpu, xo, PG_LEVEL_1G, ad, mbec, eptp);
		if (mbec && !IS_NEW) {
			cr_assert_eq(ret, TDP_E_UNSUPP);
			cr_assert_eq(mmu->cpu_role.as_u64, 0u, "nothing touched");
			continue;
		}
		cr_assert_eq(ret, 0);
		cr_assert_eq(mmu->cpu_role.base.level,
			     pwl5 ? PT64_ROOT_5LEVEL : PT64_ROOT_4LEVEL);
		cr_assert_eq(mmu->cpu_role.base.ad_disabled, !ad);
		cr_assert(mmu->cpu_role.base.guest_mode && !mmu->cpu_role.base.direct);
		cr_assert_eq(mmu->cpu_role.base.access, ACC_ALL);
		cr_assert(!mmu->cpu_role.base.cr0_wp && !mmu->cpu_role.base.efer_nx);
		cr_assert_eq(mmu->cpu_role.ext.execonly, xo);
		cr_assert(mmu->cpu_role.ext.valid);
#if IS_NEW
		cr_assert_eq(mmu->cpu_role.base.cr4_smep, mbec);
#endif
		cr_assert_eq(mmu->root_role.word, mmu->cpu_role.base.word);
	}
}

Test(role, nested_npt_role)
{
	unsigned int gmet;

	for (gmet = 0; gmet < 2; gmet++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true,
					 .vendor = KVM_VENDOR_AMD };
		struct kvm_mmu *mmu = &vcpu.arch.guest_mmu;
		unsigned long l1_cr4 = X86_CR4_PAE | X86_CR4_PKE | X86_CR4_SMAP;
		int ret;

		vcpu.arch.guest_mode = true;
		ret = kvm_init_shadow_npt_mmu(&vcpu, l1_cr4, LM | EFER_NX, 0x7000,
					      gmet ? SVM_MISC_ENABLE_GMET : 0);
		if (gmet && !IS_NEW) {
			cr_assert_eq(ret, TDP_E_UNSUPP);
			continue;
		}
		cr_assert_eq(ret, 0);
		cr_assert_eq(mmu->cpu_role.base.level, PT64_ROOT_4LEVEL);
		cr_assert(mmu->cpu_role.base.guest_mode);
		cr_assert(!mmu->cpu_role.ext.cr4_pke);
		cr_assert_eq(mmu->pkru_mask, 0u);
#if IS_NEW
		/* patch 0043: CR0 = PG|WP, SMAP and PKE dropped */
		cr_assert(mmu->cpu_role.base.cr0_wp);
		cr_assert(!mmu->cpu_role.ext.cr4_smap);
		cr_assert_eq(mmu->cpu_role.base.cr4_smep, gmet);
		cr_assert_eq(mmu->root_role.cr4_smep, gmet);
#else
		cr_assert(!mmu->cpu_role.base.cr0_wp);
		cr_assert(mmu->cpu_role.ext.cr4_smap);
#endif
		cr_assert_eq(mmu->root_role.level, PT64_ROOT_4LEVEL);
		cr_assert(!mmu->root_role.passthrough);
	}
}

/* A 4-level L1 NPT under a 5-level host NPT gets a passthrough root. */
Test(role, nested_npt_passthrough)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 52, .tdp_enabled = true,
				 .vendor = KVM_VENDOR_AMD };

	vcpu.arch.guest_mode = true;
	cr_assert_eq(kvm_init_shadow_npt_mmu(&vcpu, X86_CR4_PAE, LM, 0, 0), 0);
	cr_assert_eq(vcpu.arch.guest_mmu.root_role.level, PT64_ROOT_5LEVEL);
	cr_assert(vcpu.arch.guest_mmu.root_role.passthrough);

	cr_assert_eq(kvm_init_shadow_npt_mmu(&vcpu, X86_CR4_PAE | X86_CR4_LA57,
					     LM, 0, 0), 0);
	cr_assert(!vcpu.arch.guest_mmu.root_role.passthrough);
}

/* NPT is only shadowed for L2 (KVM warns otherwise). */
Test(role, nested_npt_needs_guest_mode)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46, .vendor = KVM_VENDOR_AMD };

	cr_assert_eq(kvm_init_shadow_npt_mmu(&vcpu, X86_CR4_PAE, LM, 0, 0),
		     TDP_E_INTERNAL);
}

/* In guest mode with nested_mmu as walk_mmu, L2's registers go there. */
Test(role, init_mmu_nested)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };

	vcpu.arch.guest_mode = true;
	vcpu.arch.mmu = &vcpu.arch.guest_mmu;
	vcpu.arch.walk_mmu = &vcpu.arch.nested_mmu;
	set_regs(&vcpu, PG | X86_CR0_WP, X86_CR4_PAE | X86_CR4_SMEP, LM | EFER_NX);
	kvm_init_mmu(&vcpu);
	cr_assert_eq(vcpu.arch.nested_mmu.cpu_role.base.level, PT64_ROOT_4LEVEL);
	cr_assert(vcpu.arch.nested_mmu.cpu_role.base.guest_mode);
	cr_assert_eq(is_cr4_smep(&vcpu.arch.nested_mmu), true);
	/* root_mmu is left alone */
	cr_assert_eq(vcpu.arch.root_mmu.cpu_role.as_u64, 0u);
	/* permissions[] were computed: a user write to a read-only page faults */
	cr_assert_neq(permission_fault(&vcpu, &vcpu.arch.nested_mmu,
				       ACC_ALL & ~ACC_WRITE_MASK, 0,
				       PFERR_WRITE_MASK | PFERR_USER_MASK), 0u);
}

/*
 * Re-initialisation is skipped when both role words are unchanged: the
 * derived tables are only rebuilt when a role bit changes.
 */
Test(role, init_mmu_skips_unchanged)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46 };
	struct kvm_mmu *mmu;

	set_regs(&vcpu, PG | X86_CR0_WP, X86_CR4_PAE, LM | EFER_NX);
	kvm_init_mmu(&vcpu);
	mmu = vcpu.arch.mmu;
	mmu->permissions[3] = 0x5a;
	kvm_init_mmu(&vcpu);
	cr_assert_eq(mmu->permissions[3], 0x5a, "same roles: not rebuilt");

	/* CR3 is not part of the role either */
	vcpu.arch.cr3 = 0x1000;
	kvm_init_mmu(&vcpu);
	cr_assert_eq(mmu->permissions[3], 0x5a);

	vcpu.arch.cr0 &= ~X86_CR0_WP;
	kvm_init_mmu(&vcpu);
	cr_assert_neq(mmu->permissions[3], 0x5a, "WP changed: rebuilt");
}

/*
 * The walker installed for each guest paging mode: none for CR0.PG=0,
 * 8-byte PTEs for PAE and long mode, 4-byte for 32-bit paging; EPT for a
 * nested EPT MMU, and the paging walkers for nested NPT.
 */
Test(role, gva_to_gpa_per_mode)
{
	static const struct { unsigned long cr0, cr4; u64 efer; int walker; } m[] = {
		{ X86_CR0_PE, 0, 0, 0 },
		{ PG, 0, 0, 32 },
		{ PG, X86_CR4_PAE, 0, 64 },
		{ PG, X86_CR4_PAE, LM, 64 },
	};
	size_t i;
	unsigned int tdp;

	for (tdp = 0; tdp < 2; tdp++)
		for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = tdp };

			set_regs(&vcpu, m[i].cr0, m[i].cr4, m[i].efer);
			kvm_init_mmu(&vcpu);
			cr_assert_eq(vcpu.arch.walk_mmu->gva_to_gpa,
				     m[i].walker == 64 ? paging64_gva_to_gpa :
				     m[i].walker == 32 ? paging32_gva_to_gpa :
				     nonpaging_gva_to_gpa, "tdp %u mode %zu", tdp, i);
		}

	{
		struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true,
					 .vendor = KVM_VENDOR_AMD };

		vcpu.arch.guest_mode = true;
		cr_assert_eq(kvm_init_shadow_ept_mmu(&vcpu, true, PG_LEVEL_1G, true,
						     false, VMX_EPTP_PWL_4), 0);
		cr_assert_eq(vcpu.arch.guest_mmu.gva_to_gpa, ept_gva_to_gpa);
		cr_assert_eq(kvm_init_shadow_npt_mmu(&vcpu, 0, 0, 0, 0), 0);
		cr_assert_eq(vcpu.arch.guest_mmu.gva_to_gpa, paging32_gva_to_gpa);
	}
}
