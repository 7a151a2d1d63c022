// SPDX-License-Identifier: GPL-2.0-only
/*
 * The importers' reconstruction core (docs/IMPORT.md).
 *
 * Invariant: a `write` for a guest page-table entry is emitted before the
 * first access whose walk read it, and again before any later access whose
 * walk read a different value (beyond A/D bits the walker or the CPU set),
 * so replaying the trace shows the simulated walker the same entries KVM's
 * walker read.  Everything the recording does not show (entries never
 * walked, stores that did not trap, registers loaded by KVM_SET_SREGS) is
 * either inferred and said so in the header notes, or left out and said so.
 *
 * Records are buffered (one struct kvm_rec, 64 bytes, each) because the
 * config line comes first in a trace but depends on the whole recording:
 * vendor, paging mode, vCPU count and memory size.  Pass 1 infers those and
 * which vCPU each host thread runs; pass 2 emits the events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/import.h>

#include "import-int.h"

#define X86_CR0_PE	(1ull << 0)
#define X86_CR0_WP	(1ull << 16)
#define X86_CR0_PG	(1ull << 31)
#define X86_CR4_PSE	(1ull << 4)
#define X86_CR4_PAE	(1ull << 5)
#define X86_CR4_LA57	(1ull << 12)
#define EFER_LME	(1ull << 8)
#define EFER_NX		(1ull << 11)
#define MSR_EFER	0xc0000080u

#define PFERR_PRESENT	(1ull << 0)
#define PFERR_WRITE	(1ull << 1)
#define PFERR_USER	(1ull << 2)
#define PFERR_FETCH	(1ull << 4)
#define PFERR_GUEST_FINAL (1ull << 32)
#define PFERR_GUEST_PAGE  (1ull << 33)

#define PT_ACCESSED	(1ull << 5)
#define PT_DIRTY	(1ull << 6)
#define PT_AD		(PT_ACCESSED | PT_DIRTY)
#define EPT_AD		((1ull << 8) | (1ull << 9))
#define PT64_ADDR_MASK	0x000ffffffffff000ull	/* bits 51:12 */

/* exit reasons the importer acts on (kvm_exit's exit_reason) */
#define VMX_EXCEPTION_NMI	0
#define VMX_INVLPG		14
#define VMX_EPT_VIOLATION	48
#define VMX_INVPCID		58
#define SVM_EXIT_PF		0x4e
#define SVM_EXIT_INVLPG		0x79
#define SVM_EXIT_INVPCID	0xa2
#define SVM_EXIT_NPF		0x400

/* EPT violation exit qualification (SDM 28.3.3.2) */
#define EPT_QUAL_READ		(1ull << 0)
#define EPT_QUAL_WRITE		(1ull << 1)
#define EPT_QUAL_FETCH		(1ull << 2)
#define EPT_QUAL_PROT		(7ull << 3)
#define EPT_QUAL_GVA_VALID	(1ull << 7)
#define EPT_QUAL_GVA_XLATED	(1ull << 8)

/* Why a record produced nothing: each becomes one header note with its count. */
#define SKIP_REASONS(X)							\
	X(PF_FAST,     "kvm_page_fault", "#PF exit fixed by fast_page_fault without a guest walk: nothing to replay (the simulator has no fast path)") \
	X(PF_NO_WALK,  "kvm_page_fault", "#PF exit without a guest walk after it (fixed by the fast path, or a retry): nothing to replay") \
	X(WALK_L2,     "kvm_mmu_pagetable_walk", "walk while the vCPU ran L2 that follows no EPT violation / #NPF (of L2's own tables, for emulation): not reconstructed") \
	X(WALK_EMPTY,  "kvm_mmu_pagetable_walk", "walk without paging elements") \
	X(ELEM_ALONE,  "kvm_mmu_paging_element", "paging element outside a walk (events lost?)") \
	X(ELEM_DEEP,   "kvm_mmu_paging_element", "more than 5 paging elements in one walk") \
	X(CR_READ,     "kvm_cr", "CR reads: no state change") \
	X(CR_OTHER,    "kvm_cr", "CR2/CR8 writes: not paging state") \
	X(MSR_OTHER,   "kvm_msr", "MSR accesses other than EFER writes") \
	X(VMENTER_SHADOW, "kvm_nested_vmenter", "nested entry without EPT/NPT (L1 shadows L2): not modelled") \
	X(VMENTER_MODE, "kvm_nested_vmenter", "nested entry in a trace whose paging is not 'nested' (see --paging)") \
	X(VMEXIT_L1,   "kvm_nested_vmexit_inject", "exit reflected to L1 while not in L2 (its entry was not seen)") \
	X(FAULT_MODE,  "kvm_page_fault", "EPT violation / #NPF in a trace whose paging is 'shadow' (see --paging)")

enum skip_reason {
#define X(k, ev, why) SKIP_##k,
	SKIP_REASONS(X)
#undef X
	SKIP__COUNT
};

static const char *const skip_event[] = {
#define X(k, ev, why) ev,
	SKIP_REASONS(X)
#undef X
};
static const char *const skip_why[] = {
#define X(k, ev, why) why,
	SKIP_REASONS(X)
#undef X
};

/* The tracepoints, and which fields each record keeps (see import-int.h). */
const struct kvm_event_spec tdp__kvm_events[] = {
	{ "kvm", "kvm_entry", KR_ENTRY, NULL, NULL, NULL, "vcpu_id", NULL, 0 },
	{ "kvm", "kvm_exit", KR_EXIT, "exit_reason", "info1", NULL, "vcpu_id", "isa", 0 },
	{ "kvm", "kvm_nested_vmexit", KR_NESTED_VMEXIT, "exit_reason", "info1", NULL,
	  "vcpu_id", "isa", 0 },
	{ "kvm", "kvm_nested_vmexit_inject", KR_NESTED_INJECT, NULL, NULL, NULL, NULL, "isa", 0 },
	{ "kvm", "kvm_page_fault", KR_PAGE_FAULT, "fault_address", "error_code", NULL,
	  "vcpu_id", NULL, 0 },
	{ "kvm", "kvm_cr", KR_CR, "cr", "val", "rw", NULL, NULL, 1 },
	{ "kvm", "kvm_msr", KR_MSR, "ecx", "data", "write", NULL, NULL, 1 },
	{ "kvm", "kvm_inj_exception", KR_INJ_EXC, "exception", NULL, NULL, NULL, NULL, 0 },
	{ "kvm", "kvm_nested_vmenter", KR_VMENTER, "guest_pgd", "tdp_enabled", NULL, NULL, "isa", 0 },
	{ "kvm", "kvm_invlpga", KR_INVLPGA, "address", NULL, NULL, NULL, NULL, 0 },
	{ "kvm", "kvm_pv_tlb_flush", KR_PV_FLUSH, "need_flush_tlb", NULL, NULL, "vcpu_id", NULL, 0 },
	{ "kvm", "kvm_emulate_insn", KR_EMULATE, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "kvmmmu", "kvm_mmu_pagetable_walk", KR_WALK, "addr", "pferr", NULL, NULL, NULL, 3 },
	{ "kvmmmu", "kvm_mmu_paging_element", KR_ELEM, "pte", "level", NULL, NULL, NULL, 1 },
	{ "kvmmmu", "kvm_mmu_set_accessed_bit", KR_SET_A, "gpa", NULL, NULL, NULL, NULL, 1 },
	{ "kvmmmu", "kvm_mmu_set_dirty_bit", KR_SET_D, "gpa", NULL, NULL, NULL, NULL, 1 },
	{ "kvmmmu", "kvm_mmu_walker_error", KR_WALK_ERR, "pferr", NULL, NULL, NULL, NULL, 1 },
	{ "kvmmmu", "kvm_mmu_get_page", KR_GET_PAGE, "created", NULL, NULL, NULL, NULL, 0 },
	{ "kvmmmu", "kvm_mmu_sync_page", KR_SYNC, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "kvmmmu", "kvm_mmu_unsync_page", KR_UNSYNC, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "kvmmmu", "kvm_mmu_prepare_zap_page", KR_ZAP, NULL, NULL, NULL, NULL, NULL, 0 },
	{ "kvmmmu", "fast_page_fault", KR_FAST_PF, "ret", NULL, NULL, "vcpu_id", NULL, 0 },
	{ "kvmmmu", "kvm_mmu_set_spte", KR_SET_SPTE, NULL, NULL, NULL, NULL, NULL, 0 },
	{ NULL, NULL, KR_OTHER, NULL, NULL, NULL, NULL, NULL, 0 },
};

struct imp_vcpu {
	bool seen;
	bool established;	/* a full `set` was emitted */
	bool guest_mode;	/* between a vmenter and a vmexit */
	bool regs_inferred;
	uint64_t cr0, cr3, cr4, efer;
	unsigned int known;	/* KNOWN_* bits: loaded by a recorded kvm_cr / kvm_msr */
	int levels;		/* of the last walk: 2, 3, 4 or 5 */
	uint64_t last_reason;	/* of the last kvm_exit */
	/* the open walk */
	bool walking;
	uint64_t walk_addr, walk_pferr, walk_ts;
	unsigned int nel;
	uint64_t pte[5];
	unsigned int lvl[5];
	/* the open #PF exit (shadow paging), waiting for its walk */
	bool pf_open, pf_walked, pf_injected, pf_emulated, pf_fast;
	/* in L2: the root of L1's EPT/NPT, and the exit waiting for its walk of it */
	uint64_t eptp;
	bool l2_fault;
	uint64_t l2_fault_addr, l2_fault_ec, l2_fault_ts;
};

#define KNOWN_CR0	0x1u
#define KNOWN_CR3	0x2u
#define KNOWN_CR4	0x4u
#define KNOWN_EFER	0x8u

struct pid_vcpu {
	int32_t pid;
	int32_t first;		/* first vCPU id seen on this thread */
};

struct pte_slot {
	uint64_t key;		/* gpa + 1; 0 = empty */
	uint64_t val;
	uint64_t ad;		/* its A/D bits: x86 (5, 6) or EPT (8, 9) */
};

struct tdp_import {
	const char *path;
	const struct tdp_import_opts *opts;
	struct kvm_rec *recs;
	size_t n, cap;
	char (*names)[64];
	uint64_t *name_count;
	int nnames, names_cap;

	struct pid_vcpu *pids;
	int npids, pids_cap;
	bool pid_guessed;

	struct tdp_config cfg;
	tdp_writer_t *w;
	struct imp_vcpu *vc;
	unsigned int nvc;
	uint64_t cr3_invented;
	bool used_invented_cr3;
	uint64_t lost;
	uint64_t synth_invlpg;	/* invlpg after a rewritten entry (finish_walk()) */
	uint64_t synth_invept;	/* invept after a rewritten L1 EPT/NPT entry */

	struct pte_slot *ptes;
	size_t pte_cap, pte_n;

	uint64_t skip[SKIP__COUNT];
	uint64_t kind_count[KR__COUNT];
	struct tdp_import_summary *sum;
	char reason_note[256];
	char err[TDP_ERRBUF_SIZE];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct tdp_import *im, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(im->err, sizeof(im->err), fmt, ap);
	va_end(ap);
	return err;
}

/* An error at one record: "'FILE': record N: ..." (.dat) or "FILE:LINE: ..." (report). */
__attribute__((format(printf, 4, 5)))
static int fail_at(struct tdp_import *im, const struct kvm_rec *r, int err, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (im->opts->from == TDP_IMPORT_DAT)
		return fail(im, err, "'%s': record %llu: %s", im->path,
			    (unsigned long long)r->pos, msg);
	return fail(im, err, "%s:%llu: %s", strcmp(im->path, "-") ? im->path : "<stdin>",
		    (unsigned long long)r->pos, msg);
}

int tdp__import_push(struct tdp_import *im, const struct kvm_rec *r)
{
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 4096;
		struct kvm_rec *p = realloc(im->recs, cap * sizeof(*p));

		if (!p)
			return TDP_E_NOMEM;
		im->recs = p;
		im->cap = cap;
	}
	im->recs[im->n++] = *r;
	return 0;
}

int tdp__import_name(struct tdp_import *im, const char *sysname)
{
	/* few distinct names, and the readers cache the index per event type */
	for (int i = 0; i < im->nnames; i++)
		if (!strcmp(im->names[i], sysname))
			return i;
	if (im->nnames == UINT16_MAX)	/* kvm_rec.name is 16 bits: lump the rest */
		return im->nnames - 1;
	if (im->nnames == im->names_cap) {
		int cap = im->names_cap ? im->names_cap * 2 : 16;
		void *a = realloc(im->names, cap * sizeof(*im->names));
		void *b;

		if (!a)
			return -1;
		im->names = a;
		b = realloc(im->name_count, cap * sizeof(*im->name_count));
		if (!b)
			return -1;
		im->name_count = b;
		im->names_cap = cap;
	}
	snprintf(im->names[im->nnames], sizeof(im->names[0]), "%s", sysname);
	im->name_count[im->nnames] = 0;
	return im->nnames++;
}

/*
 * Exit reasons by the names kvm_exit's print fmt gives them (VMX upper
 * case, SVM lower case), for report text; only a selection matters to the
 * importer, the rest still tell the vendor apart.
 */
static const struct { const char *name; uint64_t code; uint8_t isa; } exit_names[] = {
	{ "EXCEPTION_NMI", 0, KR_ISA_VMX }, { "EXTERNAL_INTERRUPT", 1, KR_ISA_VMX },
	{ "TRIPLE_FAULT", 2, KR_ISA_VMX }, { "INTERRUPT_WINDOW", 7, KR_ISA_VMX },
	{ "CPUID", 10, KR_ISA_VMX }, { "HLT", 12, KR_ISA_VMX }, { "INVLPG", 14, KR_ISA_VMX },
	{ "VMCALL", 18, KR_ISA_VMX }, { "VMLAUNCH", 20, KR_ISA_VMX },
	{ "VMRESUME", 24, KR_ISA_VMX }, { "CR_ACCESS", 28, KR_ISA_VMX },
	{ "IO_INSTRUCTION", 30, KR_ISA_VMX }, { "MSR_READ", 31, KR_ISA_VMX },
	{ "MSR_WRITE", 32, KR_ISA_VMX }, { "EPT_VIOLATION", 48, KR_ISA_VMX },
	{ "EPT_MISCONFIG", 49, KR_ISA_VMX }, { "INVEPT", 50, KR_ISA_VMX },
	{ "PREEMPTION_TIMER", 52, KR_ISA_VMX }, { "INVVPID", 53, KR_ISA_VMX },
	{ "INVPCID", 58, KR_ISA_VMX },
	{ "write_cr0", 0x010, KR_ISA_SVM }, { "write_cr3", 0x013, KR_ISA_SVM },
	{ "write_cr4", 0x014, KR_ISA_SVM }, { "PF excp", 0x04e, KR_ISA_SVM },
	{ "interrupt", 0x060, KR_ISA_SVM }, { "cpuid", 0x072, KR_ISA_SVM },
	{ "hlt", 0x078, KR_ISA_SVM }, { "invlpg", 0x079, KR_ISA_SVM },
	{ "invlpga", 0x07a, KR_ISA_SVM }, { "io", 0x07b, KR_ISA_SVM },
	{ "msr", 0x07c, KR_ISA_SVM }, { "vmrun", 0x080, KR_ISA_SVM },
	{ "write_efer_trap", 0x08f, KR_ISA_SVM }, { "write_cr0_trap", 0x090, KR_ISA_SVM },
	{ "write_cr4_trap", 0x094, KR_ISA_SVM }, { "invpcid", 0x0a2, KR_ISA_SVM },
	{ "npf", 0x400, KR_ISA_SVM },
	/* trace-cmd's kvm plugin spells SVM reasons its own way */
	{ "EXIT_WRITE_CR0", 0x010, KR_ISA_SVM }, { "EXIT_WRITE_CR3", 0x013, KR_ISA_SVM },
	{ "EXIT_WRITE_CR4", 0x014, KR_ISA_SVM }, { "EXIT_EXCP_PF", 0x04e, KR_ISA_SVM },
	{ "EXIT_INTR", 0x060, KR_ISA_SVM }, { "EXIT_CPUID", 0x072, KR_ISA_SVM },
	{ "EXIT_HLT", 0x078, KR_ISA_SVM }, { "EXIT_INVLPG", 0x079, KR_ISA_SVM },
	{ "EXIT_INVLPGA", 0x07a, KR_ISA_SVM }, { "EXIT_IOIO", 0x07b, KR_ISA_SVM },
	{ "EXIT_MSR", 0x07c, KR_ISA_SVM }, { "EXIT_VMRUN", 0x080, KR_ISA_SVM },
	{ "EXIT_NPF", 0x400, KR_ISA_SVM },
};

uint64_t tdp__exit_reason_code(const char *name, uint8_t *isa)
{
	for (size_t i = 0; i < sizeof(exit_names) / sizeof(exit_names[0]); i++)
		if (!strcmp(exit_names[i].name, name)) {
			*isa = exit_names[i].isa;
			return exit_names[i].code;
		}
	/*
	 * unknown: the kernel spells VMX reasons in upper case and SVM ones in
	 * lower case; the plugin's SVM names start with "EXIT_"
	 */
	*isa = !strncmp(name, "EXIT_", 5) ? KR_ISA_SVM :
	       name[0] >= 'A' && name[0] <= 'Z' ? KR_ISA_VMX :
	       name[0] >= 'a' && name[0] <= 'z' ? KR_ISA_SVM : 0;
	return KR_REASON_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* The guest's page-table entries as the walks read them: gpa -> value */

static struct pte_slot *pte_find(struct tdp_import *im, uint64_t gpa, bool insert)
{
	size_t mask, i;

	if (insert && (im->pte_n + 1) * 2 > im->pte_cap) {
		size_t cap = im->pte_cap ? im->pte_cap * 2 : 1024;
		struct pte_slot *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t k = 0; k < im->pte_cap; k++) {
			struct pte_slot *s = &im->ptes[k];

			if (!s->key)
				continue;
			for (i = (s->key * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1); t[i].key;
			     i = (i + 1) & (cap - 1))
				;
			t[i] = *s;
		}
		free(im->ptes);
		im->ptes = t;
		im->pte_cap = cap;
	}
	if (!im->pte_cap)
		return NULL;
	mask = im->pte_cap - 1;
	for (i = ((gpa + 1) * 0x9e3779b97f4a7c15ull >> 20) & mask; im->ptes[i].key;
	     i = (i + 1) & mask)
		if (im->ptes[i].key == gpa + 1)
			return &im->ptes[i];
	if (!insert)
		return NULL;
	im->ptes[i].key = gpa + 1;
	im->pte_n++;
	return &im->ptes[i];
}

/* ------------------------------------------------------------------ */
/* Emitting events */

static int emit(struct tdp_import *im, struct tdp_event *ev, unsigned int vcpu_key,
		unsigned int vcpu, uint64_t ts)
{
	int ret;

	ev->t = ts;
	ev->present |= TDP_PRESENT_T;
	if (vcpu_key < 63 && im->cfg.vcpus > 1) {
		ev->vcpu = (uint16_t)vcpu;
		ev->present |= 1ull << vcpu_key;
	}
	im->sum->events++;
	if (!im->w)		/* the dry pass only counts */
		return 0;
	ret = tdp_writer_event(im->w, ev);
	if (ret)
		return fail(im, ret, "%s", tdp_writer_errmsg(im->w));
	return 0;
}

static int emit_write(struct tdp_import *im, uint64_t gpa, uint64_t val, unsigned int size,
		      uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_WRITE };

	ev.u.write.gpa = gpa;
	ev.u.write.val = val;
	ev.u.write.size = (uint8_t)size;
	ev.present = TDP_KEY_BIT(WRITE, gpa) | TDP_KEY_BIT(WRITE, val);
	if (size != 8)
		ev.present |= TDP_KEY_BIT(WRITE, size);
	return emit(im, &ev, 63, 0, ts);
}

static int emit_simple(struct tdp_import *im, enum tdp_event_kind kind, unsigned int vcpu,
		       uint64_t ts)
{
	struct tdp_event ev = { .kind = (uint8_t)kind };

	return emit(im, &ev, TDP_KEY_VMEXIT_vcpu, vcpu, ts);
}

/*
 * A recorded whole-TLB flush, as `flush kind=global`: KVM answers both
 * sources the importer sees with KVM_REQ_TLB_FLUSH_GUEST /
 * kvm_vcpu_flush_tlb_guest() (current and previous roots synced) --
 * record_steal_time() for a PV flush, kvm_handle_invpcid() for INVPCID
 * types 2 and 3.  kvm_exit does not record the INVPCID type: types 0
 * (one address) and 1 (one PCID) sync less in KVM, so for them the
 * replay syncs more than KVM did (docs/IMPORT.md).
 */
static int emit_flush_global(struct tdp_import *im, unsigned int vcpu, uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_FLUSH };

	ev.u.flush.kind = TDP_FLUSH_GLOBAL;
	ev.present = TDP_KEY_BIT(FLUSH, kind);
	return emit(im, &ev, TDP_KEY_FLUSH_vcpu, vcpu, ts);
}

static int emit_mark(struct tdp_import *im, const char *label, uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_MARK };

	snprintf(ev.u.mark.label, sizeof(ev.u.mark.label), "%s", label);
	ev.present = TDP_KEY_BIT(MARK, label);
	return emit(im, &ev, 63, 0, ts);
}

/* One recorded CR/EFER load once the vCPU's registers are established. */
static int emit_set_one(struct tdp_import *im, unsigned int vcpu, int reg, uint64_t val,
			uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	switch (reg) {
	case 0: ev.u.set.cr0 = val; ev.present = TDP_KEY_BIT(SET, cr0); break;
	case 3: ev.u.set.cr3 = val; ev.present = TDP_KEY_BIT(SET, cr3); break;
	case 4: ev.u.set.cr4 = val; ev.present = TDP_KEY_BIT(SET, cr4); break;
	default: ev.u.set.efer = val; ev.present = TDP_KEY_BIT(SET, efer); break;
	}
	return emit(im, &ev, TDP_KEY_SET_vcpu, vcpu, ts);
}

/*
 * The first walk of a vCPU fixes its paging mode: registers the recording
 * loaded are used as they are, the others are inferred from the walk's
 * depth (and said so); the result is one `set` with all four registers.
 */
static int establish(struct tdp_import *im, unsigned int vcpu, struct imp_vcpu *v, int levels,
		     uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };
	uint64_t cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_PE | 0x10 /* ET */;
	uint64_t cr4 = 0, efer = 0;

	if (levels >= 3)
		cr4 |= X86_CR4_PAE;
	if (levels == 5)
		cr4 |= X86_CR4_LA57;
	if (levels == 2)
		cr4 |= X86_CR4_PSE;
	if (levels >= 4)
		efer |= EFER_LME | EFER_NX;
	else if (levels == 3)
		efer |= EFER_NX;
	if (!(v->known & KNOWN_CR0) || !(v->known & KNOWN_CR4) || !(v->known & KNOWN_EFER))
		v->regs_inferred = true;
	/* a recorded value wins, but a walk this deep needs these bits */
	v->cr0 = (v->known & KNOWN_CR0) ? v->cr0 | X86_CR0_PG | X86_CR0_PE : cr0;
	v->cr4 = (v->known & KNOWN_CR4) ? v->cr4 | (cr4 & (X86_CR4_PAE | X86_CR4_LA57)) : cr4;
	v->efer = (v->known & KNOWN_EFER) ? v->efer | (efer & EFER_LME) : efer;
	if (!(v->known & KNOWN_CR3)) {
		v->cr3 = im->cr3_invented;
		im->used_invented_cr3 = true;
	}
	ev.u.set.cr0 = v->cr0;
	ev.u.set.cr3 = v->cr3;
	ev.u.set.cr4 = v->cr4;
	ev.u.set.efer = v->efer;
	ev.present = TDP_KEY_BIT(SET, cr0) | TDP_KEY_BIT(SET, cr3) | TDP_KEY_BIT(SET, cr4) |
		     TDP_KEY_BIT(SET, efer);
	v->established = true;
	return emit(im, &ev, TDP_KEY_SET_vcpu, vcpu, ts);
}

/* Index of @addr's entry in a table at @level, and the entry size. */
static uint64_t entry_index(uint64_t addr, unsigned int level, int levels)
{
	if (levels == 2)
		return (addr >> (12 + 10 * (level - 1))) & 1023;
	if (levels == 3 && level == 3)
		return (addr >> 30) & 3;
	return (addr >> (12 + 9 * (level - 1))) & 511;
}

/* The pending L2 fault, at @ts (after its walk: the walk's time, so time never goes back). */
static int emit_l2_fault(struct tdp_import *im, unsigned int vcpu, struct imp_vcpu *v,
			 uint64_t ts)
{
	struct tdp_event ev = { .kind = TDP_EV_FAULT };

	v->l2_fault = false;
	ev.u.fault.addr = v->l2_fault_addr;
	ev.u.fault.ec = v->l2_fault_ec;
	ev.present = TDP_KEY_BIT(FAULT, addr) | TDP_KEY_BIT(FAULT, ec);
	return emit(im, &ev, TDP_KEY_FAULT_vcpu, vcpu, ts);
}

/*
 * A walk while the vCPU runs L2, after an EPT violation / #NPF: KVM walked
 * L1's EPT/NPT (guest_mmu) for the L2 GPA.  Its entries sit at L1 GPAs
 * from the root the nested entry named, 8 bytes each, 9 index bits per
 * level; they are written before the recorded fault, which then replays
 * into KVM's shadow EPT02/NPT02 handler (fixed, or reflected to L1).
 */
static int finish_l2_walk(struct tdp_import *im, unsigned int vcpu, struct imp_vcpu *v)
{
	uint64_t base = v->eptp & PT64_ADDR_MASK, ts = v->walk_ts;
	uint64_t ad = im->cfg.vendor == TDP_VENDOR_INTEL ? EPT_AD : PT_AD;
	bool rewritten = false;
	int ret;

	/* KVM's walk of L1's tables is for the faulting L2 GPA itself */
	if (!v->l2_fault || (v->walk_addr ^ v->l2_fault_addr) >> 12) {
		im->skip[SKIP_WALK_L2]++;
		return 0;
	}
	for (unsigned int i = 0; i < v->nel; i++) {
		uint64_t gpa = base + entry_index(v->walk_addr, v->lvl[i], 4) * 8;
		uint64_t val = v->pte[i];
		struct pte_slot *s = pte_find(im, gpa, false);

		if (!s || ((s->val ^ val) & ~s->ad) || (s->val & s->ad & ~val)) {
			if (s) {
				im->sum->pte_rewrites++;
				rewritten = true;
			} else {
				im->sum->pte_writes++;
			}
			ret = emit_write(im, gpa, val, 8, ts);
			if (ret)
				return ret;
			s = pte_find(im, gpa, true);
			if (!s)
				return fail(im, TDP_E_NOMEM, "out of memory");
			s->val = val;
			s->ad = ad;
		}
		base = val & PT64_ADDR_MASK;
	}
	/* as for INVLPG in finish_walk(): L1 flushed after changing its EPT/NPT */
	if (rewritten) {
		struct tdp_event ev = { .kind = TDP_EV_INVEPT };

		im->synth_invept++;
		if (im->cfg.vendor == TDP_VENDOR_INTEL) {
			ev.u.invept.eptp = v->eptp;
			ev.present = TDP_KEY_BIT(INVEPT, eptp);
		}
		ret = emit(im, &ev, TDP_KEY_INVEPT_vcpu, vcpu, ts);
		if (ret)
			return ret;
	}
	return emit_l2_fault(im, vcpu, v, ts);
}

/*
 * A walk is complete: write the entries it read that the trace does not
 * hold yet (or holds with another value), then the access itself.
 */
static int finish_walk(struct tdp_import *im, unsigned int vcpu, struct imp_vcpu *v)
{
	unsigned int esize;
	uint64_t base, ts = v->walk_ts;
	bool pdpte_written = false, rewritten = false;
	uint64_t ad = PT_AD;
	int levels, ret;

	v->walking = false;
	if (!v->nel) {
		im->skip[SKIP_WALK_EMPTY]++;
		return 0;
	}
	levels = (int)v->lvl[0];
	if (levels < 2 || levels > 5)
		levels = 4;
	if (v->guest_mode)
		return finish_l2_walk(im, vcpu, v);
	if (!v->established) {
		ret = establish(im, vcpu, v, levels, ts);
		if (ret)
			return ret;
	}
	v->levels = levels;
	esize = levels == 2 ? 4 : 8;
	if (levels == 2)
		base = v->cr3 & 0xfffff000ull;
	else if (levels == 3)
		base = v->cr3 & 0xffffffe0ull;
	else
		base = v->cr3 & PT64_ADDR_MASK;

	for (unsigned int i = 0; i < v->nel; i++) {
		uint64_t gpa = base + entry_index(v->walk_addr, v->lvl[i], levels) * esize;
		uint64_t val = v->pte[i];
		struct pte_slot *s = pte_find(im, gpa, false);

		if (!s || ((s->val ^ val) & ~s->ad) || (s->val & s->ad & ~val)) {
			/*
			 * New, or the guest changed it: a set A/D bit alone is
			 * what the walker or the CPU did, not a guest store.
			 */
			if (s) {
				im->sum->pte_rewrites++;
				rewritten = true;
			} else {
				im->sum->pte_writes++;
			}
			ret = emit_write(im, gpa, val, esize, ts);
			if (ret)
				return ret;
			s = pte_find(im, gpa, true);
			if (!s)
				return fail(im, TDP_E_NOMEM, "out of memory");
			s->val = val;
			s->ad = ad;
			if (levels == 3 && v->lvl[i] == 3)
				pdpte_written = true;
		}
		base = levels == 2 ? val & 0xfffff000ull : val & PT64_ADDR_MASK;
	}
	/* PAE: the CPU reads PDPTEs at CR3 loads only, so reload CR3 after them */
	if (pdpte_written) {
		ret = emit_set_one(im, vcpu, 3, v->cr3, ts);
		if (ret)
			return ret;
	}
	/*
	 * A changed entry: the guest stored it and flushed the address before
	 * this walk, in an order the recording does not show (the store did not
	 * trap, or its trap was not recorded).  Replaying the store now, after
	 * a recorded INVLPG, would leave a stale translation in the simulated
	 * TLB/SPTEs that the real guest had flushed; so the flush follows it.
	 */
	if (rewritten) {
		struct tdp_event ev = { .kind = TDP_EV_INVLPG };

		im->synth_invlpg++;
		ev.u.invlpg.gva = v->walk_addr;
		ev.present = TDP_KEY_BIT(INVLPG, gva);
		ret = emit(im, &ev, TDP_KEY_INVLPG_vcpu, vcpu, ts);
		if (ret)
			return ret;
	}

	{
		struct tdp_event ev = { .kind = TDP_EV_ACCESS };

		ev.u.access.gva = v->walk_addr;
		ev.u.access.op = (v->walk_pferr & PFERR_WRITE) ? TDP_OP_WRITE :
				 (v->walk_pferr & PFERR_FETCH) ? TDP_OP_FETCH : TDP_OP_READ;
		ev.u.access.cpl = (v->walk_pferr & PFERR_USER) ? 3 : 0;
		ev.present = TDP_KEY_BIT(ACCESS, gva) | TDP_KEY_BIT(ACCESS, op) |
			     TDP_KEY_BIT(ACCESS, cpl);
		im->sum->accesses++;
		return emit(im, &ev, TDP_KEY_ACCESS_vcpu, vcpu, ts);
	}
}

/* KVM's error code for an EPT violation (__vmx_handle_ept_violation). */
static uint64_t ept_qual_to_pferr(uint64_t q)
{
	uint64_t ec = 0;

	if (q & EPT_QUAL_READ)
		ec |= PFERR_USER;
	if (q & EPT_QUAL_WRITE)
		ec |= PFERR_WRITE;
	if (q & EPT_QUAL_FETCH)
		ec |= PFERR_FETCH;
	if (q & EPT_QUAL_PROT)
		ec |= PFERR_PRESENT;
	if (q & EPT_QUAL_GVA_VALID)
		ec |= (q & EPT_QUAL_GVA_XLATED) ? PFERR_GUEST_FINAL : PFERR_GUEST_PAGE;
	return ec;
}

static bool is_reason(uint64_t reason, uint64_t vmx, uint64_t svm, enum tdp_vendor vendor)
{
	return reason == (vendor == TDP_VENDOR_INTEL ? vmx : svm);
}

static int close_pf(struct tdp_import *im, unsigned int vcpu, struct imp_vcpu *v)
{
	struct tdp_expect *e = &im->sum->expect;

	if (!v->pf_open)
		return 0;
	v->pf_open = false;
	if (!v->pf_walked)
		im->skip[v->pf_fast ? SKIP_PF_FAST : SKIP_PF_NO_WALK]++;
	if (!v->pf_injected && !v->pf_emulated && !v->pf_fast)
		e->v[TDP_EXP_pf_fixed]++;
	/* an L2 exit whose walk was not recorded still replays as a fault */
	return v->l2_fault ? emit_l2_fault(im, vcpu, v, v->l2_fault_ts) : 0;
}

/* ------------------------------------------------------------------ */
/* Pass 1: vCPUs, vendor, paging, memory */

static int32_t pid_first_vcpu(struct tdp_import *im, int32_t pid)
{
	for (int i = 0; i < im->npids; i++)
		if (im->pids[i].pid == pid)
			return im->pids[i].first;
	return -1;
}

static int infer(struct tdp_import *im)
{
	const struct tdp_import_opts *o = im->opts;
	uint64_t isa_vmx = 0, isa_svm = 0, tdp_exits = 0, pf_exits = 0, vmenter_tdp = 0;
	uint64_t max_gpa = 0, walks = 0;
	int32_t max_vcpu = 0;
	bool la57 = false;
	const char *why_vendor, *why_paging;

	/* which vCPU each host thread runs: the first vcpu_id seen on it */
	for (size_t i = 0; i < im->n; i++) {
		struct kvm_rec *r = &im->recs[i];

		if (r->vcpu < 0 || r->pid < 0 || pid_first_vcpu(im, r->pid) >= 0)
			continue;
		if (im->npids == im->pids_cap) {
			int cap = im->pids_cap ? im->pids_cap * 2 : 8;
			void *p = realloc(im->pids, cap * sizeof(*im->pids));

			if (!p)
				return fail(im, TDP_E_NOMEM, "out of memory");
			im->pids = p;
			im->pids_cap = cap;
		}
		im->pids[im->npids].pid = r->pid;
		im->pids[im->npids++].first = r->vcpu;
	}
	/* records without a vcpu id take their thread's current vCPU */
	{
		int32_t last_pid = -2, cur = -1;

		for (size_t i = 0; i < im->n; i++) {
			struct kvm_rec *r = &im->recs[i];

			if (r->vcpu >= 0) {
				/* remember per thread: cheap for the usual one-thread-at-a-time runs */
				last_pid = r->pid;
				cur = r->vcpu;
				continue;
			}
			if (r->pid == last_pid && cur >= 0) {
				r->vcpu = cur;
				continue;
			}
			r->vcpu = pid_first_vcpu(im, r->pid);
			if (r->vcpu < 0) {
				r->vcpu = 0;
				if (r->kind != KR_FOREIGN && r->kind != KR_LOST)
					im->pid_guessed = true;
			}
			last_pid = r->pid;
			cur = r->vcpu;
		}
	}

	for (size_t i = 0; i < im->n; i++) {
		struct kvm_rec *r = &im->recs[i];

		if (r->vcpu > max_vcpu && r->kind != KR_FOREIGN)
			max_vcpu = r->vcpu;
		switch (r->kind) {
		case KR_EXIT:
		case KR_NESTED_VMEXIT:
			if (r->isa == KR_ISA_VMX)
				isa_vmx++;
			else if (r->isa == KR_ISA_SVM)
				isa_svm++;
			if (r->kind == KR_EXIT) {
				if ((r->isa == KR_ISA_VMX && r->a == VMX_EPT_VIOLATION) ||
				    (r->isa == KR_ISA_SVM && r->a == SVM_EXIT_NPF))
					tdp_exits++;
				if ((r->isa == KR_ISA_VMX && r->a == VMX_EXCEPTION_NMI) ||
				    (r->isa == KR_ISA_SVM && r->a == SVM_EXIT_PF))
					pf_exits++;
			}
			break;
		case KR_VMENTER:
			if (r->isa == KR_ISA_VMX)
				isa_vmx++;
			else if (r->isa == KR_ISA_SVM)
				isa_svm++;
			if (r->b)
				vmenter_tdp++;
			break;
		case KR_WALK:
			walks++;
			break;
		case KR_ELEM: {
			if (r->b == 5)
				la57 = true;
			/* a large leaf (PS, bit 7) maps 2 MiB or 1 GiB, a table 4 KiB */
			bool large = r->b > 1 && (r->a & 0x80);
			uint64_t end = (r->a & PT64_ADDR_MASK) +
				       (large ? (r->b == 3 ? 1ull << 30 : 1ull << 22) : 4096);
			/* a not-present entry points nowhere */
			if ((r->a & 1) && end > max_gpa)
				max_gpa = end;
			break;
		}
		case KR_CR:
			if (r->a == 3 && (r->b & PT64_ADDR_MASK) + 4096 > max_gpa)
				max_gpa = (r->b & PT64_ADDR_MASK) + 4096;
			break;
		case KR_SET_A:
		case KR_SET_D:
			if (r->a + 8 > max_gpa)
				max_gpa = r->a + 8;
			break;
		default:
			break;
		}
	}

	tdp_config_init(&im->cfg);
	if (o->vendor >= 0) {
		im->cfg.vendor = (enum tdp_vendor)o->vendor;
		why_vendor = "--vendor";
	} else {
		im->cfg.vendor = isa_svm > isa_vmx ? TDP_VENDOR_AMD : TDP_VENDOR_INTEL;
		why_vendor = isa_vmx + isa_svm ? (isa_svm > isa_vmx ? "kvm_exit isa: SVM" :
						  "kvm_exit isa: VMX") :
			     "no kvm_exit: default";
	}
	if (o->paging >= 0) {
		im->cfg.paging = (enum tdp_paging)o->paging;
		why_paging = "--paging";
	} else if (vmenter_tdp) {
		im->cfg.paging = TDP_PAGING_NESTED;
		why_paging = "nested entries with EPT/NPT";
	} else if (tdp_exits > pf_exits) {
		im->cfg.paging = TDP_PAGING_TDP;
		why_paging = "EPT violation / #NPF exits";
	} else {
		im->cfg.paging = TDP_PAGING_SHADOW;
		why_paging = pf_exits ? "#PF intercepts" : walks ? "guest walks, no EPT/NPF exits" :
			     "default";
	}
	snprintf(im->reason_note, sizeof(im->reason_note), "config: vendor from %s; paging from %s",
		 why_vendor, why_paging);
	im->cfg.present |= 1u << TDP_CFG_vendor | 1u << TDP_CFG_paging;
	im->cfg.vcpus = (uint32_t)max_vcpu + 1;
	if (im->cfg.vcpus > 1)
		im->cfg.present |= 1u << TDP_CFG_vcpus;
	/* a 5-level walk: the guest has LA57, so its CPUID must offer it */
	if (la57) {
		im->cfg.la57 = true;
		im->cfg.present |= 1u << TDP_CFG_la57;
	}

	/* a page above everything seen holds the top-level table of an unknown CR3 */
	im->cr3_invented = (max_gpa + 4095) & ~4095ull;
	if (o->mem) {
		im->cfg.mem = o->mem;
		if (im->cr3_invented + 4096 > o->mem)
			im->cr3_invented = o->mem - 4096;
	} else {
		uint64_t mem = im->cr3_invented + 4096;

		/* 2 MiB granules, at least 16 MiB: small, round numbers */
		mem = (mem + (2u << 20) - 1) & ~((2ull << 20) - 1);
		im->cfg.mem = mem < (16u << 20) ? 16u << 20 : mem;
	}
	im->cfg.present |= 1u << TDP_CFG_mem;
	if (im->cfg.mem > (1ull << im->cfg.maxphyaddr)) {
		im->cfg.maxphyaddr = 52;
		im->cfg.present |= 1u << TDP_CFG_maxphyaddr;
		if (im->cfg.mem > (1ull << 52))
			return fail(im, TDP_E_RANGE, "guest memory 0x%llx beyond 2^52",
				    (unsigned long long)im->cfg.mem);
	}
	im->nvc = im->cfg.vcpus;
	im->vc = calloc(im->nvc, sizeof(*im->vc));
	if (!im->vc)
		return fail(im, TDP_E_NOMEM, "out of memory");
	for (unsigned int i = 0; i < im->nvc; i++)
		im->vc[i].last_reason = KR_REASON_UNKNOWN;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pass 2: one record */

static int replay_record(struct tdp_import *im, const struct kvm_rec *r)
{
	unsigned int vcpu = (unsigned int)r->vcpu;
	struct imp_vcpu *v = &im->vc[vcpu];
	struct tdp_expect *e = &im->sum->expect;
	enum tdp_vendor vendor = im->cfg.vendor;
	int ret;

	im->kind_count[r->kind]++;
	if (r->kind == KR_FOREIGN || r->kind == KR_OTHER) {
		im->name_count[r->name]++;
		return 0;
	}
	if (r->kind == KR_LOST) {
		char label[TDP_LABEL_MAX + 1];

		im->lost++;
		snprintf(label, sizeof(label), "lost");
		return emit_mark(im, label, r->ts);
	}
	if (v->walking && r->kind != KR_ELEM) {
		ret = finish_walk(im, vcpu, v);
		if (ret)
			return ret;
	}
	switch (r->kind) {
	case KR_ENTRY:
		return close_pf(im, vcpu, v);
	case KR_EXIT:
	case KR_NESTED_VMEXIT:	/* any exit from L2: the same exit, traced again */
		ret = close_pf(im, vcpu, v);
		if (ret)
			return ret;
		v->last_reason = r->a;
		if (r->kind == KR_NESTED_VMEXIT)
			break;
		if (is_reason(r->a, VMX_INVLPG, SVM_EXIT_INVLPG, vendor) && !v->guest_mode) {
			struct tdp_event ev = { .kind = TDP_EV_INVLPG };

			e->v[TDP_EXP_invlpg]++;
			ev.u.invlpg.gva = r->b;
			ev.present = TDP_KEY_BIT(INVLPG, gva);
			return emit(im, &ev, TDP_KEY_INVLPG_vcpu, vcpu, r->ts);
		}
		if (is_reason(r->a, VMX_INVPCID, SVM_EXIT_INVPCID, vendor) && !v->guest_mode)
			return emit_flush_global(im, vcpu, r->ts);
		break;
	case KR_NESTED_INJECT:
		ret = close_pf(im, vcpu, v);
		if (ret)
			return ret;
		e->v[TDP_EXP_vmexit]++;
		if (!v->guest_mode) {
			im->skip[SKIP_VMEXIT_L1]++;
			break;
		}
		v->guest_mode = false;
		return emit_simple(im, TDP_EV_VMEXIT, vcpu, r->ts);
	case KR_VMENTER: {
		struct tdp_event ev = { .kind = TDP_EV_VMENTER };

		e->v[TDP_EXP_vmenter]++;
		if (!r->b) {
			im->skip[SKIP_VMENTER_SHADOW]++;
			break;
		}
		if (im->cfg.paging != TDP_PAGING_NESTED) {
			im->skip[SKIP_VMENTER_MODE]++;
			break;
		}
		if (vendor == TDP_VENDOR_INTEL) {
			ev.u.vmenter.eptp = r->a;
			ev.present = TDP_KEY_BIT(VMENTER, eptp);
		} else {
			ev.u.vmenter.ncr3 = r->a;
			ev.present = TDP_KEY_BIT(VMENTER, ncr3);
		}
		v->guest_mode = true;
		v->eptp = r->a;
		return emit(im, &ev, TDP_KEY_VMENTER_vcpu, vcpu, r->ts);
	}
	case KR_PAGE_FAULT:
		e->v[TDP_EXP_pf_exits]++;
		if (is_reason(v->last_reason, VMX_EPT_VIOLATION, SVM_EXIT_NPF, vendor)) {
			struct tdp_event ev = { .kind = TDP_EV_FAULT };
			uint64_t ec = vendor == TDP_VENDOR_INTEL ? ept_qual_to_pferr(r->b) :
				      r->b & (0x3full | PFERR_GUEST_FINAL | PFERR_GUEST_PAGE);

			if (v->guest_mode) {
				/* emitted after KVM's walk of L1's EPT/NPT, which follows */
				ret = close_pf(im, vcpu, v);
				if (ret)
					return ret;
				v->pf_open = v->pf_walked = true;
				v->pf_injected = v->pf_emulated = v->pf_fast = false;
				v->l2_fault = true;
				v->l2_fault_addr = r->a;
				v->l2_fault_ec = ec;
				v->l2_fault_ts = r->ts;
				break;
			}
			if (im->cfg.paging == TDP_PAGING_SHADOW) {
				im->skip[SKIP_FAULT_MODE]++;
				break;
			}
			v->pf_open = true;
			v->pf_walked = true;	/* a recorded fault needs no walk */
			v->pf_injected = v->pf_emulated = v->pf_fast = false;
			ev.u.fault.addr = r->a;
			ev.u.fault.ec = ec;
			ev.present = TDP_KEY_BIT(FAULT, addr) | TDP_KEY_BIT(FAULT, ec);
			return emit(im, &ev, TDP_KEY_FAULT_vcpu, vcpu, r->ts);
		}
		ret = close_pf(im, vcpu, v);
		if (ret)
			return ret;
		v->pf_open = true;
		v->pf_walked = v->pf_injected = v->pf_emulated = v->pf_fast = false;
		break;
	case KR_CR:
	case KR_MSR: {
		int reg;

		if (r->kind == KR_MSR) {
			if (!r->c || r->a != MSR_EFER) {
				im->skip[SKIP_MSR_OTHER]++;
				break;
			}
			reg = 5;
		} else {
			if (!r->c) {
				im->skip[SKIP_CR_READ]++;
				break;
			}
			reg = (int)r->a;
			if (reg != 0 && reg != 3 && reg != 4) {
				im->skip[SKIP_CR_OTHER]++;
				break;
			}
		}
		e->v[TDP_EXP_cr_loads]++;
		if (v->guest_mode)	/* L2's own registers: the current context's */
			return emit_set_one(im, vcpu, reg, r->b, r->ts);
		switch (reg) {
		case 0: v->cr0 = r->b; v->known |= KNOWN_CR0; break;
		case 3: v->cr3 = r->b; v->known |= KNOWN_CR3; break;
		case 4: v->cr4 = r->b; v->known |= KNOWN_CR4; break;
		default: v->efer = r->b; v->known |= KNOWN_EFER; break;
		}
		/* before the first walk the loads only accumulate (see establish()) */
		if (v->established)
			return emit_set_one(im, vcpu, reg, r->b, r->ts);
		break;
	}
	case KR_WALK:
		e->v[TDP_EXP_walks]++;
		v->walking = true;
		v->walk_addr = r->a;
		v->walk_pferr = r->b;
		v->walk_ts = r->ts;
		v->nel = 0;
		if (v->pf_open)
			v->pf_walked = true;
		break;
	case KR_ELEM:
		if (r->b < 1 || r->b > 5)
			return fail_at(im, r, TDP_E_RANGE, "kvm_mmu_paging_element level %llu "
				       "(expected 1..5)", (unsigned long long)r->b);
		if (!v->walking) {
			im->skip[SKIP_ELEM_ALONE]++;
			break;
		}
		if (v->nel == 5) {
			im->skip[SKIP_ELEM_DEEP]++;
			break;
		}
		v->pte[v->nel] = r->a;
		v->lvl[v->nel++] = (unsigned int)r->b;
		break;
	case KR_SET_A:
	case KR_SET_D: {
		struct pte_slot *s = pte_find(im, r->a, false);

		if (s)
			/* the lower of the format's two A/D bits is A */
			s->val |= (r->kind == KR_SET_A ? s->ad & -s->ad : s->ad & ~(s->ad & -s->ad));
		break;
	}
	case KR_WALK_ERR:
		e->v[TDP_EXP_walk_errors]++;
		break;
	case KR_GET_PAGE:
		if (r->a)
			e->v[TDP_EXP_sp_created]++;
		break;
	case KR_SYNC:
		e->v[TDP_EXP_sp_sync]++;
		break;
	case KR_UNSYNC:
		e->v[TDP_EXP_sp_unsync]++;
		break;
	case KR_ZAP:
		e->v[TDP_EXP_sp_zapped]++;
		break;
	case KR_FAST_PF:
		if (r->a == 5)
			e->v[TDP_EXP_fast_pf_fixed]++;
		else if (r->a == 6)
			e->v[TDP_EXP_fast_pf_spurious]++;
		if (v->pf_open && (r->a == 5 || r->a == 6))
			v->pf_fast = true;
		break;
	case KR_INJ_EXC:
		if (r->a == 14) {
			e->v[TDP_EXP_pf_injected]++;
			v->pf_injected = true;
		}
		break;
	case KR_INVLPGA: {
		struct tdp_event ev = { .kind = TDP_EV_INVLPG };

		e->v[TDP_EXP_invlpg]++;
		if (v->guest_mode)
			break;
		ev.u.invlpg.gva = r->a;
		ev.present = TDP_KEY_BIT(INVLPG, gva);
		return emit(im, &ev, TDP_KEY_INVLPG_vcpu, vcpu, r->ts);
	}
	case KR_PV_FLUSH:
		if (r->a && !v->guest_mode)
			return emit_flush_global(im, vcpu, r->ts);
		break;
	case KR_EMULATE:
		e->v[TDP_EXP_emulated]++;
		v->pf_emulated = true;
		break;
	default:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Header notes */

static int note(struct tdp_import *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int note(struct tdp_import *im, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ret = tdp_writer_note(im->w, line);
	return ret ? fail(im, ret, "%s", tdp_writer_errmsg(im->w)) : 0;
}

/* The header notes, from the counts of the dry pass (see tdp_import()). */
static int write_notes(struct tdp_import *im, const struct tdp_import_summary *dry,
		       const uint64_t *skip, const uint64_t *name_count)
{
	const char *from = im->opts->from == TDP_IMPORT_DAT ? "trace-cmd .dat" :
			   "trace-cmd report text";
	char list[400];
	size_t len = 0;
	int ret;

	ret = note(im, "imported by tdpsim " TDPSIM_VERSION " from '%s' (%s): %llu records",
		   im->path, from, (unsigned long long)im->n);
	ret = ret ? ret : note(im, "%s", im->reason_note);
	ret = ret ? ret : note(im, "reconstructed: %llu guest page-table entries from walks, "
			       "%llu rewritten when a later walk read another value; %llu accesses",
			       (unsigned long long)dry->pte_writes,
			       (unsigned long long)dry->pte_rewrites,
			       (unsigned long long)dry->accesses);
	ret = ret ? ret : note(im, "not reconstructed: guest memory no walk read (entries "
			       "exist only where KVM's walker looked); guest stores that never "
			       "trapped (a changed entry appears only at the next walk that reads "
			       "it); accesses that did not exit; data contents");
	if (ret)
		return ret;
	for (unsigned int i = 0; i < im->nvc; i++) {
		struct imp_vcpu *v = &im->vc[i];

		if (v->regs_inferred)
			ret = note(im, "vcpu %u: CR0/CR4/EFER not all recorded before its first "
				   "walk: inferred from the walk's depth (%d levels)%s", i,
				   v->levels, (v->known & KNOWN_CR3) ? "" : ", CR3 invented");
		if (ret)
			return ret;
	}
	if (im->used_invented_cr3)
		ret = note(im, "CR3 never recorded for some vcpu: its top-level table placed at "
			   "0x%llx (an unused page)", (unsigned long long)im->cr3_invented);
	if (!ret && im->pid_guessed)
		ret = note(im, "host threads without any vcpu id record: taken as vcpu 0");
	if (!ret && im->synth_invlpg)
		ret = note(im, "%llu 'invlpg' of the walked address follow rewritten entries: "
			   "the guest's store and flush preceded the walk in an order the "
			   "recording does not show (they add to the simulated INVLPG exits)",
			   (unsigned long long)im->synth_invlpg);
	if (!ret && im->synth_invept)
		ret = note(im, "%llu 'invept' follow rewritten entries of L1's EPT/NPT: L1 "
			   "changed and flushed them before KVM's walk, in an order the "
			   "recording does not show", (unsigned long long)im->synth_invept);
	if (!ret && im->lost)
		ret = note(im, "events lost %llu times (ring buffer overrun): 'mark label=lost'; "
			   "entries changed meanwhile appear at the next walk",
			   (unsigned long long)im->lost);
	for (int k = 0; k < SKIP__COUNT && !ret; k++)
		if (skip[k])
			ret = note(im, "skipped %llu %s: %s", (unsigned long long)skip[k],
				   skip_event[k], skip_why[k]);
	for (int i = 0; i < im->nnames && !ret; i++) {
		if (!name_count[i])
			continue;
		len += snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
				"%s%s (%llu)", len ? ", " : "", im->names[i],
				(unsigned long long)name_count[i]);
		if (len >= sizeof(list))
			break;
	}
	if (!ret && len)
		ret = note(im, "not used: %s%s", list, len >= sizeof(list) ? "..." : "");
	return ret;
}

static void reset_state(struct tdp_import *im)
{
	free(im->ptes);
	im->ptes = NULL;
	im->pte_cap = im->pte_n = 0;
	for (unsigned int i = 0; i < im->nvc; i++) {
		memset(&im->vc[i], 0, sizeof(im->vc[i]));
		im->vc[i].last_reason = KR_REASON_UNKNOWN;
	}
	memset(im->skip, 0, sizeof(im->skip));
	memset(im->kind_count, 0, sizeof(im->kind_count));
	if (im->nnames)
		memset(im->name_count, 0, im->nnames * sizeof(*im->name_count));
	im->lost = 0;
	im->synth_invlpg = 0;
	im->synth_invept = 0;
	im->used_invented_cr3 = false;
}

static int run_pass(struct tdp_import *im)
{
	int ret = 0;

	for (size_t i = 0; i < im->n && !ret; i++)
		ret = replay_record(im, &im->recs[i]);
	for (unsigned int c = 0; c < im->nvc && !ret; c++) {
		if (im->vc[c].walking)
			ret = finish_walk(im, c, &im->vc[c]);
		if (!ret)
			ret = close_pf(im, c, &im->vc[c]);
	}
	return ret;
}

int tdp_import(const char *in, const char *out, const struct tdp_import_opts *opts,
	       struct tdp_import_summary *sum, char errbuf[TDP_ERRBUF_SIZE])
{
	struct tdp_import im = { .path = in, .opts = opts, .sum = sum };
	struct tdp_import_summary dry = { 0 };
	uint64_t skip[SKIP__COUNT], *name_count = NULL;
	bool kvm = false;
	int ret;

	memset(sum, 0, sizeof(*sum));
	ret = opts->from == TDP_IMPORT_DAT ?
	      tdp__import_read_dat(&im, in, im.err, sizeof(im.err)) :
	      tdp__import_read_report(&im, in, im.err, sizeof(im.err));
	if (ret)
		goto out;
	for (size_t i = 0; i < im.n && !kvm; i++)
		kvm = im.recs[i].kind != KR_FOREIGN && im.recs[i].kind != KR_LOST;
	if (!kvm) {
		ret = fail(&im, TDP_E_FORMAT, "'%s': no kvm or kvmmmu events in the recording "
			   "(record with 'trace-cmd record -e kvm -e kvmmmu')", in);
		goto out;
	}
	ret = infer(&im);
	if (ret)
		goto out;

	/*
	 * A dry pass 2 without a writer: the header notes need its counts but
	 * precede everything in the trace.  Cheap next to the reading.
	 */
	im.sum = &dry;
	ret = run_pass(&im);
	if (ret)
		goto out;
	memcpy(skip, im.skip, sizeof(skip));
	if (im.nnames) {
		name_count = malloc(im.nnames * sizeof(*name_count));
		if (!name_count) {
			ret = fail(&im, TDP_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(name_count, im.name_count, im.nnames * sizeof(*name_count));
	}
	{
		/* keep the per-vcpu facts the notes report (inferred registers) */
		struct imp_vcpu *keep = malloc(im.nvc * sizeof(*keep));
		bool invented = im.used_invented_cr3;
		uint64_t lost = im.lost, synth = im.synth_invlpg, synth_ept = im.synth_invept;

		if (!keep) {
			ret = fail(&im, TDP_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(keep, im.vc, im.nvc * sizeof(*keep));
		reset_state(&im);
		im.sum = sum;
		ret = tdp_writer_open(&im.w, out, opts->form, opts->level,
				      "tdpsim import " TDPSIM_VERSION, im.err);
		if (!ret) {
			struct imp_vcpu *fresh = im.vc;

			im.vc = keep;
			im.used_invented_cr3 = invented;
			im.lost = lost;
			im.synth_invlpg = synth;
			im.synth_invept = synth_ept;
			ret = write_notes(&im, &dry, skip, name_count);
			im.vc = fresh;
			im.used_invented_cr3 = false;
			im.lost = 0;
			im.synth_invlpg = 0;
			im.synth_invept = 0;
		}
		free(keep);
	}
	if (ret)
		goto out;
	ret = tdp_writer_config(im.w, &im.cfg);
	if (ret) {
		fail(&im, ret, "%s", tdp_writer_errmsg(im.w));
		goto out;
	}
	ret = run_pass(&im);
	if (ret)
		goto out;
	ret = tdp_writer_close(im.w);
	if (ret) {
		fail(&im, ret, "%s", tdp_writer_errmsg(im.w));
		goto out;
	}
	sum->cfg = im.cfg;
	sum->records = im.n;
	for (int k = 0; k < SKIP__COUNT; k++)
		sum->skipped += im.skip[k];
out:
	snprintf(errbuf, TDP_ERRBUF_SIZE, "%s", im.err);
	tdp_writer_free(im.w);
	free(name_count);
	free(im.recs);
	free(im.names);
	free(im.name_count);
	free(im.pids);
	free(im.vc);
	free(im.ptes);
	return ret;
}
