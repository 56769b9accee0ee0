#!/usr/bin/env bash
# vmdelay-analyze on an all-VXLAN capture: the 2 million packets of analyze.sh's wire.pcap
# (BENCH_PROBES=1000000 probes, tests/golden/gen_probes.c) each inside VXLAN
# (tests/bench/vxlanwrap.c), against a bare libpcap pcap_next_ex loop over the same file, and
# the plain capture against its own loop, in the same run. Target: the VXLAN ratio >= 0.4, the
# plain ratio as in analyze.sh. Best of BENCH_RUNS (3) CPU times. Never fails on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup decap
probes=${BENCH_PROBES:-1000000}
${CC:-cc} -O2 -o "$tmp/gen" "$root/tests/golden/gen_probes.c" -lm
bench_cc vxlanwrap
bench_cc_readers
"$tmp/gen" "$tmp" "$probes" 1
"$tmp/vxlanwrap" "$tmp/wire.pcap" "$tmp/vxlan.pcap"

cpu() { # best user+sys seconds of $runs runs of the command
	local best="" i
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -o "$tmp/time" -f '%U %S' "$@" >/dev/null 2>"$tmp/stderr" ||
			[ "$1" = "$tmp/readers_bench" ] ||
			{ echo "bench decap: $* failed: $(tail -n 3 "$tmp/stderr")" >&2; exit 1; }
		best=$(printf '%s\n%s\n' "$best" "$(tail -n 1 "$tmp/time" | awk '{ print $1 + $2 }')" |
			awk 'NF && (b == "" || $1 < b) { b = $1 } END { print b }')
	done
	echo "$best"
}
pkts=$( ("$tmp/readers_bench" libpcap "$tmp/vxlan.pcap") | cut -d" " -f1)
printf '%-44s %12s %8s\n' "($pkts packets, best of $runs)" "packets/cpu-s" "ratio"
for shape in wire vxlan; do
	base=$(cpu "$tmp/readers_bench" libpcap "$tmp/$shape.pcap")
	an=$(cpu "$bin/vmdelay-analyze" -q --json "$tmp/$shape.pcap")
	awk -v n="$pkts" -v b="$base" -v a="$an" -v s="$shape" 'BEGIN {
		printf "%-44s %12.0f %8s\n", "libpcap loop, " s ".pcap (baseline)", n / b, "1.00"
		printf "%-44s %12.0f %8.2f%s\n", "vmdelay-analyze --json, " s ".pcap", n / a, b / a,
			s == "vxlan" ? (b / a >= 0.4 ? "  (target >= 0.4: met)" : "  (target >= 0.4: NOT met)") : ""
	}'
done
