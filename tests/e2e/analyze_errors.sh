#!/usr/bin/env bash
# timeout: 120
# Bad input gives a clear error and the documented exit code, never a crash (sanitized binary):
# missing, empty, truncated and non-ICMP files exit 1 naming the file; bad NAME=PATH specs and
# options exit 2 naming them, in one format ("PROG: MESSAGE" then "Try 'PROG --help'."), also a
# selector that does not fit its file and flags that exclude each other; numbers are plain
# decimals (no hex float, no inf); --keep-going analyzes the rest and still exits 1; output that
# cannot be written (/dev/full) exits 1 with a message naming stdout or the -o file.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect() { # code pattern args...
	local code=$1 pat=$2
	shift 2
	"$AN" -q "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" = "$code" ] || fail "$* -> exit $rc, want $code ($(head -c 300 "$tmp/err"))"
	grep -q -- "$pat" "$tmp/err" || fail "$* -> stderr lacks '$pat': $(head -c 300 "$tmp/err")"
	grep -q 'AddressSanitizer\|runtime error' "$tmp/err" && fail "$*: sanitizer report"
}
good="$REAL/5-pings.pcap"
expect 1 "$tmp/nope.pcap" "$tmp/nope.pcap"
: >"$tmp/empty.pcap"
expect 1 "empty.pcap" "$tmp/empty.pcap"
head -c 300 "$good" >"$tmp/cut.pcap"
expect 1 "cut.pcap" "$tmp/cut.pcap"
expect 1 "no ICMP echo" "$REAL/100_packets.pcap"
expect 1 "no ICMP echo" "$REAL/provenance.erf"
expect 1 "pcap-invalid-version-1.pcap" "$REAL/pcap-invalid-version-1.pcap"
expect 1 "shb-option-too-long.pcapng" "$REAL/shb-option-too-long.pcapng"
printf 'hello, world\n' >"$tmp/notes.txt"
expect 1 "notes.txt" "$tmp/notes.txt"
printf 'seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,abc,5\n' >"$tmp/bad.csv"
expect 1 "line 2" "$tmp/bad.csv"
# usage errors
expect 2 "wi re=x.pcap" "wi re=x.pcap"
expect 2 "wire:=x.pcap" "wire:=x.pcap"
expect 2 "no PATH" "wire="
expect 2 "no vantage point" --csv
expect 2 "--align" --align best "$good"
expect 2 "--rest" --rest 0 "$good"
expect 2 "only one of" --csv --json "$good"
expect 2 "--bogus" --bogus "$good"
expect 2 "--window" --window 2d "$good"
expect 2 "#SELECT" "x=$good#"
expect 2 "Try 'vmdelay-analyze --help'" --bogus "$good"
# a short option refused inside a cluster is named, not the argument before it
expect 2 "unknown option '-x'" -xq "$good"
grep -q "unknown option '.*vmdelay-analyze'" "$tmp/err" && fail "-xq names the program"
expect 2 "option '--csv' takes no value" --csv=yes "$good"
expect 2 "--window" --window 0x1p3 "$good"
expect 2 "--window" --window inf "$good"
expect 2 "--window" --window " 5s" "$good"
expect 2 "option '--label' needs '--db'" --label x "$good"
# a selector that does not fit the file it names is a usage error (also with --keep-going)
printf 'seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,1000,5000\n' >"$tmp/probes.csv"
expect 2 "bad selector '#wire'" "$tmp/probes.csv#wire"
expect 2 "Try 'vmdelay-analyze --help'" "$tmp/probes.csv#run=x"
expect 2 "bad selector '#wire'" --keep-going "$good" "$tmp/probes.csv#wire"
# an interface that does not exist
expect 1 "eth7" "$good#eth7"
# output that cannot be written: exit 1 and a message naming stdout or the file
for mode in "" --csv --json; do
	# shellcheck disable=SC2086
	"$AN" -q $mode "$good" >/dev/full 2>"$tmp/err"
	rc=$?
	[ "$rc" = 1 ] && grep -q "^vmdelay-analyze: stdout: write error" "$tmp/err" ||
		fail "${mode:-text} to /dev/full: exit $rc, $(head -c 300 "$tmp/err")"
done
expect 1 "^vmdelay-analyze: /dev/full: write error" -o /dev/full "$good"
expect 1 "$tmp/no/such/dir/r.txt" -o "$tmp/no/such/dir/r.txt" "$good"
"$AN" --help >/dev/full 2>"$tmp/err"
[ $? = 1 ] && grep -q "stdout: write error" "$tmp/err" || fail "--help to /dev/full: $(cat "$tmp/err")"
# compare: the same format and checks
"$AN" compare --db x.db --csv --json >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "only one of '--csv' and '--json'" "$tmp/err" &&
	grep -q "^Try 'vmdelay-analyze compare --help'" "$tmp/err" || fail "compare --csv --json: $(cat "$tmp/err")"
"$AN" compare -xq >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "unknown option '-x'" "$tmp/err" || fail "compare -xq: $(cat "$tmp/err")"
# --keep-going: the good file is analyzed, exit 1 for the bad one
"$AN" -q --keep-going "$tmp/nope.pcap" "$tmp/cut.pcap" "$good" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "--keep-going: exit $rc, want 1"
grep -q '^5-pings ' "$tmp/out" || fail "--keep-going: the good file was not analyzed"
grep -q 'nope.pcap' "$tmp/err" || fail "--keep-going: no message for the missing file"
# --help and --version
"$AN" --help | grep -q 'NAME\[:CLOCK\]=PATH' || fail "--help lacks the vantage point syntax"
"$AN" --version | grep -q '^vmdelay-analyze [0-9]' || fail "--version"
echo "$fails failures"
[ "$fails" -eq 0 ]
