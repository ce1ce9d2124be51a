#!/usr/bin/env bash
# t_timestamp.sh - RFC 3161 trusted time for checkpoints, against a local
# timestamp authority made with Debian's openssl (no network): request,
# attach, export with a proof, verify offline; OpenSSL's own 'ts -verify'
# accepts what evault kept; wrong replies and wrong CAs are refused.
. "$(dirname "$0")/lib.sh"
command -v openssl > /dev/null || { fail "openssl is missing"; finish; }

A=$T/tsa
mkdir -p "$A"
. "$(dirname "$0")/../tsa-config.sh"
tsa_config "$A"
mkca() { # mkca NAME: a CA and a TSA certificate signed by it
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$A/$1-ca.key" -out "$A/$1-ca.crt" -days 30 -subj "/CN=$1 CA" \
        -config "$A/tsa.cnf" -extensions v3_ca 2> /dev/null &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$A/$1-tsa.key" -out "$A/$1-tsa.csr" -subj "/CN=$1 TSA" \
        -config "$A/tsa.cnf" 2> /dev/null &&
    openssl x509 -req -in "$A/$1-tsa.csr" -CA "$A/$1-ca.crt" -CAkey "$A/$1-ca.key" \
        -CAcreateserial -out "$A/$1-tsa.crt" -days 30 -extfile "$A/tsa.cnf" \
        -extensions v3_tsa 2> /dev/null
}
mkca good && mkca evil && ok || fail "making the test authority"
reply() { # reply NAME REQ OUT
    openssl ts -reply -queryfile "$2" -signer "$A/$1-tsa.crt" -inkey "$A/$1-tsa.key" \
        -out "$3" -config "$A/tsa.cnf" 2> /dev/null
}

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V
echo "statement" > "$T/a.txt"
expect_rc 0 "$EVAULT" add "$T/a.txt"
# --tsr-out before any timestamp: refused, and no proof file half-delivered
expect_rc 0 "$EVAULT" seal 1
expect_rc 3 "$EVAULT" proof 1 -o "$T/early.tlog-proof" --tsr-out "$T/early.tsr"
grep -q "no timestamp was attached.*nothing was written" "$T/err" && ok || fail "proof --tsr-out, no timestamp: $(cat "$T/err")"
[ ! -e "$T/early.tlog-proof" ] && [ ! -e "$T/early.tsr" ] && ok || fail "proof --tsr-out without a timestamp wrote a file"
expect_rc 0 "$EVAULT" seal 1 --tsq "$T/req.tsq"
openssl ts -query -in "$T/req.tsq" -text 2> /dev/null | grep -q "SHA256\|sha256" && ok ||
    fail "the request is not one openssl reads"

# A reply from another authority, for another request: refused.
openssl ts -query -data "$T/a.txt" -sha256 -cert -out "$T/other.tsq" 2> /dev/null
reply good "$T/other.tsq" "$T/other.tsr"
expect_rc 1 "$EVAULT" seal --attach-tsr "$T/other.tsr" --tsa-ca "$A/good-ca.crt"
reply evil "$T/req.tsq" "$T/evil.tsr"
expect_rc 1 "$EVAULT" seal --attach-tsr "$T/evil.tsr" --tsa-ca "$A/good-ca.crt"
head -c 700 /dev/urandom > "$T/junk.tsr"
expect_rc 1 "$EVAULT" seal --attach-tsr "$T/junk.tsr"

# The right reply is kept and logged.
reply good "$T/req.tsq" "$T/resp.tsr"
expect_rc 0 "$EVAULT" seal --attach-tsr "$T/resp.tsr" --tsa-ca "$A/good-ca.crt"
grep -q "signature checked" "$T/out" && ok || fail "attach output: $(cat "$T/out")"
expect_rc 0 "$EVAULT" log --json
grep -q '"action":"timestamp"' "$T/out" && ok || fail "timestamp not logged"

# A timestamp file that cannot be written: no proof left without it.
touch "$T/taken.tsr"
expect_rc 3 "$EVAULT" proof 1 -o "$T/lone.tlog-proof" --tsr-out "$T/taken.tsr"
[ ! -e "$T/lone.tlog-proof" ] && ok || fail "proof left behind when --tsr-out failed"
# Exported beside the proof; verified with no vault, by evault and OpenSSL.
expect_rc 0 "$EVAULT" proof 1 -o "$T/p.tlog-proof" --tsr-out "$T/p.tsr"
expect_rc 0 "$EVAULT" key export-public -o "$T/vault.pub"
v() { env -u EVAULT_DIR -u EVAULT_PASSPHRASE_FILE "$EVAULT" verify "$@"; }
expect_rc 0 v "$T/a.txt" --proof "$T/p.tlog-proof" --key "$T/vault.pub" \
    --tsr "$T/p.tsr" --tsa-ca "$A/good-ca.crt"
grep -q "^Timestamp: the checkpoint existed at .*signature checked" "$T/out" && ok ||
    fail "report: $(cat "$T/out")"
sed -n '/^$/,$p' "$T/p.tlog-proof" | tail -n +2 > "$T/checkpoint.txt"
openssl ts -verify -data "$T/checkpoint.txt" -in "$T/p.tsr" -CAfile "$A/good-ca.crt" \
    -untrusted "$A/good-tsa.crt" > /dev/null 2>&1 && ok || fail "openssl ts -verify refused it"
# The wrong CA, and a timestamp of something else, fail verification.
expect_rc 1 v "$T/a.txt" --proof "$T/p.tlog-proof" --key "$T/vault.pub" \
    --tsr "$T/p.tsr" --tsa-ca "$A/evil-ca.crt"
expect_rc 1 v "$T/a.txt" --proof "$T/p.tlog-proof" --key "$T/vault.pub" \
    --tsr "$T/other.tsr" --tsa-ca "$A/good-ca.crt"
grep -q "timestamp" "$T/err" && ok || fail "message: $(cat "$T/err")"
finish
