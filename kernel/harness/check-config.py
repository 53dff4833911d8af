#!/usr/bin/env python3
"""check-config.py DOTCONFIG FRAGMENT... : every option the fragments ask
for (later fragments win) holds in the final .config; olddefconfig drops
options whose dependencies are missing, silently."""
import re
import sys

want = {}
for frag in sys.argv[2:]:
    for line in open(frag):
        m = re.match(r'^(CONFIG_\w+)=(.*)$', line.strip())
        if m:
            want[m.group(1)] = m.group(2)
have = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(CONFIG_\w+)=(.*)$', line.strip())
    if m:
        have[m.group(1)] = m.group(2)
bad = [f"{k}={v} (got {have.get(k, 'n')})" for k, v in want.items() if have.get(k, 'n') != v]
for b in bad:
    print("config did not stick:", b)
sys.exit(1 if bad else 0)
