// SPDX-License-Identifier: GPL-2.0-only
/*
 * permission_fault() of one ACC layout against the SDM/APM oracle
 * (tests/oracle/perm_oracle.c), exhaustively over every legal combination
 * of page rights, control bits, PKRU, CPL, EFLAGS.AC, implicitness and
 * operation -- in the spirit of kvm-unit-tests x86/access.c -- for guest
 * paging, nested EPT (with and without MBEC) and nested NPT (with and
 * without GMET).  Plus the walker-facing helpers around it.
 */
#include <criterion/criterion.h>

#include <tdpsim/errors.h>

#include "mmu/mmu.h"
#include "oracle/perm_oracle.h"

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define THIS_OPS tdp_mmu_new_ops
#else
#define THIS_OPS tdp_mmu_old_ops
#endif

/* MBEC/GMET exist only in the series' layout. */
static bool layout_has_mbec_gmet(void)
{
	return TDP_ACC_LAYOUT == TDP_LAYOUT_NEW;
}

/*
 * Run every legal case of @mode; returns how many were checked, and how
 * many were refused as unsupported (MBEC/GMET on the old layout).
 */
static unsigned int check_mode(enum tdp_perm_mode mode, unsigned int *faults,
			       unsigned int *unsupp)
{
	struct tdp_perm_query q;
	unsigned int i, checked = 0;
	char buf[256];

	*faults = 0;
	*unsupp = 0;
	for (i = 0; perm_case(mode, i, &q); i++) {
		struct perm_verdict want;
		uint32_t ec = 0xdead;
		int ret;

		if (!perm_case_legal(&q))
			continue;
		ret = THIS_OPS.perm_query(&q, &ec);
		if (q.mbec_gmet && !layout_has_mbec_gmet()) {
			cr_assert_eq(ret, TDP_E_UNSUPP, "old layout accepted %s",
				     perm_case_str(&q, buf, sizeof(buf)));
			(*unsupp)++;
			continue;
		}
		cr_assert_eq(ret, 0, "perm_query failed (%d) for %s", ret,
			     perm_case_str(&q, buf, sizeof(buf)));

		perm_oracle(&q, &want);
		cr_assert_eq(ec != 0, want.fault, "%s: got %#x, oracle says %s",
			     perm_case_str(&q, buf, sizeof(buf)), ec,
			     want.fault ? "fault" : "allowed");
		if (want.fault)
			cr_assert_eq(ec, TDP_PFERR_PRESENT | (want.pk ? TDP_PFERR_PK : 0),
				     "%s: error code %#x, want P%s",
				     perm_case_str(&q, buf, sizeof(buf)), ec,
				     want.pk ? "|PK" : "");
		*faults += want.fault;
		checked++;
	}
	return checked;
}

Test(perm, paging_exhaustive)
{
	unsigned int faults, unsupp;
	unsigned int n = check_mode(TDP_PERM_PAGING, &faults, &unsupp);

	/*
	 * 3 ops x 2^13 combinations minus the illegal ones: NX without NXE
	 * (1/4 of all), implicit+user and implicit+fetch.  Both verdicts
	 * must occur often, or the comparison proves little.
	 */
	cr_assert_gt(n, 10000u);
	cr_assert_gt(faults, n / 8);
	cr_assert_lt(faults, n - n / 8);
}

Test(perm, ept_exhaustive)
{
	unsigned int faults, unsupp;
	unsigned int n = check_mode(TDP_PERM_EPT, &faults, &unsupp);

	cr_assert_gt(n, 50u);
	cr_assert_gt(faults, 0u);
	if (!layout_has_mbec_gmet())
		cr_assert_gt(unsupp, 0u);
}

Test(perm, npt_exhaustive)
{
	unsigned int faults, unsupp;
	unsigned int n = check_mode(TDP_PERM_NPT, &faults, &unsupp);

	cr_assert_gt(n, 3000u);
	cr_assert_gt(faults, 0u);
	if (!layout_has_mbec_gmet())
		cr_assert_gt(unsupp, 0u);
}

/*
 * permission_fault() drops bits 32 and up of the access (nested-paging and
 * KVM-synthetic bits other than IMPLICIT), so PFERR_GUEST_FINAL/PAGE and
 * PRIVATE never change a verdict.
 */
Test(perm, high_access_bits_ignored)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };
	unsigned int acc, pfec;

	vcpu.arch.cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
	vcpu.arch.cr4 = X86_CR4_PAE | X86_CR4_SMEP | X86_CR4_SMAP;
	vcpu.arch.efer = EFER_LME | EFER_LMA | EFER_NX;
	kvm_init_mmu(&vcpu);
	for (acc = 0; acc <= ACC_ALL; acc++)
		for (pfec = 0; pfec < 32; pfec += 2) {
			u64 access = pfec & ~(u64)PFERR_RSVD_MASK;
			u32 base = permission_fault(&vcpu, vcpu.arch.mmu, acc, 0, access);
			u32 high = permission_fault(&vcpu, vcpu.arch.mmu, acc, 0,
						    access | PFERR_GUEST_FINAL_MASK |
						    PFERR_GUEST_PAGE_MASK |
						    PFERR_PRIVATE_ACCESS);

			cr_assert_eq(base, high, "acc %#x pfec %#x", acc, pfec);
		}
}

/*
 * PKRU is consulted only when pkru_mask is non-zero: CR4.PKE outside long
 * mode is inactive (SDM §4.6.2: protection keys apply to IA-32e paging).
 */
Test(perm, pke_needs_long_mode)
{
	struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };

	vcpu.arch.cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
	vcpu.arch.cr4 = X86_CR4_PAE | X86_CR4_PKE;
	vcpu.arch.efer = EFER_NX;
	vcpu.arch.pkru = ~0u;
	kvm_init_mmu(&vcpu);
	cr_assert_eq(vcpu.arch.mmu->pkru_mask, 0u);
	/* a user read of a user page with AD=1 everywhere: still allowed */
	cr_assert_eq(permission_fault(&vcpu, vcpu.arch.mmu,
				      ACC_ALL & ~ACC_WRITE_MASK, 1,
				      PFERR_USER_MASK), 0u);

	vcpu.arch.efer = EFER_NX | EFER_LME | EFER_LMA;
	kvm_init_mmu(&vcpu);
	cr_assert_neq(vcpu.arch.mmu->pkru_mask, 0u);
	cr_assert_eq(permission_fault(&vcpu, vcpu.arch.mmu,
				      ACC_ALL & ~ACC_WRITE_MASK, 1,
				      PFERR_USER_MASK),
		     PFERR_PRESENT_MASK | PFERR_PK_MASK);
}

/*
 * has_pferr_fetch(): the I/D bit of a #PF error code exists iff EFER.NXE or
 * CR4.SMEP (SDM §4.7).  For nested NPT it follows L1's real SMEP/NXE even
 * though base.cr4_smep means GMET there (patch 0041).
 */
Test(perm, has_pferr_fetch_paging)
{
	unsigned int nxe, smep;

	for (nxe = 0; nxe < 2; nxe++)
		for (smep = 0; smep < 2; smep++) {
			struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };

			vcpu.arch.cr0 = X86_CR0_PG | X86_CR0_PE;
			vcpu.arch.cr4 = X86_CR4_PAE | (smep ? X86_CR4_SMEP : 0);
			vcpu.arch.efer = EFER_LME | EFER_LMA | (nxe ? EFER_NX : 0);
			kvm_init_mmu(&vcpu);
			cr_assert_eq(has_pferr_fetch(vcpu.arch.mmu), nxe || smep,
				     "nxe %u smep %u", nxe, smep);
		}
}

Test(perm, has_pferr_fetch_npt)
{
	unsigned int nxe, smep, gmet;

	for (nxe = 0; nxe < 2; nxe++)
		for (smep = 0; smep < 2; smep++)
			for (gmet = 0; gmet < 2; gmet++) {
				struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true,
							 .vendor = KVM_VENDOR_AMD };
				int ret;

				vcpu.arch.guest_mode = true;
				ret = kvm_init_shadow_npt_mmu(&vcpu,
					X86_CR4_PAE | (smep ? X86_CR4_SMEP : 0),
					EFER_LME | EFER_LMA | (nxe ? EFER_NX : 0), 0x1000,
					gmet ? SVM_MISC_ENABLE_GMET : 0);
				if (gmet && !layout_has_mbec_gmet()) {
					cr_assert_eq(ret, TDP_E_UNSUPP);
					continue;
				}
				cr_assert_eq(ret, 0);
				cr_assert_eq(has_pferr_fetch(&vcpu.arch.guest_mmu),
					     nxe || smep, "nxe %u smep %u gmet %u",
					     nxe, smep, gmet);
				/* new layout: the SMEP slot of the role is GMET */
				if (layout_has_mbec_gmet())
					cr_assert_eq(is_cr4_smep(&vcpu.arch.guest_mmu),
						     gmet);
			}
}

/* mmu_has_mbec(): only a nested EPT MMU built with MBEC, new layout. */
Test(perm, mmu_has_mbec)
{
	unsigned int mbec;

	for (mbec = 0; mbec < 2; mbec++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };
		int ret;

		vcpu.arch.guest_mode = true;
		ret = kvm_init_shadow_ept_mmu(&vcpu, true, PG_LEVEL_1G, true, mbec,
					      VMX_EPTP_PWL_4 | 0x5000);
		if (mbec && !layout_has_mbec_gmet()) {
			cr_assert_eq(ret, TDP_E_UNSUPP);
			continue;
		}
		cr_assert_eq(ret, 0);
		cr_assert_eq(mmu_has_mbec(&vcpu.arch.guest_mmu), mbec);
		cr_assert_eq(vcpu.arch.guest_mmu.pkru_mask, 0u);
	}
}

/* The ops table is reachable by name and reports this layout. */
Test(perm, ops_lookup)
{
	const struct tdp_mmu_ops *ops = tdp_mmu_ops_find(THIS_OPS.name);

	cr_assert_eq(ops, &THIS_OPS);
	cr_assert_eq(ops->layout, TDP_ACC_LAYOUT);
	cr_assert_null(tdp_mmu_ops_find("middle"));
	cr_assert_null(tdp_mmu_ops_find(NULL));
}

static uint32_t ask(const struct tdp_perm_query *q)
{
	uint32_t ec = 0xdead;

	cr_assert_eq(THIS_OPS.perm_query(q, &ec), 0);
	return ec;
}

/*
 * Named scenarios with expectations taken from kvm-unit-tests rather than
 * from either model: x86/svm_npt.c npt_gmet_null / npt_gmet_us / npt_gmet_nx
 * (the NPF error codes 0x100000011 are FINAL|F|P), and the SMAP/AC and
 * SMEP cases of x86/access.c and x86/smap.c.
 */
Test(perm, kut_gmet, .disabled = TDP_ACC_LAYOUT != TDP_LAYOUT_NEW)
{
	struct tdp_perm_query q = {
		.mode = TDP_PERM_NPT, .op = TDP_PERM_FETCH, .mbec_gmet = true,
		.efer_nx = true, .w = true, .user = false,
	};

	/* npt_gmet_null: supervisor code in a U=0 region runs */
	q.u = false;
	cr_assert_eq(ask(&q), 0u);
	/* npt_gmet_us: supervisor fetch from a U=1 leaf faults */
	q.u = true;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT);
	/* npt_gmet_nx: NX faults whatever U is */
	q.u = false;
	q.nx = true;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT);
	/* data accesses to U=0 pages are not restricted under GMET */
	q.nx = false;
	q.op = TDP_PERM_WRITE;
	q.user = true;
	cr_assert_eq(ask(&q), 0u);
}

Test(perm, kut_smap_ac)
{
	struct tdp_perm_query q = {
		.mode = TDP_PERM_PAGING, .op = TDP_PERM_READ, .cr0_wp = true,
		.cr4_smap = true, .efer_nx = true, .r = true, .w = true, .u = true,
	};

	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT, "supervisor read of user page");
	q.ac = true;
	cr_assert_eq(ask(&q), 0u, "stac: explicit access allowed");
	q.implicit = true;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT, "implicit access ignores AC");
}

Test(perm, kut_smep_wp0)
{
	/* check_smep_andnot_wp: CR0.WP=0 write to a RO user page, then fetch */
	struct tdp_perm_query q = {
		.mode = TDP_PERM_PAGING, .op = TDP_PERM_WRITE, .cr4_smep = true,
		.efer_nx = true, .r = true, .u = true,
	};

	cr_assert_eq(ask(&q), 0u, "WP=0: supervisor write to RO page");
	q.op = TDP_PERM_FETCH;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT, "SMEP still applies");
}

Test(perm, kut_ept_mbec, .disabled = TDP_ACC_LAYOUT != TDP_LAYOUT_NEW)
{
	/* vmx_tests.c ept_access_*: OP_EXEC_USER needs XU, OP_EXEC needs XS */
	struct tdp_perm_query q = {
		.mode = TDP_PERM_EPT, .op = TDP_PERM_FETCH, .mbec_gmet = true,
		.r = true, .xs = true,
	};

	cr_assert_eq(ask(&q), 0u);
	q.user = true;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT);
	q.xu = true;
	cr_assert_eq(ask(&q), 0u);
	q.xs = false;
	q.user = false;
	cr_assert_eq(ask(&q), TDP_PFERR_PRESENT);
}
