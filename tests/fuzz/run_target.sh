#!/usr/bin/env bash
# tests/fuzz/run_target.sh BIN SECONDS SEEDS WORK - one fuzz target: its
# seed corpus, then SECONDS of fuzzing (libFuzzer, -max_total_time).
#
# New inputs go to WORK/corpus (the committed SEEDS are never written),
# crashes to WORK/artifacts/, libFuzzer's output to WORK/log.  Prints one
# line: name, seconds, executions, exec/s, coverage (cov and ft from the
# last status line), corpus size, crashes.  Exit 0 when nothing crashed,
# leaked, timed out or ran out of memory; 1 otherwise (the log's tail and
# the artifacts are shown).
set -uo pipefail
[ $# -eq 4 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
bin=$1 secs=$2 seeds=$3 work=$4
name=$(basename "$bin")
mkdir -p "$work/corpus" "$work/artifacts"
[ -d "$seeds" ] || { echo "$name: no seed corpus '$seeds'" >&2; exit 2; }

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2560 \
    -max_len=${EV_FUZZ_MAX_LEN:-65536} -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" \
    > "$work/log" 2>&1
rc=$?

stat() { sed -n "s/^stat::$1: *//p" "$work/log" | tail -1; }
last=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
execs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
corpus=$(find "$work/corpus" -type f | wc -l)
crashes=$(find "$work/artifacts" -type f | wc -l)
printf '%-20s %6ss %12s execs %8s exec/s  cov %6s  ft %7s  corpus %6s  crashes %s\n' \
    "$name" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "$corpus" "$crashes"
if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    echo "$name: libFuzzer exited $rc; log $work/log" >&2
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$work/log" | head -20 >&2
    find "$work/artifacts" -type f >&2
    exit 1
fi
exit 0
