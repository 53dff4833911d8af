#!/bin/sh
# gdb as the client of Debian's gdbserver and of dbg-server, in the same
# run, rounds alternating between the two (medians of ROUNDS, default 3):
#   dump     dump binary memory of a 100 MiB buffer (attached)
#   threads  attach to a 1,000-thread process and info threads (server
#            start to gdb's answer)
#   hits     1,000 breakpoint hits, each a continue
#   contend  64-byte reads by gdb (non-stop, every thread running) while a
#            target thread mprotect()s 1 GiB in a loop: p99 per read (the
#            kernel's mmap_lock; the patched kernel of kernel/ removes the
#            wait)
# Usage: bench/server-bench.sh DBG_SERVER TARGET [ROUNDS]
set -eu
server=$1
target=$2
rounds=${3:-3}
command -v gdbserver > /dev/null || { echo "no gdbserver (scripts/deps.sh)"; exit 77; }
tmp=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { python3 -c 'import time; print(time.monotonic())'; }
start_target() { # args... -> sets tpid, tinfo
	rm -f "$tmp/t.out"
	"$target" "$@" > "$tmp/t.out" &
	tpid=$!
	pids="$pids $tpid"
	for _ in $(seq 1 600); do grep -q ready "$tmp/t.out" && break; sleep 0.05; done
	tinfo=$(cat "$tmp/t.out")
}
stop_target() { kill -9 "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; }
srv() { # which -> command
	if [ "$1" = gdbserver ]; then echo gdbserver; else echo "$server"; fi
}
run_server() { # which port args... (background; waits for Listening)
	w=$1; p=$2; shift 2
	rm -f "$tmp/s.out"
	$(srv "$w") --once "127.0.0.1:$p" "$@" > "$tmp/s.out" 2>&1 &
	spid=$!
	pids="$pids $spid"
	for _ in $(seq 1 600); do grep -q 'Listening on port' "$tmp/s.out" && break; sleep 0.02; done
}
gdbq() { timeout 600 gdb -nx -batch -ex 'set sysroot' -ex 'set width 0' -ex 'set height 0' "$@" 2>&1; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

dump_once() { # which -> seconds
	start_target big 100
	addr=$(echo "$tinfo" | awk '{print $3}')
	p=$(port); run_server "$1" "$p" --attach "$tpid"
	gdbq -ex "target remote 127.0.0.1:$p" -ex 'python import time; t0 = time.monotonic()' \
		-ex "dump binary memory $tmp/dump.bin $addr $addr+100*1024*1024" \
		-ex 'python print("T %.4f" % (time.monotonic() - t0))' -ex detach | awk '/^T /{print $2}'
	wait "$spid" 2>/dev/null || true
	[ "$(stat -c %s "$tmp/dump.bin")" = 104857600 ] || echo "dump: short file" >&2
	rm -f "$tmp/dump.bin"
	stop_target
}
threads_once() {
	start_target threads 1000
	p=$(port)
	t0=$(now)
	run_server "$1" "$p" --attach "$tpid"
	n=$(gdbq -ex "target remote 127.0.0.1:$p" -ex 'info threads' -ex detach | grep -c 'Thread ')
	t1=$(now)
	wait "$spid" 2>/dev/null || true
	[ "$n" -ge 1001 ] || echo "threads: gdb saw $n" >&2
	stop_target
	python3 -c "print('%.4f' % ($t1 - $t0))"
}
hits_once() {
	p=$(port); run_server "$1" "$p" "$target" hits 1000
	gdbq -ex "target remote 127.0.0.1:$p" -ex 'break hit' -ex continue \
		-ex 'python import time; t0 = time.monotonic()' \
		-ex 'python [gdb.execute("continue", to_string=True) for i in range(1000)]' \
		-ex 'python print("T %.4f" % (time.monotonic() - t0))' -ex kill "$target" | awk '/^T /{print $2}'
	wait "$spid" 2>/dev/null || true
}
contend_once() { # -> p99 in ms
	start_target mprotect 1024
	addr=$(echo "$tinfo" | awk '{print $3}')
	p=$(port); run_server "$1" "$p" --attach "$tpid"
	cat > "$tmp/c.py" <<PY
import time
inf = gdb.selected_inferior()
# non-stop: the protector thread runs while gdb reads
ts = []
for i in range(2000):
    t0 = time.monotonic()
    inf.read_memory($addr + (i % 64) * 64, 64)
    ts.append(time.monotonic() - t0)
ts.sort()
print("T %.4f" % (ts[int(len(ts) * 0.99)] * 1000))
PY
	gdbq -ex 'set non-stop on' -ex "target remote 127.0.0.1:$p" -ex 'continue -a &' \
		-ex "source $tmp/c.py" -ex 'interrupt -a' -ex 'shell sleep 0.2' -ex detach | awk '/^T /{print $2}'
	wait "$spid" 2>/dev/null || true
	stop_target
}

row() { # name unit fn
	for w in gdbserver dbg-server; do : > "$tmp/$w.$1"; done
	for _ in $(seq 1 "$rounds"); do
		for w in gdbserver dbg-server; do "$3" "$w" >> "$tmp/$w.$1"; done
	done
	g=$(median < "$tmp/gdbserver.$1")
	d=$(median < "$tmp/dbg-server.$1")
	python3 -c "g, d = $g, $d; print('| %-40s | %10.3f %s | %10.3f %s | %6.1fx |' % ('$1', g, '$2', d, '$2', g / d if d else 0))"
}
echo "| what (median of $rounds) | gdbserver | dbg-server | speedup |"
echo "|---|---|---|---|"
row "dump binary memory 100 MiB" s dump_once
row "attach 1,000 threads + info threads" s threads_once
row "1,000 breakpoint hits (continue)" s hits_once
row "64-byte read, mprotect loop, p99" ms contend_once
