#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Where a replay's instructions or time went, by module of tdpsim.

  tools/where.py cg CALLGRIND.OUT
      instructions: each function's own Ir (self cost) from one callgrind
      profile of tdpsim (a build with -g), summed by the source file the
      instructions come from (inlined code counts where its source is)
  tools/where.py perf [--runs N] [--freq HZ] BINARY ARGS...
      time: runs `perf record -e cpu-clock` on BINARY ARGS N times (default
      3, at 5000 Hz: at 20000 Hz perf doubles the user time on this VM) and
      sorts the samples of the process's main thread (the replay; the
      read-ahead thread is reported whole as `ahead`) by the source file of
      the sampled instruction, innermost inlined location first
      (addr2line -i on BINARY, which needs -g); kernel samples are `kernel`

Modules (the same for both):
  port     src/mmu/          KVM's MMU, ported (what tdpsim measures)
  cpu      src/hw/, include/tdpsim/hw.h, hw_*.h   the CPU model and its memos
  vcpu     src/kvm/          KVM's vCPU side: exits, emulation, nested
  decode   src/trace/, libzstd              reading the trace
  sim      src/sim/, include/tdpsim/gmem.h  replay loop, guest memory
  kernel   (perf only) the host kernel on the replay's behalf: page faults
           on fresh memory, wake-ups of the read-ahead thread
  other    everything else (libc, the dynamic loader, start-up)

Prints "MODULE COUNT" lines (Ir or samples), then "total COUNT"; perf adds
"ahead COUNT" and "hz HZ".  Used by tools/perf-doc.sh.
"""
import os
import re
import subprocess
import sys
import tempfile

MODULES = ("port", "cpu", "vcpu", "decode", "sim", "other")


def module(src, dso=""):
    """The module of code from source file @src in shared object @dso."""
    if "src/mmu/" in src:
        return "port"
    if "src/hw/" in src or re.search(r"include/tdpsim/hw(_|\.h)", src):
        return "cpu"
    if "src/kvm/" in src:
        return "vcpu"
    if "src/trace/" in src or "libzstd" in dso:
        return "decode"
    if "src/sim/" in src or "include/tdpsim/gmem.h" in src:
        return "sim"
    return "other"


def die(msg):
    print("where: " + msg, file=sys.stderr)
    sys.exit(1)


def run(argv, **kw):
    try:
        return subprocess.run(argv, check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, **kw).stdout
    except FileNotFoundError:
        die("'%s' not found" % argv[0])
    except subprocess.CalledProcessError as e:
        die("'%s' failed: %s" % (" ".join(argv[:3]), e.stderr.strip()[-300:]))


def cg(path):
    out = run(["callgrind_annotate", "--inclusive=no", "--auto=no",
               "--threshold=100", path])
    total = None
    count = dict.fromkeys(MODULES, 0)
    body = False
    for line in out.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
        elif "file:function" in line:
            body = True
        elif body and re.match(r"\s*[0-9,]+\s", line):
            n = int(line.split()[0].replace(",", ""))
            rest = re.sub(r"^[^)]*\)\s+", "", line)	# drop "Ir (pct%)"
            count[module(rest.split(":")[0], rest)] += n
    if total is None:
        die("no PROGRAM TOTALS in '%s'" % path)
    count["other"] += total - sum(count.values())	# below the threshold
    for m in MODULES:
        print(m, count[m])
    print("total", total)


def symbols(binary):
    """Start address of every function symbol of @binary (its file offsets)."""
    addr = {}
    for line in run(["nm", "--defined-only", binary]).splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            addr.setdefault(f[2], int(f[0], 16))
    return addr


def sources(binary, addrs):
    """The innermost source file of each address in @addrs."""
    if not addrs:
        return {}
    out = run(["addr2line", "-a", "-i", "-e", binary],
              input="".join("%x\n" % a for a in addrs))
    src, cur = {}, None
    for line in out.splitlines():
        if line.startswith("0x"):
            cur = int(line, 16)
        elif cur is not None and cur not in src:
            src[cur] = line	# first line after the address: innermost
    return src


def perf(argv):
    runs, hz = 3, 5000
    while argv and argv[0].startswith("--"):
        if argv[0] == "--runs" and len(argv) > 1:
            runs = int(argv[1])
        elif argv[0] == "--freq" and len(argv) > 1:
            hz = int(argv[1])
        else:
            die("unknown option '%s'" % argv[0])
        argv = argv[2:]
    if len(argv) < 2:
        die("usage: where.py perf [--runs N] [--freq HZ] BINARY ARGS...")
    binary = os.path.realpath(argv[0])
    syms = symbols(binary)
    count = dict.fromkeys(MODULES + ("kernel",), 0)
    ahead = 0
    pending = {}		# file offset -> samples
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        for _ in range(runs):
            run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(hz),
                 "-o", data, "--", binary] + argv[1:])
            out = run(["perf", "script", "-i", data,
                       "-F", "pid,tid,ip,sym,symoff,dso"])
            for line in out.splitlines():
                m = re.match(r"\s*(\d+)/(\d+)\s+([0-9a-f]+)\s+(.*)\((.*)\)\s*$", line)
                if not m:
                    continue
                pid, tid, _, where, dso = m.groups()
                if pid != tid:
                    ahead += 1
                    continue
                if "kernel" in dso or dso.startswith("["):
                    count["kernel"] += 1
                    continue
                if os.path.realpath(dso) != binary:
                    count[module("", dso)] += 1
                    continue
                sm = re.match(r"(\S+)\+0x([0-9a-f]+)", where.strip())
                if not sm or sm.group(1) not in syms:
                    count["other"] += 1
                    continue
                off = syms[sm.group(1)] + int(sm.group(2), 16)
                pending[off] = pending.get(off, 0) + 1
    src = sources(binary, sorted(pending))
    for off, n in pending.items():
        count[module(src.get(off, ""))] += n
    total = sum(count.values())
    if not total:
        die("no samples of the main thread of '%s'" % binary)
    for m in MODULES + ("kernel",):
        print(m, count[m])
    print("total", total)
    print("ahead", ahead)
    print("hz", hz)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "cg":
        cg(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "perf":
        perf(sys.argv[2:])
    else:
        die("usage: where.py cg CALLGRIND.OUT | where.py perf [--runs N] "
            "[--freq HZ] BINARY ARGS...")


if __name__ == "__main__":
    main()
