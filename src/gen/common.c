// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>

#include "gen/gen-int.h"

/*
 * The workload table, the options every workload takes, and the guest
 * model's lifetime; the workloads themselves are one file each.
 */

int gen_run_kind(const struct gen_kind *k, tdp_writer_t *w, const struct tdp_gen_opts *opts,
		 struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE])
{
	const bool l2 = k->l2;
	const struct pmode *m = k->m;
	unsigned int max_tables = MAX_TABLES;
	struct tdp_gen_opts guest = *opts;	/* the guest model's: L2's when nested */
	struct tdp_config cfg;
	struct gen *g;
	uint64_t nframes, x = opts->seed;
	int ret;

	memset(stats, 0, sizeof(*stats));
	errbuf[0] = '\0';
	/* a nested workload ignores opts->paging (L1 picks it): check the rest */
	if (l2)
		guest.paging = TDP_PAGING_SHADOW;
	ret = tdp_gen_check_opts(&guest, errbuf);
	if (ret)
		return ret;
	/* L2 lives in L1's memory above HV_L2_BASE, within its direct map */
	if (l2) {
		guest.mem = opts->mem - HV_L2_BASE;
		if (guest.mem > HV_L2_MEM_MAX)
			guest.mem = HV_L2_MEM_MAX;
	}
	nframes = guest.mem >> PAGE_SHIFT;
	max_tables += (unsigned int)(k->tables_per_gib * ((guest.mem + (1ull << 30) - 1) >> 30));
	/* pool indices are 16 bits */
	if (max_tables > UINT16_MAX) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "mem '%#" PRIx64 "' needs more page tables "
			 "than the guest model holds", opts->mem);
		return TDP_E_RANGE;
	}
	if (guest.mem > m->direct_max) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "mem '%#" PRIx64 "' is more than the %" PRIu64
			 " MiB a 32-bit kernel maps", opts->mem, m->direct_max >> 20);
		return TDP_E_RANGE;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "out of memory for the guest model");
		return TDP_E_NOMEM;
	}
	g->pt = calloc(max_tables, sizeof(*g->pt));
	g->free_stack = malloc(nframes * sizeof(*g->free_stack));
	g->ref = calloc(nframes, sizeof(*g->ref));
	if (!g->pt || !g->free_stack || !g->ref) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "out of memory for the guest model");
		ret = TDP_E_NOMEM;
		goto out_free_model;
	}

	g->w = w;
	g->opts = &guest;
	g->stats = stats;
	g->errbuf = errbuf;
	g->k = k;
	g->m = m;
	g->nproc_target = k->nproc;
	g->cur = -1;
	for (int i = 0; i < 4; i++)
		g->rng[i] = splitmix64(&x);
	g->t = 1000;
	g->kglobal = PT_GLOBAL;
	g->nvcpu = k->vcpus ? k->vcpus : 1;
	for (unsigned int v = 0; v < GEN_MAX_VCPUS; v++) {
		g->cur_of[v] = -1;
		g->stale[v] = ~0u;	/* PCIDs never loaded: flush at first use */
	}
	g->next_frame = ALLOC_START >> PAGE_SHIFT;
	g->end_frame = k->alloc_end ? k->alloc_end >> PAGE_SHIFT : nframes;
	if (l2) {
		g->phys_base = HV_L2_BASE;
		g->next_frame = HV_ALLOC_GPA >> PAGE_SHIFT;
		/* user text is file-backed: its page cache is the XU region */
		for (unsigned int i = 0; i < TEXT_PAGES; i++)
			g->text_cache[i] = (HV_UTEXT_GPA >> PAGE_SHIFT) + i;
	}
	for (unsigned int i = max_tables - 1; i > 0; i--) {
		g->pt[i].next_free = g->pt_free;
		g->pt_free = i;
	}

	tdp_config_init(&cfg);
	cfg.vendor = opts->vendor;
	cfg.paging = l2 ? TDP_PAGING_NESTED : opts->paging;
	cfg.mem = opts->mem;
	cfg.present = 1u << TDP_CFG_vendor | 1u << TDP_CFG_paging | 1u << TDP_CFG_mem;
	if (g->nvcpu > 1) {
		cfg.vcpus = g->nvcpu;
		cfg.present |= 1u << TDP_CFG_vcpus;
	}
	if (k->config)
		k->config(g, &cfg);
	ret = tdp_writer_config(w, &cfg);
	if (ret)
		gen_fail(g, ret, "%s", tdp_writer_errmsg(w));
	else
		ret = k->run ? k->run(g) : gen_main(g);
	/* every #PF L2 takes is a demand or COW fault (no SMAP violations) */
	if (l2)
		stats->l2_pf = stats->pf_demand + stats->pf_cow;

out_free_model:
	free(g->ref);
	free(g->free_stack);
	free(g->pt);
	free(g);
	return ret;
}

static const struct tdp_gen_workload workloads[] = {
	{ "linux", "Linux-like x86-64 guest: processes, fork/COW, demand paging, "
		   "mprotect/munmap, SMAP", gen_linux, false },
	{ "smep-toggle", "three processes while CR4.SMEP flips every few time slices",
	  gen_smep_toggle, false },
	{ "pae", "the linux workload on a 32-bit PAE kernel (3G/1G split, mem <= 896M)",
	  gen_pae, false },
	{ "legacy32", "the linux workload on 32-bit paging, 4 MiB PSE kernel pages, no NX",
	  gen_legacy32, false },
	{ "hvci", "nested: an L1 hypervisor enforcing HVCI with MBEC (intel) / GMET (amd) "
		  "on a linux L2 (W^X loads, violations reflected to L1)", gen_hvci, true },
	{ "nested", "nested: an L1 hypervisor running a linux L2 under plain nested EPT/NPT, "
		    "no MBEC/GMET (replays under both layouts)", gen_nested, true },
	{ "linux-smp", "the linux guest on 4 vCPUs: TLB shootdowns by IPI, global kernel pages "
		       "and flush_tlb_all, page-cache reads, fork/exit churn", gen_linux_smp, false },
	{ "linux-kpti", "linux-smp with page-table isolation: two PGDs per process, a CR3 load "
			"at each kernel entry and exit, no global kernel pages", gen_linux_kpti, false },
	{ "linux-kpti-pcid", "linux-kpti with CR4.PCIDE: Linux's kernel/user PCIDs, CR3 loads "
			     "with NOFLUSH", gen_linux_kpti_pcid, false },
	{ "zero", "fault-dominated: the kernel zeroes free memory, then processes fault in "
		  "large fresh heaps page by page and exit", gen_zero, false },
	{ "db", "database-like: a server with a buffer pool of 2 MiB pages as large as --mem "
		"allows (hot tenth, drifting), queries through syscalls, helpers", gen_db, false },
};

const struct tdp_gen_workload *tdp_gen_workloads(size_t *n)
{
	*n = ARRAY_SIZE(workloads);
	return workloads;
}

const struct tdp_gen_workload *tdp_gen_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(workloads); i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

void tdp_gen_opts_init(struct tdp_gen_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->seed = 1;
	opts->events = TDP_GEN_EVENTS_DEFAULT;
	opts->mem = TDP_GEN_MEM_DEFAULT;
	opts->vendor = TDP_VENDOR_INTEL;
	opts->paging = TDP_PAGING_SHADOW;
}

int tdp_gen_check_opts(const struct tdp_gen_opts *opts, char errbuf[TDP_ERRBUF_SIZE])
{
	if (opts->events < TDP_GEN_EVENTS_MIN || opts->events > TDP_GEN_EVENTS_MAX) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "events '%" PRIu64 "' is not %llu..%llu",
			 opts->events, TDP_GEN_EVENTS_MIN, TDP_GEN_EVENTS_MAX);
		return TDP_E_RANGE;
	}
	if (opts->mem < TDP_GEN_MEM_MIN || opts->mem > TDP_GEN_MEM_MAX ||
	    opts->mem % HPAGE_SIZE) {
		snprintf(errbuf, TDP_ERRBUF_SIZE,
			 "mem '%#" PRIx64 "' is not a multiple of 2 MiB in 64 MiB..16 GiB",
			 opts->mem);
		return TDP_E_RANGE;
	}
	if (opts->paging != TDP_PAGING_SHADOW && opts->paging != TDP_PAGING_TDP) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "paging must be shadow or tdp");
		return TDP_E_RANGE;
	}
	return 0;
}

int tdp_gen_run(const struct tdp_gen_workload *wl, tdp_writer_t *w,
		const struct tdp_gen_opts *opts, struct tdp_gen_stats *stats,
		char errbuf[TDP_ERRBUF_SIZE])
{
	return wl->gen(w, opts, stats, errbuf);
}
