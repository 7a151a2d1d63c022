/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interface of the workload generator (src/gen/): the guest model
 * every workload file builds on.  Only src/gen includes it; it depends on
 * the public trace API and nothing else of tdpsim.
 */
#ifndef TDPSIM_GEN_INT_H
#define TDPSIM_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tdpsim/gen.h>
#include <tdpsim/trace.h>

/* ------------------------------------------------------------------ */
/* x86 bits (SDM vol. 3 ch. 2 and 4) */

#define X86_CR0_PE	(1ull << 0)
#define X86_CR0_MP	(1ull << 1)
#define X86_CR0_ET	(1ull << 4)
#define X86_CR0_NE	(1ull << 5)
#define X86_CR0_WP	(1ull << 16)
#define X86_CR0_AM	(1ull << 18)
#define X86_CR0_PG	(1ull << 31)
#define X86_CR4_PSE	(1ull << 4)
#define X86_CR4_PAE	(1ull << 5)
#define X86_CR4_PGE	(1ull << 7)
#define X86_CR4_SMEP	(1ull << 20)
#define X86_CR4_SMAP	(1ull << 21)
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NX		(1ull << 11)

/*
 * 64-bit paging entry, as this guest uses it:
 *
 *   63  62..52 51..46  45........12 11..9 8 7  6 5 4   3   2  1  0
 *   NX  ign=0  rsvd=0  frame        0     G PS D A PCD PWT US RW P
 *
 * (bits 51..46 are reserved with MAXPHYADDR 46; the guest never sets
 * them because every frame is below mem <= 16 GiB.)  A and D are left to
 * the CPU / KVM.  2 MiB PDEs additionally keep bits 20..13 zero.
 */
#define PT_PRESENT	(1ull << 0)
#define PT_WRITABLE	(1ull << 1)
#define PT_USER		(1ull << 2)
#define PT_PAGE_SIZE	(1ull << 7)
#define PT_GLOBAL	(1ull << 8)
#define PT_NX		(1ull << 63)
#define PT_ADDR_MASK	0x000ffffffffff000ull

_Static_assert((PT_ADDR_MASK & (PT_PRESENT | PT_WRITABLE | PT_USER | PT_PAGE_SIZE |
				PT_GLOBAL | PT_NX)) == 0, "flags overlap the address");
_Static_assert(TDP_GEN_MEM_MAX <= (1ull << 46), "frames must stay below MAXPHYADDR 46");

#define PT_ENTRIES	512
#define MAX_PT_ENTRIES	1024	/* 32-bit paging: 1024 4-byte entries */
#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ull << PAGE_SHIFT)
#define HPAGE_SIZE	(2ull << 20)
#define PT_INDEX(va, level) (((va) >> (PAGE_SHIFT + 9 * ((level) - 1))) & (PT_ENTRIES - 1))

/* Upper-level entries: Linux's _PAGE_TABLE / _KERNPG_TABLE (A/D left out). */
#define USER_TABLE	(PT_PRESENT | PT_WRITABLE | PT_USER)
#define KERNEL_TABLE	(PT_PRESENT | PT_WRITABLE)

/* ------------------------------------------------------------------ */
/* Guest layout */

#define KDATA_START	(1ull << 20)
#define KTEXT_PHYS	(16ull << 20)
#define ALLOC_START	(KTEXT_PHYS + HPAGE_SIZE)
#define DIRECT_MAP	0xffff888000000000ull
#define KTEXT_VA	0xffffffff81000000ull

#define TEXT_BASE	0x400000ull
#define HEAP_BASE	0x11c0000ull
#define STACK_TOP	0x7ffffffff000ull	/* the highest user page */
#define TEXT_PAGES	32
#define HEAP_PAGES	256
#define STACK_PAGES	32
#define NR_VPAGES	(TEXT_PAGES + HEAP_PAGES + STACK_PAGES)
#define VP_HEAP0	TEXT_PAGES
#define VP_STACK0	(TEXT_PAGES + HEAP_PAGES)

_Static_assert(PT_INDEX(DIRECT_MAP, 4) == 273 && PT_INDEX(KTEXT_VA, 4) == 511,
	       "kernel PML4 slots");
_Static_assert(PT_INDEX(HEAP_BASE, 2) != PT_INDEX(HEAP_BASE + HEAP_PAGES * PAGE_SIZE - 1, 2),
	       "the heap should span two PT pages");
_Static_assert(KTEXT_PHYS % HPAGE_SIZE == 0, "kernel text is one 2 MiB page");

/*
 * The paging mode the guest runs in.  4-level: the layout drawn at the top.
 * PAE (a 32-bit kernel with a 3G/1G split): PDPTE 3 maps the kernel, with
 * the direct map of [0, min(mem, 896M)) at 0xc0000000 in 2 MiB pages and
 * the kernel text being the direct map's page at 16 MiB; user text at
 * 0x8000000, heap at 0x91c0000, stack below 0xc0000000.  The PDPTEs are
 * loaded with CR3 and have no R/W, U/S or NX bits, so, as Linux's PAE
 * pgd_alloc() does, all four are set up front and never change while the
 * PDPT is in use (user PDs are freed only with the PDPT).
 */
struct gen;

struct pmode {
	int levels;
	unsigned int bits, esize;		/* index bits per level, entry bytes */
	uint64_t nx;				/* PT_NX, or 0 where there is none */
	unsigned int top_entries, top_user;	/* top-level slots; [0, top_user) is user */
	uint64_t text_base, heap_base, stack_top;
	uint64_t kdirect, ktext_va;		/* VA of physical 0; of the kernel text */
	uint64_t ktext_phys;			/* 4-level: the text's 2 MiB frame */
	uint64_t kdata_start, kdata_end;	/* slab and stacks (physical) */
	uint64_t direct_max;			/* end of the direct map */
	/* builds swapper_pg_dir's kernel half; NULL: the 4-level one */
	void (*map_kernel)(struct gen *g);
};


#define PAE_PAGE_OFFSET	0xc0000000ull
#define PAE_MEM_MAX	(896ull << 20)
#define PAE_HEAP_BASE	0x91c0000ull



#define MAX_PROCS	8
/*
 * Table pool: per process at most PML4 + 2 PDPT + 2 PD + 4 PT (text,
 * heap x2, stack) = 9; kernel: swapper's PML4, 2 PDPTs, 16 direct-map PDs
 * (16 GiB), 1 text PD.  Index 0 means "no table".
 */
#define MAX_TABLES	(1 + MAX_PROCS * 9 + 20 + 8)

/* Per-page state of a process's user mapping (struct vpage::flags). */
#define VP_WRITE	0x1	/* the VMA allows writes */
#define VP_EXEC		0x2	/* the VMA allows fetches */
#define VP_COW		0x4	/* shared since fork: PTE read-only until broken */

struct vpage {
	uint32_t frame;		/* 0: not present */
	uint8_t flags;
};

struct proc {
	bool live;
	uint16_t pml4;		/* pool index */
	uint32_t nr_present;	/* vpages with a frame */
	uint32_t text_pc, heap_hot;	/* locality cursors (vpage indices) */
	struct vpage vp[NR_VPAGES];
};

struct pt_page {
	uint64_t e[MAX_PT_ENTRIES];	/* the guest's view of the table */
	uint16_t child[MAX_PT_ENTRIES];	/* pool index of the table e[i] points at */
	uint32_t frame;
	uint16_t nr_present;
	uint16_t next_free;
	uint16_t mirror;		/* KPTI: the user PGD whose user half copies this */
};

#define GEN_MAX_VCPUS	4

/*
 * What makes one workload of the guest model: its paging mode, how many
 * processes it keeps, whether it runs as L2, and hooks into the shared
 * main loop (gen_main() in guest.c).  A workload with a loop of its own
 * sets run instead.  NULL hooks do nothing (boot: gen_boot()).
 */
struct gen_kind {
	const struct pmode *m;
	int nproc;
	bool l2;			/* L2 under an L1 hypervisor: paging=nested */
	bool mbec_gmet;			/* L1 uses MBEC (intel) / GMET (amd) */
	unsigned int vcpus;		/* 0 or 1: one vCPU, no vcpu= keys */
	unsigned int tables_per_gib;	/* table pool: MAX_TABLES + this per GiB of mem */
	uint64_t alloc_end;		/* 0: 4K frames up to mem; else their end (bytes) */
	int (*run)(struct gen *g);	/* NULL: gen_main() */
	void (*boot)(struct gen *g);	/* NULL: gen_boot() */
	void (*shutdown)(struct gen *g);
	/* before steady-state slice @s */
	void (*pre_slice)(struct gen *g, uint64_t s);
	/* after it; false skips the shared munmap and process churn */
	bool (*post_slice)(struct gen *g, uint64_t s);
	/* first thing at teardown, before the processes exit */
	void (*teardown)(struct gen *g);
	/* the config line's extras (vcpus=, mbec=, gmet=) */
	void (*config)(const struct gen *g, struct tdp_config *cfg);
};

struct gen {
	tdp_writer_t *w;
	const struct tdp_gen_opts *opts;
	struct tdp_gen_stats *stats;
	char *errbuf;
	int err;
	const struct gen_kind *k;
	const struct pmode *m;
	uint64_t rng[4];
	uint64_t t;

	/* frame allocator: bump pointer, then a LIFO of freed frames */
	uint32_t next_frame, end_frame;
	uint32_t *free_stack;
	uint32_t nr_free;
	uint16_t *ref;			/* per frame: anonymous-page sharers */

	struct pt_page *pt;		/* [MAX_TABLES] */
	uint16_t pt_free;		/* pool free list head (0: empty) */
	uint16_t swapper;		/* swapper_pg_dir */
	uint32_t text_cache[TEXT_PAGES];	/* the text file's page cache */

	struct proc procs[MAX_PROCS];
	int cur;			/* running process, -1 in boot */
	int nr_live, nproc_target;
	uint64_t cr4;
	uint64_t slices;
	unsigned int smap_done;

	/* hvci, nested: the guest above is L2, run by an L1 hypervisor */
	uint64_t phys_base;		/* L1 GPA of the guest's physical 0 */
	uint64_t eptp;			/* EPTP (intel) or nested CR3 (amd) */
	bool in_l2;
	bool l2_paging;			/* the guest model runs with paging on (after gen_boot's load_regs) */
	uint16_t jit_pt, kalias_pt;	/* L2 kernel PTs (pool indices) */

	uint64_t kglobal;		/* PT_GLOBAL on kernel mappings, or 0 (KPTI) */
	uint64_t cr4_extra;		/* CR4 bits beyond the boot's (PCIDE) */

	/*
	 * linux-smp: vCPUs, KPTI, PCID.  g->cur and g->in_user are those of
	 * g->vcpu; the arrays hold the other vCPUs' (and the current one's as
	 * of its last switch).  With one vCPU and neither KPTI nor PCID none
	 * of this emits anything.
	 */
	unsigned int nvcpu, vcpu;
	int cur_of[GEN_MAX_VCPUS];
	bool in_user, in_user_of[GEN_MAX_VCPUS];
	bool kpti, pcid;
	/* PCIDs to flush at their next load: bit pi kernel, bit 8 + pi user */
	uint32_t stale[GEN_MAX_VCPUS];
	uint64_t teardown_extra;	/* events a workload's teardown hook emits */
	void *priv;			/* a workload's own state */
};

/* The guest is L2 under an L1 hypervisor (the config says paging=nested). */
static inline bool gen_l2(const struct gen *g)
{
	return g->k->l2;
}

/* L1 guest-physical layout of the nested workloads (hypervisor.c) */
#define HV_L1_CODE	0x10000ull
#define HV_L1_DATA	0x20000ull
#define HV_L1_PT	0x100000ull
#define HV_TDP		0x200000ull	/* EPT/NPT PML4, PDPT, PD, PT */
#define HV_L2_BASE	(4ull << 20)
#define HV_L2_MEM_MAX	(256ull << 20)
#define HV_JIT_GPA	(2ull << 20)
#define HV_JIT_PAGES	8
#define HV_UTEXT_GPA	(4ull << 20)
#define HV_DATA_GPA	(6ull << 20)
#define HV_ALLOC_GPA	(8ull << 20)
#define HV_JIT_VA	0xffffffffa0000000ull	/* module area */
#define HV_KALIAS_VA	0xffffffffa0200000ull	/* a rogue kernel mapping */
#define HV_UALIAS_VA	0x500000ull		/* a rogue user mapping */

/* ------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64 (Blackman & Vigna). */

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct gen *g)
{
	uint64_t *s = g->rng;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n), n <= 2^32 (Lemire's multiply-shift, bias < 2^-32). */
static inline uint32_t rng_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((rng_next(g) >> 32) * (uint64_t)n) >> 32);
}

static inline bool rng_chance(struct gen *g, unsigned int percent)
{
	return rng_below(g, 100) < percent;
}

/* ------------------------------------------------------------------ */
/* emit.c: events.  Errors are sticky: after one, everything is a no-op. */

void gen_fail(struct gen *g, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gen_emit(struct gen *g, struct tdp_event *ev);
void emit_write(struct gen *g, uint64_t gpa, uint64_t val, unsigned int size,
		uint64_t gva);
void emit_access(struct gen *g, uint64_t gva, int op, int cpl, int ac);
void emit_invlpg(struct gen *g, uint64_t gva);
void emit_flush(struct gen *g, enum tdp_flush_kind kind);
void emit_mark(struct gen *g, const char *label);
void emit_cr4(struct gen *g, uint64_t cr4);

/* ------------------------------------------------------------------ */
/* guest.c: the Linux-like guest (frames, page tables, processes, work) */

extern const struct pmode mode_4level;

uint32_t frame_alloc(struct gen *g, bool *reused);
void frame_free(struct gen *g, uint32_t frame);
uint16_t table_alloc(struct gen *g);
void table_free(struct gen *g, uint16_t idx);
void pt_set(struct gen *g, uint16_t t, unsigned int i, uint64_t val, uint16_t child);
uint16_t pt_link_new(struct gen *g, uint16_t t, unsigned int i, uint64_t flags);
uint16_t walk_alloc(struct gen *g, struct proc *p, uint64_t gva);
uint16_t walk_lookup(struct gen *g, struct proc *p, uint64_t gva);
void prune(struct gen *g, uint16_t t, int level, unsigned int nr);
void switch_to(struct gen *g, int pi);
void load_cr3(struct gen *g, unsigned int v, uint64_t cr3, unsigned int cpl);
uint64_t proc_cr3(struct gen *g, unsigned int v, int pi, bool user);
void enter_kernel(struct gen *g);
void enter_user(struct gen *g);
void ipi_enter(struct gen *g, unsigned int v);
void ipi_exit(struct gen *g, unsigned int v);
void gen_touch(struct gen *g, unsigned int vi, int op, int cpl, int ac);
void proc_exit(struct gen *g, int pi);
void fork_and_run(struct gen *g, int parent);
int pick_proc(struct gen *g, bool allow_init);
uint64_t teardown_cost(const struct gen *g);
uint16_t pgd_alloc(struct gen *g);
uint64_t gen_direct_map(const struct gen *g, uint64_t frame);
void kernel_work(struct gen *g, unsigned int n);
void user_work(struct gen *g, unsigned int n);
void do_mprotect(struct gen *g);
void do_munmap(struct gen *g);
void smap_violation(struct gen *g);
void gen_slice(struct gen *g);
void load_regs(struct gen *g, uint16_t pgd);
void gen_boot(struct gen *g);
int gen_main(struct gen *g);
/* linux.c: the linux step (SMAP violations, mprotect), also pae's and legacy32's */
bool linux_step(struct gen *g, uint64_t s);

/* Index of @va in a level-@level table of the guest's paging mode. */
static inline unsigned int pt_index(const struct gen *g, uint64_t va, int level)
{
	return (va >> (PAGE_SHIFT + g->m->bits * (level - 1))) & ((1u << g->m->bits) - 1);
}

/* ------------------------------------------------------------------ */
/* hypervisor.c: the L1 of the nested workloads (hooks of struct gen_kind) */

extern const struct pmode mode_hvci;

void hv_boot(struct gen *g);
void hv_shutdown(struct gen *g);
bool hv_step(struct gen *g, uint64_t s);

/* ------------------------------------------------------------------ */
/* common.c: the model's lifetime */

/*
 * gen_run_kind() - allocate the guest model for @k, write the config and
 * run the workload into @w.  Return: 0 or TDP_E_* with @errbuf set.
 */
int gen_run_kind(const struct gen_kind *k, tdp_writer_t *w, const struct tdp_gen_opts *opts,
		 struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE]);

/* one per workload file: the rows of the workload table (common.c) */
#define GEN_WORKLOAD_FN(name)						\
	int name(tdp_writer_t *w, const struct tdp_gen_opts *opts,	\
		 struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
GEN_WORKLOAD_FN(gen_linux);
GEN_WORKLOAD_FN(gen_smep_toggle);
GEN_WORKLOAD_FN(gen_pae);
GEN_WORKLOAD_FN(gen_legacy32);
GEN_WORKLOAD_FN(gen_hvci);
GEN_WORKLOAD_FN(gen_nested);
GEN_WORKLOAD_FN(gen_zero);
GEN_WORKLOAD_FN(gen_db);
GEN_WORKLOAD_FN(gen_linux_smp);
GEN_WORKLOAD_FN(gen_linux_kpti);
GEN_WORKLOAD_FN(gen_linux_kpti_pcid);

#endif /* TDPSIM_GEN_INT_H */
