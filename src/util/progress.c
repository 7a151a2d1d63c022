// SPDX-License-Identifier: GPL-2.0-only
/*
 * Progress line on stderr for long runs: events done, how far through the
 * input (bytes of the file, the only total a trace gives before its
 * trailer), percentage, rate and ETA, redrawn at most 10 times a second
 * so the terminal costs nothing measurable.
 */
#include <stdio.h>
#include <string.h>

#include <tdpsim/util.h>

#define REFRESH_NS 100000000ull	/* 10 per second at most */

void tdp_progress_init(struct tdp_progress *p, FILE *fp, uint64_t total_bytes,
		       uint64_t now_ns)
{
	memset(p, 0, sizeof(*p));
	p->fp = fp;
	p->total_bytes = total_bytes;
	p->t0 = now_ns;
	p->next = now_ns;	/* the first update draws: short runs show one line too */
}

/* "12.3 M" / "45.6 k" / "789": a count that fits a few columns */
static void fmt_count(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1f M ", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1f k ", v / 1e3);
	else
		snprintf(buf, len, "%.0f ", v);
}

int tdp_progress_format(char *buf, size_t len, uint64_t events, uint64_t done_bytes,
			uint64_t total_bytes, double secs)
{
	double rate = secs > 0 ? (double)events / secs : 0;
	char ev[24], r[24], eta[40] = "";
	int n;

	fmt_count(ev, sizeof(ev), (double)events);
	/* below 0.1 M/s in k/s: never "0.0 M/s" */
	if (rate >= 1e5)
		snprintf(r, sizeof(r), "%.1f M/s", rate / 1e6);
	else
		snprintf(r, sizeof(r), "%.1f k/s", rate / 1e3);
	if (total_bytes && done_bytes <= total_bytes) {
		double frac = (double)done_bytes / (double)total_bytes;

		if (frac > 0.001 && secs > 0) {
			double est = secs / frac - secs + 0.5;
			unsigned long left = est < 359999 ? (unsigned long)est : 359999;

			snprintf(eta, sizeof(eta), ", ETA %lu:%02lu", left / 60, left % 60);
		}
		/* stdio and zstd read ahead: 100% only when done */
		if (frac > 0.99)
			frac = 0.99;
		n = snprintf(buf, len, "tdpsim: %sevents, %.0f%% of %.1f MB, %s%s", ev, frac * 100,
			     (double)total_bytes / 1e6, r, eta);
	} else {
		n = snprintf(buf, len, "tdpsim: %sevents, %.1f MB read, %s", ev,
			     (double)done_bytes / 1e6, r);
	}
	return n;
}

bool tdp_progress_update(struct tdp_progress *p, uint64_t events, uint64_t done_bytes,
			 uint64_t now_ns)
{
	char line[TDP_TEXT_COLS + 1];

	if (now_ns < p->next)
		return false;
	p->next = now_ns + REFRESH_NS;
	tdp_progress_format(line, sizeof(line), events, done_bytes, p->total_bytes,
			    (double)(now_ns - p->t0) / 1e9);
	/* \r and erase-to-end: the line may shrink */
	fprintf(p->fp, "\r%s\033[K", line);
	fflush(p->fp);
	p->shown = true;
	return true;
}

void tdp_progress_end(struct tdp_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", p->fp);
	p->shown = false;
}
