// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memos of the CPU model's translations (include/tdpsim/hw_memo.h: whole
 * walks; struct hw_s2_memo in include/tdpsim/hw.h: stage-2 walks) exist for
 * speed only.  Each keeps a translation while nothing it depends on can have
 * changed, so a replay must give the same outcome log and the same counters
 * with them as walking every time (tdp_engine_opts.no_memo, replay
 * --no-memo): the reference here is the plain walk, not a recorded output.
 *
 * The traces cover what invalidates them: every scenario (shadow, TDP,
 * nested EPT/NPT with EPT A/D on and off, PAE, MMIO, L1 stores to shadowed
 * EPT tables, INVLPG, flushes, CR loads, #GP), the shipped traces, and
 * generated TDP, nested and HVCI workloads of both vendors, in which L2
 * keeps storing to its own page tables between exits.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/util.h>

#include "helpers/run.h"

/* The counters (struct tdp_stats up to the timing histograms). */
#define COUNTERS_SIZE	offsetof(struct tdp_stats, walk_kind_ticks)

static void same_with_and_without_memo(const char *trace, const char *layout)
{
	static struct tdp_replay_result res[2];
	char err[2][TDP_ERRBUF_SIZE];
	const char *logs[2] = { test_path("memo.log"), test_path("nomemo.log") };
	int ret[2];

	for (int i = 0; i < 2; i++) {
		struct tdp_replay_opts opts = {
			.layout = layout,
			.log_path = logs[i],
			.engine = { .no_memo = i == 1 },
			.interval = 1000,
		};

		remove(logs[i]);
		memset(&res[i], 0, sizeof(res[i]));
		err[i][0] = 0;
		ret[i] = tdp_replay_run(trace, &opts, NULL, &res[i], err[i], sizeof(err[i]));
	}
	cr_expect_eq(ret[0], ret[1], "%s -L %s: exit %d with the memo, %d without (%s | %s)",
		     trace, layout, ret[0], ret[1], err[0], err[1]);
	cr_expect_str_eq(err[0], err[1], "%s -L %s: errors differ", trace, layout);
	if (ret[0] || ret[1])
		return;
	cr_expect(files_equal(logs[0], logs[1]), "%s -L %s: outcome logs differ", trace,
		  layout);
	cr_expect(!memcmp(&res[0].stats, &res[1].stats, COUNTERS_SIZE),
		  "%s -L %s: counters differ", trace, layout);
	cr_expect_eq(res[0].stats.walks, res[1].stats.walks);
}

static void both_layouts(const char *trace)
{
	same_with_and_without_memo(trace, "new");
	same_with_and_without_memo(trace, "old");
}

Test(replay_memo, scenarios_same_without_memo, .timeout = 300)
{
	DIR *d = opendir(src_path("tests/scenarios"));
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[512];

		if (len < 5 || strcmp(de->d_name + len - 4, ".txt"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", src_path("tests/scenarios"), de->d_name);
		both_layouts(path);
		n++;
	}
	closedir(d);
	cr_expect_gt(n, 30, "only %d scenarios found", n);
}

Test(replay_memo, shipped_traces_same_without_memo, .timeout = 300)
{
	static const char *const traces[] = {
		"traces/hello-shadow.zst", "traces/linux-small.zst", "traces/pae.zst",
		"traces/smep-toggle.zst", "traces/nested-intel.zst", "traces/nested-amd.zst",
		"traces/hvci-intel.zst", "traces/hvci-amd.zst",
	};

	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++)
		both_layouts(src_path(traces[i]));
}

/* tdpsim gen into the scratch directory */
static const char *gen(const char *name, const char *const *args)
{
	const char *out = test_path(name);
	const char *argv[16] = { "gen", "--events", "20000", "-o", out };
	struct run_result r;
	int n = 5;

	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "gen %s: %s", name, r.err);
	run_result_free(&r);
	return out;
}

Test(replay_memo, generated_tdp_and_nested_same_without_memo, .timeout = 300)
{
	/* name, then gen's arguments; MBEC/GMET: the old layout refuses alike */
	static const char *const w[][8] = {
		{ "linux-tdp-intel.zst", "-w", "linux", "--paging", "tdp", NULL },
		{ "linux-tdp-amd.zst", "-w", "linux", "--paging", "tdp", "--vendor", "amd", NULL },
		{ "db-tdp.zst", "-w", "db", "--paging", "tdp", NULL },
		{ "smp-tdp.zst", "-w", "linux-smp", "--paging", "tdp", NULL },
		{ "nested-intel.zst", "-w", "nested", NULL },
		{ "nested-amd.zst", "-w", "nested", "--vendor", "amd", NULL },
		{ "hvci-intel.zst", "-w", "hvci", NULL },
		{ "hvci-amd.zst", "-w", "hvci", "--vendor", "amd", NULL },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		both_layouts(gen(w[i][0], &w[i][1]));
}
