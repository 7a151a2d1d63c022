/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CPU model: what an Intel or AMD processor does with the paging
 * structures in memory, written from the Intel SDM (Vol. 3A ch. 4 paging,
 * Vol. 3C ch. 29 EPT, §28.2.1 exit qualification) and the AMD APM (Vol. 2
 * ch. 5 paging, §15.25 nested paging, GMET).  It is the reference the KVM
 * port (src/mmu) is judged against, so it shares no code with it and
 * includes nothing from src/mmu: it reads KVM's shadow tables as memory.
 *
 * Memory as the CPU sees it
 * -------------------------
 * Everything the CPU reads is host-physical memory (struct hw_mem):
 *
 *   host pfn <  guest_pfn_base   a page of KVM's tables (SPTEs): mem->table()
 *   host pfn >= guest_pfn_base   guest frame (pfn - guest_pfn_base) in gmem
 *
 * One translation (hw_translate) is a stage-1 walk of x86 paging structures
 * (32-bit, PAE, 4- or 5-level) whose table addresses and final address go
 * through an optional stage 2 (EPT or NPT tables, always in host tables):
 *
 *   shadow paging : stage 1 = KVM's shadow tables (CR3 = a host address),
 *                   no stage 2
 *   TDP           : stage 1 = the guest's tables (guest-physical), stage 2 =
 *                   KVM's EPT/NPT (guest-physical -> host-physical)
 *   nested TDP    : stage 1 = L2's tables (L2 guest-physical), stage 2 =
 *                   KVM's shadow EPT02/NPT02 (L2 GPA -> host-physical)
 *   plain tests   : stage 1 in gmem with guest_pfn_base = 0, no stage 2
 *
 * A/D flags are set in memory as the CPU sets them (stage-1 entries through
 * stage 2 as writes where the architecture makes them writes; EPT A/D when
 * the EPTP enables them; NPT/legacy A/D always).
 */
#ifndef TDPSIM_HW_H
#define TDPSIM_HW_H

#include <stdbool.h>
#include <stdint.h>

#include <tdpsim/trace.h>	/* enum tdp_access_op */

struct tdp_gmem;

/*
 * The stage-1 entries one walk read through a stage 2 (guest page tables,
 * which stay at the same host location for the memory's life), in the
 * order read: for a memo that re-reads them instead of watching every
 * store (include/tdpsim/hw_memo.h).  @n counts on past HW_S1_LOG_MAX (the
 * log is then incomplete).
 */
#define HW_S1_LOG_MAX	5

struct hw_s1_log {
	unsigned n;
	const uint8_t *ptr[HW_S1_LOG_MAX];
	uint64_t val[HW_S1_LOG_MAX];
	unsigned size;			/* entry size of the walk: 4 or 8 */
};

struct hw_mem {
	struct tdp_gmem *gmem;		/* guest-physical memory (L1 GPAs) */
	uint64_t guest_pfn_base;	/* host pfn of guest frame 0 */
	/* the 512 entries of the host table page at @hpa, NULL = no memory */
	uint64_t *(*table)(void *ctx, uint64_t hpa);
	void *ctx;
	/*
	 * Optional fast path for table pages: (*flat)[pfn] for pfn below
	 * *nr_flat (NULL = no memory; both NULL or both set, and *nr_flat never
	 * reaches guest_pfn_base); other pfns below guest_pfn_base go to
	 * table().  Pointers to the owner's fields, which grow.
	 */
	uint64_t **const *flat;
	const uint32_t *nr_flat;
	unsigned host_maxphyaddr;	/* reserved bits of host tables (EPT/NPT/shadow) */
	/*
	 * Optional (NULL: unused), for the memos of translations
	 * (include/tdpsim/hw_memo.h): *gen is bumped by every store of the
	 * model (A/D flags); *nguest by every read of a guest frame.
	 */
	uint64_t *gen;
	unsigned *nguest;
	/* optional: the stage-1 entries read under a stage 2 are logged here */
	struct hw_s1_log *s1log;
};

/* Paging registers of the context being walked (stage 1). */
struct hw_regs {
	uint64_t cr0, cr3, cr4;
	uint64_t efer;			/* EFER.LMA is read, not derived */
	uint32_t pkru;
	uint64_t pdpte[4];		/* PAE paging: the PDPTE registers */
	/*
	 * PAE paging without PDPTE registers: the four PDPEs are read from
	 * memory at CR3[31:5] as the first level of every walk (through
	 * stage 2 as a guest page-table access), as an AMD CPU with nested
	 * paging does -- the VMCB has no PDPE fields (APM Vol. 2 §15.25) and
	 * KVM re-reads them from memory after every VMRUN with NPT
	 * (svm_vcpu_run() drops VCPU_EXREG_PDPTR, svm_cache_reg() ->
	 * load_pdptrs()).  pdpte[] is then unused.
	 */
	bool pdpte_walk;
	unsigned maxphyaddr;		/* MAXPHYADDR of stage 1's address space */
	bool pse36;			/* CPUID.PSE36 */
};

struct hw_access {
	uint64_t addr;			/* linear address (physical if CR0.PG=0) */
	enum tdp_access_op op;
	unsigned cpl;
	bool ac;			/* EFLAGS.AC */
	bool implicit;			/* implicit supervisor access (SMAP always) */
};

enum hw_stage2_kind { HW_S2_NONE, HW_S2_EPT, HW_S2_NPT };

/*
 * A memo of stage-2 walks, for replay speed only (src/hw/s2memo.c): what
 * an EPT/NPT walk of one guest-physical page under one root returned, and
 * for which kinds of access it translated without storing anything (no
 * A/D flag to set).  A hit is exactly what the walk would return now
 * because
 *  - the owner bumps @gen whenever the stage-2 tables may have changed
 *    other than by the CPU's own A/D updates: after every pass through
 *    KVM, and every event that is not a guest access or store;
 *  - A/D updates only ever set flags, so a walk that stored nothing
 *    still stores nothing after more flags are set;
 *  - a walk that read a guest frame (stage-2 tables are KVM's and live
 *    below guest_pfn_base) is not memoised: guest stores do not bump.
 * Stage-1 tables are read on every walk, hit or not: under nested TDP L2
 * keeps storing to them, which leaves this memo valid.
 */
#define HW_S2_MEMO_ENTRIES	2048	/* 80 KiB */

struct hw_s2_memo_entry {
	uint64_t gpa;		/* guest-physical page */
	uint64_t root;		/* EPTP / nCR3 and the configuration: hw_s2_root() */
	uint64_t gen;		/* == hw_s2_memo.gen, else stale */
	uint64_t hpa;		/* host page */
	uint32_t ok;		/* access classes (hw_s2_class()) walked store-free */
};

struct hw_s2_memo {
	uint64_t gen;		/* never 0: zeroed entries are stale */
	struct hw_s2_memo_entry e[HW_S2_MEMO_ENTRIES];
};

struct hw_stage2 {
	enum hw_stage2_kind kind;
	/*
	 * Optional (NULL: walk every time).  Needs hw_mem.gen and .nguest,
	 * which tell a walk that stored or read guest memory.
	 */
	struct hw_s2_memo *memo;
	/* EPT: the EPTP (root, page-walk length, A/D enable bit 6) */
	uint64_t eptp;
	bool mbec;			/* EPT: mode-based execute control */
	bool execonly;			/* EPT: execute-only entries supported */
	/*
	 * NPT: nCR3 root, long-mode levels (4 or 5; 0 means 4).  The host's
	 * EFER.NXE is taken as 1 (KVM requires NX), so bit 63 is NX.
	 */
	uint64_t ncr3;
	int npt_levels;
	bool gmet;			/* NPT: guest mode execute trap */
};

enum hw_kind {
	HW_OK,			/* translated: res->hpa (and res->gpa) */
	HW_PF,			/* #PF in the walked context: res->error_code */
	HW_EPT_VIOLATION,	/* res->gpa, res->qual (bits 0-11) */
	HW_EPT_MISCONFIG,	/* res->gpa */
	HW_NPF,			/* res->gpa (EXITINFO2), res->error_code (EXITINFO1) */
	HW_GP,			/* #GP(0): non-canonical linear address in IA-32e mode */
};

struct hw_result {
	enum hw_kind kind;
	uint64_t hpa;		/* HW_OK: host-physical address of the access */
	uint64_t gpa;		/* stage-1 output, or the GPA of the stage-2 exit */
	uint64_t error_code;	/* #PF error code, or EXITINFO1 incl. bits 32/33 */
	uint64_t qual;		/* EPT violation exit qualification */
	/* HW_OK: rights of the stage-1 translation and its page size */
	bool w, u, nx, dirty;
	/* HW_OK: a global translation (SDM 4.10.2.4: CR4.PGE and leaf G) */
	bool global;
	int level;		/* 1 = 4 KiB, 2 = 2/4 MiB, 3 = 1 GiB; 0 paging off */
};

/*
 * hw_translate() - one access by the CPU: the stage-1 walk, every table
 * address and the final address through stage 2, the access rights of
 * both stages, A/D updates on success.  Pure function of memory and its
 * arguments, except for the A/D flags it sets in memory.
 */
void hw_translate(const struct hw_mem *mem, const struct hw_regs *regs,
		  const struct hw_stage2 *s2, const struct hw_access *acc,
		  struct hw_result *res);

/*
 * hw_load_pdptes() - MOV to CR3 / CR0 / CR4 in PAE mode (SDM 4.4.1): the
 * four PDPTEs at CR3[31:5] (stage-1 addresses, through @s2).  Returns
 * false if a PDPTE has a reserved bit set (the load would #GP) or the
 * PDPT cannot be read.
 */
bool hw_load_pdptes(const struct hw_mem *mem, const struct hw_stage2 *s2,
		    struct hw_regs *regs);

/*
 * hw_load_pdptes_exit() - hw_load_pdptes() that also says why it failed:
 * res->kind is HW_EPT_VIOLATION / HW_EPT_MISCONFIG / HW_NPF when stage 2
 * refused the read of the PDPT (with EPT a read, qualification bit 7
 * clear), HW_OK when a PDPTE had a reserved bit (#GP) or there is no
 * memory at CR3.
 */
bool hw_load_pdptes_exit(const struct hw_mem *mem, const struct hw_stage2 *s2,
			 struct hw_regs *regs, struct hw_result *res);

#endif /* TDPSIM_HW_H */
