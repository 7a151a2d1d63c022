/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shadow-paging fault path of arch/x86/kvm/mmu/paging_tmpl.h:
 * FNAME(gpte_changed), FNAME(fetch), FNAME(page_fault), the gPTE prefetch
 * and FNAME(sync_spte).  Included by paging_tmpl.h, once per PTE type,
 * before its #undef block, so it sees pt_element_t, FNAME() and the gPTE
 * helpers of the walker.
 *
 * Differences from KVM: no mmu_lock, no mmu_notifier retry, no memory
 * caches (kvm_mmu_get_child_sp allocates from the shadow-page pool).  A
 * gfn outside the memslot is MMIO: kvm_mmu_faultin_pfn() emulates it at
 * once where MMIO caching is off (non-EPT formats on the 52-bit host,
 * spte.h), else FNAME(fetch) builds the path and mmu_set_spte() an MMIO
 * SPTE, as in KVM.
 */

/*
 * FNAME(gpte_changed) - re-read the gPTE the walker used at @level and
 * report whether the guest changed it since; at level 1 also load the
 * aligned group of PTE_PREFETCH_NUM gPTEs for the prefetch.
 */
static bool FNAME(gpte_changed)(struct kvm_vcpu *vcpu, struct guest_walker *gw,
				int level)
{
	pt_element_t curr_pte;
	gpa_t base_gpa, pte_gpa = gw->pte_gpa[level - 1];
	u64 v;

	if (level == PG_LEVEL_4K) {
		u64 mask = PTE_PREFETCH_NUM * sizeof(pt_element_t) - 1;
		int index;

		base_gpa = pte_gpa & ~mask;
		index = (int)((pte_gpa - base_gpa) / sizeof(pt_element_t));
		for (int i = 0; i < PTE_PREFETCH_NUM; i++) {
			if (tdp_gmem_read(vcpu->gmem, base_gpa + i * sizeof(pt_element_t),
					  sizeof(pt_element_t), &v))
				return true;
			gw->prefetch_ptes[i] = (pt_element_t)v;
		}
		curr_pte = gw->prefetch_ptes[index];
	} else {
		if (tdp_gmem_read(vcpu->gmem, pte_gpa, sizeof(pt_element_t), &v))
			return true;
		curr_pte = (pt_element_t)v;
	}
	return curr_pte != gw->ptes[level - 1];
}

/* FNAME(prefetch_invalid_gpte): drop the SPTE of a gPTE not worth mapping. */
static bool FNAME(prefetch_invalid_gpte)(struct kvm_vcpu *vcpu,
					 struct kvm_mmu_page *sp, u64 *spte,
					 u64 gpte)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;

	if (FNAME(is_rsvd_bits_set)(mmu, gpte, PG_LEVEL_4K))
		goto no_present;
	if (!FNAME(is_present_gpte)(mmu, gpte))
		goto no_present;
	/* Prefetch only accessed entries (unless A/D bits are disabled). */
	if (PT_HAVE_ACCESSED_DIRTY(mmu) && !(gpte & PT_GUEST_ACCESSED_MASK))
		goto no_present;
	return false;

no_present:
	drop_spte(vcpu->kvm, spte);
	return true;
}

/* FNAME(prefetch_gpte): map a neighbouring gPTE without a fault. */
static bool FNAME(prefetch_gpte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
				 u64 *spte, pt_element_t gpte)
{
	unsigned pte_access;
	gfn_t gfn;

	if (FNAME(prefetch_invalid_gpte)(vcpu, sp, spte, gpte))
		return false;
	gfn = gpte_to_gfn(gpte);
	pte_access = sp->role.access & FNAME(gpte_access)(gpte);
	FNAME(protect_clean_gpte)(vcpu->arch.mmu, &pte_access, gpte);
	if (!tdp_gmem_gfn_in_slot(vcpu->gmem, gfn))
		return false;
	mmu_set_spte(vcpu, spte, pte_access, gfn, kvm_gfn_to_host_pfn(gfn),
		     true, false, true);
	return true;
}

static void FNAME(pte_prefetch)(struct kvm_vcpu *vcpu, struct guest_walker *gw,
				u64 *sptep)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);
	pt_element_t *gptep = gw->prefetch_ptes;
	u64 *spte;
	int i;

	if (sp->role.level > PG_LEVEL_4K)
		return;
	/* If addresses are being invalidated, skip prefetching: n/a here. */
	if (sp->role.direct) {
		kvm_direct_pte_prefetch(vcpu, sptep);
		return;
	}
	i = (int)(sptep - sp->spt) & ~(PTE_PREFETCH_NUM - 1);
	spte = sp->spt + i;
	for (i = 0; i < PTE_PREFETCH_NUM; i++, spte++) {
		if (spte == sptep)
			continue;
		if (is_shadow_present_pte(*spte))
			continue;
		if (!FNAME(prefetch_gpte)(vcpu, sp, spte, gptep[i]))
			break;
		vcpu->tdp_stats->pf_prefetched++;
	}
}

/*
 * FNAME(fetch) - fetch a shadow pte for a specific level in the paging
 * hierarchy.  If the guest tries to write a write-protected page, we need
 * to emulate this operation (RET_PF_EMULATE from mmu_set_spte).
 */
static int FNAME(fetch)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			struct guest_walker *gw)
{
	struct kvm_mmu_page *sp = NULL;
	struct kvm_shadow_walk_iterator it;
	unsigned int direct_access, access;
	int top_level, ret;
	gfn_t base_gfn = fault->gfn;
	bool exists;

	direct_access = gw->pte_access;

	top_level = vcpu->arch.mmu->cpu_role.base.level;
	if (top_level == PT32E_ROOT_LEVEL)
		top_level = PT32_ROOT_LEVEL;
	/*
	 * Verify that the top-level gpte is still there.  Since the page is a
	 * root page, it is either write protected (and cannot be changed from
	 * now on) or it is invalid.
	 */
	if (FNAME(gpte_changed)(vcpu, gw, top_level))
		return RET_PF_RETRY;

	if (!VALID_PAGE(vcpu->arch.mmu->root.hpa) ||
	    kvm_mmu_is_dummy_root(vcpu->arch.mmu->root.hpa))
		return RET_PF_RETRY;

	for_each_shadow_entry_using_root(vcpu, vcpu->arch.mmu->root.hpa,
					 fault->addr, it) {
		gfn_t table_gfn;

		clear_sp_write_flooding_count(it.sptep);
		if (it.level == gw->level)
			break;

		table_gfn = gw->table_gfn[it.level - 2];
		access = gw->pt_access[it.level - 2];
		sp = kvm_mmu_get_child_sp(vcpu, it.sptep, table_gfn, false,
					  access, &exists);
		if (!sp && !exists)
			return TDP_E_NOMEM;

		/*
		 * Synchronize the new page before linking it: non-present
		 * entries may not be cached, so the guest need not flush
		 * after making a gPTE present.  4K pages were synced by
		 * kvm_mmu_find_shadow_page() already.
		 */
		if (sp && sp->unsync_children && mmu_sync_children(vcpu, sp))
			return RET_PF_RETRY;

		/* The gPTE, now write-protected or unsync, must not have changed. */
		if (FNAME(gpte_changed)(vcpu, gw, it.level - 1))
			return RET_PF_RETRY;

		if (sp)
			link_shadow_page(vcpu, it.sptep, sp);

		if (fault->write && table_gfn == fault->gfn)
			fault->write_fault_to_shadow_pgtable = true;
	}

	/* Adjust the hugepage size _after_ resolving indirect shadow pages. */
	kvm_mmu_hugepage_adjust(vcpu, fault);

	for (; shadow_walk_okay(&it, vcpu->kvm); shadow_walk_next(&it)) {
		/* An NX large page must not overwrite existing page tables. */
		if (fault->nx_huge_page_workaround_enabled)
			disallowed_hugepage_adjust(vcpu->kvm, fault, *it.sptep, it.level);

		base_gfn = gfn_round_for_level(fault->gfn, it.level);
		if (it.level == fault->goal_level)
			break;

		validate_direct_spte(vcpu, it.sptep, direct_access);

		sp = kvm_mmu_get_child_sp(vcpu, it.sptep, base_gfn, true,
					  direct_access, &exists);
		if (!sp && exists)
			continue;
		if (!sp)
			return TDP_E_NOMEM;
		link_shadow_page(vcpu, it.sptep, sp);
		if (fault->huge_page_disallowed)
			sp->nx_huge_page_disallowed = true;
	}

	if (it.level != fault->goal_level)
		return TDP_E_INTERNAL;

	ret = mmu_set_spte(vcpu, it.sptep, gw->pte_access, base_gfn,
			   fault->pfn, false, fault->write, true);
	if (ret == RET_PF_SPURIOUS)
		return ret;

	FNAME(pte_prefetch)(vcpu, gw, it.sptep);
	return ret;
}

/*
 * Which walker a fault's guest walk is, for the per-walker latency (not
 * KVM's: tdpsim's instrumentation).  EPT tables are only ever walked on
 * guest_mmu; paging64 there is L1's NPT, elsewhere the guest's own tables.
 */
static inline enum tdp_walk_kind FNAME(walk_kind)(struct kvm_vcpu *vcpu)
{
#if PTTYPE == PTTYPE_EPT
	(void)vcpu;
	return TDP_WALK_EPT;
#else
	return vcpu->arch.mmu == &vcpu->arch.guest_mmu ? TDP_WALK_NPT : TDP_WALK_1D;
#endif
}

/*
 * FNAME(page_fault) - shadow paging #PF handler.  Causes: no shadow pte for
 * the guest pte; a write through a read-only SPTE (dirty tracking of the
 * gPTE, or a write-protected guest page table); MMIO; a real guest fault.
 */
int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	/*
	 * tdpsim's walk_mem_refs below: FNAME(walk_addr_generic) sets
	 * max_level only past a PAE PDPTE register (a walk that stops at a
	 * non-present PDPTE leaves it as it was, as in the kernel), so it
	 * starts at 0, "no table read".
	 */
	walker.max_level = 0;
	/*
	 * Look up the guest pte for the faulting address.  If PFEC.RSVD is
	 * set, this is a shadow page fault; clear it before walking.
	 */
	r = kvm_timed_walk(vcpu, FNAME(walk_kind)(vcpu),
			   FNAME(walk_addr)(&walker, vcpu, fault->addr,
						  fault->error_code & ~PFERR_RSVD_MASK));
	/*
	 * One guest table read per level visited; a walk that got to the
	 * leaf (or failed there on rights) ran permission_fault().
	 */
	if (walker.max_level)
		vcpu->tdp_stats->walk_mem_refs += walker.max_level - walker.level + 1;
	if (r || ((walker.fault.error_code & PFERR_PRESENT_MASK) &&
		  !(walker.fault.error_code & PFERR_RSVD_MASK)))
		vcpu->tdp_stats->perm_checks++;

	/* The page is not mapped by the guest.  Let the guest handle it. */
	if (!r) {
		if (!fault->prefetch)
			kvm_inject_emulated_page_fault(vcpu, &walker.fault);
		return RET_PF_RETRY;
	}

	fault->gfn = walker.gfn;
	fault->max_level = walker.level;
	fault->slot = tdp_gmem_gfn_in_slot(vcpu->gmem, fault->gfn);

	if (page_fault_handle_page_track(vcpu, fault)) {
		shadow_page_table_clear_flood(vcpu, fault->addr);
		return RET_PF_WRITE_PROTECTED;
	}

	/* MMIO: emulate now, or go on to an MMIO SPTE (kvm_handle_noslot_fault) */
	r = kvm_mmu_faultin_pfn(vcpu, fault, walker.pte_access);
	if (r != RET_PF_CONTINUE)
		return r;

#if PTTYPE != PTTYPE_EPT
	/*
	 * Treat the guest PTE protections as writable, supervisor-only if
	 * this is a supervisor write fault and CR0.WP=0 (supervisor accesses
	 * ignore PTE.W if CR0.WP=0).  Don't change the access type for
	 * emulated MMIO, otherwise KVM would cache incorrect access
	 * information in the SPTE.
	 */
	if (fault->write && !(walker.pte_access & ACC_WRITE_MASK) &&
	    !is_cr0_wp(vcpu->arch.mmu) && !fault->user && fault->slot) {
		walker.pte_access |= ACC_WRITE_MASK;
		walker.pte_access &= ~ACC_USER_MASK;

		/*
		 * If we converted a user page to a kernel page, so that the
		 * kernel can write to it when cr0.wp=0, then we should
		 * prevent the kernel from executing it if SMEP is enabled.
		 */
		if (is_cr4_smep(vcpu->arch.mmu))
			walker.pte_access &= ~ACC_EXEC_MASK;
	}
#endif

	r = make_mmu_pages_available(vcpu);
	if (r)
		return r;

	if (is_page_fault_stale(vcpu))
		return RET_PF_RETRY;

	return FNAME(fetch)(vcpu, fault, &walker);
}

static gpa_t FNAME(get_level1_sp_gpa)(struct kvm_mmu_page *sp)
{
	int offset = 0;

	if (PTTYPE == 32)
		offset = sp->role.quadrant << 9;	/* SPTE_LEVEL_BITS */

	return (sp->gfn << PAGE_SHIFT) + offset * sizeof(pt_element_t);
}

/*
 * FNAME(sync_spte) - re-derive SPTE @i of unsync page @sp from its gPTE.
 * Returns < 0: failed to sync (zap the page); 0: synced, no flush needed;
 * > 0: synced and the TLB needs a flush.
 */
int FNAME(sync_spte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i)
{
	gpa_t pte_gpa;
	u64 *sptep, spte, v;
	unsigned pte_access;
	pt_element_t gpte;
	gfn_t gfn;

	/* kvm_sync_spte() skips SHADOW_NONPRESENT_VALUE; MMIO SPTEs come here */
	if (!sp->spt[i])
		return 0;

	pte_gpa = FNAME(get_level1_sp_gpa)(sp) + i * sizeof(pt_element_t);
	if (tdp_gmem_read(vcpu->gmem, pte_gpa, sizeof(pt_element_t), &v))
		return -1;
	gpte = (pt_element_t)v;

	if (FNAME(prefetch_invalid_gpte)(vcpu, sp, &sp->spt[i], gpte))
		return 1;

	gfn = gpte_to_gfn(gpte);
	pte_access = sp->role.access;
	pte_access &= FNAME(gpte_access)(gpte);
	FNAME(protect_clean_gpte)(vcpu->arch.mmu, &pte_access, gpte);

	/* sync_mmio_spte(): refresh, or drop if the gfn changed */
	if (is_mmio_spte(&vcpu->kvm->masks, sp->spt[i])) {
		if (gfn != get_mmio_spte_gfn(sp->spt[i])) {
			sp->spt[i] = 0;		/* mmu_spte_clear_no_track() */
			kvm_chk_spte(vcpu->kvm, &sp->spt[i]);
		} else {
			mark_mmio_spte(vcpu, &sp->spt[i], gfn, pte_access);
		}
		return 0;
	}

	/*
	 * Drop the SPTE if the new protections result in no effective
	 * "present" bit or if the gfn is changing (or left the memslot).
	 */
	if (kvm_pte_access_nonpresent(vcpu->kvm, pte_access) ||
	    gfn != kvm_mmu_page_get_gfn(sp, i) ||
	    !tdp_gmem_gfn_in_slot(vcpu->gmem, gfn)) {
		drop_spte(vcpu->kvm, &sp->spt[i]);
		return 1;
	}
	/* Do nothing if the permissions are unchanged. */
	if (kvm_mmu_page_get_access(sp, i) == pte_access)
		return 0;

	/* Update the shadowed access bits in case they changed. */
	kvm_mmu_page_set_access(sp, i, pte_access);

	sptep = &sp->spt[i];
	spte = *sptep;
	/*
	 * prefetch = true, can_unsync = false: a sync must not unsync other
	 * pages (mmu_try_to_unsync_pages() returns -EPERM for any shadowed
	 * gfn), KVM must finish emulating the guest's TLB flush first.  Newer
	 * kernels spell it synchronizing = true (the same behaviour).
	 */
	make_spte(vcpu, sp, pte_access, gfn, spte_to_pfn(spte), spte, true,
		  false, spte & vcpu->kvm->masks.host_writable_mask, &spte);
	return mmu_spte_update(vcpu->kvm, sptep, spte);
}

/*
 * FNAME(check_sp_gpte) - invariant of SPTE @i of a synced, indirect 4K shadow page
 * (FNAME(check_sp_gptes): of all of them):
 * every present SPTE maps what its gPTE says, with no more rights than the
 * gPTE and the page's role allow.  (Unsync pages may lag their gPTEs until
 * the next sync point; that is the point of unsync.)  The one exception
 * KVM makes on purpose is a supervisor write with CR0.WP=0 to a read-only
 * gPTE (FNAME(page_fault)), which maps the page writable but supervisor-
 * only, in a role with cr0_wp=0.  Returns NULL or the broken rule.
 */
const char *FNAME(check_sp_gpte)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int i)
{
	unsigned int shadowed, allowed;
	pt_element_t gpte;
	u64 v, spte = sp->spt[i];

	if (!is_shadow_present_pte(spte))
		return NULL;
	if (tdp_gmem_read(vcpu->gmem, FNAME(get_level1_sp_gpa)(sp) + i * sizeof(pt_element_t),
			  sizeof(pt_element_t), &v))
		return "shadowed gPTE outside guest memory";
	gpte = (pt_element_t)v;
	if (!FNAME(is_present_gpte)(vcpu->arch.mmu, gpte))
		return "present SPTE for a non-present gPTE";
	if (gpte_to_gfn(gpte) != kvm_mmu_page_get_gfn(sp, i))
		return "SPTE maps another gfn than its gPTE";
	if (spte_to_pfn(spte) != kvm_gfn_to_host_pfn(gpte_to_gfn(gpte)))
		return "SPTE pfn differs from its gPTE's frame";
	shadowed = kvm_mmu_page_get_access(sp, i);
	allowed = sp->role.access & FNAME(gpte_access)(gpte);
	FNAME(protect_clean_gpte)(vcpu->arch.mmu, &allowed, gpte);
#if PTTYPE != PTTYPE_EPT
	if (!sp->role.cr0_wp && (shadowed & ACC_WRITE_MASK) &&
	    !(allowed & ACC_WRITE_MASK) && !(shadowed & ACC_USER_MASK))
		allowed |= ACC_WRITE_MASK;	/* CR0.WP=0 supervisor page */
#endif
	if (shadowed & ~allowed)
		return "SPTE grants more than its gPTE and role";
	if (is_writable_pte(spte) && !(shadowed & ACC_WRITE_MASK))
		return "writable SPTE for a read-only translation";
	return NULL;
}

const char *FNAME(check_sp_gptes)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		const char *why = FNAME(check_sp_gpte)(vcpu, sp, i);

		if (why)
			return why;
	}
	return NULL;
}

/*
 * FNAME(check_sp_gptes_range) - FNAME(check_sp_gpte) for the entries of
 * @sp whose gPTEs overlap the guest bytes [@gpa, @gpa + @len): what a
 * guest store there can have put out of agreement.
 */
const char *FNAME(check_sp_gptes_range)(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
					gpa_t gpa, unsigned int len)
{
	gpa_t base = FNAME(get_level1_sp_gpa)(sp), end = base + SPTE_ENT_PER_PAGE *
							 sizeof(pt_element_t);
	gpa_t lo = gpa > base ? gpa : base, hi = gpa + len < end ? gpa + len : end;

	for (; lo < hi; lo = (lo | (sizeof(pt_element_t) - 1)) + 1) {
		const char *why = FNAME(check_sp_gpte)(vcpu, sp,
						      (int)((lo - base) / sizeof(pt_element_t)));

		if (why)
			return why;
	}
	return NULL;
}
