// SPDX-License-Identifier: GPL-2.0-only
/*
 * Execute permission in KVM's own TDP tables and in reflected #NPFs.
 *
 * KVM's own use of MBEC / GMET under paging=tdp (new layout only: the old
 * one refuses mbec=1/gmet=1).
 *
 * With GMET on, the CPU faults a supervisor fetch through an NPT entry with
 * U=1 (APM 15.25.x, GMET); KVM therefore builds every NPT entry with U=0
 * (root role access without ACC_USER_MASK, propagated down by patch 0040).
 * With MBEC on, a fetch through a user-mode translation needs EPT XU (bit
 * 10) and a supervisor one XS (bit 2); KVM's own EPT entries grant both.
 * If KVM got either wrong, the hardware model would keep faulting on a
 * present entry and the replay would end in an unresolved-fault error.
 * So: every fetch below must complete, with exactly the exits of the same
 * trace without MBEC/GMET: one EPT violation / NPF per 2 MiB region first
 * touched, as KVM maps guest memory with 2 MiB pages here (the simulated
 * host backs it with THP): the table region and the code region.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers/replay_util.h"

/* L1: 4-level paging; GVA 0x10000 -> 0x200000 user, 0x11000 -> 0x201000 supervisor. */
#define L1_TABLES							\
	"write gpa=0x1000 val=0x2007\n"					\
	"write gpa=0x2000 val=0x3007\n"					\
	"write gpa=0x3000 val=0x4007\n"					\
	"write gpa=0x4080 val=0x200007\n"				\
	"write gpa=0x4088 val=0x201003\n"				\
	"set cr0=0x80010001 cr3=0x1000 cr4=0x20 efer=0xd00\n"

#define FETCHES								\
	"access gva=0x10000 op=x cpl=3\n"	/* user page, user fetch */	\
	"access gva=0x11000 op=x cpl=0\n"	/* supervisor page */		\
	"access gva=0x10000 op=x cpl=0\n"	/* user page, SMEP off */	\
	"access gva=0x10008 op=r cpl=3\n"					\
	"access gva=0x11008 op=w cpl=0\n"

static const char want_log[] =
	"7 ok gpa=0x200000\n"
	"8 ok gpa=0x201000\n"
	"9 ok gpa=0x200000\n"
	"10 ok gpa=0x200008\n"
	"11 ok gpa=0x201008\n";

static void run_one(const char *vendor, const char *feature, int on,
		    struct replay_run *rr)
{
	char text[2048];
	struct replay_args a = { .layout = "new", .check = true };

	snprintf(text, sizeof(text),
		 "tdpsim-trace 1\n"
		 "config vendor=%s paging=tdp mem=0x1000000 %s=%d\n"
		 L1_TABLES FETCHES, vendor, feature, on);
	replay_text(rr, text, &a);
	cr_assert_eq(rr->ret, 0, "%s %s=%d: %s", vendor, feature, on, rr->err);
	cr_assert_str_eq(rr->log, want_log, "%s %s=%d:\n%s", vendor, feature, on,
			 rr->log);
}

static void same_exits(const char *vendor, const char *feature)
{
	struct replay_run off = { 0 }, on = { 0 };

	run_one(vendor, feature, 0, &off);
	run_one(vendor, feature, 1, &on);
	/* the 2 MiB regions at 0 (L1 tables) and 0x200000 (code) */
	cr_expect_eq(off.res->stats.exit_ept_violation, 2);
	cr_expect_eq(on.res->stats.exit_ept_violation,
		     off.res->stats.exit_ept_violation,
		     "%s=1 costs extra exits", feature);
	cr_expect_eq(on.res->stats.pf_livelock, 0);
	cr_expect_eq(on.res->stats.pf_injected, 0);
	replay_run_free(&off);
	replay_run_free(&on);
}

Test(tdp_exec, gmet_npt_entries_are_supervisor)
{
	same_exits("amd", "gmet");
}

Test(tdp_exec, mbec_ept_entries_grant_xs_and_xu)
{
	same_exits("intel", "mbec");
}

Test(tdp_exec, old_layout_refuses_gmet)
{
	struct replay_run rr = { 0 };
	struct replay_args a = { .layout = "old" };

	replay_text(&rr, "tdpsim-trace 1\n"
			 "config vendor=amd paging=tdp gmet=1\n"
			 "access gva=0x1000 op=r\n", &a);
	cr_expect_neq(rr.ret, 0);
	cr_expect(strstr(rr.err, "gmet"), "%s", rr.err);
	replay_run_free(&rr);
}

/*
 * The I/D bit of a reflected #NPF (has_pferr_fetch, patch 0041): set for a
 * fetch when L1 -- whose CR4/EFER give the NPT its format -- has EFER.NXE
 * or CR4.SMEP, as for a #PF.  L2 fetches from a page L1's NPT maps U=0
 * without GMET (every NPT access is a user access): P|U, final GPA.
 */
static void npf_id(const char *l1_cr4_efer, const char *want)
{
	char text[2048];
	struct replay_run rr = { 0 };
	struct replay_args a = { .layout = "new", .check = true };

	snprintf(text, sizeof(text),
		 "tdpsim-trace 1\n"
		 "config vendor=amd paging=nested mem=0x1000000\n"
		 "set cr0=0x80010001 cr3=0x50000 %s\n"
		 /* NPT: 0-2M -> 0x400000 (2M page), 2M-4M by a PT; 0x200000 U=0 */
		 "write gpa=0x100000 val=0x101007\n"
		 "write gpa=0x101000 val=0x102007\n"
		 "write gpa=0x102000 val=0x4000e7\n"
		 "write gpa=0x102008 val=0x103007\n"
		 "write gpa=0x103000 val=0x600003\n"
		 /* L2: GVA 0x10000 -> L2 GPA 0x200000, supervisor */
		 "write gpa=0x401000 val=0x2007\n"
		 "write gpa=0x402000 val=0x3007\n"
		 "write gpa=0x403000 val=0x4007\n"
		 "write gpa=0x404080 val=0x200003\n"
		 "vmenter ncr3=0x100000\n"
		 "set cr0=0x80010001 cr3=0x1000 cr4=0x20 efer=0xd00\n"
		 "access gva=0x10000 op=x\n", l1_cr4_efer);
	replay_text(&rr, text, &a);
	cr_assert_eq(rr.ret, 0, "%s: %s", l1_cr4_efer, rr.err);
	cr_expect_str_eq(rr.log, want, "L1 %s", l1_cr4_efer);
	replay_run_free(&rr);
}

Test(tdp_exec, npf_id_follows_l1_nxe_or_smep)
{
	npf_id("cr4=0x20 efer=0x500", "13 npf gpa=0x200000 ec=0x100000005\n");
	npf_id("cr4=0x20 efer=0xd00", "13 npf gpa=0x200000 ec=0x100000015\n");
	npf_id("cr4=0x100020 efer=0x500", "13 npf gpa=0x200000 ec=0x100000015\n");
}
