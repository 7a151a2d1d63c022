// SPDX-License-Identifier: GPL-2.0-only
/*
 * Expectations: KVM's own counts from a recording ('tdpsim import
 * --expect'), written as a small JSON document and printed beside a
 * replay's simulated counters ('tdpsim replay --expect').  The list of
 * counts is TDP_EXPECT_KEYS in include/tdpsim/import.h; simulated() below
 * says which simulated counter each one meets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/import.h>
#include <tdpsim/json.h>
#include <tdpsim/json_load.h>

static const char *const expect_key[] = {
#define X(k, what) #k,
	TDP_EXPECT_KEYS(X)
#undef X
};

int tdp_expect_write_json(FILE *fp, const char *source, const struct tdp_expect *e)
{
	struct tdp_json j;

	tdp_json_begin(&j, fp, 2);
	tdp_json_obj_open(&j, NULL);
	tdp_json_u64(&j, "tdpsim_expect", 1);
	tdp_json_str(&j, "source", source);
	tdp_json_obj_open(&j, "counts");
	for (int k = 0; k < TDP_EXP__COUNT; k++)
		tdp_json_u64(&j, expect_key[k], e->v[k]);
	tdp_json_obj_close(&j);
	tdp_json_obj_close(&j);
	return tdp_json_end(&j);
}

int tdp_expect_read(const char *path, struct tdp_expect *e, char *source, size_t srclen,
		    char errbuf[TDP_ERRBUF_SIZE])
{
	json_t *root = NULL;
	const json_t *v, *counts;
	const char *src;
	char why[256];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *fp;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	fp = fopen(path, "rb");
	if (!fp) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "cannot open '%s': %s", path, strerror(errno));
		return TDP_E_IO;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *p = cap > (64u << 20) ? NULL : realloc(buf, cap ? cap * 2 : 4096);

			if (!p) {
				snprintf(errbuf, TDP_ERRBUF_SIZE, "'%s': too large", path);
				ret = TDP_E_JSON;
				goto out_close;
			}
			buf = p;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (!n)
			break;
	}
	if (ferror(fp)) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "cannot read '%s': %s", path, strerror(errno));
		ret = TDP_E_IO;
		goto out_close;
	}
	ret = tdp_json_load(buf, len, &root, why, sizeof(why));
	if (ret) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "%s:%s", path, why);
		goto out_close;
	}
	v = json_object_get(root, "tdpsim_expect");
	counts = json_object_get(root, "counts");
	if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_object(counts)) {
		snprintf(errbuf, TDP_ERRBUF_SIZE, "'%s': not a tdpsim_expect 1 file "
			 "(written by 'tdpsim import --expect')", path);
		ret = TDP_E_JSON;
		goto out_free;
	}
	for (int k = 0; k < TDP_EXP__COUNT; k++) {
		v = json_object_get(counts, expect_key[k]);
		if (!tdp_json_as_u64(v, &e->v[k])) {
			snprintf(errbuf, TDP_ERRBUF_SIZE, "'%s': counts.%s %s", path,
				 expect_key[k], v ? "is not a non-negative integer" : "missing");
			ret = TDP_E_JSON;
			goto out_free;
		}
	}
	src = json_string_value(json_object_get(root, "source"));
	snprintf(source, srclen, "%s", src ? src : "");
out_free:
	json_decref(root);
out_close:
	fclose(fp);
	free(buf);
	return ret;
}

/*
 * The simulated counter that matches each expectation, or -1 where the
 * simulator has none (the row prints '-').
 */
static int64_t simulated(enum tdp_expect_key k, const struct tdp_stats *s)
{
	uint64_t sum = 0;

	switch (k) {
	case TDP_EXP_sp_created:
	case TDP_EXP_sp_zapped:
		for (int l = 0; l < TDP_MAX_LEVEL; l++)
			for (int d = 0; d < 2; d++)
				sum += k == TDP_EXP_sp_created ? s->sp_created[l][d] :
				       s->sp_zapped[l][d];
		return (int64_t)sum;
	case TDP_EXP_sp_sync:	return (int64_t)s->sp_sync;
	case TDP_EXP_sp_unsync:	return (int64_t)s->sp_unsync;
	case TDP_EXP_pf_exits:	return (int64_t)(s->exit_pf + s->exit_ept_violation);
	case TDP_EXP_pf_fixed:	return (int64_t)s->pf_fixed;
	case TDP_EXP_pf_injected: return (int64_t)s->pf_injected;
	case TDP_EXP_walks:	return (int64_t)s->walks;
	case TDP_EXP_emulated:	return (int64_t)(s->pf_emulate + s->exit_emulated_write);
	case TDP_EXP_cr_loads:	return (int64_t)s->exit_cr;
	case TDP_EXP_invlpg:	return (int64_t)s->exit_invlpg;
	case TDP_EXP_vmenter:	return (int64_t)s->nested_vmenter;
	case TDP_EXP_vmexit:	return (int64_t)s->nested_vmexit;
	default:		return -1;
	}
}

void tdp_expect_print(FILE *fp, const char *source, const struct tdp_expect *e,
		      const struct tdp_stats *s)
{
	fprintf(fp, "\nrecorded (KVM) vs simulated%s%s\n", *source ? ": " : "", source);
	fprintf(fp, "  %-18s %12s %12s %12s\n", "counter", "recorded", "simulated", "delta");
	for (int k = 0; k < TDP_EXP__COUNT; k++) {
		int64_t sim = simulated((enum tdp_expect_key)k, s);

		if (sim < 0)
			fprintf(fp, "  %-18s %12llu %12s %12s\n", expect_key[k],
				(unsigned long long)e->v[k], "-", "-");
		else
			fprintf(fp, "  %-18s %12llu %12lld %+12lld\n", expect_key[k],
				(unsigned long long)e->v[k], (long long)sim,
				(long long)(sim - (int64_t)e->v[k]));
	}
}
