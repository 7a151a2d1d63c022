// SPDX-License-Identifier: GPL-2.0-only
/*
 * The permission half of the MMU core: cpu/root role computation, the
 * permissions[] and pkru_mask tables, guest reserved-bit masks, and the
 * kvm_init_*mmu() entry points (arch/x86/kvm/mmu/mmu.c).
 *
 * One source for both ACC layouts.  Where they differ, TDP_LAYOUT_OLD is
 * mainline before the MBEC/GMET series and TDP_LAYOUT_NEW is the series as
 * carried by proxmox/pve-kernel patches 0020-0047.
 *
 * The guest CPUID is the one trace-text.md fixes: NX, PSE, PSE-36, PAE, PGE,
 * 1 GiB pages, SMEP, SMAP (PKU and LA57 only gate register bits, which the
 * trace already respects), so guest_cpu_cap_has() reduces to constants here.
 */
#include <tdpsim/errors.h>

#include "paging.h"	/* the walker's gva_to_gpa entry points; includes mmu.h */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Guest CPUID bits that shape the reserved-bit masks (see above). */
#define GUEST_HAS_GBPAGES	true
#define GUEST_HAS_PSE36		true

/* rsvd_bits() - mask of bits @s..@e inclusive (mmu.h); empty if e < s. */
static inline u64 rsvd_bits(int s, int e)
{
	if (e < s)
		return 0;
	return GENMASK_ULL(e, s);
}

/* ---- register-based predicates (mmu.c: BUILD_MMU_ROLE_REGS_ACCESSOR) ---- */
static inline bool ____is_cr0_pg(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr0 & X86_CR0_PG;
}

static inline bool ____is_cr0_wp(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr0 & X86_CR0_WP;
}

static inline bool ____is_cr4_pse(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_PSE;
}

static inline bool ____is_cr4_pae(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_PAE;
}

static inline bool ____is_cr4_smep(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_SMEP;
}

static inline bool ____is_cr4_smap(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_SMAP;
}

static inline bool ____is_cr4_pke(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_PKE;
}

static inline bool ____is_cr4_la57(const struct kvm_mmu_role_regs *regs)
{
	return regs->cr4 & X86_CR4_LA57;
}

static inline bool ____is_efer_lma(const struct kvm_mmu_role_regs *regs)
{
	return regs->efer & EFER_LMA;
}

static inline bool ____is_efer_nx(const struct kvm_mmu_role_regs *regs)
{
	return regs->efer & EFER_NX;
}

/* vcpu_to_role_regs() - the registers of the current (L1 or L2) context. */
static struct kvm_mmu_role_regs vcpu_to_role_regs(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_role_regs regs = {
		.cr0 = vcpu->arch.cr0 & (X86_CR0_PG | X86_CR0_WP),
		.cr4 = vcpu->arch.cr4 & (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_LA57 |
					 X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE),
		.efer = vcpu->arch.efer & (EFER_LME | EFER_LMA | EFER_NX),
	};

	return regs;
}

/* ---- kvm_calc_cpu_role() ---- */
union kvm_cpu_role kvm_calc_cpu_role(struct kvm_vcpu *vcpu,
				     const struct kvm_mmu_role_regs *regs)
{
	union kvm_cpu_role role = {0};

	role.base.access = ACC_ALL;
	role.base.smm = 0;		/* no SMM in the simulator */
	role.base.guest_mode = vcpu->arch.guest_mode;
	role.ext.valid = 1;

	if (!____is_cr0_pg(regs)) {
		role.base.direct = 1;
		return role;
	}

	role.base.efer_nx = ____is_efer_nx(regs);
	role.base.cr0_wp = ____is_cr0_wp(regs);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	role.base.cr4_smep = ____is_cr4_smep(regs);
#else
	role.base.smep_andnot_wp = ____is_cr4_smep(regs) && !____is_cr0_wp(regs);
#endif
	role.base.smap_andnot_wp = ____is_cr4_smap(regs) && !____is_cr0_wp(regs);
	role.base.has_4_byte_gpte = !____is_cr4_pae(regs);

	if (____is_efer_lma(regs))
		role.base.level = ____is_cr4_la57(regs) ? PT64_ROOT_5LEVEL
							: PT64_ROOT_4LEVEL;
	else if (____is_cr4_pae(regs))
		role.base.level = PT32E_ROOT_LEVEL;
	else
		role.base.level = PT32_ROOT_LEVEL;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	role.ext.cr4_smep = ____is_cr4_smep(regs);
#endif
	role.ext.cr4_smap = ____is_cr4_smap(regs);
	role.ext.cr4_pse = ____is_cr4_pse(regs);

	/* PKEY and LA57 are active iff long mode is active. */
	role.ext.cr4_pke = ____is_efer_lma(regs) && ____is_cr4_pke(regs);
	role.ext.cr4_la57 = ____is_efer_lma(regs) && ____is_cr4_la57(regs);
	role.ext.efer_lma = ____is_efer_lma(regs);

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/*
	 * Computed here, before kvm_init_shadow_npt_mmu() may repurpose
	 * base.cr4_smep as GMET: the I/D bit still follows L1's SMEP/NXE.
	 */
	role.ext.has_pferr_fetch = role.base.efer_nx | role.base.cr4_smep;
#endif
	return role;
}

int kvm_mmu_get_tdp_level(struct kvm_vcpu *vcpu)
{
	return vcpu->maxphyaddr > 48 ? PT64_ROOT_5LEVEL : PT64_ROOT_4LEVEL;
}

/* ---- reserved bits ---- */

/*
 * __reset_rsvds_bits_mask() - reserved bits of guest paging entries, indexed
 * [PS bit][level - 1].  @pa_bits_rsvd: bits MAXPHYADDR..63.  @amd: bit 8 of
 * non-leaf PML4Es/PDPEs is reserved on AMD only.
 */
static void __reset_rsvds_bits_mask(struct rsvd_bits_validate *rsvd_check,
				    u64 pa_bits_rsvd, int level, bool nx,
				    bool gbpages, bool pse, bool amd)
{
	u64 gbpages_bit_rsvd = 0;
	u64 nonleaf_bit8_rsvd = 0;
	u64 high_bits_rsvd;

	rsvd_check->bad_mt_xwr = 0;

	if (!gbpages)
		gbpages_bit_rsvd = rsvd_bits(7, 7);

	if (level == PT32E_ROOT_LEVEL)
		high_bits_rsvd = pa_bits_rsvd & rsvd_bits(0, 62);
	else
		high_bits_rsvd = pa_bits_rsvd & rsvd_bits(0, 51);

	/* NX does not exist in PDPTEs; that case is handled below. */
	if (!nx)
		high_bits_rsvd |= rsvd_bits(63, 63);

	if (amd)
		nonleaf_bit8_rsvd = rsvd_bits(8, 8);

	switch (level) {
	case PT32_ROOT_LEVEL:
		/* no reserved bits in 2-level 4K entries */
		rsvd_check->rsvd_bits_mask[0][1] = 0;
		rsvd_check->rsvd_bits_mask[0][0] = 0;
		rsvd_check->rsvd_bits_mask[1][0] = rsvd_check->rsvd_bits_mask[0][0];

		if (!pse) {
			rsvd_check->rsvd_bits_mask[1][1] = 0;
			break;
		}

		if (GUEST_HAS_PSE36)
			/* PSE-36: bits 20:13 hold PA 39:32; KVM reserves 21:17 */
			rsvd_check->rsvd_bits_mask[1][1] = rsvd_bits(17, 21);
		else
			/* 32-bit PSE 4MB page */
			rsvd_check->rsvd_bits_mask[1][1] = rsvd_bits(13, 21);
		break;
	case PT32E_ROOT_LEVEL:
		rsvd_check->rsvd_bits_mask[0][2] = rsvd_bits(63, 63) |
						   high_bits_rsvd |
						   rsvd_bits(5, 8) |
						   rsvd_bits(1, 2);
		rsvd_check->rsvd_bits_mask[0][1] = high_bits_rsvd;
		rsvd_check->rsvd_bits_mask[0][0] = high_bits_rsvd;
		rsvd_check->rsvd_bits_mask[1][1] = high_bits_rsvd |
						   rsvd_bits(13, 20);
		rsvd_check->rsvd_bits_mask[1][0] = rsvd_check->rsvd_bits_mask[0][0];
		break;
	case PT64_ROOT_5LEVEL:
		rsvd_check->rsvd_bits_mask[0][4] = high_bits_rsvd |
						   nonleaf_bit8_rsvd |
						   rsvd_bits(7, 7);
		rsvd_check->rsvd_bits_mask[1][4] = rsvd_check->rsvd_bits_mask[0][4];
		/* fallthrough */
	case PT64_ROOT_4LEVEL:
		rsvd_check->rsvd_bits_mask[0][3] = high_bits_rsvd |
						   nonleaf_bit8_rsvd |
						   rsvd_bits(7, 7);
		rsvd_check->rsvd_bits_mask[0][2] = high_bits_rsvd |
						   gbpages_bit_rsvd;
		rsvd_check->rsvd_bits_mask[0][1] = high_bits_rsvd;
		rsvd_check->rsvd_bits_mask[0][0] = high_bits_rsvd;
		rsvd_check->rsvd_bits_mask[1][3] = rsvd_check->rsvd_bits_mask[0][3];
		rsvd_check->rsvd_bits_mask[1][2] = high_bits_rsvd |
						   gbpages_bit_rsvd |
						   rsvd_bits(13, 29);
		rsvd_check->rsvd_bits_mask[1][1] = high_bits_rsvd |
						   rsvd_bits(13, 20);
		rsvd_check->rsvd_bits_mask[1][0] = rsvd_check->rsvd_bits_mask[0][0];
		break;
	}
}

/* vcpu->arch.reserved_gpa_bits: bits MAXPHYADDR..63 of a GPA. */
static u64 reserved_gpa_bits(const struct kvm_vcpu *vcpu)
{
	return rsvd_bits(vcpu->maxphyaddr, 63);
}

void reset_guest_rsvds_bits_mask(struct kvm_vcpu *vcpu, struct kvm_mmu *context)
{
	__reset_rsvds_bits_mask(&context->guest_rsvd_check,
				reserved_gpa_bits(vcpu),
				context->cpu_role.base.level, is_efer_nx(context),
				GUEST_HAS_GBPAGES, is_cr4_pse(context),
				vcpu->vendor == KVM_VENDOR_AMD);
}

/*
 * __reset_rsvds_bits_mask_ept() - EPT entries: reserved bits per level, and
 * bad_mt_xwr, a 64-bit set indexed by EPTE bits 5:0 (memtype 5:3, XWR 2:0).
 *
 * bad_mt_xwr bit i = 8 * mt + xwr:
 *   mt 2, 3, 7           whole byte (reserved memory types)
 *   xwr 010 (W only)     bit 2 of every byte
 *   xwr 110 (W+X)        bit 6 of every byte
 *   xwr 100 (X only)     bit 4 of every byte, unless execute-only is supported
 * With MBEC the walker folds XU (bit 10) into X before the lookup (0037,
 * __is_bad_mt_xwr), so XU-only and W+XU entries hit the X rows.
 */
#define REPEAT_BYTE(x)	((~0ull / 0xff) * (x))
static void __reset_rsvds_bits_mask_ept(struct rsvd_bits_validate *rsvd_check,
					u64 pa_bits_rsvd, bool execonly,
					int huge_page_level)
{
	u64 high_bits_rsvd = pa_bits_rsvd & rsvd_bits(0, 51);
	u64 large_1g_rsvd = 0, large_2m_rsvd = 0;
	u64 bad_mt_xwr;

	if (huge_page_level < PG_LEVEL_1G)
		large_1g_rsvd = rsvd_bits(7, 7);
	if (huge_page_level < PG_LEVEL_2M)
		large_2m_rsvd = rsvd_bits(7, 7);

	rsvd_check->rsvd_bits_mask[0][4] = high_bits_rsvd | rsvd_bits(3, 7);
	rsvd_check->rsvd_bits_mask[0][3] = high_bits_rsvd | rsvd_bits(3, 7);
	rsvd_check->rsvd_bits_mask[0][2] = high_bits_rsvd | rsvd_bits(3, 6) |
					   large_1g_rsvd;
	rsvd_check->rsvd_bits_mask[0][1] = high_bits_rsvd | rsvd_bits(3, 6) |
					   large_2m_rsvd;
	rsvd_check->rsvd_bits_mask[0][0] = high_bits_rsvd;

	/* large pages */
	rsvd_check->rsvd_bits_mask[1][4] = rsvd_check->rsvd_bits_mask[0][4];
	rsvd_check->rsvd_bits_mask[1][3] = rsvd_check->rsvd_bits_mask[0][3];
	rsvd_check->rsvd_bits_mask[1][2] = high_bits_rsvd | rsvd_bits(12, 29) |
					   large_1g_rsvd;
	rsvd_check->rsvd_bits_mask[1][1] = high_bits_rsvd | rsvd_bits(12, 20) |
					   large_2m_rsvd;
	rsvd_check->rsvd_bits_mask[1][0] = rsvd_check->rsvd_bits_mask[0][0];

	bad_mt_xwr = 0xFFull << (2 * 8);	/* memtype 2 */
	bad_mt_xwr |= 0xFFull << (3 * 8);	/* memtype 3 */
	bad_mt_xwr |= 0xFFull << (7 * 8);	/* memtype 7 */
	bad_mt_xwr |= REPEAT_BYTE(1ull << 2);	/* XWR 010 */
	bad_mt_xwr |= REPEAT_BYTE(1ull << 6);	/* XWR 110 */
	if (!execonly)
		bad_mt_xwr |= REPEAT_BYTE(1ull << 4);	/* XWR 100 */
	rsvd_check->bad_mt_xwr = bad_mt_xwr;
}
#undef REPEAT_BYTE

void reset_rsvds_bits_mask_ept(struct kvm_vcpu *vcpu, struct kvm_mmu *context,
			       bool execonly, int huge_page_level)
{
	__reset_rsvds_bits_mask_ept(&context->guest_rsvd_check,
				    reserved_gpa_bits(vcpu), execonly,
				    huge_page_level);
}

/* ---- permissions[] ---- */

/*
 * ACC_BITS_MASK(a) - bit i set iff ACC combination i contains ACC bit(s) @a.
 *
 * update_permission_bitmask() builds a two-dimensional array of bools: the
 * first dimension is pfec >> 1, the second the bits of permissions[i], one
 * per ACC combination; &, | and ~ on these masks evaluate a predicate for
 * every combination at once.  Bit 0 (no rights at all) is never set.
 */
#define ACC_BITS_MASK(access)						\
	((kvm_perm_mask_t)(						\
	 (1 & (access) ? 1u << 1 : 0) | (2 & (access) ? 1u << 2 : 0) |	\
	 (3 & (access) ? 1u << 3 : 0) | (4 & (access) ? 1u << 4 : 0) |	\
	 (5 & (access) ? 1u << 5 : 0) | (6 & (access) ? 1u << 6 : 0) |	\
	 (7 & (access) ? 1u << 7 : 0) | (8 & (access) ? 1u << 8 : 0) |	\
	 (9 & (access) ? 1u << 9 : 0) | (10 & (access) ? 1u << 10 : 0) |	\
	 (11 & (access) ? 1u << 11 : 0) | (12 & (access) ? 1u << 12 : 0) | \
	 (13 & (access) ? 1u << 13 : 0) | (14 & (access) ? 1u << 14 : 0) | \
	 (15 & (access) ? 1u << 15 : 0)))
static_assert(ACC_BITS_MASK(ACC_WRITE_MASK) == (kvm_perm_mask_t)0xcccc,
	      "W is bit 1 of the ACC index in both layouts");

/*
 * update_permission_bitmask() - see mmu.h.
 *
 * Per pfec (P shifted out, RSVD standing for "not subject to SMAP"), each
 * *f mask has a bit for every ACC combination that faults:
 *   rf    read of a non-readable entry (new layout; only EPT can lack R)
 *   wf    write to a non-writable entry (supervisor writes exempt if !WP)
 *   uf    user access to a supervisor entry (not EPT; not NPT with GMET)
 *   ff    fetch of a non-executable entry, plus the SMEP/GMET kf term, or
 *         for EPT with MBEC, XU/XS chosen by the guest PTE U bit
 *   smapf supervisor data access to a user entry under SMAP
 * Old layout (mainline before patch 0027): EPT reads arrive as
 * PFERR_USER_MASK and ACC_USER_MASK means "readable", so uf doubles as the
 * EPT read check; there is no rf, MBEC or GMET and @tdp is ignored.
 */
void update_permission_bitmask(struct kvm_mmu *mmu, bool tdp, bool ept)
{
	const kvm_perm_mask_t w = ACC_BITS_MASK(ACC_WRITE_MASK);
	const kvm_perm_mask_t x = ACC_BITS_MASK(ACC_EXEC_MASK);
	const kvm_perm_mask_t u = ACC_BITS_MASK(ACC_USER_MASK);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	const kvm_perm_mask_t r = ACC_BITS_MASK(ACC_READ_MASK);
#endif
	bool cr4_smep = is_cr4_smep(mmu);
	bool cr4_smap = is_cr4_smap(mmu);
	bool cr0_wp = is_cr0_wp(mmu);
	bool efer_nx = is_efer_nx(mmu);
	unsigned int byte;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	(void)tdp;
#endif
	for (byte = 0; byte < ARRAY_SIZE(mmu->permissions); ++byte) {
		unsigned int pfec = byte << 1;
		kvm_perm_mask_t wf = (pfec & PFERR_WRITE_MASK) ? (kvm_perm_mask_t)~w : 0;
		kvm_perm_mask_t uf = 0;
		kvm_perm_mask_t ff = 0;
		kvm_perm_mask_t smapf = 0;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		kvm_perm_mask_t rf = (pfec & (PFERR_WRITE_MASK | PFERR_FETCH_MASK)) ?
				     0 : (kvm_perm_mask_t)~r;

		if (ept) {
			const kvm_perm_mask_t xs = ACC_BITS_MASK(ACC_EXEC_MASK);
			const kvm_perm_mask_t xu = ACC_BITS_MASK(ACC_USER_EXEC_MASK);

			if (pfec & PFERR_FETCH_MASK) {
				/* XU only counts with MBEC (cr4_smep) */
				if (cr4_smep)
					ff = (pfec & PFERR_USER_MASK) ?
					     (kvm_perm_mask_t)~xu : (kvm_perm_mask_t)~xs;
				else
					ff = (kvm_perm_mask_t)~xs;
			}
		} else {
			/* kernel-mode accesses to user pages */
			kvm_perm_mask_t kf = (pfec & PFERR_USER_MASK) ? 0 : u;

			/* NPT with GMET: U=0 does not restrict reads/writes */
			if (!(tdp && cr4_smep))
				uf = (pfec & PFERR_USER_MASK) ? (kvm_perm_mask_t)~u : 0;
			if (efer_nx)
				ff = (pfec & PFERR_FETCH_MASK) ? (kvm_perm_mask_t)~x : 0;
			/* supervisor writes ignore W if !CR0.WP */
			if (!cr0_wp)
				wf = (pfec & PFERR_USER_MASK) ? wf : 0;
			/* SMEP; for NPT+GMET, supervisor fetch of U=1 */
			if (cr4_smep)
				ff |= (pfec & PFERR_FETCH_MASK) ? kf : 0;
			/*
			 * SMAP: supervisor data accesses to user pages fault
			 * unless the RSVD slot (not_smap) says EFLAGS.AC=1 on
			 * an explicit access.  User accesses get kf = 0, so
			 * the slot's value does not matter for them.
			 */
			if (cr4_smap)
				smapf = (pfec & (PFERR_RSVD_MASK | PFERR_FETCH_MASK)) ?
					0 : kf;
		}
		mmu->permissions[byte] = ff | uf | wf | rf | smapf;
#else
		kvm_perm_mask_t smepf = 0;

		uf = (pfec & PFERR_USER_MASK) ? (kvm_perm_mask_t)~u : 0;
		ff = (pfec & PFERR_FETCH_MASK) ? (kvm_perm_mask_t)~x : 0;
		if (!ept) {
			kvm_perm_mask_t kf = (pfec & PFERR_USER_MASK) ? 0 : u;

			/* !EFER.NX: the walker reports NX=1 as reserved */
			if (!efer_nx)
				ff = 0;
			if (!cr0_wp)
				wf = (pfec & PFERR_USER_MASK) ? wf : 0;
			if (cr4_smep)
				smepf = (pfec & PFERR_FETCH_MASK) ? kf : 0;
			if (cr4_smap)
				smapf = (pfec & (PFERR_RSVD_MASK | PFERR_FETCH_MASK)) ?
					0 : kf;
		}
		mmu->permissions[byte] = ff | uf | wf | smepf | smapf;
#endif
	}
}

/*
 * update_pkru_bitmask() - pkru_mask has 2 bits per pfec >> 1 (RSVD slot =
 * the PTE's U bit): bit 0 is ANDed with PKRU.AD, bit 1 with PKRU.WD.
 * Protection keys apply to data accesses to user pages only; WD blocks
 * supervisor writes only when CR0.WP=1.
 */
void update_pkru_bitmask(struct kvm_mmu *mmu)
{
	unsigned int bit;
	bool wp;

	mmu->pkru_mask = 0;

	if (!is_cr4_pke(mmu))
		return;

	wp = is_cr0_wp(mmu);

	for (bit = 0; bit < ARRAY_SIZE(mmu->permissions); ++bit) {
		unsigned int pfec = bit << 1, pkey_bits;
		bool check_pkey, check_write, ff, uf, wf, pte_user;

		ff = pfec & PFERR_FETCH_MASK;
		uf = pfec & PFERR_USER_MASK;
		wf = pfec & PFERR_WRITE_MASK;
		pte_user = pfec & PFERR_RSVD_MASK;

		check_pkey = !ff && pte_user;
		check_write = check_pkey && wf && (uf || wp);

		pkey_bits = !!check_pkey;
		pkey_bits |= (unsigned int)check_write << 1;

		mmu->pkru_mask |= (pkey_bits & 3) << pfec;
	}
}

/* ---- contexts ---- */

static unsigned long get_guest_cr3(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.cr3;
}

/* kvm_pdptr_read() - PAE PDPTEs as loaded into the walking MMU. */
static u64 kvm_pdptr_read(struct kvm_vcpu *vcpu, int index)
{
	return vcpu->arch.walk_mmu->pdptrs[index];
}

/* reset_guest_paging_metadata() - rsvd masks, permissions[], pkru_mask. */
static void reset_guest_paging_metadata(struct kvm_vcpu *vcpu,
					struct kvm_mmu *mmu)
{
	if (!is_cr0_pg(mmu))
		return;

	reset_guest_rsvds_bits_mask(vcpu, mmu);
	update_permission_bitmask(mmu, mmu == &vcpu->arch.guest_mmu, false);
	update_pkru_bitmask(mmu);
}

static void paging_select_gva_to_gpa(struct kvm_mmu *context)
{
	if (!is_cr0_pg(context))
		context->gva_to_gpa = nonpaging_gva_to_gpa;
	else if (is_cr4_pae(context))
		context->gva_to_gpa = paging64_gva_to_gpa;
	else
		context->gva_to_gpa = paging32_gva_to_gpa;
}

/*
 * shadow_mmu_init_context() - install roles and guest metadata unless both
 * role words are unchanged (then everything derived from them is too).
 * page_fault/sync_spte belong to the shadow-MMU half and are left alone.
 */
static void shadow_mmu_init_context(struct kvm_vcpu *vcpu,
				    struct kvm_mmu *context,
				    union kvm_cpu_role cpu_role,
				    union kvm_mmu_page_role root_role)
{
	if (cpu_role.as_u64 == context->cpu_role.as_u64 &&
	    root_role.word == context->root_role.word)
		return;

	context->cpu_role.as_u64 = cpu_role.as_u64;
	context->root_role.word = root_role.word;
	paging_select_gva_to_gpa(context);
	reset_guest_paging_metadata(vcpu, context);
}

/* kvm_calc_tdp_mmu_root_page_role() */
static union kvm_mmu_page_role
kvm_calc_tdp_mmu_root_page_role(struct kvm_vcpu *vcpu, union kvm_cpu_role cpu_role)
{
	union kvm_mmu_page_role role = {0};

	role.cr0_wp = true;
	role.efer_nx = true;
	role.smm = cpu_role.base.smm;
	role.guest_mode = cpu_role.base.guest_mode;
	role.ad_disabled = false;	/* kvm_ad_enabled: EPT A/D, AMD always */
	role.level = kvm_mmu_get_tdp_level(vcpu);
	role.direct = true;
	role.has_4_byte_gpte = false;
	role.access = ACC_ALL;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/* kvm_x86_ops.tdp_has_smep: kvm_intel.mbec / kvm_amd.gmet */
	role.cr4_smep = vcpu->vendor == KVM_VENDOR_AMD ? vcpu->host_gmet
						       : vcpu->host_mbec;
	/*
	 * With GMET all TDP pages are supervisor-executable: NPT entries get
	 * U=0.  shadow_user_mask is non-zero only for NPT (AMD).
	 */
	if (role.cr4_smep && vcpu->vendor == KVM_VENDOR_AMD)
		role.access &= ~ACC_USER_MASK;
#endif
	return role;
}

/* init_kvm_tdp_mmu() */
static void init_kvm_tdp_mmu(struct kvm_vcpu *vcpu, union kvm_cpu_role cpu_role)
{
	struct kvm_mmu *context = &vcpu->arch.root_mmu;
	union kvm_mmu_page_role root_role =
		kvm_calc_tdp_mmu_root_page_role(vcpu, cpu_role);

	if (cpu_role.as_u64 == context->cpu_role.as_u64 &&
	    root_role.word == context->root_role.word)
		return;

	context->cpu_role.as_u64 = cpu_role.as_u64;
	context->root_role.word = root_role.word;
	context->sync_spte = NULL;
	context->get_guest_pgd = get_guest_cr3;
	context->get_pdptr = kvm_pdptr_read;
	paging_select_gva_to_gpa(context);
	reset_guest_paging_metadata(vcpu, context);
}

/* kvm_init_shadow_mmu() + init_kvm_softmmu() */
static void init_kvm_softmmu(struct kvm_vcpu *vcpu, union kvm_cpu_role cpu_role)
{
	struct kvm_mmu *context = &vcpu->arch.root_mmu;
	union kvm_mmu_page_role root_role = cpu_role.base;

	/* KVM shadows with PAE tables whenever the guest is not 64-bit. */
	if (root_role.level < PT32E_ROOT_LEVEL)
		root_role.level = PT32E_ROOT_LEVEL;
	/*
	 * KVM forces EFER.NX=1 when TDP is off (NX huge pages, and correct
	 * permissions for CR0.WP=0 + CR4.SMEP=1 + EFER.NX=0).
	 */
	root_role.efer_nx = true;

	shadow_mmu_init_context(vcpu, context, cpu_role, root_role);
	context->get_guest_pgd = get_guest_cr3;
	context->get_pdptr = kvm_pdptr_read;
}

/* init_kvm_nested_mmu() - L2 page tables are only walked, never shadowed. */
static void init_kvm_nested_mmu(struct kvm_vcpu *vcpu, union kvm_cpu_role new_mode)
{
	struct kvm_mmu *g_context = &vcpu->arch.nested_mmu;

	if (new_mode.as_u64 == g_context->cpu_role.as_u64)
		return;

	g_context->cpu_role.as_u64 = new_mode.as_u64;
	g_context->get_guest_pgd = get_guest_cr3;
	g_context->get_pdptr = kvm_pdptr_read;
	g_context->sync_spte = NULL;
	/*
	 * arch.mmu->gva_to_gpa translates L2 GPAs through L1's EPT/NPT; this
	 * one walks L2's tables and sends each table GPA through it.
	 */
	paging_select_gva_to_gpa(g_context);
	reset_guest_paging_metadata(vcpu, g_context);
}

void kvm_init_mmu(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_role_regs regs = vcpu_to_role_regs(vcpu);
	union kvm_cpu_role cpu_role;

	/* kvm_mmu_create(): both pointers start at root_mmu */
	if (!vcpu->arch.mmu)
		vcpu->arch.mmu = &vcpu->arch.root_mmu;
	if (!vcpu->arch.walk_mmu)
		vcpu->arch.walk_mmu = &vcpu->arch.root_mmu;

	cpu_role = kvm_calc_cpu_role(vcpu, &regs);
	if (mmu_is_nested(vcpu))
		init_kvm_nested_mmu(vcpu, cpu_role);
	else if (vcpu->tdp_enabled)
		init_kvm_tdp_mmu(vcpu, cpu_role);
	else
		init_kvm_softmmu(vcpu, cpu_role);
}

/* vmx_eptp_page_walk_level() */
static int vmx_eptp_page_walk_level(u64 eptp)
{
	return (eptp & VMX_EPTP_PWL_MASK) == VMX_EPTP_PWL_5 ? PT64_ROOT_5LEVEL
							    : PT64_ROOT_4LEVEL;
}

/* kvm_calc_shadow_ept_root_page_role() */
static union kvm_cpu_role
kvm_calc_shadow_ept_root_page_role(struct kvm_vcpu *vcpu, bool accessed_dirty,
				   bool execonly, bool mbec, u8 level)
{
	union kvm_cpu_role role = {0};

	/* no SMM transfer monitor: smm stays 0 */
	role.base.level = level;
	role.base.has_4_byte_gpte = false;
	role.base.direct = false;
	role.base.ad_disabled = !accessed_dirty;
	role.base.guest_mode = true;
	role.base.access = ACC_ALL;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/* MBEC changes which EPTEs are present (bit 10): base role, 0033 */
	role.base.cr4_smep = mbec;
#else
	(void)mbec;
#endif
	role.ext.word = 0;
	role.ext.execonly = execonly;
	role.ext.valid = 1;

	return role;
}

/*
 * kvm_init_shadow_ept_mmu() - see mmu.h.  KVM ends with
 * kvm_mmu_new_pgd(@new_eptp); that root-cache step belongs to the shadow-MMU
 * half and is left to the caller, as is get_guest_pgd (nested_ept_get_eptp).
 */
int kvm_init_shadow_ept_mmu(struct kvm_vcpu *vcpu, bool execonly,
			    int huge_page_level, bool accessed_dirty,
			    bool mbec, gpa_t new_eptp)
{
	struct kvm_mmu *context = &vcpu->arch.guest_mmu;
	u8 level = vmx_eptp_page_walk_level(new_eptp);
	union kvm_cpu_role new_mode;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	if (mbec)
		return TDP_E_UNSUPP;
#endif
	new_mode = kvm_calc_shadow_ept_root_page_role(vcpu, accessed_dirty,
						      execonly, mbec, level);
	if (new_mode.as_u64 != context->cpu_role.as_u64) {
		/* EPT does not consume CR0, CR4 nor EFER */
		context->cpu_role.as_u64 = new_mode.as_u64;
		context->root_role.word = new_mode.base.word;
		context->gva_to_gpa = ept_gva_to_gpa;

		update_permission_bitmask(context, true, true);
		context->pkru_mask = 0;
		reset_rsvds_bits_mask_ept(vcpu, context, execonly, huge_page_level);
	}
	return 0;
}

/*
 * kvm_init_shadow_npt_mmu() - see mmu.h.  @cr4/@efer are L1's (VMCB01).
 *
 * New layout (0043): CR0 is hard-coded to PG|WP, since hCR0.WP does not
 * apply to NPT, and PKE and SMAP are cleared; base.cr4_smep then becomes
 * GMET (0044) while ext.has_pferr_fetch keeps L1's SMEP/NXE.  Old layout:
 * CR0 = PG only and only PKE cleared, as mainline; without GMET every NPT
 * access is a user access, so WP and SMAP cannot change a verdict.
 */
int kvm_init_shadow_npt_mmu(struct kvm_vcpu *vcpu, unsigned long cr4,
			    u64 efer, gpa_t nested_cr3, u64 misc_ctl)
{
	struct kvm_mmu *context = &vcpu->arch.guest_mmu;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	struct kvm_mmu_role_regs regs = {
		.cr0 = X86_CR0_PG | X86_CR0_WP,
		.cr4 = cr4 & ~(X86_CR4_PKE | X86_CR4_SMAP),
		.efer = efer,
	};
#else
	struct kvm_mmu_role_regs regs = {
		.cr0 = X86_CR0_PG,
		.cr4 = cr4 & ~X86_CR4_PKE,
		.efer = efer,
	};
#endif
	union kvm_cpu_role cpu_role;
	union kvm_mmu_page_role root_role;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	if (misc_ctl & SVM_MISC_ENABLE_GMET)
		return TDP_E_UNSUPP;
#endif
	(void)nested_cr3;	/* kvm_mmu_new_pgd(): the caller's, as for EPT */
	cpu_role = kvm_calc_cpu_role(vcpu, &regs);
	/* NPT requires CR0.PG=1, and is only built for L2 */
	if (cpu_role.base.direct || !cpu_role.base.guest_mode)
		return TDP_E_INTERNAL;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	cpu_role.base.cr4_smep = (misc_ctl & SVM_MISC_ENABLE_GMET) != 0;
#endif

	root_role = cpu_role.base;
	root_role.level = kvm_mmu_get_tdp_level(vcpu);
	if (root_role.level == PT64_ROOT_5LEVEL &&
	    cpu_role.base.level == PT64_ROOT_4LEVEL)
		root_role.passthrough = 1;

	shadow_mmu_init_context(vcpu, context, cpu_role, root_role);
	return 0;
}
