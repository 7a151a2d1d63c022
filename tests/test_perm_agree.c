// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pre-series and the series' ACC layouts must give the same verdict on
 * every legal permission question that does not involve MBEC or GMET: the
 * series changes the encoding (ACC_READ, EXEC at bit 3, EPT reads no longer
 * reported as PFERR_USER_MASK) but not the architecture.  Both builds are
 * linked into this one process and asked through the public ops table, which
 * maps the architectural question into each layout's encoding.
 */
#include <criterion/criterion.h>

#include <tdpsim/errors.h>
#include <tdpsim/mmu.h>

#include "oracle/perm_oracle.h"

static void agree_mode(enum tdp_perm_mode mode)
{
	const struct tdp_mmu_ops *old = tdp_mmu_ops_find("old");
	const struct tdp_mmu_ops *new = tdp_mmu_ops_find("new");
	unsigned int i, compared = 0, faults = 0, extension = 0;
	struct tdp_perm_query q;
	char buf[256];

	cr_assert_not_null(old);
	cr_assert_not_null(new);
	cr_assert_neq(old, new);
	for (i = 0; perm_case(mode, i, &q); i++) {
		uint32_t ec_old = 0xdead, ec_new = 0xbeef;
		int ret_old, ret_new;

		if (!perm_case_legal(&q))
			continue;
		ret_old = old->perm_query(&q, &ec_old);
		ret_new = new->perm_query(&q, &ec_new);
		cr_assert_eq(ret_new, 0, "new layout refused %s",
			     perm_case_str(&q, buf, sizeof(buf)));
		if (q.mbec_gmet) {
			/* the series' extension: only the new layout has it */
			cr_assert_eq(ret_old, TDP_E_UNSUPP, "%s",
				     perm_case_str(&q, buf, sizeof(buf)));
			extension++;
			continue;
		}
		cr_assert_eq(ret_old, 0, "old layout refused %s",
			     perm_case_str(&q, buf, sizeof(buf)));
		cr_assert_eq(ec_old, ec_new, "%s: old %#x new %#x",
			     perm_case_str(&q, buf, sizeof(buf)), ec_old, ec_new);
		compared++;
		faults += ec_old != 0;
	}
	cr_assert_gt(compared, 0u);
	cr_assert_gt(faults, 0u, "some comparisons must be faults");
	cr_assert_lt(faults, compared, "and some must be allowed");
	if (mode != TDP_PERM_PAGING)
		cr_assert_gt(extension, 0u);
}

Test(perm_agree, paging)
{
	agree_mode(TDP_PERM_PAGING);
}

Test(perm_agree, ept)
{
	agree_mode(TDP_PERM_EPT);
}

Test(perm_agree, npt)
{
	agree_mode(TDP_PERM_NPT);
}

/* Rejects malformed questions identically in both builds. */
Test(perm_agree, bad_queries)
{
	struct tdp_perm_query q = { .mode = TDP_PERM_PAGING, .pkey = 16 };
	uint32_t ec;

	cr_assert_eq(tdp_mmu_old_ops.perm_query(&q, &ec), TDP_E_USAGE);
	cr_assert_eq(tdp_mmu_new_ops.perm_query(&q, &ec), TDP_E_USAGE);
	q.pkey = 0;
	q.mode = (enum tdp_perm_mode)7;
	cr_assert_eq(tdp_mmu_old_ops.perm_query(&q, &ec), TDP_E_USAGE);
	cr_assert_eq(tdp_mmu_new_ops.perm_query(&q, &ec), TDP_E_USAGE);
	cr_assert_eq(tdp_mmu_old_ops.layout, TDP_LAYOUT_OLD);
	cr_assert_eq(tdp_mmu_new_ops.layout, TDP_LAYOUT_NEW);
}
