#!/usr/bin/env bash
# timeout: 120
# --db stores the run, its vantage points and results in SQLite (read back with sqlite3);
# --plot writes the SVG charts (our own writer: gnuplot is tested in analyze_plot.sh); -o writes
# the report to a file.
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed" >&2; exit 77; }
g="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
specs=("wire:peer=$g/wire.pcap" "bridge:host=$g/bridge.pcap" "guest:vm=$g/tping.csv")
VMDELAY_GNUPLOT=none "$AN" -q --db "$tmp/runs.db" --label golden --plot "$tmp/plots" -o "$tmp/report.txt" "${specs[@]}" ||
	fail "exit $?"
grep -q '^guest.kernel ' "$tmp/report.txt" || fail "report file lacks the guest.kernel vantage point"
q() { sqlite3 -batch -noheader "$tmp/runs.db" "$1"; }
[ "$(q "SELECT tool || ' ' || complete || ' ' || label FROM runs")" = "vmdelay-analyze 1 golden" ] ||
	fail "runs row: $(q 'SELECT * FROM runs')"
[ "$(q "SELECT group_concat(name || ':' || clock || ':' || matched, ' ') FROM vantage_points")" = \
	"wire:peer:40 bridge:host:40 guest.kernel:vm:40 guest.user:vm:40" ] ||
	fail "vantage_points: $(q 'SELECT * FROM vantage_points')"
skew=$(q "SELECT round(value, 1) FROM results WHERE metric = 'align' AND vantage = 'guest.kernel' AND stat = 'skew_ppm'")
[ "$skew" = 50.0 ] || fail "stored skew $skew"
n=$(q "SELECT count(*) FROM results WHERE metric = 'delta' AND stat = 'median_ns' AND direction IN ('rtt', 'send', 'recv')")
[ "$n" = 36 ] || fail "stored delta medians: $n (3 layers x 3 directions x 4 phases)"
# the stored median equals the JSON report's
"$AN" -q --json "${specs[@]}" >"$tmp/r.json"
want=$(sed -n '/"deltas"/{n;p;}' "$tmp/r.json" | grep -o '"median_ns": [0-9]*' | sed 's/.*: //')
got=$(q "SELECT CAST(value AS INTEGER) FROM results WHERE metric = 'delta' AND vantage = 'bridge' AND direction = 'rtt' AND phase = 'all' AND stat = 'median_ns'")
[ "$got" = "$want" ] || fail "stored bridge delta median $got, JSON $want"
for f in rtt_cdf rtt_time delta_cdf send_recv_pdf; do
	[ -s "$tmp/plots/$f.svg" ] || { fail "no $f.svg"; continue; }
	head -c 200 "$tmp/plots/$f.svg" | grep -q '<svg' || fail "$f.svg is not SVG"
	tail -n 1 "$tmp/plots/$f.svg" | grep -q '</svg>' || fail "$f.svg is incomplete"
done
grep -c '<polyline' "$tmp/plots/delta_cdf.svg" | grep -qx 4 || fail "delta_cdf.svg: want 4 curves (3 layers + total)"
# a second run appends
"$AN" -q --db "$tmp/runs.db" "${specs[@]}" >/dev/null || fail "second run"
[ "$(q 'SELECT count(*) FROM runs')" = 2 ] || fail "second run not stored"
# an unwritable database: exit 1, message names it
"$AN" -q --db /proc/nope.db "${specs[@]}" >/dev/null 2>"$tmp/err" && fail "unwritable --db accepted"
grep -q '/proc/nope.db' "$tmp/err" || fail "unwritable --db: $(cat "$tmp/err")"
echo "$fails failures"
[ "$fails" -eq 0 ]
