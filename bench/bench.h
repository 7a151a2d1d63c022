/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared benchmark timing: TSC ticks via lfence;rdtsc (rdtscp is not
 * advertised on the reference VM), a TSC frequency calibrated against
 * CLOCK_MONOTONIC, and a monotonic ns clock.
 */
#ifndef TDPSIM_BENCH_H
#define TDPSIM_BENCH_H

#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

static inline uint64_t bench_tsc(void)
{
	_mm_lfence();
	return __rdtsc();
}

static inline uint64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* TSC ticks per ns, measured over ~50 ms of wall time. */
static inline double bench_tsc_per_ns(void)
{
	uint64_t n0 = bench_ns(), t0 = bench_tsc(), n1, t1;

	do {
		n1 = bench_ns();
	} while (n1 - n0 < 50000000ull);
	t1 = bench_tsc();
	return (double)(t1 - t0) / (double)(n1 - n0);
}

/* Keep a value alive without letting the compiler see through it. */
#define bench_keep(v) __asm__ volatile("" : : "r"(v) : "memory")

#endif /* TDPSIM_BENCH_H */
