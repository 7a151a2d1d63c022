// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_run(): the guest's accesses run on the CPU model until an exit,
 * and KVM's exit handlers (#PF intercept, EPT violation / #NPF) call into
 * the MMU; a fixed exit lets the CPU try again.
 *
 * By default no TLB is modelled: every access walks, which is one of the
 * behaviours the architecture allows (a TLB may drop any entry at any
 * time), so the outcome of a trace whose guest flushes correctly is the
 * same.  `replay --tlb` adds a small per-vCPU TLB for shadow paging
 * (include/tdpsim/hw_tlb.h).
 *
 * An access is retried after each exit KVM fixed; a bound on retries turns
 * a KVM livelock into a counted, reported outcome instead of a hang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

struct hw_result {
	bool fault;
	u64 ec;			/* hardware error code (PFERR_* layout) */
	u64 qual;		/* EPT violation: the exit qualification */
	gpa_t gpa;		/* translation when !fault */
	bool w, u, nx, dirty;	/* rights of the translation, leaf D */
};

/* Host frame -> guest frame for a leaf SPTE (spte.h's fixed rule). */
static inline gfn_t host_pfn_to_gfn(u64 pfn)
{
	return pfn - HOST_GUEST_PFN_BASE;
}

/*
 * hw_walk_legacy() - the CPU's walk of legacy-format tables (shadow paging,
 * or NPT with @npt set).  @addr is a GVA (shadow) or GPA (NPT).  @user is
 * the U/S of the access, @wp/@smep/@smap the hardware CR bits.  Sets A/D
 * in the SPTEs as the CPU does.
 */
static void hw_walk_legacy(struct kvm *kvm, hpa_t root, int level, u64 addr,
			   enum tdp_access_op op, bool user, bool ac,
			   bool implicit, bool wp, bool smep, bool smap,
			   bool npt_gmet, struct hw_result *res)
{
	u64 *table = kvm_mmu_hpa_to_table(kvm, root);
	u64 *entries[PT64_ROOT_MAX_LEVEL + 1];
	bool W = true, U = true, NX = false;
	u64 spte = 0;
	int leaf = level, top;

	res->fault = false;
	res->ec = (op == TDP_OP_WRITE ? PFERR_WRITE_MASK : 0) |
		  (user ? PFERR_USER_MASK : 0) |
		  (op == TDP_OP_FETCH ? PFERR_FETCH_MASK : 0);	/* EFER.NX=1 */

	if (level == PT32E_ROOT_LEVEL) {
		/* PAE: the PDPTE registers come from the 4-entry root */
		u64 pdpte = table ? table[(addr >> 30) & 3] : 0;

		if (!(pdpte & PT_PRESENT_MASK))
			goto not_present;
		table = kvm_mmu_hpa_to_table(kvm, pdpte & SPTE_BASE_ADDR_MASK);
		level--;
	}
	top = level;
	for (; level >= PG_LEVEL_4K; level--) {
		unsigned idx = (addr >> (PAGE_SHIFT + 9 * (level - 1))) & 511;

		if (!table)
			goto not_present;
		entries[level] = &table[idx];
		spte = table[idx];
		if (!(spte & PT_PRESENT_MASK))
			goto not_present;
		W &= !!(spte & PT_WRITABLE_MASK);
		U &= !!(spte & PT_USER_MASK);
		NX |= !!(spte & PT64_NX_MASK);
		if (level == PG_LEVEL_4K || (spte & PT_PAGE_SIZE_MASK)) {
			leaf = level;
			break;
		}
		table = kvm_mmu_hpa_to_table(kvm, spte & SPTE_BASE_ADDR_MASK);
	}

	res->w = W;
	res->u = U;
	res->nx = NX;
	if (hw_rights_deny(op, user, ac, implicit, W, U, NX, wp, smep, smap,
			   npt_gmet)) {
		res->fault = true;
		res->ec |= PFERR_PRESENT_MASK;
		return;
	}
	/* the CPU sets A on every entry used, D on the leaf for writes */
	for (int l = top; l >= leaf; l--)
		*entries[l] |= PT_ACCESSED_MASK;
	if (op == TDP_OP_WRITE)
		*entries[leaf] |= PT_DIRTY_MASK;
	res->dirty = *entries[leaf] & PT_DIRTY_MASK;
	{
		gfn_t gfn = host_pfn_to_gfn(spte_to_pfn(spte) &
					    ~(KVM_PAGES_PER_HPAGE(leaf) - 1));

		gfn += (addr >> PAGE_SHIFT) & (KVM_PAGES_PER_HPAGE(leaf) - 1);
		res->gpa = (gfn << PAGE_SHIFT) | (addr & (PAGE_SIZE - 1));
	}
	return;

not_present:
	res->fault = true;
}

/*
 * hw_walk_ept() - the CPU's walk of KVM's EPT tables for a GPA.  @access is
 * the access in PFERR_* terms: W/F, U = the linear translation is
 * user-mode (MBEC picks XU over XS), GUEST_FINAL / GUEST_PAGE = part of a
 * guest linear translation (final GPA / paging structure; the latter is a
 * read+write access).  On a violation res->qual is the exit
 * qualification the CPU writes (SDM 28.3.3.2, bits 0-8; the advanced
 * bits 9-11 are the caller's, who knows the linear translation).
 */
static void hw_walk_ept(struct kvm *kvm, hpa_t root, int level, u64 gpa,
			u64 access, bool mbec, struct hw_result *res)
{
	u64 *table = kvm_mmu_hpa_to_table(kvm, root);
	u64 spte = 0, rwx = VMX_EPT_RWX_MASK | VMX_EPT_USER_EXECUTABLE_MASK;
	u64 present_bits = VMX_EPT_RWX_MASK |
			   (mbec ? VMX_EPT_USER_EXECUTABLE_MASK : 0);
	int leaf = level;
	bool ok;

	res->fault = false;
	for (; level >= PG_LEVEL_4K; level--) {
		unsigned idx = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511;

		if (!table)
			break;
		spte = table[idx];
		rwx &= spte;
		if (!(spte & present_bits)) {
			rwx = 0;
			break;
		}
		if (level == PG_LEVEL_4K || (spte & PT_PAGE_SIZE_MASK)) {
			leaf = level;
			break;
		}
		table = kvm_mmu_hpa_to_table(kvm, spte & SPTE_BASE_ADDR_MASK);
	}

	if (!(spte & present_bits) || level < PG_LEVEL_4K || !table)
		ok = false;
	else if (access & PFERR_WRITE_MASK)
		ok = (rwx & VMX_EPT_WRITABLE_MASK) && (rwx & VMX_EPT_READABLE_MASK);
	else if (access & PFERR_FETCH_MASK)
		ok = mbec && (access & PFERR_USER_MASK) ?
		     !!(rwx & VMX_EPT_USER_EXECUTABLE_MASK) :
		     !!(rwx & VMX_EPT_EXECUTABLE_MASK);
	else
		ok = rwx & VMX_EPT_READABLE_MASK;
	if (!ok) {
		u64 q = EPT_VIOLATION_RWX_TO_PROT(rwx);

		if (mbec)
			q |= EPT_VIOLATION_USER_EXEC_TO_PROT(rwx);
		if (access & PFERR_WRITE_MASK)
			q |= EPT_VIOLATION_ACC_WRITE;
		if (access & PFERR_FETCH_MASK)
			q |= EPT_VIOLATION_ACC_INSTR;
		/* a read, or a paging-structure access (read+write) */
		if (!(access & (PFERR_WRITE_MASK | PFERR_FETCH_MASK)) ||
		    (access & PFERR_GUEST_PAGE_MASK))
			q |= EPT_VIOLATION_ACC_READ;
		if (access & (PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK))
			q |= EPT_VIOLATION_GVA_IS_VALID;
		if (access & PFERR_GUEST_FINAL_MASK)
			q |= EPT_VIOLATION_GVA_TRANSLATED;
		res->fault = true;
		res->qual = q;
		return;
	}
	{
		u64 mask = KVM_PAGES_PER_HPAGE(leaf) - 1;
		gfn_t gfn = host_pfn_to_gfn(spte_to_pfn(spte) & ~mask) +
			    ((gpa >> PAGE_SHIFT) & mask);

		res->gpa = (gfn << PAGE_SHIFT) | (gpa & (PAGE_SIZE - 1));
	}
}

/* The TDP stage of one guest-physical access by the CPU. */
static void hw_tdp(struct kvm_vcpu *vcpu, u64 gpa, u64 access,
		   struct hw_result *res)
{
	struct kvm_mmu *mmu = vcpu->arch.mmu;

	if (vcpu->kvm->masks.ept) {
		hw_walk_ept(vcpu->kvm, mmu->root.hpa, mmu->root_role.level, gpa,
			    access, mmu_has_mbec(mmu), res);
		if (res->fault) {
			/*
			 * advanced information: L1's own walk is not modelled
			 * in detail; its U/S is taken from the CPL
			 */
			if ((access & (PFERR_GUEST_FINAL_MASK | PFERR_USER_MASK)) ==
			    (PFERR_GUEST_FINAL_MASK | PFERR_USER_MASK))
				res->qual |= EPT_VIOLATION_GVA_USER;
			vcpu->arch.exit_qualification = res->qual;
			res->ec = vmx_ept_violation_error_code(mmu, res->qual);
		}
	} else {
		/* NPT: every access is a user access unless KVM runs GMET */
		bool gmet = vcpu->host_gmet;
		enum tdp_access_op op = access & PFERR_WRITE_MASK ? TDP_OP_WRITE :
					access & PFERR_FETCH_MASK ? TDP_OP_FETCH :
					TDP_OP_READ;

		hw_walk_legacy(vcpu->kvm, mmu->root.hpa, mmu->root_role.level,
			       gpa, op, gmet ? !!(access & PFERR_USER_MASK) : true,
			       false, false, true, false, false, gmet, res);
		res->ec |= access & (PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK);
	}
}

/*
 * The guest dimension of a TDP access, by the port's walker on root_mmu:
 * the final gfn, or the #PF error code, and the GPAs of the guest paging
 * entries used (top first) for the TDP stage.
 */
struct hw_guest_walk {
	gfn_t gfn;
	u64 ec;
	int ntables;
	gpa_t tables[PT64_ROOT_MAX_LEVEL];
};

#define DEFINE_HW_GUEST_WALK(bits)						\
static bool hw_guest_walk##bits(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu,	\
				u64 gva, u64 access, struct hw_guest_walk *gw)	\
{										\
	struct guest_walker##bits w;						\
										\
	if (!paging##bits##_walk_addr_generic(&w, vcpu, mmu, gva, access)) {	\
		gw->ec = w.fault.error_code;					\
		return false;							\
	}									\
	gw->ntables = 0;							\
	for (int l = (int)w.max_level; l >= w.level; l--)			\
		gw->tables[gw->ntables++] = w.pte_gpa[l - 1];			\
	gw->gfn = w.gfn;							\
	return true;								\
}
DEFINE_HW_GUEST_WALK(32)
DEFINE_HW_GUEST_WALK(64)
#undef DEFINE_HW_GUEST_WALK

/*
 * hw_nested_translate() - the CPU's translation of an L2 GPA through KVM's
 * shadow EPT02 / NPT02 during the hardware model's 2D walk; installed as
 * vcpu->hw_translate_nested around nested_mmu->gva_to_gpa().  The walker
 * calls it once per L2 paging structure, top down, then for the final GPA,
 * which the engine marks with PFERR_GUEST_FINAL_MASK in the access it
 * walks with (both layouts' walkers pass it on).  Paging-structure
 * accesses are read+write (docs/NESTED.md).  A miss is an exit to L0:
 * *@exception gets nested_page_fault, the GPA the CPU reports (the walker
 * passes page frames; the CPU names the entry or byte accessed) and the
 * exit qualification (EPT) or EXITINFO1 (NPT) in exit_qualification.
 */
static gpa_t hw_nested_translate(struct kvm_vcpu *vcpu, gpa_t gpa, u64 access,
				 struct x86_exception *exception, u64 pte_access)
{
	struct kvm_mmu *mmu = &vcpu->arch.guest_mmu;
	bool final = access & PFERR_GUEST_FINAL_MASK;
	struct hw_result res;
	u64 offset, hw_access, info = 0;

	if (final) {
		offset = vcpu->hw_walk.gva & (PAGE_SIZE - 1);
		hw_access = (access & (PFERR_WRITE_MASK | PFERR_FETCH_MASK)) |
			    PFERR_GUEST_FINAL_MASK;
	} else {
		int level = vcpu->hw_walk.level--;
		u64 gva = vcpu->hw_walk.gva;

		offset = vcpu->arch.nested_mmu.cpu_role.base.has_4_byte_gpte ?
			 ((gva >> (PAGE_SHIFT + 10 * (level - 1))) & 1023) * 4 :
			 ((gva >> (PAGE_SHIFT + 9 * (level - 1))) & 511) * 8;
		hw_access = PFERR_WRITE_MASK | PFERR_GUEST_PAGE_MASK;
	}

	if (vcpu->kvm->masks.ept) {
		/* MBEC: a user-mode linear translation (U/S = 1 at every level) */
		if (final && (pte_access & ACC_USER_MASK))
			hw_access |= PFERR_USER_MASK;
		hw_walk_ept(vcpu->kvm, mmu->root.hpa, mmu->root_role.level, gpa,
			    hw_access, mmu_has_mbec(mmu), &res);
		info = res.fault ? res.qual : 0;
		/* advanced information: the L2 translation's rights */
		if (res.fault && final)
			info |= (pte_access & ACC_USER_MASK ? EPT_VIOLATION_GVA_USER : 0) |
				(pte_access & ACC_WRITE_MASK ? EPT_VIOLATION_GVA_WRITABLE : 0) |
				(pte_access & ACC_EXEC_MASK ? 0 : EPT_VIOLATION_GVA_NX);
	} else {
		/* NPT: user walks, unless L1 enabled GMET (then the CPL counts) */
		bool gmet = vcpu->arch.nested.misc_ctl & SVM_MISC_ENABLE_GMET;
		bool user = !gmet || !final || (access & PFERR_USER_MASK);
		enum tdp_access_op op = hw_access & PFERR_WRITE_MASK ? TDP_OP_WRITE :
					hw_access & PFERR_FETCH_MASK ? TDP_OP_FETCH :
					TDP_OP_READ;

		hw_walk_legacy(vcpu->kvm, mmu->root.hpa, mmu->root_role.level, gpa,
			       op, user, false, false, true, false, false, gmet, &res);
		if (res.fault) {
			info = res.ec | (final ? PFERR_GUEST_FINAL_MASK :
						 PFERR_GUEST_PAGE_MASK);
			/*
			 * Erratum 1218: with GMET, EXITINFO1[2] may be set on a
			 * fetch fault whatever the CPL.  The model sets it, so
			 * KVM's workaround (npf_interception) is exercised.
			 */
			if (gmet && (info & PFERR_FETCH_MASK))
				info |= PFERR_USER_MASK;
		}
	}
	if (!res.fault)
		return res.gpa;
	memset(exception, 0, sizeof(*exception));
	exception->vector = PF_VECTOR;
	exception->nested_page_fault = true;
	exception->address = (gpa & PAGE_MASK) + offset;	/* paging off: @gpa has it */
	exception->exit_qualification = info;
	return INVALID_GPA;
}

void handle_access_shadow(struct tdp_engine *e, struct kvm_vcpu *vcpu,
				 const struct tdp_event *ev, u64 access,
				 struct tdp_outcome *out, int *err)
{
	const struct kvm_vcpu_arch *a = &vcpu->arch;
	bool paging = is_paging(vcpu);
	bool user = access & PFERR_USER_MASK;
	bool smep = paging && (a->cr4 & X86_CR4_SMEP);
	bool smap = paging && (a->cr4 & X86_CR4_SMAP);
	struct hw_tlb_entry *tlb = vcpu_tlb(e, vcpu), *t = NULL;
	u64 tag = (ev->u.access.gva >> PAGE_SHIFT) + 1;
	struct hw_result hw;

	if (tlb)
		t = hw_tlb_slot(tlb, ev->u.access.gva);

	for (int tries = 0; tries < ACCESS_MAX_TRIES; tries++) {
		int r = vcpu_enter_guest(e, vcpu);

		if (r) {
			*err = engine_fail(e, r, "cannot load the MMU root");
			return;
		}
		if (t && t->tag == tag &&
		    (ev->u.access.op != TDP_OP_WRITE || t->dirty) &&
		    !hw_rights_deny(ev->u.access.op, user, ev->u.access.ac,
				    ev->u.access.implicit, t->w, t->u, t->nx, true,
				    smep, smap, false)) {
			e->stats->hw_tlb_hits++;
			out->kind = TDP_OUT_OK;
			out->gpa = t->pa | (ev->u.access.gva & (PAGE_SIZE - 1));
			return;
		}
		hw_walk_legacy(&e->kvm, a->mmu->root.hpa, a->mmu->root_role.level,
			       ev->u.access.gva, ev->u.access.op, user,
			       ev->u.access.ac, ev->u.access.implicit, true,
			       smep, smap, false, &hw);
		if (!hw.fault) {
			if (t)
				*t = (struct hw_tlb_entry){ tag, hw.gpa & PAGE_MASK, hw.w,
							    hw.u, hw.nx, hw.dirty };
			out->kind = TDP_OUT_OK;
			out->gpa = hw.gpa;
			return;
		}
		/*
		 * #PF intercept.  KVM gets the hardware error code only:
		 * PFERR_IMPLICIT_ACCESS is a software bit its emulator sets,
		 * never the CPU, so an implicit supervisor access to a user
		 * page with EFLAGS.AC=1 under SMAP looks allowed to KVM's
		 * walker and livelocks (counted below), as on real KVM.
		 */
		e->stats->exit_pf++;
		vcpu->exception_pending = false;
		r = kvm_mmu_page_fault(vcpu, ev->u.access.gva, hw.ec);
		if (take_injected(e, vcpu, out))
			return;
		r = account_ret_pf(e, r);
		if (r < 0) {
			*err = r;
			return;
		}
		if (r == RET_PF_EMULATE) {
			emulate_access(e, vcpu, ev->u.access.gva, access, out);
			return;
		}
	}
	/* KVM kept "fixing" a fault the hardware kept raising */
	e->stats->pf_livelock++;
	out->kind = TDP_OUT_PF;
	out->ec = hw.ec & 0xffff;
	count_injected(e->stats, out->ec);
}

/*
 * TDP: the guest's own walk (hardware) on root_mmu, then each guest table
 * page and the final GPA through KVM's EPT/NPT.
 */
void handle_access_tdp(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			      const struct tdp_event *ev, u64 access,
			      struct tdp_outcome *out, int *err)
{
	struct kvm_mmu *mmu = vcpu->arch.walk_mmu;
	u64 gva = ev->u.access.gva;

	for (int tries = 0; tries < ACCESS_MAX_TRIES; tries++) {
		struct hw_result hw = { 0 };
		gpa_t tables[PT64_ROOT_MAX_LEVEL];
		int ntables = 0, r;
		gpa_t gpa;

		r = vcpu_enter_guest(e, vcpu);
		if (r) {
			*err = engine_fail(e, r, "cannot load the MMU root");
			return;
		}
		if (!is_paging(vcpu)) {
			gpa = gva;
		} else {
			struct hw_guest_walk gw;
			bool ok = mmu->cpu_role.base.has_4_byte_gpte ?
				  hw_guest_walk32(vcpu, mmu, gva, access, &gw) :
				  hw_guest_walk64(vcpu, mmu, gva, access, &gw);

			if (!ok) {
				out->kind = TDP_OUT_PF;
				out->ec = gw.ec & 0xffff;
				count_injected(e->stats, out->ec);
				return;
			}
			ntables = gw.ntables;
			memcpy(tables, gw.tables, ntables * sizeof(tables[0]));
			gpa = (gw.gfn << PAGE_SHIFT) | (gva & (PAGE_SIZE - 1));
		}
		/* paging-structure reads (and A/D writes) go through TDP */
		for (int i = 0; i < ntables && !hw.fault; i++) {
			hw_tdp(vcpu, tables[i], PFERR_WRITE_MASK | PFERR_GUEST_PAGE_MASK, &hw);
			if (hw.fault)
				gpa = tables[i];
		}
		if (!hw.fault) {
			hw_tdp(vcpu, gpa, (access & (PFERR_WRITE_MASK | PFERR_FETCH_MASK |
						     PFERR_USER_MASK)) |
				PFERR_GUEST_FINAL_MASK, &hw);
			if (!hw.fault) {
				out->kind = TDP_OUT_OK;
				out->gpa = gpa;
				return;
			}
		}
		e->stats->exit_ept_violation++;
		r = account_ret_pf(e, kvm_mmu_page_fault(vcpu, gpa, hw.ec));
		if (r < 0) {
			*err = r;
			return;
		}
		if (r == RET_PF_EMULATE) {
			/* MMIO: the access completes through emulation */
			out->kind = TDP_OUT_OK;
			out->gpa = gpa;
			return;
		}
	}
	e->stats->pf_livelock++;
	*err = engine_fail(e, TDP_E_INTERNAL, "TDP fault at 0x%llx not resolved",
			   (unsigned long long)gva);
}

/*
 * handle_ept_violation() / npf_interception(): an L2 exit into KVM for a
 * GPA that its EPT02/NPT02 does not map with the rights needed.  KVM's
 * fault handler walks L1's table and fixes the shadow entry (the access
 * is retried), or queues the fault for L1 (reflected: *@out is set).
 * Returns a RET_PF_* value or a negative TDP_E_* error.
 */
static int nested_tdp_exit(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			   const struct x86_exception *exit,
			   struct tdp_outcome *out)
{
	u64 ec;
	int r;

	e->stats->exit_ept_violation++;
	e->stats->l2_exits++;
	vcpu->arch.exit_qualification = exit->exit_qualification;
	if (vcpu->kvm->masks.ept) {
		ec = vmx_ept_violation_error_code(vcpu->arch.mmu,
						  exit->exit_qualification);
	} else {
		ec = exit->exit_qualification;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		/* erratum 1218 workaround (0046): U of a GMET fetch is CPL == 3 */
		if ((vcpu->arch.nested.misc_ctl & SVM_MISC_ENABLE_GMET) &&
		    (ec & PFERR_FETCH_MASK)) {
			ec |= PFERR_USER_MASK;
			if (vcpu->hw_walk.cpl != 3)
				ec &= ~PFERR_USER_MASK;
		}
#endif
	}
	vcpu->exception_pending = false;
	r = kvm_mmu_page_fault(vcpu, exit->address, ec);
	if (take_injected(e, vcpu, out))
		return RET_PF_RETRY;
	return account_ret_pf(e, r);
}

/*
 * An L2 access: the CPU's 2D walk -- L2's tables by the port's walker on
 * nested_mmu, every L2 GPA through KVM's EPT02/NPT02 (hw_nested_translate).
 * A #PF in L2 is delivered without an exit; an EPT02/NPT02 miss exits to
 * KVM, which fixes it or reflects it to L1.  A reflected exit is L1
 * handling it and resuming L2 at once (docs/NESTED.md).
 */
void handle_access_nested(struct tdp_engine *e, struct kvm_vcpu *vcpu,
				 const struct tdp_event *ev, u64 access,
				 unsigned cpl, struct tdp_outcome *out, int *err)
{
	struct kvm_mmu *w = vcpu->arch.walk_mmu;
	u64 gva = ev->u.access.gva;

	e->stats->l2_accesses++;
	vcpu->hw_walk.gva = gva;
	vcpu->hw_walk.cpl = cpl;
	for (int tries = 0; tries < NESTED_ACCESS_MAX_TRIES; tries++) {
		struct x86_exception exc = { 0 };
		gpa_t gpa;
		int r = vcpu_enter_guest(e, vcpu);

		if (r) {
			*err = engine_fail(e, r, "cannot load the MMU root");
			return;
		}
		/* PAE: the PDPTE comes from the registers, no table access */
		vcpu->hw_walk.level = w->cpu_role.base.level == PT32E_ROOT_LEVEL ?
				      PG_LEVEL_2M : w->cpu_role.base.level;
		vcpu->hw_translate_nested = hw_nested_translate;
		gpa = w->gva_to_gpa(vcpu, w, gva, access | PFERR_GUEST_FINAL_MASK,
				    &exc);
		vcpu->hw_translate_nested = NULL;
		if (gpa != INVALID_GPA) {
			out->kind = TDP_OUT_OK;
			out->gpa = gpa;
			return;
		}
		if (!exc.nested_page_fault) {
			deliver_fault(e, vcpu, &exc, out);	/* #PF in L2 */
			return;
		}
		r = nested_tdp_exit(e, vcpu, &exc, out);
		if (r < 0) {
			*err = r;
			return;
		}
		if (out->kind != TDP_OUT_NONE)
			return;				/* reflected to L1 */
		if (r == RET_PF_EMULATE) {
			emulate_access(e, vcpu, gva, access, out);
			return;
		}
	}
	e->stats->pf_livelock++;
	*err = engine_fail(e, TDP_E_INTERNAL, "L2 access at 0x%llx not resolved",
			   (unsigned long long)gva);
}
