// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim gen: write a synthetic workload's trace.  The trace writer makes
 * the output atomic (temporary + rename), so a failed or rejected run
 * leaves no file behind.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/gen.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

/* "256M", "1G", "0x4000000": a number with an optional K/M/G suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	char buf[32];
	size_t len = strlen(s);
	unsigned int shift = 0;
	uint64_t v;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	switch (buf[len - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift) {
		/* a hex number may end in a digit that looks like no suffix */
		if (len < 2)
			return -1;
		buf[len - 1] = '\0';
	}
	if (tdp_parse_u64(buf, &v) || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static void list_workloads(FILE *fp)
{
	size_t n;
	const struct tdp_gen_workload *wl = tdp_gen_workloads(&n);

	fputs("workloads:\n", fp);
	for (size_t i = 0; i < n; i++) {
		char line[512];

		snprintf(line, sizeof(line), "  %-16s %s", wl[i].name, wl[i].summary);
		tdp_fputs_wrapped(fp, line, 19);
	}
}

int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'n' },
		{ "vendor", required_argument, NULL, 'V' },
		{ "paging", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_gen_workload *wl = NULL;
	const char *out_path = NULL;
	struct tdp_gen_opts go;
	struct tdp_gen_stats st;
	tdp_writer_t *w = NULL;
	bool paging_given = false;
	int c, ret;

	tdp_gen_opts_init(&go);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:s:n:m:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			wl = tdp_gen_find(optarg);
			if (!wl) {
				cmd_usage_error("gen", "unknown workload '%s'", optarg);
				list_workloads(stderr);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (tdp_parse_u64(optarg, &go.seed))
				return cmd_usage_error("gen", "seed '%s' is not a number", optarg);
			break;
		case 'n':
			if (tdp_parse_u64(optarg, &go.events) ||
			    go.events < TDP_GEN_EVENTS_MIN || go.events > TDP_GEN_EVENTS_MAX)
				return cmd_usage_error("gen", "events '%s' is not %llu..%llu",
						       optarg, TDP_GEN_EVENTS_MIN,
						       TDP_GEN_EVENTS_MAX);
			break;
		case 'V':
			if (!strcmp(optarg, "intel"))
				go.vendor = TDP_VENDOR_INTEL;
			else if (!strcmp(optarg, "amd"))
				go.vendor = TDP_VENDOR_AMD;
			else
				return cmd_usage_error("gen", "unknown vendor '%s'", optarg);
			break;
		case 'p':
			if (!strcmp(optarg, "shadow"))
				go.paging = TDP_PAGING_SHADOW;
			else if (!strcmp(optarg, "tdp"))
				go.paging = TDP_PAGING_TDP;
			else if (!strcmp(optarg, "nested"))
				go.paging = TDP_PAGING_NESTED;
			else
				return cmd_usage_error("gen", "unknown paging '%s'", optarg);
			paging_given = true;
			break;
		case 'm':
			if (parse_size(optarg, &go.mem) || go.mem < TDP_GEN_MEM_MIN ||
			    go.mem > TDP_GEN_MEM_MAX || go.mem % (2u << 20))
				return cmd_usage_error("gen", "mem '%s' is not a multiple of "
						       "2M in 64M..16G", optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'L':
			list_workloads(stdout);
			return 0;
		case 'h':
			cmd_usage("gen", stdout);
			return 0;
		case ':':
			return cmd_usage_error("gen", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("gen", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("gen", "unexpected argument '%s'", argv[optind]);
	if (!wl)
		return cmd_usage_error("gen", "missing --workload");
	/* a nested workload's L1 picks its paging; the others run unnested */
	if (paging_given && wl->nested && go.paging != TDP_PAGING_NESTED)
		return cmd_usage_error("gen", "workload '%s' runs an L1 hypervisor: paging is "
				       "nested", wl->name);
	if (!wl->nested && go.paging == TDP_PAGING_NESTED)
		return cmd_usage_error("gen", "workload '%s' is not nested: paging is shadow "
				       "or tdp", wl->name);
	if (!out_path)
		return cmd_usage_error("gen", "missing -o OUT");

	ret = tdp_writer_open(&w, out_path, tdp_form_from_name(out_path), 0,
			      NULL, errbuf);
	if (ret) {
		tdp_error(ret, "%s", errbuf);
		return EXIT_USAGE;
	}
	ret = tdp_gen_run(wl, w, &go, &st, errbuf);
	if (ret) {
		tdp_error(ret, "workload '%s': %s", wl->name, errbuf);
		goto out_free_writer;
	}
	ret = tdp_writer_close(w);
	if (ret) {
		tdp_error(ret, "%s", tdp_writer_errmsg(w));
		goto out_free_writer;
	}
	/* the guest's own expectations: what a correct replay must report */
	fprintf(stderr, "tdpsim gen: %s seed %" PRIu64 ": %" PRIu64 " events, %" PRIu64
		" accesses, expected #PF: %" PRIu64 " demand, %" PRIu64 " cow, %" PRIu64
		" smap; %" PRIu64 " forks, %" PRIu64 " exits, %" PRIu64 " cr3 loads, %"
		PRIu64 " cr4 flips, %" PRIu64 " page-table pages reused\n",
		wl->name, go.seed, st.events, st.accesses, st.pf_demand, st.pf_cow,
		st.pf_smap, st.forks, st.exits, st.cr3_loads, st.cr4_flips,
		st.pt_pages_reused);
	if (wl->nested)
		fprintf(stderr, "tdpsim gen: nested: %" PRIu64 " vmenters, %" PRIu64
			" vmexits, %" PRIu64 " invept, %" PRIu64 " L2 accesses, %" PRIu64
			" L2 #PF, %" PRIu64 " exits reflected to L1 (exec: %" PRIu64 " user, %"
			PRIu64 " supervisor), %" PRIu64 " W^X flips\n",
			st.vmenters, st.vmexits, st.invept_single + st.invept_global,
			st.l2_accesses, st.l2_pf, st.reflected, st.reflected_exec_user,
			st.reflected_exec_supervisor, st.wx_flips);
out_free_writer:
	tdp_writer_free(w);
	return ret < 0 ? cmd_exit_status(ret) : ret ? EXIT_USAGE : 0;
}
