#!/bin/sh
# dbg-stack --json is valid UTF-8 and valid JSON whatever bytes the
# target's names hold: a target renames its threads (and itself) to random
# bytes, round after round, and runs from a path with invalid UTF-8 and a
# control character in it; python3's strict UTF-8 decoder and json parser
# check every output, and each thread's name is exactly its bytes with
# control characters escaped and every byte outside valid UTF-8 turned
# into U+FFFD. The text output must carry no raw control characters.
# Usage: json_names.sh DBG_STACK RANDNAMES [ROUNDS]
set -u
stack=$1
target=$2
rounds=${3:-60}
PY=/usr/bin/python3
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; exec 3>&-; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$PY" ] || { echo "SKIP: no $PY (scripts/deps.sh installs python3)"; exit 77; }

# A directory and a program name of bytes that are not UTF-8.
odd=$(printf '%s/d\377\376\001ir' "$tmp")
mkdir "$odd" || fail "mkdir"
cp "$target" "$odd/$(printf 'r\300\257n\033')" || fail "cp"
mkfifo "$tmp/in"
"$odd/$(printf 'r\300\257n\033')" 6 "$(date +%s)" < "$tmp/in" > "$tmp/out" &
pid=$!
exec 3> "$tmp/in"
for round in $(seq "$rounds"); do
	echo >&3
	for _ in $(seq 200); do [ "$(grep -c '^names' "$tmp/out")" -ge "$round" ] && break; sleep 0.01; done
	names=$(sed -n "${round}p" "$tmp/out")
	[ -n "$names" ] || fail "round $round: the target did not rename its threads"
	"$stack" --json "$pid" > "$tmp/json" || fail "round $round: dbg-stack --json exited $?"
	"$stack" "$pid" > "$tmp/text" || fail "round $round: dbg-stack exited $?"
	"$PY" - "$tmp/json" "$tmp/text" "$names" <<'PYEOF' || fail "round $round: $names"
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8", errors="strict")          # valid UTF-8
d = json.loads(text)                                  # valid JSON
def expect(b):
    b = b.split(b"\n")[0]                             # comm is read as a line
    out, i = [], 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        try:
            ch = b[i:i + n].decode("utf-8") if n and i + n <= len(b) else None
        except UnicodeDecodeError:
            ch = None
        if ch is None:
            out.append("\ufffd"); i += 1
        else:
            out.append(ch); i += n
    return "".join(out)
want = {}
for item in sys.argv[3].split()[1:]:
    tid, hx = item.split(":")
    want[int(tid)] = expect(bytes.fromhex(hx))
got = {t["tid"]: t["name"] for t in d["threads"]}
assert set(got) == set(want), (sorted(got), sorted(want))
for tid in want:
    assert got[tid] == want[tid], "tid %d: %r, want %r" % (tid, got[tid], want[tid])
mods = {f.get("module") for t in d["threads"] for f in t["frames"]}
assert any(m and "\ufffd\ufffd\u0001ir/r\ufffd\ufffdn\u001b" in m for m in mods), mods
tb = open(sys.argv[2], "rb").read()
for line in tb.split(b"\n"):
    if line.startswith(b"TID "):
        assert not any(c < 0x20 or c == 0x7f for c in line), line
PYEOF
done
echo "ok: $rounds rounds of random thread names, every --json output valid UTF-8 and JSON with the names escaped"
exit 0
