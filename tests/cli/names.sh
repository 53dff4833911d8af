#!/bin/sh
# dbg-stack's names against eu-stack's (which demangles with libstdc++'s
# __cxa_demangle): a C++ program built here with g++ -O2 and a Rust one
# built with Debian's /usr/bin/rustc, legacy mangling and v0. Every frame
# in the program's own binary must have eu-stack's pc and eu-stack's name
# (--raw-names: eu-stack -r's name); the v0 build's names must be the
# legacy build's without the hash, with crate disambiguators (eu-stack
# prints v0 names raw).
# Usage: names.sh DBG_STACK SRCDIR
set -u
stack=$1
src=$2
PY=/usr/bin/python3
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
for t in g++ eu-stack /usr/bin/rustc "$PY"; do
	command -v "$t" > /dev/null || { echo "SKIP: no $t (scripts/deps.sh installs it)"; exit 77; }
done

# start BINARY: run it, wait for "ready" and for every thread to block.
start() {
	# Truncate before starting: the background shell's own redirection
	# may come after the first look, which would find the last run's line.
	: > "$tmp/out"
	"$1" >> "$tmp/out" &
	pid=$!
	for _ in $(seq 200); do grep -q '^ready' "$tmp/out" && break; sleep 0.05; done
	grep -q '^ready' "$tmp/out" || fail "$1 did not start"
	for _ in $(seq 500); do
		moving=0
		for f in /proc/"$pid"/task/*/syscall; do
			# read, pause, nanosleep, futex, clock_nanosleep
			case $(cut -d' ' -f1 "$f" 2>/dev/null) in 0|34|35|202|230) ;; *) moving=1 ;; esac
		done
		[ $moving -eq 0 ] && break
		sleep 0.01
	done
	[ $moving -eq 0 ] || fail "$1: threads did not block"
}
stop() { kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=; }

# compare BINARY EU_STACK_OUT DBG_STACK_JSON WANTED...: the frames of
# BINARY's own code, pc and name, and the wanted names among them.
compare() {
	"$PY" - "$@" <<'PYEOF'
import json, re, sys
binary, eu, js, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
eus, tid = {}, None
for line in open(eu, encoding="utf-8", errors="strict"):
    m = re.match(r"TID (\d+):", line)
    if m:
        tid = int(m.group(1)); eus[tid] = []; continue
    m = re.match(r"#(\d+)\s+0x([0-9a-f]+)(?:\s+(.*))?$", line.rstrip("\n"))
    if m:
        eus[tid].append((int(m.group(2), 16), m.group(3)))
d = json.load(open(js, encoding="utf-8", errors="strict"))
seen, n = set(), 0
for t in d["threads"]:
    e = eus.get(t["tid"])
    assert e is not None, "thread %d not in eu-stack's output" % t["tid"]
    for i, f in enumerate(t["frames"]):
        if f.get("module") != binary:
            continue
        assert i < len(e), "tid %d: frame %d past eu-stack's %d" % (t["tid"], i, len(e))
        pc = int(f["pc"], 16)
        assert pc == e[i][0], "tid %d #%d: pc %x, eu-stack %x" % (t["tid"], i, pc, e[i][0])
        assert f.get("symbol") == e[i][1], "tid %d #%d: '%s', eu-stack '%s'" % (t["tid"], i, f.get("symbol"), e[i][1])
        seen.add(f["symbol"]); n += 1
for w in wanted:
    assert w in seen, "no frame named '%s' in %s" % (w, sorted(seen))
print("ok: %d frames of %s named as eu-stack names them" % (n, binary.rsplit("/", 1)[-1]))
PYEOF
}

# C++
g++ -O2 -g -pthread "$src/names_target.cpp" -o "$tmp/cxx" || fail "g++"
start "$tmp/cxx"
eu-stack -p "$pid" > "$tmp/eu" 2>/dev/null || fail "eu-stack exited $?"
eu-stack -r -p "$pid" > "$tmp/eu_raw" 2>/dev/null || fail "eu-stack -r exited $?"
"$stack" --json "$pid" > "$tmp/js" || fail "dbg-stack --json exited $?"
"$stack" --json --raw-names "$pid" > "$tmp/js_raw" || fail "dbg-stack --json --raw-names exited $?"
"$stack" "$pid" > "$tmp/text" || fail "dbg-stack exited $?"
stop
compare "$tmp/cxx" "$tmp/eu" "$tmp/js" "thrower(int)" "ns::Box<int>::wait(int)" "t_box(void*)" \
	"main::{lambda(int)#1}::operator()(int) const [clone .constprop.0]" \
	"ns::Server::serve(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) const [clone .isra.0]" ||
	fail "C++ names"
compare "$tmp/cxx" "$tmp/eu_raw" "$tmp/js_raw" _Z7throweri _ZN2ns3BoxIiE4waitEi || fail "C++ raw names"
# Text: the DWARF function names, demangled too.
for want in " thrower(int)+0x" " ns::Box<int>::wait(int)+0x" " t_box(void*)+0x"; do
	grep -qF "$want" "$tmp/text" || fail "no '$want' in the text output: $(cat "$tmp/text")"
done
echo "ok: C++ text output demangled"

# Rust, legacy mangling (rustc 1.63's default) and v0.
/usr/bin/rustc -g -C opt-level=0 "$src/names_target.rs" -o "$tmp/rs" 2> "$tmp/rustc.err" ||
	fail "rustc: $(cat "$tmp/rustc.err")"
start "$tmp/rs"
eu-stack -p "$pid" > "$tmp/eu" 2>/dev/null || fail "eu-stack exited $?"
"$stack" --json "$pid" > "$tmp/js" || fail "dbg-stack --json exited $?"
stop
hash=$(nm "$tmp/rs" | sed -n 's/.*_ZN12names_target7recurse17\(h[0-9a-f]\{16\}\)E$/\1/p')
compare "$tmp/rs" "$tmp/eu" "$tmp/js" "names_target::recurse::$hash" || fail "Rust legacy names"

RUSTC_BOOTSTRAP=1 /usr/bin/rustc -g -C opt-level=0 -Z unstable-options -C symbol-mangling-version=v0 \
	"$src/names_target.rs" -o "$tmp/rs0" 2> "$tmp/rustc.err" || fail "rustc v0: $(cat "$tmp/rustc.err")"
nm "$tmp/rs0" | grep -q ' _RNvCs[0-9A-Za-z]*_12names_target7recurse$' || fail "rustc did not use v0 mangling"
start "$tmp/rs0"
"$stack" --json "$pid" > "$tmp/js0" || fail "dbg-stack --json exited $?"
stop
"$PY" - "$tmp/js" "$tmp/js0" "$tmp/rs" "$tmp/rs0" <<'PYEOF' || fail "Rust v0 names"
import json, re, sys
def own(path, binary):
    d = json.load(open(path, encoding="utf-8"))
    return sorted({f["symbol"] for t in d["threads"] for f in t["frames"]
                   if f.get("module") == binary and "symbol" in f and f["symbol"].startswith(("names_target", "<names_target"))})
legacy = own(sys.argv[1], sys.argv[3])
v0 = own(sys.argv[2], sys.argv[4])
assert v0 and all(not s.startswith("_R") for s in v0), v0
# legacy: names_target::Holder$LT$T$GT$::get::h<hash>; v0: <names_target[d]::Holder<u8>>::get
strip0 = sorted({re.sub(r"\[[0-9a-f]+\]", "", s) for s in v0})
want = {"names_target::recurse", "names_target::main", "<names_target::Holder<u8>>::get",
        "names_target::main::{closure#0}"}
assert want <= set(strip0), (strip0, want)
strip = {re.sub(r"::h[0-9a-f]{16}$", "", s) for s in legacy}
assert {"names_target::recurse", "names_target::main"} <= strip, strip
assert all(re.search(r"names_target\[[0-9a-f]+\]", s) for s in v0), v0
print("ok: Rust v0 names demangled:", v0)
PYEOF
exit 0
