// SPDX-License-Identifier: GPL-2.0-only
/* tdpsim replay: run a trace through one build of the MMU port. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/import.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "layout", required_argument, NULL, 'L' },
		{ "log", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "max-mmu-pages", required_argument, NULL, 'm' },
		{ "interval", required_argument, NULL, 'i' },
		{ "no-timing", no_argument, NULL, 'T' },
		{ "check", optional_argument, NULL, 'c' },
		{ "tlb", no_argument, NULL, 't' },
		{ "no-memo", no_argument, NULL, 'M' },
		{ "no-read-ahead", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "expect", required_argument, NULL, 'e' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct tdp_replay_opts opts = {
		.layout = "new",
		.engine = { .timing = true },
		.interval = 1000,
		.progress = tdp_progress_enabled(),
	};
	const char *json_path = NULL, *expect_path = NULL;
	struct tdp_expect expect;
	char expect_src[256];
	struct tdp_replay_result *res = NULL;
	struct tdp_outfile jf = { 0 };
	struct tdp_config cfg;
	char errbuf[TDP_ERRBUF_SIZE];
	bool quiet = false;
	uint64_t v;
	int c, ret;

	while ((c = getopt_long(argc, argv, "L:l:j:m:i:Tctqe:", longopts, NULL)) != -1) {
		switch (c) {
		case 'L':
			if (!tdp_engine_ops_find(optarg))
				return cmd_usage_error("replay", "unknown layout '%s' (use old or new)",
						       optarg);
			opts.layout = optarg;
			break;
		case 'l':
			opts.log_path = optarg;
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'm':
			/*
			 * KVM_SET_NR_MMU_PAGES refuses fewer than
			 * KVM_MIN_ALLOC_MMU_PAGES; refusing here beats a
			 * replay that fails on its first fault.
			 */
			if (tdp_parse_u64(optarg, &v) || v < TDP_MIN_ALLOC_MMU_PAGES ||
			    v > TDP_MAX_MMU_PAGES)
				return cmd_usage_error("replay",
						       "invalid --max-mmu-pages '%s': KVM takes %u..%u "
						       "(KVM_MIN_ALLOC_MMU_PAGES is %u)", optarg,
						       TDP_MIN_ALLOC_MMU_PAGES, TDP_MAX_MMU_PAGES,
						       TDP_MIN_ALLOC_MMU_PAGES);
			opts.engine.max_mmu_pages = v;
			break;
		case 'i':
			if (tdp_parse_u64(optarg, &v) || v == 0 || v > (1ull << 40))
				return cmd_usage_error("replay", "invalid --interval '%s'", optarg);
			opts.interval = v;
			break;
		case 'T':
			opts.engine.timing = false;
			break;
		case 'c':
			opts.engine.check = true;
			if (optarg && (tdp_parse_u64(optarg, &v) || v == 0))
				return cmd_usage_error("replay",
						       "invalid --check '%s' (a period of 1 or more events)",
						       optarg);
			opts.engine.check_every = optarg ? v : 0;
			break;
		case 't':
			opts.engine.tlb = true;
			break;
		case 'M':
			opts.engine.no_memo = true;
			break;
		case 'R':
			opts.no_read_ahead = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'e':
			expect_path = optarg;
			break;
		case 'P':
			opts.progress = true;
			break;
		case 'N':
			opts.progress = false;
			break;
		default:
			return cmd_usage_error("replay", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("replay", optind == argc ? "missing TRACE" :
				       "too many arguments");
	/* KVM's recorded counts (tdpsim import --expect): a bad file fails first */
	if (expect_path) {
		ret = tdp_expect_read(expect_path, &expect, expect_src, sizeof(expect_src), errbuf);
		if (ret)
			return tdp_error(EXIT_USAGE, "%s", errbuf);
	}
	{
		const char *in[] = { argv[optind] }, *out[] = { opts.log_path, json_path };

		if (tdp_check_same_files(in, 1, out, 2))
			return EXIT_USAGE;
	}
	res = malloc(sizeof(*res));
	if (!res)
		return tdp_error(EXIT_INTERNAL, "out of memory");
	ret = tdp_replay_run(argv[optind], &opts, &cfg, res, errbuf, sizeof(errbuf));
	if (ret) {
		if (errbuf[0])
			tdp_error(ret, "%s", errbuf);
		ret = cmd_exit_status(ret);
		goto out_free;
	}
	if (json_path) {
		ret = tdp_outfile_open(&jf, json_path, "w");
		if (ret) {
			ret = EXIT_USAGE;
			goto out_free;
		}
		if (tdp_report_write_json(jf.fp, argv[optind], &cfg, opts.layout, res)) {
			tdp_outfile_abort(&jf);
			ret = tdp_error(EXIT_USAGE, "cannot write '%s'", json_path);
			goto out_free;
		}
		if (tdp_outfile_commit(&jf)) {
			ret = EXIT_USAGE;
			goto out_free;
		}
	}
	if (!quiet)
		tdp_report_print_text(stdout, argv[optind], &cfg, opts.layout, res);
	if (expect_path)
		tdp_expect_print(stdout, expect_src, &expect, &res->stats);
	ret = 0;
out_free:
	free(res);
	return ret;
}
