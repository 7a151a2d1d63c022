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

/* shadow pages, SPTEs, roots (spte.c, mmu_page.c) */
#define kvm_mmu_set_ept_masks		KVM_SYM(kvm_mmu_set_ept_masks)
#define kvm_mmu_reset_all_pte_masks	KVM_SYM(kvm_mmu_reset_all_pte_masks)
#define make_spte			KVM_SYM(make_spte)
#define make_nonleaf_spte		KVM_SYM(make_nonleaf_spte)
#define make_mmio_spte			KVM_SYM(make_mmio_spte)
#define kvm_mmu_set_mmio_spte_mask	KVM_SYM(kvm_mmu_set_mmio_spte_mask)
#define mark_mmio_spte			KVM_SYM(mark_mmio_spte)
#define mark_spte_for_access_track	KVM_SYM(mark_spte_for_access_track)
#define kvm_mmu_hpa_to_table		KVM_SYM(kvm_mmu_hpa_to_table)
#define kvm_mmu_init_vm			KVM_SYM(kvm_mmu_init_vm)
#define kvm_mmu_uninit_vm		KVM_SYM(kvm_mmu_uninit_vm)
#define kvm_mmu_create			KVM_SYM(kvm_mmu_create)
#define kvm_page_table_hashfn		KVM_SYM(kvm_page_table_hashfn)
#define kvm_mmu_find_shadow_page	KVM_SYM(kvm_mmu_find_shadow_page)
#define kvm_mmu_get_shadow_page		KVM_SYM(kvm_mmu_get_shadow_page)
#define kvm_mmu_child_role		KVM_SYM(kvm_mmu_child_role)
#define kvm_mmu_get_child_sp		KVM_SYM(kvm_mmu_get_child_sp)
#define link_shadow_page		KVM_SYM(link_shadow_page)
#define kvm_mmu_page_get_gfn		KVM_SYM(kvm_mmu_page_get_gfn)
#define kvm_mmu_page_get_access		KVM_SYM(kvm_mmu_page_get_access)
#define mmu_set_spte			KVM_SYM(mmu_set_spte)
#define drop_spte			KVM_SYM(drop_spte)
#define pte_list_count			KVM_SYM(pte_list_count)
#define gfn_to_rmap			KVM_SYM(gfn_to_rmap)
#define rmap_contains			KVM_SYM(rmap_contains)
#define kvm_gfn_is_write_tracked	KVM_SYM(kvm_gfn_is_write_tracked)
#define kvm_lpage_disallowed		KVM_SYM(kvm_lpage_disallowed)
#define kvm_mmu_slot_gfn_write_protect	KVM_SYM(kvm_mmu_slot_gfn_write_protect)
#define mmu_try_to_unsync_pages		KVM_SYM(mmu_try_to_unsync_pages)
#define kvm_mmu_sync_roots		KVM_SYM(kvm_mmu_sync_roots)
#define kvm_mmu_sync_prev_roots		KVM_SYM(kvm_mmu_sync_prev_roots)
#define mmu_sync_children		KVM_SYM(mmu_sync_children)
#define kvm_mmu_track_write		KVM_SYM(kvm_mmu_track_write)
#define kvm_mmu_prepare_zap_page	KVM_SYM(kvm_mmu_prepare_zap_page)
#define kvm_mmu_commit_zap_page		KVM_SYM(kvm_mmu_commit_zap_page)
#define kvm_mmu_zap_oldest_mmu_pages	KVM_SYM(kvm_mmu_zap_oldest_mmu_pages)
#define kvm_mmu_available_pages		KVM_SYM(kvm_mmu_available_pages)
#define make_mmu_pages_available	KVM_SYM(make_mmu_pages_available)
#define kvm_mmu_calculate_default_mmu_pages	KVM_SYM(kvm_mmu_calculate_default_mmu_pages)
#define kvm_mmu_change_mmu_pages	KVM_SYM(kvm_mmu_change_mmu_pages)
#define kvm_mmu_zap_all_fast		KVM_SYM(kvm_mmu_zap_all_fast)
#define kvm_mmu_unprotect_page		KVM_SYM(kvm_mmu_unprotect_page)
#define kvm_mmu_load			KVM_SYM(kvm_mmu_load)
#define kvm_mmu_unload			KVM_SYM(kvm_mmu_unload)
#define kvm_mmu_free_roots		KVM_SYM(kvm_mmu_free_roots)
#define kvm_mmu_new_pgd			KVM_SYM(kvm_mmu_new_pgd)
#define kvm_mmu_free_obsolete_roots	KVM_SYM(kvm_mmu_free_obsolete_roots)
#define kvm_mmu_invalidate_addr		KVM_SYM(kvm_mmu_invalidate_addr)
#define kvm_mmu_invlpg			KVM_SYM(kvm_mmu_invlpg)
#define shadow_walk_init_using_root	KVM_SYM(shadow_walk_init_using_root)
#define shadow_walk_okay		KVM_SYM(shadow_walk_okay)
#define shadow_walk_next		KVM_SYM(shadow_walk_next)
#define kvm_mmu_check_invariants	KVM_SYM(kvm_mmu_check_invariants)

/* fault path (fault.c, paging_fault_tmpl.h) and the engine (src/kvm/vm.c) */
#define kvm_inject_emulated_page_fault	KVM_SYM(kvm_inject_emulated_page_fault)
#define kvm_mmu_page_fault		KVM_SYM(kvm_mmu_page_fault)
#define kvm_mmu_init_fault_callbacks	KVM_SYM(kvm_mmu_init_fault_callbacks)
#define kvm_mmu_hugepage_adjust		KVM_SYM(kvm_mmu_hugepage_adjust)
#define disallowed_hugepage_adjust	KVM_SYM(disallowed_hugepage_adjust)
#define validate_direct_spte		KVM_SYM(validate_direct_spte)
#define kvm_mmu_faultin_pfn		KVM_SYM(kvm_mmu_faultin_pfn)
#define kvm_direct_pte_prefetch		KVM_SYM(kvm_direct_pte_prefetch)
#define page_fault_handle_page_track	KVM_SYM(page_fault_handle_page_track)
#define shadow_page_table_clear_flood	KVM_SYM(shadow_page_table_clear_flood)
#define is_page_fault_stale		KVM_SYM(is_page_fault_stale)
#define paging64_page_fault		KVM_SYM(paging64_page_fault)
#define paging32_page_fault		KVM_SYM(paging32_page_fault)
#define ept_page_fault			KVM_SYM(ept_page_fault)
#define paging64_sync_spte		KVM_SYM(paging64_sync_spte)
#define paging32_sync_spte		KVM_SYM(paging32_sync_spte)
#define ept_sync_spte			KVM_SYM(ept_sync_spte)
#define paging64_check_sp_gptes		KVM_SYM(paging64_check_sp_gptes)
#define paging32_check_sp_gptes		KVM_SYM(paging32_check_sp_gptes)
#define ept_check_sp_gptes		KVM_SYM(ept_check_sp_gptes)
#define paging64_check_sp_gpte		KVM_SYM(paging64_check_sp_gpte)
#define paging32_check_sp_gpte		KVM_SYM(paging32_check_sp_gpte)
#define ept_check_sp_gpte		KVM_SYM(ept_check_sp_gpte)
#define paging64_check_sp_gptes_range	KVM_SYM(paging64_check_sp_gptes_range)
#define paging32_check_sp_gptes_range	KVM_SYM(paging32_check_sp_gptes_range)
#define ept_check_sp_gptes_range	KVM_SYM(ept_check_sp_gptes_range)
#define kvm_mmu_check_init		KVM_SYM(kvm_mmu_check_init)
#define kvm_mmu_check_event		KVM_SYM(kvm_mmu_check_event)
#define kvm_mmu_check_full		KVM_SYM(kvm_mmu_check_full)
#define kvm_mmu_check_touched_sp	KVM_SYM(kvm_mmu_check_touched_sp)
#define kvm_mmu_check_touched_spte	KVM_SYM(kvm_mmu_check_touched_spte)

#endif /* TDPSIM_MMU_SYM_H */
