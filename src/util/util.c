// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics, atomic output files, number parsing. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/util.h>

static const char *progname = "tdpsim";

void tdp_set_progname(const char *name)
{
	progname = name;
}

int tdp_error(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return err;
}

void tdp_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tdp_outfile_open(struct tdp_outfile *of, const char *path, const char *mode)
{
	size_t n;

	memset(of, 0, sizeof(*of));
	if (!strcmp(path, "-")) {
		of->fp = stdout;
		return 0;
	}
	of->path = strdup(path);
	n = strlen(path) + 32;
	of->tmp = malloc(n);
	if (!of->path || !of->tmp)
		goto out_nomem;
	snprintf(of->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	of->fp = fopen(of->tmp, mode);
	if (!of->fp) {
		int ret = tdp_error(TDP_E_IO, "cannot create '%s': %s", path,
				    strerror(errno));
		free(of->path);
		free(of->tmp);
		memset(of, 0, sizeof(*of));
		return ret;
	}
	return 0;

out_nomem:
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof(*of));
	return TDP_E_NOMEM;
}

int tdp_outfile_commit(struct tdp_outfile *of)
{
	int ret = 0;

	if (!of->fp)
		return 0;
	if (!of->path) {	/* stdout */
		if (fflush(stdout) || ferror(stdout))
			ret = tdp_error(TDP_E_IO, "cannot write to stdout");
		of->fp = NULL;
		return ret;
	}
	if (ferror(of->fp) | fclose(of->fp)) {
		ret = tdp_error(TDP_E_IO, "cannot write '%s': %s", of->path,
				strerror(errno));
		unlink(of->tmp);
	} else if (rename(of->tmp, of->path)) {
		ret = tdp_error(TDP_E_IO, "cannot rename '%s' to '%s': %s",
				of->tmp, of->path, strerror(errno));
		unlink(of->tmp);
	}
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof(*of));
	return ret;
}

void tdp_outfile_abort(struct tdp_outfile *of)
{
	if (!of->fp)
		return;
	if (of->path) {
		fclose(of->fp);
		unlink(of->tmp);
	}
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof(*of));
}

int tdp_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return TDP_E_RANGE;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		/* strtoull would accept "0x -1": insist on a digit */
		if (!isxdigit((unsigned char)s[2]))
			return TDP_E_RANGE;
		v = strtoull(s + 2, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno || *end)
		return TDP_E_RANGE;
	*out = v;
	return 0;
}

bool tdp_progress_enabled(void)
{
	return isatty(STDERR_FILENO) && !getenv("TDPSIM_NO_PROGRESS");
}
