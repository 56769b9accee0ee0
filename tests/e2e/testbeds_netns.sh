#!/usr/bin/env bash
# timeout: 400
# The netns testbed end to end through testbeds/run: a short scenario (20 probes under CPU load in
# a neighbour, 5 at rest before and after), then what a user checks in the store: the tping run
# with every probe answered, the analysis run with the scenario and load recorded, every vantage
# point (wire, bridge, guest NIC, guest kernel, guest user) matching every probe, per-layer RTT
# Δs non-negative and adding up to the total; every stored run labelled by the runner through the
# tools' options (testbed, label with the --set override, scenario, run_meta rows of every scenario
# key), `compare --by` on such a key; and no namespace, link or process left behind.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
bin=${VMDELAY_BIN:-$root/build/asan/bin}
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
runid_of() { sed -n 's/.*testbed netns \([a-z0-9]*\):.*/\1/p' "$1" | head -n 1; }
cleanup() {
	local id
	id=$(runid_of "$tmp/run.err" 2>/dev/null)
	[ -n "$id" ] && "$root/testbeds/netns/netns.sh" down "$id"
	rm -rf "$tmp"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit cleanup
((EUID == 0)) || { echo "needs root for network namespaces" >&2; exit 77; }
command -v tcpdump >/dev/null || { echo "tcpdump not installed (make deps)" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed (make deps)" >&2; exit 77; }
[ -x "$bin/tping" ] || { echo "tping is not built ($bin/tping)" >&2; exit 77; }
[ -x "$bin/vmdelay-analyze" ] || { echo "vmdelay-analyze is not built" >&2; exit 77; }
if "$bin/vmdelay-analyze" --help 2>&1 | grep -q 'not built yet'; then
	echo "vmdelay-analyze has no per-layer analysis yet" >&2
	exit 77
fi

cat >"$tmp/short.scn" <<'EOF'
name = e2e-short
testbed = netns
background_vms = 1
load = cpu
probe_count = 20
probe_interval = 0.1
rest = 5
EOF
db=$tmp/v.db
"$root/testbeds/run" --db "$db" --out "$tmp/runs" --bin "$bin" --testbed e2e-netns \
	--set probe_size=64 "$tmp/short.scn" >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
cat "$tmp/run.err" "$tmp/run.out"
[ $rc -eq 0 ] || fail "testbeds/run exit $rc"
id=$(runid_of "$tmp/run.err")
[ -n "$id" ] || fail "no run id in the progress output"
grep -q 'probes done: 30/30' "$tmp/run.err" || fail "progress: no 'probes done: 30/30'"

q() { sqlite3 -batch -noheader "$db" "$1"; }
# The tping run: 30 probes (5 + 20 + 5), all answered, phases labelled.
tp=$(q "SELECT r.id FROM runs r JOIN testbeds t ON t.id = r.testbed_id
	WHERE r.tool = 'tping' AND t.name = 'e2e-netns' AND r.complete = 1")
[ -n "$tp" ] || fail "no complete tping run under testbed e2e-netns"
[ "$(q "SELECT count(*) FROM probes WHERE run_id = $tp AND status = 'ok'")" -eq 30 ] ||
	fail "tping run: expected 30 answered probes"
[ "$(q "SELECT count(*) FROM probes WHERE run_id = $tp AND phase = 'load'")" -eq 20 ] ||
	fail "tping run: expected 20 probes in the load phase"
[ "$(q "SELECT count(*) FROM probes WHERE run_id = $tp AND phase LIKE 'rest-%'")" -eq 10 ] ||
	fail "tping run: expected 10 probes at rest"

# The analysis run, annotated by the runner.
an=$(q "SELECT r.id FROM runs r JOIN testbeds t ON t.id = r.testbed_id
	WHERE r.tool = 'vmdelay-analyze' AND t.name = 'e2e-netns' AND r.complete = 1
	AND EXISTS (SELECT 1 FROM results s WHERE s.run_id = r.id AND s.metric = 'total')")
[ -n "$an" ] || fail "no complete vmdelay-analyze run"
[ "$(q "SELECT scenario FROM runs WHERE id = $an")" = e2e-short ] || fail "scenario not recorded"
[ "$(q "SELECT value FROM run_meta WHERE run_id = $an AND key = 'load'")" = cpu ] ||
	fail "load not recorded"
[ "$(q "SELECT value FROM run_meta WHERE run_id = $an AND key = 'testbed.run_id'")" = "$id" ] ||
	fail "testbed run id not recorded"
# Both runs carry the scenario's values (the --set override included) and its label.
for run in $tp $an; do
	meta() { q "SELECT value FROM run_meta WHERE run_id = $run AND key = '$1'"; }
	[ "$(meta scenario.probe_size)" = 64 ] || fail "run $run: scenario.probe_size = '$(meta scenario.probe_size)'"
	[ "$(meta scenario.probe_count)" = 20 ] || fail "run $run: scenario.probe_count not stored"
	[ "$(meta scenario.background_vms)" = 1 ] || fail "run $run: scenario.background_vms not stored"
	[ "$(meta scenario.file)" = "$tmp/short.scn" ] || fail "run $run: scenario.file not stored"
	[ "$(q "SELECT label FROM runs WHERE id = $run")" = "e2e-short [probe_size=64]" ] ||
		fail "run $run: label '$(q "SELECT label FROM runs WHERE id = $run")'"
	[ "$(q "SELECT scenario FROM runs WHERE id = $run")" = e2e-short ] || fail "run $run: scenario"
done
[ "$(q "SELECT count(*) FROM runs")" = 2 ] || fail "expected the tping and the analysis run only"
# The runner writes no SQL: the tools store and label the runs.
grep -nE 'sqlite3|INSERT|UPDATE ' "$root/testbeds/run" "$root/testbeds/qemu/lib.sh" &&
	fail "SQL in the testbed scripts"

# Every vantage point, outermost to innermost, saw and matched every probe.
vps=$(q "SELECT group_concat(name, ' ') FROM (SELECT name FROM vantage_points WHERE run_id = $an ORDER BY rowid)")
echo "vantage points: $vps"
for want in wire bridge guest.kernel vif guest.user; do
	[[ " $vps " == *" $want "* ]] || fail "vantage point $want missing (have: $vps)"
done
bad=$(q "SELECT name || ': matched ' || coalesce(matched, 'NULL') || ', unmatched ' || coalesce(unmatched, 'NULL')
	FROM vantage_points WHERE run_id = $an AND (coalesce(matched, 0) < 30 OR coalesce(unmatched, 1) != 0)")
[ -z "$bad" ] || fail "vantage points not fully matched: $bad"

# Stored RTT results are there and non-negative.
[ "$(q "SELECT count(*) FROM results WHERE run_id = $an AND stat IN ('median_ns', 'p99_ns')")" -gt 0 ] ||
	fail "no median/p99 results stored"
neg=$(q "SELECT metric || '/' || vantage || '/' || phase || '/' || stat || ' = ' || value FROM results
	WHERE run_id = $an AND direction IN ('', 'rtt') AND stat IN ('min_ns', 'median_ns', 'p99_ns', 'mean_ns')
	AND value < 0")
[ -z "$neg" ] || fail "negative RTT results: $neg"

# Δs add up: the analysis' stored mean Δ per layer sums to its mean total (every probe was seen
# at every vantage point, so means of per-probe differences add exactly).
sum=$(q "SELECT sum(value) FROM results WHERE run_id = $an AND metric = 'delta' AND phase = 'all'
	AND direction = 'rtt' AND stat = 'mean_ns'")
tot=$(q "SELECT value FROM results WHERE run_id = $an AND metric = 'total' AND phase = 'all'
	AND direction = 'rtt' AND stat = 'mean_ns'")
[ -n "$sum" ] && [ -n "$tot" ] || fail "no mean delta/total results"
awk -v a="$sum" -v b="$tot" 'BEGIN { d = a - b; exit !(d < 5 && d > -5) }' ||
	fail "mean deltas ($sum ns) do not add up to the mean total ($tot ns)"

# Per probe, from the analysis' CSV over the kept traces, in the runner's vantage order: every
# layer's Δ is >= 0 (one clock, causal order), the Δs add up to innermost - outermost RTT, and
# each layer's send + receive delay is its RTT Δ.
dir=$(ls -d "$tmp"/runs/e2e-short-*)
"$bin/vmdelay-analyze" -q --rest 5 --csv "wire=$dir/peer.pcap" "bridge=$dir/bridge.pcap" \
	"guest.kernel=$dir/tping.csv#kernel" "vif=$dir/guest.pcap" "guest.user=$dir/tping.csv#user" \
	>"$tmp/probes.csv" 2>"$tmp/an.err" || fail "vmdelay-analyze --csv: $(cat "$tmp/an.err")"
awk -F, '
BEGIN { nv = 0; split("vantage probe rtt_ns delta_ns send_ns recv_ns", w, " "); for (i in w) want[w[i]] = 1 }
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i
	for (c in want) if (!(c in col)) { print "CSV lacks column " c; bad = 1; exit } ; next }
{
	p = $col["probe"]; v = $col["vantage"]
	if (!(v in vidx)) { vidx[v] = nv; name[nv++] = v }
	rtt[p, vidx[v]] = $col["rtt_ns"]; delta[p, vidx[v]] = $col["delta_ns"]
	snd[p, vidx[v]] = $col["send_ns"]; rcv[p, vidx[v]] = $col["recv_ns"]
	probes[p] = 1
}
END {
	if (bad) exit 1
	if (nv != 5) { print "expected 5 vantage points in the CSV, got " nv; exit 1 }
	n = 0
	for (p in probes) {
		total = 0
		for (v = 1; v < nv; v++) {
			if (rtt[p, v] == "" || delta[p, v] == "") { print "probe " p ": missing at " name[v]; exit 1 }
			if (delta[p, v] < 0) { print "probe " p ": negative delta at " name[v] ": " delta[p, v]; exit 1 }
			if (snd[p, v] + rcv[p, v] != delta[p, v]) { print "probe " p ": send + recv != delta at " name[v]; exit 1 }
			total += delta[p, v]
		}
		if (total != rtt[p, nv - 1] - rtt[p, 0]) { print "probe " p ": deltas do not add up"; exit 1 }
		n++
	}
	if (n != 30) { print "expected 30 probes, got " n; exit 1 }
}' "$tmp/probes.csv" || fail "per-probe deltas"

# Teardown left nothing.
ip netns list | grep -q "vdtb-$id-" && fail "namespaces left: $(ip netns list | grep "vdtb-$id-")"
ip -o link show | grep -q "vd$id" && fail "links left"
pgrep -f "$tmp/runs" >/dev/null && fail "processes left: $(pgrep -af "$tmp/runs")"

# compare sees the run under its testbed and load.
"$bin/vmdelay-analyze" compare --db "$db" --csv >"$tmp/cmp.csv" || fail "compare failed"
grep -q '^e2e-netns,e2e-short,cpu,' "$tmp/cmp.csv" || fail "compare: no e2e-netns/e2e-short/cpu rows"
# ... and groups on any stored metadata key.
"$bin/vmdelay-analyze" compare --db "$db" --by scenario.probe_size,load --csv >"$tmp/cmp2.csv" ||
	fail "compare --by scenario.probe_size failed"
head -n 1 "$tmp/cmp2.csv" | grep -q '^scenario.probe_size,load,metric,' ||
	fail "compare --by scenario.probe_size: header $(head -n 1 "$tmp/cmp2.csv")"
grep -q '^64,cpu,total,' "$tmp/cmp2.csv" || fail "compare --by scenario.probe_size: no 64/cpu rows"
echo "netns testbed: ok (run $id)"
