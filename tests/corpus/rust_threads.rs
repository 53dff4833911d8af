// SPDX-License-Identifier: LGPL-2.1-or-later
// Corpus: Rust (Debian's rustc, release build). Five threads, each in a
// recursion of its own depth, parked in a sleep; the main thread joins.
// Prints "ready" once all are parked.
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

static mut SINK: u32 = 0;

// Opaque to the optimiser, so that the recursion stays a recursion.
fn opaque(x: u32) -> u32 {
    unsafe { std::ptr::write_volatile(&mut SINK, x); std::ptr::read_volatile(&SINK) }
}

#[inline(never)]
fn recurse(depth: u32, b: &Barrier) -> u32 {
    if depth == 0 {
        b.wait();
        loop {
            thread::sleep(Duration::from_secs(1000));
        }
    }
    opaque(recurse(opaque(depth - 1), b)).wrapping_add(1)
}

fn main() {
    let b = Arc::new(Barrier::new(6));
    let mut hs = Vec::new();
    for i in 0..5u32 {
        let b = b.clone();
        hs.push(thread::Builder::new()
            .name(format!("rec{}", i))
            .spawn(move || recurse(3 + i * 2, &b))
            .unwrap());
    }
    b.wait();
    thread::sleep(Duration::from_millis(50));
    println!("ready");
    for h in hs {
        let _ = h.join();
    }
}
