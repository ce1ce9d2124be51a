#!/usr/bin/env bash
# t_help.sh - --help for evault and every command, exit codes listed, and
# usage errors (unknown command, unknown option, missing arguments) exit 2.
. "$(dirname "$0")/lib.sh"

CMDS="init add ls search show get cat check amend seal destroy log proof verify key id contact share import open store"

# The overview: exit 0, every command, every exit code.
expect_rc 0 "$EVAULT" --help
for c in $CMDS; do
    grep -Eq "^  $c +[a-z]" "$T/out" && ok || fail "--help does not list '$c'"
done
for code in 0 1 2 3 4 5; do
    grep -Eq "^  $code  [a-z]" "$T/out" && ok ||
        fail "--help does not list exit code $code"
done
grep -q 'wrong passphrase' "$T/out" && grep -q 'busy' "$T/out" && ok ||
    fail "--help exit codes lack their meaning"
[ ! -s "$T/err" ] && ok || fail "--help wrote to stderr"
expect_rc 0 "$EVAULT" -h
grep -q '^usage: evault' "$T/out" && ok || fail "-h printed no usage"
expect_rc 0 "$EVAULT" help
grep -q '^usage: evault' "$T/out" && ok || fail "help printed no usage"

# No command at all: the overview on stderr, exit 2.
expect_rc 2 "$EVAULT"
grep -q '^usage: evault' "$T/err" && ok || fail "bare evault: no usage on stderr"
[ ! -s "$T/out" ] && ok || fail "bare evault wrote to stdout"

# Usage line of a command: "usage: evault CMD" (search is ls's alias).
usage_re() {
    case $1 in
    search) echo '^usage: evault search( |$)' ;;
    *) echo "^usage: evault $1( |\$)" ;;
    esac
}

for c in $CMDS; do
    re=$(usage_re "$c")
    for form in "$c --help" "$c -h" "help $c"; do
        # shellcheck disable=SC2086
        expect_rc 0 "$EVAULT" $form
        grep -Eq "$re" "$T/out" && ok ||
            fail "'evault $form' printed no usage line on stdout"
        grep -q -- '--help' "$T/out" && ok ||
            fail "'evault $form' does not document --help"
        [ ! -s "$T/err" ] && ok || fail "'evault $form' wrote to stderr"
    done
    # An unknown option: exit 2, an error line and the usage on stderr.
    expect_rc 2 "$EVAULT" "$c" --no-such-option 1
    grep -q '^evault: error: ' "$T/err" && ok ||
        fail "'$c --no-such-option': no 'evault: error:' on stderr"
    grep -Eq "$re" "$T/err" && ok ||
        fail "'$c --no-such-option': no usage on stderr"
    [ ! -s "$T/out" ] && ok || fail "'$c --no-such-option' wrote to stdout"
done

# Unknown commands.
expect_rc 2 "$EVAULT" frobnicate
grep -q "^evault: error: .*'frobnicate'" "$T/err" && ok ||
    fail "unknown command not named on stderr"
grep -q '^hint: ' "$T/err" && ok || fail "unknown command: no hint"
[ ! -s "$T/out" ] && ok || fail "unknown command wrote to stdout"
expect_rc 2 "$EVAULT" --frobnicate
expect_rc 2 "$EVAULT" SHOW
# an option a command does not take, with its value: both named
expect_rc 2 "$EVAULT" init "$T/never" --vault "$T/elsewhere"
grep -q "unknown option or bad value: '--vault $T/elsewhere'" "$T/err" && ok ||
    fail "init --vault X: $(cat "$T/err")"
# help with options before it, or about itself
expect_rc 0 "$EVAULT" --json help
grep -q '^usage: evault' "$T/out" && ok || fail "'evault --json help': $(cat "$T/err")"
expect_rc 0 "$EVAULT" help help
expect_rc 0 "$EVAULT" --vault /nowhere help ls
grep -q '^usage: evault ls' "$T/out" && ok || fail "'evault --vault X help ls': $(cat "$T/out" "$T/err")"
# help for a command that does not exist is an error, not the overview
expect_rc 2 "$EVAULT" help frobnicate
grep -q "^evault: error: .*'frobnicate' is not an evault command" "$T/err" && ok ||
    fail "help of an unknown command: $(cat "$T/err")"
[ ! -s "$T/out" ] && ok || fail "help of an unknown command wrote to stdout"

# Each option listed once; cat lists no option it refuses.
for c in $CMDS; do
    "$EVAULT" "$c" --help | sed -n '/^Options:/,$p' |
        grep -Eo '^  (-[a-z], )? *--[a-z0-9-]+' | sed 's/^ *//' |
        sort | uniq -d > "$T/dups"
    [ ! -s "$T/dups" ] && ok || fail "'$c --help' lists an option twice: $(cat "$T/dups")"
done
expect_rc 0 "$EVAULT" cat --help
grep -Eq -- '--output|--force' "$T/out" && fail "cat --help lists get's options: $(cat "$T/out")" || ok
grep -q "evault get ID -o FILE" "$T/out" && ok || fail "cat --help does not point to get -o"

# Missing or malformed arguments: exit 2 before any vault is looked for
# (EVAULT_DIR points nowhere, so reaching the vault would exit 3).
export EVAULT_DIR=$T/no-such-vault
check_usage() {
    local re=$1; shift
    expect_rc 2 "$EVAULT" "$@"
    grep -q '^evault: error: ' "$T/err" && ok ||
        fail "'$*': no 'evault: error:' on stderr"
    grep -Eq "$re" "$T/err" && ok || fail "'$*': no usage on stderr"
}
check_usage "$(usage_re show)" show
check_usage "$(usage_re show)" show abc
check_usage "$(usage_re show)" show 0
check_usage "$(usage_re show)" show -1
check_usage "$(usage_re show)" show 1 2
check_usage "$(usage_re show)" show 1x
check_usage "$(usage_re get)" get
check_usage "$(usage_re get)" get 0
check_usage "$(usage_re get)" get abc
check_usage "$(usage_re get)" get 1 2
check_usage "$(usage_re get)" get -o
check_usage "$(usage_re cat)" cat
check_usage "$(usage_re cat)" cat 0
check_usage "$(usage_re cat)" cat -o "$T/x" 1
check_usage "$(usage_re add)" add
check_usage "$(usage_re add)" add --case
check_usage "$(usage_re add)" add - "$T/pass"
check_usage "$(usage_re add)" add --size 3 "$T/pass"
check_usage "$(usage_re add)" add --sha256 "$(printf '%064d' 0)" --name n
check_usage "$(usage_re add)" add --sha256 "$(printf '%064d' 0)" --size 1
check_usage "$(usage_re add)" add --sha256 "$(printf '%064d' 0)" --size 1 \
    --name n "$T/pass"
check_usage "$(usage_re add)" add --size -1 --sha256 "$(printf '%064d' 0)" \
    --name n
check_usage "$(usage_re ls)" ls extra
check_usage "$(usage_re ls)" ls --sha256 abc
check_usage "$(usage_re search)" search extra
check_usage "$(usage_re check)" check extra
check_usage "$(usage_re destroy)" destroy
check_usage "$(usage_re destroy)" destroy 1
check_usage "$(usage_re destroy)" destroy 1 --reason ""
check_usage "$(usage_re destroy)" destroy 0 --reason r --yes
check_usage "$(usage_re destroy)" destroy 1 2 --reason r --yes
check_usage "$(usage_re destroy)" destroy --reason r --yes
check_usage "$(usage_re destroy)" destroy --sweep 1
check_usage "$(usage_re destroy)" destroy --sweep --reason r
check_usage "$(usage_re destroy)" destroy 1 --reason r < /dev/null
check_usage "$(usage_re init)" init
# the error says what is missing, not something else
check_usage "$(usage_re seal)" seal
grep -q "name the records to seal" "$T/err" && ok ||
    fail "bare seal: $(head -1 "$T/err")"
check_usage "$(usage_re seal)" seal 1 --case C
grep -q "not both" "$T/err" && ok || fail "seal ID --case: $(head -1 "$T/err")"
check_usage "$(usage_re key)" key member add
grep -q "add NAME --age" "$T/err" && ok ||
    fail "key member add: $(head -1 "$T/err")"
check_usage "$(usage_re key)" key rm
grep -q "one slot number" "$T/err" && ok || fail "key rm: $(head -1 "$T/err")"
check_usage "$(usage_re key)" key ls extra
check_usage "$(usage_re init)" init "$T/a" "$T/b"
check_usage "$(usage_re init)" init --argon2-passes 0 "$T/a"
check_usage "$(usage_re init)" init --argon2-memory lots "$T/a"
check_usage "$(usage_re init)" init --endpoint http://127.0.0.1:1 "$T/a"
check_usage "$(usage_re init)" init --path-style "$T/a"
check_usage "$(usage_re init)" init --store s3://bucket "$T/a"
check_usage "$(usage_re init)" init --store /elsewhere --endpoint http://h "$T/a"
[ ! -e "$T/a" ] && ok || fail "a usage error in init created the directory"
# a bad bucket name or endpoint: exit 2, nothing created
for args in "--store s3://Bad_Name --endpoint http://127.0.0.1:1" \
            "--store s3://bucket --endpoint ftp://h" \
            "--store s3://bucket/../x --endpoint http://127.0.0.1:1"; do
    expect_rc 2 "$EVAULT" init $args "$T/a"
    grep -q '^evault: error: ' "$T/err" && ok || fail "init $args: no error"
done
[ ! -e "$T/a" ] && ok || fail "a bad store in init created the directory"
"$EVAULT" init --help | grep -q -- '--store s3://BUCKET' && ok ||
    fail "init --help does not document --store"
"$EVAULT" init --help | grep -q 'AWS_SECRET_ACCESS_KEY' && ok ||
    fail "init --help does not say where credentials come from"
check_usage "$(usage_re store)" store
check_usage "$(usage_re store)" store frobnicate
check_usage "$(usage_re store)" store show extra
check_usage "$(usage_re store)" store migrate
check_usage "$(usage_re store)" store migrate s3://bucket
check_usage "$(usage_re store)" store migrate /elsewhere
check_usage "$(usage_re store)" store migrate local --endpoint http://h
check_usage "$(usage_re store)" store migrate s3://a s3://b --endpoint http://h
finish
