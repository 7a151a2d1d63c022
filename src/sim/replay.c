// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay driver: read a trace, feed one layout's engine event by event,
 * write the outcome log, keep the timeline and marks, time the run.
 *
 * Memory is bounded independently of trace length: the timeline keeps at
 * most TDP_TIMELINE_MAX rows (when full, every other row is dropped and the
 * interval doubles) and at most TDP_MARKS_MAX marks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>
#include <tdpsim/tsc.h>
#include <tdpsim/util.h>

const struct tdp_engine_ops *tdp_engine_ops_find(const char *layout)
{
	if (!layout || !strcmp(layout, "new"))
		return &tdp_new_engine_ops;
	if (!strcmp(layout, "old"))
		return &tdp_old_engine_ops;
	return NULL;
}

const char *const tdp_walk_kind_names[TDP_WALK_KINDS] = {
	[TDP_WALK_1D] = "1d", [TDP_WALK_EPT] = "ept",
	[TDP_WALK_NPT] = "npt", [TDP_WALK_2D] = "2d",
};
const char *const tdp_fault_path_names[TDP_FPATH_KINDS] = {
	[TDP_FPATH_SHADOW] = "shadow", [TDP_FPATH_DIRECT] = "direct",
	[TDP_FPATH_NESTED] = "nested",
};

static void timeline_add(struct tdp_replay_result *res, uint64_t event)
{
	struct tdp_timeline_row *row;

	if (res->nrows == TDP_TIMELINE_MAX) {
		/* keep rows 1, 3, 5, ... (multiples of the doubled interval) */
		for (unsigned i = 1, j = 0; i < TDP_TIMELINE_MAX; i += 2)
			res->rows[j++] = res->rows[i];
		res->nrows = TDP_TIMELINE_MAX / 2;
		res->interval *= 2;
		if (event % res->interval)
			return;
	}
	row = &res->rows[res->nrows++];
	row->event = event;
	row->sp_live = res->stats.sp_live;
	row->exits = tdp_stats_exits(&res->stats);
}

static int where(char *errbuf, size_t errlen, const char *path,
		 tdp_trace_t *t, uint64_t n, int err, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static int where(char *errbuf, size_t errlen, const char *path,
		 tdp_trace_t *t, uint64_t n, int err, const char *fmt, ...)
{
	char msg[TDP_ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tdp_trace_form(t) == TDP_FORM_TEXT)
		snprintf(errbuf, errlen, "%s:%llu: event %llu: %s", path,
			 (unsigned long long)tdp_trace_position(t),
			 (unsigned long long)n, msg);
	else
		snprintf(errbuf, errlen, "%s: record %llu: event %llu: %s", path,
			 (unsigned long long)tdp_trace_position(t),
			 (unsigned long long)n, msg);
	return err;
}

int tdp_replay_run(const char *path, const struct tdp_replay_opts *opts,
		   struct tdp_config *cfg_out, struct tdp_replay_result *res,
		   char *errbuf, size_t errlen)
{
	const struct tdp_engine_ops *ops = tdp_engine_ops_find(opts->layout);
	struct tdp_engine *eng = NULL;
	struct tdp_outfile log = { 0 };
	const struct tdp_event *ev;
	tdp_trace_t *t = NULL;
	struct tdp_progress prog;
	uint64_t n = 0, t0, next_row;
	char tbuf[TDP_ERRBUF_SIZE];
	int ret;

	memset(res, 0, sizeof(*res));
	tdp_hist_init(&res->stats.walk_ticks);
	for (int k = 0; k < TDP_WALK_KINDS; k++)
		tdp_hist_init(&res->stats.walk_kind_ticks[k]);
	for (int k = 0; k < TDP_FPATH_KINDS; k++)
		tdp_hist_init(&res->stats.fault_ticks[k]);
	res->interval = opts->interval ? opts->interval : 1000;
	next_row = res->interval;
	if (!ops) {
		snprintf(errbuf, errlen, "unknown layout '%s' (use old or new)",
			 opts->layout);
		return TDP_E_USAGE;
	}
	ret = tdp_trace_open(&t, path, tbuf);
	if (ret) {
		snprintf(errbuf, errlen, "%s", tbuf);
		return ret;
	}
	if (cfg_out)
		*cfg_out = *tdp_trace_config(t);
	ret = ops->create(&eng, tdp_trace_config(t), &opts->engine, &res->stats,
			  errbuf, errlen);
	if (ret)
		goto out_close_trace;
	if (opts->log_path) {
		ret = tdp_outfile_open(&log, opts->log_path, "w");
		if (ret) {
			errbuf[0] = 0;	/* tdp_outfile_open() has said why */
			goto out_destroy;
		}
		fprintf(log.fp, "# tdpsim replay %s layout=%s\n", path, ops->layout);
	}

	if (!opts->no_read_ahead)
		res->read_ahead = tdp_trace_read_ahead(t) == 1;
	/*
	 * The TSC calibration busy-waits 20 ms: only when there are ticks to
	 * convert (walk timing on); 0 otherwise, as the report says.
	 */
	res->tsc_mhz = opts->engine.timing ? tdp_tsc_per_ns() * 1000.0 : 0;
	if (opts->engine.timing)
		res->stats.timer_overhead_ticks = tdp_tsc_overhead();
	t0 = tdp_now_ns();
	if (opts->progress)
		tdp_progress_init(&prog, stderr, tdp_trace_file_bytes(t), t0);
	while ((ret = tdp_trace_next(t, &ev)) == 1) {
		struct tdp_outcome out;

		n++;
		ret = ops->event(eng, ev, &out);
		if (ret) {
			where(errbuf, errlen, path, t, n, ret, "%s", ops->errmsg(eng));
			goto out_abort_log;
		}
		if (log.fp && out.kind != TDP_OUT_NONE) {
			ret = tdp_outcome_print(log.fp, n, &out);
			if (ret) {
				snprintf(errbuf, errlen, "cannot write '%s'",
					 opts->log_path);
				goto out_abort_log;
			}
		}
		if (ev->kind == TDP_EV_MARK && res->nmarks < TDP_MARKS_MAX) {
			struct tdp_mark *m = &res->marks[res->nmarks++];

			m->event = n;
			snprintf(m->label, sizeof(m->label), "%s", ev->u.mark.label);
		}
		/* n % interval == 0, without a division per event */
		if (n == next_row) {
			timeline_add(res, n);
			next_row = (n / res->interval + 1) * res->interval;
		}
		/* a clock read per 4096 events; the redraw limits itself */
		if (opts->progress && !(n & 4095))
			tdp_progress_update(&prog, n, tdp_trace_file_pos(t), tdp_now_ns());
	}
	if (ret < 0) {
		snprintf(errbuf, errlen, "%s", tdp_trace_errmsg(t));
		goto out_abort_log;
	}
	if (opts->engine.check) {
		ret = ops->check_all(eng);
		if (ret) {
			where(errbuf, errlen, path, t, n, ret, "at the end: %s",
			      ops->errmsg(eng));
			goto out_abort_log;
		}
	}
	res->wall_s = (double)(tdp_now_ns() - t0) / 1e9;
	if (opts->progress)
		tdp_progress_end(&prog);
	if (!res->nrows || res->rows[res->nrows - 1].event != n) {
		if (res->nrows == TDP_TIMELINE_MAX)
			res->nrows--;	/* the final row always fits */
		res->rows[res->nrows++] = (struct tdp_timeline_row){
			n, res->stats.sp_live, tdp_stats_exits(&res->stats) };
	}
	ops->finish(eng);
	res->stats.events = n;
	for (int k = 0; k < TDP_WALK_KINDS; k++)
		tdp_hist_merge(&res->stats.walk_ticks, &res->stats.walk_kind_ticks[k]);
	if (log.fp) {
		ret = tdp_outfile_commit(&log);
		if (ret) {
			snprintf(errbuf, errlen, "cannot write '%s'", opts->log_path);
			goto out_destroy;
		}
	}
	ret = 0;
	goto out_destroy;

out_abort_log:
	if (opts->progress)
		tdp_progress_end(&prog);
	tdp_outfile_abort(&log);
out_destroy:
	ops->destroy(eng);
out_close_trace:
	tdp_trace_close(t);
	return ret;
}
