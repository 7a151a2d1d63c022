// SPDX-License-Identifier: GPL-2.0-only
/*
 * Architectural oracle for replay: random but valid guest page tables
 * (4-level, PAE, 32-bit) built by `write` events, random CR0.WP / CR4.SMEP /
 * CR4.SMAP loads, random accesses (r/w/x, CPL 0/3, EFLAGS.AC, implicit) and
 * random later modifications of paging entries, each followed by the
 * invalidation the architecture requires (INVLPG for a leaf, a full flush
 * for a paging-structure entry, a CR3 reload for a PAE PDPTE), so that
 * replay's TLB-less model and the SDM agree on every access.
 *
 * The expected outcome of every access comes from the CPU model (src/hw)
 * (the SDM written as plain if/else) run on a mirror of guest memory, which
 * also receives the A/D updates the oracle performs; the trace ends with a
 * `peek` of every paging entry written, so the A/D bits the replay left in
 * guest memory are compared too.  Each trace is replayed with paging=shadow,
 * paging=tdp on intel (EPT) and on amd (NPT), each on both ACC layouts, with
 * the invariant checker on.
 *
 * Excluded from generation (docs/KNOWN-DIVERGENCES.md): 4 MiB PSE-36 pages
 * with PDE bits 17..20 set; implicit supervisor accesses with EFLAGS.AC=1
 * (KVM cannot tell them from explicit ones: tested separately below, where
 * the livelock must be counted); EFER.NXE and CR4.PSE changes while
 * mappings are live (KVM keeps shadow pages across them), so both are
 * fixed per trace; supervisor writes with AC=1 while SMAP=1 and CR0.WP=0
 * (KVM's supervisor-only SPTE then hides later SMAP faults).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <tdpsim/gmem.h>

#include "helpers/hw_util.h"
#include "helpers/replay_util.h"
#include "helpers/run.h"

#define MEM_SIZE	0x2000000ull	/* 32 MiB guest memory */
#define TABLE_BASE	0x100000ull	/* paging structures from here */
#define DATA_BASE	0x1000000ull	/* 4K/2M/4M data pages from here */
#define MAXPHY		46

enum mode { M_4LEVEL, M_PAE, M_32BIT };

/* xorshift64*: deterministic, seeded per trace */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static bool chance(unsigned pct)
{
	return rndn(100) < pct;
}

/* A paging entry the generator wrote. */
struct entry {
	uint64_t gpa;
	int level;		/* 1 = PTE; 3 in PAE mode = PDPTE */
	bool leaf;		/* maps a page (PTE or PS=1) */
	uint64_t gva;		/* base of the region it maps */
	uint64_t page;		/* size of that region when leaf */
};

/* A leaf mapping accesses aim at. */
struct mapping {
	uint64_t gva, size;
};

struct gen {
	enum mode mode;
	struct tdp_gmem *gm;		/* mirror of guest memory */
	struct hw_regs regs;
	uint64_t next_table, next_data4k;
	struct entry ent[1024];
	unsigned nent;
	struct mapping map[512];
	unsigned nmap;
	char *trace, *expect;
	size_t tlen, tcap, elen, ecap;
	uint64_t nev;		/* events emitted */
	bool pse;		/* 32-bit: CR4.PSE */
	uint64_t roots[2];	/* two address spaces (CR3 values) */
	unsigned cur;
	unsigned accesses;
};

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		cr_assert_geq(n, 0);
		if ((size_t)n < *cap - *len)
			break;
		*cap = *cap * 2 + (size_t)n;
		*buf = realloc(*buf, *cap);
		cr_assert_not_null(*buf);
	}
	*len += (size_t)n;
}

#define EMIT(g, ...)	append(&(g)->trace, &(g)->tlen, &(g)->tcap, __VA_ARGS__)
#define EXPECT(g, ...)	append(&(g)->expect, &(g)->elen, &(g)->ecap, __VA_ARGS__)

static bool mem_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct gen *g = ctx;

	*val = 0;
	return tdp_gmem_read(g->gm, gpa, size, val) == 0;
}

static void mem_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct gen *g = ctx;

	cr_assert_eq(tdp_gmem_write(g->gm, gpa, size, val), 0);
}

static unsigned ent_size(const struct gen *g)
{
	return g->mode == M_32BIT ? 4 : 8;
}

static void emit_write(struct gen *g, uint64_t gpa, uint64_t val)
{
	unsigned size = ent_size(g);

	mem_write(g, gpa, size, val);
	g->nev++;
	EMIT(g, "write gpa=0x%" PRIx64 " val=0x%" PRIx64 " size=%u\n", gpa, val, size);
}

static uint64_t ent_read(struct gen *g, uint64_t gpa)
{
	uint64_t v;

	mem_read(g, gpa, ent_size(g), &v);
	return v;
}

/* The shift of the region one entry at @level maps (PAE PDPTE: level 3). */
static unsigned level_shift(const struct gen *g, int level)
{
	if (g->mode == M_32BIT)
		return level == 2 ? 22 : 12;
	return 12 + 9 * (unsigned)(level - 1);
}

/* Flag bits for a new or modified entry; reserved bits now and then. */
static uint64_t rand_flags(struct gen *g, int level, bool leaf)
{
	bool upper = !leaf;
	uint64_t v = 0;

	if (g->mode == M_PAE && level == 3)
		return chance(92) ? 1 : 0;	/* PDPTE: P only (else MOV CR3 #GP) */
	v |= chance(upper ? 95 : 88) ? 1 : 0;		/* P */
	v |= chance(upper ? 90 : 65) ? 2 : 0;		/* R/W */
	v |= chance(upper ? 90 : 60) ? 4 : 0;		/* U/S */
	v |= chance(40) ? 0x20 : 0;			/* A */
	if (leaf)
		v |= chance(30) ? 0x40 : 0;		/* D */
	if (g->mode == M_32BIT) {
		/* 4 MiB: bit 21 reserved; never bits 17..20 (PSE-36 divergence) */
		if (leaf && level == 2 && chance(4))
			v |= 1ull << 21;
		return v;
	}
	v |= chance(upper ? 5 : 15) ? 1ull << 63 : 0;	/* XD (reserved if !NXE) */
	if (chance(2))
		v |= 1ull << (MAXPHY + rndn(52 - MAXPHY));	/* above MAXPHYADDR */
	if (leaf && level > 1 && chance(4))
		v |= 1ull << 13;			/* reserved in a 2M/1G PDE */
	return v;
}

static struct entry *find_entry(struct gen *g, uint64_t gpa)
{
	for (unsigned i = 0; i < g->nent; i++)
		if (g->ent[i].gpa == gpa)
			return &g->ent[i];
	return NULL;
}

static uint64_t alloc_table(struct gen *g)
{
	uint64_t t = g->next_table;

	g->next_table += 0x1000;
	cr_assert_lt(g->next_table, DATA_BASE, "out of table pages");
	return t;
}

/* A fresh leaf target of @size: data pages live above DATA_BASE. */
static uint64_t alloc_data(struct gen *g, uint64_t size)
{
	if (size == 0x1000) {
		uint64_t p = DATA_BASE + (uint64_t)rndn(0x1000) * 0x1000;

		return p;
	}
	if (size >= (1ull << 30))
		return 0;	/* 1 GiB page at 0: covers all of memory */
	return DATA_BASE + (uint64_t)rndn((unsigned)((MEM_SIZE - DATA_BASE) / size)) * size;
}

static uint64_t sign_extend48(uint64_t gva)
{
	return (gva & (1ull << 47)) ? gva | 0xffff000000000000ull : gva;
}

/*
 * Build the path for one random linear address: existing entries are
 * followed, missing ones written (a table, or a large leaf now and then).
 * Every table page has exactly one parent entry (a tree), so a leaf entry
 * maps exactly one region and INVLPG of that region invalidates it.
 */
static void map_one(struct gen *g)
{
	uint64_t gva = 0, table = g->regs.cr3 & ~0xfffull;
	int top = g->mode == M_4LEVEL ? 4 : 2;
	int level;

	/* pick indices from small ranges so that paths share tables */
	if (g->mode == M_4LEVEL) {
		gva = (uint64_t)(chance(80) ? rndn(3) : 256 + rndn(2)) << 39 |
		      (uint64_t)rndn(3) << 30 | (uint64_t)rndn(4) << 21 |
		      (uint64_t)rndn(512) << 12;
		gva = sign_extend48(gva);
	} else if (g->mode == M_PAE) {
		gva = (uint64_t)rndn(4) << 30 | (uint64_t)rndn(4) << 21 |
		      (uint64_t)rndn(512) << 12;
		/* the PDPTE in memory (P may be clear; its PD exists) */
		table = ent_read(g, g->regs.cr3 + 8 * ((gva >> 30) & 3)) &
			0xffffff000ull;
		cr_assert_neq(table, 0);
	} else {
		gva = (uint64_t)rndn(6) << 22 | (uint64_t)rndn(1024) << 12;
	}

	for (level = top; level >= 1; level--) {
		unsigned shift = level_shift(g, level);
		unsigned idx = g->mode == M_32BIT ?
			       (unsigned)(gva >> shift) & 1023 :
			       (unsigned)(gva >> shift) & 511;
		uint64_t egpa = table + (uint64_t)idx * ent_size(g);
		struct entry *e = find_entry(g, egpa);
		uint64_t size = 1ull << shift, target, val;
		bool leaf;

		if (e) {
			if (e->leaf)
				return;		/* already mapped */
			table = ent_read(g, egpa) & (g->mode == M_32BIT ? 0xfffff000ull :
						     0xffffffffff000ull);
			table &= (1ull << MAXPHY) - 1;
			continue;
		}
		if (level == 1)
			leaf = true;
		else if (g->mode == M_32BIT)
			leaf = g->pse && chance(25);
		else
			leaf = chance(level == 2 ? 25 : 10);
		target = leaf ? alloc_data(g, size) : alloc_table(g);
		val = target | rand_flags(g, level, leaf) | (leaf && level > 1 ? 0x80 : 0);
		cr_assert_lt(g->nent, sizeof(g->ent) / sizeof(g->ent[0]));
		g->ent[g->nent++] = (struct entry){
			.gpa = egpa, .level = level, .leaf = leaf,
			.gva = gva & ~(size - 1), .page = size };
		emit_write(g, egpa, val);
		if (leaf) {
			cr_assert_lt(g->nmap, sizeof(g->map) / sizeof(g->map[0]));
			g->map[g->nmap++] = (struct mapping){ gva & ~(size - 1), size };
			return;
		}
		table = target;
	}
}

/* PAE: the PDPTE registers as MOV CR3 loads them. */
static void load_pdptes(struct gen *g)
{
	for (int i = 0; i < 4; i++)
		mem_read(g, (g->regs.cr3 & ~0x1full) + 8 * (unsigned)i, 8,
			 &g->regs.pdpte[i]);
}

/* Flip a few flag bits of one written entry, then invalidate. */
static void modify_one(struct gen *g)
{
	struct entry *e = &g->ent[rndn(g->nent)];
	uint64_t v = ent_read(g, e->gpa), flip;

	if (g->mode == M_PAE && e->level == 3) {
		v ^= 1;		/* PDPTE P */
		emit_write(g, e->gpa, v);
		g->nev++;
		EMIT(g, "set cr3=0x%" PRIx64 "\n", g->regs.cr3);
		load_pdptes(g);
		return;
	}
	do {
		static const uint64_t bits64[] = { 1, 2, 4, 0x20, 0x40, 1ull << 63,
						   1ull << 50 };
		static const uint64_t bits32[] = { 1, 2, 4, 0x20, 0x40 };

		flip = g->mode == M_32BIT ? bits32[rndn(5)] : bits64[rndn(7)];
		if (chance(40))
			flip |= g->mode == M_32BIT ? bits32[rndn(5)] : bits64[rndn(7)];
	} while (!e->leaf && flip == 0x40);
	v ^= flip;
	if (chance(50)) {
		/* repair: present, no reserved bits, so accesses often succeed */
		v |= 1 | (chance(60) ? 2 : 0) | (chance(60) ? 4 : 0);
		if (g->mode != M_32BIT) {
			v &= ~(((1ull << 52) - 1) & ~((1ull << MAXPHY) - 1));
			if (e->leaf && e->level > 1)
				v &= ~(1ull << 13);
			if (!(g->regs.efer & 0x800))
				v &= ~(1ull << 63);
		} else {
			v &= ~(1ull << 21);
		}
	}
	emit_write(g, e->gpa, v);
	g->nev++;
	if (e->leaf && chance(70))
		EMIT(g, "invlpg gva=0x%" PRIx64 "\n",
		     e->gva + (rnd() & (e->page - 1) & ~(uint64_t)0xfff));
	else
		EMIT(g, "flush\n");
}

static void set_regs(struct gen *g, bool first)
{
	bool wp = chance(75), smep = chance(50), smap = chance(50);
	uint64_t cr0 = 0x80000011ull | (wp ? 1ull << 16 : 0);
	uint64_t cr4 = (smep ? 1ull << 20 : 0) | (smap ? 1ull << 21 : 0);

	if (g->mode != M_32BIT)
		cr4 |= 0x20;			/* PAE */
	else if (g->pse)
		cr4 |= 0x10;			/* PSE */
	g->regs.cr0 = cr0;
	g->regs.cr4 = cr4;
	g->nev++;
	if (first) {
		EMIT(g, "set cr0=0x%" PRIx64 " cr3=0x%" PRIx64 " cr4=0x%" PRIx64
		     " efer=0x%" PRIx64 "\n", cr0, g->regs.cr3, cr4, g->regs.efer);
		if (g->mode == M_PAE)
			load_pdptes(g);
	} else if (chance(35)) {
		/*
		 * Switch address space: MOV CR3 (no PCID, no global pages)
		 * invalidates every translation, so the other space's entries
		 * modified meanwhile need no INVLPG.  Exercises prev_roots
		 * with unsync pages behind them.
		 */
		g->cur ^= 1;
		g->regs.cr3 = g->roots[g->cur];
		EMIT(g, "set cr0=0x%" PRIx64 " cr3=0x%" PRIx64 " cr4=0x%" PRIx64 "\n",
		     cr0, g->regs.cr3, cr4);
		if (g->mode == M_PAE)
			load_pdptes(g);
	} else {
		EMIT(g, "set cr0=0x%" PRIx64 " cr4=0x%" PRIx64 "\n", cr0, cr4);
	}
}

static void access_one(struct gen *g)
{
	static const char *opname[3] = { "r", "w", "x" };
	struct hw_mem m = hw_mem_gmem(g->gm, MAXPHY);
	struct hw_access a = { 0 };
	struct hw_result res;
	uint64_t gva;

	if (g->nmap && chance(92)) {
		const struct mapping *mp = &g->map[rndn(g->nmap)];
		uint64_t span = mp->size > MEM_SIZE ? MEM_SIZE : mp->size;

		gva = mp->gva + (rnd() % span);
	} else if (g->mode == M_4LEVEL) {
		gva = sign_extend48((uint64_t)rndn(4) << 39 | (rnd() & ((1ull << 39) - 1)));
	} else {
		gva = rnd() & 0xffffffffull;
	}
	a.addr = gva;
	a.op = (enum tdp_access_op)rndn(3);
	a.cpl = chance(50) ? 3 : 0;
	a.ac = chance(30);
	/*
	 * SMAP with CR0.WP=0: a supervisor write with AC=1 to a read-only
	 * user page makes KVM turn the SPTE into a writable supervisor one
	 * (FNAME(page_fault)), after which SMAP no longer faults on that
	 * page (docs/KNOWN-DIVERGENCES.md): such writes use AC=0 here.
	 */
	if ((g->regs.cr4 & (1ull << 21)) && !(g->regs.cr0 & (1ull << 16)) &&
	    a.op == TDP_OP_WRITE && a.cpl == 0)
		a.ac = false;
	/* implicit accesses only with AC=0 (the AC=1 case is KVM's livelock) */
	a.implicit = !a.ac && chance(10);
	hw_walk1d(&m, &g->regs, &a, &res);
	/*
	 * KVM divergence (docs/KNOWN-DIVERGENCES.md): with 32-bit paging and
	 * EFER.NXE=1, KVM's walker reports I/D on fetch faults (role.efer_nx
	 * does not depend on CR4.PAE); the CPU needs CR4.PAE (SDM 4.7).  The
	 * same trace is replayed under shadow paging (KVM injects the #PF)
	 * and TDP (the CPU delivers it), so such a fault is not generated: the
	 * fetch becomes a read (a fault sets no A/D, so nothing else changed).
	 */
	if (res.kind == HW_PF && g->mode == M_32BIT && a.op == TDP_OP_FETCH &&
	    (g->regs.efer & 0x800)) {
		a.op = TDP_OP_READ;
		hw_walk1d(&m, &g->regs, &a, &res);
	}
	g->nev++;
	g->accesses++;
	EMIT(g, "access gva=0x%" PRIx64 " op=%s cpl=%u ac=%d implicit=%d\n",
	     gva, opname[a.op], a.cpl, a.ac, a.implicit);
	if (res.kind != HW_OK)
		EXPECT(g, "%" PRIu64 " pf ec=0x%" PRIx64 "\n", g->nev, res.error_code);
	else
		EXPECT(g, "%" PRIu64 " ok gpa=0x%" PRIx64 "\n", g->nev, res.gpa);
}

/* Build one trace of about @nevents events; returns the generator. */
static void generate(struct gen *g, enum mode mode, uint64_t seed, unsigned nevents)
{
	memset(g, 0, sizeof(*g));
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	g->mode = mode;
	cr_assert_eq(tdp_gmem_create(&g->gm, MEM_SIZE), 0);
	g->tcap = g->ecap = 1 << 16;
	g->trace = malloc(g->tcap);
	g->expect = malloc(g->ecap);
	cr_assert(g->trace && g->expect);
	g->trace[0] = g->expect[0] = 0;
	g->next_table = TABLE_BASE;
	g->regs.maxphyaddr = MAXPHY;
	g->regs.pse36 = true;
	g->pse = mode == M_32BIT && chance(70);
	/* EFER: NXE fixed per trace; LME for 4-level (LMA follows) */
	g->regs.efer = (chance(70) ? 0x800 : 0) | (mode == M_4LEVEL ? 0x500 : 0);

	EMIT(g, "tdpsim-trace 1\n"
	     "# generated by tests/test_replay_oracle.c, mode %d seed %" PRIu64 "\n"
	     "config vendor=intel paging=shadow mem=0x%llx maxphyaddr=%d\n",
	     (int)mode, seed, (unsigned long long)MEM_SIZE, MAXPHY);
	for (int r = 0; r < 2; r++) {
		g->roots[r] = alloc_table(g);
		if (mode != M_PAE)
			continue;
		/* four PDPTEs, each to its own PD; P may be clear */
		for (int i = 0; i < 4; i++) {
			uint64_t pd = alloc_table(g), at = g->roots[r] + 8 * (unsigned)i;

			g->ent[g->nent++] = (struct entry){
				.gpa = at, .level = 3,
				.gva = (uint64_t)i << 30, .page = 1ull << 30 };
			emit_write(g, at, pd | (i == 0 || chance(85) ? 1 : 0));
		}
	}
	/* some mappings in the second space, then the first one's */
	g->regs.cr3 = g->roots[1];
	for (int i = 0; i < 6; i++)
		map_one(g);
	g->regs.cr3 = g->roots[0];
	for (int i = 0; i < 12; i++)
		map_one(g);
	set_regs(g, true);
	while (g->nev < nevents) {
		unsigned r = rndn(100);

		if (r < 65)
			access_one(g);
		else if (r < 75)
			map_one(g);
		else if (r < 92 && g->nent)
			modify_one(g);
		else
			set_regs(g, false);
	}
	/* the final memory: every paging entry, A/D included */
	for (unsigned i = 0; i < g->nent; i++) {
		uint64_t v = ent_read(g, g->ent[i].gpa);

		g->nev++;
		EMIT(g, "peek gpa=0x%" PRIx64 " size=%u\n", g->ent[i].gpa, ent_size(g));
		EXPECT(g, "%" PRIu64 " val=0x%" PRIx64 "\n", g->nev, v);
	}
}

static void gen_free(struct gen *g)
{
	tdp_gmem_destroy(g->gm);
	free(g->trace);
	free(g->expect);
}

/* First line where @got and @want differ, for the failure message. */
static void first_diff(const char *got, const char *want, char *buf, size_t len)
{
	const char *g0 = got;

	while (*got && *got == *want) {
		got++;
		want++;
	}
	/* back to the start of the differing line in both */
	while (got > g0 && got[-1] != '\n') {
		got--;
		want--;
	}
	snprintf(buf, len, "got '%.*s' want '%.*s'", (int)strcspn(got, "\n"), got,
		 (int)strcspn(want, "\n"), want);
}

static void check_trace(const struct gen *g, const char *what)
{
	/* same length as the generated "vendor=intel paging=shadow" */
	static const char *pagings[3] = { "vendor=intel paging=shadow",
					  "vendor=intel paging=tdp   ",
					  "vendor=amd   paging=tdp   " };
	static const char *layouts[2] = { "old", "new" };
	const char *dump = getenv("TDPSIM_ORACLE_DUMP");

	if (dump) {
		/* for humans: keep the trace and the oracle's log */
		char path[512];

		snprintf(path, sizeof(path), "%s/%s.txt", dump, what);
		write_file(path, g->trace, strlen(g->trace));
		snprintf(path, sizeof(path), "%s/%s.log", dump, what);
		write_file(path, g->expect, strlen(g->expect));
	}
	for (int p = 0; p < 3; p++) {
		char *text = strdup(g->trace);
		char *at = strstr(text, pagings[0]);

		cr_assert_not_null(at);
		memcpy(at, pagings[p], strlen(pagings[0]));
		for (int l = 0; l < 2; l++) {
			struct replay_args a = { .layout = layouts[l], .check = true };
			struct replay_run rr;
			char diff[200];

			replay_text(&rr, text, &a);
			cr_assert_eq(rr.ret, 0, "%s %s %s: %s", what, pagings[p],
				     layouts[l], rr.err);
			if (strcmp(rr.log, g->expect)) {
				const char *keep = test_path("oracle-failed.txt");

				write_file(keep, text, strlen(text));
				first_diff(rr.log, g->expect, diff, sizeof(diff));
				cr_assert_fail("%s %s layout %s: outcome differs from the SDM oracle: %s (trace kept in %s)",
					       what, pagings[p], layouts[l], diff, keep);
			}
			cr_assert_eq(rr.res->stats.pf_livelock, 0, "%s", what);
			replay_run_free(&rr);
		}
		free(text);
	}
}

static void run_mode(enum mode mode, const char *name)
{
	/* TDPSIM_ORACLE_SEEDS=N runs more seeds (by hand, not in CI) */
	const char *env = getenv("TDPSIM_ORACLE_SEEDS");
	uint64_t nseeds = env ? strtoull(env, NULL, 0) : 3;

	for (uint64_t seed = 1; seed <= nseeds; seed++) {
		struct gen g;
		char what[64];

		generate(&g, mode, seed * 1000 + (uint64_t)mode, 400);
		snprintf(what, sizeof(what), "%s-seed%" PRIu64, name, seed);
		cr_assert_gt(g.accesses, 100, "%s", what);
		check_trace(&g, what);
		gen_free(&g);
	}
}

Test(replay_oracle, four_level)
{
	run_mode(M_4LEVEL, "4-level");
}

Test(replay_oracle, pae)
{
	run_mode(M_PAE, "pae");
}

Test(replay_oracle, legacy_32bit)
{
	run_mode(M_32BIT, "32-bit");
}
