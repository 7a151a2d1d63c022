// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/x86/kvm/vmx/nested.c: nested EPT as KVM offers it to L1 -- VM-entry
 * checks of the EPTP, INVEPT, and EPT violations / misconfigurations
 * reflected to L1.
 */
#include "kvm/kvm.h"

/*
 * nested_ept_inject_page_fault() (vmx/nested.c): the fault KVM's walk of
 * L1's EPT found becomes an EPT misconfiguration (reserved bits) or an
 * EPT violation exit to L1.  The walker built bits 0-6; bits 7-8 -- and
 * since 0035, which offers L1 VMX_EPT_ADVANCED_VMEXIT_INFO_BIT, bits
 * 9-11 -- are those of the hardware exit KVM is handling.
 */
void nested_ept_inject_page_fault(struct kvm_vcpu *vcpu,
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
 * The EPT capabilities KVM offers L1 (IA32_VMX_EPT_VPID_CAP bits, asm/vmx.h),
 * as nested_vmx_setup_ctls_msrs() computes them: 4- and 5-level walks, WB,
 * INVEPT and execute-only only where the host has them; single-context and
 * global INVEPT, 2 MiB and 1 GiB pages always (KVM shadows a 1 GiB guest EPT
 * page with smaller ones if it must); A/D when KVM itself uses EPT A/D
 * (enable_ept_ad_bits).  UC EPTPs are never offered.
 */
#define VMX_EPT_EXECUTE_ONLY_BIT	(1u << 0)
#define VMX_EPT_PAGE_WALK_4_BIT		(1u << 6)
#define VMX_EPT_PAGE_WALK_5_BIT		(1u << 7)
#define VMX_EPTP_UC_BIT			(1u << 8)
#define VMX_EPTP_WB_BIT			(1u << 14)
#define VMX_EPT_2MB_PAGE_BIT		(1u << 16)
#define VMX_EPT_1GB_PAGE_BIT		(1u << 17)
#define VMX_EPT_INVEPT_BIT		(1u << 20)
#define VMX_EPT_AD_BIT			(1u << 21)
#define VMX_EPT_EXTENT_CONTEXT_BIT	(1u << 25)
#define VMX_EPT_EXTENT_GLOBAL_BIT	(1u << 26)

u32 nested_vmx_setup_ept_caps(const struct tdp_config *cfg)
{
	u32 host = VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT | VMX_EPT_INVEPT_BIT |
		   VMX_EPT_2MB_PAGE_BIT |
		   (cfg->ept_5level ? VMX_EPT_PAGE_WALK_5_BIT : 0) |
		   (cfg->ept_execonly ? VMX_EPT_EXECUTE_ONLY_BIT : 0) |
		   (cfg->ept_1g ? VMX_EPT_1GB_PAGE_BIT : 0);
	u32 caps = VMX_EPT_PAGE_WALK_4_BIT | VMX_EPT_PAGE_WALK_5_BIT |
		   VMX_EPTP_WB_BIT | VMX_EPT_INVEPT_BIT | VMX_EPT_EXECUTE_ONLY_BIT;

	caps &= host;
	caps |= VMX_EPT_EXTENT_GLOBAL_BIT | VMX_EPT_EXTENT_CONTEXT_BIT |
		VMX_EPT_2MB_PAGE_BIT | VMX_EPT_1GB_PAGE_BIT;
	if (cfg->ept_ad)
		caps |= VMX_EPT_AD_BIT;
	return caps;
}

/* ept_caps_to_lpage_level() (vmx/capabilities.h) */
static int ept_caps_to_lpage_level(u32 ept_caps)
{
	if (ept_caps & VMX_EPT_1GB_PAGE_BIT)
		return PG_LEVEL_1G;
	if (ept_caps & VMX_EPT_2MB_PAGE_BIT)
		return PG_LEVEL_2M;
	return PG_LEVEL_4K;
}

/*
 * nested_vmx_check_eptp() (vmx/nested.c, kvm-x86/linux): memory type UC or
 * WB as offered, a page-walk length offered, bits 11:7 zero, the address
 * within MAXPHYADDR, A/D only if offered.
 */
bool nested_vmx_check_eptp(const struct kvm_vcpu *vcpu, u64 eptp)
{
	u32 caps = vcpu->arch.nested.ept_caps;

	switch (eptp & 7) {		/* VMX_EPTP_MT_MASK */
	case 0:				/* VMX_EPTP_MT_UC */
		if (!(caps & VMX_EPTP_UC_BIT))
			return false;
		break;
	case 6:				/* VMX_EPTP_MT_WB */
		if (!(caps & VMX_EPTP_WB_BIT))
			return false;
		break;
	default:
		return false;
	}
	switch (eptp & VMX_EPTP_PWL_MASK) {
	case VMX_EPTP_PWL_5:
		if (!(caps & VMX_EPT_PAGE_WALK_5_BIT))
			return false;
		break;
	case VMX_EPTP_PWL_4:
		if (!(caps & VMX_EPT_PAGE_WALK_4_BIT))
			return false;
		break;
	default:
		return false;
	}
	if ((eptp >> vcpu->maxphyaddr) || ((eptp >> 7) & 0x1f))
		return false;
	if ((eptp & VMX_EPTP_AD_ENABLE_BIT) && !(caps & VMX_EPT_AD_BIT))
		return false;
	return true;
}

/*
 * nested_vmx_vmcs12_pdptrs() - VMCS12's GUEST_PDPTR0-3 for a VM entry to
 * an L2 in PAE paging mode, as the trace defines them.  With "enable EPT"
 * the CPU takes the PDPTEs from these guest-state fields, not from memory
 * (SDM Vol. 3C §26.3.2.4 "Loading Page-Directory-Pointer-Table Entries"),
 * and KVM copies them into vmcs02 without reading L2's memory
 * (prepare_vmcs02(): "Late preparation of GUEST_PDPTRs"; no load_pdptrs()
 * in nested_vmx_load_cr3() when nested_ept).  The trace has no field for
 * them: the `set` after `vmenter` means L1 filled them from L2's PDPT as
 * L2 sees it, i.e. the four entries at L2 GPA CR3[31:5] where L1's EPT
 * maps that page -- what a hypervisor keeps (the values the CPU saved at
 * L2's last VM exit, or the PDPT it set up).  This is L1 reading its own
 * tables, not an access by L2 or KVM: no A/D flag is set and nothing is
 * counted.  False when L1's EPT maps no memory there: the fields would be
 * whatever L1 wrote, which the trace cannot say.
 */
bool nested_vmx_vmcs12_pdptrs(const struct kvm_vcpu *vcpu, u64 pdptrs[4])
{
	const u64 eptp = vcpu->arch.nested.eptp;
	const u64 l2 = vcpu->arch.cr3 & GENMASK_ULL(31, 5);
	const u64 present = 7 | (vcpu->arch.nested.mbec ? BIT_ULL(10) : 0);
	u64 table = eptp & GENMASK_ULL(51, 12), e = 0, l1;
	int level = (int)((eptp >> 3) & 7) + 1;

	for (;; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);

		if (tdp_gmem_read(vcpu->gmem, table + ((l2 >> shift) & 511) * 8,
				  8, &e) || !(e & present))
			return false;
		/* a leaf: a 4 KiB EPT PTE, or bit 7 in an EPT PDE / PDPTE */
		if (level == 1 || (level <= 3 && (e & BIT_ULL(7)))) {
			l1 = (e & GENMASK_ULL(51, shift)) |
			     (l2 & GENMASK_ULL(shift - 1, 0));
			break;
		}
		table = e & GENMASK_ULL(51, 12);
	}
	for (int i = 0; i < 4; i++)
		if (tdp_gmem_read(vcpu->gmem, l1 + i * 8, 8, &pdptrs[i]))
			return false;
	return true;
}

/*
 * VM entry with nested EPT, the part nested_vmx_enter_non_root_mode()
 * checks before it switches (nested_check_vm_execution_controls(): the
 * secondary controls must be allowed -- MBEC only when offered -- and the
 * EPTP valid), then nested_ept_init_mmu_context() once the vCPU is in
 * guest mode.  @ev is NULL for the second step.
 */
int nested_vmx_enter_non_root_mode(struct tdp_engine *e, struct kvm_vcpu *vcpu,
				   const struct tdp_event *ev)
{
	struct kvm_nested_state *n = &vcpu->arch.nested;
	struct kvm_mmu *g = &vcpu->arch.guest_mmu;
	int r;

	if (ev) {
		u64 eptp = ev->u.vmenter.eptp;

		if (ev->u.vmenter.mbec && !vcpu->host_mbec)
			return engine_fail(e, TDP_E_UNSUPP,
					   "'mbec=1' needs 'config mbec=1' (MBEC is not offered to L1: VM entry fails)");
		if (!nested_vmx_check_eptp(vcpu, eptp))
			return engine_fail(e, TDP_E_RANGE,
					   "eptp 0x%llx is invalid or uses a capability KVM does not offer (memory type, walk length, A/D, reserved or address bits): VM entry fails",
					   (unsigned long long)eptp);
		n->eptp = eptp;
		n->mbec = ev->u.vmenter.mbec;
		return 0;
	}
	/* nested_ept_new_eptp() */
	r = kvm_init_shadow_ept_mmu(vcpu, n->ept_caps & VMX_EPT_EXECUTE_ONLY_BIT,
				    ept_caps_to_lpage_level(n->ept_caps),
				    n->eptp & VMX_EPTP_AD_ENABLE_BIT, n->mbec,
				    n->eptp);
	g->get_guest_pgd = nested_ept_get_eptp;
	g->get_pdptr = NULL;
	return r;
}

/* nested_ept_root_matches() (vmx/nested.c) */
static bool nested_ept_root_matches(hpa_t root_hpa, u64 root_eptp, u64 eptp)
{
	const u64 pa_mask = GENMASK_ULL(51, 12);

	return VALID_PAGE(root_hpa) && (root_eptp & pa_mask) == (eptp & pa_mask);
}

/*
 * The `invept` event on intel: handle_invept() (vmx/nested.c) frees the
 * guest_mmu roots for the EPTP (single-context) or all of them (global);
 * the shadow pages stay hashed and are synced when a root is loaded
 * again.
 */
int handle_invept(struct tdp_engine *e, struct kvm_vcpu *vcpu,
			 const struct tdp_event *ev)
{
	struct kvm_mmu *mmu = &vcpu->arch.guest_mmu;
	unsigned long roots_to_free = 0;

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
