#!/bin/sh
# The library exports exactly the symbols named in the version script.
set -eu
lib=$1; map=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVW]/ && $3 !~ /^DBG_/ {print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
sed -n 's/^[[:space:]]*\(dbg_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u > "$tmp/mapped"
if ! diff -u "$tmp/mapped" "$tmp/exported"; then
	echo "FAIL: exported symbols differ from $map (- map, + library)"
	exit 1
fi
# Every mapped symbol is declared in a public header with DBG_API.
inc=$(dirname "$map")/../include
for s in $(cat "$tmp/mapped"); do
	grep -rq "DBG_API[^;]*[ *]$s(" "$inc" || { echo "FAIL: $s has no DBG_API declaration"; exit 1; }
done
echo "ok: $(wc -l < "$tmp/exported") symbols, all in the map and declared DBG_API"
