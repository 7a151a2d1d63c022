// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay reports: a plain-text summary that fits a 72-column cover letter,
 * and the JSON report of docs/report-schema.md.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <tdpsim/errors.h>
#include <tdpsim/json.h>
#include <tdpsim/replay.h>
#include <tdpsim/report.h>
#include <tdpsim/trace.h>

#include "tdpsim-commit.h"

static const char *const pf_bit_names[6] = { "P", "W", "U", "RSVD", "ID", "PK" };

/*
 * EPT exit-qualification bits 0-11 (SDM 28.2.1, table 28-7), as rows of the
 * text report: bits 3-6 say what the EPT entries walked allowed, bits 9-11
 * (advanced information) what L2's own translation of the GVA allowed.
 */
static const char *const qual_bit_names[12] = {
	"read", "write", "fetch",
	"GPA readable (R)", "GPA writable (W)", "GPA executable (X/XS)",
	"GPA user-exec (XU)", "GVA valid", "GVA translated",
	"GVA user-mode (U/S)", "GVA writable (R/W)", "GVA exec-disable (XD)",
};
/* #NPF EXITINFO1 bits 0-4 (APM 15.25.6), the order of reflected_npf_bit[] */
static const char *const npf_bit_names[5] = { "P", "W", "U", "RSVD", "ID" };
static const char *const npf_bit_desc[5] = {
	"present entry denied", "write", "user access", "reserved bit", "fetch",
};

static uint64_t sum_sp(const uint64_t a[TDP_MAX_LEVEL][2])
{
	uint64_t s = 0;

	for (int l = 0; l < TDP_MAX_LEVEL; l++)
		s += a[l][0] + a[l][1];
	return s;
}

static double ticks_to_ns(const struct tdp_replay_result *r, double ticks)
{
	return r->tsc_mhz > 0 ? ticks * 1000.0 / r->tsc_mhz : 0;
}

/*
 * A timed region's ticks as ns, less the timer's own cost (measured at the
 * start of the replay, stats.timer_overhead_ticks); never below 0.
 */
static double net_ns(const struct tdp_replay_result *r, double ticks)
{
	double net = ticks - (double)r->stats.timer_overhead_ticks;

	return ticks > 0 ? ticks_to_ns(r, net > 0 ? net : 0) : 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static const char *vendor_name(const struct tdp_config *c)
{
	return c->vendor == TDP_VENDOR_AMD ? "amd" : "intel";
}

static const char *paging_name(const struct tdp_config *c)
{
	return c->paging == TDP_PAGING_SHADOW ? "shadow" :
	       c->paging == TDP_PAGING_TDP ? "tdp" : "nested";
}

/* "label ........ value" rows; every line stays within 72 columns. */
#define ROW(fp, label, fmt, ...) fprintf(fp, "  %-36s " fmt "\n", label, __VA_ARGS__)
#define PAIR "%6" PRIu64 " / %5" PRIu64

/* Any nested counter set: the nested section is shown even off paging=nested. */
static bool nested_any(const struct tdp_stats *s)
{
	uint64_t any = s->nested_vmenter | s->nested_vmexit | s->nested_invept_single |
		       s->nested_invept_global | s->l2_accesses | s->l2_exits |
		       s->l2_pf | s->nested_reflected | s->reflected_ept_violation |
		       s->reflected_ept_misconfig | s->reflected_npf |
		       s->reflected_final | s->reflected_page |
		       s->reflected_exec_user | s->reflected_exec_supervisor |
		       s->sp_nested_created | s->sp_nested_live;

	for (int b = 0; b < 12; b++)
		any |= s->reflected_qual_bit[b];
	for (int b = 0; b < 5; b++)
		any |= s->reflected_npf_bit[b];
	return any != 0;
}

/*
 * The nested section: what L2's accesses cost L0 (KVM) and what went on to
 * L1.  Vendor words follow the config (EPT02 / NPT02, qualification /
 * EXITINFO1); a counter of the other vendor is still shown if non-zero, so
 * nothing counted is hidden.
 */
static void print_nested(FILE *fp, const struct tdp_config *cfg,
			 const struct tdp_stats *s)
{
	bool amd = cfg->vendor == TDP_VENDOR_AMD;
	const char *tdp = amd ? "NPT" : "EPT";
	char line[80];

	fprintf(fp, "\nnested (L2 under L1's %s)\n", tdp);
	ROW(fp, "vmenter / vmexit", PAIR, s->nested_vmenter, s->nested_vmexit);
	if (!amd || s->nested_invept_single)
		ROW(fp, "INVEPT single / global", PAIR, s->nested_invept_single,
		    s->nested_invept_global);
	else
		ROW(fp, "nested TLB flushes (invept)", "%14" PRIu64,
		    s->nested_invept_global);
	ROW(fp, "L2 accesses", "%14" PRIu64, s->l2_accesses);
	ROW(fp, "#PF delivered to L2", "%14" PRIu64, s->l2_pf);
	/*
	 * Every EPT02/NPT02 exit enters L0 first; L0 either fixes its shadow
	 * entry or passes the exit on.  Reflected exits are not a subset of
	 * these alone (KVM's emulator and recorded faults can reflect too),
	 * so the two rows are not subtracted.
	 */
	snprintf(line, sizeof(line), "L2 exits into L0 (%s02 misses)", tdp);
	ROW(fp, line, "%14" PRIu64, s->l2_exits);
	ROW(fp, "exits reflected to L1", "%14" PRIu64, s->nested_reflected);
	if (!amd || s->reflected_ept_violation)
		ROW(fp, "  EPT violations", "%14" PRIu64, s->reflected_ept_violation);
	if (!amd || s->reflected_ept_misconfig)
		ROW(fp, "  EPT misconfigurations", "%14" PRIu64, s->reflected_ept_misconfig);
	if (amd || s->reflected_npf)
		ROW(fp, "  #NPF", "%14" PRIu64, s->reflected_npf);
	ROW(fp, "  on final GPA / on L2 paging struct", PAIR, s->reflected_final,
	    s->reflected_page);
	/*
	 * The MBEC / GMET effect: which execute right the fault was about.
	 * MBEC judges the L2 translation's U/S (XU for user-mode GVAs, XS for
	 * supervisor ones); GMET judges the CPL.
	 */
	if (amd) {
		ROW(fp, "  fetch at CPL 3 (user)", "%14" PRIu64, s->reflected_exec_user);
		ROW(fp, "  fetch at CPL 0-2 (supervisor)", "%14" PRIu64,
		    s->reflected_exec_supervisor);
	} else {
		/* without MBEC both need X: the split is still by the GVA's mode */
		ROW(fp, cfg->mbec ? "  fetch of user-mode GVA (MBEC: XU)" :
		    "  fetch of user-mode GVA", "%14" PRIu64, s->reflected_exec_user);
		ROW(fp, cfg->mbec ? "  fetch of supervisor GVA (MBEC: XS)" :
		    "  fetch of supervisor GVA", "%14" PRIu64,
		    s->reflected_exec_supervisor);
	}
	for (int b = 0; b < 12; b++)
		if (s->reflected_qual_bit[b]) {
			snprintf(line, sizeof(line), "  qual bit %d %s", b, qual_bit_names[b]);
			ROW(fp, line, "%14" PRIu64, s->reflected_qual_bit[b]);
		}
	for (int b = 0; b < 5; b++)
		if (s->reflected_npf_bit[b]) {
			snprintf(line, sizeof(line), "  EXITINFO1.%s (%s)", npf_bit_names[b],
				 npf_bit_desc[b]);
			ROW(fp, line, "%14" PRIu64, s->reflected_npf_bit[b]);
		}
	snprintf(line, sizeof(line), "%s02 shadow pages created / at end", tdp);
	ROW(fp, line, PAIR, s->sp_nested_created, s->sp_nested_live);
}

static bool fault_paths_timed(const struct tdp_stats *s)
{
	for (int k = 0; k < TDP_FPATH_KINDS; k++)
		if (s->fault_ticks[k].count)
			return true;
	return false;
}

/* The timing fields of a report as measured by one replay. */
static struct tdp_report_timing measured_timing(const struct tdp_replay_result *res)
{
	const struct tdp_stats *s = &res->stats;
	const struct tdp_hist *h = &s->walk_ticks;
	struct tdp_report_timing t = {
		.walk_p50 = net_ns(res, (double)tdp_hist_quantile(h, 0.5)),
		.walk_p90 = net_ns(res, (double)tdp_hist_quantile(h, 0.9)),
		.walk_p99 = net_ns(res, (double)tdp_hist_quantile(h, 0.99)),
		.walk_max = net_ns(res, h->count ? (double)h->max : 0),
		.walk_mean = net_ns(res, ratio(h->sum, h->count)),
		.perm_mean_ns = s->perm_ns_mean,
		.events_per_s = res->wall_s > 0 ? (double)s->events / res->wall_s : 0,
		.wall_s = res->wall_s,
	};

	for (int k = 0; k < TDP_WALK_KINDS; k++) {
		h = &s->walk_kind_ticks[k];
		t.kind_mean[k] = net_ns(res, ratio(h->sum, h->count));
		t.kind_p50[k] = net_ns(res, (double)tdp_hist_quantile(h, 0.5));
	}
	for (int k = 0; k < TDP_FPATH_KINDS; k++) {
		h = &s->fault_ticks[k];
		t.fpath_mean[k] = net_ns(res, ratio(h->sum, h->count));
		t.fpath_p50[k] = net_ns(res, (double)tdp_hist_quantile(h, 0.5));
	}
	return t;
}

int tdp_report_print_text(FILE *fp, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res)
{
	const struct tdp_stats *s = &res->stats;
	const struct tdp_hist *h = &s->walk_ticks;
	struct tdp_report_timing t = measured_timing(res);
	char line[80];

	snprintf(line, sizeof(line), "%s", trace_path);
	fprintf(fp, "tdpsim replay: %.50s\n", line);
	fprintf(fp, "  layout %s, vendor %s, paging %s, %u vcpu(s)\n", layout,
		vendor_name(cfg), paging_name(cfg), cfg->vcpus);
	fprintf(fp, "\nevents\n");
	ROW(fp, "total", "%14" PRIu64, s->events);
	for (unsigned k = 0; k < TDP_EV__COUNT; k++)
		if (s->ev_by_kind[k])
			ROW(fp, tdp_event_name(k), "%14" PRIu64, s->ev_by_kind[k]);
	/*
	 * KVM's own stats, by the names of struct kvm_vcpu_stat / kvm_vm_stat
	 * (debugfs /sys/kernel/debug/kvm/), counted where the kernel counts
	 * them (docs/report-schema.md).
	 */
	fprintf(fp, "\nKVM stats (kvm_vcpu_stat / kvm_vm_stat)\n");
	ROW(fp, "exits", "%14" PRIu64, tdp_stats_exits(s));
	ROW(fp, "pf_taken", "%14" PRIu64, s->pf_taken);
	ROW(fp, "pf_fixed", "%14" PRIu64, s->pf_fixed);
	ROW(fp, "pf_spurious", "%14" PRIu64, s->pf_spurious);
	ROW(fp, "pf_emulate", "%14" PRIu64, s->pf_emulate);
	ROW(fp, "pf_fast", "%14" PRIu64, s->pf_fast);
	ROW(fp, "pf_mmio_spte_created", "%14" PRIu64, s->pf_mmio_spte_created);
	ROW(fp, "invlpg", "%14" PRIu64, s->invlpg);
	ROW(fp, "tlb_flush", "%14" PRIu64, s->tlb_flush);
	ROW(fp, "mmu_shadow_zapped", "%14" PRIu64, s->mmu_shadow_zapped);
	ROW(fp, "mmu_pte_write", "%14" PRIu64, s->mmu_pte_write);
	ROW(fp, "mmu_pde_zapped", "%14" PRIu64, s->mmu_pde_zapped);
	ROW(fp, "mmu_flooded", "%14" PRIu64, s->mmu_flooded);
	ROW(fp, "mmu_recycled", "%14" PRIu64, s->mmu_recycled);
	ROW(fp, "mmu_cache_miss", "%14" PRIu64, s->mmu_cache_miss);
	ROW(fp, "mmu_unsync (at end)", "%14" PRIu64, s->mmu_unsync);
	ROW(fp, "pages_4k / pages_2m (at end)", PAIR, s->pages[0], s->pages[1]);
	ROW(fp, "pages_1g (at end)", "%14" PRIu64, s->pages[2]);
	fprintf(fp, "\nexits by reason (tdpsim; sum = exits)\n");
	ROW(fp, "#PF intercepts", "%14" PRIu64, s->exit_pf);
	ROW(fp, "EPT violations / NPFs", "%14" PRIu64, s->exit_ept_violation);
	ROW(fp, "EPT misconfigurations", "%14" PRIu64, s->exit_ept_misconfig);
	ROW(fp, "emulated writes", "%14" PRIu64, s->exit_emulated_write);
	ROW(fp, "CR/EFER loads", "%14" PRIu64, s->exit_cr);
	ROW(fp, "INVLPG", "%14" PRIu64, s->exit_invlpg);
	ROW(fp, "recorded faults replayed", "%14" PRIu64, s->exit_recorded);
	fprintf(fp, "\nfaults (tdpsim)\n");
	ROW(fp, "pf_retry (RET_PF_RETRY)", "%14" PRIu64, s->pf_retry);
	ROW(fp, "SPTEs prefetched", "%14" PRIu64, s->pf_prefetched);
	if (s->hw_tlb_hits)
		ROW(fp, "accesses hitting the modelled TLB", "%14" PRIu64, s->hw_tlb_hits);
	ROW(fp, "pf_livelock (KVM could not resolve)", "%14" PRIu64, s->pf_livelock);
	ROW(fp, "#PF delivered to the guest", "%14" PRIu64, s->pf_injected);
	for (int b = 0; b < 6; b++)
		if (s->pf_injected_by_bit[b]) {
			snprintf(line, sizeof(line), "  with %s", pf_bit_names[b]);
			ROW(fp, line, "%14" PRIu64, s->pf_injected_by_bit[b]);
		}
	ROW(fp, "#GP: set refused / non-canonical", PAIR, s->gp_set_refused,
	    s->gp_noncanonical);
	if (cfg->paging == TDP_PAGING_NESTED || nested_any(s))
		print_nested(fp, cfg, s);
	fprintf(fp, "\nshadow pages (tdpsim)\n");
	ROW(fp, "created", "%14" PRIu64, sum_sp(s->sp_created));
	ROW(fp, "zapped (distinct pages)", "%14" PRIu64, sum_sp(s->sp_zapped));
	ROW(fp, "live at end / peak", "%6" PRIu64 " / %5" PRIu64, s->sp_live, s->sp_peak);
	for (int l = TDP_MAX_LEVEL - 1; l >= 0; l--) {
		if (!s->sp_created[l][0] && !s->sp_created[l][1])
			continue;
		snprintf(line, sizeof(line), "  level %d created indirect/direct", l + 1);
		ROW(fp, line, "%6" PRIu64 " / %5" PRIu64, s->sp_created[l][0],
		    s->sp_created[l][1]);
	}
	ROW(fp, "made unsync / synced", "%6" PRIu64 " / %5" PRIu64, s->sp_unsync, s->sp_sync);
	ROW(fp, "mmu_flooded: flooding / misaligned", PAIR, s->sp_flood_zaps,
	    s->sp_misaligned_zaps);
	ROW(fp, "root allocations", "%14" PRIu64, s->root_allocs);
	ROW(fp, "prev_roots hit rate", "%13.1f%%",
	    100.0 * ratio(s->prev_root_hits, s->prev_root_hits + s->prev_root_misses));
	fprintf(fp, "\nguest walks by KVM\n");
	ROW(fp, "walks", "%14" PRIu64, s->walks);
	ROW(fp, "memory references per walk", "%14.2f", ratio(s->walk_mem_refs, s->walks));
	if (h->count) {
		ROW(fp, "latency ns p50 / p90", "%6.0f / %5.0f", t.walk_p50, t.walk_p90);
		ROW(fp, "latency ns p99 / max", "%6.0f / %5.0f", t.walk_p99, t.walk_max);
		for (int k = 0; k < TDP_WALK_KINDS; k++) {
			if (!s->walk_kind_ticks[k].count)
				continue;
			snprintf(line, sizeof(line), "  %s walks: mean / p50 ns",
				 tdp_walk_kind_names[k]);
			ROW(fp, line, "%6.1f / %5.0f", t.kind_mean[k], t.kind_p50[k]);
		}
	}
	ROW(fp, "permission checks", "%14" PRIu64, s->perm_checks);
	if (t.perm_mean_ns > 0)
		ROW(fp, "ns per permission check", "%14.2f", t.perm_mean_ns);
	if (fault_paths_timed(s)) {
		fprintf(fp, "\nexits into kvm_mmu_page_fault, by path\n");
		for (int k = 0; k < TDP_FPATH_KINDS; k++) {
			if (!s->fault_ticks[k].count)
				continue;
			snprintf(line, sizeof(line), "%s: exits / mean ns",
				 tdp_fault_path_names[k]);
			ROW(fp, line, "%6" PRIu64 " / %5.0f", s->fault_ticks[k].count,
			    t.fpath_mean[k]);
		}
		ROW(fp, "timer cost subtracted (ns)", "%14.1f",
		    ticks_to_ns(res, (double)s->timer_overhead_ticks));
	}
	fprintf(fp, "\nthroughput\n");
	ROW(fp, "wall time (s)", "%14.3f", t.wall_s);
	ROW(fp, "trace read ahead on a 2nd thread", "%14s", res->read_ahead ? "yes" : "no");
	ROW(fp, "events/s", "%14.0f", t.events_per_s);
	ROW(fp, "host memory at end (KiB)", "%14" PRIu64, s->host_bytes / 1024);
	return ferror(fp) ? TDP_E_IO : 0;
}

static void machine_name(char *buf, size_t len)
{
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && colon) {
				colon[strcspn(colon, "\n")] = 0;
				snprintf(buf, len, "%s", colon + 2);
				break;
			}
		}
		fclose(f);
	}
	if (!uname(&u)) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (%s %s)", u.sysname, u.machine);
	}
}

/* "latency_ns": in the report and, as its spread, in the "spread" mirror */
static void latency_json(struct tdp_json *j, const struct tdp_report_timing *t)
{
	tdp_json_obj_open(j, "latency_ns");
	tdp_json_double(j, "p50", t->walk_p50);
	tdp_json_double(j, "p90", t->walk_p90);
	tdp_json_double(j, "p99", t->walk_p99);
	tdp_json_double(j, "max", t->walk_max);
	tdp_json_double(j, "mean", t->walk_mean);
	tdp_json_obj_close(j);
}

/*
 * "walks.by_kind" and "fault_paths": per walker and per fault path, the
 * mean and median ns; with @s (a report, not its spread) also the count.
 */
static void kinds_json(struct tdp_json *j, const struct tdp_report_timing *t,
		       const struct tdp_stats *s, bool fault_paths)
{
	int n = fault_paths ? TDP_FPATH_KINDS : TDP_WALK_KINDS;

	tdp_json_obj_open(j, fault_paths ? "fault_paths" : "by_kind");
	for (int k = 0; k < n; k++) {
		tdp_json_obj_open(j, fault_paths ? tdp_fault_path_names[k] :
				  tdp_walk_kind_names[k]);
		if (s)
			tdp_json_u64(j, "count", fault_paths ? s->fault_ticks[k].count :
				     s->walk_kind_ticks[k].count);
		tdp_json_double(j, "mean_ns", fault_paths ? t->fpath_mean[k] :
				t->kind_mean[k]);
		tdp_json_double(j, "p50_ns", fault_paths ? t->fpath_p50[k] :
				t->kind_p50[k]);
		tdp_json_obj_close(j);
	}
	tdp_json_obj_close(j);
}

/* The "spread" mirror: the timing fields in the report's own shape. */
static void spread_json(struct tdp_json *j, const struct tdp_report_timing *t)
{
	tdp_json_obj_open(j, "spread");
	tdp_json_obj_open(j, "walks");
	latency_json(j, t);
	kinds_json(j, t, NULL, false);
	tdp_json_obj_close(j);
	kinds_json(j, t, NULL, true);
	tdp_json_obj_open(j, "permission");
	tdp_json_double(j, "mean_ns", t->perm_mean_ns);
	tdp_json_obj_close(j);
	tdp_json_obj_open(j, "throughput");
	tdp_json_double(j, "events_per_s", t->events_per_s);
	tdp_json_double(j, "wall_s", t->wall_s);
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);
}

/*
 * One report object at @j's current position.  @fold, if given, carries
 * what a comparison folded over its repetitions: the median timing fields
 * replace the measured ones, its spread becomes the top-level "spread"
 * mirror, and measurement.repetitions is its count.
 */
static void report_json(struct tdp_json *j, const char *trace_path,
			const struct tdp_config *cfg, const char *layout,
			const struct tdp_replay_result *res,
			const struct tdp_report *fold)
{
	const struct tdp_stats *s = &res->stats;
	const struct tdp_hist *h = &s->walk_ticks;
	struct tdp_report_timing t = fold ? fold->t : measured_timing(res);
	char machine[160];

	tdp_json_obj_open(j, NULL);
	tdp_json_u64(j, "tdpsim_report", TDP_REPORT_VERSION);

	tdp_json_obj_open(j, "tool");
	tdp_json_str(j, "version", TDPSIM_VERSION);
	tdp_json_str(j, "commit", TDPSIM_COMMIT);
#ifdef NDEBUG
	tdp_json_str(j, "build", "release");
#else
	tdp_json_str(j, "build", "debug");
#endif
	tdp_json_str(j, "layout", layout);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "trace");
	tdp_json_str(j, "path", trace_path);
	tdp_json_obj_open(j, "config");
	tdp_json_str(j, "vendor", vendor_name(cfg));
	tdp_json_str(j, "paging", paging_name(cfg));
	tdp_json_u64(j, "vcpus", cfg->vcpus);
	tdp_json_u64(j, "maxphyaddr", cfg->maxphyaddr);
	tdp_json_u64(j, "mem", cfg->mem);
	tdp_json_u64(j, "mbec", cfg->mbec);
	tdp_json_u64(j, "gmet", cfg->gmet);
	tdp_json_u64(j, "ept_ad", cfg->ept_ad);
	tdp_json_u64(j, "la57", cfg->la57);
	tdp_json_u64(j, "max_mmu_pages", cfg->max_mmu_pages);
	tdp_json_u64(j, "nx_huge_pages", cfg->nx_huge_pages);
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);

	machine_name(machine, sizeof(machine));
	tdp_json_obj_open(j, "measurement");
	tdp_json_str(j, "machine", machine);
	tdp_json_u64(j, "cores", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	tdp_json_double(j, "tsc_mhz", res->tsc_mhz);
	tdp_json_bool(j, "timing", h->count > 0);
	tdp_json_u64(j, "repetitions", fold ? fold->repetitions : 1);
	tdp_json_double(j, "timer_overhead_ns",
			ticks_to_ns(res, (double)s->timer_overhead_ticks));
	tdp_json_bool(j, "read_ahead", res->read_ahead);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "events");
	tdp_json_u64(j, "total", s->events);
	tdp_json_obj_open(j, "by_kind");
	for (unsigned k = 0; k < TDP_EV__COUNT; k++)
		tdp_json_u64(j, tdp_event_name(k), s->ev_by_kind[k]);
	tdp_json_obj_close(j);
	tdp_json_obj_open(j, "accesses");
	tdp_json_u64(j, "r", s->accesses_by_op[0]);
	tdp_json_u64(j, "w", s->accesses_by_op[1]);
	tdp_json_u64(j, "x", s->accesses_by_op[2]);
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);

	/* KVM's stats by KVM's names (docs/report-schema.md: where counted) */
	tdp_json_obj_open(j, "kvm_stats");
	tdp_json_u64(j, "exits", tdp_stats_exits(s));
	tdp_json_u64(j, "pf_taken", s->pf_taken);
	tdp_json_u64(j, "pf_fixed", s->pf_fixed);
	tdp_json_u64(j, "pf_spurious", s->pf_spurious);
	tdp_json_u64(j, "pf_emulate", s->pf_emulate);
	tdp_json_u64(j, "pf_fast", s->pf_fast);
	tdp_json_u64(j, "pf_mmio_spte_created", s->pf_mmio_spte_created);
	tdp_json_u64(j, "invlpg", s->invlpg);
	tdp_json_u64(j, "tlb_flush", s->tlb_flush);
	tdp_json_u64(j, "mmu_shadow_zapped", s->mmu_shadow_zapped);
	tdp_json_u64(j, "mmu_pte_write", s->mmu_pte_write);
	tdp_json_u64(j, "mmu_pde_zapped", s->mmu_pde_zapped);
	tdp_json_u64(j, "mmu_flooded", s->mmu_flooded);
	tdp_json_u64(j, "mmu_recycled", s->mmu_recycled);
	tdp_json_u64(j, "mmu_cache_miss", s->mmu_cache_miss);
	tdp_json_u64(j, "mmu_unsync", s->mmu_unsync);
	tdp_json_u64(j, "pages_4k", s->pages[0]);
	tdp_json_u64(j, "pages_2m", s->pages[1]);
	tdp_json_u64(j, "pages_1g", s->pages[2]);
	tdp_json_obj_close(j);

	/* tdpsim's split of kvm_stats.exits by reason */
	tdp_json_obj_open(j, "exits");
	tdp_json_u64(j, "pf", s->exit_pf);
	tdp_json_u64(j, "ept_violation", s->exit_ept_violation);
	tdp_json_u64(j, "ept_misconfig", s->exit_ept_misconfig);
	tdp_json_u64(j, "emulated_write", s->exit_emulated_write);
	tdp_json_u64(j, "cr", s->exit_cr);
	tdp_json_u64(j, "invlpg", s->exit_invlpg);
	tdp_json_u64(j, "recorded", s->exit_recorded);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "faults");
	tdp_json_u64(j, "retry", s->pf_retry);
	tdp_json_u64(j, "prefetched", s->pf_prefetched);
	tdp_json_u64(j, "livelock", s->pf_livelock);
	tdp_json_u64(j, "injected", s->pf_injected);
	tdp_json_obj_open(j, "injected_by_bit");
	for (int b = 0; b < 6; b++)
		tdp_json_u64(j, pf_bit_names[b], s->pf_injected_by_bit[b]);
	tdp_json_obj_close(j);
	tdp_json_u64(j, "reflected_to_l1", s->nested_reflected);
	tdp_json_u64(j, "gp_set_refused", s->gp_set_refused);
	tdp_json_u64(j, "gp_noncanonical", s->gp_noncanonical);
	tdp_json_obj_close(j);

	/* always written (zeros off paging=nested): one shape for every report */
	tdp_json_obj_open(j, "nested");
	tdp_json_u64(j, "vmenter", s->nested_vmenter);
	tdp_json_u64(j, "vmexit", s->nested_vmexit);
	tdp_json_u64(j, "invept_single", s->nested_invept_single);
	tdp_json_u64(j, "invept_global", s->nested_invept_global);
	tdp_json_u64(j, "l2_accesses", s->l2_accesses);
	tdp_json_u64(j, "l2_pf", s->l2_pf);
	tdp_json_u64(j, "l2_exits", s->l2_exits);
	tdp_json_obj_open(j, "reflected");
	tdp_json_u64(j, "total", s->nested_reflected);
	tdp_json_u64(j, "ept_violation", s->reflected_ept_violation);
	tdp_json_u64(j, "ept_misconfig", s->reflected_ept_misconfig);
	tdp_json_u64(j, "npf", s->reflected_npf);
	tdp_json_u64(j, "final", s->reflected_final);
	tdp_json_u64(j, "paging_structure", s->reflected_page);
	tdp_json_u64(j, "exec_user", s->reflected_exec_user);
	tdp_json_u64(j, "exec_supervisor", s->reflected_exec_supervisor);
	tdp_json_arr_open(j, "qual_by_bit");
	for (int b = 0; b < 12; b++)
		tdp_json_u64(j, NULL, s->reflected_qual_bit[b]);
	tdp_json_arr_close(j);
	tdp_json_obj_open(j, "exitinfo1_by_bit");
	for (int b = 0; b < 5; b++)
		tdp_json_u64(j, npf_bit_names[b], s->reflected_npf_bit[b]);
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);
	tdp_json_obj_open(j, "shadow_pages");
	tdp_json_u64(j, "created", s->sp_nested_created);
	tdp_json_u64(j, "live", s->sp_nested_live);
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "shadow_pages");
	tdp_json_u64(j, "created", sum_sp(s->sp_created));
	tdp_json_u64(j, "zapped", sum_sp(s->sp_zapped));
	tdp_json_u64(j, "live", s->sp_live);
	tdp_json_u64(j, "peak", s->sp_peak);
	tdp_json_arr_open(j, "by_level");
	for (int l = 0; l < TDP_MAX_LEVEL; l++) {
		tdp_json_obj_open(j, NULL);
		tdp_json_u64(j, "level", l + 1);
		tdp_json_u64(j, "indirect_created", s->sp_created[l][0]);
		tdp_json_u64(j, "direct_created", s->sp_created[l][1]);
		tdp_json_u64(j, "indirect_zapped", s->sp_zapped[l][0]);
		tdp_json_u64(j, "direct_zapped", s->sp_zapped[l][1]);
		tdp_json_obj_close(j);
	}
	tdp_json_arr_close(j);
	tdp_json_u64(j, "unsync_made", s->sp_unsync);
	tdp_json_u64(j, "sync", s->sp_sync);
	tdp_json_u64(j, "flood_zaps", s->sp_flood_zaps);
	tdp_json_u64(j, "misaligned_zaps", s->sp_misaligned_zaps);
	tdp_json_u64(j, "root_allocs", s->root_allocs);
	tdp_json_obj_open(j, "prev_roots");
	tdp_json_u64(j, "hits", s->prev_root_hits);
	tdp_json_u64(j, "misses", s->prev_root_misses);
	tdp_json_double(j, "hit_rate",
			ratio(s->prev_root_hits, s->prev_root_hits + s->prev_root_misses));
	tdp_json_obj_close(j);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "walks");
	tdp_json_u64(j, "count", s->walks);
	tdp_json_double(j, "mem_refs_per_walk", ratio(s->walk_mem_refs, s->walks));
	latency_json(j, &t);
	kinds_json(j, &t, s, false);
	tdp_json_arr_open(j, "hist");
	for (unsigned b = 0; b < TDP_HIST_BUCKETS; b++) {
		if (!h->bucket[b])
			continue;
		tdp_json_arr_open(j, NULL);
		tdp_json_double(j, NULL, net_ns(res, (double)tdp_hist_bucket_upper(b)));
		tdp_json_u64(j, NULL, h->bucket[b]);
		tdp_json_arr_close(j);
	}
	tdp_json_arr_close(j);
	tdp_json_obj_close(j);
	kinds_json(j, &t, s, true);

	tdp_json_obj_open(j, "permission");
	tdp_json_u64(j, "checks", s->perm_checks);
	tdp_json_double(j, "mean_ns", t.perm_mean_ns);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "throughput");
	tdp_json_double(j, "events_per_s", t.events_per_s);
	tdp_json_double(j, "wall_s", t.wall_s);
	tdp_json_u64(j, "host_bytes", s->host_bytes);
	tdp_json_obj_close(j);

	tdp_json_obj_open(j, "timeline");
	tdp_json_u64(j, "interval", res->interval);
	tdp_json_arr_open(j, "columns");
	tdp_json_str(j, NULL, "event");
	tdp_json_str(j, NULL, "sp_live");
	tdp_json_str(j, NULL, "exits");
	tdp_json_arr_close(j);
	tdp_json_arr_open(j, "rows");
	for (unsigned i = 0; i < res->nrows; i++) {
		tdp_json_arr_open(j, NULL);
		tdp_json_u64(j, NULL, res->rows[i].event);
		tdp_json_u64(j, NULL, res->rows[i].sp_live);
		tdp_json_u64(j, NULL, res->rows[i].exits);
		tdp_json_arr_close(j);
	}
	tdp_json_arr_close(j);
	tdp_json_obj_close(j);

	tdp_json_arr_open(j, "marks");
	for (unsigned i = 0; i < res->nmarks; i++) {
		tdp_json_obj_open(j, NULL);
		tdp_json_u64(j, "event", res->marks[i].event);
		tdp_json_str(j, "label", res->marks[i].label);
		tdp_json_obj_close(j);
	}
	tdp_json_arr_close(j);

	if (fold && fold->has_spread)
		spread_json(j, &fold->spread);
	tdp_json_obj_close(j);
}

int tdp_report_write_json(FILE *fp, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res)
{
	struct tdp_json j;

	tdp_json_begin(&j, fp, 2);
	report_json(&j, trace_path, cfg, layout, res, NULL);
	return tdp_json_end(&j);
}

void tdp_compare_json_begin(struct tdp_json *j, FILE *fp)
{
	tdp_json_begin(j, fp, 2);
	tdp_json_obj_open(j, NULL);
	tdp_json_u64(j, "tdpsim_compare", 1);
	tdp_json_arr_open(j, "reports");
}

void tdp_compare_json_add(struct tdp_json *j, const char *trace_path,
			  const struct tdp_config *cfg, const char *layout,
			  const struct tdp_replay_result *res,
			  const struct tdp_report *fold)
{
	report_json(j, trace_path, cfg, layout, res, fold);
}

int tdp_compare_json_end(struct tdp_json *j)
{
	tdp_json_arr_close(j);
	tdp_json_obj_close(j);
	return tdp_json_end(j);
}
