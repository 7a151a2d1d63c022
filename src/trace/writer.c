// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace writer: text lines, or pcap records (header, event blocks,
 * trailer), optionally through a zstd cookie.
 *
 * Invariants:
 *  - Output goes to "<path>.tmp.<pid>"; only a successful close renames it
 *    over @path, and every failure path unlinks it, so a reader never sees
 *    a half-written trace under the final name.
 *  - Every event written passed tdp_event_check() against the config, so a
 *    written trace always reads back.
 *  - A block record never exceeds TDP_BLOCK_MAX bytes (trace-int.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/util.h>

#include "trace-int.h"

struct tdp_writer {
	enum tdp_trace_form form;
	char *path;		/* final name; NULL for stdout */
	char *tmp;		/* temporary name; NULL for stdout, devices, FIFOs */
	bool direct;		/* a device or FIFO, written in place */
	bool to_stdout;
	FILE *fp;		/* what we write: file, zstd cookie, or stdout */
	int error;		/* sticky */
	bool have_cfg;
	struct tdp_config cfg;
	char producer[256];
	char *notes;		/* header notes, '\n'-separated; NULL if none */
	size_t notes_len;
	uint64_t events;

	/* binary */
	uint8_t *blk;		/* TDP_BLOCK_MAX bytes */
	size_t blen;		/* 0: no block open */
	uint32_t bcount;
	uint64_t bt;		/* pcap timestamp of the open block */
	uint64_t last_t;
	struct tdp_codec_state st;

	char err[TDP_ERRBUF_SIZE];
	char zerr[256];		/* set by the zstd cookie */
};

__attribute__((format(printf, 3, 4)))
static int fail(tdp_writer_t *w, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->error)
		return w->error;
	n = snprintf(w->err, sizeof(w->err), "%s: ", w->path ? w->path : "<stdout>");
	va_start(ap, fmt);
	vsnprintf(w->err + n, sizeof(w->err) - n, fmt, ap);
	va_end(ap);
	w->error = err;
	return err;
}

enum tdp_trace_form tdp_form_from_name(const char *path)
{
	size_t n = strlen(path);

	if (!strcmp(path, "-") || (n >= 4 && !strcmp(path + n - 4, ".txt")))
		return TDP_FORM_TEXT;
	if (n >= 5 && !strcmp(path + n - 5, ".pcap"))
		return TDP_FORM_PCAP;
	return TDP_FORM_ZST;
}

static int write_bytes(tdp_writer_t *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->fp) != n)
		return fail(w, w->zerr[0] ? TDP_E_ZSTD : TDP_E_IO, "cannot write: %s",
			    w->zerr[0] ? w->zerr : strerror(errno));
	return 0;
}

static int write_record(tdp_writer_t *w, const uint8_t *p, uint32_t len, uint64_t t)
{
	uint8_t hdr[16];

	tdp__put32(hdr, t / 1000000000u);
	tdp__put32(hdr + 4, t % 1000000000u);
	tdp__put32(hdr + 8, len);
	tdp__put32(hdr + 12, len);
	return write_bytes(w, hdr, sizeof(hdr)) ?: write_bytes(w, p, len);
}

int tdp_writer_open(tdp_writer_t **wp, const char *path, enum tdp_trace_form form,
		    int level, const char *producer, char errbuf[TDP_ERRBUF_SIZE])
{
	tdp_writer_t *w;
	FILE *raw = NULL;
	int ret;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return TDP_E_NOMEM;
	w->form = form;
	snprintf(w->producer, sizeof(w->producer), "%s",
		 producer ? producer : "tdpsim " TDPSIM_VERSION);
	if (!strcmp(path, "-")) {
		/* binary to a pipe is fine; to a terminal it is noise (zstd's rule) */
		if (form != TDP_FORM_TEXT && isatty(STDOUT_FILENO)) {
			ret = fail(w, TDP_E_USAGE, "binary trace not written to a terminal "
				   "(redirect stdout)");
			goto out_free;
		}
		/* the zstd cookie closes its FILE: give it a copy of stdout */
		raw = form == TDP_FORM_ZST ? fdopen(dup(STDOUT_FILENO), "wb") : stdout;
		w->to_stdout = true;
		if (!raw) {
			ret = fail(w, TDP_E_IO, "cannot write to stdout: %s", strerror(errno));
			goto out_free;
		}
	} else {
		ret = tdp_output_target(path, &w->path, &w->direct, w->err, sizeof(w->err));
		if (ret)
			goto out_free;
		if (w->direct) {
			raw = fopen(w->path, "wb");
		} else {
			if (asprintf(&w->tmp, "%s.tmp.%ld", w->path, (long)getpid()) < 0) {
				w->tmp = NULL;
				ret = fail(w, TDP_E_NOMEM, "out of memory");
				goto out_free;
			}
			tdp_tmp_register(w->tmp);
			raw = fopen(w->tmp, "wbx");
		}
		if (!raw) {
			ret = fail(w, TDP_E_IO, "cannot create '%s': %s", path, strerror(errno));
			goto out_free;
		}
	}
	if (form == TDP_FORM_ZST) {
		w->fp = tdp__zstd_writer(raw, level ? level : 3, w->zerr, sizeof(w->zerr));
		if (!w->fp) {
			ret = fail(w, TDP_E_ZSTD, "cannot set up zstd level %d", level);
			goto out_unlink;
		}
	} else {
		w->fp = raw;
	}
	if (form != TDP_FORM_TEXT) {
		w->blk = malloc(TDP_BLOCK_MAX);
		if (!w->blk) {
			ret = fail(w, TDP_E_NOMEM, "out of memory");
			goto out_fclose;
		}
	}
	*wp = w;
	return 0;

out_fclose:
	if (w->fp != stdout)
		fclose(w->fp);
	raw = NULL;
out_unlink:
	if (raw && raw != stdout)
		fclose(raw);
	if (w->tmp)
		unlink(w->tmp);
out_free:
	if (w->tmp)
		tdp_tmp_forget(w->tmp);
	snprintf(errbuf, TDP_ERRBUF_SIZE, "%s", w->err);
	free(w->path);
	free(w->tmp);
	free(w);
	return ret;
}

int tdp_writer_note(tdp_writer_t *w, const char *line)
{
	size_t len = strlen(line);
	char *n;

	if (w->error)
		return w->error;
	if (w->have_cfg)
		return fail(w, TDP_E_USAGE, "header note after the config");
	/* the binary header record must stay far below TDP_RECORD_MAX */
	if (w->notes_len + len + 1 > 60000)
		return fail(w, TDP_E_RANGE, "header notes longer than 60000 bytes");
	n = realloc(w->notes, w->notes_len + len + 2);
	if (!n)
		return fail(w, TDP_E_NOMEM, "out of memory");
	w->notes = n;
	if (w->notes_len)
		n[w->notes_len++] = '\n';
	for (size_t i = 0; i < len; i++)
		n[w->notes_len + i] = (line[i] == '\n' || line[i] == '\r') ? ' ' : line[i];
	w->notes_len += len;
	n[w->notes_len] = 0;
	return 0;
}

/* Text form of the notes: one '#!' line each, right after the header line. */
static int write_text_notes(tdp_writer_t *w)
{
	const char *s = w->notes;

	while (s && *s) {
		size_t l = strcspn(s, "\n");

		if (fprintf(w->fp, "#! %.*s\n", (int)l, s) < 0)
			return fail(w, TDP_E_IO, "cannot write: %s", strerror(errno));
		s += l + (s[l] == '\n');
	}
	return 0;
}

int tdp_writer_config(tdp_writer_t *w, const struct tdp_config *cfg)
{
	char text[512];
	uint8_t fh[24], *rec;
	size_t clen, plen;
	int n;

	if (w->error)
		return w->error;
	if (w->have_cfg)
		return fail(w, TDP_E_CONFIG, "second config");
	w->have_cfg = true;
	w->cfg = *cfg;
	n = tdp_config_format(cfg, text, sizeof(text));
	if (n < 0)
		return fail(w, n, "cannot format config");
	if (w->form == TDP_FORM_TEXT) {
		if (fprintf(w->fp, "tdpsim-trace 1\n") < 0 || write_text_notes(w) ||
		    fprintf(w->fp, "config %s\n", text) < 0)
			return w->error ? w->error :
			       fail(w, TDP_E_IO, "cannot write: %s", strerror(errno));
		return 0;
	}
	/* pcap file header: ns timestamps, LINKTYPE_USER0 */
	tdp__put32(fh, TDP_PCAP_MAGIC_NS);
	fh[4] = 2; fh[5] = 0; fh[6] = 4; fh[7] = 0;
	tdp__put32(fh + 8, 0);			/* thiszone */
	tdp__put32(fh + 12, 0);			/* sigfigs */
	tdp__put32(fh + 16, TDP_PCAP_SNAPLEN);
	tdp__put32(fh + 20, TDP_LINKTYPE_USER0);
	if (write_bytes(w, fh, sizeof(fh)))
		return w->error;

	clen = n;
	plen = strlen(w->producer);
	rec = malloc(28 + clen + plen + 4 + w->notes_len);
	if (!rec)
		return fail(w, TDP_E_NOMEM, "out of memory");
	tdp__put32(rec, TDP_REC_HEADER);
	memcpy(rec + 4, TDP_TRACE_MAGIC, 12);
	tdp__put32(rec + 16, TDP_FORMAT_VERSION);
	tdp__put32(rec + 20, w->notes_len ? TDP_HDR_NOTES : 0);
	rec[24] = clen; rec[25] = clen >> 8;
	rec[26] = plen; rec[27] = plen >> 8;
	memcpy(rec + 28, text, clen);
	memcpy(rec + 28 + clen, w->producer, plen);
	if (w->notes_len) {
		tdp__put32(rec + 28 + clen + plen, (uint32_t)w->notes_len);
		memcpy(rec + 32 + clen + plen, w->notes, w->notes_len);
	}
	n = write_record(w, rec, 28 + clen + plen + (w->notes_len ? 4 + w->notes_len : 0), 0);
	free(rec);
	return n;
}

static int flush_block(tdp_writer_t *w)
{
	int ret;

	if (!w->bcount)
		return 0;
	tdp__put32(w->blk, TDP_REC_BLOCK);
	tdp__put32(w->blk + 4, w->bcount);
	tdp__put32(w->blk + 8, 0);
	ret = write_record(w, w->blk, w->blen, w->bt);
	w->blen = 0;
	w->bcount = 0;
	return ret;
}

int tdp_writer_event(tdp_writer_t *w, const struct tdp_event *ev)
{
	char why[256], line[512];
	int ret;

	if (w->error)
		return w->error;
	if (!w->have_cfg)
		return fail(w, TDP_E_CONFIG, "event before config");
	ret = tdp_event_check(ev, &w->cfg, why, sizeof(why));
	if (ret)
		return fail(w, ret, "event %llu: %s", (unsigned long long)w->events + 1, why);
	w->events++;
	if (ev->present & TDP_PRESENT_T)
		w->last_t = ev->t;
	if (w->form == TDP_FORM_TEXT) {
		tdp_event_format(ev, line, sizeof(line));
		if (fprintf(w->fp, "%s\n", line) < 0)
			return fail(w, TDP_E_IO, "cannot write: %s", strerror(errno));
		return 0;
	}
	if (!w->bcount) {
		w->blen = TDP_BLOCK_HDR;
		w->bt = w->last_t;
		memset(&w->st, 0, sizeof(w->st));
	}
	w->blen = tdp__encode_event(w->blk + w->blen, ev, &w->st) - w->blk;
	w->bcount++;
	if (w->blen >= TDP_BLOCK_HDR + TDP_BLOCK_TARGET)
		return flush_block(w);
	return 0;
}

int tdp_writer_close(tdp_writer_t *w)
{
	int ret = w->error;

	if (!ret && !w->have_cfg)
		ret = fail(w, TDP_E_CONFIG, "no config written");
	if (!ret && w->form != TDP_FORM_TEXT) {
		uint8_t trl[16];

		ret = flush_block(w);
		tdp__put32(trl, TDP_REC_TRAILER);
		tdp__put32(trl + 4, 0);
		tdp__put64(trl + 8, w->events);
		if (!ret)
			ret = write_record(w, trl, sizeof(trl), w->last_t);
	}
	if (w->to_stdout) {
		/* a zstd cookie over stdout: closing it ends the frame, not stdout */
		if (w->fp != stdout && fclose(w->fp) && !ret)
			ret = fail(w, w->zerr[0] ? TDP_E_ZSTD : TDP_E_IO, "cannot write: %s",
				   w->zerr[0] ? w->zerr : strerror(errno));
		w->fp = NULL;
		if (!ret && (fflush(stdout) || ferror(stdout)))
			ret = fail(w, TDP_E_IO, "cannot write: %s", strerror(errno));
		return ret;
	}
	if (fclose(w->fp) && !ret)
		ret = fail(w, w->zerr[0] ? TDP_E_ZSTD : TDP_E_IO, "cannot write: %s",
			   w->zerr[0] ? w->zerr : strerror(errno));
	w->fp = NULL;
	if (w->tmp) {
		if (!ret && rename(w->tmp, w->path))
			ret = fail(w, TDP_E_IO, "cannot rename '%s': %s", w->tmp,
				   strerror(errno));
		if (ret)
			unlink(w->tmp);
		tdp_tmp_forget(w->tmp);
	}
	return ret;
}

void tdp_writer_free(tdp_writer_t *w)
{
	if (!w)
		return;
	if (w->fp && w->fp != stdout)
		fclose(w->fp);	/* also a zstd cookie over stdout */
	if (w->fp && w->tmp) {
		unlink(w->tmp);
		tdp_tmp_forget(w->tmp);
	}
	free(w->path);
	free(w->tmp);
	free(w->blk);
	free(w->notes);
	free(w);
}

const char *tdp_writer_errmsg(const tdp_writer_t *w)
{
	return w->err;
}
