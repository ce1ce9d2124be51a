#!/usr/bin/env bash
# t_crash.sh - a process killed (SIGKILL) at any moment during add: afterwards
# no partial record is visible, every committed record reads back with the
# SHA-256 of its source, check --read-data passes, every record the killed add
# reported is durable, and the next successful add leaves tmp/ empty.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V" || finish
export EVAULT_DIR=$V
ITER=${EV_CRASH_ITER:-25}
KNOWN=$T/known          # path <TAB> sha256 of every source file ever made
: > "$KNOWN"
: > "$T/prev"           # id <TAB> sha256 <TAB> path, from the last ls

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }

# make_src N: $T/src-N with ~300 small files (1-8 KB), three of 200 KB and
# one of 6 MiB, all random; records their hashes in $KNOWN.
make_src() {
    local d=$T/src-$1 b
    mkdir -p "$d/small"
    for b in 1024 3000 5120 8192; do
        head -c $((75 * b)) /dev/urandom | split -b $b -a 3 - "$d/small/s$b-"
    done
    for b in 1 2 3; do head -c 204800 /dev/urandom > "$d/m$b.bin"; done
    head -c $((6 * 1048576)) /dev/urandom > "$d/big.mp4"
    (cd "$T" && find "src-$1" -type f -print0 | xargs -0 sha256sum) |
        awk '{ print $2 "\t" $1 }' >> "$KNOWN"
}

# ls_records: ls --json as "id <TAB> sha256 <TAB> path" lines in $T/now.
ls_records() {
    "$EVAULT" ls --json > "$T/ls.json" 2> "$T/ls.err" || { fail "ls --json: $(cat "$T/ls.err")"; return 1; }
    sed -E 's/^\{"id":([0-9]+),.*"path":"([^"]*)".*"sha256":"([0-9a-f]{64})".*$/\1\t\3\t\2/' \
        "$T/ls.json" > "$T/now"
    local re=$'^[0-9]+\t[0-9a-f]{64}\t[^\t ]+$'
    if grep -qvE "$re" "$T/now"; then
        fail "ls --json: unparsable line: $(grep -vE "$re" "$T/now" | head -1)"
        return 1
    fi
}

# cat_ok ID SHA: the record reads back with exactly this SHA-256.
cat_ok() {
    local got rc
    got=$("$EVAULT" cat "$1" 2> "$T/cat.err" | sha256sum | cut -d' ' -f1)
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] && [ "$got" = "$2" ] && ok ||
        fail "record $1 does not read back (exit $rc, sha $got, wanted $2): $(cat "$T/cat.err")"
}

# verify WHAT: the invariants after an add ended (killed or not).
verify() {
    local what=$1
    "$EVAULT" check --read-data > "$T/check.out" 2>&1 && ok ||
        { fail "$what: check --read-data: $(grep -v '^note' "$T/check.out" | head -5)"; }
    ls_records || return
    # every record: its path is a source file and its SHA-256 that file's
    awk -F'\t' 'NR == FNR { k[$1] = $2; next }
                !($3 in k) { print "unknown path " $3 " (record " $1 ")"; next }
                k[$3] != $2 { print "record " $1 " (" $3 ") has sha " $2 ", its source " k[$3] }' \
        "$KNOWN" "$T/now" > "$T/bad"
    [ -s "$T/bad" ] && fail "$what: $(head -3 "$T/bad")" || ok
    # ids are unique
    [ -z "$(cut -f1 "$T/now" | sort | uniq -d)" ] && ok || fail "$what: duplicate record ids"
    # what the last ls showed is still there, unchanged (durable)
    missing=$(comm -23 <(sort "$T/prev") <(sort "$T/now"))
    [ -z "$missing" ] && ok || fail "$what: records vanished or changed: $(echo "$missing" | head -3)"
    # every line the add printed (complete lines only) is in ls
    if [ -s "$T/add.out" ]; then
        # drop an unterminated last line (output cut by the kill)
        if [ -n "$(tail -c 1 "$T/add.out")" ]; then
            sed '$d' "$T/add.out" > "$T/add.lines"
        else
            cp "$T/add.out" "$T/add.lines"
        fi
        cut -f1-3 "$T/add.lines" | sort > "$T/add.sorted"
        reported=$(wc -l < "$T/add.sorted")
        lost=$(comm -23 "$T/add.sorted" <(sort "$T/now"))
        [ -z "$lost" ] && ok || fail "$what: reported as added but not in ls: $(echo "$lost" | head -3)"
        REPORTED=$((REPORTED + reported))
    fi
    # reading back: every new record that is not small, the first and last
    # new ones, and a sample of the rest (check --read-data above has read
    # and hashed every one through the same read path)
    comm -13 <(sort "$T/prev") <(sort "$T/now") | sort -n > "$T/new"
    NEWREC=$((NEWREC + $(wc -l < "$T/new")))
    {
        grep -v '/small/' "$T/new"
        head -1 "$T/new"; tail -1 "$T/new"
        grep '/small/' "$T/new" | shuf -n 6
        shuf -n 2 "$T/prev"
    } | sort -u > "$T/sample"
    while IFS=$'\t' read -r id sha _; do cat_ok "$id" "$sha"; done < "$T/sample"
    cp "$T/now" "$T/prev"
}

# Two adds, not killed: older records, and how long an add takes here.
REPORTED=0 NEWREC=0 D=
for k in 0 00; do
    make_src $k
    t0=$(now_ms)
    "$EVAULT" add "$T/src-$k" > "$T/add.out" 2> "$T/add.err" && ok || fail "first add: $(cat "$T/add.err")"
    d=$(( $(now_ms) - t0 ))
    [ -z "$D" ] || [ "$d" -lt "$D" ] && D=$d
    verify "add of src-$k, not killed"
    [ "$(wc -l < "$T/new")" -eq 304 ] && ok || fail "add of src-$k: $(wc -l < "$T/new") new records, wanted 304"
    rm -rf "$T/src-$k"
done
# Kill times spread over the whole add: 0 .. 1.3 x its duration, so that
# most kills land inside it however fast this machine is.
SPAN=$(( D * 13 / 10 + 5 ))

killed=0 completed=0 src=none
for i in $(seq 1 "$ITER"); do
    # half the time a new source; else the same again, as after a crash
    if [ $((RANDOM % 2)) -eq 0 ] || [ "$i" -eq 1 ]; then
        rm -rf "$T/src-$src"; src=$i; make_src "$src"
    fi
    ms=$(( RANDOM % (SPAN + 1) ))
    "$EVAULT" add "$T/src-$src" > "$T/add.out" 2> "$T/add.err" &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    rc=$?
    ntmp=$(ls -A "$V/tmp" | wc -l)
    if [ "$rc" -eq 137 ]; then killed=$((killed + 1));
    elif [ "$rc" -eq 0 ]; then completed=$((completed + 1));
    else fail "iteration $i: add exited $rc: $(cat "$T/add.err")"; fi
    verify "iteration $i (killed after $ms ms, add exit $rc)"
    echo "crash: iteration $i: kill at $ms ms, add exit $rc, $(wc -l < "$T/new") new record(s), $ntmp file(s) in tmp/, $(grep -c 'no record uses' "$T/check.out") unused blob file(s)" >&2
done
echo "crash: add takes ~${D} ms; $killed killed, $completed completed; $NEWREC records committed, $REPORTED reported by adds" >&2
[ "$killed" -ge $((ITER / 5)) ] && ok || fail "only $killed of $ITER adds were killed mid-way (timing too coarse?)"

# A stale temporary file as a crash leaves one, then one more add: the
# add sweeps tmp/ and the vault is intact.
ls -A "$V/tmp" > "$T/tmp.before"
echo "crash: $(wc -l < "$T/tmp.before") file(s) in tmp/ after the last kill" >&2
head -c 1000 /dev/urandom > "$V/tmp/00112233445566778899aabb.tmp"
chmod 600 "$V/tmp/00112233445566778899aabb.tmp"
make_src final
expect_rc 0 "$EVAULT" add "$T/src-final"
cp "$T/out" "$T/add.out"
[ -z "$(ls -A "$V/tmp")" ] && ok || fail "tmp/ not empty after a successful add: $(ls -A "$V/tmp" | head -3)"
verify "final add"
expect_rc 0 "$EVAULT" check --read-data

# get -o and open -o killed while writing: no part of the plaintext is
# left beside the destination (the file has no name until it is complete
# and authenticated), or the whole file is there.
head -c $((64 * 1048576)) /dev/urandom > "$T/long.bin"
expect_rc 0 "$EVAULT" add --json "$T/long.bin"
LONG=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$T/out" | head -1)
age-keygen -o "$T/long.key" 2> /dev/null
age -r "$(age-keygen -y "$T/long.key")" -o "$T/long.age" "$T/long.bin"
mkdir "$T/dest"
cut_short=0
for ms in 15 30 45 60 80 110; do
    for cmd in get open; do
        if [ $cmd = get ]; then
            "$EVAULT" get "$LONG" -o "$T/dest/long.out" > /dev/null 2>&1 &
        else
            "$EVAULT" open "$T/long.age" -i "$T/long.key" -o "$T/dest/long.out" > /dev/null 2>&1 &
        fi
        pid=$!
        sleep "0.$(printf '%03d' $ms)"
        kill -9 $pid 2> /dev/null
        wait $pid 2> /dev/null
        if [ -e "$T/dest/long.out" ]; then
            cmp -s "$T/dest/long.out" "$T/long.bin" && ok || fail "$cmd -o killed at $ms ms: a partial long.out"
            rm -f "$T/dest/long.out"
        else
            cut_short=$((cut_short + 1))
        fi
        [ -z "$(ls -A "$T/dest")" ] && ok || fail "$cmd -o killed at $ms ms left: $(ls -A "$T/dest")"
    done
done
echo "crash: get/open -o: $cut_short of 12 killed before the file appeared" >&2
finish
