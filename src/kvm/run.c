// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_run(): the guest's accesses run on the CPU model (src/hw) with the
 * registers and tables KVM programmed, until an exit; KVM's exit handlers
 * (#PF intercept, EPT violation / misconfiguration, #NPF) call into the
 * MMU, and a fixed exit lets the CPU try again.
 *
 * What the CPU runs with (what KVM put in the VMCS/VMCB):
 *   shadow paging  KVM's shadow tables as the CPU's paging structures, with
 *                  CR0.WP=1 and EFER.NXE=1 always, CR4.SMEP/SMAP as the
 *                  guest set them (cleared while guest paging is off), no
 *                  PKU; 4/5-level shadow roots in long mode, a PAE root
 *                  with its four entries as the PDPTE registers
 *   TDP            the guest's registers and tables, KVM's EPT (EPTP with
 *                  A/D as KVM enables them, MBEC if KVM runs with it) or
 *                  NPT (GMET if KVM runs with it) as stage 2
 *   nested TDP     L2's registers and tables, KVM's shadow EPT02 / NPT02 as
 *                  stage 2, with the execute controls L1 asked for
 * The PAE PDPTE registers of TDP guests are the ones KVM loaded (load_pdptrs
 * at the `set` that changed CR3 or the paging mode).  For L2 (nested TDP)
 * they are what the CPU holds as vmcs02's GUEST_PDPTRn, which KVM reads
 * back into walk_mmu->pdptrs (ept_save_pdptrs()): VMCS12's fields at VM
 * entry, then the CPU's own loads through EPT02 at L2's MOV CR3 / CR4.PGE
 * (vcpu_run_pdpte_load()) or KVM's load_pdptrs() at an intercepted MOV
 * CR0/CR4.  With NPT an L2 has none: the CPU reads its PDPEs during each
 * walk (hw_regs.pdpte_walk).
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

/* host physical address of guest frame 0 (spte.h's fixed rule) */
#define HOST_GUEST_PA_BASE	(HOST_GUEST_PFN_BASE << PAGE_SHIFT)

/*
 * construct_eptp() (vmx/vmx.c): WB, the walk length of the root, A/D when
 * KVM uses them -- for L2 only if L1 enabled them in its EPTP too.
 */
static u64 construct_eptp(struct kvm_vcpu *vcpu, struct kvm_mmu *mmu)
{
	u64 eptp = mmu->root.hpa | 6 /* VMX_EPTP_MT_WB */ |
		   ((u64)(mmu->root_role.level - 1) << 3);

	if (vcpu->kvm->masks.ad_enabled &&
	    (!vcpu->arch.guest_mode ||
	     (vcpu->arch.nested.eptp & VMX_EPTP_AD_ENABLE_BIT)))
		eptp |= VMX_EPTP_AD_ENABLE_BIT;
	return eptp;
}

/*
 * hw_context() - the registers and stage 2 the CPU runs the current
 * context with, as KVM programmed them for this VM entry.
 */
static inline __attribute__((always_inline))
void hw_context(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		       struct hw_regs *regs, struct hw_stage2 *s2)
{
	const struct kvm_vcpu_arch *a = &vcpu->arch;
	struct kvm_mmu *mmu = a->mmu;

	*s2 = (struct hw_stage2){ .kind = HW_S2_NONE,
				  .memo = e->no_memo ? NULL : &e->memo->s2 };
	if (!vcpu->tdp_enabled) {
		int level = mmu->root_role.level;
		bool paging = is_paging(vcpu);

		*regs = (struct hw_regs){
			.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
			.cr3 = mmu->root.hpa,
			.cr4 = (paging ? a->cr4 & (X86_CR4_SMEP | X86_CR4_SMAP) : 0) |
			       X86_CR4_PAE | (level == PT64_ROOT_5LEVEL ? X86_CR4_LA57 : 0),
			.efer = EFER_NX |
				(level >= PT64_ROOT_4LEVEL ? EFER_LME | EFER_LMA : 0),
			.maxphyaddr = 52,
		};
		if (level == PT32E_ROOT_LEVEL) {
			const u64 *root = kvm_mmu_hpa_to_table(vcpu->kvm, mmu->root.hpa);

			for (int i = 0; i < 4; i++)
				regs->pdpte[i] = root ? root[i] : 0;
		}
		return;
	}
	*regs = (struct hw_regs){
		.cr0 = a->cr0, .cr3 = a->cr3, .cr4 = a->cr4, .efer = a->efer,
		.pkru = a->pkru, .maxphyaddr = vcpu->maxphyaddr, .pse36 = true,
	};
	memcpy(regs->pdpte, a->walk_mmu->pdptrs, sizeof(regs->pdpte));
	/* nested NPT: no PDPE registers, see hw_regs.pdpte_walk */
	regs->pdpte_walk = a->guest_mode && !vcpu->kvm->masks.ept;
	if (vcpu->kvm->masks.ept) {
		s2->kind = HW_S2_EPT;
		s2->eptp = construct_eptp(vcpu, mmu);
		s2->mbec = a->guest_mode ? a->nested.mbec : mmu_has_mbec(mmu);
		s2->execonly = e->cfg.ept_execonly;
	} else {
		s2->kind = HW_S2_NPT;
		s2->ncr3 = mmu->root.hpa;
		s2->npt_levels = mmu->root_role.level;
		s2->gmet = a->guest_mode ?
			   !!(a->nested.misc_ctl & SVM_MISC_ENABLE_GMET) :
			   vcpu->host_gmet;
	}
}

/*
 * The exit handlers: handle_ept_violation() (vmx/vmx.c, error code from
 * __vmx_handle_ept_violation), handle_ept_misconfig() (PFERR_RSVD_MASK)
 * and npf_interception() (svm/svm.c, EXITINFO1 as the error code; with
 * the series, 0046 works around erratum 1218: the U bit of a GMET fetch
 * fault is recomputed from the CPL).  KVM keeps the qualification /
 * EXITINFO1 for a fault it reflects to L1.
 */
static int handle_tdp_exit(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			   const struct hw_result *hw)
{
	u64 ec;

	if (hw->kind == HW_EPT_MISCONFIG) {
		e->stats->exit_ept_misconfig++;
		vcpu->arch.exit_qualification = 0;
		ec = PFERR_RSVD_MASK;
	} else if (hw->kind == HW_EPT_VIOLATION) {
		e->stats->exit_ept_violation++;
		vcpu->arch.exit_qualification = hw->qual;
		ec = vmx_ept_violation_error_code(vcpu->arch.mmu, hw->qual);
	} else {
		e->stats->exit_ept_violation++;
		vcpu->arch.exit_qualification = hw->error_code;
		ec = hw->error_code;
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		if (vcpu->arch.guest_mode &&
		    (vcpu->arch.nested.misc_ctl & SVM_MISC_ENABLE_GMET) &&
		    (ec & PFERR_FETCH_MASK)) {
			ec &= ~PFERR_USER_MASK;
			if (vcpu->exit_cpl == 3)
				ec |= PFERR_USER_MASK;
		}
#endif
	}
	if (vcpu->arch.guest_mode)
		e->stats->l2_exits++;
	vcpu->exception_pending = false;
	return kvm_timed_page_fault(vcpu, hw->gpa, ec);
}

/*
 * complete_store() - the CPU's store of a `write gva=` went through at
 * @out->gpa: the value lands there.  A translation to another gpa than
 * the trace claims is bad input (the trace contradicts its own memory).
 * Under --check: a store that lands without KVM's page tracking seeing it
 * must not hit a write-tracked gfn -- the CPU cannot store there (KVM
 * keeps every SPTE of it read-only and flushes), and a store KVM emulates
 * goes through kvm_page_track_write().  Callers that emulate report the
 * store to tracking themselves, after this.
 */
static void complete_store(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			   const struct vcpu_store *store,
			   const struct tdp_outcome *out, bool emulated, int *err)
{
	bool ram = tdp_gmem_gfn_in_slot(e->gmem, store->gpa >> PAGE_SHIFT);
	int r;

	if (out->gpa != store->gpa) {
		*err = engine_fail(e, TDP_E_STATE, "write gva=0x%llx: the guest's mapping "
				   "leads to gpa 0x%llx, not gpa=0x%llx",
				   (unsigned long long)store->gva,
				   (unsigned long long)out->gpa,
				   (unsigned long long)store->gpa);
		return;
	}
	/*
	 * Only now, with the trace's gpa known to be where the CPU stored:
	 * a self-contradicting trace is bad input, not a broken MMU.
	 */
	if (e->check && !emulated &&
	    kvm_gfn_is_write_tracked(&e->kvm, store->gpa >> PAGE_SHIFT)) {
		*err = engine_fail(e, TDP_E_INTERNAL, "MMU invariant broken: a store at "
				   "0x%llx landed on a write-tracked gfn unseen by page tracking",
				   (unsigned long long)store->gpa);
		return;
	}

	r = tdp_gmem_write_bytes(e->gmem, store->gpa, &store->val, store->size);
	if (r) {
		*err = engine_fail(e, r, "write at 0x%llx failed",
				   (unsigned long long)store->gpa);
		return;
	}
	/* emulator_write_phys() -> kvm_page_track_write(); MMIO: no memory */
	if (emulated && ram)
		kvm_mmu_track_write(vcpu, store->gpa, store->val, (int)store->size);
}

/*
 * The memos of the CPU's walks (include/tdpsim/hw_memo.h).  Under TDP the
 * walk reads the guest's tables, which the guest keeps storing to: the TDP
 * memo re-reads the entries it used and is keyed on the registers
 * hw_context() passes (@ctx); under shadow paging the walk reads only
 * KVM's tables and one generation covers them.
 */
static inline void tdp_memo_ctx(const struct kvm_vcpu *vcpu, u64 *ctx)
{
	const struct kvm_vcpu_arch *a = &vcpu->arch;

	ctx[0] = a->cr0;
	ctx[1] = a->cr3;
	ctx[2] = a->cr4;
	ctx[3] = a->efer;
	ctx[4] = a->pkru;
}

static inline __attribute__((always_inline))
bool memo_find(struct tdp_engine *e, const struct kvm_vcpu *vcpu,
	       const struct hw_access *acc, struct hw_result *hw)
{
	u64 ctx[HW_MEMO_CTX_WORDS];

	if (!vcpu->tdp_enabled)
		return hw_memo_find(e->memo, acc, (unsigned)vcpu->vcpu_id, hw);
	tdp_memo_ctx(vcpu, ctx);
	return hw_memo_tdp_find(e->memo, acc, (unsigned)vcpu->vcpu_id, ctx, hw);
}

/* Memoise @hw, the CPU's translation of @acc that stored nothing. */
static inline void memo_add(struct tdp_engine *e, const struct kvm_vcpu *vcpu,
			    const struct hw_access *acc, const struct hw_result *hw)
{
	u64 ctx[HW_MEMO_CTX_WORDS];

	if (!vcpu->tdp_enabled) {
		hw_memo_add(e->memo, acc, (unsigned)vcpu->vcpu_id, hw);
		return;
	}
	tdp_memo_ctx(vcpu, ctx);
	hw_memo_tdp_add(e->memo, acc, (unsigned)vcpu->vcpu_id, ctx, hw);
}

/*
 * vcpu_run_access() - one access by the current context: the CPU
 * translates; a #PF under TDP is the guest's (delivered without an exit,
 * as the CPU does when KVM does not intercept #PF); a #PF under shadow
 * paging is intercepted; stage-2 exits go to KVM.  @access is the access
 * in PFERR_* terms, for KVM's own emulation of it.  @store (a `write
 * gva=`, else NULL) is the data of a store access: it lands when the
 * access completes, by the CPU or by KVM's emulator, and not on a fault.
 * run_access() says whether every memoised walk (include/tdpsim/hw_memo.h)
 * may still be what a walk would return: true when the access translated
 * without passing through KVM.
 */
static inline __attribute__((always_inline))
bool run_access(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		const struct hw_access *acc, u64 access,
		const struct vcpu_store *store,
		struct tdp_outcome *out, int *err)
{
	const bool nested = vcpu->arch.guest_mode;
	const int max_tries = nested ? NESTED_ACCESS_MAX_TRIES : ACCESS_MAX_TRIES;
	/*
	 * @acc is read through the pointer, never copied whole: the caller has
	 * just stored its fields one by one, and a copy (one vector load)
	 * waits for all of them to reach the cache (a failed store-to-load
	 * forwarding, ~15 % of a hit-dominated replay).
	 */
	const unsigned cpl = acc->cpl;
	struct hw_tlb_entry *tlb = vcpu->tdp_enabled ? NULL : vcpu_tlb(e, vcpu);
	struct hw_tlb_entry *t = tlb ? hw_tlb_slot(tlb, acc->addr) : NULL;
	const u64 tag = (acc->addr >> PAGE_SHIFT) + 1;
	struct hw_result hw = { 0 };
	struct hw_regs regs;
	struct hw_stage2 s2;

	if (nested && !store)	/* `access` events; L2's stores count apart */
		e->stats->l2_accesses++;
	vcpu->exit_cpl = cpl;
	for (int tries = 0; tries < max_tries; tries++) {
		/* KVM ran since the last walk, or is about to at VM entry */
		bool quiet = !tries && vcpu_entry_quiet(vcpu);
		bool have_ctx = false;
		int r = vcpu_enter_guest(e, vcpu);

		if (!quiet)
			hw_memo_bump(e->memo);
		if (r) {
			*err = engine_fail(e, r, "cannot load the MMU root");
			return false;
		}
		if (t) {
			hw_context(e, vcpu, &regs, &s2);
			have_ctx = true;
		}
		if (t && t->tag == tag &&
		    (acc->op != TDP_OP_WRITE || t->dirty) &&
		    !hw_rights_deny(acc->op, access & PFERR_USER_MASK, acc->ac,
				    acc->implicit, t->w, t->u, t->nx, true,
				    regs.cr4 & X86_CR4_SMEP,
				    regs.cr4 & X86_CR4_SMAP, false)) {
			e->stats->hw_tlb_hits++;
			out->kind = TDP_OUT_OK;
			out->gpa = t->pa | (acc->addr & (PAGE_SIZE - 1));
			if (store)
				complete_store(e, vcpu, store, out, false, err);
			return true;
		}
		if (e->no_memo || !memo_find(e, vcpu, acc, &hw)) {
			const u64 stores = e->memo->gen;

			if (!have_ctx)
				hw_context(e, vcpu, &regs, &s2);
			e->memo->log.n = 0;
			hw_translate(&e->hwmem, &regs, &s2, acc, &hw);
			/* a walk that set A/D flags bumped the generation */
			if (hw.kind == HW_OK && stores == e->memo->gen && !e->no_memo)
				memo_add(e, vcpu, acc, &hw);
		}
		/*
		 * A non-canonical address: #GP(0) from the CPU, before any
		 * walk.  KVM intercepts #GP only for its own reasons (VMware
		 * backdoor, SVM errata), none modelled: the guest takes it.
		 */
		if (hw.kind == HW_GP) {
			e->stats->gp_noncanonical++;
			out->kind = TDP_OUT_GP;
			return true;
		}
		if (hw.kind == HW_OK) {
			out->kind = TDP_OUT_OK;
			out->gpa = hw.hpa - HOST_GUEST_PA_BASE;
			if (t)
				*t = (struct hw_tlb_entry){ tag, out->gpa & PAGE_MASK,
							    hw.w, hw.u, hw.nx, hw.dirty,
							    hw.global };
			if (store)
				complete_store(e, vcpu, store, out, false, err);
			return true;
		}
		if (hw.kind == HW_PF && vcpu->tdp_enabled) {
			struct x86_exception pf = { .vector = PF_VECTOR,
						    .error_code = hw.error_code };

			deliver_fault(e, vcpu, &pf, out);
			return true;	/* the guest's #PF: nothing in KVM changed */
		}
		if (hw.kind == HW_PF) {
			/*
			 * #PF intercept.  KVM gets the hardware error code
			 * only: PFERR_IMPLICIT_ACCESS is a software bit its
			 * emulator sets, never the CPU, so an implicit
			 * supervisor access to a user page with EFLAGS.AC=1
			 * under SMAP looks allowed to KVM's walker and
			 * livelocks (counted below), as on real KVM.
			 */
			e->stats->exit_pf++;
			vcpu->exception_pending = false;
			r = kvm_timed_page_fault(vcpu, acc->addr, hw.error_code);
		} else {
			r = handle_tdp_exit(e, vcpu, &hw);
		}
		if (take_injected(e, vcpu, out))
			return false;
		r = account_ret_pf(e, r);
		if (r < 0) {
			*err = r;
			return false;
		}
		if (r == RET_PF_EMULATE) {
			if (vcpu->tdp_enabled && !nested) {
				/*
				 * Direct MMU: x86_emulate_instruction() takes
				 * the GPA from the exit (ctxt->gpa_available,
				 * root_role.direct), no guest walk.  MMIO
				 * completes through emulation; a store to RAM
				 * (a gfn KVM write-tracks because guest_mmu
				 * shadows an L1 EPT/NPT table there) is
				 * emulator_write_phys() -> kvm_page_track_write()
				 * -> kvm_mmu_track_write().
				 */
				out->kind = TDP_OUT_OK;
				out->gpa = hw.gpa;
				if (store) {
					complete_store(e, vcpu, store, out, true, err);
				} else if ((access & PFERR_WRITE_MASK) &&
					   tdp_gmem_gfn_in_slot(e->gmem, hw.gpa >> PAGE_SHIFT)) {
					emulated_access_write(e, vcpu, hw.gpa);
				}
			} else if (store) {
				if (nested && !vcpu->kvm->masks.ept)
					svm_cache_pdptrs(vcpu);
				emulate_store(e, vcpu, acc->addr, access, store, out, err);
			} else {
				if (nested && !vcpu->kvm->masks.ept)
					svm_cache_pdptrs(vcpu);
				emulate_access(e, vcpu, acc->addr, access, out);
			}
			return false;
		}
	}
	e->stats->pf_livelock++;
	if (vcpu->tdp_enabled) {
		*err = engine_fail(e, TDP_E_INTERNAL, "%s access at 0x%llx not resolved",
				   nested ? "L2" : "TDP",
				   (unsigned long long)acc->addr);
		return false;
	}
	/* KVM kept "fixing" a fault the hardware kept raising */
	out->kind = TDP_OUT_PF;
	out->ec = hw.error_code & 0xffff;
	count_injected(e->stats, out->ec);
	return false;
}

void vcpu_run_access(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		     const struct hw_access *hacc, u64 access,
		     const struct vcpu_store *store,
		     struct tdp_outcome *out, int *err)
{
	/* KVM ran */
	if (!run_access(e, vcpu, hacc, access, store, out, err))
		hw_memo_bump(e->memo);
}

/*
 * vcpu_run_pdpte_load() - L2 under nested EPT executes a MOV to CR3 (or a
 * MOV to CR4 that toggles PGE) that KVM does not intercept, in PAE paging
 * mode: the CPU loads the four PDPTEs from CR3[31:5] through EPT02 (SDM
 * Vol. 3C §26.3 "MOV to CR3": "translates the guest-physical address
 * through EPT and uses the result to load the four PDPTEs"; §4.4.1).  The
 * load is a read even with EPT A/D on and has no guest linear address
 * (§29.3.3.2, Table 28-7: qualification bit 7 = 0, hence bit 8 = 0 and no
 * advanced information): hw_load_pdptes_exit().  An EPT02 miss exits to
 * KVM (handle_ept_violation -> kvm_mmu_page_fault() on guest_mmu), which
 * fixes EPT02 and re-enters, or reflects the violation to L1
 * (nested_ept_inject_page_fault()).  A PDPT KVM must emulate (no memslot:
 * RET_PF_EMULATE) is the instruction emulated: kvm_set_cr3() ->
 * load_pdptrs(), which cannot read it and injects #GP.  A present PDPTE
 * with a reserved bit is #GP from the CPU itself.
 *
 * Returns 0 with the new PDPTEs in walk_mmu->pdptrs (the vmcs02 fields KVM
 * reads back with ept_save_pdptrs()), 1 when the instruction did not
 * complete (@out: the reflected exit or `gp`), or a negative error.
 */
int vcpu_run_pdpte_load(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			struct tdp_outcome *out)
{
	struct hw_result hw = { 0 };
	struct hw_regs regs;
	struct hw_stage2 s2;

	vcpu->exit_cpl = (unsigned)vcpu->arch.cpl;
	for (int tries = 0; tries < NESTED_ACCESS_MAX_TRIES; tries++) {
		int r = vcpu_enter_guest(e, vcpu);

		if (r)
			return engine_fail(e, r, "cannot load the MMU root");
		hw_context(e, vcpu, &regs, &s2);
		if (hw_load_pdptes_exit(&e->hwmem, &s2, &regs, &hw)) {
			memcpy(vcpu->arch.walk_mmu->pdptrs, regs.pdpte,
			       sizeof(regs.pdpte));
			return 0;
		}
		if (hw.kind == HW_OK) {		/* reserved bit: #GP(0) */
			out->kind = TDP_OUT_GP;
			return 1;
		}
		r = handle_tdp_exit(e, vcpu, &hw);
		if (take_injected(e, vcpu, out))
			return 1;
		r = account_ret_pf(e, r);
		if (r < 0)
			return r;
		if (r == RET_PF_EMULATE) {
			/* the emulated MOV: load_pdptrs() finds no memory */
			out->kind = TDP_OUT_GP;
			return 1;
		}
	}
	e->stats->pf_livelock++;
	return engine_fail(e, TDP_E_INTERNAL, "L2 PDPTE load at cr3 0x%llx not resolved",
			   (unsigned long long)vcpu->arch.cr3);
}

/* host table page at @hpa for the CPU model: KVM's shadow pages and roots */
static uint64_t *hw_host_table(void *ctx, uint64_t hpa)
{
	return kvm_mmu_hpa_to_table(ctx, hpa);
}

void vcpu_hw_init(struct tdp_engine *e)
{
	e->hwmem = (struct hw_mem){
		.gmem = e->gmem,
		.guest_pfn_base = HOST_GUEST_PFN_BASE,
		.table = hw_host_table,
		.ctx = &e->kvm,
		.flat = &e->kvm.host_tables,
		.nr_flat = &e->kvm.nr_host_tables,
		.host_maxphyaddr = 52,
		.gen = &e->memo->gen,
		.nguest = &e->memo->nguest,
		.s1log = &e->memo->log,
	};
}
