#!/usr/bin/env bash
# tests/ceph/rgw.sh DIR NAME [PORT] - one more S3 gateway (radosgw) on the
# cluster tests/ceph/start.sh DIR started, for a test that stops it without
# disturbing the others.  Prints its endpoint.  Its pid goes to
# DIR/run/client.rgw.NAME.pid: kill it by that pid, or tests/ceph/stop.sh
# DIR ends it with the rest.  Started again with the same PORT it serves
# the same buckets.
set -euo pipefail
D=${1:?usage: tests/ceph/rgw.sh DIR NAME [PORT]}
NAME=${2:?usage: tests/ceph/rgw.sh DIR NAME [PORT]}
PORT=${3:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export CEPH_CONF=$D/ceph.conf
if [ ! -f "$D/client.rgw.$NAME.keyring" ]; then
    ceph auth get-or-create "client.rgw.$NAME" mon 'allow rw' osd 'allow rwx' \
        -o "$D/client.rgw.$NAME.keyring" 2> /dev/null
fi
rm -f "$D/run/client.rgw.$NAME.pid"
radosgw -n "client.rgw.$NAME" --rgw-frontends "beast endpoint=127.0.0.1:$PORT" \
    --rgw-dns-name localhost
for _ in $(seq 240); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.25
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || {
    echo "rgw.sh: radosgw $NAME does not answer on 127.0.0.1:$PORT" >&2; exit 1; }
for _ in $(seq 40); do [ -s "$D/run/client.rgw.$NAME.pid" ] && break; sleep 0.1; done
echo "http://127.0.0.1:$PORT"
