#!/usr/bin/env bash
# timeout: 900
# The qemu testbed end to end through testbeds/run: a measurement VM and one CPU-busy background
# VM (TCG when KVM does not work). With tping built: 10 probes and 5 at rest before and after,
# from the guest to the host side of the bridge; every vantage point (bridge, tap, guest kernel,
# guest user; with the guest kernel's headers also tcpmon's per-level points from tcpmon.ko
# loaded in the guest) matches every probe and RTT Δs are non-negative and add up. Always: 5 transfers of
# 100 KB into the guest, all stored. Then no namespace or qemu process of the run is left.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
runid_of() { sed -n 's/.*testbed qemu \([a-z0-9]*\):.*/\1/p' "$1" | head -n 1; }
cleanup() {
	local id
	id=$(runid_of "$tmp/run.err" 2>/dev/null)
	if [ -n "$id" ] && ip netns list | grep -qw "vdtb-$id"; then
		(. "$root/testbeds/qemu/lib.sh" && vdq_env_destroy "vdtb-$id")
	fi
	rm -rf "$tmp"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit cleanup
((EUID == 0)) || { echo "needs root for network namespaces and taps" >&2; exit 77; }
[ -f "$root/testbeds/qemu/lib.sh" ] || { echo "the qemu guest harness (testbeds/qemu/) is not here" >&2; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 not installed (make deps)" >&2; exit 77; }
ls /boot/vmlinuz-* >/dev/null 2>&1 || [ -n "${VMDELAY_KERNEL:-}" ] ||
	{ echo "no kernel image (linux-image-amd64)" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed (make deps)" >&2; exit 77; }
# The guest runs the release binaries (smaller initramfs, no sanitizer runtime in the guest).
gbin=${VMDELAY_RELEASE_BIN:-$root/build/release/bin}
[ -x "$gbin/tperf" ] && [ -x "$gbin/vmdelay-analyze" ] || { echo "release tperf/vmdelay-analyze not built" >&2; exit 77; }
probes=0 tcm=0
kver=$(VDQ_KERNEL=${VMDELAY_KERNEL:-} "$root/testbeds/qemu/kernel.sh")
[ -d "/lib/modules/$kver/build" ] && [ -x "$gbin/tcpmon" ] && tcm=1
if [ -x "$gbin/tping" ] && ! "$gbin/vmdelay-analyze" --help 2>&1 | grep -q 'not built yet'; then
	probes=10
fi

cat >"$tmp/q.scn" <<EOF
name = e2e-qemu
testbed = qemu
nic = virtio
background_vms = 1
load = cpu
probe_count = $probes
probe_interval = 0.25
rest = 5
transfer = 5 x 100KB
transfer_dir = recv
boot_timeout = 240
EOF
db=$tmp/v.db
"$root/testbeds/run" --db "$db" --out "$tmp/runs" --bin "$gbin" --testbed e2e-qemu "$tmp/q.scn" \
	>"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
cat "$tmp/run.err" "$tmp/run.out"
[ $rc -eq 0 ] || fail "testbeds/run exit $rc"
id=$(runid_of "$tmp/run.err")
[ -n "$id" ] || fail "no run id in the progress output"
grep -q 'booting VM m' "$tmp/run.err" && grep -q 'booting background VM b1' "$tmp/run.err" ||
	fail "progress: the VMs' boots are not shown"

q() { sqlite3 -batch -noheader "$db" "$1"; }
tp=$(q "SELECT r.id FROM runs r JOIN testbeds t ON t.id = r.testbed_id
	WHERE r.tool = 'tperf' AND t.name = 'e2e-qemu' AND r.complete = 1")
[ -n "$tp" ] || fail "no complete tperf run under testbed e2e-qemu"
[ "$(q "SELECT count(*) FROM transfers WHERE run_id = $tp AND status = 'ok' AND bytes = 102400")" -eq 5 ] ||
	fail "expected 5 complete 100 KB transfers"
[ "$(q "SELECT value FROM run_meta WHERE run_id = $tp AND key = 'load'")" = cpu ] || fail "load not recorded"
[ "$(q "SELECT value FROM run_meta WHERE run_id = $tp AND key = 'scenario.background_vms'")" = 1 ] ||
	fail "background VMs not recorded"
[ "$(q "SELECT scenario || ' / ' || label FROM runs WHERE id = $tp")" = "e2e-qemu / e2e-qemu" ] ||
	fail "scenario and label not recorded: $(q "SELECT scenario || ' / ' || label FROM runs WHERE id = $tp")"
dir=$(ls -d "$tmp"/runs/e2e-qemu-*)
[ "$(tcpdump -r "$dir/tap.pcap" -n tcp 2>/dev/null | wc -l)" -gt 50 ] || fail "the tap capture has no transfer"

if ((probes)); then
	an=$(q "SELECT r.id FROM runs r JOIN testbeds t ON t.id = r.testbed_id
		WHERE r.tool = 'vmdelay-analyze' AND t.name = 'e2e-qemu' AND r.complete = 1
		AND EXISTS (SELECT 1 FROM results s WHERE s.run_id = r.id AND s.metric = 'total')")
	[ -n "$an" ] || fail "no complete vmdelay-analyze run"
	bad=$(q "SELECT name || ': matched ' || coalesce(matched, 'NULL') || ', unmatched ' || coalesce(unmatched, 'NULL')
		FROM vantage_points WHERE run_id = $an AND (coalesce(matched, 0) < 20 OR coalesce(unmatched, 1) != 0)")
	[ -z "$bad" ] || fail "vantage points not fully matched: $bad"
	[ "$(q "SELECT count(*) FROM vantage_points WHERE run_id = $an AND format != 'tcpmon'")" -eq 4 ] ||
		fail "expected 4 vantage points besides tcpmon's"
	if ((tcm)); then
		# tcpmon.ko in the guest: one point per stack level (dev .. sock-copy), every probe
		# matched at each (the generic check above: unmatched 0), on the guest's clock.
		n=$(q "SELECT count(*) FROM vantage_points WHERE run_id = $an AND format = 'tcpmon'
			AND matched = 20 AND clock = 'vm' AND name LIKE 'guest.tcpmon.%'")
		((n >= 4)) || fail "expected tcpmon's per-level vantage points matching all 20 probes, got $n:
$(q "SELECT name, format, clock, matched FROM vantage_points WHERE run_id = $an")"
		[ -s "$dir/tcpmon.tcm" ] || fail "no tcpmon.tcm next to the traces in $dir"
	else
		grep -q 'running without tcpmon' "$tmp/run.err" || fail "no note that tcpmon was skipped"
	fi
	# RTT Δs need no clock alignment (each RTT is read on one clock): >= 0 for every layer.
	neg=$(q "SELECT vantage || ' ' || phase || ' ' || stat || ' = ' || value FROM results WHERE run_id = $an
		AND metric IN ('delta', 'total', 'rtt') AND direction = 'rtt' AND stat IN ('min_ns', 'median_ns') AND value < 0")
	[ -z "$neg" ] || fail "negative RTT results: $neg"
	# The load ran in the background VM during the load phase only, driven from the guest.
	cat "$dir/loadctl.log" 2>/dev/null
	grep -q 'started cpu in b1' "$dir/loadctl.log" && grep -q 'stopped the load in b1' "$dir/loadctl.log" ||
		fail "the load phase did not start and stop the load in b1"
	sum=$(q "SELECT sum(value) FROM results WHERE run_id = $an AND metric = 'delta' AND phase = 'all'
		AND direction = 'rtt' AND stat = 'mean_ns'")
	tot=$(q "SELECT value FROM results WHERE run_id = $an AND metric = 'total' AND phase = 'all'
		AND direction = 'rtt' AND stat = 'mean_ns'")
	awk -v a="$sum" -v b="$tot" 'BEGIN { d = a - b; exit !(a != "" && d < 5 && d > -5) }' ||
		fail "mean RTT deltas ($sum ns) do not add up to the mean total ($tot ns)"
fi

ip netns list | grep -qw "vdtb-$id" && fail "namespace vdtb-$id left"
pgrep -f "vdq/vdtb-$id/" >/dev/null && fail "qemu or helper processes left: $(pgrep -af "vdq/vdtb-$id/")"

# No background VM: the load runs in the measurement VM itself, started and stopped by tping's
# load command (the guest's command channel is busy with tping meanwhile).
if ((probes)); then
	"$root/testbeds/run" --db "$db" --out "$tmp/runs0" --bin "$gbin" --testbed e2e-qemu0 \
		--set background_vms=0 --set transfer=none --set probe_count=8 --set rest=3 \
		"$tmp/q.scn" >"$tmp/run0.out" 2>"$tmp/run0.err"
	rc=$?
	cat "$tmp/run0.err"
	[ $rc -eq 0 ] || fail "no background VM, load in the measurement VM: exit $rc"
	n=$(q "SELECT min(v.matched) FROM vantage_points v JOIN runs r ON r.id = v.run_id
		JOIN testbeds t ON t.id = r.testbed_id WHERE t.name = 'e2e-qemu0'")
	[ "$n" = 14 ] || fail "no background VM: expected 14 probes matched everywhere, got '$n'"
	id0=$(runid_of "$tmp/run0.err")
	ip netns list | grep -qw "vdtb-$id0" && fail "namespace vdtb-$id0 left"
fi
echo "qemu testbed: ok (run $id, probes: $probes)"
