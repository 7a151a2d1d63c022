/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference access-rights predicates, written from the architecture manuals
 * as plain if/else and independent of the port's bitmask code:
 *   paging  Intel SDM Vol. 3A §4.6 "Access Rights" (incl. §4.6.1 SMEP/SMAP,
 *           CR0.WP, EFER.NXE) and §4.6.2 "Protection Keys"
 *   EPT     Intel SDM Vol. 3C §29.3.3.2 "EPT Violations" (R/W/X, and XS/XU
 *           under mode-based execute control)
 *   NPT     AMD APM Vol. 2 §15.25.5 (nested walks are user accesses) and
 *           §15.25.x GMET (guest mode execute trap)
 *
 * Questions are struct tdp_perm_query (include/tdpsim/mmu.h): a
 * layout-independent description, not an encoding.
 */
#ifndef TDPSIM_TEST_PERM_ORACLE_H
#define TDPSIM_TEST_PERM_ORACLE_H

#include <stdbool.h>
#include <stddef.h>

#include <tdpsim/mmu.h>

struct perm_verdict {
	bool fault;		/* the access is not allowed */
	bool pk;		/* a protection-key violation is among the reasons */
};

/* perm_oracle() - the architectural verdict for a legal @q. */
void perm_oracle(const struct tdp_perm_query *q, struct perm_verdict *v);

/*
 * perm_case_legal() - false for combinations that cannot reach a permission
 * check (reserved-bit faults, EPT misconfigurations, non-present entries)
 * or cannot happen at all; in the spirit of kvm-unit-tests' ac_test_legal().
 */
bool perm_case_legal(const struct tdp_perm_query *q);

/*
 * perm_case() - decode enumeration index @i of @mode into @q.  Returns false
 * once @i is past the end.  Every field that the mode reads is enumerated
 * (see perm_oracle.c for the dimensions); the PKRU bits of keys other than
 * the page's are the complement of its own, so reading the wrong key flips
 * the verdict.
 */
bool perm_case(enum tdp_perm_mode mode, unsigned int i, struct tdp_perm_query *q);

/* perm_case_str() - one-line description of @q for assertion messages. */
const char *perm_case_str(const struct tdp_perm_query *q, char *buf, size_t size);

#endif
