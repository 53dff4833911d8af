#!/bin/sh
# dbg-server debugging several processes at once (doc/server.md,
# "processes"), gdb 13 over extended-remote; every session is run through
# Debian's gdbserver first, so the expectations are checked against the
# reference, then through dbg-server:
#  1. detach-on-fork off, schedule-multiple off: the parent stops in
#     in_parent, the child (inferior 2, resumed alone) in in_child; both
#     are live; the child is killed (vKill;PID) and the parent runs to its
#     exit, which says how the child ended (killed: code 29).
#  2. schedule-multiple on: both processes run at once and each hits its
#     breakpoint three times (stops of one while the other runs: all-stop
#     across processes, events kept and reported in turn); the child exits
#     (W;process:CHILD), the parent runs on to exit code 17 (not checked
#     with gdbserver, which leaves the parent running at that exit).
#  3. a second process attached (vAttach) while the first is stopped at a
#     breakpoint: both inferiors' threads listed, a backtrace in the
#     attached one, it is detached (D;PID) and runs on, and the first runs
#     to its exit.
# Usage: server_multi.sh DBG_SERVER SRV_MULTI SRV_TARGET
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
set -eu
server=$1
multi=$2
target=$3
command -v gdbserver > /dev/null || { echo "SKIP: no gdbserver (scripts/deps.sh)"; exit 77; }
command -v gdb > /dev/null || { echo "SKIP: no gdb"; exit 77; }
tmp=$(mktemp -d)
tpid=
spid=
cleanup() {
	[ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null || true
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_listen() { # log
	for _ in $(seq 1 100); do
		grep -q 'Listening on port' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server did not listen:"; cat "$1"; return 1
}

fail() { # what out
	echo "FAIL ($which): $1"
	echo "---- gdb:"; cat "$2"
	echo "---- server:"; cat "$2.server"
	exit 1
}

# session SERVER OUT GDB-COMMANDS...: one gdb over extended-remote to a
# fresh --multi server, the commands in a file.
session() {
	srv=$1 out=$2
	shift 2
	port=$(free_port)
	"$srv" --multi "127.0.0.1:$port" > "$out.server" 2>&1 &
	spid=$!
	wait_listen "$out.server"
	printf '%s\n' 'set width 0' 'set height 0' 'set confirm off' "$@" > "$out.cmds"
	timeout 120 gdb -nx -batch -ex 'set sysroot' \
		-ex "target extended-remote 127.0.0.1:$port" \
		-ex "set remote exec-file $multi" -ex "file $multi" \
		-x "$out.cmds" > "$out" 2>&1 || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	spid=
}

has() { # out regex what
	grep -Eq "$2" "$1" || fail "$3" "$1"
}
count() { # out regex n what
	n=$(grep -Ec "$2" "$1" || true)
	[ "$n" -eq "$3" ] || fail "$4 ($n, not $3)" "$1"
}

for which in gdbserver dbg-server; do
	srv=gdbserver
	[ "$which" = dbg-server ] && srv=$server

	# ---- 1. one process at a time, the child killed
	o=$tmp/1.$which
	session "$srv" "$o" 'set detach-on-fork off' 'set schedule-multiple off' \
		'break in_parent' 'break in_child' 'run' \
		'inferior 2' 'continue' 'info inferiors' \
		'kill inferior 2' 'inferior 1' 'delete' 'continue'
	has "$o" '^\[New inferior 2 \(process [0-9]+\)\]' "1: the fork child is inferior 2"
	has "$o" 'Thread 1\.1 .* hit Breakpoint 1\.1, in_parent \(i=0\)' "1: the parent's breakpoint"
	has "$o" 'Thread 2\.1 .* hit Breakpoint 2\.2, in_child \(i=0\)' "1: the child's breakpoint"
	count "$o" '^[ *] [12] +process [0-9]+ ' 2 "1: both inferiors live"
	has "$o" '^\[Inferior 1 \(process [0-9]+\) exited with code 035\]' \
		"1: the parent's exit (29: its child was killed)"

	# ---- 2. both at once
	o=$tmp/2.$which
	session "$srv" "$o" 'set detach-on-fork off' 'set schedule-multiple on' \
		'break in_parent' 'break in_child' 'run' \
		'continue' 'continue' 'continue' 'continue' 'continue' \
		'delete' 'continue' 'inferior 1' 'continue'
	count "$o" 'Thread 1\.1 .* hit Breakpoint 1\.1, in_parent \(i=[0-2]\)' 3 "2: parent hits"
	count "$o" 'Thread 2\.1 .* hit Breakpoint 2\.2, in_child \(i=[0-2]\)' 3 "2: child hits"
	has "$o" '^\[Inferior 2 \(process [0-9]+\) exited with code 07\]' "2: the child's exit"
	# gdbserver 13 reports the child's exit without stopping the parent
	# (gdb then finds its registers unavailable); dbg-server stops every
	# process first, so the parent is continued from its waitpid to its end
	[ "$which" = gdbserver ] ||
		has "$o" '^\[Inferior 1 \(process [0-9]+\) exited with code 021\]' "2: the parent's exit"

	# ---- 3. a second process attached
	"$target" block > "$tmp/target.out" &
	tpid=$!
	for _ in $(seq 1 100); do grep -q ready "$tmp/target.out" && break; sleep 0.1; done
	grep -q ready "$tmp/target.out" || { echo "target did not start"; exit 1; }
	o=$tmp/3.$which
	session "$srv" "$o" 'break in_parent' 'run' \
		'add-inferior' 'inferior 2' "file $target" "attach $tpid" \
		'info threads' 'bt' 'detach' 'inferior 1' 'delete' 'continue'
	has "$o" '^Breakpoint 1, in_parent \(i=0\)' "3: the first process stopped"
	has "$o" "^\\* 2\\.1 +Thread $tpid\\.$tpid \"srv_target\"" "3: the attached process current"
	count "$o" "^[ *] +2\\.[0-9]+ +Thread $tpid\\." 4 "3: the attached process's 4 threads"
	count "$o" '^[ *] +1\.1 +Thread [0-9]+\.' 1 "3: the first process's thread"
	has "$o" '#[0-9]+ .* main \(' "3: a backtrace in the attached process"
	has "$o" "^\\[Inferior 2 \\(process $tpid\\) detached\\]" "3: the detach"
	has "$o" '^\[Inferior 1 \(process [0-9]+\) exited with code 021\]' "3: the first one's exit"
	kill -0 "$tpid" 2>/dev/null || fail "3: the detached process died" "$o"
	kill -9 "$tpid"
	wait "$tpid" 2>/dev/null || true
	tpid=
	echo "ok: $which"
done
