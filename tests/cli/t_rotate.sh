#!/usr/bin/env bash
# t_rotate.sh - `evault key rotate`: every slot re-made under a new master
# key, the old ways in closed, and a rotation killed at any moment leaving
# a vault that opens with the old or the new passphrase, intact.
. "$(dirname "$0")/lib.sh"
E=$EVAULT
V=$T/v
COST=(--argon2-passes 1 --argon2-memory 8)
new_vault "$V" || exit 1
export EVAULT_DIR=$V
RKEY=$(grep -oE '([0-9A-Z]{4}-){8}[0-9A-Z]{4}' "$T/recovery")
mkdir "$T/in"
for i in $(seq 1 300); do printf 'testimony %d\n' "$i" > "$T/in/t$i.txt"; done
head -c 2500000 /dev/urandom > "$T/in/video.bin"
expect_rc 0 "$E" add "$T/in" --case Rot --tag tagged
expect_rc 0 "$E" seal --case Rot
age-keygen -o "$T/m.key" 2>/dev/null
expect_rc 0 "$E" key member add m --age "$(age-keygen -y "$T/m.key")"
expect_rc 0 "$E" key shares --threshold 2 --shares 3
grep '^evault-share1:' "$T/out" > "$T/oldshares"
"$E" ls --json | python3 -c 'import json,sys; print(sorted(json.loads(l)["sha256"] for l in sys.stdin))' > "$T/before"
DEK=$(sqlite3 "$V/vault.db" "SELECT hex(key) FROM blobs LIMIT 1")
OLDPUB=$("$E" key export-public)

printf 'rotated passphrase\n' > "$T/p2"
expect_rc 0 "$E" key rotate --new-passphrase-file "$T/p2" --json
python3 - "$T/out" > "$T/newshares" <<'PY' && ok || fail "rotate --json output"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines[0]["recovery_key"]) == 44
print("\n".join(lines[1]["shares"]))
PY
NEWKEY=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["recovery_key"])' "$T/out")
expect_rc 4 "$E" ls
export EVAULT_PASSPHRASE_FILE=$T/p2
expect_rc 0 "$E" check --read-data
grep -q "may never have been shown" "$T/err" && fail "a warning after a rotation that showed its key: $(cat "$T/err")" || ok
# A rotation stopped after its commit, before it printed the key (the
# mark it commits is still there): every unlock warns, until a new
# recovery key has been shown.
sqlite3 "$V/vault.db" "INSERT INTO meta(key, value) VALUES('keys_unseen', x'31')"
expect_rc 0 "$E" ls --json
grep -q "^evault: warning: the last new recovery key .* may never have been shown" "$T/err" && ok ||
    fail "no warning about an unseen recovery key: $(cat "$T/err")"
grep -q "^hint: run 'evault key recovery' now" "$T/err" && ok || fail "no hint: $(cat "$T/err")"
expect_rc 0 "$E" key recovery --json
NEWKEY=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["recovery_key"])' "$T/out")
expect_rc 0 "$E" ls --json
[ ! -s "$T/err" ] && ok || fail "warning after key recovery showed the key: $(cat "$T/err")"
"$E" ls --json | python3 -c 'import json,sys; print(sorted(json.loads(l)["sha256"] for l in sys.stdin))' > "$T/after"
cmp -s "$T/before" "$T/after" && ok || fail "records differ after rotation"
expect_rc 0 "$E" ls --tag tagged
[ "$(wc -l < "$T/out")" -eq 302 ] && ok || fail "blind index search after rotation"
[ "$("$E" key export-public)" = "$OLDPUB" ] && ok || fail "public key changed"
EVAULT_PASSPHRASE_FILE= expect_rc 0 "$E" ls --identity "$T/m.key"
sed -n 1,2p "$T/oldshares" | expect_rc 4 "$E" recover "${COST[@]}"
printf '%s\n' "$RKEY" | expect_rc 4 "$E" recover "${COST[@]}"
python3 - "$V" "$DEK" <<'PY' && fail "an old wrapped data key survives rotation" || ok
import os, sys
needle = bytes.fromhex(sys.argv[2])
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if needle in open(os.path.join(root, f), 'rb').read():
            sys.exit(0)
sys.exit(1)
PY
expect_rc 0 "$E" lockdown
sed -n 2,3p "$T/newshares" | expect_rc 0 "$E" recover "${COST[@]}"
expect_rc 0 "$E" lockdown
printf '%s\n' "$NEWKEY" | expect_rc 0 "$E" recover "${COST[@]}"
# lockdown removed the member's slot too
EVAULT_PASSPHRASE_FILE= expect_rc 4 "$E" ls --identity "$T/m.key"
expect_rc 0 "$E" key member add m --age "$(age-keygen -y "$T/m.key")"
expect_rc 0 "$E" log --json
grep -q '"key-rotate"' "$T/out" && ok || fail "rotation not logged"

# --- killed at random moments: old or new, never broken ---
CUR=$T/p2
ROUNDS=${EV_ROTATE_ROUNDS:-12}
OLDN=0; NEWN=0
for r in $(seq 1 "$ROUNDS"); do
    printf 'pass round %d\n' "$r" > "$T/pr$r"
    EVAULT_PASSPHRASE_FILE=$CUR "$E" key rotate --new-passphrase-file "$T/pr$r" > /dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 7))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if EVAULT_PASSPHRASE_FILE=$T/pr$r "$E" ls > /dev/null 2>&1; then
        CUR=$T/pr$r; NEWN=$((NEWN + 1))
    elif EVAULT_PASSPHRASE_FILE=$CUR "$E" ls > /dev/null 2>&1; then
        OLDN=$((OLDN + 1))
    else
        fail "round $r: neither passphrase opens the vault"; continue
    fi
    EVAULT_PASSPHRASE_FILE=$CUR "$E" check --read-data > "$T/chk" 2>&1 \
        && ok || { fail "round $r: check after kill"; cat "$T/chk" >&2; }
    EVAULT_PASSPHRASE_FILE=$CUR "$E" ls --json | python3 -c 'import json,sys; print(sorted(json.loads(l)["sha256"] for l in sys.stdin))' > "$T/now"
    cmp -s "$T/before" "$T/now" && ok || fail "round $r: records changed"
    EVAULT_PASSPHRASE_FILE= "$E" ls --identity "$T/m.key" > /dev/null 2>&1 \
        && ok || fail "round $r: member lost"
done
echo "rotation kills: $OLDN left the old key, $NEWN the new"
finish
