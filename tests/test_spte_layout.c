// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPTE encoding per ACC layout and per format, against the rules of
 * spte.c (kvm-x86/linux @8cd6d6724eae for the old layout; pve-kernel
 * patches 0028 and 0032 for the new one), enumerating every ACC value.
 * Expected bits are written from the SDM bit positions (x86 PTE: P=0 W=1
 * U=2 A=5 D=6 PS=7 NX=63; EPT: R=0 W=1 X(S)=2 MT=5:3 IPAT=6 A=8 D=9 XU=10,
 * suppress-#VE=63), not from the code's masks.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../src/mmu/mmu_page.h"

#define B(n) (1ull << (n))

static struct kvm *kvm;
static struct kvm_vcpu *vcpu;

static void setup(void)
{
	kvm = calloc(1, sizeof(*kvm));
	vcpu = calloc(1, sizeof(*vcpu));
	cr_assert(kvm && vcpu);
	kvm_mmu_init_vm(kvm, 1 << 20);
	cr_assert_eq(kvm_mmu_create(kvm, vcpu), 0);
}

static void teardown(void)
{
	kvm_mmu_uninit_vm(kvm);
	free(kvm);
	free(vcpu);
}

TestSuite(spte, .init = setup, .fini = teardown);

/* A direct page of @level: no gfn is shadowed, so W is never refused. */
static struct kvm_mmu_page *direct_sp(int level)
{
	union kvm_mmu_page_role role = {0};

	role.level = level;
	role.direct = 1;
	role.access = ACC_ALL;
	return kvm_mmu_get_shadow_page(vcpu, 0, role);
}

static u64 leaf(int level, unsigned int acc, bool prefetch)
{
	struct kvm_mmu_page *sp = direct_sp(level);
	u64 spte = 0;

	cr_assert_not_null(sp);
	cr_assert_not(make_spte(vcpu, sp, acc, 0x1234, 0x5678, 0, prefetch,
				true, true, &spte));
	return spte;
}

static bool has(unsigned int acc, unsigned int m)
{
	return acc & m;
}

Test(spte, legacy_every_access_value)
{
	unsigned int acc;
	int level;

	for (int nx = 0; nx < 2; nx++) {
		kvm->nx_huge_pages = nx;
		for (level = 1; level <= 2; level++) {
			for (acc = 0; acc <= ACC_ALL; acc++) {
				u64 s = leaf(level, acc, false);
				bool exec = has(acc, ACC_EXEC_MASK) &&
					    !(nx && level > 1);
				/*
				 * shadow_present_mask = P for legacy/NPT in both
				 * layouts (virt_kvm_kvm @4e6f3b85 spte.c): the
				 * ACC_READ -> P rule only matters for EPT.
				 */
				cr_assert(s & B(0), "acc %x P", acc);
				cr_assert_eq(!!(s & B(1)), has(acc, ACC_WRITE_MASK),
					     "acc %x W", acc);
				cr_assert_eq(!!(s & B(2)), has(acc, ACC_USER_MASK),
					     "acc %x U", acc);
				cr_assert_eq(!!(s & B(63)), !exec, "acc %x l%d nx%d NX",
					     acc, level, nx);
				cr_assert_eq(!!(s & B(7)), level > 1, "PS");
				cr_assert(s & B(5), "A set when not prefetched");
				cr_assert_eq(!!(s & B(6)), has(acc, ACC_WRITE_MASK),
					     "D only with W");
				cr_assert(s & B(11), "MMU-present");
				cr_assert_eq(spte_to_pfn(s), 0x5678ull);
				cr_assert(is_shadow_present_pte(s));
				cr_assert(is_last_spte(s, level));
			}
		}
	}
}

Test(spte, ept_every_access_value)
{
	unsigned int acc;
	int level;

	kvm_mmu_set_ept_masks(&kvm->masks, true, true);
	for (int nx = 0; nx < 2; nx++) {
		kvm->nx_huge_pages = nx;
		for (level = 1; level <= 2; level++) {
			for (acc = 0; acc <= ACC_ALL; acc++) {
				u64 s = leaf(level, acc, false);
				bool huge_nx = nx && level > 1;

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
				cr_assert_eq(!!(s & B(0)), has(acc, ACC_READ_MASK),
					     "acc %x R", acc);
				/* 0032: XS from ACC_EXEC, XU from ACC_USER_EXEC */
				cr_assert_eq(!!(s & B(2)),
					     has(acc, ACC_EXEC_MASK) && !huge_nx,
					     "acc %x l%d XS", acc, level);
				cr_assert_eq(!!(s & B(10)),
					     has(acc, ACC_USER_EXEC_MASK) && !huge_nx,
					     "acc %x l%d XU", acc, level);
#else
				/* ACC_USER doubles as "readable"; exec-only CPU */
				cr_assert_eq(!!(s & B(0)), has(acc, ACC_USER_MASK),
					     "acc %x R", acc);
				cr_assert_eq(!!(s & B(2)),
					     has(acc, ACC_EXEC_MASK) && !huge_nx,
					     "acc %x X", acc);
				cr_assert_not(s & B(10), "bit 10 unused pre-series");
#endif
				cr_assert_eq(!!(s & B(1)), has(acc, ACC_WRITE_MASK));
				cr_assert(s & B(63), "suppress #VE");
				cr_assert_eq((s >> 3) & 7, 6ull, "WB memtype");
				cr_assert(s & B(6), "IPAT");
				cr_assert(s & B(8), "EPT A");
				cr_assert_eq(!!(s & B(9)), has(acc, ACC_WRITE_MASK));
				cr_assert_eq(!!(s & B(7)), level > 1);
			}
		}
	}
}

#if TDP_ACC_LAYOUT == TDP_LAYOUT_OLD
Test(spte, ept_old_layout_without_exec_only_sets_r)
{
	/* shadow_present_mask gets R when the CPU lacks exec-only */
	kvm_mmu_set_ept_masks(&kvm->masks, true, false);
	cr_assert(leaf(1, ACC_EXEC_MASK, false) & B(0));
}
#endif

Test(spte, nonleaf_has_full_rights)
{
	u64 s = make_nonleaf_spte(&kvm->masks, 0x5000, false);

	/* P|W|U|A, executable (NX clear), MMU-present, the table address */
	cr_assert_eq(s, B(0) | B(1) | B(2) | B(5) | B(11) | 0x5000);
	cr_assert_not(is_last_spte(s, 2));

	kvm_mmu_set_ept_masks(&kvm->masks, true, true);
	s = make_nonleaf_spte(&kvm->masks, 0x5000, false);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	cr_assert_eq(s, B(0) | B(1) | B(2) | B(10) | B(8) | B(11) | B(63) | 0x5000);
#else
	/* R comes from shadow_user_mask; no XU */
	cr_assert_eq(s, B(0) | B(1) | B(2) | B(8) | B(11) | B(63) | 0x5000);
#endif
}

Test(spte, prefetch_leaves_accessed_clear)
{
	u64 s = leaf(1, ACC_ALL, true);

	cr_assert_not(s & B(5));
	kvm_mmu_set_ept_masks(&kvm->masks, true, true);
	s = leaf(1, ACC_ALL, true);
	cr_assert_not(s & B(8));
}

Test(spte, access_track_without_ad_saves_rights)
{
	struct kvm_mmu_page *sp;
	union kvm_mmu_page_role role = {0};
	u64 s = 0;

	kvm_mmu_set_ept_masks(&kvm->masks, false, true);
	role.level = 1;
	role.direct = 1;
	role.ad_disabled = 1;
	role.access = ACC_ALL;
	sp = kvm_mmu_get_shadow_page(vcpu, 0, role);
	cr_assert_not_null(sp);
	make_spte(vcpu, sp, ACC_ALL, 1, 1, 0, true, true, true, &s);
	/* RWX cleared; R and X saved (new: R 52, X 54, XU 62; old: 54, 56) */
	cr_assert_eq(s & 7, 0ull);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	cr_assert_eq(s & (B(52) | B(54) | B(62)), B(52) | B(54) | B(62));
	cr_assert_not(s & B(10));
	cr_assert_eq(s & (3ull << 60), 1ull << 60, "A/D disabled type");
#else
	cr_assert_eq(s & (B(54) | B(56)), B(54) | B(56));
	cr_assert_eq(s & (3ull << 52), 1ull << 52, "A/D disabled type");
#endif
}

Test(spte, host_pfn_rule_and_table_hpas_never_collide)
{
	/* guest frame g is host frame g + 2^24; tables are below 2^23 */
	cr_assert_eq(kvm_gfn_to_host_pfn(0), 1ull << 24);
	cr_assert_eq(kvm_gfn_to_host_pfn(0x1234), (1ull << 24) + 0x1234);
	cr_assert_lt((u64)TDP_SP_POOL_MAX + 1, kvm_gfn_to_host_pfn(0));
}

Test(spte, writable_software_bits)
{
	u64 s = leaf(1, ACC_ALL, false);

	/*
	 * Non-EPT SPTEs keep host-/MMU-writable in bits 9/10 in both layouts:
	 * 0023 moves them to 53/55 "EPT only", since bits 62:52 are reserved
	 * in PAE paging (pve-kernel patches/kernel/0023-*, spte.h comment)
	 */
	cr_assert_eq(s & (B(9) | B(10)), B(9) | B(10));
	cr_assert_not(s & GENMASK_ULL(62, 52), "no high software bit: %#llx",
		      (unsigned long long)s);
	kvm_mmu_set_ept_masks(&kvm->masks, true, true);
	s = leaf(1, ACC_ALL, false);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	/* EPT, series: host-writable 53, MMU-writable 55 (bit 10 is XU) */
	cr_assert_eq(s & (B(53) | B(55)), B(53) | B(55));
#else
	cr_assert_eq(s & (B(57) | B(58)), B(57) | B(58));
#endif
	/* !host_writable drops W and the host-writable bit */
	cr_assert_not(make_spte(vcpu, direct_sp(1), ACC_ALL, 1, 1, 0, false,
				true, false, &s));
	cr_assert_not(s & B(1));
}
