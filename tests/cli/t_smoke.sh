#!/usr/bin/env bash
# t_smoke.sh - init, add, ls, show, get, cat and check on a small vault.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V
mkdir -p "$T/in/sub"
echo "statement one" > "$T/in/a.txt"
head -c 2500000 /dev/urandom > "$T/in/sub/clip.mp4"
: > "$T/in/empty.bin"

expect_rc 0 "$EVAULT" add "$T/in" --case C1 --tag t1
[ "$(wc -l < "$T/out")" -eq 3 ] && ok || fail "add printed $(wc -l < "$T/out") lines"
expect_rc 0 "$EVAULT" ls --json
[ "$(wc -l < "$T/out")" -eq 3 ] && ok || fail "ls --json lines"
id=$(grep '"clip.mp4"' "$T/out" | sed 's/{"id":\([0-9]*\).*/\1/')
[ -n "$id" ] && ok || fail "clip.mp4 not listed"
expect_rc 0 "$EVAULT" get "$id" -o "$T/clip.out"
cmp -s "$T/clip.out" "$T/in/sub/clip.mp4" && ok || fail "get bytes differ"
expect_rc 0 "$EVAULT" check --read-data
finish
