// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: replay any trace the reader accepts, text or pcap,
 * through both ACC layouts with the invariant checker on.  A replay may
 * refuse the trace (exit 2 material: an event KVM cannot take in that
 * state, MBEC on the old layout); it must never crash, leak, hang or
 * report a broken MMU invariant, which is a bug in the port, so that one
 * aborts.  Each layout is replayed again walking every time (no_memo):
 * the memos of the CPU model's translations are for speed only, so a
 * different result, error or counter is a bug in a memo, and aborts.
 *
 * zstd inputs are skipped: a few KiB of zstd can expand to millions of
 * events, which is a slow input, not a new path (fuzz_trace_binary covers
 * zstd).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/util.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The counters: struct tdp_stats up to the timing histograms. */
#define COUNTERS_SIZE	offsetof(struct tdp_stats, walk_kind_ticks)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tdp_replay_result *res;
	static const char *const layouts[] = { "new", "old" };
	char path[64], errbuf[2][TDP_ERRBUF_SIZE];
	int fd;

	if (!size || fuzz_is_zstd(data, size))
		return -1;
	if (!res) {
		res = malloc(2 * sizeof(*res));
		if (!res)
			abort();
	}
	fuzz_memfd(data, size, &fd, path);
	for (int i = 0; i < 2; i++) {
		int ret[2];

		for (int m = 0; m < 2; m++) {
			/*
			 * Read in line: a read-ahead thread per replay cost
			 * 30 % of the executions per second under ASan even
			 * on one replay of the four (test_trace holds the
			 * read-ahead to reading in line).
			 */
			struct tdp_replay_opts opts = {
				.layout = layouts[i],
				.engine = { .check = true, .check_every = 64, .no_memo = m },
				.interval = 1000,
				.no_read_ahead = true,
			};

			memset(&res[m].stats, 0, sizeof(res[m].stats));
			errbuf[m][0] = 0;
			ret[m] = tdp_replay_run(path, &opts, NULL, &res[m], errbuf[m],
						sizeof(errbuf[m]));
			if (ret[m] == TDP_E_INTERNAL && strstr(errbuf[m], "invariant")) {
				fprintf(stderr, "%s\n", errbuf[m]);
				abort();
			}
		}
		if (ret[0] != ret[1] || strcmp(errbuf[0], errbuf[1]) ||
		    (!ret[0] && memcmp(&res[0].stats, &res[1].stats, COUNTERS_SIZE))) {
			fprintf(stderr, "layout %s: the replay with the memos differs from the "
				"one without: %d '%s' vs %d '%s'\n", layouts[i], ret[0],
				errbuf[0], ret[1], errbuf[1]);
			abort();
		}
	}
	close(fd);
	return 0;
}
