// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest walk cost for one ACC layout: FNAME(gva_to_gpa) on warm tables
 * (every A bit, and D on leaves, already set, so a walk only reads), for
 *   4level  4-level paging, 4K pages          (paging64, 4 gPTE reads)
 *   pae     PAE with PDPTE registers, 4K pages (paging64, 2 gPTE reads)
 *   ept     4-level EPT of L1, 4K pages       (ept, 4 EPTE reads)
 *   2d      4-level L2 tables through 4-level EPT (nested_mmu: 4 gPTE
 *           reads, each table GPA and the final GPA walked in EPT: 5 EPT
 *           walks = 20 EPTE reads, 24 reads in all)
 * over NR_ADDRS addresses spread across distinct page tables, read access.
 * The result GPAs are summed and printed, so no walk is dead code.
 *
 * Usage: bench_walk_layout_{old,new} [walks-in-millions [variant]]
 * (variant: run only that one, e.g. for valgrind --tool=callgrind)
 * Output: one line per variant, "layout variant ns/walk ticks/walk", then
 * the number of walks made (warm-up included: what a callgrind run with
 * --toggle-collect on the variant's gva_to_gpa divides by).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/gmem.h>

#include "bench.h"
#include "mmu/paging.h"

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define LAYOUT_NAME	"new"
#else
#define LAYOUT_NAME	"old"
#endif

#define NR_ADDRS	256	/* 256 leaf tables: walks are not all one line */
#define NR_RUNS		5	/* best of */
#define MEM_SIZE	(256ull << 20)

#define P_UPPER		0x67ull			/* P W U A D */
#define EPT_UPPER	(7ull | (1ull << 8) | (1ull << 9))	/* RWX A D */
#define EPT_LEAF	(EPT_UPPER | (6ull << 3))		/* + WB */

static struct tdp_gmem *gm;
static u64 next_table = 0x100000;

static u64 new_table(void)
{
	u64 t = next_table;

	next_table += 4096;
	return t;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_walk: %s\n", what);
	exit(1);
}

/* Map @va -> @pa at 4K through a 9-bit-per-level table rooted at @root. */
static void map(u64 root, int levels, u64 va, u64 pa, u64 upper, u64 leaf)
{
	u64 table = root;

	for (int l = levels; l > 1; l--) {
		u64 gpa = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
		u64 e;

		if (tdp_gmem_read(gm, gpa, 8, &e))
			die("read");
		if (!e) {
			e = new_table() | upper;
			if (tdp_gmem_write(gm, gpa, 8, e))
				die("write");
		}
		table = e & 0x000ffffffffff000ull;
	}
	if (tdp_gmem_write(gm, table + ((va >> 12) & 511) * 8, 8, pa | leaf))
		die("write");
}

static u64 addr_of(unsigned i)
{
	/* one 2M region (one leaf table) per address, spread over PDPTEs */
	return ((u64)i << 21) + 0x5000 + (i & 7) * 8;
}

static void vcpu_init(struct kvm_vcpu *v, unsigned long cr0, unsigned long cr4,
		      u64 efer, u64 cr3)
{
	memset(v, 0, sizeof(*v));
	v->gmem = gm;
	v->vendor = KVM_VENDOR_INTEL;
	v->maxphyaddr = 46;
	v->arch.cr0 = cr0;
	v->arch.cr4 = cr4;
	v->arch.efer = efer;
	v->arch.cr3 = cr3;
}

static const char *only;

static void run(const char *name, struct kvm_vcpu *v, struct kvm_mmu *mmu,
		const u64 *addrs, u64 iters)
{
	u64 best_t = ~0ull, best_n = ~0ull, sum = 0;
	struct x86_exception ex;
	double tpn;

	if (only && strcmp(only, name))
		return;
	tpn = bench_tsc_per_ns();

	/* warm-up + correctness: every walk must succeed */
	for (unsigned i = 0; i < NR_ADDRS; i++)
		if (mmu->gva_to_gpa(v, mmu, addrs[i], 0, &ex) == INVALID_GPA)
			die("walk failed");
	for (int r = 0; r < NR_RUNS; r++) {
		u64 n0 = bench_ns(), t0 = bench_tsc();

		for (u64 k = 0; k < iters; k++)
			sum += mmu->gva_to_gpa(v, mmu, addrs[k & (NR_ADDRS - 1)],
					       0, &ex);
		u64 t1 = bench_tsc(), n1 = bench_ns();

		if (t1 - t0 < best_t)
			best_t = t1 - t0;
		if (n1 - n0 < best_n)
			best_n = n1 - n0;
	}
	bench_keep(sum);
	printf("%s %-6s %7.1f ns/walk %7.1f ticks/walk (tsc %.3f GHz, check %llx)"
	       " %llu walks\n",
	       LAYOUT_NAME, name, (double)best_n / iters, (double)best_t / iters,
	       tpn, (unsigned long long)(sum & 0xffff),
	       (unsigned long long)(NR_ADDRS + NR_RUNS * iters));
}

int main(int argc, char **argv)
{
	u64 iters = (argc > 1 ? strtoull(argv[1], NULL, 0) : 2) * 1000000ull;
	static struct kvm_vcpu v;
	u64 addrs[NR_ADDRS];

	only = argc > 2 ? argv[2] : NULL;
	if (iters < 4 * NR_ADDRS)
		iters = 4 * NR_ADDRS;
	if (tdp_gmem_create(&gm, MEM_SIZE))
		die("gmem");

	/* 4-level */
	{
		u64 root = new_table();

		for (unsigned i = 0; i < NR_ADDRS; i++) {
			addrs[i] = addr_of(i) | (1ull << 39);	/* PML4 index 1 */
			map(root, 4, addrs[i], 0x8000000 + i * 4096ull, P_UPPER,
			    P_UPPER);
		}
		vcpu_init(&v, X86_CR0_PG | X86_CR0_PE | X86_CR0_WP, X86_CR4_PAE,
			  EFER_LME | EFER_LMA | EFER_NX, root);
		kvm_init_mmu(&v);
		run("4level", &v, v.arch.walk_mmu, addrs, iters);
	}
	/* PAE: PDPTEs in registers, 2 levels in memory */
	{
		u64 pdpt = new_table();

		for (unsigned i = 0; i < NR_ADDRS; i++) {
			addrs[i] = addr_of(i) & 0xffffffffull;
			map(pdpt, 3, addrs[i], 0x8000000 + i * 4096ull, P_UPPER,
			    P_UPPER);
		}
		vcpu_init(&v, X86_CR0_PG | X86_CR0_PE | X86_CR0_WP, X86_CR4_PAE,
			  EFER_NX, pdpt);
		kvm_init_mmu(&v);
		for (int i = 0; i < 4; i++) {
			u64 e;

			if (tdp_gmem_read(gm, pdpt + i * 8, 8, &e))
				die("pdpte");
			/* PDPTEs have only P among the low flags */
			v.arch.walk_mmu->pdptrs[i] = e ? (e & ~0xfffull) | 1 : 0;
		}
		run("pae", &v, v.arch.walk_mmu, addrs, iters);
	}
	/* EPT of L1, and the 2D walk of L2's 4-level tables through it */
	{
		u64 ept_root = new_table(), l2_root, eptp;
		u64 l2_first_table, l2_last_table;
		u64 l2addrs[NR_ADDRS];

		/* L2 tables live at L2 GPA == L1 GPA; data at L2 GPA 0x8000000+ */
		l2_root = new_table();
		l2_first_table = l2_root;
		for (unsigned i = 0; i < NR_ADDRS; i++) {
			l2addrs[i] = addr_of(i) | (1ull << 39);
			map(l2_root, 4, l2addrs[i], 0x8000000 + i * 4096ull, P_UPPER,
			    P_UPPER);
		}
		l2_last_table = next_table;
		for (u64 gpa = l2_first_table; gpa < l2_last_table; gpa += 4096)
			map(ept_root, 4, gpa, gpa, EPT_UPPER, EPT_LEAF);
		for (unsigned i = 0; i < NR_ADDRS; i++) {
			addrs[i] = 0x8000000 + i * 4096ull;
			map(ept_root, 4, addrs[i], 0x4000000 + i * 4096ull,
			    EPT_UPPER, EPT_LEAF);
		}
		eptp = ept_root | 6 | VMX_EPTP_PWL_4 | VMX_EPTP_AD_ENABLE_BIT;

		vcpu_init(&v, X86_CR0_PG | X86_CR0_PE | X86_CR0_WP, X86_CR4_PAE,
			  EFER_LME | EFER_LMA | EFER_NX, l2_root);
		v.arch.guest_mode = true;
		v.arch.nested.eptp = eptp;
		v.arch.mmu = &v.arch.guest_mmu;
		v.arch.walk_mmu = &v.arch.nested_mmu;
		if (kvm_init_shadow_ept_mmu(&v, true, PG_LEVEL_1G, true, false, eptp))
			die("ept init");
		v.arch.guest_mmu.get_guest_pgd = nested_ept_get_eptp;
		kvm_init_mmu(&v);
		run("ept", &v, &v.arch.guest_mmu, addrs, iters);
		run("2d", &v, &v.arch.nested_mmu, l2addrs, iters / 4);
	}
	tdp_gmem_destroy(gm);
	return 0;
}
