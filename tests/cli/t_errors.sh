#!/usr/bin/env bash
# t_errors.sh - operational errors: wrong passphrase, not a vault, missing
# inputs and records, no passphrase source, init over something, a newer
# format, --json errors, binary to a terminal, bad add options.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V
mkdir -p "$T/in"
head -c 5000 /dev/urandom > "$T/in/photo.jpg"
printf 'what I saw\n' > "$T/in/statement.txt"
expect_rc 0 "$EVAULT" add "$T/in"
expect_rc 0 "$EVAULT" ls --json
cp "$T/out" "$T/records.before"
[ "$(wc -l < "$T/records.before")" -eq 2 ] && ok || fail "setup: 2 records"
bin_id=$(grep '"photo.jpg"' "$T/records.before" | sed 's/{"id":\([0-9]*\).*/\1/')
[ -n "$bin_id" ] && ok || fail "setup: photo.jpg not listed"

# has_err RE: stderr has an "evault: error:" line matching RE.
has_err() {
    grep -E "^evault: error: .*$1" "$T/err" > /dev/null && ok ||
        fail "stderr lacks an error matching '$1': $(head -c 300 "$T/err")"
}

# --- wrong passphrase: exit 4, the cause named ---------------------------
printf 'not the passphrase\n' > "$T/wrong"
expect_rc 4 "$EVAULT" ls --passphrase-file "$T/wrong"
has_err 'passphrase'
[ ! -s "$T/out" ] && ok || fail "wrong passphrase: something on stdout"
EVAULT_PASSPHRASE_FILE=$T/wrong expect_rc 4 "$EVAULT" show 1
has_err 'passphrase'
expect_rc 4 "$EVAULT" add --passphrase-file "$T/wrong" "$T/in/statement.txt"
expect_rc 4 "$EVAULT" get --passphrase-file "$T/wrong" 1 -o "$T/never"
[ ! -e "$T/never" ] && ok || fail "wrong passphrase: get wrote a file"
expect_rc 4 "$EVAULT" ls --passphrase-fd 3 3< "$T/wrong"
expect_rc 0 "$EVAULT" ls --passphrase-fd 3 3< "$T/pass"

# --- the common options may come before the command ----------------------
env -u EVAULT_DIR -u EVAULT_PASSPHRASE_FILE "$EVAULT" --vault "$V" --passphrase-file "$T/pass" ls --json > "$T/out" 2> "$T/err" &&
    cmp -s "$T/out" "$T/records.before" && ok || fail "'evault --vault V --passphrase-file F ls': $(cat "$T/err")"
env -u EVAULT_DIR "$EVAULT" --vault="$V" --json ls > "$T/out" 2> "$T/err" &&
    cmp -s "$T/out" "$T/records.before" && ok || fail "'evault --vault=V --json ls': $(cat "$T/err")"
expect_rc 3 "$EVAULT" --vault "$T/does-not-exist" ls
has_err "$T/does-not-exist"
expect_rc 2 "$EVAULT" --vault "$V"   # options, but no command
expect_rc 2 "$EVAULT" --vault "$V" frobnicate
has_err "'frobnicate' is not an evault command"

# --- not a vault ----------------------------------------------------------
mkdir "$T/plain dir"
expect_rc 3 "$EVAULT" ls --vault "$T/plain dir"
has_err "$T/plain dir"
expect_rc 3 "$EVAULT" show 1 --vault "$T/plain dir"
has_err "$T/plain dir"
expect_rc 3 "$EVAULT" ls --vault "$T/does-not-exist"
has_err "$T/does-not-exist"
# a vault.db that is not a database
mkdir "$T/fake"
head -c 4096 /dev/urandom > "$T/fake/vault.db"
expect_rc 3 "$EVAULT" ls --vault "$T/fake"
has_err "$T/fake"
# EVAULT_DIR pointing at a plain directory
EVAULT_DIR=$T/plain\ dir expect_rc 3 "$EVAULT" ls
has_err "$T/plain dir"

# --- a missing file to add: exit 3, named, nothing added -------------------
expect_rc 3 "$EVAULT" add "$T/in/photo.jpg" "$T/no such file.mov" \
    "$T/in/statement.txt"
has_err "no such file\.mov"
[ ! -s "$T/out" ] && ok || fail "failed add printed records: $(cat "$T/out")"
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/records.before" && ok ||
    fail "a failed add changed the records"

# --- no such record -------------------------------------------------------
expect_rc 0 "$EVAULT" log
cp "$T/out" "$T/log.before"
expect_rc 3 "$EVAULT" get 999
has_err '999'
grep -q "^hint: 'evault ls' lists the records" "$T/err" && ok ||
    fail "get 999: no hint to list the records"
expect_rc 3 "$EVAULT" get 999 -o "$T/g999"
[ ! -e "$T/g999" ] && ok || fail "get 999 -o left a file"
[ -z "$(find "$T" -maxdepth 1 -name '.g999*')" ] && ok ||
    fail "get 999 -o left a temporary file"
expect_rc 3 "$EVAULT" show 999
has_err '999'
expect_rc 3 "$EVAULT" cat 999
# no access to a record that does not exist is logged
expect_rc 0 "$EVAULT" log
cmp -s "$T/out" "$T/log.before" && ok ||
    fail "a failed access to record 999 was logged: $(diff "$T/log.before" "$T/out")"

# --- passphrase sources ---------------------------------------------------
expect_rc 3 "$EVAULT" ls --passphrase-file "$T/no-pass-file"
has_err "$T/no-pass-file"
EVAULT_PASSPHRASE_FILE=$T/no-pass-file expect_rc 3 "$EVAULT" ls
has_err "$T/no-pass-file"
: > "$T/empty-pass"
expect_rc 2 "$EVAULT" ls --passphrase-file "$T/empty-pass"
has_err 'empty'
# no passphrase source and no terminal: exit 2 with a hint
for cmd in ls "show 1" "add $T/in/statement.txt" check; do
    # shellcheck disable=SC2086
    expect_rc 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" $cmd < /dev/null
    has_err 'passphrase'
    grep -q '^hint: .*passphrase-file' "$T/err" && ok ||
        fail "no terminal ($cmd): no hint naming --passphrase-file"
done
expect_rc 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" init "$T/v-notty" \
    < /dev/null
grep -q '^hint: ' "$T/err" && ok || fail "init without terminal: no hint"
[ ! -e "$T/v-notty/vault.db" ] && ok || fail "init without passphrase made a vault"
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/records.before" && ok ||
    fail "records changed after the failed adds"

# --- init creates missing folders above the vault, for its owner only ----
expect_rc 0 "$EVAULT" init "$T/new/cases/vault" --argon2-passes 1 --argon2-memory 8
[ -f "$T/new/cases/vault/vault.db" ] && ok || fail "init did not create the nested vault"
grep -q "^note: the folder '$T/new' did not exist and was created; .*drive.*mounted" "$T/err" && ok ||
    fail "init did not say which folder it created: $(cat "$T/err")"
expect_rc 0 "$EVAULT" init "$T/new/cases/vault2" --argon2-passes 1 --argon2-memory 8
grep -q "^note: the folder" "$T/err" && fail "init noted a folder that existed: $(cat "$T/err")" || ok
[ "$(stat -c %a "$T/new")" = 700 ] && [ "$(stat -c %a "$T/new/cases")" = 700 ] && ok ||
    fail "folders init created are not 0700: $(stat -c '%n %a' "$T/new" "$T/new/cases")"
printf 'x\n' > "$T/afile"
expect_rc 3 "$EVAULT" init "$T/afile/vault" --argon2-passes 1 --argon2-memory 8
has_err "cannot create '$T/afile/vault'"

# --- init into a non-empty directory --------------------------------------
mkdir -p "$T/busy/sub"
printf 'keep me\n' > "$T/busy/notes.txt"
printf 'deep\n' > "$T/busy/sub/x"
(cd "$T/busy" && find . -printf '%p %s %m %T@\n' | sort) > "$T/busy.before"
expect_rc 3 "$EVAULT" init "$T/busy" --argon2-passes 1 --argon2-memory 8
has_err "$T/busy.*not empty"
[ ! -s "$T/out" ] && ok || fail "init into a full dir printed a recovery key"
(cd "$T/busy" && find . -printf '%p %s %m %T@\n' | sort) > "$T/busy.after"
cmp -s "$T/busy.before" "$T/busy.after" && ok ||
    fail "init changed a non-empty directory: $(diff "$T/busy.before" "$T/busy.after")"
[ "$(cat "$T/busy/notes.txt")" = "keep me" ] && ok || fail "notes.txt changed"

# --- init over an existing vault -------------------------------------------
(cd "$V" && find . -path ./lock -prune -o -type f -printf '%p %s\n' | sort) \
    > "$T/v.before"
sha_db=$(sha256sum < "$V/vault.db")
"$EVAULT" init "$V" --argon2-passes 1 --argon2-memory 8 > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" -ne 0 ] && ok || fail "init over a vault exited 0"
[ "$rc" -ne 2 ] && [ "$rc" -ne 4 ] && ok || fail "init over a vault: exit $rc"
has_err "$V.*already a vault"
[ ! -s "$T/out" ] && ok || fail "init over a vault printed a recovery key"
[ "$(sha256sum < "$V/vault.db")" = "$sha_db" ] && ok ||
    fail "init over a vault changed vault.db"
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/records.before" && ok ||
    fail "the vault lists other records after init over it"
expect_rc 0 "$EVAULT" get 1 -o "$T/after-init"
# a second get to the same file: refused, the file kept, a way out named
cp "$T/after-init" "$T/after-init.kept"
expect_rc 0 "$EVAULT" log
cp "$T/out" "$T/log.before"
expect_rc 3 "$EVAULT" get 2 -o "$T/after-init"
has_err 'already exists'
grep -q '^hint: .*--force' "$T/err" && ok ||
    fail "get -o over a file: no hint naming --force"
cmp -s "$T/after-init" "$T/after-init.kept" && ok ||
    fail "get -o over a file changed it"
# a link (even dangling) or a directory is refused, --force or not
ln -s "$T/nowhere" "$T/dangling"
mkdir "$T/a-dir"
expect_rc 3 "$EVAULT" get 2 -o "$T/dangling"
has_err 'not a regular file'
grep -q -- '--force' "$T/err" && fail "get -o LINK: a hint at --force, which cannot help" || ok
expect_rc 3 "$EVAULT" get 2 -o "$T/a-dir" --force
has_err 'not a regular file'
[ -L "$T/dangling" ] && [ -d "$T/a-dir" ] && ok || fail "get -o changed a link or a directory"
expect_rc 0 "$EVAULT" log
cmp -s "$T/out" "$T/log.before" && ok ||
    fail "a refused get -o was logged as an access: $(diff "$T/log.before" "$T/out")"
expect_rc 0 "$EVAULT" check --read-data

# --- a newer format -------------------------------------------------------
cp -a "$V" "$T/v9"
sqlite3 "$T/v9/vault.db" "UPDATE meta SET value='9' WHERE key='format'" ||
    fail "sqlite3 update"
expect_rc 3 "$EVAULT" ls --vault "$T/v9"
has_err 'upgrade'
grep -q "format 9" "$T/err" && ok || fail "newer format: version not named"
expect_rc 3 "$EVAULT" add --vault "$T/v9" "$T/in/statement.txt"
has_err 'upgrade'
expect_rc 3 "$EVAULT" check --vault "$T/v9"
has_err 'upgrade'

# --- --json errors: {"error":{...}} on stdout, same exit code -------------
# json_err CODE CMD...: the exit code, and one JSON error object on stdout
# whose code is the exit code and whose message matches stderr's.
json_err() {
    local want=$1
    expect_rc "$@"
    python3 -c '
import json, sys
want = int(sys.argv[1])
lines = [l for l in open(sys.argv[2]) if l.strip()]
assert len(lines) == 1, "%d lines on stdout" % len(lines)
o = json.loads(lines[0])
assert list(o) == ["error"], o
e = o["error"]
assert e["code"] == want, e
assert isinstance(e["message"], str) and e["message"], e
err = open(sys.argv[3]).read()
assert ("evault: error: " + e["message"]) in err, (e, err)
' "$want" "$T/out" "$T/err" && ok || fail "bad JSON error for exit $want: $(cat "$T/out")"
}
json_err 4 "$EVAULT" ls --json --passphrase-file "$T/wrong"
json_err 4 "$EVAULT" show 1 --json --passphrase-file "$T/wrong"
json_err 3 "$EVAULT" ls --json --vault "$T/plain dir"
json_err 3 "$EVAULT" show 999 --json
json_err 3 "$EVAULT" add --json "$T/no such file.mov"
json_err 3 "$EVAULT" check --json --vault "$T/v9"
json_err 3 "$EVAULT" ls --json --passphrase-file "$T/no-pass-file"
json_err 2 "$EVAULT" ls --json --sha256 xyz
json_err 2 "$EVAULT" add --json --kind movie "$T/in/statement.txt"
json_err 3 "$EVAULT" init --json "$T/busy" --argon2-passes 1 --argon2-memory 8
json_err 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" ls --json < /dev/null

# --- binary to a terminal -------------------------------------------------
if command -v script > /dev/null; then
    script -qec "'$EVAULT' cat $bin_id" /dev/null > "$T/tty.out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && ok || fail "cat of a binary record to a terminal exited 0"
    grep -q 'refusing' "$T/tty.out" && ok ||
        fail "cat to a terminal: no 'refusing' message"
    ! cmp -s "$T/tty.out" "$T/in/photo.jpg" && [ "$(wc -c < "$T/tty.out")" -lt 1000 ] &&
        ok || fail "cat wrote the binary record to the terminal"
    if script -qec "'$EVAULT' get $bin_id" /dev/null > "$T/tty.out" 2>&1; then
        fail "get of a binary record to a terminal exited 0"
    else ok; fi
    grep -q 'refusing' "$T/tty.out" && ok ||
        fail "get to a terminal: no 'refusing' message"
else
    fail "script (util-linux) is not installed"
fi
expect_rc 0 "$EVAULT" cat "$bin_id"
cmp -s "$T/out" "$T/in/photo.jpg" && ok || fail "cat ID > file differs from the original"
expect_rc 0 "$EVAULT" get "$bin_id"
cmp -s "$T/out" "$T/in/photo.jpg" && ok || fail "get ID > file differs from the original"
"$EVAULT" cat "$bin_id" | cmp -s - "$T/in/photo.jpg" && ok ||
    fail "cat ID | cmp differs from the original"

# --- bad add options: exit 2, nothing added --------------------------------
expect_rc 2 "$EVAULT" add --captured-at 2024-13-45 "$T/in/statement.txt"
has_err '2024-13-45'
expect_rc 2 "$EVAULT" add --captured-at 2024-02-30 "$T/in/statement.txt"
expect_rc 2 "$EVAULT" add --captured-at yesterday "$T/in/statement.txt"
expect_rc 2 "$EVAULT" add --kind movie "$T/in/statement.txt"
has_err 'movie'
expect_rc 2 "$EVAULT" add --sha256 xyz --size 1 --name n
has_err 'sha256'
expect_rc 2 "$EVAULT" add --sha256 "$(printf '%063d' 0)" --size 1 --name n
expect_rc 2 "$EVAULT" add --sha256 "$(printf '%065d' 0)" --size 1 --name n
expect_rc 2 "$EVAULT" add --sha256 "$(printf '%064d' 0)" --size 1x --name n
expect_rc 2 "$EVAULT" add --tag '' "$T/in/statement.txt"
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/records.before" && ok ||
    fail "records changed after the rejected adds"
finish
