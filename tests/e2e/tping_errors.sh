#!/usr/bin/env bash
# timeout: 300
# tping on bad input: invalid options, numbers and flags that exclude each other (exit 2 naming
# the option), an unknown host (a namespace without routes or DNS), an address answered by ICMP
# errors, no usable ICMP socket, an unwritable or corrupt --db (error, probes still printed,
# exit 1), output to a full device (exit 1 naming stdout or the file), SIGINT (summary and store).
set -u
. "$VMDELAY_ROOT/tests/e2e/lib/tping_topo.bash"
topo_need sqlite3 setpriv
tmp=$(mktemp -d)
U=vdtpU$$
cleanup() {
	topo_cleanup
	ip netns del "$U" 2>/dev/null
	rm -rf "/etc/netns/$U" "$tmp"
}
. "$VMDELAY_ROOT/testbeds/on_exit.sh"
vd_on_exit cleanup
topo_up
TP=$VMDELAY_BIN/tping
inS() { ip netns exec "$S" "$@"; }

expect_exit() { # code description command...
	local want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" = "$want" ] || fail "$what: exit $rc, expected $want; stderr: $(tail -5 "$tmp/err")"
}

# Invalid options: exit 2 and the message names the option.
for c in "--bogus|--bogus" "-c abc|'-c'" "--count=0|'--count'" "-s 99999|'-s'" "-W nope|'-W'" \
	"--csv --json|--json" "-o x.csv|'-o'" "--label x|'--label'" "-4 -6|'-6'" "-x|'-x'" \
	"-xq|unknown option '-x'" "-i 0x1p-3|'-i'" "-i 0x10|'-i'" "--interval=inf|'--interval'" \
	"-W nan|'-W'" "-w 1e400|'-w'" "--no-timestamps --tx-wait 1|'--tx-wait'" \
	"--bogus|Try 'tping --help'."; do
	args=${c%%|*}
	want=${c#*|}
	# shellcheck disable=SC2086
	expect_exit 2 "tping $args" "$TP" $args 127.0.0.1
	grep -qF -- "$want" "$tmp/err" || fail "tping $args: message does not name $want: $(tail -5 "$tmp/err")"
done
expect_exit 2 "missing host" "$TP" -c 1
grep -q "missing HOST" "$tmp/err" || fail "missing host: $(tail -5 "$tmp/err")"
expect_exit 0 "--help" "$TP" --help
grep -q -- "--rest" "$tmp/out" || fail "--help does not list --rest"
expect_exit 0 "--version" "$TP" --version
# Below 2 ms only for root.
expect_exit 2 "-i 0.001 as a user" setpriv --reuid=65534 --regid=65534 --clear-groups "$TP" -i 0.001 127.0.0.1
grep -q "'-i'" "$tmp/err" || fail "-i as user: $(tail -5 "$tmp/err")"

# Output that cannot be written: the per-probe lines, the rows to stdout, the rows to -o.
for args in "" "--csv" "--json -o /dev/full"; do
	# shellcheck disable=SC2086
	inS "$TP" -c 2 -i 0.01 $args "$V4" >/dev/full 2>"$tmp/err"
	rc=$?
	case $args in *-o*) want=/dev/full ;; *) want=stdout ;; esac
	[ "$rc" = 1 ] || fail "tping $args >/dev/full: exit $rc, expected 1: $(tail -3 "$tmp/err")"
	grep -q "^tping: $want: write error" "$tmp/err" || fail "tping $args >/dev/full: no message naming $want: $(tail -3 "$tmp/err")"
done
inS "$TP" --help >/dev/full 2>"$tmp/err"
[ $? = 1 ] || fail "tping --help >/dev/full: not exit 1"

# Unknown host: a namespace with no routes and an empty resolv.conf; no hang, exit 1.
ip netns add "$U"
mkdir -p "/etc/netns/$U" && : >"/etc/netns/$U/resolv.conf"
host="no-such-host-$$.example"
expect_exit 1 "unknown host" timeout 30 ip netns exec "$U" "$TP" -c 1 "$host"
grep -qF "$host" "$tmp/err" || fail "unknown host: message does not name it: $(tail -5 "$tmp/err")"

# No usable socket: a user outside ping_group_range and without CAP_NET_RAW.
expect_exit 1 "no ICMP socket" ip netns exec "$S" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$TP" -c 1 "$V4"
grep -q "cannot open an ICMP socket" "$tmp/err" || fail "no socket: $(tail -5 "$tmp/err")"

# An address answered by ICMP errors (the peer routes it to "unreachable"): raw socket, then
# the datagram socket (errors from its error queue), then IPv6.
expect_exit 1 "ICMP errors (raw)" inS "$TP" -c 2 -i 0.1 -W 1 --csv -o "$tmp/unr.csv" "$V4_UNREACH"
grep -q "From $V4 icmp_seq=1 Destination Host Unreachable" "$tmp/out" || fail "raw: $(tail -5 "$tmp/out")"
[ "$(tail -n +2 "$tmp/unr.csv" | cut -d, -f3,17,18 | sort -u)" = "icmp-error,3,1" ] ||
	fail "raw error rows: $(tail -5 "$tmp/unr.csv")"
inS sysctl -qw net.ipv4.ping_group_range="0 2147483647"
expect_exit 1 "ICMP errors (dgram)" inS "$TP" -c 2 -i 0.1 -W 1 "$V4_UNREACH"
grep -q "datagram socket" "$tmp/out" || fail "not a datagram socket: $(head -1 "$tmp/out")"
[ "$(grep -c "From $V4 icmp_seq=[12] Destination Host Unreachable" "$tmp/out")" = 2 ] ||
	fail "dgram: $(tail -5 "$tmp/out")"
grep -q "2 ICMP errors" "$tmp/out" || fail "dgram summary: $(tail -5 "$tmp/out")"
inS sysctl -qw net.ipv4.ping_group_range="1 0"
expect_exit 1 "ICMPv6 errors" inS "$TP" -c 3 -i 0.05 -W 1 "$V6_UNREACH"
[ "$(grep -c "From $V6 icmp_seq=[123] No route" "$tmp/out")" = 3 ] || fail "v6: $(tail -5 "$tmp/out")"

# An unwritable --db: a missing directory, a read-only one (tping has dropped its
# capabilities, so not even root writes there), a corrupt file. Each: a clear error naming
# the file, the probes still printed, exit 1.
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
head -c 4096 /dev/urandom >"$tmp/corrupt.db"
for db in "$tmp/missing/dir/x.db" "$tmp/ro/x.db" "$tmp/corrupt.db"; do
	expect_exit 1 "--db $db" inS "$TP" -c 3 -i 0.01 --csv -o "$tmp/db.csv" --db "$db" "$V4"
	grep -qF "$db" "$tmp/err" || fail "--db $db: error does not name it: $(tail -5 "$tmp/err")"
	[ "$(tail -n +2 "$tmp/db.csv" | grep -c ',ok,')" = 3 ] || fail "--db $db: probes not printed"
	grep -q "3 received" "$tmp/out" || fail "--db $db: no summary"
done
[ ! -e "$tmp/ro/x.db" ] || fail "a database appeared in the read-only directory"

# SIGINT: the run stops early, prints its summary and stores what it measured.
# (not through a shell function: $! must be tping itself, which ip netns exec becomes)
ip netns exec "$S" "$TP" -c 1000 -i 0.01 --csv -o "$tmp/int.csv" --db "$tmp/int.db" "$V4" \
	>"$tmp/int.out" 2>&1 &
pid=$!
sleep 1.5
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] || fail "SIGINT: exit $rc: $(tail -5 "$tmp/int.out")"
grep -q "(interrupted)" "$tmp/int.out" || fail "SIGINT: no summary: $(tail -5 "$tmp/int.out")"
rows=$(($(wc -l <"$tmp/int.csv") - 1))
[ "$rows" -gt 10 ] && [ "$rows" -lt 1000 ] || fail "SIGINT: $rows probes"
stored=$(sqlite3 -batch -noheader "$tmp/int.db" "SELECT COUNT(*) FROM probes")
[ "$stored" = "$rows" ] || fail "SIGINT: $stored stored, $rows printed"
[ "$(sqlite3 -batch -noheader "$tmp/int.db" "SELECT value FROM run_meta WHERE key = 'interrupted'")" = 1 ] ||
	fail "SIGINT: run_meta interrupted"
echo "tping_errors: all checks passed"
