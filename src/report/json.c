// SPDX-License-Identifier: GPL-2.0-only
/* Streaming JSON writer (see include/tdpsim/json.h). */
#include <inttypes.h>
#include <math.h>

#include <tdpsim/errors.h>
#include <tdpsim/json.h>

void tdp_json_begin(struct tdp_json *j, FILE *fp, int indent)
{
	j->fp = fp;
	j->indent = indent;
	j->depth = 0;
	j->first[0] = true;
	j->is_obj[0] = false;
	j->err = 0;
}

int tdp_json_end(struct tdp_json *j)
{
	if (!j->err && j->depth != 0)
		j->err = TDP_E_INTERNAL;
	if (!j->err) {
		fputc('\n', j->fp);
		if (ferror(j->fp))
			j->err = TDP_E_IO;
	}
	return j->err;
}

static void newline(struct tdp_json *j)
{
	if (!j->indent)
		return;
	fputc('\n', j->fp);
	for (int i = 0; i < j->depth * j->indent; i++)
		fputc(' ', j->fp);
}

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629 table: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0.  @s is
 * NUL-terminated, so a truncated sequence stops at the NUL.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
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
 * JSON text is UTF-8 (RFC 8259 8.1), but a path is any bytes: a byte that
 * does not start a well-formed sequence is written as U+FFFD, as Python's
 * errors="replace" does, so that every reader can load the file.
 */
static void put_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			size_t n = utf8_len(p);

			if (!n) {
				fputs("\\ufffd", fp);
				continue;
			}
			fwrite(p, 1, n, fp);
			p += n - 1;
			continue;
		}
		switch (*p) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			if (*p < 0x20)
				fprintf(fp, "\\u%04x", *p);
			else
				fputc(*p, fp);
		}
	}
	fputc('"', fp);
}

/* Emit separator and key; false if the call is misplaced. */
static bool member(struct tdp_json *j, const char *key)
{
	if (j->err)
		return false;
	if (j->is_obj[j->depth] != (key != NULL) ||
	    (j->depth == 0 && !j->first[0])) {
		j->err = TDP_E_INTERNAL;
		return false;
	}
	if (!j->first[j->depth])
		fputc(',', j->fp);
	j->first[j->depth] = false;
	if (j->depth > 0)
		newline(j);
	if (key) {
		put_string(j->fp, key);
		fputs(j->indent ? ": " : ":", j->fp);
	}
	return true;
}

static void open(struct tdp_json *j, const char *key, bool obj)
{
	if (!member(j, key))
		return;
	if (j->depth + 1 >= TDP_JSON_MAX_DEPTH) {
		j->err = TDP_E_INTERNAL;
		return;
	}
	fputc(obj ? '{' : '[', j->fp);
	j->depth++;
	j->first[j->depth] = true;
	j->is_obj[j->depth] = obj;
}

static void close_(struct tdp_json *j, bool obj)
{
	bool empty;

	if (j->err)
		return;
	if (j->depth == 0 || j->is_obj[j->depth] != obj) {
		j->err = TDP_E_INTERNAL;
		return;
	}
	empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		newline(j);
	fputc(obj ? '}' : ']', j->fp);
}

void tdp_json_obj_open(struct tdp_json *j, const char *key) { open(j, key, true); }
void tdp_json_obj_close(struct tdp_json *j) { close_(j, true); }
void tdp_json_arr_open(struct tdp_json *j, const char *key) { open(j, key, false); }
void tdp_json_arr_close(struct tdp_json *j) { close_(j, false); }

void tdp_json_u64(struct tdp_json *j, const char *key, uint64_t v)
{
	if (member(j, key))
		fprintf(j->fp, "%" PRIu64, v);
}

void tdp_json_i64(struct tdp_json *j, const char *key, int64_t v)
{
	if (member(j, key))
		fprintf(j->fp, "%" PRId64, v);
}

void tdp_json_double(struct tdp_json *j, const char *key, double v)
{
	if (!member(j, key))
		return;
	if (!isfinite(v))	/* JSON has no NaN/Inf */
		fputs("null", j->fp);
	else
		fprintf(j->fp, "%.6g", v);
}

void tdp_json_bool(struct tdp_json *j, const char *key, bool v)
{
	if (member(j, key))
		fputs(v ? "true" : "false", j->fp);
}

void tdp_json_str(struct tdp_json *j, const char *key, const char *s)
{
	if (member(j, key))
		put_string(j->fp, s ? s : "");
}

void tdp_json_null(struct tdp_json *j, const char *key)
{
	if (member(j, key))
		fputs("null", j->fp);
}
