// SPDX-License-Identifier: GPL-2.0-only
/*
 * zstd streams as stdio FILEs (fopencookie), so the pcap framing code reads
 * and writes plain FILE*s whatever the compression.
 *
 * Invariants:
 *  - The cookie owns the underlying FILE; closing the cookie FILE closes it.
 *  - Reading reports EOF only when the input is exhausted *and* the decoder
 *    has nothing buffered; input that ends inside a frame is an error
 *    ("truncated zstd frame"), never a silent short trace.
 *  - Errors set errno = EIO and leave a message in the cookie's errbuf,
 *    which the opener handed in and outlives the stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
/*
 * For ZSTD_c_literalCompressionMode (an "experimental" parameter since
 * 1.4.5, unchanged through 1.5.x); if a libzstd refuses it, we go on with
 * compressed literals: the output is a valid frame either way.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <tdpsim/errors.h>

#include "trace-int.h"

struct zck {
	FILE *f;		/* the compressed file */
	ZSTD_DCtx *d;
	ZSTD_CCtx *c;
	ZSTD_inBuffer in;	/* read side: unread compressed bytes in buf */
	uint8_t *buf;
	size_t cap;
	size_t last;		/* last ZSTD_decompressStream() hint; 0 = frame done */
	bool eof;
	bool failed;
	uint64_t *raw_bytes;	/* decompressed bytes handed out (may be NULL) */
	char *errbuf;
	size_t errlen;
};

static void zck_free(struct zck *z)
{
	ZSTD_freeDCtx(z->d);
	ZSTD_freeCCtx(z->c);
	free(z->buf);
	free(z);
}

static ssize_t zck_fail(struct zck *z, const char *what, const char *detail)
{
	if (!z->failed)
		snprintf(z->errbuf, z->errlen, "%s%s%s", what, detail ? ": " : "",
			 detail ? detail : "");
	z->failed = true;
	errno = EIO;
	return -1;
}

static ssize_t z_read(void *ck, char *dst, size_t n)
{
	struct zck *z = ck;
	ZSTD_outBuffer out = { dst, n, 0 };

	if (z->failed)
		return zck_fail(z, "", NULL);
	while (out.pos < out.size) {
		if (z->in.pos == z->in.size && !z->eof) {
			size_t got = fread(z->buf, 1, z->cap, z->f);

			if (!got) {
				if (ferror(z->f))
					return zck_fail(z, "read error", strerror(errno));
				z->eof = true;
			}
			z->in = (ZSTD_inBuffer){ z->buf, got, 0 };
		}
		if (z->eof && z->in.pos == z->in.size) {
			/*
			 * No input left: flush what the decoder still holds
			 * (out of room is the only reason it kept any).
			 */
			size_t before = out.pos;

			if (z->last) {
				z->last = ZSTD_decompressStream(z->d, &out, &z->in);
				if (ZSTD_isError(z->last))
					return zck_fail(z, "zstd stream error",
							ZSTD_getErrorName(z->last));
			}
			if (out.pos == before) {
				if (z->last)
					return zck_fail(z, "truncated zstd frame", NULL);
				break;
			}
			continue;
		}
		z->last = ZSTD_decompressStream(z->d, &out, &z->in);
		if (ZSTD_isError(z->last))
			return zck_fail(z, "zstd stream error", ZSTD_getErrorName(z->last));
	}
	if (z->raw_bytes)
		*z->raw_bytes += out.pos;
	return out.pos;
}

static ssize_t z_write(void *ck, const char *src, size_t n)
{
	struct zck *z = ck;
	ZSTD_inBuffer in = { src, n, 0 };

	while (in.pos < in.size) {
		ZSTD_outBuffer out = { z->buf, z->cap, 0 };
		size_t r = ZSTD_compressStream2(z->c, &out, &in, ZSTD_e_continue);

		if (ZSTD_isError(r)) {
			zck_fail(z, "zstd stream error", ZSTD_getErrorName(r));
			return 0;
		}
		if (out.pos && fwrite(z->buf, 1, out.pos, z->f) != out.pos) {
			zck_fail(z, "write error", strerror(errno));
			return 0;
		}
	}
	return n;
}

static int z_close(void *ck)
{
	struct zck *z = ck;
	int ret = 0;

	if (z->c && !z->failed) {
		ZSTD_inBuffer in = { NULL, 0, 0 };
		size_t r;

		do {
			ZSTD_outBuffer out = { z->buf, z->cap, 0 };

			r = ZSTD_compressStream2(z->c, &out, &in, ZSTD_e_end);
			if (ZSTD_isError(r)) {
				zck_fail(z, "zstd stream error", ZSTD_getErrorName(r));
				break;
			}
			if (out.pos && fwrite(z->buf, 1, out.pos, z->f) != out.pos) {
				zck_fail(z, "write error", strerror(errno));
				break;
			}
		} while (r);
	}
	if (z->c && z->failed)
		ret = -1;
	if (fclose(z->f) && z->c) {
		zck_fail(z, "write error", strerror(errno));
		ret = -1;
	}
	zck_free(z);
	if (ret)
		errno = EIO;
	return ret;
}

FILE *tdp__zstd_reader(FILE *raw, uint64_t *raw_bytes, char *errbuf, size_t errlen)
{
	cookie_io_functions_t io = { .read = z_read, .close = z_close };
	struct zck *z = calloc(1, sizeof(*z));
	FILE *fp;

	if (!z)
		return NULL;
	z->f = raw;
	z->d = ZSTD_createDCtx();
	z->cap = ZSTD_DStreamInSize();
	z->buf = malloc(z->cap);
	z->last = 1;	/* nothing decoded yet: no frame is complete */
	z->raw_bytes = raw_bytes;
	z->errbuf = errbuf;
	z->errlen = errlen;
	if (!z->d || !z->buf)
		goto out_free;
	fp = fopencookie(z, "r", io);
	if (!fp)
		goto out_free;
	/* large reads bypass this buffer; small ones (record headers) use it */
	setvbuf(fp, NULL, _IOFBF, 1 << 17);
	return fp;

out_free:
	zck_free(z);
	return NULL;
}

FILE *tdp__zstd_writer(FILE *raw, int level, char *errbuf, size_t errlen)
{
	cookie_io_functions_t io = { .write = z_write, .close = z_close };
	struct zck *z = calloc(1, sizeof(*z));
	FILE *fp;

	if (!z)
		return NULL;
	z->f = raw;
	z->c = ZSTD_createCCtx();
	z->cap = ZSTD_CStreamOutSize();
	z->buf = malloc(z->cap);
	z->errbuf = errbuf;
	z->errlen = errlen;
	if (!z->c || !z->buf ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->c, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->c, ZSTD_c_checksumFlag, 1)))
		goto out_free;
	/*
	 * Raw literals: our blocks are already entropy-poor varints, and
	 * Huffman-decoding their literals was a third of the read time;
	 * measured 4.40 -> 4.82 bytes/event, ~17 % faster decode
	 * (docs/trace-format.md, "Why this shape").  Best effort, see the
	 * include above.
	 */
	ZSTD_CCtx_setParameter(z->c, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
	fp = fopencookie(z, "w", io);
	if (!fp)
		goto out_free;
	setvbuf(fp, NULL, _IOFBF, 1 << 17);
	return fp;

out_free:
	zck_free(z);
	return NULL;
}
