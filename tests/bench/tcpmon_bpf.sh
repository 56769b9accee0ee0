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
#   3. TCP throughput (tperf) and CPU seconds per GB without recording, beside a 5 ms poller,
#      recording, recording with the reader stopped, and every program attached with a filter no
#      packet matches; sender, sink and reader pinned (TCPMON_BENCH_CPUS, default "0 1 1"),
#      ROUNDS rounds in ABBA order; one line per round, then per figure the median [min-max] of
#      the rounds and a 95 % bootstrap interval of the median (ratios taken within each round).
#      Statistics off here. docs/formats/tcpmon.md says what each line holds.
#   4. (not by default) ablation: each variant of TCPMON_BENCH_ABLATE between transfers without
#      programs just before and after it (off V V off), to tell what each attach point costs on a
#      VM whose speed flips every few seconds.
#   tests/bench/tcpmon_bpf.sh [ROUNDS] [BYTES]      (defaults 12 rounds, 1G per transfer)
# TCPMON_BENCH_PARTS (default "cost flood tput"; "ablate" for part 4) picks the parts,
# TCPMON_BENCH_COST_ROUNDS (3) the rounds of part 1, TCPMON_BENCH_VARIANTS those of part 3 (below).
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
rounds=${1:-12} size=${2:-1G}
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
# placement of part 3 (CPU numbers for taskset; empty: unpinned): the sender, the sink, and the
# reader (tcpmon record) with the poller that stands in for it
read -r cpu_send cpu_sink cpu_reader <<<"${TCPMON_BENCH_CPUS-0 1 1}"
pin() { # pin CPU CMD...: CMD on CPU, or where the scheduler puts it when CPU is empty
	local c=$1
	shift
	if [ -n "$c" ]; then taskset -c "$c" "$@"; else "$@"; fi
}
run_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; } # CPU time a task has run, ns
TIMEFORMAT='%3U %3S' # bash's time: the user and system CPU seconds of the command
# softirqs run in the task they interrupt (charged to it here: no IRQ_TIME_ACCOUNTING needed) or
# in ksoftirqd; ksoftirqd's run time is counted, /proc/stat's softirq column (other tenants' too,
# and double with the tasks' time when the kernel samples it by ticks) is not
ksoftirqd_ns() { # the run time of every CPU's ksoftirqd, ns
	local p t=0
	for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do t=$((t + $(run_ns "$p"))); done
	echo $t
}
xfer() { # one transfer; prints "bit/s bytes sender-CPU-s sink-CPU-s ksoftirqd-CPU-s" (the
	# sink's view of bytes and throughput; the sender's and sink's with the softirqs they ran)
	( time pin "$cpu_sink" ip netns exec "$b" "$bin/tperf" sink -p 5402 -c 1 -t 60s --csv \
		-o "$work/sink.csv" 2>/dev/null ) 2>"$work/sink.time" &
	local s=$! si0 si1
	sleep 0.2
	si0=$(ksoftirqd_ns)
	{ time pin "$cpu_send" ip netns exec "$a" "$bin/tperf" send 10.202.0.2 -p 5402 -n "$size" \
		-t 60s >/dev/null 2>&1; } 2>"$work/send.time"
	wait "$s"
	si1=$(ksoftirqd_ns)
	awk -F, -v si=$((si1 - si0)) \
		-v snd="$(cat "$work/send.time")" -v snk="$(cat "$work/sink.time")" 'NR == 2 {
		split(snd, a, " "); split(snk, b, " ")
		print $7, $3, a[1] + a[2], b[1] + b[2], si / 1e9 }' "$work/sink.csv"
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

# --- 3. TCP throughput and CPU cost with and without recording. Five variants per round, the
# order reversed every other round (ABBA: none always first or last): off (no programs), poll
# (no programs, beside a process that wakes every 5 ms like an idle reader: on this VM that alone
# raised veth TCP throughput 1.4-2.4x, vCPUs that stay awake), on (recording every layer, the
# connection's port), held (recording with the reader stopped by SIGSTOP: the programs alone;
# the ring holds one transfer), filtered (every program attached, a filter no packet matches:
# attach points and parse without the ring writes). Throughput is swayed by the VM's idle states
# and the other tenants; CPU seconds per GB transferred (sender + sink with the softirqs they ran
# + ksoftirqd, plus the reader or the poller) much less. Each round gives ratios to off and to
# poll of the same round; the figures are median [min-max] over the rounds and a 95 % bootstrap
# interval of the median.
tput_rounds=$rounds
[[ $parts == *" tput "* ]] || tput_rounds=0
: >"$work/tput"
# each variant leaves "bit/s bytes sender-s sink-s ksoftirqd-s" and the CPU ms of the reader or
# poller beside it in $res
with_side() { # with_side PID: one transfer, the CPU time PID takes meanwhile added to $res
	local r0
	r0=$(run_ns "$1")
	res=$(xfer)
	res="$res $((($(run_ns "$1") - r0) / 1000000))"
}
xfer_off() { res="$(xfer) 0"; }
poller_start() { # a process that wakes every 5 ms on the reader's CPU ($poller: its pid, not a
	# subshell's: a function run in the background is one, and killing it would leave perl)
	if [ -n "$cpu_reader" ]; then
		taskset -c "$cpu_reader" perl -e 'select(undef, undef, undef, 0.005) while 1' &
	else
		perl -e 'select(undef, undef, undef, 0.005) while 1' &
	fi
	poller=$!
}
xfer_poll() {
	poller_start
	with_side "$poller"
	kill "$poller"
	wait "$poller" 2>/dev/null
	poller=
}
rec_pinned() {
	start_rec "$work/tput.tcm" "$@"
	[ -z "$cpu_reader" ] || taskset -apc "$cpu_reader" "$rec_pid" >/dev/null || die "taskset"
}
xfer_on() {
	rec_pinned tcp port 5402
	with_side "$rec_pid"
	stop_rec "$work/tput.tcm"
}
xfer_held() {
	rec_pinned tcp port 5402
	kill -STOP "$rec_pid"
	res="$(xfer) 0"
	kill -CONT "$rec_pid"
	stop_rec "$work/tput.tcm"
}
xfer_filtered() {
	rec_pinned host 192.0.2.1
	with_side "$rec_pid"
	stop_rec "$work/tput.tcm"
}
empty_start() { # empty_start LAYERS: 0 once tcpmon bench-empty-bpf LAYERS is attached ($empty_pid)
	local rc
	"$bin/tcpmon" bench-empty-bpf "$1" 2>"$work/empty.log" &
	empty_pid=$!
	for _ in $(seq 300); do
		grep -qs attached "$work/empty.log" && return 0
		kill -0 "$empty_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -INT "$empty_pid" 2>/dev/null
	wait "$empty_pid"
	rc=$?
	empty_pid=
	echo "tcpmon bench-empty-bpf $1: exit $rc: $(cat "$work/empty.log")" >&2
	return 1
}
xfer_empty() { # the floor: programs that only read the clock at the attach points of layers $1
	empty_start "$1" || empty_start "$1" || die "tcpmon bench-empty-bpf failed twice"
	res="$(xfer) 0"
	kill -INT "$empty_pid"
	wait "$empty_pid" || die "tcpmon bench-empty-bpf failed"
	empty_pid=
}
xfer_on_layers() { # recording the layers $1 only
	rec_pinned tcp port 5402 layers "$1"
	with_side "$rec_pid"
	stop_rec "$work/tput.tcm"
}
xfer_on_ring() { # recording every layer into rings of $1 MiB
	rec_pinned tcp port 5402 --ring-mb "$1"
	with_side "$rec_pid"
	stop_rec "$work/tput.tcm"
}
run_variant() {
	case $1 in
	off | poll | on | held | filtered) "xfer_$1" ;;
	empty) xfer_empty all ;;
	empty-*) xfer_empty "${1#empty-}" ;;
	on-*) xfer_on_layers "${1#on-}" ;;
	ring-*) xfer_on_ring "${1#ring-}" ;;
	*) die "TCPMON_BENCH_VARIANTS: unknown variant '$1'" ;;
	esac
}
# variants: the five above, empty[-LAYERS] (clock-only programs), on-LAYERS (recording those
# layers only), ring-N (recording into rings of N MiB); LAYERS as in `layers LIST`
variants=${TCPMON_BENCH_VARIANTS:-off poll on held filtered}
[[ " $variants " == *" off "* ]] || die "TCPMON_BENCH_VARIANTS must hold off (the baseline)"
variants="off ${variants/off/}"
variants=$(echo $variants) # one space between names
for ((i = 0; i < tput_rounds; i++)); do
	load=$(cut -d' ' -f1 /proc/loadavg)
	order=$variants
	((i % 2)) && order=$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')
	declare -A got=()
	for v in $order; do
		run_variant "$v"
		got[$v]=$res
	done
	line=
	for v in $variants; do line="$line ${got[$v]}"; done
	echo "$line $load" >>"$work/tput" # 6 fields per variant in $variants order, the 1 min load
done
if [ "$tput_rounds" -gt 0 ]; then
	awk -v r="$tput_rounds" -v s="$size" -v vs="$variants" -v place="${cpu_send:-any} ${cpu_sink:-any} ${cpu_reader:-any}" '
	function sort(v, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t } }
	function median(v, n) { sort(v, n); return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	# one line: name, median [min-max] of the rounds, 95 % bootstrap interval of the median, unit
	function fig(name, key, unit, f,   i, b, v, w, m) {
		for (i = 1; i <= NR; i++) v[i] = x[i, key]
		m = median(v, NR)
		for (b = 1; b <= 2000; b++) {
			for (i = 1; i <= NR; i++) w[i] = x[int(rand() * NR) + 1, key]
			bm[b] = median(w, NR)
		}
		sort(bm, 2000)
		printf "    %-24s " f " [" f "-" f "] boot95 [" f "-" f "]%s\n", name, m, v[1], v[NR], bm[50], bm[1951], unit == "" ? "" : " " unit
	}
	BEGIN { nv = split(vs, name, " "); for (k = 1; k <= nv; k++) has[name[k]] = 1; onpoll = ("on" in has) && ("poll" in has) }
	{
		printf "    round %d load %s", NR, $(6 * nv + 1)
		x[NR, "load"] = $(6 * nv + 1)
		for (k = 1; k <= nv; k++) {
			o = 6 * (k - 1); gb = $(o + 2) / 1e9; v = name[k]
			x[NR, "g" v] = $(o + 1) / 1e9
			x[NR, "c" v] = ($(o + 3) + $(o + 4) + $(o + 5) + $(o + 6) / 1000) / gb
			x[NR, "side" v] = $(o + 6) / 1000 / gb
			# per variant: Gbit/s, then CPU s/GB of sender, sink, ksoftirqd, reader or poller
			printf "  %s %.2f %.3f %.3f %.3f %.3f", v, x[NR, "g" v], $(o + 3) / gb, $(o + 4) / gb, $(o + 5) / gb, x[NR, "side" v]
		}
		printf "\n"
		for (k = 1; k <= nv; k++) { v = name[k]; x[NR, "rgoff" v] = x[NR, "g" v] / x[NR, "goff"]; x[NR, "rcoff" v] = x[NR, "c" v] / x[NR, "coff"] }
		if (onpoll) { x[NR, "rgpoll"] = x[NR, "gon"] / x[NR, "gpoll"]; x[NR, "rcpoll"] = x[NR, "con"] / x[NR, "cpoll"] }
	}
	END {
		srand(1)
		split(place, p, " ")
		printf "  TCP over veth, %d rounds of one %s transfer per variant, ABBA order; CPUs: sender %s, sink %s, reader and poller %s;\n", r, s, p[1], p[2], p[3]
		printf "  median [min-max] over the rounds, boot95: 95 %% bootstrap interval of the median; CPU: sender + sink\n"
		printf "  (with the softirqs they ran) + ksoftirqd + reader or poller, seconds per GB received:\n"
		for (k = 1; k <= nv; k++) fig("tput_" name[k], "g" name[k], "Gbit/s", "%.2f")
		for (k = 2; k <= nv; k++) fig("tput_ratio_" name[k] "_off", "rgoff" name[k], "", "%.3f")
		if (onpoll) fig("tput_ratio_on_poll", "rgpoll", "", "%.3f")
		for (k = 1; k <= nv; k++) fig("cpu_" name[k], "c" name[k], "s/GB", "%.3f")
		for (k = 2; k <= nv; k++) fig("cpu_ratio_" name[k] "_off", "rcoff" name[k], "", "%.3f")
		if (onpoll) fig("cpu_ratio_on_poll", "rcpoll", "", "%.3f")
		if ("on" in has) fig("cpu_reader", "sideon", "s/GB", "%.3f")
		fig("load_1min", "load", "", "%.2f")
	}' "$work/tput"
fi

# --- 4. ablation: what each attach point costs TCP throughput. This VM's speed flips between two
# modes (about 8 and 20 Gbit/s over the veth, and twice the CPU per GB in the slow one) every few
# seconds, whatever runs: a ratio of transfers a minute apart mostly says which mode each met.
# So each variant is measured beside transfers without programs taken just before and after it:
# off V V off with TCPMON_BENCH_ABLATE_SIZE (256M) each, under a 5 ms poller on the reader's CPU
# throughout (so no variant is the only one keeping a vCPU awake), and the round's ratio is
# (V1/off1 * V2/off2)^(1/2), adjacent transfers against each other. Variants
# (TCPMON_BENCH_ABLATE): empty[-LAYER,LAYER...] (programs that only read the clock at those
# layers' attach points, all by default), on-LAYER,LAYER... (recording those layers, the
# connection's port), on, held, filtered (part 3's). Median [min-max] of ROUNDS rounds and a 95 %
# bootstrap interval of the median, per variant.
if [[ $parts == *" ablate "* ]]; then
	nf_layers=ip-pre,ip-local-in,ip-local-out,ip-post
	tp_layers=dev-rx,trans-rx,sock-copy,dev-tx,dev-queue,sock-send
	ablate=${TCPMON_BENCH_ABLATE:-empty empty-$nf_layers empty-$tp_layers on on-$nf_layers on-$tp_layers}
	size_was=$size size=${TCPMON_BENCH_ABLATE_SIZE:-256M}
	poller_start
	: >"$work/ablate"
	for ((i = 0; i < rounds; i++)); do
		for v in $ablate; do
			xfer_off
			o1=$res
			run_variant "$v"
			v1=$res
			run_variant "$v"
			v2=$res
			xfer_off
			echo "$v $o1 $v1 $v2 $res" >>"$work/ablate"
		done
	done
	kill "$poller"
	wait "$poller" 2>/dev/null
	poller=
	echo "  ablation: TCP over veth, off V V off per round, one $size transfer each, under a 5 ms poller;"
	echo "  throughput ratio (V1/off1 * V2/off2)^(1/2) and CPU s/GB ratio the same way; median [min-max]"
	echo "  of $rounds rounds, 95 % bootstrap interval of the median:"
	awk -v nr="$rounds" '
	function sort(v, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t } }
	function median(v, n) { sort(v, n); return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	function fig(v, key,   i, b, n, s, w, m) {
		n = cnt[v]
		for (i = 1; i <= n; i++) s[i] = x[v, key, i]
		m = median(s, n)
		for (b = 1; b <= 2000; b++) {
			for (i = 1; i <= n; i++) w[i] = x[v, key, int(rand() * n) + 1]
			bm[b] = median(w, n)
		}
		sort(bm, 2000)
		return sprintf("%.3f [%.3f-%.3f] boot95 [%.3f-%.3f]", m, s[1], s[n], bm[50], bm[1951])
	}
	function g(o) { return $(o + 1) } # Gbit/s field of the transfer at offset o
	function cpu(o) { return ($(o + 3) + $(o + 4) + $(o + 5) + $(o + 6) / 1000) / ($(o + 2) / 1e9) }
	{
		v = $1; k = ++cnt[v]
		if (k == 1) order[++nv] = v
		x[v, "g", k] = sqrt(g(7) / g(1) * g(13) / g(19))
		x[v, "c", k] = sqrt(cpu(7) / cpu(1) * cpu(13) / cpu(19))
		x[v, "off", k] = (g(1) + g(19)) / 2e9
	}
	END {
		srand(1)
		for (j = 1; j <= nv; j++) {
			v = order[j]
			printf "    %s\n      tput_ratio %s\n      cpu_ratio  %s\n      off Gbit/s %s\n", v, fig(v, "g"), fig(v, "c"), fig(v, "off")
		}
	}' "$work/ablate"
	size=$size_was
fi
