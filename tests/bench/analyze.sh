#!/usr/bin/env bash
# vmdelay-analyze: packets/s reading and analyzing an all-ICMP-echo pcap of 2 million packets
# (BENCH_PROBES=1000000 probes from tests/golden/gen_probes.c), against a bare libpcap
# pcap_next_ex loop over the same file (tests/bench/readers_bench.c) and tshark -q -z io,stat,1
# when tshark is installed, in the same run; then the four-vantage-point analysis (wire, bridge,
# tping kernel + user). Best of BENCH_RUNS (3) wall-clock runs; peak RSS from /usr/bin/time.
# Never fails on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup analyze
probes=${BENCH_PROBES:-1000000}
${CC:-cc} -O2 -o "$tmp/gen" "$root/tests/golden/gen_probes.c" -lm
bench_cc_readers
"$tmp/gen" "$tmp" "$probes" 1
pkts=$( ("$tmp/readers_bench" libpcap "$tmp/wire.pcap") | cut -d' ' -f1)

# best of $runs: "cpu_seconds wall_seconds maxrss_kb" (cpu = user + sys: on a shared machine
# the wall clock mostly measures the neighbours)
timed() {
	local best="" i out
	for ((i = 0; i < runs; i++)); do
		# (readers_bench exits 1 after printing its count: judge by the output instead)
		/usr/bin/time -o "$tmp/time" -f '%U %S %e %M' "$@" >"$tmp/out" 2>"$tmp/stderr" ||
			[ "$1" = "$tmp/readers_bench" ] ||
			{ echo "bench analyze: $* failed: $(tail -n 3 "$tmp/stderr")" >&2; exit 1; }
		out=$(tail -n 1 "$tmp/time" | awk '{ print $1 + $2, $3, $4 }')
		best=$(printf '%s\n%s\n' "$best" "$out" | awk 'NF == 3 && (b == "" || $1 < b) { b = $1; w = $2; m = $3 } END { print b, w, m }')
	done
	echo "$best"
}
pps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
read -r base_c base_w base_rss <<<"$(timed "$tmp/readers_bench" libpcap "$tmp/wire.pcap")"
read -r one_c one_w one_rss <<<"$(timed "$bin/vmdelay-analyze" -q --json "$tmp/wire.pcap")"
read -r four_c four_w four_rss <<<"$(timed "$bin/vmdelay-analyze" -q --json wire:peer="$tmp/wire.pcap" \
	bridge:host="$tmp/bridge.pcap" kernel:vm="$tmp/tping.csv#kernel" user:vm="$tmp/tping.csv#user")"
all4=$((pkts + $( ("$tmp/readers_bench" libpcap "$tmp/bridge.pcap") | cut -d' ' -f1) + 2 * probes))
base=$(pps "$pkts" "$base_c")
printf '%-48s %12s %8s %12s %10s\n' "($pkts packets, best of $runs)" "packets/cpu-s" "ratio" "packets/s" "peak RSS"
row() { # name records cpu wall rss_kb
	local p
	p=$(pps "$2" "$3")
	printf '%-48s %12s %8.2f %12s %10s\n' "$1" "$p" "$(awk -v a="$p" -v b="$base" 'BEGIN { print a / b }')" \
		"$(pps "$2" "$4")" "$(($5 / 1024)) MiB"
}
row "libpcap pcap_next_ex loop (baseline)" "$pkts" "$base_c" "$base_w" "$base_rss"
row "vmdelay-analyze --json, 1 vantage point" "$pkts" "$one_c" "$one_w" "$one_rss"
row "vmdelay-analyze --json, 4 points (all records)" "$all4" "$four_c" "$four_w" "$four_rss"
if command -v tshark >/dev/null; then
	read -r ts_c ts_w ts_rss <<<"$(timed tshark -q -z io,stat,1 -r "$tmp/wire.pcap")"
	row "tshark -q -z io,stat,1" "$pkts" "$ts_c" "$ts_w" "$ts_rss"
else
	echo "tshark -q -z io,stat,1: not installed, skipped"
fi
