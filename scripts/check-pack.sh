#!/usr/bin/env bash
# Checks the package as users install it: `npm pack`, then `npm install -g <tarball>` into a scratch prefix, then
# the installed `updraft` command: --version, config check, and `serve` until /readyz answers (wait-ready).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/updraft-pack-XXXXXX")
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
# npm >= 11.19 runs no dependency install script unless allowed: better-sqlite3 must build its binding.
# (build-from-source: compile against this Node's headers rather than download a prebuilt binary.)
npm_config_build_from_source=true npm install -g --prefix "$work/global" --no-audit --no-fund \
  --allow-scripts=better-sqlite3 "$work/$tarball" >/dev/null
updraft=$work/global/bin/updraft
"$updraft" --version
printf 'http-port: 0\ncoap-port: -1\n' > "$work/updraft.yaml"
"$updraft" config check "$work/updraft.yaml" | grep -q 'http-port *0 '
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export UPDRAFT_DATA=$work/data UPDRAFT_HTTP_PORT=$port UPDRAFT_HOST=127.0.0.1 UPDRAFT_COAP_PORT=-1
export UPDRAFT_ADMIN_TOKEN=pack-check-token-0123456789 UPDRAFT_LOG_FORMAT=json
"$updraft" serve > "$work/serve.log" 2>&1 &
server=$!
"$updraft" wait-ready --timeout 60 || { cat "$work/serve.log"; exit 1; }
UPDRAFT_SERVER=http://127.0.0.1:$port UPDRAFT_TOKEN=$UPDRAFT_ADMIN_TOKEN "$updraft" products list --json | grep -q '^\[\]$'
kill "$server"
wait "$server" || true
echo "npm install -g $tarball: updraft serves, answers /readyz and the API"
