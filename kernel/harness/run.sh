#!/bin/sh
# kernel/harness/run.sh BUILD_DIR [VARIANT...]
# Boot each kernel variant (default: stock patched debug) in QEMU with an
# initramfs of libdbg's tests and benchmark from BUILD_DIR (a built libdbg
# tree), collect the results over the serial console, and fail on any test
# failure or kernel splat (WARNING, BUG, lockdep, KASAN, Oops, panic).
# patched runs the whole suite and the contention benchmark (mode full);
# stock runs what the comparison needs: the read-path, layout and write
# tests and the benchmark (mode baseline); debug runs the read-path and
# write tests and 5 minutes of stress (mode stress).
# HARNESS_MODE=full|baseline|stress forces one mode for all; HARNESS_ONLY=a,b
# runs only tests/test_a and test_b, three times each.
# Kernels come from build-kernel.sh (cached outside the clone), or
# HARNESS_KERNEL. Prints a
# results table and the contention table of the stock and patched kernels.
set -eu
build=$(cd "$1" && pwd)
shift
variants=${*:-stock patched debug}
here=$(cd "$(dirname "$0")" && pwd)
out=$build/kernel-harness
mkdir -p "$out"

initramfs=$out/initramfs.cpio
"$here/mkinitramfs.sh" "$build" "$initramfs"

boot() { # boot KERNEL MODE LOG SECONDS EXTRA_APPEND SMP ACCEL...
	kernel=$1 mode=$2 log=$3 secs=$4 extra=$5 smp=$6
	shift 6
	timeout "$secs" qemu-system-x86_64 "$@" -smp "$smp" -m 3G -nographic -no-reboot \
		-kernel "$kernel" -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=5 no_timer_check transparent_hugepage=madvise secretmem.enable=1 harness_mode=$mode${HARNESS_ONLY:+ harness_only=$HARNESS_ONLY}$extra" \
		< /dev/null > "$log" 2>&1 || true
}
# no_timer_check: on a loaded host TCG can miss the IO-APIC timer check's
# window and the guest panics at boot ("IO-APIC + timer doesn't work").
# loglevel=5: the console shows KERN_WARNING, the level of WARN() and of
# lockdep's reports (with loglevel=4 only errors and worse reached it), and
# of the stack dumps under lockup and CSD reports.
# The debug guest: two NUMA nodes of 1.5 GiB, one CPU (socket) each, so
# that the stress can migrate pages between them (two cores of one socket
# on two nodes make the scheduler WARN); a hard lockup panics (after the
# CSD report and the stuck CPU's backtrace that come first), and so does a
# soft lockup, so a deadlocked guest ends within a minute instead of at the
# timeout, which is 15 minutes for it (its stress takes 5).
numa="-object memory-backend-ram,id=m0,size=1536M -numa node,nodeid=0,cpus=0,memdev=m0
-object memory-backend-ram,id=m1,size=1536M -numa node,nodeid=1,cpus=1,memdev=m1"

# KVM where it works: nested KVM can exist and still hang the guest, so
# boot once in it and look for the guest's first line.
# HARNESS_KERNEL=bzImage boots that kernel instead of build-kernel.sh's
# (a hand-built or instrumented kernel, with VARIANT naming its mode).
kernel_of() { if [ -n "${HARNESS_KERNEL:-}" ]; then echo "$HARNESS_KERNEL"; else "$here/build-kernel.sh" "$1"; fi; }
accel="-accel tcg,thread=multi -cpu max"
if [ -w /dev/kvm ]; then
	first=$(kernel_of $(echo "$variants" | cut -d' ' -f1))
	boot "$first" probe "$out/probe.log" 30 "" 2 -accel kvm -cpu host,-arch-capabilities
	grep -q '^HARNESS kernel' "$out/probe.log" && accel="-accel kvm -cpu host,-arch-capabilities"
fi
echo "harness: qemu $accel"

status=0
summary=""
for v in $variants; do
	kernel=$(kernel_of "$v")
	log=$out/$v.log
	extra="" machine="" limit=2400 smp=2
	case $v in
	stock) mode=${HARNESS_MODE:-baseline} ;;
	debug) mode=${HARNESS_MODE:-stress} machine=$numa limit=900 smp=2,sockets=2
		extra=" printk.time=1 softlockup_panic=1 nmi_watchdog=panic" ;;
	*) mode=${HARNESS_MODE:-full} ;;
	esac
	echo "== $v ($mode): booting $kernel"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	boot "$kernel" "$mode" "$log" "$limit" "$extra" "$smp" $accel $machine
	secs=$(( $(date +%s) - t0 ))
	if "$here/parse-log.py" "$v" "$log" > "$out/$v.result"; then verdict=pass; else verdict=FAIL; status=1; fi
	cat "$out/$v.result"
	summary="$summary$(printf '%-10s %-8s %5ss  %s' "$v" "$mode" "$secs" "$verdict")
"
done
echo "== harness results"
printf '%-10s %-8s %6s  %s\n' kernel mode boot verdict
printf '%s' "$summary"
if echo "$variants" | grep -q stock && echo "$variants" | grep -q patched; then
	"$here/compare.py" "$out/stock.log" "$out/patched.log"
fi
exit $status
