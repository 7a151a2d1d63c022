#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Replay throughput and memory, as recorded in docs/PERFORMANCE.md:
#  1. a hit-dominated trace (4096 mapped pages, random accesses) of 4M events,
#  2. the shipped Linux-like trace (fault-heavy),
#  3. peak RSS of the hit-dominated workload at 400k vs 4M events (same
#     working set, 10x the events),
#  4. issue 15's four goal workloads, new layout: hit-dominated (4M events),
#     Linux-like (`gen --workload linux`, 3M events), nested and HVCI (`gen`,
#     1M events each, and the shipped 30k-event traces), fault-dominated
#     (`bench_replay --synth-faults 1000000`: every access a shadow fault
#     KVM fixes), the last also as faults/s of the whole `tdpsim replay -q
#     -T` process.  With BASE=DIR (a build directory of an older tree with
#     bench_replay and tdpsim built as here), each repetition runs the old
#     build and then this one, interleaved, on the same traces.
# Both layouts are interleaved in 1-3; pinned to CPU 1 when taskset exists
# (one CPU: the trace reader's read-ahead thread stays off).  The goal
# workloads (4) run two ways in each round: "2cpu", as `tdpsim replay` runs
# by default (not pinned; the read-ahead thread reads and decodes on the
# other CPU), and "1cpu" (pinned to CPU 1 when taskset exists, and
# --no-read-ahead: one thread does everything), printed as NAME/1cpu.
# GOALS_ONLY=1 skips 1-3.  KEEP=DIR writes the generated traces (hits-4m,
# faults-1m, linux-3m, nested-1m, hvci-1m; hits-400k without GOALS_ONLY)
# to DIR and keeps them (tools/perf-doc.sh replays them again).
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build-bench}
REPS=${REPS:-5}
TMP=${TMPDIR:-/tmp}/tdpsim-bench-replay.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
TR=$TMP
if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP"
	TR=$KEEP
fi

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DTDPSIM_NATIVE=ON -DTDPSIM_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" --target bench_replay tdpsim >/dev/null
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 1"

if [ -z "${GOALS_ONLY:-}" ]; then
	echo "== hit-dominated, 4M events"
	$PIN "$B/bench/bench_replay" --reps "$REPS" --synth-hits 4000000 "$TR/hits-4m.zst"
	echo "== traces/linux-small.zst"
	$PIN "$B/bench/bench_replay" --reps "$REPS" traces/linux-small.zst
	echo "== peak RSS, same working set, 400k vs 4M events"
	"$B/bench/bench_replay" --reps 1 --synth-hits 400000 "$TR/hits-400k.zst" >/dev/null
	$PIN "$B/bench/bench_replay" --reps 1 "$TR/hits-400k.zst" "$TR/hits-4m.zst" | tail -1
fi

echo "== issue 15 goal workloads (new layout, median of $REPS${BASE:+, BASE=$BASE interleaved})"
"$B/bench/bench_replay" --reps 1 --layout new --synth-hits 4000000 "$TR/hits-4m.zst" >/dev/null
"$B/bench/bench_replay" --reps 1 --layout new --synth-faults 1000000 "$TR/faults-1m.zst" >/dev/null
"$B/tdpsim" gen --workload linux --seed 1 --events 3000000 -o "$TR/linux-3m.zst" 2>/dev/null
"$B/tdpsim" gen --workload nested --seed 1 --events 1000000 -o "$TR/nested-1m.zst" 2>/dev/null
"$B/tdpsim" gen --workload hvci --seed 1 --events 1000000 -o "$TR/hvci-1m.zst" 2>/dev/null

# median of the M events/s figures on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f (min %.2f, max %.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# the two ways of running (above): the pinning and the replay option
mode_pin() { if [ "$1" = 1cpu ]; then echo "$PIN"; fi; }
mode_opt() { if [ "$1" = 1cpu ]; then echo "--no-read-ahead"; fi; }

# interleave NAME UNIT MEASURE: $REPS rounds of "MEASURE DIR MODE" for $BASE
# (if set) then $B, each in both modes, one number per call; prints the
# median per build and mode (NAME, NAME/1cpu).
interleave() {
	for d in ${BASE:+"$BASE"} "$B"; do
		for m in 2cpu 1cpu; do : >"$TMP/m.$(echo "$d" | tr / _).$m"; done
	done
	r=0
	while [ $r -lt "$REPS" ]; do
		for d in ${BASE:+"$BASE"} "$B"; do
			for m in 2cpu 1cpu; do
				$3 "$d" "$m" >>"$TMP/m.$(echo "$d" | tr / _).$m"
			done
		done
		r=$((r + 1))
	done
	for d in ${BASE:+"$BASE"} "$B"; do
		for m in 2cpu 1cpu; do
			n=$1
			[ $m = 2cpu ] || n=$1/1cpu
			printf '%-25s %-28s %s %s\n' "$n" "$d" "$2" \
				"$(median <"$TMP/m.$(echo "$d" | tr / _).$m")"
		done
	done
}

# M events/s of one replay of $F inside bench_replay
events_per_s() {
	# shellcheck disable=SC2046 # the mode's words split on purpose
	v=$($(mode_pin "$2") "$1/bench/bench_replay" --reps 1 $(mode_opt "$2") --layout new "$F" |
	    awk '/^median/ { print $3 }')
	[ -n "$v" ] || { echo "bench-replay: bench_replay failed on $F ($1)" >&2; exit 1; }
	echo "$v"
}

# whole process: faults fixed / wall time of `tdpsim replay -q -T`
faults_per_s() {
	t0=$(date +%s%N)
	# shellcheck disable=SC2046
	$(mode_pin "$2") "$1/tdpsim" replay -q -T $(mode_opt "$2") "$TR/faults-1m.zst"
	t1=$(date +%s%N)
	echo "1000000 $t0 $t1" | awk '{ printf "%.3f\n", $1 / (($3 - $2) / 1e9) / 1e6 }'
}

for t in hits-4m linux-3m nested-1m hvci-1m faults-1m traces/nested-intel traces/hvci-amd traces/hvci-intel; do
	case $t in traces/*) F=$t.zst ;; *) F=$TR/$t.zst ;; esac
	interleave "$t" "M events/s" events_per_s
done
interleave faults-1m "M faults/s, whole process" faults_per_s
