// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest model most workloads share: a Linux-like x86-64 guest modelled
 * as the guest OS itself, so every page-table store in the trace is one the
 * guest really makes, to frames it really owns.  The same guest also runs
 * as a 32-bit kernel, with PAE or with 2-level paging (pae.c, legacy32.c),
 * as L2 under an L1 hypervisor (hypervisor.c: hvci.c, nested.c), on several
 * vCPUs with KPTI and PCID (linux_smp.c), as a database server (db.c); zero.c
 * uses its allocator and page tables with a loop of its own.  Each workload
 * is a struct gen_kind (gen-int.h) of hooks into gen_main() below.
 *
 * Guest physical layout (mem is a multiple of 2 MiB, >= 64 MiB):
 *
 *   0        1M               16M          18M                      mem
 *   +--------+----------------+------------+------------------------+
 *   | unused | kernel data    | kernel text| frame allocator        |
 *   |        | (direct-map    | (one 2 MiB | page tables, anonymous |
 *   |        |  accesses only)|  PDE)      | and text pages         |
 *   +--------+----------------+------------+------------------------+
 *
 * Guest virtual layout (4-level paging):
 *
 *   0x400000             user text, TEXT_PAGES x 4K, R-X, U
 *   0x11c0000            heap, HEAP_PAGES x 4K, RW-, NX, U (crosses a
 *                        2 MiB boundary, so it needs two PT pages)
 *   0x7ffffffff000 down  stack, STACK_PAGES x 4K, RW-, NX, U
 *   0xffff888000000000   direct map of [0, mem), 2 MiB pages, G, NX
 *   0xffffffff81000000   kernel text, one 2 MiB page, G, read-only
 *
 * Invariants the generator keeps (tests/test_gen.c checks them from the
 * trace alone):
 *  - every frame not in use as a page table has all-zero contents as far
 *    as `write` events go: data pages are never written (accesses do not
 *    change memory), and a table is freed only once all its entries were
 *    written back to 0.  So a reused frame is a valid empty table without
 *    writing 512 zeroes (Linux gets the same from __GFP_ZERO).
 *  - an entry is either 0 or present; present entries point at frames
 *    below mem that the guest owns, never at an ancestor table.
 *  - the kernel half of each process's PML4 is a copy of swapper's, so all
 *    processes share the kernel PDPT pages.
 *  - a PTE loses permissions or changes frame only with an invlpg or flush
 *    (or a CR3 load) before the next access that could use it.
 *  - every page-table store is a `write gva=` the kernel makes at CPL 0
 *    on the storing vCPU: through the direct map once paging is on, at
 *    the physical address before (pt_store_gva()).
 *
 * No allocation or formatting per event: the model is allocated once and
 * its size depends on mem only (per-frame refcounts and the free stack).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>

#include "gen/gen-int.h"

const struct pmode mode_4level = {
	.levels = 4, .bits = 9, .esize = 8, .nx = PT_NX,
	.top_entries = PT_ENTRIES, .top_user = PT_ENTRIES / 2,
	.text_base = TEXT_BASE, .heap_base = HEAP_BASE, .stack_top = STACK_TOP,
	.kdirect = DIRECT_MAP, .ktext_va = KTEXT_VA, .ktext_phys = KTEXT_PHYS,
	.kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS, .direct_max = TDP_GEN_MEM_MAX,
};

/* ------------------------------------------------------------------ */
/* Frame allocator */

uint32_t frame_alloc(struct gen *g, bool *reused)
{
	*reused = g->nr_free > 0;
	if (g->nr_free) {
		/*
		 * Mostly LIFO, like the per-CPU free lists, but taken from
		 * among the 8 most recent frees: a strict LIFO hands a freed
		 * table straight back to the next table allocation, and then
		 * page-table frames would never be reused as data or back.
		 */
		uint32_t n = g->nr_free < 8 ? g->nr_free : 8;
		uint32_t j = g->nr_free - 1 - rng_below(g, n);
		uint32_t frame = g->free_stack[j];

		g->free_stack[j] = g->free_stack[--g->nr_free];
		return frame;
	}
	if (g->next_frame < g->end_frame)
		return g->next_frame++;
	/* the working set is bounded well below 64 MiB, see MAX_TABLES */
	gen_fail(g, TDP_E_INTERNAL, "guest model ran out of frames in %" PRIu64 " bytes",
		 g->opts->mem);
	return 0;
}

void frame_free(struct gen *g, uint32_t frame)
{
	g->free_stack[g->nr_free++] = frame;
}

/* ------------------------------------------------------------------ */
/* Page tables: the guest's own copy, every store mirrored by a `write` */

uint16_t table_alloc(struct gen *g)
{
	uint16_t idx = g->pt_free;
	bool reused;
	uint32_t frame;

	if (!idx) {
		gen_fail(g, TDP_E_INTERNAL, "guest model ran out of page-table slots");
		return 0;
	}
	frame = frame_alloc(g, &reused);
	if (!frame)
		return 0;
	g->pt_free = g->pt[idx].next_free;
	/* the frame is all-zero in guest memory (see the invariants above) */
	memset(&g->pt[idx], 0, sizeof(g->pt[idx]));
	g->pt[idx].frame = frame;
	if (reused)
		g->stats->pt_pages_reused++;
	return idx;
}

void table_free(struct gen *g, uint16_t idx)
{
	frame_free(g, g->pt[idx].frame);
	g->pt[idx].frame = 0;
	g->pt[idx].next_free = g->pt_free;
	g->pt_free = idx;
}

/*
 * Where the guest's kernel writes guest-physical @pa (of the guest model;
 * L2's own physical address when nested): through the direct map once
 * paging is on (Linux's __va(); a 32-bit kernel maps all of its memory
 * there, mem <= 896M), at @pa itself while the boot code runs with
 * paging off.  KPTI's user PGDs lack the direct map, but the kernel
 * writes page tables only on its own PGD (enter_kernel()).
 */
static uint64_t pt_store_gva(const struct gen *g, uint64_t pa)
{
	return g->l2_paging ? g->m->kdirect + pa : pa;
}

/* Store @val into entry @i of table @t, as a guest write of one entry. */
void pt_set(struct gen *g, uint16_t t, unsigned int i, uint64_t val, uint16_t child)
{
	struct pt_page *p = &g->pt[t];
	uint64_t pa = ((uint64_t)p->frame << PAGE_SHIFT) + g->m->esize * i;

	if (p->e[i] && !val)
		p->nr_present--;
	else if (!p->e[i] && val)
		p->nr_present++;
	p->e[i] = val;
	p->child[i] = child;
	emit_write(g, g->phys_base + pa, val, g->m->esize, pt_store_gva(g, pa));
	/* KPTI: pti_set_user_pgtbl() stores user PGD entries in both PGDs */
	if (p->mirror && i < g->m->top_user)
		pt_set(g, p->mirror, i, val, child);
}

/* Link a fresh table below entry @i of @t; returns its pool index or 0. */
uint16_t pt_link_new(struct gen *g, uint16_t t, unsigned int i, uint64_t flags)
{
	uint16_t c = table_alloc(g);

	if (c)
		pt_set(g, t, i, ((uint64_t)g->pt[c].frame << PAGE_SHIFT) | flags, c);
	return c;
}

/*
 * The PT page mapping user address @gva, allocating missing levels as
 * Linux's __handle_mm_fault() does (p4d/pud/pmd_alloc, pte_alloc).
 */
uint16_t walk_alloc(struct gen *g, struct proc *p, uint64_t gva)
{
	uint16_t t = p->pml4;

	for (int level = g->m->levels; level > 1 && t; level--) {
		unsigned int i = pt_index(g, gva, level);
		uint16_t c = g->pt[t].child[i];

		if (!c)
			c = pt_link_new(g, t, i, USER_TABLE);
		t = c;
	}
	return t;
}

/* The PT page mapping @gva, or 0 if a level is missing. */
uint16_t walk_lookup(struct gen *g, struct proc *p, uint64_t gva)
{
	uint16_t t = p->pml4;

	for (int level = g->m->levels; level > 1 && t; level--)
		t = g->pt[t].child[pt_index(g, gva, level)];
	return t;
}

/*
 * Free every empty table below @t (a level-@level table), clearing the
 * entry that pointed at it first: Linux's free_pgtables() after a munmap
 * or at exit.  PT pages (level 1) hold leaves, so the recursion stops at 2.
 */
void prune(struct gen *g, uint16_t t, int level, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		uint16_t c = g->pt[t].child[i];

		if (!c)
			continue;
		if (level > 2)
			prune(g, c, level - 1, 1u << g->m->bits);
		/* PAE: the PDs below the PDPT stay until the PDPT goes */
		if (!g->pt[c].nr_present && !(level == 3 && g->m->levels == 3)) {
			pt_set(g, t, i, 0, 0);
			table_free(g, c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Processes */

static uint64_t vpage_gva(const struct gen *g, unsigned int vi)
{
	if (vi < VP_HEAP0)
		return g->m->text_base + (uint64_t)vi * PAGE_SIZE;
	if (vi < VP_STACK0)
		return g->m->heap_base + (uint64_t)(vi - VP_HEAP0) * PAGE_SIZE;
	return g->m->stack_top - (uint64_t)(NR_VPAGES - 1 - vi) * PAGE_SIZE;
}

static bool vpage_is_text(unsigned int vi)
{
	return vi < VP_HEAP0;
}

static bool vpage_writable(const struct vpage *v)
{
	return (v->flags & VP_WRITE) && !(v->flags & VP_COW);
}

/* Linux's mk_pte() for this VMA: W only if the VMA allows it and not COW. */
static uint64_t vpage_pte(const struct gen *g, const struct vpage *v)
{
	return ((uint64_t)v->frame << PAGE_SHIFT) | PT_PRESENT | PT_USER |
	       (vpage_writable(v) ? PT_WRITABLE : 0) |
	       ((v->flags & VP_EXEC) ? 0 : g->m->nx);
}

static void vpage_set_pte(struct gen *g, struct proc *p, unsigned int vi)
{
	uint64_t gva = vpage_gva(g, vi);
	uint16_t t = walk_alloc(g, p, gva);

	if (t)
		pt_set(g, t, pt_index(g, gva, 1), vpage_pte(g, &p->vp[vi]), 0);
}

/* Drop one sharer of an anonymous page (text pages stay in the cache). */
static void vpage_put(struct gen *g, struct proc *p, unsigned int vi)
{
	struct vpage *v = &p->vp[vi];

	if (!vpage_is_text(vi) && --g->ref[v->frame] == 0)
		frame_free(g, v->frame);
	v->frame = 0;
	p->nr_present--;
}

/* Clear the PTE of a present page (zap_pte_range()); no TLB flush here. */
static void vpage_zap(struct gen *g, struct proc *p, unsigned int vi)
{
	uint64_t gva = vpage_gva(g, vi);
	uint16_t t = walk_lookup(g, p, gva);

	if (t)
		pt_set(g, t, pt_index(g, gva, 1), 0, 0);
	vpage_put(g, p, vi);
}

static void vpages_init(struct proc *p)
{
	for (unsigned int vi = 0; vi < NR_VPAGES; vi++) {
		p->vp[vi].frame = 0;
		p->vp[vi].flags = vpage_is_text(vi) ? VP_EXEC : VP_WRITE;
	}
	p->nr_present = 0;
}

/* MOV CR3 on vCPU @v (and the CPL it runs at afterwards). */
void load_cr3(struct gen *g, unsigned int v, uint64_t cr3, unsigned int cpl)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };
	unsigned int saved = g->vcpu;

	ev.present = TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr3 = cr3;
	ev.u.set.cpl = cpl;
	g->vcpu = v;
	gen_emit(g, &ev);
	g->vcpu = saved;
}

/*
 * The CR3 that vCPU @v loads for process @pi: its PGD or (KPTI, @user)
 * its user PGD.  With PCID, Linux's scheme: kernel PCID pi + 1, user PCID
 * the same with bit 11, and NOFLUSH (bit 63) unless something of that
 * PCID was invalidated since @v last loaded it.
 */
uint64_t proc_cr3(struct gen *g, unsigned int v, int pi, bool user)
{
	const struct pt_page *pgd = &g->pt[g->procs[pi].pml4];
	uint64_t cr3 = (uint64_t)g->pt[user ? pgd->mirror : g->procs[pi].pml4].frame << PAGE_SHIFT;
	uint32_t bit = 1u << (pi + (user ? 8 : 0));

	if (!g->pcid)
		return cr3;
	cr3 |= (uint64_t)(pi + 1) | (user ? 1ull << 11 : 0);
	if (!(g->stale[v] & bit))
		cr3 |= 1ull << 63;
	g->stale[v] &= ~bit;
	return cr3;
}

void switch_to(struct gen *g, int pi)
{
	load_cr3(g, g->vcpu, proc_cr3(g, g->vcpu, pi, false), 0);
	g->cur = pi;
	g->in_user = false;
	g->stats->cr3_loads++;
}

/* KPTI's entry and exit: the kernel and the user PGD of the process. */
void enter_kernel(struct gen *g)
{
	if (g->kpti && g->in_user)
		load_cr3(g, g->vcpu, proc_cr3(g, g->vcpu, g->cur, false), 0);
	g->in_user = false;
}

void enter_user(struct gen *g)
{
	if (g->kpti && !g->in_user && g->cur >= 0)
		load_cr3(g, g->vcpu, proc_cr3(g, g->vcpu, g->cur, true), 3);
	g->in_user = true;
}

/* The process vCPU @v runs. */
static int proc_on(const struct gen *g, unsigned int v)
{
	return v == g->vcpu ? g->cur : g->cur_of[v];
}

/* An interrupt (IPI) on vCPU @v: into its kernel, and back out. */
void ipi_enter(struct gen *g, unsigned int v)
{
	if (g->kpti && g->in_user_of[v])
		load_cr3(g, v, proc_cr3(g, v, g->cur_of[v], false), 0);
}

void ipi_exit(struct gen *g, unsigned int v)
{
	if (g->kpti && g->in_user_of[v])
		load_cr3(g, v, proc_cr3(g, v, g->cur_of[v], true), 3);
}

/*
 * flush_tlb_mm_range(): the current vCPU invalidates @gva (or all, @all),
 * and each other vCPU running the same process does the same in its IPI
 * handler.  A full flush of a user mm is flush_tlb_local() ->
 * native_flush_tlb_local(): a CR3 reload (flush kind=cr3; kernel global
 * mappings stay).  With PCID the process's PCIDs are marked for a flush at
 * their next load everywhere (the user PCID is not current in the kernel,
 * and vCPUs that ran the process before still hold its entries).
 */
static void tlb_shootdown(struct gen *g, uint64_t gva, bool all)
{
	int pi = g->cur;

	if (all)
		emit_flush(g, TDP_FLUSH_CR3);
	else
		emit_invlpg(g, gva);
	for (unsigned int v = 0; v < g->nvcpu; v++) {
		unsigned int saved = g->vcpu;

		if (v == g->vcpu || proc_on(g, v) != pi)
			continue;
		g->stats->ipis++;
		ipi_enter(g, v);
		g->vcpu = v;
		if (all)
			emit_flush(g, TDP_FLUSH_CR3);
		else
			emit_invlpg(g, gva);
		g->vcpu = saved;
		ipi_exit(g, v);
	}
	for (unsigned int v = 0; v < g->nvcpu && g->pcid; v++)
		g->stale[v] |= 1u << pi | 1u << (8 + pi);
}

/* pgd_alloc(): a new PML4 whose kernel half is swapper's (pgd_ctor()). */
uint16_t pgd_alloc(struct gen *g)
{
	uint16_t pgd = table_alloc(g);

	if (!pgd)
		return 0;
	/* PAE: preallocate the user PDs (PDPTEs hold only P and the address) */
	for (unsigned int i = 0; i < g->m->top_user && g->m->levels == 3; i++)
		if (!pt_link_new(g, pgd, i, PT_PRESENT))
			return 0;
	for (unsigned int i = g->m->top_user; i < g->m->top_entries; i++)
		if (g->pt[g->swapper].e[i])
			pt_set(g, pgd, i, g->pt[g->swapper].e[i], g->pt[g->swapper].child[i]);
	if (g->kpti) {
		/*
		 * The user PGD maps the user half and, of the kernel, only
		 * what entry and exit need: here the kernel text's PML4 slot
		 * (Linux clones the entry text, and all of the text without
		 * PCID).  The direct map, slab and stacks are not there.
		 */
		uint16_t u = table_alloc(g);
		unsigned int kt = PT_INDEX(KTEXT_VA, 4);

		if (!u)
			return 0;
		g->pt[pgd].mirror = u;
		pt_set(g, u, kt, g->pt[g->swapper].e[kt], g->pt[g->swapper].child[kt]);
	}
	return pgd;
}

static int proc_slot(struct gen *g)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (!g->procs[i].live)
			return i;
	return -1;
}

static void proc_init(struct gen *g, struct proc *p)
{
	vpages_init(p);
	p->text_pc = rng_below(g, TEXT_PAGES);
	p->heap_hot = VP_HEAP0 + rng_below(g, HEAP_PAGES - 16);
	p->live = true;
	g->nr_live++;
}

/*
 * dup_mmap() / copy_pte_range(): the child gets its own tables with the
 * parent's PTEs; private pages become COW in both, with W cleared in the
 * parent too, which then needs a TLB flush (flush_tlb_mm()).
 */
static int proc_fork(struct gen *g, int parent)
{
	struct proc *pp = &g->procs[parent], *cp;
	int ci = proc_slot(g);
	bool wp = false;

	if (ci < 0 || g->err)
		return -1;
	cp = &g->procs[ci];
	if (g->cur != parent)
		switch_to(g, parent);
	enter_kernel(g);
	cp->pml4 = pgd_alloc(g);
	if (!cp->pml4)
		return -1;
	proc_init(g, cp);
	for (unsigned int vi = 0; vi < NR_VPAGES; vi++) {
		struct vpage *v = &pp->vp[vi];

		if (!v->frame)
			continue;
		if (!vpage_is_text(vi)) {
			bool was_writable = vpage_writable(v);

			v->flags |= VP_COW;
			g->ref[v->frame]++;
			if (was_writable) {
				vpage_set_pte(g, pp, vi);
				wp = true;
			}
		}
		cp->vp[vi] = *v;
		cp->nr_present++;
		vpage_set_pte(g, cp, vi);
	}
	if (wp)
		tlb_shootdown(g, 0, true);
	/* the child's PCIDs may have been a dead process's */
	for (unsigned int v = 0; v < g->nvcpu && g->pcid; v++)
		g->stale[v] |= 1u << ci | 1u << (8 + ci);
	g->stats->forks++;
	return g->err ? -1 : ci;
}

uint64_t teardown_cost(const struct gen *g)
{
	/*
	 * mark, final switch (nested: and the final vmexit and L1's work);
	 * per exit: zaps, <= 9 table frees, 2 kernel entries, 2 switches
	 */
	uint64_t n = (gen_l2(g) ? 7 : 2) + g->teardown_extra;

	for (int i = 1; i < MAX_PROCS; i++)
		if (g->procs[i].live)
			n += g->procs[i].nr_present + 13;
	return n;
}

/*
 * exit_mmap(): zap every PTE and free the tables while the process still
 * runs, then switch away (the CR3 load is the flush), then pgd_free() the
 * PML4.  Its kernel entries are cleared only once it is no longer CR3.
 */
void proc_exit(struct gen *g, int pi)
{
	struct proc *p = &g->procs[pi];
	int next = -1;

	/* its other threads are gone first: their vCPUs switch to init */
	for (unsigned int v = 0; v < g->nvcpu; v++) {
		if (v == g->vcpu || proc_on(g, v) != pi)
			continue;
		ipi_enter(g, v);
		load_cr3(g, v, proc_cr3(g, v, 0, false), 0);
		g->cur_of[v] = 0;
		g->in_user_of[v] = false;
		g->stats->cr3_loads++;
	}
	if (g->cur != pi)
		switch_to(g, pi);
	enter_kernel(g);
	for (unsigned int vi = 0; vi < NR_VPAGES; vi++)
		if (p->vp[vi].frame)
			vpage_zap(g, p, vi);
	prune(g, p->pml4, g->m->levels, g->m->top_user);
	p->live = false;
	g->nr_live--;
	for (int i = 0; i < MAX_PROCS; i++)
		if (g->procs[i].live && (next < 0 || rng_chance(g, 30)))
			next = i;
	if (next >= 0)
		switch_to(g, next);
	for (unsigned int i = 0; i < g->m->top_entries; i++) {
		/* PAE's (empty) user PDs go with it; kernel tables are shared */
		uint16_t c = i < g->m->top_user ? g->pt[p->pml4].child[i] : 0;

		if (!g->pt[p->pml4].e[i])
			continue;
		pt_set(g, p->pml4, i, 0, 0);
		if (c)
			table_free(g, c);
	}
	if (g->pt[p->pml4].mirror) {
		uint16_t u = g->pt[p->pml4].mirror;

		pt_set(g, u, PT_INDEX(KTEXT_VA, 4), 0, 0);
		table_free(g, u);
	}
	table_free(g, p->pml4);
	p->pml4 = 0;
	for (unsigned int v = 0; v < g->nvcpu && g->pcid; v++)
		g->stale[v] |= 1u << pi | 1u << (8 + pi);
	g->stats->exits++;
}

/* ------------------------------------------------------------------ */
/* Faults the guest expects, and its handlers */

uint64_t gen_direct_map(const struct gen *g, uint64_t frame)
{
	return g->m->kdirect + (frame << PAGE_SHIFT);
}

/* do_anonymous_page() / filemap_fault(): map a frame for a first touch. */
static void fault_in(struct gen *g, struct proc *p, unsigned int vi)
{
	struct vpage *v = &p->vp[vi];
	bool reused;

	if (vpage_is_text(vi)) {
		if (!g->text_cache[vi])
			g->text_cache[vi] = frame_alloc(g, &reused);
		v->frame = g->text_cache[vi];
	} else {
		v->frame = frame_alloc(g, &reused);
		if (!v->frame)
			return;
		g->ref[v->frame] = 1;
		/* clear_page() through the direct map */
		emit_access(g, gen_direct_map(g, v->frame), TDP_OP_WRITE, 0, -1);
	}
	if (!v->frame)
		return;
	p->nr_present++;
	vpage_set_pte(g, p, vi);
}

/* do_wp_page(): reuse the page if we are its last sharer, else copy it. */
static void break_cow(struct gen *g, struct proc *p, unsigned int vi)
{
	struct vpage *v = &p->vp[vi];

	if (g->ref[v->frame] > 1) {
		bool reused;
		uint32_t nf = frame_alloc(g, &reused);

		if (!nf)
			return;
		/* copy_user_highpage() through the direct map */
		emit_access(g, gen_direct_map(g, v->frame), TDP_OP_READ, 0, -1);
		emit_access(g, gen_direct_map(g, nf), TDP_OP_WRITE, 0, -1);
		g->ref[v->frame]--;
		g->ref[nf] = 1;
		v->frame = nf;
	}
	v->flags &= ~VP_COW;
	vpage_set_pte(g, p, vi);
	tlb_shootdown(g, vpage_gva(g, vi), false);
}

/*
 * One access to user page @vi of the running process, with the fault and
 * retry the guest expects.  The caller only asks for what the VMA allows
 * (no write to R-X, no fetch of NX), so the faults are exactly "not
 * present" and "COW".
 */
void gen_touch(struct gen *g, unsigned int vi, int op, int cpl, int ac)
{
	struct proc *p = &g->procs[g->cur];
	struct vpage *v = &p->vp[vi];
	uint64_t gva = vpage_gva(g, vi) + ((rng_next(g) >> 40) & 0xff8);

	emit_access(g, gva, op, cpl, ac);
	if (!v->frame || (op == TDP_OP_WRITE && !vpage_writable(v)))
		enter_kernel(g);
	if (!v->frame) {
		g->stats->pf_demand++;
		fault_in(g, p, vi);
	} else if (op == TDP_OP_WRITE && !vpage_writable(v)) {
		g->stats->pf_cow++;
		break_cow(g, p, vi);
	} else {
		return;
	}
	/* the #PF handler ran in the kernel (KPTI: on the kernel PGD) */
	if (cpl == 3)
		enter_user(g);
	emit_access(g, gva, op, cpl, ac);
}

/* ------------------------------------------------------------------ */
/* What the processes and the kernel do in a time slice */

void kernel_work(struct gen *g, unsigned int n)
{
	const uint64_t kdata_frames = (g->m->kdata_end - g->m->kdata_start) >> PAGE_SHIFT;

	enter_kernel(g);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int r = rng_below(g, 100);

		if (r < 45) {
			/* hot kernel text: the first 256 KiB */
			uint64_t off = (uint64_t)rng_below(g, 64) << PAGE_SHIFT;

			emit_access(g, g->m->ktext_va + off + (rng_below(g, 512) << 3), TDP_OP_FETCH, 0, -1);
		} else if (r < 55) {
			/* rodata lives in the same 2 MiB page */
			emit_access(g, g->m->ktext_va + (1ull << 20) + (rng_below(g, 4096) << 6),
				    TDP_OP_READ, 0, -1);
		} else {
			/* slab and stacks: mostly a hot 64-page set in kernel data */
			uint64_t frame = rng_chance(g, 80) ? rng_below(g, 64) :
					 rng_below(g, kdata_frames);
			uint64_t gva = gen_direct_map(g, (g->m->kdata_start >> PAGE_SHIFT) + frame) +
				       (rng_below(g, 512) << 3);

			emit_access(g, gva, rng_chance(g, 40) ? TDP_OP_WRITE : TDP_OP_READ, 0, -1);
		}
	}
}

static unsigned int pick_heap(struct gen *g, struct proc *p)
{
	if (rng_chance(g, 80))
		return p->heap_hot + rng_below(g, 16);
	return VP_HEAP0 + rng_below(g, HEAP_PAGES);
}

void user_work(struct gen *g, unsigned int n)
{
	struct proc *p = &g->procs[g->cur];

	enter_user(g);
	for (unsigned int i = 0; i < n && !g->err; i++) {
		unsigned int r = rng_below(g, 100), vi;

		if (r < 30) {
			/* instruction stream: stay, step or jump within the text */
			if (rng_chance(g, 20))
				p->text_pc = rng_chance(g, 70) ? rng_below(g, 8) :
					     rng_below(g, TEXT_PAGES);
			else if (rng_chance(g, 30))
				p->text_pc = (p->text_pc + 1) % TEXT_PAGES;
			gen_touch(g, p->text_pc, TDP_OP_FETCH, 3, -1);
		} else if (r < 75) {
			vi = pick_heap(g, p);
			if (p->vp[vi].flags & VP_EXEC)	/* JIT code after mprotect */
				gen_touch(g, vi, rng_chance(g, 50) ? TDP_OP_FETCH : TDP_OP_READ, 3, -1);
			else
				gen_touch(g, vi, rng_chance(g, 40) ? TDP_OP_WRITE : TDP_OP_READ, 3, -1);
		} else if (r < 80) {
			/* memcpy-like sequential run over the heap */
			unsigned int len = 2 + rng_below(g, 7);
			unsigned int start = VP_HEAP0 + rng_below(g, HEAP_PAGES - len);
			int op = rng_chance(g, 50) ? TDP_OP_WRITE : TDP_OP_READ;

			for (unsigned int k = 0; k < len; k++) {
				vi = start + k;
				if (!(p->vp[vi].flags & VP_WRITE))
					op = TDP_OP_READ;
				gen_touch(g, vi, op, 3, -1);
			}
		} else {
			/* the stack: mostly the top few pages */
			vi = NR_VPAGES - 1 - (rng_chance(g, 85) ? rng_below(g, 4) :
					      rng_below(g, STACK_PAGES));
			gen_touch(g, vi, rng_chance(g, 50) ? TDP_OP_WRITE : TDP_OP_READ, 3, -1);
		}
	}
	if (rng_chance(g, 5))
		p->heap_hot = VP_HEAP0 + rng_below(g, HEAP_PAGES - 16);
}

/* read()/write(): copy_to_user / copy_from_user under STAC (AC=1). */
static void syscall_work(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	unsigned int len = 1 + rng_below(g, 4);
	unsigned int start = p->heap_hot + rng_below(g, 16 - len);
	int op = rng_chance(g, 50) ? TDP_OP_WRITE : TDP_OP_READ;

	kernel_work(g, 2);
	for (unsigned int k = 0; k < len; k++) {
		unsigned int vi = start + k;

		gen_touch(g, vi, (p->vp[vi].flags & VP_WRITE) ? op : TDP_OP_READ, 0, 1);
	}
	kernel_work(g, 1);
}

/*
 * A deliberate SMAP violation: a supervisor read of a present user page
 * with AC=0.  A real kernel would oops; here it stands for a buggy
 * copy_from_user without STAC caught by an exception-table fixup (as in
 * LKDTM's ACCESS_USERSPACE test), so the guest goes on.  Done at most
 * three times per trace: each is a #PF the replayer must report with
 * PFERR_PRESENT|USER clear and the SMAP logic in permission_fault().
 */
void smap_violation(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	unsigned int first = VP_HEAP0 + rng_below(g, HEAP_PAGES + STACK_PAGES);

	enter_kernel(g);
	for (unsigned int k = 0; k < HEAP_PAGES + STACK_PAGES; k++) {
		unsigned int vi = VP_HEAP0 + (first - VP_HEAP0 + k) % (HEAP_PAGES + STACK_PAGES);

		if (!p->vp[vi].frame)
			continue;
		emit_mark(g, "smap-violation");
		emit_access(g, vpage_gva(g, vi), TDP_OP_READ, 0, 0);
		g->stats->pf_smap++;
		g->smap_done++;
		return;
	}
}

/* flush_tlb_range(): per-page invlpg for small ranges, else a full flush. */
static void flush_range(struct gen *g, unsigned int start, unsigned int len, unsigned int changed)
{
	if (!changed)
		return;
	if (len > 8) {
		tlb_shootdown(g, 0, true);
		return;
	}
	for (unsigned int k = 0; k < len; k++)
		tlb_shootdown(g, vpage_gva(g, start + k), false);
}

/* mprotect() a heap range between RW- (NX) and R-X (a JIT's code buffer). */
void do_mprotect(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	unsigned int len = 1 + rng_below(g, 16);
	unsigned int start = VP_HEAP0 + rng_below(g, HEAP_PAGES - len);
	uint8_t prot = (p->vp[start].flags & VP_EXEC) ? VP_WRITE : VP_EXEC;
	unsigned int changed = 0;

	kernel_work(g, 2);
	for (unsigned int k = 0; k < len; k++) {
		struct vpage *v = &p->vp[start + k];
		uint64_t old = v->frame ? vpage_pte(g, v) : 0;

		v->flags = (v->flags & VP_COW) | prot;
		if (v->frame && vpage_pte(g, v) != old) {
			vpage_set_pte(g, p, start + k);
			changed++;
		}
	}
	flush_range(g, start, len, changed);
}

/*
 * munmap() a heap range (the allocator then maps it again with MAP_FIXED,
 * so later touches demand-fault): clear the PTEs, flush, free the frames
 * and any page-table page left empty.
 */
void do_munmap(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	unsigned int len = 1 + rng_below(g, 32);
	unsigned int start = VP_HEAP0 + rng_below(g, HEAP_PAGES - len);
	unsigned int changed = 0;

	kernel_work(g, 2);
	for (unsigned int k = 0; k < len; k++) {
		struct vpage *v = &p->vp[start + k];

		if (v->frame) {
			vpage_zap(g, p, start + k);
			changed++;
		}
		v->flags = VP_WRITE;
	}
	/*
	 * Free the emptied tables before flushing, as tlb_finish_mmu() does:
	 * INVLPG also drops the paging-structure caches (SDM 4.10.4.1), so
	 * the flush then covers the freed tables too.
	 */
	prune(g, p->pml4, g->m->levels, g->m->top_user);
	flush_range(g, start, len, changed);
}

int pick_proc(struct gen *g, bool allow_init)
{
	int live[MAX_PROCS], n = 0;

	for (int i = 0; i < MAX_PROCS; i++)
		if (g->procs[i].live && (allow_init || i != 0))
			live[n++] = i;
	return n ? live[rng_below(g, n)] : -1;
}

void gen_slice(struct gen *g)
{
	int next;

	/* 70% round robin, 30% a random wakeup */
	if (rng_chance(g, 70)) {
		next = g->cur;
		do
			next = (next + 1) % MAX_PROCS;
		while (!g->procs[next].live);
	} else {
		next = pick_proc(g, true);
	}
	if (next != g->cur)
		switch_to(g, next);
	kernel_work(g, 2 + rng_below(g, 5));
	user_work(g, 10 + rng_below(g, 50));
	if (rng_chance(g, 30))
		syscall_work(g);
	g->slices++;
}

/* ------------------------------------------------------------------ */
/* Boot: swapper_pg_dir with the direct map and kernel text */

/* All of the kernel's paging registers at once, with CR3 = table @pgd. */
void load_regs(struct gen *g, uint16_t pgd)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	ev.present = TDP_KEY_BIT(SET, cr0) | TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cr4) |
		     TDP_KEY_BIT(SET, efer) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
		       X86_CR0_AM | X86_CR0_PG;
	ev.u.set.cr3 = (uint64_t)g->pt[pgd].frame << PAGE_SHIFT;
	ev.u.set.cr4 = g->cr4;
	ev.u.set.efer = g->m->levels == 4 ? EFER_SCE | EFER_LME | EFER_LMA | EFER_NX :
			g->m->nx ? EFER_NX : 0;
	ev.u.set.cpl = 0;
	gen_emit(g, &ev);
}

/*
 * 4-level swapper_pg_dir: the direct map and the kernel text, both global
 * unless KPTI is on (g->kglobal).
 */
static void map_kernel_4level(struct gen *g)
{
	uint64_t nr_pd = (g->opts->mem + (1ull << 30) - 1) >> 30;
	uint16_t dm_pdpt, kt_pdpt, kt_pd;

	dm_pdpt = g->swapper ? pt_link_new(g, g->swapper, PT_INDEX(DIRECT_MAP, 4), KERNEL_TABLE) : 0;
	for (uint64_t i = 0; i < nr_pd && dm_pdpt; i++) {
		uint16_t pd = pt_link_new(g, dm_pdpt, PT_INDEX(DIRECT_MAP, 3) + i, KERNEL_TABLE);

		for (unsigned int j = 0; j < PT_ENTRIES && pd; j++) {
			uint64_t pa = ((i << 9) + j) * HPAGE_SIZE;

			if (pa >= g->opts->mem)
				break;
			pt_set(g, pd, j, pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE |
			       g->kglobal | PT_NX, 0);
		}
	}
	kt_pdpt = g->swapper ? pt_link_new(g, g->swapper, PT_INDEX(KTEXT_VA, 4), KERNEL_TABLE) : 0;
	kt_pd = kt_pdpt ? pt_link_new(g, kt_pdpt, PT_INDEX(KTEXT_VA, 3), KERNEL_TABLE) : 0;
	if (!kt_pd)
		return;
	pt_set(g, kt_pd, PT_INDEX(KTEXT_VA, 2),
	       g->m->ktext_phys | PT_PRESENT | PT_PAGE_SIZE | g->kglobal, 0);
}

void gen_boot(struct gen *g)
{
	emit_mark(g, "boot");
	g->swapper = table_alloc(g);
	if (g->m->map_kernel)
		g->m->map_kernel(g);
	else
		map_kernel_4level(g);
	if (g->err)
		return;
	/* KVM_SET_SREGS-like: long mode (or PAE) with paging on swapper_pg_dir */
	g->cr4 = g->cr4_extra | X86_CR4_PSE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP |
		 (g->m->levels > 2 ? X86_CR4_PAE : 0);
	load_regs(g, g->swapper);
	g->l2_paging = true;
	kernel_work(g, 64);

	/* init: exec'd from scratch, runs a little before forking */
	g->procs[0].pml4 = pgd_alloc(g);
	if (!g->procs[0].pml4)
		return;
	proc_init(g, &g->procs[0]);
	switch_to(g, 0);
	for (int i = 0; i < 3; i++)
		gen_slice(g);
}

/* ------------------------------------------------------------------ */
/* The workloads */

/*
 * fork(), then the parent returns to user mode for a moment (so its TLB
 * must already be clean of the W it lost) before the child runs.
 */
void fork_and_run(struct gen *g, int parent)
{
	int ci = proc_fork(g, parent);

	if (ci < 0)
		return;
	user_work(g, 4 + rng_below(g, 8));
	switch_to(g, ci);
	gen_slice(g);
}

int gen_main(struct gen *g)
{
	uint64_t target = g->opts->events;
	/*
	 * About one slice: steady state stops when the next one plus the
	 * teardown would pass the target.  Forks, the biggest steps (two
	 * writes per present page), are not started near the end.
	 */
	const uint64_t reserve = gen_l2(g) ? 220 : 120, fork_reserve = 1000;

	if (g->k->boot)
		g->k->boot(g);
	else
		gen_boot(g);

	emit_mark(g, "fork");
	while (!g->err && g->nr_live < g->nproc_target &&
	       g->stats->events + teardown_cost(g) + fork_reserve < target) {
		int live = g->nr_live;

		fork_and_run(g, pick_proc(g, true));
		if (g->nr_live == live)
			break;
	}

	emit_mark(g, "steady");
	while (!g->err && g->stats->events + teardown_cost(g) + reserve < target) {
		uint64_t s = g->slices;

		if (g->k->pre_slice)
			g->k->pre_slice(g, s);
		gen_slice(g);
		if (g->k->post_slice && !g->k->post_slice(g, s))
			continue;
		if (s % 16 == 3) {
			do_munmap(g);
			user_work(g, 4 + rng_below(g, 8));
		}
		if (s % 40 == 20 && g->stats->events + teardown_cost(g) + fork_reserve < target) {
			/* churn, so page-table pages get freed and reused */
			if (g->nr_live > g->nproc_target || (g->nr_live > 2 && rng_chance(g, 50)))
				proc_exit(g, pick_proc(g, false));
			if (g->nr_live < MAX_PROCS)
				fork_and_run(g, pick_proc(g, true));
		}
	}

	emit_mark(g, "teardown");
	if (g->k->teardown)
		g->k->teardown(g);
	for (int i = MAX_PROCS - 1; i > 0 && !g->err; i--)
		if (g->procs[i].live)
			proc_exit(g, i);
	if (!g->err && g->cur != 0)
		switch_to(g, 0);
	if (g->k->shutdown)
		g->k->shutdown(g);
	return g->err;
}
