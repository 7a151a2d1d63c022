// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sanity of the reference walker itself on hand-computed cases, so that
 * later comparisons against it mean something.  Memory is a flat array.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "oracle/ref_walk.h"

static uint8_t ram[1 << 20];

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	if (gpa + size > sizeof(ram))
		return false;
	*val = 0;
	memcpy(val, ram + gpa, size);
	return true;
}

static void wr(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	memcpy(ram + gpa, &val, size);
}

static const struct ref_mem mem = { NULL, rd, wr };

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static uint64_t get64(uint64_t gpa) { uint64_t v; memcpy(&v, ram + gpa, 8); return v; }

/* 4-level: gva 0x401000 -> PML4[0] PDPT[0] PD[2] PT[1] -> page 0x9000 */
static void build_4level(uint64_t pte_flags, uint64_t upper_flags)
{
	memset(ram, 0, sizeof(ram));
	put64(0x1000, 0x2000 | upper_flags);	/* PML4E */
	put64(0x2000, 0x3000 | upper_flags);	/* PDPTE */
	put64(0x3000 + 2 * 8, 0x4000 | upper_flags); /* PDE for 0x400000 */
	put64(0x4000 + 1 * 8, 0x9000 | pte_flags);   /* PTE for 0x401000 */
}

static struct ref_regs regs64(void)
{
	struct ref_regs r = {
		.cr0 = (1ull << 31) | (1ull << 16) | 1, .cr3 = 0x1000,
		.cr4 = 1ull << 5, .efer = (1ull << 8) | (1ull << 11),
		.maxphyaddr = 46, .pse36 = true, .pku = true,
	};
	return r;
}

Test(ref_walk, ok_sets_accessed_and_dirty)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401234, .op = REF_WRITE, .cpl = 3 };
	struct ref_result res;

	build_4level(7, 7);
	ref_translate(&mem, &r, &a, &res);
	cr_assert(!res.fault, "ec=%lx", res.ec);
	cr_expect_eq(res.gpa, 0x9234);
	cr_expect_eq(get64(0x4008) & 0x60, 0x60, "leaf A+D");
	cr_expect_eq(get64(0x3010) & 0x60, 0x20, "PDE A only");
	cr_expect_eq(get64(0x1000) & 0x60, 0x20, "PML4E A only");
}

Test(ref_walk, user_write_to_readonly_is_p_w_u)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401000, .op = REF_WRITE, .cpl = 3 };
	struct ref_result res;

	build_4level(5, 7);
	ref_translate(&mem, &r, &a, &res);
	cr_assert(res.fault);
	cr_expect_eq(res.ec, 7);
	cr_expect_eq(get64(0x4008) & 0x20, 0, "no A bit on a fault");
}

Test(ref_walk, not_present_pde_fetch_with_nx)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401000, .op = REF_FETCH, .cpl = 0 };
	struct ref_result res;

	build_4level(7, 7);
	put64(0x3010, 0);
	ref_translate(&mem, &r, &a, &res);
	cr_assert(res.fault);
	cr_expect_eq(res.ec, 0x10, "I/D only, P=0");
	r.efer &= ~(1ull << 11);		/* no NXE, no SMEP: no I/D bit */
	ref_translate(&mem, &r, &a, &res);
	cr_expect_eq(res.ec, 0);
}

Test(ref_walk, smap_and_ac)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401000, .op = REF_READ, .cpl = 0 };
	struct ref_result res;

	build_4level(7, 7);
	r.cr4 |= 1ull << 21;
	ref_translate(&mem, &r, &a, &res);
	cr_expect(res.fault && res.ec == 1, "supervisor read of user page under SMAP");
	a.ac = true;
	ref_translate(&mem, &r, &a, &res);
	cr_expect(!res.fault, "AC=1 lifts SMAP for explicit accesses");
	a.implicit = true;
	ref_translate(&mem, &r, &a, &res);
	cr_expect(res.fault && res.ec == 1, "implicit access ignores AC");
}

Test(ref_walk, reserved_bit_above_maxphyaddr)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401000, .op = REF_READ, .cpl = 3 };
	struct ref_result res;

	build_4level(7 | (1ull << 47), 7);
	ref_translate(&mem, &r, &a, &res);
	cr_assert(res.fault);
	cr_expect_eq(res.ec, 0xd, "P|U|RSVD");
}

Test(ref_walk, pkru_write_disable_supervisor_with_wp)
{
	struct ref_regs r = regs64();
	struct ref_access a = { .gva = 0x401000, .op = REF_WRITE, .cpl = 0 };
	struct ref_result res;

	build_4level(7 | (3ull << 59), 7);	/* key 3 */
	r.cr4 |= 1ull << 22;
	r.pkru = 2u << (2 * 3);			/* WD for key 3 */
	ref_translate(&mem, &r, &a, &res);
	cr_expect(res.fault && res.ec == (1 | 2 | 0x20), "ec=%lx", res.ec);
	r.cr0 &= ~(1ull << 16);			/* WP=0: supervisor ignores WD */
	ref_translate(&mem, &r, &a, &res);
	cr_expect(!res.fault);
}

Test(ref_walk, pse_4m_page_32bit)
{
	struct ref_regs r = { .cr0 = (1ull << 31) | 1, .cr3 = 0x1000,
			      .cr4 = 1ull << 4, .maxphyaddr = 36, .pse36 = true };
	struct ref_access a = { .gva = 0x00c01234, .op = REF_READ, .cpl = 0 };
	struct ref_result res;
	uint32_t pde = 0x00800000 | (1u << 13) | 0x83;	/* PA 0x1_0080_0000 */

	memset(ram, 0, sizeof(ram));
	memcpy(ram + 0x1000 + 3 * 4, &pde, 4);
	ref_translate(&mem, &r, &a, &res);
	cr_assert(!res.fault, "ec=%lx", res.ec);
	cr_expect_eq(res.gpa, 0x100801234ull);
	cr_expect_eq(res.level, 2);
	pde |= 1u << 17;			/* beyond MAXPHYADDR 36: reserved */
	memcpy(ram + 0x1000 + 3 * 4, &pde, 4);
	ref_translate(&mem, &r, &a, &res);
	cr_expect(res.fault && res.ec == 9, "ec=%lx", res.ec);
}
