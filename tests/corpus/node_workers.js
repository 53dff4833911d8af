// SPDX-License-Identifier: LGPL-2.1-or-later
// Corpus: node with three worker threads, each blocked in Atomics.wait
// on shared memory, the main thread idle in its event loop (epoll).
// Prints "ready" once the workers wait.
'use strict';
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');

if (isMainThread) {
  const shared = new Int32Array(new SharedArrayBuffer(4 * 4));
  let up = 0;
  for (let i = 0; i < 3; i++) {
    const w = new Worker(__filename, { workerData: { shared, i } });
    w.on('message', () => {
      if (++up === 3)
        setTimeout(() => { console.log('ready'); }, 200);
    });
  }
  setInterval(() => {}, 1 << 30);
} else {
  const { shared, i } = workerData;
  parentPort.postMessage('up');
  for (;;)
    Atomics.wait(shared, i, 0);
}
