#!/usr/bin/env bash
# t_share.sh - identities, contacts, bundles and age files, checked with
# Debian's own age, minisign, tar and sha256sum.
. "$(dirname "$0")/lib.sh"
for tool in age age-keygen minisign tar sha256sum; do
    command -v "$tool" > /dev/null || { fail "$tool is missing (scripts/run installs it)"; finish; }
done

V=$T/v
init_vault "$V" --operator "Lawyer A" > /dev/null 2>&1
export EVAULT_DIR=$V

# id: age recipient, minisign key, fingerprint; the minisign file form.
expect_rc 0 "$EVAULT" id --json

/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["age"].startswith("age1") and d["minisign"].startswith("RW") and len(d["fingerprint"]) == 24' < "$T/out" && ok || fail "id --json: $(cat "$T/out")"
MYMS=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["minisign"])' < "$T/out")
expect_rc 0 "$EVAULT" id --minisign-pub -o "$T/me.pub"
head -1 "$T/me.pub" | grep -q '^untrusted comment: ' && sed -n 2p "$T/me.pub" | grep -qx "$MYMS" && ok || fail "minisign pub file"
expect_rc 0 "$EVAULT" id --export -o "$T/me.contact"

# Contacts: a partner with an age identity made by Debian's age-keygen.
age-keygen -o "$T/partner.key" 2> /dev/null
R=$(age-keygen -y "$T/partner.key")
expect_rc 0 "$EVAULT" contact add Partner --age "$R" --minisign "$MYMS"
grep -q "fingerprint" "$T/out" && ok || fail "no fingerprint printed"
expect_rc 3 "$EVAULT" contact add Partner --age "$R" --minisign "$MYMS"
expect_rc 2 "$EVAULT" contact add Bad --age age1notakey --minisign "$MYMS"
expect_rc 0 "$EVAULT" contact add Self --file "$T/me.contact"
expect_rc 0 "$EVAULT" contact ls --json
[ "$(wc -l < "$T/out")" -eq 2 ] && ok || fail "contact ls"
expect_rc 0 "$EVAULT" contact rm Self
expect_rc 3 "$EVAULT" contact rm Self

# A bundle: only sealed records, redaction, standard tools open and check it.
mkdir -p "$T/in"
echo "testimony of a witness" > "$T/in/w.txt"
head -c 1500000 /dev/urandom > "$T/in/clip.mp4"
expect_rc 0 "$EVAULT" add "$T/in" --case K9 --source "Distinctive-Source-42" --location "Secret-Place"
# a record holding only a hash (record 3): --case leaves it out, and says so
head -c 3000 /dev/urandom > "$T/kept-elsewhere.mov"
expect_rc 0 "$EVAULT" add --hash-only "$T/kept-elsewhere.mov" --case K9
expect_rc 3 "$EVAULT" share --case K9 --to Partner -o "$T/b0.age"
grep -q "not sealed" "$T/err" && ok || fail "unsealed share: $(cat "$T/err")"
[ ! -e "$T/b0.age" ] && ok || fail "a refused share left a file"
expect_rc 0 "$EVAULT" share --case K9 --to Partner --redact source,location --seal -o "$T/b.age"
grep -q "^note: record 3 holds only a hash (SHA-256 and size): not in the bundle" "$T/err" && ok ||
    fail "share --case did not say it left the hash-only record out: $(cat "$T/err")"
grep -q ": 2 record(s) for 1 contact(s)" "$T/err" && ok || fail "share --case count: $(cat "$T/err")"
mkdir "$T/x"
(cd "$T/x" && age -d -i "$T/partner.key" "$T/b.age" | tar x) && ok || fail "age -d | tar x"
[ ! -e "$T/x/files/3" ] && ok || fail "the hash-only record is in the bundle"
# named by id, it is refused; a case of nothing but hashes has nothing to share
expect_rc 2 "$EVAULT" share 3 --to Partner --seal -o "$T/b3.age"
grep -q "record 3 holds only a hash" "$T/err" && ok || fail "share of a hash-only id: $(cat "$T/err")"
expect_rc 0 "$EVAULT" add --hash-only "$T/kept-elsewhere.mov" --case ONLYHASH
expect_rc 3 "$EVAULT" share --case ONLYHASH --to Partner -o "$T/b4.age"
grep -q "nothing to share in case 'ONLYHASH': its 1 record(s) hold only a hash" "$T/err" && ok ||
    fail "share of a case of hashes: $(cat "$T/err")"
[ ! -e "$T/b3.age" ] && [ ! -e "$T/b4.age" ] && ok || fail "a refused share wrote a bundle"
(cd "$T/x" && minisign -V -H -p minisign.pub -m SHA256SUMS > /dev/null) && ok || fail "minisign SHA256SUMS"
(cd "$T/x" && minisign -V -H -p minisign.pub -m MANIFEST.json > /dev/null) && ok || fail "minisign MANIFEST"
(cd "$T/x" && sha256sum -c --quiet SHA256SUMS) && ok || fail "sha256sum -c"
grep -rqE "Distinctive-Source-42|Secret-Place" "$T/x" && fail "redacted field in the bundle" || ok
cmp -s "$T/x/files/2/w.txt" "$T/in/w.txt" && cmp -s "$T/x/files/1/clip.mp4" "$T/in/clip.mp4" && ok ||
    fail "bundle files differ from the originals"
expect_rc 0 env -u EVAULT_DIR "$EVAULT" verify "$T/x/files/1/clip.mp4" \
    --proof "$T/x/proofs/1.tlog-proof" --key "$T/x/vault.pub"
# Tampering with the extracted files is caught by the standard tools.
printf 'X' >> "$T/x/SHA256SUMS"
(cd "$T/x" && minisign -V -H -p minisign.pub -m SHA256SUMS > /dev/null 2>&1) && fail "minisign accepted an altered SHA256SUMS" || ok
# A share killed while writing leaves ".NAME.<12 hex>" beside NAME; the next
# share to NAME removes those no process holds locked (a share holds an
# flock on its own until the rename), and nothing else.
head -c 100 /dev/urandom > "$T/.b2.age.0123456789ab"
head -c 100 /dev/urandom > "$T/.b2.age.00000000000f"
head -c 100 /dev/urandom > "$T/.b2.age.notours"
: > "$T/.b2.age.aaaaaaaaaaaa"
(exec 9>> "$T/.b2.age.00000000000f" && flock 9 && exec sleep 30) &
holder=$!
for _ in $(seq 200); do   # until the lock is held (at most 10 s)
    flock -n "$T/.b2.age.00000000000f" true 2> /dev/null || break
    sleep 0.05
done
expect_rc 0 "$EVAULT" share --case K9 --to Partner -o "$T/b2.age"
[ ! -e "$T/.b2.age.0123456789ab" ] && ok || fail "a stale partial bundle was not swept"
[ -e "$T/.b2.age.00000000000f" ] && ok || fail "share removed a partial bundle another process holds"
[ -e "$T/.b2.age.notours" ] && [ -e "$T/.b2.age.aaaaaaaaaaaa" ] && ok ||
    fail "share removed a file that is not a stale partial bundle"
[ "$(ls -A "$T" | grep -c '^\.b2\.age\.')" -eq 3 ] && ok || fail "share left its own temporary file: $(ls -A "$T")"
age -d -i "$T/partner.key" "$T/b2.age" | tar t > /dev/null && ok || fail "bundle b2 does not open"
kill "$holder" 2> /dev/null; wait "$holder" 2> /dev/null
# Nobody else opens it; the share is in the custody log.
age-keygen -o "$T/stranger.key" 2> /dev/null
age -d -i "$T/stranger.key" "$T/b.age" > /dev/null 2>&1 && fail "a stranger opened the bundle" || ok
expect_rc 0 "$EVAULT" log --json
grep -q '"action":"share".*"note":"to [0-9A-Z-]*; redacted source,location"' "$T/out" && ok ||
    fail "share not logged: $(grep share "$T/out")"

# open: age files from Debian's age, to the vault, to an identity, armored.
AR=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["age"])' < <("$EVAULT" id --json))
echo "sent by a partner" | age -r "$AR" > "$T/in.age"
expect_rc 0 "$EVAULT" open "$T/in.age" -o "$T/in.out"
[ "$(cat "$T/in.out")" = "sent by a partner" ] && ok || fail "open with the vault identity"
echo "armored" | age -a -r "$R" > "$T/arm.age"
expect_rc 0 env -u EVAULT_DIR "$EVAULT" open "$T/arm.age" -i "$T/partner.key" -o "$T/arm.out"
[ "$(cat "$T/arm.out")" = "armored" ] && ok || fail "open armored with -i"
expect_rc 4 env -u EVAULT_DIR "$EVAULT" open "$T/in.age" -i "$T/stranger.key" -o "$T/no.out"
[ ! -e "$T/no.out" ] && ok || fail "a failed open left output"
head -c 2000000 /dev/urandom | age -r "$R" > "$T/big.age"
head -c 1000000 "$T/big.age" > "$T/cut.age"
expect_rc 1 env -u EVAULT_DIR "$EVAULT" open "$T/cut.age" -i "$T/partner.key" -o "$T/cut.out"
[ ! -e "$T/cut.out" ] && ok || fail "a truncated file left output"

# open with a passphrase: a file made by Debian's 'age -p' (tests/age/).
SRC=${EV_TEST_SRC:-$(dirname "$0")/..}
expect_rc 0 env -u EVAULT_DIR "$EVAULT" open "$SRC/age/good_scrypt.age" \
    --passphrase-file "$SRC/age/passphrase.txt" -o "$T/scrypt.out"
cmp -s "$T/scrypt.out" "$SRC/age/plain.txt" && ok || fail "open with a passphrase"
printf 'wrong passphrase\n' > "$T/wrong.pass"
expect_rc 4 env -u EVAULT_DIR "$EVAULT" open "$SRC/age/good_scrypt.age" \
    --passphrase-file "$T/wrong.pass" -o "$T/scrypt2.out"

# add --from-age: the content of an age file sent to the vault, streamed;
# nothing is kept unless the whole file authenticates.
head -c 2500000 /dev/urandom > "$T/sent.bin"
age -r "$AR" -o "$T/sent.bin.age" "$T/sent.bin"
before=$("$EVAULT" ls --json | wc -l)
expect_rc 0 "$EVAULT" add --from-age "$T/sent.bin.age" --case FromPartner
grep -q "$(sha256sum < "$T/sent.bin" | cut -c1-64)"$'\t'"sent.bin$" "$T/out" && ok ||
    fail "add --from-age output: $(cat "$T/out")"
id=$(cut -f1 "$T/out")
expect_rc 0 "$EVAULT" get "$id" -o "$T/sent.out"
cmp -s "$T/sent.out" "$T/sent.bin" && ok || fail "from-age bytes differ"
head -c 1500000 "$T/sent.bin.age" > "$T/sent-cut.age"
expect_rc 1 "$EVAULT" add --from-age "$T/sent-cut.age"
age -r "$R" -o "$T/not-ours.age" "$T/sent.bin"
expect_rc 4 "$EVAULT" add --from-age "$T/not-ours.age"
[ "$("$EVAULT" ls --json | wc -l)" -eq $((before + 1)) ] && ok || fail "a failed --from-age added a record"
expect_rc 0 "$EVAULT" check --read-data
finish
