/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tdpsim error codes: one list, many outputs.
 *
 * Every library function that can fail returns a negative TDP_E_* code (or a
 * NULL pointer plus a code through an out-parameter).  Non-error outcomes
 * (replay results, RET_PF_* values) are separate enums whose values are >= 0,
 * so they never collide with these, as KVM's RET_PF_* never encroach on
 * -errno.
 *
 * To add an error: add one X() row here.  The enum, tdp_strerror() and
 * tdp_err_name() are generated from the list.  Keep existing values stable:
 * rows are only ever appended.
 */
#ifndef TDPSIM_ERRORS_H
#define TDPSIM_ERRORS_H

#define TDP_ERR_MAP(X)                                                        \
	X(NOMEM,     "out of memory")                                         \
	X(IO,        "i/o error")                                             \
	X(USAGE,     "invalid usage")                                         \
	X(FORMAT,    "malformed trace")                                       \
	X(TRUNC,     "truncated trace")                                       \
	X(VERSION,   "unsupported trace version")                             \
	X(LINKTYPE,  "wrong pcap link type")                                  \
	X(EVENT,     "unknown event")                                         \
	X(KEY,       "unknown or missing key")                                \
	X(RANGE,     "value out of range")                                    \
	X(ZSTD,      "zstd stream error")                                     \
	X(PCAP,      "pcap error")                                            \
	X(CONFIG,    "invalid configuration")                                 \
	X(UNSUPP,    "not supported by this layout or mode")                  \
	X(LOOP,      "self-referencing page table")                           \
	X(NOSPC,     "shadow page limit reached")                             \
	X(GNUPLOT,   "gnuplot failed")                                        \
	X(JSON,      "malformed report")                                      \
	X(STATE,     "event not valid in the current vcpu state")             \
	X(INTERNAL,  "internal error")

/* Negative codes; 0 means success.  TDP_E__FIRST anchors the numbering. */
enum tdp_err {
	TDP_OK = 0,
	TDP_E__FIRST = -1000,
#define X(name, text) TDP_E_##name,
	TDP_ERR_MAP(X)
#undef X
	TDP_E__LAST
};

/* tdp_strerror() - text of a TDP_E_* code; "unknown error" otherwise. */
const char *tdp_strerror(int err);
/* tdp_err_name() - "TDP_E_FORMAT" etc., for logs and tests. */
const char *tdp_err_name(int err);

#endif /* TDPSIM_ERRORS_H */
