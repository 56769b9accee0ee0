#!/usr/bin/env bash
# timeout: 300
# -f EXPR (pcap-filter) at every vantage point: on real captures, the delay analysis and the tcp
# command with -f report exactly what they report on the packets tcpdump -r FILE -w OUT EXPR
# keeps (same pairs, RTTs, flows); ERF (which Debian's tcpdump cannot read) the same as the
# pcap of the same packets; a bad expression is a usage error naming it.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
command -v tcpdump >/dev/null || { echo "no tcpdump" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the fields that name the file or count every record read, filtered or not
strip() { sed -E 's/"(path|file|format|records)": ?("[^"]*"|[0-9]+)//g' "$1"; }

same() { # label cmd_filtered... -- cmd_reference...
	local label=$1
	shift
	local a=() b=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	"$AN" "${a[@]}" >"$tmp/a" 2>"$tmp/a.err"
	local ra=$?
	"$AN" "${b[@]}" >"$tmp/b" 2>"$tmp/b.err"
	local rb=$?
	[ "$ra" = "$rb" ] || { fail "$label: exit $ra with -f, $rb on tcpdump's packets ($(head -c 200 "$tmp/a.err"))"; return; }
	grep -q 'AddressSanitizer\|runtime error' "$tmp/a.err" && fail "$label: sanitizer report"
	cmp -s <(strip "$tmp/a") <(strip "$tmp/b") ||
		fail "$label: -f differs from tcpdump's selection: $(diff <(strip "$tmp/a") <(strip "$tmp/b") | head -5)"
}

n=0
while read -r file expr; do
	[ -n "$file" ] || continue
	# nanosecond pcap, so that no time is rounded
	tcpdump --time-stamp-precision=nano -r "$REAL/$file" -w "$tmp/ref.pcap" "$expr" 2>/dev/null ||
		{ fail "tcpdump $file '$expr'"; continue; }
	same "$file '$expr'" -q --json -f "$expr" v="$REAL/$file" -- -q --json v="$tmp/ref.pcap"
	same "tcp $file '$expr'" tcp --json -f "$expr" v="$REAL/$file" -- tcp --json v="$tmp/ref.pcap"
	n=$((n + 1))
done <<'LIST'
dns_icmp.pcap icmp
dns_icmp.pcap icmp[icmptype] == icmp-echo or udp
icmp_echo.pcapng icmp and host 192.168.0.1
echoAndEchoReply.pcap not icmp[icmptype] == icmp-echoreply
icmp6-ping.pcap icmp6
icmp_dot1q.pcap vlan
5-pings.pcap icmp and len > 90
100_packets.pcap tcp port 80
100_packets.pcapng tcp and not port 80
irc-dcc-send.pcapng tcp[tcpflags] & tcp-push != 0
tcp-handshake-nano.pcap tcp[tcpflags] & tcp-syn != 0
pcapng-multi-interface.pcapng ip
LIST

# ERF: the 100 packets of the pcap (with other times and anonymized ports): as many packets
# and flows pass, with the same data packets and bytes
flows() { grep -o '"type":"flow"\|"data_pkts":[0-9]*\|"data_bytes":[0-9]*\|"packets":[0-9]*' "$1"; }
for expr in "tcp port 80" "tcp and not port 80" "tcp[tcpflags] & tcp-syn != 0"; do
	"$AN" tcp --json -f "$expr" v="$REAL/100_packets.erf" >"$tmp/a" 2>&1 || fail "erf '$expr': exit $?"
	"$AN" tcp --json -f "$expr" v="$REAL/100_packets.pcap" >"$tmp/b" 2>&1 || fail "pcap '$expr': exit $?"
	[ -n "$(flows "$tmp/a")" ] || fail "erf '$expr': no flow"
	cmp -s <(flows "$tmp/a") <(flows "$tmp/b") || fail "erf '$expr' differs from the pcap: $(diff <(flows "$tmp/a") <(flows "$tmp/b") | head -4)"
done

# nothing passes: the same "no ICMP echo" error as a file without any
"$AN" -q -f "udp port 9" "$REAL/5-pings.pcap" >/dev/null 2>"$tmp/err" && fail "a filter that drops every echo should fail"
grep -q "no ICMP echo" "$tmp/err" || fail "empty selection: $(head -c 200 "$tmp/err")"
for cmd in "" tcp; do
	"$AN" $cmd -f "tcp and and port" "$REAL/5-pings.pcap" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" = 2 ] || fail "bad expression ($cmd): exit $rc, want 2"
	grep -q "tcp and and port" "$tmp/err" || fail "bad expression ($cmd): message lacks it: $(head -c 200 "$tmp/err")"
done
((fails == 0)) || exit 1
echo "filter: $n captures x 2 commands match tcpdump's selection; ERF as pcap; bad expressions exit 2"
