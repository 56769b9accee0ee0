#!/usr/bin/env bash
# Trace readers: packets/s of vd_trace_next + vd_decode against a bare libpcap pcap_next_ex loop
# over the same generated pcap (2 million packets, BENCH_PACKETS to change), the same through
# vd_source_next (the analyzer's way, pcap read in batches), plus our own pcapng and ERF readers
# over the same packets. Best of BENCH_RUNS (3) runs each; ratios to the
# baseline measured in this run. Never fails on speed, only if a reader fails.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup readers
n=${BENCH_PACKETS:-2000000}
bench_cc_readers
"$tmp/readers_bench" gen "$tmp" "$n"

best() { # what file -> best packets/s of $runs runs (checks the packet count)
	local b=0 i out
	for ((i = 0; i < runs; i++)); do
		out=$("$tmp/readers_bench" "$1" "$2")
		[ "$(echo "$out" | cut -d' ' -f1)" = "$n" ] || { echo "readers: $1 $2 read $out" >&2; exit 1; }
		b=$(echo "$out" | awk -v b="$b" '{ print ($3 > b) ? $3 : b }')
	done
	echo "$b"
}

base=$(best libpcap "$tmp/bench.pcap")
vd_pcap=$(best vd "$tmp/bench.pcap")
src_pcap=$(best source "$tmp/bench.pcap")
vd_ng=$(best vd "$tmp/bench.pcapng")
vd_erf=$(best vd "$tmp/bench.erf")
printf '%-40s %12s %8s\n' "reader ($n packets, best of $runs)" "packets/s" "ratio"
for row in "libpcap pcap_next_ex (baseline)|$base" "vd_trace_next+vd_decode, pcap|$vd_pcap" \
	"vd_source_next+vd_decode, pcap (batched)|$src_pcap" \
	"vd_trace_next+vd_decode, pcapng|$vd_ng" "vd_trace_next+vd_decode, ERF|$vd_erf"; do
	name=${row%|*} pps=${row#*|}
	printf '%-40s %12.0f %8.2f\n' "$name" "$pps" "$(awk -v a="$pps" -v b="$base" 'BEGIN { print a / b }')"
done
