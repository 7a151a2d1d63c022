// SPDX-License-Identifier: GPL-2.0-only
/*
 * `trace-cmd report` text reader for the importer.  A line is
 *
 *	COMM-PID [CPU] [FLAGS] SECS.FRAC: EVENT: PAYLOAD
 *
 * where PAYLOAD is one of three spellings of the same record: the kernel's
 * TP_printk text, the text of trace-cmd's kvm plugin (kvm_exit, kvm_entry,
 * kvm_mmu_get_page ... differ), or raw `field=value` pairs (`report -R`, and
 * "[FAILED TO PARSE]" records).  Raw pairs are used whenever present, with
 * the field names the .dat reader uses; otherwise each event's text is read
 * by its keywords.  FRAC has 6 digits (microseconds) or 9 (`report -t`).
 * "CPU:N [LOST EVENTS]" / "[EVENTS DROPPED]" lines mark lost events.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>

#include "import-int.h"

#define LINE_MAX_LEN	(64u << 10)

struct rep_ctx {
	struct tdp_import *im;
	const char *path;
	uint64_t lineno;
	uint64_t last_ts;
	bool lost_pending;	/* a LOST line: the mark takes the next record's time, as in .dat */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail_line(struct rep_ctx *c, int err, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%llu: %s", c->path, (unsigned long long)c->lineno, msg);
	return err;
}

/* Raw "name=value": the value's text, or NULL. */
static const char *raw_field(const char *payload, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = payload; (p = strstr(p, name)); p++)
		if ((p == payload || p[-1] == ' ') && p[n] == '=')
			return p + n + 1;
	return NULL;
}

/* The text after "word " (a whole word), or NULL. */
static const char *after(const char *payload, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = payload; (p = strstr(p, word)); p++)
		if ((p == payload || p[-1] == ' ') && (p[n] == ' ' || p[n] == ':'))
			return p + n + 1 + (p[n] == ':' && p[n + 1] == ' ');
	return NULL;
}

static bool number(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!s)
		return false;
	while (*s == ' ')
		s++;
	if (!isxdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && end != s;
}

/* Raw value: 0x-prefixed is hex, otherwise @hex says how the kernel prints it. */
static bool raw_number(const char *s, bool hex, uint64_t *v)
{
	if (s && s[0] == '0' && s[1] == 'x')
		return number(s, 16, v);
	return number(s, hex ? 16 : 10, v);
}

static const struct kvm_event_spec *find_spec(const char *name)
{
	for (const struct kvm_event_spec *p = tdp__kvm_events; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

/* Fields from raw pairs: all of the spec's, or false if any required is missing. */
static bool parse_raw(const struct kvm_event_spec *s, const char *pl, struct kvm_rec *r)
{
	const char *names[3] = { s->a, s->b, s->c };
	uint64_t *dst[3] = { &r->a, &r->b, &r->c };
	uint64_t v;

	for (int k = 0; k < 3; k++)
		if (names[k] && !raw_number(raw_field(pl, names[k]), s->raw_hex & (1u << k), dst[k]))
			return false;
	if (s->vcpu && raw_number(raw_field(pl, s->vcpu), false, &v))
		r->vcpu = (int32_t)v;
	if (s->isa && raw_number(raw_field(pl, s->isa), false, &v))
		r->isa = (uint8_t)v;
	return true;
}

/* kvm_exit / kvm_nested_vmexit text: "[vcpu N ]reason NAME[ FLAGS] rip ... info[1] X ..." */
static bool parse_exit(const char *pl, struct kvm_rec *r)
{
	const char *p = after(pl, "reason"), *end;
	char name[64];
	uint64_t v;

	if (!p)
		return false;
	end = strstr(p, " rip");
	if (!end)
		end = p + strcspn(p, " ");
	snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
	/* VMX: "EPT_VIOLATION FAILED_VMENTRY"; the basic reason is the first word */
	if (strstr(name, " FAILED_VMENTRY"))
		*strstr(name, " FAILED_VMENTRY") = 0;
	r->a = tdp__exit_reason_code(name, &r->isa);
	if (number(after(pl, "info1"), 16, &v) || number(after(pl, "info"), 16, &v))
		r->b = v;
	if (number(after(pl, "vcpu"), 10, &v))
		r->vcpu = (int32_t)v;
	return true;
}

static bool parse_text(const struct kvm_event_spec *s, const char *pl, struct kvm_rec *r)
{
	uint64_t v;
	const char *p;

	switch (s->kind) {
	case KR_ENTRY:
		if (number(after(pl, "vcpu"), 10, &v))
			r->vcpu = (int32_t)v;
		return true;
	case KR_EXIT:
	case KR_NESTED_VMEXIT:
		return parse_exit(pl, r);
	case KR_PAGE_FAULT:
		if (number(after(pl, "vcpu"), 10, &v))
			r->vcpu = (int32_t)v;
		return number(after(pl, "address"), 16, &r->a) &&
		       number(after(pl, "error_code"), 16, &r->b);
	case KR_CR:
	case KR_MSR: {
		const char *w = s->kind == KR_CR ? "cr_" : "msr_";

		p = strstr(pl, w);
		if (!p)
			return false;
		p += strlen(w);
		r->c = !strncmp(p, "write", 5);
		/* "cr_write 4 = 0xa0", "msr_write c0000080 = 0x900" */
		p += strcspn(p, " ");
		if (!number(p, 16, &r->a))
			return false;
		p = strchr(p, '=');
		return p && number(p + 1, 16, &r->b);
	}
	case KR_WALK:
		return number(after(pl, "addr"), 16, &r->a) && number(after(pl, "pferr"), 16, &r->b);
	case KR_ELEM:
		return number(after(pl, "pte"), 16, &r->a) && number(after(pl, "level"), 10, &r->b);
	case KR_SET_A:
	case KR_SET_D:
		return number(after(pl, "gpa"), 16, &r->a);
	case KR_WALK_ERR:
		return number(after(pl, "pferr"), 16, &r->a);
	case KR_GET_PAGE:
		/* kernel: "... new|existing"; trace-cmd's plugin: "new|existing sp ..." */
		r->a = !strncmp(pl, "new ", 4) || (strlen(pl) >= 4 && !strcmp(pl + strlen(pl) - 4, " new"));
		return true;
	case KR_FAST_PF:
		if (number(after(pl, "vcpu"), 10, &v))
			r->vcpu = (int32_t)v;
		r->a = number(after(pl, "fixed"), 10, &v) && v ? 5 :
		       number(after(pl, "spurious"), 10, &v) && v ? 6 : 0;
		return true;
	case KR_INJ_EXC:
		r->a = !strncmp(pl, "#PF", 3) ? 14 : 0xff;
		return true;
	case KR_VMENTER:
		r->isa = strstr(pl, "vmcs:") ? KR_ISA_VMX : KR_ISA_SVM;
		r->b = strstr(pl, "=y") != NULL;
		p = after(pl, "nested_eptp");
		if (!p)
			p = after(pl, "nested_cr3");
		if (!p)
			p = after(pl, "guest_cr3");
		return number(p, 16, &r->a);
	case KR_INVLPGA:
		return number(after(pl, "address"), 16, &r->a);
	case KR_PV_FLUSH:
		if (number(after(pl, "vcpu"), 10, &v))
			r->vcpu = (int32_t)v;
		r->a = strstr(pl, "need_flush_tlb true") != NULL;
		return true;
	default:
		return true;	/* counted only */
	}
}

/* Timestamp "SECS.FRAC" in ns. */
static bool parse_ts(const char *s, size_t len, uint64_t *ns)
{
	uint64_t secs = 0, frac = 0;
	size_t i = 0, digits = 0;

	for (; i < len && isdigit((unsigned char)s[i]); i++)
		secs = secs * 10 + (uint64_t)(s[i] - '0');
	if (!i || i == len || s[i] != '.' || secs > 18000000000ull)
		return false;
	for (i++; i < len && isdigit((unsigned char)s[i]) && digits < 9; i++, digits++)
		frac = frac * 10 + (uint64_t)(s[i] - '0');
	if (i != len || !digits)
		return false;
	while (digits++ < 9)
		frac *= 10;
	*ns = secs * 1000000000ull + frac;
	return true;
}

static int parse_line(struct rep_ctx *c, char *line)
{
	struct kvm_rec r = { .vcpu = -1, .pos = c->lineno };
	const struct kvm_event_spec *s;
	char *cpu, *p, *ev, *colon, *pl, *dash;
	char name[96];
	uint64_t v;
	int ret;

	line[strcspn(line, "\r\n")] = 0;
	p = line + strspn(line, " \t");
	if (!*p || !strncmp(p, "cpus=", 5) || !strncmp(p, "version = ", 10))
		return 0;
	if (!strncmp(p, "CPU:", 4) || !strncmp(p, "CPU ", 4)) {
		if (strstr(p, "LOST") || strstr(p, "DROPPED"))
			c->lost_pending = true;
		return 0;
	}
	/* "comm-pid [cpu]": the pid is the digits after the last '-' before '[' */
	cpu = strstr(p, " [");
	if (!cpu || !isdigit((unsigned char)cpu[2]))
		return fail_line(c, TDP_E_FORMAT, "not a 'trace-cmd report' event line");
	*cpu = 0;
	dash = strrchr(p, '-');
	r.pid = dash && number(dash + 1, 10, &v) && v < (1u << 31) ? (int32_t)v : -1;
	p = strchr(cpu + 2, ']');
	if (!p)
		return fail_line(c, TDP_E_FORMAT, "not a 'trace-cmd report' event line");
	p++;
	/* optional flags column ("d....") then "SECS.FRAC:" */
	for (;;) {
		size_t l;

		p += strspn(p, " \t");
		l = strcspn(p, " \t");
		if (!l)
			return fail_line(c, TDP_E_FORMAT, "no timestamp");
		if (p[l - 1] == ':' && parse_ts(p, l - 1, &r.ts)) {
			p += l;
			break;
		}
		if (isdigit((unsigned char)*p) && strchr(p, '.') && strchr(p, '.') < p + l)
			return fail_line(c, TDP_E_FORMAT, "bad timestamp '%.*s'", (int)l, p);
		p += l;
	}
	c->last_ts = r.ts;
	if (c->lost_pending) {
		struct kvm_rec lost = { .kind = KR_LOST, .ts = r.ts, .pid = -1, .vcpu = -1,
					.pos = c->lineno };

		c->lost_pending = false;
		if (tdp__import_push(c->im, &lost))
			return fail_line(c, TDP_E_NOMEM, "out of memory");
	}
	ev = p + strspn(p, " \t");
	colon = strchr(ev, ':');
	if (!colon || colon == ev || (size_t)(colon - ev) >= sizeof(name))
		return fail_line(c, TDP_E_FORMAT, "no event name");
	snprintf(name, sizeof(name), "%.*s", (int)(colon - ev), ev);
	pl = colon + 1;
	pl += strspn(pl, " \t");
	if (!strncmp(pl, "[FAILED TO PARSE] ", 18))
		pl += 18;

	s = find_spec(name);
	if (!s) {
		char sysname[128];

		/* report lines do not name the system; kvm's events say "kvm" */
		bool kvm = !strncmp(name, "kvm_", 4) || strstr(name, "mmio") ||
			   !strcmp(name, "fast_page_fault");
		r.kind = kvm ? KR_OTHER : KR_FOREIGN;
		snprintf(sysname, sizeof(sysname), "%s%s", kvm ? "kvm*:" : "", name);
		ret = tdp__import_name(c->im, sysname);
		if (ret < 0)
			return fail_line(c, TDP_E_NOMEM, "out of memory");
		r.name = (uint16_t)ret;
	} else {
		bool raw = (s->a && raw_field(pl, s->a)) || (!s->a && strchr(pl, '='));

		r.kind = (uint16_t)s->kind;
		if (!(raw ? parse_raw(s, pl, &r) : parse_text(s, pl, &r)))
			return fail_line(c, TDP_E_FORMAT, "cannot read %s's fields from '%.60s'",
					 name, pl);
		if ((r.kind == KR_EXIT || r.kind == KR_NESTED_VMEXIT) && raw && r.isa == KR_ISA_VMX)
			r.a &= 0xffff;
		if (r.vcpu > 65535)
			return fail_line(c, TDP_E_RANGE, "vcpu id %d out of range", r.vcpu);
	}
	return tdp__import_push(c->im, &r) ? fail_line(c, TDP_E_NOMEM, "out of memory") : 0;
}

int tdp__import_read_report(struct tdp_import *im, const char *path, char *err, size_t errlen)
{
	struct rep_ctx c = { .im = im, .path = strcmp(path, "-") ? path : "<stdin>",
			     .err = err, .errlen = errlen };
	bool is_stdin = !strcmp(path, "-");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int ret = 0;

	fp = is_stdin ? stdin : fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return TDP_E_IO;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		c.lineno++;
		if ((size_t)n > LINE_MAX_LEN || memchr(line, 0, (size_t)n)) {
			ret = fail_line(&c, TDP_E_FORMAT, (size_t)n > LINE_MAX_LEN ?
					"line longer than 64 KiB" :
					"NUL byte: not 'trace-cmd report' text (a .dat file? "
					"drop --from report)");
			break;
		}
		ret = parse_line(&c, line);
		if (ret)
			break;
	}
	if (!ret && ferror(fp)) {
		snprintf(err, errlen, "cannot read '%s': %s", c.path, strerror(errno));
		ret = TDP_E_IO;
	}
	free(line);
	if (!is_stdin)
		fclose(fp);
	return ret;
}
