#!/usr/bin/env bash
# timeout: 400
# tping end to end in two namespaces (bridge over veth → peer): every probe answered and fully
# stamped, stamps in causal order, kernel RTT against a pcap of the sender's veth (50 µs) and
# against iputils ping (20%), datagram and raw sockets, IPv6, 1000 Hz, phases and --load, and
# --db storing exactly the probes printed.
set -u
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
topo_need tcpdump ping sqlite3 cc
tmp=$(mktemp -d)
tcpdump_pid=
cleanup() {
	[ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null && wait "$tcpdump_pid" 2>/dev/null
	topo_cleanup
	rm -rf "$tmp"
}
. "$VMDELAY_ROOT/testbeds/on_exit.sh"
vd_on_exit cleanup
topo_up
TP=$VMDELAY_BIN/tping
inS() { ip netns exec "$S" "$@"; }
cc -O2 -o "$tmp/pcap_rtt" "$VMDELAY_ROOT/tests/e2e/tping_pcap_rtt.c" -lpcap || fail "cannot build the pcap helper"

# CSV column index by name (1-based), from the header of $1.
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }

# Checks a tping CSV: N rows, all ok, every stamp present, causal order.
check_csv() { # file expected_rows
	local f=$1 n=$2
	local rows
	rows=$(($(wc -l <"$f") - 1))
	[ "$rows" = "$n" ] || fail "$f: $rows rows, expected $n"
	awk -F, -v st="$(col "$f" status)" -v ut="$(col "$f" user_tx_ns)" \
		-v sc="$(col "$f" sched_tx_ns)" -v sl="$(col "$f" sched_tx_last_ns)" \
		-v kt="$(col "$f" kernel_tx_ns)" -v kr="$(col "$f" kernel_rx_ns)" \
		-v ur="$(col "$f" user_rx_ns)" -v urtt="$(col "$f" user_rtt_ns)" \
		-v krtt="$(col "$f" kernel_rtt_ns)" -v file="$f" '
		NR == 1 { next }
		$st != "ok" { printf "%s: seq %s status %s\n", file, $1, $st; bad = 1; next }
		$ut == "" || $sc == "" || $kt == "" || $kr == "" || $ur == "" {
			printf "%s: seq %s lacks a stamp: %s\n", file, $1, $0; bad = 1; next }
		!($ut <= $sc && $sc <= $sl && $sl <= $kt && $kt < $kr && $kr <= $ur) {
			printf "%s: seq %s stamps out of order: %s\n", file, $1, $0; bad = 1 }
		!($krtt <= $urtt) { printf "%s: seq %s kernel RTT > user RTT\n", file, $1; bad = 1 }
		END { exit bad }' "$f" || fail "$f: see above"
}

# 1. IPv4 over the raw socket (ping_group_range is "1 0" in a new namespace), with a capture on
#    the sender's veth, the run stored in SQLite.
inS tcpdump -i "$SIF" -n -U --immediate-mode --time-stamp-precision=nano -w "$tmp/s.pcap" icmp 2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.1; done
grep -q "listening on" "$tmp/tcpdump.err" || fail "tcpdump did not start: $(tail -5 "$tmp/tcpdump.err")"
# iputils ping runs at the same time, so both see the same load on this shared machine.
inS ping -c 200 -i 0.01 "$V4" >"$tmp/ping.out" 2>&1 &
ping_pid=$!
inS "$TP" -c 200 -i 0.01 --csv -o "$tmp/v4.csv" --db "$tmp/run.db" --testbed e2e --label v4 "$V4" \
	>"$tmp/v4.out" 2>&1 || fail "tping v4 failed: $(tail -5 "$tmp/v4.out")"
wait "$ping_pid" || fail "ping failed: $(tail -3 "$tmp/ping.out")"
sleep 0.5 # --immediate-mode: nothing waits in a half-filled ring block
kill "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
tcpdump_pid=
head -1 "$tmp/v4.csv" | grep -q '^seq,phase,status,user_tx_ns,sched_tx_ns,kernel_tx_ns,hw_tx_ns,kernel_rx_ns,hw_rx_ns,user_rx_ns,user_rtt_ns,kernel_rtt_ns,hw_rtt_ns,size,ttl\(,\|$\)' ||
	fail "CSV header: $(head -1 "$tmp/v4.csv")"
check_csv "$tmp/v4.csv" 200
grep -q "200 probes sent, 200 received, 0 lost" "$tmp/v4.out" || fail "summary: $(tail -5 "$tmp/v4.out")"
grep -qE '^kernel +200 ' "$tmp/v4.out" || fail "no kernel row in the layer table"
grep -qE '^dSched +200 ' "$tmp/v4.out" || fail "no dSched row in the layer table"

kmed=$(tail -n +2 "$tmp/v4.csv" | cut -d, -f"$(col "$tmp/v4.csv" kernel_rtt_ns)" | median)
icmp_id=$(sqlite3 -batch -noheader "$tmp/run.db" "SELECT value FROM run_meta WHERE key = 'icmp_id'")
"$tmp/pcap_rtt" "$tmp/s.pcap" "$icmp_id" >"$tmp/pcap.rtt" || fail "pcap helper failed"
[ "$(wc -l <"$tmp/pcap.rtt")" -ge 190 ] || fail "pcap: only $(wc -l <"$tmp/pcap.rtt") echo pairs, seqs $(cut -d" " -f1 "$tmp/pcap.rtt" | head -3 | tr "\n" " ")...; tcpdump: $(tail -3 "$tmp/tcpdump.err")"
pmed=$(cut -d' ' -f2 "$tmp/pcap.rtt" | median)
diff=$((kmed > pmed ? kmed - pmed : pmed - kmed))
echo "median kernel RTT $kmed ns, pcap $pmed ns, difference $diff ns"
[ "$diff" -le 50000 ] || fail "kernel RTT $kmed ns vs pcap $pmed ns: more than 50 µs apart"

# iputils ping (run above, beside tping) stamps RX in the kernel (SO_TIMESTAMP) and TX in user
# space, so its time= is compared with tping's kernel_rx - user_tx; tping's kernel RTT (SND to
# RX) is printed beside it. 20%, with a 15 µs floor: RTTs here are 50-70 µs and ping's own
# median moves by 20 µs between two back-to-back runs on this kind of machine.
ping_vs_tping() { # ping.out tping.csv -> 0 when within tolerance; prints the figures
	local ping_med tp_med ur ut tol d
	ping_med=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$1" | awk '{ printf "%d\n", $1 * 1000000 }' | median)
	ur=$(col "$2" kernel_rx_ns)
	ut=$(col "$2" user_tx_ns)
	tp_med=$(tail -n +2 "$2" | awk -F, -v a="$ur" -v b="$ut" '{ print $a - $b }' | median)
	tol=$((ping_med / 5 > 15000 ? ping_med / 5 : 15000))
	d=$((tp_med > ping_med ? tp_med - ping_med : ping_med - tp_med))
	echo "median RTT: ping $ping_med ns, tping kernel_rx - user_tx $tp_med ns (tolerance $tol ns)"
	[ "$d" -le "$tol" ]
}
echo "tping kernel RTT median $kmed ns"
if ! ping_vs_tping "$tmp/ping.out" "$tmp/v4.csv"; then
	# A neighbour's burst or a CPU idle state can shift one pair of medians: measure again, side
	# by side, up to twice more, and fail only if every pair disagrees.
	agreed=
	for attempt in 2 3; do
		echo "ping and tping disagree: measuring again ($attempt of 3)"
		inS ping -c 200 -i 0.01 "$V4" >"$tmp/ping$attempt.out" 2>&1 &
		ping_pid=$!
		inS "$TP" -q -c 200 -i 0.01 --csv -o "$tmp/v4-$attempt.csv" "$V4" >/dev/null 2>&1 ||
			fail "tping (comparison $attempt) failed"
		wait "$ping_pid" || fail "ping (comparison $attempt) failed"
		ping_vs_tping "$tmp/ping$attempt.out" "$tmp/v4-$attempt.csv" && { agreed=1; break; }
	done
	[ -n "$agreed" ] || fail "tping vs ping: more than 20% (15 µs floor) apart three times"
fi

# --db stores exactly the probes printed.
sqlite3 -batch -csv -noheader "$tmp/run.db" "SELECT seq, phase, status, user_tx_ns, sched_tx_ns,
	kernel_tx_ns, hw_tx_ns, kernel_rx_ns, hw_rx_ns, user_rx_ns, user_rx_ns - user_tx_ns,
	kernel_rx_ns - kernel_tx_ns, hw_rx_ns - hw_tx_ns, size, ttl, sched_tx_last_ns, icmp_type,
	icmp_code, cpu, timer_late_ns FROM probes ORDER BY idx" >"$tmp/db.csv" || fail "sqlite3 failed"
tail -n +2 "$tmp/v4.csv" | cmp -s - "$tmp/db.csv" ||
	fail "--db differs from the CSV: $(tail -n +2 "$tmp/v4.csv" | diff - "$tmp/db.csv" | head -5)"
meta() { sqlite3 -batch -noheader "$tmp/run.db" "SELECT value FROM run_meta WHERE key = '$1'"; }
[ "$(meta socket)" = raw ] || fail "meta socket: $(meta socket)"
[ -n "$(meta clocksource)" ] || fail "no clocksource in run_meta"
[ -n "$(meta steal_ns)" ] || fail "no steal time in run_meta"
meta tstamp_granted | grep -q tx_sched || fail "granted flags: $(meta tstamp_granted)"
[ "$(sqlite3 -batch -noheader "$tmp/run.db" "SELECT t.name || '/' || r.label || '/' || r.complete FROM runs r JOIN testbeds t ON t.id = r.testbed_id")" = "e2e/v4/1" ] ||
	fail "runs row"

# 2. The ICMP datagram socket, where ping_group_range allows it (set in this namespace only).
inS sysctl -qw net.ipv4.ping_group_range="0 2147483647"
inS "$TP" -c 20 -i 0.005 --csv -o "$tmp/dgram.csv" "$V4" >"$tmp/dgram.out" 2>&1 ||
	fail "tping dgram failed: $(tail -5 "$tmp/dgram.out")"
grep -q "datagram socket" "$tmp/dgram.out" || fail "not a datagram socket: $(head -1 "$tmp/dgram.out")"
check_csv "$tmp/dgram.csv" 20
# ... which is what lets a user without privileges use tping at all.
command -v setpriv >/dev/null &&
	{ inS setpriv --reuid=65534 --regid=65534 --clear-groups "$TP" -c 5 -i 0.005 --csv "$V4" \
		>"$tmp/user.csv" 2>"$tmp/user.err" || fail "tping as nobody: $(tail -3 "$tmp/user.err")"; }
[ ! -s "$tmp/user.csv" ] || check_csv "$tmp/user.csv" 5

# 3. IPv6 (datagram socket here too), named with -6.
inS "$TP" -6 -c 20 -i 0.005 --csv -o "$tmp/v6.csv" "$V6" >"$tmp/v6.out" 2>&1 ||
	fail "tping -6 failed: $(tail -5 "$tmp/v6.out")"
check_csv "$tmp/v6.csv" 20
inS sysctl -qw net.ipv4.ping_group_range="1 0"

# 4. 1000 Hz, 2000 probes, as root: at most 0.1% lost.
inS "$TP" -q -c 2000 -i 0.001 -W 1 --csv -o "$tmp/khz.csv" "$V4" >"$tmp/khz.out" 2>&1
lost=$(tail -n +2 "$tmp/khz.csv" | awk -F, '$3 != "ok"' | wc -l)
rows=$(($(wc -l <"$tmp/khz.csv") - 1))
echo "1000 Hz: $rows probes, $lost not ok; $(grep 'timer lateness' "$tmp/khz.out")"
[ "$rows" = 2000 ] || fail "1000 Hz: $rows probes"
[ "$lost" -le 2 ] || fail "1000 Hz: $lost of 2000 lost (> 0.1%)"

# 5. Phases and --load: rest-pre / load / rest-post, and the load is gone afterwards.
marker="vdtp-load-$$"
inS "$TP" -c 10 -i 0.01 --rest 3 --load "exec -a $marker sleep 60" --csv -o "$tmp/ph.csv" "$V4" \
	>"$tmp/ph.out" 2>&1 || fail "tping --rest --load failed: $(tail -5 "$tmp/ph.out")"
phases=$(tail -n +2 "$tmp/ph.csv" | cut -d, -f2 | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$phases" = "rest-pre:3 load:10 rest-post:3 " ] || fail "phases: $phases"
! pgrep -f "$marker" >/dev/null || fail "the --load command still runs after tping"
grep -qE '^kernel/rest-pre +3 ' "$tmp/ph.out" || fail "no per-phase rows: $(tail -5 "$tmp/ph.out")"
echo "tping_netns: all checks passed"
