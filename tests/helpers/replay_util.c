// SPDX-License-Identifier: GPL-2.0-only
/* Test helpers for replay (see replay_util.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tdpsim/trace.h>

#include "replay_util.h"
#include "run.h"

char *log_normalize(const char *text)
{
	size_t n = strlen(text);
	char *out = malloc(n + 2), *o = out;
	const char *p = text;

	if (!out)
		return NULL;
	while (*p) {
		const char *eol = strchr(p, '\n'), *hash;
		char *start = o;
		bool blank = true;

		if (!eol)
			eol = p + strlen(p);
		hash = memchr(p, '#', (size_t)(eol - p));
		for (const char *q = p; q < (hash ? hash : eol); q++) {
			if (*q == ' ' || *q == '\t' || *q == '\r') {
				blank = true;
				continue;
			}
			if (blank && o != start)
				*o++ = ' ';
			blank = false;
			*o++ = *q;
		}
		if (o != start)
			*o++ = '\n';
		p = *eol ? eol + 1 : eol;
	}
	*o = 0;
	return out;
}

int replay_file(struct replay_run *rr, const char *path,
		const struct replay_args *a)
{
	static unsigned seq;
	struct tdp_replay_opts o = { 0 };
	char logp[4096];
	char *raw;

	memset(rr, 0, sizeof(*rr));
	rr->res = calloc(1, sizeof(*rr->res));
	if (!rr->res)
		return rr->ret = -1;
	snprintf(logp, sizeof(logp), "%s/replay-%d-%u.log", test_tmpdir(),
		 (int)getpid(), seq++);
	o.layout = a->layout;
	o.log_path = logp;
	o.engine.check = a->check;
	o.engine.max_mmu_pages = a->max_mmu_pages;
	rr->ret = tdp_replay_run(path, &o, NULL, rr->res, rr->err,
				 sizeof(rr->err));
	if (rr->ret)
		return rr->ret;
	raw = read_file(logp, NULL);
	unlink(logp);
	if (!raw)
		return rr->ret = -1;
	rr->log = log_normalize(raw);
	free(raw);
	return rr->log ? 0 : (rr->ret = -1);
}

int replay_text(struct replay_run *rr, const char *text,
		const struct replay_args *a)
{
	static unsigned seq;
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/trace-%d-%u.txt", test_tmpdir(),
		 (int)getpid(), seq++);
	if (write_file(path, text, strlen(text))) {
		memset(rr, 0, sizeof(*rr));
		return rr->ret = -1;
	}
	r = replay_file(rr, path, a);
	unlink(path);
	return r;
}

void replay_run_free(struct replay_run *rr)
{
	free(rr->res);
	free(rr->log);
	memset(rr, 0, sizeof(*rr));
}

const char *replay_outcome(const struct replay_run *rr, uint64_t n,
			   char *buf, unsigned len)
{
	char key[32];
	size_t kl;
	const char *p = rr->log;

	if (!p)
		return NULL;
	kl = (size_t)snprintf(key, sizeof(key), "%llu ", (unsigned long long)n);
	while (*p) {
		const char *eol = strchr(p, '\n');

		if (!strncmp(p, key, kl)) {
			size_t l = (size_t)(eol - p - (ptrdiff_t)kl);

			if (l >= len)
				l = len - 1;
			memcpy(buf, p + kl, l);
			buf[l] = 0;
			return buf;
		}
		p = eol + 1;
	}
	return NULL;
}
