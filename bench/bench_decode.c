// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace decode throughput: generate a large synthetic trace with realistic
 * locality, write it as .zst and .pcap through the writer API, then time
 * reading it back through tdp_trace_next_batch() (best of R runs).
 *
 *   bench_decode [EVENTS [RUNS [DIR]]]     defaults: 20000000 3 /tmp
 *
 * The event mix: per vCPU (4), 8 page streams walking forward 8 bytes to a
 * page per access with a 1/64 chance of a jump; ops 70 % r, 25 % w, 5 % x;
 * every 64th event a write (guest PTE store), every 1024th a set (cr3
 * switch); every event carries t= with deltas of 50..1073 ns.  Only the
 * per-event decode is timed, the file is in the page cache (written just
 * before).  BENCH_DECODE_KEEP=1 keeps the files (e.g. to compare with
 * `zstd -d` on the same bytes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/trace.h>

#include "bench.h"

static uint64_t rng = 88172645463325252ull;

static inline uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define NVCPU 4
#define NSTREAM 8

static int generate(const char *path, enum tdp_trace_form form, uint64_t n)
{
	char errbuf[TDP_ERRBUF_SIZE], why[256];
	uint64_t gva[NVCPU][NSTREAM], t = 1000000;
	struct tdp_config cfg;
	struct tdp_event ev;
	tdp_writer_t *w;
	int ret;

	rng = 88172645463325252ull;
	for (int v = 0; v < NVCPU; v++)
		for (int s = 0; s < NSTREAM; s++)
			gva[v][s] = 0x7f0000000000ull + ((uint64_t)(v * NSTREAM + s) << 30);
	ret = tdp_config_parse(&cfg, "vendor=intel paging=shadow vcpus=4", why, sizeof(why));
	if (ret)
		return ret;
	ret = tdp_writer_open(&w, path, form, 3, "bench_decode", errbuf);
	if (ret) {
		fprintf(stderr, "%s\n", errbuf);
		return ret;
	}
	ret = tdp_writer_config(w, &cfg);
	for (uint64_t i = 0; i < n && !ret; i++) {
		uint64_t r = xorshift();
		unsigned int v = r % NVCPU, s = (r >> 8) % NSTREAM;

		memset(&ev, 0, sizeof(ev));
		t += 50 + (r >> 20) % 1024;
		ev.t = t;
		ev.present = TDP_PRESENT_T;
		if (i % 1024 == 1023) {
			ev.kind = TDP_EV_SET;
			ev.vcpu = v;
			ev.present |= TDP_KEY_BIT(SET, vcpu) | TDP_KEY_BIT(SET, cr3);
			ev.u.set.cr3 = 0x100000 + ((r >> 32) % 16) * 0x1000;
		} else if (i % 64 == 63) {
			ev.kind = TDP_EV_WRITE;
			ev.present |= TDP_KEY_BIT(WRITE, gpa) | TDP_KEY_BIT(WRITE, val);
			ev.u.write.gpa = 0x200000 + ((r >> 32) % 512) * 8;
			ev.u.write.val = 0x300000 + ((r >> 40) % 4096) * 0x1000 + 0x67;
			ev.u.write.size = 8;
		} else {
			unsigned int op = (r >> 24) % 100;

			ev.kind = TDP_EV_ACCESS;
			ev.vcpu = v;
			ev.present |= TDP_KEY_BIT(ACCESS, vcpu) | TDP_KEY_BIT(ACCESS, gva) |
				      TDP_KEY_BIT(ACCESS, op);
			if ((r >> 32) % 64 == 0)
				gva[v][s] += ((r >> 38) % 4096) << 12;
			else
				gva[v][s] += 8 + (((r >> 38) % 8) << 12) * ((r >> 44) % 2);
			ev.u.access.gva = gva[v][s];
			ev.u.access.op = op < 70 ? TDP_OP_READ : op < 95 ? TDP_OP_WRITE : TDP_OP_FETCH;
		}
		ret = tdp_writer_event(w, &ev);
	}
	if (!ret)
		ret = tdp_writer_close(w);
	if (ret)
		fprintf(stderr, "%s\n", tdp_writer_errmsg(w));
	tdp_writer_free(w);
	return ret;
}

struct result {
	uint64_t ns, tsc, cpu_ns, events, sum;
};

/*
 * CPU time of this thread: on a shared 2-core machine other jobs steal
 * wall time, so the table reports both and the best run by CPU time.
 */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int decode(const char *path, struct result *res)
{
	char errbuf[TDP_ERRBUF_SIZE];
	const struct tdp_event *evs;
	uint64_t n = 0, sum = 0, t0, c0, u0;
	tdp_trace_t *t;
	int got;

	u0 = cpu_ns();
	c0 = bench_tsc();
	t0 = bench_ns();
	if (tdp_trace_open(&t, path, errbuf)) {
		fprintf(stderr, "%s\n", errbuf);
		return -1;
	}
	while ((got = tdp_trace_next_batch(t, &evs)) > 0) {
		for (int i = 0; i < got; i++)
			sum += evs[i].u.access.gva ^ evs[i].kind;
		n += got;
	}
	if (got < 0) {
		fprintf(stderr, "%s\n", tdp_trace_errmsg(t));
		tdp_trace_close(t);
		return -1;
	}
	tdp_trace_close(t);
	res->tsc = bench_tsc() - c0;
	res->ns = bench_ns() - t0;
	res->cpu_ns = cpu_ns() - u0;
	res->events = n;
	res->sum = sum;
	bench_keep(sum);
	return 0;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	const char *dir = argc > 3 ? argv[3] : "/tmp";
	static const struct { enum tdp_trace_form form; const char *ext; } forms[] = {
		{ TDP_FORM_ZST, "zst" }, { TDP_FORM_PCAP, "pcap" },
	};
	double tsc_per_ns = bench_tsc_per_ns();

	printf("# bench_decode: %" PRIu64 " events, best of %d, TSC %.0f MHz\n", n, runs,
	       tsc_per_ns * 1000);
	printf("%-5s %10s %8s %8s %9s %9s %9s %10s\n", "form", "bytes", "B/event",
	       "write_s", "wall_ns/ev", "tsc/ev", "cpu_ns/ev", "Mev/s(cpu)");
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		char path[512];
		struct result best = { .cpu_ns = UINT64_MAX };
		uint64_t w0, wns, sz;

		snprintf(path, sizeof(path), "%s/bench_decode.%ld.%s", dir, (long)getpid(),
			 forms[f].ext);
		w0 = bench_ns();
		if (generate(path, forms[f].form, n))
			return 1;
		wns = bench_ns() - w0;
		sz = file_size(path);
		for (int r = 0; r < runs; r++) {
			struct result res = { 0 };

			if (decode(path, &res) || res.events != n) {
				fprintf(stderr, "decode failed or short (%" PRIu64 " events)\n",
					res.events);
				unlink(path);
				return 1;
			}
			if (res.cpu_ns < best.cpu_ns)
				best = res;
		}
		printf("%-5s %10" PRIu64 " %8.3f %8.2f %9.2f %9.1f %9.2f %10.1f\n", forms[f].ext,
		       sz, (double)sz / n, wns / 1e9, (double)best.ns / n, (double)best.tsc / n,
		       (double)best.cpu_ns / n, n * 1e3 / best.cpu_ns);
		if (!getenv("BENCH_DECODE_KEEP"))
			unlink(path);
	}
	return 0;
}
