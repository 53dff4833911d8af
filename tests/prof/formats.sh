#!/bin/bash
# dbg-prof as a user runs it: every output format checked by its own
# reader (go tool pprof; speedscope's JSON schema; an XML parse of the
# SVG), the target exiting while sampled, and usage errors.
# Usage: formats.sh DBG_PROF PROFMIX
set -u
PROF=$1
MIX=$2
T=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A target whose main thread waits on a pipe that stays open.
mkfifo "$T/in"
"$MIX" < "$T/in" > "$T/mix.out" &
MIXPID=$!
disown $MIXPID 2>/dev/null
pids+=($MIXPID)
exec 9> "$T/in"
for i in $(seq 100); do grep -q ready "$T/mix.out" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$T/mix.out" || fail "profmix did not start"

prof() { timeout 60 "$PROF" "$@" 2> "$T/err"; local rc=$?; cat "$T/err" >&2; return $rc; }

# Folded on stdout, root first.
prof -F 299 -d 1.5 $MIXPID > "$T/out.folded" || fail "dbg-prof (stdout) failed"
grep -Eq '^__clone3;start_thread;worker;spin_f(;mix_f)? [0-9]+$' "$T/out.folded" ||
	fail "no worker;spin_f line in the folded output: $(head -5 "$T/out.folded")"
grep -q "samples from" "$T/err" || fail "no summary on stderr"

# Folded by name, per thread.
prof -F 299 -d 1 --threads -o "$T/p.folded" $MIXPID || fail "-o .folded"
grep -Eq '^worker-[0-9]+;__clone3;start_thread;worker;spin_g' "$T/p.folded" ||
	fail "no per-thread root frame: $(head -3 "$T/p.folded")"

# pprof: go tool pprof reads it; build ids, inlined frames as lines.
prof -F 299 -d 1.5 -o "$T/p.pb.gz" $MIXPID || fail "-o .pb.gz"
if command -v go > /dev/null; then
	export HOME=$T GOCACHE=$T/gocache GOFLAGS=-mod=mod
	go tool pprof -top "$T/p.pb.gz" > "$T/top.txt" 2>&1 || fail "go tool pprof -top: $(cat "$T/top.txt")"
	cat "$T/top.txt" | head -12
	grep -q "spin_g" "$T/top.txt" || fail "spin_g not in pprof -top"
	grep -q "mix_f (inline)" "$T/top.txt" || fail "the inlined mix_f is not an inline line in pprof"
	grep -q "^Build ID: [0-9a-f]\{40\}" "$T/top.txt" || fail "no build id for the main binary"
	go tool pprof -raw "$T/p.pb.gz" > "$T/raw.txt" 2>&1 || fail "go tool pprof -raw"
	grep -A1 "M=1 mix_f " "$T/raw.txt" | grep -q "spin_f" ||
		fail "no location with mix_f inlined into spin_f: $(grep -A1 mix_f "$T/raw.txt" | head -4)"
	grep -Eq "libc.so.6 [0-9a-f]{40}" "$T/raw.txt" || fail "libc mapping without its build id"
else
	echo "SKIP pprof check: no go (golang-go)"
fi

# speedscope: validated against the schema speedscope ships (npm), with
# python3-jsonschema; without npm access, a structural check.
prof -F 299 -d 1 -o "$T/p.speedscope.json" $MIXPID || fail "-o .speedscope.json"
SCHEMA=""
if command -v npm > /dev/null && (cd "$T" && timeout 90 npm install --silent --no-audit --no-fund \
		--prefix "$T/npm" speedscope@1.25.0 > "$T/npm.log" 2>&1); then
	SCHEMA=$(find "$T/npm" -name file-format-schema.json | head -1)
fi
/usr/bin/python3 - "$T/p.speedscope.json" "$SCHEMA" <<'PY' || fail "speedscope check"
import json, sys
doc = json.load(open(sys.argv[1]))
schema = sys.argv[2]
if schema:
    import jsonschema
    s = json.load(open(schema))
    # The schema's root is a $ref to SpeedscopeFile.
    jsonschema.validate(doc, s)
    print("speedscope: valid against", schema)
else:
    print("speedscope: npm unreachable, structural check only")
assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
frames = doc["shared"]["frames"]
assert all("name" in f for f in frames)
names = {f["name"] for f in frames}
assert "spin_f" in names and "worker" in names, names
for p in doc["profiles"]:
    assert p["type"] == "sampled" and len(p["samples"]) == len(p["weights"])
    assert p["endValue"] == sum(p["weights"])
    for s in p["samples"]:
        assert all(0 <= i < len(frames) for i in s)
assert any(p["name"].startswith("worker-") for p in doc["profiles"])
PY

# SVG: well-formed, titles with names and percentages.
prof -F 299 -d 1 --threads -o "$T/p.svg" $MIXPID || fail "-o .svg"
/usr/bin/python3 - "$T/p.svg" <<'PY' || fail "svg check"
import sys, re, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
titles = [t.text for t in root.iter(ns + "title")]
assert any(re.match(r"spin_f \(\d+ samples, \d+\.\d\d%\)", t) for t in titles), titles[:10]
assert any(t.startswith("all (") and "100.00%" in t for t in titles)
texts = [t.text for t in root.iter(ns + "text") if t.text]
assert any("worker" in t for t in texts), texts[:10]
print("svg: %d frames" % len(titles))
PY

# Usage errors: clear message, exit 2; a process that is not there: 1.
"$PROF" -o "$T/x.txt" $MIXPID 2> "$T/err"; [ $? -eq 2 ] && grep -q "must end in" "$T/err" || fail "bad -o"
"$PROF" -F 0 $MIXPID 2> "$T/err"; [ $? -eq 2 ] && grep -q "rate" "$T/err" || fail "bad -F"
"$PROF" --source nope $MIXPID 2> "$T/err"; [ $? -eq 2 ] || fail "bad --source"
"$PROF" --wall --source perf $MIXPID 2> "$T/err"; [ $? -eq 2 ] && grep -q "ptrace" "$T/err" || fail "--wall perf"
"$PROF" -d 1 2147483646 2> "$T/err"; [ $? -eq 1 ] && grep -q "attach" "$T/err" || fail "no such pid"

# The target exits while sampled: the profile is written, the exit
# reported, nothing waits for the 30 s.
for src in perf ptrace; do
	# (A sanitized inferior must not run LeakSanitizer under ptrace: it
	# fails there and changes the exit status.)
	ASAN_OPTIONS=detect_leaks=0 "$MIX" exit=700 < /dev/null > "$T/mix2.out" &
	P2=$!
	pids+=($P2)
	for i in $(seq 100); do grep -q ready "$T/mix2.out" 2>/dev/null && break; sleep 0.02; done
	s=$(date +%s%N)
	prof -F 199 -d 30 --source $src $P2 > "$T/exit.folded" || fail "dbg-prof on an exiting target ($src)"
	ms=$(( ($(date +%s%N) - s) / 1000000 ))
	grep -q "exited with status 7" "$T/err" || fail "exit not reported ($src)"
	grep -q "spin_f" "$T/exit.folded" || fail "no profile written for the exiting target ($src)"
	[ $ms -lt 5000 ] || fail "dbg-prof took $ms ms after the target exited ($src)"
	echo "exit during sampling ($src): written, reported, $ms ms"
done
echo ok
