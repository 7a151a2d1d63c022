// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim import: a trace-cmd recording of KVM's tracepoints -> a tdpsim
 * trace, plus KVM's own counts as expectations (docs/IMPORT.md).  The work
 * is in src/trace/import*.c; this file parses options and reports.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/import.h>
#include <tdpsim/util.h>

#include "cmd.h"

static int parse_mem(const char *s, uint64_t *mem)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0), mult = 1;

	if (end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		mult = 1ull << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ull << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ull << 30;
	else if (*end)
		return -1;
	if (*end && end[1])
		return -1;
	if (!v || v > (1ull << 52) / mult || (v * mult) % 4096)
		return -1;
	*mem = v * mult;
	return 0;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "expect", required_argument, NULL, 'e' },
		{ "vendor", required_argument, NULL, 'V' },
		{ "paging", required_argument, NULL, 'P' },
		{ "mem", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct tdp_import_opts o = { .from = TDP_IMPORT_DAT, .vendor = -1, .paging = -1 };
	struct tdp_import_summary *sum = NULL;
	struct tdp_outfile ef = { 0 };
	const char *expect_path = NULL, *in, *out;
	char errbuf[TDP_ERRBUF_SIZE];
	bool have_form = false, quiet = false;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":F:e:m:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (!strcmp(optarg, "dat"))
				o.from = TDP_IMPORT_DAT;
			else if (!strcmp(optarg, "report"))
				o.from = TDP_IMPORT_REPORT;
			else
				return cmd_usage_error("import", "unknown --from '%s' (dat or report)",
						       optarg);
			break;
		case 'e':
			expect_path = optarg;
			break;
		case 'V':
			if (!strcmp(optarg, "intel"))
				o.vendor = TDP_VENDOR_INTEL;
			else if (!strcmp(optarg, "amd"))
				o.vendor = TDP_VENDOR_AMD;
			else
				return cmd_usage_error("import", "unknown vendor '%s'", optarg);
			break;
		case 'P':
			if (!strcmp(optarg, "shadow"))
				o.paging = TDP_PAGING_SHADOW;
			else if (!strcmp(optarg, "tdp"))
				o.paging = TDP_PAGING_TDP;
			else if (!strcmp(optarg, "nested"))
				o.paging = TDP_PAGING_NESTED;
			else
				return cmd_usage_error("import", "unknown paging '%s'", optarg);
			break;
		case 'm':
			if (parse_mem(optarg, &o.mem))
				return cmd_usage_error("import", "invalid --mem '%s' (a multiple of "
						       "4K, e.g. 512M)", optarg);
			break;
		case 'f':
			if (!strcmp(optarg, "text") || !strcmp(optarg, "txt"))
				o.form = TDP_FORM_TEXT;
			else if (!strcmp(optarg, "pcap"))
				o.form = TDP_FORM_PCAP;
			else if (!strcmp(optarg, "zst"))
				o.form = TDP_FORM_ZST;
			else
				return cmd_usage_error("import", "unknown format '%s'", optarg);
			have_form = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			cmd_usage("import", stdout);
			return 0;
		case ':':
			return cmd_usage_error("import", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("import", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error("import", "expected RECORDING and OUT");
	in = argv[optind];
	out = argv[optind + 1];
	if (!strcmp(in, "-") && o.from != TDP_IMPORT_REPORT)
		return cmd_usage_error("import", "stdin ('-') is read as report text: add "
				       "--from report");
	if (!have_form)
		o.form = tdp_form_from_name(out);

	sum = calloc(1, sizeof(*sum));
	if (!sum)
		return tdp_error(EXIT_USAGE, "out of memory");
	/* open the expectations first: a bad path fails before any work */
	if (expect_path && tdp_outfile_open(&ef, expect_path, "w")) {
		ret = EXIT_USAGE;
		goto out_free;
	}
	ret = tdp_import(in, out, &o, sum, errbuf);
	if (ret) {
		tdp_error(ret, "%s", errbuf);
		ret = EXIT_USAGE;
		goto out_abort;
	}
	if (expect_path) {
		if (tdp_expect_write_json(ef.fp, in, &sum->expect)) {
			ret = tdp_error(EXIT_USAGE, "cannot write '%s'", expect_path);
			goto out_abort;
		}
		if (tdp_outfile_commit(&ef)) {
			ret = EXIT_USAGE;
			goto out_free;
		}
	}
	if (!quiet)
		fprintf(stderr, "import: %llu records -> %llu events (%llu page-table entries, "
			"%llu rewritten, %llu accesses; %llu records skipped: see "
			"'tdpsim info %s')\n",
			(unsigned long long)sum->records, (unsigned long long)sum->events,
			(unsigned long long)sum->pte_writes, (unsigned long long)sum->pte_rewrites,
			(unsigned long long)sum->accesses, (unsigned long long)sum->skipped, out);
	ret = 0;
	goto out_free;
out_abort:
	if (expect_path)
		tdp_outfile_abort(&ef);
out_free:
	free(sum);
	return ret;
}
