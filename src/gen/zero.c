// SPDX-License-Identifier: GPL-2.0-only
/*
 * zero: a fault-dominated guest, for shadow-fault throughput.  Nearly every
 * access is a first touch of memory nobody has touched before:
 *
 *  - boot: the kernel zeroes free memory through the direct map, one store
 *    per 4 KiB frame (init_on_free / memblock's free pages being cleared);
 *  - then, round after round, a fresh process (exec) faults in a large
 *    anonymous heap from its first page to its last (a calloc()ed buffer
 *    being filled, or a JVM pre-touching its heap): each page is a write
 *    that takes a not-present #PF, the handler links page tables as
 *    needed, clears a frame through the direct map, writes the PTE, and
 *    the store is retried; the process then exits (its PTEs zapped, its
 *    tables and frames freed) and the next round reuses the memory.
 *
 * The heap is half of the free memory, in 4 KiB pages at ZHEAP_BASE.  The
 * invariants of guest.c hold: frames freed at exit were zeroed when taken,
 * and an exited process's tables are no longer any vCPU's CR3.
 */
#include <stdlib.h>

#include <tdpsim/errors.h>

#include "gen/gen-int.h"

#define ZHEAP_BASE	0x7f0000000000ull
/* per heap page: the faulting store, the clear, the PTE, the retry, the zap */
#define ZPAGE_EVENTS	5

struct zero_state {
	uint32_t *frame;	/* [heap_max]: the frame behind heap page i */
	uint64_t heap_max;
};

/* The kernel clears free frames before the page allocator hands them out. */
static void zero_boot_memory(struct gen *g, uint64_t budget)
{
	uint64_t n = 0;

	emit_mark(g, "zero-free-memory");
	for (uint32_t f = g->next_frame; f < g->end_frame && n < budget && !g->err; f++, n++)
		emit_access(g, gen_direct_map(g, f), TDP_OP_WRITE, 0, -1);
}

/* One exec'd process filling @npages of fresh heap, then exiting. */
static void zero_round(struct gen *g, struct zero_state *z, uint64_t npages)
{
	struct proc *p = &g->procs[1];

	emit_mark(g, "exec");
	p->pml4 = pgd_alloc(g);
	if (!p->pml4)
		return;
	p->live = true;
	g->nr_live++;
	switch_to(g, 1);
	kernel_work(g, 8);
	for (uint64_t i = 0; i < npages && !g->err; i++) {
		uint64_t gva = ZHEAP_BASE + i * PAGE_SIZE;
		uint16_t t;
		bool reused;

		emit_access(g, gva, TDP_OP_WRITE, 3, -1);
		g->stats->pf_demand++;
		t = walk_alloc(g, p, gva);
		z->frame[i] = frame_alloc(g, &reused);
		if (!t || !z->frame[i])
			return;
		/* clear_page() through the direct map, then set_pte_at() */
		emit_access(g, gen_direct_map(g, z->frame[i]), TDP_OP_WRITE, 0, -1);
		pt_set(g, t, pt_index(g, gva, 1), ((uint64_t)z->frame[i] << PAGE_SHIFT) |
		       PT_PRESENT | PT_WRITABLE | PT_USER | PT_NX, 0);
		emit_access(g, gva, TDP_OP_WRITE, 3, -1);
	}

	/*
	 * exit_mmap(): zap and free while still on the mm, then switch to
	 * init (the CR3 load is the flush), then free the PML4.
	 */
	emit_mark(g, "exit");
	for (uint64_t i = 0; i < npages && !g->err; i++) {
		uint64_t gva = ZHEAP_BASE + i * PAGE_SIZE;
		uint16_t t = walk_lookup(g, p, gva);

		if (t)
			pt_set(g, t, pt_index(g, gva, 1), 0, 0);
		frame_free(g, z->frame[i]);
	}
	prune(g, p->pml4, g->m->levels, g->m->top_user);
	switch_to(g, 0);
	for (unsigned int i = 0; i < g->m->top_entries; i++) {
		uint16_t c = i < g->m->top_user ? g->pt[p->pml4].child[i] : 0;

		if (!g->pt[p->pml4].e[i])
			continue;
		pt_set(g, p->pml4, i, 0, 0);
		if (c)
			table_free(g, c);
	}
	table_free(g, p->pml4);
	p->pml4 = 0;
	p->live = false;
	g->nr_live--;
	g->stats->exits++;
}

static int zero_run(struct gen *g)
{
	const uint64_t target = g->opts->events;
	/* a round's fixed part: marks, switches, kernel work, table writes */
	const uint64_t round_fixed = 64;
	struct zero_state z;

	gen_boot(g);
	if (g->err)
		return g->err;
	z.heap_max = (g->end_frame - g->next_frame) / 2;
	z.frame = calloc(z.heap_max, sizeof(*z.frame));
	if (!z.frame) {
		gen_fail(g, TDP_E_NOMEM, "out of memory for the guest model");
		return g->err;
	}
	/* a short phase: KVM prefetches 8 direct-map SPTEs per fault */
	zero_boot_memory(g, target / 16);
	/* a tiny last round would be all overhead */
	while (!g->err && g->stats->events + round_fixed + 16 * ZPAGE_EVENTS < target) {
		/* each PT page adds two stores (link, unlink) per 512 pages */
		uint64_t npages = (target - g->stats->events - round_fixed) * 512 /
				  (ZPAGE_EVENTS * 512 + 2);

		if (npages > z.heap_max)
			npages = z.heap_max;
		zero_round(g, &z, npages);
	}
	emit_mark(g, "teardown");
	free(z.frame);
	return g->err;
}

static const struct gen_kind kind_zero = {
	.m = &mode_4level, .nproc = 1, .tables_per_gib = 260, .run = zero_run,
};

GEN_WORKLOAD_FN(gen_zero)
{
	return gen_run_kind(&kind_zero, w, opts, stats, errbuf);
}
