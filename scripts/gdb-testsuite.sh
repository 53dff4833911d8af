#!/bin/sh
# gdb's own testsuite (gdb 13, Debian's gdb-source) run against Debian's
# gdbserver and against dbg-server, side by side, in the same run:
#   scripts/gdb-testsuite.sh BUILD_DIR [--board native-gdbserver|native-extended-gdbserver] [files...]
# (./build.sh gdb-testsuite [files...] builds first). Files are relative to
# gdb/testsuite, e.g. gdb.server/attach-flag.exp; the default is the set
# doc/server.md reports. The sources are unpacked once into a cache outside
# the clone ($DBG_GDBTEST_CACHE, default $XDG_CACHE_HOME/libdbg-gdbtest or
# ~/.cache/libdbg-gdbtest); each run's logs go to its own directory there.
# Prints, for each server: passes, unexpected failures, time, and the tests
# that pass with one and not with the other.
set -eu
build=$(cd "${1:?usage: $0 BUILD_DIR [--board B] [files...]}" && pwd)
shift
board=native-gdbserver
check=0
while [ $# -gt 0 ]; do
	case $1 in
	--board) board=$2; shift 2 ;;
	# --check: exit 1 when a gdb.server test passes with gdbserver only
	--check) check=1; shift ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
server=$build/examples/dbg-server
[ -x "$server" ] || { echo "no $server: build first" >&2; exit 1; }
for f in /usr/src/gdb.tar.xz /usr/bin/gdbserver /usr/bin/runtest /usr/bin/gdb; do
	[ -e "$f" ] || { echo "missing $f (scripts/deps.sh installs gdb-source gdbserver dejagnu)" >&2; exit 77; }
done
cache=${DBG_GDBTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libdbg-gdbtest}
mkdir -p "$cache"
src=$cache/gdb
stamp=$cache/unpacked.stamp
if [ ! -f "$stamp" ] || [ /usr/src/gdb.tar.xz -nt "$stamp" ]; then
	echo "gdb-testsuite: unpacking /usr/src/gdb.tar.xz into $cache"
	rm -rf "$src"
	tar xJf /usr/src/gdb.tar.xz -C "$cache"
	touch "$stamp"
fi
ts=$src/gdb/testsuite
[ -d "$ts" ] || { echo "no $ts after unpacking" >&2; exit 1; }
objdir=$cache/obj
if [ ! -f "$objdir/Makefile" ]; then
	mkdir -p "$objdir"
	(cd "$objdir" && "$ts/configure" > configure.log 2>&1) ||
		{ cat "$objdir/configure.log"; exit 1; }
fi
if [ $# -eq 0 ]; then
	set -- $(cd "$ts" && ls gdb.server/*.exp) \
		gdb.base/break.exp gdb.base/step-test.exp gdb.base/watchpoint.exp \
		gdb.base/display.exp gdb.base/signals.exp gdb.base/catch-syscall.exp
fi
# A directory (gdb.server) stands for its .exp files.
files=
for f in "$@"; do
	if [ -d "$ts/$f" ]; then
		files="$files $(cd "$ts" && ls "$f"/*.exp | tr '\n' ' ')"
	else
		files="$files $f"
	fi
done
set -- $files
run=$cache/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"
# One wrapper per server so that the board's GDBSERVER names a program.
printf '#!/bin/sh\nexec %s "$@"\n' /usr/bin/gdbserver > "$run/gdbserver.sh"
printf '#!/bin/sh\nexec %s "$@"\n' "$server" > "$run/dbg-server.sh"
chmod +x "$run/gdbserver.sh" "$run/dbg-server.sh"
for which in gdbserver dbg-server; do
	out=$run/$which
	mkdir -p "$out"
	cp "$objdir/site.exp" "$out/" 2>/dev/null || (cd "$objdir" && make site.exp > /dev/null && cp site.exp "$out/")
	t0=$(date +%s)
	(cd "$out" && timeout "${DBG_GDBTEST_TIMEOUT:-3600}" runtest --tool gdb --srcdir "$ts" \
		--target_board="$board" GDB=/usr/bin/gdb GDBSERVER="$run/$which.sh" \
		"$@" > runtest.out 2>&1) || true
	echo $(( $(date +%s) - t0 )) > "$out/time"
done
# Kill what a timed-out test may have left behind (only our own servers).
summary() { # dir
	p=$(grep -c '^PASS: ' "$1/gdb.sum" 2>/dev/null || true)
	f=$(grep -c '^FAIL: ' "$1/gdb.sum" 2>/dev/null || true)
	printf '%-11s passes %5s  unexpected failures %4s  time %5s s\n' "$2" "${p:-0}" "${f:-0}" "$(cat "$1/time")"
}
echo "== gdb testsuite, board $board, $# files; logs in $run"
summary "$run/gdbserver" gdbserver
summary "$run/dbg-server" dbg-server
grep '^PASS: ' "$run/gdbserver/gdb.sum" | sort -u > "$run/pass.gdbserver" || true
grep '^PASS: ' "$run/dbg-server/gdb.sum" | sort -u > "$run/pass.dbg-server" || true
echo "-- pass with gdbserver, not with dbg-server:"
comm -23 "$run/pass.gdbserver" "$run/pass.dbg-server" | sed 's/^PASS: /  /'
echo "-- pass with dbg-server, not with gdbserver:"
comm -13 "$run/pass.gdbserver" "$run/pass.dbg-server" | sed 's/^PASS: /  /'
if [ "$check" = 1 ]; then
	bad=$(comm -23 "$run/pass.gdbserver" "$run/pass.dbg-server" | grep -c '^PASS: gdb.server/' || true)
	if [ "$bad" -gt 0 ]; then
		echo "FAIL: $bad gdb.server tests pass with gdbserver only"
		exit 1
	fi
	[ -s "$run/pass.dbg-server" ] || { echo "FAIL: no passes with dbg-server"; exit 1; }
fi
