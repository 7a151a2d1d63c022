/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A replay report (docs/report-schema.md, version 1) loaded back from JSON:
 * the fields that 'tdpsim plot' and the report comparison use.
 *
 * Deterministic fields (counts) are u64 and exact; timing fields are
 * doubles.  When the report came out of a comparison with repetitions, its
 * "spread" (max - min over the repetitions) is loaded into ->spread with the
 * same field names; fields without a spread are 0.  The spread may be a
 * top-level mirror ("spread": {"walks": {"latency_ns": {"p50": ...}}}) or a
 * sibling at any level ("walks": {"spread": {"latency_ns": ...}}).
 */
#ifndef TDPSIM_REPORT_H
#define TDPSIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tdpsim/replay.h>

/* Fields a spread can apply to: the timing measurements. */
struct tdp_report_timing {
	double walk_p50, walk_p90, walk_p99, walk_max, walk_mean;
	double perm_mean_ns;
	double events_per_s, wall_s;
	/*
	 * By walker (enum tdp_walk_kind) and by fault path (enum
	 * tdp_fault_path), net of the timer's own cost; 0 where nothing was
	 * timed or the report predates them ("walks.by_kind", "fault_paths").
	 */
	double kind_mean[TDP_WALK_KINDS], kind_p50[TDP_WALK_KINDS];
	double fpath_mean[TDP_FPATH_KINDS], fpath_p50[TDP_FPATH_KINDS];
};

struct tdp_report_hist_bucket {
	double upper_ns;	/* upper bound of the bucket */
	uint64_t count;
};

struct tdp_report_tl_row {
	uint64_t event;		/* events replayed so far */
	uint64_t sp_live;
	uint64_t exits;		/* cumulative */
};

struct tdp_report_mark {
	uint64_t event;		/* 1-based */
	char *label;
};

/* "tdpsim_report": 2 -- KVM's stat names (issue 12); 1 is refused */
#define TDP_REPORT_VERSION 2

struct tdp_report {
	char *path;			/* file it was loaded from */
	char *tool_version, *tool_build, *tool_layout;
	char *tool_commit;		/* NULL in reports without it */
	char *trace_path;
	char *machine;
	uint64_t cores;			/* online CPUs; 0 in reports without it */
	double tsc_mhz;
	bool timing;
	uint64_t repetitions;

	uint64_t events_total;
	/*
	 * exits.total is KVM's "exits" (kvm_stats.exits), the rest of exits
	 * tdpsim's split by reason; faults.fixed / spurious / emulated are
	 * KVM's pf_fixed / pf_spurious / pf_emulate; kvm holds KVM's other
	 * stats (docs/report-schema.md, version 2).
	 */
	struct {
		uint64_t total, pf, ept_violation, ept_misconfig,
			 emulated_write, cr, invlpg, recorded;
	} exits;
	struct {
		uint64_t fixed, spurious, emulated, retry, injected,
			 reflected_to_l1, gp_set_refused, gp_noncanonical;
	} faults;
	struct {
		uint64_t pf_taken, pf_fast, pf_mmio_spte_created, invlpg,
			 tlb_flush, mmu_shadow_zapped, mmu_pte_write,
			 mmu_pde_zapped, mmu_flooded, mmu_recycled,
			 mmu_cache_miss, mmu_unsync, pages_4k, pages_2m,
			 pages_1g;
	} kvm;
	struct {
		uint64_t created, zapped, live, peak, unsync, sync,
			 flood_zaps, misaligned_zaps, root_allocs;
		uint64_t prev_roots_hits, prev_roots_misses;
		double prev_roots_hit_rate;	/* 0..1 */
	} sp;
	uint64_t walks_count;
	uint64_t perm_checks;
	/* timed walks / fault-handler calls (0 without timing or before them) */
	uint64_t walk_kind_count[TDP_WALK_KINDS];
	uint64_t fault_path_count[TDP_FPATH_KINDS];
	double timer_overhead_ns;	/* 0 in reports without it */
	struct tdp_report_timing t;

	/*
	 * Nested counters ("nested" in the schema).  Reports written before
	 * it existed lack the object: has_nested is false and these are 0,
	 * which the comparison shows as "-", never as a delta.  All members
	 * are u64 so a sum over reports can add them as an array.
	 */
	bool has_nested;
	bool paging_nested;		/* trace.config.paging is "nested" */
	struct {
		uint64_t vmenter, vmexit, invept_single, invept_global;
		uint64_t l2_accesses, l2_pf, l2_exits;
		uint64_t reflected, ept_violation, ept_misconfig, npf;
		uint64_t final, paging_structure, exec_user, exec_supervisor;
		uint64_t qual_bit[12];		/* EPT exit qualification bits 0-11 */
		uint64_t npf_bit[5];		/* EXITINFO1: P W U RSVD ID */
		uint64_t sp_created, sp_live;
	} nested;

	bool has_spread;		/* at least one spread field found */
	struct tdp_report_timing spread;
	/*
	 * Spread of the counters 'tdpsim plot --kind bars' draws.  Counts are
	 * deterministic, so a writer normally omits these (0); a non-zero value
	 * means the repetitions disagreed, which the error bars then show.
	 */
	struct {
		double exits, faults_fixed, faults_injected, sp_created, sp_peak;
	} count_spread;

	struct tdp_report_hist_bucket *hist;
	size_t nhist;
	uint64_t tl_interval;
	struct tdp_report_tl_row *tl;
	size_t ntl;
	struct tdp_report_mark *marks;
	size_t nmarks;
};

/*
 * tdp_report_load() - read the report(s) in the JSON file @path.
 * A report file gives one report; a comparison file ("tdpsim_compare": 1)
 * gives each of its "reports".  On success *@out is an array of *@n
 * reports (free with tdp_report_free_array()).  Errors are printed with the
 * file and the field at fault ("'r.json': missing field 'exits.total'") and
 * returned as TDP_E_IO, TDP_E_JSON, TDP_E_VERSION or TDP_E_NOMEM.
 */
int tdp_report_load(const char *path, struct tdp_report **out, size_t *n);

/*
 * tdp_report_from_json() - fill @r from a parsed report object; on error
 * writes a message naming the field into @err and returns TDP_E_JSON or
 * TDP_E_VERSION (TDP_E_NOMEM).  @r needs tdp_report_release() either way.
 */
struct json_t;		/* jansson's, <tdpsim/json_load.h> */
int tdp_report_from_json(struct tdp_report *r, const struct json_t *root,
			 char *err, size_t errlen);

void tdp_report_release(struct tdp_report *r);
void tdp_report_free_array(struct tdp_report *r, size_t n);

/*
 * tdp_report_compare_print() - the 72-column comparison table of @a and @b,
 * one row per metric with A, B, delta and delta %, plus a noise column when
 * either report carries a spread (timing rows whose |delta| is within the
 * noise are marked '~'), then a verdict line: "counts identical" or
 * "counts differ: <metrics>".  Nested rows ("nested.*") appear when a
 * report has the nested counters and either trace is paging=nested or
 * counted something nested; breakdown rows only when non-zero in A or B.
 * Return: 0 counts identical, 1 deterministic counts differ, TDP_E_IO if
 * writing to @out failed.
 */
int tdp_report_compare_print(FILE *out, const struct tdp_report *a,
			     const struct tdp_report *b, const char *label_a,
			     const char *label_b);

/*
 * Writing a comparison file ("tdpsim_compare": 1, docs/report-schema.md):
 * tdp_compare_json_begin() opens it on @fp, tdp_compare_json_add() appends
 * the report of one replay (@res, as tdp_report_write_json() writes it)
 * whose timing fields are @fold's (fold->t: the medians over the
 * repetitions), with measurement.repetitions = fold->repetitions and, if
 * fold->has_spread, fold->spread as the report's "spread" mirror.
 * tdp_compare_json_end() closes the file: 0, or TDP_E_IO / TDP_E_INTERNAL
 * from the JSON writer.
 */
struct tdp_json;
struct tdp_config;
struct tdp_replay_result;
void tdp_compare_json_begin(struct tdp_json *j, FILE *fp);
void tdp_compare_json_add(struct tdp_json *j, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res,
			  const struct tdp_report *fold);
int tdp_compare_json_end(struct tdp_json *j);

#endif /* TDPSIM_REPORT_H */
