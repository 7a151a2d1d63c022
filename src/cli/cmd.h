/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tdpsim subcommands.
 *
 * Adding a subcommand:
 *  1. write src/cli/cmd_<name>.c defining int cmd_<name>(int argc, char **argv)
 *     (argv[0] is the command name; parse with getopt_long, answer -h/--help
 *     by printing the table's usage via cmd_usage());
 *  2. declare it below and add a row to commands[] in src/cli/main.c, with a
 *     one-line summary and the full usage text;
 *  3. add a test (tests/test_cli.c checks every row answers -h with exit 0);
 *  4. document it in README.md.
 * The glob in CMakeLists.txt picks the new file up; nothing else to edit.
 *
 * Exit status convention (every help text lists it): 0 success, 1 a
 * comparison found a difference (compare, like cmp), 2 bad usage or bad
 * input, 3 internal error (a broken MMU invariant, out of memory).
 */
#ifndef TDPSIM_CLI_CMD_H
#define TDPSIM_CLI_CMD_H

#include <stdio.h>

struct tdp_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;	/* one line, shown by 'tdpsim help' */
	const char *usage;	/* full help, shown by 'tdpsim help CMD' / -h */
};

#define EXIT_DIFF     1
#define EXIT_USAGE    2	/* bad usage or bad input */
#define EXIT_INTERNAL 3	/* a bug (broken MMU invariant) or out of memory */

/* The exit status for a library error: 0, EXIT_USAGE or EXIT_INTERNAL. */
int cmd_exit_status(int err);

/* Print the usage text of command @name to @fp. */
void cmd_usage(const char *name, FILE *fp);
/* Report a usage error for @name ("tdpsim NAME: MSG" + hint), return 2. */
int cmd_usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_convert(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_import(int argc, char **argv);

#endif /* TDPSIM_CLI_CMD_H */
