// SPDX-License-Identifier: GPL-2.0-only
/*
 * Block codec: one event <-> a few bytes inside a TBLK record.
 *
 * Encoded event (all varints are LEB128, little end first, <= 10 bytes):
 *
 *     7   5 4 3     0
 *    +-----+-+-------+
 *    | 000 |T| kind  |   byte 0
 *    +-----+-+-------+
 *    varint  given   bit i = the kind's i-th key (events.def order) given
 *    [T]     zigzag(t - prev_t)
 *    per given key, in order:
 *      8-byte member   zigzag(v - prev[key])   (per-key delta)
 *      LABEL           u8 length, then the bytes (no NUL)
 *      otherwise       varint v
 *
 * prev[] and prev_t start at 0 in every block, so blocks decode
 * independently.  Addresses of successive accesses differ by little,
 * hence the per-key deltas: an access in a page stream encodes as 4-5
 * bytes before zstd (docs/trace-format.md has measurements).
 */
#include <string.h>

#include <tdpsim/errors.h>

#include "trace-int.h"

#define EV_KIND_MASK	0x0f
#define EV_T_BIT	0x10
#define EV_RSVD_MASK	0xe0
/* update the diagram above if you change these */
_Static_assert(!(EV_KIND_MASK & EV_T_BIT) && !((EV_KIND_MASK | EV_T_BIT) & EV_RSVD_MASK) &&
	       (EV_KIND_MASK | EV_T_BIT | EV_RSVD_MASK) == 0xff, "event byte 0 layout");
_Static_assert(TDP_EV__COUNT - 1 <= EV_KIND_MASK, "kinds fit byte 0");

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
 * Decode a varint; *@p advances.  More than 10 bytes, or a 10th byte
 * above 1, is not a u64: return false.
 */
static inline bool get_varint(const uint8_t **pp, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v;

	if (__builtin_expect(p[0] < 0x80, 1)) {
		*out = p[0];
		*pp = p + 1;
		return true;
	}
	v = p[0] & 0x7f;
	for (int i = 1; i < 10; i++) {
		uint64_t b = p[i];

		if (i == 9 && b > 1)
			return false;
		v |= (b & 0x7f) << (7 * i);
		if (b < 0x80) {
			*out = v;
			*pp = p + i + 1;
			return true;
		}
	}
	return false;
}

uint8_t *tdp__encode_event(uint8_t *p, const struct tdp_event *ev,
			   struct tdp_codec_state *st)
{
	const struct tdp_kind *kd = &tdp_kinds[ev->kind];
	uint64_t given = (ev->present & kd->mask) >> kd->first;

	*p++ = ev->kind | ((ev->present & TDP_PRESENT_T) ? EV_T_BIT : 0);
	p = put_varint(p, given);
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
		if (k->width == 8) {
			p = put_varint(p, zigzag(v - st->prev[i]));
			st->prev[i] = v;
		} else {
			p = put_varint(p, v);
		}
	}
	return p;
}

const uint8_t *tdp__decode_event(const uint8_t *p, struct tdp_event *ev,
				 struct tdp_codec_state *st, const char **why)
{
	const struct tdp_kind *kd;
	uint8_t b0 = *p++;
	unsigned int kind = b0 & EV_KIND_MASK;
	uint64_t given, v;

	if (__builtin_expect(kind >= TDP_EV__COUNT || (b0 & EV_RSVD_MASK), 0)) {
		*why = "unknown event type";
		return NULL;
	}
	kd = &tdp_kinds[kind];
	/* the union is reset so equal events compare equal bytewise too */
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	if (!get_varint(&p, &given) || (given >> kd->nkeys)) {
		*why = "bad key mask";
		return NULL;
	}
	ev->present = given << kd->first;
	if (b0 & EV_T_BIT) {
		if (!get_varint(&p, &v)) {
			*why = "bad varint";
			return NULL;
		}
		st->prev_t += unzigzag(v);
		ev->t = st->prev_t;
		ev->present |= TDP_PRESENT_T;
	}
	/* defaults for absent keys; only `size` has a non-zero one */
	if (kind == TDP_EV_WRITE)
		ev->u.write.size = 8;
	else if (kind == TDP_EV_PEEK)
		ev->u.peek.size = 8;
	for (uint64_t m = given; m; m &= m - 1) {
		unsigned int i = kd->first + __builtin_ctzll(m);
		const struct tdp_key *k = &tdp_keys[i];

		if (k->type == TDP_KT_LABEL) {
			unsigned int n = *p++;

			if (n < k->min || n > k->max) {
				*why = "bad label length";
				return NULL;
			}
			memcpy((char *)ev + k->offset, p, n);
			p += n;
			continue;
		}
		if (!get_varint(&p, &v)) {
			*why = "bad varint";
			return NULL;
		}
		if (k->width == 8) {
			v = st->prev[i] += unzigzag(v);
		} else if (v < k->min || v > k->max ||
			   (k->type == TDP_KT_SIZE && (v & (v - 1)))) {
			*why = "value out of range";
			return NULL;
		}
		tdp__key_set(ev, k, v);
	}
	return p;
}
