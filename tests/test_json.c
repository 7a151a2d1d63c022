// SPDX-License-Identifier: GPL-2.0-only
/* JSON writer: exact integers, escaping, nesting errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/json.h>

static char *render(void (*fn)(struct tdp_json *), int indent, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct tdp_json j;

	tdp_json_begin(&j, fp, indent);
	fn(&j);
	*ret = tdp_json_end(&j);
	fclose(fp);
	return buf;
}

static void doc_basic(struct tdp_json *j)
{
	tdp_json_obj_open(j, NULL);
	tdp_json_u64(j, "max", UINT64_MAX);
	tdp_json_i64(j, "neg", -5);
	tdp_json_str(j, "s", "a\"b\\c\n\x01");
	tdp_json_arr_open(j, "a");
	tdp_json_bool(j, NULL, true);
	tdp_json_null(j, NULL);
	tdp_json_double(j, NULL, NAN);
	tdp_json_double(j, NULL, 0.25);
	tdp_json_arr_close(j);
	tdp_json_obj_open(j, "empty");
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);
}

Test(json, compact_document_is_exact)
{
	int ret;
	char *s = render(doc_basic, 0, &ret);

	cr_assert_eq(ret, 0);
	/* u64 max must not be rounded through a double; control char as \u0001 */
	cr_expect_str_eq(s, "{\"max\":18446744073709551615,\"neg\":-5,"
			    "\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"a\":[true,null,null,0.25],"
			    "\"empty\":{}}\n");
	free(s);
}

static void doc_key_in_array(struct tdp_json *j)
{
	tdp_json_arr_open(j, NULL);
	tdp_json_u64(j, "k", 1);	/* keys are not allowed in arrays */
	tdp_json_arr_close(j);
}

static void doc_unbalanced(struct tdp_json *j)
{
	tdp_json_obj_open(j, NULL);
	tdp_json_obj_open(j, "x");
	tdp_json_obj_close(j);
}

static void doc_mismatch(struct tdp_json *j)
{
	tdp_json_obj_open(j, NULL);
	tdp_json_arr_close(j);
}

Test(json, misuse_is_reported)
{
	int ret;

	free(render(doc_key_in_array, 0, &ret));
	cr_expect_eq(ret, TDP_E_INTERNAL);
	free(render(doc_unbalanced, 0, &ret));
	cr_expect_eq(ret, TDP_E_INTERNAL);
	free(render(doc_mismatch, 0, &ret));
	cr_expect_eq(ret, TDP_E_INTERNAL);
}

Test(json, indented_layout)
{
	int ret;
	char *s = render(doc_basic, 2, &ret);

	cr_assert_eq(ret, 0);
	cr_expect(strstr(s, "{\n  \"max\": 18446744073709551615,\n  \"neg\": -5,"),
		  "got: %s", s);
	cr_expect(strstr(s, "\"a\": [\n    true,\n    null,"), "got: %s", s);
	cr_expect(strstr(s, "\"empty\": {}\n}\n"), "got: %s", s);
	free(s);
}

static void doc_bytes(struct tdp_json *j)
{
	/* caf\xe9 (Latin-1 e-acute), valid e-acute and euro, overlong '/', a
	 * surrogate, a truncated sequence at the end */
	tdp_json_str(j, NULL, "caf\xe9 \xc3\xa9\xe2\x82\xac \xc0\xaf \xed\xa0\x80 \xe2\x82");
}

/*
 * A path is any bytes, JSON text is UTF-8: well-formed sequences are
 * copied, every byte that does not start one becomes U+FFFD (so the
 * surrogate's three bytes are three U+FFFD, and the truncated euro two).
 */
Test(json, invalid_utf8_becomes_replacement_character)
{
	int ret;
	char *s = render(doc_bytes, 0, &ret);

	cr_assert_eq(ret, 0);
	cr_expect_str_eq(s, "\"caf\\ufffd \xc3\xa9\xe2\x82\xac \\ufffd\\ufffd "
			    "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"\n");
	free(s);
}
