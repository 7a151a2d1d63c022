#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# permission_fault() benchmark, both ACC layouts in one run: builds a Release
# -march=native tree in ${BUILD:-build-bench-perm}, runs the old and new
# benchmarks alternately ${N:-5} times pinned to CPU ${CPU:-1} (when taskset
# exists), and prints the best ns/call and TSC ticks/call per variant, with
# the new/old and naive/table ratios.  $1: calls per run in millions
# (default 2).
# RAW=FILE also writes every invocation's output there (one "layout variant
# ns/call ticks/call" line per variant and run, '#' comments as printed).
set -eu
build=${BUILD:-build-bench-perm}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTDPSIM_NATIVE=ON \
	-DTDPSIM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_perm_layout_old bench_perm_layout_new >/dev/null
PIN=""
command -v taskset >/dev/null && PIN="taskset -c ${CPU:-1}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "${N:-5}" ]; do
	for l in old new; do
		$PIN "$build/bench/bench_perm_layout_$l" "${1:-2}" >>"$out"
	done
	i=$((i + 1))
done
[ -z "${RAW:-}" ] || cp "$out" "$RAW"
grep -m1 '^# layout' "$out" | sed 's/layout old, //'
awk '!/^#/ { k = $1 " " $2; if (!(k in ns) || $3 < ns[k]) { ns[k] = $3; t[k] = $4 } }
END {
	printf "%-16s %8s %10s\n", "layout variant", "ns/call", "ticks/call"
	split("old new", L, " "); split("table naive table+pke naive+pke", V, " ")
	for (i = 1; i <= 2; i++) for (j = 1; j <= 4; j++) {
		k = L[i] " " V[j]
		printf "%-16s %8.3f %10.2f\n", k, ns[k], t[k]
	}
	for (j = 1; j <= 4; j += 2) {
		o = ns["old " V[j]]; n = ns["new " V[j]]
		printf "%-9s new/old %.3f (%+.1f%%), naive/table old %.1fx new %.1fx\n",
		       V[j], n / o, (n / o - 1) * 100, ns["old " V[j + 1]] / o,
		       ns["new " V[j + 1]] / n
	}
}' "$out"
