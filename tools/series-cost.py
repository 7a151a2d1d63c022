#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
tools/series-cost.py - old -> new Ir difference of one measurement, per
function and per source line, from two callgrind output files.  Called
by tools/series-cost.sh once per walk kind / fault path / trace:

  series-cost.py NAME CG_OLD UNITS_OLD CG_NEW UNITS_NEW UNIT SRCROOT

UNITS_*: what the totals are divided by (walks, calls, faults, events),
or "calls:FN" for the number of calls to FN (a function name without
its tdp_old_/tdp_new_ prefix) recorded in that file.  Prints, in 72
columns: the total per unit, the functions whose self cost per unit
moved, and the source lines that carry the difference.  A line is shown
if its cost per unit moved by >= 0.5 Ir and either by > 3 % of its own
old cost or by >= 2 % of the total's move; at most $LINES (16)
lines, largest moves first.  tdp_tsc_per_ns() and clock_gettime() are
left out (TSC calibration: a busy-wait whose Ir varies run to run).
Self cost only: an inlined function's lines count where they were
inlined from (callgrind's fi=/fe=), so a line of an inline helper sums
all its inlined copies.
"""
import os
import re
import sys

PREFIX = re.compile(r'^tdp_(old|new)_')
# Left out of every figure: tdp_tsc_per_ns() calibrates the TSC by
# busy-waiting ~20 ms on clock_gettime(), so its Ir varies run to run.
EXCLUDE = re.compile(r'^(tdp_tsc_per_ns|clock_gettime.*)$')


def parse(path):
    """Self Ir per function and per (file, line); calls per callee."""
    names = {}
    fn_self, line_self, calls = {}, {}, {}
    cur = fn = cfn = None
    skip = False
    total = 0
    in_call = False
    last = 0

    def name(kind, s):
        m = re.match(r'\((\d+)\)(?: (.*))?$', s)
        if not m:
            return s
        key = (kind, m.group(1))
        if m.group(2) is not None:
            names[key] = m.group(2)
        return names[key]

    with open(path) as f:
        for raw in f:
            ln = raw.rstrip('\n')
            if not ln:
                continue
            c = ln[0]
            if c.isdigit() or c in '+-*':
                parts = ln.split()
                pos = parts[0]
                if pos == '*':
                    line = last
                elif pos[0] in '+-':
                    line = last + int(pos)
                else:
                    line = int(pos)
                last = line
                ir = int(parts[1]) if len(parts) > 1 else 0
                if in_call:
                    in_call = False
                    continue	# inclusive cost of a call: not self
                if skip:
                    continue
                total += ir
                fn_self[fn] = fn_self.get(fn, 0) + ir
                key = (cur, line)
                line_self[key] = line_self.get(key, 0) + ir
                continue
            if '=' not in ln:
                continue
            k, v = ln.split('=', 1)
            # fl= and fi=/fe= set the file of the cost lines that follow;
            # fn= does not (callgrind writes fl= only when it changes)
            if k in ('fl', 'fi', 'fe'):
                cur = name('fl', v)
            elif k == 'fn':
                fn = PREFIX.sub('', name('fn', v))
                skip = bool(EXCLUDE.match(fn))
            elif k in ('cfl', 'cfi'):
                name('fl', v)
            elif k == 'cob' or k == 'ob':
                name('ob', v)
            elif k == 'cfn':
                cfn = PREFIX.sub('', name('fn', v))
            elif k == 'calls':
                calls[cfn] = calls.get(cfn, 0) + int(v.split()[0])
                in_call = True
    return total, fn_self, line_self, calls


def units(spec, calls):
    if spec.startswith('calls:'):
        return calls.get(spec[6:], 0)
    return int(spec)


def pct(o, n):
    return (n - o) / o * 100 if o else float('inf') if n else 0.0


def srcline(root, path, line, cache={}):
    if path not in cache:
        try:
            with open(path) as f:
                cache[path] = f.read().split('\n')
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ''


def short(root, path):
    if path.startswith(root + '/'):
        path = path[len(root) + 1:]
    return path


def main():
    if len(sys.argv) != 8:
        sys.stderr.write(__doc__)
        return 2
    name, cgo, uo, cgn, un, unit, root = sys.argv[1:]
    root = os.path.abspath(root)
    to, fo, lo, co = parse(cgo)
    tn, fnw, lnw, cn = parse(cgn)
    no, nn = units(uo, co), units(un, cn)
    if not no or not nn:
        print('%s: no %s counted (old %d, new %d)' % (name, unit, no, nn))
        return 1
    ao, an = to / no, tn / nn
    d = an - ao
    print('== %s: Ir per %s, old %d / new %d %ss' % (name, unit, no, nn,
                                                      unit))
    print('RESULT %s old %.1f new %.1f delta %+.1f %+.1f%%'
          % (name, ao, an, d, pct(ao, an)))

    rows = []
    for f in set(fo) | set(fnw):
        o, n = fo.get(f, 0) / no, fnw.get(f, 0) / nn
        if abs(n - o) >= 0.5:
            rows.append((f, o, n))
    rows.sort(key=lambda r: (-round(abs(r[2] - r[1]), 6), r[0]))
    print('  %-34s %8s %8s %8s' % ('function (self Ir/' + unit + ')',
                                   'old', 'new', 'delta'))
    for f, o, n in rows[:10]:
        print('  %-34.34s %8.1f %8.1f %+8.1f' % (f, o, n, n - o))

    rows = []
    for k in set(lo) | set(lnw):
        o, n = lo.get(k, 0) / no, lnw.get(k, 0) / nn
        m = n - o
        if abs(m) < 0.5:
            continue
        if abs(m) > 0.03 * o or (d and abs(m) >= 0.02 * abs(d)):
            rows.append((k, o, n))
    rows.sort(key=lambda r: (-round(abs(r[2] - r[1]), 6), r[0]))
    print('  %-34s %8s %8s %8s' % ('line (self Ir/' + unit + ')',
                                   'old', 'new', 'delta'))
    shown = 0.0
    for (path, line), o, n in rows[:int(os.environ.get("LINES", 16))]:
        where = '%s:%d' % (short(root, path), line)
        if len(where) > 34:
            where = '...' + where[-31:]
        print('  %-34s %8.1f %8.1f %+8.1f' % (where, o, n, n - o))
        print('      %.64s' % srcline(root, path, line))
        shown += n - o
    print('  lines shown: %+.1f of %+.1f Ir/%s' % (shown, d, unit))
    return 0


if __name__ == '__main__':
    sys.exit(main())
