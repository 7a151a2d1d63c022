// SPDX-License-Identifier: GPL-2.0-only
/*
 * Strict JSON reader: recursive descent over a buffer, one call level per
 * nesting level (bounded by max_depth before descending), building the DOM
 * of jsonread.h.
 *
 * Invariant kept throughout: every tdp_json_value reachable from the root is
 * in a state tdp_json_free() can release, even while it is being filled, so
 * any error simply unwinds and frees the whole tree once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/jsonread.h>

struct jparser {
	const char *p;			/* next byte */
	const char *end;
	const char *line_start;		/* first byte of the current line */
	unsigned int line;
	unsigned int max_depth;
	char *err;
	size_t errlen;
};

static unsigned int jp_col(const struct jparser *jp, const char *at)
{
	return (unsigned int)(at - jp->line_start) + 1;
}

/* Report an error at byte @at of the current line; always TDP_E_JSON. */
__attribute__((format(printf, 3, 4)))
static int jp_fail(struct jparser *jp, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!jp->err || !jp->errlen)
		return TDP_E_JSON;
	n = snprintf(jp->err, jp->errlen, "%u:%u: ", jp->line, jp_col(jp, at));
	if (n < 0 || (size_t)n >= jp->errlen)
		return TDP_E_JSON;
	va_start(ap, fmt);
	vsnprintf(jp->err + n, jp->errlen - n, fmt, ap);
	va_end(ap);
	return TDP_E_JSON;
}

static int jp_nomem(struct jparser *jp)
{
	if (jp->err && jp->errlen)
		snprintf(jp->err, jp->errlen, "%u:%u: out of memory", jp->line,
			 jp_col(jp, jp->p));
	return TDP_E_NOMEM;
}

/* Newlines are legal only here (raw control bytes in strings are errors). */
static void skip_ws(struct jparser *jp)
{
	while (jp->p < jp->end) {
		char c = *jp->p;

		if (c == '\n') {
			jp->line++;
			jp->line_start = jp->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
		jp->p++;
	}
}

static void put_utf8(char *dst, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		dst[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		dst[(*n)++] = (char)(0xc0 | (cp >> 6));
		dst[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		dst[(*n)++] = (char)(0xe0 | (cp >> 12));
		dst[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		dst[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		dst[(*n)++] = (char)(0xf0 | (cp >> 18));
		dst[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		dst[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		dst[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Four hex digits at @s (bounds checked by the caller); -1 if not hex. */
static int32_t hex4(const char *s)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629 table: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * parse_string() - jp->p is at the opening quote.  The decoded string is
 * never longer than its source, so one allocation of the source length
 * suffices.
 */
static int parse_string(struct jparser *jp, char **out, size_t *out_len)
{
	const char *s = jp->p + 1, *q;
	char *dst;
	size_t n = 0;
	int ret;

	for (q = s; q < jp->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < jp->end)
			q++;
	if (q >= jp->end)
		return jp_fail(jp, jp->p, "unterminated string");
	dst = malloc((size_t)(q - s) + 1);
	if (!dst)
		return jp_nomem(jp);

	while (s < q) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20) {
			ret = jp_fail(jp, s, "control character 0x%02x in string", c);
			goto out_free;
		}
		if (c >= 0x80) {
			size_t len = utf8_len((const unsigned char *)s,
					      (const unsigned char *)q);

			if (!len) {
				ret = jp_fail(jp, s, "invalid UTF-8 in string");
				goto out_free;
			}
			memcpy(dst + n, s, len);
			n += len;
			s += len;
			continue;
		}
		if (c != '\\') {
			dst[n++] = (char)c;
			s++;
			continue;
		}
		switch (s[1]) {
		case '"':  dst[n++] = '"';  s += 2; continue;
		case '\\': dst[n++] = '\\'; s += 2; continue;
		case '/':  dst[n++] = '/';  s += 2; continue;
		case 'b':  dst[n++] = '\b'; s += 2; continue;
		case 'f':  dst[n++] = '\f'; s += 2; continue;
		case 'n':  dst[n++] = '\n'; s += 2; continue;
		case 'r':  dst[n++] = '\r'; s += 2; continue;
		case 't':  dst[n++] = '\t'; s += 2; continue;
		case 'u':  break;
		default:
			ret = jp_fail(jp, s, "invalid escape '\\%c'", s[1]);
			goto out_free;
		}

		/* \uXXXX, maybe a surrogate pair \uD8xx\uDCxx */
		int32_t cp = q - s >= 6 ? hex4(s + 2) : -1, lo;

		if (cp < 0) {
			ret = jp_fail(jp, s, "invalid \\u escape");
			goto out_free;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			ret = jp_fail(jp, s, "unpaired surrogate in \\u escape");
			goto out_free;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			lo = q - s >= 12 && s[6] == '\\' && s[7] == 'u' ?
				hex4(s + 8) : -1;
			if (lo < 0xdc00 || lo > 0xdfff) {
				ret = jp_fail(jp, s, "unpaired surrogate in \\u escape");
				goto out_free;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			s += 6;
		}
		put_utf8(dst, &n, (uint32_t)cp);
		s += 6;
	}
	dst[n] = '\0';
	*out = dst;
	*out_len = n;
	jp->p = q + 1;
	return 0;

out_free:
	free(dst);
	return ret;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct jparser *jp, struct tdp_json_value *v)
{
	const char *start = jp->p, *s = jp->p;
	bool neg = false, is_int = true, overflow = false;
	uint64_t mag = 0;
	char small[64], *tmp;
	double d;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (s >= jp->end || !is_digit(*s))
		return jp_fail(jp, s, "invalid number");
	if (*s == '0' && s + 1 < jp->end && is_digit(s[1]))
		return jp_fail(jp, s, "leading zero in number");
	for (; s < jp->end && is_digit(*s); s++) {
		unsigned int dig = (unsigned int)(*s - '0');

		if (mag > (UINT64_MAX - dig) / 10)
			overflow = true;
		else
			mag = mag * 10 + dig;
	}
	if (s < jp->end && *s == '.') {
		is_int = false;
		if (++s >= jp->end || !is_digit(*s))
			return jp_fail(jp, s, "digit expected after '.'");
		while (s < jp->end && is_digit(*s))
			s++;
	}
	if (s < jp->end && (*s == 'e' || *s == 'E')) {
		is_int = false;
		s++;
		if (s < jp->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= jp->end || !is_digit(*s))
			return jp_fail(jp, s, "digit expected in exponent");
		while (s < jp->end && is_digit(*s))
			s++;
	}

	if (is_int && !overflow && !neg) {
		v->type = TDP_JSON_U64;
		v->u = mag;
		goto out;
	}
	if (is_int && !overflow && neg && mag <= (uint64_t)INT64_MAX + 1) {
		if (mag == 0) {		/* "-0" is zero, and I64 holds negatives only */
			v->type = TDP_JSON_U64;
			v->u = 0;
		} else {
			v->type = TDP_JSON_I64;
			v->i = (int64_t)(0 - mag);	/* well defined for 2^63 too */
		}
		goto out;
	}

	/* strtod wants a NUL-terminated copy; the C locale is never changed */
	size_t len = (size_t)(s - start);

	tmp = len < sizeof(small) ? small : malloc(len + 1);
	if (!tmp)
		return jp_nomem(jp);
	memcpy(tmp, start, len);
	tmp[len] = '\0';
	errno = 0;
	d = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	if (isinf(d))
		return jp_fail(jp, start, "number out of range");
	v->type = TDP_JSON_DOUBLE;
	v->d = d;
out:
	jp->p = s;
	return 0;
}

static int parse_value(struct jparser *jp, struct tdp_json_value *v, unsigned int depth);

static int parse_array(struct jparser *jp, struct tdp_json_value *v, unsigned int depth)
{
	size_t cap = 0;
	int ret;

	v->type = TDP_JSON_ARRAY;
	v->arr.v = NULL;
	v->arr.n = 0;
	jp->p++;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == ']') {
		jp->p++;
		return 0;
	}
	for (;;) {
		if (v->arr.n == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			void *nv = realloc(v->arr.v, ncap * sizeof(*v->arr.v));

			if (!nv)
				return jp_nomem(jp);
			v->arr.v = nv;
			cap = ncap;
		}
		struct tdp_json_value *e = &v->arr.v[v->arr.n++];

		e->type = TDP_JSON_NULL;
		ret = parse_value(jp, e, depth);
		if (ret)
			return ret;
		skip_ws(jp);
		if (jp->p >= jp->end)
			return jp_fail(jp, jp->p, "unexpected end of input in array");
		if (*jp->p == ']') {
			jp->p++;
			return 0;
		}
		if (*jp->p != ',')
			return jp_fail(jp, jp->p, "',' or ']' expected");
		jp->p++;
	}
}

static int cmp_member_ptr(const void *a, const void *b)
{
	const struct tdp_json_member *x = *(const struct tdp_json_member *const *)a;
	const struct tdp_json_member *y = *(const struct tdp_json_member *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x < y ? -1 : x > y;	/* document order among equals */
}

static bool same_key(const struct tdp_json_member *x, const struct tdp_json_member *y)
{
	return x->key_len == y->key_len && !memcmp(x->key, y->key, x->key_len);
}

/*
 * Duplicate keys: report the first member (in document order) whose key
 * appeared before.  Sorting keeps this O(n log n) for hostile objects with
 * many members; small objects take the quadratic scan.
 */
static int check_duplicates(struct jparser *jp, const struct tdp_json_value *v)
{
	const struct tdp_json_member *m = v->obj.m, *dup = NULL;
	size_t n = v->obj.n;

	if (n <= 16) {
		for (size_t i = 1; i < n && !dup; i++)
			for (size_t j = 0; j < i; j++)
				if (same_key(&m[i], &m[j])) {
					dup = &m[i];
					break;
				}
	} else {
		const struct tdp_json_member **idx = malloc(n * sizeof(*idx));

		if (!idx)
			return jp_nomem(jp);
		for (size_t i = 0; i < n; i++)
			idx[i] = &m[i];
		qsort(idx, n, sizeof(*idx), cmp_member_ptr);
		for (size_t i = 1; i < n; i++)
			if (same_key(idx[i], idx[i - 1]) && (!dup || idx[i] < dup))
				dup = idx[i];
		free(idx);
	}
	if (!dup)
		return 0;
	if (jp->err && jp->errlen)
		snprintf(jp->err, jp->errlen, "%u:%u: duplicate key '%s'",
			 dup->key_line, dup->key_col, dup->key);
	return TDP_E_JSON;
}

static int parse_object(struct jparser *jp, struct tdp_json_value *v, unsigned int depth)
{
	size_t cap = 0;
	int ret;

	v->type = TDP_JSON_OBJECT;
	v->obj.m = NULL;
	v->obj.n = 0;
	jp->p++;
	skip_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp->p++;
		return 0;
	}
	for (;;) {
		if (jp->p >= jp->end)
			return jp_fail(jp, jp->p, "unexpected end of input in object");
		if (*jp->p != '"')
			return jp_fail(jp, jp->p, "string key expected");
		if (v->obj.n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			void *nm = realloc(v->obj.m, ncap * sizeof(*v->obj.m));

			if (!nm)
				return jp_nomem(jp);
			v->obj.m = nm;
			cap = ncap;
		}
		struct tdp_json_member *m = &v->obj.m[v->obj.n];

		m->key_line = jp->line;
		m->key_col = jp_col(jp, jp->p);
		ret = parse_string(jp, &m->key, &m->key_len);
		if (ret)
			return ret;
		m->val.type = TDP_JSON_NULL;
		v->obj.n++;		/* the key is owned by the tree from here */
		skip_ws(jp);
		if (jp->p >= jp->end || *jp->p != ':')
			return jp_fail(jp, jp->p, "':' expected after key");
		jp->p++;
		ret = parse_value(jp, &m->val, depth);
		if (ret)
			return ret;
		skip_ws(jp);
		if (jp->p >= jp->end)
			return jp_fail(jp, jp->p, "unexpected end of input in object");
		if (*jp->p == '}') {
			jp->p++;
			return check_duplicates(jp, v);
		}
		if (*jp->p != ',')
			return jp_fail(jp, jp->p, "',' or '}' expected");
		jp->p++;
		skip_ws(jp);
	}
}

static int parse_literal(struct jparser *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n))
		return jp_fail(jp, jp->p, "invalid literal");
	jp->p += n;
	return 0;
}

/* @depth: containers already open around @v. */
static int parse_value(struct jparser *jp, struct tdp_json_value *v, unsigned int depth)
{
	int ret;

	skip_ws(jp);
	v->type = TDP_JSON_NULL;
	v->line = jp->line;
	v->col = jp_col(jp, jp->p);
	if (jp->p >= jp->end)
		return jp_fail(jp, jp->p, "unexpected end of input");

	switch (*jp->p) {
	case '{':
	case '[':
		if (depth >= jp->max_depth)
			return jp_fail(jp, jp->p, "nesting deeper than %u",
				       jp->max_depth);
		if (*jp->p == '{')
			return parse_object(jp, v, depth + 1);
		return parse_array(jp, v, depth + 1);
	case '"':
		ret = parse_string(jp, &v->str.s, &v->str.len);
		if (!ret)
			v->type = TDP_JSON_STRING;
		return ret;
	case 't':
		v->b = true;
		v->type = TDP_JSON_BOOL;
		return parse_literal(jp, "true");
	case 'f':
		v->b = false;
		v->type = TDP_JSON_BOOL;
		return parse_literal(jp, "false");
	case 'n':
		return parse_literal(jp, "null");
	default:
		if (*jp->p == '-' || is_digit(*jp->p))
			return parse_number(jp, v);
		return jp_fail(jp, jp->p, "unexpected character '%c'",
			       *jp->p >= 0x20 && *jp->p < 0x7f ? *jp->p : '?');
	}
}

int tdp_json_parse(const char *buf, size_t len, const struct tdp_json_limits *lim,
		   struct tdp_json_value *root, char *err, size_t errlen)
{
	struct jparser jp = {
		.p = buf, .end = buf + len, .line_start = buf, .line = 1,
		.max_depth = lim && lim->max_depth ? lim->max_depth :
			     TDP_JSONREAD_DEFAULT_DEPTH,
		.err = err, .errlen = errlen,
	};
	size_t max_size = lim && lim->max_size ? lim->max_size :
			  TDP_JSONREAD_DEFAULT_SIZE;
	int ret;

	memset(root, 0, sizeof(*root));
	if (err && errlen)
		err[0] = '\0';
	if (len > max_size) {
		if (err && errlen)
			snprintf(err, errlen, "1:1: input of %zu bytes exceeds the limit of %zu",
				 len, max_size);
		return TDP_E_JSON;
	}
	ret = parse_value(&jp, root, 0);
	if (!ret) {
		skip_ws(&jp);
		if (jp.p < jp.end)
			ret = jp_fail(&jp, jp.p, "trailing data after the document");
	}
	if (ret) {
		tdp_json_free(root);
		memset(root, 0, sizeof(*root));
	}
	return ret;
}

/* Recursion here is bounded by the depth limit the tree was parsed under. */
void tdp_json_free(struct tdp_json_value *v)
{
	switch (v->type) {
	case TDP_JSON_STRING:
		free(v->str.s);
		break;
	case TDP_JSON_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			tdp_json_free(&v->arr.v[i]);
		free(v->arr.v);
		break;
	case TDP_JSON_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++) {
			free(v->obj.m[i].key);
			tdp_json_free(&v->obj.m[i].val);
		}
		free(v->obj.m);
		break;
	default:
		break;
	}
	v->type = TDP_JSON_NULL;
}

const struct tdp_json_value *tdp_json_get(const struct tdp_json_value *obj,
					  const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != TDP_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->obj.n; i++)
		if (obj->obj.m[i].key_len == n && !memcmp(obj->obj.m[i].key, key, n))
			return &obj->obj.m[i].val;
	return NULL;
}

const struct tdp_json_value *tdp_json_path(const struct tdp_json_value *obj,
					   const char *path)
{
	char name[128];

	while (obj && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(name))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		obj = tdp_json_get(obj, name);
		path += n + (dot ? 1 : 0);
	}
	return obj;
}

bool tdp_json_as_double(const struct tdp_json_value *v, double *out)
{
	if (!v)
		return false;
	switch (v->type) {
	case TDP_JSON_U64:
		*out = (double)v->u;
		return true;
	case TDP_JSON_I64:
		*out = (double)v->i;
		return true;
	case TDP_JSON_DOUBLE:
		*out = v->d;
		return true;
	default:
		return false;
	}
}

const char *tdp_json_type_name(enum tdp_json_type t)
{
	static const char *const names[] = {
		[TDP_JSON_NULL] = "null", [TDP_JSON_BOOL] = "a boolean",
		[TDP_JSON_U64] = "an unsigned integer",
		[TDP_JSON_I64] = "a negative integer",
		[TDP_JSON_DOUBLE] = "a fractional number",
		[TDP_JSON_STRING] = "a string", [TDP_JSON_ARRAY] = "an array",
		[TDP_JSON_OBJECT] = "an object",
	};

	return (unsigned int)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
