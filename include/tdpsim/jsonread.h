/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict JSON reader (RFC 8259) building a small DOM, for reading tdpsim's
 * own reports back.  The counterpart of json.h.
 *
 * Strict means: one value with only whitespace around it; no comments, no
 * trailing commas, no leading zeros, no raw control characters in strings,
 * valid UTF-8 and valid \u escapes (surrogates paired), and no duplicate
 * keys within one object (a report with two "exits" has no single meaning).
 *
 * Numbers: a literal without fraction or exponent that fits is kept exact,
 * as TDP_JSON_U64 (>= 0) or TDP_JSON_I64 (< 0), so counters and GPAs never go
 * through a double; every other number is a TDP_JSON_DOUBLE.
 *
 * Limits: nesting deeper than ->max_depth and inputs larger than ->max_size
 * are rejected before any work is spent on them.  The parser recurses once
 * per nesting level, so max_depth also bounds its stack use.
 *
 * Errors come back as TDP_E_JSON (or TDP_E_NOMEM) with a message
 * "LINE:COL: what" (1-based, columns counted in bytes) in the caller's buffer.
 */
#ifndef TDPSIM_JSONREAD_H
#define TDPSIM_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tdp_json_type {
	TDP_JSON_NULL,
	TDP_JSON_BOOL,
	TDP_JSON_U64,
	TDP_JSON_I64,		/* only negative values */
	TDP_JSON_DOUBLE,
	TDP_JSON_STRING,
	TDP_JSON_ARRAY,
	TDP_JSON_OBJECT,
};

struct tdp_json_member;

struct tdp_json_value {
	enum tdp_json_type type;
	unsigned int line, col;		/* where the value starts */
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double d;
		struct {
			char *s;	/* NUL-terminated; may hold \u0000 */
			size_t len;
		} str;
		struct {
			struct tdp_json_value *v;
			size_t n;
		} arr;
		struct {
			struct tdp_json_member *m;	/* in document order */
			size_t n;
		} obj;
	};
};

struct tdp_json_member {
	char *key;			/* NUL-terminated; may hold \u0000 */
	size_t key_len;
	unsigned int key_line, key_col;
	struct tdp_json_value val;
};

struct tdp_json_limits {
	unsigned int max_depth;		/* arrays/objects nested; 0 = default */
	size_t max_size;		/* bytes of input; 0 = default */
};

#define TDP_JSONREAD_DEFAULT_DEPTH 64
#define TDP_JSONREAD_DEFAULT_SIZE  (256u << 20)

/*
 * tdp_json_parse() - parse @len bytes at @buf into *@root.
 * @lim may be NULL for the defaults.  On success returns 0 and *@root must be
 * released with tdp_json_free(); on failure returns TDP_E_JSON or
 * TDP_E_NOMEM, fills @err (if non-NULL) and leaves *@root as TDP_JSON_NULL.
 */
int tdp_json_parse(const char *buf, size_t len, const struct tdp_json_limits *lim,
		   struct tdp_json_value *root, char *err, size_t errlen);

/* tdp_json_free() - release what tdp_json_parse() allocated under @v. */
void tdp_json_free(struct tdp_json_value *v);

/* tdp_json_get() - member @key of object @obj; NULL if absent or not an object. */
const struct tdp_json_value *tdp_json_get(const struct tdp_json_value *obj,
					  const char *key);

/*
 * tdp_json_path() - follow a dotted path of member names ("walks.latency_ns.p50");
 * NULL if any step is missing or not an object.
 */
const struct tdp_json_value *tdp_json_path(const struct tdp_json_value *obj,
					   const char *path);

/* tdp_json_as_double() - any number as a double (u64/i64 rounded); false otherwise. */
bool tdp_json_as_double(const struct tdp_json_value *v, double *out);

/* Name of a type, for messages ("an object", "a string", ...). */
const char *tdp_json_type_name(enum tdp_json_type t);

#endif /* TDPSIM_JSONREAD_H */
