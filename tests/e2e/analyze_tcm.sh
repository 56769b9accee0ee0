#!/usr/bin/env bash
# timeout: 300
# tcpmon record files as vantage points: a synthetic .tcm (tests/golden/tcm_synth.c, written
# with lib/tcmrec's writer) with known times at every layer. `#*` gives one vantage point per
# stack level, device first; every probe's RTT and Δ per level equal what was written, to the ns
# (TSC-converted times; ktime when the file says the TSC is unstable, which the notes say); a
# truncated file is an error naming the file and the offset, exit 1; a selector that names no
# level is a usage error, exit 2.
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build_gen_tcm "$tmp/gen"
levels="dev ip-route ip-local trans sock-queue sock-copy"

# check_csv FILE.csv truth.csv PREFIX: every row's rtt_ns and delta_ns against the truth
check_csv() {
	awk -F, -v pre="$3" -v levels="$levels" '
		function say(msg) { if (++bad <= 5) print msg > "/dev/stderr" }
		BEGIN { nl = split(levels, L, " "); for (i = 1; i <= nl; i++) prev[L[i]] = i > 1 ? L[i - 1] : "" }
		FNR == NR { if (FNR == 1) { for (i = 1; i <= NF; i++) h[i] = $i; next }
			    for (i = 2; i <= NF; i++) truth[$1, h[i]] = $i; want += nl; next }
		FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{
			v = $c["vantage"]; seq = $c["seq"]; rows++
			if (index(v, pre) != 1) { say("unexpected vantage " v); next }
			l = substr(v, length(pre) + 1)
			if (!((seq, l) in truth)) { say("no truth for " v " seq " seq); next }
			if ($c["rtt_ns"] != truth[seq, l]) say(v " seq " seq ": rtt " $c["rtt_ns"] " want " truth[seq, l])
			d = prev[l] == "" ? "" : truth[seq, l] - truth[seq, prev[l]]
			if ($c["delta_ns"] != d) say(v " seq " seq ": delta " $c["delta_ns"] " want " d)
		}
		END { if (rows != want) say(rows " rows, want " want); exit bad > 0 }
	' "$2" "$1"
}

for variant in stable unstable ipv6; do
	arg=""
	[ "$variant" = stable ] || arg=$variant
	"$tmp/gen" "$tmp/$variant.tcm" 51 $arg >"$tmp/$variant.truth" || { fail "$variant: generator"; continue; }
	"$AN" -q --csv "g:vm=$tmp/$variant.tcm#*" >"$tmp/$variant.csv" || fail "$variant: csv exit $?"
	check_csv "$tmp/$variant.csv" "$tmp/$variant.truth" "g." || fail "$variant: per-level RTT/Δ differ from the file's"
	"$AN" -q --json "g:vm=$tmp/$variant.tcm#*" >"$tmp/$variant.json" || fail "$variant: json exit $?"
	names=$(grep -o '"name": "[^"]*", "clock": "vm", "path": "[^"]*", "format": "tcpmon"' "$tmp/$variant.json" |
		sed 's/"name": "\([^"]*\)".*/\1/' | tr '\n' ' ')
	[ "$names" = "g.dev g.ip-route g.ip-local g.trans g.sock-queue g.sock-copy " ] ||
		fail "$variant: JSON vantage points '$names', want one per level in stack order"
	# the median Δ per level (51 probes: the middle one) equals the written one
	prev=""
	for l in $levels; do
		if [ -n "$prev" ]; then
			col=$(head -1 "$tmp/$variant.truth" | tr ',' '\n' | grep -nx "$l" | cut -d: -f1)
			pcol=$(head -1 "$tmp/$variant.truth" | tr ',' '\n' | grep -nx "$prev" | cut -d: -f1)
			want=$(awk -F, -v a="$col" -v b="$pcol" 'NR > 1 { print $a - $b }' "$tmp/$variant.truth" | sort -n | sed -n 26p)
			got=$(grep -o "{\"layer\": \"g.$l\", \"outer\": \"g.$prev\", \"inner\": \"g.$l\", \"phase\": \"all\", \"n\": 51, \"min_ns\": [-0-9]*, \"median_ns\": [-0-9]*" "$tmp/$variant.json" |
				head -1 | sed 's/.*"median_ns": //')
			[ "$got" = "$want" ] || fail "$variant: median Δ of $l is '$got' ns, want $want"
		fi
		prev=$l
	done
	if [ "$variant" = unstable ]; then
		grep -q '"notes": "TSC marked unstable' "$tmp/$variant.json" || fail "unstable: JSON notes do not say the TSC is unstable"
		"$AN" -q "$tmp/$variant.tcm#dev" >"$tmp/text" || fail "unstable: text exit $?"
		grep -q "^note: dev: TSC marked unstable" "$tmp/text" || fail "unstable: the text report has no note"
	else
		grep -q '"notes": null' "$tmp/$variant.json" || fail "$variant: unexpected notes"
	fi
done
echo "per-level Δs of 51 probes equal the written ones (stable TSC, unstable TSC, IPv6)" >&2

# one level by a layer name, next to another vantage point on the default clock
"$AN" -q --csv "ipl=$tmp/stable.tcm#ip-local-in" "tr=$tmp/stable.tcm#trans-tx" >"$tmp/two.csv" || fail "two levels: exit $?"
n=$(grep -c '^tr,' "$tmp/two.csv")
[ "$n" = 51 ] || fail "two levels: $n rows of 'tr', want 51"

# damaged: cut inside the first records block
head -c 400 "$tmp/stable.tcm" >"$tmp/cut.tcm"
"$AN" -q "g=$tmp/cut.tcm#*" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "truncated: exit $rc, want 1"
grep -q "$tmp/cut.tcm: offset 360: block of .* runs past the end" "$tmp/err" || fail "truncated: message '$(cat "$tmp/err")'"
printf 'VDTCPMON' >"$tmp/magic.tcm"
"$AN" -q "$tmp/magic.tcm" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] && grep -q "$tmp/magic.tcm: .*tcpmon header" "$tmp/err" || fail "magic only: exit $rc, '$(cat "$tmp/err")'"
"$AN" -q "g=$tmp/stable.tcm#nowhere" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] && grep -q "bad selector '#nowhere'" "$tmp/err" || fail "bad selector: exit $rc, '$(cat "$tmp/err")'"
[ "$fails" = 0 ] || exit 1
