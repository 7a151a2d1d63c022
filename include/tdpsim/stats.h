/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log-linear histogram for latencies (TSC ticks or ns).
 *
 * Values 0..(2^TDP_HIST_SUB_BITS - 1) get one bucket each; above that, each
 * power of two [2^k, 2^(k+1)) is split into 2^TDP_HIST_SUB_BITS equal
 * sub-buckets, so the relative bucket width is at most 2^-SUB_BITS (12.5 %
 * for SUB_BITS 3).  Recording is a few shifts and one increment: no
 * allocation, no floating point.  Percentiles report the upper bound of the
 * bucket that holds the rank (never below the true value), clamped to max.
 *
 *   bucket(v) = v                                   if v < 2^S
 *             = (k - S + 1) * 2^S + ((v >> (k - S)) - 2^S)   k = floor(log2 v)
 */
#ifndef TDPSIM_STATS_H
#define TDPSIM_STATS_H

#include <stdint.h>

#define TDP_HIST_SUB_BITS	3
#define TDP_HIST_SUB		(1u << TDP_HIST_SUB_BITS)
#define TDP_HIST_BUCKETS	((64 - TDP_HIST_SUB_BITS + 1) * TDP_HIST_SUB)

struct tdp_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t bucket[TDP_HIST_BUCKETS];
};

#define TDP_HIST_INIT { .min = UINT64_MAX }

static inline unsigned tdp_hist_bucket(uint64_t v)
{
	unsigned k, shift;

	if (v < TDP_HIST_SUB)
		return (unsigned)v;
	k = 63 - (unsigned)__builtin_clzll(v);
	shift = k - TDP_HIST_SUB_BITS;
	return (k - TDP_HIST_SUB_BITS + 1) * TDP_HIST_SUB +
	       (unsigned)((v >> shift) - TDP_HIST_SUB);
}

static inline void tdp_hist_add(struct tdp_hist *h, uint64_t v)
{
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->bucket[tdp_hist_bucket(v)]++;
}

void tdp_hist_init(struct tdp_hist *h);
/* Largest value that falls into bucket @b. */
uint64_t tdp_hist_bucket_upper(unsigned b);
/* Value at quantile @q (0..1): upper bound of its bucket, clamped to max; 0 if empty. */
uint64_t tdp_hist_quantile(const struct tdp_hist *h, double q);
/* Add @src into @dst. */
void tdp_hist_merge(struct tdp_hist *dst, const struct tdp_hist *src);

#endif /* TDPSIM_STATS_H */
