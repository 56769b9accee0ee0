#!/usr/bin/env bash
# timeout: 300
# vmdelay-analyze through tunnels, on captures crafted by lib/gen_tunnels.py: the summary of the
# tunnels in the notes and JSON, --tunnel picking one VNI, --outer matching on the outer headers,
# bogus IP lengths reported and not counted as data, and damaged tunnels (a UDP length past its
# packet, 9 tunnels nested): a message naming the file and the frame, exit 1, and with
# --keep-going the pairs found before the damage.
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed (make deps)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$(dirname "$0")/lib/gen_tunnels.py" "$tmp" || fail "generator failed"

# Every tunnel: 8 pairs (5 IPv4, 3 IPv6) and its summary.
for t in vxlan:'vxlan vni=42' vxlan8472:'vxlan vni=44' geneve:'geneve vni=1193046' gre:'gre key=7' \
	gre_in_gre:'gre key=1000 / gre key=7' erspan1:'erspan1' erspan2:'erspan2 session=5' \
	erspan3:'erspan3 session=9' ipip4:'ipip' ipip6:'ipip' gtpu:'gtpu teid=16' gre_teb_mpls:'gre key=9'; do
	name=${t%%:*} chain=${t#*:}
	"$AN" -q "$tmp/$name.pcap" >"$tmp/out.txt" 2>&1 || fail "$name: exit $?"
	grep -q "^note: $name: tunnels: $chain: 65 frames$" "$tmp/out.txt" || fail "$name: no note '$chain: 65 frames'"
	"$AN" -q --json "$tmp/$name.pcap" >"$tmp/out.json" 2>/dev/null
	[ "$(json_num "$tmp/out.json" pairs)" = 8 ] || fail "$name: $(json_num "$tmp/out.json" pairs) pairs, want 8"
done
"$AN" -q --json "$tmp/gtpu.pcap" >"$tmp/out.json" 2>/dev/null
grep -q '"tunnels": \[{"layers": \[{"kind": "gtpu", "id": 16}\], "frames": 65}\], "bad_ip_len": 0' "$tmp/out.json" ||
	fail "gtpu: JSON tunnels"

# Two tenants' VNIs: 16 pairs together, 8 with --tunnel (the notes still list every tunnel seen).
"$AN" -q --json "$tmp/two_vnis.pcap" >"$tmp/both.json"
[ "$(json_num "$tmp/both.json" pairs)" = 16 ] || fail "two_vnis: not 16 pairs"
"$AN" -q --json --tunnel vni=43 "$tmp/two_vnis.pcap" >"$tmp/one.json"
[ "$(json_num "$tmp/one.json" pairs)" = 8 ] || fail "--tunnel vni=43: not 8 pairs"
grep -q '"notes": "tunnels: vxlan vni=42: 65 frames; vxlan vni=43: 65 frames"' "$tmp/one.json" || fail "--tunnel vni=43: notes"
"$AN" tcp --json --tunnel vni=42 "$tmp/two_vnis.pcap" >"$tmp/tcp.json" 2>/dev/null
[ "$(grep -c '"type":"flow"' "$tmp/tcp.json")" = 1 ] || fail "tcp --tunnel vni=42: not one flow"
grep -q '"flow":"10.1.0.1:40000>10.1.0.2:5001"' "$tmp/tcp.json" || fail "tcp --tunnel vni=42: wrong flow"
"$AN" -q --tunnel key=42 "$tmp/two_vnis.pcap" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo" "$tmp/err" || fail "--tunnel key=42 (a VNI is not a key): not exit 1"
"$AN" -q --tunnel vni=x "$tmp/two_vnis.pcap" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "'vni=x' is not vni=N" "$tmp/err" || fail "--tunnel vni=x: not a usage error"
"$AN" tcp --tunnel bogus "$tmp/two_vnis.pcap" >/dev/null 2>&1
[ $? = 2 ] || fail "tcp --tunnel bogus: not a usage error"

# --outer: the outer headers are VXLAN's UDP, no echo there; IP in IP's outer header neither.
"$AN" -q --outer "$tmp/vxlan.pcap" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no ICMP echo requests or replies (65 packets read" "$tmp/err" || fail "--outer vxlan: not exit 1"
"$AN" tcp --outer "$tmp/vxlan.pcap" >/dev/null 2>"$tmp/err"
grep -q "no TCP packets (65 packets: 65 other protocols" "$tmp/err" || fail "tcp --outer: TCP found in the outer headers"

# Bogus IP lengths: reported, the ACKs stay ACKs and the data sender does not flip.
"$AN" -q "$tmp/bogus_iplen.pcap" 2>&1 | grep -q "^note: bogus_iplen: bad IP length (more than the frame's original length): 16 frames" ||
	fail "bogus_iplen: no bad IP length note"
"$AN" tcp --json "$tmp/bogus_iplen.pcap" >"$tmp/bogus.json" 2>/dev/null
grep -q '"data_sender":"10.1.0.1:40000".*"data_bytes":30,.*"acks":15,' "$tmp/bogus.json" || fail "bogus_iplen: data sender or ACKs"
grep -q '"bad_ip_len":16' "$tmp/bogus.json" || fail "bogus_iplen: tcp bad_ip_len"

# Damaged tunnels: file and frame named, exit 1; --keep-going keeps the 5 pairs before.
for bad in bad_udp_len:'frame 11 (offset 1424): UDP length 4000 to port 4789' too_deep:'frame 11 (offset 1424): more than 8 tunnels nested'; do
	name=${bad%%:*} msg=${bad#*:}
	"$AN" -q "$tmp/$name.pcap" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 1 ] || fail "$name: exit $rc, want 1"
	grep -qF "$tmp/$name.pcap: $msg" "$tmp/err" || fail "$name: message '$(cat "$tmp/err")'"
	"$AN" -q -k --json "$tmp/$name.pcap" >"$tmp/k.json" 2>/dev/null
	rc=$?
	[ $rc = 1 ] || fail "$name -k: exit $rc, want 1"
	[ "$(json_num "$tmp/k.json" pairs)" = 5 ] || fail "$name -k: pairs before the damage not kept"
	"$AN" tcp "$tmp/$name.pcap" >/dev/null 2>"$tmp/err"
	rc=$?
	grep -qF "$msg" "$tmp/err" || fail "tcp $name: no message naming the frame"
done
echo "$fails failures"
[ "$fails" -eq 0 ]
