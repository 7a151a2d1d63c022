// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synthetic workloads: a Linux-like x86-64 guest modelled as the guest OS
 * itself, so every page-table store in the trace is one the guest really
 * makes, to frames it really owns.  The same guest also runs as a 32-bit
 * kernel, with PAE or with 2-level paging (struct pmode below), and as L2
 * under an L1 hypervisor, either enforcing HVCI with MBEC/GMET (hvci) or
 * with plain nested EPT/NPT (nested, below).
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
};

static const struct pmode mode_4level = {
	.levels = 4, .bits = 9, .esize = 8, .nx = PT_NX,
	.top_entries = PT_ENTRIES, .top_user = PT_ENTRIES / 2,
	.text_base = TEXT_BASE, .heap_base = HEAP_BASE, .stack_top = STACK_TOP,
	.kdirect = DIRECT_MAP, .ktext_va = KTEXT_VA, .ktext_phys = KTEXT_PHYS,
	.kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS, .direct_max = TDP_GEN_MEM_MAX,
};

#define PAE_PAGE_OFFSET	0xc0000000ull
#define PAE_MEM_MAX	(896ull << 20)
#define PAE_HEAP_BASE	0x91c0000ull

static const struct pmode mode_pae = {
	.levels = 3, .bits = 9, .esize = 8, .nx = PT_NX, .top_entries = 4, .top_user = 3,
	.text_base = 0x8000000ull, .heap_base = PAE_HEAP_BASE, .stack_top = 0xbffff000ull,
	.kdirect = PAE_PAGE_OFFSET, .ktext_va = PAE_PAGE_OFFSET + KTEXT_PHYS,
	.ktext_phys = KTEXT_PHYS, .kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS,
	.direct_max = PAE_MEM_MAX,
};

_Static_assert(PT_INDEX(PAE_PAGE_OFFSET, 3) == 3, "PAE kernel PDPTE");
_Static_assert(PT_INDEX(PAE_HEAP_BASE, 2) != PT_INDEX(PAE_HEAP_BASE + HEAP_PAGES * PAGE_SIZE - 1, 2),
	       "the PAE heap should span two PT pages too");

/*
 * 32-bit paging (CR4.PAE=0, so no NX: R-X and RW- differ only in W): the
 * PDEs from 768 (0xc0000000) up map [0, min(mem, 896M)) with 4 MiB PSE
 * pages, writable, text included; user layout as for PAE, with the heap
 * crossing a 4 MiB boundary.  PSE-36 bits 20:13 stay 0 (mem < 4 GiB).
 */
#define LEGACY_HEAP_BASE	0x93c0000ull
#define LEGACY_HPAGE_SIZE	(4ull << 20)

static const struct pmode mode_legacy = {
	.levels = 2, .bits = 10, .esize = 4, .nx = 0, .top_entries = 1024, .top_user = 768,
	.text_base = 0x8000000ull, .heap_base = LEGACY_HEAP_BASE, .stack_top = 0xbffff000ull,
	.kdirect = PAE_PAGE_OFFSET, .ktext_va = PAE_PAGE_OFFSET + KTEXT_PHYS,
	.ktext_phys = KTEXT_PHYS, .kdata_start = KDATA_START, .kdata_end = KTEXT_PHYS,
	.direct_max = PAE_MEM_MAX,
};

_Static_assert(LEGACY_HEAP_BASE / LEGACY_HPAGE_SIZE !=
	       (LEGACY_HEAP_BASE + HEAP_PAGES * PAGE_SIZE - 1) / LEGACY_HPAGE_SIZE,
	       "the 32-bit heap should span two PT pages too");

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
};

/* GEN_HVCI and GEN_NESTED run the guest as L2 (gen_l2() below) */
enum gen_kind { GEN_LINUX, GEN_SMEP_TOGGLE, GEN_HVCI, GEN_NESTED };

struct gen {
	tdp_writer_t *w;
	const struct tdp_gen_opts *opts;
	struct tdp_gen_stats *stats;
	char *errbuf;
	int err;
	enum gen_kind kind;
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
	bool in_l2, l2_paging;
	uint16_t jit_pt, kalias_pt;	/* L2 kernel PTs (pool indices) */
};

/* The guest is L2 under an L1 hypervisor (the config says paging=nested). */
static bool gen_l2(const struct gen *g)
{
	return g->kind == GEN_HVCI || g->kind == GEN_NESTED;
}

/* ------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64 (Blackman & Vigna). */

static uint64_t splitmix64(uint64_t *x)
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

static uint64_t rng_next(struct gen *g)
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
static uint32_t rng_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((rng_next(g) >> 32) * (uint64_t)n) >> 32);
}

static bool rng_chance(struct gen *g, unsigned int percent)
{
	return rng_below(g, 100) < percent;
}

/* ------------------------------------------------------------------ */
/* Emitting events.  Errors are sticky: after one, everything is a no-op. */

static void gen_fail(struct gen *g, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void gen_fail(struct gen *g, int err, const char *fmt, ...)
{
	va_list ap;

	if (g->err)
		return;
	g->err = err;
	va_start(ap, fmt);
	vsnprintf(g->errbuf, TDP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

static void emit(struct gen *g, struct tdp_event *ev)
{
	int ret;

	if (g->err)
		return;
	/* +50..500 ns per event: a guest running between exits */
	g->t += 50 + rng_below(g, 451);
	ev->t = g->t;
	ev->present |= TDP_PRESENT_T;
	ret = tdp_writer_event(g->w, ev);
	if (ret)
		gen_fail(g, ret, "%s", tdp_writer_errmsg(g->w));
	g->stats->events++;
}

static void emit_write(struct gen *g, uint64_t gpa, uint64_t val, unsigned int size)
{
	struct tdp_event ev = { .kind = TDP_EV_WRITE };

	ev.present = TDP_KEY_BIT(WRITE, gpa) | TDP_KEY_BIT(WRITE, val);
	if (size != 8)
		ev.present |= TDP_KEY_BIT(WRITE, size);
	ev.u.write.gpa = gpa;
	ev.u.write.val = val;
	ev.u.write.size = size;
	emit(g, &ev);
}

static void emit_access(struct gen *g, uint64_t gva, int op, int cpl, int ac)
{
	struct tdp_event ev = { .kind = TDP_EV_ACCESS };

	ev.present = TDP_KEY_BIT(ACCESS, gva) | TDP_KEY_BIT(ACCESS, op) |
		     TDP_KEY_BIT(ACCESS, cpl);
	ev.u.access.gva = gva;
	ev.u.access.op = op;
	ev.u.access.cpl = cpl;
	/* ac=0 is spelled out only where it matters (a SMAP violation) */
	if (ac >= 0)
		ev.present |= TDP_KEY_BIT(ACCESS, ac);
	ev.u.access.ac = ac > 0;
	g->stats->accesses++;
	if (g->in_l2)
		g->stats->l2_accesses++;
	emit(g, &ev);
}

static void emit_invlpg(struct gen *g, uint64_t gva)
{
	struct tdp_event ev = { .kind = TDP_EV_INVLPG };

	ev.present = TDP_KEY_BIT(INVLPG, gva);
	ev.u.invlpg.gva = gva;
	emit(g, &ev);
}

static void emit_flush(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_FLUSH };

	emit(g, &ev);
}

static void emit_mark(struct gen *g, const char *label)
{
	struct tdp_event ev = { .kind = TDP_EV_MARK };

	ev.present = TDP_KEY_BIT(MARK, label);
	strncpy(ev.u.mark.label, label, TDP_LABEL_MAX);
	emit(g, &ev);
}

static void emit_cr4(struct gen *g, uint64_t cr4)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	ev.present = TDP_KEY_BIT(SET, cr4);
	ev.u.set.cr4 = cr4;
	emit(g, &ev);
}

/* ------------------------------------------------------------------ */
/* Frame allocator */

static uint32_t frame_alloc(struct gen *g, bool *reused)
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

static void frame_free(struct gen *g, uint32_t frame)
{
	g->free_stack[g->nr_free++] = frame;
}

/* ------------------------------------------------------------------ */
/* Page tables: the guest's own copy, every store mirrored by a `write` */

static uint16_t table_alloc(struct gen *g)
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

static void table_free(struct gen *g, uint16_t idx)
{
	frame_free(g, g->pt[idx].frame);
	g->pt[idx].frame = 0;
	g->pt[idx].next_free = g->pt_free;
	g->pt_free = idx;
}

/* Store @val into entry @i of table @t, as an 8-byte guest write. */
static void pt_set(struct gen *g, uint16_t t, unsigned int i, uint64_t val, uint16_t child)
{
	struct pt_page *p = &g->pt[t];

	if (p->e[i] && !val)
		p->nr_present--;
	else if (!p->e[i] && val)
		p->nr_present++;
	p->e[i] = val;
	p->child[i] = child;
	emit_write(g, g->phys_base + ((uint64_t)p->frame << PAGE_SHIFT) + g->m->esize * i, val,
		   g->m->esize);
}

/* Index of @va in a level-@level table of the guest's paging mode. */
static inline unsigned int pt_index(const struct gen *g, uint64_t va, int level)
{
	return (va >> (PAGE_SHIFT + g->m->bits * (level - 1))) & ((1u << g->m->bits) - 1);
}

/* Link a fresh table below entry @i of @t; returns its pool index or 0. */
static uint16_t pt_link_new(struct gen *g, uint16_t t, unsigned int i, uint64_t flags)
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
static uint16_t walk_alloc(struct gen *g, struct proc *p, uint64_t gva)
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
static uint16_t walk_lookup(struct gen *g, struct proc *p, uint64_t gva)
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
static void prune(struct gen *g, uint16_t t, int level, unsigned int nr)
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

static void switch_to(struct gen *g, int pi)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	ev.present = TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr3 = (uint64_t)g->pt[g->procs[pi].pml4].frame << PAGE_SHIFT;
	ev.u.set.cpl = 0;
	emit(g, &ev);
	g->cur = pi;
	g->stats->cr3_loads++;
}

/* pgd_alloc(): a new PML4 whose kernel half is swapper's (pgd_ctor()). */
static uint16_t pgd_alloc(struct gen *g)
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
		emit_flush(g);
	g->stats->forks++;
	return g->err ? -1 : ci;
}

static uint64_t teardown_cost(const struct gen *g)
{
	/*
	 * mark, final switch (nested: and the final vmexit and L1's work);
	 * per exit: zaps, <= 9 table frees, 2 kernel entries, 2 switches
	 */
	uint64_t n = gen_l2(g) ? 7 : 2;

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
static void proc_exit(struct gen *g, int pi)
{
	struct proc *p = &g->procs[pi];
	int next = -1;

	if (g->cur != pi)
		switch_to(g, pi);
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
	table_free(g, p->pml4);
	p->pml4 = 0;
	g->stats->exits++;
}

/* ------------------------------------------------------------------ */
/* Faults the guest expects, and its handlers */

static uint64_t direct_map(const struct gen *g, uint64_t frame)
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
		emit_access(g, direct_map(g, v->frame), TDP_OP_WRITE, 0, -1);
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
		emit_access(g, direct_map(g, v->frame), TDP_OP_READ, 0, -1);
		emit_access(g, direct_map(g, nf), TDP_OP_WRITE, 0, -1);
		g->ref[v->frame]--;
		g->ref[nf] = 1;
		v->frame = nf;
	}
	v->flags &= ~VP_COW;
	vpage_set_pte(g, p, vi);
	emit_invlpg(g, vpage_gva(g, vi));
}

/*
 * One access to user page @vi of the running process, with the fault and
 * retry the guest expects.  The caller only asks for what the VMA allows
 * (no write to R-X, no fetch of NX), so the faults are exactly "not
 * present" and "COW".
 */
static void touch(struct gen *g, unsigned int vi, int op, int cpl, int ac)
{
	struct proc *p = &g->procs[g->cur];
	struct vpage *v = &p->vp[vi];
	uint64_t gva = vpage_gva(g, vi) + ((rng_next(g) >> 40) & 0xff8);

	emit_access(g, gva, op, cpl, ac);
	if (!v->frame) {
		g->stats->pf_demand++;
		fault_in(g, p, vi);
	} else if (op == TDP_OP_WRITE && !vpage_writable(v)) {
		g->stats->pf_cow++;
		break_cow(g, p, vi);
	} else {
		return;
	}
	emit_access(g, gva, op, cpl, ac);
}

/* ------------------------------------------------------------------ */
/* What the processes and the kernel do in a time slice */

static void kernel_work(struct gen *g, unsigned int n)
{
	const uint64_t kdata_frames = (g->m->kdata_end - g->m->kdata_start) >> PAGE_SHIFT;

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
			uint64_t gva = direct_map(g, (g->m->kdata_start >> PAGE_SHIFT) + frame) +
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

static void user_work(struct gen *g, unsigned int n)
{
	struct proc *p = &g->procs[g->cur];

	for (unsigned int i = 0; i < n && !g->err; i++) {
		unsigned int r = rng_below(g, 100), vi;

		if (r < 30) {
			/* instruction stream: stay, step or jump within the text */
			if (rng_chance(g, 20))
				p->text_pc = rng_chance(g, 70) ? rng_below(g, 8) :
					     rng_below(g, TEXT_PAGES);
			else if (rng_chance(g, 30))
				p->text_pc = (p->text_pc + 1) % TEXT_PAGES;
			touch(g, p->text_pc, TDP_OP_FETCH, 3, -1);
		} else if (r < 75) {
			vi = pick_heap(g, p);
			if (p->vp[vi].flags & VP_EXEC)	/* JIT code after mprotect */
				touch(g, vi, rng_chance(g, 50) ? TDP_OP_FETCH : TDP_OP_READ, 3, -1);
			else
				touch(g, vi, rng_chance(g, 40) ? TDP_OP_WRITE : TDP_OP_READ, 3, -1);
		} else if (r < 80) {
			/* memcpy-like sequential run over the heap */
			unsigned int len = 2 + rng_below(g, 7);
			unsigned int start = VP_HEAP0 + rng_below(g, HEAP_PAGES - len);
			int op = rng_chance(g, 50) ? TDP_OP_WRITE : TDP_OP_READ;

			for (unsigned int k = 0; k < len; k++) {
				vi = start + k;
				if (!(p->vp[vi].flags & VP_WRITE))
					op = TDP_OP_READ;
				touch(g, vi, op, 3, -1);
			}
		} else {
			/* the stack: mostly the top few pages */
			vi = NR_VPAGES - 1 - (rng_chance(g, 85) ? rng_below(g, 4) :
					      rng_below(g, STACK_PAGES));
			touch(g, vi, rng_chance(g, 50) ? TDP_OP_WRITE : TDP_OP_READ, 3, -1);
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

		touch(g, vi, (p->vp[vi].flags & VP_WRITE) ? op : TDP_OP_READ, 0, 1);
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
static void smap_violation(struct gen *g)
{
	struct proc *p = &g->procs[g->cur];
	unsigned int first = VP_HEAP0 + rng_below(g, HEAP_PAGES + STACK_PAGES);

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
		emit_flush(g);
		return;
	}
	for (unsigned int k = 0; k < len; k++)
		emit_invlpg(g, vpage_gva(g, start + k));
}

/* mprotect() a heap range between RW- (NX) and R-X (a JIT's code buffer). */
static void do_mprotect(struct gen *g)
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
static void do_munmap(struct gen *g)
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

static int pick_proc(struct gen *g, bool allow_init)
{
	int live[MAX_PROCS], n = 0;

	for (int i = 0; i < MAX_PROCS; i++)
		if (g->procs[i].live && (allow_init || i != 0))
			live[n++] = i;
	return n ? live[rng_below(g, n)] : -1;
}

static void slice(struct gen *g)
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
static void load_regs(struct gen *g, uint16_t pgd)
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
	emit(g, &ev);
}

/* PAE swapper_pg_dir: PDPTE 3 -> one PD with the direct map, text included. */
static void boot_pae(struct gen *g)
{
	uint64_t end = g->opts->mem < PAE_MEM_MAX ? g->opts->mem : PAE_MEM_MAX;
	uint16_t kpd = g->swapper ? pt_link_new(g, g->swapper, 3, PT_PRESENT) : 0;

	for (uint64_t pa = 0; pa < end && kpd; pa += HPAGE_SIZE) {
		uint64_t flags = pa == KTEXT_PHYS ? PT_PRESENT | PT_PAGE_SIZE | PT_GLOBAL :
			PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL | PT_NX;

		pt_set(g, kpd, pa / HPAGE_SIZE, pa | flags, 0);
	}
}

/* 32-bit swapper_pg_dir: PDEs 768.. map the direct map with 4 MiB pages. */
static void boot_legacy(struct gen *g)
{
	uint64_t end = g->opts->mem < PAE_MEM_MAX ? g->opts->mem : PAE_MEM_MAX;

	for (uint64_t pa = 0; pa < end && g->swapper; pa += LEGACY_HPAGE_SIZE)
		pt_set(g, g->swapper, g->m->top_user + pa / LEGACY_HPAGE_SIZE,
		       pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL, 0);
}

static void boot(struct gen *g)
{
	uint64_t nr_pd = (g->opts->mem + (1ull << 30) - 1) >> 30;
	uint16_t dm_pdpt, kt_pdpt, kt_pd;

	emit_mark(g, "boot");
	g->swapper = table_alloc(g);
	if (g->m->levels < 4) {
		if (g->m->levels == 3)
			boot_pae(g);
		else
			boot_legacy(g);
		goto set_regs;
	}
	dm_pdpt = g->swapper ? pt_link_new(g, g->swapper, PT_INDEX(DIRECT_MAP, 4), KERNEL_TABLE) : 0;
	for (uint64_t i = 0; i < nr_pd && dm_pdpt; i++) {
		uint16_t pd = pt_link_new(g, dm_pdpt, PT_INDEX(DIRECT_MAP, 3) + i, KERNEL_TABLE);

		for (unsigned int j = 0; j < PT_ENTRIES && pd; j++) {
			uint64_t pa = ((i << 9) + j) * HPAGE_SIZE;

			if (pa >= g->opts->mem)
				break;
			pt_set(g, pd, j, pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE |
			       PT_GLOBAL | PT_NX, 0);
		}
	}
	kt_pdpt = g->swapper ? pt_link_new(g, g->swapper, PT_INDEX(KTEXT_VA, 4), KERNEL_TABLE) : 0;
	kt_pd = kt_pdpt ? pt_link_new(g, kt_pdpt, PT_INDEX(KTEXT_VA, 3), KERNEL_TABLE) : 0;
	if (!kt_pd)
		return;
	pt_set(g, kt_pd, PT_INDEX(KTEXT_VA, 2),
	       g->m->ktext_phys | PT_PRESENT | PT_PAGE_SIZE | PT_GLOBAL, 0);

set_regs:
	if (g->err)
		return;
	/* KVM_SET_SREGS-like: long mode (or PAE) with paging on swapper_pg_dir */
	g->cr4 = X86_CR4_PSE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP |
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
		slice(g);
}

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
static const struct pmode mode_hvci = {
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
	return g->kind == GEN_HVCI;
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
	emit(g, &ev);
	g->stats->vmenters++;
	g->in_l2 = true;
	if (g->l2_paging)
		load_regs(g, g->cur >= 0 ? g->procs[g->cur].pml4 : g->swapper);
}

static void hv_vmexit(struct gen *g)
{
	struct tdp_event ev = { .kind = TDP_EV_VMEXIT };

	emit(g, &ev);
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
	emit(g, &ev);
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

static void hv_set_jit(struct gen *g, unsigned int first, unsigned int n, bool writable)
{
	for (unsigned int i = first; i < first + n; i++) {
		emit_write(g, HV_TDP + 3 * PAGE_SIZE + 8 * (PT_INDEX(HV_JIT_GPA, 1) + i),
			   hv_jit_leaf(g, i, writable), 8);
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
	emit_write(g, pml4, pdpt | KERNEL_TABLE, 8);
	emit_write(g, pdpt, pd | KERNEL_TABLE, 8);
	for (uint64_t pa = 0; pa < HV_L2_BASE; pa += HPAGE_SIZE)
		emit_write(g, pd + 8 * (pa / HPAGE_SIZE),
			   pa | PT_PRESENT | PT_WRITABLE | PT_PAGE_SIZE | PT_GLOBAL, 8);
	ev.present = TDP_KEY_BIT(SET, cr0) | TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cr4) |
		     TDP_KEY_BIT(SET, efer) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	ev.u.set.cr3 = pml4;
	ev.u.set.cr4 = X86_CR4_PAE | X86_CR4_PGE;
	ev.u.set.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;
	emit(g, &ev);
	l1_work(g, 16);

	emit_mark(g, hv_intel(g) ? "ept" : "npt");
	emit_write(g, t4, hv_table(g, t3), 8);
	emit_write(g, t3, hv_table(g, t2), 8);
	emit_write(g, t2, l2 | large | hv_kexec(g), 8);
	emit_write(g, t2 + 16, (l2 + HV_UTEXT_GPA) | large | hv_uexec(g), 8);
	emit_write(g, t2 + 8, hv_table(g, t1), 8);
	/* the JIT pages start executable: nothing loaded yet */
	for (unsigned int i = 0; i < HV_JIT_PAGES; i++)
		emit_write(g, t1 + 8 * (PT_INDEX(HV_JIT_GPA, 1) + i), hv_jit_leaf(g, i, false), 8);
	for (uint64_t gpa = HV_DATA_GPA; gpa < g->opts->mem; gpa += HPAGE_SIZE)
		emit_write(g, t2 + 8 * (gpa / HPAGE_SIZE), (l2 + gpa) | large |
			   (hv_intel(g) ? EPT_W : PT_WRITABLE | PT_USER | PT_NX), 8);
	g->eptp = hv_intel(g) ? t4 | EPTP_FLAGS : t4;
	l1_work(g, 4);
	hv_vmenter(g);
}

/* After boot(), in L2: map the module area (RWX in L2) and the alias PT. */
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

/* After each steady-state slice: L1's exits, loads, violations. */
static void hv_step(struct gen *g, uint64_t s)
{
	if (rng_chance(g, 25))
		hv_exit_cycle(g);
	if (s % 10 == 4)
		hv_jit(g);
	if (s % 25 == 12)
		hv_violation_kernel(g);
	if (s % 25 == 24)
		hv_violation_user(g);
}

/* ------------------------------------------------------------------ */
/* The workloads */

/*
 * fork(), then the parent returns to user mode for a moment (so its TLB
 * must already be clean of the W it lost) before the child runs.
 */
static void fork_and_run(struct gen *g, int parent)
{
	int ci = proc_fork(g, parent);

	if (ci < 0)
		return;
	user_work(g, 4 + rng_below(g, 8));
	switch_to(g, ci);
	slice(g);
}

static int gen_main(struct gen *g)
{
	uint64_t target = g->opts->events;
	/*
	 * About one slice: steady state stops when the next one plus the
	 * teardown would pass the target.  Forks, the biggest steps (two
	 * writes per present page), are not started near the end.
	 */
	const uint64_t reserve = gen_l2(g) ? 220 : 120, fork_reserve = 1000;

	if (gen_l2(g)) {
		hv_boot_l1(g);
		boot(g);
		hv_boot_l2(g);
	} else {
		boot(g);
	}

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
		uint64_t quarter = target / 4;
		uint64_t s = g->slices;

		if (g->kind == GEN_SMEP_TOGGLE && s % 6 == 5) {
			/* every flip changes cr4_smep in the base role */
			g->cr4 ^= X86_CR4_SMEP;
			emit_cr4(g, g->cr4);
			g->stats->cr4_flips++;
		}
		slice(g);
		if (gen_l2(g)) {
			/* no mprotect to RX: L1 does not let user data execute */
			hv_step(g, s);
		} else if (g->kind != GEN_LINUX) {
			continue;
		} else {
			if (g->smap_done < 3 && g->stats->events > quarter * (g->smap_done + 1))
				smap_violation(g);
			/* each returns to the same process, which goes on running */
			if (s % 12 == 7) {
				do_mprotect(g);
				user_work(g, 4 + rng_below(g, 8));
			}
		}
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
	for (int i = MAX_PROCS - 1; i > 0 && !g->err; i--)
		if (g->procs[i].live)
			proc_exit(g, i);
	if (!g->err && g->cur != 0)
		switch_to(g, 0);
	if (gen_l2(g)) {
		/* L2 shuts down: L1 gets control back for good */
		hv_vmexit(g);
		l1_work(g, 4);
	}
	return g->err;
}

static int gen_common(enum gen_kind kind, const struct pmode *m, int nproc, tdp_writer_t *w,
		      const struct tdp_gen_opts *opts, struct tdp_gen_stats *stats,
		      char errbuf[TDP_ERRBUF_SIZE])
{
	const bool l2 = kind == GEN_HVCI || kind == GEN_NESTED;
	struct tdp_gen_opts guest = *opts;	/* the guest model's: L2's when nested */
	struct tdp_config cfg;
	struct gen *g;
	uint64_t nframes, x = opts->seed;
	int ret;

	memset(stats, 0, sizeof(*stats));
	errbuf[0] = '\0';
	/* a nested workload ignores opts->paging (L1 picks it): check the rest */
	if (l2)
		guest.paging = TDP_PAGING_SHADOW;
	ret = tdp_gen_check_opts(&guest, errbuf);
	if (ret)
		return ret;
	/* L2 lives in L1's memory above HV_L2_BASE, within its direct map */
	if (l2) {
		guest.mem = opts->mem - HV_L2_BASE;
		if (guest.mem > HV_L2_MEM_MAX)
			guest.mem = HV_L2_MEM_MAX;
	}
	nframes = guest.mem >> PAGE_SHIFT;
	if (guest.mem > m->direct_max) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "mem '%#" PRIx64 "' is more than the %" PRIu64
			 " MiB a 32-bit kernel maps", opts->mem, m->direct_max >> 20);
		return TDP_E_RANGE;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "out of memory for the guest model");
		return TDP_E_NOMEM;
	}
	g->pt = calloc(MAX_TABLES, sizeof(*g->pt));
	g->free_stack = malloc(nframes * sizeof(*g->free_stack));
	g->ref = calloc(nframes, sizeof(*g->ref));
	if (!g->pt || !g->free_stack || !g->ref) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "out of memory for the guest model");
		ret = TDP_E_NOMEM;
		goto out_free_model;
	}

	g->w = w;
	g->opts = &guest;
	g->stats = stats;
	g->errbuf = errbuf;
	g->kind = kind;
	g->m = m;
	g->nproc_target = nproc;
	g->cur = -1;
	for (int i = 0; i < 4; i++)
		g->rng[i] = splitmix64(&x);
	g->t = 1000;
	g->next_frame = ALLOC_START >> PAGE_SHIFT;
	g->end_frame = nframes;
	if (l2) {
		g->phys_base = HV_L2_BASE;
		g->next_frame = HV_ALLOC_GPA >> PAGE_SHIFT;
		/* user text is file-backed: its page cache is the XU region */
		for (unsigned int i = 0; i < TEXT_PAGES; i++)
			g->text_cache[i] = (HV_UTEXT_GPA >> PAGE_SHIFT) + i;
	}
	for (unsigned int i = MAX_TABLES - 1; i > 0; i--) {
		g->pt[i].next_free = g->pt_free;
		g->pt_free = i;
	}

	tdp_config_init(&cfg);
	cfg.vendor = opts->vendor;
	cfg.paging = l2 ? TDP_PAGING_NESTED : opts->paging;
	cfg.mem = opts->mem;
	cfg.present = 1u << TDP_CFG_vendor | 1u << TDP_CFG_paging | 1u << TDP_CFG_mem;
	if (kind == GEN_HVCI) {
		cfg.mbec = opts->vendor == TDP_VENDOR_INTEL;
		cfg.gmet = opts->vendor == TDP_VENDOR_AMD;
		cfg.present |= 1u << (cfg.mbec ? TDP_CFG_mbec : TDP_CFG_gmet);
	}
	ret = tdp_writer_config(w, &cfg);
	if (ret)
		gen_fail(g, ret, "%s", tdp_writer_errmsg(w));
	else
		ret = gen_main(g);
	/* every #PF L2 takes is a demand or COW fault (no SMAP violations) */
	if (l2)
		stats->l2_pf = stats->pf_demand + stats->pf_cow;

out_free_model:
	free(g->ref);
	free(g->free_stack);
	free(g->pt);
	free(g);
	return ret;
}

static int gen_linux(tdp_writer_t *w, const struct tdp_gen_opts *opts,
		     struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_LINUX, &mode_4level, 6, w, opts, stats, errbuf);
}

static int gen_smep_toggle(tdp_writer_t *w, const struct tdp_gen_opts *opts,
			   struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_SMEP_TOGGLE, &mode_4level, 3, w, opts, stats, errbuf);
}

static int gen_pae(tdp_writer_t *w, const struct tdp_gen_opts *opts,
		   struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_LINUX, &mode_pae, 6, w, opts, stats, errbuf);
}

static int gen_legacy32(tdp_writer_t *w, const struct tdp_gen_opts *opts,
			struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_LINUX, &mode_legacy, 6, w, opts, stats, errbuf);
}

static int gen_hvci(tdp_writer_t *w, const struct tdp_gen_opts *opts,
		    struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_HVCI, &mode_hvci, 4, w, opts, stats, errbuf);
}

static int gen_nested(tdp_writer_t *w, const struct tdp_gen_opts *opts,
		      struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	return gen_common(GEN_NESTED, &mode_hvci, 4, w, opts, stats, errbuf);
}

static const struct tdp_gen_workload workloads[] = {
	{ "linux", "Linux-like x86-64 guest: processes, fork/COW, demand paging, "
		   "mprotect/munmap, SMAP", gen_linux, false },
	{ "smep-toggle", "three processes while CR4.SMEP flips every few time slices",
	  gen_smep_toggle, false },
	{ "pae", "the linux workload on a 32-bit PAE kernel (3G/1G split, mem <= 896M)",
	  gen_pae, false },
	{ "legacy32", "the linux workload on 32-bit paging, 4 MiB PSE kernel pages, no NX",
	  gen_legacy32, false },
	{ "hvci", "nested: an L1 hypervisor enforcing HVCI with MBEC (intel) / GMET (amd) "
		  "on a linux L2 (W^X loads, violations reflected to L1)", gen_hvci, true },
	{ "nested", "nested: an L1 hypervisor running a linux L2 under plain nested EPT/NPT, "
		    "no MBEC/GMET (replays under both layouts)", gen_nested, true },
};

const struct tdp_gen_workload *tdp_gen_workloads(size_t *n)
{
	*n = ARRAY_SIZE(workloads);
	return workloads;
}

const struct tdp_gen_workload *tdp_gen_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(workloads); i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

void tdp_gen_opts_init(struct tdp_gen_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->seed = 1;
	opts->events = TDP_GEN_EVENTS_DEFAULT;
	opts->mem = TDP_GEN_MEM_DEFAULT;
	opts->vendor = TDP_VENDOR_INTEL;
	opts->paging = TDP_PAGING_SHADOW;
}

int tdp_gen_check_opts(const struct tdp_gen_opts *opts, char errbuf[TDP_ERRBUF_SIZE])
{
	if (opts->events < TDP_GEN_EVENTS_MIN || opts->events > TDP_GEN_EVENTS_MAX) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "events '%" PRIu64 "' is not %llu..%llu",
			 opts->events, TDP_GEN_EVENTS_MIN, TDP_GEN_EVENTS_MAX);
		return TDP_E_RANGE;
	}
	if (opts->mem < TDP_GEN_MEM_MIN || opts->mem > TDP_GEN_MEM_MAX ||
	    opts->mem % HPAGE_SIZE) {
		snprintf(errbuf, TDP_ERRBUF_SIZE,
			 "mem '%#" PRIx64 "' is not a multiple of 2 MiB in 64 MiB..16 GiB",
			 opts->mem);
		return TDP_E_RANGE;
	}
	if (opts->paging != TDP_PAGING_SHADOW && opts->paging != TDP_PAGING_TDP) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "paging must be shadow or tdp");
		return TDP_E_RANGE;
	}
	return 0;
}

int tdp_gen_run(const struct tdp_gen_workload *wl, tdp_writer_t *w,
		const struct tdp_gen_opts *opts, struct tdp_gen_stats *stats,
		char errbuf[TDP_ERRBUF_SIZE])
{
	return wl->gen(w, opts, stats, errbuf);
}
