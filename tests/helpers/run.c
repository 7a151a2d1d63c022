// SPDX-License-Identifier: GPL-2.0-only
/* Test helpers: spawn the CLI, capture output, scratch files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run.h"

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = 0;
	return buf;
}

int run_tdpsim(struct run_result *r, const char *const *argv)
{
	const char *bin = getenv("TDPSIM_BIN");
	char outp[] = "/tmp/tdpsim-out-XXXXXX", errp[] = "/tmp/tdpsim-err-XXXXXX";
	int ofd, efd, status, n = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!bin)
		bin = "build-test/tdpsim";
	ofd = mkstemp(outp);
	efd = mkstemp(errp);
	if (ofd < 0 || efd < 0)
		return -1;
	unlink(outp);
	unlink(errp);
	while (argv[n])
		n++;
	pid = fork();
	if (pid == 0) {
		const char **av = calloc(n + 2, sizeof(*av));
		int nul = open("/dev/null", O_RDONLY);

		av[0] = bin;
		for (int i = 0; i < n; i++)
			av[i + 1] = argv[i];
		dup2(nul, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		setenv("TDPSIM_NO_PROGRESS", "1", 1);
		execv(bin, (char *const *)av);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = slurp_fd(ofd);
	r->err = slurp_fd(efd);
	close(ofd);
	close(efd);
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static char tmpdir[64];
static pid_t tmpdir_owner;

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/*
 * Criterion runs each test in its own process, so each process that made
 * a scratch directory removes it when it exits (a process that inherited
 * one leaves it to its maker); without this every test left one in /tmp.
 */
static void rm_tmpdir(void)
{
	if (tmpdir[0] && getpid() == tmpdir_owner)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/tdpsim-test-XXXXXX");
		if (!mkdtemp(tmpdir))
			abort();
		tmpdir_owner = getpid();
		atexit(rm_tmpdir);
	}
	return tmpdir;
}

const char *test_path(const char *name)
{
	static char bufs[8][512];
	static int slot;
	char *b = bufs[slot++ & 7];

	snprintf(b, 512, "%s/%s", test_tmpdir(), name);
	return b;
}

int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, n;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf) {
		buf[len] = 0;
		if (lenp)
			*lenp = len;
	}
	return buf;
}

const char *src_path(const char *rel)
{
	static char bufs[4][1024];
	static int slot;
	const char *root = getenv("TDPSIM_SRC_DIR");
	char *b = bufs[slot++ & 3];

	snprintf(b, 1024, "%s/%s", root ? root : ".", rel);
	return b;
}

bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool files_equal(const char *a, const char *b)
{
	size_t la, lb;
	char *x = read_file(a, &la), *y = read_file(b, &lb);
	bool same;

	cr_assert(x && y, "cannot read '%s' or '%s'", a, b);
	same = la == lb && !memcmp(x, y, la);
	free(x);
	free(y);
	return same;
}

bool contains_unwrapped(const char *hay, const char *needle)
{
	if (!hay || !needle)
		return false;
	for (; *hay; hay++) {
		const char *h = hay, *n = needle;

		while (*n) {
			if (*n == ' ') {
				if (!isspace((unsigned char)*h))
					break;
				while (isspace((unsigned char)*h))
					h++;
				n++;
			} else if (*h == *n) {
				h++;
				n++;
			} else {
				break;
			}
		}
		if (!*n)
			return true;
	}
	return false;
}

bool line_fits(const char *line, size_t n, size_t cols)
{
	size_t longest = 0, i = 0;

	if (n <= cols)
		return true;
	while (i < n) {
		size_t w = 0;

		while (i < n && line[i] == ' ')
			i++;
		while (i + w < n && line[i + w] != ' ')
			w++;
		if (w > longest)
			longest = w;
		i += w;
	}
	/* the word must be one that cannot fit any line: longer than cols/2 */
	return longest > cols / 2 && n - longest <= cols;
}
