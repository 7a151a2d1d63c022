/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference x86 linear-address translation, written from the Intel SDM
 * Vol. 3A chapter 4 (paging) as plain if/else, independent of the KVM port.
 * Used by tests as the architectural oracle: what should the hardware
 * deliver for this access, given memory and registers?
 *
 * Covers 32-bit paging (4K, 4M with PSE, PSE-36), PAE (PDPTE registers),
 * 4-level and 5-level paging (4K/2M/1G), reserved bits, SMEP, SMAP (incl.
 * EFLAGS.AC and implicit accesses), CR0.WP, EFER.NXE, protection keys, the
 * I/D rule of the error code, and A/D updates on success.
 */
#ifndef TDPSIM_TEST_REF_WALK_H
#define TDPSIM_TEST_REF_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct ref_mem {
	void *ctx;
	/* false if @gpa is outside guest memory (no memslot) */
	bool (*read)(void *ctx, uint64_t gpa, unsigned size, uint64_t *val);
	void (*write)(void *ctx, uint64_t gpa, unsigned size, uint64_t val);
};

struct ref_regs {
	uint64_t cr0, cr3, cr4, efer;
	uint32_t pkru;
	uint64_t pdpte[4];	/* PAE: loaded when CR3/mode was set */
	unsigned maxphyaddr;
	bool pse36;		/* CPUID.PSE36 */
	bool pku;		/* CPUID.PKU (else CR4.PKE cannot be set) */
};

enum ref_op { REF_READ, REF_WRITE, REF_FETCH };

struct ref_access {
	uint64_t gva;
	enum ref_op op;
	unsigned cpl;
	bool ac;		/* EFLAGS.AC */
	bool implicit;		/* implicit supervisor access */
};

struct ref_result {
	bool fault;
	uint64_t ec;		/* #PF error code when fault */
	uint64_t gpa;		/* when !fault */
	int level;		/* leaf level (1 = 4K) when !fault */
};

/* Translate; on success performs A/D updates through mem->write. */
void ref_translate(const struct ref_mem *mem, const struct ref_regs *regs,
		   const struct ref_access *acc, struct ref_result *res);

#endif
