/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Streaming JSON writer for reports.  Integers are written exactly (u64 GPAs
 * and counters do not go through double), doubles with a fixed number of
 * significant digits, strings escaped per RFC 8259.  The writer tracks
 * nesting and commas; misuse (a value where a key is due, too deep
 * nesting) sets ->err and is reported by tdp_json_end().
 *
 *	struct tdp_json j;
 *	tdp_json_begin(&j, fp, 2);
 *	tdp_json_obj_open(&j, NULL);
 *	tdp_json_u64(&j, "events", n);
 *	tdp_json_obj_close(&j);
 *	ret = tdp_json_end(&j);
 */
#ifndef TDPSIM_JSON_H
#define TDPSIM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TDP_JSON_MAX_DEPTH 16

struct tdp_json {
	FILE *fp;
	int indent;			/* spaces per level; 0 = compact */
	int depth;
	bool first[TDP_JSON_MAX_DEPTH];	/* no element written yet at depth */
	bool is_obj[TDP_JSON_MAX_DEPTH];
	int err;
};

void tdp_json_begin(struct tdp_json *j, FILE *fp, int indent);
/* 0, or TDP_E_INTERNAL for unbalanced/misused writer, TDP_E_IO on write error. */
int tdp_json_end(struct tdp_json *j);

/* In an object, @key names the member; in an array or at top level, pass NULL. */
void tdp_json_obj_open(struct tdp_json *j, const char *key);
void tdp_json_obj_close(struct tdp_json *j);
void tdp_json_arr_open(struct tdp_json *j, const char *key);
void tdp_json_arr_close(struct tdp_json *j);
void tdp_json_u64(struct tdp_json *j, const char *key, uint64_t v);
void tdp_json_i64(struct tdp_json *j, const char *key, int64_t v);
void tdp_json_double(struct tdp_json *j, const char *key, double v);
void tdp_json_bool(struct tdp_json *j, const char *key, bool v);
void tdp_json_str(struct tdp_json *j, const char *key, const char *s);
void tdp_json_null(struct tdp_json *j, const char *key);

#endif /* TDPSIM_JSON_H */
