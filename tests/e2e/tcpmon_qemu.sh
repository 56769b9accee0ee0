#!/usr/bin/env bash
# timeout: 900
# tcpmon.ko in a real Debian kernel under qemu, through the shared harness
# testbeds/qemu/lib.sh: the guest pings the host side of its tap and sends it a TCP stream while
# tcpmon records every layer; the host captures its tap. Asserts (tcpmon_check.awk): every
# enabled layer seen per probe/segment in stack order, TSC and ktime increasing along each path,
# seq/ack and ICMP id/seq equal to the host's pcap; no loss at this rate and the exact loss count
# with 16-record rings; clear errors without the module or without CAP_NET_ADMIN; malformed
# netlink requests refused; insmod/rmmod three times under traffic; no BUG/Oops/WARNING in dmesg.
# Skips (77) only when qemu, a kernel image or its headers are missing.
# The kernel: testbeds/qemu/kernel.sh's (VDQ_KERNEL, else Debian's linux-image-amd64: 6.1);
# tcpmon_qemu_6_12.sh runs this test on Debian's 6.12 (linux-image-6.12-amd64), so make check
# runs the module on both.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
skip() { echo "tcpmon_qemu: SKIP: $*" >&2; exit 77; }
die() { echo "tcpmon_qemu: FAIL: $*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
kver=$(testbeds/qemu/kernel.sh --headers 2>/dev/null) || skip "no kernel image /boot/vmlinuz-V with headers /lib/modules/V/build (linux-image-amd64, linux-headers-amd64)"
echo "kernel $kver"
export VDQ_KERNEL=/boot/vmlinuz-$kver
bin=${VMDELAY_RELEASE_BIN:-$root/build/release/bin}
[ -x "$bin/tcpmon" ] || bin=${VMDELAY_BIN:-$root/build/asan/bin}
[ -x "$bin/tcpmon" ] || die "no tcpmon binary (make)"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpmon_qemu.XXXXXX")
. testbeds/qemu/lib.sh
cleanup() {
	vdq_cleanup
	rm -rf "$work"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit cleanup

kofile=$(vdq_build_tcpmon "$kver" "$work") ||
	{ cat "$work/kbuild.log"; die "module build against $kver failed"; }
testbeds/qemu/mkinitramfs.sh -k "$kver" -o "$work/initrd.gz" -f "$kofile" \
	-f "$bin/tcpmon" >"$work/initramfs.log" 2>&1 || { cat "$work/initramfs.log"; die "initramfs"; }

ns=vdkm$$
vdq_env_create "$ns" 10.0.2 || die "netns environment"
peer=$(vdq_peer_ip)
# two vCPUs: per-CPU rings, per-CPU calibration, packets whose path changes CPU
vdq_guest_start m1 --nic e1000 --initrd "$work/initrd.gz" --smp 2 ||
	die "guest did not boot"
gip=$(vdq_guest_info m1 ip)
echo "guest $gip up in $(vdq_guest_info m1 boot_ms) ms ($(vdq_guest_info m1 accel))"

g() { vdq_exec m1 -t "${T:-120}" -- "$@"; }
ko=/lib/modules/vmdelay/tcpmon.ko
dmesg_clean() { # STEP: no warning, oops or leak report in the guest's kernel log
	local bad
	bad=$(g dmesg | grep -E 'BUG|Oops|WARNING|Call Trace|kmemleak|general protection' | grep -v 'not a bug')
	[ -z "$bad" ] || { echo "$bad"; die "kernel log after $1"; }
}

# --- errors without the module, and without the capability
out=$(g tcpmon stats 2>&1); rc=$?
[ "$rc" = 1 ] && [[ $out == *"not loaded"* ]] || die "tcpmon without module: rc $rc, '$out'"
g insmod $ko || die "insmod"
g "echo 'nobody:x:65534:65534::/:/bin/sh' >>/etc/passwd"
out=$(g su nobody -s /bin/sh -c "'tcpmon stats'" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ $out == *CAP_NET_ADMIN* ]] || die "tcpmon as nobody: rc $rc, '$out'"
echo "ok: errors without module and without CAP_NET_ADMIN"

# --- recording ping + TCP, IPv4 and IPv6, against the host's capture
peer6=$(vdq_peer_ip6) gip6=$(vdq_guest_info m1 ip6)
vdq_host_bg sink busybox nc -ll -p 5001 -e sh -c 'exec cat >/dev/null' || die "sink"
vdq_host_bg cap tcpdump -i vdtap0 -U -s 128 -w "$work/tap.pcap" || die "tcpdump"
sleep 1
g tcpmon start || die "tcpmon start"
g "setsid tcpmon record -w /tmp/r.tcm -G 100 </dev/null >/tmp/record.log 2>&1 &"
g ping -c 5 -i 0.2 "$peer" >/dev/null || die "ping"
g ping -6 -c 5 -i 0.2 "$peer6" >/dev/null || die "ping -6"
g "dd if=/dev/zero bs=1k count=300 2>/dev/null | nc -w 3 $peer 5001" || die "TCP transfer"
g "dd if=/dev/zero bs=1k count=100 2>/dev/null | nc -w 3 $peer6 5001" || die "TCP transfer over IPv6"
sleep 1
g "kill -INT \$(pidof tcpmon); for i in \$(seq 50); do pidof tcpmon >/dev/null || break; sleep 0.2; done; cat /tmp/record.log"
g tcpmon stop
vdq_host_bg_stop cap
g tcpmon dump --csv /tmp/r.tcm >"$work/r.csv" || die "dump"
g tcpmon dump --header --csv /tmp/r.tcm >"$work/hdr.csv" || die "dump --header"
cat "$work/hdr.csv"
lost=$(awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2{print $c["lost"]}' "$work/hdr.csv")
[ "$lost" = 0 ] || die "lost records at a moderate rate: '$lost'"
vdq_netns_exec tcpdump -nn -S -tt -r "$work/tap.pcap" 'tcp or icmp or icmp6' >"$work/pcap.txt" 2>/dev/null
awk -F, -v guest="$gip" -v guest6="$gip6" -f tests/e2e/tcpmon_check.awk "$work/r.csv" "$work/pcap.txt" ||
	{ head -5 "$work/r.csv"; die "records do not match the stack order or the pcap"; }
g tcpmon stats --cost

# --- exact loss with 16-record rings: 10 probes x 10 layers offered, never read. Each CPU keeps
# its first 16; every record not kept is counted lost, and what was kept reads back.
g rmmod tcpmon || die "rmmod"
g insmod $ko ring_records=16 || die "insmod ring_records=16"
g tcpmon start icmp host "$peer"
g ping -c 10 -i 0.1 "$peer" >/dev/null
g tcpmon stop
st=$(g tcpmon stats --csv)
echo "$st"
field() { echo "$st" | awk -F, -v f="$1" 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2{print $c[f]}'; }
rec=$(field recorded) lost=$(field lost) ncpu=$(field ncpus) missing=$(field hooks_missing)
[ "$missing" = 0 ] || die "hooks not attached in $kver: mask $missing"
[ $((rec + lost)) = 100 ] || die "16-record rings: recorded $rec + lost $lost != 100 offered"
((rec >= 16 && rec <= 16 * ncpu && lost > 0)) || die "16-record rings on $ncpu CPUs: recorded $rec, lost $lost"
g tcpmon record -w /tmp/small.tcm -G 3
n=$(g tcpmon dump --csv /tmp/small.tcm | wc -l)
[ "$n" = $((rec + 1)) ] || die "16-record rings: read back $((n - 1)) records, $rec recorded"
echo "ok: exact loss count ($rec kept, $lost lost on $ncpu CPUs)"

# --- malformed netlink requests
g tcpmon selftest-netlink || die "malformed netlink requests"
dmesg_clean "malformed netlink requests"

# --- unload under traffic, three times
g "setsid ping -i 0.01 $peer </dev/null >/dev/null 2>&1 &"
g "setsid sh -c 'while :; do dd if=/dev/zero bs=1k count=2000 2>/dev/null | nc -w 1 $peer 5001; done' </dev/null >/dev/null 2>&1 &"
# A step that takes over 60 s leaves the kernel stacks of tcpmon, insmod, rmmod and every task
# in D state in /tmp/slow.txt (printed when the step fails), so a slow unload says what it waited
# for. Durations include the command channel's round trip.
slow_watch='sleep 60; for p in $(ls /proc | grep "^[0-9]"); do
	s=$(cut -d" " -f3 /proc/$p/stat 2>/dev/null); c=$(cat /proc/$p/comm 2>/dev/null)
	case "$s/$c" in D/* | */rmmod | */insmod | */tcpmon) echo "== $p $c $s"; cat /proc/$p/stack ;; esac
done >/tmp/slow.txt 2>&1'
under_traffic() { # STEP CMD
	local t0 rc
	g "rm -f /tmp/slow.txt; setsid sh -c '$slow_watch' </dev/null >/dev/null 2>&1 & echo \$! >/tmp/slow.pid"
	t0=$(date +%s%N)
	T=400 g "$2"
	rc=$?
	echo "under traffic: $1 took $((($(date +%s%N) - t0) / 1000000)) ms"
	g 'kill $(cat /tmp/slow.pid) 2>/dev/null; cat /tmp/slow.txt 2>/dev/null'
	((rc == 0)) || { g dmesg | tail -n 40; die "$1 under traffic: rc $rc"; }
}
for i in 1 2 3; do
	under_traffic "rmmod ($i)" "rmmod tcpmon"
	under_traffic "insmod ($i)" "insmod $ko"
	under_traffic "start ($i)" "tcpmon start"
	under_traffic "record ($i)" "tcpmon record -w /tmp/t.tcm -G 1 2>&1"
done
# unloaded while `tcpmon record` reads: the reader stops with a clear error, its file stays valid
g tcpmon start || die "start before unloading under a reader"
g "setsid tcpmon record -w /tmp/u.tcm -G 100 </dev/null >/tmp/u.log 2>&1 &"
sleep 2
g "for i in \$(seq 20); do rmmod tcpmon && break; sleep 0.2; done" || die "rmmod with a reader"
g "for i in \$(seq 50); do pidof tcpmon >/dev/null || break; sleep 0.2; done; ! pidof tcpmon" ||
	die "tcpmon record still runs after the module went away"
g cat /tmp/u.log | grep -q 'not loaded any more' || die "reader's error after unload: $(g cat /tmp/u.log)"
g tcpmon dump --header /tmp/u.tcm || die "record file of an interrupted recording"
dmesg_clean "insmod/rmmod"
echo "ok: unload checks done, dmesg clean"
echo "tcpmon_qemu: all checks passed"
