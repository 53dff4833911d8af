#!/bin/sh
# Install exactly the Debian 12 packages libdbg's build, tests and
# benchmarks need; only what is missing, so a second run costs nothing.
set -eu
PKGS="build-essential cmake pkg-config
      libdw-dev libelf-dev libunwind-dev libcapstone-dev
      elfutils gdb
      clang libclang-rt-14-dev"
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
