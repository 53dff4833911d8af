#!/bin/sh
# Breakpoint conditions evaluated by the server, gdb 13 the client: through
# Debian's gdbserver first (the expectations hold for the reference), then
# dbg-server, the same session (tests/server/srv_cond.c):
#   break cond_hit if i == 7; break cond_thr if j == 150 && cond_var == 19
# gdb must stop once at cond_hit (i = 7), then four times at cond_thr
# (j = 150, one stop per thread), and the program must end with 32 (all
# 800 calls made). The packets must show that the condition went to the
# server (Z0 ...;X) and that the server reported exactly those stops: one
# stop reply at cond_hit's address, and at cond_thr's at least the four
# and at most 100 (gdbserver sends a few more: hits of threads it stopped
# on the way, which gdb finds false; dbg-server evaluates those too and
# must send exactly 4). With the server ignoring the
# conditions gdb evaluates them itself and the user sees the same, but
# the server sends 20 and 800.
# Usage: server_cond_gdb.sh DBG_SERVER SRV_COND
set -eu
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
server=$1
target=$2
command -v gdb > /dev/null || { echo "SKIP: no gdb"; exit 77; }
command -v gdbserver > /dev/null || { echo "SKIP: no gdbserver (scripts/deps.sh)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the little-endian hex of an address, as in a stop reply's expedited pc
le() { python3 -c "import struct,sys; print(struct.pack('<Q', int(sys.argv[1], 16)).hex().rstrip('0'))" "$1"; }

session() { # name most-stop-replies-at-cond_thr server-command...
	name=$1
	most=$2
	shift 2
	timeout 240 gdb -nx -batch \
		-ex 'set debug remote 1' \
		-ex "target remote | $* $target" \
		-ex 'set breakpoint condition-evaluation target' \
		-ex 'break cond_hit if i == 7' \
		-ex 'break cond_thr if j == 150 && cond_var == 19' \
		-ex 'continue' -ex 'print i' \
		-ex 'continue' -ex 'print j' -ex 'continue' -ex 'print j' \
		-ex 'continue' -ex 'print j' -ex 'continue' -ex 'print j' \
		-ex 'continue' \
		"$target" > "$tmp/$name.out" 2> "$tmp/$name.log" || true
	out=$tmp/$name.out
	log=$tmp/$name.log
	bad=
	grep -q 'Target does not support breakpoint condition evaluation' "$out" "$log" &&
		bad="$bad gdb-says-no-target-conditions"
	[ "$(grep -c 'Breakpoint 1, cond_hit (i=7)' "$out")" = 1 ] || bad="$bad cond_hit-stops"
	grep -q '^\$1 = 7$' "$out" || bad="$bad print-i"
	[ "$(grep -c 'Breakpoint 2, cond_thr (j=150)' "$out")" = 4 ] || bad="$bad cond_thr-stops"
	[ "$(grep -c '^\$[2-5] = 150$' "$out")" = 4 ] || bad="$bad print-j"
	grep -q 'exited with code 040' "$out" || bad="$bad exit-code"
	grep -q 'Sending packet: \$Z0,[0-9a-f]*,1;X' "$log" || bad="$bad no-condition-in-Z0"
	# the breakpoints' addresses (after the prologue), as gdb set them
	hit=$(le "$(sed -n 's/^Breakpoint 1 at 0x\([0-9a-f]*\):.*/\1/p' "$out")")
	thr=$(le "$(sed -n 's/^Breakpoint 2 at 0x\([0-9a-f]*\):.*/\1/p' "$out")")
	nh=$(grep 'Packet received: T05' "$log" | grep -c ";10:$hit" || true)
	nt=$(grep 'Packet received: T05' "$log" | grep -c ";10:$thr" || true)
	[ "$nh" = 1 ] || bad="$bad stop-replies-at-cond_hit=$nh"
	# gdbserver also reports some hits of threads it stopped on the way,
	# which gdb then finds false: a few more than 4, not 800
	[ "$nt" -ge 4 ] && [ "$nt" -le "$most" ] || bad="$bad stop-replies-at-cond_thr=$nt"
	if [ -n "$bad" ]; then
		echo "FAIL ($name):$bad"
		sed -n '1,80p' "$out"
		grep -E 'Sending packet: \$Z|Packet received: T' "$log" | head -40
		return 1
	fi
	echo "ok ($name): 1 + 4 stops, condition sent with Z0, $nh + $nt stop replies"
}

session gdbserver 100 gdbserver -
# dbg-server drops a false hit met while stopping the others: exactly 4
session dbg-server 4 "$server" stdio
echo "PASS: breakpoint conditions evaluated by the server"
