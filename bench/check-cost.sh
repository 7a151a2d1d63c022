#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/check-cost.sh BUILD_DIR [REPS] - what 'replay --check' costs over a
# plain replay, on ~300k-event traces with a small and a large working set:
#   linux   tdpsim gen --workload linux --events 300000 (~120 shadow pages)
#   hvci    tdpsim gen --workload hvci --events 300000 (nested, EPT02)
#   wide    bench/wide-trace.py 4096 300000 (~4100 shadow pages)
# Each trace is replayed REPS times (default 5) plain and with --check,
# interleaved, with -q -T (no report, no walk timing); prints the median
# wall time of each and their ratio.  Traces go to a temporary directory.
# RAW=FILE also writes every replay's wall time there, "trace plain|check
# seconds" (a relative FILE is taken from the repository's top directory).
set -eu
B=${1:?usage: bench/check-cost.sh BUILD_DIR [REPS]}
reps=${2:-5}
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM HUP
[ -z "${RAW:-}" ] || : >"$RAW"

"$B/tdpsim" gen --workload linux --events 300000 -o "$T/linux.zst" 2>/dev/null
"$B/tdpsim" gen --workload hvci --events 300000 -o "$T/hvci.zst" 2>/dev/null
python3 bench/wide-trace.py 4096 300000 > "$T/wide.txt"
"$B/tdpsim" convert "$T/wide.txt" "$T/wide.zst"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-6s %8s %10s %10s %7s\n' trace events plain_s check_s ratio
for t in linux hvci wide; do
	: > "$T/p" ; : > "$T/c"
	for i in $(seq "$reps"); do
		a=$(now); "$B/tdpsim" replay -q -T "$T/$t.zst"; b=$(now)
		echo "$a $b" | awk '{ print $2 - $1 }' >> "$T/p"
		a=$(now); "$B/tdpsim" replay -q -T --check "$T/$t.zst"; b=$(now)
		echo "$a $b" | awk '{ print $2 - $1 }' >> "$T/c"
	done
	[ -z "${RAW:-}" ] || { sed "s/^/$t plain /" "$T/p"; sed "s/^/$t check /" "$T/c"; } >>"$RAW"
	p=$(median < "$T/p"); c=$(median < "$T/c")
	ev=$("$B/tdpsim" info "$T/$t.zst" | sed -n 's/^events: *//p')
	printf '%-6s %8s %10.3f %10.3f %7.2f\n' "$t" "$ev" "$p" "$c" "$(echo "$c $p" | awk '{ print $1 / $2 }')"
done
