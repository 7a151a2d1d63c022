// SPDX-License-Identifier: GPL-2.0-only
/* Sparse guest memory: zero fill, access rule, memslot bounds, cmpxchg. */
#include <criterion/criterion.h>

#include <tdpsim/errors.h>
#include <tdpsim/gmem.h>

static struct tdp_gmem *mk(uint64_t size)
{
	struct tdp_gmem *gm;

	cr_assert_eq(tdp_gmem_create(&gm, size), 0);
	return gm;
}

Test(gmem, create_rejects_bad_sizes)
{
	struct tdp_gmem *gm = (void *)1;

	cr_expect_eq(tdp_gmem_create(&gm, 0), TDP_E_RANGE);
	cr_expect_null(gm);
	cr_expect_eq(tdp_gmem_create(&gm, 4097), TDP_E_RANGE);
	cr_expect_eq(tdp_gmem_create(&gm, TDP_GMEM_MAX_SIZE + 4096), TDP_E_RANGE);
	cr_assert_eq(tdp_gmem_create(&gm, TDP_GMEM_MAX_SIZE), 0);
	/* the largest slot costs only its top[] array (a byte per 2 MiB) until touched */
	cr_expect_eq(tdp_gmem_footprint(gm), TDP_GMEM_MAX_SIZE >> 21);
	tdp_gmem_destroy(gm);
}

Test(gmem, untouched_reads_zero_and_allocates_nothing)
{
	struct tdp_gmem *gm = mk(1ull << 30);
	uint64_t v = 0xdead;

	for (uint64_t gpa = 0; gpa < (1ull << 30); gpa += (1ull << 20) + 8) {
		cr_assert_eq(tdp_gmem_read(gm, gpa, 8, &v), 0);
		cr_assert_eq(v, 0);
	}
	/* writing zeros to untouched memory keeps it untouched */
	cr_assert_eq(tdp_gmem_write(gm, 0x5000, 8, 0), 0);
	cr_assert_eq(tdp_gmem_write(gm, 0x5000, 4, 0xffffffff00000000ull), 0);
	cr_expect_eq(gm->pages_allocated, 0);
	tdp_gmem_destroy(gm);
}

/* Every size at every offset within a word: little endian, zero-extended,
 * neighbours untouched. */
Test(gmem, sizes_are_little_endian_and_isolated)
{
	struct tdp_gmem *gm = mk(1 << 20);
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	uint64_t v;

	for (unsigned s = 0; s < 4; s++) {
		unsigned size = sizes[s];

		for (unsigned off = 0; off < 16; off += size) {
			uint64_t gpa = 0x3000 + 0x40 * s + off;
			uint64_t pat = 0x8877665544332211ull;
			uint64_t mask = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;

			cr_assert_eq(tdp_gmem_write(gm, gpa, size, pat), 0);
			cr_assert_eq(tdp_gmem_read(gm, gpa, size, &v), 0);
			cr_assert_eq(v, pat & mask, "size %u off %u", size, off);
			/* the byte at gpa is the least significant one */
			cr_assert_eq(tdp_gmem_read(gm, gpa, 1, &v), 0);
			cr_assert_eq(v, 0x11);
			/* the byte after the access is untouched (zero) */
			if (off + size < 16) {
				cr_assert_eq(tdp_gmem_read(gm, gpa + size, 1, &v), 0);
				cr_assert_eq(v, 0, "size %u off %u", size, off);
			}
			cr_assert_eq(tdp_gmem_write(gm, gpa, size, 0), 0);
		}
	}
	cr_expect_eq(gm->pages_allocated, 1);
	tdp_gmem_destroy(gm);
}

/* The access rule: natural alignment, sizes 1/2/4/8 only -- checked for
 * every size 0..9 and every misalignment within 8. */
Test(gmem, access_rule_is_enforced)
{
	struct tdp_gmem *gm = mk(1 << 20);
	uint64_t v;

	for (unsigned size = 0; size <= 9; size++) {
		for (unsigned mis = 0; mis < 8; mis++) {
			bool ok = (size == 1 || size == 2 || size == 4 || size == 8) &&
				  mis % size == 0;
			int want = ok ? 0 : TDP_E_USAGE;
			/* last bytes of a page: misaligned would cross */
			uint64_t gpa = 0x1ff8 + mis;

			cr_assert_eq(tdp_gmem_read(gm, gpa, size, &v), want,
				     "read size %u mis %u", size, mis);
			cr_assert_eq(tdp_gmem_write(gm, gpa, size, 1), want,
				     "write size %u mis %u", size, mis);
		}
	}
	cr_expect_eq(tdp_gmem_cmpxchg64(gm, 0x1004, &v, 1), TDP_E_USAGE);
	tdp_gmem_destroy(gm);
}

/* Memslot bounds: the last byte is in, the next page is not (KVM's
 * no-memslot case), including very large gfns. */
Test(gmem, memslot_bounds)
{
	uint64_t size = 3 * 4096 + (1 << 21);	/* not a multiple of 2 MiB */
	struct tdp_gmem *gm = mk(size);
	uint64_t v = 77, old = 0;

	cr_expect(tdp_gmem_gfn_in_slot(gm, size / 4096 - 1));
	cr_expect(!tdp_gmem_gfn_in_slot(gm, size / 4096));
	cr_expect(!tdp_gmem_gfn_in_slot(gm, ~0ull >> 12));
	cr_assert_eq(tdp_gmem_write(gm, size - 8, 8, 0x1234), 0);
	cr_assert_eq(tdp_gmem_read(gm, size - 8, 8, &v), 0);
	cr_assert_eq(v, 0x1234);
	v = 77;
	cr_expect_eq(tdp_gmem_read(gm, size, 8, &v), TDP_E_RANGE);
	cr_expect_eq(v, 77, "a failed read leaves the value alone");
	cr_expect_eq(tdp_gmem_write(gm, size, 1, 1), TDP_E_RANGE);
	cr_expect_eq(tdp_gmem_read(gm, 1ull << 51, 8, &v), TDP_E_RANGE);
	cr_expect_eq(tdp_gmem_read(gm, ~7ull, 8, &v), TDP_E_RANGE);
	cr_expect_eq(tdp_gmem_cmpxchg64(gm, size, &old, 1), TDP_E_RANGE);
	cr_expect_null(tdp_gmem_page_get(gm, size / 4096));
	/* byte ranges: straddling the end is all-or-nothing */
	cr_expect_eq(tdp_gmem_write_bytes(gm, size - 4, "abcdefgh", 8), TDP_E_RANGE);
	cr_assert_eq(tdp_gmem_read(gm, size - 8, 8, &v), 0);
	cr_expect_eq(v, 0x1234);
	cr_expect_eq(tdp_gmem_read_bytes(gm, ~0ull - 2, &v, 4), TDP_E_RANGE);
	tdp_gmem_destroy(gm);
}

Test(gmem, cmpxchg64_contract)
{
	struct tdp_gmem *gm = mk(1 << 20);
	uint64_t old, v;

	/* untouched memory compares as zero */
	old = 5;
	cr_assert_eq(tdp_gmem_cmpxchg64(gm, 0x2008, &old, 9), 1);
	cr_expect_eq(old, 0, "mismatch reports the current value");
	cr_expect_eq(gm->pages_allocated, 0, "a failed cmpxchg writes nothing");
	cr_assert_eq(tdp_gmem_cmpxchg64(gm, 0x2008, &old, 0x21), 0);
	cr_assert_eq(tdp_gmem_read(gm, 0x2008, 8, &v), 0);
	cr_expect_eq(v, 0x21);
	old = 0x1;
	cr_assert_eq(tdp_gmem_cmpxchg64(gm, 0x2008, &old, 0x61), 1);
	cr_expect_eq(old, 0x21);
	cr_assert_eq(tdp_gmem_read(gm, 0x2008, 8, &v), 0);
	cr_expect_eq(v, 0x21, "a failed cmpxchg leaves memory alone");
	tdp_gmem_destroy(gm);
}

/* Footprint follows pages touched, not the number of accesses: a million
 * writes over 3 pages in 2 distinct 2 MiB regions cost 3 pages + 2 leaves. */
Test(gmem, footprint_grows_with_pages_not_accesses)
{
	struct tdp_gmem *gm = mk(1ull << 32);
	static const uint64_t base[] = { 0x1000, 0x2000, 0x40000000 };
	uint64_t before = tdp_gmem_footprint(gm);

	for (unsigned i = 0; i < 1000000; i++)
		cr_assert_eq(tdp_gmem_write(gm, base[i % 3] + (i % 512) * 8, 8,
					    i + 1), 0);
	cr_expect_eq(gm->pages_allocated, 3);
	cr_expect_eq(gm->leaves_allocated, 2);
	cr_expect_eq(tdp_gmem_footprint(gm) - before,
		     3 * 4096 + 2 * 512 * sizeof(void *));
	tdp_gmem_destroy(gm);
}

Test(gmem, byte_ranges_cross_pages)
{
	struct tdp_gmem *gm = mk(1 << 20);
	uint8_t in[10000], out[10000];
	uint64_t v;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(tdp_gmem_write_bytes(gm, 0xffd, in, sizeof(in)), 0);
	cr_assert_eq(tdp_gmem_read_bytes(gm, 0xffd, out, sizeof(out)), 0);
	cr_assert_arr_eq(in, out, sizeof(in));
	/* byte 3 of the range is the first byte of page 1 */
	cr_assert_eq(tdp_gmem_read(gm, 0x1000, 1, &v), 0);
	cr_expect_eq(v, in[3]);
	/* pages 0..3 are touched: 0xffd + 10000 = 0x371d */
	cr_expect_eq(gm->pages_allocated, 4);
	/* reading an untouched range yields zeros */
	memset(out, 0xaa, 100);
	cr_assert_eq(tdp_gmem_read_bytes(gm, 0x80000, out, 100), 0);
	for (unsigned i = 0; i < 100; i++)
		cr_assert_eq(out[i], 0);
	tdp_gmem_destroy(gm);
}
