// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay --check: the MMU invariant checker as the engine runs it.
 *
 * The full check (kvm_mmu_check_invariants() plus every synced shadow
 * page against its gPTEs) walks all live shadow pages, so after every
 * event it costs O(working set) and made --check ~100x slower than a
 * plain replay.  Instead, the port records what each event touches
 * (struct kvm_check_log: every SPTE stored, every page whose bookkeeping
 * changed; hooks in mmu_page.c and fault.h) and after the event only
 * those are checked, with the same rules, plus the gPTEs a guest store
 * changed.  Every @every events and at the end of the replay the full
 * check runs, which also covers what no single touched object shows: the
 * census counters (n_used_mmu_pages, sp_live, unsync_live,
 * indirect_shadow_pages, rmap totals) and a gPTE whose shadow page could
 * not be judged when it was written (an L1 EPT/NPT page while L2 was not
 * running, see check_sp_gptes_now()).
 */
#include <stdlib.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "fault.h"
#include "paging.h"

/* sptep_to_sp()'s partner: the index of @sptep in its page */
static int check_spte_index(const u64 *sptep)
{
	return (int)(((uintptr_t)sptep & (PAGE_SIZE - 1)) / sizeof(u64));
}

/* Start recording for the incremental check.  0 or TDP_E_NOMEM. */
int kvm_mmu_check_init(struct kvm *kvm, u64 every)
{
	kvm->chk = calloc(1, sizeof(*kvm->chk));
	if (!kvm->chk)
		return TDP_E_NOMEM;
	kvm->chk->every = every ? every : TDP_CHECK_EVERY_DEFAULT;
	return 0;
}

/*
 * Can @sp's gPTEs be judged with @vcpu's current MMU, and how: the same
 * selection as the full check, which judges the shadow pages of the
 * guest's own tables under shadow paging, and while L2 runs the shadow
 * EPT02/NPT02 pages of the role in use (MBEC, execute-only and A/D follow
 * that role).  Returns 0 (no), 32, 64 or 'e' (EPT).
 */
static int gpte_kind(struct kvm *kvm, struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	union kvm_mmu_page_role want = vcpu->arch.mmu->root_role, r = sp->role;

	if (vcpu->tdp_enabled && !vcpu->arch.guest_mode)
		return 0;
	if (!sp_has_gptes(sp) || sp->unsync || sp->role.level != PG_LEVEL_4K ||
	    sp->role.invalid || sp->on_free_list || is_obsolete_sp(kvm, sp))
		return 0;
	if (sp->role.guest_mode) {
		r.level = want.level;
		r.access = want.access;
		if (!vcpu->arch.guest_mode || r.word != want.word)
			return 0;
		return vcpu->vendor == KVM_VENDOR_INTEL ? 'e' : 64;
	}
	if (vcpu->tdp_enabled)
		return 0;
	return sp->role.has_4_byte_gpte ? 32 : 64;
}

static const char *check_gpte(struct kvm *kvm, struct kvm_vcpu *vcpu,
			      struct kvm_mmu_page *sp, int i)
{
	switch (gpte_kind(kvm, vcpu, sp)) {
	case 32:
		return paging32_check_sp_gpte(vcpu, sp, i);
	case 64:
		return paging64_check_sp_gpte(vcpu, sp, i);
	case 'e':
		return ept_check_sp_gpte(vcpu, sp, i);
	}
	return NULL;
}

static const char *check_sp_gptes_now(struct kvm *kvm, struct kvm_vcpu *vcpu,
				      struct kvm_mmu_page *sp)
{
	switch (gpte_kind(kvm, vcpu, sp)) {
	case 32:
		return paging32_check_sp_gptes(vcpu, sp);
	case 64:
		return paging64_check_sp_gptes(vcpu, sp);
	case 'e':
		return ept_check_sp_gptes(vcpu, sp);
	}
	return NULL;
}

/* The gPTEs a guest store to [gpa, gpa + len) of one page changed. */
static const char *check_stored_gptes(struct kvm *kvm, struct kvm_vcpu *vcpu,
				      gpa_t gpa, unsigned int len)
{
	struct hlist_node *node;

	for (node = kvm->arch.mmu_page_hash[kvm_page_table_hashfn(gpa >> PAGE_SHIFT)].first;
	     node; node = node->next) {
		struct kvm_mmu_page *sp = container_of(node, struct kvm_mmu_page, hash_link);
		const char *why = NULL;

		if (sp->gfn != gpa >> PAGE_SHIFT)
			continue;
		switch (gpte_kind(kvm, vcpu, sp)) {
		case 32:
			why = paging32_check_sp_gptes_range(vcpu, sp, gpa, len);
			break;
		case 64:
			why = paging64_check_sp_gptes_range(vcpu, sp, gpa, len);
			break;
		case 'e':
			why = ept_check_sp_gptes_range(vcpu, sp, gpa, len);
			break;
		}
		if (why)
			return why;
	}
	return NULL;
}

/*
 * kvm_mmu_check_full() - every invariant, on every page: the structural
 * checker, then every synced shadow page against its gPTEs under @vcpu's
 * current MMU (NULL: the vCPU of the last checked event, as the per-event
 * full check did).  NULL or the broken rule.
 */
const char *kvm_mmu_check_full(struct kvm *kvm, struct kvm_vcpu *vcpu)
{
	const char *why = kvm_mmu_check_invariants(kvm);
	struct list_head *pos;

	if (!vcpu)
		vcpu = kvm->chk && kvm->chk->last_vcpu ? kvm->chk->last_vcpu : kvm->vcpus[0];
	for (pos = kvm->arch.active_mmu_pages.next;
	     vcpu && !why && pos != &kvm->arch.active_mmu_pages; pos = pos->next)
		why = check_sp_gptes_now(kvm, vcpu,
					 container_of(pos, struct kvm_mmu_page, link));
	if (kvm->chk) {
		kvm->chk->nsptes = kvm->chk->nsps = 0;
		kvm->chk->overflow = false;
		kvm->chk->since_full = 0;
	}
	return why;
}

/*
 * kvm_mmu_check_event() - after @ev ran on @vcpu: what it touched, or
 * everything when the period is over or the log overflowed.  Resets the
 * log.  NULL or the broken rule.
 */
const char *kvm_mmu_check_event(struct kvm *kvm, struct kvm_vcpu *vcpu,
				const struct tdp_event *ev)
{
	struct kvm_check_log *l = kvm->chk;
	const char *why = NULL;

	if (!l)
		return kvm_mmu_check_full(kvm, vcpu);
	l->last_vcpu = vcpu;
	if (l->overflow || ++l->since_full >= l->every)
		return kvm_mmu_check_full(kvm, vcpu);
	for (u32 i = 0; !why && i < l->nsps; i++)
		why = kvm_mmu_check_touched_sp(kvm, l->sps[i]);
	for (u32 i = 0; !why && i < l->nsptes; i++) {
		u64 *sptep = l->sptes[i];

		why = kvm_mmu_check_touched_spte(kvm, sptep);
		if (!why)
			why = check_gpte(kvm, vcpu, sptep_to_sp(sptep), check_spte_index(sptep));
	}
	if (!why && ev->kind == TDP_EV_WRITE) {
		gpa_t gpa = ev->u.write.gpa, last = gpa + ev->u.write.size - 1;

		if ((gpa >> PAGE_SHIFT) == (last >> PAGE_SHIFT)) {
			why = check_stored_gptes(kvm, vcpu, gpa, ev->u.write.size);
		} else {	/* a store across a page boundary */
			gpa_t next = (last >> PAGE_SHIFT) << PAGE_SHIFT;

			why = check_stored_gptes(kvm, vcpu, gpa, next - gpa);
			if (!why)
				why = check_stored_gptes(kvm, vcpu, next, last + 1 - next);
		}
	}
	l->nsptes = l->nsps = 0;
	return why;
}
