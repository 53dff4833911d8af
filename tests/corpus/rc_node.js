// SPDX-License-Identifier: LGPL-2.1-or-later
// Run-control corpus: node. The main thread writes one byte to /dev/null
// (fs.writeSync: libc's write) and allocates (a buffer outside V8's
// heap too: malloc from libc's main arena) every millisecond; two
// worker threads allocate JS objects and, every millisecond, buffers
// outside V8's heap (malloc), and JIT-compile; V8's compiler and GC
// threads run too. Prints "ready" once the
// workers run; on a line (or EOF) on stdin it stops them and prints
// "done ok TICKS" if every write returned 1, then exits 0.
'use strict';
const fs = require('fs');
const { Worker, isMainThread, parentPort } = require('worker_threads');

if (isMainThread) {
  const fd = fs.openSync('/dev/null', 'w');
  let ticks = 0, bad = 0, up = 0, keep = [];
  const timer = setInterval(() => {
    if (fs.writeSync(fd, 'x') !== 1)
      bad++;
    keep.push(new Array(64).fill(ticks), Buffer.allocUnsafeSlow(3000 + (ticks & 255)));
    if (keep.length > 256)
      keep = [];
    ticks++;
  }, 1);
  const ws = [];
  for (let i = 0; i < 2; i++) {
    const w = new Worker(__filename);
    w.on('message', () => {
      if (++up === 2)
        console.log('ready');
    });
    ws.push(w);
  }
  let done = false;
  const finish = () => {
    if (done)
      return;
    done = true;
    clearInterval(timer);
    Promise.all(ws.map((w) => w.terminate())).then(() => {
      console.log(bad === 0 && ticks > 0 ? `done ok ${ticks}` : `done BAD ${bad}`);
      process.exit(0);
    });
  };
  process.stdin.on('data', finish);
  process.stdin.on('end', finish);
} else {
  parentPort.postMessage('up');
  let n = 0;
  const step = () => {
    let a = [];
    for (let i = 0; i < 2000; i++)
      a.push({ i, s: 'v' + (i + n) });
    // Outside V8's heap: node's ArrayBuffer allocator, malloc.
    for (let i = 0; i < 16; i++)
      a.push(Buffer.allocUnsafeSlow(4096 + i));
    n += a.length;
    setTimeout(step, 1);
  };
  step();
}
