#!/usr/bin/env bash
# A throw-away one-node Ceph cluster with the RADOS Gateway (a real S3 server that enforces SigV4) for tests and
# benchmarks. Everything lives in one scratch folder and listens on free loopback ports; nothing touches /etc/ceph.
#
#   scripts/ceph-rgw.sh start DIR [--owner PID]   start, print KEY=VALUE lines (also written to DIR/env)
#   scripts/ceph-rgw.sh stop DIR                  stop radosgw, the osd and the mon, then remove DIR
#
# With --owner, a watchdog stops the cluster once process PID has exited (a test run that was killed still cleans
# up). Layout and the settings that matter (memstore, cephx off, `ms * mode = crc`, pool size 1):
# ../shared/specs/object-storage.md, summarised in docs/storage.md.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)

die() {
  echo "ceph-rgw: $*" >&2
  exit 1
}

ensure_installed() {
  local missing=()
  for cmd in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local install=(apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends "${PACKAGES[@]}" uuid-runtime)
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "ceph-rgw: installing ${PACKAGES[*]} (missing: ${missing[*]})" >&2
    DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null; }
  else
    die "missing ${missing[*]}; install them with: sudo ${install[*]}"
  fi
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits up to $2 seconds for the command in $1 to succeed.
wait_for() {
  local deadline=$((SECONDS + $2))
  until eval "$1" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

stop_cluster() {
  local dir=$1
  [ -d "$dir" ] || return 0
  # radosgw first (clients), then the osd, then the mon: the reverse of start-up.
  for name in rgw osd mon; do
    local pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [ -f "$dir/watchdog.pid" ] && [ "$(cat "$dir/watchdog.pid")" != "${BASHPID:-$$}" ]; then
    kill -TERM "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

start_cluster() {
  local dir=$1 owner=${2:-}
  ensure_installed
  # DIR may exist (a caller used mkdir as its lock) but must not hold a cluster yet.
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -e "$dir/ceph.conf" ] || die "$dir already holds a cluster"
  mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd" "$dir/rgw"
  : >"$dir/keyring"
  local fsid mon_port s3_port access secret
  fsid=$(uuidgen)
  mon_port=$(free_port)
  s3_port=$(free_port)
  access=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F')
  secret=$(head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n')

  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# With cephx off, radosgw fails with "get_initial_auth_request returned -13" unless every mode is crc.
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon max pg per osd = 1000
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
[mon]
mon data = $dir/mon/\$name
mon data avail crit = 0
[osd]
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:$s3_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
EOF
  local conf=(-c "$dir/ceph.conf")

  monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>&1
  ceph-mon "${conf[@]}" -i a -f >>"$dir/log/mon.out" 2>&1 &
  echo $! >"$dir/mon.pid"
  wait_for "timeout 5 ceph ${conf[*]} mon stat" 30 || die "the mon did not start (see $dir/log)"

  local osd_id osd_uuid
  osd_uuid=$(uuidgen)
  osd_id=$(ceph "${conf[@]}" osd new "$osd_uuid")
  mkdir -p "$dir/osd/osd.$osd_id"
  # The osd boots only with the uuid the mon knows it by.
  ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
  ceph-osd "${conf[@]}" -i "$osd_id" -f >>"$dir/log/osd.out" 2>&1 &
  echo $! >"$dir/osd.pid"
  wait_for "ceph ${conf[*]} osd dump | grep -q '^osd.$osd_id up'" 60 || die "the osd did not come up (see $dir/log)"

  radosgw "${conf[@]}" -n client.rgw.test -f >>"$dir/log/rgw.out" 2>&1 &
  echo $! >"$dir/rgw.pid"
  wait_for "curl -sf -o /dev/null http://127.0.0.1:$s3_port/" 90 || die "radosgw did not answer (see $dir/log)"
  radosgw-admin "${conf[@]}" user create --uid test --display-name test \
    --access-key "$access" --secret-key "$secret" >/dev/null 2>&1
  # One bucket ready to use; tests create their own beside it. RGW wants the payload hash signed (of no body).
  curl -sS -f -X PUT -H "x-amz-content-sha256: $(sha256sum </dev/null | cut -d' ' -f1)" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    "http://127.0.0.1:$s3_port/updraft" >"$dir/log/bucket.out" 2>&1 ||
    { cat "$dir/log/bucket.out" >&2; die "could not create the bucket"; }
  # Written whole, then renamed: other processes waiting for this cluster read the file once it exists.
  cat >"$dir/env.tmp" <<EOF
S3_ENDPOINT=http://127.0.0.1:$s3_port
S3_REGION=us-east-1
S3_BUCKET=updraft
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
CEPH_CONF=$dir/ceph.conf
EOF
  mv "$dir/env.tmp" "$dir/env"
  if [ -n "$owner" ]; then
    # Detached from our stdout so the caller's pipe closes when this script exits.
    (
      trap '' HUP
      while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
      stop_cluster "$dir"
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid"
  fi
  cat "$dir/env"
}

case "${1:-}" in
  start)
    [ -n "${2:-}" ] || die "usage: $0 start DIR [--owner PID]"
    CLUSTER_DIR=$2
    owner=""
    [ "${3:-}" = "--owner" ] && owner=${4:?--owner needs a pid}
    # Leave nothing half-started behind on failure.
    trap 'rc=$?; [ $rc -eq 0 ] || stop_cluster "$CLUSTER_DIR"' EXIT
    start_cluster "$CLUSTER_DIR" "$owner"
    ;;
  stop)
    [ -n "${2:-}" ] || die "usage: $0 stop DIR"
    stop_cluster "$2"
    ;;
  *)
    die "usage: $0 start DIR [--owner PID] | stop DIR"
    ;;
esac
