#!/usr/bin/env bash
# t_add.sh - add: directory trees, stdin testimony, hash-only records,
# duplicates, ls filters and JSON, metadata round trips, symlinks refused,
# sizes around the 1 MiB chunk, get -o and --force.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V

# py SCRIPT ARGS...: runs a python3 snippet; a failed assert fails the check.
py() { python3 -c "$@"; }
# field ID KEY: one field of record ID from show --json (python repr).
field() {
    "$EVAULT" show "$1" --json |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$2"
}
records() { "$EVAULT" ls --json > "$T/records.$1" 2> /dev/null; }
# blob_count: stored blobs (files under blobs/ or objects in the bucket,
# and rows in the catalog).
blob_count() {
    echo "$(stored_blobs "$V" | wc -l) $(sqlite3 "$V/vault.db" 'select count(*) from blobs')"
}
sha() { sha256sum < "$1" | cut -d' ' -f1; }

# --- a directory tree -----------------------------------------------------
D=$T/in
mkdir -p "$D/sub/deeper" "$D/empty dir"
printf 'zed\n' > "$D/Zed.txt"
printf 'alpha\n' > "$D/a.txt"
printf 'with space\n' > "$D/b c.txt"
printf 'unicode\n' > "$D/sub/ünïcödé ✓.txt"
head -c 1500000 /dev/urandom > "$D/sub/deeper/z.mp4"
printf 'gamma\n' > "$D/sub/g.jpg"
expect_rc 0 "$EVAULT" add "$D/" --case Tree
cp "$T/out" "$T/tree.out"
printf '%s\n' in/Zed.txt in/a.txt "in/b c.txt" in/sub/deeper/z.mp4 \
    in/sub/g.jpg "in/sub/ünïcödé ✓.txt" > "$T/tree.want"
cut -f3 "$T/tree.out" > "$T/tree.got"
cmp -s "$T/tree.got" "$T/tree.want" && ok ||
    fail "tree paths/order: $(diff "$T/tree.want" "$T/tree.got")"
[ "$(wc -l < "$T/tree.out")" -eq "$(find "$D" -type f | wc -l)" ] && ok ||
    fail "not one record per file"
# ids ascend with the sorted paths; each line's SHA-256 is the file's
prev=0
while IFS=$'\t' read -r id hash path _; do
    [ "$id" -gt "$prev" ] && ok || fail "ids not ascending at '$path'"
    prev=$id
    [ "$hash" = "$(sha "$T/$path")" ] && ok || fail "'$path': wrong SHA-256"
    expect_rc 0 "$EVAULT" get "$id" -o "$T/got.tree"
    cmp -s "$T/got.tree" "$T/$path" && ok || fail "'$path' reads back different"
    rm -f "$T/got.tree"
done < "$T/tree.out"
uid=$(grep 'ünïcödé' "$T/tree.out" | cut -f1)
[ "$(field "$uid" name)" = "ünïcödé ✓.txt" ] && ok || fail "UTF-8 name"
[ "$(field "$uid" path)" = "in/sub/ünïcödé ✓.txt" ] && ok || fail "UTF-8 path"
zid=$(grep 'z.mp4' "$T/tree.out" | cut -f1)
[ "$(field "$zid" kind)" = video ] && ok || fail "z.mp4 kind"
[ "$(field "$(grep 'g.jpg' "$T/tree.out" | cut -f1)" kind)" = photo ] && ok ||
    fail "g.jpg kind"

# a single file: its base name
expect_rc 0 "$EVAULT" add "$D/sub/g.jpg"
[ "$(cut -f3 "$T/out")" = g.jpg ] && ok || fail "single file path: $(cat "$T/out")"
# relative to the directory's name when given a relative path
(cd "$D" && "$EVAULT" add sub/deeper > "$T/out" 2> "$T/err") && ok ||
    fail "add relative dir"
[ "$(cut -f3 "$T/out")" = deeper/z.mp4 ] && ok || fail "relative dir path: $(cat "$T/out")"
rid=$(cut -f1 "$T/out")

# --- a testimony on stdin -------------------------------------------------
printf 'I saw them at 14:05.\n\nSecond paragraph ✓\r\nno final newline' > "$T/testimony"
expect_rc 0 "$EVAULT" add - --name "witness 1" --source W1 < "$T/testimony"
tid=$(cut -f1 "$T/out")
[ "$(wc -l < "$T/out")" -eq 1 ] && ok || fail "add - printed $(wc -l < "$T/out") lines"
[ "$(cut -f2 "$T/out")" = "$(sha "$T/testimony")" ] && ok || fail "add - SHA-256"
expect_rc 0 "$EVAULT" cat "$tid"
cmp -s "$T/out" "$T/testimony" && ok || fail "testimony does not read back exactly"
[ "$(field "$tid" kind)" = testimony ] && ok || fail "testimony kind"
[ "$(field "$tid" name)" = "witness 1" ] && ok || fail "testimony name"
[ "$(field "$tid" size)" = "$(wc -c < "$T/testimony")" ] && ok || fail "testimony size"
# an empty testimony, and one without --name
expect_rc 0 "$EVAULT" add - < /dev/null
eid=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" cat "$eid"
[ ! -s "$T/out" ] && ok || fail "empty testimony reads back non-empty"
[ "$(field "$eid" kind)" = testimony ] && ok || fail "empty testimony kind"
# a binary testimony of several chunks, from a pipe
head -c 2500000 /dev/urandom > "$T/big.testimony"
# shellcheck disable=SC2002 # a pipe, not a file, on stdin
cat "$T/big.testimony" | "$EVAULT" add - > "$T/out" 2> "$T/err" && ok ||
    fail "add - from a pipe"
bid=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" get "$bid" -o "$T/big.back"
cmp -s "$T/big.back" "$T/big.testimony" && ok || fail "piped testimony differs"

# --- hash only ------------------------------------------------------------
head -c 3000000 /dev/urandom > "$T/secret.mov"
before=$(blob_count)
expect_rc 0 "$EVAULT" add --hash-only "$T/secret.mov" --json
hid=$(py 'import json,sys; print(json.load(sys.stdin)["id"])' < "$T/out")
py '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["hash_only"] is True, o
assert o["sha256"] == sys.argv[2], o
assert o["size"] == int(sys.argv[3]), o
assert o["name"] == "secret.mov", o
' "$T/out" "$(sha "$T/secret.mov")" "$(wc -c < "$T/secret.mov")" && ok ||
    fail "add --hash-only --json: $(cat "$T/out")"
"$EVAULT" ls --json | grep "\"id\":$hid," > "$T/hline"
py '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["hash_only"] is True and o["sha256"] == sys.argv[2], o
assert o["size"] == 3000000, o
' "$T/hline" "$(sha "$T/secret.mov")" && ok || fail "ls --json of a hash-only record"
[ "$(blob_count)" = "$before" ] && ok || fail "--hash-only stored a blob"
expect_rc 3 "$EVAULT" get "$hid" -o "$T/h.out"
grep -q '^evault: error: .*only a hash' "$T/err" && ok ||
    fail "get of a hash-only record: $(cat "$T/err")"
[ ! -e "$T/h.out" ] && ok || fail "get of a hash-only record left a file"
expect_rc 3 "$EVAULT" get "$hid"
grep -q 'only a hash' "$T/err" && ok || fail "get (stdout) of hash-only: message"
[ ! -s "$T/out" ] && ok || fail "get of hash-only wrote bytes"
expect_rc 3 "$EVAULT" cat "$hid"
# --sha256 --size --name
known=$(printf 'elsewhere' | sha256sum | cut -d' ' -f1)
KNOWN_UPPER=$(echo "$known" | tr a-f A-F)
expect_rc 0 "$EVAULT" add --sha256 "$KNOWN_UPPER" --size 9 --name "cam 3.mp4" --case K
kid=$(cut -f1 "$T/out")
[ "$(cut -f2 "$T/out")" = "$known" ] && ok || fail "--sha256 printed another hash"
[ "$(cut -f3 "$T/out")" = "cam 3.mp4" ] && ok || fail "--sha256 printed another name"
"$EVAULT" show "$kid" --json > "$T/kshow"
py '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["hash_only"] is True and o["sha256"] == sys.argv[2], o
assert o["size"] == 9 and o["name"] == "cam 3.mp4" and o["case"] == "K", o
assert o["kind"] == "video", o
' "$T/kshow" "$known" && ok || fail "show of a --sha256 record: $(cat "$T/kshow")"
[ "$(blob_count)" = "$before" ] && ok || fail "--sha256 stored a blob"
expect_rc 3 "$EVAULT" get "$kid" -o "$T/k.out"
grep -q 'only a hash' "$T/err" && ok || fail "get of a --sha256 record: message"

# --- identical content ----------------------------------------------------
cp "$D/a.txt" "$T/a-copy.txt"
aid=$(grep 'in/a.txt' "$T/tree.out" | cut -f1)
before=$(blob_count)
expect_rc 0 "$EVAULT" add "$T/a-copy.txt"
grep -q "same content as record $aid" "$T/out" && ok ||
    fail "small duplicate not reported: $(cat "$T/out")"
[ "$(blob_count)" = "$before" ] && ok ||
    fail "small duplicate grew the blobs: $before -> $(blob_count)"
cp "$D/sub/deeper/z.mp4" "$T/z-copy.bin"
expect_rc 0 "$EVAULT" add "$T/z-copy.bin"
grep -q "same content as record $zid" "$T/out" && ok ||
    fail "large duplicate not reported: $(cat "$T/out")"
dup=$(cut -f1 "$T/out")
[ "$(blob_count)" = "$before" ] && ok ||
    fail "large duplicate grew the blobs: $before -> $(blob_count)"
[ "$(field "$dup" same_as)" = "$zid" ] && ok || fail "show same_as"
expect_rc 0 "$EVAULT" get "$dup" -o "$T/z-dup.out"
cmp -s "$T/z-dup.out" "$D/sub/deeper/z.mp4" && ok || fail "duplicate reads back different"
# two identical new files in one call: one blob
head -c 1200000 /dev/urandom > "$T/twin1"
cp "$T/twin1" "$T/twin2"
before_files=$(stored_blobs "$V" | wc -l)
expect_rc 0 "$EVAULT" add "$T/twin1" "$T/twin2"
grep -q "same content as record" "$T/out" && ok || fail "twin not reported as same"
[ "$(stored_blobs "$V" | wc -l)" -eq $((before_files + 1)) ] && ok ||
    fail "two identical files stored twice"
# a stored file whose hash was recorded hash-only before: its bytes are kept
expect_rc 0 "$EVAULT" add "$T/secret.mov"
sid=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" get "$sid" -o "$T/secret.back"
cmp -s "$T/secret.back" "$T/secret.mov" && ok ||
    fail "file first recorded hash-only does not read back"

# --- metadata round trip --------------------------------------------------
printf 'meta\n' > "$T/meta.doc"
expect_rc 0 "$EVAULT" add "$T/meta.doc" --note "found under the bench; \"wet\"" \
    --captured-at 2024-03-01T14:05:00+02:00 --location "Kyiv, Khreshchatyk 1" \
    --tag t1 --tag "two words" --tag ✓ --case "Case 7" --source "S-9" --kind document --json
mid=$(py 'import json,sys; print(json.load(sys.stdin)["id"])' < "$T/out")
"$EVAULT" show "$mid" --json > "$T/mshow"
py '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["note"] == "found under the bench; \"wet\"", o
assert o["captured_at"] == "2024-03-01T12:05:00Z", o
assert o["location"] == "Kyiv, Khreshchatyk 1", o
assert o["tags"] == ["t1", "two words", "\u2713"], o
assert o["case"] == "Case 7" and o["source"] == "S-9", o
assert o["kind"] == "document" and o["name"] == "meta.doc", o
assert o["state"] == "active" and o["hash_only"] is False, o
assert o["same_as"] is None, o
' "$T/mshow" && ok || fail "metadata round trip: $(cat "$T/mshow")"
expect_rc 0 "$EVAULT" show "$mid"
grep -q '2024-03-01T12:05:00Z' "$T/out" && grep -q 'two words' "$T/out" && ok ||
    fail "show (text) lacks the metadata"
expect_rc 0 "$EVAULT" add "$T/meta.doc" --captured-at 2024-03-01
[ "$(field "$(cut -f1 "$T/out")" captured_at)" = 2024-03-01 ] && ok || fail "date-only captured_at"
expect_rc 0 "$EVAULT" add "$T/meta.doc" --captured-at 2024-03-01T00:30:00+01:00
[ "$(field "$(cut -f1 "$T/out")" captured_at)" = 2024-02-29T23:30:00Z ] && ok ||
    fail "captured_at across a leap day"

# --- ls filters -------------------------------------------------------------
mkdir "$T/f"
for n in 1 2 3 4; do printf 'filter %s\n' "$n" > "$T/f/$n.txt"; done
expect_rc 0 "$EVAULT" add "$T/f/1.txt" --case Alpha --source Ann --tag red
f1=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" add "$T/f/2.txt" --case ALPHA --source Bob --tag red --tag blue
f2=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" add "$T/f/3.txt" --case Alphabet --source Ann --tag blue
f3=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" add "$T/f/4.txt" --case Beta --tag "Red "
f4=$(cut -f1 "$T/out")
# ls_ids ARGS...: the ids ls --json lists, space-separated
ls_ids() {
    "$EVAULT" ls --json "$@" 2> /dev/null |
        py 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))'
}
want() {
    local w=$1; shift
    local got; got=$(ls_ids "$@")
    [ "$got" = "$w" ] && ok || fail "ls $*: got '$got', wanted '$w'"
}
want "$f1 $f2" --case alpha
want "$f1 $f2" --case "  Alpha "
want "$f3" --case alphabet
want "" --case alph
want "$f4" --case beta
want "$f1 $f3" --source ann
want "$f1 $f2 $f4" --tag RED
want "$f2 $f3" --tag blue
want "$f1" --case alpha --source ann
want "$f2" --case alpha --tag blue
want "$f2" --case alpha --source bob --tag red
want "" --case alpha --source ann --tag blue
want "" --case nothing
want "$f4" --case beta --tag red
want "$(grep -E "^[0-9]+	" "$T/tree.out" | cut -f1 | tr '\n' ' ' | sed 's/ $//')" --case tree
want "$f1" --sha256 "$(sha "$T/f/1.txt")"
want "$f1" --sha256 "$(sha "$T/f/1.txt" | tr a-f A-F)"
want "$zid $rid $dup" --sha256 "$(sha "$D/sub/deeper/z.mp4")"
want "$f2" --sha256 "$(sha "$T/f/2.txt")" --case alpha
want "" --sha256 "$(sha "$T/f/2.txt")" --case beta
want "$hid $sid" --sha256 "$(sha "$T/secret.mov")"
expect_rc 0 "$EVAULT" search --tag blue --json
[ "$(wc -l < "$T/out")" -eq 2 ] && ok || fail "search --tag blue"
expect_rc 0 "$EVAULT" ls --case nothing
[ ! -s "$T/out" ] && grep -q 'no records match' "$T/err" && ok ||
    fail "empty ls: stdout should be empty, 'no records match' on stderr"

# --- ls --json, add --json, show --json ---------------------------------
KEYS='id name kind case source tags sha256 size state added_at'
"$EVAULT" ls --json > "$T/all.json" 2> "$T/err" && ok || fail "ls --json"
py 'import json,sys; [json.loads(l) for l in sys.stdin]' < "$T/all.json" && ok ||
    fail "ls --json: a line is not JSON"
py '
import json, re, sys
keys = sys.argv[2].split()
ids = []
for l in open(sys.argv[1]):
    o = json.loads(l)
    for k in keys:
        assert k in o, (k, o)
    assert isinstance(o["id"], int) and isinstance(o["size"], int), o
    assert isinstance(o["tags"], list), o
    assert re.fullmatch("[0-9a-f]{64}", o["sha256"]), o
    assert o["state"] == "active", o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["added_at"]), o
    ids.append(o["id"])
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
assert ids == list(range(1, len(ids) + 1)), ids
' "$T/all.json" "$KEYS" && ok || fail "ls --json fields"
n_all=$(wc -l < "$T/all.json")
last=$(tail -n1 "$T/all.json" | py 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$n_all" -eq "$last" ] && ok || fail "ls lists $n_all records, last id $last"
# add --json: one object per record, the same as ls shows
mkdir "$T/j"
printf 'j1' > "$T/j/one.wav"
printf 'j2' > "$T/j/two.png"
printf 'j3' > "$T/j/three"
expect_rc 0 "$EVAULT" add --json "$T/j" --tag jj
cp "$T/out" "$T/add.json"
"$EVAULT" ls --json --tag jj > "$T/ls.jj"
py '
import json, sys
keys = sys.argv[3].split()
added = [json.loads(l) for l in open(sys.argv[1])]
listed = [json.loads(l) for l in open(sys.argv[2])]
assert len(added) == 3, added
assert [o["path"] for o in added] == ["j/one.wav", "j/three", "j/two.png"], added
assert [o["kind"] for o in added] == ["audio", "document", "photo"], added
for a, l in zip(added, listed):
    for k in keys:
        assert a[k] == l[k], (k, a, l)
    assert a["tags"] == ["jj"], a
' "$T/add.json" "$T/ls.jj" "$KEYS" && ok || fail "add --json vs ls --json"
jid=$(head -n1 "$T/add.json" | py 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_rc 0 "$EVAULT" show "$jid" --json
[ "$(wc -l < "$T/out")" -eq 1 ] && ok || fail "show --json is not one line"
py '
import json, sys
s = json.loads(open(sys.argv[1]).read())
a = json.loads(open(sys.argv[2]).readline())
assert s == a, (s, a)
' "$T/out" "$T/add.json" && ok || fail "show --json differs from add --json"

# --- a symlink inside a directory: exit 2, nothing added ---------------------
mkdir -p "$T/links/inner"
printf 'before\n' > "$T/links/a-first.txt"
printf 'after\n' > "$T/links/z-last.txt"
ln -s "$T/links/a-first.txt" "$T/links/inner/the link"
records before
expect_rc 2 "$EVAULT" add "$T/links"
grep -q "^evault: error: .*the link" "$T/err" && ok ||
    fail "symlink not named: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || fail "symlink add printed records: $(cat "$T/out")"
records after
cmp -s "$T/records.before" "$T/records.after" && ok || fail "symlink add added records"
# a dangling link and a link to a directory
rm "$T/links/inner/the link"
ln -s "$T/nowhere" "$T/links/inner/dangling"
expect_rc 2 "$EVAULT" add "$T/links"
grep -q 'dangling' "$T/err" && ok || fail "dangling link not named"
rm "$T/links/inner/dangling"
ln -s "$T/f" "$T/links/dirlink"
expect_rc 2 "$EVAULT" add "$T/links"
grep -q 'dirlink' "$T/err" && ok || fail "directory link not named"
rm "$T/links/dirlink"
mkfifo "$T/links/fifo"
expect_rc 2 "$EVAULT" add "$T/links"
grep -q 'fifo' "$T/err" && ok || fail "fifo not named"
records after2
cmp -s "$T/records.before" "$T/records.after2" && ok || fail "refused adds added records"
rm "$T/links/fifo"
expect_rc 0 "$EVAULT" add "$T/links"
[ "$(wc -l < "$T/out")" -eq 2 ] && ok || fail "links dir without links"

# --- sizes around the chunk, get -o, --force --------------------------------
mkdir "$T/sizes"
: > "$T/sizes/s0"
head -c 1 /dev/urandom > "$T/sizes/s1"
head -c 1048575 /dev/urandom > "$T/sizes/s1m-1"
head -c 1048576 /dev/urandom > "$T/sizes/s1m"
head -c 1048577 /dev/urandom > "$T/sizes/s1m+1"
head -c 2097152 /dev/urandom > "$T/sizes/s2m"
head -c 5242880 /dev/urandom > "$T/sizes/s5m"
head -c 3000000 /dev/zero > "$T/sizes/zeros"
expect_rc 0 "$EVAULT" add "$T/sizes"
cp "$T/out" "$T/sizes.out"
[ "$(wc -l < "$T/sizes.out")" -eq 8 ] && ok || fail "sizes: $(wc -l < "$T/sizes.out") records"
while IFS=$'\t' read -r id hash path _; do
    f=$T/$path
    [ "$hash" = "$(sha "$f")" ] && ok || fail "$path: SHA-256"
    [ "$(field "$id" size)" = "$(wc -c < "$f")" ] && ok || fail "$path: size"
    expect_rc 0 "$EVAULT" get "$id" -o "$T/back"
    cmp -s "$T/back" "$f" && ok || fail "$path: get -o differs"
    rm -f "$T/back"
    "$EVAULT" cat "$id" > "$T/back" 2> /dev/null
    cmp -s "$T/back" "$f" && ok || fail "$path: cat differs"
    rm -f "$T/back"
done < "$T/sizes.out"
id5=$(grep 's5m$' "$T/sizes.out" | cut -f1)
id1=$(grep 's1$' "$T/sizes.out" | cut -f1)
printf 'precious\n' > "$T/existing"
expect_rc 3 "$EVAULT" get "$id5" -o "$T/existing"
grep -q "^evault: error: .*$T/existing" "$T/err" && ok || fail "get -o existing: path not named"
[ "$(cat "$T/existing")" = precious ] && ok || fail "get -o replaced a file without --force"
expect_rc 0 "$EVAULT" get "$id5" -o "$T/existing" --force
cmp -s "$T/existing" "$T/sizes/s5m" && ok || fail "get --force did not replace the file"
expect_rc 0 "$EVAULT" get --force -o "$T/existing" "$id1"
cmp -s "$T/existing" "$T/sizes/s1" && ok || fail "get --force (shorter) did not replace"
expect_rc 3 "$EVAULT" get "$id1" -o "$T/no-such-dir/x"
[ -z "$(find "$T" -maxdepth 1 -name '.existing.*')" ] && ok ||
    fail "get -o left temporary files"
expect_rc 0 "$EVAULT" check --read-data
finish
