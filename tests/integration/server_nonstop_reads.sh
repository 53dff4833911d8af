#!/bin/sh
# dbg-server in non-stop mode, every thread running, gdb reading memory:
# the bytes are right, and a memory read costs the server no event wait of its own (those system
# calls, wait4/waitid and the stat of /proc/self/task, once per `m`,
# made every read slower than gdbserver's and doubled the p99 of the
# contention row of doc/server.md). The calls are counted with strace.
# Usage: server_nonstop_reads.sh DBG_SERVER SRV_TARGET
set -eu
server=$1
target=$2
command -v gdb > /dev/null || { echo "SKIP: no gdb"; exit 77; }
command -v strace > /dev/null || { echo "SKIP: no strace (scripts/deps.sh)"; exit 77; }
tmp=$(mktemp -d)
tpid=
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null || true
	[ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
reads=400

"$target" block > "$tmp/target.out" &
tpid=$!
for _ in $(seq 1 100); do grep -q ready "$tmp/target.out" && break; sleep 0.1; done
grep -q ready "$tmp/target.out" || { echo "target did not start"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
strace -c -o "$tmp/calls" "$server" --once --attach "127.0.0.1:$port" "$tpid" > "$tmp/server.out" 2>&1 &
spid=$!
for _ in $(seq 1 100); do grep -q 'Listening on port' "$tmp/server.out" && break; sleep 0.1; done
cat > "$tmp/reads.py" <<PY
inf = gdb.selected_inferior()
addr = int(gdb.parse_and_eval("&table"))
want = bytes(sum(([v] + [0] * 7 for v in (1, 2, 3, 5, 8, 13, 21, 34)), []))
bad = 0
for i in range($reads):
    if bytes(inf.read_memory(addr, 64)) != want:
        bad += 1
running = sum(1 for t in inf.threads() if t.is_running())
print("READS bad %d running %d of %d" % (bad, running, len(inf.threads())))
PY
timeout 120 gdb -nx -batch -ex 'set sysroot' -ex 'set non-stop on' \
	-ex "target remote 127.0.0.1:$port" -ex 'continue -a &' -ex "source $tmp/reads.py" \
	-ex 'interrupt -a' -ex 'shell sleep 0.5' -ex detach "$target" > "$tmp/gdb.out" 2>&1 || { echo "gdb failed:"; cat "$tmp/gdb.out"; exit 1; }
wait "$spid" || true
spid=
grep '^READS ' "$tmp/gdb.out" || true
grep -q '^READS bad 0 running 4 of 4$' "$tmp/gdb.out" ||
	{ echo "FAIL: reads of running memory"; cat "$tmp/gdb.out"; exit 1; }
kill -0 "$tpid" || { echo "FAIL: target died after detach"; exit 1; }
# A full event wait has the stat of /proc/self/task and a wait4 per
# thread; attach, continue, interrupt and detach need some tens, one per
# read would be 400 or more (the server before the fix: 2759 wait calls
# for 400 reads; then 147 to 212, more on a loaded machine, from an
# empty wait per 100 ms idle and per setup packet). What a read may cost
# is one waitid that reaps nothing: has any tracee a status?
full=$(awk '$NF == "wait4" || $NF == "newfstatat" { n += $4 } END { print n + 0 }' "$tmp/calls")
probes=$(awk '$NF == "waitid" { n += $4 } END { print n + 0 }' "$tmp/calls")
pvr=$(awk '$NF == "process_vm_readv" || $NF == "pread64" { n += $4 } END { print n + 0 }' "$tmp/calls")
echo "$reads reads: $pvr memory calls, $full calls of full event waits, $probes waitid"
[ "$pvr" -ge "$reads" ] || { echo "FAIL: fewer memory calls than reads (strace?)"; cat "$tmp/calls"; exit 1; }
if [ "$full" -gt $((reads / 2)) ] || [ "$probes" -gt $((reads * 2)) ]; then
	echo "FAIL: the server waits for events on memory reads"
	cat "$tmp/calls"
	exit 1
fi
echo PASS
