// SPDX-License-Identifier: LGPL-2.1-or-later
// A Rust program whose threads block inside its own functions (recursion,
// a generic method, a closure), for tests/cli/names.sh. Prints "ready"
// when every thread is about to block; kill it to end it.
use std::io::Write;
use std::time::Duration;

#[inline(never)]
fn recurse(n: u32) -> u32 {
    if n == 0 {
        std::thread::sleep(Duration::from_secs(1000));
        0
    } else {
        recurse(n - 1) + 1
    }
}

struct Holder<T>(T);

impl<T: Copy + Into<u64>> Holder<T> {
    #[inline(never)]
    fn get(&self) -> u64 {
        recurse(3) as u64 + self.0.into()
    }
}

fn main() {
    let t = std::thread::spawn(|| {
        let h = Holder(7u8);
        h.get()
    });
    std::thread::sleep(Duration::from_millis(50));
    println!("ready");
    std::io::stdout().flush().unwrap();
    let v = recurse(2);
    println!("{} {}", v, t.join().unwrap());
}
