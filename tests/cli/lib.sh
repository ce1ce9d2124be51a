# lib.sh - shared by the CLI test scripts (sourced, not run).
# Gives: $EVAULT (the binary), a fresh $T work folder removed on exit, a
# passphrase file, fast Argon2 settings for test vaults, and helpers.
#
# With EVAULT_TEST_STORE=s3 every vault made by new_vault or init_vault keeps
# its blobs in an S3 bucket of the Ceph cluster that tests/ceph/start.sh
# started in $EV_CEPH_DIR: one bucket per script, one prefix per vault,
# removed with its objects on exit.  A missing cluster fails the script.
set -u
: "${EVAULT:?EVAULT must name the evault binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/evault-test.XXXXXX")
EV_STORE=${EVAULT_TEST_STORE:-local}
S3_BUCKET=
cleanup() {
    if [ -n "$S3_BUCKET" ]; then
        radosgw-admin bucket rm --bucket="$S3_BUCKET" --purge-objects \
            > /dev/null 2>&1 || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT
if [ "$EV_STORE" = s3 ]; then
    if [ ! -r "${EV_CEPH_DIR:-/nonexistent}/env" ]; then
        echo "FAIL: EVAULT_TEST_STORE=s3 but no Ceph cluster in" \
             "'${EV_CEPH_DIR:-}' (tests/ceph/start.sh failed?)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    . "$EV_CEPH_DIR/env"
    S3_BUCKET=ev-$(basename "$0" .sh | tr '_A-Z' '-a-z')-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
fi
PASS_COUNT=0
FAIL_COUNT=0
printf 'test passphrase\n' > "$T/pass"
export EVAULT_PASSPHRASE_FILE="$T/pass"
unset EVAULT_DIR

ok()   { PASS_COUNT=$((PASS_COUNT + 1)); }
fail() { FAIL_COUNT=$((FAIL_COUNT + 1)); echo "FAIL: $*" >&2; }

# expect_rc CODE CMD...: runs CMD, checks its exit code.
expect_rc() {
    local want=$1; shift
    "$@" > "$T/out" 2> "$T/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else
        fail "exit $got, wanted $want: $*"; sed 's/^/  | /' "$T/err" >&2; fi
}

# store_args DIR: the init options that put DIR's blobs in the store
# under test (none for the local directory).
store_args() {
    [ "$EV_STORE" = s3 ] || return 0
    printf '%s\n' --store "s3://$S3_BUCKET/$(basename "$1")-$RANDOM$RANDOM" \
        --endpoint "$EV_S3_ENDPOINT" --path-style --create-bucket
}

# init_vault DIR [OPTIONS...]: evault init with the store under test and
# cheap Argon2 settings (tests only); output in $T/out and $T/err.
init_vault() {
    local dir=$1; shift
    local -a sa
    mapfile -t sa < <(store_args "$dir")
    "$EVAULT" init "$dir" --argon2-passes 1 --argon2-memory 8 "${sa[@]}" "$@"
}

# new_vault DIR: a vault with cheap Argon2 settings (tests only).
new_vault() {
    init_vault "$1" > "$T/recovery" 2> "$T/init.err" \
        || { fail "init $1: $(cat "$T/init.err")"; return 1; }
}

# s3_curl METHOD PATH [FILE]: one signed request to the test gateway with
# curl (the secret goes through a config on stdin, never argv); FILE is
# the body.  PATH is BUCKET/KEY[?QUERY], already encoded and sorted.
s3_curl() {
    local m=$1 path=$2 f=${3:-} h
    if [ -n "$f" ]; then h=$(sha256sum < "$f" | cut -d' ' -f1)
    else h=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855; fi
    printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" |
        curl -sS -K - --aws-sigv4 "aws:amz:us-east-1:s3" \
             -H "x-amz-content-sha256: $h" -X "$m" \
             ${f:+--data-binary "@$f"} "$EV_S3_ENDPOINT/$path"
}

# vault_s3_prefix DIR: BUCKET/PREFIX of an S3 vault (from evault store show).
vault_s3_prefix() {
    "$EVAULT" store show --vault "$1" | sed -n 's|^s3://\([^ ]*\) at .*|\1|p'
}

# stored_blobs DIR: the object names (S3) or file paths (local) of DIR's
# stored blobs, one a line.
stored_blobs() {
    if [ "$EV_STORE" = s3 ]; then
        local bp b p
        bp=$(vault_s3_prefix "$1") || return 1
        b=${bp%%/*}; p=${bp#*/}
        s3_curl GET "$b?list-type=2&max-keys=1000&prefix=$p%2F" |
            grep -o '<Key>[^<]*</Key>' | sed 's|<Key>\(.*\)</Key>|\1|'
    else
        find "$1/blobs" -type f
    fi
}

finish() {
    echo "$PASS_COUNT passed, $FAIL_COUNT failed"
    [ "$FAIL_COUNT" -eq 0 ] && [ "$PASS_COUNT" -gt 0 ]
    exit $?
}
