#!/usr/bin/env bash
# timeout: 120
# Two vantage points built from one real capture: the same file twice gives Δ = 0 on one clock and,
# on two clock labels with a shifted copy, an alignment offset equal to the shift and Δ = 0; a
# copy whose requests are 200 µs earlier and replies 300 µs later gives send 200, recv 300 and
# Δ 500 µs on every probe.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$REAL/5-pings.pcap"
cols() { # csv vantage -> "delta send recv" per row of that vantage
	awk -F, -v v="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["vantage"] == v { print $c["delta_ns"], $c["send_ns"], $c["recv_ns"] }' "$1"
}

# 1. the same file twice, one clock
"$AN" -q --csv "outer=$src" "inner=$src" >"$tmp/same.csv" || fail "same file twice: exit $?"
[ "$(cols "$tmp/same.csv" inner | sort -u)" = "0 0 0" ] || fail "same file twice: Δ not 0: $(cols "$tmp/same.csv" inner)"
[ "$(cols "$tmp/same.csv" inner | wc -l)" = 5 ] || fail "same file twice: not 5 probes"

# 2. a copy 2.5 s later on another clock label: offset 2.5 s, skew 0, Δ = 0, send = recv = 0
pcap_shift "$src" 2500000 2500000 "$tmp/late.pcap"
for m in hull lsq; do
	"$AN" -q --json --align "$m" "a:x=$src" "b:y=$tmp/late.pcap" >"$tmp/late.json" || fail "shifted copy ($m): exit $?"
	off=$(json_num "$tmp/late.json" offset_ns)
	skew=$(json_num "$tmp/late.json" skew_ppm)
	awk -v o="$off" -v s="$skew" 'BEGIN { exit !(o == 2500000000 && s == 0) }' ||
		fail "shifted copy ($m): offset_ns $off skew_ppm $skew, want 2500000000 and 0"
	"$AN" -q --csv --align "$m" "a:x=$src" "b:y=$tmp/late.pcap" >"$tmp/late.csv"
	[ "$(cols "$tmp/late.csv" b | sort -u)" = "0 0 0" ] || fail "shifted copy ($m): $(cols "$tmp/late.csv" b | sort -u | head -3)"
done
# without alignment the one-way split is not given between different clocks
"$AN" -q --csv --align none "a:x=$src" "b:y=$tmp/late.pcap" >"$tmp/none.csv"
[ "$(cols "$tmp/none.csv" b | sort -u)" = "0  " ] || fail "--align none: $(cols "$tmp/none.csv" b | sort -u)"

# 3. requests 200 µs earlier, replies 300 µs later inside, one clock
pcap_shift "$src" -200 300 "$tmp/inner.pcap"
"$AN" -q --csv "wire=$src" "guest=$tmp/inner.pcap" >"$tmp/in.csv" || fail "inner copy: exit $?"
[ "$(cols "$tmp/in.csv" guest | sort -u)" = "500000 200000 300000" ] || fail "inner copy: $(cols "$tmp/in.csv" guest | sort -u)"
"$AN" -q --json "wire=$src" "guest=$tmp/inner.pcap" >"$tmp/in.json"
med=$(sed -n '/"deltas"/{n;p;}' "$tmp/in.json" | grep -o '"median_ns": [0-9]*' | sed 's/.*: //')
[ "$med" = 500000 ] || fail "inner copy: delta median_ns $med"
# text output names the layer after the inner vantage point
"$AN" -q "wire=$src" "guest=$tmp/inner.pcap" | grep -q '^guest *wire *guest *send' || fail "text table lacks the guest send row"
echo "$fails failures"
[ "$fails" -eq 0 ]
