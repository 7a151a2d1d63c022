// SPDX-License-Identifier: GPL-2.0-only
/*
 * convert / dump / info through the CLI: round trips in every direction,
 * bad inputs (exit 2, one line naming file and position, nothing left
 * behind), option errors, info counts against a fixture.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>

#include "helpers/run.h"

#define FIXTURE "tests/data/all-intel.txt"

static int run(struct run_result *r, const char *a0, const char *a1, const char *a2,
	       const char *a3)
{
	const char *argv[] = { a0, a1, a2, a3, NULL };

	return run_tdpsim(r, argv);
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

/* Open two traces and compare their event streams field by field. */
static void same_events(const char *a, const char *b)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ea, *eb;
	tdp_trace_t *ta, *tb;
	int ra, rb, n = 0;

	cr_assert_eq(tdp_trace_open(&ta, a, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_trace_open(&tb, b, errbuf), 0, "%s", errbuf);
	cr_expect_eq(memcmp(tdp_trace_config(ta), tdp_trace_config(tb),
			    sizeof(struct tdp_config)), 0);
	for (;;) {
		ra = tdp_trace_next(ta, &ea);
		rb = tdp_trace_next(tb, &eb);
		cr_assert_eq(ra, rb, "event %d: %d vs %d", n, ra, rb);
		if (ra != 1)
			break;
		cr_assert_eq(ea->kind, eb->kind, "event %d", n);
		cr_assert_eq(ea->vcpu, eb->vcpu, "event %d", n);
		cr_assert_eq(ea->present, eb->present, "event %d", n);
		cr_assert_eq(ea->t, eb->t, "event %d", n);
		cr_assert_eq(memcmp(&ea->u, &eb->u, sizeof(ea->u)), 0, "event %d", n);
		n++;
	}
	cr_expect_eq(ra, 0);
	cr_expect_gt(n, 5);
	tdp_trace_close(ta);
	tdp_trace_close(tb);
}

static void cli_round_trip(const char *fixture, const char *mid_name)
{
	const char *mid = test_path(mid_name), *back = test_path("back.txt");
	const char *canon = test_path("canon.txt");
	struct run_result r;
	char *want, *got;

	cr_assert_eq(run(&r, "convert", fixture, mid, NULL), 0);
	cr_assert_eq(r.status, 0, "convert: %s", r.err);
	run_result_free(&r);
	cr_assert_eq(run(&r, "convert", mid, back, NULL), 0);
	cr_assert_eq(r.status, 0, "convert back: %s", r.err);
	run_result_free(&r);
	same_events(fixture, back);
	same_events(fixture, mid);

	/* the re-printed text: dump of the original == the converted-back file */
	cr_assert_eq(run(&r, "convert", fixture, canon, NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	want = read_file(canon, NULL);
	got = read_file(back, NULL);
	cr_assert_not_null(want);
	cr_assert_not_null(got);
	cr_expect_str_eq(got, want);
	cr_assert_eq(run(&r, "dump", mid, NULL, NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.out, want, "dump prints the same text");
	run_result_free(&r);
	free(want);
	free(got);
	cr_expect(no_temporaries());
}

Test(cli_trace, round_trip_zst)
{
	cli_round_trip(FIXTURE, "t.zst");
}

Test(cli_trace, round_trip_pcap)
{
	cli_round_trip(FIXTURE, "t.pcap");
}

Test(cli_trace, round_trip_amd_and_format_option)
{
	const char *mid = test_path("amd.bin");
	struct run_result r;
	char errbuf[TDP_ERRBUF_SIZE];
	tdp_trace_t *t;
	const char *argv[] = { "convert", "--format", "pcap", "tests/data/all-amd.txt", mid, NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(tdp_trace_open(&t, mid, errbuf), 0, "%s", errbuf);
	cr_expect_eq(tdp_trace_form(t), TDP_FORM_PCAP, "--format beats the name");
	tdp_trace_close(t);
	same_events("tests/data/all-amd.txt", mid);
}

/* The shipped binary trace is its text source, converted. */
Test(cli_trace, shipped_trace_matches_its_source)
{
	struct run_result r;

	same_events("traces/src/hello-shadow.txt", "traces/hello-shadow.zst");
	cr_assert_eq(run(&r, "info", "--json", "traces/hello-shadow.zst", NULL), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	/* counted by hand from the source */
	cr_expect(strstr(r.out, "\"write\": 7"), "%s", r.out);
	cr_expect(strstr(r.out, "\"access\": 8"), "%s", r.out);
	cr_expect(strstr(r.out, "\"peek\": 2"), "%s", r.out);
	cr_expect(strstr(r.out, "\"mark\": 4"), "%s", r.out);
	run_result_free(&r);
}

Test(cli_trace, text_to_stdout)
{
	struct run_result r;
	char *want = NULL;

	cr_assert_eq(run(&r, "convert", FIXTURE, "-", NULL), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(!strncmp(r.out, "tdpsim-trace 1\nconfig vendor=intel paging=nested", 47),
		  "%s", r.out);
	want = strdup(r.out);
	run_result_free(&r);
	cr_assert_eq(run(&r, "convert", "--format", "zst", FIXTURE), 0);
	cr_expect_eq(r.status, 2, "convert with one operand");
	run_result_free(&r);
	{
		const char *argv[] = { "convert", "--format", "zst", FIXTURE, "-", NULL };

		/* '-' is stdout for every form; a binary one while not a terminal */
		cr_assert_eq(run_tdpsim(&r, argv), 0);
		cr_expect_eq(r.status, 0, "binary to a non-terminal stdout: %s", r.err);
		cr_expect(!memcmp(r.out, "\x28\xb5\x2f\xfd", 4), "a zstd frame on stdout");
		run_result_free(&r);
	}
	free(want);
}

Test(cli_trace, dump_limit)
{
	struct run_result r;
	int lines = 0;

	cr_assert_eq(run(&r, "dump", "--limit", "3", FIXTURE), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	for (const char *p = r.out; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 2 + 3, "header, config and 3 events:\n%s", r.out);
	cr_expect(strstr(r.out, "\nmark t=0 label=boot\nwrite gpa=0x1000 val=0x2003\n"),
		  "%s", r.out);
	run_result_free(&r);
}

Test(cli_trace, info_counts_match_the_fixture)
{
	/* counted by hand from tests/data/all-intel.txt */
	static const char *const want[] = {
		"\"events\": 26", "\"write\": 3", "\"set\": 3", "\"access\": 5",
		"\"invlpg\": 2", "\"flush\": 2", "\"vmenter\": 2", "\"vmexit\": 1",
		"\"invept\": 2", "\"fault\": 2", "\"peek\": 2", "\"mark\": 2",
		"\"events_with_t\": 9", "\"t_min\": 0", "\"t_max\": 18446744073709551615",
		"\"vendor\": \"intel\"", "\"vcpus\": 2", "\"max_mmu_pages\": 4096",
	};
	const char *zst = test_path("info.zst");
	struct run_result r;

	cr_assert_eq(run(&r, "convert", FIXTURE, zst, NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(run(&r, "info", "--json", pass ? zst : FIXTURE, NULL), 0);
		cr_expect_eq(r.status, 0, "%s", r.err);
		for (size_t i = 0; i < ARRAY_SIZE(want); i++)
			cr_expect(strstr(r.out, want[i]), "%s missing in:\n%s", want[i], r.out);
		cr_expect(strstr(r.out, pass ? "\"form\": \"zst\"" : "\"form\": \"text\""));
		run_result_free(&r);
	}
	cr_assert_eq(run(&r, "info", zst, NULL, NULL), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "events:      26\n"), "%s", r.out);
	cr_expect(strstr(r.out, "  access     5\n"), "%s", r.out);
	cr_expect(strstr(r.out, "bytes/event:"), "%s", r.out);
	run_result_free(&r);
}

Test(cli_trace, option_errors_exit_2)
{
	static const char *const cases[][5] = {
		{ "convert", "--bogus", FIXTURE, "x.zst", NULL },
		{ "convert", "--format", "gz", FIXTURE, "x.zst" },
		{ "convert", "--level", "0", FIXTURE, "x.zst" },
		{ "convert", "--level", "20", FIXTURE, "x.zst" },
		{ "convert", FIXTURE, NULL },
		{ "convert", "--format", NULL },
		{ "dump", "--limit", "x", FIXTURE, NULL },
		{ "dump", "--frob", FIXTURE, NULL },
		{ "dump", NULL },
		{ "dump", FIXTURE, FIXTURE, NULL },
		{ "info", "--yaml", FIXTURE, NULL },
		{ "info", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_result r;

		cr_assert_eq(run_tdpsim(&r, cases[i]), 0);
		cr_expect_eq(r.status, 2, "case %zu (%s %s): %d", i, cases[i][0],
			     cases[i][1] ? cases[i][1] : "", r.status);
		cr_expect(strstr(r.err, "tdpsim "), "case %zu: %s", i, r.err);
		run_result_free(&r);
	}
	cr_expect(!file_exists("x.zst"));
}

/* ------------------------------------------------------------------ */
/* bad input */

static uint8_t *good_pcap(size_t *len)
{
	const char *p = test_path("good.pcap");
	struct run_result r;
	uint8_t *buf;

	cr_assert_eq(run(&r, "convert", FIXTURE, p, NULL), 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	buf = (uint8_t *)read_file(p, len);
	cr_assert_not_null(buf);
	cr_assert_gt(*len, 24 + 16 + 28 + 16 + 12 + 16 + 16);
	return buf;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Every command must refuse @path with exit 2 and a one-line message that
 * names the file and contains @where (a position or a reason); convert must
 * leave no output or temporary.
 */
static void expect_bad_cmds(const char *path, const char *where, size_t ncmds)
{
	static const char *const cmds[] = { "convert", "dump", "info" };
	const char *out = test_path("out.zst");

	for (size_t c = 0; c < ncmds; c++) {
		struct run_result r;
		const char *nl;

		cr_assert_eq(run(&r, cmds[c], path, c ? NULL : out, NULL), 0);
		cr_expect_eq(r.status, 2, "%s %s: exit %d, stderr %s", cmds[c], path,
			     r.status, r.err);
		cr_expect(strstr(r.err, path), "%s: message names the file: %s", cmds[c], r.err);
		cr_expect(strstr(r.err, where), "%s: message has '%s': %s", cmds[c], where,
			  r.err);
		nl = strchr(r.err, '\n');
		cr_expect(nl && nl[1] == 0, "%s: one line: %s", cmds[c], r.err);
		run_result_free(&r);
	}
	cr_expect(!file_exists(out), "%s: no output left", path);
	cr_expect(no_temporaries(), "%s: no temporary left", path);
}

/* convert only (each spawn costs ~0.1 s under ASan), or all three commands */
#define expect_bad(path, where)		expect_bad_cmds(path, where, 1)
#define expect_bad_all(path, where)	expect_bad_cmds(path, where, 3)

static const char *bad_file(const char *name, const void *buf, size_t len)
{
	const char *p = test_path(name);

	cr_assert_eq(write_file(p, buf, len), 0);
	return p;
}

Test(cli_trace_bad, truncated_zstd)
{
	const char *zst = test_path("good.zst");
	struct run_result r;
	size_t len;
	char *buf;

	cr_assert_eq(run(&r, "convert", FIXTURE, zst, NULL), 0);
	cr_assert_eq(r.status, 0);
	run_result_free(&r);
	buf = read_file(zst, &len);
	cr_assert_not_null(buf);
	expect_bad_all(bad_file("trunc.zst", buf, len - 5), "truncated zstd frame");
	expect_bad(bad_file("trunc2.zst", buf, len / 2), "zstd");
	buf[len - 1] ^= 0xff;	/* the frame checksum */
	expect_bad(bad_file("flipped.zst", buf, len), "zstd");
	free(buf);
}

Test(cli_trace_bad, pcap_framing)
{
	size_t len, hlen, blk;
	uint8_t *g = good_pcap(&len), *b = malloc(len);

	hlen = get32(g + 24 + 8);
	blk = 24 + 16 + hlen;		/* offset of the first block record */
	cr_assert_eq(get32(g + blk + 16), 0x4b4c4254u, "layout assumption: block record");

	memcpy(b, g, len);
	put32(b, 0xefbeadde);
	expect_bad(bad_file("magic.pcap", b, len), "not a trace");

	memcpy(b, g, len);
	put32(b, 0xd4c3b2a1);		/* big-endian */
	expect_bad(bad_file("bigend.pcap", b, len), "big-endian");

	memcpy(b, g, len);
	put32(b + 20, 1);		/* LINKTYPE_ETHERNET */
	expect_bad(bad_file("link.pcap", b, len), "link type 1");

	memcpy(b, g, len);
	put32(b + 24 + 8, 0xfffffff0);	/* huge declared length */
	put32(b + 24 + 12, 0xfffffff0);
	expect_bad_all(bad_file("huge.pcap", b, len), "record 0, offset 24");

	memcpy(b, g, len);
	put32(b + blk + 8, 200000);	/* longer than any block, below libpcap's cap */
	put32(b + blk + 12, 200000);
	expect_bad(bad_file("long.pcap", b, len), "record 1, offset ");

	memcpy(b, g, len);
	put32(b + blk + 8, get32(b + blk + 8) - 1);	/* caplen < len */
	expect_bad(bad_file("snap.pcap", b, len), "record 1");

	memcpy(b, g, len);
	put32(b + blk + 16 + 4, get32(b + blk + 16 + 4) + 1);	/* one more event than bytes */
	expect_bad(bad_file("count.pcap", b, len), "record 1");

	memcpy(b, g, len);
	b[blk + 16 + 12] = 0x0f;	/* first event: kind 15 */
	expect_bad_all(bad_file("kind.pcap", b, len), "unknown event type");

	memcpy(b, g, len);
	put32(b + 24 + 16 + 16, 2);	/* header record: format version 2 */
	expect_bad(bad_file("version.pcap", b, len), "version 2");

	memcpy(b, g, len);
	put32(b + blk + 16, 0x21212121);	/* unknown record tag */
	expect_bad(bad_file("tag.pcap", b, len), "unknown record type");

	expect_bad(bad_file("notrailer.pcap", g, len - 32), "missing trailer");
	expect_bad(bad_file("cut.pcap", g, len - 7), "truncated record");
	expect_bad(bad_file("hdronly.pcap", g, 20), "truncated pcap file header");
	free(b);
	free(g);
}

Test(cli_trace_bad, empty_devnull_directory)
{
	expect_bad_all(bad_file("empty.txt", "", 0), "empty file");
	expect_bad_all("/dev/null", "empty file");
	expect_bad_all(test_tmpdir(), "is a directory");
	expect_bad(test_path("missing.zst"), "cannot open");
}

Test(cli_trace_bad, text_lines)
{
	static const struct { const char *name, *text, *where; } cases[] = {
		{ "key.txt", "tdpsim-trace 1\nconfig vendor=intel paging=shadow\n"
			     "access gva=1 op=r foo=1\n", ":3: unknown key 'foo'" },
		{ "size.txt", "tdpsim-trace 1\nconfig vendor=intel paging=shadow\n\n"
			      "write gpa=1 val=1 size=3\n", ":4: size=3" },
		{ "cpl.txt", "# c\ntdpsim-trace 1\nconfig vendor=intel paging=shadow\n"
			     "set cpl=4\n", ":4: cpl=4" },
		{ "op.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\naccess gva=1 op=z\n",
		  ":3: op='z'" },
		{ "vendor.txt", "tdpsim-trace 1\nconfig vendor=via paging=tdp\n", ":2: vendor 'via'" },
		{ "paging.txt", "tdpsim-trace 1\nconfig vendor=amd paging=ept\n", ":2: paging 'ept'" },
		{ "vcpu.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp vcpus=2\nflush vcpu=2\n",
		  ":3: vcpu=2" },
		{ "maxpa.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp maxphyaddr=53\n",
		  ":2: maxphyaddr=53" },
		{ "twocfg.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\n"
				"config vendor=amd paging=tdp\n", ":3: second config" },
		{ "before.txt", "tdpsim-trace 1\naccess gva=1 op=r\n", ":2: 'access' before the config" },
		{ "garbage.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\nflush x\n",
		  ":3: expected key=value" },
		{ "event.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\nhalt\n",
		  ":3: unknown event 'halt'" },
		{ "version.txt", "tdpsim-trace 2\n", ":1: unsupported trace version '2'" },
		{ "noheader.txt", "config vendor=amd paging=tdp\n", ":1: expected 'tdpsim-trace 1'" },
		{ "nocfg.txt", "tdpsim-trace 1\n# nothing else\n", ":2: missing config" },
		{ "missing.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\nfault addr=1\n",
		  ":3: missing key 'ec'" },
		{ "nul.txt", "tdpsim-trace 1\nconfig vendor=amd paging=tdp\nflush\0\n", ":3: NUL" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].text);

		if (!strcmp(cases[i].name, "nul.txt"))
			len += 2;
		/* the first case through every command, the rest through convert */
		expect_bad_cmds(bad_file(cases[i].name, cases[i].text, len), cases[i].where,
				i ? 1 : 3);
	}
}

Test(cli_trace_bad, existing_output_survives_a_failed_convert)
{
	const char *out = test_path("keep.zst"), *bad;
	struct run_result r;
	char *after;

	cr_assert_eq(write_file(out, "precious", 8), 0);
	static const char text[] = "tdpsim-trace 1\nconfig vendor=amd paging=tdp\nflush\nfrob\n";

	bad = bad_file("bad.txt", text, strlen(text));
	cr_assert_eq(run(&r, "convert", bad, out, NULL), 0);
	cr_expect_eq(r.status, 2);
	run_result_free(&r);
	after = read_file(out, NULL);
	cr_expect_str_eq(after, "precious");
	free(after);
	cr_expect(no_temporaries());
}
