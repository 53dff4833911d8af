#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dbg-server started on a terminal, as gdb's testsuite and users start it.

The server runs in a pseudo-terminal (its session's leader); gdb connects
over TCP, lets the program (`sleep`) run, then detaches; the server ends
(--once). Checked, against Debian's gdbserver first when it is there:
- while it runs, the program has a process group of its own and holds the
  terminal's foreground (it reads the terminal and gets its ^C);
- after gdb detaches, the program runs on with the terminal and the
  server ends only when the program does (gdbserver's way with `target
  remote`). dbg-server used to end at once, and the hang-up sent when a
  session leader exits killed the program and its children, which shared
  the server's process group (gdb.threads/pending-fork-event-detach.exp);
- a child the program leaves behind (`sh -c 'sleep 60 & sleep 2'`) still
  runs after the program and the server have ended: the server gives the
  terminal back before it ends, or its hang-up would go to the program's
  group, the child's.
Usage: server_pty.py DBG_SERVER
"""
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stat_fields(pid):
    """(state, pgrp, session, tpgid) of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return rest[0], int(rest[2]), int(rest[3]), int(rest[5])


def alive(pid):
    try:
        return stat_fields(pid)[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def session(name, server, prog_argv=("/bin/sleep", "60")):
    port = free_port()
    spid, fd = pty.fork()
    if spid == 0:
        os.execv(server, [server, "--once", "127.0.0.1:%d" % port] + list(prog_argv))
    out = b""
    prog = 0
    deadline = time.time() + 30
    while b"Listening on port" not in out and time.time() < deadline:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
    for word in out.decode(errors="replace").replace(";", " ").split():
        if word.isdigit():
            prog = int(word)  # "... created; pid = N"
            break
    if not prog:
        print("%s: no program pid in: %r" % (name, out))
        return False
    gdb = subprocess.Popen(["gdb", "-nx", "-batch", "-ex", "set sysroot",
                            "-ex", "target remote 127.0.0.1:%d" % port,
                            "-ex", "continue", "-ex", "detach", prog_argv[0]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = True
    try:
        # running: its own process group, the terminal's foreground
        deadline = time.time() + 30
        while time.time() < deadline and stat_fields(prog)[0] != "S":
            time.sleep(0.05)
        time.sleep(0.3)
        state, pgrp, sid, tpgid = stat_fields(prog)
        kids = [k for k in children(prog) if cmdline(k) == ["sleep", "60"]]
        if pgrp != prog or tpgid != prog:
            print("%s: running program %d: pgrp %d, terminal foreground %d (want %d)"
                  % (name, prog, pgrp, tpgid, prog))
            ok = False
        # gdb interrupts, detaches and quits
        gdb.send_signal(signal.SIGINT)
        try:
            gdb.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("%s: gdb did not end after ^C" % name)
            ok = False
        time.sleep(0.5)
        # the program runs on, not stopped, with the terminal; the
        # server waits for it (gdbserver's way in remote mode)
        if not alive(prog) or stat_fields(prog)[0] in ("T", "t"):
            print("%s: the program gdb detached is %s" % (name,
                  "stopped" if alive(prog) else "gone"))
            ok = False
        elif stat_fields(prog)[3] != prog:
            print("%s: the detached program lost the terminal" % name)
            ok = False
        if os.waitpid(spid, os.WNOHANG)[0] == spid:
            spid = 0
            print("%s: the server ended before the program it started" % name)
            ok = False
        if prog_argv[0] == "/bin/sleep":
            os.kill(prog, signal.SIGTERM)
        deadline = time.time() + 30
        while spid and time.time() < deadline:
            if os.waitpid(spid, os.WNOHANG)[0] == spid:
                spid = 0
                break
            time.sleep(0.05)
        if spid:
            print("%s: the server did not end after the program" % name)
            ok = False
        time.sleep(0.3)
        for k in kids:
            if not alive(k):
                print("%s: the program's child %d died when the server ended" % (name, k))
                ok = False
            else:
                os.kill(k, signal.SIGKILL)
        if prog_argv[0] != "/bin/sleep" and not kids:
            print("%s: the program had no child" % name)
            ok = False
    finally:
        for pid in (prog, spid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if spid:
            os.waitpid(spid, 0)
        gdb.kill()
        gdb.wait()
        os.close(fd)
    print("%s: %s" % (name, "ok" if ok else "FAILED"))
    return ok


def main():
    if not shutil.which("gdb"):
        print("SKIP: no gdb")
        return 77
    good = True
    if shutil.which("gdbserver"):
        good = session("gdbserver", shutil.which("gdbserver")) and good
    good = session("dbg-server", sys.argv[1]) and good
    # not with gdbserver: its ^C is a SIGINT to the program's group,
    # which ends the shell here
    bg = ("/bin/sh", "-c", "sleep 60 & sleep 2")
    good = session("dbg-server bgchild", sys.argv[1], bg) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
