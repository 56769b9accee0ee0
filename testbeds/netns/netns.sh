#!/usr/bin/env bash
# netns.sh — the netns testbed: network namespaces joined by veth pairs and a Linux bridge stand
# in for a guest, the host's bridge, a peer and optional neighbour guests (DESIGN.md, "Testbeds on
# one Linux machine"). tcpdump (nanosecond precision) on the guest veth, the bridge and the peer
# veth gives three vantage points.
#
# Sourced by testbeds/run (functions nb_*), or used alone:
#   testbeds/netns/netns.sh up RUNID DIR [NEIGHBOURS] [MTU]   create; writes DIR/testbed.env
#   testbeds/netns/netns.sh down RUNID                         delete everything of RUNID
#   testbeds/netns/netns.sh leftovers RUNID                    list what of RUNID still exists
#
# Everything is named after RUNID (at most 8 characters of [a-z0-9]) so two runs can coexist;
# interface names stay within 15 characters. Addresses come from 10.213.0.0/24 and fd00:7d::/64
# and exist only inside the run's namespaces.

NB_NET4=10.213.0
NB_NET6=fd00:7d:
NB_GUEST_IP=$NB_NET4.1
NB_PEER_IP=$NB_NET4.2
# Neighbour discovery, ARP and the network load's TCP streams (ports 5000-5099; the transfer
# workload uses 5201) are not what is measured: keep them out of the vantage points' traces, or
# a minute of network load would write gigabytes.
NB_CAPTURE_FILTER='not arp and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)'
NB_CAPTURE_FILTER+=' and not (tcp portrange 5000-5099)'

nb_ns() { # RUNID ROLE -> namespace name
	printf 'vdtb-%s-%s' "$1" "$2"
}

nb_log() {
	printf '[netns %s] %s\n' "$(date +%T)" "$*" >&2
}

# Creates a veth pair whose outer end is a port of the bridge in the host namespace and whose
# inner end (named $3 inside namespace $2) has address $4.
nb_attach() { # RUNID NS IFNAME ADDR4 ADDR6 MTU
	local id=$1 ns=$2 ifn=$3 a4=$4 a6=$5 mtu=$6 host
	host=$(nb_ns "$id" host)
	ip link add "$ifn" netns "$ns" mtu "$mtu" type veth peer name "${ifn}b" netns "$host" mtu "$mtu" ||
		return 1
	ip -n "$host" link set "${ifn}b" master "vd${id}br" up || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$ns" addr add "$a4/24" dev "$ifn" || return 1
	ip -n "$ns" addr add "$a6/64" dev "$ifn" nodad || return 1
	ip -n "$ns" link set "$ifn" up
}

# nb_up RUNID DIR [NEIGHBOURS] [MTU]: creates the testbed and writes DIR/testbed.env (sourceable).
nb_up() {
	local id=$1 dir=$2 nneigh=${3:-0} mtu=${4:-1500}
	if ! [[ $id =~ ^[a-z0-9]{1,8}$ ]]; then
		echo "netns: run id '$id' must be 1 to 8 characters of [a-z0-9]" >&2
		return 2
	fi
	if ! command -v ip >/dev/null; then
		echo "netns: 'ip' (iproute2) is not installed: run 'make deps'" >&2
		return 1
	fi
	if ((EUID != 0)); then
		echo "netns: creating network namespaces needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)" >&2
		return 1
	fi
	local guest host peer k
	guest=$(nb_ns "$id" guest) host=$(nb_ns "$id" host) peer=$(nb_ns "$id" peer)
	nb_log "creating namespaces $guest, $host, $peer (+$nneigh neighbours), MTU $mtu"
	ip netns add "$host" || return 1
	ip netns add "$guest" || return 1
	ip netns add "$peer" || return 1
	ip -n "$host" link set lo up
	ip -n "$host" link add "vd${id}br" mtu "$mtu" type bridge || return 1
	# No STP delay and no IPv6 autoconf noise on the bridge: only the probes cross it.
	ip -n "$host" link set "vd${id}br" type bridge forward_delay 0 stp_state 0 2>/dev/null
	ip netns exec "$host" sysctl -qw "net.ipv6.conf.vd${id}br.disable_ipv6=1" 2>/dev/null
	ip -n "$host" link set "vd${id}br" up || return 1
	nb_attach "$id" "$guest" "vd${id}g" "$NB_GUEST_IP" "${NB_NET6}:1" "$mtu" || return 1
	nb_attach "$id" "$peer" "vd${id}p" "$NB_PEER_IP" "${NB_NET6}:2" "$mtu" || return 1
	local neigh_ns=() neigh_ip=()
	for ((k = 1; k <= nneigh; k++)); do
		local n
		n=$(nb_ns "$id" "n$k")
		ip netns add "$n" || return 1
		nb_attach "$id" "$n" "vd${id}n$k" "$NB_NET4.$((10 + k))" "${NB_NET6}:$((16 + k))" "$mtu" ||
			return 1
		neigh_ns+=("$n")
		neigh_ip+=("$NB_NET4.$((10 + k))")
	done
	# ICMP echo from unprivileged datagram sockets too, in the guest (tping may drop privileges).
	ip netns exec "$guest" sysctl -qw net.ipv4.ping_group_range="0 2147483647" 2>/dev/null
	mkdir -p "$dir" || return 1
	cat >"$dir/testbed.env" <<EOF
NB_RUNID=$id
NB_GUEST_NS=$guest
NB_HOST_NS=$host
NB_PEER_NS=$peer
NB_GUEST_IF=vd${id}g
NB_BRIDGE_IF=vd${id}br
NB_PEER_IF=vd${id}p
NB_GUEST_IP=$NB_GUEST_IP
NB_PEER_IP=$NB_PEER_IP
NB_GUEST_IP6=${NB_NET6}:1
NB_PEER_IP6=${NB_NET6}:2
NB_NEIGH_NS="${neigh_ns[*]}"
NB_NEIGH_IP="${neigh_ip[*]}"
NB_MTU=$mtu
EOF
	# The path must work before the experiment starts: one ping, bounded.
	local try
	for ((try = 0; try < 20; try++)); do
		ip netns exec "$guest" ping -c 1 -W 1 -q "$NB_PEER_IP" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "netns: guest cannot reach the peer $NB_PEER_IP across bridge vd${id}br" >&2
	return 1
}

# nb_capture_start DIR SNAPLEN: one tcpdump per vantage point (peer veth, bridge, guest veth),
# nanosecond timestamps, written unbuffered to DIR/{peer,bridge,guest}.pcap. Returns once every
# capture is listening. Immediate mode: with TPACKET_V3 blocks, packets still in a block when
# tcpdump is stopped would otherwise be lost.
nb_capture_start() {
	local dir=$1 snap=${2:-256} vp ns ifn
	# shellcheck disable=SC1091
	. "$dir/testbed.env"
	if ! command -v tcpdump >/dev/null; then
		echo "netns: tcpdump is not installed: run 'make deps'" >&2
		return 1
	fi
	: >"$dir/capture.pids"
	for vp in peer bridge guest; do
		case $vp in
		peer) ns=$NB_PEER_NS ifn=$NB_PEER_IF ;;
		bridge) ns=$NB_HOST_NS ifn=$NB_BRIDGE_IF ;;
		guest) ns=$NB_GUEST_NS ifn=$NB_GUEST_IF ;;
		esac
		ip netns exec "$ns" tcpdump -n -i "$ifn" -s "$snap" -U --immediate-mode \
			--time-stamp-precision=nano -w "$dir/$vp.pcap" "$NB_CAPTURE_FILTER" \
			>"$dir/$vp.tcpdump.log" 2>&1 &
		echo "$! $vp" >>"$dir/capture.pids"
	done
	local t
	for vp in peer bridge guest; do
		for ((t = 0; t < 100; t++)); do
			grep -q 'listening on' "$dir/$vp.tcpdump.log" 2>/dev/null && break
			sleep 0.1
		done
		if ((t == 100)); then
			echo "netns: the $vp capture did not start: $(tail -n 2 "$dir/$vp.tcpdump.log")" >&2
			return 1
		fi
	done
	nb_log "capturing on $NB_PEER_IF (peer), $NB_BRIDGE_IF (bridge), $NB_GUEST_IF (guest)"
}

# nb_capture_stop DIR: stops the captures (SIGINT so tcpdump flushes) and reports packet counts.
nb_capture_stop() {
	local dir=$1 pid vp t
	[ -f "$dir/capture.pids" ] || return 0
	while read -r pid vp; do
		kill -INT "$pid" 2>/dev/null
	done <"$dir/capture.pids"
	while read -r pid vp; do
		for ((t = 0; t < 50; t++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		local got
		got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$dir/$vp.tcpdump.log")
		nb_log "$vp capture: ${got:-?} packets"
	done <"$dir/capture.pids"
	rm -f "$dir/capture.pids"
}

# nb_down RUNID: kills every process still inside the run's namespaces (all started by the run)
# and deletes the namespaces, which deletes their veths and the bridge. Idempotent.
nb_down() {
	local id=$1 ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^vdtb-$id-"); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null
		done
	done
	local left t
	for ((t = 0; t < 30; t++)); do
		left=0
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^vdtb-$id-"); do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^vdtb-$id-"); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# nb_leftovers RUNID: prints every namespace, interface or process of RUNID that still exists.
nb_leftovers() {
	local id=$1
	ip netns list 2>/dev/null | awk '{print "namespace " $1}' | grep -- "vdtb-$id-"
	ip -o link show 2>/dev/null | awk -F': ' '{print "link " $2}' | grep -- "vd${id}"
	return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case "${1:-}" in
	up)
		shift
		nb_up "$@" || {
			rc=$?
			nb_down "$1"
			exit "$rc"
		}
		;;
	down) nb_down "$2" ;;
	leftovers) nb_leftovers "$2" ;;
	*)
		echo "usage: $0 up RUNID DIR [NEIGHBOURS] [MTU] | down RUNID | leftovers RUNID" >&2
		exit 2
		;;
	esac
fi
