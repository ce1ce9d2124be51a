#!/usr/bin/env bash
# t_destroy.sh - evault destroy: a destroyed record is gone from every
# command, its wrapped data key, inline bytes and metadata are nowhere in
# the vault directory's files (vault.db, its WAL, anything else), its blob
# file is removed, the custody log keeps its intake and destroy entries and
# check accepts it; sealed records, unknown ids, a second destroy, a missing
# reason or confirmation are refused; deduplicated content stays for the
# other record; kill -9 at random moments leaves an intact vault where the
# record is either intact or destroyed; tampering with tombstones and
# destroy entries is found by check.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

V=$T/v
new_vault "$V" || finish
export EVAULT_DIR=$V
mkdir -p "$T/in"
echo "short witness statement" > "$T/in/a.txt"                  # inline
head -c 40000 /dev/urandom > "$T/in/photo.jpg"                  # inline, overflow pages
head -c 3000000 /dev/urandom > "$T/in/clip.mp4"                 # a blob file
cp "$T/in/clip.mp4" "$T/in/clip-copy.mp4"                       # same content
head -c 5000 /dev/urandom > "$T/in/sealed.bin"
head -c 9000 /dev/urandom > "$T/in/keep.bin"
# Many small records first, so that the b-trees have split and merged.
mkdir -p "$T/many"
for i in $(seq 1 150); do head -c $((RANDOM % 3000 + 100)) /dev/urandom > "$T/many/f$i"; done
expect_rc 0 "$EVAULT" add "$T/many" --case BULK
expect_rc 0 "$EVAULT" add "$T/in/a.txt" "$T/in/photo.jpg" "$T/in/clip.mp4" --case K1 --source S1 --tag t
id_of() { "$EVAULT" ls --json | sed -n "s/^{\"id\":\([0-9]*\),\"name\":\"$1\".*/\1/p" | head -1; }
A=$(id_of a.txt) P=$(id_of photo.jpg) C=$(id_of clip.mp4)
expect_rc 0 "$EVAULT" add "$T/in/clip-copy.mp4" --case K2
D=$(id_of clip-copy.mp4)
expect_rc 0 "$EVAULT" add "$T/in/sealed.bin" "$T/in/keep.bin" --case K3
S=$(id_of sealed.bin) K=$(id_of keep.bin)
expect_rc 0 "$EVAULT" add --sha256 "$(printf '%064d' 7)" --size 12 --name seized.img --case K1
H=$(id_of seized.img)
expect_rc 0 "$EVAULT" seal "$S" --note "court order"
expect_rc 0 "$EVAULT" amend "$P" --reason "wrong place" --location "Osh"
[ -n "$A" ] && [ -n "$P" ] && [ -n "$C" ] && [ -n "$D" ] && [ -n "$S" ] && [ -n "$K" ] && [ -n "$H" ] && ok ||
    fail "record ids: A=$A P=$P C=$C D=$D S=$S K=$K H=$H"

sql() { sqlite3 "$V/vault.db" "$1"; }
key_of() { sql "SELECT hex(key) FROM blobs WHERE id = (SELECT blob FROM records WHERE id = $1)"; }
blob_path() { local h; h=$(sql "SELECT lower(hex(blob)) FROM records WHERE id = $1"); echo "$V/blobs/${h:0:2}/$h"; }
# pack_hex ID: the bytes of the record's blob in vault.pack, in hex.
pack_hex() {
    local w="id = (SELECT blob FROM records WHERE id = $1)" off len
    off=$(sql "SELECT data FROM blobs WHERE $w AND typeof(data) = 'integer'")
    len=$(sql "SELECT padded_size FROM blobs WHERE $w")
    [ -n "$off" ] && xxd -p -s "$off" -l "$len" "$V/vault.pack" | tr -d '\n'
}

# raw HEX...: how many of the byte strings occur in any file of the vault.
raw() {
    $PY - "$V" "$@" <<'EOF'
import os, sys
root, pats = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]
found = set()
for d, _, files in os.walk(root):
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            data = fh.read()
        for i, p in enumerate(pats):
            if p in data:
                found.add(i)
print(len(found))
EOF
}
# pieces HEX: the 32-byte slices of a hex string at several offsets.
pieces() { local h=$1 n=${#1} o; for o in 0 $((n / 4)) $((n / 2)) $((n - 64)); do echo "${h:$o:64}"; done | sort -u; }

# What must vanish: the wrapped keys, the bytes in vault.pack, the metadata and
# the amendment of the records about to be destroyed.  Each is found in
# the files now (a slice may straddle two pages: one per item is enough).
KEYS="$(key_of "$A") $(key_of "$P") $(key_of "$C")"
ITEMS=(
    "$(pack_hex "$A")"
    "$(pack_hex "$P")"
    "$(sql "SELECT hex(meta) FROM records WHERE id = $A")"
    "$(sql "SELECT hex(meta) FROM records WHERE id = $P")"
    "$(sql "SELECT hex(meta) FROM amendments WHERE record = $P")")
PIECES=""
for it in "${ITEMS[@]}"; do
    # shellcheck disable=SC2046
    [ ${#it} -ge 128 ] && [ "$(raw $(pieces "$it"))" -ge 1 ] && ok ||
        fail "the search does not find an item before destroy (${#it} hex digits)"
    PIECES="$PIECES $(pieces "$it")"
done
CBLOB=$(blob_path "$C")
[ -f "$CBLOB" ] && ok || fail "no blob file for record $C at $CBLOB"
# shellcheck disable=SC2086
[ "$(raw $KEYS)" -eq 3 ] && ok || fail "the search does not find the wrapped keys before destroy"
[ "$(sql "SELECT count(*) FROM blobs WHERE typeof(data) = 'integer' AND id = (SELECT blob FROM records WHERE id = $P)")" -eq 1 ] &&
    ok || fail "photo.jpg is not kept in vault.pack (the test expects it)"
PACK_SIZE=$(stat -c %s "$V/vault.pack")

# Refusals: nothing changes.
expect_rc 2 "$EVAULT" destroy "$A" --yes
grep -q -- "--reason" "$T/err" && ok || fail "missing --reason: $(cat "$T/err")"
expect_rc 2 "$EVAULT" destroy "$A" --reason "   " --yes
expect_rc 2 "$EVAULT" destroy --reason r --yes
expect_rc 2 "$EVAULT" destroy "$A" "$C" --reason r --yes
expect_rc 2 "$EVAULT" destroy "$A" --reason r < /dev/null
grep -q -- "--yes" "$T/err" && ok || fail "no terminal: no hint for --yes: $(cat "$T/err")"
expect_rc 3 "$EVAULT" destroy 999 --reason r --yes
grep -q "no record 999" "$T/err" && ok || fail "unknown id: $(cat "$T/err")"
expect_rc 3 "$EVAULT" destroy "$S" --reason "try" --yes
grep -q "record $S is sealed" "$T/err" && ok || fail "sealed: $(cat "$T/err")"
expect_rc 3 "$EVAULT" destroy "$S" --reason "try" --yes --json
grep -q '^{"error":{"code":3' "$T/out" && ok || fail "sealed --json: $(cat "$T/out")"
expect_rc 0 "$EVAULT" get "$S" -o "$T/sealed.out"
cmp -s "$T/sealed.out" "$T/in/sealed.bin" && ok || fail "the sealed record changed"
expect_rc 0 "$EVAULT" log --json
grep -q '"action":"destroy"' "$T/out" && fail "a refused destroy was logged" || ok
# shellcheck disable=SC2086
[ "$(raw $KEYS)" -eq 3 ] && ok || fail "a refusal removed a key"

# Confirmation on a terminal: the id must be typed.
tty_destroy() { # tty_destroy ID ANSWER: runs destroy on a pseudo-terminal
    $PY - "$EVAULT" "$1" "$2" <<'EOF'
import os, pty, sys, time
evault, rid, answer = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(evault, [evault, "destroy", rid, "--reason", "typed"])
seen, sent = b"", False
deadline = time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not sent and b"to confirm:" in seen:
        os.write(fd, answer.encode() + b"\n")
        sent = True
_, st = os.waitpid(pid, 0)
sys.stderr.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st) if sent else 99)
EOF
}
expect_rc 2 tty_destroy "$K" "$((K + 1))"
grep -q "nothing was destroyed" "$T/err" && ok || fail "wrong id typed: $(cat "$T/err")"
expect_rc 0 "$EVAULT" show "$K"

# Destroy: an inline record, an amended inline record, a blob-file record
# whose content another record shares, a hash-only record.
expect_rc 0 "$EVAULT" destroy "$A" --reason "the source asked for it" --yes --operator "Lawyer A"
grep -q "destroyed record $A" "$T/out" && ok || fail "destroy output: $(cat "$T/out")"
expect_rc 0 "$EVAULT" destroy "$P" --reason "duplicate of paper copy" --yes --json
$PY -c 'import json,sys; d=json.load(sys.stdin); assert d["destroyed"]=='"$P"' and d["blob_removed"] and d["wal_cleared"] and d["shared_with"] is None and not d["hash_only"]' < "$T/out" &&
    ok || fail "destroy --json: $(cat "$T/out")"
expect_rc 0 "$EVAULT" destroy "$C" --reason "copy kept by the partner" --yes
grep -q "content stays: record $D holds the same file" "$T/out" && ok || fail "shared content not said: $(cat "$T/out")"
[ -f "$CBLOB" ] && ok || fail "the shared blob file was removed"
expect_rc 0 "$EVAULT" get "$D" -o "$T/copy.out"
cmp -s "$T/copy.out" "$T/in/clip.mp4" && ok || fail "the record sharing the content does not read back"
expect_rc 0 "$EVAULT" destroy "$H" --reason "hash no longer needed" --yes
grep -q "only a hash" "$T/out" && ok || fail "hash-only: $(cat "$T/out")"
expect_rc 0 tty_destroy "$D" "$D"
[ ! -e "$CBLOB" ] && ok || fail "blob file left after the last record using it was destroyed: $CBLOB"

# Gone everywhere.
expect_rc 0 "$EVAULT" ls --json
for r in $A $P $C $D $H; do
    grep -q "^{\"id\":$r," "$T/out" && fail "ls lists destroyed record $r" || ok
done
[ "$(wc -l < "$T/out")" -eq $((150 + 2)) ] && ok || fail "ls: $(wc -l < "$T/out") records, wanted 152"
expect_rc 3 "$EVAULT" get "$A" -o "$T/a.out"
grep -q "record $A was destroyed on .* by Lawyer A (reason: the source asked for it)" "$T/err" && ok ||
    fail "get of a destroyed record: $(cat "$T/err")"
[ ! -e "$T/a.out" ] && ok || fail "get wrote a file for a destroyed record"
expect_rc 3 "$EVAULT" cat "$P"
grep -q "record $P was destroyed" "$T/err" && ok || fail "cat: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || fail "cat wrote bytes of a destroyed record"
expect_rc 3 "$EVAULT" show "$C"
grep -q "record $C was destroyed" "$T/err" && ok || fail "show: $(cat "$T/err")"
expect_rc 3 "$EVAULT" proof "$C" -o "$T/c.proof"
grep -q "record $C was destroyed" "$T/err" && ok || fail "proof: $(cat "$T/err")"
expect_rc 3 "$EVAULT" seal "$A"
grep -q "record $A was destroyed" "$T/err" && ok || fail "seal ID: $(cat "$T/err")"
expect_rc 3 "$EVAULT" amend "$A" --reason r --note n
grep -q "record $A was destroyed" "$T/err" && ok || fail "amend: $(cat "$T/err")"
expect_rc 3 "$EVAULT" destroy "$A" --reason "again" --yes
grep -q "record $A was destroyed" "$T/err" && ok || fail "second destroy: $(cat "$T/err")"
expect_rc 0 "$EVAULT" id --export -o "$T/me.contact"
expect_rc 0 "$EVAULT" contact add Me --file "$T/me.contact"
expect_rc 3 "$EVAULT" share "$A" --to Me -o "$T/a.age"
grep -q "record $A was destroyed" "$T/err" && ok || fail "share: $(cat "$T/err")"
expect_rc 3 "$EVAULT" share "$K" "$C" --to Me --seal -o "$T/kc.age"
grep -q "record $C was destroyed" "$T/err" && ok || fail "share --seal: $(cat "$T/err")"
[ ! -e "$T/a.age" ] && [ ! -e "$T/kc.age" ] && ok || fail "share wrote a bundle with a destroyed record"
expect_rc 0 "$EVAULT" show "$K" --json
grep -q '"state":"active"' "$T/out" && ok || fail "share --seal sealed part of a refused list"
expect_rc 1 "$EVAULT" verify "$T/in/a.txt"
grep -q "no record in this vault holds this content" "$T/err" && ok || fail "verify: $(cat "$T/err")"
expect_rc 0 "$EVAULT" ls --sha256 "$(sha256sum < "$T/in/clip.mp4" | cut -c1-64)"
[ ! -s "$T/out" ] && ok || fail "search by SHA-256 finds destroyed content"
expect_rc 3 "$EVAULT" seal --case K2   # its only record was destroyed
grep -q "no records in case" "$T/err" && ok || fail "seal --case of destroyed records: $(cat "$T/err")"
expect_rc 0 "$EVAULT" log --record "$A" --json
grep -q '"action":"add"' "$T/out" && ok || fail "log --record lost the intake entry"
grep -q '"action":"destroy","operator":"Lawyer A","records":"'"$A"'",.*"note":"the source asked for it"' "$T/out" &&
    ok || fail "log --record: no destroy entry with the reason: $(cat "$T/out")"
[ "$(grep -c '"action":"destroy"' "$T/out")" -eq 1 ] && ok || fail "more than one destroy entry for record $A"
expect_rc 0 "$EVAULT" check --read-data
grep -q "^ok: 152 record(s) checked (and 5 destroyed) and every stored file read" "$T/out" && ok ||
    fail "check after destroy (152 records, 5 destroyed): $(cat "$T/out")"
grep -q "no record uses" "$T/out" && fail "check notes leftovers: $(cat "$T/out")" || ok
expect_rc 0 "$EVAULT" check --json
grep -q '"result":"ok","records":152,"destroyed":5,"damaged":0' "$T/out" && ok ||
    fail "check --json after destroy: $(cat "$T/out")"
# The tombstones: ids kept, nothing else.
[ "$(sql "SELECT count(*) FROM records WHERE state = 3 AND blob IS NULL AND padded_size = 0 AND length(meta) = 0")" -eq 5 ] &&
    ok || fail "tombstones: $(sql "SELECT id, state, length(meta) FROM records WHERE state = 3")"
[ "$(sql "SELECT count(*) FROM blind WHERE record IN ($A, $P, $C, $D, $H)")" -eq 0 ] && ok || fail "blind rows left"
[ "$(sql "SELECT count(*) FROM amendments WHERE record = $P")" -eq 0 ] && ok || fail "amendments left"
# Key rotation re-wraps what is left and keeps the tombstones as they are.
expect_rc 0 "$EVAULT" key rotate --new-passphrase-file "$T/pass"
expect_rc 0 "$EVAULT" check --read-data
expect_rc 3 "$EVAULT" get "$A" -o "$T/a.out"
grep -q "record $A was destroyed on .* (reason: the source asked for it)" "$T/err" && ok ||
    fail "get after rotate: $(cat "$T/err")"
[ "$(sql "SELECT count(*) FROM records WHERE state = 3 AND length(meta) = 0")" -eq 5 ] &&
    ok || fail "rotate changed a tombstone"
# A new record takes a new id.
echo "after" > "$T/in/after.txt"
expect_rc 0 "$EVAULT" add "$T/in/after.txt"
[ "$(id_of after.txt)" -gt "$H" ] && ok || fail "a destroyed record's id was reused"

# No byte of a destroyed record's key, inline data or metadata is left in
# vault.db, vault.db-wal or any other file of the vault.
# shellcheck disable=SC2086
[ "$(raw $KEYS $PIECES)" -eq 0 ] && ok ||
    fail "$(raw $KEYS $PIECES) key/data/metadata piece(s) of destroyed records are still in the vault's files"
# Their bytes in vault.pack are zeros now, nothing else moved, and no
# range is left to wipe.
[ "$(stat -c %s "$V/vault.pack")" -ge "$PACK_SIZE" ] && ok || fail "vault.pack shrank below what it held"
[ "$(sql "SELECT count(*) FROM pack_free")" -eq 0 ] && ok || fail "pack_free still lists ranges after destroy"

# A destroy while another process reads the catalog: the record is
# destroyed, but the WAL cannot be emptied until the reader ends (exit 5,
# said plainly); --sweep finishes it.
head -c 20000 /dev/urandom > "$T/in/late.bin"
expect_rc 0 "$EVAULT" add "$T/in/late.bin"
L=$(id_of late.bin)
LKEY=$(key_of "$L")
$PY -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM records").fetchall()
open(sys.argv[2], "w").close()
time.sleep(12)
c.execute("COMMIT")' "$V/vault.db" "$T/reading" &
reader=$!
for _ in $(seq 1 100); do [ -e "$T/reading" ] && break; sleep 0.1; done
expect_rc 5 "$EVAULT" destroy "$L" --reason "late" --yes
grep -q "^destroyed record $L" "$T/out" && ok || fail "busy destroy: $(cat "$T/out")"
grep -q "record $L was destroyed, but another process is reading the catalog" "$T/err" && ok ||
    fail "busy destroy: $(cat "$T/err")"
grep -q "^hint: .*--sweep" "$T/err" && ok || fail "busy destroy: no hint: $(cat "$T/err")"
wait "$reader"
expect_rc 3 "$EVAULT" get "$L"
expect_rc 0 "$EVAULT" destroy --sweep
# shellcheck disable=SC2086
[ "$(raw $LKEY $KEYS)" -eq 0 ] && ok || fail "key bytes left after the reader ended and a sweep"

# A blob file left by a kill between the commit and its removal: harmless
# for check, removed by --sweep and by the next destroy.
ORPHAN=$V/blobs/ee/ee$(printf '%062d' 1)
mkdir -p "$V/blobs/ee" && head -c 4096 /dev/urandom > "$ORPHAN"
expect_rc 0 "$EVAULT" check
grep -q "no record uses.*$ORPHAN" "$T/out" && ok || fail "check does not note the leftover: $(cat "$T/out")"
expect_rc 0 "$EVAULT" destroy --sweep
grep -q "removed 1 blob file" "$T/out" && ok || fail "sweep: $(cat "$T/out")"
[ ! -e "$ORPHAN" ] && ok || fail "sweep left the orphan"
[ ! -e "$V/blobs/ee" ] && ok || fail "sweep left the orphan's empty folder"
mkdir -p "$V/blobs/ee" && head -c 4096 /dev/urandom > "$ORPHAN"
expect_rc 0 "$EVAULT" destroy "$K" --reason "done" --yes --json
grep -q '"leftovers_removed":1' "$T/out" && ok || fail "destroy did not sweep: $(cat "$T/out")"
[ ! -e "$ORPHAN" ] && ok || fail "destroy left the orphan"
# A file with a blob's name that a record still uses is never swept.
expect_rc 0 "$EVAULT" destroy --sweep --json
grep -q '"leftovers_removed":0' "$T/out" && ok || fail "sweep of a clean vault: $(cat "$T/out")"
expect_rc 0 "$EVAULT" check --read-data
expect_rc 2 "$EVAULT" destroy --sweep "$A"

# kill -9 at random moments of a destroy: the vault opens and passes check,
# and the record is either intact or destroyed -- never half.
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }
head -c 300000 /dev/urandom > "$T/in/timing.bin"
# Kill times spread over 0 .. 1.3 x the fastest of three destroys here.
BEST=
for i in 1 2 3; do
    cp "$T/in/timing.bin" "$T/in/timing$i.bin"; echo "$i" >> "$T/in/timing$i.bin"
    expect_rc 0 "$EVAULT" add "$T/in/timing$i.bin"
    r=$(id_of "timing$i.bin")
    t0=$(now_ms)
    expect_rc 0 "$EVAULT" destroy "$r" --reason timing --yes
    d=$(( $(now_ms) - t0 ))
    [ -z "$BEST" ] || [ "$d" -lt "$BEST" ] && BEST=$d
done
SPAN=$(( BEST * 13 / 10 + 5 ))
ITER=${EV_DESTROY_CRASH_ITER:-16}
killed=0 kept=0 gone=0 KILLED_KEYS=""
for i in $(seq 1 "$ITER"); do
    head -c $((200000 + i)) /dev/urandom > "$T/in/k$i.bin"
    "$EVAULT" add "$T/in/k$i.bin" > /dev/null 2>&1 || fail "round $i: add"
    r=$(id_of "k$i.bin")
    KILLED_KEYS="$KILLED_KEYS $(key_of "$r")"
    ms=$(( RANDOM % (SPAN + 1) ))
    "$EVAULT" destroy "$r" --reason "round $i" --yes > /dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    rc=$?
    [ "$rc" -eq 137 ] && killed=$((killed + 1))
    [ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || fail "round $i: destroy exited $rc"
    "$EVAULT" check --read-data > "$T/check.out" 2>&1 && ok ||
        fail "round $i (kill at $ms ms, exit $rc): check: $(grep -v '^note' "$T/check.out" | head -3)"
    if "$EVAULT" get "$r" -o "$T/k.out" 2> "$T/k.err"; then
        kept=$((kept + 1))
        cmp -s "$T/k.out" "$T/in/k$i.bin" && ok || fail "round $i: record $r changed"
        rm -f "$T/k.out"
        "$EVAULT" log --record "$r" --json | grep -q '"action":"destroy"' &&
            fail "round $i: a destroy entry for a record still held" || ok
        # finish the job, as a user would after the interruption
        "$EVAULT" destroy "$r" --reason "round $i, again" --yes > /dev/null 2>&1 || fail "round $i: second destroy"
    else
        gone=$((gone + 1))
        grep -q "record $r was destroyed" "$T/k.err" && ok || fail "round $i: get: $(cat "$T/k.err")"
        "$EVAULT" ls --json | grep -q "^{\"id\":$r," && fail "round $i: destroyed record listed" || ok
    fi
done
echo "destroy crash: ${SPAN} ms span, $killed of $ITER killed; $kept kept then destroyed, $gone destroyed" >&2
[ "$killed" -ge 2 ] && ok || fail "only $killed of $ITER destroys were killed mid-way (timing too coarse?)"
expect_rc 0 "$EVAULT" destroy --sweep
expect_rc 0 "$EVAULT" check --read-data
grep -q "no record uses" "$T/out" && fail "leftovers after sweep: $(cat "$T/out")" || ok
# shellcheck disable=SC2086
[ "$(raw $KILLED_KEYS)" -eq 0 ] && ok || fail "keys of records destroyed under kill -9 remain"

# Tampering behind evault's back: each is damage, named by record id.
cp "$V/vault.db" "$T/good.db"
restore() { cp "$T/good.db" "$V/vault.db"; rm -f "$V/vault.db-wal" "$V/vault.db-shm"; }
tamper() { # tamper NAME RECORD SQL
    sqlite3 "$V/vault.db" "$3" || { fail "$1: sql"; return; }
    "$EVAULT" check > "$T/tout" 2> "$T/terr"
    local rc=$?
    [ "$rc" -eq 1 ] && grep -q "DAMAGED" "$T/tout" && ok ||
        fail "$1: check exit $rc: $(cat "$T/tout" "$T/terr" | head -3)"
    if [ "$2" != - ]; then
        grep -q "^DAMAGED: record $2: " "$T/tout" && ok || fail "$1: record $2 not named: $(head -3 "$T/tout")"
    fi
    restore
}
tamper "tombstone turned back" "$A" "UPDATE records SET state = 1 WHERE id = $A"
tamper "tombstone given a blob" "$A" "UPDATE records SET blob = (SELECT blob FROM records WHERE id = $S) WHERE id = $A"
tamper "tombstone deleted" "$A" "DELETE FROM records WHERE id = $A"
tamper "record destroyed without an entry" "$S" \
    "UPDATE records SET state = 3, blob = NULL, padded_size = 0, meta = X'' WHERE id = $S"
SEQ=$("$EVAULT" log --record "$A" --json | sed -n 's/^{"seq":\([0-9]*\),.*"action":"destroy".*/\1/p')
[ -n "$SEQ" ] && ok || fail "no destroy entry for record $A"
tamper "destroy entry removed" - "DELETE FROM custody WHERE seq = $SEQ"
LAST=$(sql "SELECT max(seq) FROM custody")
tamper "last entry removed" - "DELETE FROM custody WHERE seq = $LAST"
tamper "amendment put back" - "INSERT INTO amendments(id, record, meta) VALUES(99, $P, X'00')"
expect_rc 0 "$EVAULT" check --read-data

# The last blob in its folder: the folder goes with it, and a new add
# makes it again.
new_vault "$T/u" || finish
head -c 3000000 /dev/urandom > "$T/only.bin"
EVAULT_DIR=$T/u expect_rc 0 "$EVAULT" add "$T/only.bin"
[ "$(find "$T/u/blobs" -mindepth 1 -type d | wc -l)" -eq 1 ] && ok || fail "setup: one blob folder"
EVAULT_DIR=$T/u expect_rc 0 "$EVAULT" destroy 1 --reason "gone" --yes
[ -z "$(find "$T/u/blobs" -mindepth 1)" ] && ok || fail "destroy left in blobs/: $(find "$T/u/blobs" -mindepth 1)"
EVAULT_DIR=$T/u expect_rc 0 "$EVAULT" add "$T/only.bin"
EVAULT_DIR=$T/u expect_rc 0 "$EVAULT" check --read-data

# A destroyed record restored from an older copy of the catalog.
new_vault "$T/w" || finish
export EVAULT_DIR=$T/w
expect_rc 0 "$EVAULT" add "$T/in/sealed.bin" "$T/in/late.bin"
sqlite3 "$T/w/vault.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
cp "$T/w/vault.db" "$T/before.db"
expect_rc 0 "$EVAULT" destroy 1 --reason "gone" --yes
sqlite3 "$T/w/vault.db" "ATTACH '$T/before.db' AS o;
    INSERT OR REPLACE INTO records SELECT * FROM o.records WHERE id = 1;
    INSERT INTO blind SELECT * FROM o.blind WHERE record = 1;
    INSERT INTO blobs SELECT * FROM o.blobs WHERE id = (SELECT blob FROM o.records WHERE id = 1);"
"$EVAULT" check > "$T/tout" 2>&1
[ $? -eq 1 ] && grep -q "^DAMAGED: record 1: the custody log says it was destroyed, but the catalog still holds it" "$T/tout" && ok ||
    fail "restored record not found: $(head -3 "$T/tout")"
finish
