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
 *   x86.c         register loads (kvm_set_cr0/3/4, kvm_set_efer, their
 *                 #GP checks, load_pdptrs), requests, vcpu_enter_guest,
 *                 INVLPG, TLB flushes, recorded faults, the event dispatch
 *   emulate.c     after RET_PF_EMULATE: the emulator's own translation and
 *                 store (kvm_page_track_write), the `write` events that trap
 *                 into it; fault delivery to the guest or L1
 *                 (kvm_inject_emulated_page_fault)
 *   run.c         vcpu_run(): the guest's accesses on the CPU model until an
 *                 exit, and the exit handlers' calls into the MMU
 *   nested.c      the vendor-neutral part of nested entry/exit (context
 *                 switch of L1/L2 registers, L2's register loads and PAE
 *                 PDPTEs, reflected-exit accounting)
 *   vmx/vmx.c     __vmx_handle_ept_violation (error code from the
 *                 qualification); the CR0/CR4 guest/host masks (which MOVs exit)
 *   vmx/nested.c  nested VMX: EPTP checks, capabilities, INVEPT, reflected
 *                 EPT violations / misconfigurations
 *   svm/svm.c     the CR0/CR4 intercepts of init_vmcb() / svm_set_cr0()
 *   svm/nested.c  nested SVM: nested CR3, GMET, TLB control, reflected #NPF
 *   vm.c          VM and vCPU life cycle, end-of-run statistics
 */
#ifndef TDPSIM_KVM_KVM_H
#define TDPSIM_KVM_KVM_H

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>
#include <tdpsim/hw.h>
#include <tdpsim/hw_memo.h>
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
	bool no_memo;			/* tdp_engine_opts.no_memo */
	unsigned nr_vcpus;
	struct kvm_vcpu *vcpus;
	struct hw_tlb_entry *tlb;	/* nr_vcpus * HW_TLB_ENTRIES, or NULL */
	struct hw_mem hwmem;		/* memory as the CPU model sees it */
	struct hw_memo *memo;		/* translations memoised for speed */
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

/*
 * Would vcpu_enter_guest() leave what the CPU walks as it is?  Only the
 * TLB-flush requests may be pending (they count a stat and empty the
 * modelled TLB, but change no table, memory or register) and the root is
 * loaded.  For the walk memo (include/tdpsim/hw_memo.h).
 */
static inline bool vcpu_entry_quiet(const struct kvm_vcpu *vcpu)
{
	const u64 tlb_only = (1ull << KVM_REQ_TLB_FLUSH) |
			     (1ull << KVM_REQ_TLB_FLUSH_CURRENT) |
			     (1ull << KVM_REQ_LOAD_MMU_PGD);

	return !(vcpu->requests & ~tlb_only) && VALID_PAGE(vcpu->arch.mmu->root.hpa);
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

/*
 * What KVM's register checks test, for the guest CPUID of the trace's
 * config (docs/trace-text.md: NX, PSE, PAE, PGE, SMEP, SMAP, LM; PKU with
 * TDP; LA57 with la57=1; VMX/SVM for an L1 hypervisor; PCID, which the
 * linux-kpti-pcid workload uses).  Kernel names, our own bit values.
 */
#define X86_CR0_NW		BIT(29)
#define X86_CR0_CD		BIT(30)
#define X86_CR4_VME		BIT(0)
#define X86_CR4_PVI		BIT(1)
#define X86_CR4_TSD		BIT(2)
#define X86_CR4_DE		BIT(3)
#define X86_CR4_MCE		BIT(6)
#define X86_CR4_PCE		BIT(8)
#define X86_CR4_OSFXSR		BIT(9)
#define X86_CR4_OSXMMEXCPT	BIT(10)
#define X86_CR4_UMIP		BIT(11)
#define X86_CR4_VMXE		BIT(13)
#define X86_CR4_FSGSBASE	BIT(16)
#define X86_CR4_OSXSAVE		BIT(18)
#define X86_CR4_CET		BIT(23)
#define X86_CR4_LAM_SUP		BIT(28)
#define X86_CR3_PCID_NOFLUSH	BIT_ULL(63)
#define X86_CR3_PCID_MASK	0xfffull
#define EFER_SCE		BIT(0)
#define EFER_SVME		BIT(12)

/*
 * kvm_cache_regs.h: the CR0/CR4 bits whose change makes kvm_set_cr0() /
 * kvm_set_cr4() reload the PAE PDPTEs (the list of SDM 4.4.1).
 */
#define X86_CR0_PDPTR_BITS	(X86_CR0_CD | X86_CR0_NW | X86_CR0_PG)
#define X86_CR4_PDPTR_BITS	(X86_CR4_PGE | X86_CR4_PSE | X86_CR4_PAE | \
				 X86_CR4_SMEP)

#ifndef X86_CR0_TS
#define X86_CR0_MP		BIT(1)
#define X86_CR0_TS		BIT(3)
#endif

/* Which of a register load's instructions exit to KVM (cr_load_exits()). */
#define EXIT_CR0	1u
#define EXIT_CR3	2u
#define EXIT_CR4	4u
#define EXIT_EFER	8u

/* Does the `set` load a control register (or EFER), not only PKRU/CPL? */
static inline bool set_loads_cr(const struct tdp_event *ev)
{
	return TDP_HAS(ev, SET, cr0) || TDP_HAS(ev, SET, cr3) ||
	       TDP_HAS(ev, SET, cr4) || TDP_HAS(ev, SET, efer);
}

#define engine_fail			KVM_SYM(engine_fail)
#define engine_event			KVM_SYM(engine_event)
#define vcpu_enter_guest		KVM_SYM(vcpu_enter_guest)
#define kvm_service_requests		KVM_SYM(kvm_service_requests)
#define count_injected			KVM_SYM(count_injected)
#define deliver_fault			KVM_SYM(deliver_fault)
#define emulate_access			KVM_SYM(emulate_access)
#define emulate_store			KVM_SYM(emulate_store)
#define emulated_access_write		KVM_SYM(emulated_access_write)
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
#define handle_write			KVM_SYM(handle_write)
#define load_pdptrs			KVM_SYM(load_pdptrs)
#define kvm_mmu_reset_context		KVM_SYM(kvm_mmu_reset_context)
#define set_tlb_flush_requests		KVM_SYM(set_tlb_flush_requests)
#define set_restore			KVM_SYM(set_restore)
#define set_inject_gp			KVM_SYM(set_inject_gp)
#define cr4_guest_rsvd_bits		KVM_SYM(cr4_guest_rsvd_bits)
#define cr_load_exits			KVM_SYM(cr_load_exits)
#define handle_set_l2			KVM_SYM(handle_set_l2)
#define vmx_cr_load_exits		KVM_SYM(vmx_cr_load_exits)
#define svm_cr_load_exits		KVM_SYM(svm_cr_load_exits)

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
void emulated_access_write(struct tdp_engine *e, struct kvm_vcpu *vcpu, gpa_t gpa);
void emulate_store(struct tdp_engine *e, struct kvm_vcpu *vcpu, u64 gva,
		   u64 access, const struct vcpu_store *store,
		   struct tdp_outcome *out, int *err);
int account_ret_pf(struct tdp_engine *e, int r);
void svm_cache_pdptrs(struct kvm_vcpu *vcpu);
bool take_injected(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		   struct tdp_outcome *out);
int handle_write(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		 const struct tdp_event *ev);
bool load_pdptrs(struct kvm_vcpu *vcpu, bool strict);
void kvm_mmu_reset_context(struct kvm_vcpu *vcpu);
void set_tlb_flush_requests(struct kvm_vcpu *vcpu, unsigned exits,
			    unsigned long old_cr0, unsigned long old_cr4);
void set_restore(struct kvm_vcpu *vcpu, unsigned long cr0, unsigned long cr4,
		 unsigned long cr3, u64 efer, u64 pkru, int cpl);
int set_inject_gp(struct tdp_engine *e, unsigned exits, struct tdp_outcome *out);
u64 cr4_guest_rsvd_bits(const struct tdp_engine *e, const struct kvm_vcpu *vcpu);
unsigned cr_load_exits(const struct tdp_engine *e, const struct kvm_vcpu *vcpu,
		       const struct tdp_event *ev, unsigned long old_cr0,
		       unsigned long old_cr4, unsigned long cr0, unsigned long cr4);

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
int handle_set_l2(struct tdp_engine *e, struct kvm_vcpu *vcpu,
		  const struct tdp_event *ev, bool entry,
		  struct tdp_outcome *out, const char *why, bool reset,
		  unsigned exits, unsigned long old_cr0, unsigned long old_cr4,
		  unsigned long old_cr3, u64 old_efer, u64 old_pkru,
		  int old_cpl);

/* vmx/vmx.c */
u64 vmx_ept_violation_error_code(struct kvm_mmu *mmu, u64 qual);
u64 vmx_ept_qual_from_error_code(u64 ec);
unsigned vmx_cr_load_exits(const struct tdp_engine *e,
			   const struct kvm_vcpu *vcpu,
			   const struct tdp_event *ev, unsigned long old_cr0,
			   unsigned long old_cr4, unsigned long cr0,
			   unsigned long cr4);

/* svm/svm.c */
unsigned svm_cr_load_exits(const struct kvm_vcpu *vcpu,
			   const struct tdp_event *ev, unsigned long old_cr0,
			   unsigned long cr0);

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
