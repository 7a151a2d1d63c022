// SPDX-License-Identifier: GPL-2.0-only
/* The generator's events, each stamped with a guest time that moves on. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>

#include "gen/gen-int.h"

/* ------------------------------------------------------------------ */
/* Emitting events.  Errors are sticky: after one, everything is a no-op. */

void gen_fail(struct gen *g, int err, const char *fmt, ...)
{
	va_list ap;

	if (g->err)
		return;
	g->err = err;
	va_start(ap, fmt);
	vsnprintf(g->errbuf, TDP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

void gen_emit(struct gen *g, struct tdp_event *ev)
{
	int ret;

	if (g->err)
		return;
	if (g->vcpu) {
		/* events of one vCPU; marks have no vcpu= */
		static const uint64_t vcpu_key[TDP_EV__COUNT] = {
			[TDP_EV_WRITE] = TDP_KEY_BIT(WRITE, vcpu),
			[TDP_EV_SET] = TDP_KEY_BIT(SET, vcpu),
			[TDP_EV_ACCESS] = TDP_KEY_BIT(ACCESS, vcpu),
			[TDP_EV_INVLPG] = TDP_KEY_BIT(INVLPG, vcpu),
			[TDP_EV_FLUSH] = TDP_KEY_BIT(FLUSH, vcpu),
		};

		if (vcpu_key[ev->kind]) {
			ev->vcpu = g->vcpu;
			ev->present |= vcpu_key[ev->kind];
		}
	}
	/* +50..500 ns per event: a guest running between exits */
	g->t += 50 + rng_below(g, 451);
	ev->t = g->t;
	ev->present |= TDP_PRESENT_T;
	ret = tdp_writer_event(g->w, ev);
	if (ret)
		gen_fail(g, ret, "%s", tdp_writer_errmsg(g->w));
	g->stats->events++;
}

/*
 * A store by the running context (g->vcpu) through its own mapping: @gva
 * is where the guest's code writes (its direct map, or the physical
 * address while paging is off), @gpa where that lands.  The CPL is the
 * last `set cpl` of the vCPU: page tables are written by the kernel.
 */
void emit_write(struct gen *g, uint64_t gpa, uint64_t val, unsigned int size,
		uint64_t gva)
{
	struct tdp_event ev = { .kind = TDP_EV_WRITE };

	ev.present = TDP_KEY_BIT(WRITE, gpa) | TDP_KEY_BIT(WRITE, val) |
		     TDP_KEY_BIT(WRITE, gva);
	ev.u.write.gva = gva;
	if (size != 8)
		ev.present |= TDP_KEY_BIT(WRITE, size);
	ev.u.write.gpa = gpa;
	ev.u.write.val = val;
	ev.u.write.size = size;
	gen_emit(g, &ev);
}

void emit_access(struct gen *g, uint64_t gva, int op, int cpl, int ac)
{
	struct tdp_event ev = { .kind = TDP_EV_ACCESS };

	ev.present = TDP_KEY_BIT(ACCESS, gva) | TDP_KEY_BIT(ACCESS, op) |
		     TDP_KEY_BIT(ACCESS, cpl);
	ev.u.access.gva = gva;
	ev.u.access.op = op;
	ev.u.access.cpl = cpl;
	/* ac=0 is spelled out only where it matters (a SMAP violation) */
	if (ac >= 0)
		ev.present |= TDP_KEY_BIT(ACCESS, ac);
	ev.u.access.ac = ac > 0;
	g->stats->accesses++;
	if (g->in_l2)
		g->stats->l2_accesses++;
	gen_emit(g, &ev);
}

void emit_invlpg(struct gen *g, uint64_t gva)
{
	struct tdp_event ev = { .kind = TDP_EV_INVLPG };

	ev.present = TDP_KEY_BIT(INVLPG, gva);
	ev.u.invlpg.gva = gva;
	gen_emit(g, &ev);
}

/*
 * A whole-TLB flush by the current vCPU, as the instruction @kind: a CR3
 * reload (kind=cr3, the trace's default, so the key is left out) or a
 * CR4.PGE toggle (kind=global).
 */
void emit_flush(struct gen *g, enum tdp_flush_kind kind)
{
	struct tdp_event ev = { .kind = TDP_EV_FLUSH };

	if (kind != TDP_FLUSH_CR3) {
		ev.present = TDP_KEY_BIT(FLUSH, kind);
		ev.u.flush.kind = kind;
	}
	gen_emit(g, &ev);
}

void emit_mark(struct gen *g, const char *label)
{
	struct tdp_event ev = { .kind = TDP_EV_MARK };

	ev.present = TDP_KEY_BIT(MARK, label);
	strncpy(ev.u.mark.label, label, TDP_LABEL_MAX);
	gen_emit(g, &ev);
}

void emit_cr4(struct gen *g, uint64_t cr4)
{
	struct tdp_event ev = { .kind = TDP_EV_SET };

	ev.present = TDP_KEY_BIT(SET, cr4);
	ev.u.set.cr4 = cr4;
	gen_emit(g, &ev);
}
