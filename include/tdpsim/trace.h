/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace reader and writer: the event stream every other module consumes.
 *
 * A trace is a `tdpsim-trace 1` header, one config, then events
 * (docs/trace-text.md).  It exists in three forms that carry the same
 * events losslessly, including which optional keys were given:
 *   text   the contract's human-readable form
 *   pcap   classic pcap, LINKTYPE_USER0, records = header / event blocks /
 *          trailer (docs/trace-format.md)
 *   zst    the same pcap bytes inside a zstd stream
 * Readers detect the form from the first bytes, never from the file name.
 *
 * Design: src/trace/events.def is the single list of events and their keys
 * (fio-style {name, member, type, min, max, default, flags} rows).  The enum
 * below, the parser, printer, encoder, decoder and name table are all
 * generated from it.  Every key of every event has one global index
 * (TDP_KEY_<KIND>_<key>, < 63); struct tdp_event::present has that bit set
 * when the key was given, and TDP_PRESENT_T when `t=` was given.  Absent
 * keys hold their default (size=8, vcpu=0, everything else 0).
 *
 * Reading never allocates per event: the reader decodes up to
 * TDP_TRACE_BATCH events at a time into an array it owns and hands out
 * pointers into it, valid until the next call on the same reader.
 *
 * Errors are negative TDP_E_* codes.  The message, naming the file and the
 * position ("t.txt:12: unknown key 'foo' for 'access'", "t.zst: record 3,
 * offset 0x1a2c: truncated event"), is in the caller's errbuf for the
 * openers and in tdp_trace_errmsg() / tdp_writer_errmsg() afterwards.
 */
#ifndef TDPSIM_TRACE_H
#define TDPSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tdpsim/util.h>

/* Longest `mark label=` word, in bytes (no NUL). */
#define TDP_LABEL_MAX 39

enum tdp_event_kind {
#define TDP_EVENT(KIND, name) TDP_EV_##KIND,
#define TDP_KEY(KIND, key, member, type, min, max, dflt, flags)
#include <trace/events.def>
	TDP_EV__COUNT
};

/*
 * Global key indices.  TDP_EVENT() emits a marker TDP_KEYS_<KIND> equal to
 * the index of that kind's first key, then rewinds by one so the first key
 * takes the same value: kind K owns [TDP_KEYS_<K>, TDP_KEYS_<K+1>).
 */
enum tdp_key_index {
#define TDP_EVENT(KIND, name) TDP_KEYS_##KIND, TDP_KEYS_##KIND##__ = TDP_KEYS_##KIND - 1,
#define TDP_KEY(KIND, key, member, type, min, max, dflt, flags) TDP_KEY_##KIND##_##key,
#include <trace/events.def>
	TDP_KEY__COUNT
};

#define TDP_PRESENT_T		(1ull << 63)	/* `t=` was given */
#define TDP_KEY_BIT(KIND, key)	(1ull << TDP_KEY_##KIND##_##key)
/* TDP_HAS(ev, ACCESS, cpl): was key `cpl` given on this access event? */
#define TDP_HAS(ev, KIND, key)	(!!((ev)->present & TDP_KEY_BIT(KIND, key)))

_Static_assert(TDP_EV__COUNT <= 16, "kind must fit the block header's 4 bits");
_Static_assert(TDP_KEY__COUNT < 63, "present mask: one bit per key plus TDP_PRESENT_T");

enum tdp_access_op { TDP_OP_READ = 0, TDP_OP_WRITE = 1, TDP_OP_FETCH = 2 };
/* flush kind=: MOV CR3 with the same value (no PCID), or a CR4.PGE toggle */
enum tdp_flush_kind { TDP_FLUSH_CR3 = 0, TDP_FLUSH_GLOBAL = 1 };

/*
 * One event.  kind selects the member of u; vcpu is hoisted out of the
 * union because most kinds carry it.  Invariant (reader and writer check
 * it): every value is within its events.def range, vcpu < config vcpus,
 * and vmenter carries eptp/mbec on intel and ncr3/gmet on amd.
 */
struct tdp_event {
	uint8_t kind;		/* enum tdp_event_kind */
	uint8_t reserved;
	uint16_t vcpu;		/* 0 unless given */
	uint32_t reserved2;
	uint64_t present;	/* TDP_KEY_BIT()s of given keys | TDP_PRESENT_T */
	uint64_t t;		/* ns; 0 unless TDP_PRESENT_T */
	union {
		struct {
			uint64_t gpa, val;
			uint8_t size;
			uint8_t cpl;	/* valid only if TDP_HAS(ev, WRITE, cpl) */
			uint8_t ac;
			uint64_t gva;	/* valid only if TDP_HAS(ev, WRITE, gva) */
		} write;
		struct {
			uint64_t cr0, cr3, cr4, efer;
			uint32_t pkru;
			uint8_t cpl;
		} set;
		struct {
			uint64_t gva;
			uint8_t op;	/* enum tdp_access_op */
			uint8_t cpl;	/* valid only if TDP_HAS(ev, ACCESS, cpl) */
			uint8_t ac, implicit;
		} access;
		struct { uint64_t gva; } invlpg;
		struct { uint8_t kind; } flush;	/* enum tdp_flush_kind */
		struct { uint64_t eptp, ncr3; uint8_t mbec, gmet; } vmenter;
		struct { uint64_t eptp; } invept;	/* single-context iff given */
		struct { uint64_t addr, ec; } fault;
		struct { uint64_t gpa; uint8_t size; } peek;
		struct { char label[TDP_LABEL_MAX + 1]; } mark;	/* NUL-terminated */
	} u;
};

/* Name of an event kind ("access"), or NULL if out of range. */
const char *tdp_event_name(unsigned int kind);

enum tdp_vendor { TDP_VENDOR_INTEL, TDP_VENDOR_AMD };
enum tdp_paging { TDP_PAGING_SHADOW, TDP_PAGING_TDP, TDP_PAGING_NESTED };

/* Config keys, in printing order; bits of tdp_config::present. */
#define TDP_CONFIG_KEYS(X)						\
	X(vendor) X(paging) X(vcpus) X(maxphyaddr) X(mem) X(mbec) X(gmet) \
	X(ept_ad) X(la57) X(max_mmu_pages) X(nx_huge_pages)		\
	X(ept_execonly) X(ept_5level) X(ept_1g)
enum tdp_config_key {
#define X(k) TDP_CFG_##k,
	TDP_CONFIG_KEYS(X)
#undef X
	TDP_CFG__COUNT
};

/*
 * The `config` line.  Absent keys hold trace-text.md's defaults (set by
 * tdp_config_init()); present remembers which were given so a converted
 * trace prints the same line.  max_mmu_pages == 0 means "KVM's default
 * rule".  Invariants after parsing: 1 <= vcpus <= 65536,
 * 32 <= maxphyaddr <= 52, mem is a non-zero multiple of 4096 and at most
 * 2^maxphyaddr, mbec only on intel and gmet only on amd.
 */
struct tdp_config {
	enum tdp_vendor vendor;
	enum tdp_paging paging;
	uint32_t vcpus;
	uint32_t maxphyaddr;
	uint64_t mem;
	uint64_t max_mmu_pages;
	bool mbec, gmet, ept_ad, la57, nx_huge_pages;
	/* the host's EPT capabilities (intel): what KVM can offer L1 */
	bool ept_execonly, ept_5level, ept_1g;
	uint32_t present;	/* 1u << TDP_CFG_* */
};

void tdp_config_init(struct tdp_config *cfg);
/*
 * tdp_config_parse() - parse a config line's content ("vendor=intel ...",
 * without the word `config`) into @cfg.  Return: 0 or a TDP_E_* code with a
 * reason (no position) in @why.
 */
int tdp_config_parse(struct tdp_config *cfg, const char *text,
		     char *why, size_t whylen);
/* Print the config's content (given keys only, canonical order). */
int tdp_config_format(const struct tdp_config *cfg, char *buf, size_t len);

enum tdp_trace_form { TDP_FORM_TEXT, TDP_FORM_PCAP, TDP_FORM_ZST };

/* ------------------------------------------------------------------ */
/* Reader */

typedef struct tdp_trace tdp_trace_t;

#define TDP_TRACE_BATCH 256
/*
 * Longest line of a text trace, in bytes without its newline.  The longest
 * valid event line is a few hundred bytes; the cap keeps a hostile file
 * from making the reader's memory grow (docs/RELIABILITY.md).
 */
#define TDP_TEXT_LINE_MAX 65536u

/*
 * The error-code bits a `fault` event may carry: what hardware reports on
 * a #PF intercept / EPT violation / NPF and KVM passes to its handler
 * (PFERR_PRESENT, WRITE, USER, RSVD, FETCH, GUEST_FINAL, GUEST_PAGE).
 * Others (PK, SS, SGX, bits 16-31: reserved or not modelled) would index
 * past KVM's 16-entry permissions[] (found by fuzz_replay, issue 13).
 */
#define TDP_FAULT_EC_VALID 0x30000001full

/*
 * tdp_trace_open() - open @path ("-" is stdin), detect its form, read the
 * header and config.  Return: 0 and *@tp, or a TDP_E_* code and a message
 * in @errbuf (also for an empty file, a directory, a bad header).
 */
int tdp_trace_open(tdp_trace_t **tp, const char *path, char errbuf[TDP_ERRBUF_SIZE]);
void tdp_trace_close(tdp_trace_t *t);

const struct tdp_config *tdp_trace_config(const tdp_trace_t *t);
enum tdp_trace_form tdp_trace_form(const tdp_trace_t *t);
/*
 * Header notes: free text a producer attached to the trace (an importer says
 * there what it could not reconstruct), lines separated by '\n', "" if none.
 * Text form: '#!' comment lines before the config line; binary form: the
 * TPHR record's notes field (docs/trace-format.md).  Carried by convert.
 */
const char *tdp_trace_notes(const tdp_trace_t *t);
/* Producer string from the binary header ("" for text traces). */
const char *tdp_trace_producer(const tdp_trace_t *t);

/*
 * tdp_trace_next() - the next event.
 * Return: 1 and *@ev (valid until the next call), 0 at the end of a
 * complete trace, or a TDP_E_* code (message in tdp_trace_errmsg()).
 * Errors are sticky.
 */
int tdp_trace_next(tdp_trace_t *t, const struct tdp_event **ev);
/*
 * tdp_trace_next_batch() - up to TDP_TRACE_BATCH events at once.
 * Return: the number of events (> 0) in *@evs, 0 at the end, or TDP_E_*.
 */
int tdp_trace_next_batch(tdp_trace_t *t, const struct tdp_event **evs);
/*
 * tdp_trace_read_ahead() - read and decode on a second thread from now on,
 * a ring of batches ahead of the caller.  What next() and the position,
 * progress and error calls return is unchanged; an event pointer stays
 * valid until the next call, as before.  Call it before the first next();
 * it does nothing for stdin or with fewer than 2 CPUs to run on.
 * Return: 1 if the thread runs, 0 if reading stays in line.
 */
int tdp_trace_read_ahead(tdp_trace_t *t);
const char *tdp_trace_errmsg(const tdp_trace_t *t);

/*
 * Position of the last event handed out: text line number, or pcap record
 * index (0 = header) for binary traces.
 */
uint64_t tdp_trace_position(const tdp_trace_t *t);
/* Size of the file (0 for a pipe); bytes after decompression read so far. */
uint64_t tdp_trace_file_bytes(const tdp_trace_t *t);
uint64_t tdp_trace_raw_bytes(const tdp_trace_t *t);
/* Bytes of the file read so far (decompressed bytes for a pipe). */
uint64_t tdp_trace_file_pos(const tdp_trace_t *t);

/* ------------------------------------------------------------------ */
/* Writer */

typedef struct tdp_writer tdp_writer_t;

/*
 * tdp_writer_open() - create @path in @form ("-" is stdout, text only).
 * Written to "<path>.tmp.<pid>" and renamed into place by a successful
 * tdp_writer_close(); tdp_writer_free() without one removes it.  @producer names the
 * tool in the binary header (NULL: "tdpsim <version>").  @level is the
 * zstd level (0: default 3).
 */
int tdp_writer_open(tdp_writer_t **wp, const char *path, enum tdp_trace_form form,
		    int level, const char *producer, char errbuf[TDP_ERRBUF_SIZE]);
/*
 * tdp_writer_note() - add one header note line (see tdp_trace_notes());
 * only before tdp_writer_config().  A newline in @line becomes a space.
 */
int tdp_writer_note(tdp_writer_t *w, const char *line);
/* Must be called once, before the first event. */
int tdp_writer_config(tdp_writer_t *w, const struct tdp_config *cfg);
/* Validates @ev against the config (same rules as the parsers). */
int tdp_writer_event(tdp_writer_t *w, const struct tdp_event *ev);
/*
 * tdp_writer_close() - finish (last block, trailer, zstd end of frame) and
 * rename into place.  On failure the temporary is removed.  Either way,
 * tdp_writer_errmsg() stays valid until tdp_writer_free().
 */
int tdp_writer_close(tdp_writer_t *w);
/* Free; drops the output unless tdp_writer_close() succeeded.  NULL is ok. */
void tdp_writer_free(tdp_writer_t *w);
const char *tdp_writer_errmsg(const tdp_writer_t *w);

/* Output form for a file name: .txt text, .pcap pcap, otherwise zst. */
enum tdp_trace_form tdp_form_from_name(const char *path);

/* ------------------------------------------------------------------ */
/* Text form of single events (the reader and writer use these too) */

/*
 * tdp_event_format() - print @ev as one text line (no newline) into @buf.
 * Given keys only, in events.def order; `t=` first when present.
 * Return: the length, as snprintf.
 */
int tdp_event_format(const struct tdp_event *ev, char *buf, size_t len);
/*
 * tdp_event_parse() - parse one event line (comment already stripped) into
 * @ev, checking it against @cfg.  Return: 0, or TDP_E_* with the reason in
 * @why (no position).
 */
int tdp_event_parse(struct tdp_event *ev, char *line, const struct tdp_config *cfg,
		    char *why, size_t whylen);
/*
 * tdp_event_check() - the range/vendor/vcpu rules on a decoded or
 * caller-built event.  Return: 0 or TDP_E_* with a reason in @why.
 */
int tdp_event_check(const struct tdp_event *ev, const struct tdp_config *cfg,
		    char *why, size_t whylen);
/* Field-by-field equality, padding ignored. */
bool tdp_event_equal(const struct tdp_event *a, const struct tdp_event *b);

#endif /* TDPSIM_TRACE_H */
