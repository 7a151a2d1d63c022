// SPDX-License-Identifier: GPL-2.0-only
/*
 * Outcome-log lines, exactly as docs/trace-text.md specifies them.  A
 * `write gva=` is logged as the store access it is: `ok gpa=` when it
 * completed (and stored), `pf ec=` or a reflected exit when it did not.
 */
#include <inttypes.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>

int tdp_outcome_print(FILE *fp, uint64_t n, const struct tdp_outcome *o)
{
	int r;

	switch (o->kind) {
	case TDP_OUT_NONE:
		return 0;
	case TDP_OUT_OK:
		r = fprintf(fp, "%" PRIu64 " ok gpa=0x%" PRIx64 "\n", n, o->gpa);
		break;
	case TDP_OUT_PF:
		r = fprintf(fp, "%" PRIu64 " pf ec=0x%" PRIx64 "\n", n, o->ec);
		break;
	case TDP_OUT_EPT_VIOLATION:
		/*
		 * The contract's bits 0-8; the advanced information (9-11)
		 * stays in the outcome and the report counters, as
		 * kvm-unit-tests masks it off in its comparisons.
		 */
		r = fprintf(fp, "%" PRIu64 " ept_violation gpa=0x%" PRIx64
			    " qual=0x%" PRIx64 "\n", n, o->gpa,
			    o->qual & TDP_QUAL_LOG_MASK);
		break;
	case TDP_OUT_EPT_MISCONFIG:
		r = fprintf(fp, "%" PRIu64 " ept_misconfig gpa=0x%" PRIx64 "\n",
			    n, o->gpa);
		break;
	case TDP_OUT_NPF:
		r = fprintf(fp, "%" PRIu64 " npf gpa=0x%" PRIx64 " ec=0x%" PRIx64 "\n",
			    n, o->gpa, o->ec);
		break;
	case TDP_OUT_VAL:
		r = fprintf(fp, "%" PRIu64 " val=0x%" PRIx64 "\n", n, o->val);
		break;
	case TDP_OUT_FIXED:
		r = fprintf(fp, "%" PRIu64 " fixed\n", n);
		break;
	case TDP_OUT_SPURIOUS:
		r = fprintf(fp, "%" PRIu64 " spurious\n", n);
		break;
	case TDP_OUT_EMULATE:
		r = fprintf(fp, "%" PRIu64 " emulate\n", n);
		break;
	case TDP_OUT_MMIO:
		r = fprintf(fp, "%" PRIu64 " mmio\n", n);
		break;
	case TDP_OUT_GP:
		r = fprintf(fp, "%" PRIu64 " gp\n", n);
		break;
	default:
		return TDP_E_INTERNAL;
	}
	return r < 0 ? TDP_E_IO : 0;
}
