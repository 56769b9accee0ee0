#!/usr/bin/env bash
# timeout: 900
# GRE and Geneve, real Linux tunnel devices, in Debian's kernel under qemu (this host's kernel
# has neither). Inside one guest: two network namespaces joined by a veth pair (the underlay),
# a GRE tunnel (key 7) and a Geneve tunnel (VNI 4660) between them; namespace ta pings tb
# through each tunnel while tcpdump captures, in ta, the underlay veth (the wire vantage) and
# the tunnel device (the inner vantage). On the host, vmdelay-analyze must match every probe at
# both vantage points, give the encapsulation hop a non-negative delta per probe, name GRE
# resp. Geneve in the wire vantage's tunnel summary (and no tunnel on the device), and tshark
# must agree on the underlay capture's pairs and RTTs.
# Skips (77) when qemu, a Debian kernel image with modules, tcpdump or tshark is missing.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
. tests/e2e/lib/analyze_lib.sh
skip() { echo "testbeds_qemu_tunnels: SKIP: $*" >&2; exit 77; }
die() { echo "testbeds_qemu_tunnels: FAIL: $*" >&2; exit 1; }

. testbeds/qemu/lib.sh
why=$(vdq_require) || skip "$why"
kver=$(testbeds/qemu/kernel.sh 2>/dev/null) ||
	skip "no Debian kernel image /boot/vmlinuz-V with modules in /lib/modules/V (linux-image-amd64)"
for t in tcpdump tshark python3; do
	command -v "$t" >/dev/null || skip "$t not installed (make deps)"
done
echo "kernel $kver"
export VDQ_KERNEL=/boot/vmlinuz-$kver
n=20

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu_tunnels.XXXXXX")
cleanup() {
	vdq_cleanup
	rm -rf "$work"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit cleanup

# The guest's part (busybox sh, which runs its own applets before anything on PATH: iproute2's
# ip, for netns, gre and geneve, is called by its path in the initramfs).
cat >"$work/tunnels.sh" <<'EOF'
#!/bin/sh
# tunnels.sh N: namespaces ta and tb over veth va/vb; gre1 (key 7) and gnv1 (VNI 4660) between
# them; ta pings tb N times through each, capturing va and each tunnel device into /tmp/tun.
set -eu
n=$1 out=/tmp/tun
mkdir -p $out
ip=/usr/local/bin/ip
# tcpdump -Z root looks the user up: the initramfs may have no passwd entry for it
grep -qs '^root:' /etc/passwd || echo 'root:x:0:0:root:/:/bin/sh' >>/etc/passwd
grep -qs '^root:' /etc/group || echo 'root:x:0:' >>/etc/group
$ip netns add ta
$ip netns add tb
$ip link add va netns ta type veth peer name vb netns tb
i=1
for ns in ta tb; do
	peer=$((3 - i))
	dev=va
	[ $ns = tb ] && dev=vb
	$ip -n $ns link set lo up
	$ip -n $ns addr add 192.168.77.$i/24 dev $dev
	$ip -n $ns link set $dev up
	$ip -n $ns link add gre1 type gre local 192.168.77.$i remote 192.168.77.$peer key 7 ttl 64
	$ip -n $ns addr add 10.70.0.$i/24 dev gre1
	$ip -n $ns link set gre1 up
	$ip -n $ns link add gnv1 type geneve id 4660 remote 192.168.77.$peer
	$ip -n $ns addr add 10.80.0.$i/24 dev gnv1
	$ip -n $ns link set gnv1 up
	i=2
done
cap() { # TAG IFACE [FILTER]: tcpdump in ta, returns when it listens
	tag=$1 ifc=$2
	shift 2
	$ip netns exec ta tcpdump -Z root -i "$ifc" --immediate-mode -U -n -s 256 \
		-w $out/"$tag".pcap "$@" >$out/"$tag".log 2>&1 &
	echo $! >$out/"$tag".pid
	for _ in $(seq 100); do
		grep -qs 'listening on' $out/"$tag".log && return 0
		sleep 0.1
	done
	cat $out/"$tag".log >&2
	return 1
}
cap wire_gre va ip proto 47
cap dev_gre gre1
$ip netns exec ta ping -c "$n" -i 0.2 -W 5 10.70.0.2
# Geneve carries Ethernet: resolve the far end before capturing, so that the captures hold
# the N probes only and no probe waits for ARP.
$ip netns exec ta ping -c 1 -W 5 10.80.0.2 >/dev/null
cap wire_geneve va udp port 6081
cap dev_geneve gnv1
$ip netns exec ta ping -c "$n" -i 0.2 -W 5 10.80.0.2
sleep 1
for tag in wire_gre dev_gre wire_geneve dev_geneve; do
	kill -INT "$(cat $out/$tag.pid)"
done
for tag in wire_gre dev_gre wire_geneve dev_geneve; do
	for _ in $(seq 50); do
		kill -0 "$(cat $out/$tag.pid)" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 3 $out/$tag.log
done
EOF

testbeds/qemu/mkinitramfs.sh -k "$kver" -o "$work/initrd.gz" -m veth -m ip_gre -m geneve \
	-f "$(command -v ip)" -f "$(command -v tcpdump)" -f "$work/tunnels.sh:/data/tunnels.sh" \
	>"$work/initramfs.log" 2>&1 || { cat "$work/initramfs.log"; die "initramfs"; }

vdq_env_create "vdqt$$" 10.0.2 || die "netns environment"
vdq_guest_start m1 --initrd "$work/initrd.gz" || die "guest did not boot"
echo "guest up in $(vdq_guest_info m1 boot_ms) ms ($(vdq_guest_info m1 accel))"
vdq_exec m1 -t 300 -- "sh /data/tunnels.sh $n" || die "tunnels or pings in the guest failed"

for tun in gre:'gre key=7' geneve:'geneve vni=4660'; do
	kind=${tun%%:*} chain=${tun#*:}
	wire=$work/wire_$kind.pcap dev=$work/dev_$kind.pcap
	vdq_copy_out m1 "/tmp/tun/wire_$kind.pcap" "$wire" || die "copy-out of the $kind underlay capture"
	vdq_copy_out m1 "/tmp/tun/dev_$kind.pcap" "$dev" || die "copy-out of the $kind device capture"
	vps=("wire=$wire" "$kind=$dev")

	"$AN" -q --json "${vps[@]}" >"$work/$kind.json" || fail "$kind: vmdelay-analyze exit $?"
	grep -q "\"probes\": $n," "$work/$kind.json" ||
		fail "$kind: not $n probes: $(grep -m1 '"probes"' "$work/$kind.json")"
	for v in wire "$kind"; do
		grep -q "\"name\": \"$v\".*\"pairs\": $n, \"probes\": $n, \"unmatched_requests\": 0, \"unmatched_replies\": 0" \
			"$work/$kind.json" || fail "$kind: vantage $v did not match every probe"
	done
	grep -q "\"name\": \"wire\".*\"notes\": \"tunnels: $chain: [0-9]* frames\"" "$work/$kind.json" ||
		fail "$kind: the wire vantage's notes do not name '$chain'"
	grep -q "\"name\": \"$kind\".*\"notes\": null" "$work/$kind.json" ||
		fail "$kind: tunnels reported on the tunnel device itself"
	# the encapsulation hop is a layer of its own: one delta per probe, never negative (the
	# captures are in the sender's namespace, so the device sees a longer round trip)
	"$AN" -q --csv "${vps[@]}" >"$work/$kind.csv" || fail "$kind: --csv exit $?"
	awk -F, -v v="$kind" -v n="$n" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["vantage"] == v && $c["delta_ns"] != "" { k++; if ($c["delta_ns"] < 0) neg++ }
		END { exit (k == n && !neg) ? 0 : 1 }' "$work/$kind.csv" ||
		fail "$kind: layer wire->$kind: not $n non-negative deltas"
	"$AN" -q "${vps[@]}" | grep -E "^(layer|$kind|total) " >&2

	# tshark, the oracle, on the underlay capture: same pairs, RTTs to 1 us
	"$AN" -q --csv "$wire" >"$work/w_$kind.csv" 2>/dev/null
	: >"$work/w_$kind.json"
	python3 tests/e2e/lib/tshark_oracle.py "$wire" "$work/w_$kind.csv" "$work/w_$kind.json" ||
		fail "$kind: tshark disagrees on the underlay capture"
done
echo "$fails failures"
[ "$fails" -eq 0 ]
