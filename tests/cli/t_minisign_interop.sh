#!/usr/bin/env bash
# t_minisign_interop.sh - evault's minisign code (through tests/minisign_tool)
# against Debian's minisign binary, both ways: evault's signatures verify
# with 'minisign -V -H', minisign's hashed signatures verify with evault,
# legacy signatures are refused unless asked for, and tampering with the
# file, the signature or the trusted comment is caught on both sides.
. "$(dirname "$0")/lib.sh"
: "${MINISIGN_TOOL:?MINISIGN_TOOL must name the minisign_tool binary}"
: "${EV_TEST_SRC:?EV_TEST_SRC must name the tests folder}"
command -v minisign > /dev/null || { fail "minisign is missing"; finish; }
TOOL=$MINISIGN_TOOL
KAT=$EV_TEST_SRC/minisign

# RFC 8032 section 7.1, TEST 1: secret key = seed || public key.
SK=9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
SK=${SK}d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
KEYID=0123456789abcdef
# RFC 8032 TEST 2, a second evault key.
SK2=4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb
SK2=${SK2}3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
# The secret half of tests/minisign/minisign.pub (a test-only key).
KAT_SK=7e7d33ca11d577b6508ccd72500ee4836818a38d33421e0924ff79f4c98d87ce
KAT_SK=${KAT_SK}90f82a7b25d79d08cf364e5d38d97f62569b124c7d3735f87cd263fec7da8d02
KAT_KEYID=a8fc2beb593c00c0

# contains FILE TEXT: FILE holds the line TEXT.
contains() { if grep -qxF -- "$2" "$1"; then ok; else
    fail "'$1' lacks '$2'"; sed 's/^/  | /' "$1" >&2; fi; }

# --- the tool's usage --------------------------------------------------
expect_rc 2 "$TOOL"
expect_rc 2 "$TOOL" sign "$SK" "$KEYID"
expect_rc 2 "$TOOL" sign 00 "$KEYID" tc
expect_rc 2 "$TOOL" pubkey "$SK" 0123

# --- evault signs, minisign verifies ----------------------------------
expect_rc 0 "$TOOL" pubkey "$SK" "$KEYID"
cp "$T/out" "$T/ev.pub"
contains "$T/ev.pub" "untrusted comment: minisign public key EFCDAB8967452301"
EVPK=$(sed -n 2p "$T/ev.pub")

printf 'exhibit 12: statement of the witness\n' > "$T/small"
: > "$T/empty"
head -c 3000000 /dev/urandom > "$T/big"
for f in small empty big; do
    "$TOOL" sign "$SK" "$KEYID" "case 7 file:$f" < "$T/$f" > "$T/$f.ev.minisig" \
        || fail "sign $f"
    expect_rc 0 minisign -V -H -p "$T/ev.pub" -m "$T/$f" -x "$T/$f.ev.minisig"
    contains "$T/out" "Trusted comment: case 7 file:$f"
    expect_rc 0 minisign -V -H -P "$EVPK" -m "$T/$f" -x "$T/$f.ev.minisig"
    expect_rc 0 "$TOOL" verify "$T/ev.pub" "$T/$f.ev.minisig" < "$T/$f"
    contains "$T/out" "case 7 file:$f"
done

# a changed file, a changed trusted comment, a changed signature
cp "$T/small" "$T/small2"
printf 'x' >> "$T/small2"
expect_rc 1 minisign -V -H -p "$T/ev.pub" -m "$T/small2" -x "$T/small.ev.minisig"
expect_rc 1 "$TOOL" verify "$T/ev.pub" "$T/small.ev.minisig" < "$T/small2"
sed 's/^trusted comment: case 7/trusted comment: case 8/' \
    "$T/small.ev.minisig" > "$T/tc.minisig"
expect_rc 1 minisign -V -H -p "$T/ev.pub" -m "$T/small" -x "$T/tc.minisig"
expect_rc 1 "$TOOL" verify "$T/ev.pub" "$T/tc.minisig" < "$T/small"
grep -q 'trusted comment' "$T/err" || fail "tool: no trusted comment error"
sed '4{/^A/{s/^A/B/;b};s/^./A/}' "$T/small.ev.minisig" > "$T/g.minisig"
expect_rc 1 minisign -V -H -p "$T/ev.pub" -m "$T/small" -x "$T/g.minisig"
expect_rc 1 "$TOOL" verify "$T/ev.pub" "$T/g.minisig" < "$T/small"
# the untrusted comment may change freely
sed '1s/.*/untrusted comment: rewritten in transit/' \
    "$T/small.ev.minisig" > "$T/uc.minisig"
expect_rc 0 minisign -V -H -p "$T/ev.pub" -m "$T/small" -x "$T/uc.minisig"
expect_rc 0 "$TOOL" verify "$T/ev.pub" "$T/uc.minisig" < "$T/small"

# another evault key: minisign names the key id mismatch
expect_rc 0 "$TOOL" pubkey "$SK2" fedcba9876543210
cp "$T/out" "$T/ev2.pub"
expect_rc 1 minisign -V -H -p "$T/ev2.pub" -m "$T/small" -x "$T/small.ev.minisig"
expect_rc 1 "$TOOL" verify "$T/ev2.pub" "$T/small.ev.minisig" < "$T/small"
grep -q 'another key' "$T/err" || fail "tool: no key id error"

# --- minisign signs, evault verifies ----------------------------------
minisign -G -W -p "$T/ms.pub" -s "$T/ms.key" < /dev/null > /dev/null 2>&1 \
    || fail "minisign -G"
for f in small empty big; do
    minisign -S -H -s "$T/ms.key" -m "$T/$f" -x "$T/$f.ms.minisig" \
        -t "made by minisign: $f" < /dev/null > /dev/null 2>&1 \
        || fail "minisign -S $f"
    expect_rc 0 "$TOOL" verify "$T/ms.pub" "$T/$f.ms.minisig" < "$T/$f"
    contains "$T/out" "made by minisign: $f"
    expect_rc 0 "$TOOL" verify "$T/ms.pub" "$T/$f.ms.minisig" --allow-legacy \
        < "$T/$f"
done
# minisign's default trusted comment (a timestamp, tabs, the file name)
minisign -S -s "$T/ms.key" -m "$T/small" -x "$T/d.minisig" < /dev/null \
    > /dev/null 2>&1 || fail "minisign -S default comment"
expect_rc 0 "$TOOL" verify "$T/ms.pub" "$T/d.minisig" < "$T/small"
grep -q "^timestamp:[0-9]*"$'\t'"file:small" "$T/out" || fail "default comment"
# the bare key line works as well as the .pub file
sed -n 2p "$T/ms.pub" > "$T/ms.line"
expect_rc 0 "$TOOL" verify "$T/ms.line" "$T/small.ms.minisig" < "$T/small"
# tampering
expect_rc 1 "$TOOL" verify "$T/ms.pub" "$T/small.ms.minisig" < "$T/small2"
sed 's/^trusted comment: made/trusted comment: Made/' \
    "$T/small.ms.minisig" > "$T/mtc.minisig"
expect_rc 1 "$TOOL" verify "$T/ms.pub" "$T/mtc.minisig" < "$T/small"
expect_rc 1 "$TOOL" verify "$T/ev.pub" "$T/small.ms.minisig" < "$T/small"
expect_rc 1 minisign -V -p "$T/ms.pub" -m "$T/small" -x "$T/small.ev.minisig"

# --- legacy signatures: refused unless asked for -----------------------
minisign -S -l -s "$T/ms.key" -m "$T/small" -x "$T/l.minisig" \
    -t "legacy" < /dev/null > /dev/null 2>&1 || fail "minisign -S -l"
expect_rc 1 "$TOOL" verify "$T/ms.pub" "$T/l.minisig" < "$T/small"
grep -q 'algorithm' "$T/err" || fail "tool: no algorithm error for legacy"
expect_rc 0 "$TOOL" verify "$T/ms.pub" "$T/l.minisig" --allow-legacy \
    < "$T/small"
contains "$T/out" "legacy"
expect_rc 1 "$TOOL" verify "$T/ms.pub" "$T/l.minisig" --allow-legacy \
    < "$T/small2"

# --- the checked-in known answers --------------------------------------
expect_rc 0 "$TOOL" verify "$KAT/minisign.pub" "$KAT/msg.txt.minisig" \
    < "$KAT/msg.txt"
contains "$T/out" "trusted"
expect_rc 1 "$TOOL" verify "$KAT/minisign.pub" "$KAT/msg.txt.legacy.minisig" \
    < "$KAT/msg.txt"
expect_rc 0 minisign -V -H -p "$KAT/minisign.pub" -m "$KAT/msg.txt"
# same key, same comment: evault's signature is minisign's, byte for byte
# (Ed25519 is deterministic); only the untrusted comment differs
expect_rc 0 "$TOOL" pubkey "$KAT_SK" "$KAT_KEYID"
cmp -s "$T/out" "$KAT/minisign.pub" && ok || fail "pubkey file differs"
"$TOOL" sign "$KAT_SK" "$KAT_KEYID" trusted < "$KAT/msg.txt" > "$T/kat.minisig"
if cmp -s <(sed 1d "$T/kat.minisig") <(sed 1d "$KAT/msg.txt.minisig"); then
    ok; else fail "signature differs from minisign's"; fi

finish
