#!/usr/bin/env bash
# tests/fuzz/mkseeds.sh BUILD - (re)make the seed corpora in corpus/ from
# the test inputs (tests/age, tests/minisign), from a throw-away vault made
# with BUILD/evault (a contact file, share lines, a real proof and
# checkpoint) and from the targets that make their own signed seeds
# (EV_FUZZ_MKSEEDS, see fuzz.h).  BUILD is a tests/fuzz/run.sh build
# (build-fuzz).  Crash inputs kept as regression seeds (crash-*) stay.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$src/../.." && pwd)
build=$(cd "${1:?usage: mkseeds.sh BUILD}" && pwd)
C=$src/corpus
E=$build/evault
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=detect_leaks=0

fresh() { # fresh NAME: empties corpus/NAME but for crash-* seeds
    mkdir -p "$C/$1"
    find "$C/$1" -type f ! -name 'crash-*' -delete
}

fresh age
for f in "$top"/tests/age/*.age; do
    [ "$(stat -c %s "$f")" -le 4096 ] && cp "$f" "$C/age/"
done

fresh age_keys
cp "$top"/tests/age/key_*.txt "$C/age_keys/"
sed -n 's/^# public key: //p' "$top/tests/age/key_a.txt" > "$C/age_keys/recipient"
grep '^AGE-SECRET' "$top/tests/age/key_b.txt" | tr -d '\n' > "$C/age_keys/identity"

fresh minisign
cp "$top"/tests/minisign/*.minisig "$top/tests/minisign/minisign.pub" "$C/minisign/"
sed -n 2p "$top/tests/minisign/minisign.pub" > "$C/minisign/bare.pub"

fresh args
printf '%s' 2024-03-01 > "$C/args/date"
printf '%s' 2024-03-01T14:05:09Z > "$C/args/utc"
printf '%s' '2024-02-29 23:59:60+02:00' > "$C/args/offset"
printf '%s' 18446744073709551615 > "$C/args/u64max"
printf '%s' 9223372036854775807 > "$C/args/idmax"
printf '%s' 0042 > "$C/args/zeros"
printf '%s' 0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123 > "$C/args/hex"
printf '%s' 7ZQ4-MW3H-B1LX-OOPR-9GHE-JKST-VWYZ-0AC5 > "$C/args/base32"

# A throw-away vault: contact file, shares, a proof and its checkpoint.
printf 'seed passphrase\n' > "$T/pass"
export EVAULT_PASSPHRASE_FILE=$T/pass EVAULT_DIR=$T/v
"$E" init "$T/v" --argon2-passes 1 --argon2-memory 8 > /dev/null 2>&1
printf 'seed evidence\n' > "$T/f.txt"
"$E" add "$T/f.txt" --case K-1 > /dev/null 2>&1
"$E" add "$T/f.txt" --case K-2 --name other > /dev/null 2>&1
"$E" seal --case K-1 --note seed > /dev/null 2>&1
"$E" proof 1 -o "$T/p.tlog-proof" > /dev/null 2>&1
"$E" key export-public -o "$T/vault.pub" > /dev/null 2>&1

fresh contact
"$E" id --export -o "$C/contact/vault.contact" > /dev/null 2>&1
sed 's/$/\r/' "$C/contact/vault.contact" > "$C/contact/crlf.contact"

fresh shares
"$E" key shares --threshold 2 --shares 3 --label seed 2> /dev/null |
    grep '^evault-share1:' > "$C/shares/three"
head -1 "$C/shares/three" > "$C/shares/one"

fresh tlog_proof
cp "$T/p.tlog-proof" "$C/tlog_proof/real.tlog-proof"
fresh checkpoint
sed -n '/^c2sp/!{/^extra /d;/^index /d;p}' "$T/p.tlog-proof" |
    awk 'f || /^evault\.local/ {f=1; print}' > "$C/checkpoint/real"
cp "$T/vault.pub" "$C/checkpoint/real.pub"

# Targets that sign their own seeds with the keys they hold.
for t in checkpoint tlog_proof bundle blob meta; do
    [ -x "$build/tests/fuzz/fuzz_$t" ] || continue
    mkdir -p "$C/$t"
    EV_FUZZ_MKSEEDS=$C/$t "$build/tests/fuzz/fuzz_$t" > /dev/null 2>&1
done
# Timestamp replies over fuzz_timestamp's note from a test authority whose
# CA (valid for a century) is tsa-ca.pem; as tests/cli/t_timestamp.sh.
fresh timestamp
A=$T/tsa
mkdir -p "$A"
. "$src/../tsa-config.sh"
tsa_config "$A"
ssl() { openssl "$@" 2> /dev/null; }
ssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$A/ca.key" -out "$src/tsa-ca.pem" -days 36500 -subj "/CN=fuzz CA" \
    -config "$A/tsa.cnf" -extensions v3_ca
ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$A/tsa.key" -out "$A/tsa.csr" -subj "/CN=fuzz TSA" -config "$A/tsa.cnf"
ssl x509 -req -in "$A/tsa.csr" -CA "$src/tsa-ca.pem" -CAkey "$A/ca.key" \
    -CAserial "$A/ca.srl" -CAcreateserial -out "$A/tsa.crt" -days 36500 -extfile "$A/tsa.cnf" \
    -extensions v3_tsa
EV_FUZZ_MKSEEDS=1 "$build/tests/fuzz/fuzz_timestamp" > "$A/note" 2> /dev/null
for q in cert nocert; do
    opt=-cert; [ $q = nocert ] && opt=-no_nonce
    ssl ts -query -data "$A/note" -sha256 $opt -out "$A/$q.tsq"
    ssl ts -reply -queryfile "$A/$q.tsq" -signer "$A/tsa.crt" -inkey "$A/tsa.key" \
        -out "$C/timestamp/$q.tsr" -config "$A/tsa.cnf"
done
du -sh "$C"
