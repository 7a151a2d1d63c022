/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Synthetic workload generator (`tdpsim gen`): deterministic traces of a
 * guest OS that knows its own page tables.
 *
 * A workload is one row of a table {name, summary, generator}; the
 * generator models the guest (frame allocator, page tables, processes,
 * scheduler) and emits events through an open tdp_writer_t.  Output is a
 * pure function of the options: the PRNG is seeded from opts->seed only,
 * nothing reads the clock or libc's rand().
 *
 * The trace carries no outcomes, but the generator knows which accesses
 * the guest expects to fault; it counts them in struct tdp_gen_stats.
 */
#ifndef TDPSIM_GEN_H
#define TDPSIM_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include <tdpsim/trace.h>

/* Bounds of --mem: the guest model needs 64 MiB; boot writes mem/2MiB PDEs. */
#define TDP_GEN_MEM_MIN		(64ull << 20)
#define TDP_GEN_MEM_MAX		(16ull << 30)
#define TDP_GEN_MEM_DEFAULT	(256ull << 20)
/* Bounds of --events: boot and teardown alone take a few thousand. */
#define TDP_GEN_EVENTS_MIN	5000ull
#define TDP_GEN_EVENTS_MAX	1000000000ull
#define TDP_GEN_EVENTS_DEFAULT	100000ull

struct tdp_gen_opts {
	uint64_t seed;
	uint64_t events;		/* target; met within a few hundred */
	uint64_t mem;			/* bytes: multiple of 2 MiB, in [MIN, MAX] */
	enum tdp_vendor vendor;
	enum tdp_paging paging;		/* shadow or tdp; ignored by nested workloads */
};

/* What the generator expects the replayer to see (its own reference). */
struct tdp_gen_stats {
	uint64_t events;
	uint64_t accesses;
	uint64_t pf_demand;		/* first touch of an unmapped page */
	uint64_t pf_cow;		/* write to a write-protected COW page */
	uint64_t pf_smap;		/* deliberate supervisor access, AC=0 */
	uint64_t forks, exits, cr3_loads, cr4_flips;
	uint64_t pt_pages_reused;	/* table pages that were freed before */
	uint64_t ipis;			/* linux-smp: TLB shootdowns on other vCPUs */

	/*
	 * Nested workloads (hvci, nested): what struct tdp_stats must show
	 * after a replay.  Above, accesses counts L1's and L2's; pf_demand,
	 * pf_cow, forks, exits and cr3_loads are L2's.
	 */
	uint64_t vmenters, vmexits;	/* nested_vmenter / nested_vmexit */
	uint64_t invept_single;		/* intel: invept eptp= */
	uint64_t invept_global;		/* amd: invept (nested TLB flush) */
	uint64_t l2_accesses;		/* accesses while in L2 */
	uint64_t l2_pf;			/* #PF delivered to L2 (demand + COW) */
	uint64_t reflected;		/* exits reflected to L1, all kinds */
	/* fetches judged user: intel by the L2 translation's U/S, amd by CPL 3 */
	uint64_t reflected_exec_user;
	uint64_t reflected_exec_supervisor;
	uint64_t wx_flips;		/* EPT/NPT leaves flipped between W and X */
};

struct tdp_gen_workload {
	const char *name;
	const char *summary;
	int (*gen)(tdp_writer_t *w, const struct tdp_gen_opts *opts,
		   struct tdp_gen_stats *stats, char errbuf[TDP_ERRBUF_SIZE]);
	/* runs an L1 hypervisor: writes paging=nested whatever opts->paging says */
	bool nested;
};

void tdp_gen_opts_init(struct tdp_gen_opts *opts);
/* The workload called @name, or NULL. */
const struct tdp_gen_workload *tdp_gen_find(const char *name);
/* Table of all workloads, *@n rows. */
const struct tdp_gen_workload *tdp_gen_workloads(size_t *n);
/*
 * tdp_gen_check_opts() - validate @opts (ranges above).  Return: 0 or
 * TDP_E_RANGE with the reason in @errbuf.
 */
int tdp_gen_check_opts(const struct tdp_gen_opts *opts, char errbuf[TDP_ERRBUF_SIZE]);
/*
 * tdp_gen_run() - write @wl's trace (config and events) into @w, which the
 * caller opened and closes.  Return: 0 or TDP_E_* with a message in @errbuf.
 */
int tdp_gen_run(const struct tdp_gen_workload *wl, tdp_writer_t *w,
		const struct tdp_gen_opts *opts, struct tdp_gen_stats *stats,
		char errbuf[TDP_ERRBUF_SIZE]);

#endif /* TDPSIM_GEN_H */
