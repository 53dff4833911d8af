#!/bin/sh
# Build the maps fuzzer with libFuzzer + ASan/UBSan and run it for a while,
# starting from real maps files.
set -eu
clang=$1; src=$2; geninc=$3; out=$4; secs=$5
mkdir -p "$out/corpus"
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined -I"$src/include" -I"$geninc" \
	"$src/tests/fuzz/maps_fuzz.c" "$src"/libdbg/*.c "$src"/libdbg/arch/*.c \
	$(pkg-config --libs libdw libelf libunwind-generic libdeflate capstone) -liberty -o "$out/maps_fuzz"
cp /proc/self/maps "$out/corpus/self" 2>/dev/null || true
cp /proc/1/maps "$out/corpus/init" 2>/dev/null || true
"$out/maps_fuzz" -max_total_time="$secs" -max_len=4096 "$out/corpus" 2>&1 | tail -n 3
