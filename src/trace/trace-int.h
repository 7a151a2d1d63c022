/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace module internals shared by keys.c, codec.c, reader.c, writer.c and
 * zio.c.  Nothing outside src/trace (and its tests) includes this.
 */
#ifndef TDPSIM_TRACE_INT_H
#define TDPSIM_TRACE_INT_H

#include <stdint.h>
#include <stdio.h>

#include <tdpsim/trace.h>

/* How a key's value is spelled in text and encoded in a block. */
enum tdp_key_type {
	TDP_KT_HEX,	/* number, printed 0x...; 8-byte ones delta-coded */
	TDP_KT_DEC,	/* number, printed decimal */
	TDP_KT_VCPU,	/* decimal, must be < config vcpus */
	TDP_KT_SIZE,	/* 1, 2, 4 or 8 */
	TDP_KT_OP,	/* r / w / x -> 0 / 1 / 2 */
	TDP_KT_FLUSH,	/* cr3 / global -> 0 / 1 (enum tdp_flush_kind) */
	TDP_KT_LABEL,	/* word of 1..TDP_LABEL_MAX non-blank bytes */
};

#define TDP_KF_REQ	0x1	/* required (on its vendor, for _INTEL/_AMD) */
#define TDP_KF_INTEL	0x2	/* only with vendor=intel */
#define TDP_KF_AMD	0x4	/* only with vendor=amd */
#define TDP_KF_B0	0x8	/* binary: value (<= 3) in bits 7:6 of byte 0 */

struct tdp_key {
	const char *name;
	uint16_t offset;	/* into struct tdp_event */
	uint8_t width;		/* 1, 2, 4, 8 (LABEL: array size) */
	uint8_t type;		/* enum tdp_key_type */
	uint8_t flags;		/* TDP_KF_* */
	uint8_t kind;
	uint64_t min, max, dflt;
};

struct tdp_kind {
	const char *name;
	uint8_t first;		/* index of its first key in tdp_keys[] */
	uint8_t nkeys;
	uint64_t mask;		/* all its key bits */
	/*
	 * For tdp_event_check()'s fast path, per vendor (0 intel, 1 amd):
	 * the keys that must be given, and the keys of the other vendor.
	 * range_mask: keys whose value needs a check (a range narrower than
	 * their width, a size, a vcpu, a label).
	 */
	uint64_t req_mask[2];
	uint64_t wrong_vendor_mask[2];
	uint64_t range_mask;
};

extern const struct tdp_key tdp_keys[TDP_KEY__COUNT];
extern struct tdp_kind tdp_kinds[TDP_EV__COUNT];	/* read-only after init */

uint64_t tdp__key_get(const struct tdp_event *ev, const struct tdp_key *k);
void tdp__key_set(struct tdp_event *ev, const struct tdp_key *k, uint64_t v);
/* Reset @ev to kind @kind with every key at its default, nothing present. */
void tdp__event_reset(struct tdp_event *ev, unsigned int kind);

/*
 * A `write` with gva= is one store through one 4 KiB translation: gva and
 * gpa have the same offset in the page (a translation keeps bits 11:0 at
 * any page size), and the store does not cross into the next page (the
 * CPU would split it into two accesses with two translations, which one
 * event does not describe).  True if @ev breaks that.
 */
static inline bool tdp__write_gva_bad(const struct tdp_event *ev)
{
	return ((ev->u.write.gva ^ ev->u.write.gpa) & 0xfff) ||
	       (ev->u.write.gva & 0xfff) + ev->u.write.size > 0x1000;
}

/*
 * Binary form constants (docs/trace-format.md has the diagrams).
 * Every record starts with a 4-byte type tag.
 */
#define TDP_PCAP_MAGIC_NS	0xa1b23c4du
#define TDP_PCAP_MAGIC_US	0xa1b2c3d4u
#define TDP_LINKTYPE_USER0	147
#define TDP_PCAP_SNAPLEN	262144u		/* libpcap's MAXIMUM_SNAPLEN */
#define TDP_REC_HEADER		0x52485054u	/* "TPHR" little-endian */
#define TDP_REC_BLOCK		0x4b4c4254u	/* "TBLK" */
#define TDP_REC_TRAILER		0x4c525454u	/* "TTRL" */
#define TDP_TRACE_MAGIC		"tdpsim-trace"	/* 12 bytes in the header */
#define TDP_FORMAT_VERSION	1
/* TPHR flags: a u32 length and the notes text follow the producer */
#define TDP_HDR_NOTES		0x1u
/*
 * Encoded events per block record: the writer closes a block once its
 * payload passes TDP_BLOCK_TARGET; no event encodes to more than
 * TDP_EVENT_MAX_BYTES, so a block never exceeds TDP_BLOCK_MAX, well under
 * the 256 KiB libpcap accepts.
 */
#define TDP_BLOCK_TARGET	(64u * 1024)
#define TDP_EVENT_MAX_BYTES	128u
#define TDP_BLOCK_HDR		12u		/* tag, u32 count, u32 reserved */
#define TDP_BLOCK_MAX		(TDP_BLOCK_HDR + TDP_BLOCK_TARGET + TDP_EVENT_MAX_BYTES)
_Static_assert(TDP_BLOCK_MAX < TDP_PCAP_SNAPLEN, "blocks must fit one pcap record");
/* Largest record the reader accepts (header records carry text). */
#define TDP_RECORD_MAX		TDP_BLOCK_MAX
/* Zero bytes kept after a record in memory so decoding may overrun safely. */
#define TDP_DECODE_SLACK	256u

/*
 * First byte of an encoded event (codec.c has the whole diagram):
 *     7 6 5 4 3     0
 *    +---+-+-+-------+
 *    |B0 |K|T| kind  |   K: key mask follows (else: same as the last
 *    +---+-+-+-------+      event of this kind in the block); T: t follows;
 *                           B0: the kind's TDP_KF_B0 key, else 0
 */
#define TDP_EVB_KIND	0x0fu
#define TDP_EVB_T	0x10u
#define TDP_EVB_KEYS	0x20u
#define TDP_EVB_B0_SHIFT 6
#define TDP_EVB_B0	(3u << TDP_EVB_B0_SHIFT)
/* update the diagram above if you change these */
_Static_assert((TDP_EVB_KIND ^ TDP_EVB_T ^ TDP_EVB_KEYS ^ TDP_EVB_B0) == 0xff &&
	       !(TDP_EVB_KIND & TDP_EVB_T) && !(TDP_EVB_KIND & TDP_EVB_KEYS) &&
	       !(TDP_EVB_KIND & TDP_EVB_B0) && !(TDP_EVB_T & TDP_EVB_KEYS) &&
	       !((TDP_EVB_T | TDP_EVB_KEYS) & TDP_EVB_B0), "event byte 0 layout");
_Static_assert(TDP_EV__COUNT - 1 <= TDP_EVB_KIND, "kinds fit byte 0");

/*
 * 8-byte keys are coded against one of TDP_SLOTS recent values of the same
 * key on the same lane (vcpu % TDP_LANES), so interleaved page streams
 * each keep their own base: code = zigzag(v - slot[i]) << 3 | i, or code 7
 * (TDP_SLOT_ESC) followed by v itself, which replaces the least recently
 * used slot.  Any slot the encoder picks decodes the same; which one it
 * picks is only a matter of size.
 */
#define TDP_LANES	4
#define TDP_SLOTS	7
#define TDP_SLOT_ESC	7
#define TDP_SLOT_BITS	3
_Static_assert(TDP_SLOTS < (1 << TDP_SLOT_BITS) && TDP_SLOT_ESC == TDP_SLOTS, "slot code");

/*
 * Per-block codec state: recent values of every 8-byte key (see above) with
 * their last-use stamps, the previous t, and the last key mask per kind.
 * Zero at the start of every block, so blocks decode independently.
 */
struct tdp_codec_state {
	uint64_t slot[TDP_KEY__COUNT][TDP_LANES][TDP_SLOTS];
	uint32_t used[TDP_KEY__COUNT][TDP_LANES][TDP_SLOTS];
	uint32_t clock;
	uint64_t prev_t;
	uint64_t last_given[TDP_EV__COUNT];
};

/* Encode @ev at @p (>= TDP_EVENT_MAX_BYTES free); returns the new end. */
uint8_t *tdp__encode_event(uint8_t *p, const struct tdp_event *ev,
			   struct tdp_codec_state *st);
/*
 * Decode one event from @p; returns the new position or NULL with @why set.
 * Checks each value's events.def range, not the cross-key rules.  May read
 * up to TDP_EVENT_MAX_BYTES past the event (the slack); the caller checks
 * the returned position against the record end.
 */
const uint8_t *tdp__decode_event(const uint8_t *p, struct tdp_event *ev,
				 struct tdp_codec_state *st, const char **why);

/* A block being decoded, with the config's rules precomputed. */
struct tdp_decoder {
	const uint8_t *pos, *end;	/* end: the record's end; slack follows */
	uint32_t left;			/* events not yet decoded */
	uint32_t nok;			/* on error: good events before it */
	struct tdp_codec_state st;
	const struct tdp_config *cfg;
	uint64_t forbid;		/* keys of the other vendor */
	uint64_t req[TDP_EV__COUNT];	/* required keys per kind, this vendor */
	char why[256];
};

void tdp__decoder_init(struct tdp_decoder *d, const struct tdp_config *cfg);
/*
 * tdp__decode_batch() - decode up to @max events of the block into @out,
 * with every check the text parser makes.  Return: the count, or TDP_E_*
 * with d->why set and d->pos at the bad event.
 */
int tdp__decode_batch(struct tdp_decoder *d, struct tdp_event *out, unsigned int max);

/* zstd through stdio: fopencookie streams over @raw, which they own. */
FILE *tdp__zstd_reader(FILE *raw, uint64_t *raw_bytes, char *errbuf, size_t errlen);
FILE *tdp__zstd_writer(FILE *raw, int level, char *errbuf, size_t errlen);

static inline void tdp__put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline uint32_t tdp__get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void tdp__put64(uint8_t *p, uint64_t v)
{
	tdp__put32(p, v);
	tdp__put32(p + 4, v >> 32);
}

static inline uint64_t tdp__get64(const uint8_t *p)
{
	return tdp__get32(p) | (uint64_t)tdp__get32(p + 4) << 32;
}

#endif /* TDPSIM_TRACE_INT_H */
