#!/bin/sh
# Install into a temporary prefix, then build a tiny consumer with
# pkg-config and with find_package(libdbg), and run both.
set -eu
build=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
libdir=$(ls -d "$tmp"/prefix/lib*)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# pkg-config
cc $(pkg-config --cflags libdbg) "$src/consumer.c" -o "$tmp/pc_consumer" $(pkg-config --libs libdbg)
LD_LIBRARY_PATH="$libdir" "$tmp/pc_consumer"
# pkg-config --static
cc -static-libgcc $(pkg-config --cflags libdbg) "$src/consumer.c" -o "$tmp/pc_static" \
	"$libdir/libdbg.a" $(pkg-config --libs-only-l --static libdbg | sed 's/-ldbg//')
"$tmp/pc_static"
# CMake package
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/cm.log"
cmake --build "$tmp/cm" > "$tmp/cmb.log"
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer_shared"
"$tmp/cm/consumer_static"
echo "ok: pkg-config (shared, static) and find_package(libdbg) (shared, static)"
