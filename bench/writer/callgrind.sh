#!/usr/bin/env bash
# Instructions the write-behind writer spends per check-in, counted by callgrind (repeatable on a noisy machine):
# bench/writer/check-ins.mjs with ROUNDS=0 and ROUNDS=$ROUNDS, the difference divided by the check-ins of the
# measured rounds. Compiles the server into dist/bench first. About two minutes per run on a 2-core machine.
# Usage: bench/writer/callgrind.sh [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-2}"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind" >&2; exit 1; }
node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir dist/bench
count() {
  local out
  out="$(mktemp)"
  ROUNDS="$1" valgrind --tool=callgrind --callgrind-out-file="$out" node bench/writer/check-ins.mjs 2>&1 >/dev/null |
    awk '/Collected/ { gsub(",", "", $4); print $4 }'
  rm -f "$out"
}
base="$(count 0)"
measured="$(count "$rounds")"
echo "instructions per check-in: $(( (measured - base) / (rounds * 6000) )) (callgrind, $rounds rounds of 6,000 minus a run of none)"
