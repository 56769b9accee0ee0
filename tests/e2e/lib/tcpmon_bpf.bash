# Sourced by tests/e2e/tcpmon_bpf*.sh and tests/bench/tcpmon_bpf.sh: two network namespaces
# joined by a veth pair, and a `tcpmon --backend bpf record` in the background.
#   bpf_need                    skip (77) unless root with the kernel's BTF
#   veth_up A B NET             namespaces A and B, va0 NET.1/24 + fd20:NET3::1/64 in A, vb0 .2
#                               in B (NET: three octets, e.g. 10.201.0; NET3 its third octet)
#   veth_down                   deletes both (which removes the veth)
#   rec_start FILE ARGS...      tcpmon --backend bpf record -w FILE ARGS... in the background
#                               ($rec_pid), stderr in FILE.log; returns once it is attached
#   rec_stop                    SIGINT, waits; returns tcpmon's exit code
#   bpf_start ARGS...           tcpmon --backend bpf start ARGS... (stderr in $work/start.log);
#                               the programs it pins are removed on exit (bpf_test_cleanup)
#   bpf_stop                    tcpmon --backend bpf stop; returns its exit code
#   bpf_test_setup NAME TOOL    the e2e tests' start: root (cd there), skip/die prefixed with
#                               NAME, bin (asan by default), bpf_need, skip without TOOL, die
#                               without tcpmon, $work (in /dev/shm when it can) removed on exit
#                               after stopping the recorder, removing what bpf_start pinned and
#                               deleting the namespaces
# The caller sets bin (the directory of tcpmon) and defines die (bpf_test_setup does both).
# shellcheck disable=SC2154 # bin is the caller's

bpf_need() {
	[ "$(id -u)" = 0 ] || { echo "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)" >&2; exit 77; }
	[ -r /sys/kernel/btf/vmlinux ] || { echo "no kernel BTF (/sys/kernel/btf/vmlinux)" >&2; exit 77; }
}

veth_a='' veth_b=''
veth_up() {
	local net=$3 n3
	n3=${net##*.}
	veth_a=$1 veth_b=$2
	ip netns add "$veth_a" && ip netns add "$veth_b" &&
		ip link add va0 netns "$veth_a" type veth peer name vb0 netns "$veth_b" &&
		ip -n "$veth_a" link set lo up && ip -n "$veth_b" link set lo up &&
		ip -n "$veth_a" addr add "$net.1/24" dev va0 && ip -n "$veth_b" addr add "$net.2/24" dev vb0 &&
		ip -n "$veth_a" addr add "fd20:$n3::1/64" dev va0 nodad &&
		ip -n "$veth_b" addr add "fd20:$n3::2/64" dev vb0 nodad &&
		ip -n "$veth_a" link set va0 up && ip -n "$veth_b" link set vb0 up
}

veth_down() {
	[ -n "$veth_a" ] && ip netns del "$veth_a" 2>/dev/null
	[ -n "$veth_b" ] && ip netns del "$veth_b" 2>/dev/null
	veth_a='' veth_b=''
}

rec_pid=
rec_start() {
	local out=$1
	shift
	rm -f "$out.log" # an old log saying "recording" would end the wait below at once
	"$bin/tcpmon" --backend bpf record -w "$out" "$@" 2>"$out.log" &
	rec_pid=$!
	for _ in $(seq 100); do
		grep -qs "recording" "$out.log" && return 0
		kill -0 "$rec_pid" 2>/dev/null || { cat "$out.log"; die "tcpmon record exited early"; }
		sleep 0.1
	done
	cat "$out.log"
	die "tcpmon record did not start"
}

rec_stop() {
	local rc
	kill -INT "$rec_pid"
	wait "$rec_pid"
	rc=$?
	rec_pid=
	return $rc
}

bpf_started=
bpf_start() {
	bpf_started=1
	"$bin/tcpmon" --backend bpf start "$@" 2>"$work/start.log"
}
bpf_stop() {
	bpf_started=
	"$bin/tcpmon" --backend bpf stop
}

bpf_test_setup() {
	bpf_test_name=$1
	# defined here, not at load: tests/bench/tcpmon_bpf.sh sources this file after its own
	skip() { echo "$bpf_test_name: SKIP: $*" >&2; exit 77; }
	die() { echo "$bpf_test_name: FAIL: $*" >&2; exit 1; }
	root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
	cd "$root" || exit 1
	bin=${VMDELAY_BIN:-$root/build/asan/bin}
	bpf_need
	command -v "$2" >/dev/null || skip "$2 not installed"
	[ -x "$bin/tcpmon" ] || die "no tcpmon binary in $bin (make)"
	work=$(mktemp -d "/dev/shm/$bpf_test_name.XXXXXX") || work=$(mktemp -d) || exit 1
	. "$root/testbeds/on_exit.sh"
	vd_on_exit bpf_test_cleanup # also on INT, TERM, HUP
}
bpf_test_cleanup() {
	[ -n "$rec_pid" ] && rec_stop
	[ -n "$bpf_started" ] && bpf_stop
	veth_down
	rm -rf "$work"
}
