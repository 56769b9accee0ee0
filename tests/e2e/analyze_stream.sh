#!/usr/bin/env bash
# timeout: 300
# The tables of several packet traces on one clock are computed while the traces are read side
# by side (docs/methodology.md, "Memory"); with a per-probe output (--plot) every probe is kept
# and they are computed after reading. Both must print the same report, byte for byte, on
# captures of the same probes at 1 to 4 layers (tests/bench/icmpgen.c), every host order it makes
# (round robin, bursts, random, seq wrap; one request in 1000 unanswered), a packet every 1 µs
# (the whole capture inside the 10 s window) and every 100 µs (many windows), with --rest and
# --window; and a damaged trace among them is reported as it always was.
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1

same() { # label args...: --json streamed and kept, text streamed and kept
	local label=$1
	shift
	local rs rk
	"$AN" -q --json "$@" >"$tmp/s.json" 2>"$tmp/s.err"
	rs=$?
	rm -rf "$tmp/plots"
	"$AN" -q --json --plot "$tmp/plots" "$@" >"$tmp/k.json" 2>"$tmp/k.err"
	rk=$?
	[ "$rs" = "$rk" ] || fail "$label: exit $rs, with --plot $rk: $(head -c 200 "$tmp/s.err")"
	cmp -s "$tmp/s.json" "$tmp/k.json" || fail "$label: --json differs: $(diff "$tmp/s.json" "$tmp/k.json" | head -n 4)"
	cmp -s "$tmp/s.err" "$tmp/k.err" || fail "$label: stderr differs"
	grep -q '"probes": [1-9]' "$tmp/s.json" || fail "$label: no probe matched"
	"$AN" -q "$@" >"$tmp/s.txt" 2>/dev/null
	rm -rf "$tmp/plots"
	"$AN" -q --plot "$tmp/plots" "$@" >"$tmp/k.txt" 2>/dev/null
	cmp -s "$tmp/s.txt" "$tmp/k.txt" || fail "$label: text differs"
}

for gap in 1000 100000; do
	for order in rr burst random wrap; do
		for k in 0 1 2 3; do
			"$tmp/icmpgen" 60000 50 "$order" "$k" "$gap" >"$tmp/l$k.pcap" || exit 1
		done
		same "$order gap $gap, 1 point" "$tmp/l0.pcap"
		same "$order gap $gap, 4 points" "w=$tmp/l0.pcap" "b=$tmp/l1.pcap" "k=$tmp/l2.pcap" "u=$tmp/l3.pcap"
	done
	same "gap $gap, --rest 100" --rest 100 "$tmp/l0.pcap" "$tmp/l2.pcap" "$tmp/l3.pcap"
	same "gap $gap, --window 2ms" --window 2ms "$tmp/l0.pcap" "$tmp/l1.pcap"
done
# a point lost at the middle layer for a while: cut the second trace short
head -c 1000000 "$tmp/l1.pcap" >"$tmp/cut.pcap"
same "a trace cut short (damaged), -k (exit 1 both ways)" -k "$tmp/l0.pcap" "$tmp/cut.pcap" "$tmp/l2.pcap"
((fails == 0)) || exit 1
echo "stream: the streamed reports equal those computed after reading"
