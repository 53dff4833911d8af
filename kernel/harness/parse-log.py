#!/usr/bin/env python3
"""parse-log.py VARIANT LOG: the harness guest's serial log holds RESULT
lines; fail on a failed test, a missing end marker, or any kernel splat:
WARNING, BUG, Oops, panic, lockdep, KASAN, UBSAN, RCU misuse, sleeping in
atomic context, and the reports of the lockup detectors (soft lockup, hard
LOCKUP, an IPI's CSD lock waited on too long, RCU stalls, hung tasks)."""
import re
import sys

# (kind, pattern) in the order a report is classified; the first that
# matches names the line.
KINDS = [
    ("hard lockup", r"Watchdog detected hard LOCKUP|NMI watchdog: .*hard LOCKUP|Hard LOCKUP"),
    ("soft lockup", r"soft lockup - CPU#|BUG: soft lockup"),
    ("csd lock wait", r"csd: Detected non-responsive CSD lock|csd: CSD lock \(#\d+\) "
                      r"(got unstuck|unresponsive)|csd: Re-sending CSD lock"),
    ("rcu stall", r"rcu: INFO: rcu_\w+ (self-)?detected stall|rcu_\w+ detected stalls on CPUs"
                  r"|rcu: INFO: rcu_\w+ detected expedited stalls"),
    ("hung task", r"INFO: task .* blocked for more than \d+ seconds"),
    ("lockdep", r"possible circular locking|inconsistent lock state|Invalid wait context|"
                r"possible recursive locking|lockdep|suspicious RCU usage"),
    ("kasan", r"KASAN"),
    ("ubsan", r"UBSAN"),
    ("atomic sleep", r"sleeping function called from invalid context"),
    ("panic", r"Kernel panic"),
    ("oops", r"Oops"),
    ("bug", r"BUG:"),
    ("warning", r"WARNING:"),
]
SPLAT = re.compile("|".join(f"(?:{p})" for _, p in KINDS))

variant, path = sys.argv[1], sys.argv[2]
text = open(path, errors="replace").read()
splats = [l for l in text.splitlines() if SPLAT.search(l) and not l.startswith("DMESG ")]
kinds = {}
for l in splats:
    for kind, p in KINDS:
        if re.search(p, l):
            kinds[kind] = kinds.get(kind, 0) + 1
            break
results = re.findall(r"^RESULT (\S+) (\d+)", text, re.M)
secs = sum(int(s) for s in re.findall(r"^RESULT \S+ \d+ (\d+)s", text, re.M))
failed = [(n, rc) for n, rc in results if rc not in ("0", "77")]
skipped = [n for n, rc in results if rc == "77"]
done = "HARNESS DONE" in text
head = re.search(r"HARNESS kernel .*$", text, re.M)
cpus = re.search(r"HARNESS kernel .* cpus (\d+)", text)
print(f"{variant}: {head.group(0) if head else 'no HARNESS line'}")
print(f"{variant}: {len(results)} tests, {len(failed)} failed, {len(skipped)} skipped"
      f"{' (' + ', '.join(skipped) + ')' if skipped else ''}; {len(splats)} kernel splats"
      f"{' (' + ', '.join(f'{k} {n}' for k, n in kinds.items()) + ')' if kinds else ''}; "
      f"{secs} s of tests")
for n, rc in failed:
    print(f"{variant}: FAILED {n} (exit {rc})")
    # what the test printed (the guest prefixes each line with its name):
    # its last lines say why, without the log file, which CI does not keep
    said = [l for l in text.splitlines() if l.startswith(f"  {n}: ")]
    for l in said[-12:]:
        print(f"{variant}: {l.strip()}")
for l in splats[:20]:
    print(f"{variant}: SPLAT {l}")
if cpus and int(cpus.group(1)) < 2:
    print(f"{variant}: the guest has {cpus.group(1)} CPU; the tests need 2")
    done = False
if not done:
    why = " after a lockup report" if any(k in kinds for k in
                                          ("hard lockup", "soft lockup", "csd lock wait",
                                           "rcu stall")) else ""
    print(f"{variant}: the guest did not finish (no HARNESS DONE){why}; see {path}")
sys.exit(0 if done and not failed and not splats and results else 1)
