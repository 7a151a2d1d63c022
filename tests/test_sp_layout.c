// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow-page machinery (src/mmu/mmu_page.c) against KVM's documented
 * rules (arch/x86/kvm/mmu/mmu.c, kvm-x86/linux @8cd6d6724eae; summarized
 * in shared/reference/kvm-mmu-facts.md §3 and §5).  Each test names the
 * rule its expected values come from.  The invariant checker runs after
 * every step (CHECK()).
 *
 * Guest-side callbacks (get_guest_pgd, get_pdptr, sync_spte) are stubs
 * here, so these tests depend on no walker.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>

#include "../src/mmu/mmu_page.h"

static struct kvm *kvm;
static struct kvm_vcpu *vcpu;

/* stub state */
static u64 stub_pdptrs[4];
static int sync_calls;
static int sync_last_index;
static int sync_zap_index = -1;

static unsigned long stub_get_guest_pgd(struct kvm_vcpu *v)
{
	return v->arch.cr3;
}

static u64 stub_get_pdptr(struct kvm_vcpu *v, int index)
{
	(void)v;
	return stub_pdptrs[index];
}

/* FNAME(sync_spte) stand-in: <0 asks for the SPTE to be zapped. */
static int stub_sync_spte(struct kvm_vcpu *v, struct kvm_mmu_page *sp, int i)
{
	(void)v;
	(void)sp;
	sync_calls++;
	sync_last_index = i;
	return i == sync_zap_index ? -1 : 0;
}

#define CHECK()								\
	do {								\
		const char *_e = kvm_mmu_check_invariants(kvm);		\
		cr_assert_null(_e, "invariant: %s", _e ? _e : "");	\
	} while (0)

/* A 64-bit guest shadowed with 4-level tables (kvm_init_shadow_mmu). */
static void set_mode(int guest_level, int shadow_level)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;
	union kvm_mmu_page_role role = {0};

	role.level = guest_level;
	role.has_4_byte_gpte = guest_level == PT32_ROOT_LEVEL;
	role.access = ACC_ALL;
	role.efer_nx = 1;
	role.cr0_wp = 1;
	mmu->cpu_role.base = role;
	mmu->cpu_role.ext.valid = 1;
	role.level = shadow_level;
	mmu->root_role = role;
	vcpu->arch.cr4 = guest_level >= PT32E_ROOT_LEVEL ? X86_CR4_PAE : 0;
}

static void setup(void)
{
	kvm = calloc(1, sizeof(*kvm));
	vcpu = calloc(1, sizeof(*vcpu));
	cr_assert(kvm && vcpu);
	kvm_mmu_init_vm(kvm, 1 << 20);
	cr_assert_eq(kvm_mmu_create(kvm, vcpu), 0);
	vcpu->arch.root_mmu.get_guest_pgd = stub_get_guest_pgd;
	vcpu->arch.root_mmu.get_pdptr = stub_get_pdptr;
	vcpu->arch.root_mmu.sync_spte = stub_sync_spte;
	set_mode(PT64_ROOT_4LEVEL, PT64_ROOT_4LEVEL);
	memset(stub_pdptrs, 0, sizeof(stub_pdptrs));
	sync_calls = 0;
	sync_zap_index = -1;
}

static void teardown(void)
{
	kvm_mmu_uninit_vm(kvm);
	free(kvm);
	free(vcpu);
}

TestSuite(sp, .init = setup, .fini = teardown);

static union kvm_mmu_page_role role_at(int level, bool direct)
{
	union kvm_mmu_page_role r = vcpu->arch.root_mmu.root_role;

	r.level = level;
	r.direct = direct;
	return r;
}

static struct kvm_mmu_page *get(gfn_t gfn, int level, bool direct)
{
	struct kvm_mmu_page *sp = kvm_mmu_get_shadow_page(vcpu, gfn,
							   role_at(level, direct));

	cr_assert_not_null(sp);
	return sp;
}

/* Link a new indirect child for @gfn under parent->spt[idx]. */
static struct kvm_mmu_page *child(struct kvm_mmu_page *parent, int idx,
				  gfn_t gfn, bool direct)
{
	bool exists;
	struct kvm_mmu_page *c = kvm_mmu_get_child_sp(vcpu, &parent->spt[idx],
						      gfn, direct, ACC_ALL,
						      &exists);

	cr_assert_not_null(c);
	link_shadow_page(vcpu, &parent->spt[idx], c);
	return c;
}

/* ---- hash ---- */

Test(sp, hash_is_golden_ratio_hash_64)
{
	/* include/linux/hash.h: (val * GOLDEN_RATIO_64) >> (64 - bits) */
	static const u64 gfns[] = { 0, 1, 0x1234, 0xfffff, 1ull << 39 };

	for (size_t i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++)
		cr_assert_eq(kvm_page_table_hashfn(gfns[i]),
			     (u32)((gfns[i] * 0x61C8864680B583EBull) >> 52));
	cr_assert_eq(KVM_NUM_MMU_PAGES, 4096);
}

Test(sp, create_then_find_same_page)
{
	struct kvm_mmu_page *a = get(0x100, 1, false);

	/* rule: match iff gfn and the whole role word are equal */
	cr_assert_eq(get(0x100, 1, false), a);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 1ul);
	cr_assert_eq(kvm->stats.sp_created[0][0], 1ull);
	cr_assert_eq(kvm->stats.sp_hash_hits, 1ull);
	cr_assert_eq(kvm_mmu_sp_hpa(a), ((hpa_t)a->index + 1) << 12);
	cr_assert_eq(to_shadow_page(kvm, kvm_mmu_sp_hpa(a)), a);
	cr_assert_eq(sptep_to_sp(&a->spt[77]), a);
	CHECK();
}

Test(sp, role_mismatch_creates_second_page)
{
	union kvm_mmu_page_role r = role_at(1, false);
	struct kvm_mmu_page *a = get(0x100, 1, false), *b;

	r.access = ACC_WRITE_MASK;
	cr_assert_null(kvm_mmu_find_shadow_page(kvm, vcpu, 0x100, r));
	b = kvm_mmu_get_shadow_page(vcpu, 0x100, r);
	cr_assert_not_null(b);
	cr_assert_neq(a, b);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 2ul);
	/* both shadow gfn 0x100: two indirect pages counted */
	cr_assert_eq(kvm->arch.indirect_shadow_pages, 2u);
	CHECK();
}

Test(sp, hash_collision_keeps_gfns_apart)
{
	gfn_t g1 = 1, g2;
	struct kvm_mmu_page *a, *b;

	for (g2 = 2; kvm_page_table_hashfn(g2) != kvm_page_table_hashfn(g1); g2++)
		;
	a = get(g1, 1, true);
	b = get(g2, 1, true);
	cr_assert_neq(a, b);
	cr_assert_eq(get(g1, 1, true), a);
	cr_assert_eq(get(g2, 1, true), b);
	/* b was added at the head, so looking up g1 passes b: a collision */
	cr_assert_geq(kvm->stats.sp_hash_collisions, 1ull);
	CHECK();
}

/* ---- child roles and quadrants ---- */

Test(sp, child_role_quadrant_for_4_byte_gptes)
{
	struct kvm_mmu_page *pd;
	union kvm_mmu_page_role r;
	int i;

	set_mode(PT32_ROOT_LEVEL, PT32E_ROOT_LEVEL);
	r = role_at(2, false);
	r.quadrant = 3;		/* root for the 4th GiB */
	pd = kvm_mmu_get_shadow_page(vcpu, 0x10, r);
	cr_assert_not_null(pd);
	/*
	 * kvm_mmu_child_role(): a 4-byte PT covers 4 MiB, an 8-byte one
	 * 2 MiB; the low bit of the PDE index picks the half.
	 */
	for (i = 0; i < 512; i++) {
		union kvm_mmu_page_role c = kvm_mmu_child_role(&pd->spt[i], false,
							       ACC_WRITE_MASK);

		cr_assert_eq(c.quadrant, (unsigned)(i & 1), "index %d", i);
		cr_assert_eq(c.level, 1u);
		cr_assert_eq(c.access, (unsigned)ACC_WRITE_MASK);
		cr_assert(c.has_4_byte_gpte);
		cr_assert_not(c.direct);
		cr_assert_not(c.passthrough);
	}
	CHECK();
}

Test(sp, child_role_8_byte_keeps_quadrant_zero)
{
	struct kvm_mmu_page *p = get(0x10, 3, false);
	int i;

	for (i = 0; i < 512; i++) {
		union kvm_mmu_page_role c = kvm_mmu_child_role(&p->spt[i], true, ACC_ALL);

		cr_assert_eq(c.quadrant, 0u);
		cr_assert_eq(c.level, 2u);
		cr_assert(c.direct);
	}
}

/* ---- link / unlink ---- */

Test(sp, link_sets_parent_rmap_and_zap_clears_it)
{
	struct kvm_mmu_page *root = get(0x10, 4, false);
	struct kvm_mmu_page *c = child(root, 3, 0x20, false);
	bool exists;
	u64 spte = root->spt[3];

	cr_assert(is_shadow_present_pte(spte));
	cr_assert_not(is_last_spte(spte, 4));
	cr_assert_eq(spte_to_child_sp(kvm, spte), c);
	cr_assert(rmap_contains(&c->parent_ptes, &root->spt[3]));
	cr_assert_eq(pte_list_count(&c->parent_ptes), 1u);
	/* -EEXIST when the SPTE already points to a table */
	cr_assert_null(kvm_mmu_get_child_sp(vcpu, &root->spt[3], 0x20, false,
					    ACC_ALL, &exists));
	cr_assert(exists);
	CHECK();

	struct list_head inv;

	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, c, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	cr_assert_eq(root->spt[3], 0ull);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 1ul);
	CHECK();
}

Test(sp, many_parents_use_desc_chains)
{
	struct kvm_mmu_page *root = get(0x10, 4, false);
	struct kvm_mmu_page *c = child(root, 0, 0x20, false);
	struct list_head inv;
	int i;

	/* 40 parents: more than two 14-entry pte_list_descs */
	for (i = 1; i < 40; i++)
		link_shadow_page(vcpu, &root->spt[i], c);
	cr_assert_eq(pte_list_count(&c->parent_ptes), 40u);
	for (i = 0; i < 40; i++)
		cr_assert(rmap_contains(&c->parent_ptes, &root->spt[i]));
	CHECK();

	/* dropping the child clears every parent SPTE */
	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, c, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	for (i = 0; i < 40; i++)
		cr_assert_eq(root->spt[i], 0ull);
	CHECK();
}

Test(sp, link_over_large_spte_drops_it)
{
	struct kvm_mmu_page *l2 = get(0x10, 2, false);
	struct kvm_mmu_page *c;

	/* a 2M leaf for gfn 0x200 at index 1 */
	cr_assert_eq(mmu_set_spte(vcpu, &l2->spt[1], ACC_ALL, 0x200,
				  kvm_gfn_to_host_pfn(0x200), false, false, true),
		     RET_PF_FIXED);
	cr_assert(is_large_pte(l2->spt[1]));
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x200, 2)), 1u);
	CHECK();
	c = child(l2, 1, 0x200, true);
	cr_assert_not(is_large_pte(l2->spt[1]));
	cr_assert_eq(spte_to_child_sp(kvm, l2->spt[1]), c);
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x200, 2)), 0u);
	CHECK();
}

/* ---- write protection ---- */

Test(sp, shadowing_a_gfn_write_protects_its_sptes)
{
	struct kvm_mmu_page *d = get(0x400, 1, true);
	gfn_t g = 0x405;

	cr_assert_eq(mmu_set_spte(vcpu, &d->spt[5], ACC_ALL, g,
				  kvm_gfn_to_host_pfn(g), false, true, true),
		     RET_PF_FIXED);
	cr_assert(is_writable_pte(d->spt[5]));
	cr_assert(is_mmu_writable_spte(&kvm->masks, d->spt[5]));
	CHECK();

	/*
	 * account_shadowed(), 4K page: huge pages covering g are disallowed
	 * and SPTEs mapping g lose W and MMU-writable.
	 */
	get(g, 1, false);
	cr_assert_not(is_writable_pte(d->spt[5]));
	cr_assert_not(is_mmu_writable_spte(&kvm->masks, d->spt[5]));
	cr_assert_eq(kvm_lpage_disallowed(kvm, g, 2), 1);
	cr_assert_eq(kvm_lpage_disallowed(kvm, g, 3), 1);
	cr_assert_eq(kvm_lpage_disallowed(kvm, g + 512, 2), 0);
	cr_assert_not(kvm_gfn_is_write_tracked(kvm, g), "4K pages can go unsync");
	CHECK();
}

Test(sp, upper_level_page_write_tracks_gfn)
{
	struct kvm_mmu_page *d = get(0x800, 1, true), *u;
	struct list_head inv;
	gfn_t h = 0x803;

	u = get(h, 2, false);
	cr_assert(kvm_gfn_is_write_tracked(kvm, h));
	/*
	 * mmu_try_to_unsync_pages(): tracked gfn -> -EPERM -> read-only, and
	 * mmu_set_spte() says so for the write fault (6.12+)
	 */
	cr_assert_eq(mmu_set_spte(vcpu, &d->spt[3], ACC_ALL, h,
				  kvm_gfn_to_host_pfn(h), false, true, true),
		     RET_PF_WRITE_PROTECTED);
	cr_assert_not(is_writable_pte(d->spt[3]));
	cr_assert(is_shadow_present_pte(d->spt[3]));
	CHECK();

	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, u, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	cr_assert_not(kvm_gfn_is_write_tracked(kvm, h));
	cr_assert_eq(kvm_lpage_disallowed(kvm, h, 2), 0);
	cr_assert_eq(kvm->arch.indirect_shadow_pages, 0u);
	CHECK();
}

Test(sp, write_protect_walks_every_rmap_desc)
{
	struct kvm_mmu_page *d[2];
	int i;

	d[0] = get(0x500, 1, false);
	d[1] = get(0x501, 1, false);
	/* 40 writable mappings of gfn 0x777: three pte_list_descs */
	for (i = 0; i < 40; i++)
		mmu_set_spte(vcpu, &d[i % 2]->spt[i], ACC_ALL, 0x777,
			     kvm_gfn_to_host_pfn(0x777), false, true, true);
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x777, 1)), 40u);
	for (i = 0; i < 40; i++)
		cr_assert(is_writable_pte(d[i % 2]->spt[i]));
	CHECK();
	get(0x777, 2, false);	/* write-tracks 0x777 */
	for (i = 0; i < 40; i++)
		cr_assert_not(is_writable_pte(d[i % 2]->spt[i]), "mapping %d", i);
	CHECK();
	/* removal from the middle of the chain keeps the rest findable */
	for (i = 0; i < 40; i += 3)
		drop_spte(kvm, &d[i % 2]->spt[i]);
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x777, 1)), 26u);
	CHECK();
}

/* ---- unsync and sync ---- */

struct chain {
	struct kvm_mmu_page *root, *l3, *l2, *l1, *data;
};

/* root(4) -[1]-> l3 -[2]-> l2 -[3]-> l1 (gfn 0x50), loaded as the root */
static struct chain build_chain(void)
{
	struct chain c;

	vcpu->arch.cr3 = 0x10 << 12;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	c.root = to_shadow_page(kvm, vcpu->arch.root_mmu.root.hpa);
	cr_assert_not_null(c.root);
	cr_assert_eq(c.root->gfn, 0x10ull);
	c.l3 = child(c.root, 1, 0x30, false);
	c.l2 = child(c.l3, 2, 0x40, false);
	c.l1 = child(c.l2, 3, 0x50, false);
	/* another guest PT (gfn 0x1000) whose SPTEs will map gfn 0x50 */
	c.data = get(0x1000, 1, false);
	return c;
}

Test(sp, unsync_marks_parents_then_sync_roots_clears)
{
	struct chain c = build_chain();
	int i;

	/* three leaves in l1 so sync_spte is called three times */
	for (i = 7; i < 10; i++)
		mmu_set_spte(vcpu, &c.l1->spt[i], ACC_ALL & ~ACC_WRITE_MASK,
			     0x2000 + i, kvm_gfn_to_host_pfn(0x2000 + i),
			     false, false, true);
	CHECK();

	/* writable mapping of gfn 0x50 -> kvm_unsync_page(l1) */
	cr_assert_eq(mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
				  kvm_gfn_to_host_pfn(0x50), false, true, true),
		     RET_PF_FIXED);
	/* mark_unsync(): one bit per level up to the root */
	cr_assert(c.l1->unsync);
	cr_assert(is_writable_pte(c.data->spt[1]));
	cr_assert_eq(c.l2->unsync_children, 1u);
	cr_assert(c.l2->unsync_child_bitmap[0] & (1ull << 3));
	cr_assert_eq(c.l3->unsync_children, 1u);
	cr_assert(c.l3->unsync_child_bitmap[0] & (1ull << 2));
	cr_assert_eq(c.root->unsync_children, 1u);
	cr_assert(c.root->unsync_child_bitmap[0] & (1ull << 1));
	cr_assert_eq(kvm->stats.unsync, 1ull);
	cr_assert_eq(kvm->stats.unsync_live, 1ull);
	CHECK();

	/* mmu_sync_children(): write-protect, then sync_spte per SPTE */
	kvm_mmu_sync_roots(vcpu);
	cr_assert_eq(sync_calls, 3, "once per non-zero SPTE");
	cr_assert_not(c.l1->unsync);
	for (i = 7; i < 10; i++)
		cr_assert(is_shadow_present_pte(c.l1->spt[i]));
	cr_assert_eq(c.root->unsync_children, 0u);
	cr_assert_eq(c.l3->unsync_children, 0u);
	cr_assert_eq(c.l2->unsync_children, 0u);
	cr_assert_not(is_writable_pte(c.data->spt[1]), "gfn 0x50 is RO again");
	cr_assert_eq(kvm->stats.unsync_live, 0ull);
	cr_assert_eq(kvm->stats.sync, 1ull);
	CHECK();
}

Test(sp, failed_sync_zaps_the_page)
{
	struct chain c = build_chain();
	unsigned long used;
	int i;

	for (i = 7; i < 10; i++)
		mmu_set_spte(vcpu, &c.l1->spt[i], ACC_ALL & ~ACC_WRITE_MASK,
			     0x2000 + i, kvm_gfn_to_host_pfn(0x2000 + i),
			     false, false, true);
	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	used = kvm->arch.n_used_mmu_pages;
	/*
	 * __kvm_sync_page(): sync_spte() == -1 is ORed into the result, the
	 * loop still visits every SPTE, then the page is zapped.
	 */
	sync_zap_index = 8;
	kvm_mmu_sync_roots(vcpu);
	cr_assert_eq(sync_calls, 3);
	cr_assert_eq(kvm->stats.sync_zapped, 1ull);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, used - 1);
	cr_assert_eq(c.l2->spt[3], 0ull);
	cr_assert_eq(c.root->unsync_children, 0u);
	cr_assert_eq(c.l2->unsync_children, 0u);
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x2008, 1)), 0u);
	CHECK();
}

Test(sp, prefetch_does_not_unsync)
{
	struct chain c = build_chain();

	/* mmu_try_to_unsync_pages(): prefetch -> -EEXIST -> read-only */
	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), true, false, true);
	cr_assert_not(c.l1->unsync);
	cr_assert_not(is_writable_pte(c.data->spt[1]));
	CHECK();
}

Test(sp, upper_level_page_for_gfn_zaps_unsync_page)
{
	struct chain c = build_chain();

	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	cr_assert(c.l1->unsync);
	/* kvm_mmu_find_shadow_page(): creating a level>4K page for gfn 0x50 */
	get(0x50, 2, false);
	cr_assert_eq(c.l2->spt[3], 0ull, "the unsync page was zapped");
	cr_assert(kvm_gfn_is_write_tracked(kvm, 0x50));
	cr_assert_not(is_writable_pte(c.data->spt[1]));
	CHECK();
}

Test(sp, invlpg_resyncs_one_spte_on_the_path)
{
	struct chain c = build_chain();
	/* gva whose indices are 1/2/3/9 at levels 4/3/2/1 */
	gva_t gva = (1ull << 39) | (2ull << 30) | (3ull << 21) | (9ull << 12);

	vcpu->arch.walk_mmu = vcpu->arch.mmu = &vcpu->arch.root_mmu;
	mmu_set_spte(vcpu, &c.l1->spt[9], ACC_ALL & ~ACC_WRITE_MASK, 0x3000,
		     kvm_gfn_to_host_pfn(0x3000), false, false, true);
	mmu_set_spte(vcpu, &c.l1->spt[10], ACC_ALL & ~ACC_WRITE_MASK, 0x3001,
		     kvm_gfn_to_host_pfn(0x3001), false, false, true);
	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	cr_assert(c.l1->unsync);

	sync_zap_index = 9;
	kvm_mmu_invlpg(vcpu, gva);
	/* __kvm_mmu_invalidate_addr(): only the SPTE for gva, in unsync SPs */
	cr_assert_eq(sync_calls, 1);
	cr_assert_eq(sync_last_index, 9);
	cr_assert_eq(c.l1->spt[9], 0ull);
	cr_assert(is_shadow_present_pte(c.l1->spt[10]));
	cr_assert(c.l1->unsync, "INVLPG does not mark the page synced");
	CHECK();

	/* non-canonical: a no-op */
	kvm_mmu_invlpg(vcpu, 1ull << 50);
	cr_assert_eq(sync_calls, 1);
}

/* ---- emulated writes ---- */

Test(sp, flooding_zaps_upper_level_page_on_third_write)
{
	struct kvm_mmu_page *u = get(0x60, 2, false);
	struct kvm_mmu_page *l1 = get(0x61, 1, false);
	int i;

	/* detect_write_flooding(): ++count >= 3, level > 4K only */
	cr_assert_eq(kvm_mmu_track_write(vcpu, 0x60ull << 12, 0, 8), 0);
	cr_assert_eq(kvm_mmu_track_write(vcpu, 0x60ull << 12, 0, 8), 0);
	cr_assert_not(u->role.invalid);
	cr_assert_eq(kvm_mmu_track_write(vcpu, 0x60ull << 12, 0, 8), 1);
	cr_assert_null(kvm_mmu_find_shadow_page(kvm, vcpu, 0x60, role_at(2, false)));
	cr_assert_eq(kvm->stats.flooding_zaps, 1ull);
	CHECK();

	for (i = 0; i < 5; i++)
		cr_assert_eq(kvm_mmu_track_write(vcpu, 0x61ull << 12, 0, 8), 0);
	cr_assert_eq(kvm_mmu_find_shadow_page(kvm, vcpu, 0x61, role_at(1, false)), l1);
	CHECK();
}

Test(sp, write_to_gpte_zaps_the_matching_spte)
{
	struct kvm_mmu_page *l1 = get(0x61, 1, false);

	mmu_set_spte(vcpu, &l1->spt[3], ACC_ALL & ~ACC_WRITE_MASK, 0x3000,
		     kvm_gfn_to_host_pfn(0x3000), false, false, true);
	mmu_set_spte(vcpu, &l1->spt[4], ACC_ALL & ~ACC_WRITE_MASK, 0x3001,
		     kvm_gfn_to_host_pfn(0x3001), false, false, true);
	/* get_written_sptes(): offset 24 / 8 bytes per gPTE = index 3 */
	kvm_mmu_track_write(vcpu, (0x61ull << 12) + 24, 0, 8);
	cr_assert_eq(l1->spt[3], 0ull);
	cr_assert(is_shadow_present_pte(l1->spt[4]));
	cr_assert_eq(kvm->stats.pte_updated, 1ull);
	CHECK();
}

Test(sp, misaligned_writes_zap)
{
	struct kvm_mmu_page *l1;

	/* detect_write_misaligned(): 1-byte write at a gPTE start is fine */
	l1 = get(0x70, 1, false);
	kvm_mmu_track_write(vcpu, 0x70ull << 12, 0, 1);
	cr_assert_not(l1->role.invalid);
	/* fewer than 4 bytes elsewhere: misaligned */
	kvm_mmu_track_write(vcpu, (0x70ull << 12) + 2, 0, 2);
	cr_assert(l1->role.invalid);
	cr_assert_eq(kvm->stats.misaligned_zaps, 1ull);
	CHECK();

	/* 8 bytes straddling two gPTEs (offset 4) */
	l1 = get(0x71, 1, false);
	kvm_mmu_track_write(vcpu, (0x71ull << 12) + 4, 0, 8);
	cr_assert_eq(kvm->stats.misaligned_zaps, 2ull);
	CHECK();

	/* PAE guest: a 4-byte half-gPTE write is widened, so it is aligned */
	l1 = get(0x72, 1, false);
	kvm_mmu_track_write(vcpu, (0x72ull << 12) + 4, 0, 4);
	cr_assert_eq(kvm->stats.misaligned_zaps, 2ull);
	cr_assert_eq(kvm_mmu_find_shadow_page(kvm, vcpu, 0x72, role_at(1, false)), l1);
	CHECK();
}

Test(sp, four_byte_gpte_writes_hit_their_quadrant)
{
	union kvm_mmu_page_role r;
	struct kvm_mmu_page *q0, *q1, *pd1;

	set_mode(PT32_ROOT_LEVEL, PT32E_ROOT_LEVEL);
	r = role_at(1, false);
	r.quadrant = 0;
	q0 = kvm_mmu_get_shadow_page(vcpu, 0x80, r);
	r.quadrant = 1;
	q1 = kvm_mmu_get_shadow_page(vcpu, 0x80, r);
	mmu_set_spte(vcpu, &q0->spt[2], ACC_ALL & ~ACC_WRITE_MASK, 0x3000,
		     kvm_gfn_to_host_pfn(0x3000), false, false, true);
	mmu_set_spte(vcpu, &q1->spt[2], ACC_ALL & ~ACC_WRITE_MASK, 0x3001,
		     kvm_gfn_to_host_pfn(0x3001), false, false, true);
	/*
	 * gPTE 514 (offset 0x808): 8-byte offset 0x1010, i.e. quadrant 1,
	 * index 2.  Only q1 is affected.
	 */
	kvm_mmu_track_write(vcpu, (0x80ull << 12) + 0x808, 0, 4);
	cr_assert_eq(q1->spt[2], 0ull);
	cr_assert(is_shadow_present_pte(q0->spt[2]));
	CHECK();

	/*
	 * PT32 root level: a 4 MiB PDE is two 2 MiB shadow PDEs.  PDE 257
	 * (offset 0x404) -> 0x808 -> 0x1010: quadrant 1, indices 2 and 3.
	 */
	r = role_at(2, false);
	r.quadrant = 1;
	pd1 = kvm_mmu_get_shadow_page(vcpu, 0x90, r);
	mmu_set_spte(vcpu, &pd1->spt[2], ACC_ALL & ~ACC_WRITE_MASK, 0x4000,
		     kvm_gfn_to_host_pfn(0x4000), false, false, true);
	mmu_set_spte(vcpu, &pd1->spt[3], ACC_ALL & ~ACC_WRITE_MASK, 0x4200,
		     kvm_gfn_to_host_pfn(0x4200), false, false, true);
	mmu_set_spte(vcpu, &pd1->spt[4], ACC_ALL & ~ACC_WRITE_MASK, 0x4400,
		     kvm_gfn_to_host_pfn(0x4400), false, false, true);
	kvm_mmu_track_write(vcpu, (0x90ull << 12) + 0x404, 0, 4);
	cr_assert_eq(pd1->spt[2], 0ull);
	cr_assert_eq(pd1->spt[3], 0ull);
	cr_assert(is_shadow_present_pte(pd1->spt[4]));
	CHECK();
}

/* ---- zapping rules ---- */

Test(sp, zapping_a_live_root_defers_the_free)
{
	struct chain c = build_chain();

	vcpu->requests = 0;
	/*
	 * __kvm_mmu_prepare_zap_page(): a root with root_count stays
	 * allocated (and counted), leaves active_mmu_pages, turns invalid,
	 * and every vCPU is asked to free obsolete roots.  Nothing went to
	 * the invalid list, so __kvm_mmu_unprotect_gfn_and_retry()'s
	 * snapshot (!list_empty) says nothing was zapped.
	 */
	cr_assert_not(kvm_mmu_unprotect_page(kvm, 0x10));
	cr_assert(c.root->role.invalid);
	cr_assert_eq(c.root->root_count, 1);
	cr_assert(vcpu->requests & (1ull << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS));
	cr_assert_eq(c.root->spt[1], 0ull, "children unlinked");
	CHECK();
	unsigned long used = kvm->arch.n_used_mmu_pages;

	kvm_mmu_free_obsolete_roots(vcpu);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, used - 1);
	cr_assert_eq(vcpu->arch.root_mmu.root.hpa, INVALID_PAGE);
	CHECK();
}

Test(sp, zapping_a_parent_zaps_its_unsync_children)
{
	struct chain c = build_chain();
	unsigned long used;
	struct list_head inv;

	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	cr_assert(c.l1->unsync);
	used = kvm->arch.n_used_mmu_pages;
	/* mmu_zap_unsync_children() runs first: l2 and l1 both go */
	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, c.l2, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, used - 2);
	cr_assert_null(kvm_mmu_find_shadow_page(kvm, vcpu, 0x50, role_at(1, false)));
	cr_assert_eq(c.l3->spt[2], 0ull);
	CHECK();
}

Test(sp, synced_children_survive_parent_zap)
{
	struct chain c = build_chain();
	unsigned long used = kvm->arch.n_used_mmu_pages;
	struct list_head inv;

	/* l1 is in sync: only unlinked, it stays cached (no nested TDP) */
	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, c.l2, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, used - 1);
	cr_assert_eq(kvm_mmu_find_shadow_page(kvm, vcpu, 0x50, role_at(1, false)), c.l1);
	cr_assert_eq(c.l1->parent_ptes.val, 0ul);
	CHECK();
}

Test(sp, nested_tdp_parentless_children_are_zapped)
{
	struct chain c;
	unsigned long used;
	struct list_head inv;

	/* mmu_page_zap_pte(): tdp_enabled, guest_mode child, no parents */
	kvm->tdp_enabled = true;
	vcpu->arch.root_mmu.root_role.guest_mode = 1;
	vcpu->arch.root_mmu.cpu_role.base.guest_mode = 1;
	c = build_chain();
	used = kvm->arch.n_used_mmu_pages;
	INIT_LIST_HEAD(&inv);
	kvm_mmu_prepare_zap_page(kvm, c.l2, &inv);
	kvm_mmu_commit_zap_page(kvm, &inv);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, used - 2);
	cr_assert_null(kvm_mmu_find_shadow_page(kvm, vcpu, 0x50, c.l1->role));
	CHECK();
}

Test(sp, lookup_syncs_an_unsync_page_without_marking_it_synced)
{
	struct chain c = build_chain();

	mmu_set_spte(vcpu, &c.l1->spt[4], ACC_ALL & ~ACC_WRITE_MASK, 0x3000,
		     kvm_gfn_to_host_pfn(0x3000), false, false, true);
	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	cr_assert(c.l1->unsync);
	c.l1->write_flooding_count = 2;
	/*
	 * kvm_mmu_find_shadow_page(): an exact unsync match is re-read with
	 * kvm_sync_page() but stays unsync (and the gfn writable) until the
	 * guest flushes its TLB; the flood count is reset.
	 */
	cr_assert_eq(get(0x50, 1, false), c.l1);
	cr_assert_eq(sync_calls, 1);
	cr_assert(c.l1->unsync);
	cr_assert(is_writable_pte(c.data->spt[1]));
	cr_assert_eq(c.l1->write_flooding_count, 0);
	CHECK();
}

/* ---- page limit ---- */

Test(sp, oldest_pages_go_first_and_roots_stay)
{
	struct kvm_mmu_page *root, *p[62];
	int i;

	kvm_mmu_change_mmu_pages(kvm, 64);
	root = get(0x10, 4, true);
	root->root_count++;
	for (i = 1; i <= 61; i++)
		p[i] = get((gfn_t)i << 9, 1, true);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 62ul);
	CHECK();

	/*
	 * make_mmu_pages_available(): avail 2 < KVM_MIN_FREE_MMU_PAGES (5),
	 * zap KVM_REFILL_PAGES (25) - 2 = 23 pages from the tail of
	 * active_mmu_pages (oldest first), skipping the root.
	 */
	cr_assert_eq(make_mmu_pages_available(vcpu), 0);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 39ul);
	for (i = 1; i <= 61; i++) {
		struct kvm_mmu_page *f =
			kvm_mmu_find_shadow_page(kvm, vcpu, (gfn_t)i << 9,
						 role_at(1, true));

		if (i <= 23)
			cr_assert_null(f, "page %d is among the 23 oldest", i);
		else
			cr_assert_eq(f, p[i], "page %d survives", i);
	}
	cr_assert_eq(kvm_mmu_find_shadow_page(kvm, vcpu, 0x10, role_at(4, true)), root);
	CHECK();
	root->root_count--;
}

Test(sp, nothing_to_free_is_nospc)
{
	struct kvm_mmu_page *r[3];
	int i;

	kvm_mmu_change_mmu_pages(kvm, 3);
	for (i = 0; i < 3; i++) {
		r[i] = get(0x100 + (gfn_t)i * 512, 4, true);
		r[i]->root_count++;
	}
	cr_assert_eq(make_mmu_pages_available(vcpu), TDP_E_NOSPC);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 3ul);
	CHECK();
	for (i = 0; i < 3; i++)
		r[i]->root_count--;
}

Test(sp, change_mmu_pages_and_default_limit)
{
	int i;

	/* max(pages / 50, 64) */
	cr_assert_eq(kvm_mmu_calculate_default_mmu_pages(kvm), (1ul << 20) / 50);
	kvm->n_memslot_pages = 1000;
	cr_assert_eq(kvm_mmu_calculate_default_mmu_pages(kvm), 64ul);

	for (i = 0; i < 10; i++)
		get((gfn_t)i << 9, 1, true);
	kvm_mmu_change_mmu_pages(kvm, 4);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 4ul);
	cr_assert_eq(kvm->arch.n_max_mmu_pages, 4ul);
	/* the four newest survive */
	for (i = 6; i < 10; i++)
		cr_assert_not_null(kvm_mmu_find_shadow_page(kvm, vcpu, (gfn_t)i << 9,
							    role_at(1, true)));
	CHECK();
}

/* ---- zap_all_fast ---- */

Test(sp, zap_all_fast_obsoletes_everything)
{
	struct chain c = build_chain();
	hpa_t root_hpa = vcpu->arch.root_mmu.root.hpa;

	(void)c;
	vcpu->requests = 0;
	kvm_mmu_zap_all_fast(kvm);
	/* only the in-use root survives, invalid and off the active list */
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 1ul);
	cr_assert(c.root->role.invalid);
	cr_assert(list_empty(&kvm->arch.active_mmu_pages));
	cr_assert(vcpu->requests & (1ull << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS));
	cr_assert_null(kvm_mmu_find_shadow_page(kvm, vcpu, 0x30, role_at(3, false)));
	CHECK();

	kvm_mmu_free_obsolete_roots(vcpu);
	cr_assert_eq(vcpu->arch.root_mmu.root.hpa, INVALID_PAGE);
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 0ul);
	cr_assert_null(kvm_mmu_hpa_to_table(kvm, root_hpa));
	CHECK();

	/* a fresh root after reload lives in the new generation */
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	cr_assert_eq(to_shadow_page(kvm, vcpu->arch.root_mmu.root.hpa)->mmu_valid_gen,
		     kvm->arch.mmu_valid_gen);
	CHECK();
}

/* ---- prev_roots ---- */

static void load_pgd(gfn_t g)
{
	vcpu->arch.cr3 = g << 12;
	kvm_mmu_new_pgd(vcpu, g << 12);
	if (!VALID_PAGE(vcpu->arch.root_mmu.root.hpa))
		cr_assert_eq(kvm_mmu_load(vcpu), 0);
	cr_assert_eq(vcpu->arch.root_mmu.root.pgd, g << 12);
}

static gfn_t pgd_of(struct kvm_mmu_root_info *r)
{
	return VALID_PAGE(r->hpa) ? r->pgd >> 12 : 0;
}

Test(sp, prev_roots_rotation_hits_and_misses)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;

	vcpu->arch.cr3 = 0xa << 12;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	/*
	 * cached_root_find_and_keep_current(): swapping current with
	 * prev[0..2] in turn rotates "C 0 1 2" into "3 C 0 1 2"; the old
	 * current becomes prev[0] (MRU) and a miss frees the LRU entry.
	 */
	load_pgd(0xb);				/* miss: C=b [a - -] */
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0xaull);
	load_pgd(0xc);				/* miss: C=c [b a -] */
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0xbull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[1]), 0xaull);
	cr_assert_eq(kvm->stats.prev_roots_misses, 2ull);

	load_pgd(0xa);				/* hit: C=a [c b -] */
	cr_assert_eq(kvm->stats.prev_roots_hits, 1ull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0xcull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[1]), 0xbull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[2]), 0ull);
	cr_assert(vcpu->requests & (1ull << KVM_REQ_LOAD_MMU_PGD));
	CHECK();

	load_pgd(0xd);				/* miss: C=d [a c b] */
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0xaull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[1]), 0xcull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[2]), 0xbull);

	struct kvm_mmu_page *b = to_shadow_page(kvm, mmu->prev_roots[2].hpa);

	load_pgd(0xe);				/* miss, b (LRU) freed */
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0xdull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[1]), 0xaull);
	cr_assert_eq(pgd_of(&mmu->prev_roots[2]), 0xcull);
	cr_assert_eq(b->root_count, 0, "dropped, kept as a valid page");
	cr_assert_eq(kvm->stats.prev_roots_misses, 4ull);
	cr_assert_eq(kvm->stats.root_allocs, 5ull);
	CHECK();
}

Test(sp, prev_root_with_other_role_is_not_usable)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;

	vcpu->arch.cr3 = 0xa << 12;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	load_pgd(0xb);
	/* is_root_usable(): the role word must match too */
	mmu->root_role.cr0_wp = 0;
	kvm_mmu_new_pgd(vcpu, 0xa << 12);
	cr_assert_eq(kvm->stats.prev_roots_hits, 0ull);
	cr_assert_eq(mmu->root.hpa, INVALID_PAGE);
	mmu->root_role.cr0_wp = 1;
	CHECK();
}

Test(sp, sync_prev_roots_frees_unsync_ones)
{
	struct chain c = build_chain();
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;

	mmu_set_spte(vcpu, &c.data->spt[1], ACC_ALL, 0x50,
		     kvm_gfn_to_host_pfn(0x50), false, true, true);
	load_pgd(0x11);
	cr_assert_eq(pgd_of(&mmu->prev_roots[0]), 0x10ull);
	kvm_mmu_sync_prev_roots(vcpu);
	cr_assert_eq(mmu->prev_roots[0].hpa, INVALID_PAGE);
	CHECK();
}

/* ---- PAE roots ---- */

Test(sp, pae_guest_gets_one_root_per_present_pdpte)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;
	struct kvm_mmu_page *sp;
	struct kvm_shadow_walk_iterator it;
	int i;

	set_mode(PT32E_ROOT_LEVEL, PT32E_ROOT_LEVEL);
	vcpu->arch.cr3 = 0x5000;
	stub_pdptrs[0] = (0x10ull << 12) | 1;
	stub_pdptrs[1] = 0x11ull << 12;		/* not present */
	stub_pdptrs[2] = (0x12ull << 12) | 1;
	stub_pdptrs[3] = (0x13ull << 12) | 1;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	cr_assert_not_null(mmu->pae_root);
	cr_assert_eq(mmu->pae_root[1], (u64)INVALID_PAE_ROOT);
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		sp = spte_to_child_sp(kvm, mmu->pae_root[i]);
		cr_assert_not_null(sp);
		cr_assert_eq(mmu->pae_root[i] & 0xfff, PT_PRESENT_MASK);
		cr_assert_eq(sp->gfn, 0x10ull + i);
		cr_assert_eq(sp->role.level, 2u);
		cr_assert_eq(sp->role.quadrant, 0u);
		cr_assert_eq(sp->root_count, 1);
	}
	cr_assert_eq(kvm_mmu_hpa_to_table(kvm, mmu->root.hpa), mmu->pae_root);
	cr_assert_null(to_shadow_page(kvm, mmu->root.hpa), "PAE root has no SP");
	cr_assert_eq(kvm->stats.root_allocs, 3ull);
	CHECK();

	/* the shadow walk starts at pae_root[(addr >> 30) & 3], level 2 */
	shadow_walk_init_using_root(&it, vcpu, mmu->root.hpa, 2ull << 30);
	cr_assert(shadow_walk_okay(&it, kvm));
	cr_assert_eq(it.level, 2);
	cr_assert_eq(sptep_to_sp(it.sptep), spte_to_child_sp(kvm, mmu->pae_root[2]));
	shadow_walk_init_using_root(&it, vcpu, mmu->root.hpa, 1ull << 30);
	cr_assert_not(shadow_walk_okay(&it, kvm), "no root for quarter 1");

	/* PAE roots are never cached: a pgd switch frees them */
	sp = spte_to_child_sp(kvm, mmu->pae_root[0]);
	kvm_mmu_new_pgd(vcpu, 0x6000);
	cr_assert_eq(mmu->root.hpa, INVALID_PAGE);
	cr_assert_eq(mmu->pae_root[0], (u64)INVALID_PAE_ROOT);
	cr_assert_eq(sp->root_count, 0);
	CHECK();
}

Test(sp, two_level_guest_uses_four_quadrants)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;
	int i, j;

	set_mode(PT32_ROOT_LEVEL, PT32E_ROOT_LEVEL);
	vcpu->arch.cr3 = 0x7000;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	/* one guest PD, four shadow PDs: quadrant i covers GiB i */
	for (i = 0; i < 4; i++) {
		struct kvm_mmu_page *sp = spte_to_child_sp(kvm, mmu->pae_root[i]);

		cr_assert_eq(sp->gfn, 7ull);
		cr_assert_eq(sp->role.quadrant, (unsigned)i);
		cr_assert(sp->role.has_4_byte_gpte);
		for (j = 0; j < i; j++)
			cr_assert_neq(sp, spte_to_child_sp(kvm, mmu->pae_root[j]));
	}
	/* four upper-level pages at gfn 7: tracked */
	cr_assert(kvm_gfn_is_write_tracked(kvm, 7));
	CHECK();
	kvm_mmu_unload(vcpu);
	cr_assert_eq(mmu->root.hpa, INVALID_PAGE);
	CHECK();
}

Test(sp, pae_guest_under_4_level_shadow_wraps_in_pml4)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;

	set_mode(PT32E_ROOT_LEVEL, PT64_ROOT_4LEVEL);
	vcpu->arch.cr3 = 0x5000;
	stub_pdptrs[0] = (0x10ull << 12) | 1;
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	cr_assert_not_null(mmu->pml4_root);
	cr_assert_eq(kvm_mmu_hpa_to_table(kvm, mmu->root.hpa), mmu->pml4_root);
	/* pml4_root[0] = pae_root | P|W|U|A */
	cr_assert_eq(mmu->pml4_root[0] & 0xfff,
		     PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK |
		     PT_ACCESSED_MASK);
	cr_assert_eq(kvm_mmu_hpa_to_table(kvm, mmu->pml4_root[0]), mmu->pae_root);
	cr_assert_eq(mmu->pae_root[0] & 0xfff,
		     PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK |
		     PT_ACCESSED_MASK);
	CHECK();
}

Test(sp, nonpaging_guest_gets_four_direct_pae_roots)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;
	int i;

	/* CR0.PG=0 under shadow paging: direct role, level max(0, 3) */
	mmu->cpu_role.base.level = 0;
	mmu->cpu_role.base.direct = 1;
	mmu->root_role = role_at(PT32E_ROOT_LEVEL, true);
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	/* mmu_alloc_direct_roots(): PAE root i maps GiB i, gfn i << 18 */
	for (i = 0; i < 4; i++) {
		struct kvm_mmu_page *sp = spte_to_child_sp(kvm, mmu->pae_root[i]);

		cr_assert_not_null(sp);
		cr_assert_eq(sp->gfn, (gfn_t)i << 18);
		cr_assert(sp->role.direct);
		cr_assert_eq(sp->role.level, 2u);
		cr_assert_eq(sp->root_count, 1);
	}
	cr_assert_eq(kvm->arch.indirect_shadow_pages, 0u);
	CHECK();
	kvm_mmu_unload(vcpu);
	for (i = 0; i < 4; i++)
		cr_assert_eq(mmu->pae_root[i], (u64)INVALID_PAE_ROOT);
	CHECK();
}

Test(sp, invisible_root_gfn_gets_dummy_root)
{
	vcpu->arch.cr3 = (u64)(2 << 20) << 12;	/* beyond the memslot */
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	cr_assert(kvm_mmu_is_dummy_root(vcpu->arch.root_mmu.root.hpa));
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 0ul);
	kvm_mmu_unload(vcpu);
	CHECK();
}

Test(sp, direct_roots_for_tdp)
{
	struct kvm_mmu *mmu = &vcpu->arch.root_mmu;
	struct kvm_mmu_page *r;

	mmu->root_role = role_at(4, true);
	cr_assert_eq(kvm_mmu_load(vcpu), 0);
	r = to_shadow_page(kvm, mmu->root.hpa);
	cr_assert_not_null(r);
	cr_assert(r->role.direct);
	cr_assert_eq(r->gfn, 0ull);
	cr_assert_eq(kvm->arch.indirect_shadow_pages, 0u, "direct: no gptes");
	/* any pgd is usable for a direct root */
	kvm_mmu_new_pgd(vcpu, 0x1234000);
	cr_assert_eq(kvm->stats.prev_roots_hits, 1ull);
	cr_assert_eq(mmu->root.hpa, kvm_mmu_sp_hpa(r));
	CHECK();
}

/* ---- unprotect and rmap recycling ---- */

Test(sp, unprotect_zaps_all_pages_of_the_gfn)
{
	union kvm_mmu_page_role r = role_at(1, false);

	get(0x99, 1, false);
	r.access = ACC_WRITE_MASK;
	cr_assert_not_null(kvm_mmu_get_shadow_page(vcpu, 0x99, r));
	get(0x99, 1, true);	/* direct pages have no gptes: kept */
	cr_assert(kvm_mmu_unprotect_page(kvm, 0x99));
	cr_assert_eq(kvm->arch.n_used_mmu_pages, 1ul);
	cr_assert_not(kvm_mmu_unprotect_page(kvm, 0x99));
	CHECK();
}

Test(sp, rmap_recycles_past_threshold)
{
	struct kvm_mmu_page *d[3];
	int i, n = 0;

	for (i = 0; i < 3; i++)
		d[i] = get(0x10000 + (gfn_t)i * 512, 1, false);
	/*
	 * rmap_add(): when a gfn already has more than
	 * RMAP_RECYCLE_THRESHOLD (1000) mappings, all of them are zapped.
	 */
	for (i = 0; i <= 1001; i++) {
		u64 *sptep = &d[i / 512]->spt[i % 512];

		mmu_set_spte(vcpu, sptep, ACC_ALL & ~ACC_WRITE_MASK, 0x77,
			     kvm_gfn_to_host_pfn(0x77), false, false, true);
	}
	cr_assert_eq(kvm->stats.rmap_recycles, 1ull);
	for (i = 0; i <= 1001; i++)
		n += is_shadow_present_pte(d[i / 512]->spt[i % 512]);
	cr_assert_eq(n, 0, "the 1002nd add zapped all 1002 mappings");
	cr_assert_eq(pte_list_count(gfn_to_rmap(kvm, 0x77, 1)), 0u);
}

/* ---- the checker itself ---- */

Test(sp, invariant_checker_catches_corruption)
{
	struct chain c = build_chain();
	u64 saved;

	CHECK();
	c.l2->unsync_children++;
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	c.l2->unsync_children--;
	CHECK();

	/* a page on the hash but on neither list */
	list_del(&c.l3->link);
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	list_add(&c.l3->link, &kvm->arch.active_mmu_pages);
	CHECK();

	kvm->stats.unsync_live++;
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	kvm->stats.unsync_live--;

	/* a table SPTE the child does not know about */
	saved = c.l3->spt[7];
	c.l3->spt[7] = c.l3->spt[2];
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	c.l3->spt[7] = saved;
	CHECK();

	kvm->arch.n_used_mmu_pages++;
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	kvm->arch.n_used_mmu_pages--;

	/* a writable SPTE for a shadowed, synced gfn */
	mmu_set_spte(vcpu, &c.data->spt[2], ACC_ALL & ~ACC_WRITE_MASK, 0x40,
		     kvm_gfn_to_host_pfn(0x40), false, false, true);
	CHECK();
	c.data->spt[2] |= PT_WRITABLE_MASK;
	cr_assert_not_null(kvm_mmu_check_invariants(kvm));
	c.data->spt[2] &= ~PT_WRITABLE_MASK;
	CHECK();

	/*
	 * gfn 0x40's rmap record lives in the slot's level-1 array: the
	 * checker finds it there (the count mismatch would only come later)
	 */
	saved = c.data->spt[2];
	c.data->spt[2] = 0;
	cr_assert_str_eq(kvm_mmu_check_invariants(kvm), "rmap entry is not a present SPTE");
	c.data->spt[2] = saved;
	CHECK();
}

/* ---- replay --check between full checks (src/mmu/check.c) ---- */

/*
 * One event's check.  No guest memory in this suite: the vCPU is made to
 * look like TDP for the call, so only the structural rules run.
 */
static const char *check_event(void)
{
	struct tdp_event ev = { .kind = TDP_EV_MARK };
	bool tdp = vcpu->tdp_enabled;
	const char *why;

	vcpu->tdp_enabled = true;
	why = kvm_mmu_check_event(kvm, vcpu, &ev);
	vcpu->tdp_enabled = tdp;
	return why;
}

Test(sp, incremental_check_catches_corruption_of_what_the_event_touched)
{
	struct chain c;
	u64 saved;

	cr_assert_eq(kvm_mmu_check_init(kvm, 1000), 0);
	c = build_chain();
	cr_assert_null(check_event());

	/* each injection of invariant_checker_catches_corruption, on an
	 * object the port's hooks recorded during the "event" */
	kvm_chk_sp(kvm, c.l2);
	c.l2->unsync_children++;
	cr_assert_not_null(check_event());
	c.l2->unsync_children--;
	cr_assert_null(check_event());

	kvm_chk_sp(kvm, c.l3);
	list_del(&c.l3->link);
	cr_assert_not_null(check_event());
	list_add(&c.l3->link, &kvm->arch.active_mmu_pages);
	cr_assert_null(check_event());

	saved = c.l3->spt[7];
	c.l3->spt[7] = c.l3->spt[2];
	kvm_chk_spte(kvm, &c.l3->spt[7]);
	cr_assert_not_null(check_event());
	c.l3->spt[7] = saved;
	cr_assert_null(check_event());

	/* a writable SPTE for a shadowed, synced gfn, stored by the port */
	mmu_set_spte(vcpu, &c.data->spt[2], ACC_ALL & ~ACC_WRITE_MASK, 0x40,
		     kvm_gfn_to_host_pfn(0x40), false, false, true);
	cr_assert_null(check_event());
	mmu_set_spte(vcpu, &c.data->spt[3], ACC_ALL & ~ACC_WRITE_MASK, 0x40,
		     kvm_gfn_to_host_pfn(0x40), false, false, true);
	c.data->spt[3] |= PT_WRITABLE_MASK;	/* after the hook: corruption */
	cr_assert_not_null(check_event());
	c.data->spt[3] &= ~PT_WRITABLE_MASK;
	cr_assert_null(check_event());
	CHECK();
}

Test(sp, incremental_check_leaves_untouched_corruption_to_the_periodic_full_check)
{
	struct chain c;

	cr_assert_eq(kvm_mmu_check_init(kvm, 4), 0);
	c = build_chain();
	cr_assert_null(check_event());	/* 1 */
	/* behind the hooks' back: no event touches l2 */
	c.l2->unsync_children++;
	cr_assert_null(check_event());	/* 2 */
	cr_assert_null(check_event());	/* 3 */
	cr_assert_not_null(check_event(), "the 4th event runs the full check");
	c.l2->unsync_children--;
	/* census counters are the full check's alone */
	kvm->arch.n_used_mmu_pages++;
	cr_assert_not_null(kvm_mmu_check_full(kvm, vcpu));
	kvm->arch.n_used_mmu_pages--;
	cr_assert_null(kvm_mmu_check_full(kvm, vcpu));
}

Test(sp, check_log_overflow_falls_back_to_the_full_check)
{
	struct chain c;

	cr_assert_eq(kvm_mmu_check_init(kvm, 1000000), 0);
	c = build_chain();
	cr_assert_null(check_event());
	c.l2->unsync_children++;	/* untouched */
	for (int i = 0; i < KVM_CHECK_LOG_MAX + 1; i++)
		kvm_chk_spte(kvm, &c.root->spt[i % 2 ? 300 : 301]);
	cr_assert_not_null(check_event());
	c.l2->unsync_children--;
}
