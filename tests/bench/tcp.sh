#!/usr/bin/env bash
# Benchmark: `vmdelay-analyze tcp` against a bare libpcap read loop (tests/bench/pcaploop.c) over
# the same files, in the same run, on synthetic bulk transfers (tests/bench/tcpgen.c) with
# BENCH_FLOWS ("1 50 1000 10000 65535") concurrent connections (round robin: every packet is
# another connection's), at one vantage point and at two (the same packets 30 µs later, matched
# across the two points).
# Rates are packets per CPU second (user + sys to the microsecond: on a shared machine the wall
# clock mostly measures the neighbours). Each of BENCH_RUNS (3) rounds times the loop and then the
# analysis (tests/bench/timed.bash), so each round gives one ratio measured under the same load:
# the ratio of the best times and the range of the rounds' ratios are printed. Both programs run
# from fresh copies, as in match.sh (the file the linker wrote ran up to 20% slower).
# Then peak RSS on a long trace (BENCH_PACKETS, 2000000 per vantage point) against a short one
# (a fifth) with the same connections: memory is per connection, not per packet, so it must
# not grow with the trace (fails if it grows by more than 10%). Never fails on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup tcp
n=${BENCH_PACKETS:-2000000}
bench_cc tcpgen
bench_cc pcaploop -lpcap
cp "$bin/vmdelay-analyze" "$tmp/analyze.copy"
cp "$tmp/pcaploop" "$tmp/pcaploop.copy"
mv -f "$tmp/pcaploop.copy" "$tmp/pcaploop"
. "$root/tests/bench/timed.bash"

loop_all() { for f in "$@"; do "$tmp/pcaploop" "$f" || return 1; done; }
export -f loop_all
export tmp

# traces FLOWS PACKETS: a.pcap (reference) and b.pcap (30 µs later) in $tmp
traces() {
	"$tmp/tcpgen" "$2" "$1" >"$tmp/a.pcap"
	"$tmp/tcpgen" "$2" "$1" 30 >"$tmp/b.pcap"
}

# shape LABEL PACKETS VANTAGE: the loop and the analysis in $runs rounds, one row
shape() {
	local label=$1 pk=$2 nv=$3 files=("$tmp/a.pcap") specs=("host=$tmp/a.pcap")
	local base_c ours_c ratio lo hi ours_rss
	[ "$nv" = 2 ] && files+=("$tmp/b.pcap") && specs+=("guest=$tmp/b.pcap")
	loop_all "${files[@]}" >/dev/null # warm the page cache
	# --max-flows: two points of 65,535 connections are 131,070 flows, past the default cap
	read -r base_c ours_c ratio lo hi ours_rss <<<"$(timed_vs bash -c 'loop_all "$@"' _ \
		"${files[@]}" -- "$tmp/analyze.copy" tcp -q --json --max-flows 262144 "${specs[@]}")"
	awk -v label="$label" -v n="$((pk * nv))" -v bl="$base_c" -v bo="$ours_c" -v r="$ratio" \
		-v lo="$lo" -v hi="$hi" -v rss="$ours_rss" 'BEGIN {
		printf "%-30s %10.2f %10.2f %6.2f  %.2f-%.2f %10d\n", label, n / bl / 1e6,
			n / bo / 1e6, r, lo, hi, rss }'
}

printf '%-30s %10s %10s %6s  %-9s %10s\n' "shape ($n packets per point)" "loop Mp/s" \
	"ours Mp/s" "ratio" "rounds" "peak kB"
printf '%-30s %10s %10s %6s  %-9s %10s\n' "" "(best)" "(best)" "(best)" "(lo-hi)" ""
for flows in ${BENCH_FLOWS:-1 50 1000 10000 65535}; do
	traces "$flows" "$n"
	for nv in 1 2; do
		shape "$flows connections, $nv vantage" "$n" "$nv"
	done
done

# Peak RSS, long against short trace, 10000 connections.
declare -A rss
for pk in $((n / 5)) "$n"; do
	traces 10000 "$pk"
	read -r _ rss[1.$pk] <<<"$(cpu_once "$tmp/analyze.copy" tcp -q --json "$tmp/a.pcap")"
	read -r _ rss[2.$pk] <<<"$(cpu_once "$tmp/analyze.copy" tcp -q --json "h=$tmp/a.pcap" \
		"g=$tmp/b.pcap")"
done
grow=0
for nv in 1 2; do
	short=${rss[$nv.$((n / 5))]} long=${rss[$nv.$n]}
	printf 'peak RSS, 10000 connections, %d vantage: %s kB at %d, %s kB at %d packets per point (%+.1f%%)\n' \
		"$nv" "$short" $((n / 5)) "$long" "$n" \
		"$(awk -v a="$short" -v b="$long" 'BEGIN { print (b - a) * 100 / a }')"
	# Memory must not grow with trace length: allow 10% (allocator noise), never 5x.
	[ $((long * 10)) -le $((short * 11)) ] || grow=1
done
[ "$grow" = 0 ] || { echo "peak RSS grows with the trace length"; exit 1; }
