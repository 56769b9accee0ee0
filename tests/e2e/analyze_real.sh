#!/usr/bin/env bash
# timeout: 300
# vmdelay-analyze on the shared real captures with ICMP echo: every pair and RTT equal to what
# tshark gives in expected/ (frame numbers, id, seq, RTT to the microsecond) and the same counts
# of requests, replies, unanswered requests and unmatched replies.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checked=0
for exp in "$REAL"/expected/*.txt; do
	name=$(basename "$exp" .txt)
	[ -f "$REAL/$name" ] || continue
	"$AN" -q --csv "$REAL/$name" >"$tmp/out.csv" 2>"$tmp/err" || fail "$name: exit $? ($(cat "$tmp/err"))"
	"$AN" -q --json "$REAL/$name" >"$tmp/out.json" 2>/dev/null
	# expected rows: family id seq req_frame req_epoch rep_frame rep_epoch rtt_us ...
	awk -F'\t' -v name="$name" '
		FNR == NR {
			if ($0 ~ /^#/ || $1 == "family") next
			key = $1 "/" $2 "/" $3 "/" $4 "/" $6; want[key] = $8; nwant++; next
		}
		FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{
			key = $col["family"] "/" $col["id"] "/" $col["seq"] "/" $col["req_index"] "/" $col["rep_index"]
			if (!(key in want)) { printf "%s: unexpected pair %s\n", name, key; bad++; next }
			d = $col["rtt_ns"] / 1000 - want[key]; if (d < 0) d = -d
			if (d >= 1) { printf "%s: pair %s rtt %s ns, tshark %s us\n", name, key, $col["rtt_ns"], want[key]; bad++ }
			if (d > maxd) maxd = d
			got++
		}
		END {
			if (got != nwant) { printf "%s: %d pairs, tshark %d\n", name, got, nwant; bad++ }
			printf "%s: %d pairs, largest RTT difference %.3f us\n", name, got, maxd > "/dev/stderr"
			exit bad ? 1 : 0
		}' "$exp" FS=, "$tmp/out.csv" || fail "$name: pairs differ from tshark"
	counts=$(grep '^# counts' "$exp")
	for kv in requests replies unanswered_requests unmatched_replies; do
		want=$(echo "$counts" | grep -oE "(^| )$kv=[0-9]+" | cut -d= -f2)
		key=$kv
		[ "$kv" = unanswered_requests ] && key=unmatched_requests
		got=$(json_num "$tmp/out.json" "$key")
		[ "$got" = "$want" ] || fail "$name: $key $got, tshark $want"
	done
	checked=$((checked + 1))
done
[ "$checked" -ge 15 ] || fail "only $checked captures checked"

# Interfaces as vantage points: fragtest.erf has the requests on ERF port 0 and the replies on
# port 1 (a two-port DAG capture): whole, 4 pairs; split with #*, two points named after the
# ports; one port picked by number under a NAME.
f="$REAL/fragtest.erf"
if [ -f "$f" ]; then
	"$AN" -q --json "$f#*" >"$tmp/split.json" 2>/dev/null
	grep -q '"name": "port0".*"requests": 6, "replies": 0' "$tmp/split.json" || fail "fragtest.erf#*: port0"
	grep -q '"name": "port1".*"requests": 1, "replies": 6' "$tmp/split.json" || fail "fragtest.erf#*: port1"
	"$AN" -q --json "dag=$f#1" >"$tmp/one.json" 2>/dev/null
	grep -q '"name": "dag".*"select": "1".*"requests": 1, "replies": 6' "$tmp/one.json" || fail "dag=fragtest.erf#1"
	"$AN" -q --json "$f" >"$tmp/whole.json"
	grep -q '"name": "fragtest".*"pairs": 4,' "$tmp/whole.json" || fail "fragtest.erf whole: not 4 pairs"
fi
echo "checked $checked captures, $fails failures"
[ "$fails" -eq 0 ]
