#!/usr/bin/env bash
# load.sh — the stress cases of Whiteaker et al. (section 3.3, after the `stress` tool) and the
# background loads of Dantas et al., run until stopped (SIGTERM/SIGINT) or for --max seconds.
#
#   load.sh TYPE [--threads N] [--ns NS1,NS2...] [--target ADDR] [--reverse NS@ADDR...]
#           [--max SECONDS]
#
#   cpu      a busy loop per thread (stress -c)
#   memory   allocate and free 64 MB, touching it, in a loop (stress -m)
#   hd       write 16 MB to a file and unlink it, in a loop (stress -d)
#   io       sync() in a loop (stress -i)
#   network  TCP bulk to ADDR:5001 (a sink must listen there; testbeds/run starts it), as iperf;
#            each --reverse NS@ADDR adds a stream the other way, from namespace NS to ADDR:5001
#            (Whiteaker et al.: two connections, one in each direction)
#   none     sleeps (a phase without load, same timing)
#
# With --ns the load runs inside each of the namespaces (the busy neighbour guests of the netns
# testbed); without, where load.sh runs. Every process started is stopped on exit.
set -u
type=${1:-}
shift || true
threads=1 nslist='' target='' max=3600 reverse=()
while (($#)); do
	case $1 in
	--threads) threads=$2; shift 2 ;;
	--ns) nslist=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--max) max=$2; shift 2 ;;
	--reverse) reverse+=("$2"); shift 2 ;;
	*) echo "load.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case $type in
none | cpu | memory | hd | io | network) ;;
*) echo "load.sh: unknown load '$type' (none, cpu, memory, hd, io, network)" >&2; exit 2 ;;
esac
if [[ $type == network && -z $target ]]; then
	echo "load.sh: network load needs --target ADDR" >&2
	exit 2
fi

pids=() tmpdir=''
stop() {
	# Ignored, not reset: tping stops its load with TERM to the process group, the testbed's
	# teardown may add its own, and a second TERM must not cut this short.
	trap '' TERM INT HUP
	trap - EXIT
	local p c
	for p in "${pids[@]}"; do
		# The loop's current child (dd, sync, cat) first, then the loop itself.
		for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do kill -TERM "$c" 2>/dev/null; done
		kill -TERM "$p" 2>/dev/null
	done
	# before waiting: tping sends KILL one second after its TERM
	[ -n "$tmpdir" ] && rm -rf "$tmpdir"
	wait 2>/dev/null
	exit 0
}
trap stop TERM INT HUP EXIT

tmpdir=$(mktemp -d "${TMPDIR:-/var/tmp}/vdload.XXXXXX")

worker() { # the loop of one thread
	case $type in
	cpu) while :; do :; done ;;
	memory) while :; do dd if=/dev/zero of=/dev/null bs=64M count=1 status=none; done ;;
	hd) while :; do
		dd if=/dev/zero of="$tmpdir/hd.$BASHPID" bs=1M count=16 status=none
		rm -f "$tmpdir/hd.$BASHPID"
	done ;;
	io) while :; do sync; done ;;
	network) while :; do
		# bash opens the connection; cat fills it until the sink or the load stops.
		cat /dev/zero >"/dev/tcp/$target/5001" 2>/dev/null
		sleep 0.2
	done ;;
	none) while :; do sleep 1; done ;;
	esac
}

start() { # [NS]
	local t
	for ((t = 0; t < threads; t++)); do
		if [ -n "${1:-}" ]; then
			ip netns exec "$1" bash -c "$(declare -f worker); type=$type tmpdir=$tmpdir target=$target; worker" &
		else
			worker &
		fi
		pids+=($!)
	done
}

if [ -n "$nslist" ]; then
	IFS=, read -ra nss <<<"$nslist"
	for ns in "${nss[@]}"; do start "$ns"; done
else
	start
fi
if [[ $type == network ]]; then
	for r in "${reverse[@]}"; do
		target=${r#*@} start "${r%@*}"
	done
fi
sleep "$max" &
pids+=($!)
wait "$!"
stop
