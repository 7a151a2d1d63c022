// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the text trace reader (header, config, every event
 * line).  Inputs that the reader would take for binary are skipped so the
 * fuzzer's time goes to the text parser; fuzz_trace_binary covers the rest.
 */
#include <stdint.h>
#include <stdlib.h>

#include <tdpsim/trace.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ev;
	tdp_trace_t *t = NULL;
	char line[1024];
	int fd;

	if (!size || data[0] >= 0x80 || (data[0] < 0x20 && data[0] != '\n' &&
					 data[0] != '\t' && data[0] != '\r'))
		return -1;	/* not text: keep it out of the corpus */
	fuzz_memfd(data, size, &fd, path);
	if (!tdp_trace_open(&t, path, errbuf)) {
		/* the printer must take whatever the parser accepted */
		while (tdp_trace_next(t, &ev) == 1)
			tdp_event_format(ev, line, sizeof(line));
		tdp_trace_close(t);
	}
	close(fd);
	return 0;
}
