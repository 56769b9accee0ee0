#!/usr/bin/env bash
# timeout: 300
# The overlay testbed (testbeds/netns/overlay.sh): a guest namespace behind a real Linux VXLAN
# device pings across the overlay; the uplink capture holds the pings inside VXLAN. Every probe
# must be matched at all three vantage points (uplink, VXLAN device, guest interface), the
# encapsulation hop must be a layer of its own (wire -> vxlan) with a delta per probe, the
# uplink's notes must name the tunnel, and tshark must agree on the uplink's pairs and RTTs.
# Without decapsulation (--outer) the uplink holds no echo at all. Skips without root or VXLAN.
. "$(dirname "$0")/lib/analyze_lib.sh"
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=100
"$root/testbeds/netns/overlay.sh" -c $n -o "$tmp" >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
[ $rc = 77 ] && { tail -1 "$tmp/run.err" >&2; exit 77; }
[ $rc = 0 ] || { cat "$tmp/run.err" >&2; exit 1; }
grep -q "^vmdelay-analyze wire=" "$tmp/run.out" || fail "overlay.sh did not print the analyze command"
vps=("wire=$tmp/wire.pcap" "vxlan=$tmp/vxlan.pcap" "guest=$tmp/guest.pcap")

"$AN" -q --json "${vps[@]}" >"$tmp/a.json" || fail "analyze exit $?"
grep -q "\"probes\": $n," "$tmp/a.json" || fail "not $n probes: $(grep -m1 '"probes"' "$tmp/a.json")"
for v in wire vxlan guest; do
	grep -q "\"name\": \"$v\".*\"pairs\": $n, \"probes\": $n, \"unmatched_requests\": 0, \"unmatched_replies\": 0" "$tmp/a.json" ||
		fail "$v did not match every probe"
done
grep -q '"name": "wire".*"notes": "tunnels: vxlan vni=42: [0-9]* frames"' "$tmp/a.json" || fail "wire: no VXLAN summary"
grep -q '"name": "guest".*"notes": null' "$tmp/a.json" || fail "guest: tunnels where there are none"
# the encapsulation hop is its own layer: one delta per probe between wire and vxlan
"$AN" -q --csv "${vps[@]}" >"$tmp/a.csv"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["vantage"] == "vxlan" && $c["delta_ns"] != "" { n++; if ($c["delta_ns"] < 0) neg++ }
	END { exit (n == '$n' && !neg) ? 0 : 1 }' "$tmp/a.csv" || fail "layer wire->vxlan: not $n non-negative deltas"
"$AN" -q "${vps[@]}" | grep -E '^(layer|vxlan|guest|total) ' >&2
# decapsulation is what finds them: on the outer headers the uplink has no echo
"$AN" -q --outer "wire=$tmp/wire.pcap" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo" "$tmp/err" || fail "--outer: the uplink should hold no echo"
"$AN" -q --json --tunnel vni=42 "wire=$tmp/wire.pcap" >"$tmp/t.json" && grep -q "\"pairs\": $n," "$tmp/t.json" ||
	fail "--tunnel vni=42: not $n pairs"
# tshark (when installed) agrees on the real VXLAN capture
if command -v tshark >/dev/null && command -v python3 >/dev/null; then
	"$AN" -q --csv "$tmp/wire.pcap" >"$tmp/w.csv" 2>/dev/null
	: >"$tmp/w.json"
	python3 "$(dirname "$0")/lib/tshark_oracle.py" "$tmp/wire.pcap" "$tmp/w.csv" "$tmp/w.json" ||
		fail "tshark disagrees on the uplink capture"
fi
echo "$fails failures"
[ "$fails" -eq 0 ]
