// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load replay reports (docs/report-schema.md, version 2) from JSON.
 *
 * Every field the schema defines and compare/plot use is required: a report
 * that lacks one was not written by a version-2 writer, and guessing a 0
 * would silently turn into a "delta" in a comparison.  The exception is an
 * object added to version 1 later ("nested"): absent, it is recorded as
 * absent (has_nested); present, it must be complete.  Unknown members are
 * ignored, as the schema asks.  Spreads are optional, field by field (a
 * spread of 0 means "no measured variation"); see find_spread().
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tdpsim/errors.h>
#include <tdpsim/json_load.h>
#include <tdpsim/report.h>
#include <tdpsim/util.h>

#include "report/timed.h"


enum field_kind { F_U64, F_DOUBLE, F_STR, F_BOOL };

struct field {
	const char *path;
	enum field_kind kind;
	size_t off;
};

#define U(p, m)  { p, F_U64, offsetof(struct tdp_report, m) }
#define D(p, m)  { p, F_DOUBLE, offsetof(struct tdp_report, m) }
#define S(p, m)  { p, F_STR, offsetof(struct tdp_report, m) }
#define B(p, m)  { p, F_BOOL, offsetof(struct tdp_report, m) }

static const struct field report_fields[] = {
	S("tool.version", tool_version), S("tool.build", tool_build),
	S("tool.layout", tool_layout), S("trace.path", trace_path),
	S("measurement.machine", machine), D("measurement.tsc_mhz", tsc_mhz),
	B("measurement.timing", timing),
	U("measurement.repetitions", repetitions),
	U("events.total", events_total),
	U("kvm_stats.exits", exits.total),
	U("kvm_stats.pf_taken", kvm.pf_taken),
	U("kvm_stats.pf_fixed", faults.fixed),
	U("kvm_stats.pf_spurious", faults.spurious),
	U("kvm_stats.pf_emulate", faults.emulated),
	U("kvm_stats.pf_fast", kvm.pf_fast),
	U("kvm_stats.pf_mmio_spte_created", kvm.pf_mmio_spte_created),
	U("kvm_stats.invlpg", kvm.invlpg), U("kvm_stats.tlb_flush", kvm.tlb_flush),
	U("kvm_stats.mmu_shadow_zapped", kvm.mmu_shadow_zapped),
	U("kvm_stats.mmu_pte_write", kvm.mmu_pte_write),
	U("kvm_stats.mmu_pde_zapped", kvm.mmu_pde_zapped),
	U("kvm_stats.mmu_flooded", kvm.mmu_flooded),
	U("kvm_stats.mmu_recycled", kvm.mmu_recycled),
	U("kvm_stats.mmu_cache_miss", kvm.mmu_cache_miss),
	U("kvm_stats.mmu_unsync", kvm.mmu_unsync),
	U("kvm_stats.pages_4k", kvm.pages_4k), U("kvm_stats.pages_2m", kvm.pages_2m),
	U("kvm_stats.pages_1g", kvm.pages_1g),
	U("exits.pf", exits.pf),
	U("exits.ept_violation", exits.ept_violation),
	U("exits.ept_misconfig", exits.ept_misconfig),
	U("exits.emulated_write", exits.emulated_write),
	U("exits.cr", exits.cr), U("exits.invlpg", exits.invlpg),
	U("exits.recorded", exits.recorded),
	U("faults.retry", faults.retry),
	U("faults.injected", faults.injected),
	U("faults.reflected_to_l1", faults.reflected_to_l1),
	U("faults.gp_set_refused", faults.gp_set_refused),
	U("faults.gp_noncanonical", faults.gp_noncanonical),
	U("shadow_pages.created", sp.created), U("shadow_pages.zapped", sp.zapped),
	U("shadow_pages.live", sp.live), U("shadow_pages.peak", sp.peak),
	U("shadow_pages.unsync_made", sp.unsync), U("shadow_pages.sync", sp.sync),
	U("shadow_pages.flood_zaps", sp.flood_zaps),
	U("shadow_pages.misaligned_zaps", sp.misaligned_zaps),
	U("shadow_pages.root_allocs", sp.root_allocs),
	U("shadow_pages.prev_roots.hits", sp.prev_roots_hits),
	U("shadow_pages.prev_roots.misses", sp.prev_roots_misses),
	D("shadow_pages.prev_roots.hit_rate", sp.prev_roots_hit_rate),
	U("walks.count", walks_count),
	D("walks.latency_ns.p50", t.walk_p50), D("walks.latency_ns.p90", t.walk_p90),
	D("walks.latency_ns.p99", t.walk_p99), D("walks.latency_ns.max", t.walk_max),
	D("walks.latency_ns.mean", t.walk_mean),
	U("permission.checks", perm_checks), D("permission.mean_ns", t.perm_mean_ns),
	D("throughput.events_per_s", t.events_per_s),
	D("throughput.wall_s", t.wall_s),
};

/*
 * The walkers and fault paths by their report names (report.c
 * kinds_json()): X(object, name, index, timing fields' prefix, count
 * array) for each.
 */
/* count, mean and median of each */
#define TIMED_FIELDS(o, w, i, m, c, cl, pl) \
	U(o "." w ".count", c[i]), \
	D(o "." w ".mean_ns", t.m##_mean[i]), D(o "." w ".p50_ns", t.m##_p50[i]),

/* Added after version 2 came out: absent in older reports. */
static const struct field optional_fields[] = {
	S("tool.commit", tool_commit), U("measurement.cores", cores),
	D("measurement.timer_overhead_ns", timer_overhead_ns),
	FOR_EACH_TIMED(TIMED_FIELDS)
};

/* The timing fields, as found under "spread" (all optional there). */
#define T(p, m)  { p, F_DOUBLE, offsetof(struct tdp_report_timing, m) }
#define TIMED_SPREAD(o, w, i, m, c, cl, pl) \
	T(o "." w ".mean_ns", m##_mean[i]), T(o "." w ".p50_ns", m##_p50[i]),
static const struct field spread_fields[] = {
	T("walks.latency_ns.p50", walk_p50), T("walks.latency_ns.p90", walk_p90),
	T("walks.latency_ns.p99", walk_p99), T("walks.latency_ns.max", walk_max),
	T("walks.latency_ns.mean", walk_mean), T("permission.mean_ns", perm_mean_ns),
	T("throughput.events_per_s", events_per_s), T("throughput.wall_s", wall_s),
	FOR_EACH_TIMED(TIMED_SPREAD)
};
#undef TIMED_FIELDS
#undef TIMED_SPREAD

#define CS(p, m)  { p, F_DOUBLE, offsetof(struct tdp_report, count_spread.m) }
static const struct field count_spread_fields[] = {
	CS("kvm_stats.exits", exits), CS("kvm_stats.pf_fixed", faults_fixed),
	CS("faults.injected", faults_injected),
	CS("shadow_pages.created", sp_created), CS("shadow_pages.peak", sp_peak),
};
#undef CS

/* The "nested" object: optional as a whole, complete when present. */
#define N(p, m)  { "nested." p, F_U64, offsetof(struct tdp_report, nested.m) }
static const struct field nested_fields[] = {
	N("vmenter", vmenter), N("vmexit", vmexit),
	N("invept_single", invept_single), N("invept_global", invept_global),
	N("l2_accesses", l2_accesses), N("l2_pf", l2_pf), N("l2_exits", l2_exits),
	N("reflected.total", reflected),
	N("reflected.ept_violation", ept_violation),
	N("reflected.ept_misconfig", ept_misconfig), N("reflected.npf", npf),
	N("reflected.final", final),
	N("reflected.paging_structure", paging_structure),
	N("reflected.exec_user", exec_user),
	N("reflected.exec_supervisor", exec_supervisor),
	N("reflected.exitinfo1_by_bit.P", npf_bit[0]),
	N("reflected.exitinfo1_by_bit.W", npf_bit[1]),
	N("reflected.exitinfo1_by_bit.U", npf_bit[2]),
	N("reflected.exitinfo1_by_bit.RSVD", npf_bit[3]),
	N("reflected.exitinfo1_by_bit.ID", npf_bit[4]),
	N("shadow_pages.created", sp_created), N("shadow_pages.live", sp_live),
};
#undef N
#undef U
#undef D
#undef S
#undef B
#undef T

__attribute__((format(printf, 3, 4)))
static int field_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return TDP_E_JSON;
}

/* jansson keeps no positions in the tree: the path names the value. */
static int wrong_type(char *err, size_t errlen, const char *path,
		      const json_t *v, const char *want)
{
	return field_err(err, errlen, "field '%s' is %s, expected %s",
			 path, tdp_json_kind(v), want);
}

static int load_field(void *base, const struct field *f,
		      const json_t *v, char *err, size_t errlen)
{
	void *dst = (char *)base + f->off;

	switch (f->kind) {
	case F_U64:
		if (!tdp_json_as_u64(v, (uint64_t *)dst))
			return wrong_type(err, errlen, f->path, v, "an unsigned integer");
		return 0;
	case F_DOUBLE:
		if (!json_is_number(v))
			return wrong_type(err, errlen, f->path, v, "a number");
		*(double *)dst = json_number_value(v);
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return wrong_type(err, errlen, f->path, v, "a boolean");
		*(bool *)dst = json_is_true(v);
		return 0;
	case F_STR:
		if (!json_is_string(v))
			return wrong_type(err, errlen, f->path, v, "a string");
		*(char **)dst = strdup(json_string_value(v));
		return *(char **)dst ? 0 : TDP_E_NOMEM;
	}
	return TDP_E_INTERNAL;
}

/* Every one of @fields, by path from @root: a missing one is an error. */
static int load_fields(struct tdp_report *r, const json_t *root,
		       const struct field *fields, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *v = tdp_json_path(root, fields[i].path);
		int ret;

		if (!v)
			return field_err(err, errlen, "missing field '%s'", fields[i].path);
		ret = load_field(r, &fields[i], v, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int load_hist(struct tdp_report *r, const json_t *h, char *err, size_t errlen)
{
	size_t n = json_array_size(h);

	if (!json_is_array(h))
		return wrong_type(err, errlen, "walks.hist", h, "an array");
	if (!n)
		return 0;
	r->hist = calloc(n, sizeof(*r->hist));
	if (!r->hist)
		return TDP_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(h, i);
		const json_t *up = json_array_get(e, 0);

		if (json_array_size(e) != 2 || !json_is_number(up) ||
		    !tdp_json_as_u64(json_array_get(e, 1), &r->hist[i].count))
			return field_err(err, errlen,
					 "field 'walks.hist[%zu]' is not a [upper_ns, count] pair",
					 i);
		r->hist[i].upper_ns = json_number_value(up);
		if (i && r->hist[i].upper_ns <= r->hist[i - 1].upper_ns)
			return field_err(err, errlen,
					 "field 'walks.hist[%zu]' is not in ascending order", i);
		r->nhist++;
	}
	return 0;
}

static int load_timeline(struct tdp_report *r, const json_t *tl, char *err, size_t errlen)
{
	static const char *const want[] = { "event", "sp_live", "exits" };
	const json_t *cols, *rows, *iv;
	size_t idx[3], ncols, nrows;

	if (!json_is_object(tl))
		return wrong_type(err, errlen, "timeline", tl, "an object");
	iv = json_object_get(tl, "interval");
	cols = json_object_get(tl, "columns");
	rows = json_object_get(tl, "rows");
	if (!iv)
		return field_err(err, errlen, "missing field 'timeline.interval'");
	if (!tdp_json_as_u64(iv, &r->tl_interval))
		return wrong_type(err, errlen, "timeline.interval", iv, "an unsigned integer");
	if (!cols)
		return field_err(err, errlen, "missing field 'timeline.columns'");
	if (!json_is_array(cols))
		return wrong_type(err, errlen, "timeline.columns", cols, "an array");
	if (!rows)
		return field_err(err, errlen, "missing field 'timeline.rows'");
	if (!json_is_array(rows))
		return wrong_type(err, errlen, "timeline.rows", rows, "an array");
	ncols = json_array_size(cols);
	nrows = json_array_size(rows);

	/* columns may be reordered or extended by later writers: find ours */
	for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
		idx[k] = SIZE_MAX;
		for (size_t c = 0; c < ncols; c++) {
			const char *name = json_string_value(json_array_get(cols, c));

			if (name && !strcmp(name, want[k]))
				idx[k] = c;
		}
		if (idx[k] == SIZE_MAX)
			return field_err(err, errlen,
					 "missing column '%s' in field 'timeline.columns'",
					 want[k]);
	}
	if (!nrows)
		return 0;
	r->tl = calloc(nrows, sizeof(*r->tl));
	if (!r->tl)
		return TDP_E_NOMEM;
	for (size_t i = 0; i < nrows; i++) {
		const json_t *row = json_array_get(rows, i);
		uint64_t v[3];

		if (!json_is_array(row) || json_array_size(row) != ncols)
			return field_err(err, errlen,
					 "field 'timeline.rows[%zu]' does not match 'timeline.columns'",
					 i);
		for (size_t k = 0; k < 3; k++) {
			const json_t *c = json_array_get(row, idx[k]);

			if (!tdp_json_as_u64(c, &v[k]))
				return field_err(err, errlen,
						 "field 'timeline.rows[%zu]' has %s in column '%s'",
						 i, tdp_json_kind(c), want[k]);
		}
		r->tl[i] = (struct tdp_report_tl_row){ v[0], v[1], v[2] };
		r->ntl++;
	}
	return 0;
}

static int load_marks(struct tdp_report *r, const json_t *m, char *err, size_t errlen)
{
	size_t n = json_array_size(m);

	if (!json_is_array(m))
		return wrong_type(err, errlen, "marks", m, "an array");
	if (!n)
		return 0;
	r->marks = calloc(n, sizeof(*r->marks));
	if (!r->marks)
		return TDP_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(m, i);
		const char *lb = json_string_value(json_object_get(e, "label"));

		if (!tdp_json_as_u64(json_object_get(e, "event"), &r->marks[i].event) || !lb)
			return field_err(err, errlen,
					 "field 'marks[%zu]' needs an unsigned 'event' and a string 'label'",
					 i);
		r->marks[i].label = strdup(lb);
		if (!r->marks[i].label)
			return TDP_E_NOMEM;
		r->nmarks++;
	}
	return 0;
}

/*
 * find_spread() - the spread of field @path ("walks.latency_ns.p50").  The
 * schema puts a "spread" object "of the same shape" as a sibling of the
 * timing fields; both readings are accepted, a top-level mirror of the
 * report ("spread.walks.latency_ns.p50") and a sibling at any level on the
 * way ("walks.spread.latency_ns.p50", "walks.latency_ns.spread.p50").
 * @name receives the path found, for messages.
 */
static const json_t *find_spread(const json_t *root, const char *path, char *name,
				 size_t namelen)
{
	const char *rest = path;

	for (;;) {
		size_t k = (size_t)(rest - path);
		const json_t *v;

		snprintf(name, namelen, "%.*sspread.%s", (int)k, path, rest);
		v = tdp_json_path(root, name);
		if (v)
			return v;
		rest = strchr(rest, '.');
		if (!rest)
			return NULL;
		rest++;
	}
}

static int load_spreads(struct tdp_report *r, const json_t *root,
			const struct field *fields, size_t n, void *base,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char name[128];
		const json_t *v = find_spread(root, fields[i].path, name, sizeof(name));
		struct field sf = { name, fields[i].kind, fields[i].off };
		int ret;

		if (!v)
			continue;
		ret = load_field(base, &sf, v, err, errlen);
		if (ret)
			return ret;
		r->has_spread = true;
	}
	return 0;
}

static int load_nested(struct tdp_report *r, const json_t *root, char *err, size_t errlen)
{
	const size_t nbits = ARRAY_SIZE(r->nested.qual_bit);
	const json_t *v, *nested = json_object_get(root, "nested");
	int ret;

	/* a report from before the nested counters: nothing to compare */
	if (!nested)
		return 0;
	if (!json_is_object(nested))
		return wrong_type(err, errlen, "nested", nested, "an object");
	ret = load_fields(r, root, nested_fields, ARRAY_SIZE(nested_fields), err, errlen);
	if (ret)
		return ret;
	v = tdp_json_path(root, "nested.reflected.qual_by_bit");
	if (!v)
		return field_err(err, errlen,
				 "missing field 'nested.reflected.qual_by_bit'");
	if (!json_is_array(v) || json_array_size(v) != nbits)
		return field_err(err, errlen,
				 "field 'nested.reflected.qual_by_bit' is not an array of %zu counts",
				 nbits);
	for (size_t b = 0; b < nbits; b++) {
		const json_t *e = json_array_get(v, b);

		if (!tdp_json_as_u64(e, &r->nested.qual_bit[b]))
			return field_err(err, errlen,
					 "field 'nested.reflected.qual_by_bit[%zu]' is %s, expected an unsigned integer",
					 b, tdp_json_kind(e));
	}
	r->has_nested = true;
	return 0;
}

int tdp_report_from_json(struct tdp_report *r, const json_t *root, char *err, size_t errlen)
{
	const json_t *v;
	uint64_t version;
	const char *paging;
	int ret;

	if (!json_is_object(root))
		return field_err(err, errlen, "a report is an object, not %s",
				 tdp_json_kind(root));
	v = json_object_get(root, "tdpsim_report");
	if (!v)
		return field_err(err, errlen,
				 "not a tdpsim report: missing field 'tdpsim_report'");
	if (!tdp_json_as_u64(v, &version))
		return wrong_type(err, errlen, "tdpsim_report", v, "an unsigned integer");
	if (version != TDP_REPORT_VERSION) {
		/* version 1 had tdpsim's own names for what are KVM's stats */
		field_err(err, errlen, "report version %llu is not supported (expected %d%s)",
			  (unsigned long long)version, TDP_REPORT_VERSION,
			  version == 1 ? "; version 1 predates KVM's stat names: "
					 "replay the trace again" : "");
		return TDP_E_VERSION;
	}

	ret = load_fields(r, root, report_fields, ARRAY_SIZE(report_fields), err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(optional_fields); i++) {
		v = tdp_json_path(root, optional_fields[i].path);
		ret = v ? load_field(r, &optional_fields[i], v, err, errlen) : 0;
		if (ret)
			return ret;
	}

	/* optional: the comparison shows nested rows for nested traces */
	paging = json_string_value(tdp_json_path(root, "trace.config.paging"));
	r->paging_nested = paging && !strcmp(paging, "nested");
	ret = load_nested(r, root, err, errlen);
	if (ret)
		return ret;

	ret = load_spreads(r, root, spread_fields, ARRAY_SIZE(spread_fields),
			   &r->spread, err, errlen);
	if (ret)
		return ret;
	ret = load_spreads(r, root, count_spread_fields,
			   ARRAY_SIZE(count_spread_fields), r, err, errlen);
	if (ret)
		return ret;

	v = tdp_json_path(root, "walks.hist");
	if (!v)
		return field_err(err, errlen, "missing field 'walks.hist'");
	ret = load_hist(r, v, err, errlen);
	if (ret)
		return ret;
	v = json_object_get(root, "timeline");
	if (!v)
		return field_err(err, errlen, "missing field 'timeline'");
	ret = load_timeline(r, v, err, errlen);
	if (ret)
		return ret;
	v = json_object_get(root, "marks");
	if (!v)
		return field_err(err, errlen, "missing field 'marks'");
	return load_marks(r, v, err, errlen);
}

void tdp_report_release(struct tdp_report *r)
{
	free(r->path);
	free(r->tool_version);
	free(r->tool_build);
	free(r->tool_commit);
	free(r->tool_layout);
	free(r->trace_path);
	free(r->machine);
	free(r->hist);
	free(r->tl);
	for (size_t i = 0; i < r->nmarks; i++)
		free(r->marks[i].label);
	free(r->marks);
	memset(r, 0, sizeof(*r));
}

void tdp_report_free_array(struct tdp_report *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		tdp_report_release(&r[i]);
	free(r);
}

/* Whole file into memory, refusing more than the parser would accept. */
static int slurp(const char *path, char **buf, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	size_t n;
	int ret;

	if (!fp)
		return tdp_error(TDP_E_IO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fileno(fp), &st)) {
		ret = tdp_error(TDP_E_IO, "cannot stat '%s': %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > TDP_JSON_MAX_SIZE) {
		ret = tdp_error(TDP_E_JSON, "cannot load '%s': not a regular file of at most %u MiB",
				path, TDP_JSON_MAX_SIZE >> 20);
		goto out_close;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		ret = TDP_E_NOMEM;
		goto out_close;
	}
	n = fread(*buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		ret = tdp_error(TDP_E_IO, "cannot read '%s': %s", path, strerror(errno));
		free(*buf);
		*buf = NULL;
		goto out_close;
	}
	(*buf)[n] = '\0';
	*len = n;
	ret = 0;
out_close:
	fclose(fp);
	return ret;
}

int tdp_report_load(const char *path, struct tdp_report **out, size_t *n)
{
	json_t *root;
	const json_t *list = NULL, *cv;
	struct tdp_report *reps = NULL;
	size_t nreps = 0, want;
	char err[TDP_ERRBUF_SIZE] = "";
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = slurp(path, &buf, &len);
	if (ret)
		return ret;
	ret = tdp_json_load(buf, len, &root, err, sizeof(err));
	if (ret) {
		tdp_error(ret, "malformed report '%s': %s", path, err);
		goto out_free_buf;
	}

	/* a comparison file holds several reports; anything else is one */
	cv = json_object_get(root, "tdpsim_compare");
	if (cv) {
		if (!json_is_integer(cv) || json_integer_value(cv) != 1) {
			ret = tdp_error(TDP_E_VERSION,
					"invalid report '%s': comparison version not supported (expected 1)",
					path);
			goto out_free_json;
		}
		list = json_object_get(root, "reports");
		if (!json_array_size(list)) {
			ret = tdp_error(TDP_E_JSON,
					"invalid report '%s': field 'reports' is not a non-empty array",
					path);
			goto out_free_json;
		}
		want = json_array_size(list);
	} else {
		want = 1;
	}
	reps = calloc(want, sizeof(*reps));
	if (!reps) {
		ret = TDP_E_NOMEM;
		goto out_free_json;
	}
	for (nreps = 0; nreps < want; ) {
		const json_t *rv = list ? json_array_get(list, nreps) : root;
		struct tdp_report *r = &reps[nreps++];

		ret = tdp_report_from_json(r, rv, err, sizeof(err));
		if (ret == TDP_E_NOMEM) {
			tdp_error(ret, "cannot load '%s': out of memory", path);
			goto out_free_reps;
		}
		if (ret) {
			if (list)
				tdp_error(ret, "invalid report '%s' (reports[%zu]): %s",
					  path, nreps - 1, err);
			else
				tdp_error(ret, "invalid report '%s': %s", path, err);
			goto out_free_reps;
		}
		r->path = strdup(path);
		if (!r->path) {
			ret = TDP_E_NOMEM;
			goto out_free_reps;
		}
	}
	*out = reps;
	*n = nreps;
	reps = NULL;
	ret = 0;

out_free_reps:
	tdp_report_free_array(reps, nreps);
out_free_json:
	json_decref(root);
out_free_buf:
	free(buf);
	return ret;
}
