// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest walker (paging_tmpl.h) on hand-built page tables, for every
 * non-nested paging mode: 32-bit (+PSE 4M, PSE-36), PAE with PDPTEs,
 * 4-level, 5-level; huge pages; reserved bits per level; not-present per
 * level; A/D updates; PKRU key; the I/D error-code rule; memslot holes and
 * self-referencing tables.  Expected values come from the SDM rules, stated
 * next to each assertion, and an exhaustive 4-level sweep is compared with
 * the CPU model (src/hw), written from the SDM independently of the port.
 *
 * Built once per ACC layout; the expected pte_access is spelled with ACC_*
 * names from the layout's meaning of each bit (kvm-mmu-facts §2.1).
 */
#include <criterion/criterion.h>
#include <string.h>

#include <tdpsim/gmem.h>

#include "mmu/paging.h"
#include "helpers/pt_builder.h"
#include "helpers/hw_util.h"

#define MEM_SIZE	(64ull << 20)
#define TABLE_BASE	0x100000ull
#define TABLE_LIMIT	0x800000ull

#define CR0_PG		(X86_CR0_PG | X86_CR0_PE)
#define CR0_PG_WP	(X86_CR0_PG | X86_CR0_PE | X86_CR0_WP)
#define EFER_LONG	(EFER_LME | EFER_LMA)

/* The ACC bits a walk grants: new layout has READ (always set by a
 * present paging entry); EXEC is "NX clear" in both layouts. */
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define ACC_R	ACC_READ_MASK
#else
#define ACC_R	0
#endif
static unsigned pacc(bool w, bool u, bool x)
{
	return ACC_R | (w ? ACC_WRITE_MASK : 0) | (u ? ACC_USER_MASK : 0) |
	       (x ? ACC_EXEC_MASK : 0);
}

struct env {
	struct kvm_vcpu v;
	struct tdp_gmem *gm;
	struct pt_builder b;
	uint64_t root;
};

static void env_init(struct env *e, unsigned long cr0, unsigned long cr4,
		     u64 efer)
{
	memset(e, 0, sizeof(*e));
	cr_assert_eq(tdp_gmem_create(&e->gm, MEM_SIZE), 0);
	ptb_init(&e->b, e->gm, TABLE_BASE, TABLE_LIMIT);
	e->v.gmem = e->gm;
	e->v.vendor = KVM_VENDOR_INTEL;
	e->v.maxphyaddr = 46;
	e->v.arch.cr0 = cr0;
	e->v.arch.cr4 = cr4;
	e->v.arch.efer = efer;
	e->root = ptb_table(&e->b);
	e->v.arch.cr3 = e->root;
	kvm_init_mmu(&e->v);
	cr_assert_eq(e->v.arch.walk_mmu, &e->v.arch.root_mmu);
}

static void env_fini(struct env *e)
{
	tdp_gmem_destroy(e->gm);
}

static struct kvm_mmu *mmu_of(struct env *e)
{
	return e->v.arch.walk_mmu;
}

/* mmu->gva_to_gpa as KVM's callers use it */
static gpa_t xlate(struct env *e, u64 gva, u64 access, struct x86_exception *ex)
{
	memset(ex, 0, sizeof(*ex));
	return mmu_of(e)->gva_to_gpa(&e->v, mmu_of(e), gva, access, ex);
}

static int walk64(struct env *e, u64 gva, u64 access, struct guest_walker64 *w)
{
	memset(w, 0, sizeof(*w));
	return paging64_walk_addr_generic(w, &e->v, mmu_of(e), gva, access);
}

/* 4-level paging, long mode, NX, WP. */
static void env_4level(struct env *e)
{
	env_init(e, CR0_PG_WP, X86_CR4_PAE, EFER_LONG | EFER_NX);
	cr_assert_eq(mmu_of(e)->gva_to_gpa, paging64_gva_to_gpa);
}

#define UPPER	(PTB_P | PTB_W | PTB_U)

Test(walk, four_level_4k_read_then_write_sets_a_then_d)
{
	struct env e;
	struct guest_walker64 w;
	struct x86_exception ex;
	const u64 gva = 0x00007f1234567abcull;
	u64 leaf;

	env_4level(&e);
	leaf = ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva, 1, 0x2345000,
		       UPPER, PTB_P | PTB_W | PTB_U);

	/* a read: gfn from the PTE, A set on all four levels, D untouched */
	cr_assert_eq(walk64(&e, gva, PFERR_USER_MASK, &w), 1);
	cr_expect_eq(w.gfn, 0x2345);
	cr_expect_eq(w.level, 1);
	cr_expect_eq(w.max_level, 4);
	/* protect_clean_gpte: a clean leaf is mapped read-only on a read */
	cr_expect_eq(w.pte_access, pacc(false, true, true));
	for (int l = 4; l >= 1; l--) {
		u64 pte = ptb_read64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root,
							 4, gva, l));
		cr_expect(pte & PTB_A, "A at level %d", l);
		cr_expect(!(pte & PTB_D), "no D at level %d on a read", l);
		cr_expect_eq(w.ptes[l - 1], pte, "walker saw the updated gPTE");
	}
	/* the walker records where each gPTE lives */
	cr_expect_eq(w.pte_gpa[0], leaf);
	cr_expect_eq(w.table_gfn[3], e.root >> 12);

	/* a write: D on the leaf only, and W is granted */
	cr_assert_eq(walk64(&e, gva, PFERR_WRITE_MASK | PFERR_USER_MASK, &w), 1);
	cr_expect_eq(w.pte_access, pacc(true, true, true));
	cr_expect(ptb_read64(&e.b, leaf) & PTB_D);
	for (int l = 4; l >= 2; l--)
		cr_expect(!(ptb_read64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root,
							  4, gva, l)) & PTB_D),
			  "D only on the leaf (level %d)", l);

	/* gva_to_gpa keeps the page offset */
	cr_expect_eq(xlate(&e, gva, 0, &ex), 0x2345abc);
	env_fini(&e);
}

/* Access rights are the AND over the levels (NX: the OR), SDM 4.6. */
Test(walk, rights_accumulate_over_levels)
{
	struct env e;
	struct guest_walker64 w;
	const u64 gva = 0x40201000;

	env_4level(&e);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva, 1, 0x7000,
		PTB_P | PTB_W | PTB_U | PTB_A, PTB_P | PTB_W | PTB_U | PTB_A | PTB_D);
	/* PDPTE: not user; PDE: NX */
	ptb_write64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, 3),
		    ptb_read64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, 3)) & ~PTB_U);
	ptb_write64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, 2),
		    ptb_read64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, 2)) | PTB_NX);

	cr_assert_eq(walk64(&e, gva, 0, &w), 1);
	cr_expect_eq(w.pte_access, pacc(true, false, false));
	/* pt_access[l-1]: rights accumulated above level l */
	cr_expect_eq(w.pt_access[3], pacc(true, true, true));
	cr_expect_eq(w.pt_access[2], pacc(true, true, true));
	cr_expect_eq(w.pt_access[1], pacc(true, false, true));
	cr_expect_eq(w.pt_access[0], pacc(true, false, false));

	/* user read -> protection fault P|U; fetch -> P|F (NX, EFER.NX=1) */
	cr_assert_eq(walk64(&e, gva, PFERR_USER_MASK, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_USER_MASK);
	cr_expect_eq(w.fault.vector, PF_VECTOR);
	cr_expect(w.fault.error_code_valid);
	cr_expect_eq(w.fault.address, gva);
	cr_expect(!w.fault.nested_page_fault);
	cr_assert_eq(walk64(&e, gva, PFERR_FETCH_MASK, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_FETCH_MASK);
	env_fini(&e);
}

Test(walk, five_level_4k)
{
	struct env e;
	struct guest_walker64 w;
	/* bits 56:48 select the PML5 entry: index 0x1ab */
	const u64 gva = 0x01ab123456789000ull | 0x123;
	u64 pml5e;

	env_init(&e, CR0_PG_WP, X86_CR4_PAE | X86_CR4_LA57, EFER_LONG | EFER_NX);
	cr_assert_eq(mmu_of(&e)->cpu_role.base.level, 5);
	ptb_map(&e.b, PTB_FMT_64, e.root, 5, gva, 1, 0x3000000, UPPER, UPPER);
	pml5e = e.root + 0x1ab * 8;
	cr_assert_neq(ptb_read64(&e.b, pml5e), 0, "the PML5 index is bits 56:48");

	cr_assert_eq(walk64(&e, gva, PFERR_WRITE_MASK, &w), 1);
	cr_expect_eq(w.gfn, 0x3000);
	cr_expect_eq(w.max_level, 5);
	cr_expect(ptb_read64(&e.b, pml5e) & PTB_A);
	/* a not-present PML5E: error code is just the access bits */
	ptb_write64(&e.b, pml5e, 0);
	cr_assert_eq(walk64(&e, gva, PFERR_WRITE_MASK, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_WRITE_MASK);
	/* PS in a PML5E is reserved */
	ptb_write64(&e.b, pml5e, ptb_table(&e.b) | UPPER | PTB_PS);
	cr_assert_eq(walk64(&e, gva, 0, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	env_fini(&e);
}

/* 1G and 2M pages: the gfn adds the address bits below the leaf level. */
Test(walk, huge_pages_1g_2m)
{
	struct env e;
	struct guest_walker64 w;
	const u64 gva1g = (5ull << 30) + 0x2345678;
	const u64 gva2m = (7ull << 30) + (3ull << 21) + 0x12345;

	env_4level(&e);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva1g, 3, 0x40000000,
		UPPER, UPPER | PTB_PS);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva2m, 2, 0x1600000,
		UPPER, UPPER | PTB_PS);

	cr_assert_eq(walk64(&e, gva1g, 0, &w), 1);
	cr_expect_eq(w.level, 3);
	cr_expect_eq(w.gfn, (0x40000000ull + 0x2345678) >> 12);
	cr_assert_eq(walk64(&e, gva2m, 0, &w), 1);
	cr_expect_eq(w.level, 2);
	cr_expect_eq(w.gfn, (0x1600000ull + 0x12345) >> 12);

	/* bits 20:13 of a 2M PDE and 29:13 of a 1G PDPTE are reserved */
	ptb_write64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva2m, 2),
		    0x1600000 | UPPER | PTB_PS | (1ull << 13));
	cr_assert_eq(walk64(&e, gva2m, 0, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	ptb_write64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva1g, 3),
		    0x40000000 | UPPER | PTB_PS | (1ull << 29));
	cr_assert_eq(walk64(&e, gva1g, 0, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	env_fini(&e);
}

/* Not present at each level: P=0 in the error code, W/U/F from the access;
 * A bits are not set by a failed walk. */
Test(walk, not_present_at_each_level)
{
	for (int lvl = 4; lvl >= 1; lvl--) {
		struct env e;
		struct guest_walker64 w;
		const u64 gva = 0x0000123456789000ull;
		u64 pte_gpa;

		env_4level(&e);
		ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva, 1, 0x5000, UPPER, UPPER);
		pte_gpa = ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, lvl);
		/* everything but P kept, so only presence decides */
		ptb_write64(&e.b, pte_gpa, ptb_read64(&e.b, pte_gpa) & ~PTB_P);

		cr_assert_eq(walk64(&e, gva, PFERR_WRITE_MASK | PFERR_USER_MASK, &w), 0);
		cr_expect_eq(w.fault.error_code, PFERR_WRITE_MASK | PFERR_USER_MASK,
			     "level %d", lvl);
		cr_expect_eq(w.fault.address, gva);
		for (int l = 4; l > lvl; l--)
			cr_expect(!(ptb_read64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64,
					e.root, 4, gva, l)) & PTB_A),
				  "no A at level %d after a failed walk", l);
		env_fini(&e);
	}
}

/* Reserved bits per level: an address bit above MAXPHYADDR (46) is
 * reserved everywhere; PS is reserved in a PML4E. */
Test(walk, reserved_bits_at_each_level)
{
	for (int lvl = 4; lvl >= 1; lvl--) {
		struct env e;
		struct guest_walker64 w;
		const u64 gva = 0x0000123456789000ull;
		u64 pte_gpa;

		env_4level(&e);
		ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva, 1, 0x5000, UPPER, UPPER);
		pte_gpa = ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, lvl);
		ptb_write64(&e.b, pte_gpa, ptb_read64(&e.b, pte_gpa) | (1ull << 50));
		cr_assert_eq(walk64(&e, gva, PFERR_FETCH_MASK, &w), 0);
		/* RSVD|P, plus F because EFER.NX=1 */
		cr_expect_eq(w.fault.error_code,
			     PFERR_PRESENT_MASK | PFERR_RSVD_MASK | PFERR_FETCH_MASK,
			     "level %d", lvl);
		/* bit 45 is below MAXPHYADDR: not reserved */
		ptb_write64(&e.b, pte_gpa, (ptb_read64(&e.b, pte_gpa) & ~(1ull << 50)));
		cr_expect_eq(walk64(&e, gva, 0, &w), 1, "level %d clean", lvl);
		env_fini(&e);
	}
	{
		struct env e;
		struct guest_walker64 w;

		env_4level(&e);
		ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0, 1, 0x5000, UPPER, UPPER);
		ptb_write64(&e.b, e.root, ptb_read64(&e.b, e.root) | PTB_PS);
		cr_assert_eq(walk64(&e, 0, 0, &w), 0);
		cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK,
			     "PS at PML4");
		env_fini(&e);
	}
}

/* With EFER.NX=0, bit 63 is reserved (not "no execute"), SDM 4.5. */
Test(walk, nx_without_efer_nx_is_reserved)
{
	struct env e;
	struct guest_walker64 w;

	env_init(&e, CR0_PG_WP, X86_CR4_PAE, EFER_LONG);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0x1000, 1, 0x5000, UPPER,
		UPPER | PTB_NX);
	cr_assert_eq(walk64(&e, 0x1000, PFERR_FETCH_MASK, &w), 0);
	/* RSVD|P; no F: neither EFER.NX nor CR4.SMEP */
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	env_fini(&e);
}

/* The I/D bit (PFERR_FETCH) is reported only with EFER.NXE or CR4.SMEP
 * (SDM 4.7), for not-present and reserved-bit faults alike. */
Test(walk, error_code_fetch_bit_rule)
{
	for (unsigned m = 0; m < 4; m++) {
		bool nxe = m & 1, smep = m & 2;
		struct env e;
		struct guest_walker64 w;
		u64 want_f = (nxe || smep) ? PFERR_FETCH_MASK : 0;

		env_init(&e, CR0_PG_WP, X86_CR4_PAE | (smep ? X86_CR4_SMEP : 0),
			 EFER_LONG | (nxe ? EFER_NX : 0));
		/* not present */
		cr_assert_eq(walk64(&e, 0x1000, PFERR_FETCH_MASK | PFERR_USER_MASK, &w), 0);
		cr_expect_eq(w.fault.error_code, PFERR_USER_MASK | want_f,
			     "nxe %d smep %d", nxe, smep);
		/* reserved (bit 50 in the PML4E) */
		ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0x1000, 1, 0x5000, UPPER, UPPER);
		ptb_write64(&e.b, e.root, ptb_read64(&e.b, e.root) | (1ull << 50));
		cr_assert_eq(walk64(&e, 0x1000, PFERR_FETCH_MASK, &w), 0);
		cr_expect_eq(w.fault.error_code,
			     PFERR_PRESENT_MASK | PFERR_RSVD_MASK | want_f,
			     "nxe %d smep %d", nxe, smep);
		env_fini(&e);
	}
}

/* Protection key: bits 62:59 of the leaf select 2 PKRU bits (AD, WD). */
Test(walk, pkru_key_extraction)
{
	for (unsigned k = 0; k < 16; k++) {
		struct env e;
		struct guest_walker64 w;

		env_init(&e, CR0_PG_WP, X86_CR4_PAE | X86_CR4_PKE, EFER_LONG | EFER_NX);
		/* access-disable for key k only */
		e.v.arch.pkru = 1u << (2 * k);
		for (unsigned j = 0; j < 16; j++)
			ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0x10000 + j * 0x1000, 1,
				0x5000, UPPER, UPPER | PTB_PKEY(j));
		for (unsigned j = 0; j < 16; j++) {
			int r = walk64(&e, 0x10000 + j * 0x1000, PFERR_USER_MASK, &w);

			if (j == k) {
				cr_assert_eq(r, 0, "key %u", j);
				cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK |
					     PFERR_USER_MASK | PFERR_PK_MASK);
			} else {
				cr_expect_eq(r, 1, "key %u vs AD on %u", j, k);
			}
		}
		env_fini(&e);
	}
}

/* PAE: the top level comes from the PDPTE registers, not from memory. */
Test(walk, pae_with_pdptes)
{
	struct env e;
	struct guest_walker64 w;
	const u64 gva = 0xc0a01234;	/* PDPTE 3, PDE 5, PTE 1 */
	const u64 gva2m = 0x40600000 | 0x54321;	/* PDPTE 1, 2M page */
	u64 pdpt;

	env_init(&e, CR0_PG_WP, X86_CR4_PAE, EFER_NX);
	cr_assert_eq(mmu_of(&e)->cpu_role.base.level, 3);
	pdpt = e.root;
	ptb_map(&e.b, PTB_FMT_64, pdpt, 3, gva, 1, 0x9000, PTB_P, UPPER);
	ptb_map(&e.b, PTB_FMT_64, pdpt, 3, gva2m, 2, 0x1e00000, PTB_P,
		UPPER | PTB_PS);
	for (int i = 0; i < 4; i++)
		mmu_of(&e)->pdptrs[i] = ptb_get(&e.b, PTB_FMT_64, pdpt, i);

	cr_assert_eq(walk64(&e, gva, 0, &w), 1);
	cr_expect_eq(w.gfn, 0x9);
	cr_expect_eq(w.max_level, 2, "the PDPTE is not a walked level");
	cr_assert_eq(walk64(&e, gva2m, 0, &w), 1);
	cr_expect_eq(w.level, 2);
	cr_expect_eq(w.gfn, (0x1e00000ull + 0x54321) >> 12);

	/* memory is not re-read: a stale register wins over the PDPT page */
	ptb_set(&e.b, PTB_FMT_64, pdpt, 3, 0);
	cr_expect_eq(walk64(&e, gva, 0, &w), 1);
	/* a not-present PDPTE register faults before any memory access */
	mmu_of(&e)->pdptrs[3] = 0;
	cr_assert_eq(walk64(&e, gva, PFERR_WRITE_MASK, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_WRITE_MASK);
	env_fini(&e);
}

static int walk32(struct env *e, u64 gva, u64 access, struct guest_walker32 *w)
{
	memset(w, 0, sizeof(*w));
	return paging32_walk_addr_generic(w, &e->v, mmu_of(e), gva, access);
}

Test(walk, two_level_32bit_4k_4m_pse36)
{
	struct env e;
	struct guest_walker32 w;
	const u64 gva = 0x80403abc;	/* PDE 0x201, PTE 3 */
	const u64 gva4m = 0x40000000 | 0x123456;	/* PDE 0x100 */
	u64 pde4m;

	env_init(&e, CR0_PG_WP, X86_CR4_PSE, 0);
	cr_assert_eq(mmu_of(&e)->gva_to_gpa, paging32_gva_to_gpa);
	ptb_map(&e.b, PTB_FMT_32, e.root, 2, gva, 1, 0x7000, UPPER, UPPER);
	cr_assert_eq(walk32(&e, gva, PFERR_WRITE_MASK, &w), 1);
	cr_expect_eq(w.gfn, 7);
	cr_expect_eq(w.level, 1);
	/* 32-bit entries are 4 bytes: A/D land in the right word */
	cr_expect_eq(ptb_read32(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_32, e.root, 2,
						    gva, 1)),
		     0x7000 | UPPER | PTB_A | PTB_D);
	cr_expect_eq(ptb_read32(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_32, e.root, 2,
						    gva, 1) + 4), 0,
		     "the neighbouring entry is untouched");

	/* 4M page: PA 31:22 from the PDE, 21:0 from the address */
	pde4m = ptb_map(&e.b, PTB_FMT_32, e.root, 2, gva4m, 2, 0x01c00000,
			UPPER, UPPER | PTB_PS);
	cr_assert_eq(walk32(&e, gva4m, 0, &w), 1);
	cr_expect_eq(w.level, 2);
	cr_expect_eq(w.gfn, (0x01c00000ull + 0x123456) >> 12);
	/* PSE-36: PDE bits 16:13 are PA bits 35:32 */
	tdp_gmem_write(e.gm, pde4m, 4, 0x01c00000 | UPPER | PTB_PS | (0x5u << 13));
	cr_assert_eq(walk32(&e, gva4m, 0, &w), 1);
	cr_expect_eq(w.gfn, ((5ull << 32) + 0x01c00000 + 0x123456) >> 12);
	/* bit 21 of a 4M PDE is reserved */
	tdp_gmem_write(e.gm, pde4m, 4, 0x01c00000 | UPPER | PTB_PS | (1u << 21));
	cr_assert_eq(walk32(&e, gva4m, 0, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_PRESENT_MASK | PFERR_RSVD_MASK);
	env_fini(&e);
}

/* CR4.PSE=0: PS in a PDE is ignored, the PDE points to a page table. */
Test(walk, two_level_without_pse_ignores_ps)
{
	struct env e;
	struct guest_walker32 w;
	const u64 gva = 0x00403000;
	u64 pt;

	env_init(&e, CR0_PG_WP, 0, 0);
	pt = ptb_table(&e.b);
	ptb_set(&e.b, PTB_FMT_32, e.root, 1, pt | UPPER | PTB_PS);
	ptb_set(&e.b, PTB_FMT_32, pt, 3, 0x8000 | UPPER);
	cr_assert_eq(walk32(&e, gva, 0, &w), 1);
	cr_expect_eq(w.level, 1);
	cr_expect_eq(w.gfn, 8);
	env_fini(&e);
}

/* CR0.PG=0: identity (KVM's nonpaging_gva_to_gpa). */
Test(walk, nonpaging_is_identity)
{
	struct env e;
	struct x86_exception ex;

	env_init(&e, X86_CR0_PE, 0, 0);
	cr_assert_eq(mmu_of(&e)->gva_to_gpa, nonpaging_gva_to_gpa);
	cr_expect_eq(xlate(&e, 0x12345678, PFERR_WRITE_MASK, &ex), 0x12345678);
	env_fini(&e);
}

/* A table outside the memslot: the walk fails like KVM's no-memslot path,
 * error code 0 plus the access bits (a not-present #PF). */
Test(walk, table_outside_memory_is_not_present)
{
	struct env e;
	struct guest_walker64 w;
	struct x86_exception ex;

	env_4level(&e);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0x1000, 1, 0x5000, UPPER, UPPER);
	ptb_write64(&e.b, ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, 0x1000, 2),
		    MEM_SIZE | UPPER);
	cr_assert_eq(walk64(&e, 0x1000, PFERR_WRITE_MASK, &w), 0);
	cr_expect_eq(w.fault.error_code, PFERR_WRITE_MASK);
	/* and via gva_to_gpa, with CR3 itself outside memory */
	e.v.arch.cr3 = 1ull << 40;
	cr_expect_eq(xlate(&e, 0x1000, 0, &ex), INVALID_GPA);
	cr_expect_eq(ex.error_code, 0);
	cr_expect_eq(ex.vector, PF_VECTOR);
	env_fini(&e);
}

/* PML4[0] points to the PML4 itself: the walk reads the same page four
 * times and ends at level 1 (bounded by levels), where the "leaf" is the
 * PML4E: gfn = the PML4's gfn.  Setting A changes the gPTE under the
 * other levels' feet (cmpxchg mismatch -> retry), which must terminate. */
Test(walk, self_referencing_table_terminates)
{
	struct env e;
	struct guest_walker64 w;

	env_4level(&e);
	ptb_write64(&e.b, e.root, e.root | UPPER);
	cr_assert_eq(walk64(&e, 0x123, PFERR_WRITE_MASK, &w), 1);
	cr_expect_eq(w.gfn, e.root >> 12);
	cr_expect_eq(ptb_read64(&e.b, e.root), e.root | UPPER | PTB_A | PTB_D);
	env_fini(&e);
}

/* Exhaustive 4-level sweep against the SDM oracle: leaf {P,W,U,NX} x PDE
 * {W,U,NX} x access {read,write,fetch} x CPL {0,3} x CR0.WP x EFER.NXE x
 * CR4.SMEP.  Fault or not, error code, GPA and the A/D bits afterwards
 * must agree. */

Test(walk, exhaustive_4level_matches_sdm_oracle, .timeout = 60)
{
	const u64 gva = 0x00007f0040201000ull + 0x88;
	static const u64 leaf_bits[4] = { PTB_P, PTB_W, PTB_U, PTB_NX };
	static const u64 pde_bits[3] = { PTB_W, PTB_U, PTB_NX };
	unsigned n = 0;

	for (unsigned cpu = 0; cpu < 8; cpu++) {
		bool wp = cpu & 1, nxe = cpu & 2, smep = cpu & 4;
		struct env e;
		u64 leaf_gpa, pde_gpa;
		struct hw_mem mem;
		struct hw_regs regs = { 0 };

		env_init(&e, wp ? CR0_PG_WP : CR0_PG,
			 X86_CR4_PAE | (smep ? X86_CR4_SMEP : 0),
			 EFER_LONG | (nxe ? EFER_NX : 0));
		leaf_gpa = ptb_map(&e.b, PTB_FMT_64, e.root, 4, gva, 1, 0x6000,
				   UPPER, 0);
		pde_gpa = ptb_entry_gpa(&e.b, PTB_FMT_64, e.root, 4, gva, 2);
		mem = hw_mem_gmem(e.gm, e.v.maxphyaddr);
		regs.cr0 = e.v.arch.cr0;
		regs.cr3 = e.root;
		regs.cr4 = e.v.arch.cr4;
		regs.efer = e.v.arch.efer;
		regs.maxphyaddr = e.v.maxphyaddr;
		regs.pse36 = true;

		for (unsigned lb = 0; lb < 16; lb++)
		for (unsigned pb = 0; pb < 8; pb++)
		for (unsigned op = 0; op < 3; op++)
		for (unsigned cpl3 = 0; cpl3 < 2; cpl3++) {
			u64 leaf = 0x6000, pde;
			struct hw_access ra = { .addr = gva, .cpl = cpl3 ? 3 : 0,
				.op = op == 0 ? TDP_OP_READ : op == 1 ? TDP_OP_WRITE : TDP_OP_FETCH };
			struct hw_result rr;
			struct x86_exception ex;
			u64 access = (cpl3 ? PFERR_USER_MASK : 0) |
				     (op == 1 ? PFERR_WRITE_MASK : 0) |
				     (op == 2 ? PFERR_FETCH_MASK : 0);
			u64 leaf_k, pde_k, leaf_o, pde_o;
			gpa_t gpa;

			for (unsigned i = 0; i < 4; i++)
				if (lb & (1u << i))
					leaf |= leaf_bits[i];
			pde = (ptb_read64(&e.b, pde_gpa) & 0x000ffffffffff000ull) | PTB_P;
			for (unsigned i = 0; i < 3; i++)
				if (pb & (1u << i))
					pde |= pde_bits[i];

			/* oracle first, on fresh entries */
			ptb_write64(&e.b, leaf_gpa, leaf);
			ptb_write64(&e.b, pde_gpa, pde);
			hw_walk1d(&mem, &regs, &ra, &rr);
			leaf_o = ptb_read64(&e.b, leaf_gpa);
			pde_o = ptb_read64(&e.b, pde_gpa);

			ptb_write64(&e.b, leaf_gpa, leaf);
			ptb_write64(&e.b, pde_gpa, pde);
			gpa = xlate(&e, gva, access, &ex);
			leaf_k = ptb_read64(&e.b, leaf_gpa);
			pde_k = ptb_read64(&e.b, pde_gpa);

			cr_assert_eq(gpa == INVALID_GPA, rr.kind != HW_OK,
				     "cpu %u leaf %#lx pde %#lx op %u cpl3 %u: fault %d vs oracle %d",
				     cpu, leaf, pde, op, cpl3, gpa == INVALID_GPA, rr.kind != HW_OK);
			if (rr.kind != HW_OK)
				cr_assert_eq(ex.error_code, rr.error_code,
					     "cpu %u leaf %#lx pde %#lx op %u cpl3 %u",
					     cpu, leaf, pde, op, cpl3);
			else
				cr_assert_eq(gpa, rr.gpa);
			cr_assert_eq(leaf_k & (PTB_A | PTB_D), leaf_o & (PTB_A | PTB_D),
				     "leaf A/D cpu %u leaf %#lx pde %#lx op %u", cpu,
				     leaf, pde, op);
			cr_assert_eq(pde_k & (PTB_A | PTB_D), pde_o & (PTB_A | PTB_D));
			n++;
		}
		env_fini(&e);
	}
	cr_expect_eq(n, 8 * 16 * 8 * 3 * 2);
}

/*
 * The same sweep for PAE (PDPTE registers) and 32-bit paging (4-byte
 * entries, no NX): leaf {P,W,U[,NX]} x PDE {W,U[,NX]} x access x CPL x
 * CR0.WP x EFER.NXE x CR4.SMEP, against the oracle.
 *
 * KVM divergence: with 32-bit paging, EFER.NXE=1 and CR4.SMEP=0, KVM
 * reports the I/D bit on fetch faults (kvm_calc_cpu_role() sets
 * role.efer_nx whatever CR4.PAE, and FNAME(walk_addr_generic) adds
 * PFERR_FETCH_MASK when is_efer_nx() || is_cr4_smep()); the CPU does not
 * (SDM 4.7: I/D needs CR4.SMEP, or CR4.PAE and EFER.NXE).  The port
 * follows KVM, so the expected code gets I/D added in that case.
 */
static void sweep_legacy(bool pae)
{
	const u64 gva = 0x40201000ull + 0x88;	/* PDPTE 1, PDE 1, PTE 1 (PAE) */
	const enum ptb_fmt fmt = pae ? PTB_FMT_64 : PTB_FMT_32;
	const unsigned nleaf = pae ? 4 : 3, npde = pae ? 3 : 2;
	static const u64 leaf_bits[4] = { PTB_P, PTB_W, PTB_U, PTB_NX };
	static const u64 pde_bits[3] = { PTB_W, PTB_U, PTB_NX };
	unsigned n = 0;

	for (unsigned cpu = 0; cpu < 8; cpu++) {
		bool wp = cpu & 1, nxe = cpu & 2, smep = cpu & 4;
		struct env e;
		u64 leaf_gpa, pde_gpa, pde_base;
		struct hw_mem mem;
		struct hw_regs regs = { 0 };

		env_init(&e, wp ? CR0_PG_WP : CR0_PG,
			 (pae ? X86_CR4_PAE : X86_CR4_PSE) | (smep ? X86_CR4_SMEP : 0),
			 nxe ? EFER_NX : 0);
		leaf_gpa = ptb_map(&e.b, fmt, e.root, pae ? 3 : 2, gva, 1, 0x6000,
				   pae ? PTB_P : UPPER, 0);
		pde_gpa = ptb_entry_gpa(&e.b, fmt, e.root, pae ? 3 : 2, gva, 2);
		pde_base = ptb_get(&e.b, fmt, pde_gpa & ~0xfffull,
				   (pde_gpa & 0xfff) / (pae ? 8 : 4)) & ~0xfffull;
		if (pae)
			for (int i = 0; i < 4; i++)
				regs.pdpte[i] = mmu_of(&e)->pdptrs[i] =
					ptb_get(&e.b, fmt, e.root, i);
		mem = hw_mem_gmem(e.gm, e.v.maxphyaddr);
		regs.cr0 = e.v.arch.cr0;
		regs.cr3 = e.root;
		regs.cr4 = e.v.arch.cr4;
		regs.efer = e.v.arch.efer;
		regs.maxphyaddr = e.v.maxphyaddr;
		regs.pse36 = true;

		for (unsigned lb = 0; lb < (1u << nleaf); lb++)
		for (unsigned pb = 0; pb < (1u << npde); pb++)
		for (unsigned op = 0; op < 3; op++)
		for (unsigned cpl3 = 0; cpl3 < 2; cpl3++) {
			u64 leaf = 0x6000, pde = pde_base | PTB_P;
			struct hw_access ra = { .addr = gva, .cpl = cpl3 ? 3 : 0,
				.op = op == 0 ? TDP_OP_READ : op == 1 ? TDP_OP_WRITE : TDP_OP_FETCH };
			struct hw_result rr;
			struct x86_exception ex;
			u64 access = (cpl3 ? PFERR_USER_MASK : 0) |
				     (op == 1 ? PFERR_WRITE_MASK : 0) |
				     (op == 2 ? PFERR_FETCH_MASK : 0);
			u64 leaf_k, pde_k, leaf_o, pde_o;
			unsigned sz = pae ? 8 : 4;
			gpa_t gpa;

			for (unsigned i = 0; i < nleaf; i++)
				if (lb & (1u << i))
					leaf |= leaf_bits[i];
			for (unsigned i = 0; i < npde; i++)
				if (pb & (1u << i))
					pde |= pde_bits[i];

			tdp_gmem_write(e.gm, leaf_gpa, sz, leaf);
			tdp_gmem_write(e.gm, pde_gpa, sz, pde);
			hw_walk1d(&mem, &regs, &ra, &rr);
			tdp_gmem_read(e.gm, leaf_gpa, sz, &leaf_o);
			tdp_gmem_read(e.gm, pde_gpa, sz, &pde_o);

			tdp_gmem_write(e.gm, leaf_gpa, sz, leaf);
			tdp_gmem_write(e.gm, pde_gpa, sz, pde);
			gpa = xlate(&e, gva, access, &ex);
			tdp_gmem_read(e.gm, leaf_gpa, sz, &leaf_k);
			tdp_gmem_read(e.gm, pde_gpa, sz, &pde_k);

			cr_assert_eq(gpa == INVALID_GPA, rr.kind != HW_OK,
				     "pae %d cpu %u leaf %#lx pde %#lx op %u cpl3 %u",
				     pae, cpu, leaf, pde, op, cpl3);
			if (rr.kind != HW_OK)
				cr_assert_eq(ex.error_code, rr.error_code |
					     (!pae && nxe && op == 2 ? 0x10 : 0),
					     "pae %d cpu %u leaf %#lx pde %#lx op %u cpl3 %u",
					     pae, cpu, leaf, pde, op, cpl3);
			else
				cr_assert_eq(gpa, rr.gpa);
			cr_assert_eq(leaf_k & (PTB_A | PTB_D), leaf_o & (PTB_A | PTB_D));
			cr_assert_eq(pde_k & (PTB_A | PTB_D), pde_o & (PTB_A | PTB_D));
			n++;
		}
		env_fini(&e);
	}
	cr_expect_eq(n, 8 * (1u << nleaf) * (1u << npde) * 6);
}

Test(walk, exhaustive_pae_matches_sdm_oracle, .timeout = 60)
{
	sweep_legacy(true);
}

Test(walk, exhaustive_32bit_matches_sdm_oracle, .timeout = 60)
{
	sweep_legacy(false);
}

/* The walker does not check the final gfn against the memslot: a leaf
 * pointing outside memory translates (KVM then treats the gfn as MMIO in
 * the fault path). */
Test(walk, final_gfn_outside_memory_still_translates)
{
	struct env e;
	struct x86_exception ex;

	env_4level(&e);
	ptb_map(&e.b, PTB_FMT_64, e.root, 4, 0x1000, 1, 1ull << 40, UPPER, UPPER);
	cr_expect_eq(xlate(&e, 0x1234, 0, &ex), (1ull << 40) + 0x234);
	env_fini(&e);
}
