// SPDX-License-Identifier: GPL-2.0-only
/*
 * nested: the hvci L1 and L2 under plain nested EPT/NPT, without MBEC or
 * GMET, so that both ACC layouts replay it (hypervisor.c grants one
 * execute right for both modes and fetches data pages for its marked
 * violations instead).
 */
#include "gen/gen-int.h"

static const struct gen_kind kind_nested = {
	.m = &mode_hvci, .nproc = 4, .l2 = true,
	.boot = hv_boot, .shutdown = hv_shutdown, .post_slice = hv_step,
};

GEN_WORKLOAD_FN(gen_nested)
{
	return gen_run_kind(&kind_nested, w, opts, stats, errbuf);
}
