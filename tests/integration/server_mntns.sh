#!/bin/sh
# A target in its own mount namespace loads a library from a directory
# that holds it only there (a tmpfs mounted in that namespace); gdb with
# `set sysroot target:` through dbg-server must find it (vFile:setfs,
# files opened under /proc/PID/root) and show its function in the
# backtrace. gdbserver is run the same way as the reference.
# Usage: server_mntns.sh DBG_SERVER
set -eu
server=$1
command -v unshare > /dev/null || { echo "SKIP: no unshare"; exit 77; }
unshare -m --propagation private true 2> /dev/null || { echo "SKIP: cannot make a mount namespace (needs CAP_SYS_ADMIN)"; exit 77; }
tmp=$(mktemp -d)
tpid=
cleanup() {
	[ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/nslib" "$tmp/build"
cat > "$tmp/build/lib.c" <<'C'
#include <unistd.h>
void ns_func(void) { for (;;) pause(); }
C
cat > "$tmp/build/main.c" <<'C'
#include <stdio.h>
void ns_func(void);
int main(void) { printf("ready\n"); fflush(stdout); ns_func(); return 0; }
C
cc -g -O0 -shared -fPIC -o "$tmp/build/libsrvns.so" "$tmp/build/lib.c"
cc -g -O0 -o "$tmp/nsmain" "$tmp/build/main.c" -L"$tmp/build" -lsrvns -Wl,-rpath,"$tmp/nslib"
rm "$tmp/build/lib.c"   # gdb must read the library, not find its source dir
# The library exists only inside the target's namespace.
unshare -m --propagation private sh -c "mount -t tmpfs tmpfs '$tmp/nslib' &&
	cp '$tmp/build/libsrvns.so' '$tmp/nslib/' && exec '$tmp/nsmain'" > "$tmp/t.out" &
tpid=$!
for _ in $(seq 1 100); do grep -q ready "$tmp/t.out" && break; sleep 0.1; done
grep -q ready "$tmp/t.out" || { echo "target did not start"; exit 1; }
pid=$(pgrep -n -f "^$tmp/nsmain") || true
[ -n "$pid" ] || pid=$tpid
rm "$tmp/build/libsrvns.so"
[ ! -e "$tmp/nslib/libsrvns.so" ] || { echo "the library is visible outside the namespace"; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
session() { # server out
	p=$(port)
	$1 --once --attach "127.0.0.1:$p" "$pid" > "$2.server" 2>&1 &
	spid=$!
	for _ in $(seq 1 100); do grep -q 'Listening on port' "$2.server" && break; sleep 0.1; done
	timeout 120 gdb -nx -batch -ex 'set sysroot target:' -ex "target remote 127.0.0.1:$p" \
		-ex 'info sharedlibrary' -ex 'bt' -ex detach > "$2" 2>&1 || true
	wait "$spid" || true
}
ref=skip
if command -v gdbserver > /dev/null; then
	session gdbserver "$tmp/gdbserver"
	grep -q 'ns_func' "$tmp/gdbserver" && ref=ok || ref=fail
fi
session "$server" "$tmp/dbg-server"
if ! grep -q ' in ns_func () ' "$tmp/dbg-server" ||
   ! grep -Eq '0x[0-9a-f]+ +0x[0-9a-f]+ +Yes .*target:.*/nslib/libsrvns.so' "$tmp/dbg-server"; then
	echo "FAIL: gdb did not find the namespace's library through dbg-server (gdbserver: $ref)"
	cat "$tmp/dbg-server"
	exit 1
fi
echo "PASS: library read from the target's mount namespace through vFile (gdbserver: $ref)"
