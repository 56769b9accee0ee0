#!/usr/bin/env bash
# Matching at capture scale: `vmdelay-analyze` (ICMP echo pairing, one vantage point) and
# `vmdelay-analyze tcp` on captures whose flows interleave in different shapes, each against a
# bare libpcap read loop (tests/bench/pcaploop.c) over the same file in the same run.
#   ICMP (tests/bench/icmpgen.c): 1, 50, 1000 and 65535 concurrent hosts (ids shared by every
#   16th host) in round robin, bursts of 64, random order, and every host wrapping its seq.
#   TCP (tests/bench/tcpgen.c): 1, 50, 1000, 10000 and 65535 concurrent connections.
# Rates are packets per CPU second (user + sys to the microsecond: on a shared machine the
# wall clock mostly measures the neighbours), best of BENCH_RUNS (5) rounds that each run the
# loop then ours (tests/bench/timed.bash); BENCH_PACKETS (2000000) per capture. Prints Mpkt/s,
# the ratio of the best times, the lowest and highest ratio of a round (the spread: the
# neighbours' load moves it) and peak RSS per shape. Never fails on speed.
# The ICMP analysis streams (docs/methodology.md, "Memory"): a capture of 2 s that loses
# requests holds every probe after the first lost one, as the 10 s reply wait is not over.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup match
runs=${BENCH_RUNS:-5}
only=${BENCH_ONLY:-} # an extended regex: only the shapes whose label matches ("icmp 1000 .*random")
n=${BENCH_PACKETS:-2000000}
bench_cc icmpgen
bench_cc tcpgen
bench_cc pcaploop -lpcap
# The programs timed run from fresh copies: on this machine the very same bytes ran up to 20%
# slower (CPU time) from the file the linker wrote than from a copy of it, a property of the
# file's page cache and not of the code, which would otherwise decide a revision against another.
cp "$bin/vmdelay-analyze" "$tmp/analyze.copy"
cp "$tmp/pcaploop" "$tmp/pcaploop.copy"
mv -f "$tmp/pcaploop.copy" "$tmp/pcaploop"

. "$root/tests/bench/timed.bash"
mpps() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.2f", (s > 0 ? n / s / 1e6 : 0) }'; }

printf '%-34s %10s %10s %7s %11s %10s\n' "shape ($n packets, best of $runs)" "loop Mp/s" \
	"ours Mp/s" ratio "round lo-hi" "peak RSS"
wanted() { [[ -z $only || $1 =~ $only ]]; }
shape() { # label file command...
	local label=$1 file=$2 base_c ours_c ratio lo hi ours_rss
	shift 2
	"$tmp/pcaploop" "$file" >/dev/null # warm the page cache
	read -r base_c ours_c ratio lo hi ours_rss <<<"$(timed_vs "$tmp/pcaploop" "$file" -- "$@" "$file")"
	printf '%-34s %10s %10s %7s %11s %10s\n' "$label" "$(mpps "$base_c")" "$(mpps "$ours_c")" \
		"$ratio" "$lo-$hi" "$((ours_rss / 1024)) MiB"
}

for flows in 1 50 1000 65535; do
	for order in rr burst random wrap; do
		wanted "icmp $flows hosts, $order" || continue
		"$tmp/icmpgen" "$n" "$flows" "$order" >"$tmp/icmp.pcap"
		shape "icmp $flows hosts, $order" "$tmp/icmp.pcap" "$tmp/analyze.copy" -q --json
	done
done
for flows in 1 50 1000 10000 65535; do
	wanted "tcp $flows connections" || continue
	"$tmp/tcpgen" "$n" "$flows" >"$tmp/tcp.pcap"
	shape "tcp $flows connections" "$tmp/tcp.pcap" "$tmp/analyze.copy" tcp --json
done
