#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile client for dbg-server (stdio mode, attached to a blocked target):
a ^C while nothing runs (the next resume ends in a SIGINT stop), garbage
between packets, bad checksums, a packet past PacketSize, bad hex
and absurd lengths in every packet that parses numbers, then thousands of
random packets built from the real commands' prefixes. After each, the
server must answer with a well-formed packet within 10 s; at the end it
must still answer ?, g, qfThreadInfo and the target description, and
exit when told to. Usage: rsp_fuzz.py DBG_SERVER SRV_TARGET [SEED]"""
import os, random, select, subprocess, sys, time

server, target = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
rnd = random.Random(seed)
print("seed", seed)

tgt = subprocess.Popen([target, "block"], stdout=subprocess.PIPE)
line = tgt.stdout.readline().decode()
assert line.startswith("ready"), line
srv = subprocess.Popen([server, "--attach", str(tgt.pid), "stdio"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
buf = b""

def fail(msg):
    print("FAIL:", msg, "(seed %d)" % seed)
    srv.kill(); tgt.kill()
    sys.exit(1)

def read_some(deadline):
    global buf
    left = deadline - time.time()
    if left <= 0:
        fail("no reply within 10 s; last sent %r" % last[:200])
    r, _, _ = select.select([srv.stdout], [], [], left)
    if not r:
        fail("no reply within 10 s; last sent %r" % last[:200])
    d = os.read(srv.stdout.fileno(), 1 << 20)
    if not d:
        fail("server closed the connection; last sent %r" % last[:200])
    buf += d

def frame(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xff)

def get_reply():
    """Skip acks, return the next packet's body; check its checksum."""
    global buf
    deadline = time.time() + 10
    while True:
        while buf[:1] in (b"+", b"-"):
            buf = buf[1:]
        if buf and buf[:1] != b"$":
            fail("garbage from the server: %r" % buf[:50])
        end = buf.find(b"#")
        if end >= 0 and len(buf) >= end + 3:
            body = buf[1:end]
            cs = int(buf[end + 1:end + 3], 16)
            buf = buf[end + 3:]
            if cs != sum(body) & 0xff:
                fail("bad checksum from the server")
            srv.stdin.write(b"+"); srv.stdin.flush()
            return body
        read_some(deadline)

last = b""
def send_raw(data):
    global last
    last = data
    srv.stdin.write(data); srv.stdin.flush()

def ask(body):
    send_raw(frame(body))
    r = get_reply()
    # O packets (monitor output) come before the answer
    while r.startswith(b"O") and r != b"OK" and body.startswith(b"qRcmd"):
        r = get_reply()
    return r

# first contact
r = ask(b"qSupported:multiprocess+;swbreak+")
if b"PacketSize=" not in r:
    fail("qSupported: %r" % r)
stop = ask(b"?")
if not stop.startswith(b"T"):
    fail("? gave %r" % stop)

# 0. a ^C sent while everything is stopped (it crossed a stop reply)
# stops the next resume with SIGINT, as gdbserver's SIGINT to the
# program does: gdb waits for that stop (gdb.threads/detach-step-over.exp)
send_raw(b"\x03")
r = ask(b"vCont;c")
if not r.startswith(b"T02"):
    fail("a ^C while stopped, then vCont;c: %r" % r[:40])
# 1. garbage outside packets is ignored
send_raw(bytes(rnd.randrange(256) for _ in range(5000)).replace(b"$", b"").replace(b"\x03", b""))
if not ask(b"?").startswith(b"T"):
    fail("? after garbage")
# 2. a bad checksum gets a NAK and no reply
send_raw(b"$qC#00")
deadline = time.time() + 10
while not buf:
    read_some(deadline)
if buf[:1] != b"-":
    fail("bad checksum not NAKed: %r" % buf[:20])
buf = buf[1:]
# 3. a packet past PacketSize: consumed, an error reply
r = ask(b"m" + b"0" * (300 * 1024))
if not r.startswith(b"E"):
    fail("huge packet: %r" % r[:40])
# 4. numbers that do not parse or are absurd: errors, never a crash
for body in [b"mzz,4", b"m", b"m0,", b"m,10", b"m0,ffffffffffffffff", b"mffffffffffffffffff,1",
             b"Mzz,1:00", b"M0,2:00", b"M0,1:zz", b"X0,10:abc", b"X,", b"G0", b"Gzz",
             b"p", b"pzz", b"p999999", b"pffffffffffffffffff", b"P1=zz", b"P1=", b"P99999=00",
             b"Hg", b"Hgzz", b"Hgp", b"Hgp1.", b"Hq1", b"Tzz", b"T0", b"vCont;q", b"vCont;s:zz",
             b"vCont;C", b"vCont;Czz", b"vCont;r1", b"vCont;rzz,1", b"vAttach;zz", b"vAttach;",
             b"vRun;zz", b"vFile:open:zz,0,0", b"vFile:pread:ffff,10,0", b"vFile:close:999",
             b"vFile:fstat:", b"vFile:readlink:", b"vFile:setfs:", b"qXfer:features:read:target.xml:zz,10",
             b"qXfer:features:read:nosuch.xml:0,10", b"qXfer:auxv:read::0,ffffffffffff",
             b"qXfer:threads:read::ffffffff,10", b"qXfer:x", b"qXfer:exec-file:read:zz:0,10",
             b"qRcmd,zz", b"qRcmd,", b"QPassSignals:zz", b"QEnvironmentHexEncoded:z",
             b"QSetWorkingDir:zz", b"qThreadExtraInfo,zz", b"Z0,zz,1", b"z9,0,0", b"x0,ffffffff",
             b"qGetTLSAddr:", b"qGetTLSAddr:zz,0,0", b"qGetTLSAddr:p1.1,0,0",
             b"qGetTLSAddr:-1,ffffffffffffffff,ffffffffffffffff", b"qGetTLSAddr:1,0,0,0",
             b"qXfer:libraries-svr4:read:start=ffffffffffff;prev=1:0,fff",
             b"qXfer:libraries-svr4:read:start=zz:0,10", b"qXfer:libraries-svr4:read:lmid=:0,10",
             b"qXfer:libraries-svr4:read:;;=;:0,10", b"qXfer:osdata:read:nosuch:0,10",
             b"qXfer:osdata:read:processes:ffffffff,10",
             # breakpoint conditions (agent expressions): malformed
             b"Z0,1000,1;X3,ff0127", b"Z0,1000,1;X4,21ffff27", b"Z0,1000,1;X2,2201",
             b"Z0,1000,1;X3,22", b"Z0,1000,1;X0,", b"Z0,1000,1;Xffffffff,27",
             b"Z0,1000,1;Xfffffffffffffffff,27", b"Z0,1000,1;X", b"Z0,1000,1;;", b"Z0,1000,1;X3,zz0127",
             b"Z1,1000,1;X3,220127;Y", b"Z0,1000,1;cmds:", b"Z0,1000,1" + b";X3,220127" * 40,
             b"Z0,1000,1;X10001," + b"27" * 0x10001,
             b"\x00\x01\x02", b"}", b"}}}}"]:
    ask(body)
# 5. random packets from real prefixes
prefixes = [b"m", b"M", b"X", b"x", b"p", b"P", b"g", b"G", b"H", b"T", b"q", b"Q", b"v",
            b"qXfer:features:read:target.xml:", b"qXfer:threads:read::", b"qXfer:auxv:read::",
            b"qXfer:siginfo:read::", b"qXfer:exec-file:read:", b"vFile:open:", b"vFile:pread:",
            b"vFile:fstat:", b"vFile:readlink:", b"vFile:setfs:", b"qThreadExtraInfo,", b"Hg", b"Hc",
            b"qfThreadInfo", b"qsThreadInfo", b"qC", b"qAttached", b"QPassSignals:", b"qSupported:",
            b"QEnvironmentHexEncoded:", b"vCont?", b"qRcmd,68656c70", b"Z", b"z", b"qSymbol::",
            b"qGetTLSAddr:", b"qXfer:libraries-svr4:read:", b"qXfer:libraries-svr4:read:start=",
            b"qXfer:osdata:read:", b"Z0,1000,1;X", b"Z1,1000,1;X3,", b"Z0,1000,1;X8,2521"]
alphabet = b"0123456789abcdefABCDEFxp.-,;:=}#$*zq"
for i in range(3000):
    body = rnd.choice(prefixes) + bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(40)))
    # escape what the framing would read as its own
    esc = bytearray()
    for b in body:
        if b in b"$#}*":
            esc += bytes([0x7d, b ^ 0x20])
        else:
            esc.append(b)
    ask(bytes(esc))
# 6. still working
if not ask(b"?").startswith(b"T"):
    fail("? at the end")
g = ask(b"Hg0")
g = ask(b"g")
# run-length encoded (c*N: N - 29 more of c), as every client decodes it
import re
g = re.sub(rb"(.)\*(.)", lambda m: m.group(1) * (m.group(2)[0] - 28), g)
if len(g) < 1000 or any(c not in b"0123456789abcdef" for c in g):
    fail("g at the end: %r" % g[:60])
t = ask(b"qfThreadInfo")
if not t.startswith(b"m") or t.count(b",") != 3:
    fail("qfThreadInfo at the end: %r" % t)
x = ask(b"qXfer:features:read:target.xml:0,fff")
if b"org.gnu.gdb.i386.core" not in x:
    fail("target.xml at the end")
ask(b"qRcmd,65786974")  # monitor exit
srv.stdin.close()
try:
    srv.wait(10)
except subprocess.TimeoutExpired:
    fail("server did not exit after monitor exit")
if tgt.poll() is not None:
    fail("the target died")
tgt.kill(); tgt.wait()
print("PASS: %d hostile packets, server alive and answering" % (3000 + 74))
