// SPDX-License-Identifier: GPL-2.0-only
/*
 * The measurement behind the choice of jansson over json-c for reading
 * JSON reports (docs/RELIABILITY.md, "Reading JSON"); not built by CMake.
 * One library per build (jansson and json-c both export json_object_get):
 *
 *   cc -O2 -DUSE_JANSSON -Iinclude tools/bench-json.c src/report/json.c \
 *      $(pkg-config --cflags --libs jansson) -lm -o bench-jansson
 *   cc -O2 -DUSE_JSONC tools/bench-json.c $(pkg-config --cflags --libs json-c) -o bench-jsonc
 *
 * ./bench-jansson FILE [N]: read FILE once, then N times (default 5) parse
 * it into a tree, visit every value and free the tree; prints the median
 * CPU time of one round (CPU, not wall-clock time: the machine is shared)
 * and the peak resident memory above what the process held with the file
 * read (getrusage).
 *
 * ./bench-jansson --write FILE [N]: FILE's tree written to /dev/null N times
 * by tdpsim's streaming writer and by jansson (see write_bench()).
 *
 * ./bench-jansson --probe: each hostile input of probes[] below, with the
 * library's strictest options, and whether it is accepted (and as what)
 * or refused (and why).
 *
 * -DUSE_JSONREAD builds it against the hand-written reader tdpsim had
 * before (git show b258105:src/report/jsonread.c, and its header).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

/* CPU time, not wall-clock time: the machine is shared */
static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#if defined(USE_JANSSON)
#include <jansson.h>
#define LIB "jansson " JANSSON_VERSION

static double visit(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	double s = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, e)
			s += visit(e);
		return s;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			s += visit(e);
		return s;
	case JSON_INTEGER:
		return (double)json_integer_value(v);
	case JSON_REAL:
		return json_real_value(v);
	default:
		return 1;
	}
}

static double load(const char *buf, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	double s;

	if (!root) {
		fprintf(stderr, "%d:%d: %s\n", err.line, err.column, err.text);
		exit(2);
	}
	s = visit(root);
	json_decref(root);
	return s;
}

/*
 * --write: the same tree written by tdpsim's streaming writer (json.h, as
 * replay --json writes reports) and by jansson's json_dumpf(), which also
 * needs the tree built first: json_deep_copy() stands for that.
 */
#include <tdpsim/json.h>

static void stream(struct tdp_json *j, const char *key, json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		tdp_json_obj_open(j, key);
		json_object_foreach(v, k, e)
			stream(j, k, e);
		tdp_json_obj_close(j);
		break;
	case JSON_ARRAY:
		tdp_json_arr_open(j, key);
		json_array_foreach(v, i, e)
			stream(j, NULL, e);
		tdp_json_arr_close(j);
		break;
	case JSON_INTEGER:
		tdp_json_i64(j, key, json_integer_value(v));
		break;
	case JSON_REAL:
		tdp_json_double(j, key, json_real_value(v));
		break;
	case JSON_STRING:
		tdp_json_str(j, key, json_string_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		tdp_json_bool(j, key, json_is_true(v));
		break;
	case JSON_NULL:
		tdp_json_null(j, key);
		break;
	}
}

static void write_bench(const char *buf, size_t len, int n)
{
	json_t *root = json_loadb(buf, len, 0, NULL);
	FILE *null = fopen("/dev/null", "w");
	double ts[3][64];

	if (!root || !null || n > 64)
		exit(2);
	for (int i = 0; i < n; i++) {
		struct tdp_json j;
		json_t *copy;
		double t0 = now(), t1, t2;

		tdp_json_begin(&j, null, 2);
		stream(&j, NULL, root);
		if (tdp_json_end(&j))
			exit(2);
		t1 = now();
		copy = json_deep_copy(root);
		t2 = now();
		json_dumpf(copy, null, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		ts[0][i] = t1 - t0;
		ts[1][i] = t2 - t1;
		ts[2][i] = now() - t2;
		json_decref(copy);
	}
	for (int k = 0; k < 3; k++)
		qsort(ts[k], (size_t)n, sizeof(double), cmp_double);
	printf("%zu bytes: tdpsim streaming writer %.3f ms; jansson: build the tree "
	       "%.3f ms + json_dumpf %.3f ms (medians of %d)\n", len, ts[0][n / 2] * 1e3,
	       ts[1][n / 2] * 1e3, ts[2][n / 2] * 1e3, n);
	json_decref(root);
	fclose(null);
}

static int probe_one(const char *in, size_t n, char *out, size_t outlen)
{
	json_error_t err;
	json_t *root = json_loadb(in, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	char *dump;

	if (!root) {
		snprintf(out, outlen, "%d:%d: %s", err.line, err.column, err.text);
		return 1;
	}
	dump = json_dumps(root, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(out, outlen, "%s", dump ? dump : "?");
	free(dump);
	json_decref(root);
	return 0;
}
#elif defined(USE_JSONC)
#include <json-c/json.h>
#define LIB "json-c " JSON_C_VERSION

static double visit(struct json_object *v)
{
	double s = 0;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, k, e) {
			(void)k;
			s += visit(e);
		}
		return s;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			s += visit(json_object_array_get_idx(v, i));
		return s;
	case json_type_int:
		return (double)json_object_get_uint64(v);
	case json_type_double:
		return json_object_get_double(v);
	default:
		return 1;
	}
}

/* json-c at its strictest; @buf[len] is a NUL, which ends a number at the end */
static struct json_object *parse_strict(const char *buf, size_t len,
					struct json_tokener **tok)
{
	*tok = json_tokener_new_ex(64);
	json_tokener_set_flags(*tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return json_tokener_parse_ex(*tok, buf, (int)len + 1);
}

static double load(const char *buf, size_t len)
{
	struct json_tokener *tok;
	struct json_object *root = parse_strict(buf, len, &tok);
	double s;

	if (!root) {
		fprintf(stderr, "@%zu: %s\n", json_tokener_get_parse_end(tok),
			json_tokener_error_desc(json_tokener_get_error(tok)));
		exit(2);
	}
	s = visit(root);
	json_object_put(root);
	json_tokener_free(tok);
	return s;
}

static int probe_one(const char *in, size_t n, char *out, size_t outlen)
{
	struct json_tokener *tok;
	struct json_object *root = parse_strict(in, n, &tok);
	enum json_tokener_error e = json_tokener_get_error(tok);

	if (e != json_tokener_success)
		snprintf(out, outlen, "@%zu: %s", json_tokener_get_parse_end(tok),
			 json_tokener_error_desc(e));
	else if (json_object_is_type(root, json_type_int))
		snprintf(out, outlen, "%s (int64 %lld, uint64 %llu)",
			 json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN),
			 (long long)json_object_get_int64(root),
			 (unsigned long long)json_object_get_uint64(root));
	else
		snprintf(out, outlen, "%s", root ?
			 json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN) : "null");
	json_object_put(root);
	json_tokener_free(tok);
	return e != json_tokener_success;
}
#elif defined(USE_JSONREAD)
/* the hand-written reader tdpsim had until issue 13 (commit b258105) */
#include <tdpsim/jsonread.h>
#define LIB "tdpsim jsonread.c"

static double visit(const struct tdp_json_value *v)
{
	double s = 0, d;

	switch (v->type) {
	case TDP_JSON_OBJECT:
		for (size_t i = 0; i < v->obj.n; i++)
			s += visit(&v->obj.m[i].val);
		return s;
	case TDP_JSON_ARRAY:
		for (size_t i = 0; i < v->arr.n; i++)
			s += visit(&v->arr.v[i]);
		return s;
	default:
		return tdp_json_as_double(v, &d) ? d : 1;
	}
}

static double load(const char *buf, size_t len)
{
	struct tdp_json_value root;
	char err[256];
	double s;

	if (tdp_json_parse(buf, len, NULL, &root, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	s = visit(&root);
	tdp_json_free(&root);
	return s;
}

static int probe_one(const char *in, size_t n, char *out, size_t outlen)
{
	struct tdp_json_value root;
	int ret = tdp_json_parse(in, n, NULL, &root, out, outlen);

	if (!ret) {
		snprintf(out, outlen, "accepted");
		tdp_json_free(&root);
	}
	return !!ret;
}
#else
#error "build with -DUSE_JANSSON, -DUSE_JSONC or -DUSE_JSONREAD"
#endif

/* What a strict reader of tdpsim's reports must refuse, and a few edges. */
static const char *const probes[] = {
	"{\"a\": 1, \"a\": 2}",				/* duplicate key */
	"9223372036854775807", "9223372036854775808",		/* 2^63 - 1, 2^63 */
	"18446744073709551615", "18446744073709551616",		/* 2^64 - 1, 2^64 */
	"-9223372036854775809",
	"NaN", "Infinity", "-Infinity", "1e999", "1.", "01", "-0",
	"{} x", "[1] [2]",					/* trailing data */
	"\"\xc3\x28\"", "\"\xc0\x80\"",			/* bad UTF-8, overlong */
	"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",	/* surrogate, > U+10FFFF */
	"\"\\ud800\"", "\"a\\u0000b\"", "\"a\tb\"",	/* lone \uD800, NUL, raw TAB */
	"[1,]", "{\"a\":1,}", "{a:1}", "'a'", "/*c*/1", "",
};

static void probe(void)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		char out[256], shown[64];
		size_t k = 0;
		int refused = probe_one(probes[i], strlen(probes[i]), out, sizeof(out));

		for (const unsigned char *p = (const unsigned char *)probes[i];
		     *p && k + 5 < sizeof(shown); p++)
			k += (size_t)snprintf(shown + k, sizeof(shown) - k,
					      *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
		shown[k] = '\0';
		for (char *c = out; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		printf("%-24s %-8s %s\n", shown, refused ? "refused" : "ACCEPTED", out);
	}
}

static long peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 5;
	FILE *fp = argc > 1 ? fopen(argv[1], "rb") : NULL;
	double *t, sum = 0;
	long base;
	size_t len;
	char *buf;

	if (argc == 2 && !strcmp(argv[1], "--probe")) {
		printf("%s\n", LIB);
		probe();
		return 0;
	}
#ifdef USE_JANSSON
	if (argc > 2 && !strcmp(argv[1], "--write")) {
		n = argc > 3 ? atoi(argv[3]) : 5;
		fp = fopen(argv[2], "rb");
	}
#endif
	if (!fp || n < 1) {
		fprintf(stderr, "usage: %s FILE [N]\n", argv[0]);
		return 2;
	}
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	rewind(fp);
	buf = malloc(len + 1);
	t = calloc((size_t)n, sizeof(*t));
	if (!buf || !t || fread(buf, 1, len, fp) != len)
		return 2;
	buf[len] = '\0';
	fclose(fp);
#ifdef USE_JANSSON
	if (!strcmp(argv[1], "--write")) {
		write_bench(buf, len, n);
		return 0;
	}
#endif
	base = peak_kib();
	for (int i = 0; i < n; i++) {
		double t0 = now();

		sum += load(buf, len);
		t[i] = now() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%-22s %10zu bytes  median %9.3f ms  peak +%8ld KiB  (check %g)\n",
	       LIB, len, t[n / 2] * 1e3, peak_kib() - base, sum);
	free(t);
	free(buf);
	return 0;
}
