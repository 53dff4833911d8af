#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the run-control corpus into OUTDIR: tests/corpus/rc_build.sh OUTDIR
#
# Programs that call one function over and over in several threads, write
# one byte to /dev/null in the same loop, print "ready", and on a line (or
# EOF) on stdin stop, print "done ok N" and exit 0 (tests/integration/
# bp_real.c puts breakpoints, steps, watchpoints and syscall catching on
# them, then checks they finish as they would untraced):
#   rc_go      Go (Debian's /usr/bin/go): main.hot in 8 goroutines,
#              async preemption on (SIGURG), a GC-heavy loop
#   rc_rust    Rust release build (/usr/bin/rustc): rc_hot in 4 threads
#   rc_cxx     g++ -O2: catcher(int) in 4 threads, throwing and catching
#   rc_static  gcc -static -O2: rc_hot in 4 threads
#   rc_1000    gcc -O2: rc_hot in 1,000 threads (run with argument 1000)
# rc_py.py (/usr/bin/python3) and rc_node.js (/usr/bin/node) are run from
# the source directory. A missing toolchain: the program is not built, its
# name and package go to stderr, exit 2 (the others are still built).
# Idempotent; quiet on success; exit 1 when a build fails.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 64; }
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
missing=0
LOG="$OUT/.rc_build.log"
# Two tests may build at once (ctest -j): one at a time.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$OUT/.rc_build.lock"
	flock 9
fi

fresh() {
	[ -x "$OUT/$1" ] && [ "$OUT/$1" -nt "$2" ]
}

need() {
	[ -x "$1" ] && return 0
	echo "rc corpus: $3 not built: $1 not found (apt-get install $2)" >&2
	missing=1
	return 1
}

build() {
	n=$1
	shift
	if ! "$@" >"$LOG" 2>&1; then
		echo "rc corpus: building $n failed:" >&2
		cat "$LOG" >&2
		exit 1
	fi
	mv -f "$OUT/$n.tmp" "$OUT/$n"
}

if need /usr/bin/gcc gcc "rc_static, rc_1000"; then
	fresh rc_static "$SRC/rc_c.c" ||
		build rc_static gcc -static -O2 -g -pthread -o "$OUT/rc_static.tmp" "$SRC/rc_c.c"
	fresh rc_1000 "$SRC/rc_c.c" ||
		build rc_1000 gcc -O2 -g -pthread -o "$OUT/rc_1000.tmp" "$SRC/rc_c.c"
fi
if need /usr/bin/g++ g++ rc_cxx; then
	fresh rc_cxx "$SRC/rc_cxx.cc" ||
		build rc_cxx g++ -O2 -g -pthread -o "$OUT/rc_cxx.tmp" "$SRC/rc_cxx.cc"
fi
if need /usr/bin/go golang-go rc_go; then
	mkdir -p "$OUT/.go"
	fresh rc_go "$SRC/rc_go.go" ||
		build rc_go env GO111MODULE=off GOPATH="$OUT/.go" GOCACHE="$OUT/.go/cache" \
			GOFLAGS= CGO_ENABLED=0 /usr/bin/go build -o "$OUT/rc_go.tmp" "$SRC/rc_go.go"
fi
if need /usr/bin/rustc rustc rc_rust; then
	fresh rc_rust "$SRC/rc_rust.rs" ||
		build rc_rust /usr/bin/rustc -O -g -C debuginfo=1 -o "$OUT/rc_rust.tmp" \
			"$SRC/rc_rust.rs"
fi
need /usr/bin/python3 python3 rc_py || true
need /usr/bin/node nodejs rc_node || true
rm -f "$LOG"
exit $((missing * 2))
