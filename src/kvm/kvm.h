/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM outside the MMU (arch/x86/kvm/{x86.c,vmx/,svm/}): the VM the replay
 * drives, compiled once per ACC layout with the MMU port (src/mmu), whose
 * types it shares.  Layering:
 *
 *   src/sim (replay loop) --> src/kvm (this: events as KVM sees them)
 *                               |--> src/mmu (the port of arch/x86/kvm/mmu/)
 *                               `--> src/hw  (the CPU that runs the guest)
 *
 * Files mirror the kernel's:
 *   x86.c         register loads (kvm_set_cr0/3/4, kvm_set_efer), requests,
 *                 vcpu_enter_guest, guest stores, INVLPG, TLB flushes,
 *                 recorded faults, the event dispatch
 *   emulate.c     after RET_PF_EMULATE: the emulator's own translation and
 *                 store (kvm_page_track_write); fault delivery to the guest
 *                 or L1 (kvm_inject_emulated_page_fault)
 *   run.c         vcpu_run(): the guest's accesses on the CPU model until an
 *                 exit, and the exit handlers' calls into the MMU
 *   nested.c      the vendor-neutral part of nested entry/exit (context
 *                 switch of L1/L2 registers, reflected-exit accounting)
 *   vmx/vmx.c     __vmx_handle_ept_violation (error code from the qualification)
 *   vmx/nested.c  nested VMX: EPTP checks, capabilities, INVEPT, reflected
 *                 EPT violations / misconfigurations
 *   svm/nested.c  nested SVM: nested CR3, GMET, TLB control, reflected #NPF
 *   vm.c          VM and vCPU life cycle, end-of-run statistics
 */
#ifndef TDPSIM_KVM_KVM_H
#define TDPSIM_KVM_KVM_H

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>
#include <tdpsim/hw_tlb.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "mmu/fault.h"
#include "mmu/paging.h"

/* Tries of one access: each exit KVM fixes lets the CPU try again. */
#define ACCESS_MAX_TRIES 8
/* Exits one L2 access may take: one per L2 level and the final GPA, twice. */
#define NESTED_ACCESS_MAX_TRIES 16

/* The VM one replay drives: struct kvm, guest memory, vCPUs. */
struct tdp_engine {
	struct kvm kvm;
	struct tdp_gmem *gmem;
	struct tdp_stats *stats;
	struct tdp_config cfg;
	bool check;
	unsigned nr_vcpus;
	struct kvm_vcpu *vcpus;
	struct hw_tlb_entry *tlb;	/* nr_vcpus * HW_TLB_ENTRIES, or NULL */
	struct hw_mem hwmem;		/* memory as the CPU model sees it */
	char errmsg[256];
};

/*
 * The data of a store the guest makes through its own mapping (`write
 * gva=`): where the trace says it lands, the value, its width in bytes.
 */
struct vcpu_store {
	u64 gva;
	gpa_t gpa;
	u64 val;
	unsigned size;
};

/* the CPU's TLB of @vcpu (replay --tlb), or NULL */
static inline struct hw_tlb_entry *vcpu_tlb(struct tdp_engine *e,
					     struct kvm_vcpu *vcpu)
{
	return e->tlb ? &e->tlb[vcpu->vcpu_id * HW_TLB_ENTRIES] : NULL;
}

static inline bool is_paging(const struct kvm_vcpu *vcpu)
{
	return vcpu->arch.cr0 & X86_CR0_PG;
}

static inline bool is_pae_paging(const struct kvm_vcpu *vcpu)
{
	return is_paging(vcpu) && (vcpu->arch.cr4 & X86_CR4_PAE) &&
	       !(vcpu->arch.efer & EFER_LMA);
}

#define engine_fail			KVM_SYM(engine_fail)
#define engine_event			KVM_SYM(engine_event)
#define vcpu_enter_guest		KVM_SYM(vcpu_enter_guest)
#define kvm_service_requests		KVM_SYM(kvm_service_requests)
#define count_injected			KVM_SYM(count_injected)
#define deliver_fault			KVM_SYM(deliver_fault)
#define emulate_access			KVM_SYM(emulate_access)
#define emulate_store			KVM_SYM(emulate_store)
#define account_ret_pf			KVM_SYM(account_ret_pf)
#define take_injected			KVM_SYM(take_injected)
#define vcpu_run_access			KVM_SYM(vcpu_run_access)
#define vcpu_hw_init			KVM_SYM(vcpu_hw_init)
#define vcpu_run_pdpte_load		KVM_SYM(vcpu_run_pdpte_load)
#define svm_cache_pdptrs		KVM_SYM(svm_cache_pdptrs)
#define nested_vmx_vmcs12_pdptrs	KVM_SYM(nested_vmx_vmcs12_pdptrs)
#define reflect_to_l1			KVM_SYM(reflect_to_l1)
#define handle_vmenter			KVM_SYM(handle_vmenter)
#define handle_vmexit			KVM_SYM(handle_vmexit)
#define vmx_ept_violation_error_code	KVM_SYM(vmx_ept_violation_error_code)
#define vmx_ept_qual_from_error_code	KVM_SYM(vmx_ept_qual_from_error_code)
#define nested_ept_inject_page_fault	KVM_SYM(nested_ept_inject_page_fault)
#define nested_vmx_setup_ept_caps	KVM_SYM(nested_vmx_setup_ept_caps)
#define nested_vmx_check_eptp		KVM_SYM(nested_vmx_check_eptp)
#define nested_vmx_enter_non_root_mode	KVM_SYM(nested_vmx_enter_non_root_mode)
#define handle_invept			KVM_SYM(handle_invept)
#define nested_svm_inject_npf_exit	KVM_SYM(nested_svm_inject_npf_exit)
#define nested_svm_transition_tlb_flush	KVM_SYM(nested_svm_transition_tlb_flush)
#define enter_svm_guest_mode		KVM_SYM(enter_svm_guest_mode)
#define nested_svm_tlb_control_flush	KVM_SYM(nested_svm_tlb_control_flush)

/* vm.c */
int engine_fail(struct tdp_engine *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* x86.c */
int engine_event(struct tdp_engine *e, const struct tdp_event *ev,
		 struct tdp_outcome *out);
int vcpu_enter_guest(struct tdp_engine *e, struct kvm_vcpu *vcpu);
void kvm_service_requests(struct tdp_engine *e, struct kvm_vcpu *vcpu);
void count_injected(struct tdp_stats *st, u64 ec);
void deliver_fault(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   const struct x86_exception *fault, struct tdp_outcome *out);
void emulate_access(struct tdp_engine *e, struct kvm_vcpu *vcpu, u64 gva,
		    u64 access, struct tdp_outcome *out);
void emulate_store(struct tdp_engine *e, struct kvm_vcpu *vcpu, u64 gva,
		   u64 access, const struct vcpu_store *store,
		   struct tdp_outcome *out, int *err);
int account_ret_pf(struct tdp_engine *e, int r);
void svm_cache_pdptrs(struct kvm_vcpu *vcpu);
bool take_injected(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   struct tdp_outcome *out);

/* run.c */
void vcpu_run_access(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		     const struct hw_access *acc, u64 access,
		     const struct vcpu_store *store,
		     struct tdp_outcome *out, int *err);
void vcpu_hw_init(struct tdp_engine *e);
int vcpu_run_pdpte_load(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			struct tdp_outcome *out);

/* nested.c */
void reflect_to_l1(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   const struct x86_exception *fault, struct tdp_outcome *out);
int handle_vmenter(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   const struct tdp_event *ev);
int handle_vmexit(struct tdp_engine *e, struct kvm_vcpu *vcpu);

/* vmx/vmx.c */
u64 vmx_ept_violation_error_code(struct kvm_mmu *mmu, u64 qual);
u64 vmx_ept_qual_from_error_code(u64 ec);

/* vmx/nested.c */
void nested_ept_inject_page_fault(struct kvm_vcpu *vcpu,
				  const struct x86_exception *fault,
				  struct tdp_outcome *out);
u32 nested_vmx_setup_ept_caps(const struct tdp_config *cfg);
bool nested_vmx_check_eptp(const struct kvm_vcpu *vcpu, u64 eptp);
bool nested_vmx_vmcs12_pdptrs(const struct kvm_vcpu *vcpu, u64 pdptrs[4]);
int nested_vmx_enter_non_root_mode(struct tdp_engine *e, struct kvm_vcpu *vcpu,
				   const struct tdp_event *ev);
int handle_invept(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		  const struct tdp_event *ev);

/* svm/nested.c */
void nested_svm_inject_npf_exit(struct kvm_vcpu *vcpu,
				const struct x86_exception *fault,
				struct tdp_outcome *out);
void nested_svm_transition_tlb_flush(struct kvm_vcpu *vcpu);
int enter_svm_guest_mode(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			 const struct tdp_event *ev);
int nested_svm_tlb_control_flush(struct tdp_engine *e, struct kvm_vcpu *vcpu);

#endif /* TDPSIM_KVM_KVM_H */
