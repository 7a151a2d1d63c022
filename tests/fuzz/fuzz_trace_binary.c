// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the binary trace reader (zstd stream, pcap framing,
 * header record, event blocks, trailer).  Each event that decodes is also
 * printed, and re-checked: the reader promises every event it hands out
 * passed tdp_event_check(), so a failure there is a reader bug.
 */
#include <stdint.h>
#include <stdlib.h>

#include <tdpsim/trace.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], errbuf[TDP_ERRBUF_SIZE], line[1024], why[256];
	const struct tdp_event *ev;
	tdp_trace_t *t = NULL;
	int fd;

	if (size < 4 || (data[0] != 0x28 && data[0] != 0xd4 && data[0] != 0x4d))
		return -1;	/* zstd or little-endian pcap magics only */
	fuzz_memfd(data, size, &fd, path);
	if (!tdp_trace_open(&t, path, errbuf)) {
		while (tdp_trace_next(t, &ev) == 1) {
			if (tdp_event_check(ev, tdp_trace_config(t), why, sizeof(why)))
				abort();
			tdp_event_format(ev, line, sizeof(line));
		}
		tdp_trace_close(t);
	}
	close(fd);
	return 0;
}
