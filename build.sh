#!/bin/sh
# The two Quick-start commands (README):
#   ./build.sh demo   install what is missing, build, and print every
#                     thread's stack of the bundled demo target (dbg-stack)
#   ./build.sh test   install what is missing, build, and run the whole
#                     suite: a -Werror build, the same under ASan+UBSan, a
#                     compile check of the kernel series in the configs no
#                     guest boots, and in QEMU: the suite on the patched
#                     kernel, the baseline and contention benchmark on the
#                     stock one, and 5 minutes of stress on the debug
#                     (KASAN, lockdep, lockup detectors) kernel
# and the benchmarks:
#   ./build.sh bench [mem|stack|all] [args]  the memory benchmark
#                     (doc/memory.md) and the unwinding one (doc/unwinding.md)
#   ./build.sh kernel the kernel harness alone (doc/kernel.md); variants
#                     may follow
#   ./build.sh gdb-testsuite [--board B] [files]  gdb's testsuite against
#                     gdbserver and dbg-server, side by side (doc/server.md)
set -eu
cd "$(dirname "$0")"
here=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

build() { # build DIR [cmake args...]
	dir=$1; shift
	cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$dir.configure.log" 2>&1 ||
		{ cat "$dir.configure.log"; exit 1; }
	cmake --build "$dir" -j "$jobs" > "$dir.build.log" 2>&1 ||
		{ tail -n 50 "$dir.build.log"; exit 1; }
}

case "${1:-}" in
demo)
	scripts/deps.sh
	mkdir -p build
	build build
	target=build/examples/demo-target
	"$target" > build/demo-target.pid &
	tpid=$!
	trap 'kill $tpid 2>/dev/null || true' EXIT
	while [ ! -s build/demo-target.pid ]; do sleep 0.05; done
	sleep 0.2 # let its threads start
	build/examples/dbg-stack "$tpid"
	;;
test)
	t_start=$(date +%s)
	step() { echo "== $1 [$(( $(date +%s) - t_start )) s]"; }
	scripts/deps.sh kernel
	mkdir -p build build-asan
	# The three kernels build (niced) while the userspace suite runs,
	# which mostly waits on its targets; QEMU starts once all are built,
	# so nothing competes with the contention benchmark in the guests.
	( for v in stock patched debug; do
		nice kernel/harness/build-kernel.sh "$v" || exit 1
	  done
	  # The configurations no guest boots (PARAVIRT off, PREEMPT_RT,
	  # PER_VMA_LOCK off): the series' objects compiled with W=1.
	  nice kernel/harness/build-check.sh || exit 1 ) > build/kernels.log 2>&1 &
	kernels=$!
	step "the suite, -Werror build"
	build build -DDBG_WERROR=ON
	(cd build && ctest --output-on-failure -j "$jobs")
	step "the same suite under ASan+UBSan"
	build build-asan -DDBG_WERROR=ON -DDBG_SANITIZE=ON -DDBG_BUILD_BENCH=OFF
	# gdb's testsuite against both servers runs once, in the build above:
	# it judges protocol behaviour, and the server's own tests
	# (server_fuzz, server_gdb, ...) run here under the sanitizers.
	(cd build-asan && ctest --output-on-failure -j "$jobs" -E 'install_consumers|fuzz_maps_parser|server_gdb_testsuite')
	step "waiting for the kernel builds"
	wait "$kernels" || { tail -n 30 build/kernels.log; exit 1; }
	step "QEMU: stock 6.12 (baseline), patched (whole suite), debug kernel (stress)"
	kernel/harness/run.sh build
	step "done"
	;;
bench)
	shift
	what=${1:-all}
	[ $# -gt 0 ] && shift
	scripts/deps.sh
	mkdir -p build
	build build
	case $what in
	mem) build/bench/mem-bench "$@" ;;
	stack) build/bench/stack-bench "$@" ;;
	server) bench/server-bench.sh build/examples/dbg-server build/bench/server-bench-target "$@" ;;
	all) build/bench/mem-bench && build/bench/stack-bench ;;
	*) echo "usage: $0 bench [mem|stack|server|all] [args]" >&2; exit 2 ;;
	esac
	;;
gdb-testsuite)
	# gdb's own testsuite against gdbserver and dbg-server (doc/server.md)
	shift
	scripts/deps.sh
	mkdir -p build
	build build
	scripts/gdb-testsuite.sh build "$@"
	;;
kernel)
	shift
	scripts/deps.sh kernel
	mkdir -p build
	build build -DDBG_WERROR=ON
	kernel/harness/run.sh build "$@"
	;;
*)
	echo "usage: $0 demo|test|bench|kernel|gdb-testsuite" >&2
	exit 2
	;;
esac
