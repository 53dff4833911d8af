#!/bin/sh
# dbg-stack from the outside: its output on the stacks inferior (text and
# JSON, stopped and --snapshot, both backends print the same stacks), and
# its exit status and message for each kind of failure.
# Usage: dbg_stack.sh DBG_STACK INFERIOR_DIR
set -u
stack=$1
inferiors=$2
tmp=$(mktemp -d)
pid= pub=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp" ${pub:+"$pub"}; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_status() { # expect_status STATUS PATTERN CMD...
	want=$1 pat=$2
	shift 2
	"$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "$* exited $rc, not $want: $(cat "$tmp/err")"
	grep -q "$pat" "$tmp/err" || fail "$*: no '$pat' in: $(cat "$tmp/err")"
	echo "ok: $* -> $rc: $(head -n 1 "$tmp/err")"
}

expect_status 1 usage "$stack"
expect_status 1 "bad pid" "$stack" nonsense
expect_status 2 "no process" "$stack" 999999999
expect_status 1 "bad number '-1' for --max-frames" "$stack" -n -1 999999999
expect_status 1 "bad number '1x' for --max-frames" "$stack" -n 1x 999999999
expect_status 1 "at most 1048576 frames" "$stack" -n 1048577 999999999
expect_status 1 "stack-max 0: must be from 8 bytes" "$stack" --stack-max 0 999999999
expect_status 1 "bad number '-5' for --stack-max" "$stack" --stack-max -5 999999999

# A kernel thread (PF_KTHREAD in /proc/PID/stat): kthreadd is pid 2
# outside a pid namespace; look for any.
kthread=
for f in /proc/[0-9]*/stat; do
	fl=$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f7)
	[ -n "$fl" ] && [ $((fl & 0x00200000)) -ne 0 ] && { kthread=${f#/proc/}; kthread=${kthread%/stat}; break; }
done
if [ -n "$kthread" ]; then
	expect_status 5 "$kthread (.*) is a kernel thread, it has no user stack" "$stack" "$kthread"
else
	echo "note: no kernel thread visible in this pid namespace; that check did not run"
fi

# A zombie: a child that exited, its parent (python, which reaps it when
# told to end) not waiting for it.
/usr/bin/python3 -c '
import os, signal, sys, time
kid = os.fork()
if kid == 0:
    os._exit(0)
def end(*_):
    os.waitpid(kid, 0)
    sys.exit(0)
signal.signal(signal.SIGTERM, end)
print(kid, flush=True)
time.sleep(60)
end()' > "$tmp/zombie" &
zparent=$!
for _ in $(seq 100); do [ -s "$tmp/zombie" ] && break; sleep 0.05; done
zombie=$(cat "$tmp/zombie")
for _ in $(seq 100); do [ "$(sed 's/.*) //' /proc/"$zombie"/stat | cut -d' ' -f1)" = Z ] && break; sleep 0.05; done
expect_status 2 "process $zombie (python3) is a zombie" "$stack" "$zombie"
kill "$zparent"
wait "$zparent"

"$inferiors/stacks_O2" > "$tmp/inferior" &
pid=$!
for _ in $(seq 200); do grep -q '^end' "$tmp/inferior" && break; sleep 0.05; done
grep -q '^end' "$tmp/inferior" || fail "the inferior did not start"
# "end" comes just before the main thread reaches pause(): wait until every
# thread is parked in read() or pause() (syscalls 0 and 34), so that the
# runs below all see the same stacks.
for _ in $(seq 500); do
	moving=0
	for f in /proc/"$pid"/task/*/syscall; do
		case $(cut -d' ' -f1 "$f" 2>/dev/null) in 0|34) ;; *) moving=1 ;; esac
	done
	[ $moving -eq 0 ] && break
	sleep 0.01
done
[ $moving -eq 0 ] || fail "the inferior's threads did not park"

"$stack" "$pid" > "$tmp/text" || fail "dbg-stack $pid exited $?"
for want in "middle+0x" "leaf (inlined)" "outer+0x" "<signal handler called>" "spin+0x" \
	"nocfi_call+0x" "fp_leaf+0x" "stacks.c:" "in libc.so.6"; do
	grep -qF "$want" "$tmp/text" || fail "no '$want' in the text output"
done
[ "$(grep -c '^TID ' "$tmp/text")" -eq 4 ] || fail "not 4 threads"
"$stack" --snapshot "$pid" > "$tmp/snap" || fail "--snapshot exited $?"
"$stack" -b libdw "$pid" > "$tmp/libdw" || fail "-b libdw exited $?"
"$stack" --no-rules "$pid" > "$tmp/norules" || fail "--no-rules exited $?"
"$stack" --no-cache "$pid" > "$tmp/nocache" || fail "--no-cache exited $?"
cmp -s "$tmp/text" "$tmp/norules" || fail "--no-rules prints other stacks: $(diff "$tmp/text" "$tmp/norules")"
cmp -s "$tmp/text" "$tmp/nocache" || fail "--no-cache prints other stacks: $(diff "$tmp/text" "$tmp/nocache")"
cmp -s "$tmp/text" "$tmp/snap" || fail "--snapshot prints other stacks: $(diff "$tmp/text" "$tmp/snap")"
cmp -s "$tmp/text" "$tmp/libdw" || fail "-b libdw prints other stacks: $(diff "$tmp/text" "$tmp/libdw")"
echo "ok: text output, the same with --snapshot and with -b libdw"

"$stack" --json "$pid" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["threads"]) == 4, d["threads"]
fns = [l["function"] for t in d["threads"] for f in t["frames"] for l in f["locations"]]
for want in ("middle", "leaf", "outer", "spin", "handler", "fp_leaf", "nocfi_call"):
    assert want in fns, want
inl = [l for t in d["threads"] for f in t["frames"] for l in f["locations"] if l["function"] == "leaf"]
assert inl and all(l["inlined"] for l in inl), inl
assert any(f.get("signal_frame") for t in d["threads"] for f in t["frames"])
' || fail "JSON output"
echo "ok: JSON output"

"$stack" -n 2 -t "$pid" "$pid" > "$tmp/one" || fail "-n 2 -t exited $?"
[ "$(grep -c '^TID ' "$tmp/one")" -eq 1 ] && [ "$(grep -c '^#' "$tmp/one")" -eq 2 ] ||
	fail "-n 2 -t: $(cat "$tmp/one")"
echo "ok: -n and -t"
expect_status 2 "no thread $$ in process $pid" "$stack" -t "$pid" -t $$ "$pid"

# Not allowed to trace: dbg-stack as nobody on root's target. nobody may
# not reach the build directory (a clone in a 0700 home), so it runs a
# copy of dbg-stack and libdbg from a directory of its own.
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	pub=$(mktemp -d /tmp/dbg-stack-cli.XXXXXX)
	cp "$stack" "$pub/dbg-stack" || fail "cp $stack"
	for lib in $(ldd "$stack" | awk '$1 ~ /^libdbg\.so/ {print $3}'); do
		cp "$lib" "$pub/" || fail "cp $lib"
	done
	chmod -R a+rX "$pub"
	$nobody test -x "$pub/dbg-stack" || fail "nobody cannot run $pub/dbg-stack"
	expect_status 3 "not permitted" env LD_LIBRARY_PATH="$pub" $nobody "$pub/dbg-stack" "$pid"
fi
exit 0
