#!/usr/bin/env bash
# bench/lockdown.sh - how long `evault lockdown` takes, unlock included,
# on vaults of growing size, with the default Argon2id cost.  The issue's
# target: under one second for any vault size.
#
#   bench/lockdown.sh [EVAULT]      (default: build/evault, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
E=${1:-build/evault}
[ -x "$E" ] || scripts/run build >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/evault-lockdown.XXXXXX")
trap 'rm -rf "$W"' EXIT
printf 'bench passphrase\n' > "$W/pass"
export EVAULT_PASSPHRASE_FILE=$W/pass
printf '%-10s %-12s %-12s %s\n' records "add (s)" "lockdown (s)" "of which unlock (s)"
for n in ${EV_BENCH_SIZES:-10 1000 10000 50000}; do
    V=$W/v$n
    "$E" init "$V" > /dev/null 2>&1
    mkdir -p "$W/in$n"
    for i in $(seq 1 "$n"); do printf 'record %d\n' "$i"; done |
        split -l 1 -a 6 - "$W/in$n/f"
    t0=$(date +%s.%N)
    "$E" add --vault "$V" "$W/in$n" > /dev/null
    t1=$(date +%s.%N)
    "$E" ls --vault "$V" --case none > /dev/null 2>&1 || true
    t2=$(date +%s.%N)   # an unlock alone (ls of nothing)
    "$E" ls --vault "$V" --case none > /dev/null 2>&1 || true
    t3=$(date +%s.%N)
    "$E" lockdown --vault "$V" > /dev/null 2>&1
    t4=$(date +%s.%N)
    awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" \
        'BEGIN { printf "%-10s %-12.2f %-12.2f %.2f\n", n, b - a, e - d, d - c }'
    rm -rf "$W/in$n" "$V"
done
