#!/usr/bin/env bash
# timeout: 300
# Compressed captures: every shared real capture with ICMP echo, gzipped and zstd-compressed, gives
# the same pairs and RTTs as the plain file; a TCP capture the same flows; gzip data is not
# taken for ERF any more; a cut stream, corrupt data and a decompression bomb fail with a message
# naming the file and the frame, exit 1, and --keep-going keeps the pairs found before.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
for c in gzip zstd; do command -v $c >/dev/null || { echo "needs $c" >&2; exit 77; }; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for exp in "$REAL"/expected/*.txt; do
	name=$(basename "$exp" .txt)
	[ -f "$REAL/$name" ] || continue
	"$AN" -q --csv "$REAL/$name" | cut -d, -f2- >"$tmp/plain.csv" 2>/dev/null
	gzip -c "$REAL/$name" >"$tmp/$name.gz"
	zstd -q -c "$REAL/$name" >"$tmp/$name.zst"
	for z in gz zst; do
		"$AN" -q --csv "$tmp/$name.$z" 2>"$tmp/err" | cut -d, -f2- >"$tmp/z.csv"
		cmp -s "$tmp/plain.csv" "$tmp/z.csv" || fail "$name.$z: pairs differ from the plain file ($(cat "$tmp/err"))"
	done
	n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n captures compared"
"$AN" -q "$tmp/5-pings.pcap.gz" | grep -q "^note: 5-pings.pcap: gzip-compressed$" || fail "no gzip note"

# TCP: the same flows from the zstd file
f="$REAL/irc-dcc-send.pcapng"
"$AN" tcp --json "$f" 2>/dev/null | grep '"type":"flow"' | sed 's/"vantage":"[^"]*",//' >"$tmp/tcp.plain"
zstd -q -c "$f" >"$tmp/irc.zst"
"$AN" tcp --json "$tmp/irc.zst" 2>/dev/null | grep '"type":"flow"' | sed 's/"vantage":"[^"]*",//' >"$tmp/tcp.z"
[ -s "$tmp/tcp.plain" ] && cmp -s "$tmp/tcp.plain" "$tmp/tcp.z" || fail "irc-dcc-send.pcapng.zst: TCP flows differ"

# gzip of an ERF file is read as ERF (it used to pass the ERF check as gzip and fail)
gzip -c "$REAL/fragtest.erf" >"$tmp/frag.gz"
"$AN" -q --json "$tmp/frag.gz" | grep -q '"format": "erf".*"pairs": 4,' || fail "fragtest.erf.gz: not read as ERF with 4 pairs"
echo "plain text, no capture" | gzip >"$tmp/text.gz"
"$AN" -q "$tmp/text.gz" 2>"$tmp/err"
[ $? = 1 ] && grep -q "text.gz: not a pcap, pcapng or ERF file inside its gzip" "$tmp/err" || fail "gzipped text: $(cat "$tmp/err")"

# cut short: the frame named, exit 1, the pairs before kept with -k
gzip -c "$REAL/vlan.pcap" | head -c 10000 >"$tmp/cut.gz"
"$AN" -q "$tmp/cut.gz" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "cut.gz: frame [0-9]* (offset [0-9]* of the decompressed data): gzip data cut short after 10000 compressed bytes" "$tmp/err" ||
	fail "cut gzip: $(cat "$tmp/err")"
"$AN" -q -k --json "$tmp/cut.gz" >"$tmp/k.json" 2>/dev/null
[ $? = 1 ] && [ "$(json_num "$tmp/k.json" pairs)" -ge 1 ] || fail "cut gzip -k: pairs before the cut not kept"
zstd -q -c "$REAL/vlan.pcap" | head -c 20000 >"$tmp/cut.zst"
"$AN" -q "$tmp/cut.zst" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "cut.zst: frame [0-9]* (offset [0-9]* of the decompressed data): zstd data cut short" "$tmp/err" ||
	fail "cut zstd: $(cat "$tmp/err")"
# a bomb: a pcap header and 200 MiB of zeros (empty records), a few kilobytes of zstd
{ head -c 24 "$REAL/5-pings.pcap"; head -c $((200 << 20)) /dev/zero; } | zstd -q -19 -c >"$tmp/bomb.zst"
"$AN" -q "$tmp/bomb.zst" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "bomb.zst: frame [0-9]* (offset [0-9]* of the decompressed data): decompression bomb" "$tmp/err" ||
	fail "bomb: $(cat "$tmp/err")"
# and a gzip one (deflate packs zeros about 1030 to 1)
{ head -c 24 "$REAL/5-pings.pcap"; head -c $((300 << 20)) /dev/zero; } | gzip -9 >"$tmp/bomb.gz"
"$AN" -q "$tmp/bomb.gz" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "bomb.gz: frame [0-9]* (offset [0-9]* of the decompressed data): decompression bomb" "$tmp/err" ||
	fail "gzip bomb: $(cat "$tmp/err")"
echo "$n captures compared, $fails failures"
[ "$fails" -eq 0 ]
