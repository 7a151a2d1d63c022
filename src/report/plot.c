// SPDX-License-Identifier: GPL-2.0-only
/*
 * 'tdpsim plot': gnuplot scripts and data from replay reports.
 *
 * Files, for -o fig.png:
 *	fig.gp			the script (kept with --keep-script)
 *	fig.dat | fig-N.dat	the data, one file per report for line plots
 *	fig.png.tmp.PID		what gnuplot writes; renamed to fig.png on success
 *
 * Every string that reaches the script (titles, labels, paths) goes through
 * gp_quote(): single-quoted gnuplot strings take no backslash escapes, only
 * '' for a quote, so that is the whole escaping.  The terminal is set
 * 'noenhanced' so '_' and '^' in labels are printed, not typeset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/plot.h>
#include <tdpsim/report.h>
#include <tdpsim/util.h>

#include "report/timed.h"

static const char *const kind_names[] = {
	[TDP_PLOT_SHADOW_PAGES] = "shadow-pages",
	[TDP_PLOT_EXITS] = "exits",
	[TDP_PLOT_WALK_CDF] = "walk-cdf",
	[TDP_PLOT_BARS] = "bars",
	[TDP_PLOT_LATENCY] = "latency",
};

const char tdp_plot_kind_names[] = "shadow-pages, exits, walk-cdf, bars, latency";

int tdp_plot_kind_parse(const char *name, enum tdp_plot_kind *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(name, kind_names[i])) {
			*kind = (enum tdp_plot_kind)i;
			return 0;
		}
	return TDP_E_USAGE;
}

/*
 * Terminals: sizes and fonts chosen so that a figure pasted into a cover
 * letter or shrunk into a slide stays readable (13 pt on a 1000 px PNG).
 */
struct term {
	const char *suffix;
	const char *setup;
};

static const struct term terms[] = {
	{ ".png", "pngcairo size 1000,600 font 'sans,13' noenhanced" },
	{ ".svg", "svg size 1000,600 font 'sans,13' noenhanced background '#ffffff'" },
	{ ".pdf", "pdfcairo size 8in,4.8in font 'sans,11' noenhanced" },
};

/* Distinct under common colour-vision deficiencies (Okabe-Ito). */
static const char *const colours[] = {
	"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
	"#000000", "#f0e442",
};

/* Write @s as a single-quoted gnuplot string; control bytes become spaces. */
static void gp_quote(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", fp);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc(' ', fp);
		else
			fputc(*s, fp);
	}
	fputc('\'', fp);
}

struct plot_files {
	char *stem;		/* output without its suffix */
	char *gp;
	char **dat;		/* ndat data file names */
	size_t ndat;
	char *tmp_fig;		/* the device itself when direct */
	char *target;		/* the figure's file, symlinks resolved */
	bool direct;		/* a device or FIFO: gnuplot writes it in place */
	char **label;		/* per report, owned */
	size_t nlabel;
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static void plot_files_release(struct plot_files *pf, bool remove_script)
{
	if (pf->tmp_fig && !pf->direct) {
		unlink(pf->tmp_fig);
		tdp_tmp_forget(pf->tmp_fig);
	}
	for (size_t i = 0; i < pf->ndat; i++) {
		if (remove_script && pf->dat[i])
			unlink(pf->dat[i]);
		if (pf->dat[i])
			tdp_tmp_forget(pf->dat[i]);
		free(pf->dat[i]);
	}
	if (remove_script && pf->gp)
		unlink(pf->gp);
	if (pf->gp)
		tdp_tmp_forget(pf->gp);
	free(pf->target);
	for (size_t i = 0; i < pf->nlabel; i++)
		free(pf->label[i]);
	free(pf->label);
	free(pf->dat);
	free(pf->gp);
	free(pf->tmp_fig);
	free(pf->stem);
	memset(pf, 0, sizeof(*pf));
}

/* "new linux-small" from layout "new" and path ".../linux-small.json" */
static char *default_label(const struct tdp_report *r)
{
	const char *path = r->path ? r->path : "report";
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".json"))
		len -= 5;
	return xasprintf("%s %.*s", r->tool_layout ? r->tool_layout : "?",
			 (int)len, base);
}

/* Figure out every file name before anything is written. */
static int plot_files_init(struct plot_files *pf, const struct tdp_plot_opts *o,
			   const struct term *t, const struct tdp_report *reps,
			   size_t n)
{
	size_t stem_len = strlen(o->output) - strlen(t->suffix);
	char err[TDP_ERRBUF_SIZE];
	int ret;

	memset(pf, 0, sizeof(*pf));
	ret = tdp_output_target(o->output, &pf->target, &pf->direct, err, sizeof(err));
	if (ret)
		return tdp_error(ret, "%s", err);
	pf->stem = strndup(o->output, stem_len);
	pf->gp = xasprintf("%s.gp", pf->stem ? pf->stem : "");
	pf->tmp_fig = pf->direct ? strdup(pf->target) :
		      xasprintf("%s.tmp.%ld", pf->target, (long)getpid());
	/* what a Ctrl-C must not leave behind (the script only if not kept) */
	if (pf->tmp_fig && !pf->direct)
		tdp_tmp_register(pf->tmp_fig);
	if (pf->gp && !o->keep_script)
		tdp_tmp_register(pf->gp);
	pf->ndat = o->kind == TDP_PLOT_BARS || o->kind == TDP_PLOT_LATENCY ? 1 : n;
	pf->dat = calloc(pf->ndat, sizeof(*pf->dat));
	pf->label = calloc(n, sizeof(*pf->label));
	if (!pf->stem || !pf->gp || !pf->tmp_fig || !pf->dat || !pf->label)
		return TDP_E_NOMEM;
	pf->nlabel = n;
	for (size_t i = 0; i < pf->ndat; i++) {
		pf->dat[i] = pf->ndat == 1 ? xasprintf("%s.dat", pf->stem) :
			     xasprintf("%s-%zu.dat", pf->stem, i + 1);
		if (!pf->dat[i])
			return TDP_E_NOMEM;
		if (!o->keep_script)
			tdp_tmp_register(pf->dat[i]);
	}
	for (size_t i = 0; i < n; i++) {
		pf->label[i] = o->nlabels ? strdup(o->labels[i]) : default_label(&reps[i]);
		if (!pf->label[i])
			return TDP_E_NOMEM;
	}
	return 0;
}

static int close_checked(FILE *fp, const char *path)
{
	if (ferror(fp) | fclose(fp))
		return tdp_error(TDP_E_IO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static FILE *create(const char *path, int *ret)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		*ret = tdp_error(TDP_E_IO, "cannot create '%s': %s", path, strerror(errno));
	return fp;
}

/* ---- data files ---------------------------------------------------------- */

static int write_timeline(const char *path, const struct tdp_report *r, bool exits)
{
	FILE *fp;
	int ret = 0;

	fp = create(path, &ret);
	if (!fp)
		return ret;
	/* replay starts from an empty MMU: no exits, no shadow pages yet */
	fprintf(fp, "# event %s\n0 0\n", exits ? "exits" : "sp_live");
	for (size_t i = 0; i < r->ntl; i++)
		fprintf(fp, "%llu %llu\n", (unsigned long long)r->tl[i].event,
			(unsigned long long)(exits ? r->tl[i].exits : r->tl[i].sp_live));
	return close_checked(fp, path);
}

/*
 * CDF from the histogram: walks in bucket i are at most hist[i].upper_ns, so
 * F(upper_ns[i]) = (count[0] + ... + count[i]) / total.  A first point at
 * the lowest bound with F = 0 would claim nothing is faster, which the
 * histogram cannot tell, so the curve starts at the first bucket.
 */
static int write_cdf(const char *path, const struct tdp_report *r)
{
	uint64_t total = 0, cum = 0;
	FILE *fp;
	int ret = 0;

	for (size_t i = 0; i < r->nhist; i++)
		total += r->hist[i].count;
	fp = create(path, &ret);
	if (!fp)
		return ret;
	fprintf(fp, "# upper_ns cdf\n");
	for (size_t i = 0; i < r->nhist && total; i++) {
		cum += r->hist[i].count;
		if (r->hist[i].upper_ns > 0)	/* log axis */
			fprintf(fp, "%.9g %.9g\n", r->hist[i].upper_ns,
				(double)cum / (double)total);
	}
	return close_checked(fp, path);
}

struct bar_metric {
	const char *name;	/* a gnuplot double-quoted string: \n breaks */
	size_t off;		/* u64 in struct tdp_report */
	size_t spread_off;	/* double in struct tdp_report */
};

#define BM(n, m, s) { n, offsetof(struct tdp_report, m), \
		      offsetof(struct tdp_report, count_spread.s) }
static const struct bar_metric bar_metrics[] = {
	BM("exits", exits.total, exits),
	BM("pf_fixed", faults.fixed, faults_fixed),
	BM("faults\\ninjected", faults.injected, faults_injected),
	BM("shadow pages\\ncreated", sp.created, sp_created),
	BM("shadow pages\\npeak", sp.peak, sp_peak),
};
#undef BM

/*
 * The latency figure's groups: mean ns (timer cost subtracted) of each
 * walker and fault path, with half the spread over repetitions as error
 * bar; a group is drawn when some report timed at least one.
 */
struct lat_metric {
	const char *name;	/* a gnuplot double-quoted string */
	size_t off;		/* double in struct tdp_report_timing */
	size_t count_off;	/* u64 in struct tdp_report */
};

#define LM(n, m, c) { n, offsetof(struct tdp_report_timing, m), \
		      offsetof(struct tdp_report, c) }
#define LAT_BAR(o, w, i, m, c, cl, pl) LM(pl, m##_mean[i], c[i]),
static const struct lat_metric lat_metrics[] = {
	FOR_EACH_TIMED(LAT_BAR)
};
#undef LM
#undef LAT_BAR

static bool lat_shown(const struct tdp_report *reps, size_t n, size_t m)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t c;

		memcpy(&c, (const char *)&reps[i] + lat_metrics[m].count_off, sizeof(c));
		if (c)
			return true;
	}
	return false;
}

/* One row per group shown: index, then mean and spread/2 per report. */
static int write_latency(const char *path, const struct tdp_report *reps, size_t n,
			 size_t *nshown)
{
	FILE *fp;
	int ret = 0;

	*nshown = 0;
	fp = create(path, &ret);
	if (!fp)
		return ret;
	fprintf(fp, "# row per walker / fault path; per report: mean ns, spread/2\n");
	for (size_t m = 0; m < ARRAY_SIZE(lat_metrics); m++) {
		if (!lat_shown(reps, n, m))
			continue;
		fprintf(fp, "%zu", (*nshown)++);
		for (size_t i = 0; i < n; i++) {
			double v, s;

			memcpy(&v, (const char *)&reps[i].t + lat_metrics[m].off, sizeof(v));
			memcpy(&s, (const char *)&reps[i].spread + lat_metrics[m].off,
			       sizeof(s));
			fprintf(fp, " %.9g %.9g", v, s / 2);
		}
		fputc('\n', fp);
	}
	return close_checked(fp, path);
}

static bool any_count_spread(const struct tdp_report *reps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (reps[i].has_spread)
			return true;
	return false;
}

/* One row per metric: name, then value and half the spread per report. */
static int write_bars(const char *path, const struct tdp_report *reps, size_t n)
{
	FILE *fp;
	int ret = 0;

	fp = create(path, &ret);
	if (!fp)
		return ret;
	fprintf(fp, "# row per metric; per report: value, spread/2\n");
	for (size_t m = 0; m < ARRAY_SIZE(bar_metrics); m++) {
		fprintf(fp, "%zu", m);
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			double s;

			memcpy(&v, (const char *)&reps[i] + bar_metrics[m].off, sizeof(v));
			memcpy(&s, (const char *)&reps[i] + bar_metrics[m].spread_off,
			       sizeof(s));
			fprintf(fp, " %llu %.9g", (unsigned long long)v, s / 2);
		}
		fputc('\n', fp);
	}
	return close_checked(fp, path);
}

/* ---- the script ---------------------------------------------------------- */

/* Append @s to @buf unless it is already there ("; " between items). */
static void add_once(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);
	const char *p = buf;

	while ((p = strstr(p, s))) {
		/* whole items only: bounded by the start or "; " and by the end or ";" */
		bool starts = p == buf || (p >= buf + 2 && !strncmp(p - 2, "; ", 2));
		char after = p[strlen(s)];

		if (starts && (after == '\0' || after == ';'))
			return;
		p++;
	}
	if (len && len + 2 < size)
		len += snprintf(buf + len, size - len, "; ");
	if (len < size)
		snprintf(buf + len, size - len, "%s", s);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * What a figure shows and where it comes from, on the figure itself: the
 * trace(s) and the layouts under the title; the build (version, commit,
 * build type) and the machine (CPU model, cores) at the bottom, with the
 * repetitions when the figure shows timings.  Counts do not depend on the
 * build or the machine, timings do; either way a figure pasted into a
 * cover letter has to say what produced it.
 */
static void provenance(FILE *fp, const struct tdp_report *reps, size_t n, bool measured)
{
	char traces[512] = "", layouts[64] = "", builds[512] = "", top[640], bottom[768];

	for (size_t i = 0; i < n; i++) {
		const struct tdp_report *r = &reps[i];
		char one[256], cores[32] = "";

		add_once(traces, sizeof(traces), r->trace_path ? base_of(r->trace_path) : "?");
		add_once(layouts, sizeof(layouts), r->tool_layout ? r->tool_layout : "?");
		if (r->cores)
			snprintf(cores, sizeof(cores), ", %llu cores", (unsigned long long)r->cores);
		snprintf(one, sizeof(one), "tdpsim %s%s%s, %s build, on %s%s%s",
			 r->tool_version ? r->tool_version : "?",
			 r->tool_commit ? " " : "", r->tool_commit ? r->tool_commit : "",
			 r->tool_build ? r->tool_build : "?", r->machine ? r->machine : "?",
			 cores, "");
		if (measured) {
			size_t len = strlen(one);

			snprintf(one + len, sizeof(one) - len, ", %llu repetition%s",
				 (unsigned long long)r->repetitions,
				 r->repetitions == 1 ? "" : "s");
		}
		add_once(builds, sizeof(builds), one);
	}
	snprintf(top, sizeof(top), "trace%s: %s  |  layout%s: %s", n > 1 && strchr(traces, ';') ?
		 "s" : "", traces, strchr(layouts, ';') ? "s" : "", layouts);
	snprintf(bottom, sizeof(bottom), "%s%s", measured ? "measured with " : "", builds);
	/* a second title line: 'set title' was written first, append to it */
	fputs("set title tdp_title.\"\\n\".", fp);
	gp_quote(fp, top);
	fputc('\n', fp);
	fputs("set bmargin 5.5\nset label 99 ", fp);
	gp_quote(fp, bottom);
	fputs(" at screen 0.01, screen 0.025 left font ',10' tc rgb '#555555'\n", fp);
}

static void plot_lines(FILE *fp, const struct plot_files *pf, const bool *skip,
		       size_t n, const char *style, const char *extra)
{
	bool first = true;

	fputs("plot ", fp);
	for (size_t i = 0; i < n; i++) {
		if (skip[i])
			continue;
		if (!first)
			fputs(", \\\n     ", fp);
		first = false;
		gp_quote(fp, pf->dat[i]);
		/* dash types too: identical curves stay visible, and print in grey */
		fprintf(fp, " using 1:2 with %s lw 2 lc rgb '%s' dt %zu title ", style,
			colours[i % ARRAY_SIZE(colours)], i % 4 + 1);
		gp_quote(fp, pf->label[i]);
	}
	fputs(extra ? extra : "", fp);
	fputc('\n', fp);
}

struct mark_ref {
	uint64_t event;
	const char *label;
	size_t count;		/* marks with this label */
};

static int mark_by_label(const void *a, const void *b)
{
	const struct mark_ref *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	return c ? c : (x->event > y->event) - (x->event < y->event);
}

static int mark_by_event(const void *a, const void *b)
{
	const struct mark_ref *x = a, *y = b;

	return (x->event > y->event) - (x->event < y->event);
}

/* Marks drawn as ticks on the x axis instead of labelled lines. */
#define MARK_TICK_MIN	7	/* a label seen this often is a tick */
#define MARK_TICK_KINDS	4	/* tick labels with a colour and a key entry each */
/* Labels of rotated text per x range: 1000 px wide figure, 10 pt text */
#define MARK_SLOTS_X	45

/*
 * The marks of every report (duplicates across reports drawn once), so
 * that no two labels overlap however many there are:
 *  - a label that occurs MARK_TICK_MIN times or more (a periodic phase,
 *    e.g. a module load every few slices) is drawn as short ticks on the
 *    x axis in its own colour, named once in the key with its count;
 *  - the others get a dashed line and rotated text, the text in one of
 *    two rows (top, middle), placed in the first row whose last label is
 *    at least 1/MARK_SLOTS_X of the x range away; a mark with no room in
 *    either keeps its line and is counted in a key entry "N marks not
 *    labelled".
 * Returns the number of key entries written into @keys (dummy plots).
 */
static void exits_marks(FILE *fp, const struct tdp_report *reps, size_t n, uint64_t max_x,
			char *keys, size_t keys_size)
{
	struct mark_ref *m;
	size_t nm = 0, total = 0, unlabelled = 0, kinds = 0;
	const char *tick_label[MARK_TICK_KINDS + 1];
	size_t tick_count[MARK_TICK_KINDS + 1] = { 0 };
	uint64_t last[2] = { 0, 0 }, spacing;
	bool used[2] = { false, false };
	int tag = 100;

	keys[0] = '\0';
	for (size_t i = 0; i < n; i++)
		total += reps[i].nmarks;
	if (!total)
		return;
	m = calloc(total, sizeof(*m));
	if (!m)
		return;		/* a figure without marks is still right */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < reps[i].nmarks; k++)
			m[nm++] = (struct mark_ref){ reps[i].marks[k].event,
						     reps[i].marks[k].label, 0 };
	/* by label then event: duplicates adjacent, counts per run */
	qsort(m, nm, sizeof(*m), mark_by_label);
	{
		size_t w = 0;

		for (size_t i = 0; i < nm; i++)
			if (!w || m[i].event != m[w - 1].event || strcmp(m[i].label, m[w - 1].label))
				m[w++] = m[i];
		nm = w;
	}
	for (size_t i = 0; i < nm;) {
		size_t j = i;

		while (j < nm && !strcmp(m[j].label, m[i].label))
			j++;
		for (size_t k = i; k < j; k++)
			m[k].count = j - i;
		i = j;
	}
	qsort(m, nm, sizeof(*m), mark_by_event);
	if (!max_x)
		max_x = m[nm - 1].event;
	spacing = max_x / MARK_SLOTS_X + 1;

	for (size_t i = 0; i < nm; i++) {
		const struct mark_ref *r = &m[i];

		if (r->count >= MARK_TICK_MIN) {
			size_t kind = 0;

			while (kind < kinds && strcmp(tick_label[kind], r->label))
				kind++;
			if (kind == kinds && kinds < MARK_TICK_KINDS)
				tick_label[kinds++] = r->label;
			if (kind == MARK_TICK_KINDS)
				tick_label[kind] = "other";
			tick_count[kind]++;
			fprintf(fp, "set arrow %d from %llu, graph 0 to %llu, graph 0.035 nohead "
				"lw 1.5 lc rgb '%s' front\n", tag++, (unsigned long long)r->event,
				(unsigned long long)r->event,
				colours[(4 + kind) % ARRAY_SIZE(colours)]);
			continue;
		}
		fprintf(fp, "set arrow %d from %llu, graph 0 to %llu, graph 1 nohead "
			"dt 2 lw 1 lc rgb '#888888' back\n", tag,
			(unsigned long long)r->event, (unsigned long long)r->event);
		for (int row = 0; row < 2; row++) {
			if (used[row] && r->event - last[row] < spacing)
				continue;
			fprintf(fp, "set label %d ", tag);
			gp_quote(fp, r->label);
			fprintf(fp, " at %llu, graph %s rotate by 90 right offset -0.7,0 "
				"font ',10' tc rgb '#444444'\n", (unsigned long long)r->event,
				row ? "0.6" : "0.97");
			last[row] = r->event;
			used[row] = true;
			goto labelled;
		}
		unlabelled++;
labelled:
		tag++;
	}

	/* key entries: NaN plots that draw nothing but a sample and a title */
	for (size_t k = 0; k <= MARK_TICK_KINDS; k++) {
		char entry[160];
		size_t len = strlen(keys);

		if (!tick_count[k])
			continue;
		snprintf(entry, sizeof(entry), "mark %s (%zu, ticks)", tick_label[k],
			 tick_count[k]);
		if (len + 128 + strlen(entry) >= keys_size)
			break;
		len += snprintf(keys + len, keys_size - len,
				", \\\n     NaN with lines lw 3 lc rgb '%s' title ",
				colours[(4 + k) % ARRAY_SIZE(colours)]);
		{
			FILE *kf = fmemopen(keys + len, keys_size - len, "w");

			if (kf) {
				gp_quote(kf, entry);
				fclose(kf);
			}
		}
	}
	if (unlabelled) {
		char entry[96];
		size_t len = strlen(keys);

		snprintf(entry, sizeof(entry), "%zu more mark%s (dashed line%s) not labelled",
			 unlabelled, unlabelled == 1 ? "" : "s", unlabelled == 1 ? "" : "s");
		if (len + 128 < keys_size) {
			FILE *kf;

			len += snprintf(keys + len, keys_size - len,
					", \\\n     NaN with lines dt 2 lc rgb '#888888' title ");
			kf = fmemopen(keys + len, keys_size - len, "w");
			if (kf) {
				gp_quote(kf, entry);
				fclose(kf);
			}
		}
	}
	free(m);
}

/*
 * Plain numbers read best ("1200", "45000"); past 10^5 they get long and
 * gnuplot's %g would switch to 1.2e+06, so use SI prefixes ("1.2M").
 */
static void axis_format(FILE *fp, char axis, uint64_t max)
{
	fprintf(fp, "set format %c '%s'\n", axis, max < 100000 ? "%g" : "%.1s%c");
}

static void timeline_max(const struct tdp_report *reps, size_t n, bool exits,
			 uint64_t *max_x, uint64_t *max_y)
{
	*max_x = *max_y = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < reps[i].ntl; k++) {
			const struct tdp_report_tl_row *row = &reps[i].tl[k];
			uint64_t y = exits ? row->exits : row->sp_live;

			*max_x = row->event > *max_x ? row->event : *max_x;
			*max_y = y > *max_y ? y : *max_y;
		}
}

/*
 * Clustered bars, one group per name (data rows 0..@ngroups-1), one bar per
 * report; with @err the columns after each value are half-spreads drawn as
 * error bars.
 */
static void histogram_plot(FILE *fp, const struct plot_files *pf, size_t n,
			   const char *const *names, size_t ngroups, bool err,
			   const char *key)
{
	fprintf(fp, "set style data histograms\n"
		"set style fill solid 0.85 border -1\n"
		"set boxwidth 0.9\n"
		"set xtics scale 0\n"
		"set key %s\n", key);
	fprintf(fp, "set style histogram %s gap 1\n",
		err ? "errorbars lw 1.5" : "clustered");
	fputs("set xtics (", fp);
	for (size_t m = 0; m < ngroups; m++)
		fprintf(fp, "%s\"%s\" %zu", m ? ", " : "", names[m], m);
	fprintf(fp, ")\nset xrange [-0.6:%zu.6]\n", ngroups - 1);
	fputs("plot ", fp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", \\\n     ''", fp);
		else
			gp_quote(fp, pf->dat[0]);
		if (err)
			fprintf(fp, " using %zu:%zu", 2 + 2 * i, 3 + 2 * i);
		else
			fprintf(fp, " using %zu", 2 + 2 * i);
		fprintf(fp, " lc rgb '%s' title ", colours[i % ARRAY_SIZE(colours)]);
		gp_quote(fp, pf->label[i]);
	}
	fputc('\n', fp);
}

static int write_script(const struct plot_files *pf, const struct tdp_plot_opts *o,
			const struct term *t, const struct tdp_report *reps, size_t n,
			const bool *skip)
{
	static const char *const default_titles[] = {
		[TDP_PLOT_SHADOW_PAGES] = "Live shadow pages during replay",
		[TDP_PLOT_EXITS] = "VM exits during replay",
		[TDP_PLOT_WALK_CDF] = "Guest page-walk latency",
		[TDP_PLOT_BARS] = "Key MMU counters",
		[TDP_PLOT_LATENCY] = "What a walk and a fault exit cost, per layout",
	};
	uint64_t max_x, max_y;
	FILE *fp;
	int ret = 0;

	timeline_max(reps, n, o->kind == TDP_PLOT_EXITS, &max_x, &max_y);
	fp = create(pf->gp, &ret);
	if (!fp)
		return ret;
	fputs("# generated by tdpsim plot\n", fp);
	fprintf(fp, "set terminal %s\n", t->setup);
	/*
	 * tdp_plot() passes the temporary name with -e; run by hand, a kept
	 * script draws straight to the figure's real name.
	 */
	fputs("if (!exists('outfile')) outfile = ", fp);
	gp_quote(fp, o->output);
	fputs("\nset output outfile\ntdp_title = ", fp);
	gp_quote(fp, o->title ? o->title : default_titles[o->kind]);
	fputs("\nset title tdp_title\nset border 3\nset tics nomirror out\n"
	      "set grid ytics lc rgb '#e0e0e0' lt 1\n"
	      "set key top left box lc rgb '#cccccc' opaque samplen 4\n"
	      "set datafile commentschars '#'\n", fp);

	switch (o->kind) {
	case TDP_PLOT_SHADOW_PAGES:
	case TDP_PLOT_EXITS:
		fputs("set xlabel 'events replayed'\n"
		      "set xrange [0:*]\nset yrange [0:*]\n"
		      "set key bottom right\n", fp);
		axis_format(fp, 'x', max_x);
		axis_format(fp, 'y', max_y);
		provenance(fp, reps, n, false);
		if (o->kind == TDP_PLOT_SHADOW_PAGES) {
			fputs("set ylabel 'live shadow pages'\n", fp);
			plot_lines(fp, pf, skip, n, "lines", NULL);
		} else {
			char keys[1024];

			fputs("set ylabel 'VM exits (cumulative)'\n", fp);
			exits_marks(fp, reps, n, max_x, keys, sizeof(keys));
			plot_lines(fp, pf, skip, n, "lines", keys);
		}
		break;
	case TDP_PLOT_WALK_CDF:
		/* decades only on a log axis: SI prefixes read cleanly (1k, 10k) */
		fputs("set logscale x 10\nset format x '%.0s%c'\nset rmargin 4\n"
		      "set xlabel 'walk latency (ns, log scale)'\n"
		      "set ylabel 'fraction of walks at or below'\n"
		      "set yrange [0:1.02]\nset ytics 0.2\n"
		      "set key bottom right\n"
		      "set grid xtics ytics lc rgb '#e0e0e0' lt 1\n", fp);
		provenance(fp, reps, n, true);
		plot_lines(fp, pf, skip, n, "lines", NULL);
		break;
	case TDP_PLOT_BARS: {
		const char *names[ARRAY_SIZE(bar_metrics)];

		fputs("set logscale y 10\nset yrange [1:*]\n"
		      "set format y '%.0s%c'\n"
		      "set ylabel 'count (log scale)'\n", fp);
		provenance(fp, reps, n, any_count_spread(reps, n));
		for (size_t m = 0; m < ARRAY_SIZE(bar_metrics); m++)
			names[m] = bar_metrics[m].name;
		histogram_plot(fp, pf, n, names, ARRAY_SIZE(bar_metrics),
			       any_count_spread(reps, n), "top right");
		break;
	}
	case TDP_PLOT_LATENCY: {
		const char *names[ARRAY_SIZE(lat_metrics)];
		size_t k = 0;

		fputs("set yrange [0:*]\n"
		      "set ylabel 'mean ns (timer cost subtracted)'\n", fp);
		provenance(fp, reps, n, true);
		for (size_t m = 0; m < ARRAY_SIZE(lat_metrics); m++)
			if (lat_shown(reps, n, m))
				names[k++] = lat_metrics[m].name;
		/* error bars may reach above the bars: the key goes below */
		histogram_plot(fp, pf, n, names, k, any_count_spread(reps, n),
			       "below horizontal");
		break;
	}
	}
	fputs("unset output\n", fp);
	return close_checked(fp, pf->gp);
}

/* ---- running gnuplot ----------------------------------------------------- */

/*
 * Run "@prog -e @preset @script" with stdin and stdout on /dev/null and stderr captured
 * into @errbuf.  A CLOEXEC pipe carries exec's errno back from the child,
 * so "not installed" is told apart from "ran and failed".
 */
static int run_gnuplot(const char *prog, const char *preset, const char *script,
		       char *errbuf, size_t errlen, int *status, int *exec_errno)
{
	int errpipe[2], execpipe[2];
	size_t got = 0;
	pid_t pid;
	ssize_t r;
	int ret = 0;

	*exec_errno = 0;
	errbuf[0] = '\0';
	if (pipe2(errpipe, O_CLOEXEC))
		return tdp_error(TDP_E_IO, "cannot create a pipe: %s", strerror(errno));
	if (pipe2(execpipe, O_CLOEXEC)) {
		ret = tdp_error(TDP_E_IO, "cannot create a pipe: %s", strerror(errno));
		goto out_close_errpipe;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = tdp_error(TDP_E_IO, "cannot fork: %s", strerror(errno));
		goto out_close_execpipe;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int e;

		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		dup2(errpipe[1], STDERR_FILENO);
		execlp(prog, prog, "-e", preset, script, (char *)NULL);
		e = errno;
		if (write(execpipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(errpipe[1]);
	close(execpipe[1]);
	errpipe[1] = execpipe[1] = -1;

	/* EOF here means exec succeeded (the pipe closed on exec) */
	do {
		r = read(execpipe[0], exec_errno, sizeof(*exec_errno));
	} while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(*exec_errno))
		*exec_errno = 0;

	/* keep the head of stderr, drain the rest so gnuplot never blocks */
	for (;;) {
		char sink[512];
		char *dst = got + 1 < errlen ? errbuf + got : sink;
		size_t room = got + 1 < errlen ? errlen - 1 - got : sizeof(sink);

		r = read(errpipe[0], dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			got += (size_t)r;
	}
	errbuf[got] = '\0';
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			ret = tdp_error(TDP_E_IO, "cannot wait for gnuplot: %s",
					strerror(errno));
			break;
		}
	}

out_close_execpipe:
	close(execpipe[0]);
	if (execpipe[1] >= 0)
		close(execpipe[1]);
out_close_errpipe:
	close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	return ret;
}

/* Print gnuplot's complaint, trimmed, under our own error line. */
static void show_gnuplot_stderr(char *msg)
{
	size_t len = strlen(msg);

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (len)
		fprintf(stderr, "%s\n", msg);
}

/* "outfile='...'" for gnuplot -e, quoted like everything in the script */
static int preset_output(char **out, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp)
		return TDP_E_NOMEM;
	fputs("outfile=", fp);
	gp_quote(fp, path);
	if (fclose(fp)) {
		free(buf);
		return TDP_E_NOMEM;
	}
	*out = buf;
	return 0;
}

static const struct term *term_for(const char *output)
{
	size_t len = strlen(output);

	for (size_t i = 0; i < ARRAY_SIZE(terms); i++) {
		size_t sl = strlen(terms[i].suffix);

		if (len > sl && !strcasecmp(output + len - sl, terms[i].suffix))
			return &terms[i];
	}
	return NULL;
}

int tdp_plot(const struct tdp_plot_opts *o, const struct tdp_report *reps, size_t n)
{
	const char *prog = o->gnuplot ? o->gnuplot : "gnuplot";
	const struct term *t = term_for(o->output);
	struct plot_files pf;
	char errbuf[2048];
	char *preset = NULL;
	bool *skip = NULL;
	size_t nplotted = 0;
	int status, exec_errno, ret;
	struct stat st;

	if (!t)
		return tdp_error(TDP_E_USAGE,
				 "cannot tell the figure format of '%s': use .png, .svg or .pdf",
				 o->output);
	if (!n)
		return tdp_error(TDP_E_USAGE, "no report to plot");
	if (o->nlabels && o->nlabels != n)
		return tdp_error(TDP_E_USAGE, "%zu labels given for %zu reports",
				 o->nlabels, n);

	ret = plot_files_init(&pf, o, t, reps, n);
	if (ret)
		goto out_release;
	skip = calloc(n, sizeof(*skip));
	if (!skip) {
		ret = TDP_E_NOMEM;
		goto out_release;
	}

	/* data first: the script leaves out reports with nothing to draw */
	for (size_t i = 0; i < n && o->kind != TDP_PLOT_BARS &&
			   o->kind != TDP_PLOT_LATENCY; i++) {
		const struct tdp_report *r = &reps[i];

		if (o->kind == TDP_PLOT_WALK_CDF) {
			skip[i] = !r->nhist;
			ret = write_cdf(pf.dat[i], r);
		} else {
			skip[i] = !r->ntl;
			ret = write_timeline(pf.dat[i], r, o->kind == TDP_PLOT_EXITS);
		}
		if (ret)
			goto out_release;
		if (skip[i])
			tdp_warn("'%s' has no %s data: left out of the figure",
				 r->path ? r->path : "?",
				 o->kind == TDP_PLOT_WALK_CDF ? "walk latency" : "timeline");
		else
			nplotted++;
	}
	if (o->kind == TDP_PLOT_BARS) {
		ret = write_bars(pf.dat[0], reps, n);
		if (ret)
			goto out_release;
		nplotted = n;
	}
	if (o->kind == TDP_PLOT_LATENCY) {
		size_t groups;

		ret = write_latency(pf.dat[0], reps, n, &groups);
		if (ret)
			goto out_release;
		if (!groups) {
			ret = tdp_error(TDP_E_USAGE, "nothing to plot: no report has "
					"timed walks or fault exits (replayed with -T?)");
			goto out_release;
		}
		nplotted = n;
	}
	if (!nplotted) {
		ret = tdp_error(TDP_E_USAGE, "nothing to plot: no report has %s data",
				o->kind == TDP_PLOT_WALK_CDF ? "walk latency" : "timeline");
		goto out_release;
	}
	ret = write_script(&pf, o, t, reps, n, skip);
	if (ret)
		goto out_release;

	ret = preset_output(&preset, pf.tmp_fig);
	if (ret)
		goto out_release;
	ret = run_gnuplot(prog, preset, pf.gp, errbuf, sizeof(errbuf), &status,
			  &exec_errno);
	if (ret)
		goto out_release;
	if (exec_errno == ENOENT) {
		ret = tdp_error(TDP_E_GNUPLOT, "gnuplot not found: install gnuplot-nox");
		goto out_release;
	}
	if (exec_errno) {
		ret = tdp_error(TDP_E_GNUPLOT, "cannot run '%s': %s", prog,
				strerror(exec_errno));
		goto out_release;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFEXITED(status))
			tdp_error(TDP_E_GNUPLOT, "gnuplot failed on '%s' (exit status %d)%s",
				  pf.gp, WEXITSTATUS(status),
				  o->keep_script ? "" : "; --keep-script keeps it");
		else
			tdp_error(TDP_E_GNUPLOT, "gnuplot failed on '%s' (signal %d)",
				  pf.gp, WTERMSIG(status));
		show_gnuplot_stderr(errbuf);
		ret = TDP_E_GNUPLOT;
		goto out_release;
	}
	if (pf.direct) {
		ret = 0;
		goto out_release;
	}
	if (stat(pf.tmp_fig, &st) || !st.st_size) {
		ret = tdp_error(TDP_E_GNUPLOT, "gnuplot wrote no figure from '%s'", pf.gp);
		show_gnuplot_stderr(errbuf);
		goto out_release;
	}
	if (rename(pf.tmp_fig, pf.target)) {
		ret = tdp_error(TDP_E_IO, "cannot rename '%s' to '%s': %s", pf.tmp_fig,
				pf.target, strerror(errno));
		goto out_release;
	}
	tdp_tmp_forget(pf.tmp_fig);
	free(pf.tmp_fig);
	pf.tmp_fig = NULL;	/* renamed: nothing to unlink */
	ret = 0;

out_release:
	free(preset);
	free(skip);
	plot_files_release(&pf, !o->keep_script);
	return ret;
}
