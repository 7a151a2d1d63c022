/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Figures from replay reports, drawn by gnuplot.
 *
 * tdp_plot() writes a gnuplot script FILE.gp and its data (FILE.dat, or
 * FILE-1.dat, FILE-2.dat, ... with one file per report) next to the figure
 * FILE.png/.svg/.pdf, runs 'gnuplot FILE.gp' (fork/exec, stderr captured),
 * and renames the figure into place only when gnuplot succeeded.  The
 * script and data are removed afterwards unless ->keep_script.
 */
#ifndef TDPSIM_PLOT_H
#define TDPSIM_PLOT_H

#include <stdbool.h>
#include <stddef.h>

struct tdp_report;

enum tdp_plot_kind {
	TDP_PLOT_SHADOW_PAGES,	/* live shadow pages over events (timeline) */
	TDP_PLOT_EXITS,		/* cumulative exits over events, with marks */
	TDP_PLOT_WALK_CDF,	/* CDF of walk latency (walks.hist), log x */
	TDP_PLOT_BARS,		/* key counters, one bar per report */
	TDP_PLOT_LATENCY,	/* mean ns per walker and fault path, error bars */
};

struct tdp_plot_opts {
	enum tdp_plot_kind kind;
	const char *output;		/* FILE.png, FILE.svg or FILE.pdf */
	const char *title;		/* NULL: a default per kind */
	const char *const *labels;	/* legend labels, NULL: layout + basename */
	size_t nlabels;			/* 0, or exactly the number of reports */
	bool keep_script;
	const char *gnuplot;		/* NULL: "gnuplot" looked up in $PATH */
};

/* tdp_plot_kind_parse() - "shadow-pages" etc.; TDP_E_USAGE if unknown. */
int tdp_plot_kind_parse(const char *name, enum tdp_plot_kind *kind);
/* Comma-separated list of the kind names, for help and errors. */
extern const char tdp_plot_kind_names[];

/*
 * tdp_plot() - draw @n reports.  Errors are printed; returns TDP_E_USAGE
 * (bad output name, label count, nothing to plot), TDP_E_IO, TDP_E_NOMEM or
 * TDP_E_GNUPLOT (gnuplot missing or failing).  Nothing is left at
 * ->output on failure.
 */
int tdp_plot(const struct tdp_plot_opts *o, const struct tdp_report *reps, size_t n);

#endif /* TDPSIM_PLOT_H */
