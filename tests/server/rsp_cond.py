#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Target-side breakpoint conditions through dbg-server, by a raw client
over stdio with hand-assembled agent expressions (tests/server/srv_cond.c):
- qSupported offers ConditionalBreakpoints+;
- malformed conditions (unknown opcode, jump out of range, truncated
  operand, bad lengths and hex, no `end`...) get E01 and insert nothing
  (z0 then has nothing to remove); a malformed Z0 over an existing
  breakpoint leaves its conditions as they were;
- Z0 with a register condition ((rdi & 1) && !(rdi < 6)) stops only at
  cond_hit(7) and cond_hit(9), never at 0..6 or 8;
- a new Z0 at the same address replaces the conditions: two of them,
  one false (rdi == 100), one reading memory (cond_var == 12): the stop
  is at 12, not 11;
- conditions that fail to evaluate (unreadable memory, division by zero,
  an endless loop, a register the description does not have) report the
  stop: 13, 14, 15, 16;
- Z1 (hardware) in its place with rdi == 17: the stop is at 17;
- rdi == 100 at cond_thr, hit
  by four threads running at once 200 times each: exactly four stops, each
  with rdi == 100, and every one of the 800 calls is made (exit code 32);
- Z1 (hardware) with two conditions, cond_var == 5 (false) and
  cond_var == 19 (true): stops at cond_other (hwbreak);
- non-stop, 16 threads calling cond_spin in a tight loop over a false
  condition: 20 memory reads answered within 5 s each while they run,
  then vCont;t stops all 17 threads and each reads the same registers
  twice (none set running again after its stop was reported);
- all-stop, the same 16 threads over a breakpoint without a condition:
  30 step-overs as gdb makes them (z0, vCont;s:T, Z0), some after a ^C
  that crossed the stop reply, each answered by T's own stop, never by a
  hit kept for another thread (the ^C's SIGINT may come one resume
  later, when a kept event of T answered first, as gdbserver's signal
  would); a ^C while only T runs stops T (SIGINT);
- two processes, B attached after A: a ^C while everything is stopped,
  then a step of one thread of A, answered by that step's stop, and the
  SIGINT reported for B at the next resume (gdbserver signals B); but a
  step that blocks in a system call gets the SIGINT after a second.
Usage: rsp_cond.py DBG_SERVER SRV_COND"""
import os, re, select, struct, subprocess, sys, time

# The target the server starts inherits this: LeakSanitizer cannot run
# in a traced process and makes an ASan-built target exit 1 (as the C
# tests' harness.h says for theirs).
os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")

server, target = sys.argv[1], sys.argv[2]
syms = {}
for l in subprocess.run(["nm", target], capture_output=True, text=True, check=True).stdout.splitlines():
    f = l.split()
    if len(f) == 3:
        syms[f[2]] = int(f[0], 16)
HIT, THR, OTHER, VAR = syms["cond_hit"], syms["cond_thr"], syms["cond_other"], syms["cond_var"]
SPIN = syms["cond_spin"]

srv = subprocess.Popen([server, "stdio", target], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
buf = b""
last = b""
noack = False

tpid = 0  # the target, from the first stop reply: killed on a failure
other_pid = 0  # section 10's attached process: killed on a failure

def fail(msg):
    print("FAIL:", msg, "; last sent %r" % last[:120])
    srv.kill()
    srv.wait()
    for pid in (tpid, other_pid):
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
    sys.exit(1)

def note_pid(reply):
    global tpid
    m = re.search(rb"thread:p([0-9a-f]+)\.", reply)
    if m:
        tpid = int(m.group(1), 16)

def frame(body):
    return b"$" + body + b"#%02x" % (sum(body) & 0xff)

notes = []  # non-stop notifications (%Stop:...), in order

def get_reply(timeout=30, want_note=False):
    global buf
    deadline = time.time() + timeout
    while True:
        while buf[:1] in (b"+", b"-"):
            buf = buf[1:]
        end = buf.find(b"#")
        if buf[:1] in (b"$", b"%") and end >= 0 and len(buf) >= end + 3:
            kind, body = buf[:1], buf[1:end]
            buf = buf[end + 3:]
            # run-length encoding: c*N is N - 29 more of c
            body = re.sub(rb"(.)\*(.)", lambda m: m.group(1) * (m.group(2)[0] - 28), body)
            if kind == b"%":
                notes.append(body)
            else:
                if not noack:
                    srv.stdin.write(b"+"); srv.stdin.flush()
                return body
            if want_note:
                return None
            continue
        left = deadline - time.time()
        r, _, _ = select.select([srv.stdout], [], [], max(left, 0))
        if not r:
            fail("no reply within %d s" % timeout)
        d = os.read(srv.stdout.fileno(), 1 << 16)
        if not d:
            fail("server closed the connection")
        buf += d

def ask(body, timeout=30):
    global last
    last = body if isinstance(body, bytes) else body.encode()
    srv.stdin.write(frame(last)); srv.stdin.flush()
    return get_reply(timeout)

def end_server():
    srv.stdin.close()
    try:
        srv.wait(10)
    except subprocess.TimeoutExpired:
        srv.kill()

def start_spin():
    """A server of its own on "srv_cond spin" (16 threads calling
    cond_spin without end)."""
    global srv, buf
    srv = subprocess.Popen([server, "stdio", target, "spin"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buf = b""
    ask(b"qSupported:multiprocess+;swbreak+;vContSupported+")

# agent expression pieces (gdb's opcode numbers)
def c8(v): return bytes([0x22, v])
def c64(v): return b"\x25" + struct.pack(">Q", v)
def reg(n): return b"\x26" + struct.pack(">H", n)
ADD, SUB, DIVS, LNOT, BAND, EQ, LTS, REF32, END = b"\x02", b"\x03", b"\x05", b"\x0e", b"\x0f", b"\x13", b"\x14", b"\x19", b"\x27"
RDI = 5

def X(code):
    return b";X%x,%s" % (len(code), code.hex().encode())

def Z(t, addr, *conds):
    return ask(b"Z%d,%x,1" % (t, addr) + b"".join(X(c) for c in conds))

def rdi():
    r = ask(b"p%x" % RDI)
    if len(r) != 16:
        fail("p%x: %r" % (RDI, r))
    return struct.unpack("<Q", bytes.fromhex(r.decode()))[0]

def cont():
    r = ask(b"vCont;c", timeout=60)
    while r.startswith(b"O"):
        r = get_reply(60)
    return r

def expect_stop(what, reason, want_rdi=None, want_pc=None):
    r = cont()
    if not r.startswith(b"T05") or reason not in r:
        fail("%s: stop %r" % (what, r))
    if want_rdi is not None and rdi() != want_rdi:
        fail("%s: stopped with rdi %d, not %d" % (what, rdi(), want_rdi))
    if want_pc is not None:
        pc = struct.unpack("<Q", bytes.fromhex(ask(b"p10").decode()))[0]
        if pc != want_pc:
            fail("%s: pc %#x, not %#x" % (what, pc, want_pc))
    return r

r = ask(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
if b"ConditionalBreakpoints+" not in r:
    fail("qSupported does not offer ConditionalBreakpoints+: %r" % r)
r = ask(b"?")
if not r.startswith(b"T"):
    fail("? after the start")
note_pid(r)

# 1. malformed conditions: E01, nothing inserted
good = c8(1) + END
bad = [b";X3,ff0127",                 # unknown opcode
       b";X3,310127",                 # invalid2
       b";X4,22012100",               # goto's operand cut short
       b";X4,21001027",               # goto past the end
       b";X4,22012100"[:-2],          # shorter than its length
       b";X3,2201",                   # shorter than its length
       b";X0,",                       # empty
       b";X3,22012z",                 # bad hex
       b";Xzz,220127",                # bad length
       b";X3,220127junk",             # trailing junk
       b";X3,220127;X",               # second condition cut
       b";Y3,220127",                 # not a condition
       b";X10001," + b"27" * 0x10001, # too long
       b";X3,220127" * 33]            # too many conditions
for cond in bad:
    r = ask(b"Z0,%x,1" % OTHER + cond)
    if r != b"E01":
        fail("malformed condition %r accepted: %r" % (cond[:40], r))
    r = ask(b"z0,%x,1" % OTHER)
    if r != b"E01":
        fail("malformed condition %r left a breakpoint (z0: %r)" % (cond[:40], r))

# 2. a register condition: odd and not below 6
odd_ge6 = reg(RDI) + c8(1) + BAND + reg(RDI) + c8(6) + LTS + LNOT + BAND + END
if Z(0, HIT, odd_ge6) != b"OK":
    fail("Z0 with a condition refused")
# a malformed one over it changes nothing
if ask(b"Z0,%x,1;X3,ff0127" % HIT) != b"E01":
    fail("malformed Z0 over a breakpoint accepted")
expect_stop("odd and >= 6", b"swbreak", 7, HIT)
expect_stop("odd and >= 6, again", b"swbreak", 9, HIT)

# 3. replaced: rdi == 100 (never), cond_var == 12 (memory)
if Z(0, HIT, reg(RDI) + c8(100) + EQ + END, c64(VAR) + REF32 + c8(12) + EQ + END) != b"OK":
    fail("Z0 replacing the conditions refused")
expect_stop("replaced conditions", b"swbreak", 12, HIT)

# 4. evaluation errors report the stop
for what, code, at in [("unreadable memory", c8(0) + REF32 + END, 13),
                       ("division by zero", c8(1) + c8(0) + DIVS + END, 14),
                       ("endless loop", b"\x21\x00\x00", 15),
                       ("register outside the description", reg(9999) + END, 16)]:
    if Z(0, HIT, code) != b"OK":
        fail("Z0 (%s) refused" % what)
    t0 = time.time()
    expect_stop(what, b"swbreak", at, HIT)
    if time.time() - t0 > 20:
        fail("%s took %.1f s" % (what, time.time() - t0))

# 5. hardware breakpoint in its place: rdi == 17 (16, standing on it, resumed silently)
if ask(b"z0,%x,1" % HIT) != b"OK":
    fail("z0 at cond_hit")
if Z(1, HIT, reg(RDI) + c8(17) + EQ + END) != b"OK":
    fail("Z1 with a condition refused")
expect_stop("Z1 with rdi == 17", b"hwbreak", 17, HIT)
if ask(b"z1,%x,1" % HIT) != b"OK":
    fail("z1 at cond_hit")

# 6. threads: rdi == 100 at cond_thr
if Z(0, THR, reg(RDI) + c8(100) + EQ + END) != b"OK":
    fail("Z0 for the threads refused")
# 7. hardware: cond_var == 5 (false) or cond_var == 19 (true)
r = Z(1, OTHER, c64(VAR) + REF32 + c8(5) + EQ + END, c64(VAR) + REF32 + c8(19) + EQ + END)
if r != b"OK":
    fail("Z1 with conditions: %r" % r)
tids = set()
for k in range(4):
    r = expect_stop("thread hit %d" % k, b"swbreak", 100, THR)
    tids.add(r.split(b"thread:")[1].split(b";")[0])
if len(tids) != 4:
    fail("the four stops came from %d threads: %r" % (len(tids), tids))
expect_stop("Z1 at cond_other", b"hwbreak", None, OTHER)
r = cont()
if not (r == b"W20" or r.startswith(b"W20;")):
    fail("the program's end: %r (32 = all 800 calls made)" % r)
end_server()

# 8. non-stop: 16 threads call cond_spin without end over a breakpoint
# whose condition is false. The server must go on answering gdb (it did
# not: draining the silent hits never ended), and the threads a vCont;t
# stops must stay stopped (one hitting the breakpoint as it was stopped
# was set running again after its stop was reported: 'g' got E01).
start_spin()
if ask(b"QNonStop:1") != b"OK":
    fail("QNonStop:1")
r = ask(b"?")
note_pid(r)
while r != b"OK":
    r = ask(b"vStopped")
if Z(0, SPIN, c8(0) + END) != b"OK":
    fail("non-stop Z0")
if ask(b"vCont;c") != b"OK":
    fail("non-stop vCont;c")
time.sleep(1)
for k in range(20):
    t0 = time.time()
    r = ask(b"m%x,4" % VAR, timeout=5)
    if len(r) != 8:
        fail("non-stop read %d: %r" % (k, r))
    time.sleep(0.05)
if ask(b"vCont;t") != b"OK":
    fail("vCont;t")
deadline = time.time() + 20
while not notes and time.time() < deadline:
    get_reply(timeout=max(deadline - time.time(), 0.1), want_note=True)
if not notes:
    fail("no %Stop after vCont;t")
stops = [notes.pop(0)[len(b"Stop:"):]]
while True:
    r = ask(b"vStopped")
    if r == b"OK":
        break
    stops.append(r)
tids = [x.split(b"thread:")[1].split(b";")[0] for x in stops]
if len(set(tids)) != 17:
    fail("vCont;t: stops of %d threads, not 17: %r" % (len(set(tids)), stops))
time.sleep(0.5)
for t in tids:
    if ask(b"Hg" + t) != b"OK":
        fail("Hg%s" % t.decode())
    g1 = ask(b"g")
    time.sleep(0.05)
    g2 = ask(b"g")
    if g1.startswith(b"E") or g1 != g2:
        fail("thread %s is not stopped after its stop was reported (g: %r...)" % (t.decode(), g1[:8]))
ask(b"vKill;%x" % int(tids[0].split(b".")[0][1:], 16))
end_server()

# 9. all-stop, 16 threads hitting one breakpoint at once: the hits the
# server keeps while it reports one. gdb steps the reporting thread over
# the breakpoint it took out (z0, vCont;s:T, Z0); a kept hit of another
# thread must not answer that step, not even when a ^C crossed the last
# stop reply (it was, for the ^C: gdb asserted in finish_step_over,
# gdb.threads/detach-step-over.exp). And a ^C while only that thread
# runs stops it, whatever hits are kept for the others.
start_spin()
note_pid(ask(b"?"))
if Z(0, SPIN) != b"OK":
    fail("all-stop Z0")

def tid_of(r):
    m = re.search(rb"thread:(p[0-9a-f]+\.[0-9a-f]+);", r)
    if not m:
        fail("no thread in %r" % r)
    return m.group(1)

def step_over(t, what):
    if ask(b"z0,%x,1" % SPIN) != b"OK":
        fail("z0 (%s)" % what)
    r = ask(b"vCont;s:" + t, timeout=60)
    if not r.startswith((b"T05", b"T02")) or tid_of(r) != t:
        fail("%s: the step of %s answered by %r" % (what, t.decode(), r[:60]))
    if Z(0, SPIN) != b"OK":
        fail("Z0 again (%s)" % what)
    return r

hitters = set()
sigint_owed = False  # a ^C not yet answered by a SIGINT stop
for k in range(30):
    r = cont()
    if r.startswith(b"T02") and sigint_owed:
        # the ^C's SIGINT, after a kept event answered the step first
        sigint_owed = False
        r = cont()
    if not r.startswith(b"T05") or b"swbreak" not in r:
        fail("all-stop hit %d: %r" % (k, r[:60]))
    hitters.add(tid_of(r))
    if k % 3 == 2:
        srv.stdin.write(b"\x03"); srv.stdin.flush()  # a ^C that crossed the stop reply
        sigint_owed = True
    if step_over(tid_of(r), "step-over %d" % k).startswith(b"T02"):
        sigint_owed = False
# a ^C while only the reporting thread runs (scheduler-locking), the
# breakpoint out: the SIGINT of that thread, not a hit kept for another
r = cont()
if r.startswith(b"T02") and sigint_owed:
    r = cont()
t = tid_of(r)
if ask(b"z0,%x,1" % SPIN) != b"OK":
    fail("z0 before vCont;c:T")
last = b"vCont;c:" + t
srv.stdin.write(frame(last)); srv.stdin.flush()
time.sleep(0.3)
srv.stdin.write(b"\x03"); srv.stdin.flush()
r = get_reply(60)
if not r.startswith(b"T02") or tid_of(r) != t:
    fail("^C with only %s running: %r" % (t.decode(), r[:60]))
ask(b"vKill;%x" % tpid)
end_server()

# 10. two processes, all-stop: A (run by the server) and B (attached
# after, so the one gdbserver's SIGINT goes to). A ^C that crossed a stop
# reply, then gdb steps one thread of A with the rest stopped (a step
# over a breakpoint): the step ends as a step; the SIGINT is B's, at the
# next resume that runs B. Reported for the stepping thread of A, gdb
# made A current and `detach` let A go instead of B
# (gdb.threads/detach-step-over.exp, extended-remote).
start_spin()
note_pid(ask(b"?"))
pid_a = tpid
last = b"vCont;c"  # to A's threads spinning
srv.stdin.write(frame(last)); srv.stdin.flush()
time.sleep(0.3)
srv.stdin.write(b"\x03"); srv.stdin.flush()
if not get_reply(60).startswith(b"T02"):
    fail("^C of A alone")
ask(b"!")
other = subprocess.Popen([target, "spin"])
other_pid = other.pid
time.sleep(0.3)
r = ask(b"vAttach;%x" % other.pid, timeout=60)
if not r.startswith(b"T"):
    fail("vAttach: %r" % r[:60])
tids_a = []
r = ask(b"qfThreadInfo")
while r.startswith(b"m"):
    tids_a += [t for t in r[1:].split(b",") if t.startswith(b"p%x." % pid_a)]
    r = ask(b"qsThreadInfo")
spinner = next((t for t in tids_a if t != b"p%x.%x" % (pid_a, pid_a)), None)
if not spinner:
    fail("no spinning thread of A in the thread list")
# a step ends fast and its stop may come before the ^C is looked at,
# hiding a SIGINT given to the stepping thread: several rounds
for k in range(6):
    srv.stdin.write(b"\x03"); srv.stdin.flush()  # crosses nothing: all is stopped
    time.sleep(0.1)
    r = ask(b"vCont;s:" + spinner, timeout=60)
    if not r.startswith(b"T05") or tid_of(r) != spinner:
        fail("round %d: step of %s after a ^C: %r (the SIGINT is B's)" % (k, spinner.decode(), r[:60]))
    r = cont()
    if not r.startswith(b"T02") or not tid_of(r).startswith(b"p%x." % other.pid):
        fail("round %d: the ^C after the step: %r, not a SIGINT of B (%x)" % (k, r[:60], other.pid))
# a step that does not end (A's main thread, asleep in a system call)
# keeps the ^C waiting a second at most: then it stops that thread
leader_a = b"p%x.%x" % (pid_a, pid_a)
srv.stdin.write(b"\x03"); srv.stdin.flush()
time.sleep(0.1)
t0 = time.time()
r = ask(b"vCont;s:" + leader_a, timeout=10)
waited = time.time() - t0
if not r.startswith((b"T02", b"T05")) or tid_of(r) != leader_a or waited < 0.9:
    fail("a ^C during a step that blocks: %r after %.1f s, not a stop of %s after 1 s"
         % (r[:60], waited, leader_a.decode()))
if r.startswith(b"T05"):
    # the stop ended the system call and the step with it: that step's
    # stop went first, the SIGINT is B's at the next resume
    r = cont()
    if not r.startswith(b"T02") or not tid_of(r).startswith(b"p%x." % other.pid):
        fail("the ^C after a step that blocked: %r, not a SIGINT of B" % r[:60])
ask(b"vKill;%x" % other.pid)
other.wait()
other_pid = 0
ask(b"vKill;%x" % pid_a)
end_server()
print("PASS: %d malformed conditions refused, 14 stops as the conditions say; non-stop: "
      "20 reads served and 17 threads stopped while threads loop over a false breakpoint; "
      "all-stop: 30 step-overs by %d threads answered by their own thread, a ^C by the one "
      "running; a ^C during a step of A reported for B" % (len(bad), len(hitters)))
