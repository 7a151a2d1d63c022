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
 * TDP_E_UNSUPP when GMET (misc_ctl bit 3) is requested from the old layout.
 */
int kvm_init_shadow_npt_mmu(struct kvm_vcpu *vcpu, unsigned long cr4,
			    u64 efer, gpa_t nested_cr3, u64 misc_ctl);

#endif /* TDPSIM_MMU_MMU_H */
