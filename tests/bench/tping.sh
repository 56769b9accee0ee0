#!/usr/bin/env bash
# tping benchmark (not a test; never fails on speed): in two namespaces (bridge over veth → peer)
#  1. the fastest sustainable probe rate with full timestamping (at most 0.1% lost and at least
#     90% of the asked rate achieved), against `ping -f` from iputils in the same run (ratio);
#  2. the cost of SO_TIMESTAMPING per probe: tping's CPU time per probe with and without it, at
#     the same rate.
set -u
VMDELAY_BIN=${VMDELAY_BIN:-$VMDELAY_ROOT/build/release/bin}
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
topo_need ping
tmp=$(mktemp -d)
cleanup() {
	topo_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
topo_up
TP=$VMDELAY_BIN/tping
N=${TPING_BENCH_PROBES:-5000}

# ping -f: one request in flight at a time (or every 10 ms), as fast as replies come back.
ip netns exec "$S" ping -f -q -c "$N" "$V4" >"$tmp/pingf" 2>&1
ping_ms=$(sed -n 's/.*received.* time \([0-9]*\)ms.*/\1/p' "$tmp/pingf")
ping_rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/pingf")
[ -n "$ping_ms" ] && [ "$ping_ms" -gt 0 ] || { echo "ping -f failed: $(cat "$tmp/pingf")"; exit 1; }
ping_rate=$((ping_rx * 1000 / ping_ms))
echo "ping -f: $ping_rx/$N replies in $ping_ms ms: $ping_rate probes/s"

# tping, interval halving: the fastest rate it sustains with every stamp on.
best=0
best_iv=
for iv in 200us 100us 50us 20us 10us 5us 2us 0; do
	ip netns exec "$S" "$TP" -q -c "$N" -i "$iv" -W 1 --csv -o "$tmp/run.csv" "$V4" >"$tmp/run.out" 2>&1
	# achieved rate over the send times; probes not "ok" count as lost
	read -r rate lost <<<"$(tail -n +2 "$tmp/run.csv" | awk -F, '
		NR == 1 { first = $4 } { last = $4; if ($3 != "ok") lost++ }
		END { d = (last - first) / 1e9; r = 0; if (d > 0) r = (NR - 1) / d; printf "%d %d\n", r, lost + 0 }')"
	want=0
	[ "$iv" != 0 ] && want=$(awk -v iv="$iv" 'BEGIN { sub("us", "", iv); printf "%d", 1e6 / iv }')
	ok=no
	if [ "$lost" -le $((N / 1000)) ] && [ "$rate" -ge $((want * 9 / 10)) ]; then
		ok=yes
		[ "$rate" -gt "$best" ] && best=$rate && best_iv=$iv
	fi
	echo "tping -i $iv: asked $want/s, achieved $rate probes/s, $lost lost, sustainable: $ok"
done
echo "fastest sustainable tping rate with full timestamping: $best probes/s (-i $best_iv)"
awk -v a="$best" -v b="$ping_rate" 'BEGIN { printf "ratio tping / ping -f: %.2f\n", a / b }'

# Cost of timestamping: CPU time per probe at the same rate, stamps on and off (3 runs each,
# the median kept).
cpu_per_probe() { # extra args...
	for _ in 1 2 3; do
		ip netns exec "$S" "$TP" -q -c "$N" -i 100us -W 1 "$@" "$V4" 2>&1 |
			sed -n 's/.*cpu \([0-9.]*\) us\/probe.*/\1/p'
	done | sort -n | sed -n 2p
}
on=$(cpu_per_probe)
off=$(cpu_per_probe --no-timestamps)
echo "cpu per probe at 10000/s: $on us with timestamping, $off us without"
awk -v a="$on" -v b="$off" 'BEGIN { printf "timestamping costs %.1f us per probe (%.0f%%)\n", a - b, 100 * (a - b) / b }'
