#!/usr/bin/env bash
# timeout: 300
# --pcapng-out FILE: the matched packets of every trace vantage point in one pcapng, read back
# with tshark: one interface per trace vantage point (named after it, outermost first), two
# packets (request, reply) per pair in time order, and each packet's comment (frame.comment)
# giving its layer, pair key, probe, RTT and the ΔRTT of the per-probe CSV report; the packets
# are the captures' own bytes.
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v tshark >/dev/null || { echo "no tshark (mk/debian-packages.txt)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
set -- wire:peer="$g/wire.pcap" bridge:host="$g/bridge.pcap" kernel:vm="$g/tping.csv#kernel"
"$AN" -q --pcapng-out "$tmp/out.pcapng" "$@" >/dev/null 2>"$tmp/err" || fail "--pcapng-out: exit $? ($(head -c 300 "$tmp/err"))"
"$AN" -q --csv "$@" >"$tmp/probes.csv" || fail "--csv: exit $?"
tshark -r "$tmp/out.pcapng" -T fields -E separator=/t -e frame.interface_name -e frame.comment \
	-e frame.time_epoch 2>/dev/null >"$tmp/got.tsv" || fail "tshark cannot read the pcapng"
# the comments the CSV rows say each packet must carry
awk -F, 'NR > 1 && ($1 == "wire" || $1 == "bridge") {
	layer = $1 == "wire" ? "outermost" : "wire>bridge"
	rtt = sprintf("%+.3f us", $7 / 1000)
	delta = $8 == "" ? "n/a" : sprintf("%+.3f us", $8 / 1000)
	for (k = 0; k < 2; k++)
		printf "%s\tlayer %s (vantage %s); pair %s %s > %s id %s seq %s, %s; probe %d; rtt %s; delta_rtt %s\n",
			$1, layer, $1, $2, $14, $15, $3, $4, k ? "reply" : "request", $11 + 1, rtt, delta
}' "$tmp/probes.csv" | sort >"$tmp/want"
cut -f1,2 "$tmp/got.tsv" | sort >"$tmp/have"
[ "$(wc -l <"$tmp/want")" = 160 ] || fail "expected 160 packets from the CSV, got $(wc -l <"$tmp/want")"
cmp -s "$tmp/want" "$tmp/have" || fail "comments differ from the CSV: $(diff "$tmp/want" "$tmp/have" | head -4)"
# in time order (raw capture times: the interfaces' own clocks)
awk -F'\t' 'NR > 1 && $3 < prev { bad = 1 } { prev = $3 } END { exit bad }' "$tmp/got.tsv" ||
	fail "packets are not in time order"
[ "$(tshark -r "$tmp/out.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | tr '\n' ' ')" = "bridge wire " ] ||
	fail "interfaces: want wire and bridge (tping rows have no packets)"
grep -q "delta_rtt +" "$tmp/got.tsv" || fail "no delta RTT in the bridge's comments"

# a real pcapng capture: the packets are the capture's own (bytes and ICMP fields)
if [ -d "$REAL" ]; then
	"$AN" -q --pcapng-out "$tmp/real.pcapng" "$REAL/icmp_echo.pcapng" >/dev/null 2>"$tmp/err" ||
		fail "icmp_echo.pcapng: exit $? ($(head -c 200 "$tmp/err"))"
	f='-T fields -e frame.len -e frame.cap_len -e icmp.type -e icmp.seq -e frame.time_epoch'
	tshark -r "$tmp/real.pcapng" $f 2>/dev/null >"$tmp/a"
	tshark -r "$REAL/icmp_echo.pcapng" -Y 'icmp.type == 0 or icmp.type == 8' $f 2>/dev/null >"$tmp/b"
	[ -s "$tmp/a" ] || fail "icmp_echo.pcapng: nothing written"
	cmp -s "$tmp/a" "$tmp/b" || fail "icmp_echo.pcapng: packets differ: $(diff "$tmp/a" "$tmp/b" | head -4)"
fi
# no trace among the vantage points: a clear error
"$AN" -q --pcapng-out "$tmp/x.pcapng" "$g/tping.csv" >/dev/null 2>"$tmp/err" && fail "tping only: should fail"
grep -q "no vantage point is a packet trace" "$tmp/err" || fail "tping only: $(head -c 200 "$tmp/err")"
"$AN" -q --pcapng-out /nonexistent/dir/x.pcapng "$g/wire.pcap" >/dev/null 2>"$tmp/err" && fail "unwritable: should fail"
grep -q "/nonexistent/dir/x.pcapng" "$tmp/err" || fail "unwritable: $(head -c 200 "$tmp/err")"
((fails == 0)) || exit 1
echo "pcapng-out: 160 commented packets match the CSV, real capture bytes kept, errors named"
