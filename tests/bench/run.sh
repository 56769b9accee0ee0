#!/usr/bin/env bash
# Runs every benchmark (tests/bench/*.sh other than this one) against release binaries.
# Benchmarks report ratios against a baseline measured in the same run; they never fail on speed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
export VMDELAY_ROOT="$root"
export VMDELAY_BIN="${VMDELAY_BIN:-$root/build/release/bin}"
export VMDELAY_SHARED="${VMDELAY_SHARED:-$(cd "$root/.." && pwd)/shared}"
rc=0
for b in "$root"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b") failed"; rc=1; }
done
exit $rc
