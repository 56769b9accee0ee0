#!/usr/bin/env bash
# timeout: 300
# A zstd capture cut short (real captures compressed by the zstd CLI, cut with head -c inside the
# first block and inside a later one) is a truncated input like a cut gzip or pcap file: exit 1
# with and without --keep-going, a message naming the file and saying it is truncated, and every
# packet zstd can decode before the cut analyzed -- the same packets as the prefix `zstd -d`
# itself recovers from the cut file (none when the cut is inside the first block: zstd decodes
# only whole blocks of up to 128 KiB).
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
for c in gzip zstd; do command -v $c >/dev/null || { echo "needs $c" >&2; exit 77; }; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# records FILE: the packets vmdelay-analyze -k read from FILE (empty when none)
records() { "$AN" -q -k --json "$1" 2>/dev/null | grep -o '"records": [0-9]*' | sed 's/.*: //'; }

first=0 later=0
for name in vlan.pcap viber.pcap fragtest.erf 100_packets.pcapng; do
	zstd -q -c "$REAL/$name" >"$tmp/full.zst"
	size=$(stat -c %s "$tmp/full.zst")
	for cut in 1000 $((size - 100)); do
		z="$tmp/$name.$cut.zst"
		head -c "$cut" "$tmp/full.zst" >"$z"
		zstd -q -d -c <"$z" >"$tmp/prefix" 2>/dev/null
		p=$(stat -c %s "$tmp/prefix")
		if [ "$p" = 0 ]; then first=$((first + 1)); else later=$((later + 1)); fi
		what="$name cut at $cut of $size compressed bytes (zstd -d gives $p bytes)"

		"$AN" -q "$z" >/dev/null 2>"$tmp/err"
		rc=$?
		[ "$rc" = 1 ] || fail "$what: exit $rc, not 1"
		grep -q "^vmdelay-analyze: $z: frame [0-9]* (offset $p of the decompressed data): zstd data cut short after $cut compressed bytes: the file is truncated (.*nothing after decompressed byte $p can be read)$" "$tmp/err" ||
			fail "$what: message: $(cat "$tmp/err")"
		"$AN" -q -k "$z" >/dev/null 2>&1
		rc=$?
		[ "$rc" = 1 ] || fail "$what: --keep-going exit $rc, not 1"
		[ "$(records "$z")" = "$(records "$tmp/prefix")" ] ||
			fail "$what: $(records "$z") packets read, zstd -d's prefix holds $(records "$tmp/prefix")"

		# the same cut of a gzip file and the prefix as a plain truncated file: exit 1 too
		gzip -c "$REAL/$name" | head -c "$cut" >"$tmp/cut.gz"
		"$AN" -q -k "$tmp/cut.gz" >/dev/null 2>&1
		rc=$?
		[ "$rc" = 1 ] || fail "$name.gz cut at $cut: exit $rc"
		if [ "$p" != 0 ]; then
			"$AN" -q -k "$tmp/prefix" >/dev/null 2>&1
			rc=$?
			[ "$rc" = 1 ] || fail "$what: the prefix file gives exit $rc"
		fi
	done
done
# both kinds of cut were met (the captures span one to seven 128 KiB blocks)
[ "$first" -ge 4 ] && [ "$later" -ge 3 ] || fail "cuts: $first inside the first block, $later later"
echo "$first cuts inside the first block, $later later, $fails failures"
[ "$fails" -eq 0 ]
