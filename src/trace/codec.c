// SPDX-License-Identifier: GPL-2.0-only
/*
 * Block codec: one event <-> a few bytes inside a TBLK record.
 *
 * Encoded event (varints are LEB128, low group first, at most 10 bytes):
 *
 *     7 6 5 4 3     0
 *    +---+-+-+-------+
 *    |B0 |K|T| kind  |   byte 0 (TDP_EVB_* in trace-int.h)
 *    +---+-+-+-------+
 *    [K]  varint  given: bit i = the kind's i-th key (events.def order);
 *                 without K, given = the previous event of this kind's
 *    [T]  varint  zigzag(t - prev_t)
 *    per given key, in events.def order:
 *      TDP_KF_B0 key   nothing here: its value is byte 0's B0 field
 *      8-byte member   varint zigzag(v - slot[i]) << 3 | i   (i < 7), or
 *                      varint 7, varint v         (slots: trace-int.h)
 *      LABEL           u8 length (1..TDP_LABEL_MAX), the bytes, no NUL
 *      otherwise       varint v
 *
 * The lane of the slots is vcpu % TDP_LANES as far as the event's keys
 * have told it: vcpu is the first key of every kind that has one, except
 * write, whose vcpu was appended last (events.def), so a write's 8-byte
 * keys are on lane 0 -- the decoder only knows vcpu once it has read it,
 * and the encoder follows it (a write with vcpu=1 encoded on lane 1 did
 * not decode).  All state
 * is zero at the start of each block.  A typical access in a page stream
 * is 5-6 bytes before zstd (byte 0, vcpu, gva code, t delta;
 * docs/trace-format.md has measurements).
 *
 * The decoder is generated from events.def as one switch with a case per
 * kind and a straight line of key decodes per case, so the per-event path
 * has no table walk and no call; the encoder, which is not on a hot path,
 * walks the key table.
 */
#include <string.h>
#ifdef __BMI2__
#include <immintrin.h>
#endif

#include <tdpsim/errors.h>

#include "trace-int.h"

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = v | 0x80;
		v >>= 7;
	}
	*p++ = v;
	return p;
}

static inline uint64_t zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ -(z & 1);
}

/*
 * Decode a varint and advance *@pp.  More than 10 bytes, or a 10th byte
 * above 1, is not a u64: false.
 *
 * Varint lengths in a block vary from event to event, so a byte loop
 * mispredicts; up to 8 bytes are decoded without branches from one
 * unaligned 8-byte load (the record buffer has TDP_DECODE_SLACK zero bytes
 * after it, so the load never leaves it): the first clear top bit ends the
 * varint, and PEXT (BMI2 builds, e.g. -DTDPSIM_NATIVE=ON) or three
 * shift-and-merge steps squeeze out the top bits.
 */
static inline bool get_varint(const uint8_t **pp, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t w, stop, keep, x;

	memcpy(&w, p, sizeof(w));
	stop = ~w & 0x8080808080808080ull;
	if (__builtin_expect(!!stop, 1)) {
		keep = stop ^ (stop - 1);	/* bits up to the ending byte's bit 7 */
#ifdef __BMI2__
		x = _pext_u64(w & keep, 0x7f7f7f7f7f7f7f7full);
#else
		x = w & keep & 0x7f7f7f7f7f7f7f7full;
		x = (x & 0x007f007f007f007full) | ((x & 0x7f007f007f007f00ull) >> 1);
		x = (x & 0x00003fff00003fffull) | ((x & 0x3fff00003fff0000ull) >> 2);
		x = (x & 0x000000000fffffffull) | ((x & 0x0fffffff00000000ull) >> 4);
#endif
		*out = x;
		*pp = p + (__builtin_ctzll(stop) + 1) / 8;
		return true;
	}
	/* 9 or 10 bytes: the first 8 carry 56 bits */
	x = 0;
	for (int i = 0; i < 8; i++)
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
	if (p[8] < 0x80) {
		*out = x | (uint64_t)p[8] << 56;
		*pp = p + 9;
		return true;
	}
	if (p[9] > 1)
		return false;
	*out = x | (uint64_t)(p[8] & 0x7f) << 56 | (uint64_t)p[9] << 63;
	*pp = p + 10;
	return true;
}

/* v in [mn, mx], written so that mn == 0 raises no "always true" warning */
static inline bool in_range(uint64_t v, uint64_t mn, uint64_t mx)
{
	return v - mn <= mx - mn;
}

/* Least recently used slot; ties go to the lowest index (both sides agree). */
static inline unsigned int lru_slot(const uint32_t *used)
{
	unsigned int lru = 0;

	for (unsigned int j = 1; j < TDP_SLOTS; j++)
		if (used[j] < used[lru])
			lru = j;
	return lru;
}

/* A delta bigger than this is a jump, not a step of the stream. */
#define FAR_DELTA (1ull << 20)

static uint8_t *encode_slot(uint8_t *p, struct tdp_codec_state *st, unsigned int key,
			    unsigned int lane, uint64_t v)
{
	uint64_t *slot = st->slot[key][lane];
	uint32_t *used = st->used[key][lane];
	unsigned int best = 0;
	uint64_t zz = zigzag(v - slot[0]);

	for (unsigned int j = 1; j < TDP_SLOTS; j++) {
		uint64_t z = zigzag(v - slot[j]);

		if (z < zz) {
			zz = z;
			best = j;
		}
	}
	if (zz > FAR_DELTA) {
		/* a new stream: evict the stalest one rather than the nearest */
		best = lru_slot(used);
		zz = zigzag(v - slot[best]);
	}
	if (zz >> (64 - TDP_SLOT_BITS)) {
		p = put_varint(p, TDP_SLOT_ESC);
		p = put_varint(p, v);
		best = lru_slot(used);
	} else {
		p = put_varint(p, zz << TDP_SLOT_BITS | best);
	}
	slot[best] = v;
	used[best] = ++st->clock;
	return p;
}

uint8_t *tdp__encode_event(uint8_t *p, const struct tdp_event *ev,
			   struct tdp_codec_state *st)
{
	const struct tdp_kind *kd = &tdp_kinds[ev->kind];
	uint64_t given = (ev->present & kd->mask) >> kd->first;
	unsigned int lane = 0;	/* until the vcpu key (see the top) */
	uint8_t *b0 = p++;

	*b0 = ev->kind;
	if (ev->present & TDP_PRESENT_T)
		*b0 |= TDP_EVB_T;
	if (given != st->last_given[ev->kind]) {
		*b0 |= TDP_EVB_KEYS;
		p = put_varint(p, given);
		st->last_given[ev->kind] = given;
	}
	if (ev->present & TDP_PRESENT_T) {
		p = put_varint(p, zigzag(ev->t - st->prev_t));
		st->prev_t = ev->t;
	}
	for (uint64_t m = given; m; m &= m - 1) {
		unsigned int i = kd->first + __builtin_ctzll(m);
		const struct tdp_key *k = &tdp_keys[i];
		uint64_t v;

		if (k->type == TDP_KT_LABEL) {
			const char *s = (const char *)ev + k->offset;
			size_t n = strnlen(s, TDP_LABEL_MAX);

			*p++ = n;
			memcpy(p, s, n);
			p += n;
			continue;
		}
		v = tdp__key_get(ev, k);
		if (k->type == TDP_KT_VCPU)
			lane = v % TDP_LANES;
		if (k->flags & TDP_KF_B0)
			*b0 |= v << TDP_EVB_B0_SHIFT;
		else if (k->width == 8)
			p = encode_slot(p, st, i, lane, v);
		else
			p = put_varint(p, v);
	}
	return p;
}

/* The decoding side of encode_slot(); false on a bad varint. */
static inline __attribute__((always_inline)) bool decode_slot(const uint8_t **pp, struct tdp_codec_state *st,
			       uint32_t *clock, unsigned int key, unsigned int lane,
			       uint64_t code, uint64_t *out)
{
	uint64_t *slot = st->slot[key][lane];
	uint32_t *used = st->used[key][lane];
	unsigned int i = code & ((1u << TDP_SLOT_BITS) - 1);
	uint64_t v;

	if (__builtin_expect(i == TDP_SLOT_ESC, 0)) {
		if (code != TDP_SLOT_ESC || !get_varint(pp, &v))
			return false;
		i = lru_slot(used);
	} else {
		v = slot[i] + unzigzag(code >> TDP_SLOT_BITS);
	}
	slot[i] = v;
	used[i] = ++*clock;
	*out = v;
	return true;
}

/*
 * Per-type decode steps for the generated switch.  8-byte members are
 * delta-coded and span the whole u64 range (keys.c asserts it), so they
 * need no range check; narrower ones are checked before the store.
 */
#define DEC_VARINT(v)								\
	do {									\
		if (__builtin_expect(!get_varint(&p, &(v)), 0))			\
			goto bad_varint;					\
	} while (0)
#define DEC_NUM(dst, mn, mx, idx)						\
	do {									\
		uint64_t v_;							\
		DEC_VARINT(v_);							\
		if (sizeof(dst) == 8) {						\
			if (!decode_slot(&p, st, clock, idx, ev->vcpu % TDP_LANES, v_, &v_)) \
				goto bad_varint;				\
		} else if (__builtin_expect(!in_range(v_, mn, mx), 0)) {	\
			goto bad_range;						\
		}								\
		dst = v_;							\
	} while (0)
#define DEC_HEX(dst, mn, mx, idx)	DEC_NUM(dst, mn, mx, idx)
#define DEC_DEC(dst, mn, mx, idx)	DEC_NUM(dst, mn, mx, idx)
#define DEC_VCPU(dst, mn, mx, idx)	DEC_NUM(dst, mn, mx, idx)
#define DEC_OP(dst, mn, mx, idx)	DEC_NUM(dst, mn, mx, idx)
#define DEC_FLUSH(dst, mn, mx, idx)	DEC_NUM(dst, mn, mx, idx)
#define DEC_SIZE(dst, mn, mx, idx)						\
	do {									\
		DEC_NUM(dst, mn, mx, idx);					\
		if (__builtin_expect((dst) & ((dst) - 1), 0))			\
			goto bad_range;						\
	} while (0)
#define DEC_LABEL(dst, mn, mx, idx)						\
	do {									\
		unsigned int n_ = *p++;						\
		if (!in_range(n_, mn, mx))					\
			goto bad_label;						\
		memcpy(dst, p, n_);						\
		p += n_;							\
	} while (0)
/* A TDP_KF_B0 key: its value is in byte 0; using it clears b0_left. */
#define B0_NUM(dst, mn, mx)							\
	do {									\
		uint64_t v_ = b0 >> TDP_EVB_B0_SHIFT;				\
		if (__builtin_expect(!in_range(v_, mn, mx), 0))			\
			goto bad_range;						\
		dst = v_;							\
		b0_left = 0;							\
	} while (0)
#define B0_HEX			B0_NUM
#define B0_DEC			B0_NUM
#define B0_VCPU			B0_NUM
#define B0_OP			B0_NUM
#define B0_FLUSH		B0_NUM
#define B0_SIZE			B0_NUM
#define B0_LABEL(dst, mn, mx)	do { } while (0)
/* Defaults of absent keys (the event was zeroed first). */
#define DEF_NUM(dst, df)	do { if (df) dst = (df); } while (0)
#define DEF_HEX			DEF_NUM
#define DEF_DEC			DEF_NUM
#define DEF_VCPU		DEF_NUM
#define DEF_OP			DEF_NUM
#define DEF_FLUSH		DEF_NUM
#define DEF_SIZE		DEF_NUM
#define DEF_LABEL(dst, df)	do { } while (0)

/*
 * @prev_t and @clock are st's, passed apart so that the batch loop can keep
 * them in registers: through @st the compiler must assume the stores to
 * @ev alias them, which put a store-to-load round trip on every event.
 */
static inline __attribute__((always_inline)) const uint8_t *
decode_one(const uint8_t *p, struct tdp_event *ev, struct tdp_codec_state *st,
	   uint64_t *prev_t, uint32_t *clock, const char **why)
{
	uint8_t b0 = *p++;
	unsigned int kind = b0 & TDP_EVB_KIND;
	unsigned int b0_left = b0 & TDP_EVB_B0;	/* must be consumed by a B0 key */
	uint64_t given, v, bit;

	if (__builtin_expect(kind >= TDP_EV__COUNT, 0)) {
		*why = "unknown event type";
		return NULL;
	}
	/* the union is reset so equal events compare equal bytewise too */
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	if (b0 & TDP_EVB_KEYS) {
		DEC_VARINT(given);
		if (__builtin_expect(given >> tdp_kinds[kind].nkeys, 0)) {
			*why = "bad key mask";
			return NULL;
		}
		st->last_given[kind] = given;
	} else {
		given = st->last_given[kind];
	}
	ev->present = given << tdp_kinds[kind].first;
	if (b0 & TDP_EVB_T) {
		DEC_VARINT(v);
		*prev_t += unzigzag(v);
		ev->t = *prev_t;
		ev->present |= TDP_PRESENT_T;
	}
	switch (kind) {
	default:
		goto bad_kind;
#define TDP_EVENT(KIND, name)							\
		break;								\
	case TDP_EV_##KIND:							\
		bit = 1;
#define TDP_KEY(KIND, key, member, type, mn, mx, df, fl)			\
		if (!(given & bit))						\
			DEF_##type(ev->member, df);				\
		else if ((fl) & TDP_KF_B0)					\
			B0_##type(ev->member, mn, mx);				\
		else								\
			DEC_##type(ev->member, mn, mx, TDP_KEY_##KIND##_##key);	\
		bit <<= 1;
#include "events.def"
	}
	if (__builtin_expect(b0_left, 0))
		goto bad_kind;
	return p;

bad_kind:
	*why = "unknown event type";
	return NULL;
bad_varint:
	*why = "bad varint";
	return NULL;
bad_range:
	*why = "value out of range";
	return NULL;
bad_label:
	*why = "bad label length";
	return NULL;
}

const uint8_t *tdp__decode_event(const uint8_t *p, struct tdp_event *ev,
				 struct tdp_codec_state *st, const char **why)
{
	return decode_one(p, ev, st, &st->prev_t, &st->clock, why);
}

void tdp__decoder_init(struct tdp_decoder *d, const struct tdp_config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	for (unsigned int i = 0; i < TDP_KEY__COUNT; i++) {
		const struct tdp_key *k = &tdp_keys[i];
		bool wrong = ((k->flags & TDP_KF_INTEL) && cfg->vendor != TDP_VENDOR_INTEL) ||
			     ((k->flags & TDP_KF_AMD) && cfg->vendor != TDP_VENDOR_AMD);

		if (wrong)
			d->forbid |= 1ull << i;
		else if (k->flags & TDP_KF_REQ)
			d->req[k->kind] |= 1ull << i;
	}
}

/*
 * Kinds whose rules go beyond ranges and key masks get the full check; the
 * one rule of the frequent write (val fits size) and of fault (ec's bits)
 * are inlined below.
 */
#define SLOW_KINDS ((1u << TDP_EV_MARK) | (1u << TDP_EV_VMENTER) | \
		    (1u << TDP_EV_VMEXIT) | (1u << TDP_EV_INVEPT))

int tdp__decode_batch(struct tdp_decoder *d, struct tdp_event *out, unsigned int max)
{
	const uint8_t *p = d->pos;
	const uint32_t vcpus = d->cfg->vcpus;
	const uint8_t *const end = d->end;
	const uint64_t forbid = d->forbid;
	uint64_t prev_t = d->st.prev_t;
	uint32_t clock = d->st.clock;
	uint64_t req[TDP_EV__COUNT];
	unsigned int n = 0;
	int ret = 0;

	/* locals, not d->: the stores to out[] could alias d's fields */
	memcpy(req, d->req, sizeof(req));

	if (max > d->left)
		max = d->left;
	for (; n < max; n++) {
		struct tdp_event *ev = &out[n];
		const char *why = NULL;
		const uint8_t *q = decode_one(p, ev, &d->st, &prev_t, &clock, &why);

		if (__builtin_expect(!q, 0)) {
			snprintf(d->why, sizeof(d->why), "%s", why);
			ret = TDP_E_FORMAT;
			break;
		}
		if (__builtin_expect(q > end, 0)) {
			snprintf(d->why, sizeof(d->why), "event overruns the record");
			ret = TDP_E_FORMAT;
			break;
		}
		if (__builtin_expect(ev->vcpu >= vcpus || (ev->present & forbid) ||
				     (ev->present & req[ev->kind]) != req[ev->kind] ||
				     ((SLOW_KINDS >> ev->kind) & 1) ||
				     (ev->kind == TDP_EV_WRITE &&
				      ((ev->u.write.size < 8 &&
					ev->u.write.val >> (8 * ev->u.write.size)) ||
				       ((ev->present & TDP_KEY_BIT(WRITE, gva)) &&
					tdp__write_gva_bad(ev)))) ||
				     (ev->kind == TDP_EV_FAULT &&
				      (ev->u.fault.ec & ~TDP_FAULT_EC_VALID)), 0)) {
			ret = tdp_event_check(ev, d->cfg, d->why, sizeof(d->why));
			if (ret)
				break;
		}
		p = q;
	}
	d->st.prev_t = prev_t;
	d->st.clock = clock;
	d->pos = p;
	d->left -= n;
	if (ret) {
		d->nok = n;	/* d->pos is at the bad event */
		return ret;
	}
	if (!d->left && p != d->end) {
		snprintf(d->why, sizeof(d->why), "%ld stray bytes after the last event",
			 (long)(d->end - p));
		return TDP_E_FORMAT;
	}
	return n;
}
