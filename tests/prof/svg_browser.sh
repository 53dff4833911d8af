#!/bin/bash
# The flame graph opens in headless Chromium and the screenshot shows
# frames: a profile of profmix, rendered, and the PNG's pixels checked
# for the frame colours (warm, well away from the background) over a
# band of rows as wide as most of the graph. Not in the default run
# (Chromium is big and slow): cmake -DDBG_TEST_BROWSER=ON; deps.sh browser.
# Usage: svg_browser.sh DBG_PROF PROFMIX [KEEP_PNG]
set -u
PROF=$1
MIX=$2
KEEP=${3:-}
command -v chromium > /dev/null || { echo "SKIP: no chromium (scripts/deps.sh browser)"; exit 77; }
T=$(mktemp -d)
MIXPID=
cleanup() { [ -n "$MIXPID" ] && kill -9 $MIXPID 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkfifo "$T/in"
"$MIX" < "$T/in" > "$T/mix.out" &
MIXPID=$!
disown $MIXPID 2>/dev/null
exec 9> "$T/in"
for i in $(seq 100); do grep -q ready "$T/mix.out" 2>/dev/null && break; sleep 0.05; done
timeout 60 "$PROF" -F 299 -d 1.5 --wall -o "$T/p.svg" $MIXPID || { echo "FAIL: dbg-prof"; exit 1; }
mkdir "$T/ud"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$T/ud" \
	--window-size=1200,400 --screenshot="$T/shot.png" "file://$T/p.svg" > "$T/chromium.log" 2>&1
[ -s "$T/shot.png" ] || { echo "FAIL: no screenshot"; cat "$T/chromium.log"; exit 1; }
[ -n "$KEEP" ] && cp "$T/shot.png" "$KEEP"
/usr/bin/python3 - "$T/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev, i = [], bytearray(stride), 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
def warm(px):  # a frame: red high, blue low (background #fdf6e3 is near white)
    r, g, b = px
    return r > 180 and b < 120
best = 0
for line in rows:
    n = sum(1 for x in range(w) if warm(line[x * bpp:x * bpp + 3]))
    best = max(best, n)
print("screenshot %dx%d: widest row of frame colour %d px" % (w, h, best))
assert best > w * 0.8, "the root frame does not span the graph"
bands = sum(1 for line in rows if sum(1 for x in range(0, w, 4) if warm(line[x * bpp:x * bpp + 3])) > 10)
print("rows with frames: %d" % bands)
assert bands >= 5 * 12, "fewer than 5 frame levels drawn"
PY
