// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim compare: what does the MBEC/GMET series cost or save?
 *
 *   compare [OPTIONS] TRACE...   replay each trace under the old and the new
 *                                ACC layout, interleaved --repeat times;
 *                                --json FILE saves the reports compared
 *   compare A.json B.json        compare two saved reports
 *
 * Counts come from the first repetition (they are deterministic; a later
 * repetition that disagrees is an error); timing fields are the median over
 * the repetitions and their spread (max - min) is the noise estimate.  The
 * architectural outcome logs of the two layouts must be identical for
 * traces without MBEC/GMET; the first divergent event is printed if not.
 * Each replay result goes through the report JSON and back, so the table
 * and the figures see exactly what `replay --json` would write.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/json.h>
#include <tdpsim/json_load.h>
#include <tdpsim/plot.h>
#include <tdpsim/replay.h>
#include <tdpsim/report.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

#define MAX_REPEAT 31

static const char *const layout_names[2] = { "old", "new" };

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * compare replays a trace 2 x --repeat times, so a trace on stdin is first
 * copied to a temporary file (removed at the end, or on a signal).
 */
static int spool_stdin(char *path, size_t len)
{
	char buf[65536];
	size_t n;
	FILE *fp;
	int fd;

	snprintf(path, len, "%s/tdpsim-stdin-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return tdp_error(TDP_E_IO, "cannot create '%s': %s", path, strerror(errno));
	tdp_tmp_register(path);
	fp = fdopen(fd, "wb");
	if (!fp) {
		close(fd);
		goto out_unlink;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, fp) != n)
			break;
	if (ferror(stdin) || ferror(fp) | fclose(fp)) {
		tdp_error(TDP_E_IO, "cannot copy stdin to '%s': %s", path, strerror(errno));
		goto out_unlink;
	}
	return 0;

out_unlink:
	unlink(path);
	tdp_tmp_forget(path);
	path[0] = 0;
	return TDP_E_IO;
}

/* Serialize a replay result as report JSON and load it as a tdp_report. */
static int result_to_report(const char *trace, const struct tdp_config *cfg,
			    const char *layout, const struct tdp_replay_result *res,
			    struct tdp_report *rep)
{
	json_t *root;
	char err[TDP_ERRBUF_SIZE];
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	int ret;

	if (!fp)
		return TDP_E_NOMEM;
	ret = tdp_report_write_json(fp, trace, cfg, layout, res);
	if (fclose(fp) && !ret)
		ret = TDP_E_IO;
	if (!ret)
		ret = tdp_json_load(buf, len, &root, err, sizeof(err));
	if (!ret) {
		memset(rep, 0, sizeof(*rep));
		ret = tdp_report_from_json(rep, root, err, sizeof(err));
		json_decref(root);
		if (!ret) {
			/* names the report in plot warnings */
			free(rep->path);
			rep->path = strdup(layout);
		}
	}
	if (ret)
		tdp_error(ret, "cannot build the report of '%s': %s", trace, err);
	free(buf);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the timing fields into rep->t, (max - min) into rep->spread. */
static void fold_timings(struct tdp_report *rep, const struct tdp_report_timing *t,
			 int n)
{
	double v[MAX_REPEAT];
	const size_t nf = sizeof(struct tdp_report_timing) / sizeof(double);

	for (size_t f = 0; f < nf; f++) {
		for (int i = 0; i < n; i++)
			v[i] = ((const double *)&t[i])[f];
		qsort(v, n, sizeof(double), cmp_double);
		((double *)&rep->t)[f] = v[n / 2];
		((double *)&rep->spread)[f] = v[n - 1] - v[0];
	}
	rep->has_spread = n > 1;
	rep->repetitions = n;
}

/*
 * First line where two outcome logs differ (comments skipped).  Returns 0
 * if identical, 1 and the two lines if not, negative on error.
 */
static int first_divergence(const char *a, const char *b, char *la, char *lb,
			    size_t len)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	int ret = 0;

	if (!fa || !fb) {
		ret = TDP_E_IO;
		goto out;
	}
	for (;;) {
		char *ra, *rb;

		do
			ra = fgets(la, (int)len, fa);
		while (ra && la[0] == '#');
		do
			rb = fgets(lb, (int)len, fb);
		while (rb && lb[0] == '#');
		if (!ra && !rb)
			break;
		if (!ra || !rb || strcmp(la, lb)) {
			if (!ra)
				snprintf(la, len, "(end of log)\n");
			if (!rb)
				snprintf(lb, len, "(end of log)\n");
			ret = 1;
			break;
		}
	}
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return ret;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Whether either report timed a walk or a fault exit. */
static bool timed_any(const struct tdp_report reps[2])
{
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < TDP_WALK_KINDS; k++)
			if (reps[l].walk_kind_count[k])
				return true;
		for (int k = 0; k < TDP_FPATH_KINDS; k++)
			if (reps[l].fault_path_count[k])
				return true;
	}
	return false;
}

/* The standard figures of one comparison, into @dir. */
static int write_figures(const char *dir, const char *trace,
			 const struct tdp_report reps[2])
{
	static const struct {
		enum tdp_plot_kind kind;
		const char *name;
	} figs[] = {
		{ TDP_PLOT_SHADOW_PAGES, "shadow-pages" },
		{ TDP_PLOT_EXITS, "exits" },
		{ TDP_PLOT_WALK_CDF, "walk-cdf" },
		{ TDP_PLOT_BARS, "bars" },
		{ TDP_PLOT_LATENCY, "latency" },
	};
	static const char *const labels[2] = { "old ACC layout (pre-series)",
					       "new ACC layout (MBEC/GMET series)" };
	char stem[256], out[PATH_MAX];
	int ret;

	snprintf(stem, sizeof(stem), "%s", base_name(trace));
	stem[strcspn(stem, ".")] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(figs); i++) {
		/* no latency histogram without timing */
		if (figs[i].kind == TDP_PLOT_WALK_CDF && !reps[0].timing)
			continue;
		/* nor a latency figure with nothing timed */
		if (figs[i].kind == TDP_PLOT_LATENCY && !timed_any(reps))
			continue;
		struct tdp_plot_opts o = { .kind = figs[i].kind, .output = out,
					   .labels = labels, .nlabels = 2 };

		snprintf(out, sizeof(out), "%s/%s-%s.png", dir, stem, figs[i].name);
		ret = tdp_plot(&o, reps, 2);
		if (ret)
			return ret;
		printf("wrote %s\n", out);
	}
	return 0;
}

/*
 * add_counts() - accumulate the deterministic counts of @src into @dst for
 * the overall table.  Timings do not add up across traces, so the overall
 * table has none (timing = false prints them as '-').
 */
static void add_counts(struct tdp_report *dst, const struct tdp_report *src)
{
	const uint64_t *s;
	uint64_t *d;
	size_t n;

	if (!dst->tool_layout && src->tool_layout && src->tool_build) {
		dst->tool_layout = strdup(src->tool_layout);
		dst->tool_build = strdup(src->tool_build);
	}
	dst->events_total += src->events_total;
	d = (uint64_t *)&dst->exits;
	s = (const uint64_t *)&src->exits;
	for (n = 0; n < sizeof(dst->exits) / sizeof(uint64_t); n++)
		d[n] += s[n];
	d = (uint64_t *)&dst->faults;
	s = (const uint64_t *)&src->faults;
	for (n = 0; n < sizeof(dst->faults) / sizeof(uint64_t); n++)
		d[n] += s[n];
	dst->sp.created += src->sp.created;
	dst->sp.zapped += src->sp.zapped;
	dst->sp.live += src->sp.live;
	dst->sp.peak += src->sp.peak;		/* sum of per-trace peaks */
	dst->sp.unsync += src->sp.unsync;
	dst->sp.sync += src->sp.sync;
	dst->sp.flood_zaps += src->sp.flood_zaps;
	dst->sp.misaligned_zaps += src->sp.misaligned_zaps;
	dst->sp.root_allocs += src->sp.root_allocs;
	dst->sp.prev_roots_hits += src->sp.prev_roots_hits;
	dst->sp.prev_roots_misses += src->sp.prev_roots_misses;
	n = dst->sp.prev_roots_hits + dst->sp.prev_roots_misses;
	dst->sp.prev_roots_hit_rate = n ? (double)dst->sp.prev_roots_hits / n : 0;
	d = (uint64_t *)&dst->nested;
	s = (const uint64_t *)&src->nested;
	for (n = 0; n < sizeof(dst->nested) / sizeof(uint64_t); n++)
		d[n] += s[n];
	dst->has_nested |= src->has_nested;
	dst->paging_nested |= src->paging_nested;
	dst->walks_count += src->walks_count;
	for (n = 0; n < TDP_WALK_KINDS; n++)
		dst->walk_kind_count[n] += src->walk_kind_count[n];
	for (n = 0; n < TDP_FPATH_KINDS; n++)
		dst->fault_path_count[n] += src->fault_path_count[n];
	dst->perm_checks += src->perm_checks;
	dst->timing = false;
	dst->repetitions = src->repetitions;
}

struct compare_opts {
	int repeat;
	bool timing;
	const char *plot_dir;
	struct tdp_json *json;	/* --json: the comparison file being written */
	const char *stdin_copy;	/* what TRACE '-' is replayed from */
};

/*
 * compare_trace() - replay @trace under both layouts; print the table.
 * Returns 0 (same outcomes and counts), 1 (they differ), or a TDP_E_* code.
 */
static int compare_trace(const char *trace, const struct compare_opts *co,
			 struct tdp_report overall[2])
{
	struct tdp_replay_result *res = NULL, *first = NULL;
	struct tdp_report reps[2] = { 0 };
	struct tdp_report_timing times[2][MAX_REPEAT];
	char logs[2][PATH_MAX], la[512], lb[512], err[TDP_ERRBUF_SIZE];
	bool refused[2] = { false, false };
	struct tdp_config cfg;
	int ret = 0, diff = 0;

	res = malloc(sizeof(*res));
	if (!res)
		return TDP_E_NOMEM;
	/* --json writes each layout's first repetition with the folded timings */
	if (co->json) {
		first = malloc(2 * sizeof(*first));
		if (!first) {
			free(res);
			return TDP_E_NOMEM;
		}
	}
	for (int l = 0; l < 2; l++) {
		snprintf(logs[l], sizeof(logs[l]), "%s/tdpsim-compare-%ld-%s.log",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(),
			 layout_names[l]);
		tdp_tmp_register(logs[l]);	/* removed on Ctrl-C too */
	}

	for (int rep = 0; rep < co->repeat; rep++) {
		for (int l = 0; l < 2; l++) {
			struct tdp_replay_opts o = {
				.layout = layout_names[l],
				.log_path = rep == 0 ? logs[l] : NULL,
				.engine = { .timing = co->timing },
				.interval = 1000,
			};
			struct tdp_report tmp;

			if (refused[l])
				continue;
			ret = tdp_replay_run(strcmp(trace, "-") ? trace : co->stdin_copy, &o,
					     &cfg, res, err, sizeof(err));
			if (ret == TDP_E_UNSUPP) {
				char line[TDP_ERRBUF_SIZE + PATH_MAX + 64];

				snprintf(line, sizeof(line), "%s: layout %s refuses this trace: %s",
					 trace, layout_names[l], err);
				tdp_fputs_wrapped(stdout, line, 2);
				refused[l] = true;
				ret = 0;
				continue;
			}
			if (ret) {
				if (err[0])
					tdp_error(ret, "%s", err);
				goto out;
			}
			if (rep == 0) {
				ret = result_to_report(trace, &cfg, layout_names[l], res,
						       &reps[l]);
				if (ret)
					goto out;
				times[l][0] = reps[l].t;
				if (first)
					memcpy(&first[l], res, sizeof(*res));
				continue;
			}
			ret = result_to_report(trace, &cfg, layout_names[l], res, &tmp);
			if (ret)
				goto out;
			times[l][rep] = tmp.t;
			if (tmp.exits.total != reps[l].exits.total ||
			    tmp.sp.created != reps[l].sp.created) {
				tdp_report_release(&tmp);
				ret = tdp_error(TDP_E_INTERNAL,
						"'%s': repetition %d of layout %s counted differently",
						trace, rep, layout_names[l]);
				goto out;
			}
			tdp_report_release(&tmp);
		}
	}
	for (int l = 0; l < 2; l++) {
		if (refused[l])
			continue;
		fold_timings(&reps[l], times[l], co->repeat);
		/* a refusing layout has no report: the file holds the other */
		if (co->json)
			tdp_compare_json_add(co->json, trace, &cfg, layout_names[l],
					     &first[l], &reps[l]);
	}
	if (refused[0] || refused[1]) {
		char line[PATH_MAX + 128];

		snprintf(line, sizeof(line), "outcome logs differ: layout %s cannot replay '%s'",
			 refused[0] ? "old" : "new", trace);
		tdp_fputs_wrapped(stdout, line, 2);
		if (!(refused[0] && refused[1])) {
			snprintf(line, sizeof(line),
				 "(its report under the other layout: tdpsim replay --layout %s %s)",
				 refused[0] ? "new" : "old", trace);
			tdp_fputs_wrapped(stdout, line, 1);
		}
		ret = 1;
		goto out;
	}
	for (int l = 0; l < 2; l++)
		add_counts(&overall[l], &reps[l]);

	printf("%s (%d repetition%s)\n", trace, co->repeat, co->repeat > 1 ? "s" : "");
	diff = tdp_report_compare_print(stdout, &reps[0], &reps[1], "old", "new");
	if (diff < 0) {
		ret = diff;
		goto out;
	}
	ret = first_divergence(logs[0], logs[1], la, lb, sizeof(la));
	if (ret < 0) {
		tdp_error(ret, "cannot read the outcome logs of '%s'", trace);
		goto out;
	}
	if (ret == 1) {
		if (cfg.mbec || cfg.gmet)
			printf("outcome logs differ (expected: the trace uses %s)\n",
			       cfg.mbec ? "MBEC" : "GMET");
		printf("first divergent outcome:\n  old: %s  new: %s", la, lb);
	} else {
		printf("outcome logs identical\n");
	}
	ret = ret || diff;
	if (co->plot_dir) {
		int r = write_figures(co->plot_dir, trace, reps);

		if (r)
			ret = r;
	}
out:
	for (int l = 0; l < 2; l++) {
		unlink(logs[l]);
		tdp_tmp_forget(logs[l]);
		tdp_report_release(&reps[l]);
	}
	free(first);
	free(res);
	return ret;
}

static int compare_reports(const char *a, const char *b)
{
	struct tdp_report *ra = NULL, *rb = NULL;
	size_t na = 0, nb = 0;
	int ret;

	ret = tdp_report_load(a, &ra, &na);
	if (!ret)
		ret = tdp_report_load(b, &rb, &nb);
	if (!ret) {
		ret = tdp_report_compare_print(stdout, &ra[0], &rb[0], base_name(a),
					       base_name(b));
		if (na > 1 || nb > 1)
			tdp_warn("comparing the first report of each file");
	}
	tdp_report_free_array(ra, na);
	tdp_report_free_array(rb, nb);
	return ret < 0 ? cmd_exit_status(ret) : ret;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "plot", required_argument, NULL, 'p' },
		{ "layouts", required_argument, NULL, 'L' },
		{ "no-timing", no_argument, NULL, 'T' },
		{ "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct compare_opts co = { .repeat = 3, .timing = true };
	struct tdp_report overall[2] = { 0 };
	struct tdp_outfile jf = { 0 };
	struct tdp_json json;
	const char *json_path = NULL;
	char stdin_copy[PATH_MAX] = "";
	bool any_diff = false;
	uint64_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "r:p:L:Tj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (tdp_parse_u64(optarg, &v) || v < 1 || v > MAX_REPEAT)
				return cmd_usage_error("compare",
						       "--repeat takes 1..%d, not '%s'",
						       MAX_REPEAT, optarg);
			co.repeat = (int)v;
			break;
		case 'p':
			co.plot_dir = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "old,new"))
				return cmd_usage_error("compare",
						       "only --layouts old,new is supported");
			break;
		case 'T':
			co.timing = false;
			break;
		case 'j':
			/* the table owns stdout */
			if (!strcmp(optarg, "-"))
				return cmd_usage_error("compare",
						       "--json needs a file, not '-'");
			json_path = optarg;
			break;
		default:
			return cmd_usage_error("compare", "invalid option");
		}
	}
	if (optind == argc)
		return cmd_usage_error("compare", "missing TRACE or REPORT.json");
	if (argc - optind == 2 && ends_with(argv[optind], ".json") &&
	    ends_with(argv[optind + 1], ".json")) {
		if (json_path)
			return cmd_usage_error("compare",
					       "--json writes the replays of TRACEs, not saved reports");
		return compare_reports(argv[optind], argv[optind + 1]);
	}
	{
		const char *outs[] = { json_path };

		if (tdp_check_same_files((const char *const *)argv + optind,
					 argc - optind, outs, 1))
			return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-"))
			continue;
		if (stdin_copy[0])
			return cmd_usage_error("compare", "'-' (stdin) named twice");
		if (spool_stdin(stdin_copy, sizeof(stdin_copy)))
			return EXIT_USAGE;
		co.stdin_copy = stdin_copy;	/* the table still says '-' */
	}
	if (co.plot_dir && mkdir(co.plot_dir, 0777) && errno != EEXIST)
		return tdp_error(EXIT_USAGE, "cannot create '%s': %s", co.plot_dir,
				 strerror(errno));
	if (json_path) {
		if (tdp_outfile_open(&jf, json_path, "w"))
			return EXIT_USAGE;
		tdp_compare_json_begin(&json, jf.fp);
		co.json = &json;
	}
	for (int i = optind; i < argc; i++) {
		ret = compare_trace(argv[i], &co, overall);
		if (ret < 0)
			goto out_release;
		any_diff |= ret == 1;
		if (i + 1 < argc)
			putchar('\n');
	}
	ret = 0;
	if (argc - optind > 1) {
		printf("\noverall, %d traces (counts summed; peaks are sums of per-trace peaks)\n",
		       argc - optind);
		ret = tdp_report_compare_print(stdout, &overall[0], &overall[1], "old",
					       "new");
		if (ret < 0)
			goto out_release;
		printf("overall: %s\n", any_diff ? "outcomes or counts differ" :
		       "outcomes and counts identical");
	}
	ret = 0;
	/* complete (differences included) or not at all */
	if (json_path) {
		ret = tdp_compare_json_end(&json);
		if (ret)
			tdp_error(ret, "cannot write '%s'", json_path);
		else
			ret = tdp_outfile_commit(&jf);	/* says why if not */
	}
out_release:
	if (ret < 0 && json_path)
		tdp_outfile_abort(&jf);
	for (int l = 0; l < 2; l++)
		tdp_report_release(&overall[l]);
	if (stdin_copy[0]) {
		unlink(stdin_copy);
		tdp_tmp_forget(stdin_copy);
	}
	if (ret < 0)
		return cmd_exit_status(ret);
	return any_diff ? EXIT_DIFF : 0;
}
