// SPDX-License-Identifier: GPL-2.0-only
/* Reading JSON with jansson (see include/tdpsim/json_load.h). */
#include <stdio.h>
#include <string.h>

#include <tdpsim/errors.h>
#include <tdpsim/json_load.h>

int tdp_json_load(const char *buf, size_t len, json_t **root, char *err, size_t errlen)
{
	json_error_t je;
	char text[sizeof(je.text)];
	size_t i;

	*root = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (len > TDP_JSON_MAX_SIZE) {
		if (err && errlen)
			snprintf(err, errlen, "1:1: input of %zu bytes exceeds the limit of %u",
				 len, TDP_JSON_MAX_SIZE);
		return TDP_E_JSON;
	}
	*root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (*root)
		return 0;
	if (!err || !errlen)
		goto out;
	/* jansson quotes the offending token: never echo raw bytes to a terminal */
	for (i = 0; i + 1 < sizeof(text) && je.text[i]; i++)
		text[i] = je.text[i] >= 0x20 && je.text[i] < 0x7f ? je.text[i] : '?';
	text[i] = '\0';
	/* column 0: nothing read on the line yet (empty input) */
	snprintf(err, errlen, "%d:%d: %s", je.line > 0 ? je.line : 1,
		 je.column > 0 ? je.column : 1, text);
out:
	return json_error_code(&je) == json_error_out_of_memory ? TDP_E_NOMEM : TDP_E_JSON;
}

json_t *tdp_json_path(const json_t *obj, const char *path)
{
	json_t *v = (json_t *)obj;
	char name[128];

	while (v && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(name))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		v = json_object_get(v, name);	/* NULL if @v is not an object */
		path += n + (dot ? 1 : 0);
	}
	return v;
}

bool tdp_json_as_u64(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

const char *tdp_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return json_integer_value(v) < 0 ? "a negative integer" :
						   "an unsigned integer";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}
