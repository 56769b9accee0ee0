#!/usr/bin/env bash
# timeout: 60
# Golden test: a synthetic four-vantage-point run (tests/golden/analyze_synth, made by
# `gen_probes DIR 40 3` from tests/golden/gen_probes.c, truth.csv removed) in, the JSON report
# out, compared byte for byte with tests/golden/analyze_synth/expected.json.
# GOLDEN_UPDATE=1 rewrites the expected file (review the diff before committing it).
. "$(dirname "$0")/lib/analyze_lib.sh"
dir="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
cd "$dir" || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$AN" -q --json wire:peer=wire.pcap bridge:host=bridge.pcap kernel:vm=tping.csv#kernel \
	user:vm=tping.csv#user >"$out" || fail "exit $?"
if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
	cp "$out" expected.json
	echo "rewrote $dir/expected.json" >&2
fi
diff -u expected.json "$out" >&2 || fail "JSON report differs from expected.json"
[ "$fails" -eq 0 ]
