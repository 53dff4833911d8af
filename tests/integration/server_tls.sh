#!/bin/sh
# Thread-local variables and the library list through dbg-server, against
# gdb native and gdb through Debian's gdbserver (which uses libthread_db),
# on tests/inferiors/tls_target (dynamic, a dlopen()ed libtls_lib.so) and
# tls_static: at tls_ready, in every thread, `p` and `p &` of exe_tls and
# exe_tls_bss and (dynamic) lib_tls, whose block the last thread never
# allocated (an error with every server), and `info sharedlibrary`
# (qXfer:libraries-svr4 against gdbserver's), and the raw svr4 documents,
# whole and from an entry on (start=, prev=, lmid=).
# - the values and addresses must be gdb native's (the "$N = " lines);
# - the whole normalized session must be gdbserver's.
# Usage: server_tls.sh DBG_SERVER INFERIOR_DIR
set -eu
server=$1
dir=$2
command -v gdbserver > /dev/null || { echo "SKIP: no gdbserver (scripts/deps.sh)"; exit 77; }
command -v gdb > /dev/null || { echo "SKIP: no gdb"; exit 77; }
tmp=$(mktemp -d)
trap '[ -n "${KEEP-}" ] || rm -rf "$tmp"' EXIT; [ -n "${KEEP-}" ] && echo "tmp: $tmp"

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
# Thread headers name threads by pthread_t and LWP natively and by
# pid.tid remotely, and lwps differ from run to run.
normalize() {
	sed -E -e 's/^Thread ([0-9]+) \(.*$/Thread \1/' \
	       -e 's/for Thread [^,]+,/for Thread T,/' \
	       -e 's/(process|Process|LWP|pid =?) [0-9]+/\1 N/g' \
	       -e 's/Thread [0-9]+\.[0-9]+/Thread N.N/g' \
	       -e '/^Remote debugging using/d' -e '/^Reading .* from remote target/d' \
	       -e '/^\[New Thread/d' -e '/^\[Inferior 1 /d' -e '/^Kill the program/d' \
	       -e '/^\[Thread debugging using libthread_db/d' -e '/^Using host libthread_db/d' \
	       -e '/^(ready|thr |lm |end)/d' -e '/^0x[0-9a-f]+ in _start/d' "$1"
}

# qXfer:libraries-svr4 read whole, then from its second entry on as gdb
# reads it after a solib event (start=, prev=, lmid=), then with a wrong
# prev (an empty list): the documents must be gdbserver's.
cat > "$tmp/svr4.py" <<'PY'
import re
def q(annex):
    r = gdb.execute("maint packet qXfer:libraries-svr4:read:%s:0,fff" % annex, to_string=True)
    print("svr4 " + annex + " " + r.split("received: ", 1)[-1].strip())
    return r
doc = q("")
libs = re.findall(r'lm="0x([0-9a-f]+)"[^>]*lmid="0x([0-9a-f]+)"', doc)
if len(libs) >= 2:
    q("start=%s;prev=%s;lmid=%s" % (libs[1][0], libs[0][0], libs[1][1]))
    q("start=%s;prev=1" % libs[1][0])
else:
    print("svr4: fewer than two libraries in " + doc)
PY

session() { # prog out [server]
	prog=$1 out=$2 srv=${3-}
	set -- -ex 'break tls_ready'
	if [ -n "$srv" ]; then
		port=$(free_port)
		$srv --once "127.0.0.1:$port" "$prog" > "$out.server" 2>&1 &
		spid=$!
		wait_listen "$out.server"
		set -- -ex "target remote 127.0.0.1:$port" "$@" -ex 'continue' -x "$tmp/svr4.py"
	else
		set -- "$@" -ex 'run'
	fi
	set -- "$@" -ex 'thread apply all -ascending -c p exe_tls' \
		-ex 'thread apply all -ascending -c p &exe_tls' \
		-ex 'thread apply all -ascending -c p exe_tls_bss' \
		-ex 'thread apply all -ascending -c p &exe_tls_bss'
	case $prog in
	*tls_target) set -- "$@" -ex 'thread apply all -ascending -c p lib_tls' \
			-ex 'thread apply all -ascending -c p &lib_tls' ;;
	esac
	timeout 120 gdb -nx -batch -ex 'set sysroot' -ex 'set width 0' -ex 'set height 0' \
		-ex 'set confirm off' "$@" -ex 'info sharedlibrary' -ex 'kill' "$prog" \
		> "$out" 2>&1 < /dev/null || { echo "gdb failed:"; cat "$out"; exit 1; }
	[ -n "$srv" ] && { wait "$spid" || true; }
	normalize "$out" > "$out.n"
}

fail=0
for prog in "$dir/tls_target" "$dir/tls_static"; do
	name=$(basename "$prog")
	session "$prog" "$tmp/$name.native"
	session "$prog" "$tmp/$name.gdbserver" gdbserver
	session "$prog" "$tmp/$name.dbg" "$server"
	grep "^\\$" "$tmp/$name.native.n" > "$tmp/$name.native.v" || true
	grep "^\\$" "$tmp/$name.dbg.n" > "$tmp/$name.dbg.v" || true
	n=$(wc -l < "$tmp/$name.native.v")
	want=16
	[ "$name" = tls_target ] && want=22
	if [ "$n" -ne "$want" ]; then
		echo "FAIL: $name: gdb native printed $n values, not $want:"; cat "$tmp/$name.native"
		fail=1
	fi
	if ! diff -u "$tmp/$name.native.v" "$tmp/$name.dbg.v"; then
		echo "FAIL: $name: values through dbg-server differ from gdb native's (- native, + dbg-server)"
		fail=1
	fi
	if ! diff -u "$tmp/$name.gdbserver.n" "$tmp/$name.dbg.n"; then
		echo "FAIL: $name: the session through dbg-server differs from gdbserver's (- gdbserver, + dbg-server)"
		fail=1
	fi
	case $name in
	tls_target)
		grep -q 'libtls_lib.so' "$tmp/$name.dbg.n" ||
			{ echo "FAIL: $name: no libtls_lib.so in info sharedlibrary"; fail=1; }
		grep -q 'Cannot find thread-local storage for Thread T, shared library' "$tmp/$name.dbg.n" ||
			{ echo "FAIL: $name: thread 4's lib_tls did not fail"; fail=1; }
		[ "$(grep -c '^svr4 .*<library name=' "$tmp/$name.dbg.n")" = 2 ] ||
			{ echo "FAIL: $name: the svr4 reads (whole, from start=) are not both lists"; fail=1; } ;;
	esac
	[ $fail = 0 ] && echo "ok: $name: $n values as gdb native prints them, the session as through gdbserver"
done
exit $fail
