#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Non-stop vCont: a thread gdb has resumed and not yet seen stop keeps
its resume, whatever a later vCont's wildcard says (as gdbserver).

gdb steps threads with one vCont (s:A;s:B;...), then, before all their
stops came, resumes another thread with a signal and everything else
with a trailing 'c': vCont;C1e:H;c. H stands on a breakpoint, and a
step-off with a signal is not displaced, so libdbg pauses the other
threads for it, and that pause takes the step traps that came in
meanwhile. dbg-server then resumed those stepped threads on the 'c': the
step trap went to gdb for a thread that was running (a stop reply with no
registers), the thread ran on and its next stop was a second one (gdb 13's
skip_inline_frames assertion; gdb.threads/non-stop-fair-events.exp).

A raw client (stdio mode, attached to the bp_spin target) plays that
sequence ROUNDS times: every spinner must report exactly one stop per
round, with registers, and be stopped one instruction on (its pc read
back with 'p' is spin_inc or spin_jmp, the opposite of before); the
hitter's SIGUSR1 must be handled once per round.
Usage: rsp_nonstop_resumed.py DBG_SERVER BP_SPIN [ROUNDS]"""
import os, select, subprocess, sys, time

server, target = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 400
tgt = subprocess.Popen([target, "6"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
ready = tgt.stdout.readline().decode().split()
assert ready and ready[0] == "ready", ready
f = dict(kv.split("=", 1) for kv in ready[1:])
spin_inc, spin_jmp = int(f["spin_inc"], 16), int(f["spin_jmp"], 16)
hit, usr1 = int(f["hit"], 16), int(f["usr1"], 16)
hitter = int(f["hitter"])
spinners = [int(x) for x in f["tids"].split(",")]
pid = tgt.pid
srv = subprocess.Popen([server, "--attach", str(pid), "stdio"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
buf = b""
notes = []
ack = True


def fail(msg):
    print("FAIL:", msg)
    srv.kill()
    tgt.kill()
    sys.exit(1)


def unrle(body):
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == 0x2a and out and i + 1 < len(body):
            out += bytes([out[-1]]) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(body[i])
            i += 1
    return bytes(out)


def frame(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xff)


def read_more(deadline):
    global buf
    left = deadline - time.time()
    r, _, _ = select.select([srv.stdout], [], [], max(left, 0))
    if not r:
        return False
    d = os.read(srv.stdout.fileno(), 1 << 20)
    if not d:
        fail("server closed the connection")
    buf += d
    return True


def next_packet(deadline):
    """The next reply ($) or notification (%): (kind, body), or None."""
    global buf
    while True:
        while buf[:1] in (b"+", b"-"):
            buf = buf[1:]
        end = buf.find(b"#")
        if buf[:1] in (b"$", b"%") and end >= 0 and len(buf) >= end + 3:
            kind, body = buf[:1], unrle(buf[1:end])
            buf = buf[end + 3:]
            if kind == b"$" and ack:
                srv.stdin.write(b"+")
                srv.stdin.flush()
            return kind, body
        if buf and buf[:1] not in (b"$", b"%"):
            fail("garbage from the server: %r" % buf[:50])
        if not read_more(deadline):
            return None


def get_reply():
    deadline = time.time() + 10
    while True:
        p = next_packet(deadline)
        if p is None:
            fail("no reply within 10 s")
        if p[0] == b"%":
            notes.append(p[1])
            continue
        return p[1]


def ask(body):
    srv.stdin.write(frame(body))
    srv.stdin.flush()
    return get_reply()


def wait_note(secs):
    deadline = time.time() + secs
    while not notes:
        p = next_packet(deadline)
        if p is None:
            return None
        if p[0] == b"$":
            fail("reply %r with nothing asked" % p[1][:60])
        notes.append(p[1])
    return notes.pop(0)


def ptid(tid):
    return b"p%x.%x" % (pid, tid)


def stop_tid(reply):
    i = reply.find(b"thread:")
    if i < 0:
        fail("stop reply without a thread: %r" % reply)
    t = reply[i + 7:reply.index(b";", i)]
    return int(t.split(b".")[1], 16)


def drain(first):
    """A batch of stops: the notification, then vStopped until OK."""
    out = [first]
    while True:
        r = ask(b"vStopped")
        if r == b"OK":
            return out
        out.append(r)


def pc_of(tid):
    if ask(b"Hg" + ptid(tid)) != b"OK":
        fail("Hg %d" % tid)
    r = ask(b"p10")
    if r.startswith(b"E") or len(r) != 16:
        fail("pc of %d: %r (a stop was reported, yet the thread is not stopped)" % (tid, r))
    return int.from_bytes(bytes.fromhex(r.decode()), "little")


if ask(b"QStartNoAckMode") != b"OK":
    fail("QStartNoAckMode")
ack = False
ask(b"qSupported:multiprocess+;swbreak+;vContSupported+")
if ask(b"QNonStop:1") != b"OK":
    fail("QNonStop:1")
r = ask(b"?")
if not r.startswith(b"T"):
    fail("no stop reply to ?: %r" % r)
while ask(b"vStopped") != b"OK":
    pass
# Each spinner into its loop (attached anywhere; one step at a time).
for t in spinners:
    for _ in range(100):
        if pc_of(t) == spin_inc:
            break
        if ask(b"vCont;s:" + ptid(t)) != b"OK":
            fail("vCont;s")
        n = wait_note(10)
        if n is None or stop_tid(n[5:]) != t:
            fail("step of %d into its loop: %r" % (t, n))
        drain(n)
    else:
        fail("spinner %d did not reach its loop" % t)
if ask(b"Z0,%x,1" % hit) != b"OK":
    fail("Z0")
if ask(b"vCont;c:" + ptid(hitter)) != b"OK":
    fail("vCont;c hitter")
n = wait_note(10)
if n is None or stop_tid(n) != hitter or b"swbreak" not in n:
    fail("hitter's breakpoint: %r" % n)
drain(n)

for rnd in range(rounds):
    want = {t: (spin_jmp if pc_of(t) == spin_inc else spin_inc) for t in spinners}
    if ask(b"vCont;" + b";".join(b"s:" + ptid(t) for t in spinners)) != b"OK":
        fail("round %d: vCont;s" % rnd)
    if ask(b"vCont;C1e:" + ptid(hitter) + b";c") != b"OK":
        fail("round %d: vCont;C1e;c" % rnd)
    seen = {}
    hitter_back = False
    while len(seen) < len(spinners) or not hitter_back:
        n = wait_note(10)
        if n is None:
            fail("round %d: no stop of %s in 10 s" %
                 (rnd, [t for t in spinners if t not in seen] + ([] if hitter_back else ["hitter"])))
        for s in drain(n[5:] if n.startswith(b"Stop:") else n):
            t = stop_tid(s)
            if t == hitter:
                if hitter_back:
                    fail("round %d: a second stop of the hitter: %r" % (rnd, s))
                hitter_back = True
                continue
            if t not in want:
                fail("round %d: a stop of %d: %r" % (rnd, t, s))
            if t in seen:
                fail("round %d: a second stop of spinner %d: %r (first %r)" % (rnd, t, s, seen[t]))
            if b";10:" not in s:
                fail("round %d: stop of spinner %d without registers: %r" % (rnd, t, s))
            seen[t] = s
    for t in spinners:
        pc = pc_of(t)
        if pc != want[t]:
            fail("round %d: spinner %d at %#x, want %#x" % (rnd, t, pc, want[t]))
    # the main thread runs on from the 'c' (it reads its stdin): no stop
r = ask(b"m%x,8" % usr1)
count = int.from_bytes(bytes.fromhex(r.decode()), "little")
if count != rounds:
    fail("SIGUSR1 handled %d times in %d rounds" % (count, rounds))
srv.kill()
srv.wait()
tgt.kill()
tgt.wait()
print("rsp_nonstop_resumed: %d rounds, every step of %d spinners reported once, stopped where it "
      "should" % (rounds, len(spinners)))
