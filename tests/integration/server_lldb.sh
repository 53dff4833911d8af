#!/bin/sh
# lldb (Debian's lldb 14) as a client of dbg-server over gdb-remote:
#  1. attach (dbg-server --attach PID) to a blocked process: bt, register
#     read, memory read of a known table, detach; the process runs on.
#  2. run a program that puts known bytes in zmm5, ymm3 and k2: breakpoint
#     on the label after the loads, continue, register read of them (and
#     a zmm write read back), bt, kill.
# Usage: server_lldb.sh DBG_SERVER SRV_TARGET
set -eu
# An ASan build of the target: LeakSanitizer cannot run in a traced process.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
server=$1
target=$2
command -v lldb > /dev/null || { echo "SKIP: no lldb (scripts/deps.sh)"; exit 77; }
tmp=$(mktemp -d)
tpid=
cleanup() {
	[ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_listen() {
	for _ in $(seq 1 100); do
		grep -q 'Listening on port' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server did not listen:"; cat "$1"; return 1
}
want() { # file pattern...
	f=$1; shift
	for p in "$@"; do
		grep -q -- "$p" "$f" || { echo "FAIL: '$p' missing in:"; cat "$f"; exit 1; }
	done
}

# ---- 1. attach
"$target" block > "$tmp/target.out" &
tpid=$!
for _ in $(seq 1 100); do grep -q ready "$tmp/target.out" && break; sleep 0.1; done
port=$(free_port)
"$server" --once --attach "127.0.0.1:$port" "$tpid" > "$tmp/a.server" 2>&1 &
spid=$!
wait_listen "$tmp/a.server"
timeout 60 lldb -b -o "gdb-remote 127.0.0.1:$port" -o 'thread list' -o 'bt all' \
	-o 'register read rip rsp' -o 'memory read --format x --size 8 --count 8 &table' \
	-o 'process detach' "$target" > "$tmp/a.lldb" 2>&1 || { cat "$tmp/a.lldb"; exit 1; }
wait "$spid" || true
want "$tmp/a.lldb" 'block_here' 'worker(arg=0x0000000000000001)' 'rip = 0x' 'rsp = 0x' \
	'0x0000000000000001 0x0000000000000002' '0x0000000000000015 0x0000000000000022'
[ "$(grep -c 'tid = ' "$tmp/a.lldb")" -ge 4 ] || { echo "FAIL: not 4 threads"; cat "$tmp/a.lldb"; exit 1; }
kill -0 "$tpid" || { echo "FAIL: target died after detach"; exit 1; }
kill -9 "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=

# ---- 2. run, vector registers
"$target" vec && rc=0 || rc=$?
if [ "$rc" = 77 ]; then
	echo "PASS (attach; no AVX-512 on this CPU: vector part skipped)"
	exit 0
fi
port=$(free_port)
"$server" --once "127.0.0.1:$port" "$target" vec > "$tmp/r.server" 2>&1 &
spid=$!
wait_listen "$tmp/r.server"
z='{0x3f 0x3e 0x3d 0x3c 0x3b 0x3a 0x39 0x38 0x37 0x36 0x35 0x34 0x33 0x32 0x31 0x30 0x2f 0x2e 0x2d 0x2c 0x2b 0x2a 0x29 0x28 0x27 0x26 0x25 0x24 0x23 0x22 0x21 0x20 0x1f 0x1e 0x1d 0x1c 0x1b 0x1a 0x19 0x18 0x17 0x16 0x15 0x14 0x13 0x12 0x11 0x10 0x0f 0x0e 0x0d 0x0c 0x0b 0x0a 0x09 0x08 0x07 0x06 0x05 0x04 0x03 0x02 0x01 0x00}'
timeout 60 lldb -b -o "gdb-remote 127.0.0.1:$port" -o 'breakpoint set --skip-prologue false -n vec_loaded' -o 'continue' \
	-o 'bt' -o 'register read zmm5 ymm3 xmm3 k2' -o "register write zmm20 \"$z\"" \
	-o 'register read zmm20 xmm20' -o 'kill' "$target" > "$tmp/r.lldb" 2>&1 || { cat "$tmp/r.lldb"; exit 1; }
wait "$spid" || true
seq64=$(python3 -c 'print(" ".join("0x%02x" % i for i in range(64)))')
seq32=$(python3 -c 'print(" ".join("0x%02x" % i for i in range(32)))')
seq16=$(python3 -c 'print(" ".join("0x%02x" % i for i in range(16)))')
want "$tmp/r.lldb" 'stop reason = breakpoint 1' 'vec_loaded' 'frame #1' \
	"zmm5 = {$seq64}" "ymm3 = {$seq32}" "xmm3 = {$seq16}" 'k2 = 0x0000000000005a5a' \
	"zmm20 = $z" 'xmm20 = {0x3f 0x3e 0x3d 0x3c 0x3b 0x3a 0x39 0x38 0x37 0x36 0x35 0x34 0x33 0x32 0x31 0x30}'
echo "PASS: lldb attach, breakpoint, continue, bt, registers up to zmm, memory"
