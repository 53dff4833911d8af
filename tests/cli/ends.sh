#!/bin/sh
# dbg-stack says why each stack ended, in text and JSON (tests/cli/ends.c).
#   ends.sh cli DBG_STACK ENDS        the frame limit (dbg-stack's own doing):
#       -n N on a deeper stack says it was cut at N frames; -n of exactly
#       the stack's depth does not; stacks that reach _start or clone3 say
#       "outermost" in JSON and nothing in text.
#   ends.sh lib DBG_STACK ENDS SRC    what the unwinder reports: code
#       without CFI and no frame chain, code in no module (JIT), and
#       --snapshot with a --stack-max smaller than the stack.
set -u
mode=$1 stack=$2 target=$3
PY=/usr/bin/python3
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$PY" ] || { echo "SKIP: no $PY (scripts/deps.sh installs python3)"; exit 77; }
if [ "$mode" = lib ] && grep -q 'set per stack: issue 9' "$4/libdbg/unwind.c"; then
	# Remove this guard once dbg_unwind_last_end() is implemented.
	echo "SKIP: libdbg/unwind.c's dbg_unwind_last_end() is still the issue 9 stub (always 'outermost')"
	exit 77
fi

"$target" 500 > "$tmp/out" &
pid=$!
for _ in $(seq 200); do grep -q '^ready' "$tmp/out" && break; sleep 0.05; done
grep -q '^ready' "$tmp/out" || fail "the target did not start"
for _ in $(seq 500); do
	moving=0
	for f in /proc/"$pid"/task/*/syscall; do
		[ "$(cut -d' ' -f1 "$f" 2>/dev/null)" = 34 ] || moving=1
	done
	[ $moving -eq 0 ] && break
	sleep 0.01
done
[ $moving -eq 0 ] || fail "the target's threads did not block in pause()"
set -- $(sed -n 's/^ready deep=\([0-9]*\) nocfi=\([0-9]*\) jit=\([0-9]*\)$/\1 \2 \3/p' "$tmp/out")
deep=$1 nocfi=$2 jit=$3

# check JSON TID END NFRAMES|-  TEXTPAT: thread TID's "end", its frame
# count (- for any), and "end_text" containing TEXTPAT.
check() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
path, tid, end, n, pat = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
d = json.load(open(path, encoding="utf-8"))
t = [t for t in d["threads"] if t["tid"] == tid]
assert t, "no thread %d" % tid
t = t[0]
assert t["end"] == end, "tid %d: end %r (%r), want %r" % (tid, t["end"], t["end_text"], end)
assert n == "-" or len(t["frames"]) == int(n), "tid %d: %d frames, want %s" % (tid, len(t["frames"]), n)
assert pat in t["end_text"], "tid %d: end_text %r has no %r" % (tid, t["end_text"], pat)
PYEOF
}
# text_end TEXT TID: the "-- " line after thread TID's frames, or nothing.
text_end() {
	awk -v tid="$2" '/^TID /{on = ($2 == tid)} on && /^-- /{print}' "$1"
}

if [ "$mode" = cli ]; then
	"$stack" -n 0 --json "$pid" > "$tmp/all.json" || fail "-n 0 --json exited $?"
	depth=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print([len(t["frames"]) for t in d["threads"] if t["tid"]==int(sys.argv[2])][0])' "$tmp/all.json" "$deep")
	[ "$depth" -gt 500 ] || fail "-n 0: the deep thread has $depth frames, not more than 500"
	check "$tmp/all.json" "$deep" outermost "$depth" "outermost" || fail "-n 0: deep thread"
	check "$tmp/all.json" "$pid" outermost - "outermost" || fail "-n 0: main thread"
	"$stack" --json "$pid" > "$tmp/def.json" || fail "--json exited $?"
	check "$tmp/def.json" "$deep" frame-limit 256 "stack cut at 256 frames" || fail "default -n 256"
	"$stack" "$pid" > "$tmp/def.txt" || fail "exited $?"
	[ "$(text_end "$tmp/def.txt" "$deep")" = "-- stack cut at 256 frames (-n N; -n 0: no limit)" ] ||
		fail "text, -n 256: '$(text_end "$tmp/def.txt" "$deep")'"
	[ -z "$(text_end "$tmp/def.txt" "$pid")" ] || fail "text: the main thread's stack says '$(text_end "$tmp/def.txt" "$pid")'"
	echo "ok: a $depth-frame stack: -n 256 says it was cut at 256 frames (text and JSON), -n 0 says outermost"
	"$stack" -n "$depth" --json "$pid" > "$tmp/exact.json" || fail "-n $depth exited $?"
	check "$tmp/exact.json" "$deep" outermost "$depth" "outermost" || fail "-n $depth (the exact depth)"
	m=$((depth - 1))
	"$stack" -n "$m" --json "$pid" > "$tmp/m.json" || fail "-n $m exited $?"
	check "$tmp/m.json" "$deep" frame-limit "$m" "stack cut at $m frames" || fail "-n $m"
	"$stack" -n 3 --snapshot "$pid" > "$tmp/snap.txt" || fail "--snapshot exited $?"
	[ "$(text_end "$tmp/snap.txt" "$deep")" = "-- stack cut at 3 frames (-n N; -n 0: no limit)" ] ||
		fail "--snapshot -n 3: '$(text_end "$tmp/snap.txt" "$deep")'"
	echo "ok: -n $depth (the depth) is not cut, -n $m is; --snapshot -n 3 is"
	exit 0
fi

"$stack" --json "$pid" > "$tmp/def.json" || fail "--json exited $?"
"$stack" "$pid" > "$tmp/def.txt" || fail "exited $?"
check "$tmp/def.json" "$nocfi" no-cfi 1 "no unwind information" || fail "the thread in code without CFI"
check "$tmp/def.json" "$jit" no-module 1 "no mapped module" || fail "the thread in JIT code"
check "$tmp/def.json" "$pid" outermost - "outermost" || fail "the main thread"
text_end "$tmp/def.txt" "$nocfi" | grep -q "^-- no unwind information" || fail "text: no-CFI thread: '$(text_end "$tmp/def.txt" "$nocfi")'"
text_end "$tmp/def.txt" "$jit" | grep -q "^-- pc in no mapped module" || fail "text: JIT thread: '$(text_end "$tmp/def.txt" "$jit")'"
echo "ok: code without CFI and JIT code end their stacks with the reason"
"$stack" --snapshot --stack-max 512 --json "$pid" > "$tmp/snap.json" || fail "--snapshot --stack-max 512 exited $?"
check "$tmp/snap.json" "$deep" read - "the snapshot's copy of the stack ended (--stack-max 512 bytes)" ||
	fail "--stack-max 512"
"$stack" --snapshot --stack-max 512 "$pid" > "$tmp/snap.txt" || fail "--snapshot --stack-max 512 exited $?"
[ "$(text_end "$tmp/snap.txt" "$deep")" = "-- the snapshot's copy of the stack ended (--stack-max 512 bytes)" ] ||
	fail "text, --stack-max 512: '$(text_end "$tmp/snap.txt" "$deep")'"
"$stack" --snapshot -n 0 --json "$pid" > "$tmp/snapall.json" || fail "--snapshot -n 0 exited $?"
check "$tmp/snapall.json" "$deep" outermost - "outermost" || fail "--snapshot, the default --stack-max"
echo "ok: --snapshot --stack-max 512 says the copy ended; 1 MiB reaches the outermost frame"
exit 0
