#!/usr/bin/env bash
# timeout: 600
# tcpmon record files stream (docs/methodology.md, "Memory"; lib/input/tcm_pull.h): a file is
# split into the levels reading whole gives (dev, ip-route, ...; or the ones #SELECT names), all
# fed by one reading in time order through a bounded merge of per-CPU runs although tcpmon writes
# its records in per-CPU batches, after its calibration pairs were read from the end of the
# file. The report must be the one computed after reading (--plot), byte for byte (text, JSON,
# CSV; named and not; one level, two, a layer's name; beside a second file; two clocks; stable
# and unstable TSC, IPv6); a file in which tcpmon lost records, and one more out of order than
# the merge holds (each CPU's records in one block), are read whole with the same report; damage
# gives reading whole's message and exit. Peak RSS (release build): streaming a file 4 times
# longer stays below reading the shorter one whole, and grows by less than a quarter of what
# reading whole grows by.
. "$(dirname "$0")/lib/analyze_lib.sh"
root="${VMDELAY_ROOT:-.}"
bin=${VMDELAY_RELEASE_BIN:-$root/build/release/bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build_gen_tcm "$tmp/gen"

"$tmp/gen" "$tmp/b.tcm" 3000 batch=100 >/dev/null || exit 1
"$tmp/gen" "$tmp/u.tcm" 500 unstable batch=30 >/dev/null || exit 1
"$tmp/gen" "$tmp/v6.tcm" 500 ipv6 >/dev/null || exit 1
"$tmp/gen" "$tmp/lost.tcm" 500 lose=200 batch=30 >/dev/null || exit 1
probes_as_read "batches" "$tmp/b.tcm"
probes_as_read "batches named, clock" "g:vm=$tmp/b.tcm"
probes_as_read "#dev" "g=$tmp/b.tcm#dev"
probes_as_read "#dev,trans" "g=$tmp/b.tcm#dev,trans"
probes_as_read "#ip-local-in (a layer)" "$tmp/b.tcm#ip-local-in"
probes_as_read "two files" "a=$tmp/b.tcm#dev" "b=$tmp/u.tcm#trans-tx"
probes_as_read "two clocks (fitted in a first pass)" "a:vm=$tmp/b.tcm#dev" "b:host=$tmp/b.tcm#trans"
probes_as_read "--rest 20" --rest 20 "g=$tmp/b.tcm"
probes_as_read "unstable TSC" "g=$tmp/u.tcm"
probes_as_read "IPv6, CPU by CPU" "g=$tmp/v6.tcm"
probes_as_read "records lost by tcpmon" "g=$tmp/lost.tcm"
probes_as_read "records lost by tcpmon, #dev" "g=$tmp/lost.tcm#dev"
"$AN" -q "g=$tmp/lost.tcm" 2>/dev/null | grep -q "records lost by tcpmon" || fail "lost records: no note"
# 70,000 probes, each CPU's records in one block: a level's 70,000 transmit events come before
# its first receive event, more than the 65,536 the merge holds: read whole, the same report
"$tmp/gen" "$tmp/far.tcm" 70000 >/dev/null || exit 1
probes_as_read "more out of order than the merge" "g=$tmp/far.tcm#dev"
# damage: as reading whole says it
head -c 100000 "$tmp/b.tcm" >"$tmp/cut.tcm"
same_as_read "truncated" "g=$tmp/cut.tcm"
grep -q "cut.tcm: offset" "$tmp/s.err" || fail "truncated: $(cat "$tmp/s.err")"
same_as_read "a level without records" "g=$tmp/b.tcm#sock-copy,dev"

# memory: 60,000 and 240,000 probes (67 and 269 MB), streamed and read whole (#*)
"$tmp/gen" "$tmp/m1.tcm" 60000 batch=400 >/dev/null || exit 1
"$tmp/gen" "$tmp/m4.tcm" 240000 batch=400 >/dev/null || exit 1
rss() { # file[#sel]: peak RSS in KiB of the JSON report, which is kept in $tmp/rss.json
	/usr/bin/time -f %M -o "$tmp/rss" "$bin/vmdelay-analyze" -q --json "g=$1" >"$tmp/rss.json" ||
		fail "$1: exit $?"
	cat "$tmp/rss"
}
s1=$(rss "$tmp/m1.tcm")
cp "$tmp/rss.json" "$tmp/s1.json"
w1=$(rss "$tmp/m1.tcm#*")
cmp -s "$tmp/rss.json" "$tmp/s1.json" || fail "60,000 probes: streamed and whole reports differ"
s4=$(rss "$tmp/m4.tcm")
cp "$tmp/rss.json" "$tmp/s4.json"
w4=$(rss "$tmp/m4.tcm#*")
cmp -s "$tmp/rss.json" "$tmp/s4.json" || fail "240,000 probes: streamed and whole reports differ"
echo "peak RSS KiB: streamed $s1 -> $s4, read whole $w1 -> $w4 (60,000 -> 240,000 probes)" >&2
((s4 < w1)) || fail "streaming 4x the probes ($s4 KiB) is not below reading 1x whole ($w1 KiB)"
((4 * (s4 - s1) < w4 - w1)) || fail "streamed RSS grew by $((s4 - s1)) KiB, reading whole by $((w4 - w1)) KiB"
((fails == 0)) || exit 1
echo "tcpmon stream: the streamed reports equal those computed after reading, in bounded memory"
