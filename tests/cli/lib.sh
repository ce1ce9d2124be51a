# lib.sh - shared by the CLI test scripts (sourced, not run).
# Gives: $EVAULT (the binary), a fresh $T work folder removed on exit, a
# passphrase file, fast Argon2 settings for test vaults, and helpers.
set -u
: "${EVAULT:?EVAULT must name the evault binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/evault-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
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

# new_vault DIR: a vault with cheap Argon2 settings (tests only).
new_vault() {
    "$EVAULT" init "$1" --argon2-passes 1 --argon2-memory 8 > "$T/recovery" 2>/dev/null \
        || { fail "init $1"; return 1; }
}

finish() {
    echo "$PASS_COUNT passed, $FAIL_COUNT failed"
    [ "$FAIL_COUNT" -eq 0 ] && [ "$PASS_COUNT" -gt 0 ]
    exit $?
}
