#!/usr/bin/env bash
# t_source_protection.sh - the vault directory alone reveals nothing about
# sources, cases or files: add files whose names, case, source, tags, notes,
# location and contents are distinctive strings, then search every file under
# the vault (catalog, WAL, shared memory, blobs, tmp) for each string (UTF-8
# and UTF-16LE, as given, lower and upper case) and for each file's SHA-256
# (hex in both cases, and the raw bytes): none may appear.  Also: every file
# and folder in the vault is for its owner only.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V" || { finish; }
export EVAULT_DIR=$V
SNAP=$T/snapshots
mkdir -p "$SNAP"

# Distinctive strings (long, unique, and none is a substring of another
# string evault could write for its own reasons).
S_CASE="Zarina-Abdullaeva-case-7731"
S_CASE2="Operation-Karakum-Nightjar-5520"
S_SOURCE="Dilnoza-Rakhimova-source-4419"
S_SOURCE2="Timur-Nazarbekov-informant-9083"
S_TAG1="Andijan-massacre-witness-tag-6610"
S_TAG2="Jaslyk-prison-torture-tag-2287"
S_NOTE="Met-courier-at-Chorsu-bazaar-gate-3-note-8842"
S_LOC="Nukus-basement-Karakalpakstan-loc-3307"
S_WHEN="1987-11-23T04:05:06Z"
S_DIR="Bakhrom-Tashkent-safehouse-dir-4412"
S_SUBDIR="Gulnara-Yusupova-interviews-dir-1175"
S_FILE1="Farrukh-Ismoilov-confession-file-5561.txt"
S_FILE2="Sardor-Umarov-beating-video-file-9904.mp4"
S_FILE3="Malika-Tursunova-letter-file-7720.md"
S_FILE4="Kamola-Saidova-ledger-file-3389.csv"
S_FILE5="Rustam-Hamidov-footage-file-2045.mov"
S_NAME_STDIN="Shahnoza-Karimova-testimony-name-6138"
S_NAME_HASH="Otabek-Mirzaev-hashonly-name-4950"
S_UNI="Зарина-Абдуллаева-источник-7731"     # Cyrillic, in a file name and tag
S_TEXT1="Major-Kholmatov-ordered-the-beating-content-8127"
S_TEXT2="Cell-block-7-guard-Ergashev-content-3951"
S_TESTIMONY="I-was-held-by-officer-Yuldashev-in-Navoi-testimony-6604"

# Inputs: a directory tree with distinctive names and contents.
IN=$T/in/$S_DIR
mkdir -p "$IN/$S_SUBDIR"
# small text file (inline blob in the catalog), compressible
for i in $(seq 1 40); do echo "$S_TEXT1 line $i"; done > "$IN/$S_FILE1"
# large text file (blob file, several chunks), compressible
python3 - "$IN/$S_SUBDIR/$S_FILE3" "$S_TEXT2" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    i = 0
    while f.tell() < 2_600_000:
        f.write("%s paragraph %d: the detainee was moved at night.\n" % (sys.argv[2], i))
        i += 1
EOF
# random binary (blob file), and a small random one with a text tail
head -c 1500000 /dev/urandom > "$IN/$S_SUBDIR/$S_FILE2"
{ head -c 3000 /dev/urandom; echo "$S_TEXT1"; } > "$IN/$S_FILE4"
# a file with a Cyrillic name holding the UTF-16LE form of a secret
python3 -c 'import sys; open(sys.argv[1],"wb").write((sys.argv[2]*20).encode("utf-16-le"))' \
    "$IN/$S_SUBDIR/$S_UNI.txt" "$S_TEXT2"
# a file added --hash-only (its bytes are not kept, its hash must not leak)
head -c 50000 /dev/urandom > "$T/in/$S_FILE5"
# a hash known from elsewhere
HASH_ONLY_SHA=$(head -c 1000 /dev/urandom | sha256sum | cut -d' ' -f1)

snap() {
    cp -a "$V" "$SNAP/$1"
    # An S3 vault: what the storage operator sees, every object, is
    # searched too.
    if [ "$EV_STORE" = s3 ]; then
        local o
        mkdir -p "$SNAP/$1/objects"
        for o in $(stored_blobs "$V"); do
            s3_curl GET "$S3_BUCKET/$o" > "$SNAP/$1/objects/${o##*/}"
        done
    fi
}

# Keep a reader connection open so that the WAL survives evault's close:
# what a forensic copy taken while the vault is in use would hold.
sqlite_reader_start() {
    mkfifo "$T/rfifo"
    sqlite3 "$V/vault.db" < "$T/rfifo" > /dev/null 2>&1 &
    READER=$!
    exec 7> "$T/rfifo"
    echo "SELECT count(*) FROM meta;" >&7
    sleep 0.2
}
sqlite_reader_stop() {
    exec 7>&-
    wait "$READER" 2> /dev/null
    rm -f "$T/rfifo"
}

sqlite_reader_start
snap s0-init

expect_rc 0 "$EVAULT" add "$T/in/$S_DIR" --case "$S_CASE" --source "$S_SOURCE" \
    --tag "$S_TAG1" --tag "$S_UNI" --note "$S_NOTE" --location "$S_LOC" \
    --captured-at "$S_WHEN"
[ "$(wc -l < "$T/out")" -eq 5 ] && ok || fail "directory add printed $(wc -l < "$T/out") lines"
snap s1-dir

printf '%s\n%s\n' "$S_TESTIMONY" "It happened in $S_LOC." > "$T/testimony.txt"
expect_rc 0 "$EVAULT" add - --name "$S_NAME_STDIN" --kind testimony \
    --case "$S_CASE2" --source "$S_SOURCE2" --tag "$S_TAG2" < "$T/testimony.txt"
snap s2-stdin

expect_rc 0 "$EVAULT" add --hash-only "$T/in/$S_FILE5" --case "$S_CASE" \
    --note "$S_NOTE"
snap s3-hashonly

expect_rc 0 "$EVAULT" add --sha256 "$HASH_ONLY_SHA" --size 1000 \
    --name "$S_NAME_HASH" --source "$S_SOURCE2"
snap s4-sha

# A second copy of an existing file (dedup path) with other metadata.
cp "$IN/$S_FILE1" "$T/in/copy-$S_FILE1"
expect_rc 0 "$EVAULT" add "$T/in/copy-$S_FILE1" --tag "$S_TAG2"
snap s5-dup

# The vault must still work (the strings really are in the records).
expect_rc 0 "$EVAULT" ls --json --case "$S_CASE"
grep -q "$S_FILE1" "$T/out" && ok || fail "ls --case does not find the record"
expect_rc 0 "$EVAULT" ls --json --source "$S_SOURCE2"
[ "$(wc -l < "$T/out")" -eq 2 ] && ok || fail "ls --source found $(wc -l < "$T/out") records, wanted 2"
[ -s "$V/vault.db-wal" ] && ok || fail "no WAL file while a reader is open (test cannot search it)"
expect_rc 0 "$EVAULT" check --read-data
snap s6-final-open

# Owner-only modes while the WAL and shared-memory files exist.
bad=$(find "$V" \( -perm /077 \) -printf '%m %p\n')
[ -z "$bad" ] && ok || fail "files readable by group/others: $bad"

sqlite_reader_stop
snap s7-closed

# Everything to look for.
NEEDLES=$T/needles
: > "$NEEDLES"
for s in "$S_CASE" "$S_CASE2" "$S_SOURCE" "$S_SOURCE2" "$S_TAG1" "$S_TAG2" \
         "$S_NOTE" "$S_LOC" "$S_WHEN" "$S_DIR" "$S_SUBDIR" "$S_FILE1" \
         "$S_FILE2" "$S_FILE3" "$S_FILE4" "$S_FILE5" "$S_NAME_STDIN" \
         "$S_NAME_HASH" "$S_UNI" "$S_TEXT1" "$S_TEXT2" "$S_TESTIMONY"; do
    printf 'S\t%s\n' "$s" >> "$NEEDLES"
done
while IFS= read -r -d '' f; do
    printf 'H\t%s\t%s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f" >> "$NEEDLES"
done < <(find "$T/in" -type f -print0)
printf 'H\t%s\t%s\n' "$(sha256sum < "$T/testimony.txt" | cut -d' ' -f1)" testimony >> "$NEEDLES"
printf 'H\t%s\t%s\n' "$HASH_ONLY_SHA" "--sha256 value" >> "$NEEDLES"
[ "$(grep -c '^H' "$NEEDLES")" -eq 9 ] && ok || fail "needle list incomplete"

cat > "$T/search.py" <<'EOF'
import os, sys

needles = []  # (label, bytes)
for line in open(sys.argv[1], encoding="utf-8"):
    parts = line.rstrip("\n").split("\t")
    if parts[0] == "S":
        s = parts[1]
        forms = {s, s.lower(), s.upper()}
        # a distinctive tail catches a partial leak (e.g. zstd literals)
        tail = s[-14:]
        forms |= {tail, tail.lower()}
        for form in forms:
            needles.append(("%r (utf-8)" % form, form.encode("utf-8")))
            needles.append(("%r (utf-16le)" % form, form.encode("utf-16-le")))
            needles.append(("%r (utf-16be)" % form, form.encode("utf-16-be")))
    else:
        h, what = parts[1], parts[2]
        raw = bytes.fromhex(h)
        needles.append(("sha256 of %s (hex)" % what, h.lower().encode()))
        needles.append(("sha256 of %s (HEX)" % what, h.upper().encode()))
        needles.append(("sha256 of %s (hex prefix)" % what, h[:20].lower().encode()))
        needles.append(("sha256 of %s (hex, utf-16le)" % what, h.lower().encode("utf-16-le")))
        needles.append(("sha256 of %s (raw)" % what, raw))
        needles.append(("sha256 of %s (raw prefix)" % what, raw[:12]))
        needles.append(("sha256 of %s (raw suffix)" % what, raw[-12:]))

nfiles = 0
for root in sys.argv[2:]:
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            data = open(p, "rb").read()
            nfiles += 1
            for label, b in needles:
                if b in data:
                    print("LEAK: %s in %s at offset %d" % (label, p, data.find(b)))
print("searched %d files for %d byte strings" % (nfiles, len(needles)), file=sys.stderr)
EOF
python3 "$T/search.py" "$NEEDLES" "$V" "$SNAP" > "$T/leaks"
search_rc=$?
[ "$search_rc" -eq 0 ] && ok || fail "search script failed"
if [ -s "$T/leaks" ]; then
    fail "$(wc -l < "$T/leaks") leak(s) found in the vault directory:"
    head -40 "$T/leaks" >&2
else
    ok
fi

# The search must have seen the catalog, a WAL and the blob files.
n_wal=$(find "$SNAP" -name 'vault.db-wal' -size +0 | wc -l)
n_blob=$(stored_blobs "$V" | wc -l)
[ "$n_wal" -ge 1 ] && ok || fail "no snapshot holds a WAL"
[ "$n_blob" -ge 2 ] && ok || fail "only $n_blob blob file(s) in the vault"

# Self-test: the same search over the inputs finds the contents.
python3 "$T/search.py" "$NEEDLES" "$T/in" > "$T/leaks.in" 2> /dev/null
grep -qF "'$S_TEXT1' (utf-8)" "$T/leaks.in" && grep -qF "'$S_TEXT2' (utf-16le)" "$T/leaks.in" \
    && ok || fail "self-test: the search does not find the contents in the inputs"

# Owner-only modes after a clean close, including every snapshot's source.
bad=$(find "$V" \( -perm /077 \) -printf '%m %p\n')
[ -z "$bad" ] && ok || fail "files readable by group/others: $bad"
# Modes with a permissive umask in the calling shell: evault sets its own.
V2=$T/v2
( umask 000; new_vault "$V2" && EVAULT_DIR=$V2 "$EVAULT" add "$T/in/$S_DIR" > /dev/null 2>&1 ) \
    && ok || fail "init/add with umask 000"
bad=$(find "$V2" \( -perm /077 \) -printf '%m %p\n')
[ -z "$bad" ] && ok || fail "with umask 000, files readable by group/others: $bad"
[ "$(( $(find "$V2" -type f | wc -l) + $(stored_blobs "$V2" | wc -l) ))" -ge 3 ] &&
    ok || fail "second vault has too few files"
finish
