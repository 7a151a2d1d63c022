// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay engine of one ACC layout: a VM (struct kvm + guest memory),
 * its vCPUs, the hardware model that runs the guest on the tables KVM
 * built, and KVM's reactions to each trace event (the arch/x86/kvm/x86.c
 * side: register loads, emulated writes, INVLPG, TLB flushes, page-fault
 * exits).
 *
 * Hardware model
 * --------------
 * Shadow paging: the CPU walks the shadow tables (legacy format) with the
 * control registers KVM programs: CR0.WP=1 always, EFER.NX=1, CR4.SMEP and
 * SMAP as the guest set them (cleared while guest paging is off), no PKU.
 * A walk that faults is a #PF intercept: kvm_mmu_page_fault(CR2 = GVA,
 * hardware error code).  TDP: the CPU walks the guest's own tables (with
 * the port's walker on root_mmu, which implements the same SDM rules and
 * is tested against an independent oracle) and each table GPA and the
 * final GPA through KVM's direct EPT/NPT tables; a miss is an EPT
 * violation / NPF exit into kvm_mmu_page_fault(GPA, error code).  A guest
 * #PF under TDP is delivered by the hardware without an exit.
 *
 * By default no TLB is modelled: every access walks, which is one of the
 * behaviours the architecture allows (a TLB may drop any entry at any
 * time), so the outcome of a trace whose guest flushes correctly is the
 * same.  `replay --tlb` adds a small per-vCPU TLB for shadow paging (see
 * struct hw_tlb_entry): it counts hits and exposes a missing flush in the
 * port as a stale translation.
 *
 * An access is retried after each exit KVM fixed; a bound on retries turns
 * a KVM livelock into a counted, reported outcome instead of a hang.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "fault.h"
#include "paging.h"

#define ACCESS_MAX_TRIES 8

struct tdp_engine {
	struct kvm kvm;
	struct tdp_gmem *gmem;
	struct tdp_stats *stats;
	struct tdp_config cfg;
	bool check;
	unsigned nr_vcpus;
	struct kvm_vcpu *vcpus;
	struct hw_tlb_entry *tlb;	/* nr_vcpus * HW_TLB_ENTRIES, or NULL */
	char errmsg[256];
};


static int engine_fail(struct tdp_engine *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int engine_fail(struct tdp_engine *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof(e->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* ------------------------------------------------------------------ */
/* hardware model                                                      */
/* ------------------------------------------------------------------ */

struct hw_result {
	bool fault;
	u64 ec;			/* hardware error code (PFERR_* layout) */
	u64 qual;		/* EPT violation: the exit qualification */
	gpa_t gpa;		/* translation when !fault */
	bool w, u, nx, dirty;	/* rights of the translation, leaf D */
};

/*
 * hw_rights_deny() - the access rights of SDM 4.6 on accumulated W/U/NX
 * (NPT with GMET: APM 15.25, U=0 does not restrict data, U=1 blocks
 * supervisor fetches).  Shared by table walks and TLB hits.
 */
static bool hw_rights_deny(enum tdp_access_op op, bool user, bool ac,
			   bool implicit, bool W, bool U, bool NX, bool wp,
			   bool smep, bool smap, bool npt_gmet)
{
	if (npt_gmet)
		return (op == TDP_OP_WRITE && !W) ||
		       (op == TDP_OP_FETCH && (NX || (U && !user)));
	if (op == TDP_OP_FETCH)
		return NX || (user ? !U : (U && smep));
	if (user)
		return !U || (op == TDP_OP_WRITE && !W);
	return (U && smap && (implicit || !ac)) || (op == TDP_OP_WRITE && wp && !W);
}

/*
 * The optional TLB (replay --tlb; shadow paging): per vCPU, direct mapped
 * by linear page number, holding what a walk of the shadow tables found.
 * Flushed by every TLB flush KVM requests (KVM_REQ_TLB_FLUSH*, after
 * zapping or write-protecting SPTEs), by guest flushes (MOV CR3, CR4.PGE,
 * the flush event) and per address by INVLPG.  A hit whose rights do not
 * allow the access, or a write through a clean entry, walks again, as the
 * CPU may.  With it, a port that forgets a flush shows stale translations.
 */
#define HW_TLB_ENTRIES 64
struct hw_tlb_entry {
	u64 tag;		/* linear page number + 1; 0 = invalid */
	gpa_t gpa;		/* guest-physical page */
	bool w, u, nx, dirty;
};

static struct hw_tlb_entry *vcpu_tlb(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	return e->tlb ? &e->tlb[vcpu->vcpu_id * HW_TLB_ENTRIES] : NULL;
}

static void hw_tlb_flush(struct hw_tlb_entry *tlb)
{
	if (tlb)
		memset(tlb, 0, HW_TLB_ENTRIES * sizeof(*tlb));
}

static void hw_tlb_flush_gva(struct hw_tlb_entry *tlb, u64 gva)
{
	if (tlb && tlb[(gva >> PAGE_SHIFT) % HW_TLB_ENTRIES].tag == (gva >> PAGE_SHIFT) + 1)
		tlb[(gva >> PAGE_SHIFT) % HW_TLB_ENTRIES].tag = 0;
}

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

/*
 * __vmx_handle_ept_violation() (vmx/common.h): KVM's page-fault error code
 * from an EPT violation's exit qualification.  Pre-series a read was
 * reported as PFERR_USER_MASK; the series drops that (0028), counts XU as
 * "present" under MBEC and takes U from the advanced GVA_USER bit (0036).
 */
static u64 vmx_ept_violation_error_code(struct kvm_mmu *mmu, u64 qual)
{
	u64 ec = 0;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	(void)mmu;
	if (qual & EPT_VIOLATION_ACC_READ)
		ec |= PFERR_USER_MASK;
#endif
	if (qual & EPT_VIOLATION_ACC_WRITE)
		ec |= PFERR_WRITE_MASK;
	if (qual & EPT_VIOLATION_ACC_INSTR)
		ec |= PFERR_FETCH_MASK;
	if (qual & (EPT_VIOLATION_PROT_READ | EPT_VIOLATION_PROT_WRITE |
		    EPT_VIOLATION_PROT_EXEC))
		ec |= PFERR_PRESENT_MASK;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	if (mmu_has_mbec(mmu) && (qual & EPT_VIOLATION_PROT_USER_EXEC))
		ec |= PFERR_PRESENT_MASK;
#endif
	if (qual & EPT_VIOLATION_GVA_IS_VALID) {
		ec |= (qual & EPT_VIOLATION_GVA_TRANSLATED) ?
		      PFERR_GUEST_FINAL_MASK : PFERR_GUEST_PAGE_MASK;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		if ((qual & (EPT_VIOLATION_GVA_TRANSLATED | EPT_VIOLATION_GVA_USER)) ==
		    (EPT_VIOLATION_GVA_TRANSLATED | EPT_VIOLATION_GVA_USER))
			ec |= PFERR_USER_MASK;
#endif
	}
	return ec;
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

/* ------------------------------------------------------------------ */
/* KVM's side: register loads, flushes, entry                          */
/* ------------------------------------------------------------------ */

#define KVM_MMU_CR0_ROLE_BITS	(X86_CR0_PG | X86_CR0_WP)
#define KVM_MMU_CR4_ROLE_BITS	(X86_CR4_PSE | X86_CR4_PAE | X86_CR4_SMEP | \
				 X86_CR4_SMAP | X86_CR4_PKE | X86_CR4_LA57)
#define KVM_MMU_EFER_ROLE_BITS	(EFER_LME | EFER_NX)

static bool is_paging(const struct kvm_vcpu *vcpu)
{
	return vcpu->arch.cr0 & X86_CR0_PG;
}

static bool is_pae_paging(const struct kvm_vcpu *vcpu)
{
	return is_paging(vcpu) && (vcpu->arch.cr4 & X86_CR4_PAE) &&
	       !(vcpu->arch.efer & EFER_LMA);
}

/*
 * load_pdptrs(): the four PAE PDPTEs at CR3 (32-byte aligned).  Under
 * shadow paging the PAE root's four entries were built from the old
 * registers, so KVM frees the current root when they change (x86.c:
 * "Shadow page roots need to be reconstructed instead"); keeping it would
 * leave root entries that no longer match mmu->pdptrs, which FNAME(fetch)
 * cannot walk (a CR3 reload after a PDPTE store then failed).
 */
static void load_pdptrs(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu *mmu = vcpu->arch.walk_mmu;
	gpa_t base = vcpu->arch.cr3 & ~0x1full;
	u64 pdpte[4];

	/* L2's CR3 is an L2 GPA: KVM reads it through L1's EPT/NPT */
	if (mmu_is_nested(vcpu)) {
		gpa_t real = kvm_translate_gpa(vcpu, mmu, base & PAGE_MASK,
					       PFERR_USER_MASK | PFERR_WRITE_MASK,
					       NULL, 0);

		base = real == INVALID_GPA ? INVALID_GPA :
		       real | (base & ~PAGE_MASK);
	}
	for (int i = 0; i < 4; i++) {
		if (base == INVALID_GPA ||
		    tdp_gmem_read(vcpu->gmem, base + i * 8, 8, &pdpte[i]))
			pdpte[i] = 0;
	}
	if (!vcpu->tdp_enabled && memcmp(mmu->pdptrs, pdpte, sizeof(pdpte)))
		kvm_mmu_free_roots(vcpu->kvm, mmu, KVM_MMU_ROOT_CURRENT);
	memcpy(mmu->pdptrs, pdpte, sizeof(pdpte));
}

/* kvm_mmu_reset_context(): drop the roots and recompute the roles. */
static void kvm_mmu_reset_context(struct kvm_vcpu *vcpu)
{
	kvm_mmu_unload(vcpu);
	kvm_init_mmu(vcpu);
	kvm_mmu_init_fault_callbacks(vcpu, vcpu->arch.mmu);
}

/*
 * kvm_vcpu_flush_tlb_guest(): a guest TLB flush.  With shadow paging KVM
 * must bring unsync shadow pages back in sync (the guest may have changed
 * PTEs since); with TDP there is nothing to do in software.
 */
static void kvm_vcpu_flush_tlb_guest(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	hw_tlb_flush(vcpu_tlb(e, vcpu));
	if (!vcpu->tdp_enabled) {
		kvm_mmu_sync_roots(vcpu);
		kvm_mmu_sync_prev_roots(vcpu);
	}
}

/*
 * vcpu_enter_guest() - the requests KVM services before VM entry, then
 * kvm_mmu_reload(): allocate roots if the current one is invalid.
 */
static int vcpu_enter_guest(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	const u64 flushes = (1ull << KVM_REQ_TLB_FLUSH) |
			    (1ull << KVM_REQ_TLB_FLUSH_CURRENT);

	if (kvm_check_request(KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, vcpu))
		kvm_mmu_free_obsolete_roots(vcpu);
	if (kvm_check_request(KVM_REQ_MMU_SYNC, vcpu))
		kvm_mmu_sync_roots(vcpu);
	kvm_check_request(KVM_REQ_LOAD_MMU_PGD, vcpu);	/* nothing to load */
	if (!VALID_PAGE(vcpu->arch.mmu->root.hpa)) {
		int r = kvm_mmu_load(vcpu);

		if (r)
			return r;
	}
	/* TLB flushes KVM asked for, incl. the one after loading a root */
	if (vcpu->requests & flushes) {
		vcpu->requests &= ~flushes;
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	}
	return 0;
}

/*
 * The `set` event: the registers are loaded at once and KVM reacts once,
 * as the architectural MOV-to-CR instructions make it (kvm_set_cr0/3/4,
 * kvm_set_efer): role bits changed -> kvm_mmu_reset_context(); a new CR3
 * (same roles) -> kvm_mmu_new_pgd() and, without PCID, a guest TLB flush;
 * PAE PDPTEs reloaded when CR3 or the paging mode changes.
 */
static int handle_set(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		      const struct tdp_event *ev)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	unsigned long old_cr0 = a->cr0, old_cr4 = a->cr4, old_cr3 = a->cr3;
	u64 old_efer = a->efer;
	bool reset, new_cr3;

	if (TDP_HAS(ev, SET, cr0))
		a->cr0 = ev->u.set.cr0;
	if (TDP_HAS(ev, SET, cr4))
		a->cr4 = ev->u.set.cr4;
	if (TDP_HAS(ev, SET, efer))
		a->efer = ev->u.set.efer;
	if (TDP_HAS(ev, SET, cr3))
		a->cr3 = ev->u.set.cr3;
	if (TDP_HAS(ev, SET, pkru))
		a->pkru = ev->u.set.pkru;
	if (TDP_HAS(ev, SET, cpl))
		a->cpl = ev->u.set.cpl;
	/* EFER.LMA follows EFER.LME and CR0.PG */
	if ((a->efer & EFER_LME) && (a->cr0 & X86_CR0_PG))
		a->efer |= EFER_LMA;
	else
		a->efer &= ~EFER_LMA;
	/*
	 * kvm_set_cr0() / kvm_set_cr4() #GP on long mode without CR4.PAE and
	 * on paging without protection; the MMU's roles rely on it (a 32-bit
	 * walker at level 4 overran its arrays: fuzz_replay, issue 13).
	 */
	if (((a->efer & EFER_LMA) && !(a->cr4 & X86_CR4_PAE)) ||
	    ((a->cr0 & X86_CR0_PG) && !(a->cr0 & X86_CR0_PE))) {
		int r = engine_fail(e, TDP_E_STATE, "cr0=0x%lx cr4=0x%lx efer=0x%llx: "
				    "KVM refuses it (#GP: %s)", a->cr0, a->cr4,
				    (unsigned long long)a->efer, (a->cr0 & X86_CR0_PE) ?
				    "long mode needs CR4.PAE" : "paging needs CR0.PE");

		a->cr0 = old_cr0;
		a->cr4 = old_cr4;
		a->cr3 = old_cr3;
		a->efer = old_efer;
		return r;
	}

	if (!(TDP_HAS(ev, SET, cr0) || TDP_HAS(ev, SET, cr3) ||
	      TDP_HAS(ev, SET, cr4) || TDP_HAS(ev, SET, efer)))
		return 0;

	reset = ((old_cr0 ^ a->cr0) & KVM_MMU_CR0_ROLE_BITS) ||
		((old_cr4 ^ a->cr4) & KVM_MMU_CR4_ROLE_BITS) ||
		((old_efer ^ a->efer) & (KVM_MMU_EFER_ROLE_BITS | EFER_LMA));
	new_cr3 = TDP_HAS(ev, SET, cr3);
	if (is_pae_paging(vcpu) && (new_cr3 || reset))
		load_pdptrs(vcpu);
	/*
	 * L2 under nested EPT/NPT: only the role bits are intercepted (the
	 * MMU must recompute nested_mmu); CR3 loads reach no one but the CPU.
	 */
	if (mmu_is_nested(vcpu)) {
		if (reset) {
			e->stats->exit_cr++;
			kvm_mmu_reset_context(vcpu);
		}
		return 0;
	}
	e->stats->exit_cr++;
	if (reset) {
		kvm_mmu_reset_context(vcpu);
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	} else if (new_cr3 && a->cr3 != old_cr3) {
		kvm_mmu_new_pgd(vcpu, a->cr3);
		if (!VALID_PAGE(vcpu->arch.mmu->root.hpa))
			e->stats->prev_root_misses++;
		else
			e->stats->prev_root_hits++;
	}
	/*
	 * A PGE toggle is KVM_REQ_TLB_FLUSH_GUEST (current and prev_roots
	 * synced; unsync prev_roots freed).  MOV CR3 without PCIDE is
	 * kvm_invalidate_pcid(): KVM_REQ_MMU_SYNC for the current root only
	 * -- a prev_root is synced when a later MOV CR3 makes it current
	 * again, so it stays cached (freeing it lost every prev_roots hit of
	 * a guest that writes a PTE before switching).
	 */
	if ((old_cr4 ^ a->cr4) & X86_CR4_PGE)
		kvm_vcpu_flush_tlb_guest(e, vcpu);
	else if (new_cr3 && !vcpu->tdp_enabled)
		kvm_mmu_sync_roots(vcpu);
	/* the CPU's side of MOV CR3 without PCIDE: the TLB is flushed */
	if (new_cr3)
		hw_tlb_flush(vcpu_tlb(e, vcpu));
	return 0;
}

/* pf_injected bookkeeping for a #PF the guest receives. */
static void count_injected(struct tdp_stats *st, u64 ec)
{
	static const u64 bits[6] = { PFERR_PRESENT_MASK, PFERR_WRITE_MASK,
				     PFERR_USER_MASK, PFERR_RSVD_MASK,
				     PFERR_FETCH_MASK, PFERR_PK_MASK };

	st->pf_injected++;
	for (int i = 0; i < 6; i++)
		if (ec & bits[i])
			st->pf_injected_by_bit[i]++;
}

static u64 access_to_pfec(const struct kvm_vcpu *vcpu, enum tdp_access_op op,
			  unsigned cpl, bool implicit)
{
	u64 access = 0;

	if (op == TDP_OP_WRITE)
		access |= PFERR_WRITE_MASK;
	else if (op == TDP_OP_FETCH)
		access |= PFERR_FETCH_MASK;
	if (cpl == 3 && !implicit)
		access |= PFERR_USER_MASK;
	if (implicit)
		access |= PFERR_IMPLICIT_ACCESS;
	return access;
}

/* Which shadowed guest page tables live at @gfn (kvm_mmu_find_shadow_page). */
static void gfn_shadowed(struct kvm *kvm, gfn_t gfn, bool *upper, bool *sync_leaf)
{
	struct hlist_node *n;

	*upper = *sync_leaf = false;
	for (n = kvm->arch.mmu_page_hash[kvm_page_table_hashfn(gfn)].first; n;
	     n = n->next) {
		struct kvm_mmu_page *sp = container_of(n, struct kvm_mmu_page,
						       hash_link);

		if (sp->gfn != gfn || !sp_has_gptes(sp) || is_obsolete_sp(kvm, sp))
			continue;
		if (sp->role.level > PG_LEVEL_4K)
			*upper = true;
		else if (!sp->unsync)
			*sync_leaf = true;
	}
}

/*
 * emulate_write() - KVM's emulator stores to a write-protected guest page
 * table: the memory write, then kvm_page_track_write -> kvm_mmu_track_write.
 */
static int emulate_write(struct tdp_engine *e, struct kvm_vcpu *vcpu, gpa_t gpa,
			 u64 val, unsigned size)
{
	int r = tdp_gmem_write_bytes(e->gmem, gpa, &val, size);

	if (r)
		return r;
	kvm_mmu_track_write(vcpu, gpa, val, (int)size);
	return 0;
}

/*
 * The `write` event: a guest store to @gpa.  Under shadow paging a store to
 * a shadowed guest page table traps: for an upper-level table (write
 * tracked) KVM emulates it; for a last-level table KVM's fault handler
 * unsyncs the shadow pages and maps the gfn writable, and the store lands.
 */
static int handle_write(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			const struct tdp_event *ev)
{
	gpa_t gpa = ev->u.write.gpa;
	unsigned size = ev->u.write.size;
	u64 val = ev->u.write.val;
	bool upper, sync_leaf;
	int r;

	if (!tdp_gmem_gfn_in_slot(e->gmem, gpa >> PAGE_SHIFT) ||
	    !tdp_gmem_gfn_in_slot(e->gmem, (gpa + size - 1) >> PAGE_SHIFT))
		return engine_fail(e, TDP_E_RANGE,
				   "write at 0x%llx is outside guest memory",
				   (unsigned long long)gpa);
	if (size < 8)
		val &= (1ull << (8 * size)) - 1;
	/* under TDP only nested (guest_mmu) pages shadow guest tables */
	if (vcpu->tdp_enabled && e->cfg.paging != TDP_PAGING_NESTED)
		goto store;

	gfn_shadowed(&e->kvm, gpa >> PAGE_SHIFT, &upper, &sync_leaf);
	if (upper || kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT)) {
		e->stats->exit_emulated_write++;
		r = emulate_write(e, vcpu, gpa, val, size);
		return r ? engine_fail(e, r, "emulated write failed") : 0;
	}
	if (sync_leaf) {
		/* fault on the read-only mapping; the fault unsyncs the page */
		if (vcpu->tdp_enabled)
			e->stats->exit_ept_violation++;
		else
			e->stats->exit_pf++;
		r = mmu_try_to_unsync_pages(&e->kvm, gpa >> PAGE_SHIFT, true, false);
		if (r) {
			e->stats->pf_emulate++;
			e->stats->exit_emulated_write++;
			r = emulate_write(e, vcpu, gpa, val, size);
			return r ? engine_fail(e, r, "emulated write failed") : 0;
		}
		e->stats->pf_fixed++;
	}
store:
	r = tdp_gmem_write_bytes(e->gmem, gpa, &val, size);
	return r ? engine_fail(e, r, "write at 0x%llx failed",
			       (unsigned long long)gpa) : 0;
}

/* ------------------------------------------------------------------ */
/* nested TDP: faults reflected to L1                                  */
/* ------------------------------------------------------------------ */

/*
 * nested_ept_inject_page_fault() (vmx/nested.c): the fault KVM's walk of
 * L1's EPT found becomes an EPT misconfiguration (reserved bits) or an
 * EPT violation exit to L1.  The walker built bits 0-6; bits 7-8 -- and
 * since 0035, which offers L1 VMX_EPT_ADVANCED_VMEXIT_INFO_BIT, bits
 * 9-11 -- are those of the hardware exit KVM is handling.
 */
static void nested_ept_inject_page_fault(struct kvm_vcpu *vcpu,
					 const struct x86_exception *fault,
					 struct tdp_outcome *out)
{
	u64 mask = EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	mask |= EPT_VIOLATION_GVA_USER | EPT_VIOLATION_GVA_WRITABLE |
		EPT_VIOLATION_GVA_NX;
#endif
	if (fault->error_code & PFERR_RSVD_MASK) {
		out->kind = TDP_OUT_EPT_MISCONFIG;
		out->qual = 0;
	} else {
		out->kind = TDP_OUT_EPT_VIOLATION;
		out->qual = fault->exit_qualification |
			    (vcpu->arch.exit_qualification & mask);
	}
	out->gpa = fault->address;	/* vmcs12->guest_physical_address */
}

/*
 * nested_svm_inject_npf_exit() (svm/nested.c): an #NPF exit to L1 whose
 * EXITINFO1 keeps the high half (bits 32/33: final GPA or paging
 * structure) of the NPF KVM is handling and takes bits 31:0 from the
 * walk of L1's NPT.
 */
static void nested_svm_inject_npf_exit(struct kvm_vcpu *vcpu,
				       const struct x86_exception *fault,
				       struct tdp_outcome *out)
{
	u64 info1 = vcpu->arch.exit_qualification & ~0xffffffffull;

	info1 |= fault->error_code;
	out->kind = TDP_OUT_NPF;
	out->gpa = fault->address;	/* EXITINFO2 */
	out->ec = info1 & (0x3full | PFERR_GUEST_FINAL_MASK | PFERR_GUEST_PAGE_MASK);
}

/* The reflected exit as the outcome, and its counters. */
static void reflect_to_l1(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  const struct x86_exception *fault,
			  struct tdp_outcome *out)
{
	static const u64 npf_bits[5] = { PFERR_PRESENT_MASK, PFERR_WRITE_MASK,
					 PFERR_USER_MASK, PFERR_RSVD_MASK,
					 PFERR_FETCH_MASK };
	struct tdp_stats *st = e->stats;
	bool fetch, user;

	st->nested_reflected++;
	if (vcpu->vendor == KVM_VENDOR_INTEL) {
		nested_ept_inject_page_fault(vcpu, fault, out);
		if (out->kind == TDP_OUT_EPT_MISCONFIG) {
			st->reflected_ept_misconfig++;
			return;
		}
		st->reflected_ept_violation++;
		for (int i = 0; i < 12; i++)
			if (out->qual & (1ull << i))
				st->reflected_qual_bit[i]++;
		if (out->qual & EPT_VIOLATION_GVA_TRANSLATED)
			st->reflected_final++;
		else
			st->reflected_page++;
		/*
		 * MBEC judges the U/S of the L2 translation: the hardware's
		 * advanced information (the old layout does not pass it to L1)
		 */
		fetch = out->qual & EPT_VIOLATION_ACC_INSTR;
		user = vcpu->arch.exit_qualification & EPT_VIOLATION_GVA_USER;
	} else {
		nested_svm_inject_npf_exit(vcpu, fault, out);
		st->reflected_npf++;
		for (int i = 0; i < 5; i++)
			if (out->ec & npf_bits[i])
				st->reflected_npf_bit[i]++;
		if (out->ec & PFERR_GUEST_FINAL_MASK)
			st->reflected_final++;
		else
			st->reflected_page++;
		/* GMET judges the CPL */
		fetch = (out->ec & (PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK)) ==
			(PFERR_FETCH_MASK | PFERR_GUEST_FINAL_MASK);
		user = vcpu->hw_walk.cpl == 3;
	}
	if (fetch && user)
		st->reflected_exec_user++;
	else if (fetch)
		st->reflected_exec_supervisor++;
}

/*
 * deliver_fault() - a fault found by one of KVM's software walks: reflected
 * to L1 when it was found in L1's EPT/NPT, else a #PF for the current
 * context (kvm_inject_emulated_page_fault picks the MMU the same way).
 */
static void deliver_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  const struct x86_exception *fault,
			  struct tdp_outcome *out)
{
	if (fault->nested_page_fault) {
		reflect_to_l1(e, vcpu, fault, out);
		return;
	}
	out->kind = TDP_OUT_PF;
	out->ec = fault->error_code & 0xffff;
	count_injected(e->stats, out->ec);
	if (vcpu->arch.guest_mode)
		e->stats->l2_pf++;
}

/* Emulation of an access KVM could not map (MMIO, write-protected gfn). */
static void emulate_access(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			   u64 gva, u64 access, struct tdp_outcome *out)
{
	struct kvm_mmu *w = vcpu->arch.walk_mmu;
	struct x86_exception exc = { 0 };
	gpa_t gpa;

	vcpu->tdp_stats->walks++;
	gpa = w->gva_to_gpa(vcpu, w, gva, access, &exc);
	if (gpa == INVALID_GPA) {
		deliver_fault(e, vcpu, &exc, out);
		return;
	}
	if ((access & PFERR_WRITE_MASK) &&
	    kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT)) {
		u64 cur = 0;

		/* the emulated store rewrites the entry it hits */
		if (!tdp_gmem_read(e->gmem, gpa & ~7ull, 8, &cur))
			kvm_mmu_track_write(vcpu, gpa & ~7ull, cur, 8);
	}
	out->kind = TDP_OUT_OK;
	out->gpa = gpa;
}

/*
 * account_ret_pf() - count what KVM's fault handler returned.  Returns @r
 * for a RET_PF_* value, or a negative TDP_E_* code (message set) for an
 * error or a value the engine does not expect.
 */
static int account_ret_pf(struct tdp_engine *e, int r)
{
	switch (r) {
	case RET_PF_FIXED:
		e->stats->pf_fixed++;
		return r;
	case RET_PF_SPURIOUS:
		e->stats->pf_spurious++;
		return r;
	case RET_PF_RETRY:
		e->stats->pf_retry++;
		return r;
	case RET_PF_EMULATE:
		e->stats->pf_emulate++;
		return r;
	default:
		return engine_fail(e, r < 0 ? r : TDP_E_INTERNAL,
				   "page fault handler failed (%d)", r);
	}
}

/*
 * take_injected() - the fault KVM queued, if any, as the outcome: a #PF for
 * the guest, or an exit reflected to L1.
 */
static bool take_injected(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  struct tdp_outcome *out)
{
	if (!vcpu->exception_pending)
		return false;
	vcpu->exception_pending = false;
	deliver_fault(e, vcpu, &vcpu->exception, out);
	return true;
}

static void handle_access_shadow(struct tdp_engine *e, struct kvm_vcpu *vcpu,
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
		t = &tlb[(ev->u.access.gva >> PAGE_SHIFT) % HW_TLB_ENTRIES];

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
			out->gpa = t->gpa | (ev->u.access.gva & (PAGE_SIZE - 1));
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
 * TDP: the guest's own walk (hardware) on root_mmu, then each guest table
 * page and the final GPA through KVM's EPT/NPT.
 */
static void handle_access_tdp(struct tdp_engine *e, struct kvm_vcpu *vcpu,
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

/* ------------------------------------------------------------------ */
/* nested TDP: L2 on KVM's shadow of L1's EPT/NPT                      */
/* ------------------------------------------------------------------ */

/* Exits one L2 access may take: one per L2 level and the final GPA, twice. */
#define NESTED_ACCESS_MAX_TRIES 16

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
static void handle_access_nested(struct tdp_engine *e, struct kvm_vcpu *vcpu,
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

/* nested_vmx_check_eptp() (vmx/nested.c), for the EPT capabilities offered. */
static bool nested_vmx_check_eptp(const struct kvm_vcpu *vcpu, u64 eptp)
{
	u64 mt = eptp & 7, pwl = eptp & VMX_EPTP_PWL_MASK;

	if (mt != 0 && mt != 6)			/* UC or WB */
		return false;
	if (pwl != VMX_EPTP_PWL_4 && pwl != VMX_EPTP_PWL_5)
		return false;
	if ((eptp >> 7) & 0x1f)			/* bits 11:7 reserved */
		return false;
	return !(eptp >> vcpu->maxphyaddr);	/* kvm_vcpu_is_legal_gpa() */
}

/* The registers a context switch saves and loads. */
static const struct kvm_ctx_regs l2_reset_regs = { .cr0 = X86_CR0_PE };

/* Save the current context's registers into @save (if any), load @load. */
static void swap_ctx_regs(struct kvm_vcpu_arch *a, struct kvm_ctx_regs *save,
			  const struct kvm_ctx_regs *load)
{
	if (save)
		*save = (struct kvm_ctx_regs){ a->cr0, a->cr3, a->cr4, a->efer,
					       a->pkru, a->cpl };
	a->cr0 = load->cr0;
	a->cr3 = load->cr3;
	a->cr4 = load->cr4;
	a->efer = load->efer;
	a->pkru = load->pkru;
	a->cpl = load->cpl;
}

/*
 * nested_svm_transition_tlb_flush() (svm/nested.c): on every VMRUN and
 * #VMEXIT -- and for L1's TLB_CONTROL flushes -- KVM syncs the current
 * MMU's shadow pages (ASIDs may invalidate nested translations) and
 * flushes.  For EPT, stale translations are L1's to flush with INVEPT.
 */
static void nested_svm_transition_tlb_flush(struct kvm_vcpu *vcpu)
{
	kvm_make_request(KVM_REQ_MMU_SYNC, vcpu);
	kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
}

/*
 * The `vmenter` event: L1's VMLAUNCH/VMRESUME or VMRUN of L2 with nested
 * EPT/NPT -- nested_vmx_enter_non_root_mode() + nested_ept_init_mmu_context()
 * (intel) or enter_svm_guest_mode() + nested_svm_init_mmu_context() (amd).
 * L1's registers are saved; L2 starts with paging off.
 */
static int handle_vmenter(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  const struct tdp_event *ev)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	struct kvm_nested_state *n = &a->nested;
	struct kvm_mmu *g = &a->guest_mmu;
	int r;

	if (a->guest_mode)
		return engine_fail(e, TDP_E_STATE, "vmenter while already running L2");
	if (vcpu->vendor == KVM_VENDOR_INTEL) {
		u64 eptp = ev->u.vmenter.eptp;

		if (ev->u.vmenter.mbec && !vcpu->host_mbec)
			return engine_fail(e, TDP_E_UNSUPP,
					   "'mbec=1' needs 'config mbec=1' (MBEC is not offered to L1)");
		if (!nested_vmx_check_eptp(vcpu, eptp))
			return engine_fail(e, TDP_E_RANGE,
					   "eptp 0x%llx is invalid (memory type, walk length, reserved or address bits)",
					   (unsigned long long)eptp);
		n->eptp = eptp;
		n->mbec = ev->u.vmenter.mbec;
	} else {
		u64 ncr3 = ev->u.vmenter.ncr3;

		if (ev->u.vmenter.gmet && !vcpu->host_gmet)
			return engine_fail(e, TDP_E_UNSUPP,
					   "'gmet=1' needs 'config gmet=1' (GMET is not offered to L1)");
		if (ncr3 >> vcpu->maxphyaddr)
			return engine_fail(e, TDP_E_RANGE,
					   "ncr3 0x%llx is beyond MAXPHYADDR",
					   (unsigned long long)ncr3);
		/* the NPT format follows L1's CR4/EFER: tdpsim shadows 4/5-level */
		if (!(a->efer & EFER_LMA))
			return engine_fail(e, TDP_E_UNSUPP,
					   "nested NPT needs L1 in long mode (legacy/PAE NPT formats are not simulated)");
		n->nested_cr3 = ncr3;
		n->misc_ctl = SVM_MISC_ENABLE_NP |
			      (ev->u.vmenter.gmet ? SVM_MISC_ENABLE_GMET : 0);
	}

	/* VMCS01 / VMCB01 keep L1's state; L2 starts with paging off */
	swap_ctx_regs(a, &n->l1, &l2_reset_regs);
	a->guest_mode = true;

	a->mmu = g;
	if (vcpu->vendor == KVM_VENDOR_INTEL) {
		r = kvm_init_shadow_ept_mmu(vcpu, true, PG_LEVEL_1G,
					    n->eptp & VMX_EPTP_AD_ENABLE_BIT,
					    n->mbec, n->eptp);
		g->get_guest_pgd = nested_ept_get_eptp;
		g->get_pdptr = NULL;
	} else {
		r = kvm_init_shadow_npt_mmu(vcpu, n->l1.cr4, n->l1.efer,
					    n->nested_cr3, n->misc_ctl);
		g->get_guest_pgd = nested_svm_get_tdp_cr3;
		g->get_pdptr = nested_svm_get_tdp_pdptr;
	}
	if (r)
		return engine_fail(e, r, "cannot set up the shadow %s for L2",
				   vcpu->vendor == KVM_VENDOR_INTEL ? "EPT" : "NPT");
	kvm_mmu_init_fault_callbacks(vcpu, g);
	/* kvm_init_shadow_{ept,npt}_mmu() end with kvm_mmu_new_pgd() */
	kvm_mmu_new_pgd(vcpu, vcpu->vendor == KVM_VENDOR_INTEL ? n->eptp :
								 n->nested_cr3);
	a->walk_mmu = &a->nested_mmu;
	kvm_init_mmu(vcpu);
	if (vcpu->vendor == KVM_VENDOR_AMD)
		nested_svm_transition_tlb_flush(vcpu);
	e->stats->nested_vmenter++;
	return 0;
}

/* The `vmexit` event: nested_vmx_vmexit() / nested_svm_vmexit(), back to L1. */
static int handle_vmexit(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;

	if (!a->guest_mode)
		return engine_fail(e, TDP_E_STATE, "vmexit while running L1");
	a->guest_mode = false;
	swap_ctx_regs(a, NULL, &a->nested.l1);
	/* nested_ept_uninit_mmu_context() / nested_svm_uninit_mmu_context() */
	a->mmu = &a->root_mmu;
	a->walk_mmu = &a->root_mmu;
	kvm_init_mmu(vcpu);
	kvm_mmu_init_fault_callbacks(vcpu, a->mmu);
	if (vcpu->vendor == KVM_VENDOR_AMD)
		nested_svm_transition_tlb_flush(vcpu);
	e->stats->nested_vmexit++;
	return 0;
}

/* nested_ept_root_matches() (vmx/nested.c) */
static bool nested_ept_root_matches(hpa_t root_hpa, u64 root_eptp, u64 eptp)
{
	const u64 pa_mask = GENMASK_ULL(51, 12);

	return VALID_PAGE(root_hpa) && (root_eptp & pa_mask) == (eptp & pa_mask);
}

/*
 * The `invept` event.  intel: handle_invept() (vmx/nested.c) frees the
 * guest_mmu roots for the EPTP (single-context) or all of them (global);
 * the shadow pages stay hashed and are synced when a root is loaded
 * again.  amd: L1's TLB_CONTROL flush of L2's ASID, which KVM turns into
 * an NPT02 sync (nested_svm_transition_tlb_flush).
 */
static int handle_invept(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			 const struct tdp_event *ev)
{
	struct kvm_mmu *mmu = &vcpu->arch.guest_mmu;
	unsigned long roots_to_free = 0;

	if (vcpu->vendor == KVM_VENDOR_AMD) {
		e->stats->nested_invept_global++;
		if (vcpu->arch.guest_mode)
			nested_svm_transition_tlb_flush(vcpu);
		return 0;
	}
	if (TDP_HAS(ev, INVEPT, eptp)) {
		u64 eptp = ev->u.invept.eptp;

		/*
		 * The CPU would VMfail the instruction; a trace that issues
		 * it is bad input, reported as such
		 */
		if (!nested_vmx_check_eptp(vcpu, eptp))
			return engine_fail(e, TDP_E_RANGE,
					   "invept eptp 0x%llx is invalid",
					   (unsigned long long)eptp);
		e->stats->nested_invept_single++;
		if (nested_ept_root_matches(mmu->root.hpa, mmu->root.pgd, eptp))
			roots_to_free |= KVM_MMU_ROOT_CURRENT;
		for (int i = 0; i < KVM_MMU_NUM_PREV_ROOTS; i++)
			if (nested_ept_root_matches(mmu->prev_roots[i].hpa,
						    mmu->prev_roots[i].pgd, eptp))
				roots_to_free |= KVM_MMU_ROOT_PREVIOUS(i);
	} else {
		e->stats->nested_invept_global++;
		roots_to_free = KVM_MMU_ROOTS_ALL;
	}
	if (roots_to_free)
		kvm_mmu_free_roots(vcpu->kvm, mmu, roots_to_free);
	return 0;
}

static int handle_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			const struct tdp_event *ev, struct tdp_outcome *out)
{
	int r = vcpu_enter_guest(e, vcpu);

	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	e->stats->exit_recorded++;
	vcpu->hw_walk.cpl = (unsigned)vcpu->arch.cpl;	/* a reflected fault's mode */
	vcpu->exception_pending = false;
	r = kvm_mmu_page_fault(vcpu, ev->u.fault.addr, ev->u.fault.ec);
	if (take_injected(e, vcpu, out))
		return 0;
	/* a recorded fault with nothing left to do is reported as spurious */
	if (r == RET_PF_RETRY)
		r = RET_PF_SPURIOUS;
	r = account_ret_pf(e, r);
	if (r < 0)
		return r;
	if (r == RET_PF_FIXED) {
		out->kind = TDP_OUT_FIXED;
	} else if (r == RET_PF_SPURIOUS) {
		out->kind = TDP_OUT_SPURIOUS;
	} else {
		bool direct = vcpu->arch.mmu->root_role.direct;

		out->kind = direct && !tdp_gmem_gfn_in_slot(e->gmem,
							    ev->u.fault.addr >> PAGE_SHIFT) ?
			    TDP_OUT_MMIO : TDP_OUT_EMULATE;
	}
	return 0;
}

static int engine_event(struct tdp_engine *e, const struct tdp_event *ev,
			struct tdp_outcome *out)
{
	struct kvm_vcpu *vcpu;
	int err = 0;

	out->kind = TDP_OUT_NONE;
	if (ev->vcpu >= e->nr_vcpus)
		return engine_fail(e, TDP_E_RANGE, "vcpu %u does not exist", ev->vcpu);
	vcpu = &e->vcpus[ev->vcpu];
	e->stats->ev_by_kind[ev->kind & 15]++;

	switch (ev->kind) {
	case TDP_EV_WRITE:
		err = handle_write(e, vcpu, ev);
		break;
	case TDP_EV_SET:
		err = handle_set(e, vcpu, ev);
		break;
	case TDP_EV_ACCESS: {
		unsigned cpl = TDP_HAS(ev, ACCESS, cpl) ? ev->u.access.cpl :
			       (unsigned)vcpu->arch.cpl;
		u64 access = access_to_pfec(vcpu, ev->u.access.op, cpl,
					    ev->u.access.implicit);

		e->stats->accesses_by_op[ev->u.access.op % 3]++;
		vcpu->arch.rflags = ev->u.access.ac ? X86_EFLAGS_AC : 0;
		if (vcpu->arch.guest_mode)
			handle_access_nested(e, vcpu, ev, access, cpl, out, &err);
		else if (vcpu->tdp_enabled)
			handle_access_tdp(e, vcpu, ev, access, out, &err);
		else
			handle_access_shadow(e, vcpu, ev, access, out, &err);
		break;
	}
	case TDP_EV_INVLPG:
		hw_tlb_flush_gva(vcpu_tlb(e, vcpu), ev->u.invlpg.gva);
		if (!vcpu->tdp_enabled) {
			e->stats->exit_invlpg++;
			kvm_mmu_invlpg(vcpu, ev->u.invlpg.gva);
		}
		break;
	case TDP_EV_FLUSH:
		kvm_vcpu_flush_tlb_guest(e, vcpu);
		break;
	case TDP_EV_FAULT:
		err = handle_fault(e, vcpu, ev, out);
		break;
	case TDP_EV_PEEK: {
		u64 v = 0;

		if (tdp_gmem_read_bytes(e->gmem, ev->u.peek.gpa, &v, ev->u.peek.size))
			return engine_fail(e, TDP_E_RANGE,
					   "peek at 0x%llx is outside guest memory",
					   (unsigned long long)ev->u.peek.gpa);
		out->kind = TDP_OUT_VAL;
		out->val = v;
		break;
	}
	case TDP_EV_MARK:
		break;
	case TDP_EV_VMENTER:
	case TDP_EV_VMEXIT:
	case TDP_EV_INVEPT:
		/* the trace reader accepts them only with paging=nested */
		if (e->cfg.paging != TDP_PAGING_NESTED)
			return engine_fail(e, TDP_E_STATE, "'%s' needs paging=nested",
					   tdp_event_name(ev->kind));
		err = ev->kind == TDP_EV_VMENTER ? handle_vmenter(e, vcpu, ev) :
		      ev->kind == TDP_EV_VMEXIT ? handle_vmexit(e, vcpu) :
		      handle_invept(e, vcpu, ev);
		break;
	default:
		return engine_fail(e, TDP_E_EVENT, "unknown event kind %u", ev->kind);
	}
	if (err)
		return err;
	e->stats->sp_live = e->kvm.stats.sp_live_total;
	if (e->check) {
		/* what the event touched; everything periodically (check.c) */
		const char *why = kvm_mmu_check_event(&e->kvm, vcpu, ev);

		if (why)
			return engine_fail(e, TDP_E_INTERNAL, "MMU invariant broken: %s", why);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */

static void engine_destroy(struct tdp_engine *e)
{
	if (!e)
		return;
	kvm_mmu_uninit_vm(&e->kvm);
	free(e->tlb);
	free(e->vcpus);
	tdp_gmem_destroy(e->gmem);
	free(e);
}

static int engine_create(struct tdp_engine **out, const struct tdp_config *cfg,
			 const struct tdp_engine_opts *opts, struct tdp_stats *stats,
			 char *errbuf, size_t errlen)
{
	struct tdp_engine *e;
	unsigned long pages;
	int r;

	*out = NULL;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
	if (cfg->mbec || cfg->gmet) {
		snprintf(errbuf, errlen,
			 "the old ACC layout cannot run '%s=1' (MBEC/GMET need the series' layout; use --layout new)",
			 cfg->mbec ? "mbec" : "gmet");
		return TDP_E_UNSUPP;
	}
#endif
	if (cfg->vcpus > KVM_MAX_VCPUS) {
		snprintf(errbuf, errlen, "%u vcpus: at most %d are simulated",
			 cfg->vcpus, KVM_MAX_VCPUS);
		return TDP_E_RANGE;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return TDP_E_NOMEM;
	e->cfg = *cfg;
	e->stats = stats;
	e->check = opts->check;
	r = tdp_gmem_create(&e->gmem, cfg->mem);
	if (r) {
		snprintf(errbuf, errlen, "cannot create %llu bytes of guest memory",
			 (unsigned long long)cfg->mem);
		goto out_free;
	}
	r = kvm_mmu_init_vm(&e->kvm, cfg->mem >> PAGE_SHIFT);
	if (!r && opts->check)
		r = kvm_mmu_check_init(&e->kvm, opts->check_every);
	if (r) {
		snprintf(errbuf, errlen, "cannot create the VM");
		goto out_free;
	}
	if (cfg->paging != TDP_PAGING_SHADOW && cfg->vendor == TDP_VENDOR_INTEL)
		kvm_mmu_set_ept_masks(&e->kvm.masks, cfg->ept_ad, true);
	e->kvm.nx_huge_pages = cfg->nx_huge_pages;
	e->kvm.tdp_enabled = cfg->paging != TDP_PAGING_SHADOW;
	pages = opts->max_mmu_pages ? opts->max_mmu_pages : cfg->max_mmu_pages;
	if (pages)
		kvm_mmu_change_mmu_pages(&e->kvm, pages);

	e->nr_vcpus = cfg->vcpus;
	e->vcpus = calloc(e->nr_vcpus, sizeof(*e->vcpus));
	if (opts->tlb && cfg->paging == TDP_PAGING_SHADOW)
		e->tlb = calloc((size_t)e->nr_vcpus * HW_TLB_ENTRIES, sizeof(*e->tlb));
	if (!e->vcpus || (opts->tlb && cfg->paging == TDP_PAGING_SHADOW && !e->tlb)) {
		r = TDP_E_NOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto out_free;
	}
	for (unsigned i = 0; i < e->nr_vcpus; i++) {
		struct kvm_vcpu *v = &e->vcpus[i];

		v->kvm = &e->kvm;
		v->gmem = e->gmem;
		v->vendor = cfg->vendor == TDP_VENDOR_AMD ? KVM_VENDOR_AMD :
							    KVM_VENDOR_INTEL;
		v->vcpu_id = (int)i;
		v->maxphyaddr = (u8)cfg->maxphyaddr;
		v->tdp_enabled = cfg->paging != TDP_PAGING_SHADOW;
		v->host_mbec = cfg->mbec;
		v->host_gmet = cfg->gmet;
		v->tdp_stats = stats;
		v->timing = opts->timing;
		v->arch.cr0 = X86_CR0_PE;	/* paging off until `set` */
		v->arch.mmu = &v->arch.root_mmu;
		v->arch.walk_mmu = &v->arch.root_mmu;
		r = kvm_mmu_create(&e->kvm, v);
		if (r) {
			snprintf(errbuf, errlen, "cannot create vcpu %u", i);
			goto out_free;
		}
		kvm_init_mmu(v);
		kvm_mmu_init_fault_callbacks(v, v->arch.mmu);
	}
	*out = e;
	return 0;

out_free:
	engine_destroy(e);
	return r ? r : TDP_E_INTERNAL;
}

static const char *engine_errmsg(const struct tdp_engine *e)
{
	return e->errmsg;
}

/*
 * engine_finish() - end-of-run counters: the shadow-page statistics of the
 * VM, host memory, and the cost of one permission_fault() in this build,
 * measured on the first vCPU's MMU over a fixed mix of inputs.
 */
static void engine_finish(struct tdp_engine *e)
{
	const struct kvm_mmu_stats *ks = &e->kvm.stats;
	struct tdp_stats *st = e->stats;
	struct kvm_vcpu *v = &e->vcpus[0];
	u64 t0, sum = 0;
	const int n = 1 << 16;

	for (int l = 0; l < TDP_MAX_LEVEL; l++)
		for (int d = 0; d < 2; d++) {
			st->sp_created[l][d] = ks->sp_created[d][l];
			st->sp_zapped[l][d] = ks->sp_zapped[d][l];
		}
	st->sp_live = ks->sp_live_total;
	st->sp_peak = ks->sp_peak_total;
	st->sp_nested_created = ks->sp_nested_created;
	st->sp_nested_live = ks->sp_nested_live;
	st->sp_unsync = ks->unsync;
	st->sp_sync = ks->sync;
	st->sp_flood_zaps = ks->flooding_zaps;
	st->sp_misaligned_zaps = ks->misaligned_zaps;
	st->root_allocs = ks->root_allocs;
	if (ks->prev_roots_hits + ks->prev_roots_misses) {
		st->prev_root_hits = ks->prev_roots_hits;
		st->prev_root_misses = ks->prev_roots_misses;
	}
	st->host_bytes = tdp_gmem_footprint(e->gmem) +
			 (u64)e->kvm.nr_sp * sizeof(struct kvm_mmu_page);

	if (!v->timing)
		return;
	t0 = tdp_tsc();
	for (int i = 0; i < n; i++) {
		unsigned pte_access = (unsigned)(i * 7) & ACC_ALL;
		u64 pfec = ((u64)(i >> 4) & 0xf) << 1;

		sum += permission_fault(v, v->arch.mmu, pte_access, (unsigned)(i & 15),
					pfec);
	}
	st->perm_ns_mean = (double)(tdp_tsc() - t0) / n / tdp_tsc_per_ns();
	__asm__ volatile("" : : "r"(sum));
}

/* engine_check_all() - replay --check's final full check. */
static int engine_check_all(struct tdp_engine *e)
{
	const char *why = e->check ? kvm_mmu_check_full(&e->kvm, NULL) : NULL;

	return why ? engine_fail(e, TDP_E_INTERNAL, "MMU invariant broken: %s", why) : 0;
}

const struct tdp_engine_ops KVM_SYM(engine_ops) = {
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	.layout = "new",
#else
	.layout = "old",
#endif
	.create = engine_create,
	.event = engine_event,
	.errmsg = engine_errmsg,
	.finish = engine_finish,
	.check_all = engine_check_all,
	.destroy = engine_destroy,
};
