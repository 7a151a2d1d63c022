#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/fuzz.sh [SECONDS [HARNESS...]] - build the libFuzzer harnesses
# (tests/fuzz/, clang, -fsanitize=fuzzer,address,undefined) in build-fuzz/
# (or $FUZZ_BUILD) and run each of them in turn, one process at a time
# (one core).
#
# SECONDS is the whole budget (default 120), split equally between the
# harnesses run: 'tools/fuzz.sh 3600' fuzzes each of the 4 for 15 minutes;
# 'tools/fuzz.sh 900 fuzz_replay' only that one, for 15 minutes.
# tools/test.sh (and so CI) runs 'tools/fuzz.sh 120': 30 s per harness.
#
# Seeds are rebuilt on each run from the shipped traces (traces/), the
# scenarios (tests/scenarios/, tests/data/) and the test reports; what the
# fuzzer finds accumulates in build-fuzz/corpus/HARNESS/.  A crash, leak,
# timeout or out-of-memory makes the run exit 1; the input is saved as
# build-fuzz/artifacts/HARNESS-crash-* (make it a regression test: a text
# trace in tests/fuzz/regress/, which test_hostile replays).  Per-harness
# logs: build-fuzz/logs/; on a failure the end of the log and, for a trace
# harness, the input as text and what `tdpsim replay --check` says of it
# are printed, so a CI log alone shows what broke.
#
# FUZZ_SEED=N fixes libFuzzer's seed (tools/test.sh, and so CI, uses 1):
# the same seeds, harness and N give the same inputs in the same order,
# so a CI failure reproduces with 'FUZZ_SEED=1 tools/fuzz.sh 120' from an
# empty build-fuzz/corpus.  Unset: a random seed each run (campaigns).
set -eu
cd "$(dirname "$0")/.."

budget=${1:-120}
case $budget in
	''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number, not '$budget'" >&2; exit 2 ;;
esac
shift $(($# > 0 ? 1 : 0))
harnesses=${*:-fuzz_trace_text fuzz_trace_binary fuzz_report_json fuzz_replay}
count=$(echo $harnesses | wc -w)
per=$((budget / count))
[ "$per" -ge 1 ] || per=1

B=${FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDPSIM_FUZZ=ON \
	-DBUILD_TESTING=OFF -DTDPSIM_BENCH=OFF >/dev/null
cmake --build $B -j"$(nproc)" >/dev/null

# ---- seeds (regenerated; never committed) ----
S=$B/seeds
rm -rf "$S"
mkdir -p "$S/text" "$S/binary" "$S/json" "$S/replay" $B/logs $B/artifacts
for f in tests/scenarios/*.txt tests/data/*.txt tests/data/compare/*.txt; do
	n=$(basename "$f" .txt)
	cp "$f" "$S/text/$n.txt"
	cp "$f" "$S/replay/$n.txt"
	$B/tdpsim convert "$f" "$S/binary/$n.pcap" 2>/dev/null || true
	cp "$S/binary/$n.pcap" "$S/replay/$n.pcap" 2>/dev/null || true
done
for f in traces/*.zst; do
	n=$(basename "$f" .zst)
	cp "$f" "$S/binary/$n.zst"
	# the first events of each shipped trace, small enough to mutate
	$B/tdpsim dump --limit 400 "$f" > "$S/text/$n-head.txt" 2>/dev/null || true
	cp "$S/text/$n-head.txt" "$S/replay/$n-head.txt"
	$B/tdpsim convert "$S/text/$n-head.txt" "$S/replay/$n-head.pcap" 2>/dev/null || true
	cp "$S/replay/$n-head.pcap" "$S/binary/$n-head.pcap" 2>/dev/null || true
done
# inputs that once failed (tests/fuzz/regress, replayed by test_hostile)
for f in tests/fuzz/regress/*.txt; do
	cp "$f" "$S/replay/"
	cp "$f" "$S/text/"
done
cp tests/data/reports/*.json "$S/json/"
$B/tdpsim replay -q --json "$S/json/replay.json" tests/scenarios/evict.txt 2>/dev/null || true
$B/tdpsim compare -r 1 --json "$S/json/compare.json" tests/scenarios/flood.txt \
	>/dev/null 2>&1 || true

# report_failure HARNESS LOG - what a reader of the CI log needs: the
# sanitizer's or libFuzzer's report, the input, and for a trace the
# replay's own error (the harness runs with stderr closed).
report_failure() {
	echo "---- $1: end of $2 ----" >&2
	grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' "$2" | tail -40 >&2
	for a in $(find $B/artifacts -name "$1-*" -newer "$B/logs/$1.start"); do
		case $1 in
		fuzz_replay|fuzz_trace_text|fuzz_trace_binary)
			echo "---- $a as text ----" >&2
			$B/tdpsim dump "$a" 2>&1 | head -80 >&2 || true
			if [ "$1" = fuzz_replay ]; then
				for l in new old; do
					echo "---- tdpsim replay -q --check -L $l: ----" >&2
					$B/tdpsim replay -q --check -L $l "$a" >&2 2>&1 || true
				done
			fi ;;
		*)
			echo "---- $a (base64) ----" >&2
			base64 "$a" | head -40 >&2 ;;
		esac
	done
	echo "---- end of $1 ----" >&2
}

status=0
passed=0
failed=0
printf '%-18s %8s %12s %8s  %s\n' harness seconds executions corpus result
for h in $harnesses; do
	case $h in
	fuzz_trace_text) seeds=$S/text ;;
	fuzz_trace_binary) seeds=$S/binary ;;
	fuzz_report_json) seeds=$S/json ;;
	fuzz_replay) seeds=$S/replay ;;
	esac
	mkdir -p $B/corpus/$h
	log=$B/logs/$h.log
	touch $B/logs/$h.start	# report_failure(): this run's artifacts only
	# -close_fd_mask=2: the library's own error messages on stderr are
	# expected for bad input; libFuzzer's reports still go to the log.
	if $B/tests/fuzz/$h -max_total_time="$per" -timeout=20 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -close_fd_mask=2 \
		${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
		-artifact_prefix=$B/artifacts/$h- \
		$B/corpus/$h "$seeds" >"$log" 2>&1; then
		result=ok
		passed=$((passed + 1))
	else
		result="FAILED (see $log)"
		status=1
		failed=$((failed + 1))
		report_failure "$h" "$log"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	corpus=$(find $B/corpus/$h -type f | wc -l)
	printf '%-18s %8s %12s %8s  %s\n' "$h" "$per" "${execs:-?}" "$corpus" "$result"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
