// SPDX-License-Identifier: GPL-2.0-only
/*
 * db: a database-like guest with a large working set in huge pages.
 *
 * The linux guest of guest.c (init, a few helper processes, fork/COW,
 * demand paging, munmap of per-query memory) plus one server process with
 * a buffer pool of 2 MiB pages (hugetlbfs / THP) at DB_POOL_VA: physical
 * memory above DB_SMALL_END, so the pool grows with --mem (192 MiB at the
 * default 256 MiB, ~16 GiB at 16 GiB).  Each query enters the kernel
 * (recv/send), reads index and data pages of the pool -- a hot tenth of
 * it most of the time, anywhere otherwise, at cache-line offsets all over
 * each 2 MiB page -- dirties some, and appends to a log in its 4 KiB heap.
 * A pool page is mapped by one PDE at its first touch (a huge-page fault:
 * PD links as needed, the 2 MiB frame cleared through the direct map).
 *
 * Under shadow paging KVM maps each guest 2 MiB page with 4 KiB SPTEs
 * unless it can use a huge SPTE, so the working set decides how many
 * shadow pages and faults it takes; under TDP it is one EPT/NPT mapping.
 * At teardown the server unmaps the pool (PDEs cleared, flushed).
 */
#include "gen/gen-int.h"

#define DB_POOL_VA	0x7e0000000000ull
#define DB_SMALL_END	(64ull << 20)	/* 4 KiB frames below, 2 MiB above */
#define DB_SERVER	1		/* the server's process slot */
#define DB_POOL_MAX	8192		/* 16 GiB of 2 MiB pages */

struct db_state {
	uint16_t pd[DB_POOL_MAX / 512];	/* pool PD pages (pool indices) */
	bool mapped[DB_POOL_MAX];
	uint32_t npool, nmapped, hot0, nhot;
};

static struct db_state *db(struct gen *g)
{
	return g->priv;
}

static uint64_t pool_va(unsigned int i)
{
	return DB_POOL_VA + (uint64_t)i * HPAGE_SIZE;
}

/* The huge-page fault: the PD (and PDPT) linked on demand, a PS=1 PDE. */
static void pool_fault(struct gen *g, unsigned int i)
{
	struct db_state *d = db(g);
	struct proc *p = &g->procs[DB_SERVER];
	uint64_t frame = DB_SMALL_END + (uint64_t)i * HPAGE_SIZE;
	uint16_t t = p->pml4;

	if (!d->pd[i / 512]) {
		for (int level = 4; level > 2 && t; level--) {
			unsigned int k = pt_index(g, pool_va(i), level);
			uint16_t c = g->pt[t].child[k];

			t = c ? c : pt_link_new(g, t, k, USER_TABLE);
		}
		d->pd[i / 512] = t;
		if (!t)
			return;
	}
	/* clear_huge_page(): the first and the last subpage stand for all */
	emit_access(g, gen_direct_map(g, frame >> PAGE_SHIFT), TDP_OP_WRITE, 0, -1);
	emit_access(g, gen_direct_map(g, frame >> PAGE_SHIFT) + HPAGE_SIZE - PAGE_SIZE,
		    TDP_OP_WRITE, 0, -1);
	pt_set(g, d->pd[i / 512], pt_index(g, pool_va(i), 2),
	       frame | PT_PRESENT | PT_WRITABLE | PT_USER | PT_PAGE_SIZE | PT_NX, 0);
	d->mapped[i] = true;
	d->nmapped++;
	/* two PDE zaps at teardown (see teardown_cost()) */
	g->teardown_extra++;
}

/* One access to the pool, with the huge-page fault the guest expects. */
static void pool_touch(struct gen *g, unsigned int i, int op)
{
	/* a cache line anywhere in the 2 MiB page */
	uint64_t gva = pool_va(i) + ((uint64_t)rng_below(g, 1u << 15) << 6);

	emit_access(g, gva, op, 3, -1);
	if (db(g)->mapped[i])
		return;
	g->stats->pf_demand++;
	pool_fault(g, i);
	emit_access(g, gva, op, 3, -1);
}

static unsigned int pick_pool(struct gen *g)
{
	struct db_state *d = db(g);

	if (rng_chance(g, 80))
		return d->hot0 + rng_below(g, d->nhot);
	return rng_below(g, d->npool);
}

/* A query: syscall in, index probes, data reads, some dirtied, syscall out. */
static bool db_step(struct gen *g, uint64_t s)
{
	struct db_state *d = db(g);

	if (!g->procs[DB_SERVER].live)
		return false;
	if (g->cur != DB_SERVER)
		switch_to(g, DB_SERVER);
	for (unsigned int q = 2 + rng_below(g, 6); q && !g->err; q--) {
		kernel_work(g, 3);
		for (unsigned int k = 4 + rng_below(g, 12); k; k--)
			pool_touch(g, pick_pool(g), rng_chance(g, 15) ? TDP_OP_WRITE : TDP_OP_READ);
		user_work(g, 2 + rng_below(g, 4));
		kernel_work(g, 2);
	}
	/* the hot set drifts: another tenth of the pool becomes hot */
	if (s % 200 == 199)
		d->hot0 = rng_below(g, d->npool - d->nhot + 1);
	/* per-query memory comes and goes; the server itself never exits */
	if (s % 16 == 3) {
		do_munmap(g);
		user_work(g, 4 + rng_below(g, 8));
	}
	return false;
}

/* Unmap the pool: PDEs cleared, then one flush (a range > 33 pages). */
static void db_teardown(struct gen *g)
{
	struct db_state *d = db(g);
	struct proc *p = &g->procs[DB_SERVER];

	if (!p->live)
		return;
	if (g->cur != DB_SERVER)
		switch_to(g, DB_SERVER);
	for (unsigned int i = 0; i < d->npool; i++)
		if (d->mapped[i])
			pt_set(g, d->pd[i / 512], pt_index(g, pool_va(i), 2), 0, 0);
	/* flush_tlb_mm_range() over the range: a CR3 reload (flush_tlb_local) */
	emit_flush(g, TDP_FLUSH_CR3);
	/* the emptied PDs go with the process's other tables at its exit */
}

static int db_run(struct gen *g)
{
	struct db_state d = { 0 };

	d.npool = (g->opts->mem - DB_SMALL_END) / HPAGE_SIZE;
	if (d.npool > DB_POOL_MAX)
		d.npool = DB_POOL_MAX;
	d.nhot = d.npool / 10 ? d.npool / 10 : 1;
	g->priv = &d;
	g->teardown_extra = 2;		/* the switch to the server, the flush */
	return gen_main(g);
}

static const struct gen_kind kind_db = {
	.m = &mode_4level, .nproc = 4, .alloc_end = DB_SMALL_END, .run = db_run,
	.post_slice = db_step, .teardown = db_teardown,
};

GEN_WORKLOAD_FN(gen_db)
{
	return gen_run_kind(&kind_db, w, opts, stats, errbuf);
}
