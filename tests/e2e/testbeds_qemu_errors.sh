#!/usr/bin/env bash
# timeout: 600
# qemu testbed failures (issue 6): a missing kernel image, a guest that panics at boot, a bogus
# initramfs and a guest that never becomes ready each give a clear error within the time limit
# and leave no qemu, tap or state behind; a caller killed by SIGKILL (its traps never run) or
# interrupted by SIGINT leaves no namespace or qemu behind either (watchdog, trap).
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../../testbeds/qemu/lib.sh
. "$root/testbeds/qemu/lib.sh"

why=$(vdq_require) || { echo "skip: $why" >&2; exit 77; }

ns=vdte$$
work=$(mktemp -d "${TMPDIR:-/tmp}/vdte.XXXXXX")
. "$root/testbeds/on_exit.sh"
vd_on_exit 'vdq_cleanup; rm -rf "$work"'
fail() { echo "FAIL: $*" >&2; exit 1; }

vdq_env_create "$ns" 10.0.2 || fail "environment"
env_dir=$VDQ_RUN/$ns

# expect_boot_failure LABEL MAX_SECONDS PATTERN -- vdq_guest_start options...
expect_boot_failure() {
	local label=$1 max=$2 pattern=$3 t0 rc secs
	shift 4
	t0=$(vdq__ms)
	vdq_guest_start "g-$label" "$@" 2>"$work/$label.err"
	rc=$?
	secs=$((($(vdq__ms) - t0) / 1000))
	echo "$label: exit $rc after ${secs}s: $(grep 'error' "$work/$label.err" | head -n 1)"
	grep '^    |' "$work/$label.err" | grep -v '^    | *$' | head -n 3
	[ "$rc" != 0 ] || fail "$label: the guest started"
	[ "$secs" -le "$max" ] || fail "$label: took ${secs}s (limit ${max}s)"
	grep -q "$pattern" "$work/$label.err" || fail "$label: no '$pattern' in: $(cat "$work/$label.err")"
	[ -e "$env_dir/guests/g-$label" ] && fail "$label: guest state left"
	pgrep -f "$env_dir/guests/g-$label" >/dev/null && fail "$label: qemu left: $(pgrep -af "$env_dir/guests/g-$label")"
	[ -z "$(ip -n "$ns" -o link show type tun 2>/dev/null)" ] || fail "$label: tap left: $(ip -n "$ns" -o link show type tun)"
	return 0
}

accel=$(vdq_accel)
echo "accel: $accel"

# A missing kernel: refused before anything starts.
expect_boot_failure nokernel 5 "kernel image '/nonexistent/vmlinuz' not found" -- --kernel /nonexistent/vmlinuz
# A missing initramfs likewise.
expect_boot_failure noinitrd 5 "initramfs '/nonexistent/initrd' not found" -- --initrd /nonexistent/initrd
# No /init: the kernel panics, qemu exits (panic=-1, -no-reboot); reported long before the limit.
expect_boot_failure panic 120 "qemu exited during boot" -- --append rdinit=/nonexistent --boot-timeout 170
grep -q 'Kernel panic.*Unable to mount root' "$work/panic.err" || fail "panic: the reason is not shown: $(cat "$work/panic.err")"
# Bogus initramfs (random bytes): the same, the console says why.
head -c 300000 /dev/urandom >"$work/bogus.cpio.gz"
expect_boot_failure bogus 120 "qemu exited during boot" -- --initrd "$work/bogus.cpio.gz" --boot-timeout 170
grep -q 'Initramfs unpacking failed' "$work/bogus.err" || fail "bogus: the reason is not shown: $(cat "$work/bogus.err")"
# A guest that runs but never becomes ready (a shell waiting on the console): the time limit.
expect_boot_failure hang 45 "not ready within 25s" -- --append rdinit=/bin/sh --boot-timeout 25

# The environment still works after the failures.
vdq_guest_start ok --nic e1000 || fail "a good guest after the failures"
echo "boot after failures: $(vdq_guest_info ok boot_ms) ms ($accel)"
[ "$(vdq_exec ok -- echo alive)" = alive ] || fail "exec after the failures"
vdq_guest_stop ok
pgrep -f "$env_dir/" >/dev/null && fail "processes left after stop: $(pgrep -af "$env_dir/")"

# A caller running with `set -euo pipefail` can use every step, and its EXIT trap still tears
# everything down (the harness keeps the caller's shell options out of its functions).
strict_ns=vdts$$
bash -c 'set -euo pipefail
	. "$1/testbeds/qemu/lib.sh"
	trap vdq_cleanup EXIT
	vdq_env_create "$2" 10.0.7
	vdq_guest_start s1 --nic e1000
	[ "$(vdq_exec s1 -- echo alive)" = alive ]
	vdq_capture_start c "$(vdq_bridge)" "$3/strict.pcap" icmp
	vdq_exec s1 -- "ping -c 2 -i 0.2 $(vdq_peer_ip) >/dev/null"
	vdq_capture_stop c
	vdq_load_start s1 network
	vdq_load_stop s1
	vdq_copy_out s1 /etc/vd-modules "$3/strict.mods"
	echo strict-ok' child "$root" "$strict_ns" "$work" >"$work/strict.out" 2>&1
rc=$?
grep -q strict-ok "$work/strict.out" || fail "set -euo pipefail caller: rc=$rc: $(tail -n 20 "$work/strict.out")"
vdq_netns_exists "$strict_ns" && fail "set -euo pipefail caller: namespace left"
pgrep -f "$VDQ_RUN/$strict_ns/" >/dev/null && fail "set -euo pipefail caller: processes left"
echo "set -euo pipefail caller: ok, torn down"

# A caller that dies by SIGKILL mid-run: the watchdog tears its environment down.
# check_gone NETNS STATE_DIR SECONDS
check_gone() {
	local i
	for ((i = 0; i < $3 * 2; i++)); do
		if ! vdq_netns_exists "$1" && ! pgrep -f "$2" >/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	fail "after the caller died: namespace or processes of $1 left: $(ip netns list | grep -w "$1") $(pgrep -af "$2")"
}
child_ns=vdtk$$
bash -c '. "$1/testbeds/qemu/lib.sh"; trap vdq_cleanup EXIT INT TERM
	vdq_env_create "$2" 10.0.5 && vdq_guest_start k1 --no-wait && echo started >"$3/k.started"
	exec sleep 300' child "$root" "$child_ns" "$work" &
child=$!
for _ in $(seq 100); do [ -e "$work/k.started" ] && break; sleep 0.2; done
[ -e "$work/k.started" ] || fail "SIGKILL case: the child did not start a guest"
pgrep -f "$VDQ_RUN/$child_ns/" >/dev/null || fail "SIGKILL case: no qemu running"
kill -KILL "$child"
wait "$child" 2>/dev/null
check_gone "$child_ns" "$VDQ_RUN/$child_ns/" 20
echo "SIGKILL: namespace and qemu gone"

# Ctrl-C (SIGINT) while a guest boots: the caller's trap tears down.
child_ns=vdti$$
rm -f "$work/k.started"
# Job control on: a background job of a script ignores SIGINT otherwise (and cannot trap it).
set -m
bash -c '. "$1/testbeds/qemu/lib.sh"; VDQ_OWNER=0; trap "exit 130" INT; trap vdq_cleanup EXIT
	vdq_env_create "$2" 10.0.6 && echo started >"$3/k.started" && vdq_guest_start i1' child "$root" "$child_ns" "$work" &
child=$!
set +m
for _ in $(seq 100); do [ -e "$work/k.started" ] && break; sleep 0.2; done
for _ in $(seq 50); do pgrep -f "$VDQ_RUN/$child_ns/" >/dev/null && break; sleep 0.2; done
pgrep -f "$VDQ_RUN/$child_ns/" >/dev/null || fail "SIGINT case: no qemu running"
kill -INT "$child"
wait "$child" 2>/dev/null
check_gone "$child_ns" "$VDQ_RUN/$child_ns/" 10
echo "SIGINT: namespace and qemu gone"
echo "PASS: qemu testbed failures"
