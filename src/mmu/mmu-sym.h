/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Symbol prefixing for the twice-compiled MMU port.
 *
 * Every function with external linkage in src/mmu/ keeps its KVM name in the
 * source and is renamed here to tdp_old_<name> or tdp_new_<name>, so that
 * both builds link into one binary and the code still reads like KVM's.
 * Add a line for each new non-static function (the linker reports a
 * duplicate symbol if one is forgotten).
 */
#ifndef TDPSIM_MMU_SYM_H
#define TDPSIM_MMU_SYM_H

#include <tdpsim/mmu.h>

#if !defined(TDP_ACC_LAYOUT)
#error "TDP_ACC_LAYOUT must be defined (TDP_LAYOUT_OLD or TDP_LAYOUT_NEW)"
#endif

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define KVM_SYM(name) tdp_new_##name
#elif TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
#define KVM_SYM(name) tdp_old_##name
#else
#error "unknown TDP_ACC_LAYOUT"
#endif

/* permissions and roles (mmu.c) */
#define update_permission_bitmask	KVM_SYM(update_permission_bitmask)
#define update_pkru_bitmask		KVM_SYM(update_pkru_bitmask)
#define kvm_calc_cpu_role		KVM_SYM(kvm_calc_cpu_role)
#define reset_guest_rsvds_bits_mask	KVM_SYM(reset_guest_rsvds_bits_mask)
#define reset_rsvds_bits_mask_ept	KVM_SYM(reset_rsvds_bits_mask_ept)
#define kvm_init_mmu			KVM_SYM(kvm_init_mmu)
#define kvm_init_shadow_ept_mmu		KVM_SYM(kvm_init_shadow_ept_mmu)
#define kvm_init_shadow_npt_mmu		KVM_SYM(kvm_init_shadow_npt_mmu)
#define kvm_mmu_layout_name		KVM_SYM(kvm_mmu_layout_name)
#define kvm_mmu_get_tdp_level		KVM_SYM(kvm_mmu_get_tdp_level)

/* guest walker (walk.c, paging_tmpl instantiations) */
#define paging64_gva_to_gpa		KVM_SYM(paging64_gva_to_gpa)
#define paging32_gva_to_gpa		KVM_SYM(paging32_gva_to_gpa)
#define ept_gva_to_gpa			KVM_SYM(ept_gva_to_gpa)
#define paging64_walk_addr		KVM_SYM(paging64_walk_addr)
#define paging32_walk_addr		KVM_SYM(paging32_walk_addr)
#define ept_walk_addr			KVM_SYM(ept_walk_addr)
#define nonpaging_gva_to_gpa		KVM_SYM(nonpaging_gva_to_gpa)
#define kvm_translate_gpa		KVM_SYM(kvm_translate_gpa)
#define vmx_translate_nested_gpa	KVM_SYM(vmx_translate_nested_gpa)
#define svm_translate_nested_gpa	KVM_SYM(svm_translate_nested_gpa)
#define paging64_walk_addr_generic	KVM_SYM(paging64_walk_addr_generic)
#define paging32_walk_addr_generic	KVM_SYM(paging32_walk_addr_generic)
#define ept_walk_addr_generic		KVM_SYM(ept_walk_addr_generic)
#define nested_ept_get_eptp		KVM_SYM(nested_ept_get_eptp)
#define nested_svm_get_tdp_cr3		KVM_SYM(nested_svm_get_tdp_cr3)
#define nested_svm_get_tdp_pdptr	KVM_SYM(nested_svm_get_tdp_pdptr)

#endif /* TDPSIM_MMU_SYM_H */
