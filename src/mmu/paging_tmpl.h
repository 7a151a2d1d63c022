/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest page-table walker template, a port of KVM's
 * arch/x86/kvm/mmu/paging_tmpl.h FNAME(walk_addr_generic) and helpers
 * (read at kvm-x86/linux @1a27afa0 for the MBEC/GMET series' behaviour,
 * torvalds/linux @037dd1308c6d for the pre-series one).
 *
 * Included by walk.c once per PTE type, as KVM includes it from mmu.c:
 *   PTTYPE 64        paging64_*  8-byte PTEs, 9 bits/level (4/5-level, PAE)
 *   PTTYPE 32        paging32_*  4-byte PTEs, 10 bits/level, 2 levels, PSE-36
 *   PTTYPE_EPT       ept_*       8-byte EPT entries, A=bit 8, D=bit 9
 * Every per-type macro is #undef'd at the end.
 *
 * Differences from KVM, all outside the walk's decisions: guest memory is
 * read through gmem (struct tdp_gmem) instead of a memslot's hva; the A/D
 * cmpxchg goes to the gPTE's L1 GPA; tracepoints, dirty logging and PML are
 * not modelled.  Nothing here allocates, and the layout is a compile-time
 * choice (TDP_ACC_LAYOUT), never a run-time branch.
 *
 * A walk visits at most max_level tables (the do/while below decrements
 * level every iteration and stops at 1), so self-referencing page tables
 * cannot make it loop; A/D updates can only add bits, so retry_walk is
 * bounded too (see update_accessed_dirty_bits).
 */

#include <tdpsim/gmem.h>

#if PTTYPE == 64
	#define pt_element_t u64
	#define guest_walker guest_walker64
	#define FNAME(name) paging##64_##name
	#define PT_LEVEL_BITS 9
	#define PT_GUEST_DIRTY_SHIFT PT_DIRTY_SHIFT
	#define PT_GUEST_ACCESSED_SHIFT PT_ACCESSED_SHIFT
	#define PT_HAVE_ACCESSED_DIRTY(mmu) true
	#define PT_MAX_FULL_LEVELS PT64_ROOT_MAX_LEVEL
#elif PTTYPE == 32
	#define pt_element_t u32
	#define guest_walker guest_walker32
	#define FNAME(name) paging##32_##name
	#define PT_LEVEL_BITS 10
	#define PT_MAX_FULL_LEVELS 2
	#define PT_GUEST_DIRTY_SHIFT PT_DIRTY_SHIFT
	#define PT_GUEST_ACCESSED_SHIFT PT_ACCESSED_SHIFT
	#define PT_HAVE_ACCESSED_DIRTY(mmu) true
#elif PTTYPE == PTTYPE_EPT
	#define pt_element_t u64
	#define guest_walker guest_walkerEPT
	#define FNAME(name) ept_##name
	#define PT_LEVEL_BITS 9
	#define PT_GUEST_DIRTY_SHIFT 9
	#define PT_GUEST_ACCESSED_SHIFT 8
	#define PT_HAVE_ACCESSED_DIRTY(mmu) (!(mmu)->cpu_role.base.ad_disabled)
	#define PT_MAX_FULL_LEVELS PT64_ROOT_MAX_LEVEL
#else
	#error Invalid PTTYPE value
#endif

/* __PT_BASE_ADDR_MASK and friends (mmu_internal.h), per PTE type. */
#define PT_BASE_ADDR_MASK	((pt_element_t)GENMASK_ULL(51, 12))
#define PT_LVL_ADDR_MASK(lvl)	(PT_BASE_ADDR_MASK & \
	~((1ULL << (PAGE_SHIFT + ((lvl) - 1) * PT_LEVEL_BITS)) - 1))
#define PT_LVL_OFFSET_MASK(lvl)	(PT_BASE_ADDR_MASK & \
	((1ULL << (PAGE_SHIFT + ((lvl) - 1) * PT_LEVEL_BITS)) - 1))
#define PT_INDEX(addr, lvl)	(((addr) >> (PAGE_SHIFT + ((lvl) - 1) * PT_LEVEL_BITS)) & \
	((1 << PT_LEVEL_BITS) - 1))

#define PT_GUEST_DIRTY_MASK	(1 << PT_GUEST_DIRTY_SHIFT)
#define PT_GUEST_ACCESSED_MASK	(1 << PT_GUEST_ACCESSED_SHIFT)

#define gpte_to_gfn_lvl FNAME(gpte_to_gfn_lvl)
#define gpte_to_gfn(pte) gpte_to_gfn_lvl((pte), PG_LEVEL_4K)

static_assert(sizeof(((struct guest_walker *)0)->ptes) ==
	      PT_MAX_FULL_LEVELS * sizeof(pt_element_t),
	      "walker arrays hold one entry per level");

#if PTTYPE == 32
/* PSE-36: 4M PDE bits 16:13 are physical-address bits 35:32. */
static inline gfn_t FNAME(pse36_gfn_delta)(u32 gpte)
{
	int shift = 32 - PT32_DIR_PSE36_SHIFT - PAGE_SHIFT;

	return (gfn_t)(gpte & PT32_DIR_PSE36_MASK) << shift;
}
#endif

static inline gfn_t gpte_to_gfn_lvl(pt_element_t gpte, int lvl)
{
	return (gpte & PT_LVL_ADDR_MASK(lvl)) >> PAGE_SHIFT;
}

/* FNAME(protect_clean_gpte): a clean leaf maps read-only, so the first
 * write faults and sets D. */
static inline void FNAME(protect_clean_gpte)(struct kvm_mmu *mmu,
					     unsigned *access, unsigned gpte)
{
	unsigned mask;

	/* dirty bit is not supported, so no need to track it */
	if (!PT_HAVE_ACCESSED_DIRTY(mmu))
		return;

	static_assert(PT_WRITABLE_MASK == ACC_WRITE_MASK, "W shares its bit");

	mask = (unsigned)~ACC_WRITE_MASK;
	/* Allow write access to dirty gptes */
	mask |= (gpte >> (PT_GUEST_DIRTY_SHIFT - PT_WRITABLE_SHIFT)) &
		PT_WRITABLE_MASK;
	*access &= mask;
}

/*
 * The bits FNAME(is_present_gpte) tests.  Separate so that the walk loop
 * reads them once: mmu_has_mbec() is a load from @mmu that the compiler
 * does not hoist out of the loop itself (it follows the loop's exits).
 */
static inline u64 FNAME(gpte_present_mask)(struct kvm_mmu *mmu)
{
#if PTTYPE != PTTYPE_EPT
	return PT_PRESENT_MASK;
#else
	/*
	 * For EPT, an entry is present if any of bits 2:0 are set.  With
	 * mode-based execute control, bit 10 (XU) also indicates presence
	 * (patch 0037; mmu_has_mbec() is false in the old layout).
	 */
	return VMX_EPT_RWX_MASK |
	       (mmu_has_mbec(mmu) ? VMX_EPT_USER_EXECUTABLE_MASK : 0);
#endif
}

/* FNAME(is_present_gpte) */
static inline int FNAME(is_present_gpte)(struct kvm_mmu *mmu, u64 pte)
{
	return (pte & FNAME(gpte_present_mask)(mmu)) != 0;
}

/* __is_rsvd_bits_set() + FNAME(is_bad_mt_xwr) (spte.h) */
static inline bool FNAME(is_rsvd_bits_set)(struct kvm_mmu *mmu, u64 gpte,
					   int level)
{
	const struct rsvd_bits_validate *rsvd_check = &mmu->guest_rsvd_check;
	u64 bit7 = (gpte >> 7) & 1;

	if (gpte & rsvd_check->rsvd_bits_mask[bit7][level - 1])
		return true;
#if PTTYPE == PTTYPE_EPT
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/* XU counts as X for the write-only/execute-only checks (0037). */
	if (gpte & VMX_EPT_USER_EXECUTABLE_MASK)
		gpte |= VMX_EPT_EXECUTABLE_MASK;
#endif
	return rsvd_check->bad_mt_xwr & BIT_ULL(gpte & 0x3f);
#else
	return false;
#endif
}

/*
 * FNAME(gpte_access): the ACC_* bits a gPTE grants.  Set bits even if the
 * checks may not use them (ACC_EXEC without EFER.NX, ACC_USER_EXEC
 * without MBEC): permissions[] ignores them then.
 */
static inline unsigned FNAME(gpte_access)(u64 gpte)
{
	unsigned access;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#if PTTYPE == PTTYPE_EPT
	access = ((gpte & VMX_EPT_WRITABLE_MASK) ? ACC_WRITE_MASK : 0) |
		((gpte & VMX_EPT_EXECUTABLE_MASK) ? ACC_EXEC_MASK : 0) |
		((gpte & VMX_EPT_READABLE_MASK) ? ACC_READ_MASK : 0) |
		((gpte & VMX_EPT_USER_EXECUTABLE_MASK) ? ACC_USER_EXEC_MASK : 0);
#else
	/* P is set here, so W/U/!NX represent allowed accesses. */
	static_assert(ACC_READ_MASK == PT_PRESENT_MASK, "R is P");
	static_assert(!(ACC_EXEC_MASK & (PT_WRITABLE_MASK | PT_USER_MASK |
					 PT_PRESENT_MASK)), "X is not a PTE bit");
	access = gpte & (PT_WRITABLE_MASK | PT_USER_MASK | PT_PRESENT_MASK);
	access |= gpte & PT64_NX_MASK ? 0 : ACC_EXEC_MASK;
#endif
#else /* pre-series */
#if PTTYPE == PTTYPE_EPT
	/* No read bit: EPT R is reported as ACC_USER_MASK ("readable"). */
	access = ((gpte & VMX_EPT_WRITABLE_MASK) ? ACC_WRITE_MASK : 0) |
		((gpte & VMX_EPT_EXECUTABLE_MASK) ? ACC_EXEC_MASK : 0) |
		((gpte & VMX_EPT_READABLE_MASK) ? ACC_USER_MASK : 0);
#else
	/* ACC_EXEC shares bit 0 with P; NX (bit 63) shifted down clears it. */
	static_assert(ACC_EXEC_MASK == PT_PRESENT_MASK, "X is P, pre-series");
	access = gpte & (PT_WRITABLE_MASK | PT_USER_MASK | PT_PRESENT_MASK);
	access ^= (gpte >> PT64_NX_SHIFT);
#endif
#endif
	return access;
}

/* FNAME(gpte_pkeys): protection key, PTTYPE 64 only (bits 62:59). */
static inline unsigned FNAME(gpte_pkeys)(struct kvm_vcpu *vcpu, u64 gpte)
{
#if PTTYPE == 64
	return (gpte & PT64_PKEY_MASK) >> PT64_PKEY_SHIFT;
#else
	return 0;
#endif
}

/*
 * FNAME(is_last_gpte): bit 7 ends the walk (huge page, or a reserved bit
 * that the rsvd check has already faulted on), and level 1 always does.
 */
static inline bool FNAME(is_last_gpte)(struct kvm_mmu *mmu,
				       unsigned int level, unsigned int gpte)
{
#if PTTYPE == 32
	/*
	 * 32-bit paging: bit 7 is ignored, not reserved, if CR4.PSE=0.  The
	 * RHS has bit 7 set iff level < 2 + PSE; otherwise clear PS.
	 */
	gpte &= level - (PT32_ROOT_LEVEL + mmu->cpu_role.ext.cr4_pse);
#endif
	/* The RHS has bit 7 set iff level == PG_LEVEL_4K. */
	gpte |= level - PG_LEVEL_4K - 1;

	return gpte & PT_PAGE_SIZE_MASK;
}

#ifndef PAGING_TMPL_HELPERS_ONLY

/*
 * kvm_translate_gpa() as this PTE type's walker sees it.  The EPT walker
 * only ever walks guest_mmu (L1's EPT12: kvm_init_shadow_ept_mmu() is its
 * sole user, nested_mmu walks L2's x86 tables), for which
 * kvm_translate_gpa() is the identity.  Folding that at compile time keeps
 * the opaque nested-translation call out of ept's walk: otherwise the
 * walker escapes through &walker->fault and, after the call, every level
 * reloads mmu and gmem fields; a 2D walk runs five EPT walks.
 */
static inline gpa_t FNAME(translate_gpa)(struct kvm_vcpu *vcpu,
					 struct kvm_mmu *mmu, gpa_t gpa,
					 u64 access,
					 struct x86_exception *exception,
					 u64 pte_access)
{
#if PTTYPE == PTTYPE_EPT
	return gpa;
#else
	return kvm_translate_gpa(vcpu, mmu, gpa, access, exception, pte_access);
#endif
}

/*
 * FNAME(update_accessed_dirty_bits): set A on every level of the walk and
 * D on the leaf for writes, with cmpxchg so a concurrent change is noticed.
 * Returns 0, 1 (a gPTE changed under us: retry the walk) or a negative
 * TDP_E_*.  Bits are only ever added, so each retry sees strictly more A/D
 * bits set and the retries are bounded (this also covers a self-referencing
 * table, whose A update at one level changes the gPTE of another).
 */
static inline __attribute__((always_inline))
int FNAME(update_accessed_dirty_bits)(struct kvm_vcpu *vcpu,
				      struct kvm_mmu *mmu,
				      struct guest_walker *walker,
				      gpa_t addr, int write_fault)
{
	unsigned level;
	pt_element_t pte, orig_pte;
	int ret;

	/* dirty/accessed bits are not supported, so no need to update them */
	if (!PT_HAVE_ACCESSED_DIRTY(mmu))
		return 0;

	for (level = walker->max_level; level >= (unsigned)walker->level; --level) {
		u64 cur;

		pte = orig_pte = walker->ptes[level - 1];
		if (!(pte & PT_GUEST_ACCESSED_MASK))
			pte |= PT_GUEST_ACCESSED_MASK;
		if (level == (unsigned)walker->level && write_fault &&
		    !(pte & PT_GUEST_DIRTY_MASK))
			pte |= PT_GUEST_DIRTY_MASK;	/* EPT: + PML, not modelled */
		if (pte == orig_pte)
			continue;

		/* Read-only memslots are skipped; gmem has none. */
		if (!walker->pte_writable[level - 1])
			continue;

#if PTTYPE == 32
		/* A 4-byte gPTE: same contract as __try_cmpxchg_user(). */
		ret = tdp_gmem_read(vcpu->gmem, walker->ptep_gpa[level - 1], 4, &cur);
		if (ret)
			return ret;
		if ((pt_element_t)cur != orig_pte)
			return 1;
		ret = tdp_gmem_write(vcpu->gmem, walker->ptep_gpa[level - 1], 4, pte);
#else
		cur = orig_pte;
		ret = tdp_gmem_cmpxchg64(vcpu->gmem, walker->ptep_gpa[level - 1],
					 &cur, pte);
#endif
		if (ret)
			return ret;
		walker->ptes[level - 1] = pte;
	}
	return 0;
}

/*
 * FNAME(walk_addr_generic): fetch the guest PTEs for a GVA (or for an L2
 * GPA when @mmu is guest_mmu), see paging.h for the contract.
 *
 * Inlined into its callers in this file (the exported symbol remains),
 * as is update_accessed_dirty_bits: a 2D walk runs ept_gva_to_gpa five
 * times (each L2 table and the final GPA), and with the walker a local of
 * gva_to_gpa that nothing else sees (see FNAME(translate_gpa)), the
 * compiler drops the stores to fields gva_to_gpa never reads (table_gfn,
 * pte_gpa, pt_access) and keeps the walk's state in registers.
 */
inline __attribute__((always_inline))
int FNAME(walk_addr_generic)(struct guest_walker *walker,
			     struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			     gpa_t addr, u64 access)
{
	int ret;
	pt_element_t pte;
	gfn_t table_gfn;
	u64 pt_access, pte_access;
	unsigned index, accessed_dirty, pte_pkey;
	u64 nested_access;
	gpa_t pte_gpa;
	bool have_ad;
	int offset;
	u64 walk_nx_mask = 0;
	/* FNAME(is_present_gpte)(mmu, pte) is pte & present_mask */
	const u64 present_mask = FNAME(gpte_present_mask)(mmu);
	const int write_fault = access & PFERR_WRITE_MASK;
	const int user_fault  = access & PFERR_USER_MASK;
	const int fetch_fault = access & PFERR_FETCH_MASK;
	/*
	 * The #PF error code is architecturally 32 bits and KVM tracks the
	 * common part as a u16 so nothing sets bits 63:16 by accident.
	 */
	u16 errcode = 0;
	gpa_t real_gpa;
	gfn_t gfn;

retry_walk:
	walker->level = mmu->cpu_role.base.level;
	pte           = (pt_element_t)mmu->get_guest_pgd(vcpu);
	have_ad       = PT_HAVE_ACCESSED_DIRTY(mmu);

#if PTTYPE == 64
	walk_nx_mask = 1ULL << PT64_NX_SHIFT;
	if (walker->level == PT32E_ROOT_LEVEL) {
		pte = mmu->get_pdptr(vcpu, (addr >> 30) & 3);
		if (!FNAME(is_present_gpte)(mmu, pte))
			goto error;
		--walker->level;
	}
#endif
	walker->max_level = walker->level;

	/*
	 * Guest page-table accesses are reads + writes if A/D bits may be set
	 * (KVM treats them as writes up front), always user accesses; the
	 * series tags them PFERR_GUEST_PAGE so EPT/NPT can tell them from the
	 * final access.
	 */
	nested_access = (have_ad ? PFERR_WRITE_MASK : 0) | PFERR_USER_MASK;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	nested_access |= PFERR_GUEST_PAGE_MASK;
#endif

	pte_access = ~0;

	++walker->level;

	do {
		pt_access = pte_access;
		--walker->level;

		index = PT_INDEX(addr, walker->level);
		table_gfn = gpte_to_gfn(pte);
		offset    = index * sizeof(pt_element_t);
		pte_gpa   = (table_gfn << PAGE_SHIFT) + offset;

		walker->table_gfn[walker->level - 1] = table_gfn;
		walker->pte_gpa[walker->level - 1] = pte_gpa;

		real_gpa = FNAME(translate_gpa)(vcpu, mmu,
						table_gfn << PAGE_SHIFT,
						nested_access, &walker->fault, 0);
		if (real_gpa == INVALID_GPA)
			return 0;

		/*
		 * kvm_vcpu_gfn_to_memslot() / gfn_to_hva_memslot_prot(): no
		 * memslot -> fault with errcode 0 (a not-present #PF).
		 */
		if (!tdp_gmem_gfn_in_slot(vcpu->gmem, real_gpa >> PAGE_SHIFT))
			goto error;
		walker->pte_writable[walker->level - 1] = true;
		walker->ptep_gpa[walker->level - 1] = real_gpa + offset;
		{
			/*
			 * get_user(): the gfn is in the slot (checked above)
			 * and a gPTE is naturally aligned, so read the page
			 * directly; a never-written page reads as zero.
			 */
			const u8 *page = tdp_gmem_page_lookup(vcpu->gmem,
							      real_gpa >> PAGE_SHIFT);

			pte = 0;
			if (page)
				memcpy(&pte, page + ((real_gpa + offset) & ~PAGE_MASK),
				       sizeof(pte));
		}

		/* Inverting NX lets us AND it like the other permission bits. */
		pte_access = pt_access & (pte ^ walk_nx_mask);

		if (!(pte & present_mask))
			goto error;

		if (FNAME(is_rsvd_bits_set)(mmu, pte, walker->level)) {
			errcode = PFERR_RSVD_MASK | PFERR_PRESENT_MASK;
			goto error;
		}

		walker->ptes[walker->level - 1] = pte;

		/* Convert to ACC_*_MASK flags for struct guest_walker. */
		walker->pt_access[walker->level - 1] =
			FNAME(gpte_access)(pt_access ^ walk_nx_mask);
	} while (!FNAME(is_last_gpte)(mmu, walker->level, pte));

	pte_pkey = FNAME(gpte_pkeys)(vcpu, pte);
	accessed_dirty = have_ad ? pte_access & PT_GUEST_ACCESSED_MASK : 0;

	/* Convert to ACC_*_MASK flags for struct guest_walker. */
	walker->pte_access = FNAME(gpte_access)(pte_access ^ walk_nx_mask);
	errcode = permission_fault(vcpu, mmu, walker->pte_access, pte_pkey, access);
	if (errcode)
		goto error;

	gfn = gpte_to_gfn_lvl(pte, walker->level);
	gfn += (addr & PT_LVL_OFFSET_MASK(walker->level)) >> PAGE_SHIFT;

#if PTTYPE == 32
	/* is_cpuid_PSE36() is always true in KVM. */
	if (walker->level > PG_LEVEL_4K)
		gfn += FNAME(pse36_gfn_delta)(pte);
#endif

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	real_gpa = FNAME(translate_gpa)(vcpu, mmu, gfn << PAGE_SHIFT,
					access | PFERR_GUEST_FINAL_MASK,
					&walker->fault, walker->pte_access);
#else
	/*
	 * Pre-series KVM had no pte_access argument; the old vendor
	 * translate_nested_gpa ignores it.  It is passed anyway for the
	 * replay engine's hardware model, whose 2D walk reads the L2
	 * translation's rights from it (EPT advanced exit information).
	 */
	real_gpa = FNAME(translate_gpa)(vcpu, mmu, gfn << PAGE_SHIFT, access,
					&walker->fault, walker->pte_access);
#endif
	if (real_gpa == INVALID_GPA)
		return 0;

	walker->gfn = real_gpa >> PAGE_SHIFT;

	if (!write_fault)
		FNAME(protect_clean_gpte)(mmu, &walker->pte_access, pte);
	else
		/*
		 * On a write fault, fold the dirty bit into accessed_dirty.
		 * For modes without A/D bits support accessed_dirty will be
		 * always clear.
		 */
		accessed_dirty &= pte >>
			(PT_GUEST_DIRTY_SHIFT - PT_GUEST_ACCESSED_SHIFT);

	if (!accessed_dirty) {
		ret = FNAME(update_accessed_dirty_bits)(vcpu, mmu, walker,
							addr, write_fault);
		if (ret < 0)
			goto error;
		else if (ret)
			goto retry_walk;
	}

	return 1;

error:
	errcode |= write_fault | user_fault;
	/* new: cpu_role.ext.has_pferr_fetch; old: is_efer_nx || is_cr4_smep */
	if (fetch_fault && has_pferr_fetch(mmu))
		errcode |= PFERR_FETCH_MASK;

	walker->fault.vector = PF_VECTOR;
	walker->fault.error_code_valid = true;
	walker->fault.error_code = errcode;
	walker->fault.exit_qualification = 0;

#if PTTYPE == PTTYPE_EPT
	/*
	 * PFERR_RSVD_MASK in error_code means EPT misconfiguration.  For a
	 * violation, build the exit qualification to inject:
	 *  [2:0]  from the access;
	 *  [6:3]  the AND of the EPTE permission bits of the walk so far
	 *         (pte_access holds raw EPTE bits here, not ACC_* flags);
	 *  [8:7]  new layout: GVA valid, and "translated" unless this was a
	 *         guest paging-structure access (as kvm-x86 builds it);
	 *         old layout: kept from the hardware exit qualification.
	 */
	if (!(errcode & PFERR_RSVD_MASK)) {
		u64 eq = 0;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		if (write_fault)
			eq |= EPT_VIOLATION_ACC_WRITE;
		else if (fetch_fault)
			eq |= EPT_VIOLATION_ACC_INSTR;
		else
			eq |= EPT_VIOLATION_ACC_READ;

		eq |= EPT_VIOLATION_GVA_IS_VALID;
		/*
		 * Accesses to guest paging structures are reads or
		 * read+writes: add ACC_READ to a write.
		 */
		if (access & PFERR_GUEST_PAGE_MASK)
			eq |= EPT_VIOLATION_ACC_READ;
		else
			eq |= EPT_VIOLATION_GVA_TRANSLATED;

		eq |= EPT_VIOLATION_RWX_TO_PROT(pte_access);
		if (mmu_has_mbec(mmu))
			eq |= EPT_VIOLATION_USER_EXEC_TO_PROT(pte_access);
#else
		eq = vcpu->arch.exit_qualification &
		     (EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED);
		if (write_fault)
			eq |= EPT_VIOLATION_ACC_WRITE;
		/* pre-series EPT reads arrive as PFERR_USER_MASK */
		if (user_fault)
			eq |= EPT_VIOLATION_ACC_READ;
		if (fetch_fault)
			eq |= EPT_VIOLATION_ACC_INSTR;
		eq |= EPT_VIOLATION_RWX_TO_PROT(pte_access);
#endif
		walker->fault.exit_qualification = eq;
	}
#endif
	walker->fault.address = addr;
	walker->fault.nested_page_fault = mmu != vcpu->arch.walk_mmu;

#if PTTYPE != PTTYPE_EPT && TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/*
	 * An NPT fault carries its stage (EXITINFO1 bits 32/33), as the
	 * kvm_pagewalk refactor does with PFERR_GUEST_FAULT_STAGE_MASK.
	 */
	if (walker->fault.nested_page_fault)
		walker->fault.error_code |=
			access & (PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK);
#endif
	return 0;
}

/* FNAME(walk_addr): walk vcpu->arch.mmu (the MMU faults are handled by). */
int FNAME(walk_addr)(struct guest_walker *walker, struct kvm_vcpu *vcpu,
		     gpa_t addr, u64 access)
{
	return FNAME(walk_addr_generic)(walker, vcpu, vcpu->arch.mmu, addr,
					access);
}

/* FNAME(gva_to_gpa).  @addr is a GPA when translating an L2 GPA. */
gpa_t FNAME(gva_to_gpa)(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,
			gpa_t addr, u64 access, struct x86_exception *exception)
{
	struct guest_walker walker;
	gpa_t gpa = INVALID_GPA;
	int r;

	r = FNAME(walk_addr_generic)(&walker, vcpu, mmu, addr, access);

	if (r) {
		gpa = walker.gfn << PAGE_SHIFT;
		gpa |= addr & ~PAGE_MASK;
	} else if (exception) {
		*exception = walker.fault;
	}

	return gpa;
}

#endif /* PAGING_TMPL_HELPERS_ONLY */

/* The shadow-paging fault path shares this instantiation (issue 4). */
#include "paging_fault_tmpl.h"

#undef pt_element_t
#undef guest_walker
#undef FNAME
#undef PT_BASE_ADDR_MASK
#undef PT_INDEX
#undef PT_LVL_ADDR_MASK
#undef PT_LVL_OFFSET_MASK
#undef PT_LEVEL_BITS
#undef PT_MAX_FULL_LEVELS
#undef gpte_to_gfn
#undef gpte_to_gfn_lvl
#undef PT_GUEST_ACCESSED_MASK
#undef PT_GUEST_DIRTY_MASK
#undef PT_GUEST_DIRTY_SHIFT
#undef PT_GUEST_ACCESSED_SHIFT
#undef PT_HAVE_ACCESSED_DIRTY
