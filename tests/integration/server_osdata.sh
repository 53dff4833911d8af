#!/bin/sh
# gdb's `info os` for every type through dbg-server, with Debian's
# gdbserver as the oracle: tests/server/srv_osdata (its own /dev/null fd,
# a file whose name needs XML escaping, TCP/UDP sockets, a SysV shm
# segment, semaphore set and message queue, a second thread, the name
# os<&>"') stopped at osdata_ready; then, for each server:
# - each table's header line must be gdbserver's;
# - the target's rows must be there with every column right (pid, names,
#   the escaped path and name as they are, ports, keys and ids, sizes,
#   users, times); cpus has a row per /proc/cpuinfo processor, modules one
#   per /proc/modules line;
# - `info os` lists the ten types, `info os unknown_entry` gives gdb's
#   "Wrong osdata type?" warning;
# - (dbg-server only: gdbserver's document no longer parses) a process
#   whose command line has bytes that are not UTF-8 and a control byte is
#   listed, those shown as '?' and left out;
# - (dbg-server only) with DBG_SERVER_OSDATA_PROC at a tree of made-up
#   net/sysvipc/cpuinfo/modules files (a 100 KB line, malformed and
#   truncated lines, overflowing numbers, names to escape, a missing file,
#   no newline at the end) the good rows are shown right, the bad ones
#   left out, and gdb never meets XML it cannot parse.
# The same checks run on gdbserver's session first (a check it fails is a
# wrong check). Usage: server_osdata.sh DBG_SERVER SRV_OSDATA
set -eu
# LeakSanitizer cannot run in a traced target (ASan builds): its exit code would be 23
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
server=$1
prog=$2
command -v gdbserver > /dev/null || { echo "SKIP: no gdbserver (scripts/deps.sh)"; exit 77; }
command -v gdb > /dev/null || { echo "SKIP: no gdb"; exit 77; }
[ -r /proc/sysvipc/shm ] || { echo "SKIP: no /proc/sysvipc (kernel without SysV IPC)"; exit 77; }
tmp=$(mktemp -d)
# The IPC objects outlive a killed target: remove the ones it printed.
cleanup() {
	for f in "$tmp"/*.out; do
		[ -f "$f" ] || continue
		for v in shmid semid msqid; do
			id=$(sed -n "s/^$v = \\([0-9]*\\)$/\\1/p" "$f" | head -n 1)
			[ -n "$id" ] || continue
			case $v in
			shmid) ipcrm -m "$id" 2> /dev/null || true ;;
			semid) ipcrm -s "$id" 2> /dev/null || true ;;
			msqid) ipcrm -q "$id" 2> /dev/null || true ;;
			esac
		done
	done
	[ -n "${KEEP-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP-}" ] && echo "tmp: $tmp"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_listen() { # log
	for _ in $(seq 1 100); do
		grep -q 'Listening on port' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server did not listen:"; cat "$1"; return 1
}

odd="$tmp/o<&>\"'x"
types="processes procgroups threads files sockets shm semaphores msg cpus modules unknown_entry"

session() { # server out
	srv=$1 out=$2
	port=$(free_port)
	$srv --once "127.0.0.1:$port" "$prog" "$odd" > "$out.server" 2>&1 &
	spid=$!
	wait_listen "$out.server"
	set -- -ex "target remote 127.0.0.1:$port" -ex 'break osdata_ready' -ex 'continue'
	for v in mypid tid2 nullfd oddfd port port6 uport shmkey shmid semkey semid msgkey msqid; do
		set -- "$@" -ex "output $v" -ex "echo \\n"
	done
	set -- "$@" -ex 'echo ==== types\n' -ex 'info os'
	for t in $types; do
		set -- "$@" -ex "echo ==== $t\\n" -ex "info os $t"
	done
	timeout 120 gdb -nx -batch -ex 'set sysroot' -ex 'set width 0' -ex 'set height 0' \
		-ex 'set confirm off' "$@" -ex 'echo ==== end\n' -ex 'continue' "$prog" \
		> "$out.raw" 2>&1 < /dev/null || { echo "gdb failed:"; cat "$out.raw"; exit 1; }
	wait "$spid" || true
	# the printed values, as name = value lines for cleanup and the checker
	awk 'BEGIN { split("mypid tid2 nullfd oddfd port port6 uport shmkey shmid semkey semid msgkey msqid", n, " ") }
	     /^Breakpoint 1, |hit Breakpoint 1,/ { on = 1; i = 0; next }
	     on && /^-?[0-9]+$/ && i < 13 { print n[++i] " = " $0; next }
	     /^==== types/ { on = 0 }' "$out.raw" > "$out"
}

cat > "$tmp/check.py" <<'PY'
import os, re, sys, pwd, grp
raw, vals_file, odd, prog, who = sys.argv[1:6]
ref = sys.argv[6] if len(sys.argv) > 6 else None
v = dict(l.split(" = ") for l in open(vals_file).read().split("\n") if " = " in l)
v = {k: int(x) for k, x in v.items()}
def sections(path):
    sec, cur = {}, None
    for line in open(path, errors="replace").read().split("\n"):
        m = re.match(r"^==== (\S+)$", line)
        if m:
            cur = m.group(1); sec[cur] = []; continue
        if cur and cur != "end":
            sec[cur].append(line.rstrip())
    return sec
s = sections(raw)
fails = []
def fail(msg):
    fails.append(msg)
need = ["mypid", "tid2", "nullfd", "oddfd", "port", "uport", "shmkey", "shmid",
        "semkey", "semid", "msgkey", "msqid"]
missing = [k for k in need if k not in v]
if missing:
    print("FAIL(%s): gdb did not print %s" % (who, missing)); sys.exit(1)
user = pwd.getpwuid(os.getuid()).pw_name
group = grp.getgrgid(os.getgid()).gr_name
name = "os<&>\"'"
pid, e = v["mypid"], re.escape
T = r"\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}"  # a ctime() time
def has(t, pattern, what):
    rx = re.compile("^" + pattern + "$")
    if not any(rx.match(l) for l in s.get(t, [])):
        fail("info os %s: no %s row /%s/" % (t, what, pattern))
# the types
types = {"cpus": "Listing of all cpus/cores on the system",
         "files": "Listing of all file descriptors",
         "modules": "Listing of all loaded kernel modules",
         "msg": "Listing of all message queues",
         "processes": "Listing of all processes",
         "procgroups": "Listing of all process groups",
         "semaphores": "Listing of all semaphores",
         "shm": "Listing of all shared-memory regions",
         "sockets": "Listing of all internet-domain sockets",
         "threads": "Listing of all threads"}
for t, d in types.items():
    has("types", e(t) + " +" + e(d), t)
cmdline = e(prog + " " + odd) + " ?"
has("processes", r"%d +%s +%s +[0-9,]+" % (pid, e(user), cmdline), "target")
has("procgroups", r"%d +%s +%d +%s" % (pid, e(name), pid, cmdline), "target")
for tid in (pid, v["tid2"]):
    has("threads", r"%d +%s +%d +\d+" % (pid, e(name), tid), "thread %d" % tid)
has("files", r"%d +%s +%d +/dev/null" % (pid, e(name), v["nullfd"]), "/dev/null")
has("files", r"%d +%s +%d +%s" % (pid, e(name), v["oddfd"], e(odd)), "odd file")
has("sockets", r"0\.0\.0\.0 +%d +0\.0\.0\.0 +0 +LISTEN +%s +INET +STREAM" % (v["port"], e(user)), "TCP")
has("sockets", r"0\.0\.0\.0 +%d +0\.0\.0\.0 +0 +CLOSE +%s +INET +DGRAM" % (v["uport"], e(user)), "UDP")
if v.get("port6"):
    has("sockets", r"::1 +%d +:: +0 +LISTEN +%s +INET6 +STREAM" % (v["port6"], e(user)), "TCP6")
ug = r"%s +%s +%s +%s" % (e(user), e(group), e(user), e(group))
has("shm", r"%d +%d +666 +4096 +%s +0 +0 +%s +%s" % (v["shmkey"], v["shmid"], e(name), ug, T), "segment")
has("semaphores", r"%d +%d +666 +3 +%s +%s" % (v["semkey"], v["semid"], ug, T), "set")
has("msg", r"%d +%d +666 +5 +1 +%s +0 +%s +%s +%s" % (v["msgkey"], v["msqid"], e(name), ug, T, T), "queue")
ncpu = sum(1 for l in open("/proc/cpuinfo") if re.match(r"processor\s*:", l))
rows = [l for l in s.get("cpus", [])[1:] if l]
if len(rows) != ncpu or not all(re.match(r"^%d +" % i, r) for i, r in enumerate(rows)):
    fail("info os cpus: %d rows, /proc/cpuinfo has %d processors" % (len(rows), ncpu))
try:
    nmod = sum(1 for l in open("/proc/modules") if len(l.split()) >= 6)
except OSError:
    nmod = 0
rows = [l for l in s.get("modules", []) if l]
if nmod and (len(rows) != nmod + 1 or not re.match(r"^name +size +num uses +dependencies +status +address$", rows[0])):
    fail("info os modules: %d lines, /proc/modules has %d modules" % (len(rows), nmod))
if not nmod and rows:
    fail("info os modules: rows without /proc/modules: %s" % rows[:2])
if s.get("unknown_entry") != ["warning: Empty data returned by target.  Wrong osdata type?",
                              "Can not fetch data now."]:
    fail("info os unknown_entry: %s" % s.get("unknown_entry"))
if os.environ.get("BADPID"):
    has("processes", r"%s +%s +\S*python3 -c import time; time\.sleep\(100\) \?\?badctl\u00e9ok ?" % (os.environ["BADPID"], e(user)) + r" +[0-9,]+",
        "not UTF-8")
# headers: gdbserver's
if ref:
    r = sections(ref)
    for t in ["types"] + [t for t in types if t != "modules"] + ["modules"]:
        mine = (s.get(t) or [""])[0]
        theirs = (r.get(t) or [""])[0]
        if mine.split() != theirs.split():
            fail("info os %s: header\n  %s\n  not gdbserver's\n  %s" % (t, mine, theirs))
for f in fails:
    print("FAIL(%s): %s" % (who, f))
sys.exit(1 if fails else 0)
PY

session gdbserver "$tmp/gdbserver.out"
# one process (a shell's sleep child would keep ctest's pipe open)
python3 -c 'import time; time.sleep(100)' "$(printf '\377\376bad\001ctl\303\251ok')" \
	> /dev/null 2>&1 < /dev/null &
bad=$!
session "$server" "$tmp/dbg.out"
kill "$bad"
fail=0
python3 "$tmp/check.py" "$tmp/gdbserver.out.raw" "$tmp/gdbserver.out" "$odd" "$prog" gdbserver || fail=1
BADPID=$bad python3 "$tmp/check.py" "$tmp/dbg.out.raw" "$tmp/dbg.out" "$odd" "$prog" dbg-server \
	"$tmp/gdbserver.out.raw" || fail=1
for f in gdbserver dbg; do
	grep -q 'exited normally' "$tmp/$f.out.raw" ||
		{ echo "FAIL: $f: the target did not exit 0 after the look"; fail=1; }
done
# made-up /proc tables
fake=$tmp/proc
mkdir -p "$fake/net" "$fake/sysvipc"
long=$(python3 -c 'print("A" * 100000)')
hdr='  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'
{
	echo "$hdr"
	echo '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0'
	echo '   1: garbage'
	echo '   2: 0100007F:FFFFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1'
	echo '   3: 0100007G:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1'
	echo '   4: 0200007F:0051 0300007F:0052 01 00000000:00000000 00:00000000 00000000 4294967294 0 1'
	echo "$long"
	printf '   5: 0400007F:0053 00000000:0000 63 00000000:00000000 00:00000000 00000000     0        0 1'
} > "$fake/net/tcp"
{
	echo "$hdr"
	echo '   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1'
	echo '   1: 0000000000000000000000000100000:0017 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1'
} > "$fake/net/tcp6"
: > "$fake/net/udp6"
{
	echo '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap'
	echo '        42          7  1600                  8192 999999999 0  2     0     0     0     0          0          0 1700000000 0 0'
	echo 'abc def'
	echo '1 2 3'
	echo '99999999999999999999 8 1600 8192 1 0 2 0 0 0 0 0 0 1700000000 0 0'
	echo "$long"
} > "$fake/sysvipc/shm"
{
	echo '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime'
	echo "        43          9   600          2     0     0     0     0 1700000000 1700000000 $(seq -s ' ' 1 40)"
} > "$fake/sysvipc/sem"
echo '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime' \
	> "$fake/sysvipc/msg"
{
	printf 'processor\t: 0\nmodel name\t: A<b>&"c'"'"'\nwe<i>rd"n&me\t: 1\nflags\t\t: %s\nno colon here\n\n' "$long"
	printf 'processor\t: 1\nmodel name\t: x\nwe<i>rd"n&me\t: 2\nflags\t\t: fpu\n :nameless\n'
} > "$fake/cpuinfo"
printf 'nf_tables 245760 3 nf_x,nf_y, Live 0xffffffffc0a00000 (E)\nshort line\nbad 1 2 - Live zzz\n' > "$fake/modules"
port=$(free_port)
DBG_SERVER_OSDATA_PROC=$fake $server --once "127.0.0.1:$port" "$prog" > "$tmp/fake.server" 2>&1 &
spid=$!
wait_listen "$tmp/fake.server"
set -- -ex "target remote 127.0.0.1:$port"
for t in sockets shm semaphores msg cpus modules; do
	set -- "$@" -ex "echo ==== $t\\n" -ex "info os $t"
done
timeout 120 gdb -nx -batch -ex 'set sysroot' -ex 'set width 0' -ex 'set height 0' \
	-ex 'set confirm off' "$@" -ex 'echo ==== end\n' -ex 'kill' "$prog" \
	> "$tmp/fake.raw" 2>&1 < /dev/null || { echo "gdb failed:"; cat "$tmp/fake.raw"; exit 1; }
wait "$spid" || true
python3 - "$tmp/fake.raw" <<'PY' || fail=1
import re, sys, time
text = open(sys.argv[1], errors="replace").read()
sec, cur = {}, None
for line in text.split("\n"):
    m = re.match(r"^==== (\S+)$", line)
    if m:
        cur = m.group(1); sec[cur] = []; continue
    if cur and cur != "end" and line.strip():
        sec[cur].append(re.sub(r" +", " ", line.strip()))
t = time.ctime(1700000000)
want = {
    "sockets": ["local address local port remote address remote port state user family protocol",
                "127.0.0.1 8080 0.0.0.0 0 LISTEN root INET STREAM",
                "127.0.0.2 81 127.0.0.3 82 ESTABLISHED 4294967294 INET STREAM",
                "127.0.0.4 83 0.0.0.0 0 99 root INET STREAM",
                "::1 22 :: 0 LISTEN root INET6 STREAM"],
    "shm": [None, "42 7 1600 8192 999999999 0 2 root root root root %s" % t],
    "semaphores": [None, "43 9 600 2 root root root root %s %s" % (t, t)],
    "msg": [],
    "cpus": ["processor model name we<i>rd\"n&me flags", "0 A<b>&\"c' 1 " + "A" * 100000, "1 x 2 fpu"],
    "modules": ["name size num uses dependencies status address",
                "nf_tables 245760 3 nf_x,nf_y, Live ffffffffc0a00000", "bad 1 2 - Live zzz"],
}
bad = 0
if "parsing" in text or "warning" in text:
    print("FAIL(fake /proc): gdb warned:", [l[:200] for l in text.split("\n") if "parsing" in l or "warning" in l])
    bad = 1
for k, rows in want.items():
    got = sec.get(k, [])
    if [r for r in rows if r] != [g for i, g in enumerate(got) if rows[i:i + 1] != [None]] or len(got) != len(rows):
        print("FAIL(fake /proc): info os %s:\n  want %s\n  got  %s" % (k, [r and r[:120] for r in rows], [g[:120] for g in got]))
        bad = 1
sys.exit(bad)
PY
[ "$fail" = 0 ] && echo "PASS: info os, every type, dbg-server as gdbserver"
[ "$fail" = 0 ] || { echo "--- dbg-server session:"; head -c 20000 "$tmp/dbg.out.raw"; }
exit "$fail"
