// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: replay any trace the reader accepts, text or pcap,
 * through both ACC layouts with the invariant checker on.  A replay may
 * refuse the trace (exit 2 material: an event KVM cannot take in that
 * state, MBEC on the old layout); it must never crash, leak, hang or
 * report a broken MMU invariant, which is a bug in the port, so that one
 * aborts.
 *
 * zstd inputs are skipped: a few KiB of zstd can expand to millions of
 * events, which is a slow input, not a new path (fuzz_trace_binary covers
 * zstd).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/util.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tdp_replay_result *res;
	static const char *const layouts[] = { "new", "old" };
	char path[64], errbuf[TDP_ERRBUF_SIZE];
	int fd;

	if (!size || fuzz_is_zstd(data, size))
		return -1;
	if (!res) {
		res = malloc(sizeof(*res));
		if (!res)
			abort();
	}
	fuzz_memfd(data, size, &fd, path);
	for (int i = 0; i < 2; i++) {
		struct tdp_replay_opts opts = {
			.layout = layouts[i],
			.engine = { .check = true, .check_every = 64 },
			.interval = 1000,
		};
		int ret = tdp_replay_run(path, &opts, NULL, res, errbuf, sizeof(errbuf));

		if (ret == TDP_E_INTERNAL && strstr(errbuf, "invariant")) {
			fprintf(stderr, "%s\n", errbuf);
			abort();
		}
	}
	close(fd);
	return 0;
}
