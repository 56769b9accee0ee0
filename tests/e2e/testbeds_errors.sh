#!/usr/bin/env bash
# timeout: 450
# testbeds/run when things go wrong: a scenario with an unknown key (file and line, exit 2, nothing
# created), a missing tool, a qemu scenario without its harness or kernel image, a tool failing
# after the testbed is up, and Ctrl-C in the middle of the probes: a clear error every time and
# no namespace, interface or process left behind.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
run=$root/testbeds/run
bin=${VMDELAY_BIN:-$root/build/asan/bin}
tmp=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
	local id
	# Whatever a failed assertion left: the runs of this test only (ids printed by the runner).
	for id in $(sed -n 's/.*testbed \(netns\|qemu\) \([a-z0-9]*\):.*/\2/p' "$tmp"/*.err 2>/dev/null | sort -u); do
		"$root/testbeds/netns/netns.sh" down "$id"
		if ip netns list | grep -qw "vdtb-$id"; then
			(. "$root/testbeds/qemu/lib.sh" && vdq_env_destroy "vdtb-$id")
		fi
	done
	rm -rf "$tmp"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit cleanup
((EUID == 0)) || { echo "needs root for network namespaces" >&2; exit 77; }

# No vdtb namespace or vd<id> link of run ID, and no process working in DIR.
assert_clean() { # ID DIR WHAT
	[ -n "$1" ] || fail "$3: no run id printed"
	ip netns list | grep -q "vdtb-$1-" && fail "$3: namespaces left: $(ip netns list | grep "vdtb-$1-")"
	ip -o link show | grep -q "vd$1" && fail "$3: links left"
	[ -n "$2" ] && pgrep -f "$2" >/dev/null && fail "$3: processes left: $(pgrep -af "$2")"
	return 0
}
runid_of() { sed -n 's/.*testbed \(netns\|qemu\) \([a-z0-9]*\):.*/\2/p' "$1" | head -n 1; }
nns_before=$(ip netns list | wc -l)

# 1. Unknown key: exit 2, file and line named, nothing created.
printf 'testbed = netns\nprobe_count = 5\nspeed = fast\n' >"$tmp/bad.scn"
"$run" --db "$tmp/x.db" --out "$tmp/out" "$tmp/bad.scn" >/dev/null 2>"$tmp/bad.err"
[ $? -eq 2 ] || fail "unknown key: exit code"
grep -q "bad.scn:3: unknown key 'speed'" "$tmp/bad.err" || fail "unknown key: message: $(cat "$tmp/bad.err")"
[ -e "$tmp/x.db" ] && fail "unknown key: a database was created"
[ "$(ip netns list | wc -l)" -eq "$nns_before" ] || fail "unknown key: namespaces created"

# 2. A missing tool: named, exit 1, no testbed made.
printf 'testbed = netns\nprobe_count = 5\nrest = 1\n' >"$tmp/short.scn"
"$run" --db "$tmp/x.db" --out "$tmp/out" --bin "$tmp/nobin" "$tmp/short.scn" >/dev/null 2>"$tmp/notool.err"
rc=$?
if ! command -v tping >/dev/null; then
	[ $rc -eq 1 ] || fail "missing tping: exit $rc"
	grep -q "'tping' not found" "$tmp/notool.err" || fail "missing tping: message: $(cat "$tmp/notool.err")"
	[ "$(ip netns list | wc -l)" -eq "$nns_before" ] || fail "missing tping: namespaces created"
fi

# 3. qemu: without the harness, a clear message; with it, a missing kernel image is named before
# anything is made, and a guest that never boots (a kernel file that is not a kernel) fails the
# run with the harness's reason and leaves no namespace or qemu process.
printf 'testbed = qemu\nprobe_count = 0\ntransfer = 2 x 10KB\nboot_timeout = 60\n' >"$tmp/qemu.scn"
if [ ! -f "$root/testbeds/qemu/lib.sh" ]; then
	"$run" --db "$tmp/x.db" --out "$tmp/out" --bin "$bin" "$tmp/qemu.scn" >/dev/null 2>"$tmp/qemu.err"
	[ $? -eq 1 ] || fail "qemu without harness: exit code"
	grep -q "needs the qemu guest harness" "$tmp/qemu.err" || fail "qemu without harness: $(cat "$tmp/qemu.err")"
elif [ -x "$bin/tperf" ] && command -v qemu-system-x86_64 >/dev/null; then
	VMDELAY_KERNEL=$tmp/no-such-vmlinuz "$run" --db "$tmp/x.db" --out "$tmp/out3" --bin "$bin" \
		"$tmp/qemu.scn" >/dev/null 2>"$tmp/qemu.err"
	[ $? -eq 1 ] || fail "qemu, missing kernel: exit code"
	grep -q "kernel image '$tmp/no-such-vmlinuz' not found" "$tmp/qemu.err" ||
		fail "qemu, missing kernel not named: $(cat "$tmp/qemu.err")"
	grep -q "booting VM" "$tmp/qemu.err" && fail "qemu, missing kernel: a VM was started"
	head -c 65536 /dev/urandom >"$tmp/garbage-vmlinuz"
	VMDELAY_KERNEL=$tmp/garbage-vmlinuz "$run" --db "$tmp/x.db" --out "$tmp/out3" --bin "$bin" \
		"$tmp/qemu.scn" >/dev/null 2>"$tmp/noboot.err"
	[ $? -eq 1 ] || fail "qemu, guest never boots: exit code"
	grep -q "booting VM m" "$tmp/noboot.err" || fail "qemu, guest never boots: no boot progress shown"
	grep -qi "guest m\|boot" "$tmp/noboot.err" || fail "qemu, guest never boots: no reason given"
	id=$(runid_of "$tmp/noboot.err")
	[ -n "$id" ] || fail "qemu, guest never boots: no run id"
	ip netns list | grep -qw "vdtb-$id" && fail "qemu, guest never boots: namespace vdtb-$id left"
	pgrep -f "vdq/vdtb-$id/" >/dev/null && fail "qemu, guest never boots: processes left"
	cat "$tmp/noboot.err"
fi

# 4. A tool that fails after the testbed is up (here the transfer workload): exit 1, its message
# shown, everything torn down.
mkdir -p "$tmp/failbin"
printf '#!/bin/sh\necho "tperf: simulated failure" >&2\nexit 1\n' >"$tmp/failbin/tperf"
chmod +x "$tmp/failbin/tperf"
printf 'testbed = netns\nprobe_count = 0\ntransfer = 3 x 10KB\nbackground_vms = 1\nload = cpu\n' >"$tmp/xfer.scn"
"$run" --db "$tmp/x.db" --out "$tmp/out4" --bin "$tmp/failbin" "$tmp/xfer.scn" >/dev/null 2>"$tmp/late.err"
[ $? -eq 1 ] || fail "failing tool: exit code"
grep -q "simulated failure" "$tmp/late.err" || fail "failing tool: its message is not shown"
assert_clean "$(runid_of "$tmp/late.err")" "$tmp/out4" "failing tool"
pgrep -f "$tmp/failbin" >/dev/null && fail "failing tool: the sink was left running"

# 5. Ctrl-C in the middle of the experiment (a long transfer under load).
if [ -x "$bin/tperf" ]; then
	printf 'testbed = netns\nprobe_count = 0\ntransfer = bulk 64G\nbackground_vms = 1\nload = cpu\n' >"$tmp/long.scn"
	# A background job of a script starts with SIGINT ignored; a terminal's Ctrl-C does not.
	env --default-signal=INT "$run" --db "$tmp/x.db" --out "$tmp/out5" --bin "$bin" "$tmp/long.scn" \
		>/dev/null 2>"$tmp/int.err" &
	pid=$!
	for ((t = 0; t < 300; t++)); do
		grep -q 'phase: ' "$tmp/int.err" && break
		sleep 0.1
	done
	grep -q 'phase: ' "$tmp/int.err" || fail "Ctrl-C: the run never reached its transfer: $(cat "$tmp/int.err")"
	sleep 1
	id=$(runid_of "$tmp/int.err")
	ip netns list | grep -q "vdtb-$id-guest" || fail "Ctrl-C: the testbed was not up before the signal"
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	[ $rc -eq 130 ] || fail "Ctrl-C: exit $rc, wanted 130"
	grep -q 'interrupted' "$tmp/int.err" || fail "Ctrl-C: no message"
	assert_clean "$id" "$tmp/out5" "Ctrl-C"
	pgrep -f "vdload" >/dev/null && pgrep -af vdload | grep -q "$id" && fail "Ctrl-C: load left"
fi
echo "errors: ok"
