#!/usr/bin/env bash
# timeout: 300
# vmdelay-analyze tcp when memory runs out: 65,535 concurrent connections (tests/bench/tcpgen.c)
# analysed under address-space limits (ulimit -v) from far too little to enough. At every limit
# the run either gives the report the unlimited run gives, exit 0, or fails with a message
# saying memory ran out, exit 1: never a report that silently misses what did not fit (the
# ACK-analysis blocks are allocated as connections first need them, long after the flow table).
# Release binaries: ASan reserves terabytes of address space and cannot run under ulimit -v.
set -u
bin=${VMDELAY_RELEASE_BIN:-${VMDELAY_ROOT:-.}/build/release/bin}
an=$bin/vmdelay-analyze
[ -x "$an" ] || { echo "no release vmdelay-analyze in $bin (make VARIANT=release)" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/tcpgen" "${VMDELAY_ROOT:-.}/tests/bench/tcpgen.c" || exit 1
"$tmp/tcpgen" 400000 65535 >"$tmp/a.pcap" || exit 1

args=(tcp -q --json --max-flows 262144 "host=$tmp/a.pcap")
"$an" "${args[@]}" >"$tmp/full.json" 2>"$tmp/full.err" || fail "unlimited run: $(cat "$tmp/full.err")"
ok=0 oom=0
for kb in 30000 45000 60000 75000 90000 105000 120000 150000 200000; do
	rc=0
	(ulimit -v "$kb" && exec "$an" "${args[@]}") >"$tmp/out.json" 2>"$tmp/err" || rc=$?
	if [ "$rc" = 0 ]; then
		cmp -s "$tmp/full.json" "$tmp/out.json" ||
			fail "ulimit -v $kb: exit 0 with a report that differs from the unlimited one"
		ok=$((ok + 1))
	else
		[ "$rc" = 1 ] || fail "ulimit -v $kb: exit $rc (want 1): $(head -c 300 "$tmp/err")"
		grep -qi 'out of memory\|cannot allocate' "$tmp/err" ||
			fail "ulimit -v $kb: exit 1 without saying memory ran out: $(head -c 300 "$tmp/err")"
		oom=$((oom + 1))
	fi
done
# both sides reached, or the limits no longer bracket what the analysis needs
[ "$ok" -gt 0 ] || fail "no limit was enough: raise the largest"
[ "$oom" -gt 0 ] || fail "no limit was too small: lower the smallest"
echo "ok: $ok limits gave the full report, $oom said memory ran out"
