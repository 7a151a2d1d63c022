/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Import a recording of KVM's own tracepoints (trace-cmd `record -e kvm -e
 * kvmmmu`) as a tdpsim trace, and keep what KVM did as expectations.
 *
 * Two readers feed one reconstruction core (docs/IMPORT.md):
 *   dat     a trace-cmd .dat file, read with libtracecmd/libtraceevent;
 *           every field is looked up by name in the event formats the file
 *           carries, never at a fixed offset;
 *   report  `trace-cmd report` text (with or without -R), a file or "-".
 * The core rebuilds the guest page-table entries each walk read, and writes
 * set / write / access / invlpg / flush / fault / vmenter / vmexit / mark
 * events per vCPU, with header notes that say what it could not rebuild and
 * which events it skipped and why.
 */
#ifndef TDPSIM_IMPORT_H
#define TDPSIM_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include <tdpsim/replay.h>
#include <tdpsim/trace.h>
#include <tdpsim/util.h>

enum tdp_import_from { TDP_IMPORT_DAT, TDP_IMPORT_REPORT };

struct tdp_import_opts {
	enum tdp_import_from from;
	int vendor;		/* enum tdp_vendor, or -1: from kvm_exit's isa / reasons */
	int paging;		/* enum tdp_paging, or -1: from the exits and walks */
	uint64_t mem;		/* guest memory; 0: cover every GPA seen */
	enum tdp_trace_form form;	/* of the output */
	int level;		/* zstd level, 0 for the default */
};

/*
 * KVM's own counts from the recording, and the simulated counter each is
 * compared with by `tdpsim replay --expect` (docs/IMPORT.md has the
 * tracepoint behind each):
 *   X(key, what the recording counts)
 */
#define TDP_EXPECT_KEYS(X)						\
	X(sp_created,    "shadow pages created (kvm_mmu_get_page new)")	\
	X(sp_sync,       "shadow pages synced (kvm_mmu_sync_page)")	\
	X(sp_unsync,     "shadow pages unsynced (kvm_mmu_unsync_page)")	\
	X(sp_zapped,     "shadow pages zapped (kvm_mmu_prepare_zap_page)") \
	X(pf_exits,      "page-fault exits (kvm_page_fault)")		\
	X(pf_fixed,      "faults fixed (exit without #PF injection or emulation)") \
	X(fast_pf_fixed, "fast_page_fault fixed")			\
	X(fast_pf_spurious, "fast_page_fault spurious")			\
	X(pf_injected,   "#PF injected (kvm_inj_exception 14)")		\
	X(walks,         "guest walks (kvm_mmu_pagetable_walk)")	\
	X(walk_errors,   "walks that faulted (kvm_mmu_walker_error)")	\
	X(emulated,      "instructions emulated (kvm_emulate_insn)")	\
	X(cr_loads,      "CR/EFER writes (kvm_cr, kvm_msr EFER)")	\
	X(invlpg,        "INVLPG/INVLPGA exits")			\
	X(vmenter,       "nested VM entries (kvm_nested_vmenter)")	\
	X(vmexit,        "exits reflected to L1 (kvm_nested_vmexit_inject)")

enum tdp_expect_key {
#define X(k, what) TDP_EXP_##k,
	TDP_EXPECT_KEYS(X)
#undef X
	TDP_EXP__COUNT
};

struct tdp_expect {
	uint64_t v[TDP_EXP__COUNT];
};

struct tdp_import_summary {
	struct tdp_config cfg;
	uint64_t records;	/* read from the input */
	uint64_t events;	/* written */
	uint64_t pte_writes;	/* entries first seen */
	uint64_t pte_rewrites;	/* entries a later walk read with another value */
	uint64_t accesses;
	uint64_t skipped;	/* kvm/kvmmmu records that produced nothing */
	struct tdp_expect expect;
};

/*
 * tdp_import() - read @in (a .dat path, or report text; "-" is stdin for
 * report) and write the trace to @out (atomically: nothing is left on
 * failure).  Return: 0, or a TDP_E_* code with a message naming @in and the
 * record or line in @errbuf.
 */
int tdp_import(const char *in, const char *out, const struct tdp_import_opts *opts,
	       struct tdp_import_summary *sum, char errbuf[TDP_ERRBUF_SIZE]);

/* Write @e as a tdpsim_expect JSON document to @fp; @source names the recording. */
int tdp_expect_write_json(FILE *fp, const char *source, const struct tdp_expect *e);
/*
 * tdp_expect_read() - read a tdpsim_expect JSON file.  Return: 0 or TDP_E_*
 * with "FILE: ..." in @errbuf.
 */
int tdp_expect_read(const char *path, struct tdp_expect *e, char *source, size_t srclen,
		    char errbuf[TDP_ERRBUF_SIZE]);
/* Print recorded-vs-simulated, one row per key (72 columns). */
void tdp_expect_print(FILE *fp, const char *source, const struct tdp_expect *e,
		      const struct tdp_stats *s);

#endif /* TDPSIM_IMPORT_H */
