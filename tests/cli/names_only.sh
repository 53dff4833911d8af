#!/bin/sh
# dbg-stack --names-only (DBG_SYM_NO_DWARF) on the stacks inferior: the
# same frames (pcs) as the full mode, each named by its ELF symbol with an
# offset, and no source lines and no inlined functions; --raw-names gives
# the same for C. Usage: names_only.sh DBG_STACK INFERIOR_DIR SRCDIR
set -u
stack=$1 inferiors=$2 src=$3
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$inferiors/stacks_O2" > "$tmp/inferior" &
pid=$!
for _ in $(seq 200); do grep -q '^end' "$tmp/inferior" && break; sleep 0.05; done
grep -q '^end' "$tmp/inferior" || fail "the inferior did not start"
for _ in $(seq 500); do
	moving=0
	for f in /proc/"$pid"/task/*/syscall; do
		case $(cut -d' ' -f1 "$f" 2>/dev/null) in 0|34) ;; *) moving=1 ;; esac
	done
	[ $moving -eq 0 ] && break
	sleep 0.01
done
[ $moving -eq 0 ] || fail "the inferior's threads did not park"
"$stack" "$pid" > "$tmp/full" || fail "dbg-stack exited $?"
"$stack" --names-only "$pid" > "$tmp/names" || fail "--names-only exited $?"
"$stack" --names-only --raw-names "$pid" > "$tmp/raw" || fail "--names-only --raw-names exited $?"
grep -q ' at .*:[0-9]' "$tmp/names" && fail "--names-only printed source lines: $(grep ' at ' "$tmp/names" | head -3)"
grep -q '(inlined)' "$tmp/names" && fail "--names-only printed inlined functions"
for want in "middle+0x" "outer+0x" "spin+0x" "nocfi_call+0x" "fp_leaf+0x" "block+0x" "in libc.so.6"; do
	grep -qF "$want" "$tmp/names" || fail "no '$want' in the --names-only output: $(cat "$tmp/names")"
done
grep -q '(inlined)' "$tmp/full" || fail "the full mode has no inlined function (the inferior changed?)"
# The same frames: compare the pc column of frame lines.
pcs() { awk '/^#/{print $1, $2}' "$1"; }
[ "$(pcs "$tmp/full")" = "$(pcs "$tmp/names")" ] || fail "--names-only has other frames: $(diff "$tmp/full" "$tmp/names")"
cmp -s "$tmp/names" "$tmp/raw" || fail "--raw-names changed C names: $(diff "$tmp/names" "$tmp/raw")"
echo "ok: --names-only: the same $(pcs "$tmp/names" | wc -l) frames, symbol names, no lines, no inlines"
exit 0
