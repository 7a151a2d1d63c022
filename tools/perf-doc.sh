#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/perf-doc.sh - regenerate docs/PERFORMANCE.md from one benchmark run.
#
# Builds a Release tree with -march=native and without tests in $BUILD
# (default build-perfdoc), runs every benchmark one at a time (the programs
# in bench/ and the scripts tools/bench-replay.sh, tools/bench-perm.sh,
# tools/bench-gen.sh, bench/check-cost.sh, tools/series-cost.sh), timed ones
# pinned to CPU 1 with taskset when it exists, and writes the whole of
# docs/PERFORMANCE.md: every figure from this run, each section with the
# commands that produced it and the spread over its repetitions (median,
# then min-max), the header with the machine, the commit, the date and the
# run time.  The document is written to a temporary file next to it and
# renamed when complete, so a failed or interrupted run leaves the previous
# one in place.
#
# A full run took 8 minutes on the reference machine (2 vCPUs, load ~3)
# with $BUILD and $BUILD_IR already built; count ~3 more from a clean
# checkout (the two builds).  Of the 8: ~3.5 for three fresh builds of the
# tdpsim binary ("First build"), ~1 for tools/series-cost.sh's callgrind
# runs, ~1 for permission_fault, ~1 for `tdpsim gen` at 10 M events.
#
#   tools/perf-doc.sh                   full run, writes docs/PERFORMANCE.md
#   QUICK=1 tools/perf-doc.sh           tiny sizes, 1-2 repetitions, no
#                                       callgrind, no first-build timing:
#                                       well under 2 minutes once $BUILD is
#                                       built; a smoke test of this script.
#                                       Writes OUT (default
#                                       ${TMPDIR:-/tmp}/tdpsim-PERFORMANCE.quick.md),
#                                       marked "QUICK: not for publication";
#                                       never docs/PERFORMANCE.md
# Env: OUT=FILE, BUILD=DIR, BUILD_IR=DIR (default build-perfdoc-ir),
#      CALLGRIND=0 (skip tools/series-cost.sh), JOBS (build jobs, default 2).
# Needs cmake, a C compiler, git, awk, python3 (bench/wide-trace.py);
# valgrind for the instruction counts, perf (linux-perf) for the time split;
# uses taskset and /usr/bin/time when
# present.  Exit status: 0 done, 1 a build or benchmark failed, 2 bad usage.
#
# shellcheck disable=SC2016,SC2086 # $PIN splits on purpose; `...` is markdown
set -eu

die() {
	echo "perf-doc: $*" >&2
	exit 1
}

case ${QUICK:-} in '' | 0) QUICK= ;; *) QUICK=1 ;; esac
caller=$(pwd)
cd "$(dirname "$0")/.."
root=$(pwd)
doc=$root/docs/PERFORMANCE.md

# Where the document goes (relative OUT: from the caller's directory).
if [ -n "$QUICK" ]; then
	OUT=${OUT:-${TMPDIR:-/tmp}/tdpsim-PERFORMANCE.quick.md}
else
	OUT=${OUT:-$doc}
fi
case $OUT in /*) ;; *) OUT=$caller/$OUT ;; esac
outdir=$(dirname "$OUT")
if ! [ -d "$outdir" ] || ! [ -w "$outdir" ]; then
	echo "perf-doc: output directory $outdir does not exist or is not writable" >&2
	exit 2
fi
OUT=$(cd "$outdir" && pwd)/$(basename "$OUT")
if [ -n "$QUICK" ] && [ "$OUT" = "$doc" ]; then
	echo "perf-doc: QUICK=1 never writes docs/PERFORMANCE.md; set OUT to another file" >&2
	exit 2
fi

for t in cmake git awk python3; do
	command -v "$t" >/dev/null || { echo "perf-doc: needs $t" >&2; exit 2; }
done

B=${BUILD:-build-perfdoc}
BIR=${BUILD_IR:-build-perfdoc-ir}
JOBS=${JOBS:-2}

T=$(mktemp -d "${TMPDIR:-/tmp}/perf-doc.XXXXXX")
mkdir "$T/err"
tmpout=$OUT.tmp.$$
trap 'rm -rf "$T"; rm -f "$tmpout"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

PIN=""
pin_note="not pinned (taskset not found)"
if command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
	PIN="taskset -c 1"
	pin_note="pinned to CPU 1 with \`taskset -c 1\`"
fi
TIME=""
[ -x /usr/bin/time ] && /usr/bin/time -f %M -o "$T/probe" true 2>/dev/null && TIME=/usr/bin/time

# Sizes and repetitions.
if [ -n "$QUICK" ]; then
	DEC_EVENTS=200000 DEC_RUNS=2 DEC_INV=2
	PERM_M=1 PERM_N=2
	WALK_M=1 WALK_N=2
	GOAL_REPS=1 SHIP_REPS=2 TIMING_REPS=2 RSS_REPS=1
	GEN_EVENTS=100000 GEN_REPS=2
	CHECK_REPS=1
	FB_REPS=0
	CALLGRIND=0
else
	DEC_EVENTS=20000000 DEC_RUNS=5 DEC_INV=5
	PERM_M=2 PERM_N=15
	WALK_M=2 WALK_N=9
	GOAL_REPS=7 SHIP_REPS=11 TIMING_REPS=7 RSS_REPS=3
	GEN_EVENTS=10000000 GEN_REPS=3
	CHECK_REPS=5
	FB_REPS=3
	CALLGRIND=${CALLGRIND:-1}
fi
TIMING_TRACE=traces/linux-kpti-1m.zst
cg_skip=""
if [ "$CALLGRIND" = 0 ]; then
	if [ -n "$QUICK" ]; then cg_skip="QUICK run"; else cg_skip="CALLGRIND=0"; fi
elif ! command -v valgrind >/dev/null; then
	cg_skip="valgrind is not installed"
fi
# the time split samples the -g build that tools/series-cost.sh builds
perf_skip=$cg_skip
if [ -z "$perf_skip" ] && ! perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
	perf_skip="\`perf record -e cpu-clock\` does not work here (package linux-perf)"
fi

t_start=$(date +%s)
date_start=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
desc_start=$(git describe --always --dirty 2>/dev/null || echo unknown)
# what differs from HEAD (tracked or untracked), this document aside
dirty_files=$(git status --porcelain 2>/dev/null | grep -v ' docs/PERFORMANCE.md$' || true)

step=0
nsteps=15
progress() {
	step=$((step + 1))
	echo "perf-doc: [$step/$nsteps] $* ($(($(date +%s) - t_start)) s)" >&2
}

# quote ARGS...: ARGS as one shell command line, the scratch directory as $T
quote() {
	line=""
	for a in "$@"; do
		case $a in
		'' | *[!A-Za-z0-9_./:=,+%@-]*) a="'$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'" ;;
		esac
		line="$line${line:+ }$a"
	done
	printf '%s\n' "$line" | sed "s|$T|\$T|g"
}

# run KEY FILE CMD...: record CMD's line under KEY (once), run it, stdout to
# FILE, stderr to $T/err/; if it fails, name it with its stderr and exit 1.
run() {
	_k=$1 _f=$2
	shift 2
	_l=$(quote "$@")
	grep -qxF -e "$_l" "$T/cmd.$_k" 2>/dev/null || printf '%s\n' "$_l" >>"$T/cmd.$_k"
	_e=$T/err/$(basename "$_f")
	"$@" >"$_f" 2>"$_e" || {
		_rc=$?
		echo "perf-doc: failed (exit $_rc): $_l" >&2
		tail -n 20 "$_e" >&2
		exit 1
	}
}

# stats: numbers on stdin -> "median min max n" (fails on no input)
stats() {
	sort -g | awk '{ v[NR] = $1 }
	END {
		if (!NR) exit 1
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR], NR
	}'
}
# mmm PREC: numbers on stdin -> "median (min–max)"
mmm() {
	stats | awk -v p="$1" '{ f = "%." p "f"; printf f " (" f "–" f ")\n", $1, $2, $3 }'
}
# med: numbers on stdin -> median, unrounded
med() {
	stats | awk '{ print $1 }'
}
# ge A B: A >= B
ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}
# verdict A OP B (OP ge or le): "met" / "not met"
verdict() {
	case $2 in
	ge) if ge "$1" "$3"; then echo met; else echo "not met"; fi ;;
	le) if ge "$3" "$1"; then echo met; else echo "not met"; fi ;;
	esac
}
# target TEXT FIGURE VERDICT ANCHOR: a row of the targets table
target() {
	printf '| %s | %s | **%s** | [%s](#%s) |\n' "$1" "$2" "$3" "$4" "$5" >>"$T/targets"
}
# cmds [-t] KEY[:ROUNDS]...: the commands recorded under each KEY, as one sh
# block; those of a KEY with ROUNDS > 1 in a loop of ROUNDS.  It starts with
# T=$(mktemp -d) if they use $T, unless -t: they use the $T of the goal
# workloads' block (the traces tools/bench-replay.sh kept in $T/tr).
cmds() {
	echo '```sh'
	if [ "$1" = -t ]; then
		shift
	else
		for _c in "$@"; do
			grep -q '\$T' "$T/cmd.${_c%%:*}" && { echo 'T=$(mktemp -d)'; break; }
		done
	fi
	for _c in "$@"; do
		_n=1
		case $_c in *:*) _n=${_c#*:} ;; esac
		if [ "$_n" -gt 1 ]; then
			echo "for r in \$(seq $_n); do"
			sed 's/^/	/' "$T/cmd.${_c%%:*}"
			echo "done"
		else
			cat "$T/cmd.${_c%%:*}"
		fi
	done
	echo '```'
}
# nx N ONE MANY: "N ONE" or "N MANY"
nx() {
	if [ "$1" = 1 ]; then echo "1 $2"; else echo "$1 $3"; fi
}
# events KEY FILE: the event count `tdpsim info` gives (command under KEY)
events() {
	run "$1" "$T/info" "$B/tdpsim" info "$2"
	sed -n 's/^events: *//p' "$T/info"
}
# thousands N: N with thousands separators
thousands() {
	echo "$1" | awk '{ n = $1; s = ""; while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) } print n s }'
}

# ---------------------------------------------------------------- measure

progress "build ($B)"
run build "$T/build" cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DTDPSIM_NATIVE=ON -DTDPSIM_TESTS=OFF
run build "$T/build" cmake --build "$B" -j"$JOBS"

progress "trace decode"
i=1
while [ "$i" -le "$DEC_INV" ]; do
	run decode "$T/decode.$i" $PIN "$B/bench/bench_decode" "$DEC_EVENTS" "$DEC_RUNS" "$T"
	i=$((i + 1))
done
cat "$T"/decode.[0-9]* >"$T/decode.all"
tsc_mhz=$(sed -n 's/^# bench_decode: .* TSC \([0-9.]*\) MHz$/\1/p' "$T/decode.1")

progress "permission_fault"
run perm "$T/perm" env BUILD="$B" N="$PERM_N" ${PIN:+CPU=1} RAW="$T/perm.raw" tools/bench-perm.sh "$PERM_M"

progress "guest walks"
r=1
while [ "$r" -le "$WALK_N" ]; do
	for l in old new; do
		run walk "$T/walk.$r.$l" $PIN "$B/bench/bench_walk_layout_$l" "$WALK_M"
	done
	r=$((r + 1))
done
cat "$T"/walk.[0-9]*.old "$T"/walk.[0-9]*.new >"$T/walk.all"

progress "replay: issue 15 goal workloads"
mkdir -p "$T/tr"
run goals "$T/goals" env BUILD="$B" GOALS_ONLY=1 REPS="$GOAL_REPS" KEEP="$T/tr" tools/bench-replay.sh

progress "replay: old vs new layout on the shipped traces"
: >"$T/ship.list"
for f in traces/*.zst; do
	n=$(basename "$f" .zst)
	ev=$(events ship-info "$f")
	cfg=$(sed -n 's/^config: *//p' "$T/info")
	if [ "$ev" -lt 10000 ]; then
		echo "$n $ev skip" >>"$T/ship.list"
		continue
	fi
	case " $cfg " in
	*" mbec=1 "* | *" gmet=1 "*)
		run ship "$T/ship.$n" $PIN "$B/bench/bench_replay" --reps "$SHIP_REPS" --layout new "$f"
		echo "$n $ev new" >>"$T/ship.list" ;;
	*)
		run ship "$T/ship.$n" $PIN "$B/bench/bench_replay" --reps "$SHIP_REPS" "$f"
		echo "$n $ev both" >>"$T/ship.list" ;;
	esac
	echo "$cfg" >"$T/ship.$n.cfg"
done

progress "replay: timing overhead"
r=1
while [ "$r" -le "$TIMING_REPS" ]; do
	run timing "$T/tim.$r.on" $PIN "$B/tdpsim" replay -q -j - "$TIMING_TRACE"
	run timing "$T/tim.$r.off" $PIN "$B/tdpsim" replay -q -T -j - "$TIMING_TRACE"
	r=$((r + 1))
done
bin_commit=$(sed -n 's/^ *"commit": "\(.*\)",*$/\1/p' "$T/tim.1.on" | head -n 1)
timer_ns=$(sed -n 's/^ *"timer_overhead_ns": \([0-9.e+-]*\),*$/\1/p' "$T/tim.1.on" | head -n 1)

progress "replay: peak RSS"
run rss-gen "$T/rss.gen" "$B/bench/bench_replay" --reps 1 --synth-hits 400000 "$T/tr/hits-400k.zst"
rss_list="hits-4m linux-3m nested-1m hvci-1m faults-1m"
r=1
while [ "$r" -le "$RSS_REPS" ]; do
	run rss "$T/rss.$r" "$B/bench/bench_replay" --reps 1 "$T/tr/hits-400k.zst" "$T/tr/hits-4m.zst"
	if [ -n "$TIME" ]; then
		for n in $rss_list; do
			run rss "$T/rssp" "$TIME" -f %M -a -o "$T/rssp.$n" "$B/tdpsim" replay -q -T "$T/tr/$n.zst"
		done
		run rss "$T/rssp" "$TIME" -f %M -a -o "$T/rssp.linux-kpti-1m" "$B/tdpsim" replay -q -T "$TIMING_TRACE"
	fi
	r=$((r + 1))
done

progress "instructions (callgrind)"
if [ -z "$cg_skip" ]; then
	run callgrind "$T/cg" env BUILD="$BIR" tools/series-cost.sh
	sed -n '/^== summary/,$p' "$T/cg" | awk 'NF == 5 && $1 != "measurement"' >"$T/cg.sum"
	[ -s "$T/cg.sum" ] || die "tools/series-cost.sh printed no summary table"
	valgrind_v=$(valgrind --version)
fi

progress "where replay's instructions go (callgrind)"
if [ -z "$cg_skip" ]; then
	# the goal workloads at a tenth of their size (callgrind is ~50x slower)
	run split-gen "$T/sg" "$B/tdpsim" gen --workload linux --seed 1 --events 300000 -o "$T/tr/linux-300k.zst"
	run split-gen "$T/sg" "$B/tdpsim" gen --workload nested --seed 1 --events 100000 -o "$T/tr/nested-100k.zst"
	run split-gen "$T/sg" "$B/tdpsim" gen --workload hvci --seed 1 --events 100000 -o "$T/tr/hvci-100k.zst"
	run split-gen "$T/sg" "$B/bench/bench_replay" --reps 1 --synth-faults 200000 "$T/tr/faults-200k.zst"
	for n in hits-400k linux-300k nested-100k hvci-100k faults-200k; do
		run split "$T/sp.$n.run" valgrind --tool=callgrind --callgrind-out-file="$T/cgs.$n" \
			"$BIR/tdpsim" replay -q -T "$T/tr/$n.zst"
		run split "$T/sp.$n" tools/where.py cg "$T/cgs.$n"
	done
fi

progress "where the replay thread's time goes (perf)"
if [ -z "$perf_skip" ]; then
	for n in linux-3m nested-1m hvci-1m hits-4m; do
		run tsplit "$T/tsp.$n" tools/where.py perf --runs 3 "$BIR/tdpsim" replay -q -T "$T/tr/$n.zst"
	done
fi

progress "first build (README command 1)"
r=1
while [ "$r" -le "$FB_REPS" ]; do
	run first "$T/fb" rm -rf "$T/first"
	t0=$(date +%s.%N)
	run first "$T/fb" cmake -S . -B "$T/first" -DCMAKE_BUILD_TYPE=Release
	run first "$T/fb" cmake --build "$T/first" -j"$JOBS" --target tdpsim
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >>"$T/fb.s"
	r=$((r + 1))
done
rm -rf "$T/first"

progress "workload generation"
run gen "$T/gen" env BUILD="$B" EVENTS="$GEN_EVENTS" REPS="$GEN_REPS" RAW="$T/gen.raw" $PIN tools/bench-gen.sh

progress "replay --check"
run check "$T/check" env RAW="$T/check.raw" $PIN bench/check-cost.sh "$B" "$CHECK_REPS"

progress "writing $OUT"
t_end=$(date +%s)
date_end=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
desc_end=$(git describe --always --dirty 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- render

: >"$T/targets"
body=$T/body.md
exec 3>"$body"

# --- Trace decode
{
	zst_mev=$(awk '$1 == "zst" { print $8 }' "$T/decode.all" | med)
	cat <<EOF
## Trace decode

Reading a trace through the public API (\`tdp_trace_open\` + \`tdp_trace_next_batch\`, which is
what replay uses): framing, zstd, event decoding and every range/vendor/vcpu check, into the
reader's reused 256-event array (bench/bench_decode.c). The synthetic trace: 4 vCPUs x 8 page
streams, each stepping 8 bytes or up to 7 pages at a time with a 1/64 chance of a random jump;
ops 70 % r / 25 % w / 5 % x; every 64th event a \`write\` (PTE store), every 1024th a \`set cr3\`;
\`t=\` on every event. Written with the writer API (zstd level 3), then read back from the page
cache $(nx "$DEC_RUNS" time times); an invocation keeps the read with the least thread CPU time. The table gives
the median and range of $DEC_INV invocations, $(thousands "$DEC_EVENTS") events each. CPU time is
the reading thread's (\`CLOCK_THREAD_CPUTIME_ID\`), so time the vCPU spent on other work does not
count; the wall column includes it.

| form | file bytes / event | ns / event (CPU) | M events/s (CPU) | ns / event (wall) | TSC ticks / event | write time (s) |
|---|---|---|---|---|---|---|
EOF
	for f in zst pcap; do
		printf '| .%s | %s | %s | **%s** | %s | %s | %s |\n' "$f" \
			"$(awk -v f="$f" '$1 == f { print $3 }' "$T/decode.all" | mmm 2)" \
			"$(awk -v f="$f" '$1 == f { print $7 }' "$T/decode.all" | mmm 2)" \
			"$(awk -v f="$f" '$1 == f { print $8 }' "$T/decode.all" | mmm 1)" \
			"$(awk -v f="$f" '$1 == f { print $5 }' "$T/decode.all" | mmm 2)" \
			"$(awk -v f="$f" '$1 == f { print $6 }' "$T/decode.all" | mmm 1)" \
			"$(awk -v f="$f" '$1 == f { print $4 }' "$T/decode.all" | mmm 2)"
	done
	v=$(verdict "$zst_mev" ge 50)
	target ">= 50 M events/s decoded from .zst on one core" "$(printf '%.1f' "$zst_mev") M events/s (CPU)" "$v" "Trace decode" trace-decode
	cat <<EOF

- Target (>= 50 M events/s from .zst on one core): **$v** ($(printf '%.1f' "$zst_mev") M events/s, median).
- The .pcap row is the decoder alone (plus reading its bytes from the page cache); the .zst row
  adds zstd's decompression of the same bytes. File sizes are exact and the same in every run.
- Why the encoding has this shape (blocks, per-key deltas, raw zstd literals):
  [trace-format.md](trace-format.md).

Commands:

$(cmds "decode:$DEC_INV")

EOF
} >&3

# --- permission_fault
{
	# per layout and variant: ns of each invocation (RAW lines: layout variant ns ticks)
	pf() { awk -v l="$1" -v v="$2" -v c="$3" '!/^#/ && $1 == l && $2 == v { print $c }' "$T/perm.raw"; }
	# new/old per round: the k-th old and k-th new invocation
	pr() {
		awk -v v="$1" '!/^#/ && $2 == v { n[$1]++; x[$1, n[$1]] = $3 }
			END { for (i = 1; i <= n["old"] && i <= n["new"]; i++) print x["new", i] / x["old", i] }' "$T/perm.raw"
	}
	ir() { [ -s "$T/cg.sum" ] && awk -v m="$1" -v c="$2" '$1 == m { printf "%.0f", $c }' "$T/cg.sum" || echo "—"; }
	# "# layout old, tsc 2695 MHz, 2031616 calls per run, best of 31"
	perm_calls=$(sed -n 's/^# layout .* \([0-9]*\) calls per run, best of \([0-9]*\)$/\1/p' "$T/perm.raw" | head -n 1)
	perm_best=$(sed -n 's/^# layout .* \([0-9]*\) calls per run, best of \([0-9]*\)$/\2/p' "$T/perm.raw" | head -n 1)
	cat <<EOF
## permission_fault

Cost of one \`permission_fault()\` call (src/mmu/mmu.h: the \`permissions[]\` lookup, plus the PKRU
term when \`pkru_mask != 0\`) per ACC layout, against a naive version that re-derives the verdict
from the role bits and the SDM rules on every call (bench/bench_perm_layout.c). Inputs: 32768
pre-encoded random accesses (page W/U/NX, read/write/fetch, CPL, EFLAGS.AC, implicit, pkey, PKRU)
from one seed, so both layouts answer the same questions (the printed checksums match). MMU:
4-level paging with CR0.WP, SMEP, SMAP and NXE; \`+pke\` adds CR4.PKE, so every call also takes the
PKRU path. Results are summed and printed; the bench first checks that naive and table agree on
every input.

Each invocation makes $(thousands "$perm_calls") calls per run, best of $perm_best runs; tools/bench-perm.sh alternates
the old and new binaries $(nx "$PERM_N" time times). Figures: median (min–max) of those $PERM_N per-invocation
bests; new/old is the ratio of the medians, with the range of the per-round ratios. Ir: callgrind
instructions per call of the table loop (including the loop's input loads and summing), from
[Instructions](#instructions-callgrind); the naive loop is not counted there.

| variant | old: ns/call | new: ns/call | new/old (per-round range) | old: ticks | new: ticks | old: Ir/call | new: Ir/call |
|---|---|---|---|---|---|---|---|
EOF
	for v in table table+pke naive naive+pke; do
		case $v in table) m=perm ;; table+pke) m=perm-pke ;; *) m=none ;; esac
		printf '| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$v" \
			"$(pf old "$v" 3 | mmm 3)" "$(pf new "$v" 3 | mmm 3)" \
			"$(awk -v a="$(pf old "$v" 3 | med)" -v b="$(pf new "$v" 3 | med)" 'BEGIN { printf "%.3f", b / a }')" \
			"$(pr "$v" | stats | awk '{ printf "%.3f–%.3f", $2, $3 }')" \
			"$(pf old "$v" 4 | med | awk '{ printf "%.2f", $1 }')" \
			"$(pf new "$v" 4 | med | awk '{ printf "%.2f", $1 }')" \
			"$(if [ "$m" = none ]; then echo "—"; else ir "$m" 2; fi)" \
			"$(if [ "$m" = none ]; then echo "—"; else ir "$m" 3; fi)"
	done
	t0=$(pf new table 3 | med)
	t1=$(pf new table+pke 3 | med)
	v0=$(verdict "$t0" le 1.5)
	v1=$(verdict "$t1" le 1.5)
	target "permission_fault <= 1.5 ns per call (new layout, table, no PKE)" "$(printf '%.3f' "$t0") ns" "$v0" "permission_fault" permission_fault
	target "permission_fault <= 1.5 ns per call (new layout, table, CR4.PKE)" "$(printf '%.3f' "$t1") ns" "$v1" "permission_fault" permission_fault
	cat <<EOF

- Target (<= 1.5 ns per call on the table path, new layout): without PKE **$v0**
  ($(printf '%.3f' "$t0") ns), with CR4.PKE **$v1** ($(printf '%.3f' "$t1") ns). With PKE every call
  also computes KVM's PKRU term (key shift, offset with the PTE's U bit, mask, PK bit).
- The two layouts differ only in table width (u8 vs u16) and constants, so the Ir columns (exact,
  load-independent) are the way to compare them; the times move with the machine.
- The naive version's data-dependent branches mispredict on random inputs; that is where its
  time goes, and why its rows are the noisiest.
- The replay report's "ns per permission check" row (and compare's \`ns/perm check\`) is the same
  call timed inside \`replay\` at the end of a run (src/kvm/vm.c \`engine_finish\`): least of 8
  rounds of 8192 calls after an untimed warm-up, over the 8 user/write/exec combinations of a
  present page in either layout.

Commands:

$(cmds perm)

EOF
} >&3

# --- Guest walks
{
	wf() { awk -v l="$1" -v v="$2" -v c="$3" '$1 == l && $2 == v { print $c }' "$T/walk.all"; }
	wr() {
		awk -v v="$1" '$2 == v { n[$1]++; x[$1, n[$1]] = $3 }
			END { for (i = 1; i <= n["old"] && i <= n["new"]; i++) print x["new", i] / x["old", i] }' "$T/walk.all"
	}
	ir() { [ -s "$T/cg.sum" ] && awk -v m="$1" -v c="$2" '$1 == m { printf "%.0f", $c }' "$T/cg.sum" || echo "—"; }
	cat <<EOF
## Guest walks

Cost of one guest page-table walk through the port of KVM's \`FNAME(gva_to_gpa)\` /
\`FNAME(walk_addr_generic)\` (src/mmu/paging_tmpl.h), per ACC layout, on warm tables: every A bit
and the leaves' D bits are already set, so a walk only reads guest memory (through gmem) and
performs no cmpxchg; no SPTE or other cache is involved (the walker has none). Read accesses over
256 addresses, each in its own leaf table (bench/bench_walk_layout.c). A 2D walk is one dependent
chain: each L2 table GPA comes out of the previous L2 gPTE and is walked through EPT before the
next L2 gPTE can be read, 24 page-table reads in a row.

Each invocation makes ${WALK_M}M walks per run (2D: a quarter of that), best of 5 runs; old and
new binaries alternate, $(nx "$WALK_N" round rounds). Figures: median (min–max) of the $WALK_N per-invocation
bests; new/old: ratio of the medians and range of the per-round ratios. Ir: callgrind
instructions per walk inside the variant's \`gva_to_gpa\`, from [Instructions](#instructions-callgrind).

| walk | old: ns | new: ns | new/old (per-round range) | old: ticks | new: ticks | old: Ir | new: Ir |
|---|---|---|---|---|---|---|---|
EOF
	for v in 4level pae ept 2d; do
		case $v in
		4level) k="4-level (4 reads)" ;;
		pae) k="PAE (PDPTE registers + 2 reads)" ;;
		ept) k="EPT 4-level (4 reads)" ;;
		2d) k="2D: 4-level L2 via 4-level EPT (24 reads)" ;;
		esac
		printf '| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$k" \
			"$(wf old "$v" 3 | mmm 1)" "$(wf new "$v" 3 | mmm 1)" \
			"$(awk -v a="$(wf old "$v" 3 | med)" -v b="$(wf new "$v" 3 | med)" 'BEGIN { printf "%.3f", b / a }')" \
			"$(wr "$v" | stats | awk '{ printf "%.3f–%.3f", $2, $3 }')" \
			"$(wf old "$v" 5 | med | awk '{ printf "%.1f", $1 }')" \
			"$(wf new "$v" 5 | med | awk '{ printf "%.1f", $1 }')" \
			"$(ir "walk-$v" 2)" "$(ir "walk-$v" 3)"
	done
	w2=$(wf new 2d 3 | med)
	v=$(verdict "$w2" le 120)
	target "2D walk <= 120 ns (new layout, warm; issue 5)" "$(printf '%.1f' "$w2") ns" "$v" "Guest walks" guest-walks
	cat <<EOF

- Target (issue 5: <= 120 ns per 2D walk, new layout, warm tables): **$v**
  ($(printf '%.1f' "$w2") ns median).
- The series' layout executes more instructions per walk: \`gpte_access()\` builds ACC_READ and
  EXEC separately instead of \`access ^= gpte >> 63\`, the EPT walker folds XU into X for
  \`bad_mt_xwr\` and tests XU for presence, and the final \`kvm_translate_gpa\` carries
  \`pte_access\` and GUEST_FINAL; line by line in [SERIES-COST.md](SERIES-COST.md).
- Time is not proportional to Ir: the 2D walk is bound by its chain of dependent loads and by
  how many instructions the core retires per cycle, not by either alone.
- This is a 2-vCPU VM and its vCPUs are not equal over time: the same binary can differ by tens
  of percent between CPU 0 and CPU 1, or between minutes. Compare only interleaved runs taken
  together, as in this table.

Commands:

$(cmds "walk:$WALK_N")

EOF
} >&3

# --- Replay
{
	# goal NAME: "median min max" of bench-replay.sh's line for NAME (events/s, or faults/s for faults-1m-p)
	goal() {
		case $1 in
		faults-1m-p) grep '^faults-1m .*faults/s' "$T/goals" ;;
		faults-1m-p/1cpu) grep '^faults-1m/1cpu .*faults/s' "$T/goals" ;;
		*) grep "^$1 .*M events/s" "$T/goals" ;;
		esac | sed -n 's/.* \([0-9.]*\) (min \([0-9.]*\), max \([0-9.]*\))$/\1 \2 \3/p'
	}
	gfmt() { goal "$1" | awk '{ printf "%.2f (%.2f–%.2f)", $1, $2, $3 }'; }
	g1fmt() { goal "$1/1cpu" | awk '{ printf "%.2f (%.2f–%.2f)", $1, $2, $3 }'; }
	gmed() { goal "$1" | awk '{ print $1 }'; }
	for n in hits-4m linux-3m nested-1m hvci-1m faults-1m; do
		[ -n "$(goal "$n")" ] || die "tools/bench-replay.sh printed no figure for $n"
	done
	[ -n "$(goal faults-1m-p)" ] || die "tools/bench-replay.sh printed no faults/s figure"
	cat <<EOF
## Replay

\`tdpsim replay\` end to end: trace decode, the engine's hardware model (src/hw: every guest
access walks the SDM/APM model, with reserved-bit checks of every entry it reads), KVM's fault
path, shadow page management, counters; no outcome log, walk timing off (\`-T\`) unless a table
says otherwise. bench/bench_replay.c runs \`tdp_replay_run()\` (what \`tdpsim replay\` runs) in a loop
and reports M events/s of the replay itself (\`wall_s\` of the report: from the first event to
the last, after the trace is opened and the VM created; no process start-up).

### Issue 15 goal workloads

New layout; tools/bench-replay.sh generates the traces once, then replays each one in a fresh
process per repetition (\`bench_replay --reps 1 --layout new\`), all workloads in turn,
$(nx "$GOAL_REPS" round rounds), each workload two ways per round: as \`tdpsim replay\` runs by default
(not pinned: the trace reader's read-ahead thread reads and decodes on the other CPU; the goal's
figure), and on one CPU (\`--no-read-ahead\`, $pin_note). Median (min–max) of the $GOAL_REPS. The
fault-dominated trace is also timed as a whole \`tdpsim replay -q -T\` process (start-up, decode,
replay, exit), faults fixed per second of wall time; that is the goal's figure.

| workload | trace | events | M events/s | 1 CPU, no read-ahead | goal | |
|---|---|---|---|---|---|---|
EOF
	row() { # NAME TRACE-DESC FILE GOAL
		ev=$(events goals-info "$3")
		g=$(gmed "$1")
		if [ -n "$4" ]; then
			v=$(verdict "$g" ge "$4")
			printf '| %s | %s | %s | **%s** | %s | >= %s M events/s | **%s** |\n' "$5" "$2" "$(thousands "$ev")" "$(gfmt "$1")" "$(g1fmt "$1")" "$4" "$v"
			target "$5: >= $4 M events/s (issue 15)" "$(printf '%.2f' "$g") M events/s" "$v" "Replay" issue-15-goal-workloads
		else
			printf '| %s | %s | %s | %s | %s | | |\n' "$5" "$2" "$(thousands "$ev")" "$(gfmt "$1")" "$(g1fmt "$1")"
		fi
	}
	row hits-4m '`bench_replay --synth-hits 4000000`' "$T/tr/hits-4m.zst" 35 "hit-dominated (4096 mapped pages, random r/w/x)"
	row linux-3m '`tdpsim gen --workload linux --seed 1 --events 3000000`' "$T/tr/linux-3m.zst" 16 "Linux-like"
	row nested-1m '`tdpsim gen --workload nested --seed 1 --events 1000000`' "$T/tr/nested-1m.zst" 15 "nested (EPT on EPT, no MBEC)"
	row hvci-1m '`tdpsim gen --workload hvci --seed 1 --events 1000000`' "$T/tr/hvci-1m.zst" 15 "HVCI (nested, MBEC)"
	row faults-1m '`bench_replay --synth-faults 1000000`' "$T/tr/faults-1m.zst" "" "fault-dominated (every access a shadow #PF KVM fixes)"
	g=$(gmed faults-1m-p)
	v=$(verdict "$g" ge 2)
	printf '| fault-dominated, **M faults/s of the whole `tdpsim replay -q -T` process** | same | 1,000,000 faults | **%s** | %s | >= 2 M faults/s | **%s** |\n' "$(gfmt faults-1m-p)" "$(g1fmt faults-1m-p)" "$v"
	target "fault-dominated: >= 2 M faults/s, whole tdpsim replay -q -T process (issue 15)" "$(printf '%.2f' "$g") M faults/s" "$v" "Replay" issue-15-goal-workloads
	for n in nested-intel hvci-amd hvci-intel; do
		row "traces/$n" "shipped" "traces/$n.zst" "" "traces/$n.zst"
	done
	cat <<EOF

- The goals are issue 15's, "on this machine"; met/not met is computed from the medians above.
- The shipped 30k-event traces last a few ms per replay, so in a fresh process start-up effects
  (page cache, allocator, branch predictors) weigh on them; the goals are judged on the 1 M-event
  traces. The next table repeats them inside one process.
- The fault-dominated trace has 2 events per fault (the gPTE \`write\` and the access).

Commands:

$(cmds goals goals-info)

tools/bench-replay.sh runs \`bench_replay --reps 1 --layout new TRACE\` per workload and round,
and \`tdpsim replay -q -T\` of the fault-dominated trace for the faults/s row; \`tdpsim info\`
counts the events.

### Where replay's instructions go

The goals are for the whole simulator, but a share of every replay is KVM's own code (the port
in src/mmu), which tdpsim must not make cheaper than the kernel is: it is what tdpsim measures.
Instructions per event of a whole \`tdpsim replay -q -T\` (callgrind, the portable \`-O2 -g\`
build of [Instructions](#instructions-callgrind)) of each goal workload at a tenth of its size,
split by where the code is (tools/where.py cg: a function's own instructions, inlined code
where its source file is): **port** src/mmu; **CPU model** src/hw and its memos; **vCPU side**
src/kvm (exits, emulation, nested transitions); **decode** src/trace and zstd; **sim** the
replay loop and guest memory (src/sim); **other** libc and start-up.
EOF
	if [ -n "$cg_skip" ]; then
		printf '\n**Not measured in this run (%s).**\n\n' "$cg_skip"
	else
		cat <<EOF

| workload | events | Ir/event | port | CPU model | vCPU side | decode | sim | other | the goal leaves besides the port (now) |
|---|---|---|---|---|---|---|---|---|---|
EOF
		split_row() { # LABEL TRACE GOAL-KEY GOAL
			ev=$(events split-info "$T/tr/$2.zst")
			g=$(gmed "$3")
			awk -v ev="$ev" -v lab="$1" -v g="$g" -v goal="$4" '
				{ v[$1] = $2 }
				END {
					t = v["total"] / ev; p = v["port"] / ev
					n = goal == "" ? 0 : t * g / goal - p
					if (goal == "")
						need = "—"
					else if (n > 0)
						need = sprintf("%.0f (%.0f)", n, t - p)
					else
						need = sprintf("none: the port alone is over (%.0f)", t - p)
					printf "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s |\n",
						lab, ev, t, p, v["cpu"] / ev, v["vcpu"] / ev, v["decode"] / ev,
						v["sim"] / ev, v["other"] / ev, need
				}' "$T/sp.$2"
		}
		split_row "hit-dominated" hits-400k hits-4m 35
		split_row "Linux-like" linux-300k linux-3m 16
		split_row "nested" nested-100k nested-1m 15
		split_row "HVCI" hvci-100k hvci-1m 15
		split_row "fault-dominated" faults-200k faults-1m ""
		cat <<EOF

- Per event of each trace (the fault-dominated trace has 2 events per fault); exact counts,
  one run each.
- Last column: if time follows instructions at the rate each workload ran in the table above
  (its median M events/s at these Ir/event), the instructions per event its goal leaves to
  everything but the port, and in parentheses what they are now. The fault-dominated goal is per
  fault of the whole process: see its faults/s row; the port's share here is its bound.

Commands:

$(cmds split-gen split split-info)

EOF
	fi
	cat <<EOF

### Where the replay thread's time goes

Instructions are not time: the port's code (many table pages, rmap lists) runs at a lower rate
than the CPU model's. The replay thread's CPU time of a whole \`tdpsim replay -q -T\` of each
goal workload at full size, sampled (\`perf record -e cpu-clock\`, 5000 Hz, 3 runs, the same
\`-O2 -g\` build) and split by the source file of each sampled instruction (tools/where.py perf:
innermost inlined location; **kernel**: the host kernel on the thread's behalf, mostly page faults
on fresh memory). The read-ahead thread is not in the shares. "Port ns/event" is the port's share
times the workload's median ns/event in the goal table above (an upper bound if the replay thread
ever waited for the read-ahead); "the goal leaves" is the goal's ns/event minus that.
EOF
	if [ -n "$perf_skip" ]; then
		printf '\n**Not measured in this run (%s).**\n\n' "$perf_skip"
	else
		cat <<EOF

| workload | samples | port | CPU model | vCPU side | decode | sim | kernel | other | port ns/event | the goal leaves besides the port (now) |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
		tsplit_row() { # LABEL TRACE GOAL
			awk -v lab="$1" -v g="$(gmed "$2")" -v goal="$3" '
				{ v[$1] = $2 }
				END {
					t = v["total"]; ns = 1000 / g; p = ns * v["port"] / t
					left = 1000 / goal - p
					if (left > 0)
						need = sprintf("%.1f ns (%.1f)", left, ns - p)
					else
						need = sprintf("none: the port alone is over (%.1f)", ns - p)
					printf "| %s | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f | %s |\n",
						lab, t, 100 * v["port"] / t, 100 * v["cpu"] / t,
						100 * v["vcpu"] / t, 100 * v["decode"] / t,
						100 * v["sim"] / t, 100 * v["kernel"] / t,
						100 * v["other"] / t, p, need
				}' "$T/tsp.$2"
		}
		tsplit_row "hit-dominated" hits-4m 35
		tsplit_row "Linux-like" linux-3m 16
		tsplit_row "nested" nested-1m 15
		tsplit_row "HVCI" hvci-1m 15
		cat <<EOF

- Samples: the replay thread's, over the 3 runs; one sample is 0.2 ms of CPU time, so a share
  of n samples is known to about ±√n. At 20000 Hz perf doubled the process's user time on
  this VM; at 5000 Hz it adds about a tenth.
- Last column: what the goal (1000 / goal ns per event) leaves to everything but the port, and
  in parentheses what everything but the port takes now, in ns per event.

Commands:

$(cmds -t tsplit)

EOF
	fi
	cat <<EOF

### Old vs new layout, shipped traces

Every shipped trace with at least 10,000 events, replayed $(nx "$SHIP_REPS" time times) per layout in one
process, old and new alternating (\`bench_replay --reps $SHIP_REPS TRACE\`, $pin_note). Traces that
use MBEC or GMET replay under the series' layout only (the old layout refuses them). Median
(min–max) of the $SHIP_REPS; new/old: ratio of the medians and range of the per-repetition ratios.

| trace | config | events | old: M events/s | new: M events/s | new/old (per-rep range) |
|---|---|---|---|---|---|
EOF
	while read -r n ev mode; do
		[ "$mode" = skip ] && continue
		sf() { awk -v l="$1" '$1 == "rep" && $3 == l { print $4 }' "$T/ship.$n"; }
		if [ "$mode" = both ]; then
			o=$(sf old | mmm 2)
			rat=$(awk -v a="$(sf old | med)" -v b="$(sf new | med)" 'BEGIN { printf "%.3f", b / a }')
			rr=$(awk '$1 == "rep" { x[$2, $3] = $4 } END { for (k = 0; (k, "old") in x; k++) print x[k, "new"] / x[k, "old"] }' "$T/ship.$n" |
				stats | awk '{ printf "%.3f–%.3f", $2, $3 }')
			rat="$rat ($rr)"
		else
			o="— (refused: MBEC/GMET)"
			rat="—"
		fi
		printf '| traces/%s.zst | `%s` | %s | %s | %s | %s |\n' "$n" "$(cat "$T/ship.$n.cfg")" "$(thousands "$ev")" "$o" "$(sf new | mmm 2)" "$rat"
	done <"$T/ship.list"
	skipped=$(awk '$3 == "skip" { printf "%straces/%s.zst (%s events)", s, $1, $2; s = ", " }' "$T/ship.list")
	cat <<EOF

- ${skipped:-No trace} left out: too short to time.
- The first repetitions of a short trace pay for page-cache, allocator and branch-predictor
  warm-up, and old runs first in each pair; the per-rep range shows it. Instruction counts of
  whole replays per layout (exact): the \`replay-*\` rows of [Instructions](#instructions-callgrind).

Commands:

$(cmds ship)

### Timing overhead (\`--no-timing\`)

What timing KVM's guest walks and fault paths costs: \`tdpsim replay\` of $TIMING_TRACE with
timing on (the default) and off (\`-T\`, \`--no-timing\`), alternating, $(nx "$TIMING_REPS" round rounds), $pin_note;
M events/s is the report's \`throughput.events_per_s\` (\`--json\`). Each timed interval is bracketed
by \`lfence; rdtsc\`: \`lfence\` keeps \`rdtsc\` from executing before the instructions ahead of it
have completed, so the interval covers the walk (\`rdtscp\` is not advertised on the reference VM);
TSC ticks become ns with the TSC frequency calibrated against \`CLOCK_MONOTONIC\`, and the timer's
own cost, measured before the first event (\`timer_overhead_ns\` in the report: ${timer_ns:-?} ns in
this run), is subtracted from each timed region in the report.

| replay of $TIMING_TRACE | M events/s |
|---|---|
EOF
	te() { for f in "$T"/tim.[0-9]*."$1"; do sed -n 's/^ *"events_per_s": \([0-9.e+-]*\),*$/\1/p' "$f"; done | awk '{ print $1 / 1e6 }'; }
	on=$(te on | med)
	off=$(te off | med)
	printf '| timing on (default) | %s |\n' "$(te on | mmm 2)"
	printf '| timing off (`-T`) | %s |\n' "$(te off | mmm 2)"
	cat <<EOF

With timing on, the replay runs at $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", a / b * 100 }') % of its rate with timing off (ratio of the medians).
Every other replay figure in this document is taken with timing off.

Commands:

$(cmds "timing:$TIMING_REPS")

### Memory (peak RSS)

Memory follows the working set, not the trace length: peak RSS of a child process replaying the
same hit-dominated workload (4096 mapped pages) at 400,000 and at 4,000,000 events
(\`bench_replay TRACE LONG_TRACE\`: each replayed once in a forked child, \`getrusage\` of the
child), $(nx "$RSS_REPS" time times).

| trace | peak RSS (KiB) |
|---|---|
EOF
	cat "$T"/rss.[0-9]* | sed -n 's/^peak RSS: [^ ]* \([0-9]*\) KiB, [^ ]* \([0-9]*\) KiB, ratio \([0-9.]*\)$/\1 \2 \3/p' >"$T/rss.all"
	[ -s "$T/rss.all" ] || die "bench_replay printed no peak RSS line"
	printf '| hit-dominated, 400,000 events | %s |\n' "$(awk '{ print $1 }' "$T/rss.all" | mmm 0)"
	printf '| hit-dominated, 4,000,000 events | %s |\n' "$(awk '{ print $2 }' "$T/rss.all" | mmm 0)"
	ratio=$(awk '{ print $3 }' "$T/rss.all" | med)
	v=$(verdict "$ratio" le 1.10)
	target "peak RSS at 10x the events, same working set: <= 1.10x" "$(printf '%.3f' "$ratio")x" "$v" "Memory" memory-peak-rss
	cat <<EOF

Ratio 4M / 400k: $(awk '{ print $3 }' "$T/rss.all" | mmm 3), bound <= 1.10: **$v**. Guest memory and
shadow pages follow the working set; the timeline keeps at most 1,024 rows (its interval doubles
when full) and at most 256 marks. A generated Linux trace does use more memory when it is
longer, because that workload's working set grows with its length (more processes, more frames).

EOF
	if [ -n "$TIME" ]; then
		cat <<EOF
Peak RSS of the whole \`tdpsim replay -q -T\` process (\`/usr/bin/time -f %M\`), new layout,
$(nx "$RSS_REPS" run runs) each:

| trace | events | peak RSS (KiB) |
|---|---|---|
EOF
		for n in $rss_list linux-kpti-1m; do
			case $n in linux-kpti-1m) f=$TIMING_TRACE ;; *) f=$T/tr/$n.zst ;; esac
			case $n in linux-kpti-1m) d=$f ;; *) d="$n (as in the goal table)" ;; esac
			printf '| %s | %s | %s |\n' "$d" "$(thousands "$(events rss-info "$f")")" "$(mmm 0 <"$T/rssp.$n")"
		done
	else
		echo "Whole-process peak RSS: not measured (/usr/bin/time is not installed)."
	fi
	cat <<EOF

Commands (\`\$T/tr\`: the traces of the goal workloads, see their commands above):

$(cmds -t rss-gen "rss:$RSS_REPS")

EOF
} >&3

# --- Instructions
{
	cat <<EOF
## Instructions (callgrind)

This VM exposes no hardware performance counters, so instruction counts come from
\`valgrind --tool=callgrind\` (\`Ir\`, instructions executed): exact, repeatable and independent
of the machine's load, unlike every time in this document. tools/series-cost.sh builds its own
portable tree (\`-O2 -g\`, no \`-march=native\`: valgrind does not decode every native instruction)
and counts, per ACC layout, the guest walks and \`permission_fault\` inside the bench programs, the
MMU's fault handlers and whole replays (\`tdpsim replay -q -T\`) of shipped traces. What each row
collects, and the source lines that make up each difference with the series patch that adds
them: [SERIES-COST.md](SERIES-COST.md), regenerated by the same script.

EOF
	if [ -n "$cg_skip" ]; then
		cat <<EOF
**Not measured in this run ($cg_skip).** Run \`tools/series-cost.sh\`, or see
[SERIES-COST.md](SERIES-COST.md) (figures of the commit it names).

EOF
	else
		cat <<EOF
$valgrind_v, one run (counts do not depend on load, so there is no spread to give).

| measurement | unit | old: Ir | new: Ir | new - old | % |
|---|---|---|---|---|---|
EOF
		awk '{ u = $1 ~ /^walk/ ? "walk" : $1 ~ /^perm/ ? "call" : $1 ~ /^fault/ ? "fault" : "event"
			printf "| %s | %s | %s | %s | %s | %s |\n", $1, u, $2, $3, $4, $5 }' "$T/cg.sum"
		cat <<EOF

\`walk-*\`: inside the variant's \`gva_to_gpa\`; \`perm*\`: the table loop of bench_perm_layout, without and
with CR4.PKE; \`fault-*\`: inside the MMU's page-fault handler only, per fault; \`replay-*\`: the whole
\`tdpsim replay -q -T\` process, per event. The traces, as tools/series-cost.sh defines them:
shadow-pf traces/linux-small.zst, tdp-fault \`gen --workload linux --paging tdp --events 20000\`,
nested-ept traces/nested-intel.zst, nested-npt traces/nested-amd.zst, smep-toggle
traces/smep-toggle.zst. These counts are of the portable \`-O2\` build; the times elsewhere in this
document are of the native build.

Commands:

$(cmds callgrind)

EOF
	fi
} >&3

# --- First build
{
	cat <<EOF
## First build (README command 1)

What a fresh machine waits for before its first replay: README command (1) without
\`tools/install-deps.sh\` (packages already installed), into a fresh build directory: the two MMU
object libraries, tdpcore and the CLI (\`--target tdpsim\`; tests are built by command (2), in
\`build-test/\`, benchmarks by the bench scripts). Wall time of configure and build, with
\`-j$JOBS\` on the shared cores (not pinned).

EOF
	if [ "$FB_REPS" -gt 0 ]; then
		cat <<EOF
| command | wall time (s), $FB_REPS fresh builds |
|---|---|
| README (1) minus install-deps | **$(mmm 1 <"$T/fb.s")** |

Commands:

$(cmds "first:$FB_REPS")

EOF
	else
		echo "**Not measured in this run (QUICK run).**"
		echo
	fi
} >&3

# --- Workload generation
{
	cat <<EOF
## Workload generation (\`tdpsim gen\`)

Every workload at $(thousands "$GEN_EVENTS") events, written as zstd-compressed pcap (what a user
keeps), wall time of the whole \`tdpsim gen\` process, $GEN_REPS runs each (tools/bench-gen.sh, same
native build, $pin_note). Median (min–max).

| workload | events | wall time (s) | M events/s (median) | trace (MB) |
|---|---|---|---|---|
EOF
	awk 'NR > 1 { print $1, $2, $5 }' "$T/gen" >"$T/gen.rows"
	[ -s "$T/gen.rows" ] || die "tools/bench-gen.sh printed no rows"
	worst=0
	while read -r wl ev mb; do
		m=$(awk -v w="$wl" '$1 == w { print $2 }' "$T/gen.raw" | med)
		ge "$worst" "$m" || worst=$m
		printf '| %s | %s | %s | %s | %s |\n' "$wl" "$(thousands "$ev")" \
			"$(awk -v w="$wl" '$1 == w { print $2 }' "$T/gen.raw" | mmm 2)" \
			"$(awk -v n="$ev" -v t="$m" 'BEGIN { printf "%.1f", n / t / 1e6 }')" "$mb"
	done <"$T/gen.rows"
	echo
	if [ "$GEN_EVENTS" -ge 10000000 ]; then
		v=$(verdict "$worst" le 10)
		target "tdpsim gen: 10 M events of every workload in under 10 s" "slowest median $(printf '%.2f' "$worst") s" "$v" "Workload generation" workload-generation-tdpsim-gen
		echo "Target (10 M events of each workload in under 10 s): **$v**, slowest median $(printf '%.2f' "$worst") s."
	else
		echo "Target (10 M events of each workload in under 10 s): not judged, this run made $(thousands "$GEN_EVENTS") events."
	fi
	cat <<EOF
Trace sizes are \`du -m\` of the output (rounded up to whole MB).

Commands:

$(cmds gen)

EOF
} >&3

# --- replay --check
{
	cat <<EOF
## replay --check

What \`replay --check\` costs over a plain replay (issue 13: at most 10x on a >= 300k-event
trace, small and large working sets alike). \`--check\` checks after each event only what the
event touched (SPTEs stored, shadow pages changed, gPTEs a guest store covered) and everything
every 100,000 events and at the end ([RELIABILITY.md](RELIABILITY.md)); \`--check=1\` is the full
check after every event (not timed here: it re-checks every shadow page after every event). bench/check-cost.sh replays
each trace plain and with \`--check\` (\`-q -T\`), interleaved, $(nx "$CHECK_REPS" time times) each, $pin_note;
whole-process wall time. Median (min–max); ratio of the medians.

| trace | events | plain (s) | --check (s) | ratio |
|---|---|---|---|---|
EOF
	awk 'NR > 1 { print $1, $2 }' "$T/check" >"$T/check.rows"
	[ -s "$T/check.rows" ] || die "bench/check-cost.sh printed no rows"
	worst=0
	while read -r t ev; do
		p=$(awk -v t="$t" '$1 == t && $2 == "plain" { print $3 }' "$T/check.raw" | med)
		c=$(awk -v t="$t" '$1 == t && $2 == "check" { print $3 }' "$T/check.raw" | med)
		rt=$(awk -v a="$p" -v b="$c" 'BEGIN { printf "%.2f", b / a }')
		ge "$worst" "$rt" || worst=$rt
		case $t in
		linux) d='linux: `gen --workload linux --events 300000`' ;;
		hvci) d='hvci: `gen --workload hvci --events 300000` (nested, EPT02)' ;;
		wide) d='wide: `bench/wide-trace.py 4096 300000` (thousands of shadow pages)' ;;
		*) d=$t ;;
		esac
		printf '| %s | %s | %s | %s | **%s** |\n' "$d" "$(thousands "$ev")" \
			"$(awk -v t="$t" '$1 == t && $2 == "plain" { print $3 }' "$T/check.raw" | mmm 3)" \
			"$(awk -v t="$t" '$1 == t && $2 == "check" { print $3 }' "$T/check.raw" | mmm 3)" "$rt"
	done <"$T/check.rows"
	v=$(verdict "$worst" le 10)
	target "replay --check <= 10x a plain replay (issue 13)" "worst ${worst}x" "$v" "replay --check" replay---check
	cat <<EOF

Target (<= 10x): **$v**, worst ratio ${worst}x. With \`--check\` off the hooks are one load and a
predicted branch per SPTE store.

Commands:

$(cmds check)

EOF
} >&3
exec 3>&-

# ---------------------------------------------------------------- header

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
[ -n "$cpu" ] || cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
fms=$(awk -F': *' '$1 ~ /^cpu family/ { f = $2 } $1 ~ /^model[[:space:]]*$/ { m = $2 } $1 ~ /^stepping/ { s = $2 }
	END { if (f != "") printf "family %s, model %s, stepping %s", f, m, s }' /proc/cpuinfo)
hyp=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n 1)
if grep -qw hypervisor /proc/cpuinfo; then virt="virtual machine${hyp:+ ($hyp)}"; else virt="no hypervisor flag"; fi
if grep -qwE 'arch_perfmon|perfctr_core' /proc/cpuinfo; then
	pmu="exposes hardware performance counters (\`arch_perfmon\`/\`perfctr_core\`)"
else
	pmu="no hardware performance counters (no \`arch_perfmon\`/\`perfctr_core\` in /proc/cpuinfo)"
fi
os=$(sed -n 's/^PRETTY_NAME="*\([^"]*\)"*$/\1/p' /etc/os-release 2>/dev/null || true)
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
ccv=$("$cc" --version 2>/dev/null | head -n 1)
ccid=$(cat "$B"/CMakeFiles/*/CMakeCCompiler.cmake 2>/dev/null |
	sed -n 's/^set(CMAKE_C_COMPILER_\(ID\|VERSION\) "\(.*\)")$/\2/p' | head -n 2 | tr '\n' ' ')
elapsed=$((t_end - t_start))
case $desc_start in
*-dirty) [ -n "$dirty_files" ] || desc_note=" (dirty only in docs/PERFORMANCE.md, the previous version of this file)" ;;
esac

{
	echo '<!-- SPDX-License-Identifier: GPL-2.0-only -->'
	echo '<!-- Generated by tools/perf-doc.sh: edit the script, not this file. -->'
	echo '# tdpsim performance'
	echo
	if [ -n "$QUICK" ]; then
		cat <<EOF
> **QUICK: not for publication.** Written by \`QUICK=1 tools/perf-doc.sh\` to test the script:
> tiny sizes and 1-2 repetitions; no callgrind, no first-build timing.

EOF
	fi
	if [ -n "$dirty_files" ]; then
		cat <<EOF
> **DIRTY TREE: these figures are of uncommitted code** (\`git describe\`: $desc_start). Changed
> or untracked files at the start of the run: $(echo "$dirty_files" | awk '{ printf "%s`%s`", s, $2; s = ", " }').

EOF
	fi
	if [ "$desc_start" != "$desc_end" ]; then
		cat <<EOF
> **The tree changed during the run**: \`git describe\` gave $desc_start at the start and
> $desc_end at the end.

EOF
	fi
	cat <<EOF
**Regenerating.** This file is written, whole, by \`tools/perf-doc.sh\` (run time below); do not
edit it by hand, change the script. Every figure in it comes from one run of that script, on the
commit, machine and date given here, and each section shows the commands that produced its
figures. \`QUICK=1 OUT=/tmp/p.md tools/perf-doc.sh\` is a smoke test of the script (tiny sizes).
Regenerate after any change to the code the figures describe: a figure older than that code is
to be replaced, not kept.

| run | |
|---|---|
| commit | \`$desc_start\`${desc_note:-} (the binaries report \`${bin_commit:-?}\`) |
| date | $date_start to $date_end |
| run time | $((elapsed / 60)) min $((elapsed % 60)) s |
| CPU | $cpu${fms:+ ($fms)}, $(nproc) online CPUs; $virt; $pmu |
| TSC | ${tsc_mhz:-?} MHz (calibrated by the benches against \`CLOCK_MONOTONIC\`) |
| OS | ${os:-?}, kernel \`$(uname -r)\` |
| compiler | ${ccid}(\`$cc\`: $ccv) |
| load average (1, 5, 15 min) | start $load_start, end $load_end |
| build | \`$B\`: Release, \`-DTDPSIM_NATIVE=ON\` (\`-march=native\`), \`-DTDPSIM_TESTS=OFF\` |
| pinning | timed benchmarks $pin_note; builds use $JOBS jobs |

\`\`\`sh
$(cat "$T/cmd.build")
\`\`\`

How to read the figures: the headline is the median over the repetitions a section names, with
the range (min–max) in parentheses. Times come from \`lfence; rdtsc\` (TSC ticks, converted to ns
with the calibrated TSC frequency) and \`clock_gettime\`; instruction counts from callgrind. This
is a small virtual machine whose cores are shared with other work (see the load average): times
move with it by several percent between runs, and more on short measurements, so compare
figures of one run (one version of this file) only, and use the instruction counts to compare
code. Targets are judged on the medians by the script.

## Targets

| target | this run (median) | | section |
|---|---|---|---|
EOF
	cat "$T/targets"
	echo
	cat "$body"
	cat <<EOF
---
Written by \`tools/perf-doc.sh\`$([ -n "$QUICK" ] && echo ' (QUICK)'), $date_end.
EOF
} >"$tmpout"

! grep -qF "$T" "$tmpout" || die "the scratch directory's path leaked into the document (a bug in this script)"
mv -f "$tmpout" "$OUT"
tmpout=""
echo "perf-doc: wrote $OUT in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
