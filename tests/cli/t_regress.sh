#!/usr/bin/env bash
# t_regress.sh - regression tests for bugs found in review, one per case.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V

# 'add .' recorded paths as './q.txt': the directory's own name is used.
mkdir -p "$T/Dossier"
echo q > "$T/Dossier/q.txt"
(cd "$T/Dossier" && "$EVAULT" add . > "$T/out.dot") || fail "add ."
grep -q $'\tDossier/q.txt$' "$T/out.dot" && ok || fail "add . printed: $(cat "$T/out.dot")"

# A tab or newline in a name broke the one-record-per-line output.
printf 'x' > "$T/tab"$'\t'"name.txt"
expect_rc 0 "$EVAULT" add "$T/tab"$'\t'"name.txt"
[ "$(wc -l < "$T/out")" -eq 1 ] && grep -q 'tab?name.txt$' "$T/out" && ok ||
    fail "name with a tab printed as: $(cat -A "$T/out")"
id=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" ls
[ "$(grep -c 'tab?name.txt' "$T/out")" -eq 1 ] && ok || fail "ls line"

# get --force renamed over whatever the path named (a link, a device).
ln -s "$T/elsewhere" "$T/link"
expect_rc 3 "$EVAULT" get "$id" -o "$T/link" --force
[ -L "$T/link" ] && [ ! -e "$T/elsewhere" ] && ok || fail "link replaced"
grep -q 'not a regular file' "$T/err" && ok || fail "message: $(cat "$T/err")"

# getopt printed its own line before evault's, which did not name the option.
expect_rc 2 "$EVAULT" ls --bogus
[ "$(grep -c . "$T/err")" -ge 1 ] && head -1 "$T/err" | grep -q "^evault: error: .*'--bogus'" && ok ||
    fail "bad option message: $(head -1 "$T/err")"
finish
