/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SPTE encoding (arch/x86/kvm/mmu/spte.h): bit positions per ACC layout and
 * per format (legacy/NPT vs EPT), the shadow_*_mask values of a VM, and the
 * predicates the shadow MMU and the hardware model use.
 *
 * Software bits of a shadow-present SPTE:
 *
 *   old layout (pre-series, ~v6.7)       new layout (series 0022/0023/0032)
 *   bit 11     SPTE_MMU_PRESENT          bit 11     SPTE_MMU_PRESENT
 *   bits 52-53 A/D type (TDP)            bit 52     saved R   (access track)
 *   bits 54,56 saved R, X (acc. track)   bit 53     host-writable
 *   bit 57     host-writable (EPT)       bit 54     saved X(S)
 *   bit 58     MMU-writable  (EPT)       bit 55     MMU-writable
 *   bits 9,10  host/MMU-writable (!EPT)  bits 60-61 A/D type (TDP)
 *                                        bit 62     saved XU
 *
 * The new layout frees bit 10 (EPT XU, "user-executable" under MBEC) and
 * keeps both writable bits in the high ignored bits for both formats.
 * Saved bits are (spte & (R|X[|XU])) << 52, so R/X/XU land on 52/54/62.
 */
#ifndef TDPSIM_SPTE_H
#define TDPSIM_SPTE_H

#include "mmu-int.h"

#define SPTE_MMU_PRESENT_MASK		BIT_ULL(11)
#define SPTE_BASE_ADDR_MASK		GENMASK_ULL(51, 12)

#define VMX_EPT_SUPPRESS_VE_BIT		BIT_ULL(63)
#define VMX_EPT_MT_MASK			(7ull << VMX_EPT_MT_EPTE_SHIFT)
#define MTRR_TYPE_WRBACK		6

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define SPTE_TDP_AD_SHIFT		60
#define SHADOW_ACC_TRACK_SAVED_BITS_MASK (VMX_EPT_READABLE_MASK |	\
					  VMX_EPT_EXECUTABLE_MASK |	\
					  VMX_EPT_USER_EXECUTABLE_MASK)
#define SHADOW_ACC_TRACK_SAVED_BITS_SHIFT 52
/*
 * 0023 ("shuffle high bits of SPTEs", pve-kernel patches/kernel/0023-*,
 * read at pve-kernel 6e44995): host- and MMU-writable move to 53/55 for
 * EPT only; non-EPT SPTEs keep bits 9/10 ("bits 62:52 are _reserved_ for
 * PAE paging", the patch's own comment -- src/hw refuses them there).
 */
#define EPT_SPTE_HOST_WRITABLE		BIT_ULL(53)
#define EPT_SPTE_MMU_WRITABLE		BIT_ULL(55)
#define DEFAULT_SPTE_HOST_WRITABLE	BIT_ULL(9)
#define DEFAULT_SPTE_MMU_WRITABLE	BIT_ULL(10)
#else
#define SPTE_TDP_AD_SHIFT		52
#define SHADOW_ACC_TRACK_SAVED_BITS_MASK (VMX_EPT_READABLE_MASK |	\
					  VMX_EPT_EXECUTABLE_MASK)
#define SHADOW_ACC_TRACK_SAVED_BITS_SHIFT 54
#define EPT_SPTE_HOST_WRITABLE		BIT_ULL(57)
#define EPT_SPTE_MMU_WRITABLE		BIT_ULL(58)
#define DEFAULT_SPTE_HOST_WRITABLE	BIT_ULL(9)
#define DEFAULT_SPTE_MMU_WRITABLE	BIT_ULL(10)
#endif
#define SPTE_TDP_AD_MASK		(3ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_ENABLED		(0ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_DISABLED		(1ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_WRPROT_ONLY		(2ULL << SPTE_TDP_AD_SHIFT)
#define SHADOW_ACC_TRACK_SAVED_MASK	(SHADOW_ACC_TRACK_SAVED_BITS_MASK << \
					 SHADOW_ACC_TRACK_SAVED_BITS_SHIFT)
static_assert(SPTE_TDP_AD_ENABLED == 0, "AD enabled is the zero value");
static_assert(!(SPTE_TDP_AD_MASK & SHADOW_ACC_TRACK_SAVED_MASK), "ad vs saved");
static_assert(!(EPT_SPTE_HOST_WRITABLE & (SPTE_TDP_AD_MASK |
					  SHADOW_ACC_TRACK_SAVED_MASK)), "hw");
static_assert(!(EPT_SPTE_MMU_WRITABLE & (SPTE_TDP_AD_MASK |
					 SHADOW_ACC_TRACK_SAVED_MASK)), "mw");
static_assert(!(SPTE_MMU_PRESENT_MASK & (SPTE_TDP_AD_MASK |
					 SHADOW_ACC_TRACK_SAVED_MASK)), "mp");
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
/* bit 10 must stay free: it is EPT XU (VMX_EPT_USER_EXECUTABLE_MASK). */
static_assert(!((EPT_SPTE_HOST_WRITABLE | EPT_SPTE_MMU_WRITABLE) &
		VMX_EPT_USER_EXECUTABLE_MASK), "bit 10 is XU");
static_assert((VMX_EPT_READABLE_MASK << 52) == BIT_ULL(52) &&
	      (VMX_EPT_EXECUTABLE_MASK << 52) == BIT_ULL(54) &&
	      (VMX_EPT_USER_EXECUTABLE_MASK << 52) == BIT_ULL(62),
	      "saved R/X/XU on 52/54/62, see the diagram");
#endif
#undef SHADOW_ACC_TRACK_SAVED_MASK

/*
 * The shadow_*_mask globals of spte.c, per VM here because one process may
 * simulate an EPT and an NPT VM.  Set by kvm_mmu_set_ept_masks() or
 * kvm_mmu_reset_all_pte_masks().
 */
struct kvm_spte_masks {
	bool ept;			/* format: EPT vs legacy/NPT */
	bool ad_enabled;		/* kvm_ad_enabled */
	u64 host_writable_mask;
	u64 mmu_writable_mask;
	u64 nx_mask;
	u64 user_mask;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	u64 xs_mask;			/* exclusive with nx_mask, user_mask */
	u64 xu_mask;
#else
	u64 x_mask;			/* exclusive with nx_mask */
#endif
	u64 accessed_mask;
	u64 dirty_mask;
	u64 present_mask;
	u64 memtype_mask;
	u64 acc_track_mask;
	/* kvm_mmu_set_mmio_spte_mask(): shadow_mmio_value/mask/access_mask */
	u64 mmio_value;
	u64 mmio_mask;
	u64 mmio_access_mask;
	bool enable_mmio_caching;
};

/*
 * The simulated host's MAXPHYADDR (kvm_host.maxphyaddr): 52, as src/hw
 * is told (struct hw_mem.host_maxphyaddr) and as the host pfn rule needs
 * (mmu_internal.h).  With 52 bits no PA bit is reserved in a 64-bit PTE,
 * so kvm_mmu_reset_all_pte_masks() has no MMIO value for shadow paging
 * and NPT: enable_mmio_caching is false there, and MMIO faults are
 * emulated without touching the shadow tables (kvm_handle_noslot_fault).
 * EPT marks MMIO with a misconfiguration (W+X without R) whatever
 * MAXPHYADDR is.
 */
#define KVM_HOST_MAXPHYADDR		52
#define VMX_EPT_MISCONFIG_WX_VALUE	(VMX_EPT_WRITABLE_MASK | VMX_EPT_EXECUTABLE_MASK)
/*
 * SPTE_MMIO_ALLOWED_MASK: bits an MMIO value may use (bit 63, PA bits,
 * RWX and, with the series' 0022, EPT bit 10).  The MMIO generation
 * (spte bits 3-9/10 and 52-62) is always 0 here: one memslot that never
 * changes, so check_mmio_spte() always matches.  No L1TF mitigation is
 * modelled (shadow_nonpresent_or_rsvd_mask = 0).
 */
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define SPTE_MMIO_ALLOWED_MASK	(BIT_ULL(63) | GENMASK_ULL(51, 12) | \
				 BIT_ULL(10) | GENMASK_ULL(2, 0))
#else
#define SPTE_MMIO_ALLOWED_MASK	(BIT_ULL(63) | GENMASK_ULL(51, 12) | GENMASK_ULL(2, 0))
#endif
/* KVM_PFN_NOSLOT (include/linux/kvm_host.h): the pfn of a gfn without memslot */
#define KVM_PFN_NOSLOT			(1ULL << 63)

static inline bool is_noslot_pfn(u64 pfn)
{
	return pfn == KVM_PFN_NOSLOT;
}

/* kvm_mmu_set_mmio_spte_mask() */
void kvm_mmu_set_mmio_spte_mask(struct kvm_spte_masks *m, u64 mmio_value,
				u64 mmio_mask, u64 access_mask);

/* is_mmio_spte() */
static inline bool is_mmio_spte(const struct kvm_spte_masks *m, u64 spte)
{
	return (spte & m->mmio_mask) == m->mmio_value && m->enable_mmio_caching;
}

/* get_mmio_spte_gfn() (shadow_nonpresent_or_rsvd_mask = 0) */
static inline gfn_t get_mmio_spte_gfn(u64 spte)
{
	return (spte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

/* get_mmio_spte_access() */
static inline unsigned int get_mmio_spte_access(const struct kvm_spte_masks *m,
						u64 spte)
{
	return (unsigned int)(spte & m->mmio_access_mask);
}

/*
 * kvm_mmu_set_ept_masks() - EPT format.  @has_exec_only is used by the old
 * layout only (no read bit in ACC: R came from shadow_user_mask, and a
 * non-exec-only CPU needed R in shadow_present_mask).
 */
void kvm_mmu_set_ept_masks(struct kvm_spte_masks *m, bool has_ad_bits,
			   bool has_exec_only);
/* kvm_mmu_reset_all_pte_masks() - legacy paging / NPT format. */
void kvm_mmu_reset_all_pte_masks(struct kvm_spte_masks *m);

static inline bool is_shadow_present_pte(u64 pte)
{
	return !!(pte & SPTE_MMU_PRESENT_MASK);
}

static inline bool is_large_pte(u64 pte)
{
	return pte & PT_PAGE_SIZE_MASK;
}

static inline bool is_last_spte(u64 pte, int level)
{
	return level == PG_LEVEL_4K || is_large_pte(pte);
}

static inline bool is_writable_pte(u64 pte)
{
	return pte & PT_WRITABLE_MASK;
}

static inline bool is_mmu_writable_spte(const struct kvm_spte_masks *m, u64 spte)
{
	return spte & m->mmu_writable_mask;
}

static inline u64 spte_to_pfn(u64 pte)
{
	return (pte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

static inline bool spte_ad_enabled(u64 spte)
{
	return (spte & SPTE_TDP_AD_MASK) != SPTE_TDP_AD_DISABLED;
}

/* is_executable_pte(): any execute right (XS or XU; legacy: NX clear). */
static inline bool is_executable_pte(const struct kvm_spte_masks *m, u64 spte)
{
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	return (spte & (m->xs_mask | m->xu_mask | m->nx_mask)) != m->nx_mask;
#else
	return (spte & (m->x_mask | m->nx_mask)) == m->x_mask;
#endif
}

/* is_access_track_spte() */
static inline bool is_access_track_spte(const struct kvm_spte_masks *m, u64 spte)
{
	return !spte_ad_enabled(spte) && (spte & m->acc_track_mask) == 0;
}

/* restore_acc_track_spte(): put the parked rights back. */
static inline u64 restore_acc_track_spte(const struct kvm_spte_masks *m, u64 spte)
{
	u64 saved_bits = (spte >> SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) &
			 SHADOW_ACC_TRACK_SAVED_BITS_MASK;

	spte &= ~m->acc_track_mask;
	spte &= ~(SHADOW_ACC_TRACK_SAVED_BITS_MASK <<
		  SHADOW_ACC_TRACK_SAVED_BITS_SHIFT);
	spte |= saved_bits;
	return spte;
}

/* Host frame backing a guest frame (mmu_internal.h documents the rule). */
#define HOST_GUEST_PFN_BASE	(1ull << 24)
static inline u64 kvm_gfn_to_host_pfn(gfn_t gfn)
{
	return gfn + HOST_GUEST_PFN_BASE;
}

struct kvm_vcpu;
struct kvm_mmu_page;

/*
 * make_spte() - the leaf SPTE mapping @gfn (host frame @pfn) at the level of
 * @sp with ACC_* rights @pte_access.  Returns true if the SPTE had to be
 * write-protected (the gfn is shadowed and cannot be unsync'd).
 */
bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
	       unsigned int pte_access, gfn_t gfn, u64 pfn, u64 old_spte,
	       bool prefetch, bool can_unsync, bool host_writable,
	       u64 *new_spte);
/* make_mmio_spte() - the MMIO SPTE for @gfn (generation 0). */
u64 make_mmio_spte(struct kvm_vcpu *vcpu, gfn_t gfn, unsigned int access);
/* make_nonleaf_spte() - a table entry pointing at @child_hpa. */
u64 make_nonleaf_spte(const struct kvm_spte_masks *m, hpa_t child_hpa,
		      bool ad_disabled);
/* mark_spte_for_access_track() - make the SPTE fault on next access. */
u64 mark_spte_for_access_track(const struct kvm_spte_masks *m, u64 spte);

#endif /* TDPSIM_SPTE_H */
