#!/usr/bin/env bash
# t_man.sh - docs/evault.1 says what the binary says: it is regenerated
# from the help texts and compared; `evault help CMD` equals `CMD --help`.
. "$(dirname "$0")/lib.sh"
SRC=${EV_TEST_SRC:?}/..
python3 "$SRC/docs/mkman.py" "$EVAULT" > "$T/evault.1" && ok || fail "mkman.py"
if diff -u "$SRC/docs/evault.1" "$T/evault.1" > "$T/diff"; then ok; else
    fail "docs/evault.1 is out of date: run docs/mkman.py build/evault > docs/evault.1"
    head -40 "$T/diff" >&2
fi
groff -t -man -ww -z "$SRC/docs/evault.1" 2> "$T/groff" && [ ! -s "$T/groff" ] \
    && ok || { fail "groff warns about the man page"; cat "$T/groff" >&2; }
cmds=$("$EVAULT" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  / {print $1}')
[ "$(echo "$cmds" | wc -w)" -ge 20 ] && ok || fail "command list"
for c in $cmds; do
    "$EVAULT" help "$c" > "$T/a" 2>&1
    "$EVAULT" "$c" --help > "$T/b" 2>&1
    cmp -s "$T/a" "$T/b" && ok || fail "evault help $c differs from $c --help"
    grep -q "^\.SS $c\$" "$SRC/docs/evault.1" && ok || fail "$c missing from the man page"
done
for v in EVAULT_DIR EVAULT_PASSPHRASE_FILE EVAULT_IDENTITY_FILE EVAULT_OPERATOR; do
    grep -q "^\.B $(echo $v | sed 's/_/_/g')" "$SRC/docs/evault.1" && ok || fail "$v not in ENVIRONMENT"
done
for code in 0 1 2 3 4 5; do
    grep -q "^\.B $code\$" "$SRC/docs/evault.1" && ok || fail "exit code $code not in EXIT STATUS"
done
finish
