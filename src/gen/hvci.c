// SPDX-License-Identifier: GPL-2.0-only
/*
 * hvci: the guest runs as L2 under an L1 hypervisor (hypervisor.c) that
 * enforces Hyper-V's HVCI policy with MBEC (intel) or GMET (amd): kernel
 * text XS-only / NPT U=0, user text XU-only / NPT U=1, module pages that
 * flip W^X with INVEPT, and marked violations reflected to L1.
 */
#include "gen/gen-int.h"

static void hvci_config(const struct gen *g, struct tdp_config *cfg)
{
	cfg->mbec = g->opts->vendor == TDP_VENDOR_INTEL;
	cfg->gmet = g->opts->vendor == TDP_VENDOR_AMD;
	cfg->present |= 1u << (cfg->mbec ? TDP_CFG_mbec : TDP_CFG_gmet);
}

static const struct gen_kind kind_hvci = {
	.m = &mode_hvci, .nproc = 4, .l2 = true, .mbec_gmet = true,
	.boot = hv_boot, .shutdown = hv_shutdown, .post_slice = hv_step,
	.config = hvci_config,
};

GEN_WORKLOAD_FN(gen_hvci)
{
	return gen_run_kind(&kind_hvci, w, opts, stats, errbuf);
}
