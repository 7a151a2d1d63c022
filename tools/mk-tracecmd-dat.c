// SPDX-License-Identifier: GPL-2.0-only
/*
 * mk-tracecmd-dat: write a trace-cmd .dat file (format version 6, see
 * trace-cmd.dat.v6(5)) from a scenario text and the event formats a real
 * kernel exposes in tracefs.  Used only to make the importer's test
 * fixtures (tools/mk-tracecmd-fixtures.sh): no KVM guest can run here, so
 * `trace-cmd record` cannot produce kvm/kvmmmu events, but everything else
 * about the file is the real thing: the header_page/header_event and
 * format files are copies of /sys/kernel/tracing/events/... and the event
 * payloads are laid out at the offsets those formats give, in ring-buffer
 * pages as the kernel writes them (64-bit, little endian, 4 KiB pages).
 *
 * usage: mk-tracecmd-dat FORMATS_DIR SCENARIO OUT.dat
 *
 * Scenario lines ('#' comments, blank lines ignored):
 *   cpus N                       number of CPU buffers (first line)
 *   comm PID NAME                a saved_cmdlines entry
 *   lost CPU                     start a new page on CPU flagged "missed events"
 *   CPU PID +DT SYSTEM:EVENT field=value ...
 *                                one event DT microseconds after the
 *                                previous one (any CPU); unnamed fields are 0
 * Only the events a scenario uses are stored in the file, plus every
 * format listed in FORMATS_DIR/extra (one SYSTEM/EVENT per line), so a
 * file can also carry formats without events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE		4096
#define PAGE_HDR	16		/* u64 timestamp, local_t commit (64-bit) */
#define MAX_CPUS	8
#define MAX_FORMATS	64
#define MAX_FIELDS	32
#define RB_MISSED	(1ull << 31)	/* commit flag: events were lost before this page */

struct field { char name[64]; unsigned off, size; };
struct format {
	char sys[64], name[64];
	unsigned id;
	char *text;
	size_t len;
	struct field f[MAX_FIELDS];
	int nf;
	unsigned size;			/* payload bytes */
};

struct cpubuf {
	uint8_t *data;			/* whole pages */
	size_t npages;
	size_t used;			/* bytes used in the current page's data area */
	uint64_t page_ts;		/* timestamp of the current page */
	uint64_t last_ts;
	int have_page;
};

static struct format formats[MAX_FORMATS];
static int nformats;
static struct cpubuf cpus[MAX_CPUS];
static int ncpus;
static char cmdlines[4096];
static const char *fmtdir;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mk-tracecmd-dat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		die("cannot open '%s': %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("cannot read '%s'", path);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Load SYSTEM/EVENT's format once; parse its ID and field offsets. */
static struct format *get_format(const char *sys, const char *name)
{
	char path[512];
	struct format *fm;
	int wide = 0;
	char *p;

	for (int i = 0; i < nformats; i++)
		if (!strcmp(formats[i].sys, sys) && !strcmp(formats[i].name, name))
			return &formats[i];
	if (nformats == MAX_FORMATS)
		die("too many formats");
	fm = &formats[nformats++];
	snprintf(fm->sys, sizeof(fm->sys), "%s", sys);
	snprintf(fm->name, sizeof(fm->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s/%s/format", fmtdir, sys, name);
	fm->text = slurp(path, &fm->len);
	p = strstr(fm->text, "\nID: ");
	if (!p)
		die("'%s': no ID", path);
	fm->id = (unsigned)strtoul(p + 5, NULL, 10);
	for (p = fm->text; (p = strstr(p, "field:")); p++) {
		struct field *f;
		char *semi = strchr(p, ';'), *nm;

		if (!semi || fm->nf == MAX_FIELDS)
			die("'%s': bad field list", path);
		/* the name is the last word before ';', after any '*' or ']' */
		nm = semi;
		while (nm > p && nm[-1] != ' ' && nm[-1] != '*')
			nm--;
		f = &fm->f[fm->nf++];
		snprintf(f->name, sizeof(f->name), "%.*s", (int)(semi - nm), nm);
		if (sscanf(semi, "; offset:%u; size:%u;", &f->off, &f->size) != 2)
			die("'%s': cannot read offset of '%s'", path, f->name);
		if (f->off + f->size > fm->size)
			fm->size = f->off + f->size;
		if (f->size == 8)
			wide = 1;
	}
	/* sizeof() of the kernel's entry struct: padded to its alignment */
	fm->size = (fm->size + (wide ? 7 : 3)) & ~(wide ? 7u : 3u);
	return fm;
}

static void put(uint8_t *dst, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

static void new_page(struct cpubuf *c, uint64_t ts, int missed)
{
	uint8_t *pg;

	c->data = realloc(c->data, (c->npages + 1) * PAGE);
	if (!c->data)
		die("out of memory");
	pg = c->data + c->npages * PAGE;
	memset(pg, 0, PAGE);
	put(pg, ts, 8);
	put(pg + 8, missed ? RB_MISSED : 0, 8);
	c->npages++;
	c->used = 0;
	c->page_ts = c->last_ts = ts;
	c->have_page = 1;
}

static void commit(struct cpubuf *c)
{
	uint8_t *pg = c->data + (c->npages - 1) * PAGE;
	uint64_t flags = 0;

	for (int i = 0; i < 8; i++)
		flags |= (uint64_t)pg[8 + i] << (8 * i);
	put(pg + 8, (flags & RB_MISSED) | c->used, 8);
}

/*
 * Append one event: a 4-byte header with type_len = payload/4 (1..28,
 * the kernel's compact form on x86, where RB_FORCE_8BYTE_ALIGNMENT is 0)
 * and a 27-bit time delta from the previous event on this CPU.
 */
static void emit(int cpu, uint64_t ts, const uint8_t *payload, unsigned size)
{
	struct cpubuf *c = &cpus[cpu];
	unsigned len = (size + 3) & ~3u;
	uint64_t delta;
	uint8_t *dst;

	if (len / 4 > 28)
		die("event of %u bytes needs the long form", size);
	if (!c->have_page || c->used + 4 + len > PAGE - PAGE_HDR) {
		if (c->have_page)
			commit(c);
		new_page(c, ts, 0);
	}
	delta = ts - c->last_ts;
	if (delta >= (1u << 27))
		die("time delta %" PRIu64 " ns needs a time extend", delta);
	dst = c->data + (c->npages - 1) * PAGE + PAGE_HDR + c->used;
	put(dst, (len / 4) | (delta << 5), 4);
	memcpy(dst + 4, payload, size);
	c->used += 4 + len;
	c->last_ts = ts;
	commit(c);
}

static void w8(FILE *f, uint64_t v, unsigned size)
{
	uint8_t b[8];

	put(b, v, size);
	fwrite(b, 1, size, f);
}

static void write_dat(const char *out)
{
	size_t hp_len, he_len;
	char path[512];
	char *hp, *he;
	FILE *f = fopen(out, "wb");
	long pos;
	uint64_t off;

	if (!f)
		die("cannot create '%s': %s", out, strerror(errno));
	snprintf(path, sizeof(path), "%s/header_page", fmtdir);
	hp = slurp(path, &hp_len);
	snprintf(path, sizeof(path), "%s/header_event", fmtdir);
	he = slurp(path, &he_len);

	fwrite("\x17\x08\x44tracing6", 1, 11, f);
	fputc(0, f);
	fputc(0, f);			/* little endian */
	fputc(8, f);			/* long size */
	w8(f, PAGE, 4);
	fwrite("header_page", 1, 12, f);
	w8(f, hp_len, 8);
	fwrite(hp, 1, hp_len, f);
	fwrite("header_event", 1, 13, f);
	w8(f, he_len, 8);
	fwrite(he, 1, he_len, f);
	w8(f, 0, 4);			/* no ftrace formats */

	/* event systems: group the loaded formats by system, in load order */
	{
		const char *sys[MAX_FORMATS];
		int nsys = 0;

		for (int i = 0; i < nformats; i++) {
			int k;

			for (k = 0; k < nsys && strcmp(sys[k], formats[i].sys); k++)
				;
			if (k == nsys)
				sys[nsys++] = formats[i].sys;
		}
		w8(f, (uint64_t)nsys, 4);
		for (int k = 0; k < nsys; k++) {
			int n = 0;

			fwrite(sys[k], 1, strlen(sys[k]) + 1, f);
			for (int i = 0; i < nformats; i++)
				n += !strcmp(formats[i].sys, sys[k]);
			w8(f, (uint64_t)n, 4);
			for (int i = 0; i < nformats; i++) {
				if (strcmp(formats[i].sys, sys[k]))
					continue;
				w8(f, formats[i].len, 8);
				fwrite(formats[i].text, 1, formats[i].len, f);
			}
		}
	}
	w8(f, 0, 4);			/* kallsyms */
	w8(f, 0, 4);			/* printk formats */
	w8(f, strlen(cmdlines), 8);
	fputs(cmdlines, f);
	w8(f, (uint64_t)ncpus, 4);
	fwrite("options  ", 1, 10, f);
	w8(f, 0, 2);			/* no options */
	fwrite("flyrecord", 1, 10, f);
	pos = ftell(f) + 16L * ncpus;
	off = ((uint64_t)pos + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	for (int i = 0; i < ncpus; i++) {
		w8(f, cpus[i].npages ? off : 0, 8);
		w8(f, cpus[i].npages * PAGE, 8);
		off += cpus[i].npages * PAGE;
	}
	while (ftell(f) % PAGE)
		fputc(0, f);
	for (int i = 0; i < ncpus; i++)
		fwrite(cpus[i].data, PAGE, cpus[i].npages, f);
	if (fclose(f))
		die("cannot write '%s'", out);
	free(hp);
	free(he);
}

int main(int argc, char **argv)
{
	uint64_t ts = 1000000000ull;	/* 1 s: any base works */
	char line[1024];
	unsigned lineno = 0;
	FILE *in;

	if (argc != 4)
		die("usage: mk-tracecmd-dat FORMATS_DIR SCENARIO OUT.dat");
	fmtdir = argv[1];
	in = fopen(argv[2], "r");
	if (!in)
		die("cannot open '%s': %s", argv[2], strerror(errno));
	while (fgets(line, sizeof(line), in)) {
		char *tok, *save, *hash = strchr(line, '#');
		char sys[64], name[64];
		uint8_t payload[256];
		struct format *fm;
		unsigned cpu, pid, us;

		lineno++;
		if (hash)
			*hash = 0;
		tok = strtok_r(line, " \t\n", &save);
		if (!tok)
			continue;
		if (!strcmp(tok, "cpus")) {
			ncpus = atoi(strtok_r(NULL, " \t\n", &save));
			if (ncpus < 1 || ncpus > MAX_CPUS)
				die("%s:%u: bad cpus", argv[2], lineno);
			continue;
		}
		if (!strcmp(tok, "format")) {
			if (sscanf(strtok_r(NULL, " \t\n", &save), "%63[^:]:%63s", sys, name) != 2)
				die("%s:%u: bad format line", argv[2], lineno);
			get_format(sys, name);
			continue;
		}
		if (!strcmp(tok, "comm")) {
			char *p = strtok_r(NULL, " \t\n", &save), *c = strtok_r(NULL, " \t\n", &save);
			size_t l = strlen(cmdlines);

			snprintf(cmdlines + l, sizeof(cmdlines) - l, "%s %s\n", p, c);
			continue;
		}
		if (!strcmp(tok, "lost")) {
			cpu = (unsigned)atoi(strtok_r(NULL, " \t\n", &save));
			if (cpus[cpu].have_page)
				commit(&cpus[cpu]);
			new_page(&cpus[cpu], ts, 1);
			continue;
		}
		cpu = (unsigned)atoi(tok);
		if (!ncpus || cpu >= (unsigned)ncpus)
			die("%s:%u: cpu %u out of range", argv[2], lineno, cpu);
		pid = (unsigned)atoi(strtok_r(NULL, " \t\n", &save));
		tok = strtok_r(NULL, " \t\n", &save);
		if (!tok || *tok != '+')
			die("%s:%u: expected +DT", argv[2], lineno);
		us = (unsigned)atoi(tok + 1);
		ts += us * 1000ull;
		tok = strtok_r(NULL, " \t\n", &save);
		if (!tok || sscanf(tok, "%63[^:]:%63s", sys, name) != 2)
			die("%s:%u: expected SYSTEM:EVENT", argv[2], lineno);
		fm = get_format(sys, name);
		memset(payload, 0, sizeof(payload));
		put(payload, fm->id, 2);
		put(payload + 4, pid, 4);
		while ((tok = strtok_r(NULL, " \t\n", &save))) {
			char *eq = strchr(tok, '=');
			int k;

			if (!eq)
				die("%s:%u: expected field=value", argv[2], lineno);
			*eq = 0;
			for (k = 0; k < fm->nf && strcmp(fm->f[k].name, tok); k++)
				;
			if (k == fm->nf)
				die("%s:%u: '%s' has no field '%s'", argv[2], lineno, name, tok);
			put(payload + fm->f[k].off, strtoull(eq + 1, NULL, 0), fm->f[k].size);
		}
		emit((int)cpu, ts, payload, fm->size);
	}
	fclose(in);
	if (!ncpus)
		die("%s: no 'cpus' line", argv[2]);
	write_dat(argv[3]);
	return 0;
}
