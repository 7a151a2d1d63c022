// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested-TDP trace builder and outcome predictor (see nested_oracle.h).
 * Written from the SDM/APM as plain if/else; it shares nothing with the
 * MMU port or the engine.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers/replay_util.h"
#include "nested_oracle.h"

const char *const nt_op_name[3] = { "r", "w", "x" };

#define ADDR_MASK	0x000ffffffffff000ull

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q)
		abort();
	return q;
}

/* bits @hi:@lo */
static uint64_t bits(unsigned hi, unsigned lo)
{
	return ((hi == 63 ? 0 : 1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

/* ---- trace builder ---- */

static void append(struct nt *t, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		abort();
	if (t->len + (size_t)n + 2 > t->cap) {
		t->cap = (t->len + (size_t)n + 2) * 2;
		t->text = xrealloc(t->text, t->cap);
	}
	vsnprintf(t->text + t->len, (size_t)n + 1, fmt, ap);
	t->len += (size_t)n;
	t->text[t->len++] = '\n';
	t->text[t->len] = 0;
	t->line++;
}

static void appendf(struct nt *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(t, fmt, ap);
	va_end(ap);
}

void nt_init(struct nt *t, const char *config)
{
	memset(t, 0, sizeof(*t));
	appendf(t, "# SPDX-License-Identifier: GPL-2.0-only");
	appendf(t, "tdpsim-trace 1");
	appendf(t, "config %s", config);
}

void nt_free(struct nt *t)
{
	free(t->text);
	free(t->exp);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}

unsigned nt_event(struct nt *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(t, fmt, ap);
	va_end(ap);
	return ++t->nev;
}

void nt_comment(struct nt *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	appendf(t, "# %s", buf);
}

static struct nt_word *mem_find(const struct nt *t, uint64_t gpa)
{
	for (unsigned i = 0; i < t->nmem; i++)
		if (t->mem[i].gpa == gpa)
			return &t->mem[i];
	return NULL;
}

uint64_t nt_mem_read(const struct nt *t, uint64_t gpa)
{
	const struct nt_word *w = mem_find(t, gpa & ~7ull);

	return w ? w->val : 0;
}

void nt_mem_set(struct nt *t, uint64_t gpa, uint64_t val)
{
	struct nt_word *w = mem_find(t, gpa);

	if (gpa & 7)
		abort();
	if (!w) {
		if (t->nmem == t->capmem) {
			t->capmem = t->capmem ? t->capmem * 2 : 64;
			t->mem = xrealloc(t->mem, t->capmem * sizeof(*t->mem));
		}
		w = &t->mem[t->nmem++];
		w->gpa = gpa;
	}
	w->val = val;
}

unsigned nt_write(struct nt *t, uint64_t gpa, uint64_t val)
{
	nt_mem_set(t, gpa, val);
	return nt_event(t, "write gpa=0x%llx val=0x%llx", (unsigned long long)gpa,
			(unsigned long long)val);
}

unsigned nt_peek(struct nt *t, uint64_t gpa, const char *why)
{
	unsigned ev = nt_event(t, "peek gpa=0x%llx", (unsigned long long)gpa);
	char out[64];

	snprintf(out, sizeof(out), "val=0x%llx",
		 (unsigned long long)nt_mem_read(t, gpa));
	nt_expect(t, ev, out, "%s", why);
	return ev;
}

void nt_expect(struct nt *t, unsigned ev, const char *out, const char *why, ...)
{
	struct nt_expect *e;
	va_list ap;

	if (t->nexp == t->capexp) {
		t->capexp = t->capexp ? t->capexp * 2 : 64;
		t->exp = xrealloc(t->exp, t->capexp * sizeof(*t->exp));
	}
	e = &t->exp[t->nexp++];
	e->ev = ev;
	e->line = t->line;
	snprintf(e->out, sizeof(e->out), "%s", out);
	va_start(ap, why);
	vsnprintf(e->why, sizeof(e->why), why, ap);
	va_end(ap);
}

static void note(char *msg, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

unsigned nt_check(const struct nt *t, const char *log, char *msg, size_t len)
{
	const char *p = log;
	unsigned bad = 0, i = 0;
	size_t used = 0;

	if (len)
		msg[0] = 0;
	while (*p || i < t->nexp) {
		const char *eol = *p ? strchr(p, '\n') : p;
		char got[128] = "";
		unsigned long ev = 0;

		if (*p) {
			char *end;
			size_t l;

			if (!eol)
				eol = p + strlen(p);
			ev = strtoul(p, &end, 10);
			while (*end == ' ')
				end++;
			l = (size_t)(eol - end);
			if (l >= sizeof(got))
				l = sizeof(got) - 1;
			memcpy(got, end, l);
			got[l] = 0;
		}
		if (*p && (i == t->nexp || ev < t->exp[i].ev)) {
			if (bad++ < 8)
				note(msg, len, &used, "event %lu: unexpected log line '%s'\n",
				     ev, got);
		} else if (!*p || ev > t->exp[i].ev) {
			const struct nt_expect *e = &t->exp[i++];

			if (bad++ < 8)
				note(msg, len, &used,
				     "event %u (line %u): no log line, want '%s' [%s]\n",
				     e->ev, e->line, e->out, e->why);
			continue;	/* same log line against the next one */
		} else {
			const struct nt_expect *e = &t->exp[i++];

			if (strcmp(got, e->out) && bad++ < 8)
				note(msg, len, &used,
				     "event %u (line %u): got '%s', want '%s' [%s]\n",
				     e->ev, e->line, got, e->out, e->why);
		}
		p = *eol ? eol + 1 : eol;
	}
	if (bad > 8)
		note(msg, len, &used, "... %u mismatches in all\n", bad);
	return bad;
}

/* ---- trees ---- */

void nt_tree_init(struct nt_tree *tr, struct nt *t, int levels, uint64_t base,
		  uint64_t end, uint64_t off, uint64_t table_flags)
{
	tr->t = t;
	tr->levels = levels;
	tr->off = off;
	tr->next = base;
	tr->end = end;
	tr->table_flags = table_flags;
	tr->root = tr->next;
	tr->next += 0x1000;
}

unsigned nt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

uint64_t nt_tree_map(struct nt_tree *tr, uint64_t va, int leaf_level,
		     uint64_t leaf)
{
	uint64_t table = tr->root;

	for (int level = tr->levels; level > leaf_level; level--) {
		uint64_t ea = table + nt_index(va, level) * 8;
		uint64_t e = nt_mem_read(tr->t, ea + tr->off);

		if (!e) {
			if (tr->next >= tr->end)
				abort();
			e = tr->next | tr->table_flags;
			tr->next += 0x1000;
			nt_write(tr->t, ea + tr->off, e);
		}
		table = e & ADDR_MASK;
	}
	table += nt_index(va, leaf_level) * 8;
	nt_write(tr->t, table + tr->off, leaf);
	return table;
}

uint64_t nt_tree_entry(const struct nt_tree *tr, uint64_t va, int level)
{
	uint64_t table = tr->root;

	for (int l = tr->levels; l > level; l--)
		table = nt_mem_read(tr->t, table + nt_index(va, l) * 8 + tr->off) &
			ADDR_MASK;
	return table + nt_index(va, level) * 8;
}

uint64_t nt_tree_set(struct nt_tree *tr, uint64_t va, int level, uint64_t val)
{
	uint64_t gpa = nt_tree_entry(tr, va, level) + tr->off;

	nt_write(tr->t, gpa, val);
	return gpa;
}

/* ---- the predictor ---- */

enum xkind { XR_OK, XR_VIOL, XR_MISCONF, XR_NPF, XR_PF };

struct xres {
	enum xkind kind;
	uint64_t gpa;		/* XR_OK: L1 GPA */
	uint64_t code;		/* qualification / EXITINFO1 / #PF error code */
};

static unsigned maxphy(const struct nt_vm *vm)
{
	return vm->maxphyaddr ? vm->maxphyaddr : 46;
}

/*
 * SDM 29.3.2-29.3.3: translate @gpa through L1's EPT, for a guest
 * paging-structure access (@page; @op is NT_READ or NT_WRITE, see
 * nt_predict()) or the final access @op of a linear address that is
 * user-mode (@user: U/S=1 at every L2 level).
 */
static void ept_xlate(const struct nt *t, const struct nt_vm *vm, uint64_t gpa,
		      bool page, enum nt_op op, bool user, struct xres *r)
{
	int levels = (int)((vm->eptp >> 3) & 7) + 1;
	uint64_t table = vm->eptp & ADDR_MASK;
	uint64_t rsvd_hi = bits(51, maxphy(vm));
	uint64_t acc = NT_EPT_RWX | NT_EPT_XU;	/* AND over the entries */
	bool allowed;

	for (int level = levels; level >= 1; level--) {
		uint64_t e = nt_mem_read(t, table + nt_index(gpa, level) * 8);
		bool leaf;

		acc &= e;
		if (!(e & NT_EPT_RWX) && !(vm->mbec && (e & NT_EPT_XU)))
			goto violation;		/* not present */
		/* write without read; bits 51:MAXPHYADDR */
		if ((e & 7) == 2 || (e & 7) == 6 || (e & rsvd_hi))
			goto misconfig;
		leaf = level == 1 || ((e & NT_EPT_PS) && level <= 3);
		if (!leaf) {
			/* bits 7:3 reserved in non-leaf entries (bit 7 = PS
			 * is reserved at levels 4 and 5) */
			if (e & 0xf8)
				goto misconfig;
			table = e & ADDR_MASK;
			continue;
		}
		{
			uint64_t mt = (e >> 3) & 7;
			uint64_t size = 1ull << (12 + 9 * (level - 1));

			if (mt == 2 || mt == 3 || mt == 7)
				goto misconfig;
			/* a large page's address bits below its size */
			if (level > 1 && (e & bits(11 + 9 * (level - 1), 12)))
				goto misconfig;
			r->gpa = (e & ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
		}
		break;
	}
	if (page)
		allowed = (acc & NT_EPT_R) && (op != NT_WRITE || (acc & NT_EPT_W));
	else if (op == NT_READ)
		allowed = acc & NT_EPT_R;
	else if (op == NT_WRITE)
		allowed = (acc & NT_EPT_R) && (acc & NT_EPT_W);
	else if (vm->mbec && user)
		allowed = acc & NT_EPT_XU;
	else
		allowed = acc & NT_EPT_X;
	if (allowed) {
		r->kind = XR_OK;
		return;
	}
violation:
	r->kind = XR_VIOL;
	r->gpa = gpa;
	r->code = (page ? NT_Q_R | (op == NT_WRITE ? NT_Q_W : 0) : op == NT_READ ? NT_Q_R :
		   op == NT_WRITE ? NT_Q_W : NT_Q_X) |
		  NT_Q_PROT(acc) | (vm->mbec && (acc & NT_EPT_XU) ? NT_Q_PROT_XU : 0) |
		  NT_Q_GVA_VALID | (page ? 0 : NT_Q_FINAL);
	return;
misconfig:
	r->kind = XR_MISCONF;
	r->gpa = gpa;
}

/*
 * APM 15.25.5-15.25.6 and GMET: translate @gpa through L1's 4-level NPT
 * (L1 in long mode).  Without GMET every access is a user access; with
 * GMET, U only matters for fetches at CPL < 3 (they need some U = 0).
 */
static void npt_xlate(const struct nt *t, const struct nt_vm *vm, uint64_t gpa,
		      bool page, enum nt_op op, unsigned cpl, struct xres *r)
{
	uint64_t table = vm->ncr3 & ADDR_MASK;
	uint64_t rsvd = bits(51, maxphy(vm)) | (vm->l1_nxe ? 0 : NT_NX);
	bool u = true, w = true, nx = false, allowed;
	bool write = page || op == NT_WRITE, fetch = !page && op == NT_FETCH;
	uint64_t ec;

	ec = (write ? NT_EC_W : 0) |
	     (page || !vm->gmet || cpl == 3 ? NT_EC_U : 0) |
	     (fetch && (vm->l1_nxe || vm->l1_smep) ? NT_EC_ID : 0) |
	     (page ? NT_EC_PAGE : NT_EC_FINAL);
	for (int level = 4; level >= 1; level--) {
		uint64_t e = nt_mem_read(t, table + nt_index(gpa, level) * 8);
		bool leaf;

		if (!(e & NT_P))
			goto npf;
		leaf = level == 1 || ((e & NT_PS) && level <= 3);
		if ((e & rsvd) || (level == 4 && (e & NT_PS)) ||
		    (leaf && level > 1 && (e & bits(11 + 9 * (level - 1), 13)))) {
			ec |= NT_EC_P | NT_EC_RSVD;
			goto npf;
		}
		u = u && (e & NT_U);
		w = w && (e & NT_W);
		nx = nx || (e & NT_NX);
		if (leaf) {
			uint64_t size = 1ull << (12 + 9 * (level - 1));

			r->gpa = (e & ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			break;
		}
		table = e & ADDR_MASK;
	}
	allowed = !(write && !w) && !(fetch && nx && vm->l1_nxe);
	if (!vm->gmet && !u)
		allowed = false;
	if (vm->gmet && fetch && cpl < 3 && u)
		allowed = false;
	if (allowed) {
		r->kind = XR_OK;
		return;
	}
	ec |= NT_EC_P;
npf:
	r->kind = XR_NPF;
	r->gpa = gpa;
	r->code = ec;
}

static void tdp_xlate(const struct nt *t, const struct nt_vm *vm, uint64_t gpa,
		      bool page, enum nt_op op, bool user, unsigned cpl,
		      struct xres *r)
{
	if (vm->amd)
		npt_xlate(t, vm, gpa, page, op, cpl, r);
	else
		ept_xlate(t, vm, gpa, page, op, user, r);
}

static const char *format(const struct xres *r, char *buf, size_t len)
{
	unsigned long long gpa = r->gpa, code = r->code;

	switch (r->kind) {
	case XR_OK:
		snprintf(buf, len, "ok gpa=0x%llx", gpa);
		break;
	case XR_VIOL:
		snprintf(buf, len, "ept_violation gpa=0x%llx qual=0x%llx", gpa, code);
		break;
	case XR_MISCONF:
		snprintf(buf, len, "ept_misconfig gpa=0x%llx", gpa);
		break;
	case XR_NPF:
		snprintf(buf, len, "npf gpa=0x%llx ec=0x%llx", gpa, code);
		break;
	case XR_PF:
		snprintf(buf, len, "pf ec=0x%llx", code);
		break;
	}
	return buf;
}

const char *nt_predict(struct nt *t, const struct nt_vm *vm, uint64_t gva,
		       enum nt_op op, unsigned cpl, char *buf, size_t len)
{
	bool nxe = vm->efer & NT_EFER_NXE, smep = vm->cr4 & NT_CR4_SMEP;
	bool smap = vm->cr4 & NT_CR4_SMAP, wp = vm->cr0 & NT_CR0_WP;
	uint64_t rsvd = bits(51, maxphy(vm)) | (nxe ? 0 : NT_NX);
	uint64_t table = vm->cr3 & ADDR_MASK, l2gpa = 0;
	uint64_t ents[4];	/* L1 GPAs of the L2 entries used */
	uint64_t l2ents[4];	/* and their L2 GPAs */
	/*
	 * How EPT sees an access to an L2 paging-structure entry: with EPT
	 * A/D enabled (EPTP bit 6) a write (SDM 29.3.5), else a read
	 * (29.3.3.2; kvm-unit-tests x86/vmx_tests.c
	 * ept_access_test_paddr_not_present_ad_disabled: qualification read
	 * only), and setting a clear A/D flag in it a separate write, checked
	 * after the final GPA (below).  NPT: always a user write (APM
	 * 15.25.5; kvm-unit-tests x86/svm_npt.c npt_rw_pfwalk).
	 */
	bool ept_ad_off = !vm->amd && !(vm->eptp & (1ull << 6));
	enum nt_op page_op = ept_ad_off ? NT_READ : NT_WRITE;
	uint64_t pfec = (op == NT_WRITE ? NT_EC_W : 0) | (cpl == 3 ? NT_EC_U : 0) |
			(op == NT_FETCH && (nxe || smep) ? NT_EC_ID : 0);
	bool u = true, w = true, nx = false, allowed;
	int n = 0;
	struct xres r;

	if (!(vm->cr0 & NT_CR0_PG)) {
		/* paging off: the linear address is the L2 GPA, user-mode
		 * for MBEC (SDM 29.3.3.2) */
		tdp_xlate(t, vm, gva, false, op, true, cpl, &r);
		return format(&r, buf, len);
	}
	/* L2 4-level paging (SDM 4.5): each table entry through EPT/NPT */
	for (int level = 4; level >= 1; level--) {
		uint64_t ea = table + nt_index(gva, level) * 8, e;
		bool leaf;

		tdp_xlate(t, vm, ea, true, page_op, false, cpl, &r);
		if (r.kind != XR_OK)
			return format(&r, buf, len);
		l2ents[n] = ea;
		ents[n++] = r.gpa;
		e = nt_mem_read(t, r.gpa);
		if (!(e & NT_P)) {
			r.kind = XR_PF;
			r.code = pfec;
			return format(&r, buf, len);
		}
		leaf = level == 1 || ((e & NT_PS) && level <= 3);
		if ((e & rsvd) || (level == 4 && (e & NT_PS)) ||
		    (leaf && level > 1 && (e & bits(11 + 9 * (level - 1), 13)))) {
			r.kind = XR_PF;
			r.code = pfec | NT_EC_P | NT_EC_RSVD;
			return format(&r, buf, len);
		}
		u = u && (e & NT_U);
		w = w && (e & NT_W);
		nx = nx || (nxe && (e & NT_NX));
		if (leaf) {
			uint64_t size = 1ull << (12 + 9 * (level - 1));

			l2gpa = (e & ADDR_MASK & ~(size - 1)) | (gva & (size - 1));
			break;
		}
		table = e & ADDR_MASK;
	}
	/* SDM 4.6: L2's own access rights (EFLAGS.AC = 0) */
	if (cpl == 3)
		allowed = u && !(op == NT_WRITE && !w) && !(op == NT_FETCH && nx);
	else if (op == NT_FETCH)
		allowed = !nx && !(smep && u);
	else
		allowed = !(op == NT_WRITE && !w && wp) && !(smap && u);
	if (!allowed) {
		r.kind = XR_PF;
		r.code = pfec | NT_EC_P;
		return format(&r, buf, len);
	}
	tdp_xlate(t, vm, l2gpa, false, op, u, cpl, &r);
	if (r.kind != XR_OK)
		return format(&r, buf, len);
	/*
	 * SDM 4.8: A on every level, D on the leaf for writes, top down, once
	 * the whole translation succeeded.  With EPT A/D off, an entry whose
	 * flags must change is written through EPT as a write of its own
	 * (kvm-unit-tests ept_access_test_paddr_read_only_ad_disabled: "a
	 * read+write if the A/D bits have to be set"); a violation there
	 * leaves the entries above updated.
	 */
	for (int i = 0; i < n; i++) {
		uint64_t old = nt_mem_read(t, ents[i]);
		uint64_t e = old | NT_A;
		struct xres wr;

		if (i == n - 1 && op == NT_WRITE)
			e |= NT_D;
		if (e == old)
			continue;
		if (ept_ad_off) {
			tdp_xlate(t, vm, l2ents[i], true, NT_WRITE, false, cpl, &wr);
			if (wr.kind != XR_OK)
				return format(&wr, buf, len);
		}
		nt_mem_set(t, ents[i], e);
	}
	return format(&r, buf, len);
}

void nt_vmenter(struct nt *t, const struct nt_vm *vm, bool set_regs)
{
	if (vm->amd)
		nt_event(t, "vmenter ncr3=0x%llx gmet=%d",
			 (unsigned long long)vm->ncr3, vm->gmet);
	else
		nt_event(t, "vmenter eptp=0x%llx mbec=%d",
			 (unsigned long long)vm->eptp, vm->mbec);
	if (set_regs)
		nt_event(t, "set cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx",
			 (unsigned long long)vm->cr0, (unsigned long long)vm->cr3,
			 (unsigned long long)vm->cr4, (unsigned long long)vm->efer);
}

unsigned nt_access(struct nt *t, const struct nt_vm *vm, uint64_t gva,
		   enum nt_op op, unsigned cpl, const char *why, ...)
{
	char out[96], w[192];
	unsigned ev;
	va_list ap;

	nt_predict(t, vm, gva, op, cpl, out, sizeof(out));
	ev = nt_event(t, "access gva=0x%llx op=%s cpl=%u", (unsigned long long)gva,
		      nt_op_name[op], cpl);
	va_start(ap, why);
	vsnprintf(w, sizeof(w), why, ap);
	va_end(ap);
	nt_expect(t, ev, out, "%s", w);
	return ev;
}

/*
 * With NT_DUMP_DIR set, keep every trace replayed (and its log) there, to
 * look at a failing case by hand with the CLI.
 */
static void nt_dump(const struct nt *t, const char *layout, const char *log)
{
	const char *dir = getenv("NT_DUMP_DIR");
	static unsigned seq;
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/nt-%d-%u.txt", dir, (int)getpid(), seq);
	f = fopen(path, "w");
	if (f) {
		fputs(t->text, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/nt-%d-%u-%s.log", dir, (int)getpid(),
		 seq++, layout);
	f = fopen(path, "w");
	if (f) {
		fputs(log ? log : "", f);
		fclose(f);
	}
}

int nt_run(const struct nt *t, const char *layout, char **log,
	   struct tdp_stats *st, char *msg, size_t len)
{
	struct replay_args a = { .layout = layout, .check = true };
	struct replay_run rr;
	int ret = replay_text(&rr, t->text, &a);

	*log = NULL;
	nt_dump(t, layout, ret ? NULL : rr.log);
	if (ret) {
		snprintf(msg, len, "replay failed: %s", rr.err[0] ? rr.err : "?");
	} else if (nt_check(t, rr.log, msg, len)) {
		ret = -1;
	} else {
		*log = rr.log;
		rr.log = NULL;
		if (st)
			*st = rr.res->stats;
	}
	replay_run_free(&rr);
	return ret;
}

void nt_count(const struct nt *t, struct nt_counts *c)
{
	static const uint64_t npf_bits[5] = { NT_EC_P, NT_EC_W, NT_EC_U,
					      NT_EC_RSVD, NT_EC_ID };

	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < t->nexp; i++) {
		const char *o = t->exp[i].out, *q;
		uint64_t v;

		if (!strncmp(o, "ok ", 3)) {
			c->ok++;
		} else if (!strncmp(o, "pf ", 3)) {
			c->pf++;
		} else if (!strncmp(o, "ept_misconfig ", 14)) {
			c->misconf++;
		} else if (!strncmp(o, "ept_violation ", 14)) {
			c->viol++;
			q = strstr(o, "qual=");
			v = strtoull(q + 5, NULL, 16);
			for (int b = 0; b < 9; b++)
				c->qual_bit[b] += !!(v & (1ull << b));
			if (v & NT_Q_FINAL)
				c->final++;
			else
				c->page++;
		} else if (!strncmp(o, "npf ", 4)) {
			c->npf++;
			q = strstr(o, "ec=");
			v = strtoull(q + 3, NULL, 16);
			for (int b = 0; b < 5; b++)
				c->npf_bit[b] += !!(v & npf_bits[b]);
			if (v & NT_EC_FINAL)
				c->final++;
			else
				c->page++;
		}
	}
}
