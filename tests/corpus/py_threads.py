# SPDX-License-Identifier: LGPL-2.1-or-later
# Corpus: Debian's python3 with 10 threads (9 workers and the main
# thread), each a few Python frames deep, blocked in a lock or a sleep.
# Prints "ready" once all are started.
import sys
import threading
import time

ev = threading.Event()


def depth(n, i):
    if n > 0:
        return depth(n - 1, i) + 1
    if i % 2:
        ev.wait()
    else:
        time.sleep(1000)
    return 0


ts = [threading.Thread(target=depth, args=(i % 4 + 1, i), daemon=True) for i in range(9)]
for t in ts:
    t.start()
time.sleep(0.2)
print("ready", flush=True)
ev.wait()
