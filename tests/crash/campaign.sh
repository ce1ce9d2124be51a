#!/usr/bin/env bash
# campaign.sh - the crash campaign: every command that writes to a vault,
# killed with SIGKILL at a random moment, round after round.  After each
# kill the vault opens (with whichever passphrase is valid), check
# --read-data passes, no plaintext or stray file is left in the vault, and
# the records (id, SHA-256, state) are exactly a committed state: the one
# before, or the one the command commits, never a mix.
#
# usage: tests/crash/campaign.sh [-n ROUNDS] [-s SEED] [-k] [-v] [COMMAND...]
#   -n ROUNDS  killed rounds per command (default 20; the long run: 200)
#   -s SEED    seed for the kill times and contents (default: random)
#   -k         keep the work folder (default: kept only after a failure)
#   -v         one line per round on stderr
# COMMANDS: add-files add-dir add-stdin seal share import rotate lockdown
#   recover passphrase destroy ('add' = the three add-*; default: all).
# EVAULT names the evault binary.  Needs Debian's coreutils, age,
# age-keygen and sqlite3.
#
# Each command's normal duration D is measured first (median of three
# runs that are not killed, then of the last five, one more every 20
# rounds; seal and share alternate two kinds of run, each with its own
# D); each kill then lands at a uniformly random moment in
# [0, 1.2 D]: early (< 0.4 D), mid (< 0.8 D) or late.  Each round
# ends as "none" (nothing committed), "part" (add: some records),
# "all" (killed after its commit) or "done" (it finished first).
set -u
export LC_ALL=C
: "${EVAULT:?EVAULT must name the evault binary}"
EVAULT=$(realpath "$EVAULT")

ROUNDS=20 SEED=$((RANDOM * 32768 + RANDOM)) KEEP=0 VERBOSE=0
usage() { sed -n 's/^# \{0,1\}//; 9,18p' "$0"; }
while getopts n:s:kvh o; do
    case $o in
    h) usage; exit 0 ;;
    n) ROUNDS=$OPTARG ;;
    s) SEED=$OPTARG ;;
    k) KEEP=1 ;;
    v) VERBOSE=1 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
case $ROUNDS in '' | *[!0-9]*) usage >&2; exit 2 ;; esac
ALL=(add-files add-dir add-stdin seal share import rotate lockdown recover
     passphrase destroy)
CMDS=()
for a in "${@:-${ALL[@]}}"; do
    case $a in
    add) CMDS+=(add-files add-dir add-stdin) ;;
    *) [[ " ${ALL[*]} " == *" $a "* ]] || { echo "campaign: unknown command '$a'" >&2; usage >&2; exit 2; }
       CMDS+=("$a") ;;
    esac
done
for tool in timeout age age-keygen sqlite3 sha256sum; do
    command -v "$tool" > /dev/null || { echo "campaign: $tool is missing" >&2; exit 3; }
done
RANDOM=$SEED
W=$(mktemp -d "${TMPDIR:-/tmp}/evault-campaign.XXXXXX")
# the files that add reads: in memory when /dev/shm allows it (creating
# and removing thousands of them on a busy disk takes seconds a round)
S=$(mktemp -d /dev/shm/evault-campaign-src.XXXXXX 2> /dev/null) || S=$W/src
FAILS=0
finish() {
    local rc=$?
    rm -rf "$S"
    if [ "$KEEP" -eq 1 ] || [ "$FAILS" -gt 0 ] || [ "$rc" -ne 0 ]; then
        echo "campaign: work folder kept: $W" >&2
    else
        rm -rf "$W"
    fi
}
trap finish EXIT
COST=(--argon2-passes 1 --argon2-memory 8)
MARK=evcampaign$SEED  # in every source file and field: never on disk in the vault

# --- helpers ---------------------------------------------------------------

now_us() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000000 + 10#${t#*.} )); }
rnd() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }     # 0 .. $1-1
ev() { "$EVAULT" "$@"; }     # with EVAULT_DIR and EVAULT_PASSPHRASE_FILE set
vault() { export EVAULT_DIR=$1 EVAULT_PASSPHRASE_FILE=$2; V=$1; PASS=$2; }
ROUND=setup
fail() {
    FAILS=$((FAILS + 1)); RFAIL=$((RFAIL + 1))
    echo "FAIL: $CMD round $ROUND: $*" >&2
    if [ "$RFAIL" -eq 1 ] && [ -d "${V:-}" ]; then
        cp -a "$V" "$W/failed-$CMD-$ROUND" 2> /dev/null
        cp "$C/out" "$C/err" "$W/failed-$CMD-$ROUND/" 2> /dev/null
        echo "  (the vault and the command's output are kept in $W/failed-$CMD-$ROUND)" >&2
    fi
}
# prep CMD...: a step of a command's set-up; on failure the campaign stops
# (exit 3) and says what went wrong
prep() {
    "$@" > "$C/prep.log" 2>&1 && return
    echo "campaign: $CMD: cannot prepare the vault: $*: $(head -3 "$C/prep.log")" >&2
    exit 3
}
new_vault() {   # new_vault DIR PASSFILE: a vault with cheap Argon2
    rm -rf "$1"
    "$EVAULT" init "$1" "${COST[@]}" --passphrase-file "$2" > "$1.init" 2>&1 ||
        { echo "campaign: cannot init $1: $(cat "$1.init")" >&2; exit 3; }
    vault "$1" "$2"
    RKEY=$(grep -oE '([0-9A-Z]{4}-){8}[0-9A-Z]{4}' "$1.init")
}
# small_files DIR N: N files of 1-8 KiB, random but for a marker line
small_files() {
    mkdir -p "$1"
    for i in $(seq 1 "$2"); do
        { echo "$MARK small $i"; head -c $((1024 + $(rnd 7168))) /dev/urandom; } > "$1/s$i.bin"
    done
}
text_file() {   # text_file PATH BYTES: compressible text with the marker
    { echo "$MARK testimony"; head -c $(($2 * 3 / 4)) /dev/urandom | base64 -w 76; } > "$1"
}
# snap FILE: the records as sorted "id sha256 state" lines
snap() {
    ev ls --json > "$C/ls.json" 2> "$C/ls.err" || { fail "ls --json: $(head -2 "$C/ls.err")"; return 1; }
    sed -E 's/^\{"id":([0-9]+),.*"sha256":"([0-9a-f]{64})".*"state":"([a-z]+)".*$/\1 \2 \3/' \
        "$C/ls.json" | sort > "$1"
    if grep -qvE '^[0-9]+ [0-9a-f]{64} [a-z]+$' "$1"; then
        fail "unparsable ls --json line: $(grep -vE '^[0-9]+ [0-9a-f]{64} [a-z]+$' "$1" | head -1)"
        return 1
    fi
}
# reads_back ID SHA: the record's bytes, through cat, have this SHA-256
reads_back() {
    local got
    got=$(ev cat "$1" 2> "$C/cat.err" | sha256sum | cut -d' ' -f1)
    [ "${PIPESTATUS[0]}" -eq 0 ] && [ "$got" = "$2" ] ||
        fail "record $1 does not read back byte-exact (sha $got, wanted $2): $(head -1 "$C/cat.err")"
}
# opens PASSFILE: does this passphrase open the vault? (exit of ls)
opens() { EVAULT_PASSPHRASE_FILE=$1 "$EVAULT" ls > /dev/null 2> "$C/open.err"; }
member_opens() {
    EVAULT_PASSPHRASE_FILE= "$EVAULT" ls --identity "$C/m.key" > /dev/null 2>&1
}
log_count() {   # log_count ACTION: custody entries of this action
    ev log --json 2> /dev/null | grep -c "\"action\":\"$1\""
}
# on_disk HEX...: is one of these byte strings in a file of the vault folder?
on_disk() {
    python3 - "$V" "$@" <<'PY'
import os, sys
needles = [bytes.fromhex(h) for h in sys.argv[2:] if h]
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        with open(os.path.join(root, f), 'rb') as fh:
            data = fh.read()
        if any(n in data for n in needles):
            sys.exit(0)
sys.exit(1)
PY
}
# bare_copy: $C/atk, the vault.db of $C/raw without its log (what someone
# who takes the laptop after the kill can open: dropping vault.db-wal is
# easy), with the blob files as they were
bare_copy() {
    rm -rf "$C/atk"; mkdir -p "$C/atk/tmp"
    cp "$C/raw/vault.db" "$C/atk/"
    [ ! -e "$C/raw/vault.pack" ] || cp "$C/raw/vault.pack" "$C/atk/"
    cp -a "$C/raw/blobs" "$C/atk/blobs"
}
# drop_ids IDS FILE: FILE's lines whose first field is not in IDS
drop_ids() { awk 'NR == FNR { w[$1] = 1; next } !($1 in w)' "$1" "$2"; }
nrec() { if [ -f "$C/prev" ]; then wc -l < "$C/prev"; else echo 0; fi; }

# The checks every round ends with, on the vault as the kill left it.
common_checks() {
    local f rel
    # no stray files: the catalog, its log, the lock, vault.pack,
    # blobs/xx/id, tmp/*.tmp
    while IFS= read -r -d '' f; do
        rel=${f#"$V"/}
        case $rel in
        vault.db | vault.db-wal | vault.db-shm | vault.db-journal | lock) ;;
        vault.pack) ;;
        blobs/[0-9a-f][0-9a-f]/*) ;;
        tmp/*.tmp) TMPLEFT=$((TMPLEFT + 1)) ;;
        *) fail "unexpected file in the vault: $rel" ;;
        esac
    done < <(find "$V" -type f -print0)
    if grep -rqaF "$MARK" "$V"; then
        fail "plaintext in the vault's files: $(grep -rlaF "$MARK" "$V" | head -3 | tr '\n' ' ')"
    fi
    ev check --read-data > "$C/check.out" 2>&1 ||
        fail "check --read-data exit $?: $(grep -v '^note' "$C/check.out" | head -3)"
    # notes are allowed for blob files an interrupted add left, and the
    # warning (and its hint) that a rotation's new recovery key may never
    # have been shown; nothing else
    grep -v '^ok: ' "$C/check.out" | grep -v 'blob file that no record uses' |
        grep -v '^evault: warning: the last new recovery key .* may never have been shown' |
        grep -v "^hint: run 'evault key recovery' now" > "$C/check.other"
    if [ -s "$C/check.other" ]; then
        fail "check complains: $(head -3 "$C/check.other")"
    fi
    UNUSED=$(grep -c 'blob file that no record uses' "$C/check.out")
}
# tmp/ after a kill: only an add or an import leaves files there, and the
# next add removes them all.
tmp_swept() {
    local n
    n=$(find "$V/tmp" -type f | wc -l)
    [ "$n" -eq 0 ] && return
    case $CMD in
    add-* | import) ;;
    *) fail "$n file(s) in tmp/ after a killed $CMD" ;;
    esac
    printf 'sweep %s\n' "$ROUND" | ev add - --name "sweep-$ROUND" > /dev/null 2> "$C/sweep.err" ||
        fail "add after the kill: $(cat "$C/sweep.err")"
    n=$(find "$V/tmp" -type f | wc -l)
    [ "$n" -eq 0 ] && SWEPT=$((SWEPT + 1)) || fail "$n file(s) left in tmp/ after the next add"
}
# same_records A B: identical snapshots, or a failure naming the change
same_records() {
    cmp -s "$1" "$2" ||
        fail "$3: records changed: $(diff "$1" "$2" | grep '^[<>]' | head -4 | tr '\n' ' ')"
}

# go US: runs RUN (stdin IN, stdout $C/out, stderr $C/err), killed with
# SIGKILL after US microseconds if it has not finished (0: never killed).
# Sets RC (0 finished, 137 killed) and DUR (microseconds).
go() {
    local t0 lim=600
    [ "$1" -gt 0 ] && lim=$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))
    t0=$(now_us)
    # --foreground: timeout kills only the command and reaps it before it
    # exits, so nothing below looks at a vault a dying process still writes
    timeout --foreground --preserve-status -s KILL "$lim" "${RUN[@]}" < "$IN" > "$C/out" 2> "$C/err" &
    wait $! 2> /dev/null
    RC=$?
    DUR=$(($(now_us) - t0))
}

# --- add: files big and small, a directory, a testimony on stdin ----------
# SRC lists "path<TAB>sha256" of what the add may record.

add_sources() {
    local d=$S/$CMD
    rm -rf "$d"; mkdir -p "$d"
    case $CMD in
    add-files)
        { echo "$MARK big"; head -c $((8 << 20)) /dev/urandom; } > "$d/video.mp4"
        text_file "$d/report.txt" $((3 << 20))
        { echo "$MARK mid"; head -c 300000 /dev/urandom; } > "$d/photo.jpg"
        small_files "$d" 5
        ADDARGS=("$d/video.mp4" "$d/report.txt" "$d/photo.jpg" "$d"/s*.bin)
        ;;
    add-dir)
        # ~1,850 small files: more than one batch (1,000 records), so a
        # kill can land between two commits
        mkdir -p "$d/dir/small"
        head -c 1500000 /dev/urandom | base64 -w 60 | sed "s/^/$MARK /" |
            split -l 18 -a 3 - "$d/dir/small/s"
        for i in 1 2 3; do { echo "$MARK mid $i"; head -c 200000 /dev/urandom; } > "$d/dir/m$i.bin"; done
        { echo "$MARK big"; head -c $((5 << 20)) /dev/urandom; } > "$d/dir/big.mp4"
        ADDARGS=("$d/dir")
        ;;
    add-stdin)
        text_file "$d/testimony" $((2 << 20))
        ADDARGS=(-)
        ;;
    esac
    if [ "$CMD" = add-stdin ]; then
        printf '%s\t%s\n' "testimony" "$(sha256sum < "$d/testimony" | cut -d' ' -f1)" > "$C/srcmap"
        IN=$d/testimony
    else
        # records name a file by its path below the folder given to add
        (cd "$d" && find . -type f -print0 | xargs -0 sha256sum) |
            awk '{ print substr($2, 3) "\t" $1 }' > "$C/srcmap"
        IN=/dev/null
    fi
    NSRC=$(wc -l < "$C/srcmap")
}
add_setup() {
    printf 'pass %s\n' "$CMD" > "$C/pass"
    new_vault "$C/v" "$C/pass"
    small_files "$C/base" 10
    prep ev add "$C/base" --case "base-$MARK"
    prep ev seal --case "base-$MARK"
    add_sources
}
add_before() {
    # a vault grown large is replaced: check --read-data reads it all
    if [ "$(du -sm "$V" | cut -f1)" -gt 150 ] || [ "$(nrec)" -gt 3000 ]; then add_setup; fi
    # half the rounds new content; else the same again, as after a crash
    # (the measured runs always add new content: the longer case)
    [ $(rnd 2) -eq 0 ] || [ "$MEASURE" -eq 1 ] && add_sources
    snap "$C/prev"
    RUN=("$EVAULT" add "${ADDARGS[@]}" --case "case-$MARK" --note "note-$MARK")
}
add_after() {
    local n_new reported sweep
    common_checks
    tmp_swept
    snap "$C/now" || return
    # what was there is still there, unchanged
    comm -23 "$C/prev" "$C/now" > "$C/gone"
    [ -s "$C/gone" ] && fail "records vanished or changed: $(head -3 "$C/gone" | tr '\n' ' ')"
    sweep=$(printf 'sweep %s\n' "$ROUND" | sha256sum | cut -d' ' -f1)
    comm -13 "$C/prev" "$C/now" | grep -v " $sweep " > "$C/new"
    n_new=$(wc -l < "$C/new")
    [ -z "$(cut -d' ' -f1 "$C/now" | uniq -d)" ] || fail "duplicate record ids"
    # every new record is a source's content, under its path, active
    sed -E 's/^\{"id":([0-9]+),.*"path":(null|"([^"]*)").*"sha256":"([0-9a-f]{64})".*$/\1\t\3\t\4/' \
        "$C/ls.json" > "$C/paths"
    awk -F'\t' -v stdin="$([ "$CMD" = add-stdin ] && echo 1)" '
        FILENAME == ARGV[1] { src[$1 "\t" $2] = 1; sha[$2] = 1; next }
        FILENAME == ARGV[2] { split($0, f, " "); isnew[f[1]] = f[3]; next }
        ($1 in isnew) {
            if (isnew[$1] != "active") print "new record " $1 " is " isnew[$1]
            else if (stdin ? !($3 in sha) : !(($2 "\t" $3) in src))
                print "new record " $1 " (" $2 ") is not a source file'"'"'s content"
        }' "$C/srcmap" "$C/new" "$C/paths" > "$C/bad"
    [ -s "$C/bad" ] && fail "$(head -3 "$C/bad" | tr '\n' ' ')"
    # every complete line the add printed is a new record, with that content
    [ -n "$(tail -c 1 "$C/out")" ] && sed -i '$d' "$C/out"
    reported=$(wc -l < "$C/out")
    awk -F'\t' '{ print $1 " " $2 }' "$C/out" | sort > "$C/reported"
    comm -23 "$C/reported" <(cut -d' ' -f1-2 "$C/new" | sort) > "$C/lost"
    [ -s "$C/lost" ] && fail "reported as added but not there: $(head -3 "$C/lost" | tr '\n' ' ')"
    # and reads back byte-exact: every one that is not small, and a sample
    # of the small ones (check --read-data above decrypted and hashed all)
    { grep -v '/small/' "$C/out"; grep '/small/' "$C/out" | shuf -n 4; } |
        while IFS=$'\t' read -r id sha _; do reads_back "$id" "$sha"; done
    if [ "$n_new" -eq 0 ]; then OUT=none
    elif [ "$n_new" -lt "$NSRC" ]; then OUT=part
    elif [ "$n_new" -eq "$NSRC" ]; then OUT=all
    else fail "$n_new new records for $NSRC sources"; OUT=all; fi
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "add finished but $n_new of $NSRC records are there"
    NOTE="$n_new of $NSRC committed, $reported reported"
}

# --- seal: all the named records sealed, or none --------------------------

seal_setup() {
    printf 'pass seal\n' > "$C/pass"
    new_vault "$C/v" "$C/pass"
    small_files "$C/base" 10
    prep ev add "$C/base" --case "base-$MARK"
    prep ev seal --case "base-$MARK"
    rm -f "$C/vault.pub"
    prep ev key export-public -o "$C/vault.pub"
}
seal_before() {
    [ "$(nrec)" -gt 3000 ] && seal_setup
    rm -rf "$C/in"; small_files "$C/in" 80
    { echo "$MARK mid"; head -c 500000 /dev/urandom; } > "$C/in/clip.bin"
    ev add "$C/in" --case "seal-$ROUND-$MARK" > "$C/added" 2> "$C/err" || fail "add before seal: $(cat "$C/err")"
    snap "$C/prev"
    cut -f1 "$C/added" | sort -n > "$C/ids"
    # by case in odd rounds, by ids in even ones
    if [ $((ROUNDN % 2)) -eq 1 ]; then
        RUN=("$EVAULT" seal --case "seal-$ROUND-$MARK" --note "round $ROUND")
    else
        mapfile -t ids < "$C/ids"
        RUN=("$EVAULT" seal "${ids[@]}" --note "round $ROUND")
    fi
    IN=/dev/null
}
seal_after() {
    local nsealed id
    common_checks
    tmp_swept
    snap "$C/now" || return
    # outside the named records nothing changed
    drop_ids "$C/ids" "$C/prev" > "$C/prev.o"; drop_ids "$C/ids" "$C/now" > "$C/now.o"
    same_records "$C/prev.o" "$C/now.o" "records not named"
    awk 'NR == FNR { want[$1] = 1; next } ($1 in want)' "$C/ids" "$C/now" > "$C/named"
    [ "$(wc -l < "$C/named")" -eq "$(wc -l < "$C/ids")" ] || fail "named records missing"
    nsealed=$(grep -c ' sealed$' "$C/named")
    if [ "$nsealed" -eq 0 ]; then OUT=none
    elif [ "$nsealed" -eq "$(wc -l < "$C/ids")" ]; then OUT=all
    else fail "$nsealed of $(wc -l < "$C/ids") named records sealed"; OUT=part; fi
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "seal finished but not every record is sealed"
    if [ "$OUT" = all ]; then
        # a sealed record has a proof the court's check accepts
        id=$(grep clip.bin "$C/added" | cut -f1)
        rm -f "$C/p.tlog-proof"
        ev proof "$id" -o "$C/p.tlog-proof" > /dev/null 2> "$C/proof.err" &&
            env -u EVAULT_DIR "$EVAULT" verify "$C/in/clip.bin" --proof "$C/p.tlog-proof" --key "$C/vault.pub" > /dev/null 2>&1 ||
            fail "sealed record $id: no proof that verifies: $(cat "$C/proof.err")"
    fi
}

# --- share: a whole bundle or none, and logged if it exists --------------

share_setup() {
    printf 'pass share\n' > "$C/pass"
    new_vault "$C/v" "$C/pass"
    rm -f "$C/partner.key"; age-keygen -o "$C/partner.key" 2> /dev/null
    small_files "$C/base" 40
    { echo "$MARK big"; head -c $((6 << 20)) /dev/urandom; } > "$C/base/video.mp4"
    text_file "$C/base/statement.txt" $((1 << 20))
    prep ev add "$C/base" --case "K-$MARK"
    prep ev seal --case "K-$MARK"
    prep ev contact add Partner --age "$(age-keygen -y "$C/partner.key")" \
        --minisign "$(ev id --json | sed -E 's/.*"minisign":"([^"]*)".*/\1/')"
    mkdir -p "$C/bundles"
}
share_before() {
    # one name every round: a partial bundle that a killed round left is
    # swept by the next share to that name (share_after checks)
    rm -rf "$C/bundles/b.age" "$C/x"
    OUTB=$C/bundles/b.age
    : > "$C/ids"
    if [ $((ROUNDN % 2)) -eq 0 ]; then
        # share --seal: unsealed records sealed first, all or none
        rm -rf "$C/in"; small_files "$C/in" 20
        ev add "$C/in" --case "new-$ROUND-$MARK" > "$C/added" 2> "$C/err" || fail "add before share: $(cat "$C/err")"
        cut -f1 "$C/added" | sort -n > "$C/ids"
        mapfile -t ids < <(ev ls --case "K-$MARK" --json | sed -E 's/^\{"id":([0-9]+),.*/\1/'; cat "$C/ids")
        RUN=("$EVAULT" share "${ids[@]}" --to Partner --seal -o "$OUTB")
    else
        RUN=("$EVAULT" share --case "K-$MARK" --to Partner --redact source -o "$OUTB")
    fi
    NSHARED=$(log_count share)
    snap "$C/prev"
    IN=/dev/null
}
share_after() {
    local nsealed=0 n
    common_checks
    tmp_swept
    snap "$C/now" || return
    if [ -s "$C/ids" ]; then
        drop_ids "$C/ids" "$C/prev" > "$C/prev.o"; drop_ids "$C/ids" "$C/now" > "$C/now.o"
        same_records "$C/prev.o" "$C/now.o" "records not named"
        nsealed=$(awk 'NR == FNR { w[$1] = 1; next } ($1 in w) && $3 == "sealed"' "$C/ids" "$C/now" | wc -l)
        [ "$nsealed" -eq 0 ] || [ "$nsealed" -eq "$(wc -l < "$C/ids")" ] ||
            fail "share --seal sealed $nsealed of $(wc -l < "$C/ids") records"
    else
        same_records "$C/prev" "$C/now" "share"
    fi
    n=$(log_count share)
    if [ -e "$OUTB" ]; then
        OUT=all
        # a bundle under its name is whole: the partner opens and checks it
        mkdir -p "$C/x"
        if (cd "$C/x" && age -d -i "$C/partner.key" "$OUTB" | tar x && sha256sum -c --quiet SHA256SUMS) > "$C/x.err" 2>&1; then
            [ "$(find "$C/x/files" -type f | wc -l)" -eq "$(grep -c . "$C/x/SHA256SUMS")" ] || fail "bundle: files and SHA256SUMS differ"
        else
            fail "a bundle under its final name does not open and check: $(head -2 "$C/x.err")"
        fi
        [ "$n" -eq $((NSHARED + 1)) ] || fail "the bundle exists but the custody log has $((n - NSHARED)) new share entries"
    else
        OUT=none
        # the entry is committed just before the bundle takes its name
        [ "$n" -eq "$NSHARED" ] || [ "$n" -eq $((NSHARED + 1)) ] ||
            fail "no bundle, but the custody log has $((n - NSHARED)) new share entries"
        [ "$n" -eq $((NSHARED + 1)) ] && NOBUNDLE=$((NOBUNDLE + 1))
        [ -s "$C/ids" ] && [ "$nsealed" -gt 0 ] && OUT=part
    fi
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "share finished but wrote no bundle"
    # at most the one this round left: an earlier round's is swept (but
    # for one still empty and under a minute old, which share leaves alone:
    # its writer may not hold its lock yet)
    n=$(find "$C/bundles" -name '.*' -type f -size +0 | wc -l)
    [ "$n" -le 1 ] || fail "$n partial bundles beside -o: earlier ones were not swept"
    PARTIAL=$((PARTIAL + n))
}

# --- import: the whole bundle or nothing ----------------------------------

import_setup() {
    printf 'pass sender\n' > "$C/passA"
    printf 'pass import\n' > "$C/pass"
    new_vault "$C/A" "$C/passA"
    small_files "$C/base" 30
    { echo "$MARK big"; head -c $((5 << 20)) /dev/urandom; } > "$C/base/video.mp4"
    text_file "$C/base/statement.txt" $((1 << 20))
    prep ev add "$C/base" --case "K-$MARK"
    prep ev seal --case "K-$MARK"
    rm -f "$C/a.contact"
    prep ev id --export -o "$C/a.contact"
    ev ls --json | sed -E 's/.*"sha256":"([0-9a-f]{64})".*/\1/' | sort > "$C/bundle.shas"
    VSHA=$(sha256sum < "$C/base/video.mp4" | cut -d' ' -f1)
    import_receiver
}
import_receiver() {
    new_vault "$C/v" "$C/pass"
    rm -f "$C/b.contact"
    prep ev id --export -o "$C/b.contact"
    prep ev contact add A --file "$C/a.contact"
    # the sender forgets the receiver it had before (a new vault, a new key)
    EVAULT_DIR=$C/A EVAULT_PASSPHRASE_FILE=$C/passA ev contact rm B > /dev/null 2>&1
    prep env EVAULT_DIR="$C/A" EVAULT_PASSPHRASE_FILE="$C/passA" "$EVAULT" contact add B --file "$C/b.contact"
}
import_before() {
    [ "$(nrec)" -gt 1500 ] && import_receiver
    rm -f "$C"/b-*.age
    BUNDLE=$C/b-$ROUND.age
    EVAULT_DIR=$C/A EVAULT_PASSPHRASE_FILE=$C/passA ev share --case "K-$MARK" --to B -o "$BUNDLE" > /dev/null 2> "$C/err" ||
        fail "share before import: $(cat "$C/err")"
    NIMPORT=$(log_count import)
    snap "$C/prev"
    RUN=("$EVAULT" import "$BUNDLE")
    IN=/dev/null
}
import_after() {
    local n
    common_checks
    tmp_swept
    snap "$C/now" || return
    comm -23 "$C/prev" "$C/now" > "$C/gone"
    [ -s "$C/gone" ] && fail "records vanished or changed: $(head -3 "$C/gone" | tr '\n' ' ')"
    comm -13 "$C/prev" "$C/now" | grep -v " $(printf 'sweep %s\n' "$ROUND" | sha256sum | cut -d' ' -f1) " > "$C/new"
    n=$(log_count import)
    if [ ! -s "$C/new" ]; then
        OUT=none
        [ "$n" -eq "$NIMPORT" ] || fail "nothing imported, but the custody log has an import entry"
        # nothing was kept of it: the same bundle imports now, whole
        ev import "$BUNDLE" > /dev/null 2> "$C/err2" || fail "the bundle does not import after the kill: $(cat "$C/err2")"
        snap "$C/now2" && comm -13 "$C/now" "$C/now2" > "$C/new"
    else
        OUT=all
        [ "$n" -eq $((NIMPORT + 1)) ] || fail "records imported, but $((n - NIMPORT)) new import entries"
        ev import "$BUNDLE" > /dev/null 2> "$C/err2" && fail "the same bundle imported twice"
        grep -q "imported already" "$C/err2" || fail "second import: $(cat "$C/err2")"
    fi
    # all of the bundle: its records, exactly, active, readable
    cut -d' ' -f2 "$C/new" | sort | cmp -s - "$C/bundle.shas" ||
        fail "imported records are not the bundle's: $(wc -l < "$C/new") records, $(cut -d' ' -f2 "$C/new" | sort | comm -3 - "$C/bundle.shas" | head -2 | tr '\n' ' ')"
    grep -v ' active$' "$C/new" | head -1 | grep -q . && fail "an imported record is not active"
    { grep " $VSHA " "$C/new"; shuf -n 2 "$C/new"; } | while read -r id sha _; do reads_back "$id" "$sha"; done
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "import finished but added nothing"
}

# --- key rotate, lockdown, recover, key passphrase: the old way in or the
# new, never neither, never both; records and member unchanged -------------

keys_setup() {
    printf 'pass %s 0\n' "$CMD" > "$C/p0"
    new_vault "$C/v" "$C/p0"
    small_files "$C/base" 200
    { echo "$MARK big"; head -c $((3 << 20)) /dev/urandom; } > "$C/base/video.mp4"
    rm -f "$C/m.key"; age-keygen -o "$C/m.key" 2> /dev/null
    prep ev add "$C/base" --case "K-$MARK"
    prep ev seal --case "K-$MARK"
    prep ev key member add m --age "$(age-keygen -y "$C/m.key")"
    prep ev key shares --threshold 2 --shares 3
}
keys_before() {
    OLD=$C/pold
    [ "$PASS" = "$OLD" ] || { cp "$PASS" "$OLD"; vault "$V" "$OLD"; }
    printf 'pass %s %s\n' "$CMD" "$ROUND" > "$C/pnew"
    snap "$C/prev"
    IN=/dev/null
    case $CMD in
    rotate) RUN=("$EVAULT" key rotate --new-passphrase-file "$C/pnew") ;;
    passphrase) RUN=("$EVAULT" key passphrase --new-passphrase-file "$C/pnew" "${COST[@]}") ;;
    lockdown) RUN=("$EVAULT" lockdown) ;;
    recover)
        ev lockdown > /dev/null 2> "$C/err" || fail "lockdown before recover: $(cat "$C/err")"
        printf '%s\n' "$RKEY" > "$C/rkey"
        IN=$C/rkey
        RUN=(env EVAULT_PASSPHRASE_FILE="$C/pnew" "$EVAULT" recover "${COST[@]}")
        ;;
    esac
    sqlite3 "$V/vault.db" "SELECT hex(wrapped) FROM keyslots" > "$C/slots.before" 2> /dev/null
}
# recover_now: the vault is locked down; the recovery key opens it, a new
# passphrase is set and the member added again.
recover_now() {
    printf '%s\n' "$RKEY" | EVAULT_PASSPHRASE_FILE=$C/pnew ev recover "${COST[@]}" > /dev/null 2> "$C/err2" ||
        { fail "recover after the kill: $(cat "$C/err2")"; return 1; }
    vault "$V" "$C/pnew"
    ev key member add m --age "$(age-keygen -y "$C/m.key")" > /dev/null 2> "$C/err2" ||
        fail "member add after recover: $(cat "$C/err2")"
}
keys_after() {
    local old=0 new=0 mem=0 locked=0
    # the folder as the kill left it: what someone who takes the laptop now
    # has (checked below, once it is known whether the command took effect)
    rm -rf "$C/raw"; cp -a "$V" "$C/raw"
    opens "$OLD" && old=1
    [ $old -eq 0 ] && grep -q "locked down" "$C/open.err" && locked=1
    opens "$C/pnew" && new=1
    member_opens && mem=1
    case $CMD in
    rotate | passphrase)
        [ $((old + new)) -eq 1 ] || fail "old passphrase opens: $old, new: $new (wanted exactly one)"
        [ $mem -eq 1 ] || fail "the member's identity does not open the vault"
        [ $new -eq 1 ] && { OUT=all; vault "$V" "$C/pnew"; } || OUT=none
        ;;
    lockdown)
        [ $new -eq 0 ] || fail "a passphrase never set opens the vault"
        if [ $old -eq 1 ]; then
            OUT=none
            [ $mem -eq 1 ] || fail "the passphrase opens but the member does not: half a lockdown"
        else
            OUT=all
            [ $locked -eq 1 ] || fail "the passphrase does not open, and the vault does not say it is locked down: $(cat "$C/open.err")"
            [ $mem -eq 0 ] || fail "locked down, but the member still opens"
            recover_now || return
        fi
        ;;
    recover)
        [ $old -eq 0 ] || fail "the passphrase from before the lockdown opens"
        if [ $new -eq 1 ]; then
            OUT=all; vault "$V" "$C/pnew"
            ev key member add m --age "$(age-keygen -y "$C/m.key")" > /dev/null 2> "$C/err2" ||
                fail "member add after recover: $(cat "$C/err2")"
        else
            OUT=none
            [ $locked -eq 1 ] || fail "neither passphrase opens, and the vault does not say it is locked down"
            recover_now || return
        fi
        ;;
    esac
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "$CMD finished but did not take effect"
    unshown=0
    [ "$CMD" = rotate ] && [ "$OUT" = all ] && ! grep -q '^    ' "$C/out" && unshown=1
    LOSTKEY=$((LOSTKEY + unshown))
    common_checks
    # a rotation that took effect without printing its key is warned about
    if [ $unshown -eq 1 ] && ! grep -q 'may never have been shown' "$C/check.out"; then
        fail "$CMD committed without showing the new recovery key, and the vault does not warn"
    fi
    snap "$C/now" || return
    same_records "$C/prev" "$C/now" "$CMD"
    # taking effect, the command took the old passphrase's power too: the
    # catalog file without its write-ahead log does not open with it
    if [ "$OUT" = all ] && [ "$CMD" != recover ]; then
        bare_copy
        if EVAULT_DIR=$C/atk EVAULT_PASSPHRASE_FILE=$OLD "$EVAULT" ls > /dev/null 2>&1; then
            RAWOPEN=$((RAWOPEN + 1))
            fail "$CMD took effect, yet vault.db as the kill left it, without its log, opens with the old passphrase"
            cp -a "$C/raw" "$W/failed-$CMD-$ROUND/raw" 2> /dev/null
        fi
    fi
    # a removed way in leaves no copy of its wrapped key in the vault
    if [ "$OUT" = all ] || [ "$CMD" = recover ]; then
        sqlite3 "$V/vault.db" "SELECT hex(wrapped) FROM keyslots" > "$C/slots.after" 2> /dev/null
        while read -r w; do
            grep -qxF "$w" "$C/slots.after" && continue
            on_disk "$w" && fail "a removed key slot's wrapped key is still in the vault's files"
        done < "$C/slots.before"
    fi
}
rotate_setup() { keys_setup; }
lockdown_setup() { keys_setup; }
recover_setup() { keys_setup; }
passphrase_setup() { keys_setup; }
rotate_before() { keys_before; }
lockdown_before() { keys_before; }
recover_before() { keys_before; }
passphrase_before() { keys_before; }
rotate_after() { keys_after; }
lockdown_after() { keys_after; }
recover_after() { keys_after; }
passphrase_after() { keys_after; }

# --- destroy: the record intact, or a tombstone ---------------------------

destroy_setup() {
    printf 'pass destroy\n' > "$C/pass"
    new_vault "$C/v" "$C/pass"
    small_files "$C/base" 20
    prep ev add "$C/base" --case "base-$MARK"
}
destroy_before() {
    rm -rf "$C/in"; mkdir -p "$C/in"
    { echo "$MARK destroy $ROUND"; head -c $((1 << 20)) /dev/urandom; } > "$C/in/doomed.bin"
    [ $((ROUNDN % 3)) -eq 0 ] && cp "$C/in/doomed.bin" "$C/in/twin.bin"  # shared content
    ev add "$C/in" > "$C/added" 2> "$C/err" || fail "add before destroy: $(cat "$C/err")"
    DID=$(grep doomed.bin "$C/added" | cut -f1)
    DSHA=$(grep doomed.bin "$C/added" | cut -f2)
    snap "$C/prev"
    RUN=("$EVAULT" destroy "$DID" --reason "round $ROUND" --yes)
    IN=/dev/null
}
destroy_after() {
    local st
    rm -rf "$C/raw"; cp -a "$V" "$C/raw"   # as the kill left it
    common_checks
    tmp_swept
    snap "$C/now" || return
    grep -v "^$DID " "$C/prev" > "$C/prev.o"; grep -v "^$DID " "$C/now" > "$C/now.o"
    same_records "$C/prev.o" "$C/now.o" "records other than $DID"
    st=$(awk -v id="$DID" '$1 == id { print $3 }' "$C/now")
    if [ "$st" = active ]; then
        OUT=none
        reads_back "$DID" "$DSHA"
    elif [ -z "$st" ] && ! ev show "$DID" > /dev/null 2> "$C/show.err" && grep -q "was destroyed" "$C/show.err"; then
        OUT=all
        ev cat "$DID" > "$C/cat.out" 2> /dev/null && fail "destroyed record $DID still reads"
        # vault.db as the kill left it, alone, with the blob files then
        bare_copy
        EVAULT_DIR=$C/atk ev cat "$DID" > "$C/cat.out" 2> /dev/null &&
            fail "destroyed, yet vault.db as the kill left it, without its log, still reads record $DID"
    else
        fail "record $DID is neither intact nor a tombstone: '$st', $(head -1 "$C/show.err")"
        OUT=part
    fi
    [ "$RC" -eq 0 ] && [ "$OUT" != all ] && fail "destroy finished but the record is $st"
}

# --- the campaign ----------------------------------------------------------

# round US: one round, the command killed after US microseconds (0: never)
round() {
    RFAIL=0 TMPLEFT=0 NOTE=
    OUT=none
    "${CMD%%-*}_before"
    go "$1"
    case $RC in
    0 | 137) ;;
    *) fail "$CMD exited $RC: $(head -3 "$C/err")" ;;
    esac
    # a kill after the end is no kill: the round counts as finished
    "${CMD%%-*}_after"
}

# variant: which kind of run round ROUNDN is (seal and share alternate
# between two that take different times); each has its own D
variant() {
    case $CMD in
    seal | share) echo $((ROUNDN % 2)) ;;
    *) echo 0 ;;
    esac
}
# measure NAME N: a round that is not killed (round measureNAME, ROUNDN
# N); its duration joins those of its variant, whose D becomes the median
# of the last five
measure() {
    local v d
    ROUND=measure$1 ROUNDN=$2 MEASURE=1
    round 0
    v=$(variant)
    read -ra d <<< "${DURS[$v]:-} $DUR"
    [ "${#d[@]}" -gt 5 ] && d=("${d[@]:1}")
    DURS[$v]=${d[*]}
    DV[$v]=$(printf '%s\n' "${d[@]}" | sort -n | sed -n "$(( (${#d[@]} + 1) / 2 ))p")
    [ "${DV[$v]}" -lt "$DMIN" ] && DMIN=${DV[$v]}
    [ "${DV[$v]}" -gt "$DMAX" ] && DMAX=${DV[$v]}
}

total_t0=$(now_us)
echo "campaign: seed $SEED, $ROUNDS rounds per command, evault $EVAULT"
for CMD in "${CMDS[@]}"; do
    C=$W/$CMD; mkdir -p "$C"; : > "$C/out"; : > "$C/err"
    ROUND=setup ROUNDN=0 RFAIL=0
    if [ "$CMD" = destroy ] && ! "$EVAULT" destroy --help > /dev/null 2>&1; then
        echo "campaign: destroy: skipped (this evault has no destroy command)"
        continue
    fi
    t0=$(now_us)
    fails0=$FAILS LOSTKEY=0 PARTIAL=0 SWEPT=0 UNUSED=0 RAWOPEN=0 NOBUNDLE=0
    "${CMD%%-*}_setup"
    # the normal duration D: the median of the last five runs that were not
    # killed, three first and one every 20 rounds, as the vault grows and
    # the machine's load changes
    declare -A DURS=() DV=()
    DMIN=999999999 DMAX=0
    for m in 1 2 3 4 5 6; do
        [ "$m" -gt 3 ] && case $CMD in seal | share) ;; *) break ;; esac
        measure "$m" "$m"
    done
    declare -A tab=()
    for b in early mid late; do for o in none part all done; do tab[$b.$o]=0; done; done
    for r in $(seq 1 "$ROUNDS"); do
        [ $((r % 20)) -eq 0 ] && measure "-$r" $((r / 20))
        ROUND=$r ROUNDN=$r MEASURE=0
        D=${DV[$(variant)]}
        us=$((1 + $(rnd $((D * 12 / 10)))))
        round "$us"
        if [ "$us" -lt $((D * 4 / 10)) ]; then b=early
        elif [ "$us" -lt $((D * 8 / 10)) ]; then b=mid
        else b=late; fi
        o=$OUT; [ "$RC" -eq 0 ] && o=done
        tab[$b.$o]=$((tab[$b.$o] + 1))
        [ "$VERBOSE" -eq 1 ] && echo "  $CMD round $r: kill at $((us / 1000)) ms ($b), exit $RC, $o${NOTE:+, $NOTE}, $TMPLEFT in tmp/, $UNUSED unused blob(s)" >&2
    done
    line=
    for b in early mid late; do
        n=0 l=
        for o in none part all done; do
            n=$((n + tab[$b.$o])); [ "${tab[$b.$o]}" -gt 0 ] && l+="$o ${tab[$b.$o]}, "
        done
        line+="$b $n${l:+ (${l%, })}, "
    done
    line=${line%, }
    dr=$((DMIN / 1000)); [ $((DMAX / 1000)) -gt "$dr" ] && dr="$dr-$((DMAX / 1000))"
    printf 'campaign: %-10s %4d rounds, D = %s ms, %s; %d failure(s) [%ds]' \
        "$CMD" "$ROUNDS" "$dr" "${line# }" $((FAILS - fails0)) $(( ($(now_us) - t0) / 1000000 ))
    [ "$SWEPT" -gt 0 ] && printf '; tmp/ swept %d time(s)' "$SWEPT"
    [ "$PARTIAL" -gt 0 ] && printf '; %d round(s) ended with a partial bundle beside -o (swept by the next share)' "$PARTIAL"
    [ "$NOBUNDLE" -gt 0 ] && printf '; %d share(s) logged, killed before the bundle took its name' "$NOBUNDLE"
    [ "$RAWOPEN" -gt 0 ] && printf '; %d kill(s) after the commit left vault.db opening with the old passphrase without its WAL' "$RAWOPEN"
    [ "$LOSTKEY" -gt 0 ] && printf '; %d rotation(s) committed before their new recovery key was shown' "$LOSTKEY"
    echo
    unset tab DURS DV
done
echo "campaign: $FAILS failure(s) in $(( ($(now_us) - total_t0) / 1000000 )) s (seed $SEED)"
[ "$FAILS" -eq 0 ]
