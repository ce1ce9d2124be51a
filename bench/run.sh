#!/usr/bin/env bash
# bench/run.sh [--quick] - time evault beside restic, borg, age, zstd,
# openssl and cp + sync on the same corpus, in the same run.
#
#   bench/run.sh           1 GiB video, ~200 MB of text, 10,000 small files
#   bench/run.sh --quick   256 MiB video, ~50 MB of text, 2,000 small files
#
# Work folder: $BENCH_DIR, else bench/work/ (the corpus is kept there and
# reused; vaults and repositories are removed at the end).  The table is
# printed at the end and written to WORK/results.txt; every command's
# output is in WORK/log/.  See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=0
case "${1:-}" in
"") ;;
--quick) quick=1 ;;
*)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

WORK=${BENCH_DIR:-$ROOT/bench/work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# Two runs in one work folder would delete each other's vaults.
exec 9>"$WORK/.lock"
if ! flock -n 9; then
    echo "bench: another bench/run.sh is using $WORK (set BENCH_DIR)" >&2
    exit 5
fi
if [ $quick -eq 1 ]; then
    CORPUS=$WORK/corpus-quick
else
    CORPUS=$WORK/corpus-full
fi
RUN=$WORK/run # vaults, repositories, outputs: removed at the end
LOG=$WORK/log
EV=$ROOT/build/evault

say() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ setup

PACKAGES=(restic borgbackup age zstd time openssl coreutils python3 tar)
install_missing() {
    local missing=() p sudo=""
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        "${missing[@]}" >/dev/null
}

if awk '{exit !($1 > 0.5)}' /proc/loadavg; then
    say "warning: load average $(cut -d' ' -f1-3 /proc/loadavg): other work on this"
    say "machine will skew the timings (see the 'other' column)"
fi

install_missing
say "building evault (release)"
scripts/run build
[ -x "$EV" ] || { say "bench: no $EV after the build"; exit 3; }
EV_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
git diff --quiet HEAD -- vault cli CMakeLists.txt 2>/dev/null || EV_COMMIT+="+changes"

if [ $quick -eq 1 ]; then
    bash bench/corpus.sh --quick "$CORPUS"
else
    bash bench/corpus.sh "$CORPUS"
fi

rm -rf "$RUN" "$LOG"
mkdir -p "$RUN" "$LOG" "$RUN/out"
trap 'rm -rf "$RUN"' EXIT

# Reference tools keep their caches and keys inside the work folder.
export RESTIC_PASSWORD="bench passphrase, not for real evidence"
export RESTIC_CACHE_DIR=$RUN/cache/restic
export BORG_PASSPHRASE=$RESTIC_PASSWORD
export BORG_BASE_DIR=$RUN/cache/borg
printf '%s\n' "$RESTIC_PASSWORD" >"$RUN/passphrase"
export EVAULT_PASSPHRASE_FILE=$RUN/passphrase
unset EVAULT_DIR

cd "$CORPUS"
video_bytes=$(stat -c %s video.mp4)
text_bytes=$(find text -type f -printf '%s\n' | awk '{s += $1} END {print s}')
text_files=$(find text -type f | wc -l)
small_bytes=$(find small -type f -printf '%s\n' | awk '{s += $1} END {print s}')
small_files=$(find small -type f | wc -l)

# Every tool reads the corpus from the page cache: each timed command
# first reads its section's input ($WARM, see timed).  Not with
# "tar cf - DIR >/dev/null": GNU tar sees /dev/null and reads no file, so
# the first command of the text and small-file sections, evault's add,
# used to read its input from the disk and the tools after it from memory.
warm() { [ $# -eq 0 ] || find "$@" -type f -exec cat {} + >/dev/null; }
WARM=

# ------------------------------------------------------------ measuring

declare -A SEC KIB ERR OTHER CPU
ORDER=()
EV_CMDS=()     # names of every timed evault command (for peak memory)
RESTIC_CMDS=() # likewise for restic and borg
BORG_CMDS=()

# CPU time (in ticks) the whole machine spent busy, steal included.
cpu_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# Waits (at most $BENCH_WAIT seconds, default 30) for half a second in
# which other processes use under 5% of the machine: on a shared machine,
# measure between other people's jobs.
wait_idle() {
    local deadline=$((SECONDS + ${BENCH_WAIT:-30})) b0 b1
    while [ $SECONDS -lt $deadline ]; do
        b0=$(cpu_busy)
        sleep 0.5
        b1=$(cpu_busy)
        [ $(((b1 - b0) * 100)) -lt $((5 * HZ * NCPU / 2)) ] && return 0
    done
    return 0
}

# timed NAME CMD...: sync, then run CMD under GNU time; its stdout goes to
# $TO (default LOG/NAME.out), its stderr to LOG/NAME.err.  Records wall
# seconds in SEC[NAME], peak RSS (KiB) in KIB[NAME], the share of the
# machine that other processes used meanwhile in OTHER[NAME] (percent), and
# a failure (exit status or signal) in ERR[NAME].
timed() {
    local name=$1 to=${TO:-$LOG/$1.out} tf=$LOG/$1.time rc=0 b0 b1 u s
    shift
    say "  $name"
    # shellcheck disable=SC2086 # WARM holds one or two corpus paths
    warm $WARM
    sync
    wait_idle
    b0=$(cpu_busy)
    /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$to" 2>"$LOG/$name.err" || rc=$?
    b1=$(cpu_busy)
    read -r "SEC[$name]" "KIB[$name]" u s < <(tail -n 1 "$tf") || true
    CPU[$name]="$u user + $s sys"
    ORDER+=("$name")
    OTHER[$name]=$(awk -v d=$((b1 - b0)) -v hz="$HZ" -v u="$u" -v s="$s" \
        -v e="${SEC[$name]}" -v n="$NCPU" 'BEGIN {
        o = d / hz - u - s; if (o < 0) o = 0; if (e < 0.01) e = 0.01
        printf "%.0f", 100 * o / (e * n) }')
    if [ $rc -ne 0 ]; then
        ERR[$name]="$(head -n 1 "$tf" | sed 's/^Command //')"
        [ -n "${ERR[$name]}" ] || ERR[$name]="exit $rc"
        say "  $name FAILED: ${ERR[$name]}; stderr:"
        tail -n 5 "$LOG/$name.err" >&2
    fi
}

ev() { # ev NAME VAULT ARGS...: a timed evault command on VAULT
    local name=$1 vault=$2
    shift 2
    EV_CMDS+=("$name")
    EVAULT_DIR=$vault timed "$name" "$EV" "$@"
}

restic_backup() { # restic_backup NAME PATH: a fresh repository, then backup
    RESTIC_CMDS+=("$1")
    restic -q -r "$RUN/restic-$1" init >"$LOG/$1.init" 2>&1 || true
    timed "$1" restic -q -r "$RUN/restic-$1" backup "$2"
}

borg_create() { # borg_create NAME PATH
    BORG_CMDS+=("$1")
    borg init -e repokey "$RUN/borg-$1" >"$LOG/$1.init" 2>&1 || true
    timed "$1" borg create "$RUN/borg-$1::bench" "$2"
}

# Sizes in bytes; 0 for what a failed command did not make.
size_du() { { du -sb "$1" 2>/dev/null || echo 0; } | cut -f1; }
size_files() {
    find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

WARM=video.mp4
say "video ($(awk -v b="$video_bytes" 'BEGIN {printf "%.0f MB", b / 1e6}'))"
EV_CMDS+=(ev_init)
timed ev_init "$EV" init "$RUN/ev-video" --passphrase-file "$RUN/passphrase"
ev ev_unlock "$RUN/ev-video" ls --json
ev ev_add_video "$RUN/ev-video" add video.mp4
restic_backup restic_video video.mp4
borg_create borg_video video.mp4
timed cp_video sh -c 'cp "$1" "$2" && sync' sh video.mp4 "$RUN/out/cp.mp4"
age-keygen -o "$RUN/age.key" 2>/dev/null
timed age_enc age -r "$(age-keygen -y "$RUN/age.key")" -o "$RUN/out/video.age" video.mp4
TO=/dev/null timed age_dec age -d -i "$RUN/age.key" "$RUN/out/video.age"
timed age_dec_file sh -c 'age -d -i "$1" -o "$2" "$3" && sync' sh "$RUN/age.key" \
    "$RUN/out/age.mp4" "$RUN/out/video.age"
timed openssl_sha openssl dgst -sha256 video.mp4
timed sha256sum_video sha256sum video.mp4
ev ev_get_video "$RUN/ev-video" get 1 -o "$RUN/out/get.mp4"
if [ -z "${ERR[ev_get_video]:-}" ] && ! cmp -s video.mp4 "$RUN/out/get.mp4"; then
    ERR[ev_get_video]="output differs from the input"
fi
TO=/dev/null ev ev_cat_video "$RUN/ev-video" cat 1
ev ev_check_video "$RUN/ev-video" check --read-data
size_ev_video=$(size_du "$RUN/ev-video")
size_restic_video=$(size_du "$RUN/restic-restic_video")
size_borg_video=$(size_du "$RUN/borg-borg_video")
size_age_video=$(size_files "$RUN/out/video.age")
rm -f "$RUN/out/"*.mp4 "$RUN/out/video.age"

WARM=text
say "text ($text_files files, $(awk -v b="$text_bytes" 'BEGIN {printf "%.0f MB", b / 1e6}'))"
"$EV" init "$RUN/ev-text" --passphrase-file "$RUN/passphrase" \
    >"$LOG/ev_init_text.out" 2>&1 || say "  evault init failed: see $LOG/ev_init_text.out"
ev ev_add_text "$RUN/ev-text" add text
restic_backup restic_text text
timed zstd_text zstd -3 -q -r text --output-dir-mirror "$RUN/zstd"
timed tarzstd_text sh -c 'tar cf - text | zstd -3 -q -o "$1"' sh "$RUN/out/text.tar.zst"
ev ev_check_text "$RUN/ev-text" check --read-data
size_ev_text=$(size_du "$RUN/ev-text")
size_ev_text_files=$(size_files "$RUN/ev-text")
size_zstd_text=$(size_files "$RUN/zstd")
size_tarzstd_text=$(size_files "$RUN/out/text.tar.zst")
size_restic_text=$(size_du "$RUN/restic-restic_text")

WARM=small
say "small files ($small_files files, $(awk -v b="$small_bytes" 'BEGIN {printf "%.0f MB", b / 1e6}'))"
"$EV" init "$RUN/ev-small" --passphrase-file "$RUN/passphrase" \
    >"$LOG/ev_init_small.out" 2>&1 || say "  evault init failed: see $LOG/ev_init_small.out"
ev ev_add_small "$RUN/ev-small" add small
restic_backup restic_small small
# restic's own unlock (its scrypt, calibrated at init) and start-up, alone
RESTIC_CMDS+=(restic_unlock)
timed restic_unlock restic -q -r "$RUN/restic-restic_small" cat config
borg_create borg_small small
ev ev_check_small "$RUN/ev-small" check --read-data
size_ev_small=$(size_du "$RUN/ev-small")
size_restic_small=$(size_du "$RUN/restic-restic_small")
WARM=
cd "$ROOT"

# ------------------------------------------------------------- the table

ROWS=()
row() { local IFS=$'\t'; ROWS+=("$*"); }
sec() { [ -n "${ERR[$1]:-}" ] && echo "FAIL" || echo "${SEC[$1]}"; }
mib() { awk -v k="${KIB[$1]}" 'BEGIN {printf "%.1f", k / 1024}'; }
# rate NAME BYTES|FILES UNIT: MB/s (decimal, like the issue) or files/s
rate() {
    [ -n "${ERR[$1]:-}" ] && { echo "-"; return; }
    awk -v s="${SEC[$1]}" -v n="$2" -v u="$3" 'BEGIN {
        if (s < 0.01) s = 0.01
        if (u == "files/s") printf "%.0f files/s", n / s
        else if (n / s >= 1e9) printf "%.2f GB/s", n / s / 1e9
        else printf "%.0f MB/s", n / s / 1e6 }'
}
# target OP NAME N UNIT REF MIN: NAME against reference REF, same input;
# ratio = REF's time / NAME's time, PASS when at least MIN.
target() {
    local op=$1 name=$2 n=$3 unit=$4 ref=$5 min=$6 desc=$7 ratio res
    if [ -n "${ERR[$name]:-}" ] || [ -n "${ERR[$ref]:-}" ]; then
        ratio="-" res="FAIL"
    else
        ratio=$(awk -v a="${SEC[$ref]}" -v b="${SEC[$name]}" \
            'BEGIN {if (b < 0.01) b = 0.01; printf "%.2fx", a / b}')
        res=$(awk -v r="${ratio%x}" -v m="$min" 'BEGIN {print (r >= m) ? "PASS" : "MISS"}')
    fi
    row "$op" "$(sec "$name")" "$(rate "$name" "$n" "$unit")" "$(mib "$name")" \
        "$desc $(rate "$ref" "$n" "$unit")" "$ratio" ">= ${min}x" "$res" \
        "$(oth "$name" "$ref")"
}
# ref OP NAME N UNIT ISSUE: a reference, its ratio to the issue's figure
# (how this machine compares with the one the targets were set on).
ref() {
    local op=$1 name=$2 n=$3 unit=$4 issue=${5:-} ratio="-" r
    r=$(rate "$name" "$n" "$unit")
    if [ -n "$issue" ] && [ "$r" != "-" ]; then
        ratio=$(awk -v s="${SEC[$name]}" -v n="$n" -v i="$issue" -v u="$unit" 'BEGIN {
            if (s < 0.01) s = 0.01
            v = (u == "files/s") ? n / s : n / s / 1e6
            printf "%.2fx", v / i }')
        if [ "$unit" = "files/s" ]; then
            issue="issue: $issue files/s"
        else
            issue="issue: $issue MB/s"
        fi
    fi
    row "$op" "$(sec "$name")" "$r" "$(mib "$name")" "${issue:--}" "$ratio" "-" "ref" \
        "$(oth "$name")"
}
info() { # info OP NAME [N UNIT]: an evault figure without a target
    local r="-"
    [ $# -ge 4 ] && r=$(rate "$2" "$3" "$4")
    row "$1" "$(sec "$2")" "$r" "$(mib "$2")" "-" "-" "-" \
        "$([ -n "${ERR[$2]:-}" ] && echo FAIL || echo info)" "$(oth "$2")"
}
# work OP NAME REF: NAME against REF with each side's unlock-only time
# (evault ls, restic cat config) taken off: where the rest of the time
# goes, for reading a MISS; no target.
work() {
    local op=$1 name=$2 ref=$3 ratio="-"
    if [ -z "${ERR[$name]:-}${ERR[$ref]:-}${ERR[ev_unlock]:-}${ERR[restic_unlock]:-}" ]; then
        ratio=$(awk -v a="${SEC[$ref]}" -v ua="${SEC[restic_unlock]}" \
            -v b="${SEC[$name]}" -v ub="${SEC[ev_unlock]}" 'BEGIN {
            a -= ua; b -= ub; if (b < 0.01) b = 0.01; if (a < 0) a = 0
            printf "%.2fx", a / b }')
    fi
    row "$op" "$(awk -v b="${SEC[$name]}" -v u="${SEC[ev_unlock]}" \
        'BEGIN {printf "%.2f", b - u}')" "-" "-" \
        "restic, less its unlock" "$ratio" "-" "info" "$(oth "$name" "$ref")"
}
# oth NAME...: the largest share of the machine other processes used while
# NAME... ran, marked "!" above 15% (the figure is then unreliable).
oth() {
    local n m=0
    for n in "$@"; do
        [ "${OTHER[$n]:-0}" -gt "$m" ] && m=${OTHER[$n]}
    done
    if [ "$m" -gt 15 ]; then
        echo "${m}%!"
    else
        echo "${m}%"
    fi
}
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }

vb=$video_bytes tb=$text_bytes sf=$small_files
row "operation" "seconds" "rate" "peak MiB" "reference" "ratio" "target" "result" "other"
row "VIDEO $(mb "$vb")"
target "evault add" ev_add_video "$vb" MB/s restic_video 3 "restic backup"
target "evault add" ev_add_video "$vb" MB/s cp_video 0.67 "cp + sync"
target "evault get -o FILE" ev_get_video "$vb" MB/s age_dec 1 "age -d"
target "evault get -o FILE" ev_get_video "$vb" MB/s age_dec_file 1 "age -d -o F+sync"
target "evault cat > /dev/null" ev_cat_video "$vb" MB/s age_dec 1 "age -d"
target "evault check --read-data" ev_check_video "$vb" MB/s age_dec 1 "age -d"
info "evault init (Argon2id)" ev_init
info "evault ls (unlock only)" ev_unlock
info "restic cat config (unlock only)" restic_unlock
ref "restic backup" restic_video "$vb" MB/s 182
ref "borg create" borg_video "$vb" MB/s 135
ref "age (encrypt)" age_enc "$vb" MB/s 1310
ref "age -d > /dev/null" age_dec "$vb" MB/s 1030
ref "age -d -o FILE + sync" age_dec_file "$vb" MB/s
ref "openssl dgst -sha256" openssl_sha "$vb" MB/s 1070
ref "sha256sum" sha256sum_video "$vb" MB/s 222
ref "cp + sync" cp_video "$vb" MB/s 810
row "TEXT $(mb "$tb") in $text_files files"
target "evault add" ev_add_text "$tb" MB/s restic_text 2 "restic backup"
work "  add, less the unlock" ev_add_text restic_text
info "evault check --read-data" ev_check_text "$tb" MB/s
ref "restic backup" restic_text "$tb" MB/s 100
ref "zstd -3, each file" zstd_text "$tb" MB/s 207
ref "tar c | zstd -3" tarzstd_text "$tb" MB/s
size_ratio=$(awk -v a="$size_ev_text" -v b="$size_zstd_text" \
    'BEGIN {if (a == 0 || b == 0) print "-"; else printf "%.3fx", a / b}')
row "evault stored size" "-" "$(mb "$size_ev_text")" "-" \
    "zstd -3, each file $(mb "$size_zstd_text")" "$size_ratio" "<= 1.05x" \
    "$(awk -v r="${size_ratio%x}" 'BEGIN {print (r == "-") ? "FAIL" : (r <= 1.05) ? "PASS" : "MISS"}')" "-"
row "SMALL $small_files files, $(mb "$small_bytes")"
target "evault add" ev_add_small "$sf" files/s restic_small 1.5 "restic backup"
work "  add, less the unlock" ev_add_small restic_small
info "evault check --read-data" ev_check_small "$sf" files/s
ref "restic backup" restic_small "$sf" files/s 7200
ref "borg create" borg_small "$sf" files/s
# Peak memory: the largest of every evault command against 64 MiB.
peak() { # peak NAME...: "KiB NAME" of the largest
    local n best=0 who=-
    for n in "$@"; do
        if [ "${KIB[$n]:-0}" -gt "$best" ]; then best=${KIB[$n]} who=$n; fi
    done
    echo "$best $who"
}
read -r ev_peak ev_peak_who < <(peak "${EV_CMDS[@]}")
read -r restic_peak _ < <(peak "${RESTIC_CMDS[@]}")
read -r borg_peak _ < <(peak "${BORG_CMDS[@]}")
row "MEMORY"
row "evault peak: $ev_peak_who" "-" "-" \
    "$(awk -v k="$ev_peak" 'BEGIN {printf "%.1f", k / 1024}')" \
    "restic $(awk -v k="$restic_peak" 'BEGIN {printf "%.0f MiB", k / 1024}'), borg $(awk -v k="$borg_peak" 'BEGIN {printf "%.0f MiB", k / 1024}')" \
    "$(awk -v a="$ev_peak" -v b="$restic_peak" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')" \
    "< 64 MiB" "$(awk -v k="$ev_peak" 'BEGIN {print (k < 64 * 1024) ? "PASS" : "MISS"}')" "-"

sizes() {
    printf 'stored sizes: video %s -> evault %s, restic %s, borg %s, age %s\n' \
        "$(mb "$vb")" "$(mb "$size_ev_video")" "$(mb "$size_restic_video")" \
        "$(mb "$size_borg_video")" "$(mb "$size_age_video")"
    printf '              text %s -> evault %s (files only %s), zstd -3 each file %s,\n' \
        "$(mb "$tb")" "$(mb "$size_ev_text")" "$(mb "$size_ev_text_files")" \
        "$(mb "$size_zstd_text")"
    printf '                   tar c | zstd -3 %s, restic %s\n' \
        "$(mb "$size_tarzstd_text")" "$(mb "$size_restic_text")"
    printf '              small %s -> evault %s, restic %s\n' \
        "$(mb "$small_bytes")" "$(mb "$size_ev_small")" "$(mb "$size_restic_small")"
}

print_table() {
    local r f
    printf 'evault benchmark, %s, %s (%s cores), corpus %s\n' "$(date -u +%F)" \
        "$(uname -m)" "$(nproc)" "$(cat "$CORPUS/.complete")"
    printf 'evault %s; %s; borg %s; age %s; %s\n' \
        "$EV_COMMIT" \
        "$(restic version | cut -d' ' -f1,2)" "$(borg --version | cut -d' ' -f2)" \
        "$(age --version)" "$(zstd -V | sed 's/.* v\([0-9.]*\).*/zstd \1/')"
    echo "MB = 10^6 bytes; ratio = reference's time / evault's time (same input), higher is better;"
    echo "for ref rows, ratio = this machine / the issue's figure.  Whole commands, unlock included."
    echo
    for r in "${ROWS[@]}"; do
        IFS=$'\t' read -r -a f <<<"$r"
        if [ ${#f[@]} -eq 1 ]; then
            printf '%s\n' "${f[0]}"
        else
            printf '  %-28s %7s %15s %9s  %-32s %7s %-9s %-6s %s\n' "${f[@]}"
        fi
    done
    echo
    sizes
    echo "other = CPU that other processes (and the hypervisor's steal) took while the row's"
    echo "commands ran, as a share of the machine; the timing is not reliable above 15% (!)."
    for n in "${!OTHER[@]}"; do
        if [ "${OTHER[$n]}" -gt 15 ]; then
            echo "WARNING: the machine was busy during some measurements: rerun it when idle."
            break
        fi
    done
    echo
    echo "every command: wall seconds, CPU seconds, peak RSS, other processes' share"
    for n in "${ORDER[@]}"; do
        printf '  %-16s %7ss  %-24s %8s KiB  other %s%%\n' "$n" "${SEC[$n]}" \
            "${CPU[$n]}" "${KIB[$n]}" "${OTHER[$n]}"
    done
    for n in "${!ERR[@]}"; do
        printf 'FAILED %s: %s (see %s)\n' "$n" "${ERR[$n]}" "$LOG/$n.err"
    done
}

print_table | tee "$WORK/results.txt"
