/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The latencies a report times per walker and per fault path, one list for
 * the reader (report_read.c), compare's table (compare_reports.c) and the
 * latency plot (plot.c): X(json object, json key, index, timing field
 * prefix, count array, compare row prefix, plot label).  The timing fields
 * are <prefix>_mean[index] / <prefix>_p50[index] of struct
 * tdp_report_timing, the count <count array>[index] of struct tdp_report.
 */
#ifndef TDPSIM_REPORT_TIMED_H
#define TDPSIM_REPORT_TIMED_H

#define FOR_EACH_TIMED(X) \
	X("walks.by_kind", "1d", TDP_WALK_1D, kind, walk_kind_count, "walk", "1-D walk") \
	X("walks.by_kind", "ept", TDP_WALK_EPT, kind, walk_kind_count, "walk", "EPT walk") \
	X("walks.by_kind", "npt", TDP_WALK_NPT, kind, walk_kind_count, "walk", "NPT walk") \
	X("walks.by_kind", "2d", TDP_WALK_2D, kind, walk_kind_count, "walk", "2-D walk") \
	X("fault_paths", "shadow", TDP_FPATH_SHADOW, fpath, fault_path_count, "pf", \
	  "shadow\\n#PF exit") \
	X("fault_paths", "direct", TDP_FPATH_DIRECT, fpath, fault_path_count, "pf", \
	  "direct\\nfault exit") \
	X("fault_paths", "nested", TDP_FPATH_NESTED, fpath, fault_path_count, "pf", \
	  "nested\\nfault exit")

#endif /* TDPSIM_REPORT_TIMED_H */
