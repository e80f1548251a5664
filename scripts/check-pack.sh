#!/usr/bin/env bash
# Checks the package as users install it: `npm pack`, then `npm install -g <tarball>` into a scratch prefix, then
# the installed `updraft` command: --version, config check, `serve` until /readyz answers (wait-ready), the API and
# the dashboard (web/dist, listed in package.json's `files`).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/updraft-pack-XXXXXX")
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "packed $tarball ($(du -h "$work/$tarball" | cut -f1))"
# npm >= 11.19 runs no dependency install script unless allowed: better-sqlite3 must build its binding.
# (build-from-source: compile against this Node's headers rather than download a prebuilt binary.)
npm_config_build_from_source=true npm install -g --prefix "$work/global" --no-audit --no-fund \
  --allow-scripts=better-sqlite3 "$work/$tarball" > "$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
# package.json's overrides reach only an install in this tree (test/ops/engines.test.ts), not a global install,
# where light-my-request (fastify's) gets cookie 2, which declares Node >= 22 and runs on 20.19 (require(esm)): on
# Node 20 that one warning is expected. Any other EBADENGINE is a new dependency that needs a newer Node.
unexpected=$(grep -A1 'EBADENGINE Unsupported engine' "$work/install.log" | grep -o "package: '[^']*'" | grep -v "'cookie@" || true)
if [ -n "$unexpected" ]; then
  cat "$work/install.log"
  echo "npm install -g on Node $(node --version): EBADENGINE for $unexpected" >&2
  exit 1
fi
updraft=$work/global/bin/updraft
"$updraft" --version
printf 'http-port: 0\ncoap-port: -1\n' > "$work/updraft.yaml"
"$updraft" config check "$work/updraft.yaml" | grep "http-port *0 " >/dev/null
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export UPDRAFT_DATA=$work/data UPDRAFT_HTTP_PORT=$port UPDRAFT_HOST=127.0.0.1 UPDRAFT_COAP_PORT=-1
export UPDRAFT_ADMIN_TOKEN=pack-check-token-0123456789 UPDRAFT_LOG_FORMAT=json
"$updraft" serve > "$work/serve.log" 2>&1 &
server=$!
"$updraft" wait-ready --timeout 60 || { cat "$work/serve.log"; exit 1; }
UPDRAFT_SERVER=http://127.0.0.1:$port UPDRAFT_TOKEN=$UPDRAFT_ADMIN_TOKEN "$updraft" products list --json | grep '^\[\]$' >/dev/null
# The dashboard's build (web/dist) is part of the package.
curl -fsS "http://127.0.0.1:$port/" | grep '<div id="app"' >/dev/null || { echo "no dashboard at /" >&2; exit 1; }
kill "$server"
wait "$server" || true
echo "npm install -g $tarball: updraft serves, answers /readyz, the API and the dashboard"
