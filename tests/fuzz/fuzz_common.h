/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the libFuzzer harnesses: hand the input to the library through
 * a path, as the CLI does, without touching the disk.  A memfd reopened via
 * /proc/self/fd gets its own file offset, so the readers' fopen()/fseek()
 * behave exactly as on a regular file (size known, seekable).
 */
#ifndef TDPSIM_FUZZ_COMMON_H
#define TDPSIM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Fill *@fd with a memfd holding @data; write its path into @path. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, int *fd,
			     char path[64])
{
	size_t off = 0;

	*fd = memfd_create("fuzz-input", 0);
	if (*fd < 0)
		abort();	/* the harness, not the input, is broken */
	while (off < size) {
		ssize_t n = write(*fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", *fd);
	return 0;
}

/* zstd frame magic: the replay harness leaves zstd to the reader harness */
static inline int fuzz_is_zstd(const uint8_t *data, size_t size)
{
	return size >= 4 && data[0] == 0x28 && data[1] == 0xb5 &&
	       data[2] == 0x2f && data[3] == 0xfd;
}

#endif /* TDPSIM_FUZZ_COMMON_H */
