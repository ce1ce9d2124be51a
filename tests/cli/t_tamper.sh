#!/usr/bin/env bash
# t_tamper.sh - flip bytes in every region of a blob (a file of its own,
# and one in vault.pack) and of the catalog, and expect detection: `check --read-data` exits 1 and
# names the record, `get` exits 1 and writes no file, or unlock fails (4).
# Never a success, never a get that returns wrong bytes.  Ends with a
# property loop of random byte flips in vault.db, vault.pack and in blob
# files.
. "$(dirname "$0")/lib.sh"

# flip FILE OFFSET [MASK]: XOR one byte (OFFSET < 0 counts from the end).
flip() {
    local file=$1 off=$2 mask=${3:-1} size b
    size=$(stat -c %s "$file")
    [ "$off" -lt 0 ] && off=$((size + off))
    [ "$off" -ge 0 ] && [ "$off" -lt "$size" ] || { echo "offset $off outside $file" >&2; return 1; }
    b=$(od -An -tu1 -j "$off" -N 1 "$file" | tr -d ' ')
    printf "\\$(printf '%03o' $(( b ^ mask )))" |
        dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}
# randflip FILE: XOR a random byte with a random non-zero mask; prints both.
randflip() {
    local size off mask
    size=$(stat -c %s "$1")
    off=$(( ((RANDOM << 30) | (RANDOM << 15) | RANDOM) % size ))
    mask=$(( RANDOM % 255 + 1 ))
    flip "$1" "$off" "$mask" && echo "$off $mask"
}
# padme N: the padded length (blob.h: Padme).
padme() {
    local n=$1 e=0 s=0 x mask
    [ "$n" -lt 2 ] && { echo "$n"; return; }
    x=$n; while [ "$x" -gt 1 ]; do x=$((x >> 1)); e=$((e + 1)); done
    x=$e; while [ "$x" -gt 0 ]; do x=$((x >> 1)); s=$((s + 1)); done
    mask=0; [ "$e" -gt "$s" ] && mask=$(( (1 << (e - s)) - 1 ))
    echo $(( (n + mask) & ~mask ))
}
# layout CONTENT_LEN: the regions of a blob in which no chunk shrank
# (blob.h): "chunkI OFFSET" lines, then index, padding and end.
layout() {
    local len=$1 n i off=16 plain
    n=$(( len == 0 ? 1 : (len + 1048575) / 1048576 ))
    for ((i = 0; i < n; i++)); do
        echo "chunk$i $off"
        plain=$(( i + 1 < n ? 1048576 : len - i * 1048576 ))
        off=$((off + plain + 16))
    done
    echo "index $off"
    off=$((off + 16 + 4 * n + 16))
    echo "padding $off"
    echo "end $(padme $off)"
}
printf 'abc' > "$T/selftest"; flip "$T/selftest" 1; flip "$T/selftest" -1 0x80
[ "$(od -An -tx1 "$T/selftest" | tr -d ' ')" = "6163e3" ] && ok || fail "flip helper"
[ "$(padme 5068)" -eq 5120 ] && ok || fail "padme helper"
command -v sqlite3 > /dev/null && ok || { fail "sqlite3 CLI missing"; finish; }

V=$T/v
new_vault "$V" || finish
export EVAULT_DIR=$V
DB=$V/vault.db
MIB=1048576

# --- the evidence ------------------------------------------------------
mkdir -p "$T/in/sub"
python3 - "$T/in/report.txt" <<'EOF'
import random, sys
random.seed(7)
words = ("detention interrogation witness officer cell night transfer "
         "statement lawyer court prison guard beating medical record "
         "Tashkent Nukus Andijan Jaslyk evidence").split()
with open(sys.argv[1], "w") as f:
    while f.tell() < 3 * 1048576 + 524288:          # 3.5 MiB, compressible
        f.write(" ".join(random.choice(words) for _ in range(12)) + "\n")
EOF
RANDLEN=$((3 * MIB + 12345))                         # 4 chunks, the last short
head -c $RANDLEN /dev/urandom > "$T/in/clip.bin"
cp "$T/in/clip.bin" "$T/in/sub/clip-copy.bin"        # shares clip.bin's blob
head -c 5000 /dev/urandom > "$T/in/small.bin"        # inline, incompressible
head -c 3000 /dev/urandom > "$T/in/sub/a3000.bin"    # two inline blobs of
head -c 3000 /dev/urandom > "$T/in/sub/b3000.bin"    # the same size
printf 'Statement of witness B, given on 3 March.\n' > "$T/in/note.txt"
: > "$T/in/empty.bin"

expect_rc 0 "$EVAULT" add "$T/in" --case TamperCase --source S1 --tag t1 --tag t2
[ "$(wc -l < "$T/out")" -eq 8 ] && ok || fail "add printed $(wc -l < "$T/out") lines, wanted 8"
expect_rc 0 "$EVAULT" ls --json
# id <TAB> sha256 <TAB> path
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("%d\t%s\t%s" % (r["id"], r["sha256"], r["path"]))' "$T/out" > "$T/records"
id_of() { awk -F'\t' -v p="in/$1" '$3 == p { print $1 }' "$T/records"; }
src_of() { awk -F'\t' -v i="$1" '$1 == i { print $3 }' "$T/records" | sed "s|^in/|$T/in/|"; }
ALL_IDS=$(cut -f1 "$T/records")
ID_TXT=$(id_of report.txt)
ID_CLIP=$(id_of clip.bin)
ID_COPY=$(id_of sub/clip-copy.bin)
ID_SMALL=$(id_of small.bin)
ID_A=$(id_of sub/a3000.bin)
ID_B=$(id_of sub/b3000.bin)
ID_NOTE=$(id_of note.txt)
ID_EMPTY=$(id_of empty.bin)
for x in "$ID_TXT" "$ID_CLIP" "$ID_COPY" "$ID_SMALL" "$ID_A" "$ID_B" "$ID_NOTE" "$ID_EMPTY"; do
    [ -n "$x" ] || { fail "a record is missing from ls"; cat "$T/records" >&2; finish; }
done

while IFS=$'\t' read -r id sha path; do
    [ "$(sha256sum < "$(src_of "$id")" | cut -d' ' -f1)" = "$sha" ] && ok || fail "ls: wrong SHA-256 for $path"
done < "$T/records"

blob_hex() { sqlite3 "$DB" "SELECT lower(hex(blob)) FROM records WHERE id = $1"; }
blob_file() { local h; h=$(blob_hex "$1"); echo "$V/blobs/${h:0:2}/$h"; }
F_CLIP=$(blob_file "$ID_CLIP")
F_TXT=$(blob_file "$ID_TXT")
[ -f "$F_CLIP" ] && [ -f "$F_TXT" ] && ok || { fail "blob files not found"; finish; }
[ "$(blob_hex "$ID_CLIP")" = "$(blob_hex "$ID_COPY")" ] && ok || fail "identical files do not share a blob"
n_inline=$(sqlite3 "$DB" "SELECT count(*) FROM blobs WHERE typeof(data) = 'integer'")
[ "$n_inline" -eq 5 ] && ok || fail "$n_inline blobs in vault.pack, wanted 5"
PACK=$V/vault.pack

expect_rc 0 "$EVAULT" check --read-data
cp -p "$DB" "$T/vault.db.orig"
cp -p "$PACK" "$T/vault.pack.orig"
[ ! -e "$DB-wal" ] && ok || fail "a WAL is left after a clean close (vault.db alone is not a full copy)"
mkdir -p "$T/orig" "$T/got"
cp -p "$F_CLIP" "$T/orig/clip"
cp -p "$F_TXT" "$T/orig/txt"

# --- helpers -------------------------------------------------------------
# get_safe ID: get either fails (exit 1..5, no output file) or returns
# exactly the original bytes.  Sets GOT_RC.
get_safe() {
    local id=$1 what=$2 src
    rm -rf "$T/got"; mkdir "$T/got"
    timeout 60 "$EVAULT" get "$id" -o "$T/got/f" > /dev/null 2> "$T/get.err"
    GOT_RC=$?
    if [ "$GOT_RC" -eq 0 ]; then
        src=$(src_of "$id")
        if cmp -s "$T/got/f" "$src"; then ok; else
            fail "$what: get $id exited 0 with WRONG BYTES"; fi
    elif [ "$GOT_RC" -le 5 ]; then
        if [ -z "$(ls -A "$T/got")" ]; then ok; else
            fail "$what: get $id failed ($GOT_RC) but left $(ls -A "$T/got")"; fi
    else
        fail "$what: get $id crashed or hung (exit $GOT_RC)"; sed 's/^/  | /' "$T/get.err" >&2
    fi
}

# cat_safe ID WHAT: `cat ID` either fails (exit 1..5) or its output has the
# record's original SHA-256 (cheaper than get -o, which fsyncs).
cat_safe() {
    local id=$1 what=$2 rc sum want
    timeout 60 "$EVAULT" cat "$id" 2> "$T/get.err" | sha256sum > "$T/cat.sum"
    rc=${PIPESTATUS[0]}
    want=$(awk -F'\t' -v i="$id" '$1 == i { print $2 }' "$T/records")
    sum=$(cut -d' ' -f1 "$T/cat.sum")
    if [ "$rc" -eq 0 ]; then
        [ "$sum" = "$want" ] && ok || fail "$what: cat $id exited 0 with WRONG BYTES"
    elif [ "$rc" -le 5 ]; then ok; else
        fail "$what: cat $id crashed or hung (exit $rc)"; sed 's/^/  | /' "$T/get.err" >&2
    fi
    GOT_RC=$rc
}

# expect_damage WHAT ID...: check --read-data exits 1 naming each ID, and
# get of each ID exits 1 leaving no file.
expect_damage() {
    local what=$1; shift
    "$EVAULT" check --read-data > "$T/check.out" 2> "$T/check.err"
    local rc=$?
    if [ "$rc" -eq 1 ]; then ok; else
        fail "$what: check --read-data exited $rc, wanted 1"; sed 's/^/  | /' "$T/check.out" >&2; fi
    for id in "$@"; do
        grep -q "record $id:" "$T/check.out" && ok || fail "$what: check does not name record $id"
        get_safe "$id" "$what"
        [ "$GOT_RC" -eq 1 ] && ok || fail "$what: get $id exited $GOT_RC, wanted 1"
    done
}

# expect_clean WHAT: check --read-data exits 0 (after a restore).
expect_clean() {
    "$EVAULT" check --read-data > "$T/check.out" 2>&1 && ok || {
        fail "$1: check fails after restoring"; sed 's/^/  | /' "$T/check.out" >&2; }
}

# blob_case WHAT FILE ORIG OFFSET ID...: flip one byte of a blob file.
blob_case() {
    local what=$1 file=$2 orig=$3 off=$4; shift 4
    flip "$file" "$off" || { fail "$what: cannot flip"; return; }
    expect_damage "$what (offset $off)" "$@"
    cp -p "$orig" "$file"
    expect_clean "$what"
}

# --- blob files: the random clip (layout known exactly) -------------------
declare -A L
while read -r name off; do L[$name]=$off; done < <(layout $RANDLEN)
SIZE_CLIP=$(stat -c %s "$F_CLIP")
[ "$SIZE_CLIP" -eq "${L[end]}" ] && ok || fail "clip blob is $SIZE_CLIP bytes, layout says ${L[end]} (compressed?)"
[ "${L[end]}" -gt "${L[padding]}" ] && ok || fail "test setup: the clip blob has no padding"
C="clip blob"
for off in 0 5 6 7 8 15; do blob_case "$C header" "$F_CLIP" "$T/orig/clip" $off "$ID_CLIP" "$ID_COPY"; done
blob_case "$C chunk 0 first byte" "$F_CLIP" "$T/orig/clip" "${L[chunk0]}" "$ID_CLIP" "$ID_COPY"
blob_case "$C chunk 0 body" "$F_CLIP" "$T/orig/clip" $((L[chunk0] + 500000)) "$ID_CLIP" "$ID_COPY"
blob_case "$C chunk 0 tag" "$F_CLIP" "$T/orig/clip" $((L[chunk1] - 1)) "$ID_CLIP" "$ID_COPY"
blob_case "$C chunk 1" "$F_CLIP" "$T/orig/clip" $((L[chunk1] + 77)) "$ID_CLIP" "$ID_COPY"
blob_case "$C chunk 2" "$F_CLIP" "$T/orig/clip" $((L[chunk2] + 1048000)) "$ID_CLIP" "$ID_COPY"
blob_case "$C last chunk" "$F_CLIP" "$T/orig/clip" $((L[chunk3] + 10)) "$ID_CLIP" "$ID_COPY"
blob_case "$C last chunk tag" "$F_CLIP" "$T/orig/clip" $((L[index] - 1)) "$ID_CLIP" "$ID_COPY"
blob_case "$C index first byte" "$F_CLIP" "$T/orig/clip" "${L[index]}" "$ID_CLIP" "$ID_COPY"
blob_case "$C index entries" "$F_CLIP" "$T/orig/clip" $((L[index] + 20)) "$ID_CLIP" "$ID_COPY"
blob_case "$C index tag" "$F_CLIP" "$T/orig/clip" $((L[padding] - 1)) "$ID_CLIP" "$ID_COPY"
blob_case "$C padding first byte" "$F_CLIP" "$T/orig/clip" "${L[padding]}" "$ID_CLIP" "$ID_COPY"
blob_case "$C padding middle" "$F_CLIP" "$T/orig/clip" $(( (L[padding] + L[end]) / 2 )) "$ID_CLIP" "$ID_COPY"
blob_case "$C last byte" "$F_CLIP" "$T/orig/clip" -1 "$ID_CLIP" "$ID_COPY"

# Chunks 1 and 2 have the same length: swap them (reordering).
python3 - "$F_CLIP" "${L[chunk1]}" "${L[chunk2]}" "${L[chunk3]}" <<'EOF'
import sys
p, a, b, c = sys.argv[1], *map(int, sys.argv[2:])
d = bytearray(open(p, "rb").read())
d[a:c] = d[b:c] + d[a:b]
open(p, "wb").write(d)
EOF
expect_damage "$C chunks 1 and 2 swapped" "$ID_CLIP" "$ID_COPY"
cp -p "$T/orig/clip" "$F_CLIP"; expect_clean "$C chunks swapped"
# Cut after the index: the padding removed (the file is the unpadded blob).
truncate -s "${L[padding]}" "$F_CLIP"
expect_damage "$C padding removed" "$ID_CLIP" "$ID_COPY"
cp -p "$T/orig/clip" "$F_CLIP"; expect_clean "$C padding removed"

# --- blob files: the compressed text (positions everywhere) ---------------
SIZE_TXT=$(stat -c %s "$F_TXT")
C="text blob"
for off in 0 6 7 15 16 1000 $((SIZE_TXT / 4)) $((SIZE_TXT / 2)) $((SIZE_TXT * 3 / 4)) \
           $((SIZE_TXT * 9 / 10)) $((SIZE_TXT * 19 / 20)) $((SIZE_TXT - 4096)) \
           $((SIZE_TXT - 1024)) $((SIZE_TXT - 256)) $((SIZE_TXT - 64)) $((SIZE_TXT - 2)) -1; do
    blob_case "$C" "$F_TXT" "$T/orig/txt" "$off" "$ID_TXT"
done

# --- blob files: truncate, append, swap, delete -------------------------
for f in "$F_CLIP:$T/orig/clip:$ID_CLIP" "$F_TXT:$T/orig/txt:$ID_TXT"; do
    IFS=: read -r file orig id <<< "$f"
    truncate -s -1 "$file"
    expect_damage "truncated by 1 byte" "$id"
    cp -p "$orig" "$file"; expect_clean "truncated"
    printf 'x' >> "$file"
    expect_damage "one byte appended" "$id"
    cp -p "$orig" "$file"; expect_clean "appended"
    rm "$file"
    expect_damage "blob file deleted" "$id"
    cp -p "$orig" "$file"; expect_clean "deleted"
    : > "$file"
    expect_damage "blob file emptied" "$id"
    cp -p "$orig" "$file"; expect_clean "emptied"
done
mv "$F_CLIP" "$T/swap"; mv "$F_TXT" "$F_CLIP"; mv "$T/swap" "$F_TXT"
expect_damage "two blob files' names swapped" "$ID_CLIP" "$ID_COPY" "$ID_TXT"
cp -p "$T/orig/clip" "$F_CLIP"; cp -p "$T/orig/txt" "$F_TXT"; expect_clean "swapped"
# A blob file padded to the other's length (same size, other content).
head -c "$SIZE_TXT" "$T/orig/clip" > "$F_TXT"
expect_damage "text blob replaced by the clip's first bytes" "$ID_TXT"
cp -p "$T/orig/txt" "$F_TXT"; expect_clean "replaced"

# --- the catalog ----------------------------------------------------------
restore_db() {
    cp -p "$T/vault.db.orig" "$DB"
    cp -p "$T/vault.pack.orig" "$PACK"
    rm -f "$DB-wal" "$DB-shm"
}
sql() { sqlite3 "$DB" "$1" || fail "sqlite3: $1"; }

# flip_col TABLE COLUMN WHERE [BYTE]: XOR 0x01 into one byte of a BLOB
# column (BYTE < 0 counts from the end; default: the middle).
flip_col() {
    local table=$1 col=$2 where=$3 hex n k b
    hex=$(sqlite3 "$DB" "SELECT hex($col) FROM $table WHERE $where LIMIT 1")
    n=$(( ${#hex} / 2 ))
    [ "$n" -gt 0 ] || { fail "flip_col: $table.$col is empty where $where"; return; }
    k=${4:-$((n / 2))}
    [ "$k" -lt 0 ] && k=$((n + k))
    b=$(printf '%02X' $(( 0x${hex:$((2 * k)):2} ^ 1 )))
    sql "UPDATE $table SET $col = X'${hex:0:$((2 * k))}$b${hex:$((2 * k + 2))}' WHERE $where"
}

# catalog_case WHAT EXPECT: after the tamper, check exits EXPECT (1 or 4),
# no get returns wrong bytes (with 4: every get exits 4); then restore.
catalog_case() {
    local what=$1 want=$2
    "$EVAULT" check --read-data > "$T/check.out" 2> "$T/check.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        fail "catalog: $what: check --read-data exited $rc, wanted $want"
        sed 's/^/  | /' "$T/check.out" "$T/check.err" >&2
    fi
    for id in $ALL_IDS; do
        cat_safe "$id" "catalog: $what"
        if [ "$want" -eq 4 ] && [ "$GOT_RC" -ne 4 ]; then
            fail "catalog: $what: get $id exited $GOT_RC, wanted 4"
        fi
    done
    if [ -n "${3:-}" ]; then   # the damaged record must be named
        for id in $3; do
            grep -q "record $id:" "$T/check.out" && ok || fail "catalog: $what: check does not name record $id"
            get_safe "$id" "catalog: $what"
        done
    fi
    restore_db
}

blob_of() { sqlite3 "$DB" "SELECT hex(blob) FROM records WHERE id = $1"; }

flip_col records meta "id = $ID_TXT";        catalog_case "records.meta middle byte" 1 "$ID_TXT"
flip_col records meta "id = $ID_NOTE" 0;     catalog_case "records.meta first byte" 1 "$ID_NOTE"
flip_col records meta "id = $ID_SMALL" -1;   catalog_case "records.meta last byte" 1 "$ID_SMALL"
m=$(sqlite3 "$DB" "SELECT hex(meta) FROM records WHERE id = $ID_A")
sql "UPDATE records SET meta = (SELECT meta FROM records WHERE id = $ID_B) WHERE id = $ID_A"
sql "UPDATE records SET meta = X'$m' WHERE id = $ID_B"
catalog_case "records.meta swapped between two records" 1 "$ID_A $ID_B"
sql "UPDATE records SET id = 99 WHERE id = $ID_NOTE"
sql "UPDATE blind SET record = 99 WHERE record = $ID_NOTE"
catalog_case "a record renumbered" 1 "99"

flip_col blobs key "id = X'$(blob_of "$ID_CLIP")'"; catalog_case "blobs.key of a blob file" 1 "$ID_CLIP $ID_COPY"
flip_col blobs key "id = X'$(blob_of "$ID_SMALL")'" 0; catalog_case "blobs.key of an inline blob" 1 "$ID_SMALL"
k=$(sqlite3 "$DB" "SELECT hex(key) FROM blobs WHERE id = X'$(blob_of "$ID_A")'")
sql "UPDATE blobs SET key = (SELECT key FROM blobs WHERE id = X'$(blob_of "$ID_B")') WHERE id = X'$(blob_of "$ID_A")'"
sql "UPDATE blobs SET key = X'$k' WHERE id = X'$(blob_of "$ID_B")'"
catalog_case "blobs.key swapped between two blobs" 1 "$ID_A $ID_B"
sql "UPDATE blobs SET padded_size = padded_size + 1 WHERE id = X'$(blob_of "$ID_CLIP")'"
catalog_case "blobs.padded_size" 1 "$ID_CLIP"
sql "DELETE FROM blobs WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "an inline blob row deleted" 1 "$ID_SMALL"
sql "DELETE FROM blobs WHERE id = X'$(blob_of "$ID_CLIP")'"
catalog_case "a blob file's row deleted" 1 "$ID_CLIP $ID_COPY"

# vault.pack: the small blobs, in each region.  pack_off ID: where the
# record's blob starts in vault.pack.
pack_off() { sqlite3 "$DB" "SELECT data FROM blobs WHERE id = X'$(blob_of "$1")' AND typeof(data) = 'integer'"; }
pack_len() { sqlite3 "$DB" "SELECT padded_size FROM blobs WHERE id = X'$(blob_of "$1")'"; }
declare -A S
while read -r name off; do S[$name]=$off; done < <(layout 5000)
[ "$(pack_len "$ID_SMALL")" -eq "${S[end]}" ] \
    && ok || fail "small.bin's blob is not ${S[end]} bytes"
O_SMALL=$(pack_off "$ID_SMALL")
for off in 0 7 "${S[chunk0]}" $((S[chunk0] + 2500)) $((S[index] - 1)) "${S[index]}" \
           $((S[index] + 17)) $((S[padding] - 1)) "${S[padding]}" $((S[end] - 1)); do
    flip "$PACK" $((O_SMALL + off))
    catalog_case "vault.pack: small.bin at offset $off" 1 "$ID_SMALL"
done
for id in "$ID_NOTE" "$ID_EMPTY"; do
    o=$(pack_off "$id") n=$(pack_len "$id")
    for off in 0 20 $((n - 40)) $((n - 1)); do
        flip "$PACK" $((o + off))
        catalog_case "vault.pack: record $id at offset $off of $n" 1 "$id"
    done
done
# cut into the last blob of the file
LAST=$(sqlite3 "$DB" "SELECT r.id FROM records r JOIN blobs b ON b.id = r.blob WHERE typeof(b.data) = 'integer' ORDER BY b.data DESC LIMIT 1")
truncate -s $(( $(pack_off "$LAST") + $(pack_len "$LAST") - 1 )) "$PACK"
catalog_case "vault.pack cut by 1 byte" 1 "$LAST"
: > "$PACK"
catalog_case "vault.pack emptied" 1 "$ID_SMALL $ID_NOTE $ID_EMPTY $ID_A $ID_B"
rm "$PACK"
catalog_case "vault.pack deleted" 1 "$ID_SMALL $ID_NOTE $ID_EMPTY $ID_A $ID_B"
# a.bin's bytes replaced by b.bin's (same length, other blob)
dd if="$T/vault.pack.orig" of="$PACK" bs=1 skip="$(pack_off "$ID_B")" seek="$(pack_off "$ID_A")" \
    count="$(pack_len "$ID_A")" conv=notrunc status=none
catalog_case "vault.pack: a blob overwritten by another of the same size" 1 "$ID_A"
# the rows: offsets moved, swapped, out of the file
sql "UPDATE blobs SET data = data + 1 WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "blobs.data (offset) one byte later" 1 "$ID_SMALL"
sql "UPDATE blobs SET data = $(pack_off "$ID_B") WHERE id = X'$(blob_of "$ID_A")'"
catalog_case "blobs.data (offset) pointing at a same-size blob" 1 "$ID_A"
sql "UPDATE blobs SET data = 1000000000 WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "blobs.data (offset) past the end of vault.pack" 1 "$ID_SMALL"
sql "UPDATE blobs SET data = -5 WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "blobs.data (offset) negative" 1 "$ID_SMALL"
sql "UPDATE blobs SET data = (SELECT substr(x'$(xxd -p -s "$O_SMALL" -l "${S[end]}" "$PACK" | tr -d '\n')', 1)) WHERE id = X'$(blob_of "$ID_SMALL")'"
[ "$(sqlite3 "$DB" "SELECT typeof(data) FROM blobs WHERE id = X'$(blob_of "$ID_SMALL")'")" = blob ] && ok || fail "setup: bytes into the row"
"$EVAULT" check --read-data > /dev/null 2>&1 && ok || fail "a blob's bytes in its row (format 1) do not check"
flip_col blobs data "id = X'$(blob_of "$ID_SMALL")'" 30
catalog_case "blobs.data (bytes in the row, format 1) flipped" 1 "$ID_SMALL"
sql "UPDATE blobs SET data = NULL WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "blobs.data set to NULL (a small blob turned into a missing file)" 1 "$ID_SMALL"
sql "UPDATE blobs SET padded_size = 5000000 WHERE id = X'$(blob_of "$ID_SMALL")'"
catalog_case "blobs.padded_size of a small blob far too large" 1 "$ID_SMALL"

# blind indexes
read -r bf bv < <(sqlite3 -separator ' ' "$DB" "SELECT field, hex(value) FROM blind WHERE record = $ID_CLIP ORDER BY field LIMIT 1")
flip_col blind value "field = $bf AND value = X'$bv' AND record = $ID_CLIP"
catalog_case "blind.value" 1 "$ID_CLIP"
sql "DELETE FROM blind WHERE field = $bf AND value = X'$bv' AND record = $ID_CLIP"
catalog_case "a blind row deleted" 1 "$ID_CLIP"
for f in $(sqlite3 "$DB" "SELECT DISTINCT field FROM blind WHERE record = $ID_TXT"); do
    sql "DELETE FROM blind WHERE record = $ID_TXT AND field = $f AND value = (SELECT value FROM blind WHERE record = $ID_TXT AND field = $f LIMIT 1)"
    catalog_case "the blind row of field $f deleted" 1 "$ID_TXT"
done
sql "UPDATE blind SET record = $ID_NOTE WHERE record = $ID_SMALL AND field = 4"
catalog_case "a blind row moved to another record" 1 "$ID_SMALL $ID_NOTE"
sql "INSERT INTO blind SELECT field, value, $ID_NOTE FROM blind WHERE record = $ID_CLIP AND field = 4"
catalog_case "a blind row copied to another record" 1 "$ID_NOTE"

# records: blob reference, sizes, state
sql "UPDATE records SET blob = (SELECT blob FROM records WHERE id = $ID_CLIP) WHERE id = $ID_TXT"
catalog_case "records.blob pointed at another record's blob" 1 "$ID_TXT"
sql "UPDATE records SET blob = (SELECT blob FROM records WHERE id = $ID_B) WHERE id = $ID_A"
catalog_case "records.blob pointed at a same-size blob" 1 "$ID_A"
sql "UPDATE records SET blob = NULL WHERE id = $ID_SMALL"
catalog_case "records.blob removed" 1 "$ID_SMALL"
flip_col records blob "id = $ID_NOTE"
catalog_case "records.blob one byte changed" 1 "$ID_NOTE"
sql "UPDATE records SET padded_size = padded_size + 1 WHERE id = $ID_TXT"
catalog_case "records.padded_size" 1 "$ID_TXT"
sql "UPDATE records SET padded_size = 0 WHERE id = $ID_SMALL"
catalog_case "records.padded_size of an inline blob" 1 "$ID_SMALL"
sql "UPDATE records SET state = 9 WHERE id = $ID_NOTE"
catalog_case "records.state out of range" 1 "$ID_NOTE"
sql "DELETE FROM records WHERE id = $ID_NOTE"
catalog_case "a record row deleted (its search entries remain)" 1 "$ID_NOTE"

# key slots and vault id: no slot opens -> exit 4
flip_col keyslots wrapped "kind = 1"
catalog_case "keyslots.wrapped of the passphrase slot" 4
flip_col keyslots wrapped "kind = 1" 0
catalog_case "keyslots.wrapped first byte" 4
flip_col keyslots wrapped "kind = 1" -1
catalog_case "keyslots.wrapped last byte" 4
flip_col keyslots params "kind = 1" -1
catalog_case "keyslots.params (salt)" 4
# The Argon2 pass count in keyslots.params raised by one byte (1 -> 65537
# passes; init allows at most 1000): no slot can open, and unlock must say
# so (exit 4) rather than spend many minutes deriving a key first.
flip_col keyslots params "kind = 1" 3
timeout 10 "$EVAULT" ls > /dev/null 2> "$T/err"
rc=$?
[ "$rc" -eq 4 ] && ok || fail "catalog: keyslots.params pass count 1 -> 65537: ls exited $rc, wanted 4 (124: still deriving after 10 s)"
restore_db
flip_col meta value "key = 'vault_id'" 0
catalog_case "meta vault_id" 4
flip_col meta value "key = 'vault_id'" -1
catalog_case "meta vault_id last byte" 4

# Everything restored: the vault is intact.
expect_clean "catalog cases"

# --- property loops -------------------------------------------------------
# 40 random byte flips anywhere in vault.db: every get fails or returns the
# original bytes; no command crashes.
for i in $(seq 1 40); do
    read -r off mask < <(randflip "$DB")
    for id in $ALL_IDS; do cat_safe "$id" "vault.db flip #$i at $off (xor $mask)"; done
    "$EVAULT" check --read-data > /dev/null 2>&1
    rc=$?
    [ "$rc" -le 5 ] && ok || fail "vault.db flip #$i at $off: check crashed (exit $rc)"
    restore_db
done
# 20 random byte flips in vault.pack: check always finds damage, and no
# get returns wrong bytes.
for i in $(seq 1 20); do
    read -r off mask < <(randflip "$PACK")
    for id in $ALL_IDS; do cat_safe "$id" "vault.pack flip #$i at $off (xor $mask)"; done
    "$EVAULT" check --read-data > /dev/null 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && ok || fail "vault.pack flip #$i at $off (xor $mask): check exited $rc, wanted 1"
    restore_db
done
# 20 random byte flips in the blob files: always detected.
for i in $(seq 1 20); do
    if [ $((i % 2)) -eq 0 ]; then f=$F_CLIP o=$T/orig/clip ids="$ID_CLIP $ID_COPY"
    else f=$F_TXT o=$T/orig/txt ids=$ID_TXT; fi
    read -r off mask < <(randflip "$f")
    for id in $ids; do
        get_safe "$id" "blob flip #$i at $off"
        [ "$GOT_RC" -eq 1 ] && ok || fail "blob flip #$i at $off (xor $mask) of $(basename "$o"): get $id exited $GOT_RC, wanted 1"
    done
    cp -p "$o" "$f"
done
expect_clean "property loops"
finish
