// SPDX-License-Identifier: GPL-2.0-only
/* tdp_strerror()/tdp_err_name(): generated from TDP_ERR_MAP. */
#include <tdpsim/errors.h>

const char *tdp_strerror(int err)
{
	switch (err) {
	case TDP_OK:
		return "success";
#define X(name, text) case TDP_E_##name: return text;
	TDP_ERR_MAP(X)
#undef X
	default:
		return "unknown error";
	}
}

const char *tdp_err_name(int err)
{
	switch (err) {
	case TDP_OK:
		return "TDP_OK";
#define X(name, text) case TDP_E_##name: return "TDP_E_" #name;
	TDP_ERR_MAP(X)
#undef X
	default:
		return "TDP_E_?";
	}
}
