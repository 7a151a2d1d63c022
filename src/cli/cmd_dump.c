// SPDX-License-Identifier: GPL-2.0-only
/* tdpsim dump: any trace form to text on stdout, optionally the first N events. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char errbuf[TDP_ERRBUF_SIZE], line[512];
	const struct tdp_event *ev;
	uint64_t limit = UINT64_MAX, done = 0;
	tdp_trace_t *in;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (tdp_parse_u64(optarg, &limit))
				return cmd_usage_error("dump", "limit '%s' is not a number", optarg);
			break;
		case 'h':
			cmd_usage("dump", stdout);
			return 0;
		case ':':
			return cmd_usage_error("dump", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("dump", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("dump", "expected one TRACE");

	ret = tdp_trace_open(&in, argv[optind], errbuf);
	if (ret) {
		tdp_error(ret, "%s", errbuf);
		return EXIT_USAGE;
	}
	tdp_config_format(tdp_trace_config(in), line, sizeof(line));
	printf("tdpsim-trace 1\n");
	/* header notes stay in the text form as '#!' lines (docs/trace-text.md) */
	for (const char *s = tdp_trace_notes(in); *s; ) {
		size_t l = strcspn(s, "\n");

		printf("#! %.*s\n", (int)l, s);
		s += l + (s[l] == '\n');
	}
	printf("config %s\n", line);
	while (done < limit && (ret = tdp_trace_next(in, &ev)) > 0) {
		tdp_event_format(ev, line, sizeof(line));
		puts(line);
		done++;
	}
	if (ret < 0)
		tdp_error(ret, "%s", tdp_trace_errmsg(in));
	tdp_trace_close(in);
	return ret < 0 ? cmd_exit_status(ret) : 0;
}
