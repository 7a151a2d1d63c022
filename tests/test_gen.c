// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim gen: determinism, sizing, and the guest's architectural
 * consistency, checked from the trace alone.  Each generated trace is read
 * back with tdp_trace_open/next and replayed into a plain guest memory
 * (gmem) with the CPU model (src/hw) deciding
 * every access, so the checks do not trust the generator's own model:
 *  - every write is an 8-byte aligned store into mem, of 0 or of a present
 *    entry with no bit above MAXPHYADDR and no bit the guest has no use for;
 *  - at CR3 loads, the page tables reachable from CR3 have no reserved
 *    bits for their level, no table pointing at an ancestor, and a kernel
 *    half identical to the boot PML4's (shared kernel PDPT pages);
 *  - across all live processes, a frame mapped writable is mapped once, and
 *    no leaf maps a page-table page;
 *  - every access that faults is a demand or COW fault that the guest then
 *    retries successfully, or one of at most three marked SMAP violations.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/gen.h>
#include <tdpsim/gmem.h>
#include <tdpsim/trace.h>

#include "helpers/hw_util.h"
#include "helpers/run.h"

#define P_BIT		(1ull << 0)
#define W_BIT		(1ull << 1)
#define U_BIT		(1ull << 2)
#define PS_BIT		(1ull << 7)
#define ADDR_MASK	0x000ffffffffff000ull
#define CR4_SMEP	(1ull << 20)

static void gen_to(const char *path, const char *workload, uint64_t seed, uint64_t events,
		   enum tdp_vendor vendor, enum tdp_paging paging, uint64_t mem)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_gen_workload *wl = tdp_gen_find(workload);
	struct tdp_gen_opts opts;
	struct tdp_gen_stats st;
	tdp_writer_t *w;

	cr_assert_not_null(wl, "no workload '%s'", workload);
	tdp_gen_opts_init(&opts);
	opts.seed = seed;
	opts.events = events;
	opts.vendor = vendor;
	opts.paging = paging;
	opts.mem = mem;
	cr_assert_eq(tdp_writer_open(&w, path, tdp_form_from_name(path), 0, NULL, errbuf), 0,
		     "%s", errbuf);
	cr_assert_eq(tdp_gen_run(wl, w, &opts, &st, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_close(w), 0, "%s", tdp_writer_errmsg(w));
	tdp_writer_free(w);
}

static const char *gen_simple(const char *name, const char *workload, uint64_t seed,
			      uint64_t events)
{
	const char *path = test_path(name);

	gen_to(path, workload, seed, events, TDP_VENDOR_INTEL, TDP_PAGING_SHADOW,
	       TDP_GEN_MEM_DEFAULT);
	return path;
}

/* ------------------------------------------------------------------ */
/* Reading a trace back */

struct scan {
	struct tdp_config cfg;
	uint64_t nev, kinds[TDP_EV__COUNT], ops[3], user_ops[3], ac_accesses;
	uint64_t cr3_loads, smep_on, smep_off, smep_flips;
	unsigned int marks;		/* bits: boot fork steady teardown */
	uint64_t demand, cow, smap, retries;
	uint64_t reuse;			/* frames seen as table and as data */
	uint64_t gva_writes;		/* stores through the guest's own mapping */
	uint64_t checkpoints, live_max;
	char fail[256];			/* first inconsistency, "" if none */
};

struct checker {
	struct scan *s;
	struct tdp_gmem *gm;
	struct hw_regs regs;
	uint64_t swapper;		/* the boot CR3 */
	int levels;			/* 4, 3 (PAE) or 2 (from the boot registers) */
	unsigned int top_user, top_entries;	/* user slots of the top table */
	unsigned int esize, bits;	/* entry bytes (from the first write), index bits */
	uint64_t cr3s[64];		/* every PML4 ever loaded */
	unsigned int ncr3;
	uint8_t *role;			/* per frame: 0, 1 table, 2 data */
	uint64_t *frames;		/* scratch for the exclusivity check */
	size_t nframes, capframes;
	/*
	 * Entries that lost permissions, changed frame or went away since the
	 * last flush that covers them: a TLB or paging-structure cache may
	 * still hold the old value, so no access may walk through them.
	 */
	uint64_t stale[4096];
	unsigned int nstale;
};

#define FAIL(s, ...)							\
	do {								\
		if (!(s)->fail[0])					\
			snprintf((s)->fail, sizeof((s)->fail), __VA_ARGS__); \
	} while (0)

static uint64_t rd(struct checker *c, uint64_t gpa)
{
	uint64_t v = 0;

	tdp_gmem_read64(c->gm, gpa, &v);
	return v;
}

/* A paging-structure entry: 8 bytes, or 4 with 32-bit paging. */
static uint64_t rde(struct checker *c, uint64_t gpa)
{
	uint64_t v = 0;

	tdp_gmem_read(c->gm, gpa, c->esize, &v);
	return v;
}

/* Bits this guest must never set in a present entry (independent of level). */
static uint64_t never_bits(unsigned int maxphyaddr)
{
	uint64_t above = ((1ull << 52) - 1) & ~((1ull << maxphyaddr) - 1);

	/* 62..52 (ignored/PK), 11..9 (ignored), 4..3 (PCD/PWT: RAM is WB) */
	return above | (0x7ffull << 52) | (7ull << 9) | (3ull << 3);
}

static void check_write(struct scan *s, const struct tdp_event *ev, unsigned int esize)
{
	uint64_t v = ev->u.write.val;

	if (ev->u.write.size != esize || ev->u.write.gpa % esize || ev->u.write.gpa >= s->cfg.mem)
		FAIL(s, "event %lu: write of size %u at %#lx", s->nev, ev->u.write.size,
		     ev->u.write.gpa);
	else if (!(v & P_BIT) && v)
		FAIL(s, "event %lu: non-present entry %#lx is not 0", s->nev, v);
	else if ((v & P_BIT) && (v & never_bits(s->cfg.maxphyaddr)))
		FAIL(s, "event %lu: entry %#lx has reserved or unused bits", s->nev, v);
	else if ((v & P_BIT) && (v & ADDR_MASK) >= s->cfg.mem)
		FAIL(s, "event %lu: entry %#lx points outside mem", s->nev, v);
}

#define NX_BIT (1ull << 63)

static void note_store(struct checker *c, uint64_t gpa, uint64_t old, uint64_t new)
{
	bool weaker = (old & P_BIT) &&
		      (!(new & P_BIT) || ((old ^ new) & ADDR_MASK) ||
		       ((old & W_BIT) && !(new & W_BIT)) || ((old & U_BIT) && !(new & U_BIT)) ||
		       (!(old & NX_BIT) && (new & NX_BIT)) || ((old ^ new) & PS_BIT));

	if (!weaker)
		return;
	if (c->nstale == ARRAY_SIZE(c->stale))
		FAIL(c->s, "event %lu: more than %zu entries changed without a flush",
		     c->s->nev, ARRAY_SIZE(c->stale));
	else
		c->stale[c->nstale++] = gpa;
}

/* Entry addresses a walk of @gva reads, up to the leaf or a hole. */
static unsigned int walk_path(struct checker *c, uint64_t gva, uint64_t path[4])
{
	uint64_t table = c->regs.cr3 & (c->levels == 3 ? 0xffffffe0ull : ADDR_MASK);
	unsigned int n = 0;

	for (int level = c->levels; level >= 1; level--) {
		uint64_t i = (gva >> (12 + c->bits * (level - 1))) & ((1u << c->bits) - 1);
		uint64_t gpa = table + c->esize * i;
		uint64_t e = rde(c, gpa);

		path[n++] = gpa;
		if (!(e & P_BIT) || (level > 1 && (e & PS_BIT)))
			break;
		table = e & ADDR_MASK;
	}
	return n;
}

static void check_not_stale(struct checker *c, uint64_t gva)
{
	uint64_t path[4];
	unsigned int n = walk_path(c, gva, path);

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < c->nstale; k++)
			if (c->stale[k] == path[i])
				FAIL(c->s, "event %lu: access to %#lx uses entry %#lx changed "
				     "without invlpg/flush", c->s->nev, gva, path[i]);
}

/* INVLPG drops the translation and the paging-structure caches for @gva. */
static void invlpg(struct checker *c, uint64_t gva)
{
	uint64_t path[4];
	unsigned int n = walk_path(c, gva, path);

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < c->nstale; k++)
			if (c->stale[k] == path[i])
				c->stale[k--] = c->stale[--c->nstale];
}

static void add_frame(struct checker *c, uint64_t frame, unsigned int tag)
{
	if (c->nframes == c->capframes) {
		c->capframes = c->capframes ? 2 * c->capframes : 1024;
		c->frames = realloc(c->frames, c->capframes * sizeof(*c->frames));
		cr_assert_not_null(c->frames);
	}
	/* tag: 0 table, 1 read-only leaf, 2 writable leaf (sorts after) */
	c->frames[c->nframes++] = frame << 2 | tag;
}

static void note_role(struct checker *c, uint64_t frame, uint8_t role)
{
	if (frame >= c->s->cfg.mem >> 12)
		return;
	if (c->role[frame] && c->role[frame] != role)
		c->s->reuse++;
	c->role[frame] = role;
}

/*
 * Walk the user half below a table at @level (4 = PML4); @anc holds the
 * frames of the tables above.  Checks the per-level reserved bits (SDM
 * 4.5: PS must be 0 in a PML4E; 2 MiB PDEs need bits 20:13 clear) and
 * collects every frame for the exclusivity check.
 */
static void walk_user(struct checker *c, uint64_t table, int level, uint64_t *anc, int nanc,
		      bool writable)
{
	struct scan *s = c->s;
	unsigned int n = level == c->levels ? c->top_user : 1u << c->bits;
	/* PAE PDPTEs: bits 2:1, 8:5 and NX are reserved (SDM 4.4.1) */
	bool pdpte = c->levels == 3 && level == 3;

	if (nanc >= 4) {	/* at most 4 levels: keeps anc[] in bounds */
		FAIL(s, "event %lu: user-half walk deeper than 4 levels", s->nev);
		return;
	}
	anc[nanc++] = table;
	add_frame(c, table >> 12, 0);
	note_role(c, table >> 12, 1);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = rde(c, table + c->esize * i), to = e & ADDR_MASK;
		bool w = writable && (e & W_BIT);

		if (!(e & P_BIT))
			continue;
		if (pdpte && (e & (0x1e6ull | NX_BIT)))
			FAIL(s, "event %lu: PDPTE %#lx has reserved bits", s->nev, e);
		if (!pdpte && !(e & U_BIT))
			FAIL(s, "event %lu: user-half entry %#lx without U", s->nev, e);
		if (level == 1) {
			add_frame(c, to >> 12, w ? 2 : 1);
			note_role(c, to >> 12, 2);
			continue;
		}
		if (e & PS_BIT) {
			FAIL(s, "event %lu: level-%d entry %#lx has PS in the user half",
			     s->nev, level, e);
			continue;
		}
		for (int k = 0; k < nanc; k++)
			if (anc[k] == to)
				FAIL(s, "event %lu: table %#lx points at its ancestor %#lx",
				     s->nev, table, to);
		if (!s->fail[0])
			walk_user(c, to, level - 1, anc, nanc, w);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The kernel half of @pml4 against the boot PML4: same entries, 2 MiB PDEs. */
static bool kernel_half_is_swappers(struct checker *c, uint64_t pml4)
{
	/*
	 * The CPU sets A (and D in 32-bit paging's 4 MiB leaves) in whichever
	 * copy it walked; ignore them.
	 */
	for (unsigned int i = c->top_user; i < c->top_entries; i++)
		if ((rde(c, pml4 + c->esize * i) ^ rde(c, c->swapper + c->esize * i)) & ~0x60ull)
			return false;
	return true;
}

/* PAE: PDPTE 3 -> a PD mapping [0, min(mem, 896M)) from 0xc0000000. */
static void check_kernel_tables_pae(struct checker *c)
{
	struct scan *s = c->s;
	uint64_t k = rd(c, c->swapper + 24);

	if ((k & ~ADDR_MASK) != P_BIT) {
		FAIL(s, "boot PDPTE 3 is %#lx", k);
		return;
	}
	for (unsigned int j = 0; j < 512; j++) {
		uint64_t pa = (uint64_t)j << 21, pde = rd(c, (k & ADDR_MASK) + 8 * j);
		bool text = pa == (16ull << 20);

		if (pa >= s->cfg.mem || pa >= (896ull << 20)) {
			if (pde)
				FAIL(s, "direct map PDE beyond its end: %#lx", pde);
			continue;
		}
		/* W and NX on data; the text page is R-X */
		if ((pde & ~0x60ull) != (pa | P_BIT | PS_BIT | (1ull << 8) |
					 (text ? 0 : W_BIT | NX_BIT)))
			FAIL(s, "direct map PDE for %#lx is %#lx", pa, pde);
	}
}

/* 32-bit: PDEs 768.. map [0, min(mem, 896M)) with 4 MiB pages, RW, G. */
static void check_kernel_tables_legacy(struct checker *c)
{
	struct scan *s = c->s;

	for (unsigned int j = 0; j < 256; j++) {
		uint64_t pa = (uint64_t)j << 22, pde = rde(c, c->swapper + 4 * (768 + j));

		if (pa >= s->cfg.mem || pa >= (896ull << 20)) {
			if (pde)
				FAIL(s, "direct map PDE beyond its end: %#lx", pde);
			continue;
		}
		/* this also keeps the PSE-36 bits 20:13 (and 21) clear */
		if ((pde & ~0x60ull) != (pa | P_BIT | W_BIT | PS_BIT | (1ull << 8)))
			FAIL(s, "direct map PDE for %#lx is %#lx", pa, pde);
	}
}

static void check_kernel_tables(struct checker *c)
{
	struct scan *s = c->s;

	if (c->levels == 2) {
		check_kernel_tables_legacy(c);
		return;
	}
	if (c->levels == 3) {
		check_kernel_tables_pae(c);
		return;
	}
	uint64_t dm = rd(c, c->swapper + 8 * 273), kt = rd(c, c->swapper + 8 * 511);

	if (!(dm & P_BIT) || !(kt & P_BIT) || (dm & (U_BIT | PS_BIT)) || (kt & (U_BIT | PS_BIT))) {
		FAIL(s, "boot PML4 lacks the direct map or kernel text (%#lx %#lx)", dm, kt);
		return;
	}
	/* direct map PDPT: one PD per GiB, 2 MiB PDEs mapping [0, mem) */
	for (uint64_t gib = 0; gib < (s->cfg.mem + (1ull << 30) - 1) >> 30; gib++) {
		uint64_t pdpte = rd(c, (dm & ADDR_MASK) + 8 * gib);

		if (!(pdpte & P_BIT) || (pdpte & PS_BIT)) {
			FAIL(s, "direct map PDPTE %lu is %#lx", gib, pdpte);
			return;
		}
		for (unsigned int j = 0; j < 512; j++) {
			uint64_t pa = (gib << 30) + ((uint64_t)j << 21);
			uint64_t pde = rd(c, (pdpte & ADDR_MASK) + 8 * j);

			if (pa >= s->cfg.mem) {
				if (pde)
					FAIL(s, "direct map PDE beyond mem: %#lx", pde);
				continue;
			}
			if ((pde & ~(0x60ull)) != (pa | P_BIT | W_BIT | PS_BIT | (1ull << 8) |
						   (1ull << 63)))
				FAIL(s, "direct map PDE for %#lx is %#lx", pa, pde);
			if (pde & 0x1fe000)
				FAIL(s, "2 MiB PDE %#lx has bits 20:13 set", pde);
		}
	}
}

/*
 * At a CR3 load: walk the new PML4, and every 8th time all live ones.  A
 * PML4 is live while its kernel half is swapper's: the guest clears it
 * before freeing the frame, and no other table can hold those values.
 */
static void checkpoint(struct checker *c, uint64_t cr3, bool all)
{
	struct scan *s = c->s;
	uint64_t anc[4];	/* one per level, see walk_user() */
	uint64_t live = 0;

	c->nframes = 0;
	if (!kernel_half_is_swappers(c, cr3)) {
		FAIL(s, "event %lu: PML4 %#lx has a kernel half unlike the boot PML4", s->nev, cr3);
		return;
	}
	for (unsigned int k = 0; k < c->ncr3; k++) {
		uint64_t p = c->cr3s[k];

		if (p == c->swapper || !(all || p == cr3) || !kernel_half_is_swappers(c, p))
			continue;
		walk_user(c, p, c->levels, anc, 0, true);
		live++;
	}
	if (live > s->live_max)
		s->live_max = live;
	s->checkpoints++;
	if (!all)
		return;
	/* sorted by frame then tag: a frame may repeat only as read-only leaves */
	qsort(c->frames, c->nframes, sizeof(*c->frames), cmp_u64);
	for (size_t i = 1; i < c->nframes; i++) {
		uint64_t a = c->frames[i - 1], b = c->frames[i];

		if (a >> 2 == b >> 2 && ((a & 3) != 1 || (b & 3) != 1))
			FAIL(s, "event %lu: frame %#lx mapped twice (tags %lu, %lu)",
			     s->nev, (a >> 2) << 12, a & 3, b & 3);
	}
}

static void note_cr3(struct checker *c, uint64_t cr3)
{
	for (unsigned int k = 0; k < c->ncr3; k++)
		if (c->cr3s[k] == cr3)
			return;
	if (c->ncr3 < ARRAY_SIZE(c->cr3s))
		c->cr3s[c->ncr3++] = cr3;
	else
		FAIL(c->s, "more than %zu distinct PML4s", ARRAY_SIZE(c->cr3s));
}

/*
 * Every page-table store is the kernel's, through its own mapping: gva=
 * given, no cpl= (the kernel's CPL 0 of the last `set`), and the CPU's
 * walk of a CPL 0 write with the registers at that point (paging off:
 * gva is physical) allows it and lands on gpa.
 */
static void check_store_gva(struct checker *c, const struct hw_mem *mem,
			    const struct tdp_event *ev)
{
	struct hw_access a = { .addr = ev->u.write.gva, .op = TDP_OP_WRITE, .cpl = 0 };
	struct hw_result r;

	if (!TDP_HAS(ev, WRITE, gva) || TDP_HAS(ev, WRITE, cpl) || TDP_HAS(ev, WRITE, ac)) {
		FAIL(c->s, "event %lu: a store without gva= or with cpl=/ac=", c->s->nev);
		return;
	}
	check_not_stale(c, a.addr);
	hw_walk1d(mem, &c->regs, &a, &r);
	if (r.kind != HW_OK)
		FAIL(c->s, "event %lu: store through %#lx faults (ec %#lx)", c->s->nev,
		     a.addr, r.error_code);
	else if (r.gpa != ev->u.write.gpa)
		FAIL(c->s, "event %lu: store through %#lx lands at %#lx, not gpa=%#lx",
		     c->s->nev, a.addr, r.gpa, ev->u.write.gpa);
	c->s->gva_writes++;
}

static void scan_trace(const char *path, struct scan *s)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ev;
	struct checker c = { .s = s };
	struct hw_mem mem;
	struct hw_access pending = { 0 };
	bool have_pending = false, after_smap_mark = false;
	uint64_t last_t = 0;
	tdp_trace_t *t;
	int ret;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
	s->cfg = *tdp_trace_config(t);
	cr_assert_eq(tdp_gmem_create(&c.gm, s->cfg.mem), 0);
	c.role = calloc(s->cfg.mem >> 12, 1);
	cr_assert_not_null(c.role);
	mem = hw_mem_gmem(c.gm, s->cfg.maxphyaddr);
	c.regs.maxphyaddr = s->cfg.maxphyaddr;
	c.regs.pse36 = true;

	while (!s->fail[0] && (ret = tdp_trace_next(t, &ev)) == 1) {
		s->nev++;
		s->kinds[ev->kind]++;
		if (!(ev->present & TDP_PRESENT_T) || ev->t <= last_t)
			FAIL(s, "event %lu: t=%lu not after %lu", s->nev, ev->t, last_t);
		last_t = ev->t;
		switch (ev->kind) {
		case TDP_EV_WRITE:
			/* every store is one entry: all 8 bytes, or all 4 */
			if (!c.esize)
				c.esize = ev->u.write.size;
			check_write(s, ev, c.esize);
			check_store_gva(&c, &mem, ev);
			note_store(&c, ev->u.write.gpa, rde(&c, ev->u.write.gpa), ev->u.write.val);
			tdp_gmem_write(c.gm, ev->u.write.gpa, ev->u.write.size, ev->u.write.val);
			break;
		case TDP_EV_SET:
			if (TDP_HAS(ev, SET, cr0))
				c.regs.cr0 = ev->u.set.cr0;
			if (TDP_HAS(ev, SET, efer))
				c.regs.efer = ev->u.set.efer;
			if (TDP_HAS(ev, SET, cr4)) {
				if (c.regs.cr4 && ((c.regs.cr4 ^ ev->u.set.cr4) & CR4_SMEP))
					s->smep_flips++;
				c.regs.cr4 = ev->u.set.cr4;
				if (c.regs.cr4 & CR4_SMEP)
					s->smep_on++;
				else
					s->smep_off++;
			}
			if (have_pending)
				FAIL(s, "event %lu: context switch before retrying %#lx",
				     s->nev, pending.addr);
			if (TDP_HAS(ev, SET, cr3)) {
				/* nothing in the user half is global */
				c.nstale = 0;
				c.regs.cr3 = ev->u.set.cr3;
				if (!c.levels) {
					bool lm = c.regs.efer & (1ull << 8);
					bool pae = c.regs.cr4 & (1ull << 5);

					c.levels = lm ? 4 : pae ? 3 : 2;
					c.top_user = lm ? 256 : pae ? 3 : 768;
					c.top_entries = lm ? 512 : pae ? 4 : 1024;
					c.bits = c.levels == 2 ? 10 : 9;
					if (c.esize != (c.levels == 2 ? 4u : 8u))
						FAIL(s, "%u-byte stores for %d-level paging",
						     c.esize, c.levels);
				}
				/* PAE: the PDPTE registers load with CR3 */
				for (unsigned int i = 0; i < 4 && c.levels == 3; i++)
					c.regs.pdpte[i] = rd(&c, (c.regs.cr3 & 0xffffffe0ull) + 8 * i);
				s->cr3_loads++;
				if (!c.swapper) {
					c.swapper = c.regs.cr3;
					check_kernel_tables(&c);
				} else {
					note_cr3(&c, c.regs.cr3);
					checkpoint(&c, c.regs.cr3, s->cr3_loads % 8 == 0);
				}
			}
			break;
		case TDP_EV_ACCESS: {
			struct hw_access a = {
				.addr = ev->u.access.gva, .op = (enum tdp_access_op)ev->u.access.op,
				.cpl = ev->u.access.cpl, .ac = ev->u.access.ac,
			};
			struct hw_result r;

			if (!TDP_HAS(ev, ACCESS, cpl))
				FAIL(s, "event %lu: access without cpl", s->nev);
			s->ops[a.op]++;
			if (a.cpl == 3)
				s->user_ops[a.op]++;
			if (a.ac)
				s->ac_accesses++;
			check_not_stale(&c, a.addr);
			hw_walk1d(&mem, &c.regs, &a, &r);
			if (have_pending && a.addr == pending.addr && a.op == pending.op &&
			    a.cpl == pending.cpl) {
				if (r.kind != HW_OK)
					FAIL(s, "event %lu: retry of %#lx faults again (ec %#lx)",
					     s->nev, a.addr, r.error_code);
				have_pending = false;
				s->retries++;
			} else if (r.kind != HW_OK && after_smap_mark && a.cpl == 0 && !a.ac &&
				   (r.error_code & 1) && !(r.error_code & 4)) {
				s->smap++;
			} else if (r.kind != HW_OK && !have_pending && !(r.error_code & 1)) {
				s->demand++;
				pending = a;
				have_pending = true;
			} else if (r.kind != HW_OK && !have_pending && a.op == TDP_OP_WRITE &&
				   (r.error_code & 3) == 3) {
				s->cow++;
				pending = a;
				have_pending = true;
			} else if (r.kind != HW_OK) {
				FAIL(s, "event %lu: unexpected #PF ec=%#lx on %#lx op %d cpl %u",
				     s->nev, r.error_code, a.addr, a.op, a.cpl);
			} else if (have_pending && a.cpl == 3) {
				FAIL(s, "event %lu: user access before the retry of %#lx",
				     s->nev, pending.addr);
			}
			break;
		}
		case TDP_EV_INVLPG:
			invlpg(&c, ev->u.invlpg.gva);
			break;
		case TDP_EV_FLUSH:
			c.nstale = 0;
			break;
		case TDP_EV_MARK:
			if (!strcmp(ev->u.mark.label, "boot"))
				s->marks |= 1;
			else if (!strcmp(ev->u.mark.label, "fork"))
				s->marks |= 2;
			else if (!strcmp(ev->u.mark.label, "steady"))
				s->marks |= 4;
			else if (!strcmp(ev->u.mark.label, "teardown"))
				s->marks |= 8;
			break;
		}
		after_smap_mark = ev->kind == TDP_EV_MARK &&
				  !strcmp(ev->u.mark.label, "smap-violation");
	}
	if (!s->fail[0]) {
		cr_expect_eq(ret, 0, "%s", tdp_trace_errmsg(t));
		if (have_pending)
			FAIL(s, "trace ends before the retry of %#lx", pending.addr);
	}
	free(c.frames);
	free(c.role);
	tdp_gmem_destroy(c.gm);
	tdp_trace_close(t);
}

/* ------------------------------------------------------------------ */

Test(gen, linux_is_architecturally_consistent, .timeout = 120)
{
	struct scan s;

	scan_trace(gen_simple("l.zst", "linux", 7, 40000), &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.cfg.vendor, TDP_VENDOR_INTEL);
	cr_expect_eq(s.cfg.paging, TDP_PAGING_SHADOW);
	cr_expect_eq(s.cfg.mem, TDP_GEN_MEM_DEFAULT);
	cr_expect_eq(s.marks, 0xf, "marks seen: %#x", s.marks);
	cr_expect_gt(s.kinds[TDP_EV_WRITE], 1000);
	cr_expect_eq(s.gva_writes, s.kinds[TDP_EV_WRITE]);
	cr_expect_gt(s.kinds[TDP_EV_INVLPG], 10);
	cr_expect_gt(s.kinds[TDP_EV_FLUSH], 0);
	cr_expect_gt(s.cr3_loads, 100);
	for (int op = 0; op < 3; op++)
		cr_expect_gt(s.user_ops[op], 100, "user op %d: %lu", op, s.user_ops[op]);
	cr_expect_gt(s.ops[0] - s.user_ops[0], 100, "kernel reads");
	cr_expect_gt(s.ac_accesses, 10, "copy_*_user with AC=1");
	cr_expect_gt(s.demand, 100);
	cr_expect_gt(s.cow, 10);
	cr_expect(s.smap >= 1 && s.smap <= 3, "smap violations: %lu", s.smap);
	cr_expect_eq(s.retries, s.demand + s.cow);
	cr_expect_gt(s.reuse, 0, "no frame was reused between table and data");
	cr_expect_geq(s.live_max, 4, "at most %lu live processes", s.live_max);
	cr_expect_gt(s.checkpoints, 100);
}

Test(gen, smep_toggle_flips_smep_over_a_stable_working_set, .timeout = 60)
{
	struct scan s;

	scan_trace(gen_simple("s.zst", "smep-toggle", 3, 20000), &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.cfg.paging, TDP_PAGING_SHADOW);
	cr_expect_gt(s.smep_flips, 20);
	cr_expect_gt(s.smep_on, 10);
	cr_expect_gt(s.smep_off, 10);
	cr_expect_eq(s.smap, 0);
	cr_expect_eq(s.live_max, 3, "live processes: %lu", s.live_max);
	cr_expect_gt(s.user_ops[2], 100);
	cr_expect_eq(s.retries, s.demand + s.cow);
}

Test(gen, pae_is_architecturally_consistent, .timeout = 60)
{
	struct scan s;

	scan_trace(gen_simple("p.zst", "pae", 11, 30000), &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.marks, 0xf, "marks seen: %#x", s.marks);
	for (int op = 0; op < 3; op++)
		cr_expect_gt(s.user_ops[op], 100, "user op %d: %lu", op, s.user_ops[op]);
	cr_expect_gt(s.demand, 100);
	cr_expect_gt(s.cow, 10);
	cr_expect(s.smap >= 1 && s.smap <= 3, "smap violations: %lu", s.smap);
	cr_expect_eq(s.retries, s.demand + s.cow);
	cr_expect_geq(s.live_max, 4, "at most %lu live processes", s.live_max);
}

Test(gen, legacy32_is_architecturally_consistent, .timeout = 60)
{
	struct scan s;

	scan_trace(gen_simple("g.zst", "legacy32", 13, 30000), &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.marks, 0xf, "marks seen: %#x", s.marks);
	for (int op = 0; op < 3; op++)
		cr_expect_gt(s.user_ops[op], 100, "user op %d: %lu", op, s.user_ops[op]);
	cr_expect_gt(s.demand, 100);
	cr_expect_gt(s.cow, 10);
	cr_expect(s.smap >= 1 && s.smap <= 3, "smap violations: %lu", s.smap);
	cr_expect_eq(s.retries, s.demand + s.cow);
	cr_expect_geq(s.live_max, 4, "at most %lu live processes", s.live_max);
}

Test(gen, vendor_paging_and_minimum_mem, .timeout = 60)
{
	const char *path = test_path("amd.zst");
	struct scan s;

	gen_to(path, "linux", 5, 10000, TDP_VENDOR_AMD, TDP_PAGING_TDP, TDP_GEN_MEM_MIN);
	scan_trace(path, &s);
	cr_assert_str_empty(s.fail, "%s", s.fail);
	cr_expect_eq(s.cfg.vendor, TDP_VENDOR_AMD);
	cr_expect_eq(s.cfg.paging, TDP_PAGING_TDP);
	cr_expect_eq(s.cfg.mem, TDP_GEN_MEM_MIN);
}

static void expect_same_file(const char *a, const char *b, bool same)
{
	if (same)
		cr_expect(files_equal(a, b), "%s and %s differ", a, b);
	else
		cr_expect(!files_equal(a, b), "%s and %s are identical", a, b);
}

Test(gen, same_seed_same_bytes_other_seed_other_bytes)
{
	static const char *const wls[] = { "linux", "smep-toggle", "pae", "legacy32" };

	for (size_t i = 0; i < ARRAY_SIZE(wls); i++) {
		const char *a = gen_simple("a.txt", wls[i], 42, 8000);
		const char *b = gen_simple("b.txt", wls[i], 42, 8000);
		const char *c = gen_simple("c.txt", wls[i], 43, 8000);

		expect_same_file(a, b, true);
		expect_same_file(a, c, false);
	}
}

Test(gen, events_target_is_met_within_5_percent, .timeout = 60)
{
	static const uint64_t targets[] = { TDP_GEN_EVENTS_MIN, 20000, 60000 };
	static const char *const wls[] = { "linux", "smep-toggle", "pae", "legacy32" };

	for (size_t w = 0; w < ARRAY_SIZE(wls); w++) {
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
			char errbuf[TDP_ERRBUF_SIZE];
			const struct tdp_event *ev;
			uint64_t n = 0;
			tdp_trace_t *t;
			int ret;

			gen_simple("n.zst", wls[w], i + 1, targets[i]);
			cr_assert_eq(tdp_trace_open(&t, test_path("n.zst"), errbuf), 0, "%s", errbuf);
			while ((ret = tdp_trace_next(t, &ev)) == 1)
				n++;
			cr_expect_eq(ret, 0);
			tdp_trace_close(t);
			cr_expect(n >= targets[i] * 95 / 100 && n <= targets[i] * 105 / 100,
				  "%s: %lu events for --events %lu", wls[w], n, targets[i]);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The command line */

Test(gen_cli, writes_what_the_library_writes)
{
	struct run_result r;
	const char *out = test_path("cli.txt");
	const char *argv[] = { "gen", "--workload", "linux", "--seed", "9", "--events", "6000",
			       "-o", out, NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect(strstr(r.err, "expected #PF"), "stderr: %s", r.err);
	run_result_free(&r);
	/* text: zstd's bytes for the same input vary between programs */
	expect_same_file(out, gen_simple("lib.txt", "linux", 9, 6000), true);
}

Test(gen_cli, bad_options_exit_2_and_write_nothing)
{
	static const struct {
		const char *args[8];
		const char *msg;
	} cases[] = {
		{ { "--workload", "nope" }, "unknown workload 'nope'" },
		{ { "--workload", "linux", "--events", "0" }, "events '0'" },
		{ { "--workload", "linux", "--events", "99999999999999" }, "events '99999999999999'" },
		{ { "--workload", "linux", "--mem", "1T" }, "mem '1T'" },
		{ { "--workload", "linux", "--mem", "65M" }, "mem '65M'" },
		{ { "--workload", "linux", "--seed", "x1" }, "seed 'x1'" },
		{ { "--workload", "linux", "--vendor", "via" }, "unknown vendor 'via'" },
		{ { "--workload", "linux", "--paging", "nested" }, "workload 'linux' is not nested" },
		/* a nested workload's L1 picks paging=nested: no other */
		{ { "--workload", "hvci", "--paging", "shadow" }, "workload 'hvci' runs an L1" },
		{ { "--paging", "tdp", "--workload", "hvci" }, "paging is nested" },
		{ { "--workload", "nested", "--paging", "tdp" }, "workload 'nested' runs an L1" },
		{ { "--workload", "linux", "--paging", "ept" }, "unknown paging 'ept'" },
		{ { "--events", "6000" }, "missing --workload" },
		{ { "--workload", "pae", "--mem", "1G" }, "more than the 896 MiB" },
	};
	const char *out = test_path("bad.zst");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *argv[12] = { "gen" };
		struct run_result r;
		size_t n = 1;

		for (size_t k = 0; k < ARRAY_SIZE(cases[i].args) && cases[i].args[k]; k++)
			argv[n++] = cases[i].args[k];
		argv[n++] = "-o";
		argv[n++] = out;
		cr_assert_eq(run_tdpsim(&r, argv), 0);
		cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
		cr_expect(strstr(r.err, cases[i].msg), "case %zu: stderr: %s", i, r.err);
		cr_expect_not(file_exists(out), "case %zu left %s", i, out);
		run_result_free(&r);
	}
}

Test(gen_cli, unwritable_output_exits_2)
{
	struct run_result r;
	const char *argv[] = { "gen", "--workload", "linux", "--events", "6000",
			       "-o", "/nonexistent-dir/x.zst", NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "/nonexistent-dir/x.zst"), "stderr: %s", r.err);
	cr_expect_not(file_exists("/nonexistent-dir/x.zst"));
	run_result_free(&r);
}

/* Same config and events (the zstd bytes may differ between builds). */
static void expect_same_events(const char *a, const char *b)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ea, *eb;
	tdp_trace_t *ta, *tb;
	uint64_t n = 0;
	int ra, rb;

	cr_assert_eq(tdp_trace_open(&ta, a, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_trace_open(&tb, b, errbuf), 0, "%s", errbuf);
	cr_expect_eq(memcmp(tdp_trace_config(ta), tdp_trace_config(tb),
			    sizeof(struct tdp_config)), 0, "configs differ");
	do {
		ra = tdp_trace_next(ta, &ea);
		rb = tdp_trace_next(tb, &eb);
		n++;
		if (ra == 1 && rb == 1 && !tdp_event_equal(ea, eb))
			break;
	} while (ra == 1 && rb == 1);
	cr_expect(ra == 0 && rb == 0, "%s and %s differ at event %lu", a, b, n);
	tdp_trace_close(ta);
	tdp_trace_close(tb);
}

/*
 * The shipped traces are what traces/README.md says produced them: if the
 * generator changes, regenerate them (the commands are in the README).
 */
Test(gen, shipped_traces_are_reproducible, .timeout = 180)
{
	static const struct {
		const char *file, *workload;
		uint64_t seed, events;
		enum tdp_vendor vendor;
	} shipped[] = {
		{ "traces/linux-small.zst", "linux", 1, 100000, TDP_VENDOR_INTEL },
		{ "traces/smep-toggle.zst", "smep-toggle", 1, 50000, TDP_VENDOR_INTEL },
		{ "traces/pae.zst", "pae", 1, 50000, TDP_VENDOR_INTEL },
		/* paging=nested is implied by the workload */
		{ "traces/hvci-intel.zst", "hvci", 1, 30000, TDP_VENDOR_INTEL },
		{ "traces/hvci-amd.zst", "hvci", 1, 30000, TDP_VENDOR_AMD },
		{ "traces/nested-intel.zst", "nested", 1, 30000, TDP_VENDOR_INTEL },
		{ "traces/nested-amd.zst", "nested", 1, 30000, TDP_VENDOR_AMD },
		/* the README's example at scale: 4 vCPUs, KPTI */
		{ "traces/linux-kpti-1m.zst", "linux-kpti", 1, 1000000, TDP_VENDOR_INTEL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(shipped); i++) {
		const char *path = src_path(shipped[i].file);
		const char *fresh = test_path("ship.zst");

		cr_assert(file_exists(path), "%s is missing", path);
		gen_to(fresh, shipped[i].workload, shipped[i].seed, shipped[i].events,
		       shipped[i].vendor, TDP_PAGING_SHADOW, TDP_GEN_MEM_DEFAULT);
		expect_same_events(path, fresh);
	}
}
