#!/bin/sh
# kernel/harness/build-selftest.sh OUT_DIR
# Build the series' kselftest (tools/testing/selftests/mm/
# remote_read_vma_lock.c, added by the selftests/mm patch) into
# OUT_DIR/remote_read_vma_lock, for the guests' initramfs. The source comes
# out of the patch, kselftest.h out of the kernel tarball; gcc builds it
# the way the selftests Makefile would (-Wall -O2, -lpthread), with
# -Werror. Runs in seconds after the first time: the binary is cached in
# $DBG_KERNEL_CACHE keyed by the patch and the tarball.
# The test runs on any kernel: on one without the series it checks the
# bytes and skips the counter checks.
set -eu
out=$1
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBG_KERNEL_CACHE:-/var/cache/libdbg-kernel}
tarball=/usr/src/linux-source-6.12.tar.xz
name=remote_read_vma_lock
patch=$(grep -l "^+++ b/tools/testing/selftests/mm/$name.c" "$here"/patches/*.patch | head -n 1)
[ -n "$patch" ] || { echo "build-selftest: no patch adds $name.c" >&2; exit 1; }
[ -f "$tarball" ] || { echo "build-selftest: $tarball missing" >&2; exit 1; }
key=$( { cat "$patch"; stat -c '%s %Y' "$tarball"; gcc --version | head -n 1; echo "recipe 1"; } |
	sha256sum | cut -c1-16)
bin=$cache/selftest-$name-$key
mkdir -p "$out"
if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/mm"
	# The new file's hunk: every added line after its +++ header, to the
	# next file of the patch.
	awk -v f="+++ b/tools/testing/selftests/mm/$name.c" '
		$0 == f { on = 1; next }
		on && /^diff --git / { on = 0 }
		on && /^@@ / { next }
		on && /^\+/ { print substr($0, 2) }
		on && /^-- $/ { on = 0 }' "$patch" > "$tmp/mm/$name.c"
	tar xJf "$tarball" -C "$tmp" --strip-components=4 \
		linux-source-6.12/tools/testing/selftests/kselftest.h
	gcc -Wall -Werror -O2 -o "$tmp/$name" "$tmp/mm/$name.c" -lpthread
	mv "$tmp/$name" "$bin.tmp.$$"
	mv "$bin.tmp.$$" "$bin"
fi
cp "$bin" "$out/$name"
echo "$out/$name"
