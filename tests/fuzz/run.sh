#!/usr/bin/env bash
# tests/fuzz/run.sh [-j N] SECONDS [TARGET...] - build the fuzz targets
# (clang, libFuzzer, ASan+UBSan, into build-fuzz/) and run each for
# SECONDS, N at a time (default 1).  TARGET is a name like "bundle" or
# "fuzz_bundle"; none means all of them.
#
# Per target, one line: executions, exec/s, coverage (cov/ft), corpus size
# and crashes.  Work (grown corpus, crash artifacts, logs) goes to
# $EV_FUZZ_WORK, default build-fuzz/fuzz-work/<target>/, and is kept
# between runs.  Exits 1 if any target crashed, leaked or timed out.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD/tests/fuzz
jobs=1
if [ "${1:-}" = "-j" ]; then jobs=$2; shift 2; fi
[ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]] ||
    { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
secs=$1; shift

build=${EV_FUZZ_BUILD:-build-fuzz}
work=${EV_FUZZ_WORK:-$PWD/$build/fuzz-work}
CC=${CC:-clang} cmake -S . -B "$build" -DEV_FUZZ=ON -DBUILD_TESTING=OFF \
    -DEV_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j 2 2>&1 | grep -E 'error|warning' || true

targets=()
if [ $# -eq 0 ]; then
    for f in "$src"/fuzz_*.c; do
        n=$(basename "$f" .c); targets+=("${n#fuzz_}")
    done
else
    for t in "$@"; do targets+=("${t#fuzz_}"); done
fi
for t in "${targets[@]}"; do
    [ -x "$build/tests/fuzz/fuzz_$t" ] ||
        { echo "run.sh: no fuzz target '$t' (build failed?)" >&2; exit 2; }
done

fails=0 running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || fails=$((fails + 1))
        running=$((running - 1))
    fi
    bash "$src/run_target.sh" "$build/tests/fuzz/fuzz_$t" "$secs" \
        "$src/corpus/$t" "$work/$t" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || fails=$((fails + 1))
    running=$((running - 1))
done
if [ "$fails" -ne 0 ]; then
    echo "run.sh: $fails target(s) failed; see the logs under $work" >&2
    exit 1
fi
