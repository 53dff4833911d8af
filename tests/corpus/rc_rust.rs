// SPDX-License-Identifier: LGPL-2.1-or-later
// Run-control corpus: Rust (Debian's rustc, release build). Four threads
// call rc_hot in a loop (it adds to the global RC_COUNTER and calls leaf),
// write one byte to /dev/null and sleep 300 us. Prints "ready" once all
// run; on a line (or EOF) on stdin it stops them and prints "done ok
// CALLS" if RC_COUNTER equals the calls the threads counted, then exits 0.
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

#[no_mangle]
pub static RC_COUNTER: AtomicU64 = AtomicU64::new(0);
static STOP: AtomicBool = AtomicBool::new(false);

#[inline(never)]
fn leaf(x: u64) -> u64 {
    x.wrapping_mul(2654435761).wrapping_add(1)
}

#[no_mangle]
#[inline(never)]
pub fn rc_hot(x: u64) -> u64 {
    RC_COUNTER.fetch_add(1, Ordering::SeqCst);
    leaf(x) ^ (x >> 3)
}

fn main() {
    let mut hs = Vec::new();
    for i in 0..4u64 {
        let mut f = OpenOptions::new().write(true).open("/dev/null").unwrap();
        hs.push(thread::Builder::new().name(format!("hot{}", i)).spawn(move || {
            let mut x = i;
            let mut calls = 0u64;
            while !STOP.load(Ordering::SeqCst) {
                x = rc_hot(x);
                calls += 1;
                f.write_all(b"x").unwrap();
                thread::sleep(Duration::from_micros(300));
            }
            (calls, x)
        }).unwrap());
    }
    while RC_COUNTER.load(Ordering::SeqCst) < 64 {
        thread::sleep(Duration::from_millis(1));
    }
    println!("ready");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    STOP.store(true, Ordering::SeqCst);
    let mut total = 0u64;
    for h in hs {
        total += h.join().unwrap().0;
    }
    let c = RC_COUNTER.load(Ordering::SeqCst);
    if total == c {
        println!("done ok {}", total);
    } else {
        println!("done BAD {} {}", total, c);
    }
    let _ = Arc::new(0);
}
