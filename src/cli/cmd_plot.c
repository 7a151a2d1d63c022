// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim plot REPORT.json... -o FILE.(png|svg|pdf) [--kind KIND]
 *	       [--keep-script] [--title T] [--label L]...
 *
 * Loads every report first (a comparison file contributes each of its
 * reports), so a bad input fails before anything is written.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/plot.h>
#include <tdpsim/report.h>
#include <tdpsim/util.h>

#include "cmd.h"

enum { OPT_KEEP_SCRIPT = 256 };

static const struct option plot_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "kind", required_argument, NULL, 'k' },
	{ "title", required_argument, NULL, 't' },
	{ "label", required_argument, NULL, 'l' },
	{ "keep-script", no_argument, NULL, OPT_KEEP_SCRIPT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_plot(int argc, char **argv)
{
	struct tdp_plot_opts o = { .kind = TDP_PLOT_SHADOW_PAGES };
	struct tdp_report *all = NULL;
	const char **labels = NULL;
	size_t nall = 0, nlabels = 0;
	int c, ret;

	labels = calloc((size_t)argc, sizeof(*labels));
	if (!labels) {
		tdp_error(TDP_E_NOMEM, "out of memory");
		return EXIT_USAGE;
	}
	while ((c = getopt_long(argc, argv, "o:k:t:l:h", plot_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'k':
			if (tdp_plot_kind_parse(optarg, &o.kind)) {
				ret = cmd_usage_error("plot", "unknown kind '%s' (one of %s)",
						      optarg, tdp_plot_kind_names);
				goto out_free_labels;
			}
			break;
		case 't':
			o.title = optarg;
			break;
		case 'l':
			labels[nlabels++] = optarg;
			break;
		case OPT_KEEP_SCRIPT:
			o.keep_script = true;
			break;
		case 'h':
			cmd_usage("plot", stdout);
			ret = 0;
			goto out_free_labels;
		default:
			ret = cmd_usage_error("plot", "invalid option");
			goto out_free_labels;
		}
	}
	if (optind >= argc) {
		ret = cmd_usage_error("plot", "no report given");
		goto out_free_labels;
	}
	if (!o.output) {
		ret = cmd_usage_error("plot", "no output given (-o FILE.png|svg|pdf)");
		goto out_free_labels;
	}

	{
		const char *outs[] = { o.output };

		if (tdp_check_same_files((const char *const *)argv + optind, argc - optind,
					 outs, 1)) {
			ret = EXIT_USAGE;
			goto out_free_labels;
		}
	}
	for (int i = optind; i < argc; i++) {
		struct tdp_report *reps, *grown;
		size_t n;

		if (tdp_report_load(argv[i], &reps, &n)) {
			ret = EXIT_USAGE;
			goto out_free_reports;
		}
		grown = realloc(all, (nall + n) * sizeof(*all));
		if (!grown) {
			tdp_report_free_array(reps, n);
			tdp_error(TDP_E_NOMEM, "out of memory");
			ret = EXIT_USAGE;
			goto out_free_reports;
		}
		all = grown;
		memcpy(all + nall, reps, n * sizeof(*reps));
		nall += n;
		free(reps);	/* the elements moved into all[] */
	}
	if (nlabels && nlabels != nall) {
		ret = cmd_usage_error("plot", "%zu --label given for %zu reports",
				      nlabels, nall);
		goto out_free_reports;
	}
	o.labels = labels;
	o.nlabels = nlabels;
	ret = tdp_plot(&o, all, nall) ? EXIT_USAGE : 0;

out_free_reports:
	tdp_report_free_array(all, nall);
out_free_labels:
	free(labels);
	return ret;
}
