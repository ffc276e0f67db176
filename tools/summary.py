#!/usr/bin/env python3
"""Count results in meson testlog.json files and print 'N passed, N failed'.

A test counts as passed when meson says OK (or EXPECTEDFAIL), as skipped on
SKIP, and as failed otherwise. Exit status 1 when anything failed.
"""
import json
import sys


def main():
    passed = failed = skipped = 0
    for path in sys.argv[1:]:
        try:
            with open(path) as f:
                lines = f.readlines()
        except OSError as e:
            print(f'summary: cannot read {path}: {e}')
            failed += 1
            continue
        for line in lines:
            t = json.loads(line)
            res = t.get('result')
            if res in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif res == 'SKIP':
                skipped += 1
            else:
                failed += 1
                print(f"FAILED: {t.get('name')} ({res}) in {path}")
    line = f'{passed} passed, {failed} failed'
    if skipped:
        line += f', {skipped} skipped'
    print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
