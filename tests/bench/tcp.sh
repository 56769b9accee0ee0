#!/usr/bin/env bash
# Benchmark: `vmdelay-analyze tcp` on a synthetic 5-million-packet TCP trace against a
# bare libpcap read loop over the same file (packets/s and their ratio), and peak RSS at 1M and
# 5M packets, which must not grow with the trace length (memory is per flow, not per packet).
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${VMDELAY_BIN:-$root/build/release/bin}
TMP=$(mktemp -d /tmp/vd-bench-tcp.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FLOWS=${TCP_BENCH_FLOWS:-100}
cc -O2 -o "$TMP/tcpgen" "$root/tests/bench/tcpgen.c" || exit 1
cc -O2 -o "$TMP/pcaploop" "$root/tests/bench/pcaploop.c" -lpcap || exit 1
[ -x "$BIN/vmdelay-analyze" ] || { echo "no $BIN/vmdelay-analyze (make first)"; exit 1; }

now() { date +%s.%N; }
# runs a command, prints "seconds peak_rss_kb"
measure() {
	local t0 t1
	t0=$(now)
	/usr/bin/time -f "%M" -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; return 1; }
	t1=$(now)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $(tail -n 1 "$TMP/rss")"
}

for n in 1000000 5000000; do
	"$TMP/tcpgen" "$n" "$FLOWS" >"$TMP/t$n.pcap" || exit 1
done
printf '%-10s %-22s %10s %14s %12s\n' packets program seconds packets/s peak_rss_kB
declare -A rate rss
for n in 1000000 5000000; do
	"$TMP/pcaploop" "$TMP/t$n.pcap" >/dev/null # warm the page cache
	read -r s_base m_base < <(measure "$TMP/pcaploop" "$TMP/t$n.pcap") || exit 1
	read -r s_tcp m_tcp < <(measure "$BIN/vmdelay-analyze" tcp --json "$TMP/t$n.pcap") || exit 1
	rate[base$n]=$(awk -v n="$n" -v s="$s_base" 'BEGIN { print n / s }')
	rate[tcp$n]=$(awk -v n="$n" -v s="$s_tcp" 'BEGIN { print n / s }')
	rss[$n]=$m_tcp
	printf '%-10s %-22s %10.3f %14.0f %12s\n' "$n" "libpcap loop" "$s_base" "${rate[base$n]}" "$m_base"
	printf '%-10s %-22s %10.3f %14.0f %12s\n' "$n" "vmdelay-analyze tcp" "$s_tcp" "${rate[tcp$n]}" "$m_tcp"
done
printf 'ratio (analyze / libpcap loop, packets/s) at 5M: %.3f\n' \
	"$(awk -v a="${rate[tcp5000000]}" -v b="${rate[base5000000]}" 'BEGIN { print a / b }')"
printf 'peak RSS of vmdelay-analyze tcp: %s kB at 1M, %s kB at 5M packets (%d flows): growth %.1f%%\n' \
	"${rss[1000000]}" "${rss[5000000]}" "$FLOWS" \
	"$(awk -v a="${rss[1000000]}" -v b="${rss[5000000]}" 'BEGIN { print (b - a) * 100 / a }')"
# Memory must not grow with trace length: allow 10% (allocator noise), never 5x.
[ $(( ${rss[5000000]} * 10 )) -le $(( ${rss[1000000]} * 11 )) ] ||
	{ echo "peak RSS grows with the trace length"; exit 1; }
