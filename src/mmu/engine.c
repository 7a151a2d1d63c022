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
 * hw_walk_ept() - the CPU's walk of KVM's EPT tables for a GPA.  Returns
 * the EPT violation's KVM error code in res->ec (as
 * __vmx_handle_ept_violation builds it from the exit qualification).
 */
static void hw_walk_ept(struct kvm *kvm, hpa_t root, int level, u64 gpa,
			u64 access, bool mbec, struct hw_result *res)
{
	u64 *table = kvm_mmu_hpa_to_table(kvm, root);
	u64 spte = 0, rwx = VMX_EPT_RWX_MASK | VMX_EPT_USER_EXECUTABLE_MASK;
	u64 present_bits = VMX_EPT_RWX_MASK |
			   (mbec ? VMX_EPT_USER_EXECUTABLE_MASK : 0);
	int leaf = level;

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
	{
		bool ok;

		if (!(spte & present_bits) || level < PG_LEVEL_4K || !table)
			ok = false;
		else if (access & PFERR_WRITE_MASK)
			ok = (rwx & VMX_EPT_WRITABLE_MASK) &&
			     (rwx & VMX_EPT_READABLE_MASK);
		else if (access & PFERR_FETCH_MASK)
			ok = mbec && (access & PFERR_USER_MASK) ?
			     !!(rwx & VMX_EPT_USER_EXECUTABLE_MASK) :
			     !!(rwx & VMX_EPT_EXECUTABLE_MASK);
		else
			ok = rwx & VMX_EPT_READABLE_MASK;
		if (!ok) {
			res->fault = true;
			/* P if the entry granted anything (PROT bits nonzero) */
			res->ec = (access & (PFERR_WRITE_MASK | PFERR_FETCH_MASK |
					     PFERR_USER_MASK | PFERR_GUEST_FINAL_MASK |
					     PFERR_GUEST_PAGE_MASK)) |
				  ((rwx & (VMX_EPT_RWX_MASK |
					   (mbec ? VMX_EPT_USER_EXECUTABLE_MASK : 0))) ?
				   PFERR_PRESENT_MASK : 0);
			return;
		}
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

	if (vcpu->kvm->masks.ept)
		hw_walk_ept(vcpu->kvm, mmu->root.hpa, mmu->root_role.level, gpa,
			    access, mmu_has_mbec(mmu), res);
	else {
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

	for (int i = 0; i < 4; i++) {
		if (tdp_gmem_read(vcpu->gmem, base + i * 8, 8, &pdpte[i]))
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

	if (!(TDP_HAS(ev, SET, cr0) || TDP_HAS(ev, SET, cr3) ||
	      TDP_HAS(ev, SET, cr4) || TDP_HAS(ev, SET, efer)))
		return 0;
	e->stats->exit_cr++;

	reset = ((old_cr0 ^ a->cr0) & KVM_MMU_CR0_ROLE_BITS) ||
		((old_cr4 ^ a->cr4) & KVM_MMU_CR4_ROLE_BITS) ||
		((old_efer ^ a->efer) & (KVM_MMU_EFER_ROLE_BITS | EFER_LMA));
	new_cr3 = TDP_HAS(ev, SET, cr3);

	if (is_pae_paging(vcpu) && (new_cr3 || reset))
		load_pdptrs(vcpu);
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
	if (vcpu->tdp_enabled)
		goto store;

	gfn_shadowed(&e->kvm, gpa >> PAGE_SHIFT, &upper, &sync_leaf);
	if (upper || kvm_gfn_is_write_tracked(&e->kvm, gpa >> PAGE_SHIFT)) {
		e->stats->exit_emulated_write++;
		r = emulate_write(e, vcpu, gpa, val, size);
		return r ? engine_fail(e, r, "emulated write failed") : 0;
	}
	if (sync_leaf) {
		/* #PF on the read-only mapping; the fault unsyncs the page */
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
		out->kind = TDP_OUT_PF;
		out->ec = exc.error_code & 0xffff;
		count_injected(e->stats, out->ec);
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

/* take_injected() - the #PF KVM queued for the guest, if any, as the outcome. */
static bool take_injected(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			  struct tdp_outcome *out)
{
	if (!vcpu->exception_pending)
		return false;
	vcpu->exception_pending = false;
	out->kind = TDP_OUT_PF;
	out->ec = vcpu->exception.error_code & 0xffff;
	count_injected(e->stats, out->ec);
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
			memcpy(tables, gw.tables, sizeof(tables));
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

static int handle_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			const struct tdp_event *ev, struct tdp_outcome *out)
{
	int r = vcpu_enter_guest(e, vcpu);

	if (r)
		return engine_fail(e, r, "cannot load the MMU root");
	e->stats->exit_recorded++;
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

/*
 * check_synced_gptes() - every synced indirect 4K shadow page agrees with
 * the guest's page table (FNAME(check_sp_gptes)); shadow paging only.
 */
static const char *check_synced_gptes(struct tdp_engine *e, struct kvm_vcpu *vcpu)
{
	struct list_head *pos;

	for (pos = e->kvm.arch.active_mmu_pages.next;
	     pos != &e->kvm.arch.active_mmu_pages; pos = pos->next) {
		struct kvm_mmu_page *sp = container_of(pos, struct kvm_mmu_page, link);
		const char *why;

		if (!sp_has_gptes(sp) || sp->unsync || sp->role.level != PG_LEVEL_4K ||
		    sp->role.guest_mode || is_obsolete_sp(&e->kvm, sp))
			continue;
		why = sp->role.has_4_byte_gpte ? paging32_check_sp_gptes(vcpu, sp) :
						 paging64_check_sp_gptes(vcpu, sp);
		if (why)
			return why;
	}
	return NULL;
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
		if (vcpu->tdp_enabled)
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
		return engine_fail(e, TDP_E_UNSUPP,
				   "'%s' needs paging=nested, which replay does not support yet",
				   tdp_event_name(ev->kind));
	default:
		return engine_fail(e, TDP_E_EVENT, "unknown event kind %u", ev->kind);
	}
	if (err)
		return err;
	e->stats->sp_live = e->kvm.stats.sp_live_total;
	if (e->check) {
		const char *why = kvm_mmu_check_invariants(&e->kvm);

		if (!why && !vcpu->tdp_enabled)
			why = check_synced_gptes(e, vcpu);
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
	if (cfg->paging == TDP_PAGING_NESTED) {
		snprintf(errbuf, errlen, "paging=nested is not supported by replay yet");
		return TDP_E_UNSUPP;
	}
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
	.destroy = engine_destroy,
};
