// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: reading a JSON report or comparison file, as
 * 'compare A.json B.json' and 'plot' do (tdp_report_load: JSON parser and
 * the schema checks on top of it).
 */
#include <stdint.h>
#include <stdlib.h>

#include <tdpsim/report.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdp_report *reps = NULL;
	char path[64];
	size_t n = 0;
	int fd;

	fuzz_memfd(data, size, &fd, path);
	if (!tdp_report_load(path, &reps, &n))
		tdp_report_free_array(reps, n);
	close(fd);
	return 0;
}
