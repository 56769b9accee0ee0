#!/usr/bin/env bash
# timeout: 600
# Traces on several clock labels are really streamed, not read whole: what a user can check is
# the peak memory (GNU time's maximum resident set size). Four captures of the same 1.1 million
# probes (tests/bench/icmpgen.c, 2.2 million packets each, a packet every 100 µs: 220 s, many
# reply waits long), the inner two on another clock (2.5 s behind, 37 ppm fast), as a guest's
# beside its host's. Streamed, the analysis holds the probes of one reply wait, the fit's hulls
# and at most 2^20 probes' times (docs/methodology.md, "Memory"): its peak must stay under a
# third of the traces' size and under 256 MiB; with --rest 100 too (a third pass fits the clock
# from the 200 probes at rest, which it must have taken). Read whole (--align none, which the two passes
# do not take), it holds every request and pair of every point: the same bound must fail there,
# or this test could not tell the two apart. Release binaries: ASan's shadow and quarantine
# would hide what the analysis holds.
set -u
. "$(dirname "$0")/lib/analyze_lib.sh"
bin=${VMDELAY_RELEASE_BIN:-${VMDELAY_ROOT:-.}/build/release/bin}
an=$bin/vmdelay-analyze
[ -x "$an" ] || { echo "no release vmdelay-analyze in $bin (make VARIANT=release)" >&2; exit 77; }
[ -x /usr/bin/time ] || { echo "no /usr/bin/time (Debian package time)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1

packets=2200000
for k in 0 1; do
	"$tmp/icmpgen" "$packets" 50 rr "$k" 100000 >"$tmp/l$k.pcap" || exit 1
done
for k in 2 3; do
	"$tmp/icmpgen" "$packets" 50 rr "$k" 100000 -2500000000 37000 >"$tmp/l$k.pcap" || exit 1
done
specs=("w:host=$tmp/l0.pcap" "b:host=$tmp/l1.pcap" "k:vm=$tmp/l2.pcap" "u:vm=$tmp/l3.pcap")
bytes=$(cat "$tmp"/l?.pcap | wc -c)
bound_kb=$((bytes / 3 / 1024))
((bound_kb > 256 * 1024)) && bound_kb=$((256 * 1024))

# run_peak OUT ARGS...: runs the analysis, its --json into OUT, and sets peak to its peak RSS
# (KiB; 0 when it failed)
run_peak() {
	local out=$1
	shift
	peak=0
	if /usr/bin/time -o "$tmp/time" -f '%M' "$an" -q --json "$@" >"$out" 2>"$tmp/err"; then
		peak=$(tail -n 1 "$tmp/time")
	else
		fail "vmdelay-analyze $*: exit $?: $(head -c 300 "$tmp/err")"
	fi
}

run_peak "$tmp/s.json" "${specs[@]}"
streamed=$peak
grep -q '"probes": 1[0-9]\{6\}' "$tmp/s.json" ||
	fail "streamed: not a million probes: $(grep -o '"probes": [0-9]*' "$tmp/s.json" | head -n 1)"
[ "$(grep -c '"against"' "$tmp/s.json")" = 1 ] || fail "streamed: the vm clock was not fitted"
((streamed > 0 && streamed <= bound_kb)) ||
	fail "two clocks: peak RSS $((streamed / 1024)) MiB, over $((bound_kb / 1024)) MiB (a third of the $((bytes >> 20)) MiB of traces, at most 256): read whole, not streamed?"

# --rest N streams too (a third pass fits the clocks from the probes at rest)
run_peak "$tmp/r.json" --rest 100 "${specs[@]}"
((peak > 0 && peak <= bound_kb)) ||
	fail "two clocks, --rest 100: peak RSS $((peak / 1024)) MiB, over $((bound_kb / 1024)) MiB: read whole, not streamed?"
grep -q '"against": "b", "method": "hull", "n": 200,' "$tmp/r.json" || fail "--rest 100: the vm clock not fitted from the 200 probes at rest: $(grep -o '"against"[^}]*' "$tmp/r.json")"

run_peak "$tmp/w.json" --align none "${specs[@]}"
whole=$peak
((whole > bound_kb)) ||
	fail "read whole (--align none): peak RSS $((whole / 1024)) MiB, within the $((bound_kb / 1024)) MiB bound: the bound cannot tell streaming apart"

# --rest N takes the at-rest fits from the probes the summaries keep (up to 2^20) when the
# clocks' first pass saw no more at a point: here it saw a million at each fitted point, but a
# third point (on the reference clock) saw 10 % more probes, 1.1 million in all; past 2^20 the
# at-rest pass must run before the sketches take a value. The report must be the one computed
# after reading (--plot keeps every probe), within the memory bound.
rm -f "$tmp"/l?.pcap
"$tmp/icmpgen" 2000000 50 rr 0 100000 >"$tmp/m0.pcap" || exit 1
"$tmp/icmpgen" 2000000 50 rr 1 100000 -2500000000 37000 >"$tmp/m1.pcap" || exit 1
"$tmp/icmpgen" "$packets" 50 rr 2 100000 >"$tmp/m2.pcap" || exit 1
more=("w:host=$tmp/m0.pcap" "k:vm=$tmp/m1.pcap" "u:host=$tmp/m2.pcap")
run_peak "$tmp/m.json" --rest 100 "${more[@]}"
((peak > 0 && peak <= bound_kb)) ||
	fail "more probes than a fit's points saw, --rest 100: peak RSS $((peak / 1024)) MiB, over $((bound_kb / 1024)) MiB"
grep -q '"probes": 1[0-9]\{6\}' "$tmp/m.json" || fail "more probes than a fit's points saw: not 1.1 million probes"
"$an" -q --json --rest 100 --plot "$tmp/plots" "${more[@]}" >"$tmp/mk.json" 2>"$tmp/err" ||
	fail "more probes than a fit's points saw, read whole: exit $?"
cmp -s "$tmp/m.json" "$tmp/mk.json" ||
	fail "more probes than a fit's points saw, --rest 100: differs from reading whole: $(diff "$tmp/m.json" "$tmp/mk.json" | head -n 4)"

((fails == 0)) || exit 1
echo "two clocks stream: peak RSS $((streamed / 1024)) MiB for $((bytes >> 20)) MiB of traces (read whole: $((whole / 1024)) MiB)"
