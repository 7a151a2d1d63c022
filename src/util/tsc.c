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
