// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPTE construction (arch/x86/kvm/mmu/spte.c), per ACC layout: the old one
 * is kvm-x86/linux @8cd6d6724eae, the new one applies the series' 0025
 * (merged executable helpers), 0028 (ACC_READ_MASK -> present/R bit), 0032
 * (XS/XU split) and the NX huge page change of 0032.
 */
#include "mmu_internal.h"
#include "mmu_page.h"

/* kvm_mmu_set_ept_masks() */
void kvm_mmu_set_ept_masks(struct kvm_spte_masks *m, bool has_ad_bits,
			   bool has_exec_only)
{
	*m = (struct kvm_spte_masks){0};
	m->ept = true;
	m->ad_enabled = has_ad_bits;
	m->user_mask = 0;
	m->accessed_mask = VMX_EPT_ACCESS_BIT;
	m->dirty_mask = VMX_EPT_DIRTY_BIT;
	m->nx_mask = 0;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	(void)has_exec_only;
	/* R is ACC_READ_MASK now; bit 63 keeps every SPTE "present". */
	m->xs_mask = VMX_EPT_EXECUTABLE_MASK;
	/*
	 * ACC_EXEC and ACC_USER_EXEC always map to XS and XU, MBEC or not:
	 * without MBEC bit 10 is ignored by the CPU and XS == XU for
	 * non-nested pages (patch 0032).
	 */
	m->xu_mask = VMX_EPT_USER_EXECUTABLE_MASK;
	m->present_mask = VMX_EPT_SUPPRESS_VE_BIT;
	m->acc_track_mask = VMX_EPT_RWX_MASK | VMX_EPT_USER_EXECUTABLE_MASK;
#else
	/* ACC_USER_MASK doubles as "readable" for EPT before the series. */
	m->user_mask = VMX_EPT_READABLE_MASK;
	m->x_mask = VMX_EPT_EXECUTABLE_MASK;
	m->present_mask = (has_exec_only ? 0ull : VMX_EPT_READABLE_MASK) |
			  VMX_EPT_SUPPRESS_VE_BIT;
	m->acc_track_mask = VMX_EPT_RWX_MASK;
#endif
	m->host_writable_mask = EPT_SPTE_HOST_WRITABLE;
	m->mmu_writable_mask = EPT_SPTE_MMU_WRITABLE;
	m->memtype_mask = VMX_EPT_MT_MASK | VMX_EPT_IPAT_BIT;

	/*
	 * EPT Misconfigurations are generated if the value of bits 2:0 of
	 * an EPT paging-structure entry is 110b (write/execute).
	 */
	kvm_mmu_set_mmio_spte_mask(m, VMX_EPT_MISCONFIG_WX_VALUE,
				   VMX_EPT_RWX_MASK | VMX_EPT_SUPPRESS_VE_BIT, 0);
}

/* kvm_mmu_reset_all_pte_masks() - legacy paging and NPT */
void kvm_mmu_reset_all_pte_masks(struct kvm_spte_masks *m)
{
	u64 mask;

	*m = (struct kvm_spte_masks){0};
	m->ept = false;
	m->ad_enabled = true;
	m->user_mask = PT_USER_MASK;
	m->accessed_mask = PT_ACCESSED_MASK;
	m->dirty_mask = PT_DIRTY_MASK;
	m->nx_mask = PT64_NX_MASK;
	m->present_mask = PT_PRESENT_MASK;
	m->acc_track_mask = 0;
	m->host_writable_mask = DEFAULT_SPTE_HOST_WRITABLE;
	m->mmu_writable_mask = DEFAULT_SPTE_MMU_WRITABLE;

	/*
	 * A reserved PA bit makes MMIO SPTEs fault with PFEC.RSVD=1; with a
	 * 52-bit host there is none, and MMIO caching is off.
	 */
	mask = KVM_HOST_MAXPHYADDR < 52 ? BIT_ULL(51) | PT_PRESENT_MASK : 0;
	kvm_mmu_set_mmio_spte_mask(m, mask, mask, ACC_WRITE_MASK | ACC_USER_MASK);
}

/*
 * kvm_mmu_set_mmio_spte_mask() - the WARN_ON checks of spte.c that can
 * apply here (allowed bits, self-match); a zero value disables MMIO
 * caching (the module parameter mmio_caching is on).
 */
void kvm_mmu_set_mmio_spte_mask(struct kvm_spte_masks *m, u64 mmio_value,
				u64 mmio_mask, u64 access_mask)
{
	if (mmio_mask & ~SPTE_MMIO_ALLOWED_MASK)
		mmio_value = 0;
	if ((mmio_value & mmio_mask) != mmio_value)
		mmio_value = 0;
	m->enable_mmio_caching = mmio_value != 0;
	m->mmio_value = mmio_value;
	m->mmio_mask = mmio_mask;
	m->mmio_access_mask = access_mask;
}

/* make_mmio_spte() */
u64 make_mmio_spte(struct kvm_vcpu *vcpu, gfn_t gfn, unsigned int access)
{
	const struct kvm_spte_masks *m = &vcpu->kvm->masks;
	u64 spte = 0;	/* generation_mmio_spte_mask(0) */

	access &= m->mmio_access_mask;
	spte |= m->mmio_value | access;
	spte |= gfn << PAGE_SHIFT;
	return spte;
}

static u64 spte_shadow_accessed_mask(const struct kvm_spte_masks *m, u64 spte)
{
	return spte_ad_enabled(spte) ? m->accessed_mask : 0;
}

static u64 spte_shadow_dirty_mask(const struct kvm_spte_masks *m, u64 spte)
{
	return spte_ad_enabled(spte) ? m->dirty_mask : 0;
}

/* mark_spte_for_access_track() */
u64 mark_spte_for_access_track(const struct kvm_spte_masks *m, u64 spte)
{
	if (spte_ad_enabled(spte))
		return spte & ~m->accessed_mask;

	/* A/D off (EPT only): park the rights in the saved bits. */
	spte |= (spte & SHADOW_ACC_TRACK_SAVED_BITS_MASK) <<
		SHADOW_ACC_TRACK_SAVED_BITS_SHIFT;
	spte &= ~m->acc_track_mask;
	return spte;
}

/* make_spte() */
bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
	       unsigned int pte_access, gfn_t gfn, u64 pfn, u64 old_spte,
	       bool prefetch, bool can_unsync, bool host_writable,
	       u64 *new_spte)
{
	struct kvm *kvm = vcpu->kvm;
	const struct kvm_spte_masks *m = &kvm->masks;
	int level = sp->role.level;
	u64 spte = SPTE_MMU_PRESENT_MASK;
	bool wrprot = false;

	if (sp->role.ad_disabled)
		spte |= SPTE_TDP_AD_DISABLED;

	spte |= m->present_mask;
	if (!prefetch)
		spte |= spte_shadow_accessed_mask(m, spte);

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/*
	 * NX huge page mitigation: huge mappings are never executable; on EPT
	 * that covers user execution (XU) as well.
	 */
	if (level > PG_LEVEL_4K && kvm->nx_huge_pages) {
		pte_access &= ~ACC_EXEC_MASK;
		if (m->xu_mask)
			pte_access &= ~ACC_USER_EXEC_MASK;
	}

	if (pte_access & ACC_READ_MASK)
		spte |= PT_PRESENT_MASK;	/* or VMX_EPT_READABLE_MASK */

	if (m->nx_mask) {
		if (!(pte_access & ACC_EXEC_MASK))
			spte |= m->nx_mask;
		if (pte_access & ACC_USER_MASK)
			spte |= m->user_mask;
	} else {
		if (pte_access & ACC_EXEC_MASK)
			spte |= m->xs_mask;
		if (pte_access & ACC_USER_EXEC_MASK)
			spte |= m->xu_mask;
	}
#else
	if (level > PG_LEVEL_4K && (pte_access & ACC_EXEC_MASK) &&
	    kvm->nx_huge_pages)
		pte_access &= ~ACC_EXEC_MASK;

	if (pte_access & ACC_EXEC_MASK)
		spte |= m->x_mask;
	else
		spte |= m->nx_mask;

	if (pte_access & ACC_USER_MASK)
		spte |= m->user_mask;
#endif

	if (level > PG_LEVEL_4K)
		spte |= PT_PAGE_SIZE_MASK;

	if (m->memtype_mask)
		spte |= (MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT) |
			VMX_EPT_IPAT_BIT;	/* vmx_get_mt_mask() */
	if (host_writable)
		spte |= m->host_writable_mask;
	else
		pte_access &= ~ACC_WRITE_MASK;

	spte |= pfn << PAGE_SHIFT;

	if (pte_access & ACC_WRITE_MASK) {
		spte |= PT_WRITABLE_MASK | m->mmu_writable_mask;

		/*
		 * Already writable: write protection of shadowed gfns is the
		 * job of kvm_mmu_get_shadow_page / kvm_mmu_sync_roots.
		 */
		if (is_writable_pte(old_spte))
			goto out;

		/*
		 * Unsync shadow pages reachable through the new writable
		 * SPTE; if that is not possible (write-tracked gfn, or
		 * !can_unsync), map read-only.
		 */
		if (mmu_try_to_unsync_pages(kvm, gfn, can_unsync, prefetch)) {
			wrprot = true;
			pte_access &= ~ACC_WRITE_MASK;
			spte &= ~(PT_WRITABLE_MASK | m->mmu_writable_mask);
		}
	}

	if (pte_access & ACC_WRITE_MASK)
		spte |= spte_shadow_dirty_mask(m, spte);

out:
	if (prefetch)
		spte = mark_spte_for_access_track(m, spte);

	*new_spte = spte;
	return wrprot;
}

/* make_nonleaf_spte() */
u64 make_nonleaf_spte(const struct kvm_spte_masks *m, hpa_t child_hpa,
		      bool ad_disabled)
{
	u64 spte = SPTE_MMU_PRESENT_MASK;

	spte |= child_hpa | m->present_mask | PT_WRITABLE_MASK |
		PT_PRESENT_MASK /* or VMX_EPT_READABLE_MASK */ | m->user_mask;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	spte |= m->xs_mask | m->xu_mask;
#else
	spte |= m->x_mask;
#endif
	if (ad_disabled)
		spte |= SPTE_TDP_AD_DISABLED;
	else
		spte |= m->accessed_mask;

	return spte;
}
