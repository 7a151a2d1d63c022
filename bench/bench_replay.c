// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay throughput and memory.
 *
 *   bench_replay [--reps N] [--no-read-ahead] [--layout old|new] TRACE [LONG_TRACE]
 *   bench_replay [--reps N] --synth-hits EVENTS OUT.zst
 *   bench_replay [--reps N] --synth-faults FAULTS OUT.zst
 *
 * --synth-hits writes a hit-dominated shadow-paging trace first: a 4-level
 * guest maps 4096 pages once, then reads/writes/fetches them at random
 * (after warm-up every access hits the shadow tables), and benchmarks it.
 * --synth-faults writes a fault-dominated one: a 4-level guest maps FAULTS
 * fresh pages, 512 at a time (one guest page table is filled, then each of
 * its pages is read once), so every access is a shadow page fault that
 * KVM fixes; the gPTEs have A clear, so KVM prefetches none of the
 * neighbours (FNAME(prefetch_invalid_gpte)).  It also prints faults/s.
 * Replays TRACE under both ACC layouts, interleaved (old, new, old, new,
 * ...) so that machine drift hits both alike, with walk timing off and no
 * outcome log, and prints events/s per repetition, the median per layout
 * and the new/old ratio.  With LONG_TRACE (the same workload, ~10x the
 * events), each trace is also replayed once in a child process and the
 * child's peak RSS is compared: memory must follow the working set, not
 * the trace length.  --layout replays only that layout, for TRACE alone
 * (a trace with mbec=1 or gmet=1 runs under the series' layout only).
 * --no-read-ahead reads and decodes on the replay's thread
 * (tdp_replay_opts.no_read_ahead), as `tdpsim replay --no-read-ahead`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "bench.h"

/* xorshift64*: deterministic, cheap */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static int put(tdp_writer_t *w, struct tdp_event *ev)
{
	int r = tdp_writer_event(w, ev);

	if (r)
		fprintf(stderr, "bench_replay: %s\n", tdp_writer_errmsg(w));
	return r;
}

/* The synthetic traces' shared steps; each is a no-op once *@r is set. */
static void put_write(tdp_writer_t *w, int *r, uint64_t gpa, uint64_t val)
{
	struct tdp_event ev = { .kind = TDP_EV_WRITE };

	if (*r)
		return;
	ev.present = TDP_KEY_BIT(WRITE, gpa) | TDP_KEY_BIT(WRITE, val);
	ev.u.write.gpa = gpa;
	ev.u.write.val = val;
	ev.u.write.size = 8;
	*r = put(w, &ev);
}

static void put_access(tdp_writer_t *w, int *r, uint64_t gva, unsigned op)
{
	struct tdp_event ev = { .kind = TDP_EV_ACCESS };

	if (*r)
		return;
	ev.present = TDP_KEY_BIT(ACCESS, gva) | TDP_KEY_BIT(ACCESS, op);
	ev.u.access.gva = gva;
	ev.u.access.op = op;
	*r = put(w, &ev);
}

/* 4-level long mode, CR3 0x1000, NXE, user mode: both workloads' guest. */
static void put_long_mode(tdp_writer_t *w, int *r)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	if (*r)
		return;
	ev.present = TDP_KEY_BIT(SET, cr0) | TDP_KEY_BIT(SET, cr3) |
		     TDP_KEY_BIT(SET, cr4) | TDP_KEY_BIT(SET, efer) | TDP_KEY_BIT(SET, cpl);
	ev.u.set.cr0 = 0x80010001;
	ev.u.set.cr3 = 0x1000;
	ev.u.set.cr4 = 0x20;
	ev.u.set.efer = 0xd00;
	ev.u.set.cpl = 3;
	*r = put(w, &ev);
}

/* A zstd trace writer for @out with @mem bytes of guest memory. */
static int synth_open(const char *out, uint64_t mem, tdp_writer_t **w)
{
	struct tdp_config cfg;
	char err[TDP_ERRBUF_SIZE];
	int r;

	tdp_config_init(&cfg);
	cfg.mem = mem;
	cfg.present |= 1u << TDP_CFG_mem | 1u << TDP_CFG_vendor | 1u << TDP_CFG_paging;
	r = tdp_writer_open(w, out, TDP_FORM_ZST, 0, "bench_replay", err);
	if (r) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return r;
	}
	r = tdp_writer_config(*w, &cfg);
	if (r) {
		fprintf(stderr, "bench_replay: %s\n", tdp_writer_errmsg(*w));
		tdp_writer_free(*w);
	}
	return r;
}

/* Close (if all went well) and free; the first error wins. */
static int synth_close(tdp_writer_t *w, int r)
{
	if (!r)
		r = tdp_writer_close(w);
	if (r)
		fprintf(stderr, "bench_replay: %s\n", tdp_writer_errmsg(w));
	tdp_writer_free(w);
	return r;
}

/*
 * Guest layout: PML4 0x1000, PDPT 0x2000, PD 0x3000, PTs at 0x10000 +
 * 4 KiB each (8 of them: 4096 pages), data pages from 0x100000.  GVA
 * 0x40000000 + i * 4096 -> data page i.
 */
static int synth_hits(const char *out, uint64_t events)
{
	enum { NPAGES = 4096, NPT = NPAGES / 512 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	tdp_writer_t *w;
	int r = synth_open(out, 64ull << 20, &w);

	if (r)
		return r;
	put_write(w, &r, 0x1000, 0x2007);
	put_write(w, &r, 0x2000 + 8, 0x3007);		/* PDPT[1]: 1 GiB */
	for (int i = 0; i < NPT; i++)
		put_write(w, &r, 0x3000 + 8 * i, (0x10000 + 0x1000ull * i) | 7);
	for (int i = 0; i < NPAGES; i++)
		put_write(w, &r, 0x10000 + 8ull * i, (0x100000 + 0x1000ull * i) | 7);
	put_long_mode(w, &r);
	for (uint64_t n = NPAGES + NPT + 3; n < events && !r; n++) {
		uint64_t x = rng_next(&seed);

		put_access(w, &r, 0x40000000ull + (x % NPAGES) * 4096 + ((x >> 32) & 0xff8),
			   (unsigned)((x >> 48) % 3));
	}
	return synth_close(w, r);
}

/*
 * Guest layout for --synth-faults: PML4 0x1000, PDPT 0x2000, PDs from
 * 0x10000, PTs from 0x1000000 (4 KiB each), data pages from 1 GiB.  GVA
 * 1 GiB + i * 4 KiB -> data page i.  All upper levels are written before
 * the first access, so no store hits a shadowed (write-protected) table;
 * each PT is filled just before its 512 pages are read.
 */
static int synth_faults(const char *out, uint64_t faults)
{
	const uint64_t data = 1ull << 30, pts = 0x1000000, pds = 0x10000;
	uint64_t npt = (faults + 511) / 512, npd = (npt + 511) / 512;
	tdp_writer_t *w;
	int r;

	if (npd > 511 || pts + npt * 4096 > data)
		return -1;
	r = synth_open(out, (data + npt * 512 * 4096 + (2ull << 20) - 1) & ~((2ull << 20) - 1),
		       &w);
	if (r)
		return r;
	put_write(w, &r, 0x1000, 0x2007);
	for (uint64_t d = 0; d < npd; d++)		/* PDPT[1..]: from 1 GiB */
		put_write(w, &r, 0x2000 + 8 * (d + 1), (pds + 0x1000 * d) | 7);
	for (uint64_t t = 0; t < npt; t++)
		put_write(w, &r, pds + 8 * t, (pts + 0x1000 * t) | 7);
	put_long_mode(w, &r);
	for (uint64_t t = 0; t < npt && !r; t++) {
		uint64_t n = faults - t * 512 < 512 ? faults - t * 512 : 512;

		for (uint64_t i = 0; i < n; i++)	/* P, W, U; A clear */
			put_write(w, &r, pts + 0x1000 * t + 8 * i,
				  (data + (t * 512 + i) * 4096) | 7);
		for (uint64_t i = 0; i < n; i++)
			put_access(w, &r, data + (t * 512 + i) * 4096, TDP_OP_READ);
	}
	return synth_close(w, r);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static bool no_read_ahead;	/* --no-read-ahead */

static int replay_once(const char *path, const char *layout, double *eps,
		       uint64_t *events, double *fps)
{
	struct tdp_replay_opts o = { .layout = layout, .interval = 1000,
				     .no_read_ahead = no_read_ahead };
	struct tdp_replay_result *res = malloc(sizeof(*res));
	char err[512];
	int r;

	if (!res)
		return -1;
	r = tdp_replay_run(path, &o, NULL, res, err, sizeof(err));
	if (r) {
		fprintf(stderr, "bench_replay: %s\n", err);
		free(res);
		return r;
	}
	*eps = (double)res->stats.events / res->wall_s;
	*events = res->stats.events;
	if (fps)
		*fps = (double)res->stats.pf_fixed / res->wall_s;
	free(res);
	return 0;
}

/* Peak RSS (KiB) of a child that replays @path once under @layout. */
static long child_peak_rss(const char *path, const char *layout)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		double eps;
		uint64_t n;

		_exit(replay_once(path, layout, &eps, &n, NULL) ? 1 : 0);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	const char *layouts[2] = { "old", "new" };
	int reps = 5, ai = 1, nl = 2;
	double eps[2][64], fps[2][64], med[2];
	bool faults = false;
	uint64_t events = 0;

	if (argc > 2 && !strcmp(argv[1], "--reps")) {
		reps = atoi(argv[2]);
		ai = 3;
	}
	if (ai < argc && !strcmp(argv[ai], "--no-read-ahead")) {
		no_read_ahead = true;
		ai++;
	}
	if (ai + 1 < argc && !strcmp(argv[ai], "--layout")) {
		layouts[0] = argv[ai + 1];
		nl = 1;
		ai += 2;
	}
	if (ai + 2 < argc && !strcmp(argv[ai], "--synth-hits")) {
		uint64_t n = strtoull(argv[ai + 1], NULL, 0);

		if (n < 10000 || synth_hits(argv[ai + 2], n))
			return 1;
		ai += 2;
		argc = ai + 1;	/* benchmark just that trace */
	} else if (ai + 2 < argc && !strcmp(argv[ai], "--synth-faults")) {
		uint64_t n = strtoull(argv[ai + 1], NULL, 0);

		if (n < 1024 || n > (1ull << 26) || synth_faults(argv[ai + 2], n))
			return 1;
		faults = true;
		ai += 2;
		argc = ai + 1;
	}
	if (ai >= argc || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: bench_replay [--reps N] [--no-read-ahead] [--layout L] TRACE [LONG_TRACE]\n"
				"       bench_replay [--reps N] --synth-hits EVENTS OUT.zst\n"
				"       bench_replay [--reps N] --synth-faults FAULTS OUT.zst\n");
		return 2;
	}
	printf("trace %s, %d interleaved repetitions per layout, timing off\n",
	       argv[ai], reps);
	for (int r = 0; r < reps; r++)
		for (int l = 0; l < nl; l++) {
			if (replay_once(argv[ai], layouts[l], &eps[l][r], &events,
					&fps[l][r]))
				return 1;
			printf("  rep %d %-3s %8.2f M events/s", r, layouts[l],
			       eps[l][r] / 1e6);
			if (faults)
				printf(", %6.3f M faults/s fixed", fps[l][r] / 1e6);
			printf("\n");
		}
	for (int l = 0; l < nl; l++) {
		qsort(eps[l], reps, sizeof(double), cmp_double);
		qsort(fps[l], reps, sizeof(double), cmp_double);
		med[l] = eps[l][reps / 2];
		if (faults)
			printf("median %s %.3f M faults/s fixed, spread %.1f%%\n",
			       layouts[l], fps[l][reps / 2] / 1e6,
			       100 * (fps[l][reps - 1] - fps[l][0]) / fps[l][reps / 2]);
	}
	printf("events %llu\n", (unsigned long long)events);
	if (nl == 1) {
		printf("median %s %.2f M events/s, spread %.1f%% (max-min over median)\n",
		       layouts[0], med[0] / 1e6,
		       100 * (eps[0][reps - 1] - eps[0][0]) / med[0]);
		return 0;
	}
	printf("median old %.2f M events/s, new %.2f M events/s, new/old %.3f\n",
	       med[0] / 1e6, med[1] / 1e6, med[1] / med[0]);
	printf("spread old %.1f%%, new %.1f%% (max-min over median)\n",
	       100 * (eps[0][reps - 1] - eps[0][0]) / med[0],
	       100 * (eps[1][reps - 1] - eps[1][0]) / med[1]);

	if (ai + 1 < argc) {
		long a = child_peak_rss(argv[ai], "new");
		long b = child_peak_rss(argv[ai + 1], "new");

		if (a < 0 || b < 0)
			return 1;
		printf("peak RSS: %s %ld KiB, %s %ld KiB, ratio %.3f\n", argv[ai], a,
		       argv[ai + 1], b, (double)b / (double)a);
	}
	return 0;
}
