/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Public, layout-independent view of the MMU port.
 *
 * The port in src/mmu/ is compiled twice: once with the pre-series ACC layout
 * (ACC_EXEC=1, WRITE=2, USER=4; u8 permissions[16]) and once with the
 * MBEC/GMET series' layout (ACC_READ=1, WRITE=2, USER/USER_EXEC=4, EXEC=8;
 * u16 permissions[16]).  Callers outside src/mmu/ pick one build through
 * struct tdp_mmu_ops at start-up; nothing on the per-event path branches on
 * the layout.
 */
#ifndef TDPSIM_MMU_H
#define TDPSIM_MMU_H

/* Values of TDP_ACC_LAYOUT (set per build by CMake). Macros, for #if. */
#define TDP_LAYOUT_OLD 0
#define TDP_LAYOUT_NEW 1

#include <stdbool.h>
#include <stdint.h>

/*
 * A permission question in architectural terms, so that both layouts (and
 * an SDM/APM oracle) can answer it and be compared.
 *
 * mode        which kind of table the rights come from:
 *   PAGING    the guest's own IA-32e 4-level tables (root_mmu, TDP on)
 *   EPT       L1's EPT, shadowed for L2 (guest_mmu, Intel)
 *   NPT       L1's NPT, shadowed for L2 (guest_mmu, AMD)
 * cr0_wp, cr4_*, efer_nx
 *             PAGING: the guest's registers.  NPT: L1's CR4/EFER as given to
 *             kvm_init_shadow_npt_mmu (CR0 is hard-coded there).  EPT: unused.
 * mbec_gmet   EPT: L1 enabled MBEC.  NPT: L1 enabled GMET.
 * w, u, nx    PAGING/NPT: accumulated R/W, U/S and XD of the walk.
 * r, w, xs, xu
 *             EPT: accumulated R, W, X (XS under MBEC), XU (bit 10).
 * pkey, pkru  protection key of the page, and PKRU.
 * user        PAGING/NPT: CPL 3.  EPT: the U/S of the guest linear address
 *             (what MBEC's XU/XS choice depends on).
 * ac          EFLAGS.AC.
 * implicit    implicit supervisor access (PFERR_IMPLICIT_ACCESS).
 * op          read, write or instruction fetch.
 */
enum tdp_perm_mode {
	TDP_PERM_PAGING,
	TDP_PERM_EPT,
	TDP_PERM_NPT,
};

enum tdp_perm_op {
	TDP_PERM_READ,
	TDP_PERM_WRITE,
	TDP_PERM_FETCH,
};

struct tdp_perm_query {
	enum tdp_perm_mode mode;
	enum tdp_perm_op op;
	bool cr0_wp, cr4_smep, cr4_smap, cr4_pke, efer_nx;
	bool mbec_gmet;
	bool r, w, u, nx, xs, xu;
	uint8_t pkey;
	uint32_t pkru;
	bool user, ac, implicit;
};

/* Bits of a permission_fault() result (KVM's PFERR_PRESENT/PK_MASK). */
#define TDP_PFERR_PRESENT	0x1u
#define TDP_PFERR_PK		0x20u

/*
 * struct tdp_mmu_ops - one build of the MMU port.
 * @name:   "old" (pre-series ACC layout) or "new" (MBEC/GMET series)
 * @layout: TDP_LAYOUT_OLD or TDP_LAYOUT_NEW
 * @perm_query: set up the MMU the way KVM does for @q->mode (kvm_init_mmu,
 *	kvm_init_shadow_ept_mmu, kvm_init_shadow_npt_mmu), encode the rights
 *	and the access in this layout's ACC_* / PFERR_* form (as the walker
 *	and the EPT-violation / nested-walk paths do), and store the result of
 *	permission_fault() in *@errcode: 0 if allowed, else TDP_PFERR_PRESENT
 *	plus TDP_PFERR_PK if the protection-key check failed.  Returns 0,
 *	TDP_E_UNSUPP for MBEC/GMET on the old layout, TDP_E_USAGE for a bad
 *	mode/op or a pkey > 15.  Not for the hot path (it rebuilds the tables).
 */
struct tdp_mmu_ops {
	const char *name;
	int layout;
	int (*perm_query)(const struct tdp_perm_query *q, uint32_t *errcode);
};

extern const struct tdp_mmu_ops tdp_mmu_old_ops, tdp_mmu_new_ops;

/* tdp_mmu_ops_find() - the build called @name ("old", "new"), or NULL. */
const struct tdp_mmu_ops *tdp_mmu_ops_find(const char *name);

#endif /* TDPSIM_MMU_H */
