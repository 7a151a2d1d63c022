// SPDX-License-Identifier: GPL-2.0-only
/*
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
