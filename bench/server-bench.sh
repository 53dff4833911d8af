#!/bin/sh
# gdb as the client of Debian's gdbserver and of dbg-server, in the same
# run, rounds alternating between the two (medians of ROUNDS, default 3;
# the speedup is the median of each round's ratio):
#   dump     dump binary memory of a 100 MiB buffer (attached)
#   zeros    the same of zero-filled memory (run-length encoded replies)
#   threads  attach to a 1,000-thread process and info threads (server
#            start to gdb's answer)
#   hits     1,000 breakpoint hits, each a continue
#   contend  64-byte reads by gdb (non-stop, every thread running) while a
#            target thread mprotect()s 1 GiB in a loop: p99 per read (the
#            kernel's mmap_lock; the patched kernel of kernel/ removes the
#            wait)
# For each row and server it measures, over the same interval, the wall
# time, gdb's own CPU and the server's, and how long both waited for a
# CPU (/proc/PID/task/*/schedstat: the machine's load). What no
# server can take away is the floor: gdb's CPU plus, for each packet gdb
# sends for the row (the same with both servers, counted with `set debug
# remote 1`: 9 a breakpoint hit, 4 a thread for info threads), the part
# of the quickest round trip of a 1-byte `m` in the run that is not gdb's
# CPU (a server's minimal read/poll/write and the two wake-ups). "best"
# is gdbserver's time over that floor: the speedup of a server that did
# nothing else (the target's own traps and ptrace cost more); "CPU:" the
# same with gdbserver's time taken as the CPU gdb and gdbserver spent,
# what that time would at least be on an idle machine.
# Usage: bench/server-bench.sh DBG_SERVER TARGET [ROUNDS [ROW...]]
#   ROW: dump zeros threads hits contend (default all); the raw samples stay in
#   $SERVER_BENCH_KEEP if that names a directory.
set -eu
server=$1
target=$2
rounds=${3:-3}
shift 2
[ $# -gt 0 ] && shift
rows=${*:-dump zeros threads hits contend}
command -v gdbserver > /dev/null || { echo "no gdbserver (scripts/deps.sh)"; exit 77; }
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "${SERVER_BENCH_KEEP:-}" ] && [ -d "$SERVER_BENCH_KEEP" ]; then
		cp "$tmp"/*.samples "$SERVER_BENCH_KEEP"/ 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { python3 -c 'import time; print(time.monotonic())'; }
start_target() { # args... -> sets tpid, tinfo
	rm -f "$tmp/t.out"
	: > "$tmp/t.out"
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
	: > "$tmp/s.out"
	$(srv "$w") --once "127.0.0.1:$p" "$@" > "$tmp/s.out" 2>&1 &
	spid=$!
	pids="$pids $spid"
	for _ in $(seq 1 600); do grep -q 'Listening on port' "$tmp/s.out" && break; sleep 0.02; done
}
gdbq() { timeout 600 gdb -nx -batch -ex 'set sysroot' -ex 'set width 0' -ex 'set height 0' \
	-ex "source $tmp/m.py" "$@" 2>&1; }
# m_start / m_stop in gdb: the interval's wall time, both CPUs and the
# time gdb and the server waited for a CPU (the machine's load), as
# "M wall gdb_cpu server_cpu waited" (seconds; schedstat, every thread).
cat > "$tmp/m.py" <<'PY'
import glob, os, time
def _sched(pid):
    r = [0.0, 0.0]
    for f in glob.glob("/proc/%s/task/*/schedstat" % pid):
        try:
            x = open(f).read().split()
        except OSError:
            continue
        r[0] += int(x[0]) / 1e9
        r[1] += int(x[1]) / 1e9
    return r
def _srv():
    return _sched(os.environ.get("BENCH_SPID", "0"))
_m = []
def m_start():
    _m[:] = [time.monotonic(), _sched("self"), _srv()]
def m_res():
    g, s = _sched("self"), _srv()
    return (g[0] - _m[1][0], s[0] - _m[2][0], g[1] - _m[1][1] + s[1] - _m[2][1])
def m_stop(wall=None):
    g, s, w = m_res()
    print("M %.4f %.4f %.4f %.4f" % (time.monotonic() - _m[0] if wall is None else wall, g, s, w))
PY
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

dump_once() { # which [big|zeros] -> M line
	start_target "${2:-big}" 100
	addr=$(echo "$tinfo" | awk '{print $3}')
	p=$(port); run_server "$1" "$p" --attach "$tpid"
	BENCH_SPID=$spid gdbq -ex "target remote 127.0.0.1:$p" -ex 'python m_start()' \
		-ex "dump binary memory $tmp/dump.bin $addr $addr+100*1024*1024" \
		-ex 'python m_stop()' -ex detach | grep '^M '
	wait "$spid" 2>/dev/null || true
	[ "$(stat -c %s "$tmp/dump.bin")" = 104857600 ] || echo "dump: short file" >&2
	rm -f "$tmp/dump.bin"
	stop_target
}
threads_once() { # server start to gdb's answer; gdb's CPU is its whole life
	start_target threads 1000
	p=$(port)
	t0=$(now)
	run_server "$1" "$p" --attach "$tpid"
	BENCH_SPID=$spid BENCH_T0=$t0 gdbq -ex "target remote 127.0.0.1:$p" \
		-ex 'python m_start(); _m[1] = _m[2] = [0.0, 0.0]' -ex 'info threads' \
		-ex 'python m_stop(wall=time.monotonic() - float(os.environ["BENCH_T0"]))' \
		-ex detach > "$tmp/g.out"
	wait "$spid" 2>/dev/null || true
	n=$(grep -c 'Thread ' "$tmp/g.out")
	[ "$n" -ge 1001 ] || echo "threads: gdb saw $n" >&2
	grep '^M ' "$tmp/g.out"
	stop_target
}
hits_once() {
	p=$(port); run_server "$1" "$p" "$target" hits 1001 # the last continue a hit too, not the exit
	BENCH_SPID=$spid gdbq -ex "target remote 127.0.0.1:$p" -ex 'break hit' -ex continue \
		-ex 'python m_start()' \
		-ex 'python [gdb.execute("continue", to_string=True) for i in range(1000)]' \
		-ex 'python m_stop()' -ex kill "$target" | grep '^M '
	wait "$spid" 2>/dev/null || true
}
rtt_once() { # 2000 one-byte reads of a stopped target: a round trip
	start_target big 1
	addr=$(echo "$tinfo" | awk '{print $3}')
	p=$(port); run_server "$1" "$p" --attach "$tpid"
	BENCH_SPID=$spid gdbq -ex "target remote 127.0.0.1:$p" -ex 'python inf = gdb.selected_inferior()' \
		-ex 'python m_start()' -ex "python [inf.read_memory($addr + (i % 4096), 1) for i in range(5000)]" \
		-ex 'python m_stop()' -ex detach | grep '^M '
	wait "$spid" 2>/dev/null || true
	stop_target
}
contend_once() { # -> "M p99_ms gdb_cpu server_cpu waited p50_ms long"
	start_target mprotect 1024
	addr=$(echo "$tinfo" | awk '{print $3}')
	p=$(port); run_server "$1" "$p" --attach "$tpid"
	cat > "$tmp/c.py" <<PY
import time
inf = gdb.selected_inferior()
# non-stop: the protector thread runs while gdb reads
ts = []
m_start()
for i in range(2000):
    t0 = time.monotonic()
    inf.read_memory($addr + (i % 64) * 64, 64)
    ts.append(time.monotonic() - t0)
c, s, w = m_res()
ts.sort()
# reads that waited for an mprotect (over 1 ms), the median read
print("M %.4f %.4f %.4f %.4f %.4f %d" % (ts[int(len(ts) * 0.99)] * 1000, c, s, w,
      ts[len(ts) // 2] * 1000, sum(1 for t in ts if t > 0.001)))
PY
	BENCH_SPID=$spid gdbq -ex 'set non-stop on' -ex "target remote 127.0.0.1:$p" -ex 'continue -a &' \
		-ex "source $tmp/c.py" -ex 'interrupt -a' -ex 'shell sleep 0.2' -ex detach | grep '^M '
	wait "$spid" 2>/dev/null || true
	stop_target
}

col() { # file column -> median
	awk -v c="$2" '{print $c}' "$1" | median
}
row() { # name unit fn goal [packets [fn-arg]]
	arg=${6:-}
	for w in gdbserver dbg-server; do : > "$tmp/$3$arg.$w.samples"; done
	for _ in $(seq 1 "$rounds"); do
		for w in gdbserver dbg-server; do
			"$3" "$w" $arg >> "$tmp/$3$arg.$w.samples" || true
		done
	done
	g=$tmp/$3$arg.gdbserver.samples
	d=$tmp/$3$arg.dbg-server.samples
	if [ ! -s "$g" ] || [ ! -s "$d" ]; then
		echo "| $1 | no result | | | | | | | |"
		return
	fi
	python3 - "$1" "$2" "$4" "${5:-0}" "$rtt" "$g" "$d" <<'PY'
import sys
name, unit, goal = sys.argv[1:4]
packets, rtt = int(sys.argv[4]), float(sys.argv[5])
def load(path):
    return [[float(x) for x in l.split()[1:]] for l in open(path) if l.startswith("M ")]
G, D = load(sys.argv[6]), load(sys.argv[7])
def med(xs):
    xs = sorted(xs)
    return xs[(len(xs) - 1) // 2] if xs else 0.0
def col(rows, i):
    return med([r[i] for r in rows])
g, d = col(G, 0), col(D, 0)
# the speedup is the median of the rounds' own ratios: the two servers of
# a round ran one after the other, under about the same load
ratio = med([a[0] / b[0] for a, b in zip(G, D) if b[0] > 0])
common = "| %s | %.{0}f %s | %.{0}f %s | %.2fx | %s | %.2f / %.2f s | %.2f / %.2f s | %.1f / %.1f s |".format(
    1 if unit == "ms" else 2) % (name, g, unit, d, unit, ratio, goal, col(G, 1), col(D, 1),
                                   col(G, 2), col(D, 2), col(G, 3), col(D, 3))
if unit == "ms":
    # the contention row: the median read and the count of reads that
    # waited out an mprotect, which is what moves the p99
    print(common + " p50 %.3f / %.3f ms; reads over 1 ms: %d / %d of 2000 |"
          % (col(G, 4), col(D, 4), col(G, 5), col(D, 5)))
else:
    # the floor: gdb's CPU plus, for each packet gdb sends (the same with
    # both servers), what the quickest round trip costs beyond gdb's CPU;
    # against gdbserver's time in the same round
    # (its wall), and against the CPU gdb and gdbserver spent (what its
    # wall would at least be on an idle machine, in lockstep)
    floor = col(D, 1) + packets * rtt
    best = med([a[0] / (b[1] + packets * rtt) for a, b in zip(G, D) if b[1] > 0])
    work = med([(a[1] + a[2]) / (b[1] + packets * rtt) for a, b in zip(G, D) if b[1] > 0])
    print(common + " %.2f s: %.1fx (CPU: %.1fx) |" % (floor, best, work))
PY
}
echo "median of $rounds rounds; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The round trip of a 1-byte m (target stopped), each server: the
# quicker one times the packets of a row is a floor no server goes under.
for w in gdbserver dbg-server; do : > "$tmp/rtt_once.$w.samples"; done
for _ in $(seq 1 "$rounds"); do
	for w in gdbserver dbg-server; do rtt_once "$w" >> "$tmp/rtt_once.$w.samples" || true; done
done
rtt_g=$(col "$tmp/rtt_once.gdbserver.samples" 2)
rtt_d=$(col "$tmp/rtt_once.dbg-server.samples" 2)
# the part of the quicker round trip that is not gdb's CPU
rtt=$(python3 -c "
g, d = float('${rtt_g:-0}' or 0), float('${rtt_d:-0}' or 0)
gc, dc = float('$(col "$tmp/rtt_once.gdbserver.samples" 3)' or 0), float('$(col "$tmp/rtt_once.dbg-server.samples" 3)' or 0)
w, c = (g, gc) if g and g < d else (d, dc)
print(max(0.0, w - c) / 5000)")
python3 -c "print('round trip (1-byte m, target stopped): gdbserver %.1f us, dbg-server %.1f us (gdb CPU %.1f / %.1f us)' % (
    float('${rtt_g:-0}' or 0) / 5e-3, float('${rtt_d:-0}' or 0) / 5e-3,
    float('$(col "$tmp/rtt_once.gdbserver.samples" 3)' or 0) / 5e-3, float('$(col "$tmp/rtt_once.dbg-server.samples" 3)' or 0) / 5e-3))"
echo
echo "| what | gdbserver | dbg-server | speedup | goal | gdb CPU | server CPU | both waited for a CPU | floor: best any server can do |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in $rows; do
	case $r in
	dump) row "dump binary memory 100 MiB" s dump_once ">= 3x" ;;
	zeros) row "dump binary memory 100 MiB of zeros (RLE)" s dump_once "-" 0 zeros ;;
	threads) row "attach 1,000 threads + info threads" s threads_once ">= 3x" 4000 ;;
	hits) row "1,000 breakpoint hits (continue)" s hits_once ">= 2x" 9000 ;;
	contend) row "64-byte read, mprotect loop, p99" ms contend_once "contention row" ;;
	*) echo "unknown row $r" >&2; exit 2 ;;
	esac
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
