#!/usr/bin/env bash
# timeout: 600
# Packet traces on several clock labels stream too: a first pass fits the clocks, a second
# streams on them (docs/methodology.md, "Clock fit in two passes"). The report and --csv rows
# must be those computed after reading (every probe kept: --plot), byte for byte, on captures of
# the same probes at 4 layers (tests/bench/icmpgen.c) whose inner two read another clock (2.5 s
# behind and 37 ppm fast, or ahead and slow), every host order icmpgen makes, a packet every
# 1 µs and every 100 µs, hull and lsq, --window, layer delays that vary per probe; on three
# clocks (a fit against a fitted point); with --rest N (the clocks fitted from the first and
# last N probes: from the second pass's summaries, or with --csv a third pass); on real captures copied onto another clock; and where the two
# passes give way (--align none, a damaged trace, no delay between the fitted points) the usual
# way's report is given. The fit must find the clock icmpgen wrote.
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1
. "$(dirname "$0")/lib/stream_same.sh"

# near: |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; exit !(d <= t && -d <= t) }'; }

for clock in "-2500000000 37000" "1800000000000 -12500"; do
	read -r off skew <<<"$clock"
	for gap in 1000 100000; do
		for order in rr burst random wrap; do
			for k in 0 1; do
				"$tmp/icmpgen" 60000 50 "$order" "$k" "$gap" >"$tmp/l$k.pcap" || exit 1
			done
			for k in 2 3; do
				"$tmp/icmpgen" 60000 50 "$order" "$k" "$gap" "$off" "$skew" >"$tmp/l$k.pcap" || exit 1
			done
			specs=("w:host=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/l2.pcap" "u:vm=$tmp/l3.pcap")
			label="clock $off ns $skew ppb, $order gap $gap"
			same "$label" "${specs[@]}"
			same "$label, lsq" --align lsq "${specs[@]}"
			same_csv "$label" file "${specs[@]}"
			# the layer icmpgen wrote: the guest's requests 50 ns before the bridge's, its
			# replies 50 ns after, on a clock off by $off + $skew ppb of true time, which is
			# skew / (1 + skew) of the guest's own time (theta's axis, align.h)
			fit_skew=$(json_num "$tmp/s.json" skew_ppm)
			fit_off=$(json_num "$tmp/s.json" offset_ns)
			want=$(awk -v s="$skew" 'BEGIN { k = s * 1e-9; printf "%.6f", k / (1 + k) * 1e6 }')
			near "$fit_skew" "$want" 0.0001 || fail "$label: skew $fit_skew ppm, want $want"
			near "$fit_off" "$off" 100 || fail "$label: offset $fit_off ns, want $off"
			send=$(grep -o '"layer": "k", "outer": "b", "inner": "k", "phase": "all", "n": [0-9]*, "min_ns": [-0-9]*, "median_ns": [-0-9]*' "$tmp/s.json" | sed -n 2p | sed 's/.*median_ns": //')
			[ "$send" = 50 ] || fail "$label: guest layer's median send delay $send ns, want 50"
		done
		same "clock $off, gap $gap, --window 2ms" --window 2ms "${specs[@]}"
		same_csv "clock $off, gap $gap, --window 2ms" "file pipe o" --window 2ms "${specs[@]}"
		# --rest N: the clocks fitted from the first and last N probes (--csv: a third pass)
		same "clock $off, gap $gap, --rest 100" --rest 100 "${specs[@]}"
		same_csv "clock $off, gap $gap, --rest 100" "file pipe o" --rest 100 "${specs[@]}"
		# every probe at rest, the first and the last N overlapping
		same "clock $off, gap $gap, --rest 20000" --rest 20000 "${specs[@]}"
		# the two passes give way: the usual way's report
		same "clock $off, gap $gap, --align none" --align none "${specs[@]}"
	done
done

# one-way delays that vary per probe and layer (up to 10 µs a layer, a packet every 100 µs)
for order in rr random wrap; do
	for k in 0 1; do
		"$tmp/icmpgen" 60000 50 "$order" "$k" 100000 0 0 10000 >"$tmp/j$k.pcap" || exit 1
	done
	for k in 2 3; do
		"$tmp/icmpgen" 60000 50 "$order" "$k" 100000 -2500000000 37000 10000 >"$tmp/j$k.pcap" || exit 1
	done
	specs=("w:host=$tmp/j0.pcap" "b:host=$tmp/j1.pcap" "k:vm=$tmp/j2.pcap" "u:vm=$tmp/j3.pcap")
	same "jittered layers, $order" "${specs[@]}"
	same "jittered layers, $order, lsq" --align lsq "${specs[@]}"
	same_csv "jittered layers, $order" file "${specs[@]}"
done

# three clocks: the guest's fit is against the bridge, itself fitted against the wire
"$tmp/icmpgen" 60000 50 random 1 100000 700000000 -8000 >"$tmp/l1.pcap" || exit 1
same "three clocks" "w:peer=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/l2.pcap" "u:vm=$tmp/l3.pcap"
[ "$(grep -c '"against"' "$tmp/s.json")" = 2 ] || fail "three clocks: not two fits"
same "three clocks, --rest 50" --rest 50 "w:peer=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/l2.pcap" "u:vm=$tmp/l3.pcap"
same_csv "three clocks" file "w:peer=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/l2.pcap"

# a guest trace cut short (damaged): the analysis goes back to reading, which reports it
head -c 1000000 "$tmp/l2.pcap" >"$tmp/cut.pcap"
same "two clocks, a trace cut short, -k (exit 1 both ways)" -k "w:host=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/cut.pcap"
same_csv "two clocks, a trace cut short, -k" "file pipe o" -k "w:host=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/cut.pcap"
# the bridge's trace again on another clock label: no delay between the two, so the hull line
# leaves no room to nest on; read the usual way
same "a trace and its shifted copy on another clock" "b:host=$tmp/l1.pcap" "c:vm=$tmp/l1.pcap"

# real captures, the inner copy on a clock 2.5 s ahead with requests 200 µs earlier and
# replies 300 µs later
if [ -d "$REAL/expected" ]; then
	n=0
	for f in 5-pings.pcap dns_icmp.pcap echoAndEchoReply.pcap timeout-with-pings.pcap; do
		[ -f "$REAL/$f" ] || continue
		pcap_shift "$REAL/$f" 2499800 2500300 "$tmp/real_in.pcap"
		same "real $f on two clocks" "wire:a=$REAL/$f" "guest:b=$tmp/real_in.pcap"
		same_csv "real $f on two clocks" file "wire:a=$REAL/$f" "guest:b=$tmp/real_in.pcap"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "no real ping capture found in $REAL"
fi
((fails == 0)) || exit 1
echo "clocks stream: the two-pass reports and --csv rows equal those computed after reading"
