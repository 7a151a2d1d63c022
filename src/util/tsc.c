// SPDX-License-Identifier: GPL-2.0-only
/* TSC frequency calibration against CLOCK_MONOTONIC (see tsc.h). */
#include <tdpsim/tsc.h>

double tdp_tsc_per_ns(void)
{
	static double cached;
	uint64_t n0, t0, n1, t1;

	if (cached > 0)
		return cached;
	n0 = tdp_now_ns();
	t0 = tdp_tsc();
	do {
		n1 = tdp_now_ns();
	} while (n1 - n0 < 20000000ull);
	t1 = tdp_tsc();
	cached = (double)(t1 - t0) / (double)(n1 - n0);
	return cached;
}

/*
 * tdp_tsc_overhead() - what one timed region costs with nothing in it: the
 * least tick count between two tdp_tsc() reads over a few thousand tries
 * (the least, because interrupts and migrations only add).  Reports
 * subtract it from each timed walk and fault (docs/report-schema.md).
 */
uint64_t tdp_tsc_overhead(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 4096; i++) {
		uint64_t t0 = tdp_tsc();
		uint64_t t1 = tdp_tsc();

		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}
