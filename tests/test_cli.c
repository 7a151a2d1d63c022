// SPDX-License-Identifier: GPL-2.0-only
/* The CLI shell: dispatch, help for every command, exit codes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers/run.h"

static const char *const all_cmds[] = {
	"convert", "dump", "info", "replay", "compare", "gen", "plot", "help", "version",
};

Test(cli, no_args_is_usage_error)
{
	struct run_result r;
	const char *argv[] = { NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "usage: tdpsim"), "stderr: %s", r.err);
	run_result_free(&r);
}

Test(cli, unknown_command)
{
	struct run_result r;
	const char *argv[] = { "frobnicate", NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "unknown command 'frobnicate'"), "stderr: %s", r.err);
	run_result_free(&r);
}

Test(cli, every_command_answers_help)
{
	for (size_t i = 0; i < sizeof(all_cmds) / sizeof(all_cmds[0]); i++) {
		struct run_result r;
		const char *argv[] = { all_cmds[i], "--help", NULL };
		char want[64];

		cr_assert_eq(run_tdpsim(&r, argv), 0);
		cr_expect_eq(r.status, 0, "%s --help exit %d", all_cmds[i], r.status);
		snprintf(want, sizeof(want), "usage: tdpsim %s", all_cmds[i]);
		cr_expect(strstr(r.out, want), "%s --help printed: %s", all_cmds[i], r.out);
		run_result_free(&r);
	}
}

Test(cli, help_lists_every_command)
{
	struct run_result r;
	const char *argv[] = { "help", NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 0);
	for (size_t i = 0; i < sizeof(all_cmds) / sizeof(all_cmds[0]); i++)
		cr_expect(strstr(r.out, all_cmds[i]), "help lacks %s", all_cmds[i]);
	run_result_free(&r);
}

Test(cli, help_of_unknown_command)
{
	struct run_result r;
	const char *argv[] = { "help", "nope", NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "unknown command 'nope'"));
	run_result_free(&r);
}

Test(cli, version)
{
	struct run_result r;
	const char *argv[] = { "--version", NULL };

	cr_assert_eq(run_tdpsim(&r, argv), 0);
	cr_expect_eq(r.status, 0);
	cr_expect(!strncmp(r.out, "tdpsim ", 7), "out: %s", r.out);
	run_result_free(&r);
}
