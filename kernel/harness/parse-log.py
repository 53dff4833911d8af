#!/usr/bin/env python3
"""parse-log.py VARIANT LOG: the harness guest's serial log holds RESULT
lines; fail on a failed test, a missing end marker, or any kernel splat."""
import re
import sys

variant, path = sys.argv[1], sys.argv[2]
text = open(path, errors="replace").read()
splats = [l for l in text.splitlines() if re.search(
    r"WARNING:|BUG:|Oops|Kernel panic|possible circular locking|"
    r"inconsistent lock state|KASAN|UBSAN|suspicious RCU usage|"
    r"sleeping function called from invalid context|lockdep", l)]
results = re.findall(r"^RESULT (\S+) (\d+)", text, re.M)
secs = sum(int(s) for s in re.findall(r"^RESULT \S+ \d+ (\d+)s", text, re.M))
failed = [(n, rc) for n, rc in results if rc not in ("0", "77")]
skipped = [n for n, rc in results if rc == "77"]
done = "HARNESS DONE" in text
head = re.search(r"HARNESS kernel .*$", text, re.M)
cpus = re.search(r"HARNESS kernel .* cpus (\d+)", text)
print(f"{variant}: {head.group(0) if head else 'no HARNESS line'}")
print(f"{variant}: {len(results)} tests, {len(failed)} failed, {len(skipped)} skipped"
      f"{' (' + ', '.join(skipped) + ')' if skipped else ''}; {len(splats)} kernel splats; "
      f"{secs} s of tests")
for n, rc in failed:
    print(f"{variant}: FAILED {n} (exit {rc})")
for l in splats[:20]:
    print(f"{variant}: SPLAT {l}")
if cpus and int(cpus.group(1)) < 2:
    print(f"{variant}: the guest has {cpus.group(1)} CPU; the tests need 2")
    done = False
if not done:
    print(f"{variant}: the guest did not finish (no HARNESS DONE); see {path}")
sys.exit(0 if done and not failed and not splats and results else 1)
