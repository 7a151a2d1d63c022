// SPDX-License-Identifier: GPL-2.0-only
/* Log-linear histogram: bucket boundaries and quantiles. */
#include <criterion/criterion.h>

#include <tdpsim/stats.h>

/* Every value lands in a bucket whose bounds contain it, and bucket
 * indexes are monotonic in the value: checked around every power of two. */
Test(hist, buckets_contain_their_values)
{
	unsigned prev = 0;

	for (unsigned k = 0; k < 64; k++) {
		uint64_t base = 1ull << k;
		uint64_t probes[] = { base - 1, base, base + 1, base + base / 3,
				      base + base / 2, base * 2 - 1 };

		for (unsigned i = 0; i < 6; i++) {
			uint64_t v = probes[i];
			unsigned b = tdp_hist_bucket(v);

			if (k == 63 && i == 5)
				v = UINT64_MAX, b = tdp_hist_bucket(v);
			cr_assert_lt(b, TDP_HIST_BUCKETS, "v=%lu b=%u", v, b);
			cr_assert_geq(tdp_hist_bucket_upper(b), v, "v=%lu b=%u", v, b);
			if (b > 0)
				cr_assert_lt(tdp_hist_bucket_upper(b - 1), v,
					     "v=%lu b=%u lower bound", v, b);
			if (v >= prev)
				cr_assert_geq(b, tdp_hist_bucket(prev));
			prev = v;
		}
	}
}

/* Small values are exact: one bucket per value below 2^SUB_BITS. */
Test(hist, small_values_exact)
{
	for (uint64_t v = 0; v < TDP_HIST_SUB; v++)
		cr_assert_eq(tdp_hist_bucket_upper(tdp_hist_bucket(v)), v);
}

/* Relative error of a reported quantile is bounded by the bucket width. */
Test(hist, quantiles_of_uniform_1_to_1000)
{
	struct tdp_hist h = TDP_HIST_INIT;

	for (uint64_t v = 1; v <= 1000; v++)
		tdp_hist_add(&h, v);
	cr_assert_eq(h.count, 1000);
	cr_assert_eq(h.min, 1);
	cr_assert_eq(h.max, 1000);
	cr_assert_eq(h.sum, 500500);
	/* true p50 = 500, p90 = 900, p99 = 990; allowed: [true, true*1.125] */
	uint64_t p50 = tdp_hist_quantile(&h, 0.5), p90 = tdp_hist_quantile(&h, 0.9),
		 p99 = tdp_hist_quantile(&h, 0.99);
	cr_expect(p50 >= 500 && p50 <= 563, "p50=%lu", p50);
	cr_expect(p90 >= 900 && p90 <= 1000, "p90=%lu", p90);
	cr_expect(p99 >= 990 && p99 <= 1000, "p99=%lu", p99);
	cr_expect_eq(tdp_hist_quantile(&h, 1.0), 1000);
	cr_expect_eq(tdp_hist_quantile(&h, 0.0), 1);
}

Test(hist, empty_and_merge)
{
	struct tdp_hist a = TDP_HIST_INIT, b = TDP_HIST_INIT;

	cr_expect_eq(tdp_hist_quantile(&a, 0.5), 0);
	tdp_hist_add(&a, 10);
	tdp_hist_add(&b, 3);
	tdp_hist_add(&b, 7000);
	tdp_hist_merge(&a, &b);
	cr_expect_eq(a.count, 3);
	cr_expect_eq(a.min, 3);
	cr_expect_eq(a.max, 7000);
	cr_expect_eq(a.sum, 7013);
	/* rank 2 of {3,10,7000} is 10, exact below 16? 10 is in [8,16) width 1 */
	cr_expect_eq(tdp_hist_quantile(&a, 0.5), 10);
}
