#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dbg-server's run-length encoded replies, checked two ways.
1. A raw client (stdio mode, attached to a target with a 1 MiB buffer)
   writes runs of 1 to 130 bytes of values that are plain, escaped ('*',
   '}', '#', '$') and at the edge of the count alphabet ('~'), reads them
   back with m (hex) and x (binary), decodes as the protocol says and
   compares; every count character must be printable and never '#' or '$'
   (6 or 7 more), and zero-filled memory must go out compressed.
2. gdb, the real decoder: dump binary memory of the same bytes through
   dbg-server must give them back.
Usage: rsp_rle.py DBG_SERVER SERVER_BENCH_TARGET"""
import os, select, subprocess, sys, tempfile, time

server, target = sys.argv[1], sys.argv[2]
tgt = subprocess.Popen([target, "big", "1"], stdout=subprocess.PIPE)
line = tgt.stdout.readline().decode().split()
assert line and line[0] == "ready", line
base = int(line[2], 16)
srv = subprocess.Popen([server, "--attach", str(tgt.pid), "stdio"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
buf = b""

def fail(msg):
    print("FAIL:", msg)
    srv.kill(); tgt.kill()
    sys.exit(1)

def frame(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xff)

def unrle(body):
    """Expand c*N as gdb does (before unescaping); check the counts."""
    out = bytearray()
    i = 0
    escaped = False  # the last byte out ends an escape pair
    while i < len(body):
        c = body[i]
        if c == 0x7d:  # '}' and the escaped byte, kept as they are
            if i + 1 >= len(body):
                fail("escape at the end: %r" % body[-20:])
            out += body[i:i + 2]
            escaped = True
            i += 2
        elif c == 0x2a:  # '*'
            if not out or escaped or i + 1 >= len(body):
                fail("run-length at the start, end or after an escape: %r"
                     % body[max(0, i - 10):i + 10])
            n = body[i + 1]
            if n in b"#$*}" or n < 32 or n > 126:
                fail("bad run-length count %r in %r" % (chr(n), body[max(0, i - 10):i + 10]))
            out += bytes([out[-1]]) * (n - 29)
            i += 2
        else:
            out.append(c)
            escaped = False
            i += 1
    return bytes(out)

def unescape(data):
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == 0x7d:
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)

def get_reply():
    global buf
    deadline = time.time() + 10
    while True:
        while buf[:1] in (b"+", b"-"):
            buf = buf[1:]
        end = buf.find(b"#")
        if buf[:1] == b"$" and end >= 0 and len(buf) >= end + 3:
            body = buf[1:end]
            if int(buf[end + 1:end + 3], 16) != sum(body) & 0xff:
                fail("bad checksum (over the encoded body)")
            buf = buf[end + 3:]
            srv.stdin.write(b"+"); srv.stdin.flush()
            return body
        if buf and buf[:1] != b"$":
            fail("garbage from the server: %r" % buf[:50])
        left = deadline - time.time()
        r, _, _ = select.select([srv.stdout], [], [], max(left, 0))
        if not r:
            fail("no reply within 10 s")
        d = os.read(srv.stdout.fileno(), 1 << 20)
        if not d:
            fail("server closed the connection")
        buf += d

def ask(body):
    srv.stdin.write(frame(body)); srv.stdin.flush()
    return get_reply()

ask(b"qSupported:multiprocess+;swbreak+")
if not ask(b"?").startswith(b"T"):
    fail("no stop reply")

# the pattern: runs of every length 1..130 of each value
pattern = bytearray()
for n in range(1, 131):
    for v in (0x00, 0x41, 0x2a, 0x7d, 0x23, 0x24, 0x7e, 0x11, 0x30):
        pattern += bytes([v]) * n
pattern = bytes(pattern)
for off in range(0, len(pattern), 4096):
    chunk = pattern[off:off + 4096]
    if ask(b"M%x,%x:" % (base + off, len(chunk)) + chunk.hex().encode()) != b"OK":
        fail("M at +%#x" % off)

got_m = bytearray()
got_x = bytearray()
for off in range(0, len(pattern), 4096):
    n = min(4096, len(pattern) - off)
    r = unrle(ask(b"m%x,%x" % (base + off, n)))
    if any(c not in b"0123456789abcdef" for c in r):
        fail("m reply not hex after decoding: %r" % r[:60])
    got_m += bytes.fromhex(r.decode())
    r = unescape(unrle(ask(b"x%x,%x" % (base + off, n))))
    if r[:1] != b"b":
        fail("x reply without its b: %r" % r[:20])
    got_x += r[1:]
if bytes(got_m) != pattern:
    i = next(i for i in range(len(pattern)) if i >= len(got_m) or got_m[i] != pattern[i])
    fail("m read back differs at +%#x" % i)
if bytes(got_x) != pattern:
    i = next(i for i in range(len(pattern)) if i >= len(got_x) or got_x[i] != pattern[i])
    fail("x read back differs at +%#x" % i)
# zeros compress: 4096 zero bytes are 8192 hex digits, 85 chunks of 3
z = base + len(pattern) + 4096
if ask(b"M%x,1000:" % z + b"00" * 4096) != b"OK":
    fail("M of zeros")
r = ask(b"m%x,1000" % z)
if len(r) > 300 or unrle(r) != b"0" * 8192:
    fail("4096 zero bytes went out as %d characters" % len(r))
ask(b"D")
srv.stdin.close()
try:
    srv.wait(10)
except subprocess.TimeoutExpired:
    fail("server did not exit after D")

# 2. gdb decodes the same bytes
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "dump.bin")
    g = subprocess.run(["timeout", "120", "gdb", "-nx", "-batch", "-ex", "set sysroot",
                        "-ex", "target remote | %s --attach %d stdio" % (server, tgt.pid),
                        "-ex", "dump binary memory %s %#x %#x" % (out, base, z + 4096),
                        "-ex", "detach"], capture_output=True, text=True)
    want = pattern + bytes(z - base - len(pattern)) + bytes(4096)
    # the gap between the pattern and the zeros is the target's own random bytes
    try:
        data = open(out, "rb").read()
    except OSError:
        fail("gdb made no dump:\n" + g.stdout + g.stderr)
    if data[:len(pattern)] != pattern or data[z - base:] != bytes(4096):
        fail("gdb's dump through dbg-server differs\n" + g.stdout + g.stderr)
if tgt.poll() is not None:
    fail("the target died")
tgt.kill(); tgt.wait()
print("PASS: runs of 1-130 of 9 values through m and x, zeros compressed, gdb agrees")
