// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace-cmd .dat reader for the importer, on Debian's libtracecmd and
 * libtraceevent.  Every field is found by name in the event formats the
 * file carries (tep_find_field), never at a fixed offset, so recordings
 * from kernels whose tracepoints moved a field still import; a tracepoint
 * the importer needs that lacks a field it reads is an error naming the
 * event and the field.  Records come in time order across CPUs
 * (tracecmd_iterate_events merges the per-CPU buffers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include <tdpsim/errors.h>

#include "import-int.h"

#ifdef TDPSIM_SANITIZE
/*
 * libtraceevent 1.7 leaks a few bytes while it parses some print formats;
 * in sanitizer builds that would turn every import into exit 1.  Only
 * allocations made inside those libraries are exempt.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\nleak:libtracecmd.so\n";
}

/* ... and says nothing about it on stderr (an LSAN_OPTIONS given still wins). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

/* Per event id, resolved once: the spec and the fields. */
struct dat_event {
	bool resolved;
	enum kvm_rec_kind kind;
	int name;
	struct tep_format_field *a, *b, *c, *vcpu, *isa;
};

struct dat_ctx {
	struct tdp_import *im;
	struct tep_handle *tep;
	struct dat_event *ev;
	int nev;
	uint64_t recno;
	const char *path;
	char *err;
	size_t errlen;
	int ret;
};

static int resolve(struct dat_ctx *d, struct tep_event *event, struct dat_event *de)
{
	char sysname[160];
	const struct kvm_event_spec *s = NULL;

	de->resolved = true;
	snprintf(sysname, sizeof(sysname), "%s:%s", event->system, event->name);
	for (const struct kvm_event_spec *p = tdp__kvm_events; p->name; p++)
		if (!strcmp(p->sys, event->system) && !strcmp(p->name, event->name))
			s = p;
	if (!s)
		de->kind = strcmp(event->system, "kvm") && strcmp(event->system, "kvmmmu") ?
			   KR_FOREIGN : KR_OTHER;
	else
		de->kind = s->kind;
	de->name = tdp__import_name(d->im, sysname);
	if (de->name < 0) {
		snprintf(d->err, d->errlen, "'%s': out of memory", d->path);
		return TDP_E_NOMEM;
	}
	if (!s)
		return 0;
	{
		const char *req[3] = { s->a, s->b, s->c };
		struct tep_format_field **dst[3] = { &de->a, &de->b, &de->c };

		for (int k = 0; k < 3; k++) {
			if (!req[k])
				continue;
			*dst[k] = tep_find_field(event, req[k]);
			if (!*dst[k]) {
				snprintf(d->err, d->errlen, "'%s': event %s has no field '%s' "
					 "(its format in the file differs from what the importer "
					 "knows)", d->path, sysname, req[k]);
				return TDP_E_FORMAT;
			}
		}
	}
	if (s->vcpu)
		de->vcpu = tep_find_field(event, s->vcpu);
	if (s->isa)
		de->isa = tep_find_field(event, s->isa);
	return 0;
}

static uint64_t field(struct tep_format_field *f, struct tep_record *rec)
{
	unsigned long long v = 0;

	if (f && tep_read_number_field(f, rec->data, &v))
		v = 0;
	return v;
}

static int on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	struct dat_ctx *d = data;
	struct kvm_rec r = { .vcpu = -1 };
	struct tep_event *event;
	struct dat_event *de;
	int type, ret;

	d->recno++;
	if (rec->missed_events) {
		struct kvm_rec lost = { .kind = KR_LOST, .ts = rec->ts, .vcpu = -1, .pid = -1,
					.pos = d->recno };

		if (tdp__import_push(d->im, &lost))
			goto nomem;
	}
	event = tep_find_event_by_record(d->tep, rec);
	if (!event) {
		snprintf(d->err, d->errlen, "'%s': record %llu on cpu %d: unknown event type "
			 "(corrupted data?)", d->path, (unsigned long long)d->recno, cpu);
		d->ret = TDP_E_FORMAT;
		return 1;
	}
	type = event->id;
	if (type < 0 || type > 65535) {
		snprintf(d->err, d->errlen, "'%s': record %llu: event id %d out of range",
			 d->path, (unsigned long long)d->recno, type);
		d->ret = TDP_E_FORMAT;
		return 1;
	}
	if (type >= d->nev) {
		struct dat_event *p = realloc(d->ev, (type + 1) * sizeof(*p));

		if (!p)
			goto nomem;
		memset(p + d->nev, 0, (type + 1 - d->nev) * sizeof(*p));
		d->ev = p;
		d->nev = type + 1;
	}
	de = &d->ev[type];
	if (!de->resolved) {
		ret = resolve(d, event, de);
		if (ret) {
			d->ret = ret;
			return 1;
		}
	}
	r.kind = (uint16_t)de->kind;
	r.name = (uint16_t)de->name;
	r.ts = rec->ts;
	r.pos = d->recno;
	r.pid = tep_data_pid(d->tep, rec);
	r.a = field(de->a, rec);
	r.b = field(de->b, rec);
	r.c = field(de->c, rec);
	if (de->vcpu)
		r.vcpu = (int32_t)field(de->vcpu, rec);
	if (de->isa)
		r.isa = (uint8_t)field(de->isa, rec);
	if (r.vcpu > 65535) {
		snprintf(d->err, d->errlen, "'%s': record %llu: vcpu id %d out of range",
			 d->path, (unsigned long long)d->recno, r.vcpu);
		d->ret = TDP_E_RANGE;
		return 1;
	}
	if (r.kind == KR_EXIT || r.kind == KR_NESTED_VMEXIT) {
		/* VMX's FAILED_VMENTRY and the like sit above the basic reason */
		if (r.isa == KR_ISA_VMX)
			r.a &= 0xffff;
	}
	if (tdp__import_push(d->im, &r))
		goto nomem;
	return 0;
nomem:
	snprintf(d->err, d->errlen, "'%s': out of memory", d->path);
	d->ret = TDP_E_NOMEM;
	return 1;
}

static int count_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
	return 0;
}

/*
 * libtracecmd 1.3 dereferences NULL on some truncated files (tracecmd_open
 * frees a half-built handle), so a file is first read once in a child
 * process: a crash there is a clean error here.  Return: 0 if the child read
 * it all, 1 if libtracecmd refused the headers, 2 for anything worse, or -1
 * if no child could be made (then the file is read without the probe).
 */
#define PROBE_OK	0
#define PROBE_HEADERS	40
#define PROBE_DATA	41

static int probe_in_child(const char *path)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		struct tracecmd_input *h;
		int fd = open("/dev/null", O_WRONLY);

		/* the child's crash report (sanitizers, libtracecmd) is not ours to print */
		if (fd >= 0)
			dup2(fd, 2);
		h = tracecmd_open(path, 0);
		/* distinct codes: a sanitizer's report of a crash exits with 1 */
		if (!h)
			_exit(PROBE_HEADERS);
		_exit(tracecmd_iterate_events(h, NULL, 0, count_record, NULL) < 0 ?
		      PROBE_DATA : PROBE_OK);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_OK)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_HEADERS)
		return 1;
	return 2;
}

int tdp__import_read_dat(struct tdp_import *im, const char *path, char *err, size_t errlen)
{
	static const char magic[10] = "\x17\x08\x44tracing";
	struct dat_ctx d = { .im = im, .path = path, .err = err, .errlen = errlen };
	struct tracecmd_input *h;
	unsigned char head[10];
	size_t n;
	FILE *fp;

	/*
	 * Check the magic first: libtracecmd's own refusal says nothing
	 * useful, and a pcap or text file deserves a message saying what it is.
	 */
	fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return TDP_E_IO;
	}
	n = fread(head, 1, sizeof(head), fp);
	fclose(fp);
	if (n < sizeof(head) || memcmp(head, magic, sizeof(magic))) {
		const char *what = "";

		if (n >= 4 && (!memcmp(head, "\x4d\x3c\xb2\xa1", 4) ||
			       !memcmp(head, "\xd4\xc3\xb2\xa1", 4) ||
			       !memcmp(head, "\x28\xb5\x2f\xfd", 4)))
			what = " (it is a pcap/zstd file: a tdpsim trace needs no import)";
		else if (n >= 4 && !memcmp(head, "\x0a\x0d\x0d\x0a", 4))
			what = " (it is a pcapng file)";
		snprintf(err, errlen, "'%s': not a trace-cmd .dat file%s%s", path,
			 n < sizeof(head) ? " (too short)" : "", what);
		return TDP_E_FORMAT;
	}

	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	switch (probe_in_child(path)) {
	case 1:
		snprintf(err, errlen, "'%s': trace-cmd cannot read it (corrupted or truncated "
			 "headers)", path);
		return TDP_E_FORMAT;
	case 2:
		snprintf(err, errlen, "'%s': trace-cmd's reader fails on it (corrupted or "
			 "truncated file)", path);
		return TDP_E_FORMAT;
	default:
		break;
	}
	h = tracecmd_open(path, 0);
	if (!h) {
		snprintf(err, errlen, "'%s': trace-cmd cannot read it (corrupted or truncated "
			 "headers)", path);
		return TDP_E_FORMAT;
	}
	d.tep = tracecmd_get_tep(h);
	if (tracecmd_iterate_events(h, NULL, 0, on_record, &d) < 0 && !d.ret) {
		snprintf(err, errlen, "'%s': cannot read its events after record %llu "
			 "(corrupted or truncated data)", path, (unsigned long long)d.recno);
		d.ret = TDP_E_FORMAT;
	}
	tracecmd_close(h);
	free(d.ev);
	return d.ret;
}
