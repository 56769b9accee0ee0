#!/usr/bin/env bash
# timeout: 120
# Bad input gives a clear error and the documented exit code, never a crash (sanitized binary):
# missing, empty, truncated and non-ICMP files exit 1 naming the file; bad NAME=PATH specs and
# options exit 2 naming them; --keep-going analyzes the rest and still exits 1.
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
# an interface that does not exist
expect 1 "eth7" "$good#eth7"
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
