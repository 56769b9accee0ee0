#!/usr/bin/env bash
# timeout: 300
# Killed half way, a script that builds namespaces, veths, temporary directories and servers
# leaves none of them behind (testbeds/on_exit.sh):
#  1. a small script using the helper: a namespace, a veth into it, a temporary directory, a
#     server in the background and a command in the foreground inside the namespace; stopped by
#     TERM to its pid (kill), TERM to its process group (tests/run.sh's timeout), INT to the
#     group (Ctrl-C) and HUP; it exits with the signal's status, not 0;
#  2. the netns testbed: tests/e2e/testbeds_netns.sh, stopped by TERM to its pid while
#     testbeds/run measures under CPU load, then testbeds/run alone, stopped by TERM to its
#     process group.
# "Nothing left": no namespace or link of the run (ip netns list, ip link), an empty TMPDIR,
# no process still carrying the run's TMPDIR in its environment.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${VMDELAY_BIN:-$root/build/asan/bin}
((EUID == 0)) || { echo "needs root for network namespaces" >&2; exit 77; }
command -v pgrep >/dev/null || { echo "pgrep (procps) not installed" >&2; exit 77; }
ip netns add "vdsig$$probe" 2>/dev/null || { echo "cannot create network namespaces" >&2; exit 77; }
ip netns del "vdsig$$probe"
top=$(mktemp -d)
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
. "$root/testbeds/on_exit.sh"
vd_on_exit 'rm -rf "$top"'

# What is left of a run whose TMPDIR was $1 and whose names contain $2.
leftovers() { # TMPDIR NAME
	local p
	ip netns list | grep -F "$2"
	ip -o link | grep -F "$2"
	find "$1" -mindepth 1 -maxdepth 1
	for p in /proc/[0-9]*; do
		grep -qzx "TMPDIR=$1" "$p/environ" 2>/dev/null && echo "process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline")"
	done
}

# Job control: each command started below is a process group of its own, as under tests/run.sh's
# timeout, and does not ignore INT (without it, background commands of a script do).
set -m
# start WHAT LOG CMD...: CMD in the background (process group $pid), its TMPDIR $top/WHAT
start() {
	local what=$1 log=$2
	shift 2
	mkdir -p "$top/$what"
	TMPDIR=$top/$what "$@" >"$log" 2>&1 &
	pid=$!
}
# stop SIG MODE: sends SIG to $pid (MODE pid) or its process group (MODE group); waits for it
stop() {
	if [ "$2" = group ]; then kill -"$1" -- -"$pid"; else kill -"$1" "$pid"; fi
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { fail "still running 30 s after $1"; kill -KILL -- -"$pid"; }
	wait "$pid"
	local rc=$?
	sleep 0.5 # what the killed commands leave goes away with them
	return $rc
}
# until FILE contains a line matching RE (at most 120 s)
wait_for() { # FILE RE
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- 1. the helper alone ------------------------------------------------------------------
cat >"$top/victim.sh" <<'EOF'
. "$1/testbeds/on_exit.sh"
ns=$2
vd_on_exit 'ip link del "${ns}h" 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$dir"'
dir=$(mktemp -d)
ip netns add "$ns"
ip link add "${ns}h" type veth peer name "${ns}g" netns "$ns"
ip netns exec "$ns" sleep 300 &
mkfifo "$dir/fifo"
echo ready
# Ctrl-C: a foreground command that catches INT and exits 0 still ends the script
ip netns exec "$ns" bash -c 'trap "exit 0" INT; read -r _ <>"$1"' _ "$dir/fifo"
echo "went on after the signal"
EOF
for how in "TERM pid 143" "TERM group 143" "INT group 130" "HUP pid 129"; do
	read -r sig mode want <<<"$how"
	ns=vdsig$$${sig:0:1}${mode:0:1}
	start "$ns" "$top/$ns.log" bash "$top/victim.sh" "$root" "$ns"
	wait_for "$top/$ns.log" '^ready' || fail "helper, $sig to the $mode: did not start ($(cat "$top/$ns.log"))"
	sleep 0.3
	stop "$sig" "$mode"
	rc=$?
	[ "$rc" = "$want" ] || fail "helper, $sig to the $mode: exit $rc, not $want"
	grep -q "went on" "$top/$ns.log" && fail "helper, $sig to the $mode: the script went on"
	left=$(leftovers "$top/$ns" "$ns")
	[ -z "$left" ] || fail "helper, $sig to the $mode: left $left"
done

# --- 2. the netns testbed -----------------------------------------------------------------
if ! command -v tcpdump >/dev/null || ! [ -x "$bin/tping" ]; then
	echo "no tcpdump or tping: the netns testbed part is skipped" >&2
else
	runid() { sed -n 's/.*testbed netns \([a-z0-9]*\):.*/\1/p' "$1"/*/run.err "$1"/run.err 2>/dev/null | head -n 1; }
	# the e2e test of the testbed, TERM to its pid only once the load phase runs
	start netns "$top/netns.log" env VMDELAY_ROOT="$root" VMDELAY_BIN="$bin" bash "$root/tests/e2e/testbeds_netns.sh"
	for ((i = 0; i < 1200; i++)); do
		id=$(runid "$top/netns")
		[ -n "$id" ] && grep -qs "probes done: [1-9]" "$top"/netns/*/run.err && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$id" ] || fail "testbeds_netns.sh: no run id ($(tail -n 5 "$top/netns.log"))"
	stop TERM pid
	rc=$?
	[ "$rc" = 143 ] || fail "testbeds_netns.sh after TERM: exit $rc, not 143"
	left=$(leftovers "$top/netns" "${id:-none}")
	[ -z "$left" ] || fail "testbeds_netns.sh after TERM: left $left"

	# testbeds/run, TERM to its process group as tests/run.sh's timeout sends it
	printf 'name = sig\ntestbed = netns\nbackground_vms = 1\nload = cpu\nprobe_count = 200\nprobe_interval = 0.05\nrest = 2\n' >"$top/sig.scn"
	mkdir -p "$top/runout"
	start run "$top/run.err" "$root/testbeds/run" --db "$top/runout/v.db" --out "$top/runout" --bin "$bin" "$top/sig.scn"
	wait_for "$top/run.err" "probes done: [1-9]" || fail "testbeds/run: no probes ($(tail -n 5 "$top/run.err"))"
	id=$(runid "$top")
	stop TERM group
	rc=$?
	[ "$rc" = 143 ] || fail "testbeds/run after TERM: exit $rc, not 143"
	left=$(leftovers "$top/run" "${id:-none}")
	[ -z "$left" ] || fail "testbeds/run after TERM: left $left"
fi
echo "$fails failures"
[ "$fails" -eq 0 ]
