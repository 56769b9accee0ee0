#!/usr/bin/env bash
# timeout: 120
# Aggregation (LRO/GRO) rate from tcpmon records: a synthetic .tcm (written with
# lib/tcmrec's writer, tests/golden/tcm_synth.c) where TCP got N packets of one flow at trans-rx
# with known gso_segs, and a pcap of the tap (written with libpcap's pcap_dump) with that flow's
# M wire data segments. agg_rate is exactly M/N in the text table, --csv, --json and --db, the
# wire segments per delivered packet are what gso_segs said; the .tcm is found by its magic
# (any name), whichever file starts first the first one given is the reference; a .tcm
# without TCP records gets a clear note.
set -u
BIN=${VMDELAY_BIN:-build/asan/bin}
root=${VMDELAY_ROOT:-.}
A="$BIN/vmdelay-analyze"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v cc >/dev/null || { echo "no C compiler for the generator" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "no sqlite3 CLI" >&2; exit 77; }
tmp=$(mktemp -d /tmp/vd-tcpagg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -std=gnu11 -O1 -I"$root/include" -I"$root/tests/golden" -o "$tmp/gen" \
	"$root/tests/golden/gen_tcpagg.c" "$root/tests/golden/tcm_synth.c" "$root/lib/input/tcmrec.c" \
	"$root/lib/core/mem.c" "$root/lib/core/err.c" "$root/lib/out/output.c" "$root/lib/out/json.c" "$root/lib/core/vdtime.c" -lpcap -lm ||
	fail "cannot build gen_tcpagg"
# named .dat: found by content
read -r M N WIRE MAXSEGS < <("$tmp/gen" "$tmp/guest.dat" "$tmp/tap.pcap") || fail "gen_tcpagg"
[ "$M" -gt "$N" ] && [ "$WIRE" = "$M" ] || fail "generator: M=$M N=$N wire=$WIRE"
rate=$(awk -v m="$M" -v n="$N" 'BEGIN { printf "%.3f", m / n }')
flow="10.0.0.1:40000>10.0.0.2:5001"

# CSV: the tap row has no rate, the guest row M/N; the guest's delivered packets are N
"$A" tcp tap="$tmp/tap.pcap" guest="$tmp/guest.dat" --csv >"$tmp/out.csv" 2>"$tmp/err" ||
	fail "csv run: $(cat "$tmp/err")"
row=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ print $c["vantage"], $c["flow"], $c["data_pkts"], $c["agg_rate"], $c["segs_per_pkt"] }' \
	"$tmp/out.csv")
want="tap $flow $M  
guest $flow $N $rate $rate"
[ "$row" = "$want" ] || fail "csv rows:
$row
want:
$want"

# text: the same numbers in the table
"$A" tcp tap="$tmp/tap.pcap" guest="$tmp/guest.dat" >"$tmp/out.txt" 2>"$tmp/err" || fail "text run"
awk -v r="$rate" -v n="$N" '$1 == "guest" && !seen++ { for (i = 1; i <= NF; i++) if ($i == r) k++;
	ok = $3 == n && k == 2 } END { exit !ok }' "$tmp/out.txt" ||
	fail "text table: $(cat "$tmp/out.txt")"
grep -q '^guest .*tcpmon' "$tmp/out.txt" || fail "vantage table: no tcpmon format"

# JSON: the rate to 4 decimals and the delivered object
"$A" tcp tap="$tmp/tap.pcap" guest="$tmp/guest.dat" --json >"$tmp/out.json" 2>"$tmp/err" || fail "json run"
jrate=$(awk -v m="$M" -v n="$N" 'BEGIN { printf "%.4f", m / n }')
grep '"vantage":"guest"' "$tmp/out.json" | grep -q "\"agg_rate\":$jrate,\"delivered\":{\"layer\":\"trans-rx\",\"pkts\":$N,\"wire_segs\":$WIRE,\"segs_per_pkt\":$jrate,\"max_segs\":$MAXSEGS}" ||
	fail "json: $(grep '"vantage":"guest"' "$tmp/out.json" | cut -c1-600)"
grep '"vantage":"tap"' "$tmp/out.json" | grep -q '"agg_rate":null,"delivered":null' || fail "json tap row"

# --db: aggregation/rate is M/N to the last bit
"$A" tcp tap="$tmp/tap.pcap" guest="$tmp/guest.dat" --db "$tmp/r.db" >/dev/null 2>"$tmp/err" ||
	fail "db run: $(cat "$tmp/err")"
got=$(sqlite3 "$tmp/r.db" "SELECT stat || '=' || (value = $M.0 / $N.0) FROM results
	WHERE metric = 'aggregation' AND vantage = 'guest' AND stat IN ('rate', 'segs_per_pkt')
	ORDER BY stat")
[ "$got" = "rate=1
segs_per_pkt=1" ] || fail "db: $got"
[ "$(sqlite3 "$tmp/r.db" "SELECT value FROM results WHERE metric = 'aggregation' AND stat = 'wire_segs'")" = "$WIRE.0" ] ||
	fail "db wire_segs"

# the first one given is the reference, though the guest's records start later
"$A" tcp guest="$tmp/guest.dat" tap="$tmp/tap.pcap" --csv >"$tmp/rev.csv" 2>/dev/null || fail "reversed run"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	NR == 2 && $c["vantage"] != "guest" { exit 1 }
	$c["vantage"] == "tap" && $c["agg_rate"] != sprintf("%.3f", n / m) { exit 1 }' \
	m="$M" n="$N" "$tmp/rev.csv" || fail "reversed: $(cat "$tmp/rev.csv")"

# a .tcm without TCP records: a clear note; the pcap's flow is still analyzed
"$tmp/gen" --icmp "$tmp/icmp.tcm" || fail "gen --icmp"
"$A" tcp tap="$tmp/tap.pcap" guest="$tmp/icmp.tcm" --csv >"$tmp/icmp.csv" 2>"$tmp/err" ||
	fail "icmp-only .tcm: exit $?: $(cat "$tmp/err")"
grep -q 'icmp.tcm: no TCP records at layer trans-rx (.* tcpmon records): no delivered packets' "$tmp/err" ||
	fail "no note for a .tcm without TCP: $(cat "$tmp/err")"
[ "$(grep -c "$flow" "$tmp/icmp.csv")" = 1 ] || fail "icmp-only .tcm: $(cat "$tmp/icmp.csv")"
# alone: nothing to analyze, exit 1
"$A" tcp "$tmp/icmp.tcm" >/dev/null 2>"$tmp/err" && fail "icmp-only .tcm alone: exit 0"
grep -q 'no TCP flow in any trace' "$tmp/err" || fail "icmp-only alone: $(cat "$tmp/err")"
# a selector makes no sense for a record file: usage error naming it
"$A" tcp "$tmp/guest.dat#eth0" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q 'guest.dat: a tcpmon record file has no interfaces' "$tmp/err" || fail "#sel: $(cat "$tmp/err")"
# a damaged .tcm: error naming the file, exit 1
head -c 300 "$tmp/guest.dat" >"$tmp/cut.tcm"
"$A" tcp tap="$tmp/tap.pcap" "$tmp/cut.tcm" >/dev/null 2>"$tmp/err" && fail "damaged .tcm: exit 0"
grep -q 'cut.tcm' "$tmp/err" || fail "damaged: $(cat "$tmp/err")"
echo "agg_rate $rate = $M/$N"
