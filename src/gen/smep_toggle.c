// SPDX-License-Identifier: GPL-2.0-only
/*
 * smep-toggle: three processes with a stable working set (no munmap, no
 * churn) while the kernel flips CR4.SMEP every sixth time slice.  Under
 * the MBEC/GMET series cr4_smep is in the base role of shadow pages, so
 * each flip needs the other set of shadow pages.
 */
#include "gen/gen-int.h"

static void smep_flip(struct gen *g, uint64_t s)
{
	if (s % 6 != 5)
		return;
	g->cr4 ^= X86_CR4_SMEP;
	emit_cr4(g, g->cr4);
	g->stats->cr4_flips++;
}

/* the working set stays: no munmap, no exits */
static bool smep_step(struct gen *g, uint64_t s)
{
	return false;
}

static const struct gen_kind kind_smep_toggle = {
	.m = &mode_4level, .nproc = 3, .pre_slice = smep_flip, .post_slice = smep_step,
};

GEN_WORKLOAD_FN(gen_smep_toggle)
{
	return gen_run_kind(&kind_smep_toggle, w, opts, stats, errbuf);
}
