#!/bin/sh
# Every public header compiles alone as C99 (pedantic) and as C++.
set -eu
inc=$1; geninc=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for h in dbg.h $(cd "$inc" && ls dbg/*.h); do
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$h" "$h" > "$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cc"
	if ! cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$inc" -I"$geninc" -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL: $h as C99"; fail=1
	fi
	if ! c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$inc" -I"$geninc" -c "$tmp/t.cc" -o "$tmp/t.o"; then
		echo "FAIL: $h as C++"; fail=1
	fi
	echo "ok: $h"
done
exit $fail
