#!/usr/bin/env bash
# timeout: 300
# The tables of several packet traces on one clock are computed while the traces are read side
# by side (docs/methodology.md, "Memory"); with a per-probe output (--plot) every probe is kept
# and they are computed after reading. Both must print the same report, byte for byte, on
# captures of the same probes at 1 to 4 layers (tests/bench/icmpgen.c), every host order it makes
# (round robin, bursts, random, seq wrap; one request in 1000 unanswered), a packet every 1 µs
# (the whole capture inside the 10 s window) and every 100 µs (many windows), with --rest and
# --window; and a damaged trace among them is reported as it always was. --csv streams too: its
# rows, written as each probe leaves the window, must be those written after reading, byte for
# byte, whether standard output is a file (cut back when a damaged trace sends the analysis
# back to reading), a pipe (rows spooled until the end) or -o (a temporary file dropped).
# One vantage point streams too, its pairs held only behind a request still waiting for its
# reply: captures of one point (tests/e2e/lib/late_replies_pcap.py, 30 s of probes) with every
# request answered within 3 ms, with replies lost, with replies 3 s late (within the 10 s reply
# wait) and both; replies later than the wait are taken out of order (the same probes, counted
# the same).
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1

. "$(dirname "$0")/lib/stream_same.sh"

for gap in 1000 100000; do
	for order in rr burst random wrap; do
		for k in 0 1 2 3; do
			"$tmp/icmpgen" 60000 50 "$order" "$k" "$gap" >"$tmp/l$k.pcap" || exit 1
		done
		same "$order gap $gap, 1 point" "$tmp/l0.pcap"
		same "$order gap $gap, 4 points" "w=$tmp/l0.pcap" "b=$tmp/l1.pcap" "k=$tmp/l2.pcap" "u=$tmp/l3.pcap"
		same_csv "$order gap $gap, 1 point" file "$tmp/l0.pcap"
		same_csv "$order gap $gap, 4 points" file "w=$tmp/l0.pcap" "b=$tmp/l1.pcap" "k=$tmp/l2.pcap" "u=$tmp/l3.pcap"
	done
	same "gap $gap, --rest 100" --rest 100 "$tmp/l0.pcap" "$tmp/l2.pcap" "$tmp/l3.pcap"
	same "gap $gap, --window 2ms" --window 2ms "$tmp/l0.pcap" "$tmp/l1.pcap"
	same_csv "gap $gap, --rest 100" "file pipe o" --rest 100 "$tmp/l0.pcap" "$tmp/l2.pcap" "$tmp/l3.pcap"
	same_csv "gap $gap, --window 2ms" file --window 2ms "$tmp/l0.pcap" "$tmp/l1.pcap"
done
# one point: every reply prompt, 1 in 53 lost, 1 in 97 late by 3 s, both; 20 hosts, 1 ms apart
late_gen="${VMDELAY_ROOT:-.}/tests/e2e/lib/late_replies_pcap.py"
for shape in "0 0 0" "0 0 53" "97 3000 0" "97 3000 53"; do
	read -r every by lost <<<"$shape"
	python3 "$late_gen" "$tmp/one.pcap" 30000 20 1000 "$every" "$by" "$lost" || exit 1
	same "one point, late 1/$every by $by ms, lost 1/$lost" "$tmp/one.pcap"
	same_csv "one point, late 1/$every by $by ms, lost 1/$lost" "file pipe o" "$tmp/one.pcap"
	same "one point, late 1/$every by $by ms, lost 1/$lost, --rest 100" --rest 100 "$tmp/one.pcap"
done
same "one point, late and lost, --window 2ms" --window 2ms "$tmp/one.pcap"
same_csv "one point, late and lost, --window 2ms" file --window 2ms "$tmp/one.pcap"
# the same capture at two points (the second 50 ns later): the wait is per point
same "two points, late and lost" "$tmp/one.pcap" "$tmp/one.pcap"
# replies 12 s late (past the 10 s reply wait): the same probes and counts either way
python3 "$late_gen" "$tmp/one.pcap" 30000 20 1000 997 12000 53 || exit 1
"$AN" -q --json "$tmp/one.pcap" >"$tmp/s.json" || fail "replies past the wait: exit $?"
rm -rf "$tmp/plots"
"$AN" -q --json --plot "$tmp/plots" "$tmp/one.pcap" >"$tmp/k.json" || fail "replies past the wait, --plot: exit $?"
for key in probes pairs requests replies unmatched_requests unmatched_replies duplicates; do
	[ "$(json_num "$tmp/s.json" "$key")" = "$(json_num "$tmp/k.json" "$key")" ] ||
		fail "replies past the wait: $key $(json_num "$tmp/s.json" "$key") streamed, $(json_num "$tmp/k.json" "$key") after reading"
done
# the same file twice: the second point's rows carry the name made unique ("l0-2")
same_csv "one trace twice" file "$tmp/l0.pcap" "$tmp/l0.pcap"
grep -q '^l0-2,' "$tmp/s.csv" || fail "one trace twice: no row of l0-2"
# a point lost at the middle layer for a while: cut the second trace short
head -c 1000000 "$tmp/l1.pcap" >"$tmp/cut.pcap"
same "a trace cut short (damaged), -k (exit 1 both ways)" -k "$tmp/l0.pcap" "$tmp/cut.pcap" "$tmp/l2.pcap"
same_csv "a trace cut short (damaged), -k" "file pipe o" -k "$tmp/l0.pcap" "$tmp/cut.pcap" "$tmp/l2.pcap"
# without -k: the error alone, no row (the streamed rows taken back)
for sink in file pipe; do
	csv_to "$sink" "$tmp/s.csv" "$tmp/s.err" "$tmp/l0.pcap" "$tmp/cut.pcap"
	rs=$?
	[ "$rs" = 1 ] || fail "cut trace, --csv to $sink: exit $rs, not 1"
	[ ! -s "$tmp/s.csv" ] || fail "cut trace, --csv to $sink: rows written: $(head -c 200 "$tmp/s.csv")"
	grep -q 'truncated' "$tmp/s.err" || fail "cut trace, --csv to $sink: no error: $(cat "$tmp/s.err")"
done
# no temporary file for a pipe's rows ($TMPDIR missing): written after reading, as before
TMPDIR=/nonexistent same_csv "TMPDIR missing" pipe "$tmp/l0.pcap" "$tmp/l1.pcap"
# a file already holding bytes (>>): the rows taken back stop at them
echo "kept line" >"$tmp/app.csv"
"$AN" -q --csv "$tmp/l0.pcap" "$tmp/cut.pcap" >>"$tmp/app.csv" 2>/dev/null
[ "$(cat "$tmp/app.csv")" = "kept line" ] || fail "cut trace, --csv >> file: $(head -c 200 "$tmp/app.csv")"
((fails == 0)) || exit 1
echo "stream: the streamed reports and --csv rows equal those computed after reading"
