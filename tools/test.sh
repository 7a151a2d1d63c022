#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The whole test suite: install missing packages, build with ASan+UBSan in
# build-test/, run every Criterion suite through ctest, then fuzz each
# libFuzzer harness for 30 s (tools/fuzz.sh).  This is README command (2)
# and what .ci/run calls.
set -eu
cd "$(dirname "$0")/.."

tools/install-deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DTDPSIM_SANITIZE=ON \
	-DTDPSIM_WERROR=ON -DTDPSIM_BENCH=OFF >/dev/null
cmake --build build-test -j"$(nproc)"
(cd build-test && ctest --output-on-failure -j"$(nproc)" "$@")
# A short libFuzzer run of every harness (30 s each, docs/RELIABILITY.md)
# with a fixed seed, so that a failure here reproduces (tools/fuzz.sh);
# TDPSIM_FUZZ_SECONDS=0 skips it for a quick local run.
fuzz=${TDPSIM_FUZZ_SECONDS:-120}
if [ "$fuzz" -gt 0 ]; then
	FUZZ_SEED=${FUZZ_SEED:-1} tools/fuzz.sh "$fuzz"
fi
