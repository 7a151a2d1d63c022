// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stage-2 memo's miss path (struct hw_s2_memo in include/tdpsim/hw.h
 * states why a hit is exact).  Replay speed only: it changes no result.
 */
#include "hw-int.h"

bool hw_s2_memo_walk(const struct hw_mem *mem, const struct hw_stage2 *s2,
		     uint64_t gpa, uint64_t acc, uint64_t *hpa,
		     struct hw_result *res)
{
	struct hw_s2_memo *m = s2->memo;
	const uint64_t gen = mem->gen ? *mem->gen : 0;
	const unsigned nguest = mem->nguest ? *mem->nguest : 0;
	struct hw_s2_memo_entry *s;
	uint64_t root, bit;
	bool ok;

	ok = s2->kind == HW_S2_EPT ? hw_ept_translate(mem, s2, gpa, acc, hpa, res) :
	     hw_npt_translate(mem, s2, gpa, acc, hpa, res);
	/*
	 * Only a translation that set no A/D flag (*mem->gen unchanged) and
	 * read no guest frame (*mem->nguest unchanged): see struct hw_s2_memo.
	 */
	if (!ok || !mem->gen || !mem->nguest || *mem->gen != gen ||
	    *mem->nguest != nguest)
		return ok;
	root = hw_s2_root(s2);
	s = hw_s2_slot(m, gpa, hw_s2_root_hash(root));
	bit = 1u << hw_s2_class(acc);
	if (s->gen == m->gen && s->gpa == (gpa & ~0xfffull) && s->root == root) {
		s->ok |= (uint32_t)bit;
		return true;
	}
	*s = (struct hw_s2_memo_entry){
		.gpa = gpa & ~0xfffull, .root = root, .gen = m->gen,
		.hpa = *hpa & ~0xfffull, .ok = (uint32_t)bit,
	};
	return true;
}
