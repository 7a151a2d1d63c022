#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/series-cost.sh - what the MBEC/GMET series' ACC layout costs, in
# instructions (callgrind Ir, exact and repeatable on a loaded machine),
# old -> new, per function and per source line.  See docs/SERIES-COST.md.
usage() {
	cat <<'EOF'
usage: tools/series-cost.sh [-h] [KIND...]

Builds a Release tree with -O2 -g in $BUILD (default build-cost), runs
each measurement under valgrind --tool=callgrind for both ACC layouts
and prints, per measurement, Ir per unit old/new/delta, the functions
whose self cost moved and the source lines carrying the difference
(tools/series-cost.py), then a summary.  KIND (default: all):
  walk       guest walks, bench_walk_layout: 4level pae ept 2d
             (collected inside the variant's gva_to_gpa only)
  perm       permission_fault, bench_perm_layout (loop_table; without
             and with CR4.PKE)
  fault      fault paths, collected inside the MMU's handler only:
             shadow #PF (traces/linux-small.zst, paging64_page_fault),
             TDP fault (gen linux --paging tdp, kvm_tdp_page_fault),
             nested EPT violation (traces/nested-intel.zst,
             ept_page_fault), nested NPT fault (traces/nested-amd.zst,
             paging64_page_fault), smep-toggle (traces/smep-toggle.zst)
  replay     the same traces, whole process (tdpsim replay -q -T),
             per event
Env: BUILD, KEEP=DIR (keep callgrind files there), JOBS (default 2).
Needs valgrind, python3, cmake.  ~3 minutes on 2 loaded cores (plus
the build).
EOF
}
set -eu
case "${1:-}" in -h|--help) usage; exit 0;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
B=${BUILD:-build-cost}
kinds=${*:-walk perm fault replay}
for k in $kinds; do
	case $k in walk|perm|fault|replay) ;; *) usage >&2; exit 2;; esac
done
for t in valgrind python3 cmake; do
	command -v $t >/dev/null || { echo "series-cost: needs $t" >&2; exit 2; }
done

if [ -n "${KEEP:-}" ]; then
	T=$KEEP
	mkdir -p "$T"
else
	T=$(mktemp -d)
	trap 'rm -rf "$T"' EXIT INT TERM HUP
fi

# -O2 -g, portable (valgrind does not decode every -march=native insn)
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release \
	"-DCMAKE_C_FLAGS_RELEASE=-O2 -g -DNDEBUG" -DTDPSIM_NATIVE=OFF \
	-DTDPSIM_TESTS=OFF -DTDPSIM_SANITIZE=OFF >/dev/null
cmake --build "$B" -j"${JOBS:-2}" --target tdpsim bench_walk_layout_old \
	bench_walk_layout_new bench_perm_layout_old bench_perm_layout_new \
	>/dev/null

dirty=$(git diff --quiet HEAD -- src include bench || echo ' (dirty)')
echo "commit $(git rev-parse --short HEAD)$dirty, $(uname -m)," \
	"$(nproc) cpus, $(valgrind --version)"
echo "build $B: Release -O2 -g; Ir per unit, new - old"
: > "$T/results"

# cg OUT ARGS...: callgrind run, program stdout in OUT.stdout
cg() {
	out=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$T/$out" "$@" \
		>"$T/$out.stdout" 2>"$T/$out.log" ||
		{ echo "series-cost: $* failed, see $T/$out.log" >&2; exit 1; }
}

# diff NAME OUT UNITS_OLD UNITS_NEW UNIT
diff_pair() {
	python3 tools/series-cost.py "$1" "$T/$2.old" "$3" "$T/$2.new" "$4" \
		"$5" "$root" | tee "$T/diff" | grep -v '^RESULT'
	grep '^RESULT' "$T/diff" >> "$T/results"
	echo
}

case " $kinds " in *" walk "*)
	for v in 4level pae ept 2d; do
		fn=paging64_gva_to_gpa
		[ "$v" = ept ] && fn=ept_gva_to_gpa
		for l in old new; do
			cg "walk-$v.$l" --toggle-collect="tdp_${l}_$fn" \
				"$B/bench/bench_walk_layout_$l" 0 "$v"
			sed -n 's/.* \([0-9][0-9]*\) walks$/\1/p' \
				"$T/walk-$v.$l.stdout" > "$T/n.$l"
		done
		diff_pair "walk-$v" "walk-$v" "$(cat "$T/n.old")" \
			"$(cat "$T/n.new")" walk
	done
;; esac

case " $kinds " in *" perm "*)
	for p in 0 1; do
		for l in old new; do
			cg "perm$p.$l" --toggle-collect=loop_table \
				"$B/bench/bench_perm_layout_$l" 0 "$p"
			# "# layout L, tsc ..., N calls per run, best of R"
			sed -n 's/.* \([0-9]*\) calls per run, best of \([0-9]*\)$/\1 \2/p' \
				"$T/perm$p.$l.stdout" | awk '{ print $1 * $2 }' > "$T/n.$l"
		done
		name=perm
		[ "$p" = 1 ] && name=perm-pke
		diff_pair "$name" "perm$p" "$(cat "$T/n.old")" "$(cat "$T/n.new")" call
	done
;; esac

# The traces: NAME FILE HANDLER (the MMU's page_fault callback)
traces() {
	echo "shadow-pf traces/linux-small.zst paging64_page_fault"
	echo "tdp-fault $T/tdp.zst kvm_tdp_page_fault"
	echo "nested-ept traces/nested-intel.zst ept_page_fault"
	echo "nested-npt traces/nested-amd.zst paging64_page_fault"
	echo "smep-toggle traces/smep-toggle.zst paging64_page_fault"
}
case " $kinds " in *" fault "*|*" replay "*)
	"$B/tdpsim" gen --workload linux --paging tdp --events 20000 \
		-o "$T/tdp.zst" 2>/dev/null
;; esac

case " $kinds " in *" fault "*)
	traces | while read -r name file handler; do
		for l in old new; do
			# static (kvm_tdp_page_fault) or tdp_<layout>_ prefixed
			sym=$handler
			grep -q "define $handler[[:space:]]" src/mmu/mmu-sym.h &&
				sym=tdp_${l}_$handler
			cg "fault-$name.$l" --toggle-collect="$sym" \
				"$B/tdpsim" replay -q -T -L "$l" "$file"
		done
		diff_pair "fault-$name" "fault-$name" "calls:$handler" \
			"calls:$handler" fault
	done
;; esac

case " $kinds " in *" replay "*)
	traces | while read -r name file handler; do
		for l in old new; do
			cg "replay-$name.$l" "$B/tdpsim" replay -q -T -L "$l" "$file"
		done
		ev=$("$B/tdpsim" info "$file" | sed -n 's/^events: *//p')
		diff_pair "replay-$name" "replay-$name" "$ev" "$ev" event
	done
;; esac

echo "== summary: Ir per unit (callgrind), old -> new"
printf '%-20s %10s %10s %9s %8s\n' measurement old new delta "%"
awk '{ printf "%-20s %10s %10s %9s %8s\n", $2, $4, $6, $8, $9 }' "$T/results"
