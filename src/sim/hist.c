// SPDX-License-Identifier: GPL-2.0-only
/* Log-linear histogram: bucket bounds, quantiles, merge (see stats.h). */
#include <string.h>

#include <tdpsim/stats.h>

void tdp_hist_init(struct tdp_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t tdp_hist_bucket_upper(unsigned b)
{
	unsigned k, sub;
	uint64_t lo;

	if (b < TDP_HIST_SUB)
		return b;
	k = b / TDP_HIST_SUB + TDP_HIST_SUB_BITS - 1;
	sub = b % TDP_HIST_SUB;
	lo = ((uint64_t)(TDP_HIST_SUB + sub)) << (k - TDP_HIST_SUB_BITS);
	/* width of one sub-bucket at this power of two */
	return lo + (1ull << (k - TDP_HIST_SUB_BITS)) - 1;
}

uint64_t tdp_hist_quantile(const struct tdp_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* smallest value v with at least ceil(q * count) samples <= v */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	for (unsigned b = 0; b < TDP_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t up = tdp_hist_bucket_upper(b);

			return up > h->max ? h->max : up;
		}
	}
	return h->max;
}

void tdp_hist_merge(struct tdp_hist *dst, const struct tdp_hist *src)
{
	if (!src->count)
		return;
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned b = 0; b < TDP_HIST_BUCKETS; b++)
		dst->bucket[b] += src->bucket[b];
}
