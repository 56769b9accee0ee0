#!/usr/bin/env bash
# overlay.sh — the overlay testbed: a tenant namespace behind a real Linux VXLAN device, as a
# virtualized host's guest sits behind its overlay. Self-contained (does not use netns.sh).
#
#   guest ns:  g0 (10.214.0.1) ──veth──┐
#   host1 ns:                    br0 ─ vx0 (VXLAN VNI 42, UDP 4789) ── up0 (192.168.214.1) ──veth──┐
#   host2 ns:                                          up1 (192.168.214.2) ── vx1 (10.214.0.2) ┘
#
# The guest pings the far end of the overlay (10.214.0.2, on host2's VXLAN device). tcpdump
# (nanosecond precision) records three vantage points, outermost first:
#   wire   host1's uplink up0: the guest's packets inside VXLAN (outer IPv4/UDP)
#   vxlan  host1's VXLAN device vx0: the same packets decapsulated
#   guest  the guest's own interface g0
# so the layer wire→vxlan is the encapsulation hop and vxlan→guest the bridge and veth.
#
#   testbeds/netns/overlay.sh [-c COUNT] [-i INTERVAL] [-o DIR]
# writes DIR/wire.pcap, DIR/vxlan.pcap, DIR/guest.pcap and DIR/ping.txt, and prints the command
# that analyzes them. Needs root, ip, tcpdump, ping and a kernel with VXLAN; exits 77 (skip) when
# the machine lacks one of them, 1 when the run fails. Everything it creates is deleted on exit.
set -u
count=200 interval=0.01 out=.
while getopts "c:i:o:h" opt; do
	case $opt in
	c) count=$OPTARG ;;
	i) interval=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,21p' "$0" >&2; exit 2 ;;
	esac
done
skip() { echo "overlay: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
for c in ip tcpdump ping; do command -v "$c" >/dev/null || skip "needs $c"; done
mkdir -p "$out" || exit 1

id=$$
G=vdov-$id-guest H1=vdov-$id-h1 H2=vdov-$id-h2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ns in "$G" "$H1" "$H2"; do ip netns del "$ns" 2>/dev/null; done
}
. "$(dirname "${BASH_SOURCE[0]}")/../on_exit.sh"
vd_on_exit cleanup
log() { printf '[overlay %s] %s\n' "$(date +%T)" "$*" >&2; }

ip netns add "$G" && ip netns add "$H1" && ip netns add "$H2" || skip "cannot create namespaces"
for ns in "$G" "$H1" "$H2"; do ip -n "$ns" link set lo up; done
# underlay: host1 <-> host2
ip -n "$H1" link add up0 type veth peer name up1 netns "$H2" || skip "cannot create veth"
ip -n "$H1" addr add 192.168.214.1/24 dev up0
ip -n "$H2" addr add 192.168.214.2/24 dev up1
ip -n "$H1" link set up0 up
ip -n "$H2" link set up1 up
# overlay: a VXLAN device on each host, VNI 42, the standard port
ip -n "$H1" link add vx0 type vxlan id 42 dstport 4789 local 192.168.214.1 remote 192.168.214.2 dev up0 ||
	skip "no VXLAN in this kernel"
ip -n "$H2" link add vx1 type vxlan id 42 dstport 4789 local 192.168.214.2 remote 192.168.214.1 dev up1
ip -n "$H2" addr add 10.214.0.2/24 dev vx1
ip -n "$H1" link set vx0 up
ip -n "$H2" link set vx1 up
# the guest, bridged onto host1's VXLAN device
ip -n "$H1" link add br0 type bridge
ip -n "$H1" link set vx0 master br0
ip -n "$G" link add g0 type veth peer name g0b netns "$H1"
ip -n "$H1" link set g0b master br0
ip -n "$G" addr add 10.214.0.1/24 dev g0
ip -n "$G" link set g0 mtu 1450 # room for the 50 bytes of VXLAN over a 1500-byte underlay
ip -n "$H1" link set br0 up
ip -n "$H1" link set g0b up
ip -n "$G" link set g0 up

capture() { # ns iface out filter
	ip netns exec "$1" tcpdump -i "$2" -n -U --immediate-mode --time-stamp-precision=nano -w "$3" "$4" \
		2>"$3.err" &
	pids+=($!)
	for _ in $(seq 100); do grep -q "listening on" "$3.err" && return 0; sleep 0.1; done
	echo "overlay: tcpdump on $2 did not start: $(cat "$3.err")" >&2
	exit 1
}
# ARP first, so that the first probe is not held back by address resolution on either side.
ip netns exec "$G" ping -c 2 -i 0.2 -W 2 10.214.0.2 >/dev/null 2>&1 ||
	{ echo "overlay: 10.214.0.2 not reachable through the VXLAN overlay" >&2; exit 1; }
capture "$H1" up0 "$out/wire.pcap" "udp port 4789"
capture "$H1" vx0 "$out/vxlan.pcap" "icmp"
capture "$G" g0 "$out/guest.pcap" "icmp"
log "$count pings through VXLAN VNI 42, every ${interval}s"
ip netns exec "$G" ping -n -c "$count" -i "$interval" 10.214.0.2 >"$out/ping.txt" 2>&1 ||
	{ echo "overlay: ping failed: $(tail -2 "$out/ping.txt")" >&2; exit 1; }
sleep 0.3
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
pids=()
log "wrote $out/wire.pcap $out/vxlan.pcap $out/guest.pcap; analyze with:"
echo "vmdelay-analyze wire=$out/wire.pcap vxlan=$out/vxlan.pcap guest=$out/guest.pcap"
