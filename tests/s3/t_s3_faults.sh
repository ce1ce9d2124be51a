#!/usr/bin/env bash
# t_s3_faults.sh - an S3 store when things go wrong, against the Ceph
# cluster of tests/ceph/start.sh (EVAULT_TEST_STORE=s3):
#   the gateway stopped in the middle of an upload: a clean error, no record,
#     nothing left in tmp/, and once it is back everything checks out;
#   a wrong secret or access key, no credentials, a credentials file;
#   a bucket that does not exist (at init, and under an existing vault);
#   an object altered in the bucket: check --read-data names the record;
#   objects no record uses and records whose object is gone: check lists them;
#   destroy deletes the record's object, and the sweep orphan objects;
#   store migrate interrupted by a stopped gateway, then resumed.
. "$(dirname "$0")/../cli/lib.sh"

[ "$EV_STORE" = s3 ] || { fail "run with EVAULT_TEST_STORE=s3"; finish; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
sha() { sha256sum < "$1" | cut -d' ' -f1; }
nrecords() { "$EVAULT" ls --json 2> /dev/null | wc -l; }

# A gateway of this test's own, so that stopping it disturbs no other test.
GW=fault$$
E2=$(bash "$HERE/ceph/rgw.sh" "$EV_CEPH_DIR" "$GW") || { fail "extra gateway"; finish; }
P2=${E2##*:}
gw_pid() { cat "$EV_CEPH_DIR/run/client.rgw.$GW.pid"; }
gw_stop() {
    local p
    p=$(gw_pid) || return 1
    kill -9 "$p"
    while kill -0 "$p" 2> /dev/null; do sleep 0.05; done
    rm -f "$EV_CEPH_DIR/run/client.rgw.$GW.pid"
}
gw_start() { bash "$HERE/ceph/rgw.sh" "$EV_CEPH_DIR" "$GW" "$P2" > /dev/null; }
trap 'p=$(gw_pid 2> /dev/null) && kill -9 "$p" 2> /dev/null; cleanup' EXIT
# Waits (up to 20 s) until process $1 has a connection open to the gateway.
wait_upload() {
    local i
    for i in $(seq 400); do
        ss -Htnp state established "( dport = :$P2 )" 2> /dev/null |
            grep -q "pid=$1," && return 0
        kill -0 "$1" 2> /dev/null || return 1
        sleep 0.05
    done
    return 1
}

V=$T/v
"$EVAULT" init "$V" --argon2-passes 1 --argon2-memory 8 \
    --store "s3://$S3_BUCKET/faults" --endpoint "$E2" --path-style \
    --create-bucket > /dev/null 2> "$T/err" && ok || fail "init: $(cat "$T/err")"
export EVAULT_DIR=$V
echo "small statement" > "$T/small.txt"
head -c 3000000 /dev/urandom > "$T/mid.bin"
expect_rc 0 "$EVAULT" add "$T/small.txt" "$T/mid.bin"
mid_id=$(grep 'mid.bin' "$T/out" | cut -f1)

# --- the gateway stopped in the middle of an upload -----------------------
head -c 200000000 /dev/urandom > "$T/huge.bin"
before=$(nrecords)
"$EVAULT" add "$T/huge.bin" > "$T/out" 2> "$T/err" &
apid=$!
if wait_upload "$apid"; then ok; else fail "the upload never began"; fi
sleep 0.3
gw_stop
wait "$apid"
rc=$?
[ "$rc" -eq 3 ] && ok || fail "add with the gateway stopped: exit $rc, wanted 3"
grep -q "127.0.0.1:$P2" "$T/err" && ok || fail "the error does not name the endpoint: $(cat "$T/err")"
grep -q '^hint: ' "$T/err" && ok || fail "no hint: $(cat "$T/err")"
[ "$(nrecords)" -eq "$before" ] && ok || fail "a record was added without its blob"
[ -z "$(ls -A "$V/tmp")" ] && ok || fail "tmp/ keeps a sealed file: $(ls "$V/tmp")"
# reading needs the gateway: a clean operational error, not "damaged"
expect_rc 3 "$EVAULT" get "$mid_id" -o "$T/mid.out"
[ ! -e "$T/mid.out" ] && ok || fail "get left a partial file"
expect_rc 3 "$EVAULT" check
gw_start
expect_rc 0 "$EVAULT" check --read-data
expect_rc 0 "$EVAULT" add "$T/huge.bin"
expect_rc 0 "$EVAULT" get "$(cut -f1 "$T/out")" -o "$T/huge.out"
cmp -s "$T/huge.out" "$T/huge.bin" && ok || fail "huge.bin reads back different"
rm -f "$T/huge.out"

# --- credentials ----------------------------------------------------------
# (over 1 MiB: smaller files live in the catalog and never reach the store)
head -c 1500000 /dev/urandom > "$T/another.bin"
expect_rc 4 env AWS_SECRET_ACCESS_KEY=wrong-secret-0000000000000000000000000000 \
    "$EVAULT" add "$T/another.bin"
grep -q 'SignatureDoesNotMatch' "$T/err" && ok || fail "wrong secret: $(cat "$T/err")"
grep -q '^hint: check AWS_SECRET_ACCESS_KEY' "$T/err" && ok || fail "wrong secret: no hint"
grep -q 'wrong-secret' "$T/err" && fail "the secret was printed" || ok
expect_rc 4 env AWS_SECRET_ACCESS_KEY=wrong-secret-0000000000000000000000000000 \
    "$EVAULT" get "$mid_id" -o "$T/x"
expect_rc 4 env AWS_ACCESS_KEY_ID=NOSUCHKEY0000000000 "$EVAULT" check --read-data
grep -q 'InvalidAccessKeyId' "$T/err" && grep -q '^hint: check AWS_ACCESS_KEY_ID' "$T/err" &&
    ok || fail "unknown access key: $(cat "$T/err")"
expect_rc 4 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T/nohome" \
    "$EVAULT" get "$mid_id" -o "$T/x"
grep -q 'no credentials' "$T/err" && ok || fail "no credentials: $(cat "$T/err")"
# a shared credentials file and a profile
printf '# test\n[default]\naws_access_key_id = NOPE\naws_secret_access_key = nope\n\n[ev]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$T/creds"
expect_rc 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    AWS_SHARED_CREDENTIALS_FILE="$T/creds" AWS_PROFILE=ev \
    "$EVAULT" get "$mid_id" -o "$T/mid.out"
cmp -s "$T/mid.out" "$T/mid.bin" && ok || fail "get with a credentials file"
expect_rc 4 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    AWS_SHARED_CREDENTIALS_FILE="$T/creds" AWS_PROFILE=missing \
    "$EVAULT" get "$mid_id" -o "$T/y"
grep -q 'no profile \[missing\]' "$T/err" && ok || fail "missing profile: $(cat "$T/err")"
[ "$(nrecords)" -eq $((before + 1)) ] && ok || fail "a refused add left a record"

# --- a bucket that does not exist -----------------------------------------
expect_rc 3 "$EVAULT" init "$T/nob" --argon2-passes 1 --argon2-memory 8 \
    --store "s3://ev-no-such-bucket-$$/x" --endpoint "$EV_S3_ENDPOINT" --path-style
grep -q 'does not exist' "$T/err" && grep -q '^hint: ' "$T/err" && ok ||
    fail "missing bucket at init: $(cat "$T/err")"
[ ! -e "$T/nob/vault.db" ] && ok || fail "init made a vault on a missing bucket"
# a prefix that already holds objects is another vault's
expect_rc 3 "$EVAULT" init "$T/twice" --argon2-passes 1 --argon2-memory 8 \
    --store "s3://$S3_BUCKET/faults" --endpoint "$EV_S3_ENDPOINT" --path-style
grep -q 'already holds objects' "$T/err" && ok || fail "shared prefix: $(cat "$T/err")"
# usage errors
expect_rc 2 "$EVAULT" init "$T/u1" --store "s3://$S3_BUCKET/u1"
expect_rc 2 "$EVAULT" init "$T/u2" --endpoint "$EV_S3_ENDPOINT"
expect_rc 2 "$EVAULT" init "$T/u3" --store "s3://Bad_Bucket" --endpoint "$EV_S3_ENDPOINT"
expect_rc 2 "$EVAULT" init "$T/u4" --store "s3://$S3_BUCKET/x" --endpoint "ftp://x"

# --- an object altered in the bucket, objects no record uses, and gone ----
key=$(stored_blobs "$V" | head -1)
s3_curl GET "$S3_BUCKET/$key" > "$T/obj.orig"
cp "$T/obj.orig" "$T/obj.bad"
printf '\x01' | dd of="$T/obj.bad" bs=1 seek=100000 conv=notrunc 2> /dev/null
s3_curl PUT "$S3_BUCKET/$key" "$T/obj.bad" > /dev/null
expect_rc 1 "$EVAULT" check --read-data
grep -q '^DAMAGED: record [0-9]*: ' "$T/out" && ok || fail "altered object: $(cat "$T/out")"
bad_id=$(sed -n 's/^DAMAGED: record \([0-9]*\): .*/\1/p' "$T/out" | head -1)
expect_rc 1 "$EVAULT" get "$bad_id" -o "$T/bad.out"
[ ! -e "$T/bad.out" ] && ok || fail "get of an altered object left a file"
expect_rc 0 "$EVAULT" check   # without --read-data the size still matches
s3_curl PUT "$S3_BUCKET/$key" "$T/obj.orig" > /dev/null
expect_rc 0 "$EVAULT" check --read-data
# a stray object and a foreign name under the prefix: noted, not damage
head -c 5000 /dev/urandom > "$T/stray"
s3_curl PUT "$S3_BUCKET/faults/$(head -c 32 /dev/urandom | xxd -p -c 64)" "$T/stray" > /dev/null
s3_curl PUT "$S3_BUCKET/faults/notes.txt" "$T/stray" > /dev/null
expect_rc 0 "$EVAULT" check
grep -q '^note: blob file that no record uses.*s3://' "$T/out" && ok || fail "orphan not listed: $(cat "$T/out")"
grep -q "^note: unexpected file in the blob store: s3://$S3_BUCKET/faults/notes.txt" "$T/out" &&
    ok || fail "foreign object not listed: $(cat "$T/out")"
# a record's object removed
s3_curl DELETE "$S3_BUCKET/$key" > /dev/null
expect_rc 1 "$EVAULT" check
grep -q '^DAMAGED: record [0-9]*: its blob is missing: s3://' "$T/out" && ok ||
    fail "missing object: $(cat "$T/out")"
s3_curl PUT "$S3_BUCKET/$key" "$T/obj.orig" > /dev/null
expect_rc 0 "$EVAULT" check --read-data
# destroy: the record's object is deleted, an orphan object is swept
head -c 2100000 /dev/urandom > "$T/doomed.bin"
expect_rc 0 "$EVAULT" add "$T/doomed.bin"
doomed=$(cut -f1 "$T/out")
n_before=$(stored_blobs "$V" | wc -l)
expect_rc 0 "$EVAULT" destroy "$doomed" --reason "added by mistake" --yes
[ "$(stored_blobs "$V" | wc -l)" -lt "$n_before" ] && ok || fail "destroy left the object"
stored_blobs "$V" | grep -q 'faults/[0-9a-f]\{64\}$' && ok || fail "other objects gone"
expect_rc 3 "$EVAULT" get "$doomed" -o "$T/doomed.out"
stray=faults/$(head -c 32 /dev/urandom | xxd -p -c 64)
s3_curl PUT "$S3_BUCKET/$stray" "$T/stray" > /dev/null
expect_rc 0 "$EVAULT" destroy --sweep --yes
stored_blobs "$V" | grep -q "$stray" && fail "sweep left an orphan object" || ok
expect_rc 0 "$EVAULT" check --read-data
# the bucket gone under an existing vault
radosgw-admin bucket rm --bucket="$S3_BUCKET" --purge-objects > /dev/null 2>&1
head -c 2000000 /dev/urandom > "$T/late.bin"
expect_rc 3 "$EVAULT" add "$T/late.bin"
grep -q 'does not exist' "$T/err" && ok || fail "bucket gone: $(cat "$T/err")"
expect_rc 3 "$EVAULT" check
grep -q 'does not exist' "$T/err" && ok || fail "check, bucket gone: $(cat "$T/err")"

# --- store migrate, interrupted, resumed, and back ------------------------
M=$T/m
new_vault "$M" || finish
"$EVAULT" store migrate --vault "$M" local > /dev/null 2>&1   # S3 -> local first
mkdir -p "$T/min"
# 60 MB: a migration that takes seconds, so that stopping the gateway 0.2 s
# after it connects always lands in the middle (6 x 3 MB once finished first)
for i in 1 2 3 4 5 6; do head -c $((10000000 + i)) /dev/urandom > "$T/min/f$i.bin"; done
echo tiny > "$T/min/tiny.txt"
EVAULT_DIR=$M expect_rc 0 "$EVAULT" add "$T/min"
EVAULT_DIR=$M expect_rc 0 "$EVAULT" store show
grep -q '/blobs$' "$T/out" && ok || fail "store show: $(cat "$T/out")"
MB=ev-migrate-$$
"$EVAULT" store migrate --vault "$M" "s3://$MB/m" --endpoint "$E2" --path-style \
    --create-bucket > "$T/out" 2> "$T/err" &
mpid=$!
wait_upload "$mpid" || fail "the migration never connected"
sleep 0.2
gw_stop
wait "$mpid"
rc=$?
[ "$rc" -eq 3 ] && ok || fail "migrate with the gateway stopped: exit $rc"
EVAULT_DIR=$M expect_rc 0 "$EVAULT" check --read-data   # still the old store
gw_start
EVAULT_DIR=$M expect_rc 0 "$EVAULT" store migrate "s3://$MB/m" --endpoint "$E2" --path-style --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["blobs"]==6 and r["copied"]+r["already_there"]==6 and r["removed"]==6, r' "$T/out" \
    && ok || fail "migrate report: $(cat "$T/out")"
[ -z "$(find "$M/blobs" -type f)" ] && ok || fail "old blob files left"
EVAULT_DIR=$M expect_rc 0 "$EVAULT" check --read-data
for i in 1 6; do
    EVAULT_DIR=$M expect_rc 0 "$EVAULT" get "$i" -o "$T/m$i.out"
done
EVAULT_DIR=$M expect_rc 3 "$EVAULT" store migrate "s3://$MB/m" --endpoint "$E2" --path-style
EVAULT_DIR=$M expect_rc 0 "$EVAULT" store migrate local
EVAULT_DIR=$M expect_rc 0 "$EVAULT" check --read-data
[ "$(find "$M/blobs" -type f | wc -l)" -eq 6 ] && ok || fail "blobs not back"
EVAULT_DIR=$M expect_rc 0 "$EVAULT" log
grep -c ' store ' "$T/out" | grep -q '^[23]$' && ok || fail "migrations not in the custody log"
radosgw-admin bucket rm --bucket="$MB" --purge-objects > /dev/null 2>&1
finish
