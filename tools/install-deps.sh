#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages tdpsim needs, only those that are missing.
# Idempotent; run as root (or with sudo available).
set -eu

# libtracecmd-dev/libtraceevent-dev (and libtracefs-dev, which libtracecmd.pc
# requires): 'tdpsim import' reads trace-cmd .dat files; trace-cmd: the
# importer's fixtures are checked with 'trace-cmd report'.
# clang + libclang-rt-14-dev: libFuzzer for tests/fuzz (tools/fuzz.sh);
# python3: the JSON outputs are checked with 'python3 -m json.tool'.
# libjansson-dev: compare and plot read JSON reports back (docs/RELIABILITY.md).
PKGS="build-essential cmake pkg-config libpcap-dev libzstd-dev zstd libcriterion-dev gnuplot-nox
      libjansson-dev
      libtracecmd-dev libtraceevent-dev libtracefs-dev trace-cmd
      clang libclang-rt-14-dev python3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
