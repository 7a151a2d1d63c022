// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux-smp, linux-kpti, linux-kpti-pcid: the linux guest of guest.c on
 * four vCPUs, the way a distribution kernel runs it.
 *
 *  - Time slices rotate over the vCPUs, each with its own current process;
 *    two vCPUs may run the same process (threads).  A PTE that loses a
 *    right or a frame is flushed on every vCPU running that process: the
 *    current one with INVLPG / a CR3 reload, the others in their IPI
 *    handlers (the `vcpu=` of the invlpg or flush).  Every 64th slice a
 *    flush_tlb_all() toggles CR4.PGE on every vCPU (the kernel's global
 *    pages go too).
 *  - read() through the page cache: the kernel reads file pages through
 *    the direct map (mostly sequential, readahead) and copies to the user
 *    heap with AC=1; more fork/exit churn than linux; mmap/munmap and
 *    mprotect as in linux.
 *  - linux-smp: kernel mappings global (direct map, text), one PGD per
 *    process.  linux-kpti: page-table isolation: no global kernel
 *    mappings, two PGDs per process (user half mirrored into a user PGD
 *    that maps only the kernel's entry text), a CR3 load at every kernel
 *    entry and exit.  linux-kpti-pcid: the same with CR4.PCIDE and Linux's
 *    PCIDs (kernel pi + 1, user with bit 11), CR3 loads with NOFLUSH
 *    unless that PCID was invalidated.
 */
#include "gen/gen-int.h"

#define SMP_VCPUS	4
#define FILE_PAGES	1024
#define X86_CR4_PCIDE	(1ull << 17)

struct smp_state {
	uint32_t cache[FILE_PAGES];	/* page cache of one big file */
	unsigned int pos;		/* readahead cursor */
};

/* The next vCPU takes its turn, with the process it was running. */
static void smp_rotate(struct gen *g)
{
	g->cur_of[g->vcpu] = g->cur;
	g->in_user_of[g->vcpu] = g->in_user;
	g->vcpu = (g->vcpu + 1) % g->nvcpu;
	g->cur = g->cur_of[g->vcpu];
	g->in_user = g->in_user_of[g->vcpu];
}

/*
 * flush_tlb_all() on a CPU without INVPCID: CR4.PGE off and on, each vCPU
 * (native_flush_tlb_global).  Emitted as the two `set cr4` it is, which
 * replay the same as a `flush kind=global` (KVM_REQ_TLB_FLUSH_GUEST) and
 * count the CR4 loads.
 */
static void flush_all(struct gen *g)
{
	enter_kernel(g);
	g->cur_of[g->vcpu] = g->cur;
	g->in_user_of[g->vcpu] = g->in_user;
	for (unsigned int v = 0; v < g->nvcpu; v++) {
		unsigned int saved = g->vcpu;

		if (v != saved) {
			g->stats->ipis++;
			ipi_enter(g, v);
		}
		g->vcpu = v;
		emit_cr4(g, g->cr4 & ~X86_CR4_PGE);
		emit_cr4(g, g->cr4);
		g->stale[v] = 0;	/* every PCID is flushed */
		g->vcpu = saved;
		if (v != saved)
			ipi_exit(g, v);
	}
	g->stats->cr4_flips += 2 * g->nvcpu;
}

static void smp_pre_slice(struct gen *g, uint64_t s)
{
	smp_rotate(g);
	if (s % 64 == 63)
		flush_all(g);
}

/* read(): page-cache pages through the direct map, copied to the heap. */
static void read_file(struct gen *g)
{
	struct smp_state *st = g->priv;
	struct proc *p = &g->procs[g->cur];

	kernel_work(g, 2);
	for (unsigned int n = 1 + rng_below(g, 4); n && !g->err; n--) {
		unsigned int fp = st->pos, vi = p->heap_hot + rng_below(g, 16);
		bool reused;

		st->pos = rng_chance(g, 90) ? (st->pos + 1) % FILE_PAGES : rng_below(g, FILE_PAGES);
		/* a miss: the device fills the page by DMA, no CPU store */
		if (!st->cache[fp])
			st->cache[fp] = frame_alloc(g, &reused);
		if (!st->cache[fp])
			return;
		emit_access(g, gen_direct_map(g, st->cache[fp]) + (rng_below(g, 64) << 6),
			    TDP_OP_READ, 0, -1);
		gen_touch(g, vi, (p->vp[vi].flags & VP_WRITE) ? TDP_OP_WRITE : TDP_OP_READ, 0, 1);
	}
	kernel_work(g, 1);
}

static bool smp_post_slice(struct gen *g, uint64_t s)
{
	if (rng_chance(g, 30))
		read_file(g);
	linux_step(g, s);
	/* fork/exit churn on top of the shared loop's */
	if (s % 20 == 5 && g->nr_live > 2 &&
	    g->stats->events + teardown_cost(g) + 1000 < g->opts->events) {
		proc_exit(g, pick_proc(g, false));
		fork_and_run(g, pick_proc(g, true));
	}
	return true;
}

/* The BSP boots; then each AP loads the kernel's registers (INIT-SIPI). */
static void smp_boot(struct gen *g)
{
	gen_boot(g);
	for (unsigned int v = 1; v < g->nvcpu && !g->err; v++) {
		unsigned int saved = g->vcpu;

		g->vcpu = v;
		load_regs(g, g->swapper);
		g->vcpu = saved;
	}
}

static int smp_run(struct gen *g, bool kpti, bool pcid)
{
	struct smp_state st = { { 0 }, 0 };

	g->priv = &st;
	g->kpti = kpti;
	g->pcid = pcid;
	if (kpti)
		g->kglobal = 0;
	if (pcid)
		g->cr4_extra = X86_CR4_PCIDE;
	/* teardown: threads leaving other vCPUs, KPTI's extra PGD writes */
	g->teardown_extra = 16 * g->nvcpu;
	return gen_main(g);
}

static int run_smp(struct gen *g)
{
	return smp_run(g, false, false);
}

static int run_kpti(struct gen *g)
{
	return smp_run(g, true, false);
}

static int run_kpti_pcid(struct gen *g)
{
	return smp_run(g, true, true);
}

#define SMP_KIND(runner)							\
	{ .m = &mode_4level, .nproc = 6, .vcpus = SMP_VCPUS, .tables_per_gib = 8,	\
	  .run = runner, .boot = smp_boot, .pre_slice = smp_pre_slice,		\
	  .post_slice = smp_post_slice }

static const struct gen_kind kind_smp = SMP_KIND(run_smp);
static const struct gen_kind kind_kpti = SMP_KIND(run_kpti);
static const struct gen_kind kind_kpti_pcid = SMP_KIND(run_kpti_pcid);

GEN_WORKLOAD_FN(gen_linux_smp)
{
	return gen_run_kind(&kind_smp, w, opts, stats, errbuf);
}

GEN_WORKLOAD_FN(gen_linux_kpti)
{
	return gen_run_kind(&kind_kpti, w, opts, stats, errbuf);
}

GEN_WORKLOAD_FN(gen_linux_kpti_pcid)
{
	return gen_run_kind(&kind_kpti_pcid, w, opts, stats, errbuf);
}
