// SPDX-License-Identifier: GPL-2.0-only
/*
 * tdpsim info: read a whole trace and summarize it: header, config, event
 * counts by kind, time span, sizes.  A trace that fails to read gives no
 * summary, only the error (exit 2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/json.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

#include "cmd.h"

static const char *const form_names[] = { "text", "pcap", "zst" };

struct info {
	uint64_t events;
	uint64_t by_kind[TDP_EV__COUNT];
	uint64_t with_t;
	uint64_t t_min, t_max;
};

static void print_text(tdp_trace_t *in, const char *path, const struct info *s)
{
	const struct tdp_config *cfg = tdp_trace_config(in);
	uint64_t fsz = tdp_trace_file_bytes(in), raw = tdp_trace_raw_bytes(in);
	char line[512];

	tdp_config_format(cfg, line, sizeof(line));
	printf("trace:       %s\n", path);
	printf("form:        %s\n", form_names[tdp_trace_form(in)]);
	if (*tdp_trace_producer(in))
		printf("producer:    %s\n", tdp_trace_producer(in));
	/* an importer's notes: what it could not reconstruct, what it skipped */
	for (const char *n = tdp_trace_notes(in); *n; ) {
		size_t l = strcspn(n, "\n");

		printf("note:        %.*s\n", (int)l, n);
		n += l + (n[l] == '\n');
	}
	printf("config:      %s\n", line);
	printf("events:      %llu\n", (unsigned long long)s->events);
	for (unsigned int k = 0; k < TDP_EV__COUNT; k++)
		printf("  %-10s %llu\n", tdp_event_name(k), (unsigned long long)s->by_kind[k]);
	if (s->with_t)
		printf("time span:   %llu..%llu ns (%llu ns)\n", (unsigned long long)s->t_min,
		       (unsigned long long)s->t_max, (unsigned long long)(s->t_max - s->t_min));
	else
		printf("time span:   none (no t=)\n");
	printf("file size:   %llu bytes\n", (unsigned long long)fsz);
	printf("raw size:    %llu bytes\n", (unsigned long long)raw);
	if (s->events)
		printf("bytes/event: %.2f\n", (double)fsz / (double)s->events);
}

static int print_json(tdp_trace_t *in, const char *path, const struct info *s)
{
	const struct tdp_config *cfg = tdp_trace_config(in);
	static const char *const vendors[] = { "intel", "amd" };
	static const char *const pagings[] = { "shadow", "tdp", "nested" };
	uint64_t fsz = tdp_trace_file_bytes(in);
	struct tdp_json j;
	char line[512];

	tdp_config_format(cfg, line, sizeof(line));
	tdp_json_begin(&j, stdout, 2);
	tdp_json_obj_open(&j, NULL);
	tdp_json_str(&j, "trace", path);
	tdp_json_str(&j, "form", form_names[tdp_trace_form(in)]);
	tdp_json_str(&j, "producer", tdp_trace_producer(in));
	tdp_json_str(&j, "notes", tdp_trace_notes(in));
	tdp_json_str(&j, "config_line", line);
	tdp_json_obj_open(&j, "config");
	tdp_json_str(&j, "vendor", vendors[cfg->vendor]);
	tdp_json_str(&j, "paging", pagings[cfg->paging]);
	tdp_json_u64(&j, "vcpus", cfg->vcpus);
	tdp_json_u64(&j, "maxphyaddr", cfg->maxphyaddr);
	tdp_json_u64(&j, "mem", cfg->mem);
	tdp_json_bool(&j, "mbec", cfg->mbec);
	tdp_json_bool(&j, "gmet", cfg->gmet);
	tdp_json_bool(&j, "ept_ad", cfg->ept_ad);
	tdp_json_bool(&j, "la57", cfg->la57);
	tdp_json_u64(&j, "max_mmu_pages", cfg->max_mmu_pages);
	tdp_json_bool(&j, "nx_huge_pages", cfg->nx_huge_pages);
	tdp_json_obj_close(&j);
	tdp_json_u64(&j, "events", s->events);
	tdp_json_obj_open(&j, "by_kind");
	for (unsigned int k = 0; k < TDP_EV__COUNT; k++)
		tdp_json_u64(&j, tdp_event_name(k), s->by_kind[k]);
	tdp_json_obj_close(&j);
	tdp_json_u64(&j, "events_with_t", s->with_t);
	if (s->with_t) {
		tdp_json_u64(&j, "t_min", s->t_min);
		tdp_json_u64(&j, "t_max", s->t_max);
	} else {
		tdp_json_null(&j, "t_min");
		tdp_json_null(&j, "t_max");
	}
	tdp_json_u64(&j, "file_bytes", fsz);
	tdp_json_u64(&j, "raw_bytes", tdp_trace_raw_bytes(in));
	if (s->events)
		tdp_json_double(&j, "bytes_per_event", (double)fsz / (double)s->events);
	else
		tdp_json_null(&j, "bytes_per_event");
	tdp_json_obj_close(&j);
	return tdp_json_end(&j);
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char errbuf[TDP_ERRBUF_SIZE];
	struct info s = { .t_min = UINT64_MAX };
	const struct tdp_event *evs;
	bool json = false;
	tdp_trace_t *in;
	int c, n;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cmd_usage("info", stdout);
			return 0;
		default:
			return cmd_usage_error("info", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("info", "expected one TRACE");

	n = tdp_trace_open(&in, argv[optind], errbuf);
	if (n) {
		tdp_error(n, "%s", errbuf);
		return EXIT_USAGE;
	}
	while ((n = tdp_trace_next_batch(in, &evs)) > 0) {
		for (int i = 0; i < n; i++) {
			const struct tdp_event *ev = &evs[i];

			s.by_kind[ev->kind]++;
			if (ev->present & TDP_PRESENT_T) {
				s.with_t++;
				if (ev->t < s.t_min)
					s.t_min = ev->t;
				if (ev->t > s.t_max)
					s.t_max = ev->t;
			}
		}
		s.events += n;
	}
	if (n < 0) {
		tdp_error(n, "%s", tdp_trace_errmsg(in));
		tdp_trace_close(in);
		return cmd_exit_status(n);
	}
	if (json)
		n = print_json(in, argv[optind], &s);
	else
		print_text(in, argv[optind], &s);
	tdp_trace_close(in);
	return n ? EXIT_USAGE : 0;
}
