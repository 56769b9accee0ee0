#!/usr/bin/env bash
# Benchmark of tcpmon's bpf backend on the running kernel, over a veth pair between two network
# namespaces this script makes:
#   1. cost per event of each BPF program: kernel.bpf_stats_enabled (what BPF_ENABLE_STATS
#      turns on) while recording every layer during a ping flood and a TCP transfer, then
#      run_time_ns / run_cnt of each program from `bpftool prog show`, and all programs' time
#      divided by the records stored (the cost of one stored record, filtered-out and non-IP
#      events included); beside them the floor, programs that only read the clock at the same
#      attach points (tcpmon bench-empty-bpf) with the same traffic. Each figure is a mean
#      (bpftool gives no distribution); the rounds give median and range. A program in process
#      context is charged for the interrupts and softirqs that run inside it (sock-send,
#      sock-copy, trans-rx when the socket's backlog is processed).
#   2. the packet rate recorded without loss: 1, 2 and 4 ping floods in parallel.
#   3. TCP throughput (tperf) with recording (every layer, the connection's port) against
#      without and against recording with the reader stopped, interleaved (the order reversed
#      every other round), ROUNDS each; medians,
#      ranges, each round's ratio, the reader's CPU time. Statistics off here.
#   tests/bench/tcpmon_bpf.sh [ROUNDS] [BYTES]      (defaults 5 rounds, 1G per transfer)
# TCPMON_BENCH_PARTS (default "cost flood tput") picks the parts, TCPMON_BENCH_COST_ROUNDS (3) the
# rounds of part 1.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
rounds=${1:-5} size=${2:-1G}
parts=" ${TCPMON_BENCH_PARTS:-cost flood tput} "
skip() { echo "tcpmon_bpf bench: skipped: $*"; exit 0; }
bin=${VMDELAY_BIN:-$root/build/release/bin}
die() { echo "tcpmon_bpf bench: $*"; exit 1; }
(. tests/e2e/lib/tcpmon_bpf.bash && bpf_need) 2>/dev/null || skip "needs root and the kernel's BTF"
. tests/e2e/lib/tcpmon_bpf.bash
command -v bpftool >/dev/null || skip "no bpftool"
[ -x "$bin/tcpmon" ] && [ -x "$bin/tperf" ] || skip "no $bin/tcpmon or tperf (make)"

work=$(mktemp -d /dev/shm/tcpmon_bpf_bench.XXXXXX) || exit 1
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
empty_pid='' poller=''
cleanup() {
	[ -n "$poller" ] && kill "$poller"
	[ -n "$rec_pid" ] && rec_stop
	[ -n "$empty_pid" ] && kill -INT "$empty_pid" && wait "$empty_pid"
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	veth_down
	rm -rf "$work"
}
. testbeds/on_exit.sh
vd_on_exit cleanup # also on INT, TERM, HUP
veth_up vdbba$$ vdbbb$$ 10.202.0 || die "veth pair"
a=$veth_a b=$veth_b
start_rec() { rec_start "$@"; }
stop_rec() { rec_stop || die "tcpmon record failed: $(cat "$1.log")"; rm -f "$1"; }
xfer() { # one transfer; prints its throughput in bit/s (the sink's view)
	ip netns exec "$b" "$bin/tperf" sink -p 5402 -c 1 -t 60s --csv -o "$work/sink.csv" 2>/dev/null &
	local s=$!
	sleep 0.2
	ip netns exec "$a" "$bin/tperf" send 10.202.0.2 -p 5402 -n "$size" -t 60s >/dev/null 2>&1
	wait "$s"
	awk -F, 'NR == 2 { print $7 }' "$work/sink.csv"
}

echo "tcpmon bpf bench (kernel $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"

# --- 1. cost per event, against the floor: the programs of tcpmon bench-empty-bpf, which only
# read the clock, at the same attach points with the same traffic; alternating, COST_ROUNDS each
traffic() {
	ip netns exec "$a" ping -f -l 16 -c 20000 -q 10.202.0.2 >/dev/null
	xfer >/dev/null
}
cost_rounds=${TCPMON_BENCH_COST_ROUNDS:-3}
[[ $parts == *" cost "* ]] || cost_rounds=0
sysctl -qw kernel.bpf_stats_enabled=1
for ((i = 0; i < cost_rounds; i++)); do
	"$bin/tcpmon" bench-empty-bpf 2>"$work/empty.log" &
	empty_pid=$!
	for _ in $(seq 300); do grep -qs attached "$work/empty.log" && break; sleep 0.1; done
	grep -qs attached "$work/empty.log" || die "tcpmon bench-empty-bpf: $(cat "$work/empty.log")"
	traffic
	bpftool prog show | sed 's/ name vd_empty_/ name floor_/' >"$work/progs.$i"
	kill -INT "$empty_pid"
	wait "$empty_pid" || die "tcpmon bench-empty-bpf failed"
	empty_pid=
	start_rec "$work/cost.tcm" --ring-mb "${TCPMON_BENCH_RING_MB:-256}"
	traffic
	bpftool prog show >>"$work/progs.$i"
	stop_rec "$work/cost.tcm"
	stored=$(sed -n 's/.* \([0-9]*\) recorded, .*/\1/p' "$work/cost.tcm.log")
	# the same with a filter no packet matches: the cost of a packet left out
	start_rec "$work/cost.tcm" host 192.0.2.1
	traffic
	bpftool prog show | sed 's/ name tcpmon_/ name rejecting_/' >>"$work/progs.$i"
	stop_rec "$work/cost.tcm"
	echo "stored $stored" >>"$work/progs.$i"
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
[ "$cost_rounds" -gt 0 ] && echo "  cost per event (kernel.bpf_stats_enabled: run_time_ns/run_cnt; ping -f 20000 echoes + one $size"
[ "$cost_rounds" -gt 0 ] && echo "  TCP transfer, every layer; median [min-max] of $cost_rounds rounds; floor: a program that only"
[ "$cost_rounds" -gt 0 ] && echo "  reads the clock at the same attach point, floor_ip at all four netfilter hooks; rejecting:"
[ "$cost_rounds" -gt 0 ] && echo "  tcpmon recording with a filter no packet matches, host 192.0.2.1):"
[ "$cost_rounds" -gt 0 ] && cat "$work"/progs.* | awk -v rounds="$cost_rounds" '
	function med(name, n,   i, j, t, v) { # median of the values of name
		n = cnt[name]
		for (i = 1; i <= n; i++) v[i] = val[name, i]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return sprintf("%5.0f [%.0f-%.0f]", v[int((n + 1) / 2)], v[1], v[n])
	}
	function add(name, x) { val[name, ++cnt[name]] = x; if (!(name in seen)) { seen[name] = 1; order[++norder] = name } }
	/ name (tcpmon|floor|rejecting)_/ {
		t = c = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "name") name = $(i + 1)
			if ($i == "run_time_ns") t = $(i + 1)
			if ($i == "run_cnt") c = $(i + 1)
		}
		add(name, c ? t / c : 0)
		if (name ~ /^tcpmon_/) { tt += t; cc += c } else if (name ~ /^floor_/) { ft += t; fc += c } else { rt += t; rc += c }
	}
	/^stored / { add("all tcpmon programs", cc ? tt / cc : 0); add("per stored record", $2 ? tt / $2 : 0)
		add("all floor programs", fc ? ft / fc : 0); add("all rejecting programs", rc ? rt / rc : 0)
		tt = cc = ft = fc = rt = rc = 0 }
	END { for (k = 1; k <= norder; k++) printf "    %-22s %s ns/event\n", order[k], med(order[k]) }'

# --- 2. packet rate recorded without loss: P parallel ping floods (every layer, the default
# ring), the packets per second they reached and the records lost
[[ $parts == *" flood "* ]] && echo "  ping floods over veth, every layer recorded (icmp host 10.202.0.1, default --ring-mb):"
[[ $parts == *" flood "* ]] && for p in 1 2 4; do
	start_rec "$work/flood.tcm" icmp host 10.202.0.1 layers all
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

# --- 3. TCP throughput with and without recording, interleaved: off (no programs), on
# (recording), held (recording with the reader stopped by SIGSTOP: the programs' cost alone, the
# ring holds the records of one transfer); each round's on/off ratio, and the reader's CPU time
# (utime + stime) during the "on" transfer; and without recording beside a process that wakes
# every 5 ms like the reader
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
[[ $parts == *" tput "* ]] || rounds=0
: >"$work/tput"
xfer_off() { off=$(xfer); }
# the reader wakes every 5 ms; on this VM a process that only does that raised veth TCP
# throughput 1.4-2.4x (vCPUs that stay awake): "recording" is compared with this too
xfer_poll() {
	perl -e 'select(undef, undef, undef, 0.005) while 1' &
	poller=$!
	polled=$(xfer)
	kill "$poller"
	wait "$poller" 2>/dev/null
	poller=
}
xfer_on() {
	start_rec "$work/tput.tcm" tcp port 5402
	c0=$(cpu_ticks "$rec_pid")
	on=$(xfer)
	c1=$(cpu_ticks "$rec_pid")
	stop_rec "$work/tput.tcm"
}
xfer_held() {
	start_rec "$work/tput.tcm" tcp port 5402
	kill -STOP "$rec_pid"
	held=$(xfer)
	kill -CONT "$rec_pid"
	stop_rec "$work/tput.tcm"
}
for ((i = 0; i < rounds; i++)); do
	# the order turns round every other round: no variant always goes first
	if ((i % 2)); then xfer_held; xfer_poll; xfer_on; xfer_off; else xfer_off; xfer_on; xfer_poll; xfer_held; fi
	echo "$off $on $held $(((c1 - c0) * 1000 / $(getconf CLK_TCK))) $polled" >>"$work/tput"
done
[ "$rounds" -gt 0 ] && awk -v r="$rounds" -v s="$size" '
	function stat(col,   n, i, j, t, v) { # "median [min-max]" of column col
		for (i = 1; i <= NR; i++) v[i] = x[i, col]
		for (i = 2; i <= NR; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return sprintf(fmt[col], v[int((NR + 1) / 2)], v[1], v[NR])
	}
	{ x[NR, 1] = $1 / 1e9; x[NR, 2] = $2 / 1e9; x[NR, 3] = $3 / 1e9; x[NR, 4] = $2 / $1; x[NR, 5] = $3 / $1; x[NR, 6] = $4
	  x[NR, 7] = $5 / 1e9; x[NR, 8] = $2 / $5 }
	END {
		fmt[1] = fmt[2] = fmt[3] = fmt[7] = "%.2f [%.2f-%.2f] Gbit/s"
		fmt[4] = fmt[5] = fmt[8] = "%.3f [%.3f-%.3f]"; fmt[6] = "%.0f [%.0f-%.0f] ms"
		printf "  TCP throughput over veth, %d interleaved rounds of %s (median [min-max]):\n", r, s
		printf "    without recording          %s\n", stat(1)
		printf "    without, a 5 ms poller     %s\n", stat(7)
		printf "    recording (tcp port)       %s, ratio to the same round without: %s, to the poller: %s\n", stat(2), stat(4), stat(8)
		printf "    recording, reader stopped  %s, ratio: %s\n", stat(3), stat(5)
		printf "    the reader'"'"'s CPU time during a recorded transfer: %s\n", stat(6)
	}' "$work/tput"
