#!/usr/bin/env bash
# bench/s3.sh [--quick] - add and get throughput of evault on an S3 store
# (a throw-away single-node Ceph cluster with radosgw on 127.0.0.1), beside
# evault on the vault directory and restic on the same S3 endpoint, in one
# run, on one incompressible file.
#
#   bench/s3.sh            a 1 GiB file
#   bench/s3.sh --quick    a 256 MiB file
#
# Work folder: $BENCH_DIR, else bench/work/s3 (removed at the end but for
# WORK/results-s3.txt and the logs in WORK/log-s3/).  The Ceph OSD keeps
# its objects in a file under the work folder (bluestore), so the S3 store
# writes to the same disk as the local one.  Timings are wall seconds of
# whole commands, after a sync; evault vaults use cheap Argon2 settings so
# that unlocking does not weigh on the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MIB=1024
case "${1:-}" in
"") ;;
--quick) MIB=256 ;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

WORK=${BENCH_DIR:-$ROOT/bench/work}/s3
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
exec 9>"$WORK/.lock"
flock -n 9 || { echo "bench: another bench/s3.sh is using $WORK" >&2; exit 5; }
LOG=$WORK/log-s3
RUN=$WORK/run
CEPH=$WORK/ceph
rm -rf "$RUN" "$LOG"
mkdir -p "$RUN" "$LOG"
say() { printf '%s\n' "$*" >&2; }

PACKAGES=(restic ceph-mon ceph-osd ceph-common radosgw uuid-runtime curl time
          openssl)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing: ${missing[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
scripts/run build >&2
EV=$ROOT/build/evault

cleanup() {
    bash "$ROOT/tests/ceph/stop.sh" "$CEPH" || true
    rm -rf "$RUN" "$CEPH"
}
trap cleanup EXIT
say "starting Ceph (bluestore in $CEPH)..."
OSD_STORE=bluestore bash "$ROOT/tests/ceph/start.sh" "$CEPH" 2> "$LOG/ceph.log" ||
    { cat "$LOG/ceph.log" >&2; exit 3; }
. "$CEPH/env"

FILE=$RUN/video.bin
say "making a ${MIB} MiB incompressible file..."
openssl enc -aes-256-ctr -pass pass:evault-bench -nosalt -pbkdf2 \
    < <(head -c $((MIB << 20)) /dev/zero) > "$FILE" 2> /dev/null
cat "$FILE" > /dev/null  # read from the page cache by every tool
BYTES=$(stat -c %s "$FILE")

# timed NAME CMD...: wall seconds of CMD after a sync, into $LOG/NAME.time,
# and its peak resident memory (KiB) into $LOG/NAME.rss.
timed() {
    local name=$1; shift
    sync
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$LOG/$name.rss" "$@" > "$LOG/$name.out" 2> "$LOG/$name.err" ||
        { say "bench: $name failed:"; cat "$LOG/$name.err" >&2; exit 3; }
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' > "$LOG/$name.time"
}
secs() { cat "$LOG/$1.time"; }
rss() { awk '{ printf "%.0f", $1 / 1024 }' "$LOG/$1.rss"; }
mbs() { awk -v b="$BYTES" -v s="$(secs "$1")" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }

printf 'bench passphrase\n' > "$RUN/pass"
export EVAULT_PASSPHRASE_FILE=$RUN/pass
cheap=(--argon2-passes 1 --argon2-memory 8)

say "evault, vault directory..."
"$EV" init "$RUN/local" "${cheap[@]}" > /dev/null 2>&1
timed ev_local_add "$EV" add --vault "$RUN/local" "$FILE"
timed ev_local_get "$EV" get --vault "$RUN/local" 1 -o "$RUN/local.out"
cmp "$FILE" "$RUN/local.out"; rm -f "$RUN/local.out"

say "evault, S3 store..."
"$EV" init "$RUN/s3" "${cheap[@]}" --store s3://evbench/vault \
    --endpoint "$EV_S3_ENDPOINT" --path-style --create-bucket > /dev/null 2>&1
timed ev_s3_add "$EV" add --vault "$RUN/s3" "$FILE"
timed ev_s3_get "$EV" get --vault "$RUN/s3" 1 -o "$RUN/s3.out"
cmp "$FILE" "$RUN/s3.out"; rm -f "$RUN/s3.out"
timed ev_s3_check "$EV" check --vault "$RUN/s3" --read-data

say "restic, same S3 endpoint..."
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$RUN/restic-cache
REPO=s3:$EV_S3_ENDPOINT/resticbench
restic -q -r "$REPO" init > "$LOG/restic_init.log" 2>&1
(cd "$RUN" && timed restic_backup restic -q -r "$REPO" backup video.bin)
timed restic_restore restic -q -r "$REPO" restore latest --target "$RUN/restored"
cmp "$FILE" "$RUN/restored/video.bin"

ratio() { awk -v a="$(secs "$1")" -v b="$(secs "$2")" 'BEGIN { printf "%.2f", b / a }'; }
{
    echo "evault on S3 (Ceph radosgw, 127.0.0.1, bluestore on a file), one ${MIB} MiB incompressible file"
    echo
    printf '%-20s %8s %8s %12s\n' "command" "seconds" "MB/s" "peak MiB"
    for n in ev_local_add ev_s3_add restic_backup ev_local_get ev_s3_get restic_restore ev_s3_check; do
        printf '%-20s %8s %8s %12s\n' "$n" "$(secs $n)" "$(mbs $n)" "$(rss $n)"
    done
    echo
    echo "add: S3 / local speed   $(ratio ev_s3_add ev_local_add)"
    echo "add: S3 / restic speed  $(ratio ev_s3_add restic_backup)"
    echo "get: S3 / local speed   $(ratio ev_s3_get ev_local_get)"
    echo "get: S3 / restic speed  $(ratio ev_s3_get restic_restore)"
} | tee "$WORK/results-s3.txt"
