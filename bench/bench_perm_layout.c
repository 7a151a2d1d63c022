// SPDX-License-Identifier: GPL-2.0-only
/*
 * permission_fault() cost for one ACC layout, against a naive version that
 * re-derives the verdict from the role bits and the rules on every call.
 *
 * Inputs: a pre-generated random mix (page rights W/U/NX, op, CPL,
 * EFLAGS.AC, implicit, pkey, PKRU) drawn from one seed, so the old and new
 * builds see the same architectural accesses, each encoded in its own ACC
 * format.  The MMU is 4-level paging with CR0.WP, SMEP, SMAP, NXE and, in
 * the "pke" run, CR4.PKE (pkru_mask != 0: the slow path is taken).
 * Results are summed into a value that is printed, so nothing is dead code.
 *
 * Usage: bench_perm_layout_{old,new} [calls-per-run-in-millions [pke]]
 * (pke 0 or 1 runs only that configuration; for callgrind instruction
 * counts, whose totals are then per configuration).
 * Output: one line per variant, "layout variant ns/call ticks/call".
 */
#include <stdio.h>
#include <stdlib.h>

#include <tdpsim/mmu.h>

#include "bench.h"
#include "mmu/mmu.h"

#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
#define LAYOUT_NAME	"new"
#else
#define LAYOUT_NAME	"old"
#endif

#define NR_INPUTS	(1u << 15)	/* 768 KiB of inputs */
#define NR_RUNS		31		/* best of many short runs: the VM is shared */

/*
 * Inputs are stored already encoded (access with PFERR_IMPLICIT_ACCESS in
 * place, EFLAGS as a word) so the loop measures permission_fault() and not
 * the decoding of a packed record: 24 bytes per call, streamed.
 */
struct perm_input {
	u64 access;
	unsigned long rflags;
	u32 pkru;
	u8 pte_access;
	u8 pkey;
};

static struct perm_input inputs[NR_INPUTS];

/* xorshift64*: deterministic, layout independent */
static u64 rng_state = 0x9e3779b97f4a7c15ull;
static u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void gen_inputs(void)
{
	unsigned int i;

	for (i = 0; i < NR_INPUTS; i++) {
		u64 r = rng();
		bool w = r & 1, u = r & 2, nx = r & 4, user = r & 8;
		unsigned int op = (unsigned int)((r >> 4) % 3);
		struct perm_input *in = &inputs[i];

		in->pte_access = (w ? ACC_WRITE_MASK : 0) | (u ? ACC_USER_MASK : 0) |
				 (nx ? 0 : ACC_EXEC_MASK);
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
		in->pte_access |= ACC_READ_MASK;
#endif
		in->access = (op == 1 ? PFERR_WRITE_MASK : op == 2 ? PFERR_FETCH_MASK : 0) |
			     (user ? PFERR_USER_MASK : 0);
		in->rflags = (r >> 8) & 1 ? X86_EFLAGS_AC : 0;
		/* implicit accesses: supervisor data accesses, 1 in 8 of them */
		if (!user && op != 2 && ((r >> 9) & 7) == 0)
			in->access |= PFERR_IMPLICIT_ACCESS;
		in->pkey = (r >> 12) & 15;
		in->pkru = (u32)(r >> 32);
	}
}

/*
 * naive_permission_fault() - the SDM §4.6 rules evaluated directly from the
 * role bits on each call (what permission_fault()'s tables precompute).
 */
static inline __attribute__((always_inline))
u32 naive_permission_fault(const struct kvm_vcpu *vcpu,
					 const struct kvm_mmu *mmu,
					 unsigned int pte_access,
					 unsigned int pte_pkey, u64 access)
{
	bool user = access & PFERR_USER_MASK, write = access & PFERR_WRITE_MASK;
	bool fetch = access & PFERR_FETCH_MASK;
	bool implicit = access & PFERR_IMPLICIT_ACCESS;
	bool u = pte_access & ACC_USER_MASK, w = pte_access & ACC_WRITE_MASK;
	bool x = pte_access & ACC_EXEC_MASK;
	bool smap_blocks = is_cr4_smap(mmu) &&
			   (implicit || !(vcpu->arch.rflags & X86_EFLAGS_AC));
	bool fault = false, pk = false;

	if (fetch) {
		if (is_efer_nx(mmu) && !x)
			fault = true;
		if (user ? !u : (u && is_cr4_smep(mmu)))
			fault = true;
	} else if (write) {
		if (user) {
			fault = !u || !w;
		} else {
			if (u && smap_blocks)
				fault = true;
			if (is_cr0_wp(mmu) && !w)
				fault = true;
		}
	} else {
		fault = user ? !u : (u && smap_blocks);
	}
	if (is_cr4_pke(mmu) && u && !fetch) {
		u32 bits = vcpu->arch.pkru >> (pte_pkey * 2);

		if (bits & 1)
			pk = true;
		if (write && (bits & 2) && (user || is_cr0_wp(mmu)))
			pk = true;
	}
	if (!fault && !pk)
		return 0;
	return PFERR_PRESENT_MASK | (pk ? PFERR_PK_MASK : 0);
}

/* Out of line so both variants are measured in the same setting: the
 * per-call function is inlined into the loop in both cases. */
#define DEFINE_LOOP(name, fn)						\
static __attribute__((noinline)) u64 name(struct kvm_vcpu *vcpu, const struct kvm_mmu *mmu,	\
		unsigned long reps)					\
{									\
	u64 sum = 0;							\
	unsigned long r;						\
	unsigned int i;							\
									\
	for (r = 0; r < reps; r++)					\
		for (i = 0; i < NR_INPUTS; i++) {			\
			const struct perm_input *in = &inputs[i];	\
									\
			vcpu->arch.rflags = in->rflags;		\
			vcpu->arch.pkru = in->pkru;			\
			sum += fn(vcpu, mmu, in->pte_access, in->pkey,	\
				  in->access);			\
		}							\
	return sum;							\
}
DEFINE_LOOP(loop_table, permission_fault)
DEFINE_LOOP(loop_naive, naive_permission_fault)

typedef u64 (*loop_fn)(struct kvm_vcpu *, const struct kvm_mmu *, unsigned long);

/* best-of-NR_RUNS ticks per call */
static double measure(loop_fn fn, struct kvm_vcpu *vcpu, unsigned long reps,
		      u64 *sum)
{
	double best = 1e30;
	int run;

	for (run = 0; run < NR_RUNS; run++) {
		u64 t0 = bench_tsc(), t1, s;

		s = fn(vcpu, vcpu->arch.mmu, reps);
		t1 = bench_tsc();
		bench_keep(s);
		*sum += s;
		if ((double)(t1 - t0) < best)
			best = (double)(t1 - t0);
	}
	return best / ((double)reps * NR_INPUTS);
}

static unsigned int count_mismatches(struct kvm_vcpu *vcpu)
{
	unsigned int i, bad = 0;

	for (i = 0; i < NR_INPUTS; i++) {
		const struct perm_input *in = &inputs[i];

		vcpu->arch.rflags = in->rflags;
		vcpu->arch.pkru = in->pkru;
		bad += permission_fault(vcpu, vcpu->arch.mmu, in->pte_access, in->pkey,
					in->access) !=
		       naive_permission_fault(vcpu, vcpu->arch.mmu, in->pte_access,
					      in->pkey, in->access);
	}
	return bad;
}

int main(int argc, char **argv)
{
	unsigned long millions = argc > 1 ? strtoul(argv[1], NULL, 0) : 2;
	unsigned long reps = millions * 1000000ul / NR_INPUTS + 1;
	double tpn = bench_tsc_per_ns();
	u64 sum = 0;
	int pke, pke_first = 0, pke_last = 1;

	if (argc > 2)
		pke_first = pke_last = !!atoi(argv[2]);
	gen_inputs();
	printf("# layout %s, tsc %.0f MHz, %lu calls per run, best of %d\n",
	       LAYOUT_NAME,
	       tpn * 1000.0, reps * NR_INPUTS, NR_RUNS);
	printf("# layout  variant     ns/call  ticks/call\n");
	for (pke = pke_first; pke <= pke_last; pke++) {
		struct kvm_vcpu vcpu = { .maxphyaddr = 46, .tdp_enabled = true };
		double t_table, t_naive;
		unsigned int bad;

		vcpu.arch.cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
		vcpu.arch.cr4 = X86_CR4_PAE | X86_CR4_SMEP | X86_CR4_SMAP |
				(pke ? X86_CR4_PKE : 0);
		vcpu.arch.efer = EFER_LME | EFER_LMA | EFER_NX;
		kvm_init_mmu(&vcpu);

		bad = count_mismatches(&vcpu);
		if (bad) {
			fprintf(stderr, "naive and table disagree on %u inputs\n", bad);
			return 1;
		}
		t_table = measure(loop_table, &vcpu, reps, &sum);
		t_naive = measure(loop_naive, &vcpu, reps, &sum);
		printf("%-8s  table%-5s  %7.3f  %10.2f\n",
		       LAYOUT_NAME,
		       pke ? "+pke" : "", t_table / tpn, t_table);
		printf("%-8s  naive%-5s  %7.3f  %10.2f\n",
		       LAYOUT_NAME,
		       pke ? "+pke" : "", t_naive / tpn, t_naive);
		printf("# naive/table%s: %.2fx\n", pke ? "+pke" : "", t_naive / t_table);
	}
	printf("# checksum %llu\n", (unsigned long long)sum);
	return 0;
}
