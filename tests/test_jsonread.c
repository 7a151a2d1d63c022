// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading JSON with jansson through tdp_json_load() (json_load.h): the
 * hostile inputs the hand-written reader it replaced was tested on, each
 * still refused or accepted, for the reason given beside it; exact
 * integers, escapes, UTF-8, limits, and errors with their line:column.
 *
 * Positions are jansson's: the line, and the column of the last byte it
 * read (1-based, bytes), which for a bad token is its last byte and for a
 * bad structure the first byte of the token that does not fit.  They are
 * counted by hand from the literal inputs.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/json_load.h>

static int parse(const char *s, json_t **v, char *err, size_t errlen)
{
	return tdp_json_load(s, strlen(s), v, err, errlen);
}

/* 2^53 + 1 is not a double: integers must not go through one */
Test(jsonread, int64_range_is_exact)
{
	static const struct { const char *in; json_int_t want; } cases[] = {
		{ "9223372036854775807", INT64_MAX }, { "9007199254740993", 9007199254740993ll },
		{ "-9223372036854775808", INT64_MIN }, { "-1", -1 },
		{ "-0", 0 },	/* "-0" is zero */
	};
	uint64_t u;
	json_t *v;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].in, &v, err, sizeof(err)), 0, "%s", err);
		cr_assert(json_is_integer(v), "%s", cases[i].in);
		cr_expect_eq(json_integer_value(v), cases[i].want, "%s", cases[i].in);
		cr_expect_eq(tdp_json_as_u64(v, &u), cases[i].want >= 0, "%s", cases[i].in);
		json_decref(v);
	}
	cr_assert_eq(parse("9223372036854775807", &v, err, sizeof(err)), 0);
	cr_assert(tdp_json_as_u64(v, &u));
	cr_expect_eq(u, (uint64_t)INT64_MAX);
	cr_expect_str_eq(tdp_json_kind(v), "an unsigned integer");
	json_decref(v);
}

/*
 * Past int64 the hand-written reader kept u64 exact and turned the rest
 * into doubles; jansson refuses: tdpsim writes no counter or GPA at or
 * above 2^63 (2^63 events is 292 years at 10^9 a second; a GPA has at most
 * 52 bits), so such a number is not from a tdpsim writer, and rounding it
 * to a double would silently change a count.
 */
Test(jsonread, beyond_int64_refused)
{
	static const char *const big[] = {
		"9223372036854775808", "18446744073709551615", "18446744073709551616",
	};
	json_t *v;
	char err[256];

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		cr_expect_eq(parse(big[i], &v, err, sizeof(err)), TDP_E_JSON, "%s", big[i]);
		cr_expect(strstr(err, ": too big integer"), "%s: %s", big[i], err);
		cr_expect_null(v);
	}
	cr_expect_eq(parse("-9223372036854775809", &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect_str_eq(err, "1:20: too big negative integer near "
			 "'-9223372036854775809'");
}

Test(jsonread, fractions_and_exponents_are_doubles)
{
	static const struct { const char *in; double want; } cases[] = {
		{ "0.5", 0.5 }, { "-2.25", -2.25 }, { "1e3", 1000.0 },
		{ "1E+2", 100.0 }, { "25e-2", 0.25 }, { "0e0", 0.0 },
		{ "1.0", 1.0 },
	};
	json_t *v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].in, &v, NULL, 0), 0, "%s", cases[i].in);
		cr_expect(json_is_real(v), "%s", cases[i].in);
		cr_expect_eq(json_real_value(v), cases[i].want, "%s", cases[i].in);
		cr_expect_str_eq(tdp_json_kind(v), "a fractional number");
		json_decref(v);
	}
}

Test(jsonread, escapes_decode_to_utf8)
{
	json_t *v;
	char err[256];
	/* e-acute U+00E9 = C3 A9; euro U+20AC = E2 82 AC; U+1F600 = F0 9F 98 80 */
	static const char want[] = "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	cr_assert_eq(parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"",
			   &v, err, sizeof(err)), 0, "%s", err);
	cr_assert(json_is_string(v));
	cr_assert_eq(json_string_length(v), sizeof(want) - 1);
	cr_expect_eq(memcmp(json_string_value(v), want, sizeof(want) - 1), 0);
	json_decref(v);

	/*
	 * \u0000: the old reader kept it; now refused, in values and keys.
	 * Every string tdpsim reads (paths, labels, machine names) is a C
	 * string, where a NUL would silently cut it short.
	 */
	cr_expect_eq(parse("\"a\\u0000b\"", &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(!strncmp(err, "1:10: \\u0000 is not allowed", 27), "%s", err);
	cr_expect_eq(parse("{\"a\\u0000\": 1}", &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(!strncmp(err, "1:10: NUL byte in object key", 28), "%s", err);
}

/* Every byte after a backslash: exactly the eight RFC 8259 escapes decode. */
Test(jsonread, every_single_char_escape)
{
	static const char ok[] = "\"\\/bfnrt";
	static const char dec[] = "\"\\/\b\f\n\r\t";

	for (int c = 0; c < 256; c++) {
		char in[5] = { '"', '\\', (char)c, '"', 0 };
		const char *hit = c ? strchr(ok, c) : NULL;
		json_t *v;
		int ret = tdp_json_load(in, 4, &v, NULL, 0);

		if (hit) {
			cr_assert_eq(ret, 0, "escape 0x%02x", c);
			cr_expect_eq(json_string_length(v), 1);
			cr_expect_eq(json_string_value(v)[0], dec[hit - ok], "escape 0x%02x", c);
			json_decref(v);
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
Test(jsonread, every_code_point_raw_and_escaped, .timeout = 120)
{
	for (uint32_t cp = 0x20; cp <= 0x10ffff; cp++) {
		unsigned char in[16], *p = in;
		bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
		json_t *v;
		size_t n;
		int ret;

		if (cp == '"' || cp == '\\')
			continue;
		*p++ = '"';
		n = encode_utf8(cp, p);
		p += n;
		*p++ = '"';
		ret = tdp_json_load((const char *)in, (size_t)(p - in), &v, NULL, 0);
		if (surrogate) {
			cr_assert_eq(ret, TDP_E_JSON, "raw surrogate U+%04X accepted", cp);
			continue;
		}
		cr_assert_eq(ret, 0, "U+%04X rejected", cp);
		cr_assert_eq(json_string_length(v), n);
		cr_assert_eq(memcmp(json_string_value(v), in + 1, n), 0, "U+%04X", cp);
		json_decref(v);

		if (cp < 0x10000) {
			char esc[16];

			snprintf(esc, sizeof(esc), "\"\\u%04x\"", cp);
			cr_assert_eq(tdp_json_load(esc, 8, &v, NULL, 0), 0, "%s", esc);
			cr_assert_eq(json_string_length(v), n, "%s", esc);
			cr_assert_eq(memcmp(json_string_value(v), in + 1, n), 0, "%s", esc);
			json_decref(v);
		}
	}
}

/* jansson names the first byte it cannot decode; the column is the quote. */
Test(jsonread, overlong_and_out_of_range_utf8_rejected)
{
	static const struct { const char *in, *want; } bad[] = {
		{ "\"\xc0\x80\"", "0xc0" }, { "\"\xc1\xbf\"", "0xc1" },	/* overlong 2-byte */
		{ "\"\xe0\x80\x80\"", "0xe0" }, { "\"\xe0\x9f\xbf\"", "0xe0" },	/* overlong 3 */
		{ "\"\xf0\x80\x80\x80\"", "0xf0" },			/* overlong 4-byte */
		{ "\"\xed\xa0\x80\"", "0xed" },				/* surrogate D800 */
		{ "\"\xf4\x90\x80\x80\"", "0xf4" },			/* > U+10FFFF */
		{ "\"\xf5\x80\x80\x80\"", "0xf5" }, { "\"\xff\"", "0xff" },
		{ "\"\x80\"", "0x80" },
		{ "\"\xc3\"", "0xc3" }, { "\"\xe2\x82\"", "0xe2" },	/* truncated */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[128], want[64];
		json_t *v;

		snprintf(want, sizeof(want), "1:1: unable to decode byte %s", bad[i].want);
		cr_expect_eq(parse(bad[i].in, &v, err, sizeof(err)), TDP_E_JSON, "case %zu", i);
		cr_expect(!strncmp(err, want, strlen(want)), "case %zu: %s", i, err);
	}
}

Test(jsonread, document_tree_and_lookup)
{
	static const char doc[] =
		"{ \"a\": { \"b\": [1, -2, 3.5, \"x\", true, false, null] },\n"
		"  \"c\": {}, \"d\": [] }";
	const json_t *b;
	json_t *v;
	char err[256];

	cr_assert_eq(parse(doc, &v, err, sizeof(err)), 0, "%s", err);
	b = tdp_json_path(v, "a.b");
	cr_assert(json_is_array(b));
	cr_assert_eq(json_array_size(b), 7);
	cr_expect_str_eq(tdp_json_kind(json_array_get(b, 0)), "an unsigned integer");
	cr_expect_str_eq(tdp_json_kind(json_array_get(b, 1)), "a negative integer");
	cr_expect_str_eq(tdp_json_kind(json_array_get(b, 2)), "a fractional number");
	cr_expect_str_eq(json_string_value(json_array_get(b, 3)), "x");
	cr_expect(json_is_true(json_array_get(b, 4)));
	cr_expect(json_is_false(json_array_get(b, 5)));
	cr_expect_str_eq(tdp_json_kind(json_array_get(b, 5)), "a boolean");
	cr_expect(json_is_null(json_array_get(b, 6)));
	cr_expect_str_eq(tdp_json_kind(json_array_get(b, 6)), "null");
	cr_expect_str_eq(tdp_json_kind(tdp_json_path(v, "c")), "an object");
	cr_expect_eq(json_object_size(tdp_json_path(v, "c")), 0);
	cr_expect_eq(json_array_size(tdp_json_path(v, "d")), 0);
	cr_expect_null(tdp_json_path(v, "a.x"));
	cr_expect_null(tdp_json_path(v, "a.b.c"));	/* b is not an object */
	cr_expect_eq(tdp_json_path(v, ""), v);
	json_decref(v);
}

struct bad_case {
	const char *in;
	const char *want;	/* prefix "L:C: message" */
};

/*
 * Each input the old reader refused, still refused; the message is
 * jansson's, matched as a prefix, the position counted by hand.
 */
static const struct bad_case bad_cases[] = {
	/* nothing read: column 0 is shown as 1 */
	{ "", "1:1: unexpected token near end of file" },
	{ "   \n  ", "2:2: unexpected token near end of file" },
	/* truncated: the last byte read */
	{ "{\"a\": [1, 2", "1:11: ']' expected near end of file" },
	{ "{\"a\": 1", "1:7: '}' expected near end of file" },
	{ "{\"a\"", "1:4: ':' expected near end of file" },
	{ "\"abc", "1:4: premature end of input" },
	/* one document only */
	{ "{} x", "1:4: end of file expected near 'x'" },
	{ "[1] [2]", "1:5: end of file expected near '['" },
	{ "1 2", "1:3: end of file expected near '2'" },
	{ "[1]\n\n  x", "3:3: end of file expected" },
	/* numbers: RFC 8259 grammar, no leading zeros, no NaN/Infinity */
	{ "01", "1:1: invalid token near '0'" },
	{ "-01", "1:2: invalid token near '-0'" },
	{ "[1, 00]", "1:5: invalid token near '0'" },
	{ "{\n\"n\":\n  01}", "3:3: invalid token near '0'" },
	{ "1.", "1:2: invalid token near '1.'" },
	{ ".5", "1:1: invalid token near '.'" },
	{ "+1", "1:1: invalid token near '+'" },
	{ "-", "1:1: invalid token near '-'" },
	{ "1e", "1:2: invalid token near '1e'" },
	{ "1e+", "1:3: invalid token near '1e+'" },
	{ "1e999", "1:5: real number overflow" },
	{ "NaN", "1:3: invalid token near 'NaN'" },
	{ "Infinity", "1:8: invalid token near 'Infinity'" },
	{ "-Infinity", "1:1: invalid token near '-'" },
	/* structure: no trailing commas, string keys, separators */
	{ "[1,]", "1:4: unexpected token near ']'" },
	{ "{\"a\":1,}", "1:8: string or '}' expected near '}'" },
	{ "{1:2}", "1:2: string or '}' expected near '1'" },
	{ "{\"a\" 1}", "1:6: ':' expected near '1'" },
	{ "[1 2]", "1:4: ']' expected near '2'" },
	{ "{\"a\":1 \"b\":2}", "1:10: '}' expected near '\"b\"'" },
	{ "tru", "1:3: invalid token near 'tru'" },
	{ "nul", "1:3: invalid token near 'nul'" },
	{ "'a'", "1:1: invalid token" },
	{ "/*c*/1", "1:1: invalid token" },
	/* strings: escapes, surrogates paired, no raw control characters */
	{ "\"\\x\"", "1:3: invalid escape" },
	{ "\"ab\\u12g4\"", "1:8: invalid escape" },
	{ "\"\\u12\"", "1:6: invalid escape" },
	{ "\"\\ud800\"", "1:8: invalid Unicode '\\uD800'" },
	{ "\"\\ud800\\u0041\"", "1:14: invalid Unicode '\\uD800\\u0041'" },
	{ "\"\\udc00\"", "1:8: invalid Unicode '\\uDC00'" },
	{ "\"a\tb\"", "1:2: control character 0x9" },
	{ "[\"a\nb\"]", "1:3: unexpected newline" },
	/* duplicate keys: a report with two "exits" has no single meaning */
	{ "{\"a\": 1,\n \"a\": 2}", "2:4: duplicate object key near '\"a\"'" },
	{ "{\"k\": {\"x\": 1, \"y\": 2, \"x\": 3}}", "1:26: duplicate object key near '\"x\"'" },
};

Test(jsonread, malformed_documents_report_position)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		json_t *v = (json_t *)1;
		char err[256];

		cr_expect_eq(parse(c->in, &v, err, sizeof(err)), TDP_E_JSON,
			     "accepted: %s", c->in);
		cr_expect_eq(strncmp(err, c->want, strlen(c->want)), 0,
			     "input '%s': got '%s', want '%s...'", c->in, err, c->want);
		cr_expect_null(v);
	}
}

/* The offending token is quoted: a byte that is not printable ASCII is '?'. */
Test(jsonread, message_never_echoes_raw_bytes)
{
	json_t *v;
	char err[256];

	cr_expect_eq(parse("[1] \x1b[31mx", &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect_str_eq(err, "1:5: end of file expected near '?'");
	/* a raw NUL byte inside the buffer is not the end of the document */
	cr_expect_eq(tdp_json_load("[1,\0 2]", 7, &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(!strncmp(err, "1:4: invalid token", 18), "%s", err);
}

/* Duplicates in a large object (jansson hashes keys): the repeat is named. */
Test(jsonread, duplicate_in_large_object)
{
	char *doc = NULL, err[256], want[64];
	size_t len = 0;
	FILE *fp = open_memstream(&doc, &len);
	json_t *v;

	cr_assert(fp);
	fputs("{", fp);
	for (int i = 0; i < 200; i++)
		fprintf(fp, "%s\n\"k%03d\": %d", i ? "," : "", i == 150 ? 7 : i == 120 ? 3 : i,
			i);
	fputs("}", fp);
	fclose(fp);
	/* member i is on line i + 2 ("{" is line 1); the key "k003" ends at column 6 */
	cr_assert_eq(parse(doc, &v, err, sizeof(err)), TDP_E_JSON);
	snprintf(want, sizeof(want), "%d:6: duplicate object key near '\"k003\"'", 120 + 2);
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

/*
 * jansson's depth limit is fixed when it is built (JSON_PARSER_MAX_DEPTH,
 * 2048 in Debian's): the old reader's 64 was tdpsim's own.  A report
 * nests 6 deep.
 */
Test(jsonread, depth_limit)
{
	json_t *v;
	char err[256], want[64], *s;

	s = nested(JSON_PARSER_MAX_DEPTH);
	cr_expect_eq(parse(s, &v, err, sizeof(err)), 0, "%s", err);
	json_decref(v);
	free(s);
	s = nested(JSON_PARSER_MAX_DEPTH + 1);
	cr_expect_eq(parse(s, &v, err, sizeof(err)), TDP_E_JSON);
	snprintf(want, sizeof(want), "1:%d: maximum parsing depth reached",
		 JSON_PARSER_MAX_DEPTH + 1);
	cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
	free(s);
}

/* A hostile megabyte of '[' must fail fast, not exhaust the stack. */
Test(jsonread, hostile_nesting_does_not_recurse_deeply)
{
	size_t n = 1 << 20;
	char *s = malloc(n);
	json_t *v;
	char err[256];

	memset(s, '[', n);
	cr_expect_eq(tdp_json_load(s, n, &v, err, sizeof(err)), TDP_E_JSON);
	cr_expect(strstr(err, "maximum parsing depth reached"), "%s", err);
	free(s);
}

/* Refused before jansson reads a byte (calloc'd pages are never touched). */
Test(jsonread, size_limit)
{
	char *s = calloc((size_t)TDP_JSON_MAX_SIZE + 1, 1), err[256], want[96];
	json_t *v;

	cr_assert(s);
	snprintf(want, sizeof(want), "1:1: input of %zu bytes exceeds the limit of %u",
		 (size_t)TDP_JSON_MAX_SIZE + 1, TDP_JSON_MAX_SIZE);
	cr_expect_eq(tdp_json_load(s, (size_t)TDP_JSON_MAX_SIZE + 1, &v, err, sizeof(err)),
		     TDP_E_JSON);
	cr_expect_str_eq(err, want);
	free(s);
}

/* Every single byte as a whole document: only the ten digits are JSON. */
Test(jsonread, every_single_byte_document)
{
	for (int c = 0; c < 256; c++) {
		char in[1] = { (char)c };
		json_t *v;
		int ret = tdp_json_load(in, 1, &v, NULL, 0);

		if (c >= '0' && c <= '9') {
			cr_expect_eq(ret, 0, "byte 0x%02x", c);
			cr_expect_eq(json_integer_value(v), c - '0');
			json_decref(v);
		} else {
			cr_expect_eq(ret, TDP_E_JSON, "byte 0x%02x accepted", c);
		}
	}
}

/*
 * Hostile edits of a real report: flipped, deleted and inserted bytes and
 * truncations.  Whatever the input, the reader must return 0 or
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
		unsigned int line, col;
		json_t *v;
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
		ret = tdp_json_load(buf, n, &v, err, sizeof(err));
		if (ret == 0) {
			json_decref(v);
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
