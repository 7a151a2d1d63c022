/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replay: layout-independent outcomes and statistics.
 *
 * The per-event work happens inside one build of the MMU port (see
 * struct tdp_mmu_ops in mmu.h); what crosses the boundary is plain data:
 * an outcome per event (for the outcome log) and counters in struct
 * tdp_stats, which the engine updates with plain increments.
 */
#ifndef TDPSIM_REPLAY_H
#define TDPSIM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <tdpsim/stats.h>

/*
 * Outcome of one event, as the outcome log prints it (docs/trace-text.md).
 * Values are >= 0: these are results of the simulated machine, not errors.
 */
enum tdp_outcome_kind {
	TDP_OUT_NONE = 0,	/* event has no log line (write, set, ...) */
	TDP_OUT_OK,		/* "ok gpa=" */
	TDP_OUT_PF,		/* "pf ec=" */
	TDP_OUT_EPT_VIOLATION,	/* "ept_violation gpa= qual=" */
	TDP_OUT_EPT_MISCONFIG,	/* "ept_misconfig gpa=" */
	TDP_OUT_NPF,		/* "npf gpa= ec=" */
	TDP_OUT_VAL,		/* "val=" (peek) */
	TDP_OUT_FIXED,		/* fault event: KVM fixed it */
	TDP_OUT_SPURIOUS,	/* fault event: nothing to do */
	TDP_OUT_EMULATE,	/* fault event: KVM would emulate */
	TDP_OUT_MMIO,		/* fault event: no memslot */
	TDP_OUT_GP,		/* "gp": non-canonical access, or a refused `set` */
};

/* Exit-qualification bits the outcome log shows (docs/trace-text.md). */
#define TDP_QUAL_LOG_MASK ((uint64_t)0x1ff)

struct tdp_outcome {
	enum tdp_outcome_kind kind;
	uint64_t gpa;
	uint64_t ec;		/* #PF error code or EXITINFO1 (bits 0-5, 32-33) */
	uint64_t qual;		/* EPT exit qualification, bits 0-11 */
	uint64_t val;		/* peek */
};

/* Write one outcome-log line for event number @n (1-based); NONE writes nothing. */
int tdp_outcome_print(FILE *fp, uint64_t n, const struct tdp_outcome *o);

#define TDP_MAX_LEVEL 5

/*
 * The guest walks KVM makes, by walker: what the series changes differs per
 * walker (EPT gains XS/XU, the 2-D walk passes ACC bits between stages).
 */
enum tdp_walk_kind {
	TDP_WALK_1D,	/* the guest's own tables: FNAME(walk_addr) of paging32/64 */
	TDP_WALK_EPT,	/* L1's EPT tables: ept_walk_addr on guest_mmu */
	TDP_WALK_NPT,	/* L1's NPT tables: paging64 on guest_mmu */
	TDP_WALK_2D,	/* L2's tables through L1's EPT/NPT: nested_mmu gva_to_gpa */
	TDP_WALK_KINDS
};

/* The exits into kvm_mmu_page_fault(), by the MMU that handles them. */
enum tdp_fault_path {
	TDP_FPATH_SHADOW,	/* root_mmu shadowing guest tables (FNAME(page_fault)) */
	TDP_FPATH_DIRECT,	/* root_mmu direct (direct_page_fault): TDP, or shadow
				 * paging while the guest has paging off */
	TDP_FPATH_NESTED,	/* guest_mmu: shadow EPT02/NPT02 (ept/paging64 page_fault) */
	TDP_FPATH_KINDS
};

/* "1d" "ept" "npt" "2d" / "shadow" "direct" "nested": the reports' names */
extern const char *const tdp_walk_kind_names[TDP_WALK_KINDS];
extern const char *const tdp_fault_path_names[TDP_FPATH_KINDS];

/*
 * Counters of one replay.  Shadow-page counters are indexed by level-1
 * and [0]=indirect (shadows a guest table) / [1]=direct.
 */
struct tdp_stats {
	/* events */
	uint64_t events;
	uint64_t ev_by_kind[16];	/* indexed by enum tdp_event_kind */
	uint64_t accesses_by_op[3];	/* r, w, x */

	/* exits into KVM */
	uint64_t exit_pf;		/* #PF intercepts (shadow paging) */
	uint64_t exit_ept_violation;	/* EPT violations / NPFs (TDP) */
	uint64_t exit_ept_misconfig;
	uint64_t exit_emulated_write;	/* stores trapped on write-protected gfns */
	uint64_t exit_cr;		/* CR/EFER loads (set events) */
	uint64_t exit_invlpg;
	uint64_t exit_recorded;		/* fault events replayed */

	/*
	 * KVM's own stats (struct kvm_vcpu_stat / kvm_vm_stat), counted where
	 * the kernel counts them; docs/report-schema.md names each line.
	 * "exits" is tdp_stats_exits().
	 * mmu_unsync and pages_* are gauges (value at the end of the run).
	 */
	uint64_t pf_taken;
	uint64_t pf_fast;
	uint64_t pf_mmio_spte_created;
	uint64_t invlpg;
	uint64_t tlb_flush;
	uint64_t mmu_shadow_zapped;
	uint64_t mmu_pte_write;
	uint64_t mmu_pde_zapped;
	uint64_t mmu_flooded;		/* misaligned + flooding zaps */
	uint64_t mmu_recycled;
	uint64_t mmu_cache_miss;
	uint64_t mmu_unsync;
	uint64_t pages[3];		/* pages_4k, pages_2m, pages_1g */

	/* what the fault handler did (pf_fixed..pf_emulate: KVM's stats) */
	uint64_t pf_fixed;
	uint64_t pf_spurious;
	uint64_t pf_emulate;
	uint64_t pf_retry;		/* tdpsim: RET_PF_RETRY (no KVM stat) */
	uint64_t pf_prefetched;		/* SPTEs installed by gPTE prefetch */
	uint64_t pf_livelock;		/* accesses KVM could not resolve */
	uint64_t hw_tlb_hits;		/* accesses served by the modelled TLB */
	uint64_t pf_injected;		/* #PF delivered to the guest (by KVM or HW) */
	uint64_t pf_injected_by_bit[6];	/* P W U RSVD I/D PK */
	uint64_t nested_reflected;	/* exits reflected to L1 (all kinds) */
	/*
	 * #GP delivered to the guest (tdpsim's own counters: KVM has no stat
	 * for either): a `set` KVM refused (kvm_set_cr0/cr3/cr4, set_efer,
	 * load_pdptrs, or the CPU's PDPTE load of L2 under nested EPT) and
	 * an access the CPU refused as non-canonical.
	 */
	uint64_t gp_set_refused;
	uint64_t gp_noncanonical;

	/*
	 * Nested TDP (paging=nested).  An L2 access either completes, takes
	 * a #PF inside L2 (l2_pf, also in pf_injected), or exits: to L0 when
	 * KVM's shadow EPT02/NPT02 lacks the translation (l2_exits, also in
	 * exit_ept_violation), and from there to L1 when L1's own EPT/NPT
	 * forbids it (reflected_*).
	 */
	uint64_t nested_vmenter;
	uint64_t nested_vmexit;
	uint64_t nested_invept_single;	/* single-context INVEPT (intel) */
	uint64_t nested_invept_global;	/* global INVEPT / NPT TLB flush (amd) */
	uint64_t l2_accesses;
	uint64_t l2_exits;		/* exits into L0 on EPT02/NPT02 misses (incl. reflected ones) */
	uint64_t l2_pf;			/* #PF delivered to L2 */
	uint64_t reflected_ept_violation;
	uint64_t reflected_ept_misconfig;
	uint64_t reflected_npf;
	uint64_t reflected_qual_bit[12];	/* EPT exit qualification bits 0-11 */
	uint64_t reflected_npf_bit[5];	/* EXITINFO1: P W U RSVD ID */
	uint64_t reflected_final;	/* on the final GPA (qual bit 8 / bit 32) */
	uint64_t reflected_page;	/* on an L2 paging structure (bit 33) */
	/*
	 * Reflected instruction-fetch faults by the mode that MBEC / GMET
	 * judge: for EPT the U/S of the L2 translation (XU vs XS), for NPT
	 * the CPL (user = CPL 3).
	 */
	uint64_t reflected_exec_user;
	uint64_t reflected_exec_supervisor;
	uint64_t sp_nested_created;	/* shadow EPT/NPT pages (role.guest_mode) */
	uint64_t sp_nested_live;

	/* shadow pages */
	uint64_t sp_created[TDP_MAX_LEVEL][2];
	uint64_t sp_zapped[TDP_MAX_LEVEL][2];
	uint64_t sp_live;
	uint64_t sp_peak;
	uint64_t sp_unsync;		/* pages made unsync */
	uint64_t sp_sync;		/* pages re-synced */
	uint64_t sp_flood_zaps;
	uint64_t sp_misaligned_zaps;
	uint64_t root_allocs;
	uint64_t prev_root_hits;
	uint64_t prev_root_misses;

	/* guest walks */
	uint64_t walks;
	uint64_t walk_mem_refs;
	/*
	 * TSC ticks per walk (if timing on), by walker: filled event by
	 * event; walk_ticks (all kinds) is their sum, made at the end.
	 */
	struct tdp_hist walk_kind_ticks[TDP_WALK_KINDS];
	struct tdp_hist walk_ticks;
	/* TSC ticks per exit KVM's fault handler took, by path (if timing on) */
	struct tdp_hist fault_ticks[TDP_FPATH_KINDS];
	/* cost of the timer itself: least ticks between two reads, subtracted */
	uint64_t timer_overhead_ticks;
	uint64_t perm_checks;
	double perm_ns_mean;		/* filled at the end by a timed re-run */

	/* host memory held at the end: guest pages + shadow pages */
	uint64_t host_bytes;
};

/* All exits into KVM counted in @s (the "exits" total of the reports). */
static inline uint64_t tdp_stats_exits(const struct tdp_stats *s)
{
	return s->exit_pf + s->exit_ept_violation + s->exit_ept_misconfig +
	       s->exit_emulated_write + s->exit_cr + s->exit_invlpg +
	       s->exit_recorded;
}

/* ---- the engine: one build of the port driven event by event ---- */

struct tdp_config;
struct tdp_event;
struct tdp_engine;	/* opaque; defined per layout in src/kvm/ */

#define TDP_CHECK_EVERY_DEFAULT 100000

/*
 * The --max-mmu-pages range: KVM_MIN_ALLOC_MMU_PAGES (arch/x86/include/
 * asm/kvm_host.h) is the least KVM_SET_NR_MMU_PAGES accepts; the top is
 * this simulator's own bound.  (A trace's max_mmu_pages= config key may
 * go lower: scenarios use it to force eviction in a few events.)
 */
#define TDP_MIN_ALLOC_MMU_PAGES 64u
#define TDP_MAX_MMU_PAGES (1u << 22)

struct tdp_engine_opts {
	uint64_t max_mmu_pages;	/* 0: the trace's config (or KVM's default rule) */
	bool timing;		/* rdtsc around KVM's guest walks */
	bool check;		/* check the MMU's invariants (see check_every) */
	/*
	 * With @check: what each event touched is checked after the event,
	 * and everything every @check_every events and at the end
	 * (0: TDP_CHECK_EVERY_DEFAULT; 1: everything after every event).
	 */
	uint64_t check_every;
	bool tlb;		/* model a TLB in the hardware (shadow paging) */
	/*
	 * Walk every time: no memo of the CPU model's translations
	 * (include/tdpsim/hw_memo.h).  Slower, same results -- which
	 * tests/test_replay_memo.c holds the memos to.
	 */
	bool no_memo;
};

/*
 * struct tdp_engine_ops - per-layout replay engine (src/kvm/vm.c).
 * @create:  build the VM, vCPUs and MMUs for @cfg; counters go to @stats.
 *	     Returns 0 or TDP_E_* with a message in @errbuf (e.g. MBEC/GMET
 *	     on the old layout: TDP_E_UNSUPP).
 * @event:   apply one event; *@out receives its outcome (TDP_OUT_NONE for
 *	     events without a log line).  Returns 0 or TDP_E_* with a message
 *	     retrievable by @errmsg (e.g. invariant violation, livelock).
 * @errmsg:  the message of the last failed @event.
 * @finish:  copy end-of-run MMU counters (shadow pages, host memory) into
 *	     the stats.
 * @check_all: with opts.check, the full invariant check (the last one of
 *	     a --check replay); 0 or TDP_E_INTERNAL with a message in @errmsg.
 */
struct tdp_engine_ops {
	const char *layout;
	int (*create)(struct tdp_engine **out, const struct tdp_config *cfg,
		      const struct tdp_engine_opts *opts, struct tdp_stats *stats,
		      char *errbuf, size_t errlen);
	int (*event)(struct tdp_engine *e, const struct tdp_event *ev,
		     struct tdp_outcome *out);
	const char *(*errmsg)(const struct tdp_engine *e);
	void (*finish)(struct tdp_engine *e);
	int (*check_all)(struct tdp_engine *e);
	void (*destroy)(struct tdp_engine *e);
};

/* Defined per layout in src/kvm/vm.c as KVM_SYM(engine_ops). */
extern const struct tdp_engine_ops tdp_old_engine_ops, tdp_new_engine_ops;
/* tdp_engine_ops_find() - "old" or "new", else NULL. */
const struct tdp_engine_ops *tdp_engine_ops_find(const char *layout);

/* ---- the replay driver (src/sim/replay.c) ---- */

#define TDP_TIMELINE_MAX 1024	/* rows kept; the interval doubles when full */
#define TDP_MARKS_MAX	 256

struct tdp_timeline_row {
	uint64_t event;
	uint64_t sp_live;
	uint64_t exits;
};

struct tdp_mark {
	uint64_t event;
	char label[40];
};

struct tdp_replay_opts {
	const char *layout;		/* "old" / "new" */
	const char *log_path;		/* outcome log, NULL: none */
	struct tdp_engine_opts engine;
	uint64_t interval;		/* first timeline interval (events) */
	bool progress;			/* heartbeat on stderr */
	/*
	 * Read and decode in line: no read-ahead thread (tdp_trace_read_ahead()),
	 * so the replay's one thread does all the work.  Same results.
	 */
	bool no_read_ahead;
};

struct tdp_replay_result {
	struct tdp_stats stats;
	double wall_s;
	double tsc_mhz;
	bool read_ahead;	/* the trace was read ahead on a second thread */
	uint64_t interval;
	unsigned nrows;
	struct tdp_timeline_row rows[TDP_TIMELINE_MAX];
	unsigned nmarks;
	struct tdp_mark marks[TDP_MARKS_MAX];
};

/*
 * tdp_replay_run() - replay @path under @opts into @res (caller allocates:
 * it is large).  Returns 0 or TDP_E_* with a one-line message naming the
 * file and the event's line/record in @errbuf (empty when the failure was
 * already reported: the outcome log could not be created).  The outcome log is written
 * atomically (temp name + rename) and removed on failure.
 */
int tdp_replay_run(const char *path, const struct tdp_replay_opts *opts,
		   struct tdp_config *cfg_out, struct tdp_replay_result *res,
		   char *errbuf, size_t errlen);

/* Text report (fits 72 columns) and JSON report (docs/report-schema.md). */
int tdp_report_print_text(FILE *fp, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res);
int tdp_report_write_json(FILE *fp, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res);

#endif /* TDPSIM_REPLAY_H */
