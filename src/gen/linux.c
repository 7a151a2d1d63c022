// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux: the guest model of guest.c on x86-64 4-level paging, six
 * processes.  On top of the shared loop's munmap and process churn, each
 * step may make a deliberate SMAP violation (three per trace, at the
 * quarters) and every twelfth slice mprotect()s a heap range RW <-> RX.
 * pae and legacy32 run the same steps on 32-bit kernels.
 */
#include "gen/gen-int.h"

bool linux_step(struct gen *g, uint64_t s)
{
	uint64_t quarter = g->opts->events / 4;

	if (g->smap_done < 3 && g->stats->events > quarter * (g->smap_done + 1))
		smap_violation(g);
	/* each returns to the same process, which goes on running */
	if (s % 12 == 7) {
		do_mprotect(g);
		user_work(g, 4 + rng_below(g, 8));
	}
	return true;
}

static const struct gen_kind kind_linux = {
	.m = &mode_4level, .nproc = 6, .post_slice = linux_step,
};

GEN_WORKLOAD_FN(gen_linux)
{
	return gen_run_kind(&kind_linux, w, opts, stats, errbuf);
}
