/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared benchmark timing, on top of include/tdpsim/tsc.h: bench_tsc()
 * (lfence;rdtsc), bench_ns() (CLOCK_MONOTONIC), bench_tsc_per_ns().
 */
#ifndef TDPSIM_BENCH_H
#define TDPSIM_BENCH_H

#include <tdpsim/tsc.h>

#define bench_tsc()		tdp_tsc()
#define bench_ns()		tdp_now_ns()
#define bench_tsc_per_ns()	tdp_tsc_per_ns()

/* Keep a value alive without letting the compiler see through it. */
#define bench_keep(v) __asm__ volatile("" : : "r"(v) : "memory")

#endif /* TDPSIM_BENCH_H */
