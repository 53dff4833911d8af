#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the corpus of real programs into OUTDIR: tests/corpus/build.sh OUTDIR
#
# Each is built with the toolchain a Debian 12 user has (scripts/deps.sh
# installs them): Debian's /usr/bin/go, /usr/bin/rustc, g++, gcc; the
# interpreters are Debian's. Programs, as OUTDIR/NAME (run each with no
# arguments; each prints "ready" on stdout once its threads are set up,
# then runs until killed):
#   go_threads      Go: goroutines on 4+ threads, a frameless leaf spinning
#                   (main.busy2), locked threads asleep in runtime.futexsleep
#   rust_threads    Rust release build: 5 threads in recursions, sleeping
#   cxx_exc         C++ -O2: a thread blocked in thrower's .cold part, one
#                   throwing and catching in a loop, 3 in a condvar wait
#   static_threads  gcc -static, 5 threads blocked in read()
#   nounwind        C -g -fno-asynchronous-unwind-tables -fno-unwind-tables:
#                   CFI only in .debug_frame, main blocked 9 frames deep
#   churn           threads created and joined without pause
#   threads1000     1,000 threads (999 in a condvar wait, main in pause)
#   leader_exit     the main thread called pthread_exit, 3 threads live on
#   busybox         a script: echo ready; exec /bin/busybox sleep 100000
#                   (busybox-static: static, .eh_frame without .eh_frame_hdr)
#   py_threads      a script: exec /usr/bin/python3 py_threads.py (10 threads)
#   node_workers    a script: exec /usr/bin/node node_workers.js (3 workers)
# A program whose toolchain is missing is not built: its name and the
# package to install go to stderr and the exit status is 2 (callers skip
# that program, exit 77 if they need it); everything else is still built.
# Idempotent: a program newer than its source is left alone. Quiet on
# success; exit 1 when a build fails.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 64; }
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
missing=0
LOG="$OUT/.build.log"

# fresh NAME SOURCE...: whether OUT/NAME is newer than every source.
fresh() {
	n=$1
	shift
	[ -x "$OUT/$n" ] || return 1
	for s in "$@"; do
		[ "$OUT/$n" -nt "$s" ] || return 1
	done
	return 0
}

# need TOOL PACKAGE NAME: whether TOOL exists; if not, say so.
need() {
	if [ -x "$1" ]; then
		return 0
	fi
	echo "corpus: $3 not built: $1 not found (apt-get install $2)" >&2
	missing=1
	return 1
}

# build NAME CMD...: run CMD (which writes OUT/NAME.tmp), then rename.
build() {
	n=$1
	shift
	if ! "$@" >"$LOG" 2>&1; then
		echo "corpus: building $n failed:" >&2
		cat "$LOG" >&2
		exit 1
	fi
	mv -f "$OUT/$n.tmp" "$OUT/$n"
}

# script NAME INTERPRETER PACKAGE [-r] ARGS...: a launcher script; -r: it
# prints "ready" itself (for a program that does not).
script() {
	n=$1 interp=$2 pkg=$3
	shift 3
	need "$interp" "$pkg" "$n" || return 0
	ready=""
	if [ "$1" = -r ]; then
		ready="echo ready
"
		shift
	fi
	want="#!/bin/sh
${ready}exec $interp $*"
	if [ -f "$OUT/$n" ] && [ "$(cat "$OUT/$n")" = "$want" ]; then
		return 0
	fi
	printf '%s\n' "$want" >"$OUT/$n.tmp"
	chmod 755 "$OUT/$n.tmp"
	mv -f "$OUT/$n.tmp" "$OUT/$n"
}

CC=${CC:-gcc}
if need /usr/bin/gcc gcc "the C programs"; then
	fresh static_threads "$SRC/static_threads.c" ||
		build static_threads gcc -static -O2 -g -pthread -o "$OUT/static_threads.tmp" \
			"$SRC/static_threads.c"
	fresh nounwind "$SRC/nounwind.c" ||
		build nounwind gcc -O1 -g -fno-asynchronous-unwind-tables -fno-unwind-tables \
			-fno-omit-frame-pointer -pthread -o "$OUT/nounwind.tmp" "$SRC/nounwind.c"
	for n in churn threads1000 leader_exit; do
		fresh $n "$SRC/$n.c" ||
			build $n gcc -O2 -g -pthread -o "$OUT/$n.tmp" "$SRC/$n.c"
	done
fi
if need /usr/bin/g++ g++ cxx_exc; then
	fresh cxx_exc "$SRC/cxx_exc.cc" ||
		build cxx_exc g++ -O2 -g -pthread -o "$OUT/cxx_exc.tmp" "$SRC/cxx_exc.cc"
fi
if need /usr/bin/go golang-go go_threads; then
	mkdir -p "$OUT/.go"
	fresh go_threads "$SRC/go_threads.go" ||
		build go_threads env GO111MODULE=off GOPATH="$OUT/.go" GOCACHE="$OUT/.go/cache" \
			GOFLAGS= CGO_ENABLED=0 /usr/bin/go build -o "$OUT/go_threads.tmp" \
			"$SRC/go_threads.go"
fi
if need /usr/bin/rustc rustc rust_threads; then
	fresh rust_threads "$SRC/rust_threads.rs" ||
		build rust_threads /usr/bin/rustc -O -g -C debuginfo=1 -o "$OUT/rust_threads.tmp" \
			"$SRC/rust_threads.rs"
fi
script busybox /bin/busybox busybox-static -r sleep 100000
script py_threads /usr/bin/python3 python3 "$SRC/py_threads.py"
script node_workers /usr/bin/node nodejs "$SRC/node_workers.js"
rm -f "$LOG"
exit $((missing * 2))
