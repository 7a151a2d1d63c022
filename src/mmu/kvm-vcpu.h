/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The slice of struct kvm_vcpu / kvm_vcpu_arch that the MMU port reads.
 * Register state is the *current* context's (L1, or L2 while guest_mode).
 * Guest memory is L1's guest-physical memory (layout independent, owned by
 * the simulator); every guest table read or A/D update goes through it.
 */
#ifndef TDPSIM_KVM_VCPU_H
#define TDPSIM_KVM_VCPU_H

#include "mmu-int.h"

struct tdp_gmem;
struct tdp_stats;
struct kvm;

enum kvm_vendor {
	KVM_VENDOR_INTEL,
	KVM_VENDOR_AMD,
};

/* Nested state that L1 programmed for L2 (VMCS12 / VMCB12 fields we use). */
struct kvm_nested_state {
	u64 eptp;		/* intel: L1's EPT pointer for L2 */
	u64 nested_cr3;		/* amd: L1's nested CR3 */
	u64 misc_ctl;		/* amd: SVM_MISC_ENABLE_NP | _GMET */
	bool mbec;		/* intel: SECONDARY_EXEC_MODE_BASED_EPT_EXEC */
	u32 ept_caps;		/* intel: nested.msrs.ept_caps offered to L1 */
	/* vmenter done, L2's registers not loaded yet (the next L2 `set`) */
	bool l2_regs_pending;
	/* L1's own registers, saved at vmenter (VMCB01 save area / VMCS01) */
	struct kvm_ctx_regs {
		unsigned long cr0, cr3, cr4;
		u64 efer;
		u32 pkru;
		int cpl;
	} l1;
};

struct kvm_vcpu_arch {
	unsigned long cr0;
	unsigned long cr2;
	unsigned long cr3;
	unsigned long cr4;
	u64 efer;
	u32 pkru;
	unsigned long rflags;
	int cpl;

	/* The MMU that faults are handled by (root_mmu or guest_mmu). */
	struct kvm_mmu *mmu;
	/* Non-nested MMU for L1. */
	struct kvm_mmu root_mmu;
	/* L1 MMU when running nested (shadows L1's EPT/NPT for L2). */
	struct kvm_mmu guest_mmu;
	/* Walks L2's page tables; each table GPA goes through guest_mmu. */
	struct kvm_mmu nested_mmu;
	/* The MMU that translates GVAs of the current context. */
	struct kvm_mmu *walk_mmu;

	bool guest_mode;
	struct kvm_nested_state nested;
	/*
	 * Exit information of the EPT violation / NPF being handled: the
	 * hardware exit qualification (vmx_get_exit_qual; the pre-series
	 * walker keeps its GVA bits 8:7) or EXITINFO1 (amd).
	 */
	u64 exit_qualification;

	/*
	 * kvm_mmu_write_protect_fault()'s guard against unprotect-and-retry
	 * loops: the RIP and address of the last fault whose gfn KVM
	 * unprotected before letting the guest retry (__kvm_mmu_unprotect_
	 * gfn_and_retry() sets them, the next write-protection fault resets
	 * them).
	 */
	unsigned long last_retry_eip;
	unsigned long last_retry_addr;
	/*
	 * tdpsim: traces carry no RIP.  Each trace event is one guest
	 * instruction, numbered per vCPU by the engine (engine_event()); a
	 * retry of an access inside its event (vcpu_run_access()) re-executes
	 * the same instruction, as KVM's re-entry at an unchanged RIP does.
	 * kvm_rip_read() returns this number.  Starts at 1: last_retry_eip 0
	 * means "none", as in KVM, where no instruction sits at RIP 0 in
	 * practice.
	 */
	unsigned long insn_seq;
};

struct kvm_vcpu {
	struct kvm *kvm;
	struct tdp_gmem *gmem;
	enum kvm_vendor vendor;
	int vcpu_id;
	/* host capabilities the VM was configured with (config line) */
	u8 maxphyaddr;
	bool tdp_enabled;	/* paging=tdp|nested: EPT/NPT used by KVM */
	bool host_mbec;		/* kvm_intel mbec: KVM runs with MBEC */
	bool host_gmet;		/* kvm_amd gmet: KVM runs with GMET */
	struct kvm_vcpu_arch arch;
	u64 requests;		/* KVM_REQ_* bits (mmu_internal.h) */

	/* simulator side: replay counters, walk timing switch, and the fault
	 * KVM queued for the guest (kvm_inject_emulated_page_fault) */
	struct tdp_stats *tdp_stats;
	bool timing;
	bool exception_pending;
	struct x86_exception exception;
	/* CPL of the access that made the exit KVM handles (the CPU model's;
	 * SVM's erratum-1218 workaround and GMET accounting read it) */
	unsigned exit_cpl;
};

/* kvm_rip_read(): the instruction identity of the event (see insn_seq) */
static inline unsigned long kvm_rip_read(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.insn_seq;
}

/* is_guest_mode() (kvm_cache_regs.h) */
static inline bool is_guest_mode(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.guest_mode;
}

static inline bool mmu_is_nested(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.walk_mmu == &vcpu->arch.nested_mmu;
}

#endif /* TDPSIM_KVM_VCPU_H */
