#!/usr/bin/env bash
# tests/ceph/stop.sh DIR - stops the daemons tests/ceph/start.sh DIR started,
# and only those: the pids recorded in DIR/run/*.pid, each checked to still be
# a Ceph daemon (a pid may have been reused).  SIGTERM, then SIGKILL after
# 10 s for any that did not end.  Leaves DIR (logs) in place.
set -u
D=${1:?usage: tests/ceph/stop.sh DIR}
pids=()
for f in "$D"/run/*.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    rm -f "$f"
    case "$p" in ''|*[!0-9]*) continue ;; esac
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    case "$comm" in
    ceph-mon|ceph-osd|ceph-mgr|radosgw|*rgw*|*ceph*|msgr*|log) pids+=("$p") ;;
    *) echo "ceph: pid $p is now '$comm', not a Ceph daemon: left alone" >&2 ;;
    esac
done
[ ${#pids[@]} -eq 0 ] && exit 0
kill "${pids[@]}" 2>/dev/null
alive() {
    local p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}
for _ in $(seq 100); do alive || exit 0; sleep 0.1; done
echo "ceph: killing daemons that ignored SIGTERM: ${pids[*]}" >&2
kill -9 "${pids[@]}" 2>/dev/null
exit 0
