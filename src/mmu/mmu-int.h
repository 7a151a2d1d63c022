/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MMU port's internal header: KVM's constants, ACC layouts, roles and
 * struct kvm_mmu, as arch/x86/include/asm/kvm_host.h, arch/x86/kvm/mmu.h and
 * arch/x86/kvm/mmu/spte.h define them, for one ACC layout per build.
 *
 * Included only by src/mmu/ and by *_layout tests/benches, which are built
 * with TDP_ACC_LAYOUT set.  Never included by layout-independent code.
 */
#ifndef TDPSIM_MMU_INT_H
#define TDPSIM_MMU_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu-sym.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef uint64_t gpa_t;
typedef uint64_t gva_t;
typedef uint64_t gfn_t;
typedef uint64_t hpa_t;

#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))

#define PAGE_SHIFT		12
#define PAGE_SIZE		(1ULL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#define INVALID_GPA		(~(gpa_t)0)
#define INVALID_PAGE		(~(hpa_t)0)
#define UNMAPPED_GVA		(~(gpa_t)0)

/* ---- paging levels (arch/x86/include/asm/pgtable_types.h, kvm_host.h) ---- */
enum pg_level {
	PG_LEVEL_NONE,
	PG_LEVEL_4K,
	PG_LEVEL_2M,
	PG_LEVEL_1G,
	PG_LEVEL_512G,
};
#define PT64_ROOT_5LEVEL	5
#define PT64_ROOT_4LEVEL	4
#define PT32E_ROOT_LEVEL	3
#define PT32_ROOT_LEVEL		2
#define PT64_ROOT_MAX_LEVEL	PT64_ROOT_5LEVEL
#define KVM_MAX_HUGEPAGE_LEVEL	PG_LEVEL_1G
#define KVM_NR_PAGE_SIZES	(KVM_MAX_HUGEPAGE_LEVEL - PG_LEVEL_4K + 1)

/* ---- guest PTE bits (arch/x86/kvm/mmu.h) ---- */
#define PT_PRESENT_SHIFT	0
#define PT_PRESENT_MASK		(1ULL << PT_PRESENT_SHIFT)
#define PT_WRITABLE_SHIFT	1
#define PT_WRITABLE_MASK	(1ULL << PT_WRITABLE_SHIFT)
#define PT_USER_SHIFT		2
#define PT_USER_MASK		(1ULL << PT_USER_SHIFT)
#define PT_PWT_MASK		(1ULL << 3)
#define PT_PCD_MASK		(1ULL << 4)
#define PT_ACCESSED_SHIFT	5
#define PT_ACCESSED_MASK	(1ULL << PT_ACCESSED_SHIFT)
#define PT_DIRTY_SHIFT		6
#define PT_DIRTY_MASK		(1ULL << PT_DIRTY_SHIFT)
#define PT_PAGE_SIZE_SHIFT	7
#define PT_PAGE_SIZE_MASK	(1ULL << PT_PAGE_SIZE_SHIFT)
#define PT_PAT_MASK		(1ULL << 7)
#define PT_GLOBAL_MASK		(1ULL << 8)
#define PT64_NX_SHIFT		63
#define PT64_NX_MASK		(1ULL << PT64_NX_SHIFT)
#define PT_DIR_PAT_SHIFT	12
#define PT_DIR_PAT_MASK		(1ULL << PT_DIR_PAT_SHIFT)
#define PT32_DIR_PSE36_SIZE	4
#define PT32_DIR_PSE36_SHIFT	13
#define PT32_DIR_PSE36_MASK \
	(((1ULL << PT32_DIR_PSE36_SIZE) - 1) << PT32_DIR_PSE36_SHIFT)

/* ---- page-fault error code (kvm_host.h) ---- */
#define PFERR_PRESENT_BIT	0
#define PFERR_WRITE_BIT		1
#define PFERR_USER_BIT		2
#define PFERR_RSVD_BIT		3
#define PFERR_FETCH_BIT		4
#define PFERR_PK_BIT		5
#define PFERR_SS_BIT		6
#define PFERR_SGX_BIT		15
#define PFERR_PRESENT_MASK	BIT(PFERR_PRESENT_BIT)
#define PFERR_WRITE_MASK	BIT(PFERR_WRITE_BIT)
#define PFERR_USER_MASK		BIT(PFERR_USER_BIT)
#define PFERR_RSVD_MASK		BIT(PFERR_RSVD_BIT)
#define PFERR_FETCH_MASK	BIT(PFERR_FETCH_BIT)
#define PFERR_PK_MASK		BIT(PFERR_PK_BIT)
#define PFERR_SS_MASK		BIT(PFERR_SS_BIT)
#define PFERR_SGX_MASK		BIT(PFERR_SGX_BIT)
#define PFERR_GUEST_FINAL_MASK	BIT_ULL(32)
#define PFERR_GUEST_PAGE_MASK	BIT_ULL(33)
#define PFERR_IMPLICIT_ACCESS	BIT_ULL(48)
#define PFERR_PRIVATE_ACCESS	BIT_ULL(49)
#define PFERR_SYNTHETIC_MASK	(PFERR_IMPLICIT_ACCESS | PFERR_PRIVATE_ACCESS)
#define PFERR_NESTED_GUEST_PAGE \
	(PFERR_GUEST_PAGE_MASK | PFERR_WRITE_MASK | PFERR_PRESENT_MASK)

#define X86_EFLAGS_AC_BIT	18
#define X86_EFLAGS_AC		BIT(X86_EFLAGS_AC_BIT)

/* ---- control registers ---- */
#define X86_CR0_PE		BIT(0)
#define X86_CR0_WP		BIT(16)
#define X86_CR0_PG		BIT(31)
#define X86_CR4_PSE		BIT(4)
#define X86_CR4_PAE		BIT(5)
#define X86_CR4_PGE		BIT(7)
#define X86_CR4_LA57		BIT(12)
#define X86_CR4_PCIDE		BIT(17)
#define X86_CR4_SMEP		BIT(20)
#define X86_CR4_SMAP		BIT(21)
#define X86_CR4_PKE		BIT(22)
#define EFER_LME		BIT(8)
#define EFER_LMA		BIT(10)
#define EFER_NX			BIT(11)

/* ---- EPT entry bits and exit qualification (arch/x86/include/asm/vmx.h) ---- */
#define VMX_EPT_READABLE_MASK		0x1ull
#define VMX_EPT_WRITABLE_MASK		0x2ull
#define VMX_EPT_EXECUTABLE_MASK		0x4ull
#define VMX_EPT_RWX_MASK		0x7ull
#define VMX_EPT_IPAT_BIT		(1ull << 6)
#define VMX_EPT_ACCESS_BIT		(1ull << 8)
#define VMX_EPT_DIRTY_BIT		(1ull << 9)
#define VMX_EPT_USER_EXECUTABLE_MASK	(1ull << 10)
#define VMX_EPT_MT_EPTE_SHIFT		3
#define VMX_EPTP_AD_ENABLE_BIT		(1ull << 6)
#define VMX_EPTP_PWL_MASK		0x38ull
#define VMX_EPTP_PWL_4			0x18ull
#define VMX_EPTP_PWL_5			0x20ull

#define EPT_VIOLATION_ACC_READ		BIT(0)
#define EPT_VIOLATION_ACC_WRITE		BIT(1)
#define EPT_VIOLATION_ACC_INSTR		BIT(2)
#define EPT_VIOLATION_PROT_READ		BIT(3)
#define EPT_VIOLATION_PROT_WRITE	BIT(4)
#define EPT_VIOLATION_PROT_EXEC		BIT(5)
#define EPT_VIOLATION_PROT_USER_EXEC	BIT(6)
#define EPT_VIOLATION_PROT_MASK		(EPT_VIOLATION_PROT_READ |	\
					 EPT_VIOLATION_PROT_WRITE |	\
					 EPT_VIOLATION_PROT_EXEC |	\
					 EPT_VIOLATION_PROT_USER_EXEC)
#define EPT_VIOLATION_GVA_IS_VALID	BIT(7)
#define EPT_VIOLATION_GVA_TRANSLATED	BIT(8)
#define EPT_VIOLATION_GVA_USER		BIT(9)
#define EPT_VIOLATION_GVA_WRITABLE	BIT(10)
#define EPT_VIOLATION_GVA_NX		BIT(11)
#define EPT_VIOLATION_RWX_TO_PROT(__epte) (((__epte) & VMX_EPT_RWX_MASK) << 3)
#define EPT_VIOLATION_USER_EXEC_TO_PROT(__epte) \
	(((__epte) & VMX_EPT_USER_EXECUTABLE_MASK) >> 4)
static_assert(EPT_VIOLATION_RWX_TO_PROT(VMX_EPT_RWX_MASK) ==
	      (EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_WRITE |
	       EPT_VIOLATION_PROT_EXEC), "RWX_TO_PROT");
static_assert(EPT_VIOLATION_USER_EXEC_TO_PROT(VMX_EPT_USER_EXECUTABLE_MASK) ==
	      EPT_VIOLATION_PROT_USER_EXEC, "USER_EXEC_TO_PROT");

/* AMD VMCB misc_ctl (formerly nested_ctl) */
#define SVM_MISC_ENABLE_NP		BIT(0)
#define SVM_MISC_ENABLE_GMET		BIT(3)

/* ---- the ACC layouts ----
 *
 * Pre-series (old):                 Series (new, patch 0028/0032):
 *   bit 0  ACC_EXEC_MASK              bit 0  ACC_READ_MASK  (= PT_PRESENT_MASK)
 *   bit 1  ACC_WRITE_MASK             bit 1  ACC_WRITE_MASK (= PT_WRITABLE_MASK)
 *   bit 2  ACC_USER_MASK              bit 2  ACC_USER_MASK  (= PT_USER_MASK; paging/NPT)
 *          (EPT: "readable")                 ACC_USER_EXEC_MASK (same bit; EPT XU)
 *                                     bit 3  ACC_EXEC_MASK  (X / EPT XS)
 *   ACC_ALL 7, u8 permissions[16]     ACC_ALL 15, u16 permissions[16]
 *
 * permissions[] is indexed by pfec >> 1 and holds one bit per ACC
 * combination, so its element needs 1 << (number of ACC bits) bits.
 * Update the diagram above if you change these.
 */
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define ACC_READ_MASK		PT_PRESENT_MASK
#define ACC_WRITE_MASK		PT_WRITABLE_MASK
#define ACC_USER_MASK		PT_USER_MASK
#define ACC_USER_EXEC_MASK	ACC_USER_MASK
#define ACC_EXEC_MASK		8
#define ACC_ALL			(ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK | \
				 ACC_READ_MASK)
#define ACC_BITS		4
typedef u16 kvm_perm_mask_t;
#else
#define ACC_EXEC_MASK		1
#define ACC_WRITE_MASK		PT_WRITABLE_MASK
#define ACC_USER_MASK		PT_USER_MASK
#define ACC_ALL			(ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)
#define ACC_BITS		3
typedef u8 kvm_perm_mask_t;
#endif
static_assert(ACC_ALL == (1u << ACC_BITS) - 1, "ACC bits are dense");
static_assert(sizeof(kvm_perm_mask_t) * 8 == (1u << ACC_BITS),
	      "one permissions[] bit per ACC combination");
static_assert(ACC_WRITE_MASK == PT_WRITABLE_MASK && ACC_USER_MASK == PT_USER_MASK,
	      "W and U share their PTE bit positions");

/* ---- union kvm_mmu_page_role (kvm_host.h) ----
 *
 * u32 word, LSB first:
 *
 *  old:  3         2 2 2 1 1 1 1 1 1 1 1 1 1
 *        1 ....... 4 3..20 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0
 *        [  smm  ] [pad ] M P G A S S W N I [acc] D [q] 4 [level]
 *  new:  [  smm  ] [p]E M P G A S W N I [ access] D [q] 4 [level]
 *
 *  level 0-3, has_4_byte_gpte 4, quadrant 5-6, direct 7,
 *  old: access 8-10, invalid 11, efer_nx 12, cr0_wp 13, smep_andnot_wp 14,
 *       smap_andnot_wp 15, ad_disabled 16, guest_mode 17, passthrough 18,
 *       is_mirror 19, pad 20-23, smm 24-31
 *  new: access 8-11, invalid 12, efer_nx 13, cr0_wp 14, smap_andnot_wp 15,
 *       ad_disabled 16, guest_mode 17, passthrough 18, is_mirror 19,
 *       cr4_smep 20, pad 21-23, smm 24-31
 *
 * Two shadow pages for one gfn match only if the whole word matches.  The
 * ROLE_*_SHIFT values below are checked against the bitfields by the role
 * tests (bitfield positions are not integer constant expressions in C).
 */
union kvm_mmu_page_role {
	u32 word;
	struct {
		unsigned level:4;
		unsigned has_4_byte_gpte:1;
		unsigned quadrant:2;
		unsigned direct:1;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		unsigned access:4;
		unsigned invalid:1;
		unsigned efer_nx:1;
		unsigned cr0_wp:1;
		unsigned smap_andnot_wp:1;
		unsigned ad_disabled:1;
		unsigned guest_mode:1;
		unsigned passthrough:1;
		unsigned is_mirror:1;
		/*
		 * CR4.SMEP for shadow paging; MBEC for nested EPT and GMET for
		 * nested NPT (and for KVM's own TDP root when it runs with
		 * them).  In the base role because it changes which SPTEs are
		 * present (EPT bit 10) and which need U=0 (GMET).
		 */
		unsigned cr4_smep:1;
		unsigned :3;
#else
		unsigned access:3;
		unsigned invalid:1;
		unsigned efer_nx:1;
		unsigned cr0_wp:1;
		unsigned smep_andnot_wp:1;
		unsigned smap_andnot_wp:1;
		unsigned ad_disabled:1;
		unsigned guest_mode:1;
		unsigned passthrough:1;
		unsigned is_mirror:1;
		unsigned :4;
#endif
		unsigned smm:8;
	};
};
static_assert(sizeof(union kvm_mmu_page_role) == sizeof(u32), "role is a u32");

#define ROLE_LEVEL_SHIFT	0
#define ROLE_HAS_4_BYTE_SHIFT	4
#define ROLE_QUADRANT_SHIFT	5
#define ROLE_DIRECT_SHIFT	7
#define ROLE_ACCESS_SHIFT	8
#define ROLE_INVALID_SHIFT	(ROLE_ACCESS_SHIFT + ACC_BITS)
#define ROLE_EFER_NX_SHIFT	(ROLE_INVALID_SHIFT + 1)
#define ROLE_CR0_WP_SHIFT	(ROLE_EFER_NX_SHIFT + 1)
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define ROLE_SMAP_ANDNOT_WP_SHIFT 15
#define ROLE_CR4_SMEP_SHIFT	20
#else
#define ROLE_SMEP_ANDNOT_WP_SHIFT 14
#define ROLE_SMAP_ANDNOT_WP_SHIFT 15
#endif
#define ROLE_AD_DISABLED_SHIFT	16
#define ROLE_GUEST_MODE_SHIFT	17
#define ROLE_PASSTHROUGH_SHIFT	18
#define ROLE_IS_MIRROR_SHIFT	19
#define ROLE_SMM_SHIFT		24
static_assert(ROLE_CR0_WP_SHIFT == 13 + (ACC_BITS - 3), "cr0_wp follows access");

/* ---- union kvm_mmu_extended_role ---- */
union kvm_mmu_extended_role {
	u32 word;
	struct {
		unsigned int valid:1;
		unsigned int execonly:1;
		unsigned int cr4_pse:1;
		unsigned int cr4_pke:1;
		unsigned int cr4_smap:1;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
		unsigned int cr4_smep:1;
#endif
		unsigned int cr4_la57:1;
		unsigned int efer_lma:1;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		/*
		 * True if either CR4.SMEP or EFER.NXE is set: whether a fetch
		 * fault reports PFERR_FETCH_MASK.  For AMD NPT this is L1's
		 * real CR4.SMEP, while base.cr4_smep means GMET (patch 0041).
		 */
		unsigned int has_pferr_fetch:1;
#endif
	};
};

union kvm_cpu_role {
	u64 as_u64;
	struct {
		union kvm_mmu_page_role base;
		union kvm_mmu_extended_role ext;
	};
};
static_assert(sizeof(union kvm_cpu_role) == sizeof(u64), "cpu role is a u64");

/* Registers that determine the cpu role (struct kvm_mmu_role_regs). */
struct kvm_mmu_role_regs {
	const unsigned long cr0;
	const unsigned long cr4;
	const u64 efer;
};

/* ---- reserved bits ---- */
struct rsvd_bits_validate {
	u64 rsvd_bits_mask[2][PT64_ROOT_MAX_LEVEL];	/* [bit7 of PTE][level-1] */
	u64 bad_mt_xwr;					/* EPT: bit per (pte & 0x3f) */
};

/* ---- fault record (struct x86_exception, kvm_emulate.h) ----
 * error_code is u64 here (KVM: u16) so that PFERR_GUEST_FINAL/PAGE survive
 * into the record for nested NPF reflection, as the kvm_pagewalk refactor
 * does with PFERR_GUEST_FAULT_STAGE_MASK.
 */
struct x86_exception {
	u8 vector;
	bool error_code_valid;
	u64 error_code;
	bool nested_page_fault;
	u64 address;			/* CR2 or nested page-fault GPA */
	u64 exit_qualification;		/* EPT violation: walker-built bits */
};
#define PF_VECTOR 14

#define KVM_MMU_NUM_PREV_ROOTS	3
struct kvm_mmu_root_info {
	gpa_t pgd;
	hpa_t hpa;
};

struct kvm_vcpu;
struct kvm_mmu_page;
struct kvm_page_fault;

/* ---- struct kvm_mmu (kvm_host.h) ----
 * One instance per "MMU context" of a vCPU: root_mmu (L1, or non-nested),
 * guest_mmu (L1's EPT/NPT, shadowed for L2) and nested_mmu (walks L2's page
 * tables, translating each table GPA through guest_mmu).
 */
struct kvm_mmu {
	unsigned long (*get_guest_pgd)(struct kvm_vcpu *vcpu);
	u64 (*get_pdptr)(struct kvm_vcpu *vcpu, int index);
	int (*page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
	void (*inject_page_fault)(struct kvm_vcpu *vcpu,
				  struct x86_exception *fault);
	gpa_t (*gva_to_gpa)(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			    gpa_t gva_or_gpa, u64 access,
			    struct x86_exception *exception);
	int (*sync_spte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i);
	struct kvm_mmu_root_info root;
	union kvm_cpu_role cpu_role;
	union kvm_mmu_page_role root_role;

	/*
	 * The pkru_mask indicates if protection key checks are needed.  It
	 * consists of 16 domains indexed by page fault error code bits [4:1],
	 * with PFEC.RSVD replaced by ACC_USER_MASK from the page tables.
	 * Each domain has 2 bits which are ANDed with AD and WD from PKRU.
	 */
	u32 pkru_mask;

	struct kvm_mmu_root_info prev_roots[KVM_MMU_NUM_PREV_ROOTS];

	/*
	 * Bitmap; bit set = permission fault.
	 * Element index: page fault error code [4:1] (RSVD slot = "not subject
	 * to SMAP"); bit index: pte permissions in ACC_* format.
	 */
	kvm_perm_mask_t permissions[16];

	u64 *pae_root;
	u64 *pml4_root;
	u64 *pml5_root;

	struct rsvd_bits_validate shadow_zero_check;
	struct rsvd_bits_validate guest_rsvd_check;

	u64 pdptrs[4];		/* pae */
};

#endif /* TDPSIM_MMU_INT_H */
