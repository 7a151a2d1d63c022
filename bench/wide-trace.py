#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a text trace with a large shadow working set (bench/check-cost.sh).

wide-trace.py NPT EVENTS > OUT.txt

A 4-level shadow-paging guest maps one page through each of NPT page
tables (so KVM holds NPT + NPT/512 + 2 shadow pages), then EVENTS events of
random reads/writes over those pages, with a PTE rewrite + INVLPG every 16
events.  Deterministic (fixed seed).  The linux workload of 'tdpsim gen'
keeps ~120 shadow pages live; this one keeps thousands, which is what made
the old per-event full check cost O(working set).
"""
import random
import sys

npt, events = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(1)
npd = (npt + 511) // 512
PML4, PDPT, PD0 = 0x1000, 0x2000, 0x3000
PT0 = PD0 + npd * 0x1000
DATA0 = PT0 + npt * 0x1000
mem = (DATA0 + npt * 0x1000 + 0x1fffff) & ~0x1fffff
out = sys.stdout
out.write("tdpsim-trace 1\nconfig vendor=intel paging=shadow mem=%#x "
          "max_mmu_pages=%d\n" % (mem, 2 * npt + 64))
out.write("write gpa=%#x val=%#x\n" % (PML4, PDPT | 7))
for d in range(npd):
    out.write("write gpa=%#x val=%#x\n" % (PDPT + 8 * d, (PD0 + d * 0x1000) | 7))
for t in range(npt):
    out.write("write gpa=%#x val=%#x\n" % (PD0 + 8 * t, (PT0 + t * 0x1000) | 7))
    out.write("write gpa=%#x val=%#x\n" % (PT0 + t * 0x1000, (DATA0 + t * 0x1000) | 7))
out.write("set cr0=0x80010011 cr3=%#x cr4=0x20 efer=0x900\n" % PML4)
n = 0
while n < events:
    t = rng.randrange(npt)
    gva = t << 21
    if n % 16 == 15:
        # remap the page to the next data frame and tell the TLB
        frame = DATA0 + ((t + rng.randrange(1, npt)) % npt) * 0x1000
        out.write("write gpa=%#x val=%#x\n" % (PT0 + t * 0x1000, frame | 7))
        out.write("invlpg gva=%#x\n" % gva)
        n += 2
        continue
    out.write("access gva=%#x op=%s\n" % (gva + rng.randrange(4096) // 8 * 8,
                                         "w" if rng.random() < 0.3 else "r"))
    n += 1
