/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MMU entry points shared inside the port (arch/x86/kvm/mmu.h).
 * Implemented in src/mmu/mmu.c unless noted.
 */
#ifndef TDPSIM_MMU_MMU_H
#define TDPSIM_MMU_MMU_H

#include "kvm-vcpu.h"

/*
 * update_permission_bitmask() - precompute mmu->permissions[] from
 * mmu->cpu_role.  @tdp: this is the nested NPT MMU (guest_mmu on AMD), where
 * GMET makes U=0 irrelevant for reads/writes (the series' 3-argument form;
 * the old layout ignores it).  @ept: EPT format.
 */
void update_permission_bitmask(struct kvm_mmu *mmu, bool tdp, bool ept);
/* update_pkru_bitmask() - precompute mmu->pkru_mask (0 unless CR4.PKE). */
void update_pkru_bitmask(struct kvm_mmu *mmu);

/* kvm_calc_cpu_role() - the cpu role for a set of paging registers. */
union kvm_cpu_role kvm_calc_cpu_role(struct kvm_vcpu *vcpu,
				     const struct kvm_mmu_role_regs *regs);

/* Guest reserved-bit masks for the cpu role's paging mode / for EPT. */
void reset_guest_rsvds_bits_mask(struct kvm_vcpu *vcpu, struct kvm_mmu *context);
void reset_rsvds_bits_mask_ept(struct kvm_vcpu *vcpu, struct kvm_mmu *context,
			       bool execonly, int huge_page_level);

/*
 * kvm_init_mmu() - (re)initialize vcpu->arch.mmu / walk_mmu for the current
 * registers: shadow paging, TDP, or (guest_mode) the nested MMU.
 */
void kvm_init_mmu(struct kvm_vcpu *vcpu);
/*
 * kvm_init_shadow_ept_mmu() - guest_mmu shadows L1's EPT.  Returns 0, or
 * TDP_E_UNSUPP when @mbec is requested from the old layout.
 */
int kvm_init_shadow_ept_mmu(struct kvm_vcpu *vcpu, bool execonly,
			    int huge_page_level, bool accessed_dirty,
			    bool mbec, gpa_t new_eptp);
/*
 * kvm_init_shadow_npt_mmu() - guest_mmu shadows L1's NPT.  Returns 0, or
 * TDP_E_UNSUPP when GMET (misc_ctl bit 3) is requested from the old layout,
 * or TDP_E_INTERNAL unless vcpu->arch.guest_mode is set
 * (KVM's WARN_ON_ONCE: NPT is only shadowed for L2).
 */
int kvm_init_shadow_npt_mmu(struct kvm_vcpu *vcpu, unsigned long cr4,
			    u64 efer, gpa_t nested_cr3, u64 misc_ctl);

/* ---- role accessors (arch/x86/kvm/mmu/mmu.c: BUILD_MMU_ROLE_ACCESSOR) ----
 *
 * Each reads one bit of mmu->cpu_role, i.e. of the *guest* paging mode this
 * MMU walks, never the vCPU's live registers: for guest_mmu under nested NPT
 * the role holds the hard-coded L1 values, not L2's.
 */
#define BUILD_MMU_ROLE_ACCESSOR(base_or_ext, reg, name)			\
static inline bool is_##reg##_##name(const struct kvm_mmu *mmu)	\
{									\
	return !!(mmu->cpu_role.base_or_ext.reg##_##name);		\
}
BUILD_MMU_ROLE_ACCESSOR(base, cr0, wp)
BUILD_MMU_ROLE_ACCESSOR(ext,  cr4, pse)
BUILD_MMU_ROLE_ACCESSOR(ext,  cr4, smap)
BUILD_MMU_ROLE_ACCESSOR(ext,  cr4, pke)
BUILD_MMU_ROLE_ACCESSOR(ext,  cr4, la57)
BUILD_MMU_ROLE_ACCESSOR(base, efer, nx)
BUILD_MMU_ROLE_ACCESSOR(ext,  efer, lma)
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
/* patch 0033: CR4.SMEP (or MBEC / GMET) lives in the base role. */
BUILD_MMU_ROLE_ACCESSOR(base, cr4, smep)

/* has_pferr_fetch() - may a fetch fault report PFERR_FETCH_MASK (0041)? */
static inline bool has_pferr_fetch(const struct kvm_mmu *mmu)
{
	return mmu->cpu_role.ext.has_pferr_fetch;
}

/* mmu_has_mbec() - the shadowed EPT uses bit 10 as XU (spte.h, 0037). */
static inline bool mmu_has_mbec(const struct kvm_mmu *mmu)
{
	return mmu->root_role.cr4_smep;
}
#else
BUILD_MMU_ROLE_ACCESSOR(ext,  cr4, smep)

/*
 * Pre-series the walker tested "is_efer_nx(mmu) || is_cr4_smep(mmu)"
 * inline; one name lets the walker read the same in both layouts.
 */
static inline bool has_pferr_fetch(const struct kvm_mmu *mmu)
{
	return is_efer_nx(mmu) || is_cr4_smep(mmu);
}

/* No MBEC before the series: bit 10 of a guest EPTE is ignored. */
static inline bool mmu_has_mbec(const struct kvm_mmu *mmu)
{
	return false;
}
#endif
#undef BUILD_MMU_ROLE_ACCESSOR

/* is_cr0_pg() - paging on: the role has a level (kvm_calc_cpu_role). */
static inline bool is_cr0_pg(const struct kvm_mmu *mmu)
{
	return mmu->cpu_role.base.level > 0;
}

/* is_cr4_pae() - 8-byte guest PTEs (PAE, 4- or 5-level paging). */
static inline bool is_cr4_pae(const struct kvm_mmu *mmu)
{
	return !mmu->cpu_role.base.has_4_byte_gpte;
}

/*
 * permission_fault() - does an access with error code @access to a page with
 * accumulated rights @pte_access (ACC_* format) and protection key @pte_pkey
 * fault?  (arch/x86/kvm/mmu.h; kvm_mmu_refresh_passthrough_bits() is left
 * out because CR0.WP is never guest-owned in the simulator.)
 *
 * Returns 0 if allowed, else PFERR_PRESENT_MASK, plus PFERR_PK_MASK when the
 * PKRU check failed.  The caller ORs in W/U/F.
 *
 * Invariants: @access has none of PK/SS/RSVD set (bits 32 and up are dropped
 * here: they are nested-paging and KVM-synthetic bits); @pte_access <= ACC_ALL.
 * Both make the index < 16 and the shift < the width of permissions[].
 */
static inline u32 permission_fault(const struct kvm_vcpu *vcpu,
				   const struct kvm_mmu *mmu,
				   unsigned int pte_access,
				   unsigned int pte_pkey, u64 access)
{
	unsigned int pfec = (u32)access;
	/*
	 * SMAP applies to supervisor data accesses; EFLAGS.AC=1 lifts it only
	 * for explicit ones.  not_smap takes the place of PFERR_RSVD in the
	 * index: that bit is never set in pfec.  For user accesses it has no
	 * bearing on the result (see update_permission_bitmask()).
	 */
	u64 implicit_access = access & PFERR_IMPLICIT_ACCESS;
	bool not_smap = ((vcpu->arch.rflags & X86_EFLAGS_AC) | implicit_access) ==
			X86_EFLAGS_AC;
	unsigned int index = (pfec | (not_smap ? PFERR_RSVD_MASK : 0)) >> 1;
	u32 errcode = PFERR_PRESENT_MASK;
	u32 fault;

	fault = (mmu->permissions[index] >> pte_access) & 1;

	if (__builtin_expect(mmu->pkru_mask != 0, 0)) {
		u32 pkru_bits, offset;

		/* 2 bits (AD, WD) per key in PKRU */
		pkru_bits = (vcpu->arch.pkru >> (pte_pkey * 2)) & 3;

		/* clear P, and put the PTE's U bit in the RSVD slot */
		offset = (pfec & ~1u) |
			 ((pte_access & PT_USER_MASK) ? PFERR_RSVD_MASK : 0);

		pkru_bits &= mmu->pkru_mask >> offset;
		errcode |= -pkru_bits & PFERR_PK_MASK;
		fault |= (pkru_bits != 0);
	}

	return -fault & errcode;
}

/*
 * kvm_mmu_get_tdp_level() - levels of KVM's own EPT/NPT: 5 only when the
 * guest can address more than 48 bits (mmu.c: "Use 5-level TDP if and only
 * if it's useful/necessary"), modelling a host with 5-level EPT/NPT.
 */
int kvm_mmu_get_tdp_level(struct kvm_vcpu *vcpu);

#endif /* TDPSIM_MMU_MMU_H */
