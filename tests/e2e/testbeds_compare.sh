#!/usr/bin/env bash
# timeout: 120
# vmdelay-analyze compare as a user runs it: a store with runs of two testbeds (filled with the
# sqlite3 CLI after vmdelay made the schema), the side-by-side table, CSV, JSON and --plot; bad
# --by, a missing database and one that is not SQLite; runs labelled with --testbed, --scenario and
# --meta and compared by a metadata key.
set -u
bin=${VMDELAY_BIN:-build/asan/bin}
an=$bin/vmdelay-analyze
[ -x "$an" ] || { echo "vmdelay-analyze not built ($an)" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

db=$tmp/v.db
: >"$db" # an empty file is a new SQLite database: compare (read-only) finds nothing in it
"$an" compare --db "$db" >"$tmp/out" 2>"$tmp/err" || fail "empty store: exit $?"
grep -q 'no stored results' "$tmp/err" || fail "empty store: no note: $(cat "$tmp/err")"
[ ! -s "$db" ] || fail "compare wrote into the empty store"
# vmdelay makes the schema (a writer), the run it stored is then removed
g="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
"$an" -q --db "$db" "wire:peer=$g/wire.pcap" "guest:vm=$g/tping.csv" >/dev/null || fail "creating the store"
sqlite3 "$db" "PRAGMA foreign_keys = ON; DELETE FROM runs; DELETE FROM testbeds;" || fail "emptying the store"

sqlite3 "$db" <<'EOF' || fail "filling the store"
INSERT INTO testbeds(id, name) VALUES (1, 'netns'), (2, 'qemu');
INSERT INTO runs(id, testbed_id, tool, tool_version, scenario, complete) VALUES
 (1, 1, 'vmdelay-analyze', 't', 'whiteaker', 1), (2, 1, 'vmdelay-analyze', 't', 'whiteaker', 1),
 (3, 2, 'vmdelay-analyze', 't', 'whiteaker', 1), (4, 2, 'vmdelay-analyze', 't', 'whiteaker', 0);
INSERT INTO run_meta VALUES (1, 'load', 'cpu'), (2, 'load', 'io'), (3, 'load', 'cpu'), (4, 'load', 'cpu');
INSERT INTO results(run_id, vantage, metric, phase, direction, stat, value, idx) VALUES
 (1, 'vif', 'delta_bridge', 'load', 'rtt', 'median_ns', 12000, 0), (1, 'vif', 'delta_bridge', 'load', 'rtt', 'p99_ns', 34000, 1),
 (2, 'vif', 'delta_bridge', 'load', 'rtt', 'median_ns', 15000, 0), (2, 'vif', 'delta_bridge', 'load', 'rtt', 'p99_ns', 45000, 1),
 (3, 'vif', 'delta_bridge', 'load', 'rtt', 'median_ns', 250000, 0), (3, 'vif', 'delta_bridge', 'load', 'rtt', 'p99_ns', 900000, 1),
 (4, 'vif', 'delta_bridge', 'load', 'rtt', 'median_ns', 1, 0), (4, 'vif', 'delta_bridge', 'load', 'rtt', 'p99_ns', 1, 1);
EOF

"$an" compare --db "$db" >"$tmp/text" 2>"$tmp/err" || fail "text: exit $? $(cat "$tmp/err")"
cat "$tmp/text"
head -n 1 "$tmp/text" | grep -q 'netns/whiteaker/cpu median_us' || fail "text: no netns/cpu column"
head -n 1 "$tmp/text" | grep -q 'qemu/whiteaker/cpu p99_us' || fail "text: no qemu/cpu column"
grep -q 'delta_bridge.*12\.000.*34\.000.*15\.000.*45\.000.*250\.000.*900\.000' "$tmp/text" ||
	fail "text: values not side by side in µs"

"$an" compare --db "$db" --by testbed --csv >"$tmp/csv" || fail "csv: exit $?"
cat "$tmp/csv"
head -n 1 "$tmp/csv" | grep -qx 'testbed,metric,vantage,phase,direction,runs,median_ns,p99_ns' ||
	fail "csv header: $(head -n 1 "$tmp/csv")"
# netns: two runs, median of 12000 and 15000; the incomplete qemu run 4 is not counted.
grep -qx 'netns,delta_bridge,vif,load,rtt,2,13500,39500' "$tmp/csv" || fail "csv: netns row"
grep -qx 'qemu,delta_bridge,vif,load,rtt,1,250000,900000' "$tmp/csv" || fail "csv: qemu row"

"$an" compare --db "$db" --by load --json >"$tmp/json" || fail "json: exit $?"
[ "$(wc -l <"$tmp/json")" -eq 2 ] || fail "json: expected 2 lines"
if command -v jq >/dev/null; then
	[ "$(jq -s 'map(select(.load == "cpu"))[0].runs' "$tmp/json")" = 2 ] || fail "json: cpu runs"
fi

"$an" compare --db "$db" --plot "$tmp/plots" >/dev/null 2>"$tmp/err" || fail "plot: exit $?"
[ -s "$tmp/plots/compare.dat" ] && [ -s "$tmp/plots/compare.gp" ] || fail "plot: no data or script"
grep -q 'netns/whiteaker/cpu' "$tmp/plots/compare.dat" || fail "plot data: no group names"

# A key no stored run has (a typo) and a malformed one: usage errors naming the key.
"$an" compare --db "$db" --by testbed,flavour >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "bad --by: exit code"
grep -q "flavour" "$tmp/err" || fail "bad --by: message does not name the key"
"$an" compare --db "$db" --by 'test bed' >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "test bed" "$tmp/err" || fail "malformed --by key: $(cat "$tmp/err")"

# Runs labelled by the tool itself (--testbed, --scenario, --meta), grouped by a metadata key.
g=${VMDELAY_ROOT:-.}/tests/golden/analyze_synth
specs=("wire:peer=$g/wire.pcap" "bridge:host=$g/bridge.pcap" "guest:vm=$g/tping.csv")
for nic in e1000 virtio e1000; do
	"$an" -q --db "$tmp/m.db" --testbed lab --scenario synth --label "nic $nic" \
		--meta "scenario.nic=$nic" --meta note=x=y "${specs[@]}" >/dev/null 2>"$tmp/err" ||
		fail "analyze --meta: exit $? $(cat "$tmp/err")"
done
[ "$(sqlite3 -batch -noheader "$tmp/m.db" "SELECT group_concat(t.name || '/' || r.scenario || '/' ||
	(SELECT value FROM run_meta WHERE run_id = r.id AND key = 'scenario.nic') || '/' ||
	(SELECT value FROM run_meta WHERE run_id = r.id AND key = 'note'), ' ')
	FROM runs r JOIN testbeds t ON t.id = r.testbed_id")" = "lab/synth/e1000/x=y lab/synth/virtio/x=y lab/synth/e1000/x=y" ] ||
	fail "analyze --testbed/--scenario/--meta not stored"
"$an" compare --db "$tmp/m.db" --by scenario.nic --csv >"$tmp/nic.csv" || fail "compare --by scenario.nic: exit $?"
head -n 1 "$tmp/nic.csv" | grep -q '^scenario.nic,metric,' || fail "compare --by scenario.nic: header"
[ "$(cut -d, -f1 "$tmp/nic.csv" | sed 1d | sort -u | tr '\n' ' ')" = "e1000 virtio " ] ||
	fail "compare --by scenario.nic: groups $(cut -d, -f1 "$tmp/nic.csv" | sort -u | tr '\n' ' ')"
grep -q '^e1000,total,.*,2,' "$tmp/nic.csv" || fail "compare --by scenario.nic: e1000 has 2 runs"
rm -f "$tmp/m.db"
"$an" -q --db "$tmp/m.db" --meta run=1 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "--meta without a vantage point: exit code"
"$an" -q --meta flavour=a "$tmp/x.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- '--db' "$tmp/err" || fail "--meta without --db: $(cat "$tmp/err")"
"$an" -q --db "$tmp/m.db" --meta novalue "$tmp/x.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--meta: expected KEY=VALUE, got 'novalue'" "$tmp/err" ||
	fail "--meta without '=': $(cat "$tmp/err")"
[ -e "$tmp/m.db" ] && fail "a bad --meta created the store"
"$bin/tping" --meta a=b 127.0.0.1 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "'--meta' needs '--db'" "$tmp/err" || fail "tping --meta without --db: $(cat "$tmp/err")"
"$bin/tperf" send 127.0.0.1 -n 1K --meta 'a b=c' --db "$tmp/m.db" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--meta: bad key 'a b'" "$tmp/err" || fail "tperf bad --meta key: $(cat "$tmp/err")"
"$an" compare >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- '--db' "$tmp/err" || fail "no --db: exit 2 naming --db"
"$an" compare --db "$tmp/nope.db" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'nope.db' "$tmp/err" || fail "missing db: exit 1 naming the file"
[ -e "$tmp/nope.db" ] && fail "missing db: compare created it"
echo "this is not a database, just text that is long enough to have a header......." >"$tmp/t.db"
"$an" compare --db "$tmp/t.db" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 't.db' "$tmp/err" || fail "not SQLite: exit 1 naming the file"
echo "compare: ok"
