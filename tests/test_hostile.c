// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile input and safe outputs (issue 13), through the CLI as a user
 * meets them: one test per way tdpsim used to misbehave.  Run with
 * TDPSIM_BIN set to a build of 40e7264 (before the issue), the reader,
 * output, signal, help, 72-column, progress-flag and '-' tests fail; the
 * progress-line, compare-status and JSON tests check new functions and
 * rules that held already.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "helpers/run.h"

/* A valid two-event trace with @extra (a line) between header and events. */
static const char *trace_with_line(const char *name, const char *extra)
{
	const char *path = test_path(name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "tdpsim-trace 1\nconfig vendor=intel paging=tdp mem=0x1000000\n%s\n"
		"access gva=0x1000 op=r\naccess gva=0x2000 op=w\n", extra);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* ---- text reader: bounded lines ---- */

Test(hostile_reader, line_over_the_limit_is_refused_with_its_line_number)
{
	/* a comment is valid syntax at any length: only the cap refuses it */
	size_t n = TDP_TEXT_LINE_MAX + 1;
	char *line = malloc(n + 1), want[256];
	struct run_result r;
	const char *path;

	cr_assert_not_null(line);
	memset(line, 'x', n);
	line[0] = '#';
	line[n] = 0;
	path = trace_with_line("long.txt", line);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", path, NULL }), 0);
	cr_expect_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
	/* header, config, then the long line: line 3 */
	snprintf(want, sizeof(want), "tdpsim: %s:3: line longer than %u bytes", path,
		 TDP_TEXT_LINE_MAX);
	cr_expect(strstr(r.err, want), "stderr: %s", r.err);
	run_result_free(&r);
	free(line);
}

Test(hostile_reader, line_at_the_limit_is_read)
{
	size_t n = TDP_TEXT_LINE_MAX;
	char *line = malloc(n + 1);
	struct run_result r;
	const char *path;

	cr_assert_not_null(line);
	memset(line, 'x', n);
	line[0] = '#';
	line[n] = 0;
	path = trace_with_line("limit.txt", line);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", path, NULL }), 0);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	run_result_free(&r);
	free(line);
}

/* ---- outputs: special files, links, the same file as an input ---- */

static bool is_fifo(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISFIFO(st.st_mode);
}

Test(hostile_output, fifo_is_written_through_not_replaced, .timeout = 30)
{
	const char *trace = src_path("tests/scenarios/evict.txt");
	const char *fifo = test_path("log.fifo"), *got = test_path("fifo.got");
	struct run_result r;
	pid_t reader;
	int status;

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	reader = fork();
	if (reader == 0) {
		/* cat FIFO > got */
		FILE *in = fopen(fifo, "r"), *out = fopen(got, "w");
		int c;

		while (in && out && (c = getc(in)) != EOF)
			putc(c, out);
		_exit(in && out && !fclose(out) ? 0 : 1);
	}
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--log", fifo,
						       trace, NULL }), 0);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert_eq(waitpid(reader, &status, 0), reader);
	cr_expect(is_fifo(fifo), "the FIFO was replaced");
	/* the log's first line names the trace (docs/trace-text.md) */
	{
		char *log = read_file(got, NULL);

		cr_assert_not_null(log);
		cr_expect(!strncmp(log, "# tdpsim replay ", 16), "got: %.60s", log);
		free(log);
	}
	run_result_free(&r);
}

/*
 * A device node is written through.  Not /dev/null itself: a regression
 * here, run as root, would replace the machine's /dev/null with a file;
 * a private node with /dev/null's numbers (root only) behaves the same.
 */
Test(hostile_output, device_stays_a_device)
{
	const char *trace = src_path("tests/scenarios/evict.txt");
	const char *dev = test_path("null-device");
	struct run_result r;
	struct stat st;

	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)))
		cr_skip_test("cannot create a device node (not root): %s", strerror(errno));
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--log", dev,
						       "--json", dev, trace, NULL }), 0);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert_eq(lstat(dev, &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "the device node was replaced by a file");
	run_result_free(&r);
}

Test(hostile_output, symlink_target_is_replaced_and_the_link_kept)
{
	const char *trace = src_path("tests/scenarios/evict.txt");
	const char *link = test_path("report.json"), *target = test_path("real.json");
	struct run_result r;
	struct stat st;
	char *json;

	cr_assert_eq(write_file(target, "old", 3), 0);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--json", link,
						       trace, NULL }), 0);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_assert_eq(lstat(link, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
	json = read_file(target, NULL);
	cr_assert_not_null(json);
	cr_expect(strstr(json, "\"tdpsim_report\""), "target: %.40s", json);
	free(json);
	run_result_free(&r);
}

/* An output naming an input: exit 2, the input untouched, nothing written. */
static void expect_refused(const char *const *argv, const char *input, const char *why)
{
	char *before = read_file(input, NULL), *after;
	struct run_result r;

	cr_assert_not_null(before);
	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2, "%s: exit %d, stderr: %s", why, r.status, r.err);
	cr_expect(strstr(r.err, "is the same file as input"), "%s: stderr: %s", why, r.err);
	after = read_file(input, NULL);
	cr_assert_not_null(after);
	cr_expect_str_eq(after, before, "%s: the input changed", why);
	free(before);
	free(after);
	run_result_free(&r);
}

Test(hostile_output, output_that_is_an_input_is_refused)
{
	const char *t = test_path("same.txt"), *hard = test_path("hard.txt");
	char *src = read_file(src_path("tests/scenarios/evict.txt"), NULL);

	cr_assert_not_null(src);
	cr_assert_eq(write_file(t, src, strlen(src)), 0);
	free(src);
	cr_assert_eq(link(t, hard), 0);
	expect_refused((const char *[]){ "replay", "-q", "--log", t, t, NULL }, t,
		       "replay --log T T");
	expect_refused((const char *[]){ "replay", "-q", "--json", t, t, NULL }, t,
		       "replay --json T T");
	expect_refused((const char *[]){ "replay", "-q", "--json", hard, t, NULL }, t,
		       "a hard link");
	expect_refused((const char *[]){ "compare", "-r", "1", "--json", t, t, NULL }, t,
		       "compare --json T T");
	expect_refused((const char *[]){ "convert", t, t, NULL }, t, "convert T T");
}

/* ---- signals: no temporary left behind ---- */

/* Names in @dir that contain ".tmp."; 0 when clean. */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

/*
 * Start a replay that reads its trace from a pipe this test holds open,
 * so it is still running (blocked on stdin) whatever the build's speed;
 * wait until its log's temporary exists, send @sig (@times times), and
 * return how it ended.
 */
static int interrupt_replay(const char *dir, int sig, int times)
{
	static const char head[] = "tdpsim-trace 1\nconfig vendor=intel paging=tdp "
				   "mem=0x1000000\naccess gva=0x1000 op=r\n";
	const char *bin = getenv("TDPSIM_BIN") ? getenv("TDPSIM_BIN") : "build-test/tdpsim";
	char log[512], json[512];
	int status, waited = 0, fds[2];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/out.log", dir);
	snprintf(json, sizeof(json), "%s/out.json", dir);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		dup2(nul, 1);
		dup2(nul, 2);
		execl(bin, bin, "replay", "-q", "--log", log, "--json", json, "-",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	cr_assert_eq(write(fds[1], head, sizeof(head) - 1), (ssize_t)sizeof(head) - 1);
	/* up to 20 s for the temporary to appear (ASan start-up is slow) */
	while (count_tmp(dir) == 0 && waited++ < 2000)
		usleep(10000);
	cr_assert_gt(count_tmp(dir), 0, "no temporary appeared");
	for (int i = 0; i < times; i++)
		kill(pid, sig);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(fds[1]);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_clean_exit_on(int sig, int times, const char *name)
{
	char dir[512];
	int st;

	snprintf(dir, sizeof(dir), "%s/sig-%s-%d", test_tmpdir(), name, times);
	cr_assert_eq(mkdir(dir, 0700), 0);
	st = interrupt_replay(dir, sig, times);
	cr_expect_eq(st, 128 + sig, "%s: exit status %d", name, st);
	cr_expect_eq(count_tmp(dir), 0, "%s left a temporary file", name);
}

Test(hostile_signals, sigint_sigterm_sighup_remove_temporaries, .timeout = 120)
{
	expect_clean_exit_on(SIGINT, 1, "INT");
	expect_clean_exit_on(SIGTERM, 1, "TERM");
	expect_clean_exit_on(SIGHUP, 1, "HUP");
}

Test(hostile_signals, second_sigint_exits_at_once, .timeout = 60)
{
	expect_clean_exit_on(SIGINT, 2, "INT");
}

/* ---- progress ---- */

Test(hostile_progress, slow_rates_in_k_per_second_never_zero_m)
{
	char line[128];

	/* 5,000 events in 0.1 s: 50 k/s, which "%.1f M" printed as 0.1 or 0.0 */
	tdp_progress_format(line, sizeof(line), 5000, 100, 1000, 0.1);
	cr_expect(strstr(line, "50.0 k/s"), "%s", line);
	cr_expect_null(strstr(line, " M/s"), "%s", line);
	tdp_progress_format(line, sizeof(line), 3000000, 500, 1000, 1.5);
	cr_expect(strstr(line, "2.0 M/s"), "%s", line);
	/* half the bytes in 1.5 s: 50 %, 1.5 s (rounded to 2) to go */
	cr_expect(strstr(line, "50% of"), "%s", line);
	cr_expect(strstr(line, "ETA 0:02"), "%s", line);
	cr_expect_leq(strlen(line), 72u);
	/* a pipe: no total, no percentage */
	tdp_progress_format(line, sizeof(line), 10, 2000000, 0, 1.0);
	cr_expect(strstr(line, "2.0 MB read") && !strchr(line, '%'), "%s", line);
}

Test(hostile_progress, at_most_ten_redraws_a_second)
{
	struct tdp_progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	int drawn = 0;

	cr_assert_not_null(fp);
	tdp_progress_init(&p, fp, 1000, 0);
	/* an update every millisecond for two seconds */
	for (uint64_t ms = 1; ms <= 2000; ms++)
		drawn += tdp_progress_update(&p, ms * 100, ms / 2, ms * 1000000ull);
	tdp_progress_end(&p);
	fclose(fp);
	cr_expect_leq(drawn, 20, "%d redraws in 2 s", drawn);
	cr_expect_geq(drawn, 19, "%d redraws in 2 s", drawn);
	free(buf);
}

Test(hostile_progress, forced_on_and_off_regardless_of_the_terminal)
{
	const char *trace = src_path("traces/linux-small.zst");
	struct run_result r;

	/* the test's stderr is a file: off unless --progress */
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--progress",
						       trace, NULL }), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "events, ") && strstr(r.err, "% of") &&
		  strstr(r.err, "/s"), "stderr: %s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--no-progress",
						       trace, NULL }), 0);
	cr_expect_str_eq(r.err, "");
	run_result_free(&r);
}

/* ---- messages, exit codes, '-', 72 columns ---- */

static void expect_fits_72(const char *const *argv)
{
	struct run_result r;
	const char *line;

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	for (line = r.out; *line;) {
		size_t n = strcspn(line, "\n");

		cr_expect(line_fits(line, n, 72), "'%s %s': %zu columns: %.*s", argv[0],
			      argv[1] ? argv[1] : "", n, (int)n, line);
		line += n + (line[n] == '\n');
	}
	run_result_free(&r);
}

Test(hostile_cli, every_text_output_line_fits_72_columns, .timeout = 120)
{
	static const char *const cmds[] = { "replay", "compare", "plot", "gen", "convert",
					    "dump", "info", "help", "version" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		expect_fits_72((const char *[]){ "help", cmds[i], NULL });
	expect_fits_72((const char *[]){ "help", NULL });
	expect_fits_72((const char *[]){ "gen", "--list", NULL });
	/* an HVCI trace: the old layout refuses it with a long reason */
	expect_fits_72((const char *[]){ "compare", "-r", "1", "-T",
					 src_path("traces/hvci-intel.zst"), NULL });
	expect_fits_72((const char *[]){ "replay", src_path("traces/hvci-amd.zst"), NULL });
	expect_fits_72((const char *[]){ "info", src_path("traces/nested-intel.zst"), NULL });
}

Test(hostile_cli, every_help_lists_the_exit_status)
{
	static const char *const cmds[] = { "replay", "compare", "plot", "gen", "convert",
					    "dump", "info" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct run_result r;

		cr_assert_eq(run_tdpsim(&r, (const char *[]){ "help", cmds[i], NULL }), 0);
		cr_expect(strstr(r.out, "Exit status") && strstr(r.out, "2 bad usage") &&
			  strstr(r.out, "3 internal"), "%s: %s", cmds[i], r.out);
		run_result_free(&r);
	}
}

Test(hostile_cli, compare_exit_status_follows_cmp)
{
	struct run_result r;

	/* the old layout refuses MBEC: the layouts differ */
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "compare", "-r", "1", "-T",
						       src_path("traces/hvci-intel.zst"),
						       NULL }), 0);
	cr_expect_eq(r.status, 1, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "compare", "-r", "1", "-T",
						       test_path("missing.zst"), NULL }), 0);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect(strstr(r.err, "missing.zst"), "names the file: %s", r.err);
	run_result_free(&r);
}

/* Run the CLI with stdin from @in; returns the exit status, stdout in @out. */
static int run_with_stdin(const char *in, const char *const *argv, char **out)
{
	const char *bin = getenv("TDPSIM_BIN") ? getenv("TDPSIM_BIN") : "build-test/tdpsim";
	const char *outp = test_path("stdin-run.out");
	const char *av[16] = { bin };
	int status, n = 1;
	pid_t pid;

	while (argv[n - 1] && n < 15) {
		av[n] = argv[n - 1];
		n++;
	}
	av[n] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int ifd = open(in, O_RDONLY), ofd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_WRONLY);

		dup2(ifd, 0);
		dup2(ofd, 1);
		dup2(nul, 2);
		setenv("TDPSIM_NO_PROGRESS", "1", 1);
		execv(bin, (char *const *)av);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	*out = read_file(outp, NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(hostile_cli, dash_is_stdin_for_compare_replay_info, .timeout = 120)
{
	const char *trace = src_path("tests/scenarios/smep-smap.txt");
	char *out;
	int st;

	st = run_with_stdin(trace, (const char *[]){ "compare", "-r", "1", "-T", "-", NULL },
			    &out);
	cr_expect(st == 0 || st == 1, "compare - exit %d", st);
	cr_assert_not_null(out);
	cr_expect(strstr(out, "outcome logs"), "compare -: %s", out);
	cr_expect(!strncmp(out, "- (1 repetition)", 16), "named '-': %s", out);
	free(out);
	st = run_with_stdin(trace, (const char *[]){ "replay", "-", NULL }, &out);
	cr_expect_eq(st, 0);
	cr_expect(out && strstr(out, "shadow pages"), "replay -: %s", out);
	free(out);
	st = run_with_stdin(src_path("traces/hello-shadow.zst"),
			    (const char *[]){ "info", "-", NULL }, &out);
	cr_expect_eq(st, 0);
	cr_expect(out && strstr(out, "form:        zst"), "info -: %s", out);
	free(out);
}

/* ---- every JSON written loads with a stock parser ---- */

static void expect_json_tool_loads(const char *path, const char *what)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "python3 -m json.tool '%s' > /dev/null", path);
	cr_expect_eq(system(cmd), 0, "%s: python3 -m json.tool rejects '%s'", what, path);
}

/*
 * Every command that writes JSON: replay --json, compare --json, info
 * --json, import --expect.  The trace's name is not UTF-8 (a Latin-1
 * e-acute): it is written into "trace.path", and must not make the file
 * unreadable to any JSON reader, tdpsim's own included.
 */
Test(hostile_json, every_json_output_loads_with_python_json_tool, .timeout = 120)
{
	const char *rj = test_path("r.json"), *cj = test_path("c.json");
	const char *ij = test_path("i.json"), *ej = test_path("e.json");
	const char *latin1 = test_path("caf\xe9.zst"), *imported = test_path("imported.zst");
	struct run_result r;
	char *trace, *info;
	size_t len;

	trace = read_file(src_path("traces/hvci-intel.zst"), &len);
	cr_assert_not_null(trace);
	cr_assert_eq(write_file(latin1, trace, len), 0);
	free(trace);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--json", rj, latin1,
						       NULL }), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	expect_json_tool_loads(rj, "replay --json");
	/* and tdpsim reads it back */
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "compare", rj, rj, NULL }), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "compare", "-r", "2", "--json", cj,
						       src_path("traces/nested-amd.zst"),
						       src_path("traces/hvci-amd.zst"),
						       NULL }), 0);
	cr_expect(r.status == 0 || r.status == 1, "%s", r.err);
	run_result_free(&r);
	expect_json_tool_loads(cj, "compare --json");
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "info", "--json",
						       src_path("traces/pae.zst"), NULL }), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	info = r.out;
	cr_assert_eq(write_file(ij, info, strlen(info)), 0);
	run_result_free(&r);
	expect_json_tool_loads(ij, "info --json");
	cr_assert_eq(run_tdpsim(&r, (const char *[]){ "import", "-q", "--expect", ej,
						       src_path("tests/data/tracecmd/shadow-intel.dat"),
						       imported, NULL }), 0);
	cr_expect_eq(r.status, 0, "%s", r.err);
	run_result_free(&r);
	expect_json_tool_loads(ej, "import --expect");
}

/* ---- inputs the fuzzers found: tests/fuzz/regress ---- */

/*
 * Each file says what it must give, replayed with --check under both
 * layouts, never a crash: "exit 2 ... line N" (a reader error naming
 * "FILE:N:"), or "exits 0" with an outcome-log line quoted in it.
 */
Test(hostile_fuzz_regress, found_inputs_are_refused_not_crashed, .timeout = 60)
{
	static const struct {
		const char *file;
		const char *log_line;	/* NULL: exit 2 naming the line */
	} cases[] = {
		{ "tests/fuzz/regress/fault-ec-high-bits.txt", NULL },
		/* KVM's #GP for the set (issue 12 item 6): event 131 */
		{ "tests/fuzz/regress/long-mode-without-pae.txt", "131 gp\n" },
		/* the SDM's PSE=0 translation, and no broken rmap under --check */
		{ "tests/fuzz/regress/pse-clear-direct-reuse.txt", "20 ok gpa=0x400123\n" },
		/* a write whose gpa= its gva contradicts: bad input, not an invariant */
		{ "tests/fuzz/regress/store-gpa-contradicts-gva.txt", NULL },
	};
	static const char *const layouts[] = { "new", "old" };
	const char *log = test_path("regress.log");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = src_path(cases[i].file);
		char *text = read_file(path, NULL), want[600];
		const char *at;
		struct run_result r;

		cr_assert_not_null(text);
		at = strstr(text, "line ");
		cr_assert_not_null(at, "%s names no line", cases[i].file);
		snprintf(want, sizeof(want), "%s:%d: ", path, atoi(at + 5));
		for (int l = 0; l < 2; l++) {
			cr_assert_eq(run_tdpsim(&r, (const char *[]){ "replay", "-q", "--check",
								       "-L", layouts[l], "--log",
								       log, path, NULL }), 0);
			if (cases[i].log_line) {
				char *got;

				cr_expect_eq(r.status, 0, "%s: exit %d: %s", cases[i].file,
					     r.status, r.err);
				got = read_file(log, NULL);
				cr_assert_not_null(got);
				cr_expect(strstr(got, cases[i].log_line), "%s: want '%s' in: %s",
					  cases[i].file, cases[i].log_line, got);
				free(got);
			} else {
				cr_expect_eq(r.status, 2, "%s: exit %d: %s", cases[i].file,
					     r.status, r.err);
				cr_expect(strstr(r.err, want), "%s: want '%s' in: %s",
					  cases[i].file, want, r.err);
			}
			run_result_free(&r);
		}
		free(text);
	}
}

