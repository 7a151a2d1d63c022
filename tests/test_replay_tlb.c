// SPDX-License-Identifier: GPL-2.0-only
/*
 * The optional TLB model (replay --tlb).  A guest that invalidates
 * correctly must see the same architecture with and without a TLB: if
 * KVM (the port) forgot a flush after changing an SPTE, the modelled TLB
 * would keep serving the stale translation and the logs would differ.
 * The TLB must also actually serve accesses (hits counted), and be
 * flushed by MOV CR3 and INVLPG (the hand-built trace below).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/run.h"

/* outcome log without comment lines */
static char *log_body(const char *path)
{
	char *s = read_file(path, NULL), *out, *o;

	cr_assert(s, "cannot read %s", path);
	out = o = calloc(1, strlen(s) + 1);
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		o += sprintf(o, "%s\n", line);
	}
	free(s);
	return out;
}

static long tlb_hits(const char *report)
{
	const char *p = strstr(report, "accesses hitting the modelled TLB");

	return p ? strtol(p + strlen("accesses hitting the modelled TLB"), NULL, 10) : 0;
}

/*
 * @check: also run the invariant checker after every event (costly under
 * ASan on long traces; the shipped traces are checked by other suites).
 */
static void same_with_and_without(const char *trace, bool expect_hits, bool check)
{
	const char *a = test_path("notlb.log"), *b = test_path("tlb.log");
	const char *c = check ? "--check" : "--no-timing";
	const char *args_a[] = { "replay", "-q", c, "--log", a, trace, NULL };
	const char *args_b[] = { "replay", "--tlb", c, "--log", b, trace, NULL };
	struct run_result r;
	char *la, *lb;

	cr_assert_eq(run_tdpsim(&r, args_a), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, args_b), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	if (expect_hits)
		cr_expect_gt(tlb_hits(r.out), 0, "no TLB hits:\n%s", r.out);
	run_result_free(&r);
	la = log_body(a);
	lb = log_body(b);
	cr_expect_str_eq(la, lb, "%s: outcomes differ with --tlb", trace);
	free(la);
	free(lb);
}

Test(replay_tlb, shipped_traces_same_outcomes)
{
	same_with_and_without(src_path("traces/smep-toggle.zst"), true, false);
	same_with_and_without(src_path("traces/pae.zst"), true, false);
	same_with_and_without(src_path("traces/hello-shadow.zst"), false, true);
}

Test(replay_tlb, scenarios_same_outcomes)
{
	static const char *const names[] = {
		"first-touch", "wp-upper", "unsync-invlpg", "cr3-switch", "flood",
		"evict", "pae", "32bit", "wp0-smep", "smep-smap", "nx-rsvd",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "tests/scenarios/%s.txt", names[i]);
		same_with_and_without(src_path(rel), false, true);
	}
}

/*
 * Two gvas, two data pages.  The second access to 0x400000 must come from
 * the TLB (1 hit); after MOV CR3 to the same tables nothing may be served
 * from the TLB until it is filled again (hits stay 1 + 1); INVLPG of
 * 0x400000 drops only that entry, so 0x401000 still hits.
 */
Test(replay_tlb, flushed_by_cr3_and_invlpg)
{
	const char *trace = test_path("tlb.txt");
	static const char text[] =
		"tdpsim-trace 1\n"
		"config vendor=intel paging=shadow mem=0x1000000\n"
		"write gpa=0x1000 val=0x2007\n"
		"write gpa=0x2000 val=0x3007\n"
		"write gpa=0x3010 val=0x4007\n"
		"write gpa=0x4000 val=0x5067\n"
		"write gpa=0x4008 val=0x6067\n"
		"set cr0=0x80010001 cr3=0x1000 cr4=0x20 efer=0xd00 cpl=3\n"
		"access gva=0x400000 op=r\n"		/* miss: walk, fill */
		"access gva=0x400008 op=r\n"		/* hit 1 */
		"access gva=0x401000 op=r\n"		/* miss: fill */
		"set cr3=0x1000\n"			/* flush all */
		"access gva=0x400000 op=r\n"		/* miss */
		"access gva=0x401000 op=r\n"		/* miss */
		"invlpg gva=0x400000\n"			/* drop one */
		"access gva=0x401000 op=r\n"		/* hit 2 */
		"access gva=0x400000 op=r\n";		/* miss */
	const char *args[] = { "replay", "--tlb", "--check", trace, NULL };
	struct run_result r;

	cr_assert_eq(write_file(trace, text, sizeof(text) - 1), 0);
	cr_assert_eq(run_tdpsim(&r, args), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(tlb_hits(r.out), 2, "%s", r.out);
	run_result_free(&r);
}
