#!/usr/bin/env bash
# timeout: 300
# -f EXPR with --tunnel / --outer on VXLAN captures crafted by lib/gen_tunnels.py: the pcap
# filter sees the outer frame (as libpcap does: `icmp` keeps nothing of a VXLAN capture, the
# outer UDP source port picks one tenant), the decoding options then apply to what passed
# (--tunnel intersects, --outer finds no echo in the outer headers), and --pcapng-out copies
# exactly the frames of the pairs the analysis kept.
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$(dirname "$0")/lib/gen_tunnels.py" "$tmp" || { echo "generator failed" >&2; exit 1; }
two="$tmp/two_vnis.pcap" # VNI 42 from outer UDP port 49194, VNI 43 from 49195; 8 pairs each

pairs() { # args...: the pair count of the JSON report, "" when it fails
	"$AN" -q --json "$@" 2>"$tmp/err" | grep -o '"pairs": [0-9]*' | head -n 1 | sed 's/.*: //'
}
sanitizer() { ! grep -q 'AddressSanitizer\|runtime error' "$tmp/err" || fail "$1: sanitizer report"; }

# the filter sees the outer headers: the outer UDP port keeps every frame, `icmp` none
[ "$(pairs -f "udp port 4789" "$two")" = 16 ] || fail "-f 'udp port 4789': not the 16 pairs of both VNIs"
"$AN" -q -f icmp "$two" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo" "$tmp/err" ||
	fail "-f icmp on VXLAN: the filter should see the outer UDP frame and keep nothing"
sanitizer "-f icmp"

# one tenant by its outer source port: the same pairs and RTTs as --tunnel on its VNI
"$AN" -q --json -f "udp src port 49195" "$two" >"$tmp/f.json" 2>"$tmp/err" || fail "-f port 49195: exit $?"
"$AN" -q --json --tunnel vni=43 "$two" >"$tmp/t.json" 2>"$tmp/err" || fail "--tunnel vni=43: exit $?"
[ "$(json_num "$tmp/f.json" pairs)" = 8 ] || fail "-f port 49195: not 8 pairs"
rtts() { grep "\"phase\": \"all\"" "$1"; }
[ -n "$(rtts "$tmp/f.json")" ] || fail "no RTT statistics in the JSON report"
cmp -s <(rtts "$tmp/f.json") <(rtts "$tmp/t.json") || fail "-f port 49195 and --tunnel vni=43: other RTTs"
# the notes count the tunnels of the frames that passed the filter
grep -q '"notes": "tunnels: vxlan vni=43: 65 frames"' "$tmp/f.json" || fail "-f port 49195: notes"

# both: --tunnel applies to what the filter kept
[ "$(pairs -f "udp src port 49195" --tunnel vni=43 "$two")" = 8 ] || fail "-f port 49195 --tunnel vni=43: not 8 pairs"
"$AN" -q -f "udp src port 49195" --tunnel vni=42 "$two" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo" "$tmp/err" || fail "-f port 49195 --tunnel vni=42: should keep nothing"
sanitizer "-f --tunnel"
# --outer: the filter keeps the VXLAN frames, whose outer headers hold no echo
"$AN" -q --outer -f "udp port 4789" "$tmp/vxlan.pcap" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo requests or replies (65 packets read" "$tmp/err" ||
	fail "--outer -f 'udp port 4789': $(head -c 200 "$tmp/err")"
# libpcap's own geneve keyword looks inside Geneve: its 5 IPv4 pairs
[ "$(pairs -f "geneve and icmp" "$tmp/geneve.pcap")" = 5 ] || fail "-f 'geneve and icmp': not the 5 IPv4 pairs"

# tcp: one tenant's flow by the outer port, none when --tunnel names the other VNI
"$AN" tcp --json -f "udp src port 49194" "$two" >"$tmp/tcp.json" 2>"$tmp/err" || fail "tcp -f port 49194: exit $?"
[ "$(grep -c '"type":"flow"' "$tmp/tcp.json")" = 1 ] && grep -q '"flow":"10.1.0.1:40000>10.1.0.2:5001"' "$tmp/tcp.json" ||
	fail "tcp -f port 49194: not VNI 42's one flow"
"$AN" tcp --json -f "udp src port 49194" --tunnel vni=43 "$two" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no TCP flow" "$tmp/err" || fail "tcp -f port 49194 --tunnel vni=43: should find no flow"
sanitizer "tcp -f --tunnel"

# --pcapng-out with -f and --tunnel: the 16 outer frames of VNI 43's pairs, commented with their
# inner addresses
if command -v tshark >/dev/null; then
	"$AN" -q -f udp --tunnel vni=43 --pcapng-out "$tmp/out.pcapng" "$two" >/dev/null 2>"$tmp/err" ||
		fail "--pcapng-out: exit $?"
	tshark -r "$tmp/out.pcapng" -T fields -e udp.srcport -e vxlan.vni -e frame.comment \
		>"$tmp/out.txt" 2>/dev/null || fail "tshark cannot read the --pcapng-out file"
	[ "$(wc -l <"$tmp/out.txt")" = 16 ] || fail "--pcapng-out: $(wc -l <"$tmp/out.txt") frames, want 16"
	[ "$(grep -c "^49195	43	" "$tmp/out.txt")" = 16 ] || fail "--pcapng-out: a frame not from VNI 43"
	grep -q "pair icmpv4 10.1.0.1 > 10.1.0.2 id 256 seq 1, request" "$tmp/out.txt" ||
		fail "--pcapng-out: comments without the inner addresses"
else
	echo "note: no tshark, --pcapng-out not checked" >&2
fi
((fails == 0)) || exit 1
echo "filter+tunnel: -f sees the outer frame, --tunnel/--outer apply to what it kept, --pcapng-out follows"
