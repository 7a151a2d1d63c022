/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested-TDP test kit: build text traces for `paging=nested` (L1 writing
 * EPT/NPT tables and L2 page tables as `write` events), and predict the
 * outcome of every L2 access from the architecture manuals, independently
 * of the engine:
 *   Intel SDM Vol. 3C §29.3.2-29.3.3 (EPT translation, misconfigurations,
 *     violations, MBEC), §28.2.1 (exit qualification for EPT violations)
 *   AMD APM Vol. 2 §15.25 (nested paging, #NPF EXITINFO1, GMET)
 *   Intel SDM Vol. 3A §4.5-4.8 (L2's own 4-level paging, access rights)
 * (qualification bits 0-8; EXITINFO1 bits 0-5, 32, 33).  Accesses to L2's
 * paging-structure entries are writes for NPT and for EPT with A/D
 * enabled, reads for EPT with A/D disabled, where setting a clear A/D
 * flag is a separate write (SDM 29.3.5; kvm-unit-tests
 * ept_access_test_paddr_*).
 *
 * The predictor walks a model of L1 memory that holds exactly what the
 * trace wrote (8-byte aligned stores only; everything else reads 0), in
 * the hardware order (src/hw/paging.c): each L2 table access through
 * EPT/NPT, the L2 entry, L2's permission check, the final GPA through
 * EPT/NPT, then the A/D bits of the L2 entries (written into the model;
 * with EPT A/D off each one through EPT as a write).
 */
#ifndef TDPSIM_TEST_NESTED_ORACLE_H
#define TDPSIM_TEST_NESTED_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- architectural bits ---- */

/* x86 paging / NPT entries */
#define NT_P		(1ull << 0)
#define NT_W		(1ull << 1)
#define NT_U		(1ull << 2)
#define NT_A		(1ull << 5)
#define NT_D		(1ull << 6)
#define NT_PS		(1ull << 7)
#define NT_NX		(1ull << 63)
/* EPT entries */
#define NT_EPT_R	(1ull << 0)
#define NT_EPT_W	(1ull << 1)
#define NT_EPT_X	(1ull << 2)		/* XS under MBEC */
#define NT_EPT_RWX	(7ull)
#define NT_EPT_WB	(6ull << 3)		/* leaf memory type */
#define NT_EPT_PS	(1ull << 7)
#define NT_EPT_XU	(1ull << 10)
/* non-leaf EPT entries that allow everything (bits 7:3 must be zero) */
#define NT_EPT_TABLE	(NT_EPT_RWX | NT_EPT_XU)
/* EPTP: memory type WB, 4- or 5-level, A/D enable */
#define NT_EPTP(root, levels, ad) \
	((root) | 6ull | ((uint64_t)((levels) - 1) << 3) | ((ad) ? 1ull << 6 : 0))

/* EPT exit qualification */
#define NT_Q_R		(1ull << 0)
#define NT_Q_W		(1ull << 1)
#define NT_Q_X		(1ull << 2)
#define NT_Q_PROT(rwx)	((uint64_t)((rwx) & 7) << 3)
#define NT_Q_PROT_XU	(1ull << 6)
#define NT_Q_GVA_VALID	(1ull << 7)
#define NT_Q_FINAL	(1ull << 8)
/* #PF error code / EXITINFO1 */
#define NT_EC_P		(1ull << 0)
#define NT_EC_W		(1ull << 1)
#define NT_EC_U		(1ull << 2)
#define NT_EC_RSVD	(1ull << 3)
#define NT_EC_ID	(1ull << 4)
#define NT_EC_FINAL	(1ull << 32)
#define NT_EC_PAGE	(1ull << 33)

/* L2 registers */
#define NT_CR0_PE	(1ull << 0)
#define NT_CR0_WP	(1ull << 16)
#define NT_CR0_PG	(1ull << 31)
#define NT_CR0_PAGING	(NT_CR0_PG | NT_CR0_WP | (1ull << 4) | NT_CR0_PE)
#define NT_CR4_PAE	(1ull << 5)
#define NT_CR4_SMEP	(1ull << 20)
#define NT_CR4_SMAP	(1ull << 21)
#define NT_EFER_LME	(1ull << 8)
#define NT_EFER_NXE	(1ull << 11)

enum nt_op { NT_READ, NT_WRITE, NT_FETCH };

extern const char *const nt_op_name[3];	/* "r", "w", "x" */

/* ---- trace builder ---- */

struct nt_expect {
	unsigned ev;		/* event number (1-based, after config) */
	unsigned line;		/* line in the trace file */
	char out[96];		/* outcome, e.g. "ok gpa=0x5123" */
	char why[192];		/* the case, for failure messages */
};

struct nt_word {
	uint64_t gpa, val;
};

struct nt {
	char *text;
	size_t len, cap;
	unsigned nev;		/* events emitted so far */
	unsigned line;		/* lines emitted so far */
	struct nt_expect *exp;
	unsigned nexp, capexp;
	struct nt_word *mem;	/* model of L1 memory: 8-byte words written */
	unsigned nmem, capmem;
};

/* Start a trace: header and `config @config`. */
void nt_init(struct nt *t, const char *config);
void nt_free(struct nt *t);
/* Append one event line (printf format, no newline); returns its number. */
unsigned nt_event(struct nt *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A `# ...` comment line. */
void nt_comment(struct nt *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* `write gpa= val=` (8 bytes), also into the memory model. */
unsigned nt_write(struct nt *t, uint64_t gpa, uint64_t val);
/* The model's 8-byte word at @gpa (0 if never written). */
uint64_t nt_mem_read(const struct nt *t, uint64_t gpa);
void nt_mem_set(struct nt *t, uint64_t gpa, uint64_t val);
/* `peek gpa=` (8 bytes), expecting the model's value; returns the event. */
unsigned nt_peek(struct nt *t, uint64_t gpa, const char *why);
/* Expect outcome @out (printf-formatted @why) for event @ev. */
void nt_expect(struct nt *t, unsigned ev, const char *out, const char *why, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * nt_check() - compare @log (normalized outcome log: "N outcome" lines)
 * with the expectations.  Returns the number of mismatches (missing,
 * extra or different lines) and writes the first few, each with its
 * case, into @msg.
 */
unsigned nt_check(const struct nt *t, const char *log, char *msg, size_t len);

/* ---- page-table trees written through the trace ---- */

/*
 * One tree of 4K tables with 8-byte entries (EPT, NPT or L2 4/5-level
 * paging).  Tables live at addresses of the tree's own space (L1 GPAs for
 * EPT/NPT, L2 GPAs for L2 tables) and are stored at own + @off in L1
 * memory.  Fresh table pages come from [@next, @end) and must be zero.
 */
struct nt_tree {
	struct nt *t;
	uint64_t root;
	int levels;
	uint64_t off;
	uint64_t next, end;
	uint64_t table_flags;	/* flags of entries pointing to tables */
};

void nt_tree_init(struct nt_tree *tr, struct nt *t, int levels, uint64_t base,
		  uint64_t end, uint64_t off, uint64_t table_flags);
/* Index of @va in a table of level @level (1 = last). */
unsigned nt_index(uint64_t va, int level);
/*
 * nt_tree_map() - make the path to @va down to @leaf_level (creating
 * tables) and write @leaf there.  Returns the own-space address of the
 * leaf entry.  Existing entries on the path are followed as they are.
 */
uint64_t nt_tree_map(struct nt_tree *tr, uint64_t va, int leaf_level,
		     uint64_t leaf);
/* Own-space address of the entry for @va at @level (path must exist). */
uint64_t nt_tree_entry(const struct nt_tree *tr, uint64_t va, int level);
/* Rewrite the entry for @va at @level; returns the L1 GPA written. */
uint64_t nt_tree_set(struct nt_tree *tr, uint64_t va, int level, uint64_t val);

/* ---- the predictor ---- */

/* What the predictor needs of the vCPU while L2 runs. */
struct nt_vm {
	bool amd;
	uint64_t eptp;		/* intel */
	bool mbec;
	uint64_t ncr3;		/* amd: L1 in 4-level long mode */
	bool gmet;
	bool l1_nxe, l1_smep;	/* amd: L1's EFER.NXE / CR4.SMEP */
	uint64_t cr0, cr3, cr4, efer;	/* L2's; CR0.PG=1 means 4-level */
	unsigned maxphyaddr;	/* 0: 46 */
};

/*
 * nt_predict() - the outcome line (without the event number) of L2
 * `access gva= op= cpl=` on the model's memory, into @buf.  On "ok" the
 * A/D bits of the L2 entries used are set in the model.
 */
const char *nt_predict(struct nt *t, const struct nt_vm *vm, uint64_t gva,
		       enum nt_op op, unsigned cpl, char *buf, size_t len);

/*
 * nt_vmenter() - emit L1's `vmenter` for @vm (eptp= mbec= on intel, ncr3=
 * gmet= on amd) and, if @set_regs, L2's `set cr0= cr3= cr4= efer=` from
 * @vm (without it L2 starts with paging off).
 */
void nt_vmenter(struct nt *t, const struct nt_vm *vm, bool set_regs);

/*
 * nt_access() - emit `access gva= op= cpl=` in L2 and expect what
 * nt_predict() says; @why describes the case.  Returns the event number.
 */
unsigned nt_access(struct nt *t, const struct nt_vm *vm, uint64_t gva,
		   enum nt_op op, unsigned cpl, const char *why, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * nt_run() - replay the trace in-process under @layout ("old"/"new") with
 * the invariant checker and compare its outcome log with the expectations
 * (nt_check()).  Returns 0 with *@log the normalized outcome log (malloc'd)
 * and *@st (if not NULL) the counters; else non-zero, *@log NULL and what
 * went wrong (the replay's error or the mismatches) in @msg.
 */
struct tdp_stats;
int nt_run(const struct nt *t, const char *layout, char **log,
	   struct tdp_stats *st, char *msg, size_t len);

/* What the expected outcomes add up to, for checking report counters. */
struct nt_counts {
	unsigned ok, pf, viol, misconf, npf;
	unsigned qual_bit[9];	/* EPT violations with qualification bit i */
	unsigned npf_bit[5];	/* #NPF with EXITINFO1 P, W, U, RSVD, ID */
	unsigned final, page;	/* reflected on the final GPA / a table */
};

void nt_count(const struct nt *t, struct nt_counts *c);

#endif
