// SPDX-License-Identifier: GPL-2.0-only
/*
 * The strict JSON reader: exact integers, escapes, UTF-8, limits, and
 * errors with their line:column.  Expected positions are counted by hand
 * from the literal inputs (1-based, bytes).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/jsonread.h>

static int parse(const char *s, struct tdp_json_value *v, char *err, size_t errlen)
{
	return tdp_json_parse(s, strlen(s), NULL, v, err, errlen);
}

Test(jsonread, u64_max_and_i64_min_are_exact)
{
	struct tdp_json_value v;
	char err[256];

	cr_assert_eq(parse("18446744073709551615", &v, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(v.type, TDP_JSON_U64);
	cr_expect_eq(v.u, UINT64_MAX);
	tdp_json_free(&v);

	/* 2^53 + 1 is not representable as a double: must stay exact */
	cr_assert_eq(parse("9007199254740993", &v, err, sizeof(err)), 0);
	cr_assert_eq(v.type, TDP_JSON_U64);
	cr_expect_eq(v.u, 9007199254740993ull);

	cr_assert_eq(parse("-9223372036854775808", &v, err, sizeof(err)), 0);
	cr_assert_eq(v.type, TDP_JSON_I64);
	cr_expect_eq(v.i, INT64_MIN);

	cr_assert_eq(parse("-1", &v, err, sizeof(err)), 0);
	cr_assert_eq(v.type, TDP_JSON_I64);
	cr_expect_eq(v.i, -1);

	/* "-0" is zero; I64 holds negatives only */
	cr_assert_eq(parse("-0", &v, err, sizeof(err)), 0);
	cr_assert_eq(v.type, TDP_JSON_U64);
	cr_expect_eq(v.u, 0);
}

Test(jsonread, out_of_integer_range_becomes_double)
{
	struct tdp_json_value v;

	cr_assert_eq(parse("18446744073709551616", &v, NULL, 0), 0);
	cr_assert_eq(v.type, TDP_JSON_DOUBLE);
	cr_expect_eq(v.d, 18446744073709551616.0);
	cr_assert_eq(parse("-9223372036854775809", &v, NULL, 0), 0);
	cr_assert_eq(v.type, TDP_JSON_DOUBLE);
	cr_expect_eq(v.d, -9223372036854775808.0);
}

Test(jsonread, fractions_and_exponents_are_doubles)
{
	static const struct { const char *in; double want; } cases[] = {
		{ "0.5", 0.5 }, { "-2.25", -2.25 }, { "1e3", 1000.0 },
		{ "1E+2", 100.0 }, { "25e-2", 0.25 }, { "0e0", 0.0 },
		{ "1.0", 1.0 },
	};
	struct tdp_json_value v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].in, &v, NULL, 0), 0, "%s", cases[i].in);
		cr_expect_eq(v.type, TDP_JSON_DOUBLE, "%s", cases[i].in);
		cr_expect_eq(v.d, cases[i].want, "%s", cases[i].in);
	}
}

Test(jsonread, escapes_decode_to_utf8)
{
	struct tdp_json_value v;
	char err[256];
	/* e-acute U+00E9 = C3 A9; euro U+20AC = E2 82 AC; U+1F600 = F0 9F 98 80 */
	static const char want[] = "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	cr_assert_eq(parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"",
			   &v, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(v.type, TDP_JSON_STRING);
	cr_assert_eq(v.str.len, sizeof(want) - 1);
	cr_expect_eq(memcmp(v.str.s, want, sizeof(want) - 1), 0);
	tdp_json_free(&v);

	/* \u0000 is kept, and counted in the length */
	cr_assert_eq(parse("\"a\\u0000b\"", &v, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(v.str.len, 3);
	cr_expect_eq(memcmp(v.str.s, "a\0b", 3), 0);
	tdp_json_free(&v);
}

/* Every byte after a backslash: exactly the eight RFC 8259 escapes decode. */
Test(jsonread, every_single_char_escape)
{
	static const char ok[] = "\"\\/bfnrt";
	static const char dec[] = "\"\\/\b\f\n\r\t";

	for (int c = 0; c < 256; c++) {
		char in[5] = { '"', '\\', (char)c, '"', 0 };
		struct tdp_json_value v;
		const char *hit = c ? strchr(ok, c) : NULL;
		int ret = tdp_json_parse(in, 4, NULL, &v, NULL, 0);

		if (hit) {
			cr_assert_eq(ret, 0, "escape 0x%02x", c);
			cr_expect_eq(v.str.len, 1);
			cr_expect_eq(v.str.s[0], dec[hit - ok], "escape 0x%02x", c);
			tdp_json_free(&v);
		} else {
			cr_expect_eq(ret, TDP_E_JSON, "escape 0x%02x accepted", c);
		}
	}
}

static size_t encode_utf8(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | ((cp >> 12) & 0x3f);
	o[2] = 0x80 | ((cp >> 6) & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * Every code point U+0020..U+10FFFF, raw in a string: accepted iff it is
 * not a surrogate (RFC 3629), and read back byte for byte; in the BMP the
 * \uXXXX escape must decode to the same bytes.
 */
Test(jsonread, every_code_point_raw_and_escaped)
{
	for (uint32_t cp = 0x20; cp <= 0x10ffff; cp++) {
		unsigned char in[16], *p = in;
		bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
		struct tdp_json_value v;
		size_t n;
		int ret;

		if (cp == '"' || cp == '\\')
			continue;
		*p++ = '"';
		n = encode_utf8(cp, p);
		p += n;
		*p++ = '"';
		ret = tdp_json_parse((const char *)in, (size_t)(p - in), NULL, &v, NULL, 0);
		if (surrogate) {
			cr_assert_eq(ret, TDP_E_JSON, "raw surrogate U+%04X accepted", cp);
			continue;
		}
		cr_assert_eq(ret, 0, "U+%04X rejected", cp);
		cr_assert_eq(v.str.len, n);
		cr_assert_eq(memcmp(v.str.s, in + 1, n), 0, "U+%04X", cp);
		tdp_json_free(&v);

		if (cp < 0x10000) {
			char esc[16];

			snprintf(esc, sizeof(esc), "\"\\u%04x\"", cp);
			cr_assert_eq(tdp_json_parse(esc, 8, NULL, &v, NULL, 0), 0, "%s", esc);
			cr_assert_eq(v.str.len, n, "%s", esc);
			cr_assert_eq(memcmp(v.str.s, in + 1, n), 0, "%s", esc);
			tdp_json_free(&v);
		}
	}
}

Test(jsonread, overlong_and_out_of_range_utf8_rejected)
{
	static const char *const bad[] = {
		"\"\xc0\x80\"", "\"\xc1\xbf\"",		/* overlong 2-byte */
		"\"\xe0\x80\x80\"", "\"\xe0\x9f\xbf\"",	/* overlong 3-byte */
		"\"\xf0\x80\x80\x80\"",			/* overlong 4-byte */
		"\"\xf4\x90\x80\x80\"",			/* > U+10FFFF */
		"\"\xf5\x80\x80\x80\"", "\"\xff\"", "\"\x80\"",
		"\"\xc3\"", "\"\xe2\x82\"",		/* truncated */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tdp_json_value v;
		char err[128];

		cr_expect_eq(parse(bad[i], &v, err, sizeof(err)), TDP_E_JSON, "case %zu", i);
		cr_expect(strstr(err, "1:2: invalid UTF-8"), "case %zu: %s", i, err);
	}
}

Test(jsonread, document_tree_and_lookup)
{
	static const char doc[] =
		"{ \"a\": { \"b\": [1, -2, 3.5, \"x\", true, false, null] },\n"
		"  \"c\": {}, \"d\": [] }";
	const struct tdp_json_value *b, *c;
	struct tdp_json_value v;
	char err[256];

	cr_assert_eq(parse(doc, &v, err, sizeof(err)), 0, "%s", err);
	b = tdp_json_path(&v, "a.b");
	cr_assert(b);
	cr_assert_eq(b->type, TDP_JSON_ARRAY);
	cr_assert_eq(b->arr.n, 7);
	cr_expect_eq(b->arr.v[0].type, TDP_JSON_U64);
	cr_expect_eq(b->arr.v[1].type, TDP_JSON_I64);
	cr_expect_eq(b->arr.v[2].type, TDP_JSON_DOUBLE);
	cr_expect_str_eq(b->arr.v[3].str.s, "x");
	cr_expect(b->arr.v[4].type == TDP_JSON_BOOL && b->arr.v[4].b);
	cr_expect(b->arr.v[5].type == TDP_JSON_BOOL && !b->arr.v[5].b);
	cr_expect_eq(b->arr.v[6].type, TDP_JSON_NULL);
	/* positions of values: "c"'s {} is on line 2, column 8 */
	c = tdp_json_get(&v, "c");
	cr_assert(c);
	cr_expect_eq(c->line, 2);
	cr_expect_eq(c->col, 8);
	cr_expect_eq(c->obj.n, 0);
	cr_expect_eq(tdp_json_path(&v, "d")->arr.n, 0);
	cr_expect_null(tdp_json_path(&v, "a.x"));
	cr_expect_null(tdp_json_path(&v, "a.b.c"));
	tdp_json_free(&v);
}

struct bad_case {
	const char *in;
	const char *want;	/* prefix "L:C: message" */
};

/* Positions counted by hand; the message part is matched as a prefix. */
static const struct bad_case bad_cases[] = {
	{ "", "1:1: unexpected end of input" },
	{ "   \n  ", "2:3: unexpected end of input" },
	{ "{\"a\": [1, 2", "1:12: unexpected end of input in array" },
	{ "{\"a\": 1", "1:8: unexpected end of input in object" },
	{ "{\"a\"", "1:5: ':' expected" },
	{ "\"abc", "1:1: unterminated string" },
	{ "{} x", "1:4: trailing data" },
	{ "[1] [2]", "1:5: trailing data" },
	{ "1 2", "1:3: trailing data" },
	{ "01", "1:1: leading zero" },
	{ "-01", "1:2: leading zero" },
	{ "[1, 00]", "1:5: leading zero" },
	{ "1.", "1:3: digit expected after '.'" },
	{ ".5", "1:1: unexpected character '.'" },
	{ "+1", "1:1: unexpected character '+'" },
	{ "-", "1:2: invalid number" },
	{ "1e", "1:3: digit expected in exponent" },
	{ "1e+", "1:4: digit expected in exponent" },
	{ "1e999", "1:1: number out of range" },
	{ "[1,]", "1:4: unexpected character ']'" },
	{ "{\"a\":1,}", "1:8: string key expected" },
	{ "{1:2}", "1:2: string key expected" },
	{ "{\"a\" 1}", "1:6: ':' expected" },
	{ "[1 2]", "1:4: ',' or ']' expected" },
	{ "{\"a\":1 \"b\":2}", "1:8: ',' or '}' expected" },
	{ "tru", "1:1: invalid literal" },
	{ "nul", "1:1: invalid literal" },
	{ "NaN", "1:1: unexpected character 'N'" },
	{ "\"\\x\"", "1:2: invalid escape '\\x'" },
	{ "\"ab\\u12g4\"", "1:4: invalid \\u escape" },
	{ "\"\\u12\"", "1:2: invalid \\u escape" },
	{ "\"\\ud800\"", "1:2: unpaired surrogate" },
	{ "\"\\ud800\\u0041\"", "1:2: unpaired surrogate" },
	{ "\"\\udc00\"", "1:2: unpaired surrogate" },
	{ "\"a\tb\"", "1:3: control character 0x09" },
	{ "[\"a\nb\"]", "1:4: control character 0x0a" },
	{ "{\"a\": 1,\n \"a\": 2}", "2:2: duplicate key 'a'" },
	{ "{\"k\": {\"x\": 1, \"y\": 2, \"x\": 3}}", "1:24: duplicate key 'x'" },
	{ "{\n\"n\":\n  01}", "3:3: leading zero" },
};

Test(jsonread, malformed_documents_report_position)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct tdp_json_value v;
		char err[256];

		cr_expect_eq(parse(c->in, &v, err, sizeof(err)), TDP_E_JSON,
			     "accepted: %s", c->in);
		cr_expect_eq(strncmp(err, c->want, strlen(c->want)), 0,
			     "input '%s': got '%s', want '%s...'", c->in, err, c->want);
		cr_expect_eq(v.type, TDP_JSON_NULL);
	}
}

/* Many members take the sorting path: the first repeated key is reported. */
Test(jsonread, duplicate_in_large_object)
{
	char *doc = NULL, err[256], want[64];
	size_t len = 0;
	FILE *fp = open_memstream(&doc, &len);
	struct tdp_json_value v;

	cr_assert(fp);
	fputs("{", fp);
	for (int i = 0; i < 200; i++)
		fprintf(fp, "%s\n\"k%03d\": %d", i ? "," : "", i == 150 ? 7 : i == 120 ? 3 : i,
			i);
	fputs("}", fp);
	fclose(fp);
	/* line of member i is i + 2 ("{" is line 1); keys at column 1 */
	cr_assert_eq(parse(doc, &v, err, sizeof(err)), TDP_E_JSON);
	snprintf(want, sizeof(want), "%d:1: duplicate key 'k003'", 120 + 2);
	cr_expect_str_eq(err, want);
	free(doc);
}

static char *nested(unsigned int depth)
{
	char *s = malloc(2 * (size_t)depth + 1);

	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

Test(jsonread, depth_limit)
{
	struct tdp_json_limits lim = { .max_depth = 8 };
	struct tdp_json_value v;
	char err[256], *s;

	s = nested(8);
	cr_expect_eq(tdp_json_parse(s, 16, &lim, &v, err, sizeof(err)), 0, "%s", err);
	tdp_json_free(&v);
	free(s);

	s = nested(9);
	cr_expect_eq(tdp_json_parse(s, 18, &lim, &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect_str_eq(err, "1:9: nesting deeper than 8");
	free(s);

	/* default limit, exactly at it and one past */
	s = nested(TDP_JSONREAD_DEFAULT_DEPTH);
	cr_expect_eq(parse(s, &v, err, sizeof(err)), 0, "%s", err);
	tdp_json_free(&v);
	free(s);
	s = nested(TDP_JSONREAD_DEFAULT_DEPTH + 1);
	cr_expect_eq(parse(s, &v, err, sizeof(err)), TDP_E_JSON);
	free(s);
}

/* A hostile megabyte of '[' must fail fast, not exhaust the stack. */
Test(jsonread, hostile_nesting_does_not_recurse_deeply)
{
	size_t n = 1 << 20;
	char *s = malloc(n);
	struct tdp_json_value v;
	char err[256];

	memset(s, '[', n);
	cr_expect_eq(tdp_json_parse(s, n, NULL, &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "nesting deeper than"), "%s", err);
	free(s);
}

Test(jsonread, size_limit)
{
	struct tdp_json_limits lim = { .max_size = 4 };
	struct tdp_json_value v;
	char err[256];

	cr_expect_eq(tdp_json_parse("[1]", 3, &lim, &v, err, sizeof(err)), 0);
	tdp_json_free(&v);
	cr_expect_eq(tdp_json_parse("[1,2]", 5, &lim, &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "exceeds the limit of 4"), "%s", err);
}

/* Every single byte as a whole document: only the ten digits are JSON. */
Test(jsonread, every_single_byte_document)
{
	for (int c = 0; c < 256; c++) {
		char in[1] = { (char)c };
		struct tdp_json_value v;
		int ret = tdp_json_parse(in, 1, NULL, &v, NULL, 0);

		if (c >= '0' && c <= '9') {
			cr_expect_eq(ret, 0, "byte 0x%02x", c);
			cr_expect_eq(v.u, (uint64_t)(c - '0'));
		} else {
			cr_expect_eq(ret, TDP_E_JSON, "byte 0x%02x accepted", c);
		}
	}
}

/*
 * Hostile edits of a real report: flipped, deleted and inserted bytes and
 * truncations.  Whatever the input, the parser must return 0 or
 * TDP_E_JSON, with a "LINE:COL: " position inside the input (ASan and
 * UBSan check the memory side).  A fixed LCG keeps the cases reproducible.
 */
Test(jsonread, mutated_reports_fail_cleanly)
{
	static const char syms[] = "{}[]\",:\\0-.eE \n\x01\xc3\xff";
	const char *path = getenv("TDPSIM_SRC_DIR");
	char file[1024], err[256];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t len;
	char *orig;

	snprintf(file, sizeof(file), "%s/tests/data/reports/a.json", path ? path : ".");
	FILE *fp = fopen(file, "rb");

	cr_assert(fp, "%s", file);
	orig = malloc(1 << 16);
	len = fread(orig, 1, 1 << 16, fp);
	fclose(fp);
	cr_assert_gt(len, 100);

	size_t lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += orig[i] == '\n';

	for (int iter = 0; iter < 3000; iter++) {
		char *buf = malloc(len + 8);
		size_t n = len;
		struct tdp_json_value v;
		unsigned int line, col;
		int ret;

		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + iter % 3; k++) {
			size_t at;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			at = (size_t)(seed >> 33) % n;
			switch ((seed >> 29) & 3) {
			case 0:		/* replace */
				buf[at] = syms[(seed >> 20) % (sizeof(syms) - 1)];
				break;
			case 1:		/* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			case 2:		/* insert */
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = syms[(seed >> 20) % (sizeof(syms) - 1)];
				n++;
				break;
			default:	/* truncate */
				n = at;
				break;
			}
			if (!n)
				break;
		}
		ret = tdp_json_parse(buf, n, NULL, &v, err, sizeof(err));
		if (ret == 0) {
			tdp_json_free(&v);
		} else {
			cr_assert_eq(ret, TDP_E_JSON, "iter %d", iter);
			cr_assert_eq(sscanf(err, "%u:%u: ", &line, &col), 2,
				     "iter %d: '%s'", iter, err);
			cr_assert(line >= 1 && line <= lines + 1 && col >= 1,
				  "iter %d: '%s'", iter, err);
		}
		free(buf);
	}
	free(orig);
}
