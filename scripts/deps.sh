#!/bin/sh
# Install exactly the Debian 12 packages libdbg's build, tests and
# benchmarks need; only what is missing, so a second run costs nothing.
# "deps.sh kernel" adds what the kernel harness needs; "deps.sh browser"
# adds chromium for the flame graph screenshot test (DBG_TEST_BROWSER).
set -eu
PKGS="build-essential cmake pkg-config
      libdw-dev libelf-dev libunwind-dev libcapstone-dev libdeflate-dev
      elfutils gdb strace
      libiberty-dev gcc-multilib
      g++ golang-go rustc busybox-static python3 nodejs libc6-dbg
      libprotobuf-c-dev protobuf-c-compiler zlib1g-dev linux-perf python3-jsonschema
      clang libclang-rt-14-dev
      gdbserver gdb-source dejagnu lldb"
if [ "${1:-}" = kernel ]; then
	PKGS="$PKGS linux-source-6.12 qemu-system-x86 busybox-static cpio xz-utils
	      bc flex bison libssl-dev libelf-dev python3"
fi
if [ "${1:-}" = browser ]; then
	PKGS="$PKGS chromium"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
else
	echo "deps: all installed"
fi
