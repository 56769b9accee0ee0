#!/usr/bin/env bash
# vmdelay-analyze on compressed captures: analyze.sh's 2-million-packet wire.pcap
# (BENCH_PROBES=1000000 probes, tests/golden/gen_probes.c) gzipped and zstd-compressed, against
# `zcat FILE | pcaploop -` (and `zstdcat`): decompression plus a bare libpcap loop
# (tests/bench/pcaploop.c), CPU of both processes. Target: >= 0.5 of that baseline. The plain
# file against pcaploop on it, for reference. Best of BENCH_RUNS (3) CPU times. Never fails on
# speed.
set -eu
command -v zstd >/dev/null || { echo "bench compressed: zstd not installed, skipped"; exit 0; }
. "$(dirname "$0")/common.bash"
bench_setup compressed
probes=${BENCH_PROBES:-1000000}
${CC:-cc} -O2 -o "$tmp/gen" "$root/tests/golden/gen_probes.c" -lm
bench_cc pcaploop -lpcap
"$tmp/gen" "$tmp" "$probes" 1
gzip -6 -c "$tmp/wire.pcap" >"$tmp/wire.pcap.gz"
zstd -q -3 -c "$tmp/wire.pcap" >"$tmp/wire.pcap.zst"
pkts=$("$tmp/pcaploop" "$tmp/wire.pcap" | cut -d" " -f1)

cpu() { # best user+sys seconds (children included) of $runs runs of the shell command
	local best="" i
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -o "$tmp/time" -f '%U %S' sh -c "$1" >/dev/null 2>"$tmp/stderr" ||
			{ echo "bench compressed: $1 failed: $(tail -n 3 "$tmp/stderr")" >&2; exit 1; }
		best=$(printf '%s\n%s\n' "$best" "$(tail -n 1 "$tmp/time" | awk '{ print $1 + $2 }')" |
			awk 'NF && (b == "" || $1 < b) { b = $1 } END { print b }')
	done
	echo "$best"
}
printf '%-52s %12s %8s\n' "($pkts packets, best of $runs)" "packets/cpu-s" "ratio"
row() { # label base_cmd analyze_cmd target
	local b a
	b=$(cpu "$2")
	a=$(cpu "$3")
	awk -v n="$pkts" -v b="$b" -v a="$a" -v l="$1" -v t="$4" 'BEGIN {
		printf "%-52s %12.0f %8s\n", "baseline: " l, n / b, "1.00"
		printf "%-52s %12.0f %8.2f%s\n", "vmdelay-analyze --json, " l, n / a, b / a,
			t ? (b / a >= t ? "  (target >= " t ": met)" : "  (target >= " t ": NOT met)") : ""
	}'
}
row "wire.pcap (pcaploop FILE)" "'$tmp/pcaploop' '$tmp/wire.pcap'" "'$bin/vmdelay-analyze' -q --json '$tmp/wire.pcap'" ""
row "wire.pcap.gz (zcat FILE | pcaploop -)" "zcat '$tmp/wire.pcap.gz' | '$tmp/pcaploop' -" \
	"'$bin/vmdelay-analyze' -q --json '$tmp/wire.pcap.gz'" 0.5
row "wire.pcap.zst (zstdcat FILE | pcaploop -)" "zstdcat '$tmp/wire.pcap.zst' | '$tmp/pcaploop' -" \
	"'$bin/vmdelay-analyze' -q --json '$tmp/wire.pcap.zst'" 0.5
