#!/bin/sh
# kernel/harness/build-check.sh [VARIANT...]
# Compile the objects the kernel series touches, with W=1, in the kernel
# configurations the guests do not boot, so that a change that breaks one
# of them fails CI without a full kernel build per configuration:
#   nopv   PER_VMA_LOCK on, PARAVIRT off (so no MMU_GATHER_RCU_TABLE_FREE),
#          with x86 LAM (ADDRESS_MASKING) compiled in
#   rt     PREEMPT_RT (spinlock_t sleeps; THP is off there)
#   novma  PER_VMA_LOCK off (uniprocessor: kernel/config/novmalock.config)
# Default: all three. Each starts from tinyconfig plus kernel/config/
# qemu.config, like the guests, and checks that the options that define it
# took. A compiler warning in any of the objects fails it.
# Results are cached in $DBG_KERNEL_CACHE (default /var/cache/libdbg-kernel)
# keyed by the tarball, the patches, the fragments, the object list and the
# variant, so an unchanged series costs nothing; a cold run of all three
# took 2 min 42 s on 2 cores (most of it extracting the tree and `make
# prepare`).
# Exit: 0 all built, 1 a build failed (its log is printed), 2 usage.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${DBG_KERNEL_CACHE:-/var/cache/libdbg-kernel}
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=$(( $(nproc) + 1 ))
variants=${*:-nopv rt novma}
# What the series changes, and the callers of what it changes.
objs="mm/memory.o mm/gup.o mm/process_vm_access.o mm/vmstat.o
      arch/x86/kernel/process_64.o arch/x86/kernel/process.o
      fs/proc/base.o kernel/ptrace.o"
[ -f "$tarball" ] || { echo "build-check: $tarball missing (apt-get install linux-source-6.12)" >&2; exit 1; }

# The fragment of VARIANT on top of qemu.config, with the options it must
# end up with (check-config.py reads NAME=n as "not set").
fragment() {
	case $1 in
	nopv) printf '%s\n' CONFIG_PARAVIRT=n CONFIG_KVM_GUEST=n CONFIG_HYPERVISOR_GUEST=n \
		CONFIG_ADDRESS_MASKING=y CONFIG_PER_VMA_LOCK=y CONFIG_MMU_GATHER_RCU_TABLE_FREE=n ;;
	# THP depends on !PREEMPT_RT; a uniprocessor kernel has one CPU.
	rt) printf '%s\n' CONFIG_EXPERT=y CONFIG_PREEMPT_RT=y CONFIG_PER_VMA_LOCK=y \
		CONFIG_TRANSPARENT_HUGEPAGE=n CONFIG_TRANSPARENT_HUGEPAGE_MADVISE=n ;;
	novma) cat "$here/config/novmalock.config"; printf '%s\n' CONFIG_PER_VMA_LOCK=n CONFIG_NR_CPUS=1 ;;
	*) return 1 ;;
	esac
}

key() {
	{
		echo "$1"
		stat -c '%s %Y' "$tarball"
		cat "$here/config/qemu.config"
		fragment "$1"
		cat "$here"/patches/*.patch
		echo "$objs"
		echo "recipe 1" # bump when the steps below change what they check
	} | sha256sum | cut -c1-16
}

todo=""
for v in $variants; do
	fragment "$v" > /dev/null || { echo "build-check: unknown variant $v (nopv rt novma)" >&2; exit 2; }
	if [ -f "$cache/check-$v-$(key "$v").ok" ]; then
		echo "build-check: $v: built before (cached)"
	else
		todo="$todo $v"
	fi
done
[ -n "$todo" ] || exit 0

mkdir -p "$cache"
# One checker at a time per cache: the tree is big and the cores few.
exec 9> "$cache/check.lock"
flock 9
tmp=$(mktemp -d "$cache/check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
mkdir -p "$src"
tar xJf "$tarball" -C "$src" --strip-components=1
for p in "$here"/patches/*.patch; do
	patch -d "$src" -p1 --quiet < "$p" || { echo "build-check: $(basename "$p") does not apply" >&2; exit 1; }
done

status=0
for v in $todo; do
	k=$(key "$v")
	[ -f "$cache/check-$v-$k.ok" ] && { echo "build-check: $v: built meanwhile (cached)"; continue; }
	o=$tmp/o-$v
	log=$tmp/$v.log
	mkdir -p "$o"
	fragment "$v" > "$tmp/$v.config"
	t0=$(date +%s)
	set +e
	(
		set -e
		make -C "$src" O="$o" ARCH=x86_64 tinyconfig
		( cd "$o" && "$src/scripts/kconfig/merge_config.sh" -m .config \
			"$here/config/qemu.config" "$tmp/$v.config" )
		make -C "$src" O="$o" ARCH=x86_64 olddefconfig
		"$here/harness/check-config.py" "$o/.config" "$here/config/qemu.config" "$tmp/$v.config"
		# shellcheck disable=SC2086
		make -C "$src" O="$o" ARCH=x86_64 -j"$jobs" W=1 $objs
	) > "$log" 2>&1
	rc=$?
	set -e
	warnings=$(grep -c 'warning:' "$log" || true)
	if [ $rc -ne 0 ] || [ "$warnings" -ne 0 ]; then
		grep -E 'error|warning:|did not stick' "$log" | head -n 40 >&2
		tail -n 20 "$log" >&2
		echo "build-check: $v FAILED (exit $rc, $warnings warnings)" >&2
		status=1
		continue
	fi
	echo "build-check: $v: $(echo $objs | wc -w) objects, no warning, $(( $(date +%s) - t0 )) s"
	cp "$o/.config" "$cache/check-$v-$k.config"
	echo "$objs" > "$cache/check-$v-$k.ok"
done
exit $status
