#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Replay throughput and memory, as recorded in docs/PERFORMANCE.md:
#  1. a hit-dominated trace (4096 mapped pages, random accesses) of 4M events,
#  2. the shipped Linux-like trace (fault-heavy),
#  3. peak RSS of the hit-dominated workload at 400k vs 4M events (same
#     working set, 10x the events).
# Both layouts are interleaved in one run; pinned to CPU 1 when taskset exists.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build-bench}
REPS=${REPS:-5}
TMP=${TMPDIR:-/tmp}/tdpsim-bench-replay.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DTDPSIM_NATIVE=ON -DTDPSIM_TESTS=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" --target bench_replay >/dev/null
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 1"

echo "== hit-dominated, 4M events"
$PIN "$B/bench/bench_replay" --reps "$REPS" --synth-hits 4000000 "$TMP/hits-4m.zst"
echo "== traces/linux-small.zst"
$PIN "$B/bench/bench_replay" --reps "$REPS" traces/linux-small.zst
echo "== peak RSS, same working set, 400k vs 4M events"
"$B/bench/bench_replay" --reps 1 --synth-hits 400000 "$TMP/hits-400k.zst" >/dev/null
$PIN "$B/bench/bench_replay" --reps 1 "$TMP/hits-400k.zst" "$TMP/hits-4m.zst" | tail -1
