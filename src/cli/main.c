// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim CLI entry point: one dispatch table that also holds the help text.
 * 'tdpsim CMD --help' and 'tdpsim help CMD' print the same row.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/util.h>

#include "cmd.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct tdp_cmd commands[] = {
	{ "convert", cmd_convert, "convert a trace between text and binary forms",
	  "usage: tdpsim convert [--format text|zst|pcap] [--level N] IN OUT\n"
	  "\n"
	  "Convert IN (text, .pcap or .zst; detected by content) to OUT. The\n"
	  "output form follows OUT's name (.txt text, .pcap plain pcap, anything\n"
	  "else zstd-compressed pcap) unless --format is given. '-' is stdin or\n"
	  "stdout (binary only to a pipe). OUT is written to a temporary name and\n"
	  "renamed on success; a device or FIFO is written directly; OUT may not\n"
	  "be IN.\n"
	  "\n"
	  "  -f, --format FMT   text, pcap or zst\n"
	  "  -l, --level N      zstd level (1..19, default 3)\n"
	  "  -h, --help         this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "dump", cmd_dump, "print a trace in text form",
	  "usage: tdpsim dump [--limit N] TRACE\n"
	  "\n"
	  "Print TRACE (any form; '-' is stdin) as text per docs/trace-text.md\n"
	  "to stdout.\n"
	  "\n"
	  "  -n, --limit N      stop after N events\n"
	  "  -h, --help         this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "info", cmd_info, "summarize a trace: config, counts, time span, sizes",
	  "usage: tdpsim info [--json] TRACE\n"
	  "\n"
	  "Print TRACE's header and config, event counts by kind, time span,\n"
	  "compressed and raw size, bytes per event. '-' is stdin.\n"
	  "\n"
	  "  -j, --json         machine-readable output\n"
	  "  -h, --help         this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "plot", cmd_plot, "draw figures from replay reports with gnuplot",
	  "usage: tdpsim plot REPORT.json... -o FILE.(png|svg|pdf) [--kind KIND]\n"
	  "                   [--title T] [--label L]... [--keep-script]\n"
	  "\n"
	  "Draw one figure from the reports (a 'tdpsim_compare' file counts as\n"
	  "each of its reports). The format follows FILE's suffix. gnuplot\n"
	  "(gnuplot-nox) runs on FILE.gp with the data in FILE.dat or FILE-N.dat;\n"
	  "these are removed after success unless --keep-script. FILE is written\n"
	  "to a temporary name and renamed on success.\n"
	  "\n"
	  "  -o, --output FILE  the figure: .png, .svg or .pdf\n"
	  "  -k, --kind KIND    shadow-pages (default): live shadow pages over\n"
	  "                     events; exits: cumulative exits with the trace's\n"
	  "                     marks; walk-cdf: CDF of walk latency; bars: key\n"
	  "                     counters per report, error bars from 'spread';\n"
	  "                     latency: mean ns per walker (1-D, EPT, NPT, 2-D)\n"
	  "                     and per fault path, error bars from 'spread'\n"
	  "  -t, --title T      figure title\n"
	  "  -l, --label L      legend label, once per report in order (default:\n"
	  "                     layout and file name)\n"
	  "      --keep-script  keep FILE.gp and its data files\n"
	  "  -h, --help         this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "replay", cmd_replay, "replay a trace through the KVM MMU port and report",
	  "usage: tdpsim replay [OPTIONS] TRACE\n"
	  "\n"
	  "Replay TRACE (text, .pcap or .zst; '-' is stdin) through one build of\n"
	  "the MMU port and print a report (72 columns). Output files are\n"
	  "replaced only on success (a device or FIFO is written directly) and\n"
	  "may not be TRACE; '-' is stdout. Ctrl-C leaves no temporary file.\n"
	  "\n"
	  "  -L, --layout old|new    ACC layout: pre-series or MBEC/GMET series\n"
	  "                          (default new)\n"
	  "  -l, --log FILE          write the outcome log (docs/trace-text.md)\n"
	  "  -j, --json FILE         write the JSON report (docs/report-schema.md)\n"
	  "  -m, --max-mmu-pages N   KVM's shadow page limit, 64..4194304\n"
	  "                          (overrides the trace's config)\n"
	  "  -i, --interval N        timeline sample interval in events (1000)\n"
	  "  -T, --no-timing         do not time guest walks with rdtsc\n"
	  "  -c, --check[=N]         check the MMU's invariants: after each event\n"
	  "                          what it touched, everything every N events\n"
	  "                          (100000) and at the end; =1: everything\n"
	  "                          after every event (slow)\n"
	  "  -t, --tlb               model a TLB in the hardware (shadow paging;\n"
	  "                          off by default: every access walks)\n"
	  "      --no-memo           walk every time: no memo of the CPU model's\n"
	  "                          translations (slower; same results)\n"
	  "      --no-read-ahead     read and decode the trace on the replay's own\n"
	  "                          thread (default: a second thread reads ahead\n"
	  "                          when 2 CPUs are free; same results)\n"
	  "  -q, --quiet             no text report\n"
	  "  -e, --expect FILE       also print KVM's counts recorded by\n"
	  "                          'tdpsim import --expect FILE' beside the\n"
	  "                          simulated ones\n"
	  "      --progress          progress on stderr even if not a terminal\n"
	  "      --no-progress       no progress even on a terminal\n"
	  "  -h, --help              this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and the event's line or record), 3 internal error (an MMU\n"
	  "invariant broken under --check, out of memory).\n" },
	{ "gen", cmd_gen, "write a deterministic synthetic workload trace",
	  "usage: tdpsim gen --workload NAME [--seed N] [--events N]\n"
	  "                  [--vendor intel|amd] [--paging shadow|tdp|nested]\n"
	  "                  [--mem SIZE]\n"
	  "                  -o OUT\n"
	  "\n"
	  "Model a guest OS (page tables, processes, scheduler) and write what it\n"
	  "does as a trace. Same options, same bytes. The form follows OUT's name\n"
	  "(.txt text, .pcap plain pcap, anything else zstd); OUT is written to a\n"
	  "temporary name and renamed on success. Prints the faults the guest\n"
	  "expects (demand, COW, SMAP) on stderr; for hvci and nested also the\n"
	  "nested counters a replay must show (vmenters, L2 #PF, exits reflected\n"
	  "to L1).\n"
	  "\n"
	  "  -w, --workload NAME  linux, smep-toggle, pae, legacy32, hvci, nested,\n"
	  "                       linux-smp, linux-kpti, linux-kpti-pcid, zero, db\n"
	  "                       (--list); db's buffer pool grows with --mem\n"
	  "  -s, --seed N         PRNG seed (default 1)\n"
	  "  -n, --events N       approximate event count, 5000.. (default 100000)\n"
	  "      --vendor V       intel (default) or amd\n"
	  "      --paging P       shadow (default) or tdp; hvci and nested imply\n"
	  "                       nested (hvci: MBEC with intel, GMET with amd;\n"
	  "                       nested: neither, so both layouts replay it)\n"
	  "  -m, --mem SIZE       guest memory, 64M..16G in 2M steps (default 256M)\n"
	  "  -o, --output OUT     the trace ('-': stdout, not a terminal)\n"
	  "      --list           list the workloads\n"
	  "  -h, --help           this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "import", cmd_import, "turn a trace-cmd recording of KVM into a trace",
	  "usage: tdpsim import [OPTIONS] RECORDING OUT\n"
	  "\n"
	  "Read what 'trace-cmd record -e kvm -e kvmmmu' recorded on a KVM host\n"
	  "(a .dat file, or 'trace-cmd report' text with --from report; '-' is\n"
	  "stdin) and write a tdpsim trace: the guest page-table entries each\n"
	  "recorded walk read become 'write' events before the access, again\n"
	  "when a later walk reads another value; CR/EFER loads become 'set',\n"
	  "walks 'access' (op and CPL from pferr), INVLPG exits 'invlpg', EPT\n"
	  "violations / #NPFs 'fault' (in L2: after the entries of L1's EPT/NPT\n"
	  "KVM's walk read), nested entries 'vmenter', exits reflected to L1\n"
	  "'vmexit', lost events 'mark label=lost'. The trace's header notes\n"
	  "(tdpsim info) say what could not be reconstructed and which records\n"
	  "were skipped and why (docs/IMPORT.md). The form follows OUT's name as\n"
	  "for convert; OUT is written to a temporary name and renamed on success.\n"
	  "\n"
	  "  -F, --from dat|report  what RECORDING is (default dat)\n"
	  "  -e, --expect FILE      also write KVM's own counts from the recording\n"
	  "                         (shadow pages created, syncs, unsyncs, zaps,\n"
	  "                         faults fixed ...) as JSON, for 'tdpsim replay\n"
	  "                         --expect FILE'\n"
	  "      --vendor V         intel or amd (default: from kvm_exit's isa)\n"
	  "      --paging P         shadow, tdp or nested (default: from the exits)\n"
	  "  -m, --mem SIZE         guest memory, e.g. 4G (default: every GPA seen)\n"
	  "  -f, --format FMT       text, pcap or zst (default: from OUT's name)\n"
	  "  -q, --quiet            no summary on stderr\n"
	  "  -h, --help             this text\n"
	  "\n"
	  "Exit status: 0 success, 2 bad usage or bad input (the message names\n"
	  "the file and line or record), 3 internal error.\n" },
	{ "compare", cmd_compare, "old vs new ACC layout on traces, or two saved reports",
	  "usage: tdpsim compare [OPTIONS] TRACE...\n"
	  "       tdpsim compare A.json B.json\n"
	  "\n"
	  "Replay each TRACE under the pre-series (old) and the MBEC/GMET series\n"
	  "(new) ACC layouts, interleaving --repeat repetitions to cancel machine\n"
	  "drift, and print a 72-column table: counts, delta, delta %, timing\n"
	  "medians with their spread as noise (walk mean per walker 1-D, EPT,\n"
	  "NPT, 2-D and exit cost per fault path, net of the timer's own cost),\n"
	  "then which timings differ beyond noise.  The architectural outcome logs\n"
	  "must be identical for traces without MBEC/GMET; the first divergent\n"
	  "event is printed if not.  With two .json reports, compare them.\n"
	  "A TRACE of '-' is read from stdin (copied to a temporary file).\n"
	  "\n"
	  "  -r, --repeat N      repetitions per layout (1..31, default 3)\n"
	  "  -p, --plot DIR      also write the standard figures (PNG) into DIR:\n"
	  "                      shadow-pages, exits, walk-cdf, bars, latency\n"
	  "  -L, --layouts L     old,new (the only pair for now)\n"
	  "  -T, --no-timing     do not time guest walks\n"
	  "  -j, --json FILE     also save the compared reports (medians, spread)\n"
	  "  -h, --help          this text\n"
	  "\n"
	  "Exit status (as cmp): 0 identical outcomes and counts, 1 they differ\n"
	  "or one layout refuses a trace, 2 bad usage or bad input, 3 internal\n"
	  "error.\n" },
	{ "help", cmd_help, "show help for tdpsim or a command",
	  "usage: tdpsim help [CMD]\n"
	  "\n"
	  "Exit status: 0 success, 2 unknown command.\n" },
	{ "version", cmd_version, "print the version",
	  "usage: tdpsim version\n" },
};

static const struct tdp_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void cmd_usage(const char *name, FILE *fp)
{
	const struct tdp_cmd *c = find_cmd(name);

	if (c)
		fputs(c->usage, fp);
}

int cmd_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tdpsim %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'tdpsim %s --help'\n", name);
	return EXIT_USAGE;
}

int cmd_exit_status(int err)
{
	if (!err)
		return 0;
	return err == TDP_E_INTERNAL || err == TDP_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
}

static void main_usage(FILE *fp)
{
	fputs("usage: tdpsim [--version] [--help] COMMAND [ARGS]\n"
	      "\n"
	      "Trace-replay simulator of the KVM x86 MMU (shadow paging, TDP,\n"
	      "nested EPT/NPT, MBEC/GMET).\n"
	      "\n"
	      "commands:\n", fp);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'tdpsim help COMMAND' or 'tdpsim COMMAND --help' for details.\n",
	      fp);
}

static int cmd_help(int argc, char **argv)
{
	const struct tdp_cmd *c;

	if (argc < 2) {
		main_usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return cmd_usage_error("help", "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	printf("tdpsim %s\n", TDPSIM_VERSION);
	return 0;
}

/* Like git's run_builtin(): a write error on stdout is a failure. */
static int finish_stdout(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		tdp_error(TDP_E_IO, "write error on stdout");
		return ret ? ret : EXIT_USAGE;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const struct tdp_cmd *c;
	const char *name;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	tdp_signals_install();
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		name = "version";
	c = find_cmd(name);
	if (!c) {
		fprintf(stderr, "tdpsim: unknown command '%s'\n", argv[1]);
		main_usage(stderr);
		return EXIT_USAGE;
	}
	/* 'tdpsim CMD --help' is 'tdpsim help CMD' */
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return finish_stdout(0);
		}
	}
	optind = 1;
	return finish_stdout(c->fn(argc - 1, argv + 1));
}
