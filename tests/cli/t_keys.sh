#!/usr/bin/env bash
# t_keys.sh - the ways into a vault: passphrase, recovery-key, member and
# trustee slots; lockdown; recover; secrets hygiene of the process.
. "$(dirname "$0")/lib.sh"
E=$EVAULT
V=$T/v
COST=(--argon2-passes 1 --argon2-memory 8)
new_vault "$V" || exit 1
export EVAULT_DIR=$V
RKEY=$(grep -oE '([0-9A-Z]{4}-){8}[0-9A-Z]{4}' "$T/recovery")
[ -n "$RKEY" ] && ok || fail "no recovery key printed by init"
printf 'evidence one\n' > "$T/f1"
expect_rc 0 "$E" add "$T/f1" --case Alpha

search_dir() { # search_dir HEX: is the byte string anywhere under $V?
    python3 - "$V" "$1" <<'PY'
import os, sys
needle = bytes.fromhex(sys.argv[2])
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        with open(os.path.join(root, f), 'rb') as fh:
            if needle in fh.read():
                print(os.path.join(root, f)); sys.exit(0)
sys.exit(1)
PY
}
slot_bytes() { sqlite3 "$V/vault.db" "SELECT hex(wrapped) FROM keyslots WHERE id = $1"; }

# --- key ls ---
expect_rc 0 "$E" key ls --json
python3 - "$T/out" <<'PY' && ok || fail "key ls --json"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
kinds = [r["kind"] for r in rows]
assert kinds == ["passphrase", "recovery key"], kinds
assert rows[0]["current"] is True and rows[1]["current"] is False
assert all(r["added_at"] for r in rows)
PY

# --- passphrase: change, add ---
printf 'second passphrase\n' > "$T/p2"
printf 'third passphrase\n' > "$T/p3"
OLD1=$(slot_bytes 1)
expect_rc 0 "$E" key passphrase --new-passphrase-file "$T/p2" "${COST[@]}"
expect_rc 4 "$E" ls
EVAULT_PASSPHRASE_FILE=$T/p2 expect_rc 0 "$E" ls
grep -q "does not open" "$T/err" && fail "message after success" || ok
search_dir "$OLD1" >/dev/null && fail "a changed passphrase's slot survives on disk" || ok
export EVAULT_PASSPHRASE_FILE=$T/p2
expect_rc 0 "$E" key passphrase --add --label laptop --new-passphrase-file "$T/p3" "${COST[@]}"
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 0 "$E" ls
expect_rc 0 "$E" ls
expect_rc 0 "$E" key ls
grep -q "laptop" "$T/out" && ok || fail "label not listed"
# key passphrase without a terminal or file: a usage error, nothing changed
expect_rc 2 "$E" key passphrase </dev/null
expect_rc 2 "$E" key passphrase --threshold 2
expect_rc 2 "$E" key frobnicate
expect_rc 0 "$E" key --help

# --- key rm: refuses the last everyday way in ---
LAPTOP=$("$E" key ls --json | python3 -c 'import json,sys; print([r["slot"] for r in map(json.loads, sys.stdin) if r["label"]=="laptop"][0])')
CUR=$("$E" key ls --json | python3 -c 'import json,sys; print([r["slot"] for r in map(json.loads, sys.stdin) if r["current"]][0])')
expect_rc 0 "$E" key rm "$LAPTOP"
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" ls
expect_rc 2 "$E" key rm "$CUR"
grep -q "last passphrase or member" "$T/err" && ok || fail "rm refusal says why"
expect_rc 0 "$E" ls
expect_rc 3 "$E" key rm 999
expect_rc 2 "$E" key rm abc

# --- members ---
age-keygen -o "$T/alice.key" 2>/dev/null
age-keygen -o "$T/bob.key" 2>/dev/null
ALICE=$(age-keygen -y "$T/alice.key")
expect_rc 0 "$E" key member add alice --age "$ALICE"
expect_rc 3 "$E" key member add alice --age "$ALICE"
expect_rc 2 "$E" key member add carol --age age1notarecipient
# low-order X25519 points (zero, one, one of order 8) are well-formed
# recipients that nothing can be sealed to: refused, no slot added (this
# used to abort the process)
for LOW in age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z \
           age1qyqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqj7vrya \
           age1ur4h5lpmgxu2u9jku0a0r87ydtdqnr0tnsetrlvxvgz3vh6fhqqqzyt4v9; do
    expect_rc 2 "$E" key member add carol --age "$LOW"
    grep -q "low-order" "$T/err" && ok || fail "low-order recipient: $LOW"
done
"$E" key ls > "$T/out" 2>&1
grep -q carol "$T/out" && fail "a low-order recipient got a slot" || ok
expect_rc 2 "$E" key member add carol
env -u EVAULT_PASSPHRASE_FILE "$EVAULT" ls --identity "$T/alice.key" > "$T/out" 2>&1 \
    && grep -q "f1" "$T/out" && ok || fail "member identity opens"
# a subcommand keeps its place when options come before the command
expect_rc 0 env -u EVAULT_DIR "$EVAULT" --vault "$V" key ls --json
grep -q '"kind":"member"' "$T/out" && ok || fail "'evault --vault V key ls': $(cat "$T/err")"
# as the docs and key member add show it: the option before the command
env -u EVAULT_PASSPHRASE_FILE "$EVAULT" --identity "$T/alice.key" ls > "$T/out" 2>&1 \
    && grep -q "f1" "$T/out" && ok || fail "'evault --identity FILE ls': $(cat "$T/out")"
EVAULT_PASSPHRASE_FILE= EVAULT_IDENTITY_FILE=$T/alice.key expect_rc 0 "$E" show 1
EVAULT_PASSPHRASE_FILE= expect_rc 4 "$E" ls --identity "$T/bob.key"
printf 'not a key\n' > "$T/junk.key"
EVAULT_PASSPHRASE_FILE= expect_rc 2 "$E" ls --identity "$T/junk.key"
# An identity file protected with a passphrase (age -p, as age's own docs
# suggest for keys at rest) opens the vault once its passphrase is given.
printf 'alice keeps this secret\n' > "$T/alice.pass"
printf 'not it\n' > "$T/alice.wrong"
python3 "$(dirname "$0")/age_tty.py" "$T/alice.pass" age -p -o "$T/alice.key.age" "$T/alice.key" 2> /dev/null
head -c 22 "$T/alice.key.age" | grep -q "age-encryption.org/v1" && ok || fail "age -p wrote no age file"
expect_rc 0 env -u EVAULT_PASSPHRASE_FILE "$EVAULT" ls --identity "$T/alice.key.age" --passphrase-file "$T/alice.pass"
grep -q "f1" "$T/out" && ok || fail "a passphrase-protected identity does not open: $(cat "$T/err")"
EVAULT_PASSPHRASE_FILE=$T/alice.pass EVAULT_IDENTITY_FILE=$T/alice.key.age expect_rc 0 "$E" show 1
expect_rc 4 env -u EVAULT_PASSPHRASE_FILE "$EVAULT" ls --identity "$T/alice.key.age" --passphrase-file "$T/alice.wrong"
grep -q "wrong passphrase for identity file '$T/alice.key.age'" "$T/err" && ok || fail "wrong identity passphrase: $(cat "$T/err")"
expect_rc 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" ls --identity "$T/alice.key.age"
grep -q "no terminal" "$T/err" && ok || fail "protected identity without a passphrase: $(cat "$T/err")"
# damaged: cut short (exit 2, the user's input, not damaged evidence)
head -c -5 "$T/alice.key.age" > "$T/alice.short.age"
expect_rc 2 env -u EVAULT_PASSPHRASE_FILE "$EVAULT" ls --identity "$T/alice.short.age" --passphrase-file "$T/alice.pass"
grep -q "cannot decrypt identity file '$T/alice.short.age'" "$T/err" && ok || fail "cut identity file: $(cat "$T/err")"
# a broken header is said before any passphrase is asked for
sed 's/^---.*/--- not a mac/' "$T/alice.key.age" > "$T/alice.bad.age"
expect_rc 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" ls --identity "$T/alice.bad.age"
grep -q "identity file '$T/alice.bad.age' is damaged" "$T/err" && ok || fail "damaged identity header: $(cat "$T/err")"
# encrypted to a key, not a passphrase: said so, no passphrase asked for
age -r "$(age-keygen -y "$T/bob.key")" -o "$T/alice.forbob.age" "$T/alice.key"
expect_rc 2 env -u EVAULT_PASSPHRASE_FILE setsid -w "$EVAULT" ls --identity "$T/alice.forbob.age"
grep -q "encrypted to an age key, not to a passphrase" "$T/err" && ok || fail "identity for a key: $(cat "$T/err")"
# with no terminal, $EVAULT_PASSPHRASE_FILE is the identity's passphrase
EVAULT_PASSPHRASE_FILE=$T/alice.wrong expect_rc 4 setsid -w "$EVAULT" ls --identity "$T/alice.key.age"
EVAULT_PASSPHRASE_FILE=$T/alice.pass expect_rc 0 setsid -w "$EVAULT" ls --identity "$T/alice.key.age"
# armored (age -a -p) works too
python3 "$(dirname "$0")/age_tty.py" "$T/alice.pass" age -a -p -o "$T/alice.key.asc" "$T/alice.key" 2> /dev/null
expect_rc 0 env -u EVAULT_PASSPHRASE_FILE "$EVAULT" ls --identity "$T/alice.key.asc" --passphrase-file "$T/alice.pass"
# and open -i takes it, for a file a partner encrypted to alice
printf 'for alice only\n' > "$T/for-alice.txt"
age -r "$ALICE" -o "$T/for-alice.age" "$T/for-alice.txt"
EVAULT_PASSPHRASE_FILE=$T/alice.pass expect_rc 0 setsid -w "$E" open "$T/for-alice.age" -i "$T/alice.key.age" -o "$T/for-alice.out"
cmp -s "$T/for-alice.out" "$T/for-alice.txt" && ok || fail "open -i with a protected identity"
expect_rc 0 env -u EVAULT_PASSPHRASE_FILE "$EVAULT" open "$T/for-alice.age" -i "$T/alice.key.age" \
    --passphrase-file "$T/alice.pass" -o "$T/for-alice.out2"
cmp -s "$T/for-alice.out2" "$T/for-alice.txt" && ok || fail "open -i FILE --passphrase-file F"
expect_rc 0 "$E" log
grep -q "member-add" "$T/out" && ok || fail "member-add not logged"
ASLOT=$("$E" key ls --json | python3 -c 'import json,sys; print([r["slot"] for r in map(json.loads, sys.stdin) if r["kind"]=="member"][0])')
AWRAP=$(slot_bytes "$ASLOT")
expect_rc 0 "$E" key member rm alice
EVAULT_PASSPHRASE_FILE= expect_rc 4 "$E" ls --identity "$T/alice.key"
search_dir "$AWRAP" >/dev/null && fail "a removed member's slot survives on disk" || ok
expect_rc 3 "$E" key member rm alice

# --- recovery key: a new one retires the old ---
expect_rc 0 "$E" key recovery --json
RKEY2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recovery_key"])' "$T/out")
[ -n "$RKEY2" ] && [ "$RKEY2" != "$RKEY" ] && ok || fail "new recovery key"
printf '%s\n' "$RKEY" | EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" recover "${COST[@]}"
# a mistyped key is caught by its checksum before any slot is tried
BAD=$(printf '%s' "$RKEY2" | sed 's/^./X/;s/^X/Y/')
[ "${RKEY2:0:1}" = "Y" ] && BAD="Z${RKEY2:1}"
printf '%s\n' "$BAD" | EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" recover "${COST[@]}"
grep -q "mistyped" "$T/err" && ok || fail "mistyped recovery key named"

# --- trustee shares ---
expect_rc 2 "$E" key shares --threshold 1 --shares 3
expect_rc 2 "$E" key shares --threshold 4 --shares 3
expect_rc 2 "$E" key shares --threshold 2
expect_rc 0 "$E" key shares --threshold 3 --shares 5 --label abroad
grep '^evault-share1:' "$T/out" > "$T/shares"
[ "$(wc -l < "$T/shares")" -eq 5 ] && ok || fail "5 share lines"
expect_rc 0 "$E" key shares --threshold 2 --shares 2 --label other
grep '^evault-share1:' "$T/out" > "$T/other"

# --- lockdown ---
expect_rc 0 "$E" key ls --json
WRAPS=$(python3 - "$T/out" "$V" <<'PY'
import json, sys, subprocess
for r in map(json.loads, open(sys.argv[1])):
    if r["kind"] in ("passphrase", "member"):
        print(subprocess.run(["sqlite3", sys.argv[2] + "/vault.db",
              "SELECT hex(wrapped) FROM keyslots WHERE id = %d" % r["slot"]],
              capture_output=True, text=True).stdout.strip())
PY
)
[ -n "$WRAPS" ] && ok || fail "slots to look for after lockdown"
expect_rc 0 "$E" lockdown
expect_rc 4 "$E" ls
grep -q "locked down" "$T/err" && ok || fail "locked-down vault says so"
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" ls
for w in $WRAPS; do
    f=$(search_dir "$w") && fail "removed slot's wrapped key found in $f" || ok
done
ls "$V" | grep -q -- '-wal' && [ -s "$V/vault.db-wal" ] && fail "WAL not emptied" || ok

# K-1 shares fail; every K-subset of 5 opens (here all 10)
head -2 "$T/shares" | EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" recover "${COST[@]}"
grep -q "only 2 of the 3" "$T/err" && ok || fail "too few shares named"
for combo in 1,2,3 1,2,4 1,2,5 1,3,4 1,3,5 1,4,5 2,3,4 2,3,5 2,4,5 3,4,5; do
    sed -n "$(echo $combo | sed 's/,/p;/g')p" "$T/shares" > "$T/pick"
    printf 'new pass %s\n' "$combo" > "$T/pnew"
    EVAULT_PASSPHRASE_FILE=$T/pnew expect_rc 0 "$E" recover "${COST[@]}" < "$T/pick"
    EVAULT_PASSPHRASE_FILE=$T/pnew expect_rc 0 "$E" lockdown
done
# the same share twice is not two shares
{ sed -n 1p "$T/shares"; sed -n 1p "$T/shares"; sed -n 2p "$T/shares"; } |
    EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 2 "$E" recover "${COST[@]}"
# shares of two sets do not mix
{ sed -n 1p "$T/other"; sed -n 2p "$T/shares"; } |
    EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" recover "${COST[@]}"
# every single changed character of a share is caught by its checksum
python3 - "$T/shares" > "$T/mutants" <<'PY'
import sys
line = open(sys.argv[1]).readline().strip()
alpha = "0123456789abcdef-:aes"
for i, ch in enumerate(line):
    for rep in ("0", "f", "x"):
        if rep != ch.lower():
            print(line[:i] + rep + line[i+1:])
            break
PY
N=0; BADN=0
while IFS= read -r m; do
    N=$((N + 1))
    { printf '%s\n' "$m"; sed -n 2,3p "$T/shares"; } |
        EVAULT_PASSPHRASE_FILE=$T/p3 "$E" recover "${COST[@]}" >/dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || { BADN=$((BADN + 1)); echo "mutant accepted (rc $rc): $m" >&2; }
done < "$T/mutants"
[ "$N" -gt 100 ] && [ "$BADN" -eq 0 ] && ok || fail "$BADN of $N changed shares not rejected"
# a share of another vault
new_vault "$T/w" || exit 1
EVAULT_DIR=$T/w expect_rc 0 "$E" key shares --threshold 2 --shares 2
grep '^evault-share1:' "$T/out" > "$T/wshares"
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 4 "$E" recover "${COST[@]}" < "$T/wshares"
grep -q "another vault" "$T/err" && ok || fail "foreign share named"

# gfcombine (Debian's libgfshare-bin) rebuilds the same secret
for i in 2 4 5; do
    sed -n "${i}p" "$T/shares" | cut -d: -f6 | xxd -r -p > "$T/tshare.00$i"
done
(cd "$T" && gfcombine -o "$T/secret.bin" tshare.002 tshare.004 tshare.005) && ok || fail gfcombine
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 0 "$E" recover --secret-file "$T/secret.bin" "${COST[@]}"
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 0 "$E" check --read-data

# the recovery key after lockdown
EVAULT_PASSPHRASE_FILE=$T/p3 expect_rc 0 "$E" lockdown
printf '%s\n' "$RKEY2" | EVAULT_PASSPHRASE_FILE=$T/p2 expect_rc 0 "$E" recover "${COST[@]}"
expect_rc 0 "$E" get 1 -o "$T/f1.out"
cmp -s "$T/f1" "$T/f1.out" && ok || fail "record after recovery"
# lockdown --all leaves only the trustee shares
expect_rc 0 "$E" lockdown --all
printf '%s\n' "$RKEY2" | EVAULT_PASSPHRASE_FILE=$T/p2 expect_rc 4 "$E" recover "${COST[@]}"
sed -n 1,3p "$T/shares" | expect_rc 0 "$E" recover "${COST[@]}"
expect_rc 0 "$E" log --json
python3 - "$T/out" <<'PY' && ok || fail "custody log records key changes"
import json, sys
acts = [json.loads(l)["action"] for l in open(sys.argv[1])]
for a in ("key-passphrase", "key-remove", "member-add", "member-remove",
          "key-recovery", "key-shares", "lockdown", "recover"):
    assert a in acts, a
assert acts.count("lockdown") >= 12, acts.count("lockdown")
PY
expect_rc 0 "$E" check --read-data
# lockdown refuses to leave no way in at all, unless forced
new_vault "$T/x" || exit 1
EVAULT_DIR=$T/x expect_rc 2 "$E" lockdown --all
EVAULT_DIR=$T/x expect_rc 0 "$E" ls

# --- the process: no core dumps, not traceable, no secret in argv/env ---
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    H=$(mktemp -d /tmp/evault-hygiene.XXXXXX); chmod 0777 "$H"
    trap 'rm -rf "$T" "$H"' EXIT
    printf 'hygiene secret pass\n' > "$H/pass"
    chmod 0644 "$H/pass"
    AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    EVAULT_PASSPHRASE_FILE=$H/pass "${AS[@]}" "$E" init "$H/v" "${COST[@]}" >/dev/null 2>&1 \
        && ok || fail "init as nobody"
    mkfifo -m 0666 "$H/fifo"
    EVAULT_PASSPHRASE_FILE=$H/pass "${AS[@]}" "$E" add - --vault "$H/v" --name t.txt < "$H/fifo" >/dev/null 2>&1 &
    PID=$!
    exec 7>"$H/fifo"
    MARK="TESTIMONY-PLAINTEXT-$$-$RANDOM$RANDOM"
    printf '%s ' "$MARK" >&7
    for _ in $(seq 50); do
        [ -e "/proc/$PID/limits" ] && [ "$(stat -c %U /proc/$PID/status)" != "" ] && break
        sleep 0.1
    done
    sleep 0.5
    # not dumpable: /proc/PID belongs to root although the process is nobody's
    [ "$(stat -c %U "/proc/$PID/status")" = root ] && ok || fail "process is dumpable (ptrace/core)"
    grep -E '^Max core file size +0 +0 ' "/proc/$PID/limits" >/dev/null && ok || fail "core dumps not refused"
    tr '\0' '\n' < "/proc/$PID/cmdline" | grep -q "hygiene secret" && fail "passphrase in argv" || ok
    tr '\0' '\n' < "/proc/$PID/environ" | grep -q "hygiene secret" && fail "passphrase in environment" || ok
    # the testimony read so far is nowhere in plaintext on disk
    # -D skip: never read another test's FIFO (that steals its bytes)
    grep -r -l -D skip "$MARK" "$H/v" "${TMPDIR:-/tmp}" 2>/dev/null | grep -v "^$T/out" \
        && fail "plaintext testimony on disk while adding" || ok
    exec 7>&-
    wait "$PID" && ok || fail "add - as nobody"
else
    fail "setpriv or user nobody missing: cannot test process hygiene"
fi

finish
