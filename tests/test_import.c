// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim import on the trace-cmd fixtures (tests/data/tracecmd/, made by
 * tools/mk-tracecmd-fixtures.sh from a real kernel's kvm/kvmmmu formats).
 *
 * The outcomes a replay must show are derived here independently of the
 * importer: from the `trace-cmd report` text trace-cmd printed for the same
 * file, each kvm_mmu_pagetable_walk's last paging element gives the GPA
 * (its frame plus the address's offset within the page it maps), and a
 * kvm_mmu_walker_error gives the #PF error code.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>

#include "helpers/run.h"

#define D "tests/data/tracecmd/"

static int run7(struct run_result *r, const char *a0, const char *a1, const char *a2,
		const char *a3, const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = { a0, a1, a2, a3, a4, a5, a6, NULL };

	return run_tdpsim(r, argv);
}

static int run(struct run_result *r, const char *a0, const char *a1, const char *a2,
	       const char *a3, const char *a4, const char *a5)
{
	const char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };

	return run_tdpsim(r, argv);
}

static void import_ok(const char *from, const char *in, const char *out)
{
	struct run_result r;

	if (from)
		run7(&r, "import", "-q", "--from", from, in, out, NULL);
	else
		run(&r, "import", "-q", in, out, NULL, NULL);
	cr_assert_eq(r.status, 0, "import %s: exit %d: %s", in, r.status, r.err);
	run_result_free(&r);
}

/*
 * The outcome lines a replay must log for the walks in a report text,
 * one "ok gpa=0x..." or "pf ec=0x..." per walk, in order, joined by '\n'.
 */
static char *implied_outcomes(const char *report)
{
	size_t len;
	char *text = read_file(src_path(report), &len), *line, *save = NULL;
	char *out = calloc(1, len + 1);
	unsigned long long addr = 0, pte = 0, ec;
	unsigned int level = 0;
	bool in_walk = false;

	cr_assert_not_null(text);
	cr_assert_not_null(out);
	for (line = strtok_r(text, "\n", &save); ; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line ? strstr(line, ": kvm_") : NULL;
		bool walk = p && sscanf(p, ": kvm_mmu_pagetable_walk: addr %llx", &addr) == 1;
		bool elem = p && strstr(p, "kvm_mmu_paging_element");
		bool err = p && sscanf(p, ": kvm_mmu_walker_error: pferr %llx", &ec) == 1;

		if (in_walk && !elem) {
			char buf[64];

			if (err) {
				snprintf(buf, sizeof(buf), "pf ec=0x%llx\n", ec);
			} else {
				/* a leaf above level 1 (PS) maps 2 MiB / 1 GiB */
				unsigned long long size = 1ull << (12 + 9 * (level - 1));

				snprintf(buf, sizeof(buf), "ok gpa=0x%llx\n",
					 (pte & 0x000ffffffffff000ull & ~(size - 1)) |
					 (addr & (size - 1)));
			}
			strcat(out, buf);
			in_walk = false;
		}
		if (!line)
			break;
		if (walk)
			in_walk = true;
		if (elem && in_walk)
			cr_assert_eq(sscanf(strstr(p, "pte"), "pte %llx level %u", &pte, &level), 2);
	}
	free(text);
	return out;
}

/* The access outcomes of a replay log ("N ok gpa=..." / "N pf ec=..."), N dropped. */
static char *replay_outcomes(const char *trace)
{
	const char *log = test_path("outcome.log");
	struct run_result r;
	char *text, *line, *save = NULL, *out;
	size_t len;

	run(&r, "replay", "-q", "--log", log, trace, NULL);
	cr_assert_eq(r.status, 0, "replay %s: %s", trace, r.err);
	run_result_free(&r);
	text = read_file(log, &len);
	cr_assert_not_null(text);
	out = calloc(1, len + 1);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strchr(line, ' ');

		if (*line == '#' || !sp || (strncmp(sp + 1, "ok ", 3) && strncmp(sp + 1, "pf ", 3)))
			continue;
		strcat(out, sp + 1);
		strcat(out, "\n");
	}
	free(text);
	return out;
}

Test(import, shadow_dat_replays_the_walks_outcomes)
{
	const char *out = test_path("shadow.zst");
	char *want = implied_outcomes(D "shadow-intel.report");
	char *got;

	/* the fixture has 7 walks: 5 translate, 2 fault */
	cr_assert_str_eq(want, "ok gpa=0x5000\nok gpa=0x6008\npf ec=0x6\npf ec=0x7\n"
			 "ok gpa=0x6008\nok gpa=0x200123\nok gpa=0x8000\n");
	import_ok(NULL, src_path(D "shadow-intel.dat"), out);
	got = replay_outcomes(out);
	cr_expect_str_eq(got, want);
	free(got);
	free(want);
}

Test(import, tdp_amd_dat_replays_the_emulated_walks)
{
	const char *out = test_path("amd.txt");
	char *want = implied_outcomes(D "tdp-amd.report");
	char *got, *text;
	size_t len;

	import_ok(NULL, src_path(D "tdp-amd.dat"), out);
	text = read_file(out, &len);
	cr_assert_not_null(text);
	/* vendor from kvm_exit's isa, paging from the #NPF exits */
	cr_expect_not_null(strstr(text, "config vendor=amd paging=tdp"), "%s", text);
	/* the NPFs are replayed as recorded faults; KVM fixes them */
	cr_expect_not_null(strstr(text, "fault t=1000021000 addr=0x5000 ec=0x100000006"));
	/* CR3 was never recorded: the importer says it placed the table itself */
	cr_expect_not_null(strstr(text, "#! CR3 never recorded"), "%s", text);
	free(text);
	got = replay_outcomes(out);
	cr_expect_str_eq(got, want);
	free(got);
	free(want);
}

/* Same config, same events (field by field); header notes may differ. */
static void same_trace(const char *a, const char *b)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ea, *eb;
	tdp_trace_t *ta, *tb;
	int ra, rb, n = 0;

	cr_assert_eq(tdp_trace_open(&ta, a, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_trace_open(&tb, b, errbuf), 0, "%s", errbuf);
	cr_expect_eq(memcmp(tdp_trace_config(ta), tdp_trace_config(tb),
			    sizeof(struct tdp_config)), 0, "%s vs %s: configs differ", a, b);
	do {
		ra = tdp_trace_next(ta, &ea);
		rb = tdp_trace_next(tb, &eb);
		cr_assert_eq(ra, rb, "%s vs %s: event %d: %d vs %d", a, b, n, ra, rb);
		if (ra == 1) {
			char la[256], lb[256];

			tdp_event_format(ea, la, sizeof(la));
			tdp_event_format(eb, lb, sizeof(lb));
			cr_assert(tdp_event_equal(ea, eb), "%s vs %s: event %d: '%s' vs '%s'",
				  a, b, n + 1, la, lb);
		}
		n++;
	} while (ra == 1);
	cr_expect_gt(n, 10);
	tdp_trace_close(ta);
	tdp_trace_close(tb);
}

Test(import, dat_v6_v7_report_and_raw_report_give_the_same_trace)
{
	const char *v6 = test_path("v6.txt"), *v7 = test_path("v7.txt");
	const char *rep = test_path("rep.txt"), *raw = test_path("raw.txt");
	const char *amd = test_path("amd.txt"), *amdrep = test_path("amdrep.txt");

	import_ok(NULL, src_path(D "shadow-intel.dat"), v6);
	import_ok(NULL, src_path(D "shadow-intel-v7.dat"), v7);
	import_ok("report", src_path(D "shadow-intel.report"), rep);
	import_ok("report", src_path(D "shadow-intel-raw.report"), raw);
	same_trace(v6, v7);
	same_trace(v6, rep);
	same_trace(v6, raw);
	import_ok(NULL, src_path(D "tdp-amd.dat"), amd);
	import_ok("report", src_path(D "tdp-amd.report"), amdrep);
	same_trace(amd, amdrep);
}

Test(import, report_from_stdin)
{
	const char *bin = getenv("TDPSIM_BIN"), *out = test_path("stdin.txt");
	const char *ref = test_path("ref.txt");
	char cmd[4096];

	cr_assert_not_null(bin);
	import_ok(NULL, src_path(D "shadow-intel.dat"), ref);
	snprintf(cmd, sizeof(cmd), "'%s' import -q --from report - '%s' < '%s'", bin, out,
		 src_path(D "shadow-intel.report"));
	cr_assert_eq(system(cmd), 0);
	same_trace(ref, out);
}

/* No "<name>.tmp.*" left in the scratch directory. */
static bool no_temporaries(void)
{
	DIR *d = opendir(test_tmpdir());
	struct dirent *de;
	bool clean = true;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			clean = false;
	closedir(d);
	return clean;
}

/*
 * A bad recording: exit 2, one message naming the file, and the good OUT
 * that was there before is still there, unchanged.
 */
static void refused(const char *from, const char *in, const char *name, const char *why)
{
	const char *out = test_path("kept.txt");
	static const char good[] = "tdpsim-trace 1\nconfig vendor=intel paging=shadow\n";
	struct run_result r;

	cr_assert_eq(write_file(out, good, sizeof(good) - 1), 0);
	if (from)
		run(&r, "import", "--from", from, in, out, NULL);
	else
		run(&r, "import", in, out, NULL, NULL, NULL);
	cr_expect_eq(r.status, 2, "%s: exit %d (%s)", in, r.status, r.err);
	cr_expect_not_null(strstr(r.err, name), "%s: message does not name it: %s", in, r.err);
	if (why)
		cr_expect_not_null(strstr(r.err, why), "%s: %s", in, r.err);
	cr_expect_null(strstr(r.err, "Sanitizer"), "%s", r.err);
	run_result_free(&r);
	{
		size_t len;
		char *text = read_file(out, &len);

		cr_assert_not_null(text);
		cr_expect_str_eq(text, good, "%s: OUT was replaced", in);
		free(text);
	}
	cr_expect(no_temporaries());
}

Test(import, dat_without_kvm_events_is_refused)
{
	refused(NULL, src_path(D "nokvm.dat"), "nokvm.dat", "no kvm or kvmmmu events");
}

Test(import, foreign_files_are_refused)
{
	const char *pcap = test_path("trace.pcap"), *txt = test_path("trace.txt");
	static const char text[] = "tdpsim-trace 1\nconfig vendor=intel paging=shadow\n"
				   "access gva=0x1000 op=r\n";
	struct run_result r;

	cr_assert_eq(write_file(txt, text, sizeof(text) - 1), 0);
	run(&r, "convert", txt, pcap, NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	refused(NULL, pcap, "trace.pcap", "not a trace-cmd .dat file");
	refused(NULL, txt, "trace.txt", "not a trace-cmd .dat file");
	/* a .dat read as report text, and report text with a foreign line */
	refused("report", src_path(D "shadow-intel.dat"), "shadow-intel.dat:1", NULL);
	refused("report", txt, "trace.txt:1", "not a 'trace-cmd report' event line");
	refused(NULL, test_path("missing.dat"), "missing.dat", "cannot open");
}

Test(import, bad_report_lines_name_the_line)
{
	static const char rep[] =
		" q-7 [000]     1.000001: kvm_entry:            vcpu 0 rip 0x0\n"
		" q-7 [000]     1.000006: kvm_mmu_pagetable_walk: addr 1000 pferr 4 U\n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 2007 level 7\n";
	static const char rep2[] =
		" q-7 [000]     1.000001: kvm_entry:            vcpu 0 rip 0x0\n"
		" q-7 [000]     1.000006: kvm_mmu_pagetable_walk: addr zz pferr 4 U\n";
	static const char rep3[] =
		" q-7 [000]     1.000001: kvm_entry:            vcpu 0 rip 0x0\n"
		" q-7 [000]   one.second: kvm_entry:            vcpu 0 rip 0x0\n";
	const char *in = test_path("bad.report");

	/* a level no x86 walk has: the importer must not index with it */
	cr_assert_eq(write_file(in, rep, sizeof(rep) - 1), 0);
	refused("report", in, "bad.report:3", "level 7");
	cr_assert_eq(write_file(in, rep2, sizeof(rep2) - 1), 0);
	refused("report", in, "bad.report:2", "kvm_mmu_pagetable_walk");
	cr_assert_eq(write_file(in, rep3, sizeof(rep3) - 1), 0);
	refused("report", in, "bad.report:2", NULL);
}

Test(import, truncated_and_corrupted_dat_files_are_refused)
{
	const char *cut = test_path("cut.dat");
	size_t len, sizes[6];
	char *dat = read_file(src_path(D "shadow-intel.dat"), &len);

	cr_assert_not_null(dat);
	/* inside the magic, the headers, the formats, the CPU data */
	sizes[0] = 8;
	sizes[1] = 200;
	sizes[2] = 3000;
	sizes[3] = len - 8192;
	sizes[4] = len - 4096;
	sizes[5] = len - 100;
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(write_file(cut, dat, sizes[i]), 0);
		refused(NULL, cut, "cut.dat", NULL);
	}
	/* the ring-buffer header description mangled */
	memcpy(dat + 40, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	cr_assert_eq(write_file(cut, dat, len), 0);
	refused(NULL, cut, "cut.dat", NULL);
	free(dat);
}

Test(import, usage_errors)
{
	struct run_result r;

	run(&r, "import", "-", test_path("x.zst"), NULL, NULL, NULL);
	cr_expect_eq(r.status, 2);
	cr_expect_not_null(strstr(r.err, "--from report"), "%s", r.err);
	run_result_free(&r);
	run(&r, "import", "--paging", "ept", "a.dat", "b.zst", NULL);
	cr_expect_eq(r.status, 2);
	run_result_free(&r);
	run(&r, "import", "--mem", "123", "a.dat", "b.zst", NULL);
	cr_expect_eq(r.status, 2);
	run_result_free(&r);
}

Test(import, overrides_and_header_notes)
{
	const char *out = test_path("o.zst"), *txt = test_path("o.txt");
	struct run_result r;

	run7(&r, "import", "-q", "--paging", "tdp", src_path(D "shadow-intel.dat"), out, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	run(&r, "info", out, NULL, NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "paging=tdp"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "note:        config: vendor from kvm_exit isa: VMX; "
				  "paging from --paging"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "note:        not reconstructed:"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "events lost 1 times"), "%s", r.out);
	/* the fixture's one #PF exit that KVM's fast path fixed without a walk */
	cr_expect_not_null(strstr(r.out, "note:        skipped 1 kvm_page_fault: #PF exit fixed "
				  "by fast_page_fault"), "%s", r.out);
	run_result_free(&r);
	/* the notes survive binary -> text -> binary, and show in the text form */
	run(&r, "convert", out, txt, NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	{
		size_t len;
		char *text = read_file(txt, &len);

		cr_assert_not_null(text);
		cr_expect_eq(strncmp(text, "tdpsim-trace 1\n#! imported by tdpsim", 36), 0, "%s", text);
		free(text);
	}
	run(&r, "convert", txt, test_path("o2.zst"), NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	run(&r, "info", test_path("o2.zst"), NULL, NULL, NULL, NULL);
	cr_expect_not_null(strstr(r.out, "paging from --paging"), "%s", r.out);
	run_result_free(&r);
}

/* Count report lines containing all of @a and @b (b may be NULL). */
static unsigned count_lines(const char *report, const char *a, const char *b)
{
	size_t len;
	char *text = read_file(src_path(report), &len), *line, *save = NULL;
	unsigned n = 0;

	cr_assert_not_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += strstr(line, a) && (!b || strstr(line, b));
	free(text);
	return n;
}

static unsigned long long json_count(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	cr_assert_not_null(p, "%s missing in %s", key, json);
	return strtoull(p + strlen(pat), NULL, 10);
}

Test(import, expectations_round_trip)
{
	const char *out = test_path("e.zst"), *exp = test_path("e.json");
	struct run_result r;
	size_t len;
	char *json;

	run7(&r, "import", "-q", "--expect", exp, src_path(D "shadow-intel.dat"), out, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	json = read_file(exp, &len);
	cr_assert_not_null(json);
	/* the counts, recounted from trace-cmd's own report of the same file */
	cr_expect_eq(json_count(json, "sp_created"),
		     count_lines(D "shadow-intel.report", "kvm_mmu_get_page:", " new "));
	cr_expect_eq(json_count(json, "sp_zapped"),
		     count_lines(D "shadow-intel.report", "kvm_mmu_prepare_zap_page:", NULL));
	cr_expect_eq(json_count(json, "walks"),
		     count_lines(D "shadow-intel.report", "kvm_mmu_pagetable_walk:", NULL));
	cr_expect_eq(json_count(json, "walk_errors"),
		     count_lines(D "shadow-intel.report", "kvm_mmu_walker_error:", NULL));
	cr_expect_eq(json_count(json, "pf_exits"),
		     count_lines(D "shadow-intel.report", "kvm_page_fault:", NULL));
	cr_expect_eq(json_count(json, "pf_injected"),
		     count_lines(D "shadow-intel.report", "exception=14", NULL));
	cr_expect_eq(json_count(json, "fast_pf_fixed"),
		     count_lines(D "shadow-intel.report", "fast_page_fault:", "fixed 1"));
	cr_expect_eq(json_count(json, "sp_created"), 6);
	free(json);

	run(&r, "replay", "-q", "--expect", exp, out, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "recorded (KVM) vs simulated"), "%s", r.out);
	/* 7 walks recorded; pf_injected: 2 recorded, 2 simulated */
	cr_expect_not_null(strstr(r.out, "  walks                         7"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "  pf_injected                   2            2           +0"),
			   "%s", r.out);
	run_result_free(&r);

	/* a file that is not an expectations file: exit 2 naming it, no replay */
	cr_assert_eq(write_file(test_path("bad.json"), "{\"counts\": {}}", 14), 0);
	run(&r, "replay", "-q", "--expect", test_path("bad.json"), out, NULL);
	cr_expect_eq(r.status, 2);
	cr_expect_not_null(strstr(r.err, "bad.json"), "%s", r.err);
	run_result_free(&r);
}

Test(import, help)
{
	struct run_result r;

	run(&r, "help", "import", NULL, NULL, NULL, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect_not_null(strstr(r.out, "usage: tdpsim import"));
	run_result_free(&r);
}

/*
 * Entry addresses in the other paging modes, from hand-written report
 * text: 32-bit (4-byte entries, 10-bit indices), PAE (PDPTE from CR3
 * bits 31:5; CR3 reloaded after the PDPTE is written, as the CPU reads
 * PDPTEs only then) and 5-level (LA57 in the config).
 */
Test(import, paging_modes_32bit_pae_la57)
{
	static const char rep[] =
		" q-7 [000]     1.000001: kvm_entry:            vcpu 0 rip 0x0\n"
		" q-7 [000]     1.000002: kvm_cr:               cr_write 3 = 0x1000\n"
		" q-7 [000]     1.000003: kvm_cr:               cr_write 4 = 0x10\n"
		" q-7 [000]     1.000004: kvm_cr:               cr_write 0 = 0x80010011\n"
		" q-7 [000]     1.000006: kvm_mmu_pagetable_walk: addr 401234 pferr 0 \n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 2003 level 2\n"
		" q-7 [000]     1.000008: kvm_mmu_paging_element: pte 5003 level 1\n"
		" q-8 [001]     1.000009: kvm_entry:            vcpu 1 rip 0x0\n"
		" q-8 [001]     1.000010: kvm_cr:               cr_write 3 = 0x8020\n"
		" q-8 [001]     1.000011: kvm_cr:               cr_write 4 = 0x20\n"
		" q-8 [001]     1.000012: kvm_cr:               cr_write 0 = 0x80010011\n"
		" q-8 [001]     1.000013: kvm_mmu_pagetable_walk: addr c0001234 pferr 0 \n"
		" q-8 [001]     1.000014: kvm_mmu_paging_element: pte 9001 level 3\n"
		" q-8 [001]     1.000015: kvm_mmu_paging_element: pte a003 level 2\n"
		" q-8 [001]     1.000016: kvm_mmu_paging_element: pte 7003 level 1\n";
	static const char rep57[] =
		" q-7 [000]     1.000001: kvm_entry:            vcpu 0 rip 0x0\n"
		" q-7 [000]     1.000006: kvm_mmu_pagetable_walk: addr 1000 pferr 4 U\n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 2007 level 5\n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 3007 level 4\n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 4007 level 3\n"
		" q-7 [000]     1.000007: kvm_mmu_paging_element: pte 5007 level 2\n"
		" q-7 [000]     1.000008: kvm_mmu_paging_element: pte 6007 level 1\n";
	const char *in = test_path("modes.report"), *out = test_path("modes.txt");
	char *text, *got;
	size_t len;

	cr_assert_eq(write_file(in, rep, sizeof(rep) - 1), 0);
	import_ok("report", in, out);
	text = read_file(out, &len);
	cr_assert_not_null(text);
	cr_expect_not_null(strstr(text, "write t=1000006000 gpa=0x1004 val=0x2003 size=4\n"
				  "write t=1000006000 gpa=0x2004 val=0x5003 size=4\n"), "%s", text);
	cr_expect_not_null(strstr(text, "write t=1000013000 gpa=0x8038 val=0x9001\n"
				  "write t=1000013000 gpa=0x9000 val=0xa003\n"
				  "write t=1000013000 gpa=0xa008 val=0x7003\n"
				  "set t=1000013000 vcpu=1 cr3=0x8020\n"), "%s", text);
	/* no kvm_exit: the vendor is a default, and the notes say so */
	cr_expect_not_null(strstr(text, "vendor from no kvm_exit: default"), "%s", text);
	free(text);
	got = replay_outcomes(out);
	cr_expect_str_eq(got, "ok gpa=0x5234\nok gpa=0x7234\n");
	free(got);

	cr_assert_eq(write_file(in, rep57, sizeof(rep57) - 1), 0);
	import_ok("report", in, out);
	text = read_file(out, &len);
	cr_assert_not_null(text);
	cr_expect_not_null(strstr(text, " la57=1"), "%s", text);
	/* CR3 and the registers inferred: CR4.LA57|PAE, EFER.LME|NX */
	cr_expect_not_null(strstr(text, "cr4=0x1020 efer=0x900"), "%s", text);
	free(text);
	got = replay_outcomes(out);
	cr_expect_str_eq(got, "ok gpa=0x6000\n");
	free(got);
}

/*
 * Nested EPT: every EPT violation from L2 becomes a recorded fault, after
 * the entries of L1's EPT that KVM's walk read.  Independently of the
 * importer: from trace-cmd's report, a kvm_page_fault followed by a
 * kvm_nested_vmexit_inject (before L2 runs again) was reflected to L1,
 * any other was fixed by KVM.
 */
Test(import, nested_ept_faults_fixed_or_reflected)
{
	const char *out = test_path("nested.zst"), *log = test_path("nested.log");
	const char *rep = test_path("nested-rep.txt");
	char want[256] = "", got[256] = "", *text, *line, *save = NULL;
	unsigned long long addr = 0;
	bool open_fault = false;
	struct run_result r;
	size_t len;

	text = read_file(src_path(D "nested-intel.report"), &len);
	cr_assert_not_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *p = strstr(line, "kvm_page_fault:");

		if (p && sscanf(strstr(p, "address"), "address %llx", &addr) == 1) {
			open_fault = true;
		} else if (open_fault && strstr(line, "kvm_nested_vmexit_inject:")) {
			snprintf(want + strlen(want), sizeof(want) - strlen(want),
				 "ept_violation gpa=0x%llx\n", addr);
			open_fault = false;
		} else if (open_fault && strstr(line, "kvm_entry:")) {
			strcat(want, "fixed\n");
			open_fault = false;
		}
	}
	free(text);
	cr_assert_str_eq(want, "fixed\nept_violation gpa=0x201000\nfixed\n");

	import_ok(NULL, src_path(D "nested-intel.dat"), out);
	run(&r, "replay", "-q", "--log", log, out, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	text = read_file(log, &len);
	cr_assert_not_null(text);
	save = NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *qual;

		if (*line == '#' || !sp)
			continue;
		/* the qualification is the simulator's; the test checks kind and GPA */
		qual = strstr(sp, " qual=");
		if (qual)
			*qual = 0;
		strcat(got, sp + 1);
		strcat(got, "\n");
	}
	free(text);
	cr_expect_str_eq(got, want);

	/* the report text gives the same trace */
	import_ok("report", src_path(D "nested-intel.report"), rep);
	same_trace(out, rep);
}

/*
 * trace-cmd itself reads the committed .dat fixtures and prints exactly
 * the committed report text (the report reader's input): the fixtures are
 * what trace-cmd makes of them, not what tdpsim thinks they are.
 */
Test(import, trace_cmd_report_agrees_with_the_fixtures)
{
	static const char *const cases[][3] = {
		{ "shadow-intel.dat", "", "shadow-intel.report" },
		{ "shadow-intel.dat", "-R", "shadow-intel-raw.report" },
		{ "shadow-intel-v7.dat", "", "shadow-intel.report" },
		{ "tdp-amd.dat", "", "tdp-amd.report" },
		{ "nested-intel.dat", "", "nested-intel.report" },
	};
	char cmd[4096], dat[1024], want[1024];

	if (system("command -v trace-cmd >/dev/null 2>&1") != 0)
		cr_skip_test("trace-cmd is not installed (tools/install-deps.sh)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = test_path("got.report");

		snprintf(dat, sizeof(dat), "%s", src_path(D "x"));
		dat[strlen(dat) - 1] = 0;
		snprintf(want, sizeof(want), "%s%s", dat, cases[i][2]);
		snprintf(cmd, sizeof(cmd), "trace-cmd report %s '%s%s' >'%s' 2>/dev/null",
			 cases[i][1], dat, cases[i][0], got);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		cr_expect(files_equal(got, want), "trace-cmd report %s %s differs from %s",
			  cases[i][1], cases[i][0], cases[i][2]);
	}
}
