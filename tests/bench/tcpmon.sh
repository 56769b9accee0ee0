#!/usr/bin/env bash
# Benchmark of tcpmon.ko in a Debian guest under qemu: the cost of each hook in TSC
# cycles (median, p99; measured by the module around its own hook body) and the guest's TCP
# throughput and ping RTT with recording on (all layers, `tcpmon record` draining the rings)
# against the module not loaded, alternating in the same run. Prints the accelerator: under TCG
# the TSC is emulated and every figure is the emulator's, not hardware's.
#   tests/bench/tcpmon.sh [ROUNDS] [KBYTES]      (defaults 3 rounds, 2048 KB per transfer)
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
rounds=${1:-3} kb=${2:-2048}
skip() { echo "tcpmon bench: skipped: $*"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
kver=$(testbeds/qemu/kernel.sh --headers 2>/dev/null) || skip "no kernel image with headers"
export VDQ_KERNEL=/boot/vmlinuz-$kver
bin=${VMDELAY_BIN:-$root/build/release/bin}
[ -x "$bin/tcpmon" ] || skip "no $bin/tcpmon (make)"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpmon_bench.XXXXXX")
. testbeds/qemu/lib.sh
trap 'vdq_cleanup; rm -rf "$work"' EXIT
mkdir -p "$work/kmod/include/vmdelay" && cp kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h "$work/kmod/" &&
	cp include/vmdelay/record.h "$work/kmod/include/vmdelay/"
make -s -C "$work/kmod" KDIR="/lib/modules/$kver/build" >"$work/kbuild.log" 2>&1 || { cat "$work/kbuild.log"; exit 1; }
testbeds/qemu/mkinitramfs.sh -k "$kver" -o "$work/initrd.gz" -f "$work/kmod/tcpmon.ko" -f "$bin/tcpmon" \
	>/dev/null 2>&1 || exit 1
vdq_env_create "vdkb$$" 10.0.2 || exit 1
peer=$(vdq_peer_ip)
vdq_guest_start m1 --nic e1000 --initrd "$work/initrd.gz" >/dev/null || exit 1
accel=$(vdq_guest_info m1 accel)
g() { vdq_exec m1 -t 300 -- "$@"; }

# The host times each connection from accept to EOF: nc's own linger does not count. (/bin/date:
# busybox sh would run its own date applet, which has no %N.)
: >"$work/tput"
vdq_host_bg tsink busybox nc -ll -p 5002 -e sh -c \
	"a=\$(/bin/date +%s%N); n=\$(wc -c); b=\$(/bin/date +%s%N); echo \"\$n \$a \$b\" >>$work/tput" || exit 1
sleep 1

run() { # MODE: one transfer and 20 pings; appends "MODE MB/s" and "MODE rtt_ms"
	local before after
	before=$(wc -l <"$work/tput")
	g "dd if=/dev/zero bs=1k count=$kb 2>/dev/null | nc $peer 5002" >/dev/null
	for _ in $(seq 50); do
		after=$(wc -l <"$work/tput")
		((after > before)) && break
		sleep 0.1
	done
	tail -n 1 "$work/tput" | awk -v m="$1" '{ printf "%s tput %.3f\n", m, $1 / (($3 - $2) / 1e9) / 1e6 }' >>"$work/res"
	g ping -q -c 20 -i 0.05 "$peer" | awk -v m="$1" -F'[/ ]+' '/min\/avg/ { print m, "rtt", $(NF-2) }' >>"$work/res"
}

: >"$work/res"
for ((i = 0; i < rounds; i++)); do
	run unloaded
	g insmod /lib/modules/vmdelay/tcpmon.ko ring_records=65536
	g tcpmon start
	g "setsid tcpmon record -w /tmp/b.tcm </dev/null >/dev/null 2>&1 &"
	run recording
	g "kill -INT \$(pidof tcpmon); for i in \$(seq 50); do pidof tcpmon >/dev/null || break; sleep 0.2; done"
	g tcpmon stats --cost --csv >"$work/cost.csv"
	g tcpmon stats --csv >"$work/stats.csv"
	g tcpmon stop
	g rmmod tcpmon
	g rm -f /tmp/b.tcm
done

med() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'; }
tu=$(awk '$1 == "unloaded" && $2 == "tput" { print $3 }' "$work/res" | med)
tr=$(awk '$1 == "recording" && $2 == "tput" { print $3 }' "$work/res" | med)
ru=$(awk '$1 == "unloaded" && $2 == "rtt" { print $3 }' "$work/res" | med)
rr=$(awk '$1 == "recording" && $2 == "rtt" { print $3 }' "$work/res" | med)
echo "tcpmon bench ($accel guest, kernel $kver, $rounds rounds of $kb KB, medians):"
awk -v a="$tu" -v b="$tr" 'BEGIN { printf "  TCP throughput: %.2f MB/s unloaded, %.2f MB/s recording, ratio %.3f\n", a, b, b / a }'
awk -v a="$ru" -v b="$rr" 'BEGIN { printf "  ping RTT avg:   %.3f ms unloaded, %.3f ms recording, ratio %.3f\n", a, b, b / a }'
echo "  records of the last round: $(awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR==2{print $c["recorded"] " recorded, " $c["lost"] " lost"}' "$work/stats.csv")"
echo "  hook cost in TSC cycles (last recording round):"
awk -F, 'NR > 1 { printf "    %-13s %7d samples  median %7s  p99 %8s\n", $1, $2, $3, $4 }' "$work/cost.csv"
