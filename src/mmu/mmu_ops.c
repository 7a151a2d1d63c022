// SPDX-License-Identifier: GPL-2.0-only
/*
 * This layout's struct tdp_mmu_ops: the layout-independent face of the port
 * used by tests, benchmarks and the compare command.
 */
#include <tdpsim/errors.h>

#include "mmu.h"

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define TDP_MMU_OPS	tdp_mmu_new_ops
#else
#define TDP_MMU_OPS	tdp_mmu_old_ops
#endif

/* gpte_access() of PTTYPE 64 for accumulated W/U/XD (paging_tmpl.h). */
static unsigned int paging_pte_access(const struct tdp_perm_query *q)
{
	unsigned int access = (q->w ? ACC_WRITE_MASK : 0) |
			      (q->u ? ACC_USER_MASK : 0) |
			      (q->nx ? 0 : ACC_EXEC_MASK);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	access |= ACC_READ_MASK;	/* P is set: always readable */
#endif
	return access;
}

/*
 * gpte_access() of PTTYPE_EPT.  Old layout: R is carried in ACC_USER_MASK
 * and bit 10 is not decoded.
 */
static unsigned int ept_pte_access(const struct tdp_perm_query *q)
{
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	return (q->r ? ACC_READ_MASK : 0) | (q->w ? ACC_WRITE_MASK : 0) |
	       (q->xs ? ACC_EXEC_MASK : 0) | (q->xu ? ACC_USER_EXEC_MASK : 0);
#else
	return (q->r ? ACC_USER_MASK : 0) | (q->w ? ACC_WRITE_MASK : 0) |
	       (q->xs ? ACC_EXEC_MASK : 0);
#endif
}

static u64 op_pfec(enum tdp_perm_op op)
{
	return op == TDP_PERM_WRITE ? PFERR_WRITE_MASK :
	       op == TDP_PERM_FETCH ? PFERR_FETCH_MASK : 0;
}

/* perm_query() - see include/tdpsim/mmu.h. */
static int perm_query(const struct tdp_perm_query *q, uint32_t *errcode)
{
	struct kvm_vcpu vcpu = {
		.maxphyaddr = 46,
		.tdp_enabled = true,
	};
	unsigned long cr4 = X86_CR4_PAE | (q->cr4_smep ? X86_CR4_SMEP : 0) |
			    (q->cr4_smap ? X86_CR4_SMAP : 0) |
			    (q->cr4_pke ? X86_CR4_PKE : 0);
	u64 efer = EFER_LME | EFER_LMA | (q->efer_nx ? EFER_NX : 0);
	struct kvm_mmu *mmu;
	unsigned int pte_access;
	u64 access;
	int ret;

	if (q->pkey > 15 || (unsigned int)q->op > TDP_PERM_FETCH)
		return TDP_E_USAGE;

	vcpu.arch.rflags = q->ac ? X86_EFLAGS_AC : 0;
	vcpu.arch.pkru = q->pkru;
	access = op_pfec(q->op) | (q->implicit ? PFERR_IMPLICIT_ACCESS : 0);

	switch (q->mode) {
	case TDP_PERM_PAGING:
		vcpu.vendor = KVM_VENDOR_INTEL;
		vcpu.arch.cr0 = X86_CR0_PG | X86_CR0_PE | (q->cr0_wp ? X86_CR0_WP : 0);
		vcpu.arch.cr4 = cr4;
		vcpu.arch.efer = efer;
		kvm_init_mmu(&vcpu);
		mmu = vcpu.arch.walk_mmu;
		pte_access = paging_pte_access(q);
		access |= q->user ? PFERR_USER_MASK : 0;
		break;
	case TDP_PERM_EPT:
		vcpu.vendor = KVM_VENDOR_INTEL;
		vcpu.arch.guest_mode = true;
		ret = kvm_init_shadow_ept_mmu(&vcpu, true, PG_LEVEL_1G, true,
					      q->mbec_gmet, VMX_EPTP_PWL_4);
		if (ret)
			return ret;
		mmu = &vcpu.arch.guest_mmu;
		pte_access = ept_pte_access(q);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		/*
		 * vmx_translate_nested_gpa / __vmx_handle_ept_violation: U is
		 * the linear address's U/S (advanced EPT-violation info).
		 */
		access |= q->user ? PFERR_USER_MASK : 0;
#else
		/* __vmx_handle_ept_violation: a read is PFERR_USER_MASK */
		if (q->op == TDP_PERM_READ)
			access |= PFERR_USER_MASK;
#endif
		break;
	case TDP_PERM_NPT:
		vcpu.vendor = KVM_VENDOR_AMD;
		vcpu.arch.guest_mode = true;
		ret = kvm_init_shadow_npt_mmu(&vcpu, cr4, efer, 0,
					      q->mbec_gmet ? SVM_MISC_ENABLE_GMET : 0);
		if (ret)
			return ret;
		mmu = &vcpu.arch.guest_mmu;
		pte_access = paging_pte_access(q);
		/* svm_translate_nested_gpa: non-GMET walks are user walks */
		if (!q->mbec_gmet || q->user)
			access |= PFERR_USER_MASK;
		break;
	default:
		return TDP_E_USAGE;
	}

	*errcode = permission_fault(&vcpu, mmu, pte_access, q->pkey, access);
	return 0;
}

const struct tdp_mmu_ops TDP_MMU_OPS = {
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	.name = "new",
#else
	.name = "old",
#endif
	.layout = TDP_ACC_LAYOUT,
	.perm_query = perm_query,
};
