/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The importers' shared core: both readers (import_dat.c, import_report.c)
 * turn what they read into struct kvm_rec, one per tracepoint record, and
 * hand it to the core (import.c), which buffers them, infers the config in
 * a first pass and reconstructs the guest in a second.
 */
#ifndef TDPSIM_IMPORT_INT_H
#define TDPSIM_IMPORT_INT_H

#include <stdint.h>

#include <tdpsim/import.h>

/*
 * What a record is, and what its a/b/c hold:
 *   EXIT, NESTED_VMEXIT  a reason (KR_REASON_UNKNOWN if unknown), b info1
 *                        (kvm_nested_vmexit: any exit from L2 into L0)
 *   NESTED_INJECT        an exit reflected to L1 (kvm_nested_vmexit_inject)
 *   PAGE_FAULT           a address, b error_code
 *   CR                   a cr number, b value, c rw (1 write)
 *   MSR                  a ecx, b data, c write
 *   WALK                 a addr, b pferr        ELEM  a pte, b level
 *   SET_A, SET_D         a gpa                  WALK_ERR  a pferr
 *   GET_PAGE             a created              FAST_PF  a ret (5 fixed, 6 spurious)
 *   INJ_EXC              a vector               VMENTER  a guest_pgd, b tdp_enabled
 *   INVLPGA              a address              PV_FLUSH  a need_flush_tlb
 * OTHER and FOREIGN carry a name index (kvm_rec.name) for the notes.
 */
#define KVM_REC_KINDS(X)						\
	X(OTHER) X(FOREIGN) X(LOST) X(ENTRY) X(EXIT) X(NESTED_VMEXIT)	\
	X(NESTED_INJECT)						\
	X(PAGE_FAULT) X(CR) X(MSR) X(WALK) X(ELEM) X(SET_A) X(SET_D)	\
	X(WALK_ERR) X(GET_PAGE) X(SYNC) X(UNSYNC) X(ZAP) X(FAST_PF)	\
	X(INJ_EXC) X(VMENTER) X(INVLPGA) X(PV_FLUSH) X(EMULATE) X(SET_SPTE)

enum kvm_rec_kind {
#define X(k) KR_##k,
	KVM_REC_KINDS(X)
#undef X
	KR__COUNT
};

#define KR_REASON_UNKNOWN	UINT64_MAX
#define KR_ISA_VMX		1	/* kvm_exit's isa field: KVM_ISA_VMX */
#define KR_ISA_SVM		2

struct kvm_rec {
	uint64_t ts;		/* ns */
	uint64_t a, b, c;
	uint64_t pos;		/* record index (dat) or line (report), for messages */
	int32_t pid;		/* host thread: one per vCPU in QEMU */
	int32_t vcpu;		/* -1 unless the record names it */
	uint16_t kind;		/* enum kvm_rec_kind */
	uint16_t name;		/* OTHER/FOREIGN: index from tdp__import_name() */
	uint8_t isa;		/* exits, vmenter: KR_ISA_* or 0 */
};

/*
 * What the importer reads from one tracepoint: its kind and the fields it
 * puts in kvm_rec a, b, c (by name, as the event's format spells them).
 */
struct kvm_event_spec {
	const char *sys, *name;
	enum kvm_rec_kind kind;
	const char *a, *b, *c;	/* required fields (NULL: none) */
	const char *vcpu;	/* optional: the record names its vCPU */
	const char *isa;	/* optional: VMX/SVM */
	unsigned int raw_hex;	/* report -R prints a (bit 0), b (bit 1), c (bit 2) in bare hex */
};

/* Every tracepoint the importer uses; ends with a NULL name. */
extern const struct kvm_event_spec tdp__kvm_events[];

struct tdp_import;

/* Append one record (copied).  Return: 0 or TDP_E_NOMEM. */
int tdp__import_push(struct tdp_import *im, const struct kvm_rec *r);
/* Index of "system:event" in the importer's name table (for notes); -1: no memory. */
int tdp__import_name(struct tdp_import *im, const char *sysname);

/* Exit reason names, as kvm_exit's print fmt and trace-cmd's kvm plugin spell them. */
uint64_t tdp__exit_reason_code(const char *name, uint8_t *isa);

/* The readers.  Return: 0 or TDP_E_* with a message naming @path in @err. */
int tdp__import_read_dat(struct tdp_import *im, const char *path, char *err, size_t errlen);
int tdp__import_read_report(struct tdp_import *im, const char *path, char *err, size_t errlen);

#endif /* TDPSIM_IMPORT_INT_H */
