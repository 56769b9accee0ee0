#!/usr/bin/env bash
# Benchmark of tcpmon's bpf backend on the running kernel, over a veth pair between two network
# namespaces this script makes:
#   1. cost per event of each BPF program: kernel.bpf_stats_enabled (what BPF_ENABLE_STATS
#      turns on) while recording every layer during a ping flood and a TCP transfer, then
#      run_time_ns / run_cnt of each program from `bpftool prog show`, and all programs' time
#      divided by the records stored (the cost of one stored record, filtered-out and non-IP
#      events included). Means: bpftool gives no distribution.
#   2. the packet rate recorded without loss: 1, 2 and 4 ping floods in parallel.
#   3. TCP throughput (tperf) with recording (every layer, the connection's port) against
#      without, alternating, ROUNDS each; medians and their ratio. Statistics off here.
#   tests/bench/tcpmon_bpf.sh [ROUNDS] [BYTES]      (defaults 5 rounds, 1G per transfer)
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
rounds=${1:-5} size=${2:-1G}
skip() { echo "tcpmon_bpf bench: skipped: $*"; exit 0; }
bin=${VMDELAY_BIN:-$root/build/release/bin}
die() { echo "tcpmon_bpf bench: $*"; exit 1; }
(. tests/e2e/lib/tcpmon_bpf.bash && bpf_need) 2>/dev/null || skip "needs root and the kernel's BTF"
. tests/e2e/lib/tcpmon_bpf.bash
command -v bpftool >/dev/null || skip "no bpftool"
[ -x "$bin/tcpmon" ] && [ -x "$bin/tperf" ] || skip "no $bin/tcpmon or tperf (make)"

work=$(mktemp -d /dev/shm/tcpmon_bpf_bench.XXXXXX) || exit 1
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "$rec_pid" ] && rec_stop
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	veth_down
	rm -rf "$work"
}
trap cleanup EXIT
veth_up vdbba$$ vdbbb$$ 10.202.0 || die "veth pair"
a=$veth_a b=$veth_b
start_rec() { rec_start "$@"; }
stop_rec() { rec_stop; rm -f "$1"; }
xfer() { # one transfer; prints its throughput in bit/s (the sink's view)
	ip netns exec "$b" "$bin/tperf" sink -p 5402 -c 1 -t 60s --csv -o "$work/sink.csv" 2>/dev/null &
	local s=$!
	sleep 0.2
	ip netns exec "$a" "$bin/tperf" send 10.202.0.2 -p 5402 -n "$size" -t 60s >/dev/null 2>&1
	wait "$s"
	awk -F, 'NR == 2 { print $7 }' "$work/sink.csv"
}

# --- 1. cost per event
sysctl -qw kernel.bpf_stats_enabled=1
start_rec "$work/cost.tcm" --ring-mb "${TCPMON_BENCH_RING_MB:-256}"
ip netns exec "$a" ping -f -l 16 -c 20000 -q 10.202.0.2 >/dev/null
xfer >/dev/null
bpftool prog show >"$work/progs.txt"
stop_rec "$work/cost.tcm"
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
recorded=$(sed -n 's/.* \([0-9]*\) recorded, .*/\1/p' "$work/cost.tcm.log")
echo "tcpmon bpf bench (kernel $(uname -r), $(nproc) CPUs)"
echo "  cost per event (kernel.bpf_stats_enabled; ping -f 20000 echoes + one $size TCP transfer, every layer):"
awk -v rec="$recorded" '
	/ name tcpmon_/ {
		t = c = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "name") name = $(i + 1)
			if ($i == "run_time_ns") t = $(i + 1)
			if ($i == "run_cnt") c = $(i + 1)
		}
		printf "    %-22s %9d events  %6.0f ns/event\n", name, c, c ? t / c : 0
		tt += t; cc += c
	}
	END {
		printf "    all programs           %9d events  %6.0f ns/event; %d records stored: %.0f ns per stored record\n", cc, cc ? tt / cc : 0, rec, rec ? tt / rec : 0
	}' "$work/progs.txt"

# --- 2. packet rate recorded without loss: P parallel ping floods (every layer, the default
# ring), the packets per second they reached and the records lost
echo "  ping floods over veth, every layer recorded (default --ring-mb):"
for p in 1 2 4; do
	start_rec "$work/flood.tcm"
	t0=$(date +%s%N)
	for ((j = 0; j < p; j++)); do
		ip netns exec "$a" ping -f -l 16 -c 20000 -q 10.202.0.2 >"$work/ping$j" 2>&1 &
		pings[j]=$!
	done
	for ((j = 0; j < p; j++)); do wait "${pings[j]}" || die "ping -f: $(cat "$work/ping$j")"; done
	t1=$(date +%s%N)
	rec_stop
	got=$(cat "$work"/ping* | sed -n 's/.* \([0-9]*\) received.*/\1/p' | awk '{ n += $1 } END { print n }')
	rm -f "$work"/ping*
	rec=$(sed -n 's/.* \([0-9]*\) recorded, \([0-9]*\) lost.*/\1 \2/p' "$work/flood.tcm.log")
	# rec_start waits for "recording" in this log: an old one would let the pings start early
	rm -f "$work/flood.tcm" "$work/flood.tcm.log"
	awk -v p="$p" -v t=$((t1 - t0)) -v got="$got" -v rec="$rec" 'BEGIN {
		split(rec, r, " ")
		printf "    %d x ping -f -l 16 -c 20000: %d echo replies, %.0f packets/s; %d records stored, %d lost\n", p, got, 2 * got / (t / 1e9), r[1], r[2] }'
done

# --- 3. TCP throughput with and without recording
: >"$work/tput"
for ((i = 0; i < rounds; i++)); do
	echo "off $(xfer)" >>"$work/tput"
	start_rec "$work/tput.tcm" tcp port 5402
	echo "on $(xfer)" >>"$work/tput"
	stop_rec "$work/tput.tcm"
done
med() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'; }
off=$(awk '$1 == "off" { print $2 }' "$work/tput" | med)
on=$(awk '$1 == "on" { print $2 }' "$work/tput" | med)
awk -v a="$off" -v b="$on" -v r="$rounds" -v s="$size" 'BEGIN {
	printf "  TCP throughput over veth (%d rounds of %s, medians): %.2f Gbit/s without recording, %.2f Gbit/s recording, ratio %.3f\n", r, s, a / 1e9, b / 1e9, b / a }'
