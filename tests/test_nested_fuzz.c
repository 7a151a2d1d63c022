// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomized nested traces: L1 keeps rewriting its EPT/NPT leaves (with and
 * without INVEPT), L2's page-table entries and its paging mode, bounces
 * through vmexit/vmenter, and L2 touches pages at random CPLs.
 *
 * What must hold, whatever the trace:
 *  - replay never fails and the invariant checker (--check: structural
 *    invariants, and every synced shadow EPT02/NPT02 page agrees with L1's
 *    entries) never fires, on either layout;
 *  - without MBEC/GMET both layouts give the same outcome log: the series
 *    changes KVM's internals, not the architecture (docs/NESTED.md);
 *  - every reflected exit names an L2 GPA inside the region L2 touched.
 * The expected values of individual outcomes are checked elsewhere
 * (test_nested_ept/npt/walk, against an SDM/APM predicate); this suite is
 * for the combinations nobody wrote down.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/replay_util.h"
#include "oracle/nested_oracle.h"

#define NPAGES		1536		/* L2 GPAs 0x200000..0x800000 */

struct fz {
	uint64_t rng;
	struct nt t;
	bool intel, feat;
	char enter[64], inv[64];	/* L1's vmenter and flush lines */
};

static uint64_t rnd(struct fz *f, uint64_t n)
{
	/* xorshift64*: deterministic per seed */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return (f->rng * 2685821657736338717ull >> 11) % n;
}

/* An L1 EPT/NPT leaf for L2 page @i: random rights, L1 GPA 0x600000 + i pages. */
static uint64_t tdp_leaf(struct fz *f, unsigned i)
{
	static const uint64_t ept[] = { 0, 1, 2, 3, 4, 5, 6, 7, 7, 7 };
	static const uint64_t ept_mbec[] = { 0, 1, 3, 4, 5, 7, 0x400, 0x401, 0x405, 0x407, 2 };
	static const uint64_t npt[] = { 0, 1, 3, 5, 7, 7, 7, 7, 1ull << 63 | 5,
					1ull << 63 | 7, 1ull << 63 | 1, 1ull << 51 | 7 };
	uint64_t pa = 0x600000 + (uint64_t)i * 0x1000;

	if (f->intel && f->feat)
		return pa | 0x30 | ept_mbec[rnd(f, sizeof(ept_mbec) / 8)];
	if (f->intel)
		return pa | 0x30 | ept[rnd(f, sizeof(ept) / 8)];
	return pa | npt[rnd(f, sizeof(npt) / 8)];
}

static uint64_t l2_pte(struct fz *f, unsigned i)
{
	static const uint64_t fl[] = { 0, 1, 3, 5, 7, 7, 7, 3, 1ull << 63 | 3,
				       1ull << 63 | 7 };

	return (0x200000 + (uint64_t)i * 0x1000) | fl[rnd(f, sizeof(fl) / 8)];
}

static void l2_regs(struct fz *f)
{
	/* long mode, sometimes SMEP; now and then paging off */
	if (rnd(f, 10) == 0)
		nt_event(&f->t, "set cr0=0x10001 cr4=0 efer=0");
	else
		nt_event(&f->t, "set cr0=0x80010001 cr3=0x1000 cr4=%#x efer=0xd00",
			 0x20 | (rnd(f, 3) == 0 ? 0x100000 : 0));
}

static void build(struct fz *f, uint64_t seed, bool intel, bool feat)
{
	struct nt *t = &f->t;
	char cfg[96];
	uint64_t nl;

	memset(f, 0, sizeof(*f));
	f->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	f->intel = intel;
	f->feat = feat;
	snprintf(cfg, sizeof(cfg), "vendor=%s paging=nested mem=0x1000000 %s=%d",
		 intel ? "intel" : "amd", intel ? "mbec" : "gmet", feat);
	nt_init(t, cfg);
	if (intel) {
		uint64_t eptp = 0x10001e | (rnd(f, 2) ? 0x40 : 0);

		nl = feat ? 0x407 : 0x7;
		nt_write(t, 0x100000, 0x101000 | nl);
		nt_write(t, 0x101000, 0x102000 | nl);
		nt_write(t, 0x102000, 0x4000b7 | (feat ? 0x400 : 0));	/* 2M: L2 tables */
		snprintf(f->enter, sizeof(f->enter), "vmenter eptp=%#" PRIx64 "%s",
			 eptp, feat ? " mbec=1" : "");
		if (rnd(f, 2))
			snprintf(f->inv, sizeof(f->inv), "invept");
		else
			snprintf(f->inv, sizeof(f->inv), "invept eptp=%#" PRIx64, eptp);
	} else {
		nl = 0x7;
		nt_event(t, "set cr0=0x80010001 cr3=0x50000 cr4=0x20 efer=0xd00");
		nt_write(t, 0x100000, 0x101007);
		nt_write(t, 0x101000, 0x102007);
		nt_write(t, 0x102000, 0x4000e7);
		snprintf(f->enter, sizeof(f->enter), "vmenter ncr3=0x100000%s",
			 feat ? " gmet=1" : "");
		snprintf(f->inv, sizeof(f->inv), "invept");
	}
	for (unsigned r = 0; r < 3; r++)	/* L1 PDEs -> PTs for 2M..8M */
		nt_write(t, 0x102008 + 8 * r, (0x103000 + 0x1000 * r) | nl);
	/* L2: PML4 0x1000, PDPT 0x2000, PD 0x3000, PTs 0x4000.. (L1 0x400000 + x) */
	nt_write(t, 0x401000, 0x2007);
	nt_write(t, 0x402000, 0x3007);
	for (unsigned r = 0; r < 3; r++)
		nt_write(t, 0x403008 + 8 * r, (0x4000 + 0x1000 * r) | 7);
	for (unsigned i = 0; i < NPAGES; i += 1 + rnd(f, 4))
		nt_write(t, 0x404000 + 8 * i, l2_pte(f, i));
	for (unsigned i = 0; i < NPAGES; i += 1 + rnd(f, 2))
		nt_write(t, 0x103000 + 8 * i, tdp_leaf(f, i));
	nt_event(t, "%s", f->enter);
	l2_regs(f);

	for (int k = 0; k < 2500; k++) {
		unsigned i = rnd(f, NPAGES), x = rnd(f, 100);
		uint64_t gva = 0x200000 + (uint64_t)i * 0x1000 + rnd(f, 512) * 8;

		if (x < 60) {
			nt_event(t, "access gva=%#" PRIx64 " op=%c cpl=%u", gva,
				 "rwx"[rnd(f, 3)], rnd(f, 2) ? 3u : 0u);
		} else if (x < 75) {
			nt_write(t, 0x103000 + 8 * i, tdp_leaf(f, i));
			if (rnd(f, 5))
				nt_event(t, "%s", f->inv);
		} else if (x < 85) {
			nt_write(t, 0x404000 + 8 * i, l2_pte(f, i));
			if (rnd(f, 2))
				nt_event(t, "invlpg gva=%#" PRIx64, gva);
		} else if (x < 90) {
			nt_event(t, "peek gpa=%#" PRIx64, 0x404000 + 8 * (uint64_t)i);
		} else if (x < 93) {
			/* an L1 access between two runs of L2 */
			nt_event(t, "vmexit");
			nt_event(t, "access gva=%#" PRIx64 " op=r",
				 rnd(f, 0x100000) & ~(uint64_t)7);
			nt_event(t, "%s", f->enter);
			l2_regs(f);
		} else if (x < 95) {
			l2_regs(f);
		} else if (x < 96) {
			/*
			 * L1 remaps the 2 MiB holding L2's page tables: mostly
			 * back to full rights, sometimes read-only or absent
			 * (paging-structure violations)
			 */
			static const uint64_t ept_pd[] = { 0x4000b7, 0x4000b7, 0x4000b7,
							   0x4000b7, 0x4000b1, 0 };
			static const uint64_t npt_pd[] = { 0x4000e7, 0x4000e7, 0x4000e7,
							   0x4000e7, 0x4000e5, 0x4000e3,
							   0 };
			uint64_t pd = f->intel ? ept_pd[rnd(f, 6)] : npt_pd[rnd(f, 7)];

			if (f->intel && f->feat && pd)
				pd |= 0x400;
			nt_write(t, 0x102000, pd);
			nt_event(t, "%s", f->inv);
		} else {
			nt_event(t, "%s", f->inv);
		}
	}
}

static unsigned count(const char *s, const char *needle)
{
	unsigned n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

/* Every reflected exit's GPA lies in what L2 can reach: its tables or data. */
static void check_reflected_gpas(const char *log, const char *what)
{
	for (const char *p = log, *eol; p; p = eol ? eol + 1 : NULL) {
		char kind[32];
		uint64_t gpa;

		/* "N ept_violation gpa=...", "N ept_misconfig gpa=", "N npf gpa=..." */
		if (sscanf(p, "%*u %31s gpa=%" SCNx64, kind, &gpa) == 2 &&
		    (!strncmp(kind, "ept_", 4) || !strcmp(kind, "npf")))
			cr_expect((gpa >= 0x1000 && gpa < 0x7000) ||
				  (gpa >= 0x200000 && gpa < 0x200000 + NPAGES * 0x1000ull),
				  "%s: reflected gpa %#" PRIx64 " outside L2's memory", what, gpa);
		eol = strchr(p, '\n');
	}
}

static void fuzz(bool intel, bool feat)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct replay_args a_new = { .layout = "new", .check = true };
		struct replay_args a_old = { .layout = "old", .check = true };
		struct replay_run rn = { 0 }, ro = { 0 };
		char what[64];
		struct fz f;

		snprintf(what, sizeof(what), "%s %s=%d seed %" PRIu64,
			 intel ? "intel" : "amd", intel ? "mbec" : "gmet", feat, seed);
		build(&f, seed, intel, feat);
		replay_text(&rn, f.t.text, &a_new);
		cr_assert_eq(rn.ret, 0, "%s, new: %s", what, rn.err);
		/* the mix reaches every kind of outcome */
		cr_expect(rn.res->stats.l2_accesses > 1000, "%s: too few L2 accesses", what);
		cr_expect(rn.res->stats.l2_pf > 50, "%s: %" PRIu64 " L2 #PFs", what,
			  rn.res->stats.l2_pf);
		cr_expect(rn.res->stats.nested_reflected > 50, "%s: %" PRIu64 " reflected",
			  what, rn.res->stats.nested_reflected);
		cr_expect(count(rn.log, " ok gpa=") > 100, "%s: %u accesses completed",
			  what, count(rn.log, " ok gpa="));
		cr_expect(rn.res->stats.reflected_page > 5, "%s: %" PRIu64
			  " paging-structure violations", what,
			  rn.res->stats.reflected_page);
		check_reflected_gpas(rn.log, what);
		if (!feat) {
			replay_text(&ro, f.t.text, &a_old);
			cr_assert_eq(ro.ret, 0, "%s, old: %s", what, ro.err);
			cr_expect_str_eq(ro.log, rn.log, "%s: old and new logs differ", what);
			replay_run_free(&ro);
		}
		replay_run_free(&rn);
		nt_free(&f.t);
	}
}

Test(nested_fuzz, ept) { fuzz(true, false); }
Test(nested_fuzz, ept_mbec) { fuzz(true, true); }
Test(nested_fuzz, npt) { fuzz(false, false); }
Test(nested_fuzz, npt_gmet) { fuzz(false, true); }
