#!/usr/bin/env bash
# timeout: 300
# End to end with tping in network namespaces: client (tping) -- router -- server, pcaps on the
# router's client-side interface and on the server's interface. Four vantage points on one clock,
# outermost first: server pcap, router pcap, tping kernel stamps, tping user stamps. Every probe
# is matched at all four, Δs are non-negative and add up to the user RTT minus the wire RTT, and
# the one-way split adds up to each Δ (100 probes + 2 x 10 at rest). Skips when tping is not
# built in this tree or without root.
. "$(dirname "$0")/lib/analyze_lib.sh"
TP="$(dirname "$AN")/tping"
[ -x "$TP" ] || { echo "no tping binary next to vmdelay-analyze (tping branch not merged)" >&2; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root for network namespaces" >&2; exit 77; }
for c in ip tcpdump; do command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 77; }; done
C=vdanc$$ R=vdanr$$ S=vdans$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$C" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	rm -rf "$tmp"
}
. "$(dirname "$0")/../../testbeds/on_exit.sh"
vd_on_exit cleanup
ip netns add "$C" && ip netns add "$R" && ip netns add "$S" || { echo "cannot create namespaces" >&2; exit 77; }
ip -n "$C" link add ac$$ type veth peer name ar$$ netns "$R" || { echo "cannot create veth" >&2; exit 77; }
ip -n "$R" link add bs$$ type veth peer name bt$$ netns "$S"
ip -n "$C" addr add 10.77.1.2/24 dev ac$$
ip -n "$R" addr add 10.77.1.1/24 dev ar$$
ip -n "$R" addr add 10.77.2.1/24 dev bs$$
ip -n "$S" addr add 10.77.2.2/24 dev bt$$
for ns in "$C" "$R" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" link set ac$$ up && ip -n "$R" link set ar$$ up && ip -n "$R" link set bs$$ up && ip -n "$S" link set bt$$ up
ip -n "$C" route add default via 10.77.1.1
ip -n "$S" route add default via 10.77.2.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1

capture() { # ns iface out
	ip netns exec "$1" tcpdump -i "$2" -n -U --immediate-mode --time-stamp-precision=nano -w "$3" icmp \
		2>"$3.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q "listening on" "$3.err" && return 0; sleep 0.1; done
	fail "tcpdump on $2 did not start: $(cat "$3.err")"
}
capture "$S" bt$$ "$tmp/server.pcap"
capture "$R" ar$$ "$tmp/router.pcap"
ip netns exec "$C" "$TP" -c 100 -i 0.02 --rest 10 --csv -o "$tmp/tping.csv" 10.77.2.2 >"$tmp/tping.out" 2>&1 ||
	fail "tping: $(tail -3 "$tmp/tping.out")"
sleep 0.5
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()

"$AN" -q --csv "wire=$tmp/server.pcap" "router=$tmp/router.pcap" "guest=$tmp/tping.csv" >"$tmp/a.csv" ||
	fail "analyze exit $?"
"$AN" -q --json "wire=$tmp/server.pcap" "router=$tmp/router.pcap" "guest=$tmp/tping.csv" >"$tmp/a.json"
grep -q '"probes": 120,' "$tmp/a.json" || fail "not 120 probes: $(grep '"probes"' "$tmp/a.json" | head -1)"
for v in wire router guest.kernel guest.user; do
	grep -q "\"name\": \"$v\".*\"probes\": 120," "$tmp/a.json" || fail "$v did not see all 120 probes"
done
awk -F, '
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{
		p = $c["probe"]; v = $c["vantage"]; rtt[p, v] = $c["rtt_ns"]
		if (v == "wire") next
		d = $c["delta_ns"]; s = $c["send_ns"]; r = $c["recv_ns"]
		if (d == "" || s == "" || r == "") { print "probe " p " " v ": no delta"; bad++; next }
		if (d < 0 || s < 0 || r < 0) { print "probe " p " " v ": negative delta " d " send " s " recv " r; bad++ }
		if (d != s + r) { print "probe " p " " v ": delta != send + recv"; bad++ }
		sum[p] += d; n++
	}
	END {
		for (k in sum)
			if (sum[k] != rtt[k, "guest.user"] - rtt[k, "wire"]) { print "probe " k ": deltas do not add up"; bad++ }
		printf "%d layer rows checked\n", n > "/dev/stderr"
		exit (bad || n != 360) ? 1 : 0
	}' "$tmp/a.csv" | head -5 >&2
[ "${PIPESTATUS[0]}" = 0 ] || fail "per-probe deltas"
# the per-layer table, for the log
"$AN" -q "wire=$tmp/server.pcap" "router=$tmp/router.pcap" "guest=$tmp/tping.csv" |
	awk '/^delay per layer/ { on = 1 } on && (/^layer/ || $5 == "all")' >&2
# phases come from tping's --rest
grep -q '"phase": "rest-pre"' "$tmp/a.json" || fail "no rest-pre phase"
echo "$fails failures"
[ "$fails" -eq 0 ]
