# SPDX-License-Identifier: LGPL-2.1-or-later
# Run-control corpus: Debian's python3. Four threads write one byte to
# /dev/null with os.write (libc's write) and sleep 300 us, in a loop.
# Prints "ready" once all run; on a line (or EOF) on stdin it stops them
# and prints "done ok CALLS" if every write returned 1, then exits 0.
import os
import sys
import threading
import time

fd = os.open("/dev/null", os.O_WRONLY)
stop = threading.Event()
counts = [0] * 4
bad = [0]


def work(i):
    while not stop.is_set():
        if os.write(fd, b"x") != 1:
            bad[0] += 1
        counts[i] += 1
        time.sleep(0.0003)


ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts:
    t.start()
while min(counts) < 8:
    time.sleep(0.001)
print("ready", flush=True)
sys.stdin.readline()
stop.set()
for t in ts:
    t.join()
total = sum(counts)
print("done ok %d" % total if not bad[0] else "done BAD %d" % bad[0], flush=True)
