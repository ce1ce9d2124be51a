#!/usr/bin/env bash
# tests/ceph/start.sh DIR - a throw-away single-node Ceph cluster with an S3
# gateway on 127.0.0.1, for the S3 tests and the benchmark.
#
# One monitor, one OSD (memstore: objects in memory; OSD_STORE=bluestore
# puts them in a sparse file under DIR) and radosgw, from Debian's ceph-mon,
# ceph-osd, ceph-common and radosgw packages; ceph-mgr too when CEPH_MGR=1
# (the gateway does not need it; without it the cluster starts faster and
# takes about 300 MB less).  Ports are chosen free on 127.0.0.1.  Every
# daemon's pid is recorded in DIR/run/*.pid, and tests/ceph/stop.sh DIR ends
# exactly those.  DIR/env, for sourcing, names the gateway and a test user:
#   EV_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, CEPH_CONF
#
# Any failure stops what was started and exits non-zero: a test that needs
# the cluster then fails rather than skips.
set -euo pipefail
D=${1:?usage: tests/ceph/start.sh DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
OSD_STORE=${OSD_STORE:-memstore}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-4294967296}
T0=$(date +%s.%N)

say() { awk -v a="$T0" -v b="$(date +%s.%N)" -v m="$*" \
            'BEGIN { printf "ceph: [%5.1fs] %s\n", b - a, m }' >&2; }
die() { say "error: $*"; for f in "$D"/log/*.log; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
        "$HERE/stop.sh" "$D" || true; exit 1; }
trap 'die "a command failed (line $LINENO)"' ERR

for tool in ceph-mon ceph-osd ceph-authtool monmaptool ceph radosgw \
            radosgw-admin uuidgen python3 curl; do
    command -v "$tool" >/dev/null || { echo "ceph: error: '$tool' is missing (apt-get install ceph-mon ceph-osd ceph-common radosgw uuid-runtime)" >&2; exit 1; }
done

# A free TCP port on 127.0.0.1 (the kernel's choice; a race with another
# process taking it before the daemon binds is possible but rare).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for command $2... to succeed.
wait_for() {
    local limit=$1; shift
    local i
    for ((i = 0; i < limit * 4; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    return 1
}

[ -e "$D/run" ] && "$HERE/stop.sh" "$D"
rm -rf "$D"
mkdir -p "$D"/run "$D"/log "$D"/mon.a "$D"/osd.0 "$D"/mgr.x
MON_PORT=$(free_port)
RGW_PORT=$(free_port)
FSID=$(uuidgen)

cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind msgr1 = false
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
keyring = $D/\$name.keyring
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
[mon]
mon data = $D/mon.\$id
keyring = $D/mon.\$id/keyring
[mgr]
mgr data = $D/mgr.\$id
[osd]
osd data = $D/osd.\$id
osd objectstore = $OSD_STORE
memstore device bytes = $MEMSTORE_BYTES
bluestore block path = $D/osd.\$id/block.file
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 268435456
osd memory target = 1073741824
osd op num shards = 1
osd op num threads per shard = 2
[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
CONF
export CEPH_CONF=$D/ceph.conf

# Keys: the monitor's, an administrator's for the setup commands.
ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. \
    --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$D/client.admin.keyring" --gen-key \
    -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
ceph-authtool "$D/mon.keyring" --import-keyring "$D/client.admin.keyring" \
    >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" \
    "$D/monmap" >/dev/null

ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring"
ceph-mon -i a
wait_for 30 ceph -s --connect-timeout 5 || die "the monitor does not answer"
say "monitor up on 127.0.0.1:$MON_PORT"

if [ "${CEPH_MGR:-0}" = 1 ]; then
    ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' \
        -o "$D/mgr.x.keyring"
    ceph-mgr -i x
    say "manager started"
fi

OSD_UUID=$(uuidgen)
ceph-authtool --create-keyring "$D/osd.0.keyring" --gen-key -n osd.0 >/dev/null
OSD_SECRET=$(ceph-authtool -p -n osd.0 "$D/osd.0.keyring")
OSD_ID=$(printf '{"cephx_secret": "%s"}' "$OSD_SECRET" |
         ceph osd new "$OSD_UUID" -i -)
[ "$OSD_ID" = 0 ] || die "unexpected OSD id '$OSD_ID'"
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" > "$D/log/osd-mkfs.out" 2>&1 ||
    die "ceph-osd --mkfs failed"
ceph-osd -i 0 2>> "$D/log/osd-start.err"
osd_up() { ceph osd stat --connect-timeout 5 | grep -q '1 up'; }
wait_for 120 osd_up || die "the OSD does not come up"
say "OSD up ($OSD_STORE)"

ceph auth get-or-create client.rgw.gw mon 'allow rw' osd 'allow rwx' \
    -o "$D/client.rgw.gw.keyring"
radosgw -n client.rgw.gw
wait_for 180 curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/" ||
    die "radosgw does not answer on 127.0.0.1:$RGW_PORT"
say "radosgw up on 127.0.0.1:$RGW_PORT"

# The gateway makes the test user's keys; they go from its JSON answer to
# DIR/env (mode 0600), never through a command line.
umask 077
radosgw-admin user create --uid=evtest --display-name=evtest > "$D/user.json"
python3 - "$D/user.json" "$RGW_PORT" "$D" > "$D/env" <<'PY'
import json, sys
key = json.load(open(sys.argv[1]))["keys"][0]
print("export EV_S3_ENDPOINT=http://127.0.0.1:%s" % sys.argv[2])
print("export AWS_ACCESS_KEY_ID=%s" % key["access_key"])
print("export AWS_SECRET_ACCESS_KEY=%s" % key["secret_key"])
print("export CEPH_CONF=%s/ceph.conf" % sys.argv[3])
PY
rm -f "$D/user.json"
say "S3 user ready; source $D/env"
