#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Make the trace-cmd fixtures of 'tdpsim import' in tests/data/tracecmd/.
#
# No KVM guest runs on these machines, so 'trace-cmd record' cannot produce
# kvm/kvmmmu events; everything else is real.  The event formats in
# tests/data/tracecmd/formats/ are copies of a real kernel's tracefs
# (6.18: events/header_page, header_event, events/kvm*/*/format); the
# scenarios (*.scn) say which records to lay out, at the offsets those
# formats give, in ring-buffer pages as the kernel writes them
# (tools/mk-tracecmd-dat.c writes the version 6 .dat); trace-cmd itself
# then converts one to its compressed version 7 file and prints the
# 'trace-cmd report' text (plugin and raw -R spellings) the importer's
# report reader is tested on.
#
#   tools/mk-tracecmd-fixtures.sh                   remake the fixtures
#   tools/mk-tracecmd-fixtures.sh --refresh-formats first copy this kernel's
#                                                   formats (root: mounts
#                                                   tracefs read-only use,
#                                                   unmounts it after)
set -eu
cd "$(dirname "$0")/.."
D=tests/data/tracecmd

if [ "${1:-}" = "--refresh-formats" ]; then
	mnt=$(mktemp -d)
	mount -t tracefs nodev "$mnt"
	trap 'umount "$mnt"; rmdir "$mnt"' EXIT
	rm -rf "$D/formats"
	mkdir -p "$D/formats"
	cp "$mnt/events/header_page" "$mnt/events/header_event" "$D/formats/"
	for sys in kvm kvmmmu; do
		for ev in "$mnt/events/$sys"/*/; do
			e=$(basename "$ev")
			mkdir -p "$D/formats/$sys/$e"
			cp "$ev/format" "$D/formats/$sys/$e/format"
		done
	done
	mkdir -p "$D/formats/sched/sched_switch"
	cp "$mnt/events/sched/sched_switch/format" "$D/formats/sched/sched_switch/"
	umount "$mnt"
	rmdir "$mnt"
	trap - EXIT
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=gnu11 -O2 -Wall -Wextra -o "$tmp/mk-tracecmd-dat" tools/mk-tracecmd-dat.c
for s in shadow-intel tdp-amd nested-intel nokvm; do
	"$tmp/mk-tracecmd-dat" "$D/formats" "$D/$s.scn" "$D/$s.dat"
done
# trace-cmd 3 writes version 7 files, compressed: let trace-cmd make one
trace-cmd convert -i "$D/shadow-intel.dat" -o "$D/shadow-intel-v7.dat" \
	--file-version 7 --compression zstd >/dev/null
for s in shadow-intel tdp-amd nested-intel; do
	trace-cmd report "$D/$s.dat" >"$D/$s.report" 2>/dev/null
done
trace-cmd report -R "$D/shadow-intel.dat" >"$D/shadow-intel-raw.report" 2>/dev/null
echo "mk-tracecmd-fixtures: $(ls "$D"/*.dat "$D"/*.report | wc -l) files in $D"
