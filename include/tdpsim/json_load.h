/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading JSON back (reports, comparison files, expectations) with jansson,
 * the counterpart of the streaming writer in json.h.  Why jansson and not
 * json-c, measured: docs/RELIABILITY.md, "Reading JSON".
 *
 * tdp_json_load() is json_loadb() with the options tdpsim relies on:
 * duplicate keys are refused (a report with two "exits" has no single
 * meaning), so are trailing data, NaN/Infinity, numbers out of range
 * (integers beyond int64, reals beyond double), invalid UTF-8, unpaired
 * surrogates, raw control characters and \u0000 in strings (every string
 * tdpsim reads is a C string), and nesting deeper than jansson's
 * JSON_PARSER_MAX_DEPTH (2048).  The input is capped at TDP_JSON_MAX_SIZE.
 *
 * Integers are json_int_t (int64): counters and GPAs never go through a
 * double; tdpsim writes none at or above 2^63, and a reader meeting one
 * refuses it rather than round it.
 *
 * Errors: TDP_E_JSON (or TDP_E_NOMEM) and "LINE:COL: what" (1-based) in the
 * caller's buffer, jansson's text with any byte that is not printable
 * ASCII shown as '?'.
 */
#ifndef TDPSIM_JSON_LOAD_H
#define TDPSIM_JSON_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define TDP_JSON_MAX_SIZE (256u << 20)

/*
 * tdp_json_load() - parse @len bytes at @buf.  On success returns 0 and
 * *@root holds one reference (json_decref() it); on failure returns
 * TDP_E_JSON or TDP_E_NOMEM, sets *@root to NULL and fills @err (if
 * non-NULL).
 */
int tdp_json_load(const char *buf, size_t len, json_t **root, char *err, size_t errlen);

/*
 * tdp_json_path() - follow a dotted path of member names
 * ("walks.latency_ns.p50"); NULL if a step is missing or not an object.
 * The result is borrowed from @obj.
 */
json_t *tdp_json_path(const json_t *obj, const char *path);

/* tdp_json_as_u64() - a non-negative integer into *@out; false otherwise. */
bool tdp_json_as_u64(const json_t *v, uint64_t *out);

/* What @v is, for messages: "an object", "a negative integer", ... */
const char *tdp_json_kind(const json_t *v);

#endif /* TDPSIM_JSON_LOAD_H */
