// SPDX-License-Identifier: GPL-2.0-only
/*
 * The L1 hypervisor of the nested workloads (hvci.c, nested.c): it boots,
 * builds L2's EPT/NPT, runs the Linux-like guest (guest.c) as L2, takes
 * its exits, flips module pages between W and X for it, and catches the
 * marked violations.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>

#include "gen/gen-int.h"

/* ------------------------------------------------------------------ */
/*
 * hvci: the guest above runs as L2 under an L1 hypervisor that enforces
 * Hyper-V's HVCI policy with MBEC (intel) or GMET (amd).
 *
 * L1 guest-physical layout (config mem):
 *
 *   0x10000   L1 text        0x100000  L1 PML4, PDPT, PD (identity map of
 *   0x20000   L1 data                  [0, 4M) in 2 MiB pages)
 *   0x200000  EPT/NPT: PML4, PDPT, PD, one PT
 *   4M        L2 guest-physical 0 .. min(mem - 4M, 256M) (L2's opts->mem)
 *
 * L2 guest-physical layout, in 2 MiB regions, and how L1 maps it:
 *
 *   [0, 2M)   kernel text + rodata   EPT R+XS  / NPT U=0 W=0 (2 MiB leaf)
 *   [2M, 4M)  HV_JIT_PAGES 4K pages  W^X: EPT R+W or R+XS / NPT U=0 W or X
 *             (a driver load or a kernel JIT), the rest unmapped
 *   [4M, 6M)  user text              EPT R+XU  / NPT U=1 W=0 (2 MiB leaf)
 *   [6M, ..)  kernel data, page tables, anonymous pages
 *                                    EPT R+W   / NPT U=1 W NX (2 MiB leaves)
 *
 * L2 is the linux guest (same kernel half, processes, fork/COW, demand
 * paging, munmap, churn) with its kernel text at L2 GPA 0, its module
 * area at HV_JIT_VA and user text in [4M, 6M).  L2's page tables never
 * change L1's policy: an L2 PTE can make anything executable, L1 decides.
 * Every L2 access is allowed by EPT/NPT except the marked violations.
 *
 * nested: the same L1 and L2 without MBEC/GMET (no mbec=/gmet= in the
 * config or at vmenter), so that both ACC layouts can replay it.  L1's
 * EPT/NPT grant ordinary rights: text R+X (EPT bit 2, no XU anywhere;
 * NPT U=1 without NX, since every NPT access is a user access), data R+W
 * without execute (EPT X=0 / NPT NX=1), the module pages still W^X with
 * INVEPT.  With one execute right for both modes the HVCI violations are
 * allowed, so the marked violations fetch a data page instead: from a
 * rogue kernel mapping at CPL 0 and from a rogue user mapping at CPL 3.
 */
_Static_assert(PT_INDEX(HV_JIT_VA, 4) == 511 && PT_INDEX(HV_JIT_VA, 3) == PT_INDEX(KTEXT_VA, 3) &&
	       PT_INDEX(HV_JIT_VA, 2) + 1 == PT_INDEX(HV_KALIAS_VA, 2),
	       "module area and alias in the kernel text PD");
_Static_assert(PT_INDEX(HV_UALIAS_VA, 2) == PT_INDEX(TEXT_BASE, 2) &&
	       PT_INDEX(HV_UALIAS_VA, 1) >= TEXT_PAGES, "user alias in the text PT, past the text");
_Static_assert(HV_L2_BASE % HPAGE_SIZE == 0 && HV_TDP + 4 * PAGE_SIZE <= HV_L2_BASE,
	       "L1 layout");

/* EPT entries (SDM 29.3.2), with MBEC's XU in bit 10 */
#define EPT_R		(1ull << 0)
#define EPT_W		(1ull << 1)
#define EPT_XS		(1ull << 2)	/* X without MBEC */
#define EPT_WB		(6ull << 3)	/* leaf memory type */
#define EPT_LARGE	(1ull << 7)
#define EPT_XU		(1ull << 10)
/* EPTP: WB, 4-level walk (3 << 3), A/D enabled (bit 6) */
#define EPTP_FLAGS	(6ull | 3ull << 3 | 1ull << 6)

/*
 * 4-level, kernel text at L2 GPA 0 (a 2 MiB L2 page, XS-only in EPT),
 * kernel data right after the user text region.
 */
const struct pmode mode_hvci = {
	.levels = 4, .bits = 9, .esize = 8, .nx = PT_NX,
	.top_entries = PT_ENTRIES, .top_user = PT_ENTRIES / 2,
	.text_base = TEXT_BASE, .heap_base = HEAP_BASE, .stack_top = STACK_TOP,
	.kdirect = DIRECT_MAP, .ktext_va = KTEXT_VA, .ktext_phys = 0,
	.kdata_start = HV_DATA_GPA, .kdata_end = HV_ALLOC_GPA, .direct_max = HV_L2_MEM_MAX,
};

static bool hv_intel(const struct gen *g)
{
	return g->opts->vendor == TDP_VENDOR_INTEL;
}

/* hvci: L1 uses MBEC (intel) / GMET (amd); nested: neither */
static bool hv_mbec_gmet(const struct gen *g)
{
	return g->k->mbec_gmet;
}

/*
 * The execute right of L2 code in an EPT/NPT leaf: intel, XS (MBEC) or X,
 * both bit 2; amd, U=0 (supervisor code under GMET) or, without GMET, U=1
 * as on every NPT entry.  User code: XU (MBEC) or X; NPT U=1.
 */
static uint64_t hv_kexec(const struct gen *g)
{
	return hv_intel(g) ? EPT_XS : hv_mbec_gmet(g) ? 0 : PT_USER;
}

static uint64_t hv_uexec(const struct gen *g)
{
	return hv_intel(g) ? (hv_mbec_gmet(g) ? EPT_XU : EPT_XS) : PT_USER;
}

/*
 * VMRESUME / VMRUN.  Architecturally L2's state comes back from the
 * VMCS/VMCB; in the trace L2 restarts with paging off, so the registers
 * it had are loaded again at once.
 */
static void hv_vmenter(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_VMENTER };

	if (hv_intel(g)) {
		ev.present = TDP_KEY_BIT(VMENTER, eptp);
		ev.u.vmenter.eptp = g->eptp;
		if (hv_mbec_gmet(g)) {
			ev.present |= TDP_KEY_BIT(VMENTER, mbec);
			ev.u.vmenter.mbec = 1;
		}
	} else {
		ev.present = TDP_KEY_BIT(VMENTER, ncr3);
		ev.u.vmenter.ncr3 = g->eptp;
		if (hv_mbec_gmet(g)) {
			ev.present |= TDP_KEY_BIT(VMENTER, gmet);
			ev.u.vmenter.gmet = 1;
		}
	}
	gen_emit(g, &ev);
	g->stats->vmenters++;
	g->in_l2 = true;
	if (g->l2_paging)
		load_regs(g, g->cur >= 0 ? g->procs[g->cur].pml4 : g->swapper);
}

static void hv_vmexit(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_VMEXIT };

	gen_emit(g, &ev);
	g->stats->vmexits++;
	g->in_l2 = false;
}

/* INVEPT single-context for our EPTP / the NPT TLB flush of the VMCB. */
static void hv_invept(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_INVEPT };

	if (hv_intel(g)) {
		ev.present = TDP_KEY_BIT(INVEPT, eptp);
		ev.u.invept.eptp = g->eptp;
		g->stats->invept_single++;
	} else {
		g->stats->invept_global++;
	}
	gen_emit(g, &ev);
}

/* The hypervisor's own work: its text and data, identity-mapped. */
static void l1_work(struct gen *g, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (rng_chance(g, 40))
			emit_access(g, HV_L1_CODE + (rng_below(g, 8192) << 3), TDP_OP_FETCH, 0, -1);
		else
			emit_access(g, HV_L1_DATA + (rng_below(g, 28672) << 3),
				    rng_chance(g, 40) ? TDP_OP_WRITE : TDP_OP_READ, 0, -1);
	}
}

/*
 * Upper-level EPT/NPT entries grant everything; the leaves decide.  (XU
 * only with MBEC: without it bit 10 is ignored, L1 leaves it clear.)
 */
static uint64_t hv_table(const struct gen *g, uint64_t gpa)
{
	return gpa | (hv_intel(g) ? EPT_R | EPT_W | EPT_XS | (hv_mbec_gmet(g) ? EPT_XU : 0) :
				    PT_PRESENT | PT_WRITABLE | PT_USER);
}

/* A JIT page's EPT/NPT leaf: writable and not executable, or the reverse. */
static uint64_t hv_jit_leaf(const struct gen *g, unsigned int i, bool writable)
{
	uint64_t gpa = HV_L2_BASE + HV_JIT_GPA + i * PAGE_SIZE;

	if (hv_intel(g))
		return gpa | EPT_WB | EPT_R | (writable ? EPT_W : hv_kexec(g));
	/* NX, not U, takes execute away: the U bit is GMET's (or always 1) */
	return gpa | PT_PRESENT | hv_kexec(g) | (writable ? PT_WRITABLE | PT_NX : 0);
}

/*
 * L1's stores (its page tables, L2's EPT/NPT): 8 bytes through its
 * identity map of [0, 4M), or at the physical address before it turns
 * paging on -- the same linear address either way.
 */
static void hv_write(struct gen *g, uint64_t gpa, uint64_t val)
{
	emit_write(g, gpa, val, 8, gpa);
}

static void hv_set_jit(struct gen *g, unsigned int first, unsigned int n, bool writable)
{
	for (unsigned int i = first; i < first + n; i++) {
		hv_write(g, HV_TDP + 3 * PAGE_SIZE + 8 * (PT_INDEX(HV_JIT_GPA, 1) + i),
			 hv_jit_leaf(g, i, writable));
		g->stats->wx_flips++;
	}
}

/*
 * L1 boots: long mode on its own identity map (on amd the NPT format
 * follows L1's paging mode), builds L2's EPT/NPT and enters L2.
 */
static void hv_boot_l1(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };
	const uint64_t pml4 = HV_L1_PT, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
	const uint64_t t4 = HV_TDP, t3 = t4 + PAGE_SIZE, t2 = t3 + PAGE_SIZE, t1 = t2 + PAGE_SIZE;
	const uint64_t l2 = HV_L2_BASE;
	/* a readable 2 MiB leaf; the rights beyond R are the caller's */
	const uint64_t large = hv_intel(g) ? EPT_LARGE | EPT_WB | EPT_R :
				PT_PAGE_SIZE | PT_PRESENT;

	emit_mark(g, "l1-boot");
	hv_write(g, pml4, pdpt | KERNEL_TABLE);
	hv_write(g, pdpt, pd | KERNEL_TABLE);
	for (uint64_t pa = 0; pa < HV_L2_BASE; pa += HPAGE_SIZE)
		hv_write(g, pd + 8 * (pa / HPAGE_SIZE),
			 pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL);
	ev.present = TDP_KEY_BIT(SET, cr0) | TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cr4) |
		     TDP_KEY_BIT(SET, efer) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	ev.u.set.cr3 = pml4;
	ev.u.set.cr4 = X86_CR4_PAE | X86_CR4_PGE;
	ev.u.set.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;
	gen_emit(g, &ev);
	l1_work(g, 16);

	emit_mark(g, hv_intel(g) ? "ept" : "npt");
	hv_write(g, t4, hv_table(g, t3));
	hv_write(g, t3, hv_table(g, t2));
	hv_write(g, t2, l2 | large | hv_kexec(g));
	hv_write(g, t2 + 16, (l2 + HV_UTEXT_GPA) | large | hv_uexec(g));
	hv_write(g, t2 + 8, hv_table(g, t1));
	/* the JIT pages start executable: nothing loaded yet */
	for (unsigned int i = 0; i < HV_JIT_PAGES; i++)
		hv_write(g, t1 + 8 * (PT_INDEX(HV_JIT_GPA, 1) + i), hv_jit_leaf(g, i, false));
	for (uint64_t gpa = HV_DATA_GPA; gpa < g->opts->mem; gpa += HPAGE_SIZE)
		hv_write(g, t2 + 8 * (gpa / HPAGE_SIZE), (l2 + gpa) | large |
			 (hv_intel(g) ? EPT_W : PT_WRITABLE | PT_USER | PT_NX));
	g->eptp = hv_intel(g) ? t4 | EPTP_FLAGS : t4;
	l1_work(g, 4);
	hv_vmenter(g);
}

/* After gen_boot(), in L2: map the module area (RWX in L2) and the alias PT. */
static void hv_boot_l2(struct gen *g)
{
	uint16_t kt_pdpt = g->pt[g->swapper].child[PT_INDEX(KTEXT_VA, 4)];
	uint16_t kt_pd = kt_pdpt ? g->pt[kt_pdpt].child[PT_INDEX(KTEXT_VA, 3)] : 0;

	if (!kt_pd)
		return;
	g->jit_pt = pt_link_new(g, kt_pd, PT_INDEX(HV_JIT_VA, 2), KERNEL_TABLE);
	g->kalias_pt = pt_link_new(g, kt_pd, PT_INDEX(HV_KALIAS_VA, 2), KERNEL_TABLE);
	for (unsigned int i = 0; i < HV_JIT_PAGES && g->jit_pt; i++)
		pt_set(g, g->jit_pt, i, (HV_JIT_GPA + i * PAGE_SIZE) | PT_PRESENT | PT_WRITABLE |
		       PT_GLOBAL, 0);
}

/* An exit L1 handles (timer, I/O): L1 runs, then resumes L2. */
static void hv_exit_cycle(struct gen *g)
{
	hv_vmexit(g);
	l1_work(g, 2 + rng_below(g, 6));
	hv_vmenter(g);
}

/*
 * One request of a load: L1 makes pages [@first, @first + @n) writable
 * (or executable), flushes, resumes L2, which writes (or runs) each page
 * a few times.
 */
static void hv_jit_phase(struct gen *g, unsigned int first, unsigned int n, bool writable)
{
	hv_vmexit(g);
	hv_set_jit(g, first, n, writable);
	hv_invept(g);
	l1_work(g, 2);
	hv_vmenter(g);
	for (unsigned int i = first; i < first + n; i++)
		for (unsigned int k = (writable ? 2 : 1) + rng_below(g, 4); k; k--)
			emit_access(g, HV_JIT_VA + i * PAGE_SIZE + (rng_below(g, 512) << 3),
				    writable ? TDP_OP_WRITE : TDP_OP_FETCH, 0, -1);
}

/*
 * A driver load / kernel JIT under HVCI: L2's kernel asks L1 (a
 * hypercall) to make some module pages writable, writes the code, asks
 * again to make them executable, and runs it.  Each request removes a
 * right from the EPT/NPT leaves, so L1 flushes with INVEPT.
 */
static void hv_jit(struct gen *g)
{
	unsigned int n = 1 + rng_below(g, 4);
	unsigned int first = rng_below(g, HV_JIT_PAGES - n + 1);

	emit_mark(g, "wx-load");
	hv_jit_phase(g, first, n, true);	/* write the code */
	hv_jit_phase(g, first, n, false);	/* run it */
}

/*
 * A compromised L2 kernel maps a user text page as kernel code (U=0,
 * executable in L2) and jumps to it.  L2's own checks pass (U=0, so SMEP
 * does not apply); L1's policy does not: intel, the translation is
 * supervisor-mode and the page is XU-only; amd, a CPL 0 fetch from a
 * page with NPT U=1 under GMET.  The exit goes to L1, which leaves L2
 * where it is; the kernel drops the mapping again.  nested: user text is
 * executable for the kernel too, so the kernel maps a data page (EPT X=0
 * / NPT NX) instead.
 */
static void hv_violation_kernel(struct gen *g)
{
	uint64_t gpa = (hv_mbec_gmet(g) ? HV_UTEXT_GPA : HV_DATA_GPA) +
		       rng_below(g, hv_mbec_gmet(g) ? TEXT_PAGES : 64) * PAGE_SIZE;

	if (!g->kalias_pt)
		return;
	pt_set(g, g->kalias_pt, 0, gpa | PT_PRESENT, 0);
	emit_mark(g, hv_mbec_gmet(g) ? "hvci-exec-supervisor" : "nx-exec-supervisor");
	emit_access(g, HV_KALIAS_VA + (rng_below(g, 512) << 3), TDP_OP_FETCH, 0, -1);
	g->stats->reflected++;
	g->stats->reflected_exec_supervisor++;
	pt_set(g, g->kalias_pt, 0, 0, 0);
	emit_invlpg(g, HV_KALIAS_VA);
}

/*
 * The reverse, from user mode: the running process gets a user mapping
 * (U=1, executable in L2) of a page L1 does not let user mode execute,
 * and fetches from it at CPL 3.  intel: kernel text, XS-only (the
 * translation is user-mode: U=1 at every L2 level); amd: a kernel data
 * page, NX in the NPT.  nested: a kernel data page on both (EPT X=0).
 */
static void hv_violation_user(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	uint64_t gpa = (hv_intel(g) && hv_mbec_gmet(g) ? 0 : HV_DATA_GPA) +
		       rng_below(g, 64) * PAGE_SIZE;
	uint16_t t = walk_alloc(g, p, HV_UALIAS_VA);
	unsigned int i = pt_index(g, HV_UALIAS_VA, 1);

	if (!t)
		return;
	pt_set(g, t, i, gpa | PT_PRESENT | PT_USER, 0);
	emit_mark(g, hv_mbec_gmet(g) ? "hvci-exec-user" : "nx-exec-user");
	emit_access(g, HV_UALIAS_VA + (rng_below(g, 512) << 3), TDP_OP_FETCH, 3, -1);
	g->stats->reflected++;
	g->stats->reflected_exec_user++;
	pt_set(g, t, i, 0, 0);
	emit_invlpg(g, HV_UALIAS_VA);
}

/*
 * After each steady-state slice: L1's exits, loads, violations.  (No
 * mprotect to RX: L1 does not let user data execute.)
 */
bool hv_step(struct gen *g, uint64_t s)
{
	if (rng_chance(g, 25))
		hv_exit_cycle(g);
	if (s % 10 == 4)
		hv_jit(g);
	if (s % 25 == 12)
		hv_violation_kernel(g);
	if (s % 25 == 24)
		hv_violation_user(g);
	return true;
}

/* The guest boots as L2 once L1 has built its EPT/NPT and entered it. */
void hv_boot(struct gen *g)
{
	hv_boot_l1(g);
	gen_boot(g);
	hv_boot_l2(g);
}

/* L2 shuts down: L1 gets control back for good. */
void hv_shutdown(struct gen *g)
{
	hv_vmexit(g);
	l1_work(g, 4);
}
