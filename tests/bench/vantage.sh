#!/usr/bin/env bash
# Many vantage points: `vmdelay-analyze` over 1, 2, 4 and 8 captures of the same probes (ICMP,
# 50 hosts round robin, a packet every 100 µs: 5000 probes/s, a realistic ping rate;
# tests/bench/icmpgen.c LAYER k: each capture one layer further in) against a bare libpcap loop
# reading all of them, in the same run: packets per CPU second, the ratio, and peak RSS. Two
# trace lengths: BENCH_PACKETS (2000000) packets per capture and BENCH_LONG (4) times that; the
# analysis streams (docs/methodology.md, "Memory"), one point too, so peak RSS must not grow with
# the length: it holds the probes after the earliest request still waiting for its reply
# (within the reply wait, 10 s: up to 50000 probes here, as 1 request in 1000 is lost) and the
# times of at most 2^20 probes (exact medians), then bounded sketches. Best of BENCH_RUNS (3).
# "1 x N, whole": the same trace given as "FILE#*" (every interface a point: one here),
# which is read whole and analysed after reading: what streaming one point costs or saves.
# "4 x N --csv": the same with one row per probe and point written to a file (-o) as each probe
# leaves the window (one run: the rows of 4 x 8M packets are 2 GB); its peak RSS must not grow
# with the length either.
# "4 x N, 2 clocks": the 4 captures with the inner two on another clock (2.5 s behind, 37 ppm
# fast), as a guest's beside its host's: a first pass fits the clock from the two captures
# around it, a second streams (docs/methodology.md, "Clock fit in two passes"); peak RSS must
# not grow with the length; the ratio is against the bare loop reading the 4 captures once.
# "2 clocks --rest 100": the same with the clock fitted from the first and last 100 probes, which
# takes a third pass over the 4 captures (lib/delay/clock_rest.c).
# Never fails on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup vantage
n=${BENCH_PACKETS:-2000000}
long=${BENCH_LONG:-4}
gap_ns=100000
bench_cc icmpgen
bench_cc pcaploop -lpcap

. "$root/tests/bench/timed.bash"
loop_all() { for f in "$@"; do "$tmp/pcaploop" "$f" || return 1; done; }
export -f loop_all
export tmp

printf '%-28s %10s %10s %7s %10s\n' "vantage points (best of $runs)" "loop Mp/s" "ours Mp/s" ratio "peak RSS"
for pk in "$n" $((n * long)); do
	for k in 0 1 2 3 4 5 6 7; do
		"$tmp/icmpgen" "$pk" 50 rr "$k" "$gap_ns" >"$tmp/v$k.pcap"
	done
	for count in 1 1w 2 4 8; do
		files=() specs=() whole="" label="${count%w} x $pk packets"
		if [ "$count" = 1w ]; then
			whole="#*"
			label+=", whole"
			count=1
		fi
		for ((k = 0; k < count; k++)); do
			files+=("$tmp/v$k.pcap")
			specs+=("l$k=$tmp/v$k.pcap$whole")
		done
		read -r base_c _ <<<"$(timed bash -c 'loop_all "$@"' _ "${files[@]}")"
		read -r ours_c ours_rss <<<"$(timed "$bin/vmdelay-analyze" -q --json "${specs[@]}")"
		total=$((pk * count))
		printf '%-28s %10.2f %10.2f %7.2f %10s\n' "$label" \
			"$(awk -v n="$total" -v s="$base_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" \
			"$(awk -v n="$total" -v s="$ours_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" \
			"$(awk -v a="$base_c" -v b="$ours_c" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
			"$((ours_rss / 1024)) MiB"
	done
	read -r csv_c csv_rss <<<"$(runs=1 timed "$bin/vmdelay-analyze" -q --csv -o "$tmp/rows.csv" \
		"l0=$tmp/v0.pcap" "l1=$tmp/v1.pcap" "l2=$tmp/v2.pcap" "l3=$tmp/v3.pcap")"
	printf '%-28s %10s %10.2f %7s %10s\n' "4 x $pk --csv" - \
		"$(awk -v n="$((pk * 4))" -v s="$csv_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" - \
		"$((csv_rss / 1024)) MiB"
	for k in 2 3; do
		"$tmp/icmpgen" "$pk" 50 rr "$k" "$gap_ns" -2500000000 37000 >"$tmp/c$k.pcap"
	done
	read -r base_c _ <<<"$(timed bash -c 'loop_all "$@"' _ "$tmp/v0.pcap" "$tmp/v1.pcap" "$tmp/c2.pcap" "$tmp/c3.pcap")"
	for rest in "" "--rest 100"; do
		read -r clk_c clk_rss <<<"$(timed "$bin/vmdelay-analyze" -q --json $rest "l0:host=$tmp/v0.pcap" \
			"l1:host=$tmp/v1.pcap" "l2:vm=$tmp/c2.pcap" "l3:vm=$tmp/c3.pcap")"
		printf '%-28s %10.2f %10.2f %7.2f %10s\n' "4 x $pk, 2 clocks${rest:+ $rest}" \
			"$(awk -v n="$((pk * 4))" -v s="$base_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" \
			"$(awk -v n="$((pk * 4))" -v s="$clk_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" \
			"$(awk -v a="$base_c" -v b="$clk_c" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
			"$((clk_rss / 1024)) MiB"
	done
	rm -f "$tmp"/v*.pcap "$tmp"/c*.pcap "$tmp/rows.csv"
done
