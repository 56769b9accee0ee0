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
# Each of BENCH_RUNS rounds times the loop and then the analysis (tests/bench/timed.bash), both
# from fresh copies as in match.sh (the file the linker wrote ran up to 20% slower): printed are
# the ratio of the best times and the lowest and highest ratio of a round. Never fails on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup vantage
n=${BENCH_PACKETS:-2000000}
long=${BENCH_LONG:-4}
gap_ns=100000
bench_cc icmpgen
bench_cc pcaploop -lpcap
cp "$bin/vmdelay-analyze" "$tmp/analyze.copy"
cp "$tmp/pcaploop" "$tmp/pcaploop.copy"
mv -f "$tmp/pcaploop.copy" "$tmp/pcaploop"

. "$root/tests/bench/timed.bash"
loop_all() { for f in "$@"; do "$tmp/pcaploop" "$f" || return 1; done; }
export -f loop_all
export tmp

# row LABEL PACKETS BASE... -- OURS...: the loop and the analysis in $runs rounds, one row
row() {
	local label=$1 total=$2 base_c ours_c ratio lo hi rss
	shift 2
	read -r base_c ours_c ratio lo hi rss <<<"$(timed_vs "$@")"
	awk -v label="$label" -v n="$total" -v bl="$base_c" -v bo="$ours_c" -v r="$ratio" \
		-v lo="$lo" -v hi="$hi" -v rss="$rss" 'BEGIN {
		printf "%-32s %10.2f %10.2f %7.2f %11s %7d MiB\n", label, n / bl / 1e6,
			n / bo / 1e6, r, sprintf("%.2f-%.2f", lo, hi), rss / 1024 }'
}

printf '%-32s %10s %10s %7s %11s %11s\n' "vantage points (best of $runs)" "loop Mp/s" "ours Mp/s" \
	ratio "round lo-hi" "peak RSS"
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
		loop_all "${files[@]}" >/dev/null # warm the page cache
		row "$label" $((pk * count)) bash -c 'loop_all "$@"' _ "${files[@]}" -- \
			"$tmp/analyze.copy" -q --json "${specs[@]}"
	done
	read -r csv_c csv_rss <<<"$(runs=1 timed "$tmp/analyze.copy" -q --csv -o "$tmp/rows.csv" \
		"l0=$tmp/v0.pcap" "l1=$tmp/v1.pcap" "l2=$tmp/v2.pcap" "l3=$tmp/v3.pcap")"
	printf '%-32s %10s %10.2f %7s %11s %7d MiB\n' "4 x $pk --csv" - \
		"$(awk -v n="$((pk * 4))" -v s="$csv_c" 'BEGIN { print (s > 0 ? n / s / 1e6 : 0) }')" - - \
		"$((csv_rss / 1024))"
	for k in 2 3; do
		"$tmp/icmpgen" "$pk" 50 rr "$k" "$gap_ns" -2500000000 37000 >"$tmp/c$k.pcap"
	done
	clocked=("$tmp/v0.pcap" "$tmp/v1.pcap" "$tmp/c2.pcap" "$tmp/c3.pcap")
	for rest in "" "--rest 100"; do
		# shellcheck disable=SC2086 # $rest: nothing or an option and its value
		row "4 x $pk, 2 clocks${rest:+ $rest}" $((pk * 4)) bash -c 'loop_all "$@"' _ \
			"${clocked[@]}" -- "$tmp/analyze.copy" -q --json $rest "l0:host=${clocked[0]}" \
			"l1:host=${clocked[1]}" "l2:vm=${clocked[2]}" "l3:vm=${clocked[3]}"
	done
	rm -f "$tmp"/v*.pcap "$tmp"/c*.pcap "$tmp/rows.csv"
done
