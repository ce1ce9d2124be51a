#!/usr/bin/env bash
# t_concurrent.sh - two writers at once (both succeed, or one is told the
# vault is busy), large adds while the disk is busy, the writer lock's busy
# timeout, and readers (ls, get, check) during long adds: they work and see
# only committed records.
. "$(dirname "$0")/lib.sh"

V=$T/v
new_vault "$V"
export EVAULT_DIR=$V
sha() { sha256sum < "$1" | cut -d' ' -f1; }
nrecords() { "$EVAULT" ls --json 2> /dev/null | wc -l; }
# Background loops stop when this script is gone, whatever killed it.
alive() { kill -0 $$ 2> /dev/null && [ -d "$T" ]; }

# mkfiles DIR: ~50 files (nested, a few over 1 MiB) and a 20 MiB random one,
# plus $T/common.bin copied in (the same content in both writers' trees).
mkfiles() {
    local d=$1 i
    mkdir -p "$d/sub/deep"
    for i in $(seq 1 40); do
        head -c $((RANDOM % 20000)) /dev/urandom > "$d/f$i.bin"
    done
    for i in $(seq 1 6); do
        head -c $((RANDOM * 3)) /dev/urandom > "$d/sub/s$i.jpg"
    done
    head -c 1048576 /dev/urandom > "$d/sub/deep/one-mib.mp4"
    head -c 1048577 /dev/urandom > "$d/sub/deep/one-mib-plus.mp4"
    head -c 2500000 /dev/urandom > "$d/sub/deep/clip.mov"
    cp "$T/common.bin" "$d/sub/common.bin"
    head -c 20971520 /dev/urandom > "$d/big.mp4"
}

# verify_out OUT BASE: every "ID<TAB>SHA256<TAB>PATH" line names a file
# under BASE with that SHA-256, and the record reads back with it.
verify_out() {
    local out=$1 base=$2 id hash path rest
    while IFS=$'\t' read -r id hash path rest; do
        [ -f "$base/$path" ] && ok || { fail "reported path '$path' is no file"; continue; }
        [ "$hash" = "$(sha "$base/$path")" ] && ok ||
            fail "record $id ($path): reported SHA-256 is not the file's"
        "$EVAULT" get "$id" -o "$T/readback" 2> "$T/readback.err"
        local rc=$?
        [ "$rc" -eq 0 ] && [ "$(sha "$T/readback")" = "$hash" ] && ok ||
            fail "record $id ($path): get exit $rc or wrong bytes: $(cat "$T/readback.err")"
        rm -f "$T/readback"
    done < "$out"
}

# --- two writers at the same moment, 5 times ------------------------------
for round in 1 2 3 4 5; do
    R=$T/r$round
    mkdir -p "$R"
    head -c 300000 /dev/urandom > "$T/common.bin"
    mkfiles "$R/A"
    mkfiles "$R/B"
    before=$(nrecords)
    pids=()
    for w in A B; do
        (while [ ! -e "$R/go" ] && alive; do sleep 0.002; done
         exec "$EVAULT" add "$R/$w" > "$R/$w.out" 2> "$R/$w.err") &
        pids+=($!)
    done
    sleep 0.3
    touch "$R/go"
    wait "${pids[0]}"; rcA=$?
    wait "${pids[1]}"; rcB=$?
    added=0
    for w in A B; do
        if [ "$w" = A ]; then rc=$rcA; else rc=$rcB; fi
        nfiles=$(find "$R/$w" -type f | wc -l)
        case $rc in
        0)
            ok
            [ "$(wc -l < "$R/$w.out")" -eq "$nfiles" ] && ok ||
                fail "round $round: writer $w reported $(wc -l < "$R/$w.out") of $nfiles files"
            added=$((added + nfiles))
            verify_out "$R/$w.out" "$R"
            ;;
        5)
            ok
            grep -q '^evault: error: .*busy' "$R/$w.err" && ok ||
                fail "round $round: writer $w exit 5 without 'busy': $(cat "$R/$w.err")"
            [ ! -s "$R/$w.out" ] && ok ||
                fail "round $round: busy writer $w reported records"
            ;;
        *)
            fail "round $round: writer $w exited $rc: $(head -c 500 "$R/$w.err")"
            ;;
        esac
    done
    [ "$rcA" -eq 0 ] || [ "$rcB" -eq 0 ] && ok ||
        fail "round $round: neither writer succeeded ($rcA, $rcB)"
    # the two writers' records do not share ids, and nothing else appeared
    ids=$(cat "$R/A.out" "$R/B.out" | cut -f1 | sort -n)
    [ "$(echo "$ids" | uniq | wc -l)" -eq "$(echo "$ids" | wc -l)" ] && ok ||
        fail "round $round: two records share an id"
    [ "$(nrecords)" -eq $((before + added)) ] && ok ||
        fail "round $round: $(nrecords) records, wanted $((before + added))"
    "$EVAULT" check --read-data > "$R/check.out" 2> "$R/check.err"
    rc=$?
    [ "$rc" -eq 0 ] && ok ||
        fail "round $round: check --read-data exit $rc: $(grep -hv '^note' "$R/check.out" "$R/check.err" | head -n 3)"
    rm -rf "$R/A" "$R/B"
done

# --- large adds while the disk is busy with other writes ---------------------
# Another process writing (as a backup or a download would) slows the
# vault's blob writes; every add that succeeds must still have stored every
# byte.  Sizes that are not a multiple of 4 MiB leave a partial last buffer.
# A vault of its own, so that damage here does not spill into what follows.
new_vault "$T/v3"
export EVAULT_DIR=$T/v3
hog_pids=()
for h in 1 2; do
    (while [ ! -e "$T/stop-hog" ] && alive; do
         dd if=/dev/zero of="$T/hog$h" bs=4M count=32 oflag=direct 2> /dev/null ||
             dd if=/dev/zero of="$T/hog$h" bs=4M count=32 conv=fsync 2> /dev/null
     done) &
    hog_pids+=($!)
done
(while [ ! -e "$T/stop-hog" ] && alive; do sync; done) &
sync_pid=$!
mkdir -p "$T/press"
for i in $(seq 1 20); do
    head -c $((20971520 + i * 12345)) /dev/urandom > "$T/press/p$i.mp4"
    expect_rc 0 "$EVAULT" add "$T/press/p$i.mp4"
    id=$(cut -f1 "$T/out")
    [ "$(cut -f2 "$T/out")" = "$(sha "$T/press/p$i.mp4")" ] && ok ||
        fail "add under disk load: p$i.mp4 reported a wrong SHA-256"
    "$EVAULT" get "$id" -o "$T/press/back" 2> "$T/press/err"
    rc=$?
    [ "$rc" -eq 0 ] && cmp -s "$T/press/back" "$T/press/p$i.mp4" && ok ||
        fail "add under disk load: record $id (p$i.mp4, exit 0) reads back with exit $rc: $(head -n1 "$T/press/err")"
    rm -f "$T/press/back"
done
touch "$T/stop-hog"
wait "${hog_pids[@]}" "$sync_pid"
rm -f "$T/hog1" "$T/hog2"
"$EVAULT" check --read-data > "$T/press/check.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok ||
    fail "check --read-data after adds under disk load: exit $rc: $(grep -v '^note' "$T/press/check.out" | head -n 3)"
rm -rf "$T/press"
export EVAULT_DIR=$V

# --- a writer holding the lock: readers work, other writers wait or give up -
# A testimony from a pipe that pauses keeps the add (and its lock) open.
head -c 3000000 /dev/urandom > "$T/slow.1"
head -c 500000 /dev/urandom > "$T/slow.2"
cat "$T/slow.1" "$T/slow.2" > "$T/slow.all"
"$EVAULT" ls --json > "$T/ls.before"
first=$(head -n1 "$T/ls.before" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["id"], o["sha256"])')
SLOW=16 # seconds; the library waits 10 s for the lock before "busy"
{ cat "$T/slow.1"; sleep "$SLOW"; cat "$T/slow.2"; } |
    "$EVAULT" add - --name slow > "$T/slow.out" 2> "$T/slow.err" &
slow_pid=$!
t0=$(date +%s)
sleep 1
# readers: ls, show, get, check, all while the add is open
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/ls.before" && ok || fail "ls during an open add shows other records"
expect_rc 0 "$EVAULT" get "${first% *}" -o "$T/first.back"
[ "$(sha "$T/first.back")" = "${first#* }" ] && ok || fail "get during an add: wrong bytes"
expect_rc 0 "$EVAULT" show "${first% *}" --json
expect_rc 0 "$EVAULT" check
# a second writer gives up after the busy timeout: exit 5, "busy", no record
printf 'second writer\n' > "$T/second.txt"
expect_rc 5 "$EVAULT" add "$T/second.txt"
grep -q '^evault: error: .*busy' "$T/err" && ok || fail "busy writer: no 'busy' message"
grep -q '^hint: ' "$T/err" && ok || fail "busy writer: no hint"
[ ! -s "$T/out" ] && ok || fail "busy writer reported records"
kill -0 "$slow_pid" 2> /dev/null && ok ||
    fail "the slow add ended before the busy writer gave up (timing)"
expect_rc 0 "$EVAULT" ls --json
cmp -s "$T/out" "$T/ls.before" && ok || fail "records changed while the writer was busy"
# a third writer started near the end waits for the lock, then succeeds
now=$(date +%s)
[ $((now - t0)) -lt $((SLOW - 2)) ] && ok || fail "timing: too late for the waiting writer"
printf 'third writer\n' > "$T/third.txt"
expect_rc 0 "$EVAULT" add "$T/third.txt"
third=$(cut -f1 "$T/out")
wait "$slow_pid"
rc=$?
[ "$rc" -eq 0 ] && ok || fail "slow add exit $rc: $(cat "$T/slow.err")"
slow_id=$(cut -f1 "$T/slow.out")
[ "$(cut -f2 "$T/slow.out")" = "$(sha "$T/slow.all")" ] && ok || fail "slow add SHA-256"
[ -n "$third" ] && [ -n "$slow_id" ] && [ "$third" -gt "$slow_id" ] && ok ||
    fail "the waiting writer's record ($third) is not after the slow one ($slow_id)"
"$EVAULT" cat "$slow_id" > "$T/slow.back"
cmp -s "$T/slow.back" "$T/slow.all" && ok || fail "slow testimony reads back different"

# --- readers during long adds of many files ---------------------------------
# A fresh vault; three adds of ~8000 files each.  Every snapshot a reader
# sees is a prefix of the final list, each record complete (its SHA-256 is
# its file's); get of the newest listed record works; check, a reader too,
# run over and over meanwhile, finds no damage.  Many tags per record make
# check's work (and any window between its reads) larger.
V2=$T/v2
new_vault "$V2"
export EVAULT_DIR=$V2
TAGS=()
for i in $(seq 1 60); do TAGS+=(--tag "t$i"); done
mkdir -p "$T/pre"
for i in $(seq 1 2000); do printf 'pre %d\n' "$i" > "$T/pre/p$i.txt"; done
expect_rc 0 "$EVAULT" add "$T/pre" "${TAGS[@]}"
: > "$T/long.sums"
for r in 1 2 3; do
    mkdir -p "$T/long$r"
    for i in $(seq 1 8000); do printf 'note %d.%d\n' "$r" "$i" > "$T/long$r/n$i.txt"; done
    head -c 20971520 /dev/urandom > "$T/long$r/big.mp4"
    (cd "$T" && find "long$r" -type f -exec sha256sum {} + |
        awk '{print $2 "\t" $1}') >> "$T/long.sums"
done
nbefore=$(nrecords)
: > "$T/check.rcs"
# a checker, running check again and again until told to stop
(n=0
 while [ ! -e "$T/stop" ] && alive; do
     n=$((n + 1))
     "$EVAULT" check > "$T/check.$n.out" 2>&1
     echo "$?" >> "$T/check.rcs"
 done) &
checker_pid=$!
snap=0
for r in 1 2 3; do
    "$EVAULT" add "$T/long$r" --case long "${TAGS[@]}" > "$T/long$r.out" \
        2> "$T/long$r.err" &
    long_pid=$!
    while kill -0 "$long_pid" 2> /dev/null; do
        snap=$((snap + 1))
        "$EVAULT" ls --json > "$T/snap.$snap" 2> "$T/snap.err"
        rc=$?
        [ "$rc" -eq 0 ] && ok || fail "ls during a long add: exit $rc: $(cat "$T/snap.err")"
        last=$(tail -n1 "$T/snap.$snap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
        "$EVAULT" get "$last" -o "$T/snap.get" 2> "$T/snap.err"
        rc=$?
        [ "$rc" -eq 0 ] && ok || fail "get $last during a long add: exit $rc: $(cat "$T/snap.err")"
        rm -f "$T/snap.get"
    done
    wait "$long_pid"
    rc=$?
    [ "$rc" -eq 0 ] && ok || fail "long add $r exit $rc: $(cat "$T/long$r.err")"
    [ "$(wc -l < "$T/long$r.out")" -eq 8001 ] && ok ||
        fail "long add $r: $(wc -l < "$T/long$r.out") records"
done
touch "$T/stop"
wait "$checker_pid"
"$EVAULT" ls --json > "$T/ls.after"
python3 - "$T" "$snap" "$nbefore" << 'EOF' && ok || fail "a reader saw an inconsistent snapshot"
import json, sys
t, nsnap, nbefore = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
final = [json.loads(l) for l in open(t + "/ls.after")]
sums = dict(l.rstrip("\n").split("\t") for l in open(t + "/long.sums"))
assert len(final) == nbefore + len(sums), len(final)
for i in range(1, nsnap + 1):
    snap = [json.loads(l) for l in open("%s/snap.%d" % (t, i))]
    assert len(snap) >= nbefore, (i, len(snap))
    assert snap == final[:len(snap)], "snapshot %d is not a prefix" % i
    for o in snap[nbefore:]:
        assert sums[o["path"]] == o["sha256"], (i, o)
EOF
nchecks=$(wc -l < "$T/check.rcs")
nbad=$(grep -vc '^0$' "$T/check.rcs")
[ "$nchecks" -gt 0 ] && ok || fail "no check ran during the adds"
[ "$nbad" -eq 0 ] && ok || {
    bad=$(grep -vn '^0$' "$T/check.rcs" | head -n1 | cut -d: -f1)
    fail "check during an add failed $nbad of $nchecks times: $(head -n 2 "$T/check.$bad.out")"
}

# --- readers are not starved by a long add --------------------------------
# get logs its access, so it needs the write lock between the add's
# batches; with SQLite's own busy timeout (sleeps of up to 100 ms) it kept
# missing those moments and gave up as busy under load.
mkdir -p "$T/many"
for i in $(seq 1 12000); do printf 'note %d\n' "$i"; done | split -l 1 -a 5 - "$T/many/n"
"$EVAULT" add "$T/many" > /dev/null 2> "$T/many.err" &
many_pid=$!
ngets=0; nbusy=0
while kill -0 "$many_pid" 2> /dev/null && [ "$ngets" -lt 40 ]; do
    "$EVAULT" get 1 > /dev/null 2> "$T/get.err"
    rc=$?
    ngets=$((ngets + 1))
    [ "$rc" -eq 0 ] || { nbusy=$((nbusy + 1)); echo "get during add: exit $rc: $(head -n1 "$T/get.err")" >&2; }
done
wait "$many_pid" && ok || fail "the long add failed: $(cat "$T/many.err")"
[ "$ngets" -gt 0 ] && [ "$nbusy" -eq 0 ] && ok || fail "$nbusy of $ngets reads during a long add failed"
rm -rf "$T/many"
expect_rc 0 "$EVAULT" check --read-data
finish
