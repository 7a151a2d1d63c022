// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim convert: copy a trace event by event into another form.  The
 * output is produced by the trace writer, which writes a temporary and
 * renames it only on success, so a failed conversion leaves nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

static int parse_form(const char *s, enum tdp_trace_form *form)
{
	if (!strcmp(s, "text") || !strcmp(s, "txt"))
		*form = TDP_FORM_TEXT;
	else if (!strcmp(s, "pcap"))
		*form = TDP_FORM_PCAP;
	else if (!strcmp(s, "zst"))
		*form = TDP_FORM_ZST;
	else
		return -1;
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char errbuf[TDP_ERRBUF_SIZE];
	enum tdp_trace_form form = TDP_FORM_TEXT;
	bool have_form = false;
	const struct tdp_event *evs;
	tdp_trace_t *in = NULL;
	tdp_writer_t *out = NULL;
	uint64_t level = 3;
	int c, n, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_form(optarg, &form))
				return cmd_usage_error("convert", "unknown format '%s'", optarg);
			have_form = true;
			break;
		case 'l':
			if (tdp_parse_u64(optarg, &level) || level < 1 || level > 19)
				return cmd_usage_error("convert", "level '%s' is not 1..19", optarg);
			break;
		case 'h':
			cmd_usage("convert", stdout);
			return 0;
		case ':':
			return cmd_usage_error("convert", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cmd_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error("convert", "expected IN and OUT");
	if (!have_form)
		form = tdp_form_from_name(argv[optind + 1]);

	{
		const char *ins[] = { argv[optind] }, *outs[] = { argv[optind + 1] };

		if (tdp_check_same_files(ins, 1, outs, 1))
			return EXIT_USAGE;
	}
	ret = tdp_trace_open(&in, argv[optind], errbuf);
	if (ret) {
		tdp_error(ret, "%s", errbuf);
		return EXIT_USAGE;
	}
	ret = tdp_writer_open(&out, argv[optind + 1], form, level, NULL, errbuf);
	if (ret) {
		tdp_error(ret, "%s", errbuf);
		goto out_close_in;
	}
	/* header notes are part of the trace: carry them */
	ret = 0;
	for (const char *s = tdp_trace_notes(in); *s && !ret; ) {
		size_t l = strcspn(s, "\n");
		char *note = strndup(s, l);

		ret = note ? tdp_writer_note(out, note) : TDP_E_NOMEM;
		free(note);
		s += l + (s[l] == '\n');
	}
	if (!ret)
		ret = tdp_writer_config(out, tdp_trace_config(in));
	while (!ret && (n = tdp_trace_next_batch(in, &evs)) > 0)
		for (int i = 0; i < n && !ret; i++)
			ret = tdp_writer_event(out, &evs[i]);
	if (!ret && n < 0) {
		tdp_error(n, "%s", tdp_trace_errmsg(in));
		ret = n;
	} else if (ret) {
		tdp_error(ret, "%s", tdp_writer_errmsg(out));
	} else {
		ret = tdp_writer_close(out);
		if (ret)
			tdp_error(ret, "%s", tdp_writer_errmsg(out));
	}
	tdp_writer_free(out);
out_close_in:
	tdp_trace_close(in);
	return cmd_exit_status(ret);
}
