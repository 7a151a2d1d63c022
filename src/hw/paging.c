// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stage 1: the CPU's translation of a linear address with x86 paging, and
 * the 2-D walk that sends every guest-physical address of it through
 * stage 2 (ept.c / npt.c).  From the Intel SDM Vol. 3A:
 *   §4.3   32-bit paging (4 KiB, 4 MiB with CR4.PSE, PSE-36)
 *   §4.4   PAE paging (the PDPTE registers, §4.4.1)
 *   §4.5   4-level and 5-level paging (4 KiB / 2 MiB / 1 GiB)
 *   §4.6   access rights (U/S, R/W, XD, CR0.WP, SMEP, SMAP with EFLAGS.AC
 *          and implicit accesses), §4.6.2 protection keys
 *   §4.7   #PF error code
 *   §4.8   accessed and dirty flags
 * and for the 2-D walk the SDM Vol. 3C §29.3.3.2 / §29.3.5 and the APM
 * Vol. 2 §15.25.5 (see hw_translate()).
 *
 * This started as tests/oracle/ref_walk.c, the project's first SDM walker.
 */
#include "hw-int.h"

static const struct hw_stage2 hw_no_stage2 = { .kind = HW_S2_NONE };

/* The stage-1 entries used by one walk, by level (index level - 1). */
struct s1_path {
	uint8_t *ptr[5];	/* host location */
	uint64_t pa[5];		/* stage-1 physical address (a GPA under stage 2) */
	uint64_t val[5];	/* value read */
};

/*
 * s1_read() - read the stage-1 entry at @pa (@size 4 or 8 bytes), through
 * stage 2 (@id: hw_s2_id(@s2)) with the access @s2acc if there is one.
 * False with the exit in @res if stage 2 refuses.  Memory that is not
 * there reads as zero: the entry is not present.
 */
static inline __attribute__((always_inline))
bool s1_read(const struct hw_mem *mem, const struct hw_stage2 *s2,
	     const enum hw_stage2_kind kind, const struct hw_s2_id id,
	     uint64_t pa, uint64_t s2acc,
	     unsigned size, uint8_t **ptr, uint64_t *val, struct hw_result *res)
{
	uint64_t hpa = pa;

	if (kind != HW_S2_NONE && !hw_s2_translate(mem, s2, kind, id, pa, s2acc, &hpa, res))
		return false;
	*ptr = hw_mem_ptr(mem, hpa);
	*val = hw_load(*ptr, size);
	if (kind != HW_S2_NONE && mem->s1log) {
		struct hw_s1_log *l = mem->s1log;

		if (l->n < HW_S1_LOG_MAX) {
			l->ptr[l->n] = *ptr;
			l->val[l->n] = *val;
		}
		l->n++;
		l->size = size;
	}
	return true;
}

static inline unsigned maxphy(const struct hw_regs *regs)
{
	return regs->maxphyaddr && regs->maxphyaddr < 52 ? regs->maxphyaddr : 52;
}

/*
 * Reserved bits of a 4 MiB PDE (SDM §4.3, Table 4-4): bit 21, and bits
 * 20:(M - 19) where M = min(MAXPHYADDR, 40) is the PSE-36 width (bits
 * (M - 19):13 hold physical-address bits (M - 1):32); without PSE-36 M
 * is 32, so all of 20:13.
 */
static inline uint64_t pde4m_rsvd(const struct hw_regs *regs)
{
	unsigned m = maxphy(regs);

	if (!regs->pse36 || m < 32)
		m = 32;
	else if (m > 40)
		m = 40;
	return HW_BIT(21) | (m < 40 ? HW_BITS(20, m - 19) : 0);
}

/*
 * The walk, for one kind of stage 2 (@kind).  hw_translate() below has a
 * copy for shadow paging, where @kind is the constant HW_S2_NONE and the
 * compiler drops the stage-2 tests from every level (replay runs one walk
 * per guest access; those tests were a measurable share of it), and a
 * generic one for EPT and NPT: separate EPT and NPT copies cost more time
 * on the nested traces than their ~1 % fewer instructions saved.
 */
static inline __attribute__((always_inline))
void translate(const struct hw_mem *mem, const struct hw_regs *regs,
	       const struct hw_stage2 *s2, const enum hw_stage2_kind kind,
	       const struct hw_access *acc, struct hw_result *res)
{
	const uint64_t cr0 = regs->cr0, cr4 = regs->cr4, efer = regs->efer;
	const uint64_t la = acc->addr;
	const bool write = acc->op == TDP_OP_WRITE, fetch = acc->op == TDP_OP_FETCH;
	/* implicit supervisor accesses (GDT, ...) are supervisor at any CPL */
	const bool user = acc->cpl == 3 && !acc->implicit;
	const bool nxe = efer & HW_EFER_NXE;
	const bool ia32e = (cr4 & HW_CR4_PAE) && (efer & HW_EFER_LMA);
	const uint64_t sup = acc->cpl < 3 ? HW_S2_SUP : 0;
	const struct hw_s2_id id = hw_s2_id(s2);
	struct s1_path w;
	uint64_t s2pt, ec, out, hpa, leaf = 0, e;
	/* AND / OR of the entries used: R/W, U/S, A; XD */
	uint64_t and_e = ~0ull, or_e = 0;
	bool W = true, U = true, XD = false;
	int top = 0, leaf_level = 0, level;
	unsigned esize = 8;

	res->kind = HW_OK;
	res->gpa = res->hpa = res->error_code = res->qual = 0;

	/*
	 * How stage 2 sees a read of a guest paging-structure entry:
	 *  - EPT, A/D flags enabled in the EPTP: a write (SDM §29.3.5, "setting
	 *    this flag causes processor accesses to guest paging-structure
	 *    entries to be treated as writes"; kvm-unit-tests x86/vmx_tests.c
	 *    ept_access_test_paddr_read_only_ad_enabled: qualification read +
	 *    write whatever the entry's A/D bits);
	 *  - EPT, A/D disabled: a read (§29.3.3.2; KVM commit ae1e2d1082ae
	 *    "kvm: nVMX: support EPT accessed/dirty bits": "when EPT accessed
	 *    and dirty bits are not in use, VMX treats accesses to guest paging
	 *    structures as data reads"); setting a clear A/D flag in it is a
	 *    separate write, below;
	 *  - NPT: a user write (APM §15.25.5; kvm-unit-tests x86/svm_npt.c
	 *    npt_rw_pfwalk_check: a read-only nested PTE over the guest's page
	 *    table gives EXITINFO1 0x200000007 = P|W|U + guest page, and
	 *    npt_rsvd_pfwalk_check 0x20000000f; KVM's
	 *    update_accessed_dirty_bits(): "NPT ... always wants nested page
	 *    table entries for the guest page tables to be writable").
	 */
	s2pt = HW_S2_LINEAR | HW_S2_READ | sup;
	if (kind == HW_S2_NPT ||
	    (kind == HW_S2_EPT && (s2->eptp & HW_EPTP_AD)))
		s2pt |= HW_S2_WRITE;

	/*
	 * §4.7: W/R and U/S describe the access; I/D is set for a fetch only
	 * if CR4.SMEP = 1, or CR4.PAE = 1 (PAE, 4- or 5-level paging) and
	 * EFER.NXE = 1 -- never for 32-bit paging without SMEP.
	 */
	ec = (write ? HW_PF_W : 0) | (user ? HW_PF_U : 0) |
	     (fetch && ((cr4 & HW_CR4_SMEP) || ((cr4 & HW_CR4_PAE) && nxe)) ?
	      HW_PF_ID : 0);

	/*
	 * Vol. 3A §3.3.7.1 "Canonical Addressing" and §4.5: in IA-32e mode a
	 * linear address whose bits 63:N-1 (N = 57 with CR4.LA57, else 48)
	 * are not all equal is refused before paging, with #GP(0) -- #SS(0)
	 * for a stack-segment reference, which an `access` never is (its
	 * reads, writes and fetches go through DS/CS).  Nothing is read, no
	 * A/D flag set, no stage 2 touched.
	 */
	if (ia32e && (cr0 & HW_CR0_PG)) {
		const unsigned n = (cr4 & HW_CR4_LA57) ? 57 : 48;
		const int64_t sext = (int64_t)(la << (64 - n)) >> (64 - n);

		if ((uint64_t)sext != la) {
			res->kind = HW_GP;
			res->w = res->u = res->nx = res->dirty = false;
			res->level = 0;
			return;
		}
	}

	if (!(cr0 & HW_CR0_PG)) {
		/*
		 * Paging off: the linear address is the physical address.  For
		 * stage 2 it is treated as a user-mode, writable, executable
		 * translation (MBEC picks XU; advanced qualification bits 9-10).
		 */
		out = la;
		goto final;
	}

	if (!(cr4 & HW_CR4_PAE)) {
		/* 32-bit paging, §4.3: 4-byte entries, no XD, no reserved bits
		 * but those of a 4 MiB PDE */
		const uint32_t la32 = (uint32_t)la;

		esize = 4;
		top = 2;
		w.pa[1] = (regs->cr3 & 0xfffff000ull) + ((la32 >> 22) & 0x3ff) * 4;
		if (!s1_read(mem, s2, kind, id, w.pa[1], s2pt, 4, &w.ptr[1], &e, res))
			return;
		w.val[1] = e;
		if (!(e & HW_PTE_P))
			goto not_present;
		and_e = e;
		W = e & HW_PTE_W;
		U = e & HW_PTE_U;
		if ((cr4 & HW_CR4_PSE) && (e & HW_PTE_PS)) {
			if (e & pde4m_rsvd(regs))
				goto reserved;
			leaf = e;
			leaf_level = 2;
			out = (e & 0xffc00000ull) |
			      (regs->pse36 ? ((e >> 13) & 0xff) << 32 : 0) |
			      (la32 & 0x3fffff);
		} else {
			w.pa[0] = (e & 0xfffff000ull) + ((la32 >> 12) & 0x3ff) * 4;
			if (!s1_read(mem, s2, kind, id, w.pa[0], s2pt, 4, &w.ptr[0], &e, res))
				return;
			w.val[0] = e;
			if (!(e & HW_PTE_P))
				goto not_present;
			and_e &= e;
			W = W && (e & HW_PTE_W);
			U = U && (e & HW_PTE_U);
			leaf = e;
			leaf_level = 1;
			out = (e & 0xfffff000ull) | (la32 & 0xfff);
		}
	} else {
		/*
		 * PAE (§4.4) and 4/5-level (§4.5) paging.  Reserved: bits
		 * 51:MAXPHYADDR (PAE: 62:MAXPHYADDR, Tables 4-8 to 4-11), XD
		 * without EFER.NXE, PS in a PML5E/PML4E, bits (shift-1):13 of
		 * a large leaf.
		 */
		uint64_t rsvd = ia32e ? hw_above_maxphy(maxphy(regs)) :
				HW_BITS(62, maxphy(regs));
		uint64_t table;

		if (!nxe)
			rsvd |= HW_PTE_XD;
		if (ia32e) {
			top = (cr4 & HW_CR4_LA57) ? 5 : 4;
			table = regs->cr3 & HW_PTE_ADDR;
		} else if (regs->pdpte_walk) {
			/*
			 * AMD nested paging, legacy PAE guest: the PDPE is read
			 * from the PDPT at CR3[31:5] during the walk, through
			 * stage 2 like any guest page-table read (an unmapped
			 * PDPT is a #NPF with EXITINFO1 bit 33 on this access).
			 * A present PDPE has reserved bits 2:1, 8:5 and
			 * 63:MAXPHYADDR (APM Vol. 2 Figure 5-10 / SDM Table
			 * 4-8): #PF with RSVD.  It has no A flag to set.
			 */
			const uint64_t prsvd = HW_BITS(2, 1) | HW_BITS(8, 5) |
					       HW_BITS(63, maxphy(regs));

			w.pa[2] = (regs->cr3 & HW_BITS(31, 5)) + ((la >> 30) & 3) * 8;
			if (!s1_read(mem, s2, kind, id, w.pa[2], s2pt, 8, &w.ptr[2], &e, res))
				return;
			w.val[2] = e;
			if (!(e & HW_PTE_P))
				goto not_present;
			if (e & prsvd)
				goto reserved;
			table = e & HW_PTE_ADDR;
			top = 2;
		} else {
			/* §4.4.1: the PDPTE registers, loaded by MOV to CR */
			uint64_t pdpte = regs->pdpte[(la >> 30) & 3];

			if (!(pdpte & HW_PTE_P))
				goto not_present;
			table = pdpte & HW_PTE_ADDR;
			top = 2;
		}
		for (level = top; level >= 1; level--) {
			unsigned shift = 12 + 9 * (unsigned)(level - 1);

			w.pa[level - 1] = table + ((la >> shift) & 511) * 8;
			if (!s1_read(mem, s2, kind, id, w.pa[level - 1], s2pt, 8,
				     &w.ptr[level - 1], &e, res))
				return;
			w.val[level - 1] = e;
			if (!(e & HW_PTE_P))
				goto not_present;
			if ((e & rsvd) || (level >= 4 && (e & HW_PTE_PS)))
				goto reserved;
			and_e &= e;
			or_e |= e;
			if (level == 1 || (e & HW_PTE_PS)) {
				if (level > 1 && (e & HW_BITS(shift - 1, 13)))
					goto reserved;
				leaf = e;
				leaf_level = level;
				out = (e & HW_PTE_ADDR & ~HW_BITS(shift - 1, 0)) |
				      (la & HW_BITS(shift - 1, 0));
				break;
			}
			table = e & HW_PTE_ADDR;
		}
		W = and_e & HW_PTE_W;
		U = and_e & HW_PTE_U;
		XD = nxe && (or_e & HW_PTE_XD);
	}

	/* §4.6.1: access rights of the translation */
	{
		bool deny;

		if (fetch)
			deny = XD || (user ? !U : (U && (cr4 & HW_CR4_SMEP)));
		else if (user)
			deny = !U || (write && !W);
		else
			deny = (U && (cr4 & HW_CR4_SMAP) &&
				(acc->implicit || !acc->ac)) ||
			       (write && !W && (cr0 & HW_CR0_WP));
		/*
		 * §4.6.2: with 4/5-level paging and CR4.PKE, a data access to a
		 * user-mode address (U = 1 at every level) is checked against
		 * PKRU for the leaf's key: AD refuses any, WD writes by user
		 * mode, and by supervisor mode if CR0.WP = 1.
		 */
		if (ia32e && (cr4 & HW_CR4_PKE) && U && !fetch) {
			unsigned key = (unsigned)(leaf >> HW_PTE_PK_SHIFT) & 15;
			bool ad = (regs->pkru >> (2 * key)) & 1;
			bool wd = (regs->pkru >> (2 * key + 1)) & 1;

			if (ad || (write && wd && (user || (cr0 & HW_CR0_WP)))) {
				ec |= HW_PF_PK;
				deny = true;
			}
		}
		if (deny) {
			ec |= HW_PF_P;
			goto fault;
		}
	}

final:
	/*
	 * The final access through stage 2, with its own type; MBEC and the
	 * advanced qualification bits see the stage-1 rights.  Only then are
	 * stage-1 A/D flags set (a #PF or exit on the way sets none).
	 */
	hpa = out;
	if (kind != HW_S2_NONE) {
		uint64_t a = HW_S2_LINEAR | HW_S2_FINAL | sup |
			     (write ? HW_S2_WRITE : fetch ? HW_S2_FETCH : HW_S2_READ) |
			     (U ? HW_S2_US : 0) | (W ? HW_S2_RW : 0) |
			     (XD ? HW_S2_XD : 0);

		if (!hw_s2_translate(mem, s2, kind, id, out, a, &hpa, res))
			return;
	}

	/*
	 * §4.8: A in every entry used, D in the leaf for a write, top down.
	 * With EPT A/D disabled each update is a write through stage 2 of
	 * its own (kvm-unit-tests ept_access_test_paddr_read_only_ad_disabled:
	 * "all accesses to guest paging structures are reported separately
	 * as a read and ... a read+write if the A/D bits have to be set"); an
	 * entry whose flags are already set is only read, so a read-only EPT
	 * mapping of it is enough.  With EPT A/D enabled or NPT the read was
	 * already checked as a write.
	 */
	if (!leaf_level || ((and_e & HW_PTE_A) && (!write || (leaf & HW_PTE_D))))
		top = 0;	/* nothing to set: the hit path */
	for (level = top; level && level >= leaf_level; level--) {
		uint64_t need = HW_PTE_A |
				(level == leaf_level && write ? HW_PTE_D : 0);

		if ((w.val[level - 1] & need) == need || !w.ptr[level - 1])
			continue;
		if (kind == HW_S2_EPT && !(s2->eptp & HW_EPTP_AD)) {
			uint64_t h;

			if (!hw_s2_translate(mem, s2, HW_S2_EPT, id, w.pa[level - 1],
					     HW_S2_LINEAR | HW_S2_READ |
					     HW_S2_WRITE | sup, &h, res))
				return;
		}
		w.val[level - 1] = hw_set_bits(mem, w.ptr[level - 1], esize, need);
	}

	res->hpa = hpa;
	res->gpa = out;
	res->w = W;
	res->u = U;
	res->nx = XD;
	res->dirty = leaf_level ? !!(w.val[leaf_level - 1] & HW_PTE_D) : true;
	res->global = leaf_level && (cr4 & HW_CR4_PGE) && (leaf & HW_PTE_G);
	res->level = leaf_level;
	return;

reserved:
	ec |= HW_PF_P | HW_PF_RSVD;
	goto fault;
not_present:
fault:
	res->kind = HW_PF;
	res->error_code = ec;
	res->w = res->u = res->nx = res->dirty = res->global = false;
	res->level = 0;
}

void hw_translate(const struct hw_mem *mem, const struct hw_regs *regs,
		  const struct hw_stage2 *s2, const struct hw_access *acc,
		  struct hw_result *res)
{
	if (!s2 || s2->kind == HW_S2_NONE)
		translate(mem, regs, &hw_no_stage2, HW_S2_NONE, acc, res);
	else
		translate(mem, regs, s2, s2->kind, acc, res);
}

/* Is there memory at @hpa (a page of KVM's, or in the guest's memslot)? */
static bool hw_mem_exists(const struct hw_mem *mem, uint64_t hpa)
{
	uint64_t pfn = hpa >> 12;

	if (pfn >= mem->guest_pfn_base)
		return mem->gmem && tdp_gmem_gfn_in_slot(mem->gmem,
							  pfn - mem->guest_pfn_base);
	return mem->table && mem->table(mem->ctx, hpa & ~0xfffull);
}

bool hw_load_pdptes_exit(const struct hw_mem *mem, const struct hw_stage2 *s2,
			 struct hw_regs *regs, struct hw_result *res)
{
	/*
	 * §4.4.1: the PDPT is 32-byte aligned at CR3[31:5].  A PDPTE with P=1
	 * has reserved bits 2:1, 8:5 and 63:MAXPHYADDR (Table 4-8); the MOV
	 * to CR then faults (#GP) and loads nothing.
	 */
	const uint64_t pa = regs->cr3 & HW_BITS(31, 5);
	const uint64_t rsvd = HW_BITS(2, 1) | HW_BITS(8, 5) | HW_BITS(63, maxphy(regs));
	uint64_t hpa = pa, v[4];
	const uint8_t *p;

	if (!s2)
		s2 = &hw_no_stage2;
	res->kind = HW_OK;
	res->gpa = res->hpa = res->error_code = res->qual = 0;
	/*
	 * Through stage 2 (the four entries share one page): a read with EPT
	 * (SDM §29.3.3.2, and the FIXME in KVM's walk_addr_generic: "loads of
	 * the PDPTE registers for PAE paging by the MOV to CR instruction are
	 * treated as reads"), not an access for a linear address (bit 7
	 * clear).  An AMD CPU with nested paging has no such load: it reads
	 * the PDPEs at every walk (hw_regs.pdpte_walk; APM Vol. 2 §15.25),
	 * and replay never calls this with an NPT stage 2 (src/kvm/run.c,
	 * vcpu_run_pdpte_load(): Intel only).  For such a caller the NPT
	 * branch reads the PDPT as NPT sees any guest page-table read (a
	 * user write, EXITINFO1 bit 33); it is not an AMD operation.
	 */
	if (s2->kind != HW_S2_NONE) {
		uint64_t a = s2->kind == HW_S2_EPT ? HW_S2_READ :
			     HW_S2_LINEAR | HW_S2_READ | HW_S2_WRITE;

		if (!hw_s2_translate(mem, s2, s2->kind, hw_s2_id(s2), pa, a, &hpa, res))
			return false;
	}
	if (!hw_mem_exists(mem, hpa))
		return false;
	p = hw_mem_ptr(mem, hpa);
	for (int i = 0; i < 4; i++) {
		v[i] = hw_load(p ? p + 8 * i : NULL, 8);
		if ((v[i] & HW_PTE_P) && (v[i] & rsvd))
			return false;
	}
	memcpy(regs->pdpte, v, sizeof(v));
	return true;
}

bool hw_load_pdptes(const struct hw_mem *mem, const struct hw_stage2 *s2,
		    struct hw_regs *regs)
{
	struct hw_result res;

	return hw_load_pdptes_exit(mem, s2, regs, &res);
}
