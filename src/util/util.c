// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics, atomic output files, number parsing. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- temporary files and signals ---- */

/*
 * Every temporary output this process has open, for the signal handler.
 * Fixed storage, so the handler reads it without allocating; changes are
 * made with the signals blocked, so the handler never sees half a path.
 */
#define TMP_SLOTS 16
static char tmp_slots[TMP_SLOTS][PATH_MAX];
static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(cleanup_signals); i++)
		sigaddset(&set, cleanup_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void tdp_tmp_register(const char *tmp)
{
	sigset_t old;

	if (strlen(tmp) >= PATH_MAX)
		return;
	block_signals(&old);
	for (int i = 0; i < TMP_SLOTS; i++)
		if (!tmp_slots[i][0]) {
			strcpy(tmp_slots[i], tmp);
			break;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void tdp_tmp_forget(const char *tmp)
{
	sigset_t old;

	block_signals(&old);
	for (int i = 0; i < TMP_SLOTS; i++)
		if (!strcmp(tmp_slots[i], tmp)) {
			tmp_slots[i][0] = 0;
			break;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * Remove the temporaries, then die of the same signal (the shell sees
 * 128+sig).  Only async-signal-safe calls.  The signal stays blocked
 * while this runs and its action is the default by the time it is
 * unblocked, so a second Ctrl-C, or the re-raised one, ends the process
 * at once.
 */
static void on_cleanup_signal(int sig)
{
	for (int i = 0; i < TMP_SLOTS; i++)
		if (tmp_slots[i][0])
			unlink(tmp_slots[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void tdp_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cleanup_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(cleanup_signals); i++)
		sigaddset(&sa.sa_mask, cleanup_signals[i]);
	for (size_t i = 0; i < ARRAY_SIZE(cleanup_signals); i++) {
		struct sigaction old;

		/* nohup'ed or ignored by the parent: keep it ignored */
		if (!sigaction(cleanup_signals[i], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(cleanup_signals[i], &sa, NULL);
	}
}

/* ---- where an output goes ---- */

int tdp_output_target(const char *path, char **target, bool *direct,
		      char *err, size_t errlen)
{
	struct stat st, lst;

	*target = NULL;
	*direct = false;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot write '%s': is a directory", path);
			return TDP_E_IO;
		}
		if (!S_ISREG(st.st_mode)) {
			/* a device or FIFO: write through, as cp and zstd do */
			*direct = true;
			*target = strdup(path);
		} else {
			/* a symlink's target is what gets replaced */
			*target = realpath(path, NULL);
		}
	} else if (!lstat(path, &lst) && S_ISLNK(lst.st_mode)) {
		snprintf(err, errlen, "cannot write '%s': dangling symbolic link", path);
		return TDP_E_IO;
	} else {
		*target = strdup(path);
	}
	if (!*target) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return errno == ENOMEM ? TDP_E_NOMEM : TDP_E_IO;
	}
	return 0;
}

/* Identity of an existing file; false if it does not exist. */
static bool file_id(const char *path, dev_t *dev, ino_t *ino, bool *reg)
{
	struct stat st;

	if (!strcmp(path, "-") || stat(path, &st))
		return false;
	*dev = st.st_dev;
	*ino = st.st_ino;
	*reg = S_ISREG(st.st_mode);
	return true;
}

int tdp_check_same_files(const char *const *in, size_t nin,
			 const char *const *out, size_t nout)
{
	for (size_t o = 0; o < nout; o++) {
		dev_t od, d;
		ino_t oi, i;
		bool oreg, reg;

		if (!out[o] || !file_id(out[o], &od, &oi, &oreg) || !oreg)
			continue;
		for (size_t k = 0; k < nin; k++)
			if (in[k] && file_id(in[k], &d, &i, &reg) && d == od && i == oi)
				return tdp_error(TDP_E_USAGE,
						 "output '%s' is the same file as input '%s'",
						 out[o], in[k]);
		for (size_t k = 0; k < o; k++)
			if (out[k] && file_id(out[k], &d, &i, &reg) && d == od && i == oi)
				return tdp_error(TDP_E_USAGE,
						 "output '%s' is the same file as output '%s'",
						 out[o], out[k]);
	}
	/* outputs that do not exist yet: the same name twice */
	for (size_t o = 0; o < nout; o++) {
		dev_t d;
		ino_t i;
		bool reg;

		if (!out[o] || file_id(out[o], &d, &i, &reg))
			continue;	/* compared above, or a device */
		for (size_t k = 0; k < o; k++)
			if (out[k] && !strcmp(out[o], out[k]))
				return tdp_error(TDP_E_USAGE,
						 "output '%s' is named twice", out[o]);
	}
	return 0;
}

/* ---- atomic output files ---- */

int tdp_outfile_open(struct tdp_outfile *of, const char *path, const char *mode)
{
	char err[TDP_ERRBUF_SIZE];
	int ret;

	memset(of, 0, sizeof(*of));
	if (!strcmp(path, "-")) {
		of->fp = stdout;
		return 0;
	}
	ret = tdp_output_target(path, &of->path, &of->direct, err, sizeof(err));
	if (ret)
		return tdp_error(ret, "%s", err);
	if (of->direct) {
		of->fp = fopen(of->path, mode);
		if (!of->fp) {
			ret = tdp_error(TDP_E_IO, "cannot open '%s': %s", path, strerror(errno));
			goto out_free;
		}
		return 0;
	}
	if (asprintf(&of->tmp, "%s.tmp.%ld", of->path, (long)getpid()) < 0) {
		of->tmp = NULL;
		ret = TDP_E_NOMEM;
		goto out_free;
	}
	/* registered first: a signal between create and register leaves nothing */
	tdp_tmp_register(of->tmp);
	of->fp = fopen(of->tmp, mode);
	if (!of->fp) {
		ret = tdp_error(TDP_E_IO, "cannot create '%s': %s", path, strerror(errno));
		tdp_tmp_forget(of->tmp);
		goto out_free;
	}
	return 0;

out_free:
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof(*of));
	return ret;
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
		if (of->tmp)
			unlink(of->tmp);
	} else if (of->tmp && rename(of->tmp, of->path)) {
		ret = tdp_error(TDP_E_IO, "cannot rename '%s' to '%s': %s",
				of->tmp, of->path, strerror(errno));
		unlink(of->tmp);
	}
	if (of->tmp)
		tdp_tmp_forget(of->tmp);
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
		if (of->tmp) {
			unlink(of->tmp);
			tdp_tmp_forget(of->tmp);
		}
	}
	free(of->path);
	free(of->tmp);
	memset(of, 0, sizeof(*of));
}

void tdp_fputs_wrapped(FILE *fp, const char *text, unsigned int indent)
{
	unsigned int col = 0;
	size_t gap = strspn(text, " ");	/* spaces before the next word, kept */
	bool line_start = true;
	const char *p = text + gap;

	/* leading spaces are the caller's layout */
	fprintf(fp, "%*s", (int)gap, "");
	col = gap;
	gap = 0;
	while (*p) {
		size_t w = strcspn(p, " \n");

		if (!line_start && col + gap + w > TDP_TEXT_COLS) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
			line_start = true;
		}
		if (!line_start) {
			fprintf(fp, "%*s", (int)gap, "");
			col += gap;
		}
		/* a word wider than the page (a long path) is cut, not overflowed */
		while (col + w > TDP_TEXT_COLS && col < TDP_TEXT_COLS) {
			size_t room = TDP_TEXT_COLS - col;

			fwrite(p, 1, room, fp);
			fprintf(fp, "\n%*s", (int)indent, "");
			p += room;
			w -= room;
			col = indent;
		}
		fwrite(p, 1, w, fp);
		col += w;
		line_start = line_start && !w;
		p += w;
		gap = strspn(p, " ");
		p += gap;
		if (*p == '\n') {
			fputc('\n', fp);
			p++;
			col = 0;
			gap = 0;
			line_start = true;
			if (*p) {
				fprintf(fp, "%*s", (int)indent, "");
				col = indent;
			}
		}
	}
	if (col)
		fputc('\n', fp);
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
