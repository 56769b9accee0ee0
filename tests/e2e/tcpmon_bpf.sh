#!/usr/bin/env bash
# timeout: 300
# tcpmon's bpf backend on the running kernel (not a guest): two network namespaces joined by a
# veth pair, both ends recorded at once (tcpmon_bpf_check.awk):
#   1. ICMP and ICMPv6 echoes: every layer of both paths (TX ip-local-out -> ip-post -> dev-queue
#      -> dev-tx, RX dev-rx -> ip-pre -> ip-local-in [-> sock-copy]) exactly once, in order.
#   2. A 1 MiB TCP transfer (tperf): every segment's layers in order, trans-rx for data,
#      sock-copy after trans-rx, sock-send at the first data byte, the payload bytes counted.
#   3. A ping flood: no record lost (per-CPU counters and seqnos), every echo complete; prints
#      the packet rate reached.
#   4. Loss counted exactly: a 1 MiB ring whose reader is stopped; kept + lost == offered, and
#      the loss windows in the file hold every lost record.
#   5. After each recording no program, link or map of tcpmon is left (bpftool).
#   6. start, record, stop: the programs pinned in bpffs by start record while no reader runs;
#      two records in a row read every echo once with no loss; stop reports the counts and
#      leaves nothing (pins, programs, maps, links), also when a test dies after start (trap).
# Skips (77) when not root, without BTF or bpftool, or when the kernel refuses bpf().
set -u
. "$(dirname "$0")/lib/tcpmon_bpf.bash"
bpf_test_setup tcpmon_bpf bpftool
veth_up vdbpa$$ vdbpb$$ 10.201.1 || die "veth pair"
inA() { ip netns exec "$veth_a" "$@"; }
inB() { ip netns exec "$veth_b" "$@"; }

# The ids of tcpmon's programs, maps and links while it records (bpftool), to check afterwards
# that every one is gone. Other users' BPF objects on this machine are left out.
ours() {
	local progs
	progs=$(bpftool prog show | sed -n 's/^\([0-9]*\): .* name \(tcpmon_[a-z_]*\) .*/\1/p')
	for p in $progs; do echo "prog $p"; done
	bpftool map show | sed -n 's/^\([0-9]*\): .* name \(tcpmon_[a-z_]*\) .*/map \1/p'
	for p in $progs; do bpftool link show | sed -n "s/^\([0-9]*\): .* prog $p *\$/link \1/p"; done
}
# Starts a recording in the background: record FILE FILTER...; notes its BPF objects.
record() {
	rec_start "$@"
	local out=$1
	ours | sort >"$out.ours"
	grep -q '^prog' "$out.ours" && grep -q '^map' "$out.ours" && grep -q '^link' "$out.ours" ||
		{ cat "$out.ours"; die "bpftool does not show tcpmon's programs, maps and links while recording"; }
}
stop() { # FILE: ends the recording, checks its exit and that nothing is left
	local out=$1 rc left
	rec_stop
	rc=$?
	cat "$out.log"
	[ "$rc" = 0 ] || die "tcpmon record exited $rc"
	# the kernel frees programs and maps after an RCU grace period: give it 10 s at most
	for _ in $(seq 100); do
		left=$(ours | sort | comm -12 - "$out.ours")
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || die "left behind 10 s after tcpmon record ended: $left"
	echo "nothing left: $(wc -l <"$out.ours") programs, maps and links gone"
}
# records, lost and the first lines of the header as key=value
# netfilter links per namespace of a recording, from its log
links_per_ns() { sed -n 's/.*recording (\([0-9]*\) netfilter links in \([0-9]*\) network.*/\1 \2/p' "$1.log" | awk '{ print $1 / $2 }'; }
header() { "$bin/tcpmon" dump --header --csv "$1" | awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2{print "records=" $c["records"] " lost=" $c["lost"] " flags=" $c["clock_flags"]}'; }

# --- usage errors
"$bin/tcpmon" --backend bpf record -w "$work/x.tcm" port 99999 2>/dev/null; [ $? = 2 ] || die "bad filter word: not a usage error"
"$bin/tcpmon" --backend bpf stats 2>/dev/null; [ $? = 2 ] || die "bpf stats: not a usage error"
"$bin/tcpmon" --backend bpf start port 99999 2>/dev/null; [ $? = 2 ] || die "bpf start, bad filter word: not a usage error"
"$bin/tcpmon" --backend bpf stop 2>"$work/stop.err"; [ $? = 1 ] && grep -q "not started" "$work/stop.err" || die "bpf stop without start: $(cat "$work/stop.err")"
"$bin/tcpmon" --backend bpf record -w "$work/x.tcm" --ring-mb 3 2>/dev/null; [ $? = 2 ] || die "--ring-mb 3 accepted"

# --- 1. ICMP and ICMPv6 echoes
echo "== ICMP"
record "$work/icmp.tcm" host 10.201.1.1
inA ping -q -c 5 -i 0.05 10.201.1.2 >/dev/null || die "ping"
stop "$work/icmp.tcm"
# The records of a file in time order: each CPU's ring is drained in turn, so the file holds
# every CPU's records in order but not one CPU's against another's (docs/formats/tcpmon.md).
by_time() { # FILE.csv -> rows sorted by mono_ns (stable), header first
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "mono_ns") c = i; print; fflush(); next }
		{ print | ("sort -t, -s -k" c "," c "n") }' "$1"
}
"$bin/tcpmon" dump --csv "$work/icmp.tcm" >"$work/icmp.csv" || die "dump"
awk -F, -v mode=icmp -v echoes=5 -f tests/e2e/tcpmon_bpf_check.awk <(by_time "$work/icmp.csv") || die "ICMP layers"
h=$(header "$work/icmp.tcm"); echo "$h"
[[ $h == *"lost=0"* && $h == *ktime-only* ]] || die "header: $h"

record "$work/icmp6.tcm" icmp6 host fd20:1::1
inA ping -6 -q -c 3 -i 0.05 fd20:1::2 >/dev/null || die "ping -6"
stop "$work/icmp6.tcm"
"$bin/tcpmon" dump --csv "$work/icmp6.tcm" >"$work/icmp6.csv" || die "dump"
awk -F, -v mode=icmp -v echoes=3 -f tests/e2e/tcpmon_bpf_check.awk <(by_time "$work/icmp6.csv") || die "ICMPv6 layers"

# --- 2. TCP
echo "== TCP"
tperf=$bin/tperf
[ -x "$tperf" ] || tperf=$root/build/release/bin/tperf
[ -x "$tperf" ] || die "no tperf binary"
inB "$tperf" sink -p 5301 -c 1 -t 60s >"$work/sink.out" 2>&1 &
sink=$!
sleep 0.3
record "$work/tcp.tcm" tcp port 5301
inA "$tperf" send 10.201.1.2 -p 5301 -n 1M -t 30s >"$work/send.out" 2>&1 || { cat "$work/send.out"; die "tperf send"; }
wait "$sink"
stop "$work/tcp.tcm"
"$bin/tcpmon" dump --csv "$work/tcp.tcm" >"$work/tcp.csv" || die "dump"
awk -F, -v mode=tcp -v bytes=1048576 -f tests/e2e/tcpmon_bpf_check.awk <(by_time "$work/tcp.csv") || die "TCP layers"
[ "$(links_per_ns "$work/tcp.tcm")" = 8 ] || die "tcp port: not 4 hooks x IPv4 and IPv6 links per namespace: $(cat "$work/tcp.tcm.log")"

# --- 3. a ping flood: no loss
echo "== ping flood"
n=50000
record "$work/flood.tcm" icmp host 10.201.1.1 layers all
# its filter takes ICMP over IPv4 only: what could only reject is not attached, the TCP-only
# layers' programs and the IPv6 netfilter links
progs=$(sed -n 's/^prog //p' "$work/flood.tcm.ours" | while read -r id; do bpftool prog show id "$id"; done |
	sed -n 's/.* name \([a-z_]*\) .*/\1/p' | tr '\n' ' ')
[[ $progs != *tcpmon_trans_rx* && $progs != *tcpmon_sock_send* && $progs == *tcpmon_sock_copy* ]] ||
	die "icmp filter: programs attached: $progs"
[ "$(links_per_ns "$work/flood.tcm")" = 4 ] || die "icmp host A: not IPv4 links only: $(cat "$work/flood.tcm.log")"
t0=$(date +%s%N)
inA ping -f -l 16 -c $n -q 10.201.1.2 >"$work/flood.out" 2>&1 || { cat "$work/flood.out"; die "ping -f"; }
t1=$(date +%s%N)
stop "$work/flood.tcm"
h=$(header "$work/flood.tcm"); echo "$h"
[[ $h == *"records=$((15 * n)) lost=0"* ]] || die "flood: $h, expected $((15 * n)) records, none lost"
"$bin/tcpmon" dump --csv "$work/flood.tcm" >"$work/flood.csv" || die "dump"
# the checker's verdict, not tail's, decides (a pipe into tail would always succeed)
awk -F, -v mode=icmp -v echoes=$n -f tests/e2e/tcpmon_bpf_check.awk <(by_time "$work/flood.csv") >"$work/flood.check" ||
	{ head -n 40 "$work/flood.check"; die "flood layers"; }
tail -n 3 "$work/flood.check"
awk -v n=$n -v t0="$t0" -v t1="$t1" 'BEGIN { printf "flood: %d echo packets in %.2f s = %.0f packets/s, %.0f records/s recorded without loss\n", 2 * n, (t1 - t0) / 1e9, 2 * n / ((t1 - t0) / 1e9), 15 * n / ((t1 - t0) / 1e9) }'

# --- 4. loss counted exactly: a 1 MiB ring the reader does not drain fast enough
echo "== loss"
record "$work/loss.tcm" icmp host 10.201.1.1 --ring-mb 1
kill -STOP "$rec_pid" # the reader sleeps: the ring fills
inA ping -f -l 16 -c 20000 -q 10.201.1.2 >/dev/null 2>&1
kill -CONT "$rec_pid"
stop "$work/loss.tcm" >"$work/loss.out"; cat "$work/loss.out"
h=$(header "$work/loss.tcm"); echo "$h"
rec=$(echo "$h" | sed -n 's/.*records=\([0-9]*\).*/\1/p') lost=$(echo "$h" | sed -n 's/.*lost=\([0-9]*\).*/\1/p')
[ -n "$lost" ] && [ "$lost" -gt 0 ] || die "a stopped reader lost nothing: $h"
[ $((rec + lost)) = $((15 * 20000)) ] || die "records $rec + lost $lost != $((15 * 20000)) offered"
grep -q "warning: $lost records lost" "$work/loss.out" || die "tcpmon did not warn about the loss"
"$bin/tcpmon" dump --loss --csv "$work/loss.tcm" >"$work/loss.csv" || die "dump --loss"
inwin=$(awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next} {s += $c["lost"]} END {print s + 0}' "$work/loss.csv")
[ "$inwin" = "$lost" ] || die "loss windows hold $inwin records, the counters $lost"
echo "loss: $rec records kept, $lost lost, all $lost placed in $(($(wc -l <"$work/loss.csv") - 1)) windows"
# --- 6. start, record, stop
echo "== start / record / stop"
# waits up to 10 s (RCU) until none of the objects listed in FILE exists, or dies
gone() {
	local left
	for _ in $(seq 100); do
		left=$(ours | sort | comm -12 - "$1")
		[ -z "$left" ] && [ ! -e /sys/fs/bpf/vmdelay/tcpmon ] && return 0
		sleep 0.1
	done
	die "left behind 10 s after $2: $left $(ls /sys/fs/bpf/vmdelay 2>&1)"
}
bpf_start icmp host 10.201.1.1 || die "bpf start: $(cat "$work/start.log")"
ours | sort >"$work/started.ours"
grep -q '^link' "$work/started.ours" && [ -e /sys/fs/bpf/vmdelay/tcpmon/config ] ||
	die "start left no programs or pins: $(cat "$work/started.ours") $(ls /sys/fs/bpf/vmdelay/tcpmon 2>&1)"
inA ping -q -c 3 -i 0.05 10.201.1.2 >/dev/null || die "ping"  # no reader yet: the rings keep them
"$bin/tcpmon" --backend bpf record -w "$work/x.tcm" tcp 2>/dev/null; [ $? = 2 ] || die "record with a filter after start: not a usage error"
rec_start "$work/s1.tcm"
grep -q "programs .tcpmon start. left" "$work/s1.tcm.log" || die "record did not read the started programs: $(cat "$work/s1.tcm.log")"
inA ping -q -c 2 -i 0.05 10.201.1.2 >/dev/null || die "ping"
rec_stop || die "record after start: $(cat "$work/s1.tcm.log")"
rec_start "$work/s2.tcm"
inA ping -q -c 4 -i 0.05 10.201.1.2 >/dev/null || die "ping"
rec_stop || die "second record after start: $(cat "$work/s2.tcm.log")"
for f in s1:5 s2:4; do
	"$bin/tcpmon" dump --csv "$work/${f%:*}.tcm" >"$work/${f%:*}.csv" || die "dump ${f%:*}"
	awk -F, -v mode=icmp -v echoes="${f#*:}" -f tests/e2e/tcpmon_bpf_check.awk <(by_time "$work/${f%:*}.csv") || die "${f%:*}: layers"
	h=$(header "$work/${f%:*}.tcm"); echo "${f%:*}: $h"
	[[ $h == *"records=$((15 * ${f#*:})) lost=0"* ]] || die "${f%:*}: $h, expected $((15 * ${f#*:})) records, none lost"
done
bpf_stop 2>"$work/stop.log" || die "bpf stop: $(cat "$work/stop.log")"
cat "$work/stop.log"
grep -q "bpf since start: 135 recorded, 0 lost" "$work/stop.log" || die "stop did not count the 9 echoes' 135 records"
gone "$work/started.ours" "tcpmon --backend bpf stop"
echo "stop: nothing left ($(wc -l <"$work/started.ours") programs, maps and links, and the pins)"

# a test that dies after start: its trap removes what start pinned
dying=$work/dying.ours
(
	trap bpf_test_cleanup EXIT
	work=$(mktemp -d "$work/dying.XXXXXX") veth_a='' veth_b=''
	bpf_start icmp || exit 3
	ours | sort >"$dying"
	exit 1
)
[ $? = 1 ] && grep -q '^link' "$dying" || die "the dying test could not start"
gone "$dying" "a test that died after start"
echo "a test that dies after start leaves nothing"
echo "tcpmon_bpf: PASS"
