#!/bin/sh
# build-kernel.sh VARIANT -> prints the path of a bzImage
#   VARIANT: stock | patched | debug (patched + debug.config) | novmalock
#            (patched, uniprocessor: PER_VMA_LOCK off)
# The tree comes from Debian's linux-source-6.12. Builds are cached outside
# the clone in $DBG_KERNEL_CACHE (default /var/cache/libdbg-kernel), keyed
# by the source tarball, the patches, the config fragments and the variant,
# so an unchanged input never builds twice.
set -eu
variant=$1
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBG_KERNEL_CACHE:-/var/cache/libdbg-kernel}
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=$(( $(nproc) + 1 ))
[ -f "$tarball" ] || { echo "build-kernel: $tarball missing (apt-get install linux-source-6.12)" >&2; exit 1; }

patches=""
case $variant in
stock) frags="qemu.config" ;;
patched) frags="qemu.config"; patches=yes ;;
debug) frags="qemu.config debug.config"; patches=yes ;;
novmalock) frags="qemu.config novmalock.config"; patches=yes ;;
*) echo "build-kernel: unknown variant $variant" >&2; exit 2 ;;
esac

key=$( {
	echo "$variant"
	stat -c '%s %Y' "$tarball"
	for f in $frags; do cat "$here/config/$f"; done
	[ -z "$patches" ] || cat "$here"/patches/*.patch
	echo "recipe 1" # bump when the steps below change what they build
} | sha256sum | cut -c1-16)
out=$cache/build-$variant-$key
if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi
mkdir -p "$cache"
# Two builds of the same inputs (two clones, two sessions) take turns: the
# second finds the first's result.
exec 9> "$out.lock"
flock 9
if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
log=$out.tmp/build.log
src=$out.tmp/src
# The steps run in a subshell with -e of its own: on the left of || (or
# inside a { } list that is) the shell ignores set -e, and a failed step
# (a patch that does not apply, an option that did not stick) went on.
set +e
(
	set -e
	mkdir -p "$src"
	tar xJf "$tarball" -C "$src" --strip-components=1
	if [ -n "$patches" ]; then
		for p in "$here"/patches/*.patch; do
			patch -d "$src" -p1 --quiet < "$p"
		done
	fi
	make -C "$src" ARCH=x86_64 tinyconfig
	( cd "$src" && ./scripts/kconfig/merge_config.sh -m .config \
		$(for f in $frags; do echo "$here/config/$f"; done) )
	make -C "$src" ARCH=x86_64 olddefconfig
	# Every option asked for must have survived olddefconfig.
	"$here/harness/check-config.py" "$src/.config" $(for f in $frags; do echo "$here/config/$f"; done)
	make -C "$src" ARCH=x86_64 -j"$jobs" bzImage
) > "$log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
	tail -n 40 "$log" >&2
	echo "build-kernel: $variant failed, log in $log" >&2
	exit 1
fi
cp "$src/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$src/.config" "$out.tmp/config"
rm -rf "$src"
mv "$out.tmp" "$out"
echo "$out/bzImage"
