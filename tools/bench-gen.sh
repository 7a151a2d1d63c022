#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `tdpsim gen` speed, as recorded in docs/PERFORMANCE.md: every workload
# at EVENTS (default 10M) events, best and median wall time of REPS runs
# (default 3), output to a scratch .zst (the compressed trace is what a
# user writes).  Uses build/ (README command 1) unless BUILD says otherwise.
# RAW=FILE also writes every run's wall time there, "workload seconds" (a
# relative FILE is taken from the repository's top directory).
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
EVENTS=${EVENTS:-10000000}
REPS=${REPS:-3}
TMP=${TMPDIR:-/tmp}/tdpsim-bench-gen.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
[ -z "${RAW:-}" ] || : >"$RAW"

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target tdpsim >/dev/null
printf '%-16s %10s %9s %9s %9s\n' workload events best_s median_s MB
# `gen --list`: "  NAME  description" lines, descriptions continued below
for wl in $("$B/tdpsim" gen --list | awk '/^  [^ ]/ { print $1 }'); do
	times=""
	for r in $(seq "$REPS"); do
		s=$(date +%s.%N)
		"$B/tdpsim" gen --workload "$wl" --events "$EVENTS" -o "$TMP/t.zst" 2>"$TMP/err" ||
			{ cat "$TMP/err" >&2; echo "bench-gen: gen --workload $wl failed" >&2; exit 1; }
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
		times="$times $t"
		[ -z "${RAW:-}" ] || echo "$wl $t" >>"$RAW"
	done
	n=$(sed -n 's/.*: \([0-9]*\) events.*/\1/p' "$TMP/err")
	mb=$(du -m "$TMP/t.zst" | cut -f1)
	echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v wl="$wl" -v n="$n" -v mb="$mb" \
		'{ t[NR] = $1 } END { printf "%-16s %10s %9.2f %9.2f %9s\n", wl, n, t[1], t[int((NR + 1) / 2)], mb }'
done
