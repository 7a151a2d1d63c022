/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Time sources: TSC ticks via lfence;rdtsc (rdtscp is not advertised on the
 * reference VM, so it is not used), a monotonic ns clock, and the TSC
 * frequency calibrated against CLOCK_MONOTONIC.
 */
#ifndef TDPSIM_TSC_H
#define TDPSIM_TSC_H

#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

static inline uint64_t tdp_tsc(void)
{
	_mm_lfence();
	return __rdtsc();
}

static inline uint64_t tdp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* TSC ticks per ns, measured once over ~20 ms and cached. */
double tdp_tsc_per_ns(void);
/* Least ticks between two tdp_tsc() reads: the timer's own cost. */
uint64_t tdp_tsc_overhead(void);

#endif /* TDPSIM_TSC_H */
