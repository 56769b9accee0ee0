#!/usr/bin/env bash
# timeout: 120
# vmdelay-analyze tcp and tperf on bad input: a trace without TCP, a capture that starts
# mid-stream with one-sided flows, a damaged file, a CSV that is not tperf's, bad options and
# numbers, flags that exclude each other, output to a full device. Each gets a clear note or
# error and the documented exit status, never a crash.
set -u
BIN=${VMDELAY_BIN:-build/asan/bin}
REAL=${VMDELAY_SHARED:-../shared}/testdata/real
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$REAL/5-pings.pcap" ] || { echo "no shared captures at $REAL" >&2; exit 77; }
TMP=$(mktemp -d /tmp/vd-tcp-bad.XXXXXX)
sink=
. "$(dirname "$0")/../../testbeds/on_exit.sh"
vd_on_exit '[ -n "$sink" ] && kill "$sink" 2>/dev/null; rm -rf "$TMP"'
A="$BIN/vmdelay-analyze"

# expect RC PATTERN(stderr) ARGS...
expect() {
	local want=$1 pat=$2
	shift 2
	"$A" tcp "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	[ "$rc" = "$want" ] || fail "tcp $*: exit $rc, want $want: $(cat "$TMP/err")"
	grep -q -- "$pat" "$TMP/err" || fail "tcp $*: stderr lacks '$pat': $(cat "$TMP/err")"
}

# ICMP only: a note naming the vantage point, then no flow at all -> 1
expect 1 "5-pings: no TCP packets (10 packets" "$REAL/5-pings.pcap"
grep -q "no TCP flow in any trace" "$TMP/err" || fail "no summary for a TCP-less trace"
# one TCP trace and one without: the TCP one is analyzed, the other noted -> 0
expect 0 "pings: no TCP packets" \
	smtp="$REAL/suricata-verify_mime-stream-depth_input.pcap" pings="$REAL/5-pings.pcap"
grep -q "10.9.18.101:49277>207.246.115.231:2525" "$TMP/out" || fail "flow missing from table"
# mid-stream capture with one-sided flows: notes in the table and summarized on stderr -> 0
expect 0 "no SYN seen (the capture started mid-stream)" --csv "$REAL/100_packets.pcap"
grep -q "one-sided" "$TMP/err" || fail "one-sided flows not noted"
grep -q ",mid-stream" "$TMP/out" || fail "mid-stream note not in the CSV"
head -1 "$TMP/out" | grep -q '^vantage,flow,' || fail "CSV header"
# damaged (cut short): reported up to the damage, error with file and offset -> 1
expect 1 "suricata-verify_http-mime-truncated_input.pcap: offset 2715459" \
	"$REAL/suricata-verify_http-mime-truncated_input.pcap"
grep -q "194.32.78.251:80>1.8.31.101:49160" "$TMP/out" || fail "damaged trace: nothing reported"
# vantage point syntax shared with the delay analysis: an interface that is not there, a bad name
expect 1 "no packet on interface '7'" "$REAL/100_packets.erf#7"
expect 2 "bad vantage point 'bad name=" "bad name=$REAL/100_packets.erf"
"$A" tcp --csv "x=$REAL/100_packets.erf#*" >"$TMP/out" 2>/dev/null || fail "#* on an ERF file"
grep -q '^x.port0,' "$TMP/out" && grep -q '^x.port1,' "$TMP/out" || fail "#*: $(cat "$TMP/out")"
# a missing file, a CSV that is not tperf's
expect 1 "$TMP/nope.pcap" "$TMP/nope.pcap"
printf 'a,b\n1,2\n' >"$TMP/x.csv"
expect 1 "no column 'idx'" --transfers "$TMP/x.csv"
# usage errors name the option -> 2
expect 2 "--bin 0us" --bin 0us "$REAL/5-pings.pcap"
expect 2 "--bottleneck fast" --bottleneck fast "$REAL/5-pings.pcap"
expect 2 "--run goes with --transfers" --run 3 "$REAL/5-pings.pcap"
expect 2 "no trace given"
expect 2 "^Try 'vmdelay-analyze tcp --help'" --bogus "$REAL/5-pings.pcap"
expect 2 "unknown option '-x'" -xq "$REAL/5-pings.pcap"
# numbers are plain decimals: no hex float, no inf
expect 2 "--bin 0x1p-3" --bin 0x1p-3 "$REAL/5-pings.pcap"
expect 2 "--compress-factor 0x1p1" --compress-factor 0x1p1 "$REAL/5-pings.pcap"
expect 2 "--compress-factor inf" --compress-factor inf "$REAL/5-pings.pcap"
expect 2 "--bottleneck 0x1p20" --bottleneck 0x1p20 "$REAL/5-pings.pcap"
# flags that exclude each other
expect 2 "only one of '--csv' and '--json'" --csv --json "$REAL/5-pings.pcap"
# tables that cannot be written: exit 1 naming stdout
"$A" tcp "$REAL/100_packets.pcap" >/dev/full 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "stdout: write error" "$TMP/err" || fail "tcp to /dev/full: exit $rc: $(tail -2 "$TMP/err")"
# the real SMTP capture: the JSON has what docs/formats/tcp.md promises
"$A" tcp --json --bottleneck 100Mbit "$REAL/suricata-verify_mime-stream-depth_input.pcap" \
	>"$TMP/smtp.json" 2>/dev/null || fail "SMTP capture"
grep '"type":"flow"' "$TMP/smtp.json" | grep -q '"ack_interarrival":{"bin_ns":10000,"ref_ns":120000,"acks":1226,"gaps":1225,' ||
	fail "ack_interarrival: $(head -c 600 "$TMP/smtp.json")"
grep -q '"fraction_below_ref":0.000000' "$TMP/smtp.json" || fail "fraction_below_ref"
grep -q '"bins":\[{"lo_ns":130000,"count":196,"dups":0}' "$TMP/smtp.json" || fail "bins"
# tperf usage errors name the option -> 2; --help and --version -> 0
T="$BIN/tperf"
tp() { # RC PATTERN ARGS...
	local want=$1 pat=$2
	shift 2
	"$T" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	[ "$rc" = "$want" ] || fail "tperf $*: exit $rc, want $want"
	grep -q -- "$pat" "$TMP/err" "$TMP/out" || fail "tperf $*: no '$pat': $(cat "$TMP/err")"
}
tp 2 "a subcommand is needed"
tp 2 "unknown subcommand 'bogus'" bogus
tp 2 "-n BYTES or -r COUNTxSIZE is needed" send 127.0.0.1
tp 2 "-r 10: expected COUNTxSIZE" send 127.0.0.1 -r 10
tp 2 "-p 70000: a port is 1..65535" send 127.0.0.1 -n 1K -p 70000
tp 2 "-c 0: expected a positive count" sink -c 0
tp 2 "option '--label' needs '--db'" send 127.0.0.1 -n 1K --label x
tp 2 "option '--meta' needs '--db'" send 127.0.0.1 -n 1K --meta k=v
tp 2 "sink: '--scenario' is a sender option" sink --scenario s
tp 0 "usage: tperf sink" --help
tp 0 "tperf 0.1.0" --version
tp 2 "^Try 'tperf --help'" send 127.0.0.1 -n 1K --bogus
tp 2 "unknown option '-x'" send 127.0.0.1 -xq
tp 2 "-t 0x1p4: expected a duration" send 127.0.0.1 -n 1K -t 0x1p4
tp 2 "-t inf: expected a duration" sink -t inf
# flags that exclude each other, options of the other side
tp 2 "only one of '--csv' and '--json'" send 127.0.0.1 -n 1K --csv --json
tp 2 "only one of '-n' and '-r'" send 127.0.0.1 -n 1K -r 2x1K
tp 2 "sink: '--label' is a sender option" sink --label x
tp 2 "sink: '--mss' is a sender option" sink --mss 1000
tp 2 "send: '-B' is a sink option" send 127.0.0.1 -n 1K -B ::1
# output that cannot be written (a transfer over loopback): exit 1 naming stdout or the file
port=$((20000 + $$ % 20000))
"$T" sink -p "$port" -B 127.0.0.1 -c 2 -t 20s >/dev/full 2>"$TMP/sink.err" &
sink=$!
for _ in $(seq 50); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.1; done
"$T" send 127.0.0.1 -p "$port" -n 64K >/dev/full 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "^tperf: stdout: write error" "$TMP/err" || fail "send to /dev/full: exit $rc: $(cat "$TMP/err")"
"$T" send 127.0.0.1 -p "$port" -n 64K --csv -o /dev/full >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "^tperf: /dev/full: write error" "$TMP/err" || fail "send -o /dev/full: exit $rc: $(cat "$TMP/err")"
wait "$sink"
rc=$?
sink=
[ "$rc" = 1 ] && grep -q "^tperf: stdout: write error" "$TMP/sink.err" || fail "sink to /dev/full: exit $rc: $(cat "$TMP/sink.err")"
echo "tcp_badinput: notes and errors as documented"
