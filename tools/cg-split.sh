#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/cg-split.sh CALLGRIND.OUT - where the instructions of one callgrind
# profile of tdpsim (a build with -g) went, by module: each function's own
# instructions (Ir, self cost; inlined code counts where its source file
# is) are summed by the source file they come from:
#
#   port     src/mmu/          KVM's MMU, ported (what tdpsim measures)
#   cpu      src/hw/, include/tdpsim/hw.h, hw_*.h   the CPU model and its memos
#   vcpu     src/kvm/          KVM's vCPU side: exits, emulation, nested
#   decode   src/trace/, libzstd              reading the trace
#   sim      src/sim/, include/tdpsim/gmem.h  replay loop, guest memory
#   other    everything else (libc, the dynamic loader, start-up)
#
# Prints "MODULE IR" lines, then "total IR".  Used by tools/perf-doc.sh.
set -eu
[ $# -eq 1 ] && [ -r "$1" ] || { echo "cg-split: usage: cg-split.sh CALLGRIND.OUT" >&2; exit 2; }
callgrind_annotate --inclusive=no --auto=no --threshold=100 "$1" 2>/dev/null | awk '
/PROGRAM TOTALS/ { t = $1; gsub(",", "", t); total = t }
/file:function/ { body = 1; next }
body && $1 ~ /^[0-9,]+$/ {
	n = $1; gsub(",", "", n)
	line = $0; sub(/^[^)]*\)[ ]+/, "", line)	# drop "Ir (pct%)"
	split(line, a, ":"); f = a[1]
	if (f ~ /src\/mmu\//) m = "port"
	else if (f ~ /src\/hw\// || f ~ /include\/tdpsim\/hw(_|\.h)/) m = "cpu"
	else if (f ~ /src\/kvm\//) m = "vcpu"
	else if (f ~ /src\/trace\// || line ~ /libzstd/) m = "decode"
	else if (f ~ /src\/sim\// || f ~ /include\/tdpsim\/gmem\.h/) m = "sim"
	else m = "other"
	s[m] += n; sum += n
}
END {
	if (!total) { print "cg-split: no PROGRAM TOTALS in the profile" > "/dev/stderr"; exit 1 }
	s["other"] += total - sum	# below the threshold
	# %.0f, not %d: mawk saturates %d at 2^31 - 1
	printf "port %.0f\ncpu %.0f\nvcpu %.0f\ndecode %.0f\nsim %.0f\nother %.0f\ntotal %.0f\n",
		s["port"], s["cpu"], s["vcpu"], s["decode"], s["sim"], s["other"], total
}'
