#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# permission_fault() benchmark, both ACC layouts in one run, with the
# new/old and naive/table ratios.  Builds a Release -march=native tree in
# ${BUILD:-build-bench-perm} and passes $1 (calls per run, in millions).
set -eu
build=${BUILD:-build-bench-perm}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTDPSIM_NATIVE=ON \
	-DTDPSIM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_perm_layout_old bench_perm_layout_new >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/bench/bench_perm_layout_old" "${1:-2}" | tee "$out"
"$build/bench/bench_perm_layout_new" "${1:-2}" | tee -a "$out"
awk '!/^#/ { ns[$1 " " $2] = $3 }
END {
	split("table table+pke", v, " ")
	for (i = 1; i <= 2; i++) {
		o = ns["old " v[i]]; n = ns["new " v[i]]
		printf "# %-9s new/old %.3f (%+.1f%%)\n", v[i], n / o, (n / o - 1) * 100
	}
}' "$out"
