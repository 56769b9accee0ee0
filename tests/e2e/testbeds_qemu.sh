#!/usr/bin/env bash
# timeout: 600
# qemu testbed end to end (issue 6): a measurement VM (e1000, pinned) and a background VM
# (virtio, running loads) on one bridge in a namespace. The measurement VM pings the host peer at
# 4 Hz and in a 1000 Hz burst; a pcap on the host tap must hold its echo requests; a file
# written in the guest must come out intact (9p share and command channel); every load must run
# and stop; teardown must leave no namespace, tap, bridge, qemu or watchdog behind.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../../testbeds/qemu/lib.sh
. "$root/testbeds/qemu/lib.sh"

why=$(vdq_require) || { echo "skip: $why" >&2; exit 77; }
command -v tcpdump >/dev/null || { echo "skip: tcpdump not installed" >&2; exit 77; }

ns=vdtq$$
work=$(mktemp -d "${TMPDIR:-/tmp}/vdtq.XXXXXX")
. "$root/testbeds/on_exit.sh"
vd_on_exit 'vdq_cleanup; rm -rf "$work"'
fail() { echo "FAIL: $*" >&2; exit 1; }

vdq_env_create "$ns" 10.0.2 || fail "environment"
peer=$(vdq_peer_ip)
pin=()
[ "$(nproc)" -gt 1 ] && pin=(--cpu 1)
# Both guests boot at once (2 cores): the background VM's boot overlaps the measurement VM's.
# The measurement VM's initramfs carries a dynamically linked program (tcpdump): its shared
# libraries must come along.
"$root/testbeds/qemu/mkinitramfs.sh" -o "$work/m1.cpio.gz" -f "$(command -v tcpdump)" -f "$0:/data/test.sh" ||
	fail "mkinitramfs"
vdq_guest_start m1 --nic e1000 "${pin[@]}" --initrd "$work/m1.cpio.gz" --no-wait || fail "start m1"
vdq_guest_start b1 --nic virtio --disk 64 --no-wait || fail "start b1"
vdq_guest_wait m1 || fail "m1 did not boot"
vdq_guest_wait b1 || fail "b1 did not boot"
accel=$(vdq_guest_info m1 accel)
echo "boot: accel=$accel ($(vdq_guest_info m1 boot) entry) m1=$(vdq_guest_info m1 boot_ms) ms b1=$(vdq_guest_info b1 boot_ms) ms" \
	"($(vdq_accel_reason))"
m1ip=$(vdq_guest_info m1 ip)
if [ -n "${pin[*]}" ]; then
	aff=$(taskset -pc "$(vdq_guest_info m1 pid)" | sed 's/.*: *//')
	[ "$aff" = 1 ] || fail "m1's qemu runs on CPUs '$aff', want 1"
	echo "m1 pinned to CPU $aff"
fi
[ "$(vdq_guest_info m1 net)" = up ] || fail "m1 network not up"
[ "$(vdq_guest_info b1 net)" = up ] || fail "b1 network not up"

# The devices exist in the namespace while the guests run (and must be gone after teardown).
for dev in vdbr0 "$(vdq_guest_info m1 tap)" "$(vdq_guest_info b1 tap)"; do
	ip -n "$ns" link show "$dev" >/dev/null 2>&1 || fail "no $dev in $ns"
done

vdq_exec m1 -- tcpdump --version >"$work/tcpdump-version.txt" 2>&1 || fail "tcpdump in the guest: $(cat "$work/tcpdump-version.txt")"
grep -q libpcap "$work/tcpdump-version.txt" || fail "tcpdump --version in the guest: $(cat "$work/tcpdump-version.txt")"
vdq_exec m1 -- cmp -s /data/test.sh /dev/null && fail "extra data file empty in the guest"
[ "$(vdq_exec m1 -- md5sum /data/test.sh | cut -d' ' -f1)" = "$(md5sum <"$0" | cut -d' ' -f1)" ] ||
	fail "extra data file differs in the guest"

# Capture on m1's tap, the host vantage point closest to the guest.
vdq_capture_start cap "$(vdq_guest_info m1 tap)" "$work/tap.pcap" icmp || fail "capture"

vdq_load_start b1 cpu || fail "cpu load"

# 4 Hz probes.
vdq_exec m1 -t 60 -- "ping -c 12 -i 0.25 $peer" >"$work/ping4.txt" || fail "ping 4 Hz: $(cat "$work/ping4.txt")"
n4=$(grep -c 'time=' "$work/ping4.txt")
[ "$n4" -ge 11 ] || fail "only $n4 of 12 replies at 4 Hz"
bad=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$work/ping4.txt" | awk '$1 <= 0 {n++} END {print n + 0}')
[ "$bad" = 0 ] || fail "$bad RTTs not > 0"
echo "4 Hz: $(tail -n 1 "$work/ping4.txt")"

# IPv6 works from the start (addresses without DAD on both ends).
vdq_exec m1 -t 30 -- "ping6 -c 2 -i 0.25 $(vdq_peer_ip6)" >"$work/ping6.txt" || fail "ping6: $(cat "$work/ping6.txt")"
grep -q "from $(vdq_peer_ip6)" "$work/ping6.txt" || fail "ping6: no reply from $(vdq_peer_ip6): $(cat "$work/ping6.txt")"

# 1000 Hz burst (busybox ping takes -i 0.001 as root).
t0=$(vdq__ms)
vdq_exec m1 -t 120 -- "ping -c 500 -i 0.001 -q $peer" >"$work/ping1k.txt" || fail "ping 1000 Hz: $(cat "$work/ping1k.txt")"
elapsed=$(($(vdq__ms) - t0))
read -r tx rx < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p' "$work/ping1k.txt")
[ "${tx:-0}" = 500 ] || fail "1000 Hz: transmitted '${tx:-}' (want 500): $(cat "$work/ping1k.txt")"
[ "${rx:-0}" -ge 475 ] || fail "1000 Hz: only ${rx:-0} of 500 replies"
avg=$(sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$work/ping1k.txt")
awk -v a="$avg" 'BEGIN {exit !(a > 0)}' || fail "1000 Hz: average RTT '$avg' not > 0"
echo "1000 Hz: $(tail -n 1 "$work/ping1k.txt") ($rx/500 in ${elapsed} ms, command round trip included)"

vdq_load_stop b1 cpu || fail "cpu load stop"
vdq_capture_stop cap
sent=$((12 + 500))
req=$(tcpdump -r "$work/tap.pcap" -n "icmp[icmptype] == icmp-echo and src host $m1ip and dst host $peer" 2>/dev/null | wc -l)
rep=$(tcpdump -r "$work/tap.pcap" -n "icmp[icmptype] == icmp-echoreply and src host $peer and dst host $m1ip" 2>/dev/null | wc -l)
echo "pcap on tap: $req echo requests from $m1ip, $rep replies (guest sent $sent)"
[ "$req" -eq "$sent" ] || fail "pcap has $req echo requests from $m1ip, guest sent $sent"
[ "$rep" -ge $((n4 + rx)) ] || fail "pcap has $rep replies, guest received $((n4 + rx))"

# Files out of the guest: text and binary, through the share and through the channel.
vdq_exec m1 -- "echo 'vmdelay qemu e2e $ns' >/tmp/hello.txt; head -c 200000 /dev/urandom >/tmp/blob; md5sum /tmp/blob" \
	>"$work/md5.txt" || fail "writing files in the guest"
vdq_copy_out m1 /tmp/hello.txt "$work/hello.txt" || fail "copy-out (share)"
[ "$(cat "$work/hello.txt")" = "vmdelay qemu e2e $ns" ] || fail "copied text differs: $(cat "$work/hello.txt")"
vdq_copy_out m1 /tmp/blob "$work/blob.share" || fail "copy-out blob (share)"
VDQ_COPY=channel vdq_copy_out m1 /tmp/blob "$work/blob.chan" || fail "copy-out blob (channel)"
want=$(cut -d' ' -f1 "$work/md5.txt")
for f in blob.share blob.chan; do
	got=$(md5sum <"$work/$f" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$f: md5 $got, guest has $want"
done
vdq_copy_out m1 /nonexistent "$work/none" 2>/dev/null && fail "copy-out of a missing file succeeded"
[ -e "$work/none" ] && fail "copy-out of a missing file left $work/none"
printf 'in\0bytes\n' >"$work/in.bin"
VDQ_COPY=channel vdq_copy_in m1 "$work/in.bin" /tmp/in.bin || fail "copy-in (channel)"
[ "$(vdq_exec m1 -- md5sum /tmp/in.bin | cut -d' ' -f1)" = "$(md5sum <"$work/in.bin" | cut -d' ' -f1)" ] ||
	fail "copy-in content differs"

# The same environment through the command-line face (for callers that are not bash).
G=$root/testbeds/qemu/guest.sh
[ "$("$G" --netns "$ns" exec m1 cat /tmp/hello.txt)" = "vmdelay qemu e2e $ns" ] || fail "guest.sh exec"
[ "$("$G" --netns "$ns" info m1 ip)" = "$m1ip" ] || fail "guest.sh info"
[ "$("$G" --netns "$ns" guests | tr '\n' ' ')" = "b1 m1 " ] || fail "guest.sh guests: $("$G" --netns "$ns" guests)"
{ "$G" --netns "$ns" copy-out m1 /tmp/hello.txt "$work/hello2.txt" && cmp -s "$work/hello.txt" "$work/hello2.txt"; } ||
	fail "guest.sh copy-out"
"$G" --netns "$ns" exec m1 false && fail "guest.sh exec: exit code lost"
"$G" --netns "$ns" bogus 2>/dev/null
[ $? = 2 ] || fail "guest.sh: an unknown subcommand is not a usage error"

# Callers in parallel on one guest each get their own answer (the channel is serialized), and
# the harness leaves no jobs of its own in the caller's shell (a bare `wait` must not hang).
[ -z "$(jobs -p)" ] || fail "the harness left jobs in the caller's shell: $(jobs -l)"
for i in 1 2 3 4; do
	(o=$("$G" --netns "$ns" exec m1 "sleep 0.$i; echo p$i"); [ "$o" = "p$i" ] || echo "p$i got '$o'" >>"$work/par.bad") &
done
wait
[ -e "$work/par.bad" ] && fail "parallel exec: $(cat "$work/par.bad")"

# Exit codes and stderr travel back; a command past its limit is killed.
out=$(vdq_exec m1 -- 'echo out; echo err >&2; exit 3' 2>"$work/err.txt")
rc=$?
{ [ "$rc" = 3 ] && [ "$out" = out ] && [ "$(cat "$work/err.txt")" = err ]; } ||
	fail "exec: rc=$rc out='$out' err='$(cat "$work/err.txt")'"
vdq_exec m1 -t 2 -- 'sleep 30'
rc=$?
[ "$rc" = 137 ] || fail "a command past its limit returned $rc (want 137)"

# Every load starts, shows up, and stops; the network load moves bytes through b1's tap.
tap1=$(vdq_guest_info b1 tap)
for l in cpu memory hd io network; do
	vdq_load_start b1 "$l" || fail "load $l did not start"
done
running=$(vdq_exec b1 -- vd-load status | awk '{print $1}' | sort | tr '\n' ' ')
[ "$running" = "cpu hd io memory network " ] || fail "loads running: '$running'"
rx0=$(ip -n "$ns" -s -j link show "$tap1" | grep -o '"rx":{"bytes":[0-9]*' | grep -o '[0-9]*$')
sleep 3
rx1=$(ip -n "$ns" -s -j link show "$tap1" | grep -o '"rx":{"bytes":[0-9]*' | grep -o '[0-9]*$')
echo "network load: $(((rx1 - rx0) / 3 / 1024)) KiB/s from b1"
[ $((rx1 - rx0)) -gt 1000000 ] || fail "network load moved only $((rx1 - rx0)) bytes in 3 s"
vdq_exec b1 -- 'grep " /mnt/disk " /proc/mounts' >/dev/null || fail "b1's disk is not mounted"
vdq_load_stop b1 all || fail "stopping loads"
[ -z "$(vdq_exec b1 -- vd-load status)" ] || fail "loads still running after stop"

# Teardown leaves nothing.
state=$VDQ_RUN/$ns
vdq_cleanup
vdq_netns_exists "$ns" && fail "namespace $ns left"
pgrep -f "$state" >/dev/null && fail "processes left: $(pgrep -af "$state")"
[ -e "$state" ] && fail "state directory $state left"
for dev in vdbr0 vdtap0 vdtap1; do
	ip link show "$dev" >/dev/null 2>&1 && fail "$dev exists in the host namespace"
done
echo "PASS: qemu testbed ($accel)"
