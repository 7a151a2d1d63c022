// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace reader: detect the form by content, then hand out events in
 * batches decoded into an array the reader owns.
 *
 * Binary path: the pcap framing is parsed here from the (decompressed)
 * FILE rather than by libpcap, which costs ~40-50 ns per record in
 * pcap_next_ex (see docs/trace-format.md); the files stay standard pcap
 * that libpcap and tshark read (tests/test_trace.c checks libpcap).
 *
 * Read-ahead (tdp_trace_read_ahead()): a second thread runs the same batch
 * readers into a ring of RA_SLOTS batches while the caller replays.  Reading
 * and decoding are the simulator's, not the port's: moving them to the other
 * core takes ~180-410 instructions per event off the replay thread.  Events,
 * errors and positions handed out are the same with and without it
 * (tests/test_trace.c compares them on good and damaged traces).
 *
 * Invariants:
 *  - Every event handed out passed the same checks as the text parser
 *    (ranges, vendor keys, vcpu < vcpus), so consumers need not re-check.
 *  - Errors are sticky: after one, next() keeps returning it.
 *  - A binary trace is complete only with its trailer, whose count matches.
 *  - Ownership: the fields above "consumer" are the producer's (the read-
 *    ahead thread's, while it runs); the consumer sees them only through a
 *    struct rbatch it was handed under ra_lock, which orders the producer's
 *    writes (t->err included) before its reads.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tdpsim/errors.h>

#include "trace-int.h"

/* Events ahead of the one handed out that tdp_trace_next() prefetches. */
#define RA_PREFETCH 32

/*
 * One batch as handed out, with what the consumer may ask about it: the
 * position and progress snapshots are taken when it was read, so that they
 * stay right while the producer is already further on.
 */
struct rbatch {
	int n;			/* events (> 0), 0 at the end, or TDP_E_* */
	uint64_t pos;		/* tdp_trace_position() with no event taken */
	uint64_t file_pos;	/* tdp_trace_file_pos() snapshot */
	uint64_t raw_bytes;	/* tdp_trace_raw_bytes() snapshot */
	uint64_t line[TDP_TRACE_BATCH];	/* text: each event's line */
	/* + RA_PREFETCH: tdp_trace_next()'s prefetch stays inside the array */
	struct tdp_event ev[TDP_TRACE_BATCH + RA_PREFETCH];
};

/*
 * Batches in flight: ~1.3 MiB.  The producer sleeps when the ring is full
 * and is woken when half of it is free, so RA_SLOTS / 2 batches (8k events,
 * ~200 us of a hit-dominated replay) must outlast waking a sleeping CPU,
 * which on a VM takes up to hundreds of microseconds: 16 slots left the
 * replay waiting (hit-dominated 38.0 M events/s against 40.0 with 64).
 */
#define RA_SLOTS 64

struct tdp_trace {
	char *name;		/* for messages: a copy of the path, or "<stdin>" */
	enum tdp_trace_form form;
	FILE *fp;		/* what we read: the file or the zstd cookie */
	FILE *file;		/* the file itself (under the cookie), for progress */
	bool is_stdin;
	struct tdp_config cfg;
	char producer[256];
	char *notes;		/* header notes, '\n'-separated; NULL if none */
	size_t notes_len;
	bool in_header;		/* text: before the config line, '#!' lines are notes */
	int error;		/* sticky TDP_E_* */
	bool done;
	uint64_t file_size;	/* st_size, 0 for pipes */
	uint64_t raw_bytes;	/* bytes of the decoded stream consumed */

	/* text */
	char *line;		/* TDP_TEXT_LINE_MAX + 2 bytes, allocated once */
	uint64_t lineno;

	/* binary */
	uint8_t *rec;		/* TDP_RECORD_MAX + TDP_DECODE_SLACK bytes */
	uint64_t recno;		/* index of the record in rec (0 = header) */
	uint64_t nrec;		/* records started so far */
	uint64_t rec_off;	/* its offset in the pcap stream */
	uint64_t offset;	/* bytes of the pcap stream read so far */
	struct tdp_decoder dec;	/* the current block */
	uint64_t events;	/* events decoded so far */

	uint64_t nbatch;	/* batches read, for the file_pos snapshots */
	uint64_t file_pos;	/* last ftello() of t->file */
	char err[TDP_ERRBUF_SIZE];
	char zerr[256];		/* set by the zstd cookie */

	/* consumer */
	struct rbatch *ring;	/* 1 batch, or RA_SLOTS with read-ahead */
	struct rbatch *cur;	/* the batch events are handed out of; NULL before the first */
	unsigned int bi, bn;
	bool ended;		/* cur->n <= 0 was seen: sticky */

	/* read-ahead: ra_w and ra_r count batches published and released */
	bool ra_on;
	bool ra_stop;		/* under ra_lock: the consumer closes */
	uint64_t ra_w, ra_r;	/* under ra_lock */
	bool ra_pwait;		/* under ra_lock: the producer sleeps (ring full) */
	pthread_t ra_thread;
	pthread_mutex_t ra_lock;
	pthread_cond_t ra_cv;	/* either side waits on it for the other */
	/* tdp_trace_position() / raw_bytes() before the first batch, once it runs */
	uint64_t ra_pos0, ra_raw0;
};

/*
 * Record the first error: "FILE: why", or "FILE:LINE: why" when @line is
 * non-zero (text traces).
 */
__attribute__((format(printf, 4, 5)))
static int fail_at(tdp_trace_t *t, int err, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->error)
		return t->error;
	if (line)
		n = snprintf(t->err, sizeof(t->err), "%s:%llu: ", t->name,
			     (unsigned long long)line);
	else
		n = snprintf(t->err, sizeof(t->err), "%s: ", t->name);
	va_start(ap, fmt);
	vsnprintf(t->err + n, sizeof(t->err) - n, fmt, ap);
	va_end(ap);
	t->error = err;
	return err;
}

#define fail(t, err, fmt, ...) fail_at(t, err, 0, fmt, ##__VA_ARGS__)
/* "FILE: record N, offset X: why" */
#define fail_rec(t, err, fmt, ...)						\
	fail(t, err, "record %llu, offset %llu: " fmt,				\
	     (unsigned long long)(t)->recno, (unsigned long long)(t)->rec_off, ##__VA_ARGS__)
/* "FILE:LINE: why" */
#define fail_line(t, err, fmt, ...) fail_at(t, err, (t)->lineno, fmt, ##__VA_ARGS__)

/* A read error from the cookie carries its own message. */
static int fail_stream(tdp_trace_t *t, const char *what)
{
	if (t->zerr[0])
		return fail_rec(t, TDP_E_ZSTD, "%s", t->zerr);
	if (ferror(t->fp))
		return fail_rec(t, TDP_E_IO, "read error: %s", strerror(errno));
	return fail_rec(t, TDP_E_TRUNC, "%s", what);
}

/* ------------------------------------------------------------------ */
/* text */

/* Append one header note line (text '#!' line or binary notes field). */
static int add_note(tdp_trace_t *t, const char *s, size_t len)
{
	char *n;

	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	n = realloc(t->notes, t->notes_len + len + 2);
	if (!n)
		return fail(t, TDP_E_NOMEM, "out of memory");
	t->notes = n;
	if (t->notes_len)
		n[t->notes_len++] = '\n';
	memcpy(n + t->notes_len, s, len);
	t->notes_len += len;
	n[t->notes_len] = 0;
	return 0;
}

/*
 * read_line() - one line into t->line, newline kept, NUL-terminated.
 * Return: its length, 0 at end of file, or TDP_E_* (error set).  The line
 * buffer is allocated once at open, so a hostile file with one huge line
 * costs no memory: past TDP_TEXT_LINE_MAX bytes it is refused.  getline()
 * was not used because it grows without bound and reports ENOMEM as -1,
 * which is indistinguishable from end of file.
 */
static ssize_t read_line(tdp_trace_t *t)
{
	size_t n = 0;
	int c = 0;

	while ((c = getc_unlocked(t->fp)) != EOF) {
		if (n == TDP_TEXT_LINE_MAX + 1)	/* the newline may follow the limit */
			return fail_at(t, TDP_E_FORMAT, t->lineno + 1,
				       "line longer than %u bytes", TDP_TEXT_LINE_MAX);
		t->line[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (c == EOF && ferror(t->fp))
		return fail(t, TDP_E_IO, "read error: %s", strerror(errno));
	if (n == TDP_TEXT_LINE_MAX + 1 && t->line[n - 1] != '\n')
		return fail_at(t, TDP_E_FORMAT, t->lineno + 1,
			       "line longer than %u bytes", TDP_TEXT_LINE_MAX);
	t->line[n] = 0;
	return n;
}

/* Next non-blank line with its comment cut; NULL at EOF (or error set). */
static char *text_line(tdp_trace_t *t)
{
	ssize_t n;

	while ((n = read_line(t)) > 0) {
		char *s = t->line, *hash;

		t->lineno++;
		t->raw_bytes += n;
		if (memchr(s, 0, n)) {
			fail_line(t, TDP_E_FORMAT, "NUL byte in line");
			return NULL;
		}
		hash = strchr(s, '#');
		/* '#!' lines before the config are the header's notes */
		if (hash == s && hash[1] == '!' && t->in_header &&
		    add_note(t, s + 2 + (s[2] == ' '), strlen(s + 2 + (s[2] == ' '))))
			return NULL;
		if (hash)
			*hash = 0;
		s += strspn(s, " \t\r\n");
		if (*s)
			return s;
	}
	return NULL;
}

static int text_open(tdp_trace_t *t)
{
	char why[256], *s, *save = NULL, *w, *ver, *extra;
	int ret;

	t->in_header = true;
	s = text_line(t);
	if (!s)
		return t->error ? t->error : fail(t, TDP_E_FORMAT, "missing 'tdpsim-trace 1' header");
	w = strtok_r(s, " \t\r\n", &save);
	ver = strtok_r(NULL, " \t\r\n", &save);
	extra = strtok_r(NULL, " \t\r\n", &save);
	if (strcmp(w, "tdpsim-trace") || !ver)
		return fail_line(t, TDP_E_FORMAT, "expected 'tdpsim-trace 1' header");
	if (strcmp(ver, "1"))
		return fail_line(t, TDP_E_VERSION, "unsupported trace version '%s'", ver);
	if (extra)
		return fail_line(t, TDP_E_FORMAT, "trailing garbage '%s' after header", extra);

	s = text_line(t);
	if (!s)
		return t->error ? t->error : fail_line(t, TDP_E_FORMAT, "missing config line");
	w = strtok_r(s, " \t\r\n", &save);
	if (strcmp(w, "config"))
		return fail_line(t, TDP_E_CONFIG, "'%s' before the config line", w);
	t->in_header = false;
	ret = tdp_config_parse(&t->cfg, save ? save : "", why, sizeof(why));
	if (ret)
		return fail_line(t, ret, "%s", why);
	return 0;
}

static int text_batch(tdp_trace_t *t, struct rbatch *b)
{
	char why[256];
	unsigned int n = 0;

	while (n < TDP_TRACE_BATCH) {
		char *s = text_line(t), *end;
		int ret;

		if (!s)
			break;
		end = s + strcspn(s, " \t\r\n");
		if (end - s == 6 && !memcmp(s, "config", 6))
			return fail_line(t, TDP_E_CONFIG, "second config line");
		ret = tdp_event_parse(&b->ev[n], s, &t->cfg, why, sizeof(why));
		if (ret)
			return fail_line(t, ret, "%s", why);
		b->line[n++] = t->lineno;
	}
	if (t->error)
		return t->error;
	return n;
}

/* ------------------------------------------------------------------ */
/* binary */

/* Read the next pcap record into t->rec.  Return: its length, 0 at EOF, or TDP_E_*. */
static int read_record(tdp_trace_t *t, uint32_t *tag)
{
	uint8_t hdr[16];
	uint32_t caplen, len;
	size_t got;

	t->recno = t->nrec++;
	t->rec_off = t->offset;
	got = fread(hdr, 1, sizeof(hdr), t->fp);
	if (got == 0 && !ferror(t->fp) && !t->zerr[0])
		return 0;
	if (got < sizeof(hdr))
		return fail_stream(t, "truncated record header");
	caplen = tdp__get32(hdr + 8);
	len = tdp__get32(hdr + 12);
	if (caplen != len)
		return fail_rec(t, TDP_E_FORMAT, "record cut by snaplen (%u of %u bytes)",
				caplen, len);
	if (caplen > TDP_RECORD_MAX)
		return fail_rec(t, TDP_E_FORMAT, "record length %u exceeds the maximum %u",
				caplen, TDP_RECORD_MAX);
	if (caplen < 4)
		return fail_rec(t, TDP_E_FORMAT, "record length %u too short", caplen);
	got = fread(t->rec, 1, caplen, t->fp);
	if (got < caplen)
		return fail_stream(t, "truncated record");
	/* decoding may overrun the end by up to TDP_EVENT_MAX_BYTES: zeros */
	memset(t->rec + caplen, 0, TDP_DECODE_SLACK);
	t->offset += sizeof(hdr) + caplen;
	if (t->form == TDP_FORM_PCAP)
		t->raw_bytes = t->offset;
	*tag = tdp__get32(t->rec);
	return caplen;
}

static int binary_header(tdp_trace_t *t)
{
	uint8_t fh[24];
	uint32_t magic, linktype, tag, version, clen, plen, flags, nlen = 0;
	char why[256], cfgtext[512];
	int len, ret;

	if (fread(fh, 1, sizeof(fh), t->fp) != sizeof(fh))
		return t->zerr[0] ? fail(t, TDP_E_ZSTD, "pcap file header: %s", t->zerr)
				  : fail(t, TDP_E_TRUNC, "truncated pcap file header");
	magic = tdp__get32(fh);
	if (magic != TDP_PCAP_MAGIC_NS && magic != TDP_PCAP_MAGIC_US)
		return fail(t, TDP_E_PCAP, "not a little-endian pcap stream (magic 0x%08x)", magic);
	if (fh[4] != 2 || fh[5] != 0 || fh[6] != 4 || fh[7] != 0)
		return fail(t, TDP_E_PCAP, "unsupported pcap version %u.%u",
			    fh[4] | fh[5] << 8, fh[6] | fh[7] << 8);
	linktype = tdp__get32(fh + 20) & 0xffff;
	if (linktype != TDP_LINKTYPE_USER0)
		return fail(t, TDP_E_LINKTYPE, "pcap link type %u is not USER0 (%u)",
			    linktype, TDP_LINKTYPE_USER0);
	t->offset = sizeof(fh);

	len = read_record(t, &tag);
	if (len < 0)
		return len;
	if (len == 0)
		return fail(t, TDP_E_TRUNC, "no header record");
	if (tag != TDP_REC_HEADER || len < 28 || memcmp(t->rec + 4, TDP_TRACE_MAGIC, 12))
		return fail_rec(t, TDP_E_FORMAT, "not a tdpsim trace header");
	version = tdp__get32(t->rec + 16);
	if (version != TDP_FORMAT_VERSION)
		return fail_rec(t, TDP_E_VERSION, "unsupported trace format version %u", version);
	clen = t->rec[24] | t->rec[25] << 8;
	plen = t->rec[26] | t->rec[27] << 8;
	flags = tdp__get32(t->rec + 20);
	if (flags & ~TDP_HDR_NOTES)
		return fail_rec(t, TDP_E_FORMAT, "unknown header flags 0x%x", flags);
	if (flags & TDP_HDR_NOTES) {
		/* u32 length + the notes text after the producer */
		if (28 + clen + plen + 4 > (uint32_t)len)
			return fail_rec(t, TDP_E_FORMAT, "bad header lengths (notes)");
		nlen = tdp__get32(t->rec + 28 + clen + plen);
		if (nlen > (uint32_t)len || memchr(t->rec + 32 + clen + plen, 0, nlen))
			return fail_rec(t, TDP_E_FORMAT, "bad header notes");
		if (add_note(t, (const char *)t->rec + 32 + clen + plen, nlen))
			return t->error;
		nlen += 4;
	}
	if (28 + clen + plen + nlen != (uint32_t)len || clen >= sizeof(cfgtext) ||
	    plen >= sizeof(t->producer))
		return fail_rec(t, TDP_E_FORMAT, "bad header lengths (config %u, producer %u)",
				clen, plen);
	memcpy(cfgtext, t->rec + 28, clen);
	cfgtext[clen] = 0;
	memcpy(t->producer, t->rec + 28 + clen, plen);
	t->producer[plen] = 0;
	if (memchr(cfgtext, 0, clen))
		return fail_rec(t, TDP_E_FORMAT, "NUL byte in config");
	ret = tdp_config_parse(&t->cfg, cfgtext, why, sizeof(why));
	if (ret)
		return fail_rec(t, ret, "config: %s", why);
	return 0;
}

static int binary_batch(tdp_trace_t *t, struct rbatch *b)
{
	int n;

	while (!t->dec.left) {
		uint32_t tag = 0, count;
		int len = read_record(t, &tag);

		if (len < 0)
			return len;
		if (len == 0)
			return fail(t, TDP_E_TRUNC, "missing trailer record after %llu events "
				    "(truncated trace?)", (unsigned long long)t->events);
		if (tag == TDP_REC_TRAILER) {
			uint64_t total;

			if (len != 16)
				return fail_rec(t, TDP_E_FORMAT, "bad trailer length %d", len);
			total = tdp__get64(t->rec + 8);
			if (total != t->events)
				return fail_rec(t, TDP_E_FORMAT, "trailer counts %llu events, "
						"read %llu", (unsigned long long)total,
						(unsigned long long)t->events);
			if (read_record(t, &tag) != 0)
				return t->error ? t->error :
				       fail_rec(t, TDP_E_FORMAT, "record after the trailer");
			t->done = true;
			return 0;
		}
		if (tag != TDP_REC_BLOCK)
			return fail_rec(t, TDP_E_FORMAT, "unknown record type 0x%08x", tag);
		if (len < (int)TDP_BLOCK_HDR)
			return fail_rec(t, TDP_E_FORMAT, "block record too short");
		count = tdp__get32(t->rec + 4);
		/* every event takes at least 1 byte */
		if (!count || count > len - TDP_BLOCK_HDR)
			return fail_rec(t, TDP_E_FORMAT, "block of %u events does not fit "
					"%d bytes", count, len);
		memset(&t->dec.st, 0, sizeof(t->dec.st));
		t->dec.left = count;
		t->dec.pos = t->rec + TDP_BLOCK_HDR;
		t->dec.end = t->rec + len;
	}
	n = tdp__decode_batch(&t->dec, b->ev, TDP_TRACE_BATCH);
	if (n < 0)
		return fail_rec(t, n, "event %llu at byte %ld: %s",
				(unsigned long long)(t->events + t->dec.nok),
				(long)(t->dec.pos - t->rec), t->dec.why);
	t->events += n;
	return n;
}

/* ------------------------------------------------------------------ */
/* API */

/*
 * Text traces start with a word, a comment or a blank, in ASCII: no control
 * bytes but blanks, and an ASCII first byte.
 */
static bool looks_like_text(const uint8_t *m, size_t n)
{
	if (m[0] >= 0x80)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((m[i] < 0x20 && m[i] != '\t' && m[i] != '\n' && m[i] != '\r') || m[i] == 0x7f)
			return false;
	return true;
}

/*
 * fill() - read the next batch into @b, with its snapshots (producer side).
 * b->n is sticky through t->error and t->done like the readers themselves.
 */
static void fill(tdp_trace_t *t, struct rbatch *b)
{
	int n;

	if (t->error)
		n = t->error;
	else if (t->done)
		n = 0;
	else
		n = t->form == TDP_FORM_TEXT ? text_batch(t, b) : binary_batch(t, b);
	if (!n)
		t->done = true;	/* binary_batch() returns 0 only after the trailer */
	b->n = n;
	b->pos = t->form == TDP_FORM_TEXT ? t->lineno : t->recno;
	/* ftello() is a system call: a fresh figure every 64 batches is enough for a progress bar */
	if (t->file_size && !(t->nbatch++ & 63)) {
		off_t pos = ftello(t->file);

		t->file_pos = pos < 0 ? 0 : (uint64_t)pos;
	}
	b->file_pos = t->file_size ? t->file_pos : t->raw_bytes;
	b->raw_bytes = t->raw_bytes;
}

static void *ra_main(void *arg)
{
	tdp_trace_t *t = arg;
	struct rbatch *b;
	bool last;

	do {
		pthread_mutex_lock(&t->ra_lock);
		if (t->ra_w - t->ra_r == RA_SLOTS) {
			/*
			 * Full: sleep until half of it is free, so that the
			 * two threads trade one wake-up per RA_SLOTS / 2
			 * batches rather than one per batch.
			 */
			t->ra_pwait = true;
			while (t->ra_w - t->ra_r > RA_SLOTS / 2 && !t->ra_stop)
				pthread_cond_wait(&t->ra_cv, &t->ra_lock);
			t->ra_pwait = false;
		}
		if (t->ra_stop) {
			pthread_mutex_unlock(&t->ra_lock);
			break;
		}
		b = &t->ring[t->ra_w % RA_SLOTS];
		pthread_mutex_unlock(&t->ra_lock);

		fill(t, b);
		last = b->n <= 0;

		pthread_mutex_lock(&t->ra_lock);
		if (t->ra_w++ == t->ra_r)	/* the ring was empty: the consumer may wait */
			pthread_cond_signal(&t->ra_cv);
		pthread_mutex_unlock(&t->ra_lock);
	} while (!last);
	return NULL;
}

/*
 * The next batch into t->cur; its n.  With read-ahead, the batch held so far
 * is released first (its events' pointers die here, as documented).
 */
static int next_batch(tdp_trace_t *t)
{
	if (t->ended)
		return t->cur->n;
	if (!t->ra_on) {
		t->cur = t->ring;
		fill(t, t->cur);
	} else {
		pthread_mutex_lock(&t->ra_lock);
		if (t->cur && t->ra_w - ++t->ra_r == RA_SLOTS / 2 && t->ra_pwait)
			pthread_cond_signal(&t->ra_cv);
		while (t->ra_w == t->ra_r)
			pthread_cond_wait(&t->ra_cv, &t->ra_lock);
		t->cur = &t->ring[t->ra_r % RA_SLOTS];
		pthread_mutex_unlock(&t->ra_lock);
	}
	t->bi = 0;
	t->bn = t->cur->n > 0 ? t->cur->n : 0;
	t->ended = t->cur->n <= 0;
	return t->cur->n;
}

int tdp_trace_read_ahead(tdp_trace_t *t)
{
	struct rbatch *ring, *one = t->ring;
	cpu_set_t cpus;

	/*
	 * Not for stdin (closing early would wait for a pipe), not once
	 * started or read from, and not with one CPU to run on: there the
	 * second thread would only take turns with the replay.
	 */
	if (t->ra_on || t->cur || t->is_stdin)
		return 0;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) || CPU_COUNT(&cpus) < 2)
		return 0;
	ring = malloc(RA_SLOTS * sizeof(*ring));
	if (!ring)
		return 0;	/* reading in line is still right */
	if (pthread_mutex_init(&t->ra_lock, NULL))
		goto out_free;
	if (pthread_cond_init(&t->ra_cv, NULL))
		goto out_mutex;
	/* what the consumer may ask before its first batch, from now on */
	t->ra_pos0 = t->form == TDP_FORM_TEXT ? t->lineno : t->recno;
	t->ra_raw0 = t->raw_bytes;
	t->ring = ring;	/* before the thread: ra_main() fills it */
	if (pthread_create(&t->ra_thread, NULL, ra_main, t))
		goto out_undo;
	t->ra_on = true;
	free(one);
	return 1;

out_undo:
	t->ring = one;
	pthread_cond_destroy(&t->ra_cv);
out_mutex:
	pthread_mutex_destroy(&t->ra_lock);
out_free:
	free(ring);
	return 0;
}

static void ra_stop(tdp_trace_t *t)
{
	if (!t->ra_on)
		return;
	pthread_mutex_lock(&t->ra_lock);
	t->ra_stop = true;
	pthread_cond_broadcast(&t->ra_cv);
	pthread_mutex_unlock(&t->ra_lock);
	pthread_join(t->ra_thread, NULL);
	pthread_cond_destroy(&t->ra_cv);
	pthread_mutex_destroy(&t->ra_lock);
	t->ra_on = false;
}

int tdp_trace_next_batch(tdp_trace_t *t, const struct tdp_event **evs)
{
	int n = next_batch(t);

	if (n > 0) {
		t->bi = n;
		*evs = t->cur->ev;
	}
	return n;
}

int tdp_trace_next(tdp_trace_t *t, const struct tdp_event **ev)
{
	int n;

	if (__builtin_expect(t->bi < t->bn, 1)) {
		/* the batch was written on the other core: ask for it early */
		__builtin_prefetch(&t->cur->ev[t->bi + RA_PREFETCH]);
		*ev = &t->cur->ev[t->bi++];
		return 1;
	}
	n = next_batch(t);
	if (n <= 0)
		return n;
	*ev = &t->cur->ev[0];
	t->bi = 1;
	return 1;
}

int tdp_trace_open(tdp_trace_t **tp, const char *path, char errbuf[TDP_ERRBUF_SIZE])
{
	tdp_trace_t *t;
	uint8_t m[4];
	struct stat st;
	size_t got;
	int ret;

	*tp = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "%s: out of memory", path);
		return TDP_E_NOMEM;
	}
	t->is_stdin = !strcmp(path, "-");
	t->name = strdup(t->is_stdin ? "<stdin>" : path);
	if (!t->name) {
		free(t);
		snprintf(errbuf, TDP_ERRBUF_SIZE, "%s: out of memory", path);
		return TDP_E_NOMEM;
	}
	if (t->is_stdin) {
		t->fp = stdin;
	} else {
		t->fp = fopen(path, "rb");
		if (!t->fp) {
			ret = fail(t, TDP_E_IO, "cannot open '%s': %s", path, strerror(errno));
			goto out_free;
		}
	}
	t->file = t->fp;
	if (fstat(fileno(t->fp), &st)) {
		ret = fail(t, TDP_E_IO, "cannot stat: %s", strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = fail(t, TDP_E_IO, "is a directory");
		goto out_close;
	}
	if (S_ISREG(st.st_mode))
		t->file_size = st.st_size;

	got = fread(m, 1, sizeof(m), t->fp);
	if (got == 0) {
		ret = ferror(t->fp) ? fail(t, TDP_E_IO, "read error: %s", strerror(errno))
				    : fail(t, TDP_E_TRUNC, "empty file");
		goto out_close;
	}
	/* put the magic back: seek when we can, else stdio pushback */
	if (fseek(t->fp, 0, SEEK_SET)) {
		clearerr(t->fp);
		for (size_t i = got; i > 0; i--)
			ungetc(m[i - 1], t->fp);
	}

	if (got == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		FILE *z = tdp__zstd_reader(t->fp, &t->raw_bytes, t->zerr, sizeof(t->zerr));

		if (!z) {
			ret = fail(t, TDP_E_NOMEM, "cannot set up zstd decoder");
			goto out_close;
		}
		t->fp = z;
		t->form = TDP_FORM_ZST;
	} else if (got == 4 && (tdp__get32(m) == TDP_PCAP_MAGIC_NS ||
				tdp__get32(m) == TDP_PCAP_MAGIC_US)) {
		t->form = TDP_FORM_PCAP;
	} else if (got == 4 && (__builtin_bswap32(tdp__get32(m)) == TDP_PCAP_MAGIC_NS ||
				__builtin_bswap32(tdp__get32(m)) == TDP_PCAP_MAGIC_US)) {
		ret = fail(t, TDP_E_PCAP, "big-endian pcap is not supported");
		goto out_close;
	} else if (got == 4 && tdp__get32(m) == 0x0a0d0d0a) {
		ret = fail(t, TDP_E_PCAP, "pcapng is not supported (convert with 'editcap -F pcap')");
		goto out_close;
	} else if (!looks_like_text(m, got)) {
		ret = fail(t, TDP_E_FORMAT, "not a trace (starts with %02x %02x %02x %02x)",
			   m[0], got > 1 ? m[1] : 0, got > 2 ? m[2] : 0, got > 3 ? m[3] : 0);
		goto out_close;
	} else {
		t->form = TDP_FORM_TEXT;
	}

	if (t->form == TDP_FORM_TEXT) {
		t->line = malloc(TDP_TEXT_LINE_MAX + 2);
		ret = t->line ? text_open(t) : fail(t, TDP_E_NOMEM, "out of memory");
	} else {
		t->rec = malloc(TDP_RECORD_MAX + TDP_DECODE_SLACK);
		ret = t->rec ? binary_header(t) : fail(t, TDP_E_NOMEM, "out of memory");
	}
	if (ret)
		goto out_close;
	t->ring = malloc(sizeof(*t->ring));
	if (!t->ring) {
		ret = fail(t, TDP_E_NOMEM, "out of memory");
		goto out_close;
	}
	tdp__decoder_init(&t->dec, &t->cfg);
	*tp = t;
	return 0;

out_close:
	if (!t->is_stdin || t->form == TDP_FORM_ZST)
		fclose(t->fp);
out_free:
	snprintf(errbuf, TDP_ERRBUF_SIZE, "%s", t->err);
	free(t->rec);
	free(t->line);
	free(t->name);
	free(t->notes);
	free(t);
	return ret;
}

void tdp_trace_close(tdp_trace_t *t)
{
	if (!t)
		return;
	ra_stop(t);
	free(t->ring);
	if (!t->is_stdin || t->form == TDP_FORM_ZST)
		fclose(t->fp);
	free(t->rec);
	free(t->line);
	free(t->name);
	free(t->notes);
	free(t);
}

const struct tdp_config *tdp_trace_config(const tdp_trace_t *t)
{
	return &t->cfg;
}

enum tdp_trace_form tdp_trace_form(const tdp_trace_t *t)
{
	return t->form;
}

const char *tdp_trace_notes(const tdp_trace_t *t)
{
	return t->notes ? t->notes : "";
}

const char *tdp_trace_producer(const tdp_trace_t *t)
{
	return t->producer;
}

const char *tdp_trace_errmsg(const tdp_trace_t *t)
{
	return t->err;
}

uint64_t tdp_trace_position(const tdp_trace_t *t)
{
	if (!t->cur && t->ra_on)	/* the producer owns lineno and recno */
		return t->ra_pos0;
	if (!t->cur)
		return t->form == TDP_FORM_TEXT ? t->lineno : t->recno;
	if (t->form == TDP_FORM_TEXT && t->bi)
		return t->cur->line[t->bi - 1];
	return t->cur->pos;
}

uint64_t tdp_trace_file_bytes(const tdp_trace_t *t)
{
	return t->file_size;
}

uint64_t tdp_trace_file_pos(const tdp_trace_t *t)
{
	/* ftello runs ahead by stdio's buffer: close enough for a progress bar */
	return t->cur ? t->cur->file_pos : 0;
}

uint64_t tdp_trace_raw_bytes(const tdp_trace_t *t)
{
	if (!t->cur)
		return t->ra_on ? t->ra_raw0 : t->raw_bytes;
	return t->cur->raw_bytes;
}
