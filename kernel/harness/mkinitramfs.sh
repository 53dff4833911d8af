#!/bin/sh
# mkinitramfs.sh BUILD_DIR OUT.cpio: busybox, libdbg's test binaries,
# inferiors and benchmark, eu-stack (the unwinding tests' oracle), readelf
# (core_errors reads its cores with it) and the
# kernel series' kselftest, with
# their shared libraries, at the same absolute paths as in BUILD_DIR (the
# tests find their inferiors by path).
set -eu
build=$(cd "$1" && pwd)
cpio_out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
# debuginfo FILE: its separate debuginfo by build-id (libc6-dbg's for
# libc), so that symbols and lines in the guest are the host's.
debuginfo() {
	id=$(readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' | head -n 1)
	[ -n "$id" ] || return 0
	dbg=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	[ -f "$dbg" ] && [ ! -e "$root$dbg" ] || return 0
	mkdir -p "$root$(dirname "$dbg")"
	cp -L "$dbg" "$root$dbg"
}
copy() { # copy FILE with its shared libraries
	mkdir -p "$root$(dirname "$1")"
	cp -L "$1" "$root$1"
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
		debuginfo "$lib"
	done
}
for f in "$build"/tests/test_* "$build"/bench/mem-bench "$build"/bench/bench-target \
	 /usr/bin/eu-stack /usr/bin/readelf; do
	[ -f "$f" ] && [ -x "$f" ] && copy "$f"
done
# Inferiors, with what is not executable (separate debuginfo, libraries).
for f in "$build"/tests/inferiors/*; do
	[ -f "$f" ] && copy "$f"
done
# The series' kselftest (patch 7), where the series has one: at
# /selftests in the guest; build-selftest.sh caches it.
if grep -q '^+++ b/tools/testing/selftests/mm/remote_read_vma_lock.c' "$here"/../patches/*.patch; then
	"$here/build-selftest.sh" "$build/kernel-harness/selftests" > /dev/null
	st=$build/kernel-harness/selftests/remote_read_vma_lock
	copy "$st"
	mkdir -p "$root/selftests"
	ln -s "$st" "$root/selftests/remote_read_vma_lock"
fi
sed "s|@BUILD@|$build|g" "$here/init" > "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$cpio_out"
