// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key tables generated from events.def, and the text form of configs
 * and events: parse, print, check.
 *
 * Invariant: tdp_keys[] is ordered by kind and, inside a kind, by
 * events.def order, which is also the printing order; tdp_kinds[k] names
 * the slice [first, first + nkeys) of kind k.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>

#include "trace-int.h"

#define MEMBER_SIZE(member) sizeof(((struct tdp_event *)0)->member)

const struct tdp_key tdp_keys[TDP_KEY__COUNT] = {
#define TDP_EVENT(KIND, name)
#define TDP_KEY(KIND, key, memb, ty, mn, mx, df, fl)				\
	[TDP_KEY_##KIND##_##key] = {						\
		.name = #key, .offset = offsetof(struct tdp_event, memb),	\
		.width = MEMBER_SIZE(memb), .type = TDP_KT_##ty,		\
		.flags = (fl), .kind = TDP_EV_##KIND,				\
		.min = (mn), .max = (mx), .dflt = (df) },
#include "events.def"
};

/* Every number key fits its member; labels are the only arrays. */
#define TDP_EVENT(KIND, name)
#define TDP_KEY(KIND, key, member, type, mn, mx, df, fl)			\
	_Static_assert(TDP_KT_##type == TDP_KT_LABEL ||			\
		       (uint64_t)(mx) <= (MEMBER_SIZE(member) == 8 ? UINT64_MAX : \
			(1ull << (8 * MEMBER_SIZE(member))) - 1),		\
		       #KIND "." #key ": max does not fit its member");
#include "events.def"

/* 8-byte members are delta-coded modulo 2^64: they must accept every value. */
#define TDP_EVENT(KIND, name)
#define TDP_KEY(KIND, key, member, type, mn, mx, df, fl)			\
	_Static_assert(MEMBER_SIZE(member) != 8 ||				\
		       ((uint64_t)(mn) == 0 && (uint64_t)(mx) == UINT64_MAX),	\
		       #KIND "." #key ": 8-byte keys must span the u64 range");
#include "events.def"

struct tdp_kind tdp_kinds[TDP_EV__COUNT] = {
#define TDP_EVENT(KIND, nm) [TDP_EV_##KIND] = { .name = #nm, .first = TDP_KEYS_##KIND },
#define TDP_KEY(KIND, key, member, type, mn, mx, df, fl)
#include "events.def"
};

/*
 * nkeys and mask follow from the first indices; computed once, before main
 * (hence not const), so the tables above stay a plain projection of
 * events.def.  Nothing writes tdp_kinds[] afterwards.
 */
__attribute__((constructor)) static void tdp_kinds_init(void)
{
	struct tdp_kind *kinds = tdp_kinds;

	for (unsigned int k = 0; k < TDP_EV__COUNT; k++) {
		unsigned int end = k + 1 < TDP_EV__COUNT ? kinds[k + 1].first : TDP_KEY__COUNT;

		kinds[k].nkeys = end - kinds[k].first;
		kinds[k].mask = 0;
		kinds[k].range_mask = 0;
		for (int v = 0; v < 2; v++)
			kinds[k].req_mask[v] = kinds[k].wrong_vendor_mask[v] = 0;
		for (unsigned int i = kinds[k].first; i < end; i++) {
			const struct tdp_key *key = &tdp_keys[i];
			uint64_t bit = 1ull << i;
			uint64_t wmax = key->width >= 8 ? UINT64_MAX :
					(1ull << (8 * key->width)) - 1;

			kinds[k].mask |= bit;
			for (int v = 0; v < 2; v++) {
				bool wrong = (key->flags & (v ? TDP_KF_INTEL : TDP_KF_AMD));

				if (wrong)
					kinds[k].wrong_vendor_mask[v] |= bit;
				else if (key->flags & TDP_KF_REQ)
					kinds[k].req_mask[v] |= bit;
			}
			if (key->min != 0 || key->max < wmax || key->type == TDP_KT_SIZE ||
			    key->type == TDP_KT_VCPU || key->type == TDP_KT_LABEL)
				kinds[k].range_mask |= bit;
		}
	}
}

/*
 * check_fast() - tdp_event_check() for the common case, with masks: true
 * if @ev is certainly valid.  false means "run the full check", which
 * finds and words the problem.  Used on every decoded event.
 */
static bool check_fast(const struct tdp_event *ev, const struct tdp_config *cfg)
{
	const struct tdp_kind *kd = &tdp_kinds[ev->kind];
	int v = cfg->vendor == TDP_VENDOR_AMD;

	if ((ev->present & ~(kd->mask | TDP_PRESENT_T)) ||
	    (ev->present & kd->wrong_vendor_mask[v]) ||
	    (ev->present & kd->req_mask[v]) != kd->req_mask[v])
		return false;
	for (uint64_t m = ev->present & kd->range_mask; m; m &= m - 1) {
		const struct tdp_key *k = &tdp_keys[__builtin_ctzll(m)];
		uint64_t x;

		if (k->type == TDP_KT_LABEL)
			return false;
		x = tdp__key_get(ev, k);
		if (x < k->min || x > k->max ||
		    (k->type == TDP_KT_SIZE && (x & (x - 1))) ||
		    (k->type == TDP_KT_VCPU && x >= cfg->vcpus))
			return false;
	}
	if (ev->kind == TDP_EV_WRITE && ev->u.write.size < 8 &&
	    ev->u.write.val >> (8 * ev->u.write.size))
		return false;
	if (ev->kind == TDP_EV_WRITE && TDP_HAS(ev, WRITE, gva) && tdp__write_gva_bad(ev))
		return false;
	if ((ev->kind == TDP_EV_VMENTER || ev->kind == TDP_EV_VMEXIT ||
	     ev->kind == TDP_EV_INVEPT) && cfg->paging != TDP_PAGING_NESTED)
		return false;
	if (ev->kind == TDP_EV_FAULT && (ev->u.fault.ec & ~TDP_FAULT_EC_VALID))
		return false;
	return true;
}

const char *tdp_event_name(unsigned int kind)
{
	return kind < TDP_EV__COUNT ? tdp_kinds[kind].name : NULL;
}

uint64_t tdp__key_get(const struct tdp_event *ev, const struct tdp_key *k)
{
	const uint8_t *p = (const uint8_t *)ev + k->offset;

	switch (k->width) {
	case 1: return *p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	case 8: return *(const uint64_t *)p;
	}
	return 0;
}

void tdp__key_set(struct tdp_event *ev, const struct tdp_key *k, uint64_t v)
{
	uint8_t *p = (uint8_t *)ev + k->offset;

	switch (k->width) {
	case 1: *p = v; break;
	case 2: *(uint16_t *)p = v; break;
	case 4: *(uint32_t *)p = v; break;
	case 8: *(uint64_t *)p = v; break;
	}
}

void tdp__event_reset(struct tdp_event *ev, unsigned int kind)
{
	const struct tdp_kind *kd = &tdp_kinds[kind];

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++)
		if (tdp_keys[i].dflt)
			tdp__key_set(ev, &tdp_keys[i], tdp_keys[i].dflt);
}

/* ------------------------------------------------------------------ */
/* config */

static const char *const vendor_names[] = { "intel", "amd" };
static const char *const paging_names[] = { "shadow", "tdp", "nested" };

static const char *const config_key_names[] = {
#define X(k) #k,
	TDP_CONFIG_KEYS(X)
#undef X
};

void tdp_config_init(struct tdp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vcpus = 1;
	cfg->maxphyaddr = 46;
	cfg->mem = 0x100000000ull;
	cfg->ept_ad = true;
	cfg->ept_execonly = cfg->ept_5level = cfg->ept_1g = true;
}

static int lookup_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "0") || !strcmp(s, "1")) {
		*out = s[0] == '1';
		return 0;
	}
	return TDP_E_RANGE;
}

/* Split "key=value" in place; NULL if there is no '=' or no key. */
static char *split_kv(char *tok)
{
	char *eq = strchr(tok, '=');

	if (!eq || eq == tok)
		return NULL;
	*eq = 0;
	return eq + 1;
}

#define WHY(err, ...) (snprintf(why, whylen, __VA_ARGS__), (err))

static int config_set(struct tdp_config *cfg, int key, const char *val,
		      char *why, size_t whylen)
{
	const char *name = config_key_names[key];
	uint64_t v = 0;
	bool b = false;
	int i;

	switch (key) {
	case TDP_CFG_vendor:
		i = lookup_name(vendor_names, ARRAY_SIZE(vendor_names), val);
		if (i < 0)
			return WHY(TDP_E_RANGE, "vendor '%s' is not intel or amd", val);
		cfg->vendor = i;
		return 0;
	case TDP_CFG_paging:
		i = lookup_name(paging_names, ARRAY_SIZE(paging_names), val);
		if (i < 0)
			return WHY(TDP_E_RANGE, "paging '%s' is not shadow, tdp or nested", val);
		cfg->paging = i;
		return 0;
	case TDP_CFG_mbec: case TDP_CFG_gmet: case TDP_CFG_ept_ad:
	case TDP_CFG_la57: case TDP_CFG_nx_huge_pages:
	case TDP_CFG_ept_execonly: case TDP_CFG_ept_5level: case TDP_CFG_ept_1g:
		if (parse_bool(val, &b))
			return WHY(TDP_E_RANGE, "%s='%s' is not 0 or 1", name, val);
		break;
	default:
		if (tdp_parse_u64(val, &v))
			return WHY(TDP_E_RANGE, "invalid number '%s' for '%s'", val, name);
	}
	switch (key) {
	case TDP_CFG_mbec: cfg->mbec = b; break;
	case TDP_CFG_gmet: cfg->gmet = b; break;
	case TDP_CFG_ept_ad: cfg->ept_ad = b; break;
	case TDP_CFG_la57: cfg->la57 = b; break;
	case TDP_CFG_nx_huge_pages: cfg->nx_huge_pages = b; break;
	case TDP_CFG_ept_execonly: cfg->ept_execonly = b; break;
	case TDP_CFG_ept_5level: cfg->ept_5level = b; break;
	case TDP_CFG_ept_1g: cfg->ept_1g = b; break;
	case TDP_CFG_vcpus:
		if (v < 1 || v > 65536)
			return WHY(TDP_E_RANGE, "vcpus=%s out of range (1..65536)", val);
		cfg->vcpus = v;
		break;
	case TDP_CFG_maxphyaddr:
		if (v < 32 || v > 52)
			return WHY(TDP_E_RANGE, "maxphyaddr=%s out of range (32..52)", val);
		cfg->maxphyaddr = v;
		break;
	case TDP_CFG_mem:
		if (!v || (v & 0xfff))
			return WHY(TDP_E_RANGE, "mem=%s is not a non-zero multiple of 4096", val);
		cfg->mem = v;
		break;
	case TDP_CFG_max_mmu_pages:
		if (!v || v > UINT32_MAX)
			return WHY(TDP_E_RANGE, "max_mmu_pages=%s out of range (1..%u)",
				   val, UINT32_MAX);
		cfg->max_mmu_pages = v;
		break;
	}
	return 0;
}

int tdp_config_parse(struct tdp_config *cfg, const char *text, char *why, size_t whylen)
{
	char buf[512], *save = NULL, *tok;

	tdp_config_init(cfg);
	if (strlen(text) >= sizeof(buf))
		return WHY(TDP_E_FORMAT, "config line too long");
	strcpy(buf, text);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *val = split_kv(tok);
		int key, ret;

		if (!val)
			return WHY(TDP_E_FORMAT, "expected key=value, got '%s'", tok);
		key = lookup_name(config_key_names, TDP_CFG__COUNT, tok);
		if (key < 0)
			return WHY(TDP_E_KEY, "unknown key '%s' for 'config'", tok);
		if (cfg->present & (1u << key))
			return WHY(TDP_E_KEY, "duplicate key '%s'", tok);
		ret = config_set(cfg, key, val, why, whylen);
		if (ret)
			return ret;
		cfg->present |= 1u << key;
	}
	if (!(cfg->present & (1u << TDP_CFG_vendor)))
		return WHY(TDP_E_KEY, "missing key 'vendor' for 'config'");
	if (!(cfg->present & (1u << TDP_CFG_paging)))
		return WHY(TDP_E_KEY, "missing key 'paging' for 'config'");
	if (cfg->maxphyaddr < 64 && cfg->mem > (1ull << cfg->maxphyaddr))
		return WHY(TDP_E_RANGE, "mem=0x%llx exceeds maxphyaddr=%u",
			   (unsigned long long)cfg->mem, cfg->maxphyaddr);
	if (cfg->mbec && cfg->vendor != TDP_VENDOR_INTEL)
		return WHY(TDP_E_RANGE, "mbec=1 needs vendor=intel");
	if (cfg->gmet && cfg->vendor != TDP_VENDOR_AMD)
		return WHY(TDP_E_RANGE, "gmet=1 needs vendor=amd");
	return 0;
}

int tdp_config_format(const struct tdp_config *cfg, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int key = 0; key < TDP_CFG__COUNT; key++) {
		const char *name = config_key_names[key];
		unsigned long long v = 0;
		int r;

		if (!(cfg->present & (1u << key)))
			continue;
		switch (key) {
		case TDP_CFG_vendor:
			r = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", name,
				     vendor_names[cfg->vendor]);
			goto next;
		case TDP_CFG_paging:
			r = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", name,
				     paging_names[cfg->paging]);
			goto next;
		case TDP_CFG_vcpus: v = cfg->vcpus; break;
		case TDP_CFG_maxphyaddr: v = cfg->maxphyaddr; break;
		case TDP_CFG_mbec: v = cfg->mbec; break;
		case TDP_CFG_gmet: v = cfg->gmet; break;
		case TDP_CFG_ept_ad: v = cfg->ept_ad; break;
		case TDP_CFG_la57: v = cfg->la57; break;
		case TDP_CFG_nx_huge_pages: v = cfg->nx_huge_pages; break;
		case TDP_CFG_ept_execonly: v = cfg->ept_execonly; break;
		case TDP_CFG_ept_5level: v = cfg->ept_5level; break;
		case TDP_CFG_ept_1g: v = cfg->ept_1g; break;
		case TDP_CFG_max_mmu_pages: v = cfg->max_mmu_pages; break;
		case TDP_CFG_mem:
			r = snprintf(buf + n, len - n, "%s%s=0x%llx", n ? " " : "", name,
				     (unsigned long long)cfg->mem);
			goto next;
		}
		r = snprintf(buf + n, len - n, "%s%s=%llu", n ? " " : "", name, v);
next:
		if (r < 0 || (size_t)r >= len - n)
			return TDP_E_INTERNAL;
		n += r;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* events */

static const char op_names[] = "rwx";
static const char *const flush_names[2] = { "cr3", "global" };

static int find_kind(const char *name)
{
	for (unsigned int k = 0; k < TDP_EV__COUNT; k++)
		if (!strcmp(tdp_kinds[k].name, name))
			return k;
	return -1;
}

static int find_key(const struct tdp_kind *kd, const char *name)
{
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++)
		if (!strcmp(tdp_keys[i].name, name))
			return i;
	return -1;
}

static bool key_wrong_vendor(const struct tdp_key *k, const struct tdp_config *cfg)
{
	return ((k->flags & TDP_KF_INTEL) && cfg->vendor != TDP_VENDOR_INTEL) ||
	       ((k->flags & TDP_KF_AMD) && cfg->vendor != TDP_VENDOR_AMD);
}

int tdp_event_check(const struct tdp_event *ev, const struct tdp_config *cfg,
		    char *why, size_t whylen)
{
	const struct tdp_kind *kd;

	if (ev->kind >= TDP_EV__COUNT)
		return WHY(TDP_E_EVENT, "unknown event type %u", ev->kind);
	if (check_fast(ev, cfg))
		return 0;
	kd = &tdp_kinds[ev->kind];
	if (ev->present & ~(kd->mask | TDP_PRESENT_T))
		return WHY(TDP_E_KEY, "key not valid for '%s'", kd->name);
	/* the other vendor's key first: it explains a missing required one */
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++)
		if ((ev->present & (1ull << i)) && key_wrong_vendor(&tdp_keys[i], cfg))
			return WHY(TDP_E_KEY, "key '%s' of '%s' needs vendor=%s",
				   tdp_keys[i].name, kd->name, vendor_names[!cfg->vendor]);
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++) {
		const struct tdp_key *k = &tdp_keys[i];
		bool given = ev->present & (1ull << i);
		uint64_t v;

		if (!given && (k->flags & TDP_KF_REQ) && !key_wrong_vendor(k, cfg))
			return WHY(TDP_E_KEY, "missing key '%s' for '%s'", k->name, kd->name);
		if (k->type == TDP_KT_LABEL) {
			const char *s = (const char *)ev + k->offset;
			size_t n = strnlen(s, k->width);

			if (n < k->min || n > k->max)
				return WHY(TDP_E_RANGE, "%s: length %zu out of range (%llu..%llu)",
					   k->name, n, (unsigned long long)k->min,
					   (unsigned long long)k->max);
			for (size_t j = 0; j < n; j++)
				if ((unsigned char)s[j] <= ' ' || s[j] == '#' || s[j] == 0x7f)
					return WHY(TDP_E_RANGE, "%s: not a word", k->name);
			continue;
		}
		v = tdp__key_get(ev, k);
		if (v < k->min || v > k->max)
			return WHY(TDP_E_RANGE, "%s=%llu out of range (%llu..%llu)", k->name,
				   (unsigned long long)v, (unsigned long long)k->min,
				   (unsigned long long)k->max);
		if (k->type == TDP_KT_SIZE && (v & (v - 1)))
			return WHY(TDP_E_RANGE, "size=%llu is not 1, 2, 4 or 8",
				   (unsigned long long)v);
		if (k->type == TDP_KT_VCPU && v >= cfg->vcpus)
			return WHY(TDP_E_RANGE, "vcpu=%llu out of range (config vcpus=%u)",
				   (unsigned long long)v, cfg->vcpus);
	}
	if (ev->kind == TDP_EV_WRITE && ev->u.write.size < 8 &&
	    ev->u.write.val >> (8 * ev->u.write.size))
		return WHY(TDP_E_RANGE, "val=0x%llx does not fit size=%u",
			   (unsigned long long)ev->u.write.val, ev->u.write.size);
	if (ev->kind == TDP_EV_WRITE && TDP_HAS(ev, WRITE, gva) && tdp__write_gva_bad(ev))
		return WHY(TDP_E_RANGE, "gva=0x%llx cannot hold a %u-byte store to gpa=0x%llx "
			   "(page offsets differ or the store crosses a page)",
			   (unsigned long long)ev->u.write.gva, ev->u.write.size,
			   (unsigned long long)ev->u.write.gpa);
	if ((ev->kind == TDP_EV_VMENTER || ev->kind == TDP_EV_VMEXIT ||
	     ev->kind == TDP_EV_INVEPT) && cfg->paging != TDP_PAGING_NESTED)
		return WHY(TDP_E_CONFIG, "'%s' needs paging=nested", kd->name);
	if (ev->kind == TDP_EV_FAULT && (ev->u.fault.ec & ~TDP_FAULT_EC_VALID))
		return WHY(TDP_E_RANGE, "ec=0x%llx has bits outside 0x%llx (P W U RSVD "
			   "I/D, GUEST_FINAL, GUEST_PAGE)", (unsigned long long)ev->u.fault.ec,
			   (unsigned long long)TDP_FAULT_EC_VALID);
	return 0;
}

int tdp_event_parse(struct tdp_event *ev, char *line, const struct tdp_config *cfg,
		    char *why, size_t whylen)
{
	char *save = NULL, *tok, *name;
	const struct tdp_kind *kd;
	int kind;

	name = strtok_r(line, " \t\r\n", &save);
	if (!name)
		return WHY(TDP_E_FORMAT, "empty event");
	kind = find_kind(name);
	if (kind < 0)
		return WHY(TDP_E_EVENT, "unknown event '%s'", name);
	kd = &tdp_kinds[kind];
	tdp__event_reset(ev, kind);
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *val = split_kv(tok);
		const struct tdp_key *k;
		uint64_t v;
		int i;

		if (!val)
			return WHY(TDP_E_FORMAT, "expected key=value, got '%s'", tok);
		if (!strcmp(tok, "t")) {
			if (ev->present & TDP_PRESENT_T)
				return WHY(TDP_E_KEY, "duplicate key 't'");
			if (tdp_parse_u64(val, &ev->t))
				return WHY(TDP_E_RANGE, "invalid number '%s' for 't'", val);
			ev->present |= TDP_PRESENT_T;
			continue;
		}
		i = find_key(kd, tok);
		if (i < 0)
			return WHY(TDP_E_KEY, "unknown key '%s' for '%s'", tok, name);
		if (ev->present & (1ull << i))
			return WHY(TDP_E_KEY, "duplicate key '%s'", tok);
		k = &tdp_keys[i];
		ev->present |= 1ull << i;
		switch (k->type) {
		case TDP_KT_OP: {
			const char *o = strchr(op_names, val[0]);

			if (!val[0] || val[1] || !o)
				return WHY(TDP_E_RANGE, "op='%s' is not r, w or x", val);
			v = o - op_names;
			break;
		}
		case TDP_KT_FLUSH:
			if (!strcmp(val, flush_names[TDP_FLUSH_CR3]))
				v = TDP_FLUSH_CR3;
			else if (!strcmp(val, flush_names[TDP_FLUSH_GLOBAL]))
				v = TDP_FLUSH_GLOBAL;
			else
				return WHY(TDP_E_RANGE, "kind='%s' is not cr3 or global", val);
			break;
		case TDP_KT_LABEL:
			if (strlen(val) > TDP_LABEL_MAX || !val[0])
				return WHY(TDP_E_RANGE, "label '%s' is not 1..%d bytes", val,
					   TDP_LABEL_MAX);
			memcpy((char *)ev + k->offset, val, strlen(val) + 1);
			continue;
		default:
			if (tdp_parse_u64(val, &v))
				return WHY(TDP_E_RANGE, "invalid number '%s' for '%s'", val, tok);
			/* range before storing: the member may be narrower */
			if (v < k->min || v > k->max)
				return WHY(TDP_E_RANGE, "%s=%s out of range (%llu..%llu)", tok, val,
					   (unsigned long long)k->min,
					   (unsigned long long)k->max);
		}
		tdp__key_set(ev, k, v);
	}
	return tdp_event_check(ev, cfg, why, whylen);
}

int tdp_event_format(const struct tdp_event *ev, char *buf, size_t len)
{
	const struct tdp_kind *kd = &tdp_kinds[ev->kind];
	int n = snprintf(buf, len, "%s", kd->name);

	if (ev->present & TDP_PRESENT_T)
		n += snprintf(buf + n, len > (size_t)n ? len - n : 0, " t=%llu",
			      (unsigned long long)ev->t);
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++) {
		const struct tdp_key *k = &tdp_keys[i];
		size_t room = len > (size_t)n ? len - n : 0;
		uint64_t v;

		if (!(ev->present & (1ull << i)))
			continue;
		if (k->type == TDP_KT_LABEL) {
			n += snprintf(buf + n, room, " %s=%.*s", k->name, (int)k->width,
				      (const char *)ev + k->offset);
			continue;
		}
		v = tdp__key_get(ev, k);
		if (k->type == TDP_KT_OP)
			n += snprintf(buf + n, room, " %s=%c", k->name, op_names[v % 3]);
		else if (k->type == TDP_KT_FLUSH)
			n += snprintf(buf + n, room, " %s=%s", k->name, flush_names[v & 1]);
		else if (k->type == TDP_KT_HEX)
			n += snprintf(buf + n, room, " %s=0x%llx", k->name, (unsigned long long)v);
		else
			n += snprintf(buf + n, room, " %s=%llu", k->name, (unsigned long long)v);
	}
	return n;
}

bool tdp_event_equal(const struct tdp_event *a, const struct tdp_event *b)
{
	const struct tdp_kind *kd;

	if (a->kind != b->kind || a->vcpu != b->vcpu || a->present != b->present)
		return false;
	if ((a->present & TDP_PRESENT_T) && a->t != b->t)
		return false;
	if (a->kind >= TDP_EV__COUNT)
		return true;
	kd = &tdp_kinds[a->kind];
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++) {
		const struct tdp_key *k = &tdp_keys[i];

		if (k->type == TDP_KT_LABEL) {
			if (strncmp((const char *)a + k->offset, (const char *)b + k->offset,
				    k->width))
				return false;
		} else if (tdp__key_get(a, k) != tdp__key_get(b, k)) {
			return false;
		}
	}
	return true;
}
