// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace module, API level: the key tables, the text parser's rules, the
 * block codec over every presence combination, reader/writer round trips
 * in all three forms, and libpcap reading what the writer produces.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/replay.h>
#include <tdpsim/trace.h>

#include "helpers/run.h"
#include "trace/trace-int.h"

static struct tdp_config intel_nested(void)
{
	struct tdp_config cfg;
	char why[256];

	cr_assert_eq(tdp_config_parse(&cfg, "vendor=intel paging=nested vcpus=4", why,
				      sizeof(why)), 0, "%s", why);
	return cfg;
}

/* xorshift64*: deterministic values for the codec tests */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------------ */

Test(trace_keys, names_match_the_contract)
{
	/* trace-text.md's table, in its order */
	static const char *const want[] = { "write", "set", "access", "invlpg", "flush",
		"vmenter", "vmexit", "invept", "fault", "peek", "mark" };

	cr_assert_eq(TDP_EV__COUNT, ARRAY_SIZE(want));
	for (unsigned int k = 0; k < ARRAY_SIZE(want); k++)
		cr_expect_str_eq(tdp_event_name(k), want[k]);
	cr_expect_null(tdp_event_name(TDP_EV__COUNT));
}

Test(trace_keys, slices_partition_the_table)
{
	unsigned int next = 0;
	uint64_t all = 0;

	for (unsigned int k = 0; k < TDP_EV__COUNT; k++) {
		cr_expect_eq(tdp_kinds[k].first, next, "kind %u", k);
		next += tdp_kinds[k].nkeys;
		cr_expect_eq(all & tdp_kinds[k].mask, 0);
		all |= tdp_kinds[k].mask;
		for (unsigned int i = tdp_kinds[k].first; i < next; i++)
			cr_expect_eq(tdp_keys[i].kind, k);
	}
	cr_expect_eq(next, TDP_KEY__COUNT);
	cr_expect_eq(all & TDP_PRESENT_T, 0);
	/* spot checks against the contract */
	cr_expect_eq(tdp_kinds[TDP_EV_SET].nkeys, 7);	/* vcpu cr0 cr3 cr4 efer pkru cpl */
	cr_expect_eq(tdp_kinds[TDP_EV_ACCESS].nkeys, 6);/* vcpu gva op cpl ac implicit */
	cr_expect_eq(tdp_kinds[TDP_EV_FLUSH].nkeys, 2);	/* vcpu kind */
	cr_expect_str_eq(tdp_keys[TDP_KEY_FAULT_ec].name, "ec");
}

Test(trace_config, defaults_follow_the_contract)
{
	struct tdp_config cfg;
	char why[256], buf[512];

	cr_assert_eq(tdp_config_parse(&cfg, "paging=tdp vendor=amd", why, sizeof(why)), 0);
	cr_expect_eq(cfg.vendor, TDP_VENDOR_AMD);
	cr_expect_eq(cfg.paging, TDP_PAGING_TDP);
	cr_expect_eq(cfg.vcpus, 1);
	cr_expect_eq(cfg.maxphyaddr, 46);
	cr_expect_eq(cfg.mem, 0x100000000ull);
	cr_expect(cfg.ept_ad);
	cr_expect(!cfg.mbec && !cfg.gmet && !cfg.la57 && !cfg.nx_huge_pages);
	cr_expect_eq(cfg.max_mmu_pages, 0);
	/* only the given keys print, in canonical order */
	tdp_config_format(&cfg, buf, sizeof(buf));
	cr_expect_str_eq(buf, "vendor=amd paging=tdp");
}

Test(trace_config, bad_lines)
{
	static const struct { const char *text; int err; const char *why; } cases[] = {
		{ "paging=tdp", TDP_E_KEY, "missing key 'vendor'" },
		{ "vendor=intel", TDP_E_KEY, "missing key 'paging'" },
		{ "vendor=arm paging=tdp", TDP_E_RANGE, "vendor 'arm'" },
		{ "vendor=intel paging=ept", TDP_E_RANGE, "paging 'ept'" },
		{ "vendor=intel paging=tdp maxphyaddr=31", TDP_E_RANGE, "maxphyaddr=31" },
		{ "vendor=intel paging=tdp maxphyaddr=53", TDP_E_RANGE, "maxphyaddr=53" },
		{ "vendor=intel paging=tdp vcpus=0", TDP_E_RANGE, "vcpus=0" },
		{ "vendor=intel paging=tdp mem=0x1001", TDP_E_RANGE, "mem=0x1001" },
		{ "vendor=intel paging=tdp maxphyaddr=32 mem=0x200000000", TDP_E_RANGE, "exceeds" },
		{ "vendor=intel paging=tdp mbec=2", TDP_E_RANGE, "mbec='2'" },
		{ "vendor=amd paging=tdp mbec=1", TDP_E_RANGE, "mbec=1 needs vendor=intel" },
		{ "vendor=intel paging=tdp gmet=1", TDP_E_RANGE, "gmet=1 needs vendor=amd" },
		{ "vendor=intel paging=tdp color=red", TDP_E_KEY, "unknown key 'color'" },
		{ "vendor=intel vendor=amd paging=tdp", TDP_E_KEY, "duplicate key 'vendor'" },
		{ "vendor=intel paging=tdp junk", TDP_E_FORMAT, "expected key=value" },
		{ "vendor=intel paging=tdp vcpus=-1", TDP_E_RANGE, "invalid number" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tdp_config cfg;
		char why[256] = "";
		int ret = tdp_config_parse(&cfg, cases[i].text, why, sizeof(why));

		cr_expect_eq(ret, cases[i].err, "'%s': got %s (%s)", cases[i].text,
			     tdp_err_name(ret), why);
		cr_expect(strstr(why, cases[i].why), "'%s': why '%s'", cases[i].text, why);
	}
}

Test(trace_text, parse_keeps_presence_and_defaults)
{
	struct tdp_config cfg = intel_nested();
	struct tdp_event ev;
	char why[256], line[] = "access gva=0x1000 op=x ac=1";
	char w[] = "write gpa=16 val=0xff size=1 t=42";

	cr_assert_eq(tdp_event_parse(&ev, line, &cfg, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(ev.kind, TDP_EV_ACCESS);
	cr_expect_eq(ev.u.access.gva, 0x1000);
	cr_expect_eq(ev.u.access.op, TDP_OP_FETCH);
	cr_expect(TDP_HAS(&ev, ACCESS, ac) && ev.u.access.ac == 1);
	cr_expect(!TDP_HAS(&ev, ACCESS, cpl));	/* the engine uses the last set cpl */
	cr_expect(!TDP_HAS(&ev, ACCESS, vcpu) && ev.vcpu == 0);
	cr_expect(!(ev.present & TDP_PRESENT_T));

	cr_assert_eq(tdp_event_parse(&ev, w, &cfg, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(ev.u.write.gpa, 16);
	cr_expect_eq(ev.u.write.size, 1);
	cr_expect((ev.present & TDP_PRESENT_T) && ev.t == 42);

	char p[] = "peek gpa=0x8";
	cr_assert_eq(tdp_event_parse(&ev, p, &cfg, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(ev.u.peek.size, 8, "size defaults to 8");
	cr_expect(!TDP_HAS(&ev, PEEK, size));
}

Test(trace_text, bad_event_lines)
{
	static const struct { const char *line; int err; const char *why; } cases[] = {
		{ "frob", TDP_E_EVENT, "unknown event 'frob'" },
		{ "access gva=1 op=r foo=1", TDP_E_KEY, "unknown key 'foo'" },
		{ "access op=r", TDP_E_KEY, "missing key 'gva'" },
		{ "access gva=1", TDP_E_KEY, "missing key 'op'" },
		{ "access gva=1 gva=2 op=r", TDP_E_KEY, "duplicate key 'gva'" },
		{ "access gva=1 op=q", TDP_E_RANGE, "op='q'" },
		{ "access gva=1 op=rw", TDP_E_RANGE, "op='rw'" },
		{ "access gva=1 op=r cpl=4", TDP_E_RANGE, "cpl=4" },
		{ "access gva=1 op=r ac=2", TDP_E_RANGE, "ac=2" },
		{ "access gva=1 op=r vcpu=4", TDP_E_RANGE, "vcpu=4" },
		{ "access gva=1 op=r garbage", TDP_E_FORMAT, "expected key=value" },
		{ "access gva=0x op=r", TDP_E_RANGE, "invalid number" },
		{ "access gva=0x1g op=r", TDP_E_RANGE, "invalid number" },
		{ "access gva=18446744073709551616 op=r", TDP_E_RANGE, "invalid number" },
		{ "write gpa=1 val=1 size=3", TDP_E_RANGE, "size=3" },
		{ "write gpa=1 val=1 size=16", TDP_E_RANGE, "size=16" },
		{ "write gpa=1 val=0x100 size=1", TDP_E_RANGE, "does not fit" },
		{ "write gpa=1", TDP_E_KEY, "missing key 'val'" },
		{ "peek vcpu=1 gpa=1", TDP_E_KEY, "unknown key 'vcpu'" },
		/* write gva=: one 4 KiB translation, same page offset as gpa */
		{ "write gpa=0x1008 val=1 gva=0x5010", TDP_E_RANGE, "page offsets differ" },
		{ "write gpa=0x1ffc val=1 gva=0x5ffc", TDP_E_RANGE, "crosses a page" },
		{ "write gpa=0x1000 val=1 cpl=4", TDP_E_RANGE, "cpl=4" },
		{ "set cpl=4", TDP_E_RANGE, "cpl=4" },
		{ "set pkru=0x100000000", TDP_E_RANGE, "pkru=" },
		{ "vmenter ncr3=0x1000", TDP_E_KEY, "needs vendor=amd" },
		{ "vmenter", TDP_E_KEY, "missing key 'eptp'" },
		{ "vmenter eptp=1 mbec=2", TDP_E_RANGE, "mbec=2" },
		{ "fault addr=1", TDP_E_KEY, "missing key 'ec'" },
		{ "mark", TDP_E_KEY, "missing key 'label'" },
		{ "mark label=0123456789012345678901234567890123456789", TDP_E_RANGE, "label" },
		{ "mark label=x t=1 t=2", TDP_E_KEY, "duplicate key 't'" },
		{ "flush t=x", TDP_E_RANGE, "invalid number 'x' for 't'" },
		{ "flush =1", TDP_E_FORMAT, "expected key=value" },
		{ "flush kind=1", TDP_E_RANGE, "kind='1' is not cr3 or global" },
		{ "flush kind=cr3 kind=global", TDP_E_KEY, "duplicate key 'kind'" },
	};
	struct tdp_config cfg = intel_nested();

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tdp_event ev;
		char why[256] = "", line[256];
		int ret;

		snprintf(line, sizeof(line), "%s", cases[i].line);
		ret = tdp_event_parse(&ev, line, &cfg, why, sizeof(why));
		cr_expect_eq(ret, cases[i].err, "'%s': got %s (%s)", cases[i].line,
			     tdp_err_name(ret), why);
		cr_expect(strstr(why, cases[i].why), "'%s': why '%s'", cases[i].line, why);
	}
}

Test(trace_text, nested_only_events)
{
	struct tdp_config cfg;
	struct tdp_event ev;
	char why[256], a[] = "vmenter eptp=0x1000", b[] = "vmexit", c[] = "invept";

	cr_assert_eq(tdp_config_parse(&cfg, "vendor=intel paging=tdp", why, sizeof(why)), 0);
	cr_expect_eq(tdp_event_parse(&ev, a, &cfg, why, sizeof(why)), TDP_E_CONFIG);
	cr_expect_eq(tdp_event_parse(&ev, b, &cfg, why, sizeof(why)), TDP_E_CONFIG);
	cr_expect_eq(tdp_event_parse(&ev, c, &cfg, why, sizeof(why)), TDP_E_CONFIG);
}

/* Every kind x every subset of its optional keys: format -> parse is identity. */
static void fill_random(struct tdp_event *ev, unsigned int kind, uint64_t optmask,
			const struct tdp_config *cfg)
{
	const struct tdp_kind *kd = &tdp_kinds[kind];
	unsigned int opt = 0;

	tdp__event_reset(ev, kind);
	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++) {
		const struct tdp_key *k = &tdp_keys[i];
		bool wrong = ((k->flags & TDP_KF_INTEL) && cfg->vendor != TDP_VENDOR_INTEL) ||
			     ((k->flags & TDP_KF_AMD) && cfg->vendor != TDP_VENDOR_AMD);
		bool given;
		uint64_t v;

		if (wrong)
			continue;
		if (k->flags & TDP_KF_REQ)
			given = true;
		else
			given = optmask >> opt++ & 1;
		if (!given)
			continue;
		ev->present |= 1ull << i;
		switch (k->type) {
		case TDP_KT_LABEL:
			snprintf(ev->u.mark.label, sizeof(ev->u.mark.label), "L%llx",
				 (unsigned long long)rnd());
			continue;
		case TDP_KT_SIZE: v = 1u << (rnd() % 4); break;
		case TDP_KT_VCPU: v = rnd() % cfg->vcpus; break;
		default:
			v = k->max == UINT64_MAX ? rnd() >> (rnd() % 64) :
			    k->min + rnd() % (k->max - k->min + 1);
		}
		tdp__key_set(ev, k, v);
	}
	if (kind == TDP_EV_WRITE && ev->u.write.size < 8)
		ev->u.write.val &= (1ull << (8 * ev->u.write.size)) - 1;
	/* gva= needs gpa's page offset and a store within the page */
	if (kind == TDP_EV_WRITE && TDP_HAS(ev, WRITE, gva)) {
		uint64_t off = ev->u.write.gpa & 0xff8;

		ev->u.write.gpa = (ev->u.write.gpa & ~0xfffull) | off;
		ev->u.write.gva = (ev->u.write.gva & ~0xfffull) | off;
	}
	/* the error-code bits a fault may carry (the reader refuses others) */
	if (kind == TDP_EV_FAULT)
		ev->u.fault.ec &= TDP_FAULT_EC_VALID;
	if (rnd() & 1) {
		ev->present |= TDP_PRESENT_T;
		ev->t = rnd() >> (rnd() % 64);
	}
}

static unsigned int n_optional(unsigned int kind, const struct tdp_config *cfg)
{
	const struct tdp_kind *kd = &tdp_kinds[kind];
	unsigned int n = 0;

	for (unsigned int i = kd->first; i < kd->first + kd->nkeys; i++) {
		const struct tdp_key *k = &tdp_keys[i];

		if ((k->flags & TDP_KF_INTEL) && cfg->vendor != TDP_VENDOR_INTEL)
			continue;
		if ((k->flags & TDP_KF_AMD) && cfg->vendor != TDP_VENDOR_AMD)
			continue;
		n += !(k->flags & TDP_KF_REQ);
	}
	return n;
}

Test(trace_codec, every_presence_combination_round_trips)
{
	static uint8_t buf[TDP_EVENT_MAX_BYTES * 4 + TDP_DECODE_SLACK];
	struct tdp_config cfgs[2];
	char why[256];

	cr_assert_eq(tdp_config_parse(&cfgs[0], "vendor=intel paging=nested vcpus=3",
				      why, sizeof(why)), 0);
	cr_assert_eq(tdp_config_parse(&cfgs[1], "vendor=amd paging=nested vcpus=70000",
				      why, sizeof(why)), TDP_E_RANGE);
	cr_assert_eq(tdp_config_parse(&cfgs[1], "vendor=amd paging=nested vcpus=65536",
				      why, sizeof(why)), 0);
	for (int c = 0; c < 2; c++) {
		for (unsigned int kind = 0; kind < TDP_EV__COUNT; kind++) {
			unsigned int nopt = n_optional(kind, &cfgs[c]);

			for (uint64_t m = 0; m < (1ull << nopt); m++) {
				for (int rep = 0; rep < 8; rep++) {
					struct tdp_codec_state es = { 0 }, ds = { 0 };
					struct tdp_event ev, back, parsed;
					const char *w = NULL;
					char line[512];
					const uint8_t *end;
					uint8_t *p;

					fill_random(&ev, kind, m, &cfgs[c]);
					cr_assert_eq(tdp_event_check(&ev, &cfgs[c], why, sizeof(why)),
						     0, "%s", why);
					memset(buf, 0, sizeof(buf));
					p = tdp__encode_event(buf, &ev, &es);
					cr_assert_leq(p - buf, TDP_EVENT_MAX_BYTES);
					end = tdp__decode_event(buf, &back, &ds, &w);
					cr_assert_not_null(end, "%s", w);
					cr_assert_eq(end, p);
					tdp_event_format(&ev, line, sizeof(line));
					cr_assert(tdp_event_equal(&ev, &back), "codec: %s", line);
					cr_assert_eq(memcmp(&ev, &back, sizeof(ev)), 0, "bytes: %s", line);
					cr_assert_eq(tdp_event_parse(&parsed, line, &cfgs[c], why,
								     sizeof(why)), 0, "%s: %s", line, why);
					cr_assert(tdp_event_equal(&ev, &parsed), "text: %s", line);
				}
			}
		}
	}
}

Test(trace_codec, deltas_across_extremes)
{
	static const uint64_t vals[] = { 0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 1ull << 63,
					 (1ull << 63) - 1, UINT64_MAX, UINT64_MAX - 1 };
	static uint8_t buf[ARRAY_SIZE(vals) * ARRAY_SIZE(vals) * 2 * 32 + TDP_DECODE_SLACK];
	struct tdp_codec_state es = { 0 }, ds = { 0 };
	uint8_t *p = buf;
	const uint8_t *q = buf;

	/* every ordered pair, so every delta sign and size is crossed */
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
		for (size_t j = 0; j < ARRAY_SIZE(vals); j++)
			for (int h = 0; h < 2; h++) {
				struct tdp_event ev;

				tdp__event_reset(&ev, TDP_EV_FAULT);
				ev.present = TDP_KEY_BIT(FAULT, addr) | TDP_KEY_BIT(FAULT, ec) |
					     TDP_PRESENT_T;
				ev.u.fault.addr = vals[h ? j : i];
				ev.u.fault.ec = vals[h ? i : j];
				ev.t = vals[j];
				p = tdp__encode_event(p, &ev, &es);
			}
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
		for (size_t j = 0; j < ARRAY_SIZE(vals); j++)
			for (int h = 0; h < 2; h++) {
				struct tdp_event ev;
				const char *w;

				q = tdp__decode_event(q, &ev, &ds, &w);
				cr_assert_not_null(q);
				cr_assert_eq(ev.u.fault.addr, vals[h ? j : i]);
				cr_assert_eq(ev.u.fault.ec, vals[h ? i : j]);
				cr_assert_eq(ev.t, vals[j]);
			}
	cr_expect_eq(q, p);
}

Test(trace_codec, rejects_bad_bytes)
{
	struct tdp_codec_state st = { 0 };
	struct tdp_event ev;
	const char *why;
	/*
	 * kind 15 does not exist; B0 bits on a kind without a B0 key; key mask
	 * beyond flush's two keys; flush kind=2; an 11-byte varint; access op=3 (in B0);
	 * size=3; label lengths 40 and 0; B0 bits without set's cpl; a slot
	 * escape code with more bits than the escape
	 */
	const uint8_t K = TDP_EVB_KEYS;
	const uint8_t bad[][16] = {
		{ 0x0f, 0x00 },
		{ 0x80 | TDP_EV_FLUSH },
		{ 0x40 | TDP_EV_FLUSH },
		{ K | TDP_EV_FLUSH, 0x04 },
		{ K | TDP_EV_FLUSH, 0x02, 0x02 },
		{ K | TDP_EV_INVLPG, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0x01 },
		{ 0xc0 | K | TDP_EV_ACCESS, 0x06, 0x10 },
		{ K | TDP_EV_WRITE, 0x07, 0x02, 0x02, 0x03 },
		{ K | TDP_EV_MARK, 0x01, 40 },
		{ K | TDP_EV_MARK, 0x01, 0 },
		{ 0x40 | K | TDP_EV_SET, 0x01, 0x00 },
		{ K | TDP_EV_INVLPG, 0x02, 0x0f },
	};
	/* and the well-formed neighbours of some of them decode */
	const uint8_t good[][16] = {
		{ TDP_EV_FLUSH },
		{ K | TDP_EV_FLUSH, 0x02, 0x01 },
		{ 0x80 | K | TDP_EV_ACCESS, 0x06, 0x02 },
		{ K | TDP_EV_WRITE, 0x07, 0x02, 0x02, 0x04 },
		{ K | TDP_EV_MARK, 0x01, 1, 'x' },
		{ 0xc0 | K | TDP_EV_SET, 0x40 },
		{ K | TDP_EV_INVLPG, 0x02, 0x07, 0x05 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct tdp_codec_state gs = { 0 };

		why = NULL;
		cr_expect_not_null(tdp__decode_event(good[i], &ev, &gs, &why), "good %zu: %s",
				   i, why);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		cr_expect_null(tdp__decode_event(bad[i], &ev, &st, &why), "case %zu", i);
		cr_expect_not_null(why);
	}
}

/* ------------------------------------------------------------------ */
/* reader / writer */

static const uint64_t fixture_counts[TDP_EV__COUNT] = {
	/* from the comment in tests/data/all-intel.txt, counted by hand */
	[TDP_EV_WRITE] = 3, [TDP_EV_SET] = 3, [TDP_EV_ACCESS] = 5, [TDP_EV_INVLPG] = 2,
	[TDP_EV_FLUSH] = 2, [TDP_EV_VMENTER] = 2, [TDP_EV_VMEXIT] = 1, [TDP_EV_INVEPT] = 2,
	[TDP_EV_FAULT] = 2, [TDP_EV_PEEK] = 2, [TDP_EV_MARK] = 2,
};

Test(trace_reader, iterate_and_count_kinds)
{
	char errbuf[TDP_ERRBUF_SIZE];
	uint64_t counts[TDP_EV__COUNT] = { 0 };
	const struct tdp_event *ev;
	tdp_trace_t *t;
	int ret;

	cr_assert_eq(tdp_trace_open(&t, "tests/data/all-intel.txt", errbuf), 0, "%s", errbuf);
	cr_expect_eq(tdp_trace_form(t), TDP_FORM_TEXT);
	cr_expect_eq(tdp_trace_config(t)->vcpus, 2);
	cr_expect(tdp_trace_config(t)->mbec);
	cr_expect_eq(tdp_trace_config(t)->max_mmu_pages, 4096);
	while ((ret = tdp_trace_next(t, &ev)) == 1) {
		counts[ev->kind]++;
		if (counts[TDP_EV_WRITE] == 1 && ev->kind == TDP_EV_WRITE) {
			cr_expect_eq(ev->u.write.gpa, 0x1000);
			cr_expect_eq(tdp_trace_position(t), 8, "line of the first write");
		}
	}
	cr_expect_eq(ret, 0, "%s", tdp_trace_errmsg(t));
	for (unsigned int k = 0; k < TDP_EV__COUNT; k++)
		cr_expect_eq(counts[k], fixture_counts[k], "%s", tdp_event_name(k));
	cr_expect_eq(tdp_trace_next(t, &ev), 0, "EOF is stable");
	tdp_trace_close(t);
}

/* Read every event of @path into a malloc'd array. */
static struct tdp_event *slurp(const char *path, size_t *n, struct tdp_config *cfg)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *evs;
	struct tdp_event *all = NULL;
	size_t len = 0, cap = 0;
	tdp_trace_t *t;
	int got;

	cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
	if (cfg)
		*cfg = *tdp_trace_config(t);
	while ((got = tdp_trace_next_batch(t, &evs)) > 0) {
		if (len + got > cap) {
			cap = (cap + got) * 2;
			all = realloc(all, cap * sizeof(*all));
		}
		memcpy(all + len, evs, got * sizeof(*all));
		len += got;
	}
	cr_assert_eq(got, 0, "%s", tdp_trace_errmsg(t));
	tdp_trace_close(t);
	*n = len;
	return all;
}

static void write_all(const char *path, enum tdp_trace_form form, const struct tdp_config *cfg,
		      const struct tdp_event *evs, size_t n)
{
	char errbuf[TDP_ERRBUF_SIZE];
	tdp_writer_t *w;

	cr_assert_eq(tdp_writer_open(&w, path, form, 0, "test_trace", errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_config(w, cfg), 0, "%s", tdp_writer_errmsg(w));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(tdp_writer_event(w, &evs[i]), 0, "%s", tdp_writer_errmsg(w));
	cr_assert_eq(tdp_writer_close(w), 0, "%s", tdp_writer_errmsg(w));
	tdp_writer_free(w);
}

static void round_trip(const char *fixture)
{
	static const struct { enum tdp_trace_form form; const char *name; } outs[] = {
		{ TDP_FORM_TEXT, "rt.txt" }, { TDP_FORM_PCAP, "rt.pcap" }, { TDP_FORM_ZST, "rt.zst" },
	};
	struct tdp_config cfg, cfg2;
	size_t n, n2;
	struct tdp_event *a = slurp(fixture, &n, &cfg);

	cr_assert_gt(n, 0);
	for (size_t o = 0; o < ARRAY_SIZE(outs); o++) {
		const char *path = test_path(outs[o].name);
		char errbuf[TDP_ERRBUF_SIZE];
		struct tdp_event *b;
		tdp_trace_t *t;

		write_all(path, outs[o].form, &cfg, a, n);
		cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
		cr_expect_eq(tdp_trace_form(t), outs[o].form, "form detected by content");
		if (outs[o].form != TDP_FORM_TEXT)
			cr_expect_str_eq(tdp_trace_producer(t), "test_trace");
		tdp_trace_close(t);
		b = slurp(path, &n2, &cfg2);
		cr_assert_eq(n2, n, "%s", outs[o].name);
		cr_expect_eq(memcmp(&cfg, &cfg2, sizeof(cfg)), 0, "config survives %s",
			     outs[o].name);
		for (size_t i = 0; i < n; i++) {
			char la[512], lb[512];

			tdp_event_format(&a[i], la, sizeof(la));
			tdp_event_format(&b[i], lb, sizeof(lb));
			cr_expect(tdp_event_equal(&a[i], &b[i]), "%s event %zu: %s vs %s",
				  outs[o].name, i, la, lb);
			cr_expect_str_eq(la, lb);
		}
		free(b);
		unlink(path);
	}
	free(a);
}

Test(trace_reader, round_trip_intel_all_forms)
{
	round_trip("tests/data/all-intel.txt");
}

Test(trace_reader, round_trip_amd_all_forms)
{
	round_trip("tests/data/all-amd.txt");
}

/* Many events: several blocks, delta state reset per block. */
Test(trace_reader, many_blocks_round_trip)
{
	struct tdp_config cfg = intel_nested();
	const size_t n = 200000;
	struct tdp_event *evs = calloc(n, sizeof(*evs));
	const char *path = test_path("many.zst");
	const struct tdp_event *ev;
	char errbuf[TDP_ERRBUF_SIZE];
	tdp_trace_t *t;
	size_t i = 0;
	int ret;

	for (size_t j = 0; j < n; j++) {
		fill_random(&evs[j], rnd() % TDP_EV__COUNT, rnd(), &cfg);
	}
	write_all(path, TDP_FORM_ZST, &cfg, evs, n);
	cr_assert_eq(tdp_trace_open(&t, path, errbuf), 0, "%s", errbuf);
	while ((ret = tdp_trace_next(t, &ev)) == 1) {
		cr_assert_lt(i, n);
		cr_assert(tdp_event_equal(ev, &evs[i]), "event %zu", i);
		i++;
	}
	cr_expect_eq(ret, 0, "%s", tdp_trace_errmsg(t));
	cr_expect_eq(i, n);
	cr_expect_gt(tdp_trace_position(t), 2, "more than one block record");
	tdp_trace_close(t);
	free(evs);
}

/*
 * Read-ahead (tdp_trace_read_ahead()) hands out what reading in line does:
 * the same events, the same position after each, the same end -- also for
 * a trace that breaks off or goes bad part-way (the error, its message and
 * the events before it).
 */
/* @want_error: 1 or 0, or -1 for either (a text trace cut mid-line) */
static void same_with_read_ahead(const char *path, int want_error)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *ea, *eb;
	tdp_trace_t *ta, *tb;
	cpu_set_t cpus;
	uint64_t n = 0;
	int ra, rb;

	cr_assert_eq(tdp_trace_open(&ta, path, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_trace_open(&tb, path, errbuf), 0, "%s", errbuf);
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	cr_expect_eq(tdp_trace_read_ahead(tb), CPU_COUNT(&cpus) >= 2,
		     "the thread runs where there are 2 CPUs");
	cr_expect_eq(tdp_trace_read_ahead(tb), 0, "started once only");
	do {
		ra = tdp_trace_next(ta, &ea);
		rb = tdp_trace_next(tb, &eb);
		cr_assert_eq(ra, rb, "%s: event %llu: %d vs %d", path,
			     (unsigned long long)n, ra, rb);
		if (ra == 1)
			cr_assert(!memcmp(ea, eb, sizeof(*ea)), "%s: event %llu", path,
				  (unsigned long long)n);
		cr_assert_eq(tdp_trace_position(ta), tdp_trace_position(tb),
			     "%s: position after event %llu", path, (unsigned long long)n);
		n++;
	} while (ra == 1);
	if (want_error >= 0)
		cr_expect_eq(ra < 0, want_error, "%s: ends with %d", path, ra);
	cr_expect_str_eq(tdp_trace_errmsg(ta), tdp_trace_errmsg(tb));
	cr_expect_eq(tdp_trace_raw_bytes(ta), tdp_trace_raw_bytes(tb));
	cr_expect_eq(tdp_trace_next(tb, &eb), ra, "the end is sticky");
	tdp_trace_close(ta);
	tdp_trace_close(tb);
}

/* The first @keep bytes of @src into @dst. */
static void truncate_copy(const char *src, const char *dst, long keep)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	int c;

	cr_assert(in && out);
	for (long i = 0; i < keep && (c = getc(in)) != EOF; i++)
		putc(c, out);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
}

Test(trace_reader, read_ahead_hands_out_the_same)
{
	static const struct { enum tdp_trace_form form; const char *name; } outs[] = {
		{ TDP_FORM_TEXT, "ra.txt" }, { TDP_FORM_PCAP, "ra.pcap" }, { TDP_FORM_ZST, "ra.zst" },
	};
	struct tdp_config cfg = intel_nested();
	const size_t n = 50000;
	struct tdp_event *evs = calloc(n, sizeof(*evs));
	char cut[512];
	FILE *fp;

	cr_assert_not_null(evs);
	snprintf(cut, sizeof(cut), "%s", test_path("ra-cut"));
	for (size_t j = 0; j < n; j++)
		fill_random(&evs[j], rnd() % TDP_EV__COUNT, rnd(), &cfg);
	for (size_t o = 0; o < ARRAY_SIZE(outs); o++) {
		const char *path = test_path(outs[o].name);
		long size;

		write_all(path, outs[o].form, &cfg, evs, n);
		same_with_read_ahead(path, 0);
		/* broken off at 60 %: a truncated record, or a text trace cut mid-line */
		fp = fopen(path, "rb");
		cr_assert_not_null(fp);
		fseek(fp, 0, SEEK_END);
		size = ftell(fp);
		fclose(fp);
		truncate_copy(path, cut, size * 3 / 5);
		same_with_read_ahead(cut, outs[o].form != TDP_FORM_TEXT ? 1 : -1);
		unlink(cut);
		unlink(path);
	}
	/* a bad line part-way through a text trace */
	write_all(test_path("ra.txt"), TDP_FORM_TEXT, &cfg, evs, n);
	fp = fopen(test_path("ra.txt"), "a");
	cr_assert_not_null(fp);
	fputs("access gva=0x1000 op=sing\n", fp);
	cr_assert_eq(fclose(fp), 0);
	same_with_read_ahead(test_path("ra.txt"), 1);
	unlink(test_path("ra.txt"));
	free(evs);
}

/*
 * Replay reads ahead by default (where 2 CPUs are free) and says so in its
 * result; --no-read-ahead does not; the counts are the same either way.
 */
Test(trace_reader, replay_reads_ahead_by_default)
{
	struct tdp_replay_result *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct tdp_replay_opts o = { .layout = "new" };
	char err[TDP_ERRBUF_SIZE];
	cpu_set_t cpus;

	cr_assert(a && b);
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	cr_assert_eq(tdp_replay_run("traces/linux-small.zst", &o, NULL, a, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(a->read_ahead, CPU_COUNT(&cpus) >= 2);
	o.no_read_ahead = true;
	cr_assert_eq(tdp_replay_run("traces/linux-small.zst", &o, NULL, b, err, sizeof(err)),
		     0, "%s", err);
	cr_expect(!b->read_ahead);
	cr_expect_eq(a->stats.events, b->stats.events);
	cr_expect_gt(a->stats.events, 0);
	cr_expect_eq(a->stats.pf_fixed, b->stats.pf_fixed);
	cr_expect_eq(tdp_stats_exits(&a->stats), tdp_stats_exits(&b->stats));
	cr_expect_eq(a->stats.sp_live, b->stats.sp_live);
	free(a);
	free(b);
}

/* The container is standard: libpcap reads it, from a file and through zstd. */
static void check_with_libpcap(FILE *fp, size_t want_events)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, err);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t records = 0, events = 0;
	int rc;

	cr_assert_not_null(p, "%s", err);
	cr_expect_eq(pcap_datalink(p), 147);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint32_t tag = data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24;

		cr_expect_eq(h->caplen, h->len);
		cr_expect_leq(h->caplen, TDP_BLOCK_MAX);
		if (records == 0)
			cr_expect_eq(tag, TDP_REC_HEADER);
		if (tag == TDP_REC_BLOCK)
			events += data[4] | data[5] << 8 | data[6] << 16 | (uint32_t)data[7] << 24;
		records++;
	}
	cr_expect_eq(rc, PCAP_ERROR_BREAK, "%s", pcap_geterr(p));
	cr_expect_eq(events, want_events);
	pcap_close(p);	/* closes fp */
}

Test(trace_reader, libpcap_reads_our_output)
{
	struct tdp_config cfg = intel_nested();
	const size_t n = 50000;
	struct tdp_event *evs = calloc(n, sizeof(*evs));
	const char *pp = test_path("lp.pcap"), *zp = test_path("lp.zst");
	char zerr[256] = "";
	FILE *f;

	for (size_t j = 0; j < n; j++)
		fill_random(&evs[j], TDP_EV_ACCESS, rnd(), &cfg);
	write_all(pp, TDP_FORM_PCAP, &cfg, evs, n);
	write_all(zp, TDP_FORM_ZST, &cfg, evs, n);
	f = fopen(pp, "rb");
	cr_assert_not_null(f);
	check_with_libpcap(f, n);
	f = fopen(zp, "rb");
	cr_assert_not_null(f);
	f = tdp__zstd_reader(f, NULL, zerr, sizeof(zerr));
	cr_assert_not_null(f);
	check_with_libpcap(f, n);
	cr_expect_str_empty(zerr);
	free(evs);
}

Test(trace_writer, refuses_invalid_events_and_leaves_nothing)
{
	struct tdp_config cfg = intel_nested();
	const char *path = test_path("bad-out.zst");
	char errbuf[TDP_ERRBUF_SIZE], tmp[600];
	struct tdp_event ev;
	tdp_writer_t *w;

	cr_assert_eq(tdp_writer_open(&w, path, TDP_FORM_ZST, 0, NULL, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_event(w, &ev), TDP_E_CONFIG, "event before config");
	tdp_writer_free(w);

	cr_assert_eq(tdp_writer_open(&w, path, TDP_FORM_ZST, 0, NULL, errbuf), 0, "%s", errbuf);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	cr_expect_eq(access(tmp, F_OK), 0, "writes go to the temporary");
	cr_assert_eq(tdp_writer_config(w, &cfg), 0);
	tdp__event_reset(&ev, TDP_EV_ACCESS);
	ev.present = TDP_KEY_BIT(ACCESS, gva) | TDP_KEY_BIT(ACCESS, op) | TDP_KEY_BIT(ACCESS, cpl);
	ev.u.access.cpl = 4;
	cr_expect_eq(tdp_writer_event(w, &ev), TDP_E_RANGE);
	cr_expect(strstr(tdp_writer_errmsg(w), "cpl=4"), "%s", tdp_writer_errmsg(w));
	cr_expect_neq(tdp_writer_close(w), 0, "errors are sticky");
	tdp_writer_free(w);
	cr_expect_neq(access(path, F_OK), 0);
	cr_expect_neq(access(tmp, F_OK), 0);

	/* no close at all: free drops the temporary */
	cr_assert_eq(tdp_writer_open(&w, path, TDP_FORM_PCAP, 0, NULL, errbuf), 0, "%s", errbuf);
	cr_assert_eq(tdp_writer_config(w, &cfg), 0);
	tdp_writer_free(w);
	cr_expect_neq(access(path, F_OK), 0);
	cr_expect_neq(access(tmp, F_OK), 0);
	/* binary to "-" goes to a pipe or file, not a terminal: test_cli_trace */
}

Test(trace_writer, form_from_name)
{
	cr_expect_eq(tdp_form_from_name("a.txt"), TDP_FORM_TEXT);
	cr_expect_eq(tdp_form_from_name("-"), TDP_FORM_TEXT);
	cr_expect_eq(tdp_form_from_name("a.pcap"), TDP_FORM_PCAP);
	cr_expect_eq(tdp_form_from_name("a.zst"), TDP_FORM_ZST);
	cr_expect_eq(tdp_form_from_name("a.pcap.zst"), TDP_FORM_ZST);
	cr_expect_eq(tdp_form_from_name("trace"), TDP_FORM_ZST);
}
