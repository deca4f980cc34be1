#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare a hawkeyes JSON report with a .expect file, exactly.

An .expect line is one finding:
    PATTERN porting|not-porting @m1 K > @m2 K BARRIER [via @c1 > @c2] ; @m3 ...
where @m names a marker comment in the program's sources (its line), K is
R or W; "via" names the call sites in the common caller when the two
accesses are in different functions (the report's "calls"). Every expected finding must be reported and nothing else may be.
Exit 0 on a match; otherwise print the difference and exit 1.

--allow-missing: for TSan runtimes that print only some races (clang 14):
nothing unexpected may be reported and at least one expected finding must
be; the missing ones are listed.
"""
import json
import re
import sys


def markers(sources):
    found = {}
    for path in sources:
        base = path.rsplit('/', 1)[-1]
        with open(path) as f:
            for n, line in enumerate(f, 1):
                for m in re.findall(r'/\* (@\w+) \*/', line):
                    found[m] = '%s:%d' % (base, n)
    return found


def expected(path, marks):
    out = set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            for m in re.findall(r'@\w+', line):
                if m not in marks:
                    sys.exit('%s: unknown marker %s' % (path, m))
            line = re.sub(r'@\w+', lambda m: marks[m.group(0)], line)
            out.add(' '.join(line.split()))
    return out


def reported(path):
    with open(path) as f:
        rep = json.load(f)
    out = set()
    for fd in rep['findings']:
        sides = []
        for s in fd['sides']:
            a, b = s['first'], s['second']
            side = '%s:%d %s > %s:%d %s %s' % (
                a['file'].rsplit('/', 1)[-1], a['line'], a['access'],
                b['file'].rsplit('/', 1)[-1], b['line'], b['access'],
                s['fix']['barrier'])
            if s['calls']:
                c1, c2 = s['calls']['first'], s['calls']['second']
                side += ' via %s:%d > %s:%d' % (c1['file'].rsplit('/', 1)[-1], c1['line'],
                                                c2['file'].rsplit('/', 1)[-1], c2['line'])
            sides.append(side)
        out.add('%s %s %s' % (fd['pattern'], 'porting' if fd['porting'] else 'not-porting',
                              ' ; '.join(sides)))
    if len(out) != len(rep['findings']):
        sys.exit('%s: duplicate findings' % path)
    if rep['stats']['findings'] != len(rep['findings']):
        sys.exit('%s: stats.findings disagrees with findings' % path)
    return out


def main():
    args = sys.argv[1:]
    allow_missing = '--allow-missing' in args
    args = [a for a in args if a != '--allow-missing']
    report, expect, sources = args[0], args[1], args[2:]
    want = expected(expect, markers(sources))
    got = reported(report)
    for f in sorted(want - got):
        print('# missing:    %s' % f)
    for f in sorted(got - want):
        print('# unexpected: %s' % f)
    if allow_missing:
        sys.exit(0 if got <= want and got & want else 1)
    sys.exit(0 if want == got else 1)


if __name__ == '__main__':
    main()
