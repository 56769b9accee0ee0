#!/usr/bin/env bash
# timeout: 200
# tping installed setuid-root and setgid, run by an unprivileged user (nobody): the interval
# below 0.002 s stays refused (the check is on the real uid); once the socket is open tping holds
# no privilege (all uids and gids the user's, no capabilities); the --load command runs with
# none either (no saved IDs, no groups kept from root, no capabilities).
set -u
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
topo_need setpriv getent
getent group adm >/dev/null || skip "needs the group adm (for the setgid install)"
tmp=$(mktemp -d)
tp_pid=
cleanup() {
	[ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null
	topo_cleanup
	rm -rf "$tmp"
}
. "$VMDELAY_ROOT/testbeds/on_exit.sh"
vd_on_exit cleanup
topo_up
chmod 0755 "$tmp"
mkdir -m 0777 "$tmp/out"
# The installs: root-owned copies with the setuid / setgid bit. LeakSanitizer cannot trace a
# process that is not dumpable (any set-ID program), hence detect_leaks=0 here.
install -o root -g root -m 4755 "$VMDELAY_BIN/tping" "$tmp/tping-suid"
install -o root -g adm -m 2755 "$VMDELAY_BIN/tping" "$tmp/tping-sgid"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
adm=$(getent group adm | cut -d: -f3)
# Datagram ICMP sockets for every group (a new namespace allows none): the setgid install
# opens one, it has no CAP_NET_RAW.
ip netns exec "$S" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# The shell tping runs for --load reads its own status ($$): what it was given at exec (a
# program it starts would have its saved IDs reset by that exec).
load='grep -E "^(Uid|Gid|Groups|CapPrm|CapEff|CapAmb):" /proc/$$/status'

# 1. The root-only rate limit holds for a setuid-root install.
ip netns exec "$S" setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/tping-suid" \
	-q -c 3 -i 0.001 "$V4" >"$tmp/fast.out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "setuid tping as nobody accepted -i 0.001 (exit $rc): $(tail -3 "$tmp/fast.out")"
grep -q -- "-i" "$tmp/fast.out" || fail "the refusal names no option: $(cat "$tmp/fast.out")"

# 2. Each install, run by nobody with a --load command: the run works, the load command and
#    tping itself (read from /proc while it runs) hold nothing of root's or adm's.
for kind in suid sgid; do
	ip netns exec "$S" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$tmp/tping-$kind" -q -c 15 -i 0.2 --load "$load >$tmp/out/load-$kind.txt" "$V4" \
		>"$tmp/$kind.out" 2>&1 &
	tp_pid=$!
	sleep 1.5
	grep -E "^(Uid|Gid|Groups|CapPrm|CapEff):" "/proc/$tp_pid/status" >"$tmp/self-$kind.txt" ||
		fail "$kind: tping is not running: $(cat "$tmp/$kind.out")"
	wait "$tp_pid"
	rc=$?
	tp_pid=
	[ "$rc" = 0 ] || fail "$kind: exit $rc: $(tail -3 "$tmp/$kind.out")"
	for f in "$tmp/out/load-$kind.txt" "$tmp/self-$kind.txt"; do
		[ -s "$f" ] || fail "$kind: nothing in $f: $(cat "$tmp/$kind.out")"
		grep -qP '^Uid:\t65534\t65534\t65534\t65534$' "$f" || fail "$kind: uids in $f: $(cat "$f")"
		grep -qP '^Gid:\t65534\t65534\t65534\t65534$' "$f" || fail "$kind: gids in $f: $(cat "$f")"
		grep -qP '^Groups:\s*$' "$f" || fail "$kind: groups in $f: $(cat "$f")"
		grep -qP '^CapPrm:\t0+$' "$f" || fail "$kind: permitted capabilities in $f: $(cat "$f")"
		grep -qP '^CapEff:\t0+$' "$f" || fail "$kind: effective capabilities in $f: $(cat "$f")"
	done
done
echo "tping_setid: ok (adm is gid $adm)"
