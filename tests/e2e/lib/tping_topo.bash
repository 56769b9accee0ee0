#!/usr/bin/env bash
# Sourced by tests/e2e/tping_*.sh: a two-namespace testbed named after the test's PID.
#   S (sender): bridge b$id with 10.$o.1.1/24 and fd00:$o::1/64, its port veth s$id
#   R (peer):   veth r$id with 10.$o.1.2/24 and fd00:$o::2/64; routes 10.$o.9.0/24 and
#               fd00:$o:9::/64 to "unreachable" so it answers probes there with ICMP errors.
# The bridge over the veth gives the sender two stacked devices (two SCHED stamps per probe).
# topo_cleanup (trap it) deletes both namespaces, which removes their devices.

id=$$
o=$(($$ % 200 + 20))
S=vdtpS$id
R=vdtpR$id
SIF=s$id
RIF=r$id
BR=b$id
V4=10.$o.1.2
V6=fd00:$o::2
# shellcheck disable=SC2034 # for the tests that source this file
V4_UNREACH=10.$o.9.9
# shellcheck disable=SC2034 # for the tests that source this file
V6_UNREACH=fd00:$o:9::9

skip() {
	echo "$*" >&2
	exit 77
}

topo_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	local t
	for t in ip "$@"; do
		command -v "$t" >/dev/null || skip "needs $t"
	done
	[ -x "$VMDELAY_BIN/tping" ] || skip "no $VMDELAY_BIN/tping (make VARIANT=asan all)"
}

topo_cleanup() {
	ip netns del "$S" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	rm -rf "/etc/netns/$S" "/etc/netns/$R"
}

topo_up() {
	ip netns add "$S" && ip netns add "$R" || skip "cannot create network namespaces"
	ip link add "$SIF" type veth peer name "$RIF" || skip "cannot create a veth pair"
	ip link set "$SIF" netns "$S"
	ip link set "$RIF" netns "$R"
	ip -n "$S" link add "$BR" type bridge
	ip -n "$S" link set "$SIF" master "$BR"
	for l in lo "$SIF" "$BR"; do ip -n "$S" link set "$l" up; done
	for l in lo "$RIF"; do ip -n "$R" link set "$l" up; done
	ip -n "$S" addr add "10.$o.1.1/24" dev "$BR"
	ip -n "$R" addr add "$V4/24" dev "$RIF"
	ip -n "$S" addr add "fd00:$o::1/64" dev "$BR" nodad
	ip -n "$R" addr add "$V6/64" dev "$RIF" nodad
	# R routes the "unreachable" prefixes and answers with ICMP errors, unthrottled (the
	# per-namespace ICMP rate limits; the IPv4 route-error limit is global: bursts of 5).
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	ip -n "$R" route add unreachable "10.$o.9.0/24"
	ip -n "$R" -6 route add unreachable "fd00:$o:9::/64"
	ip -n "$S" route add "10.$o.9.0/24" via "$V4"
	ip -n "$S" -6 route add "fd00:$o:9::/64" via "$V6"
	# The bridge forwards once its port is up; wait (bounded) until the peer answers.
	local _
	for _ in $(seq 50); do
		ip netns exec "$S" ping -c 1 -W 0.2 "$V4" >/dev/null 2>&1 &&
			ip netns exec "$S" ping -6 -c 1 -W 0.2 "$V6" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "testbed: $S cannot reach $R" >&2
	exit 1
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# median of the numbers on stdin (one per line; the lower middle for an even count)
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print v[int((NR + 1) / 2)] }'
}
