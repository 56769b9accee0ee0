#!/usr/bin/env bash
# timeout: 300
# vmdelay-analyze tcp on captures whose times are missing (pcapng Simple Packet Blocks) or
# extreme (jumps across the whole 64-bit range), crafted here: no undefined behaviour (the
# sanitized build halts on any), the packets without a computable time named in a note, the
# numbers printed are the flow's, and nothing nonsensical (no negative count or rate).
set -u
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen="$(dirname "$0")/lib/tcp_badtime_pcapng.py"
modes="spb mixed extreme negative edge"
for m in $modes; do
	python3 "$gen" "$m" >"$tmp/$m.pcapng" || fail "cannot write $m.pcapng"
done

# Runs vmdelay-analyze tcp; any exit but 0 and 1 (a sanitizer abort, a crash) fails.
run() { # name args...
	local name=$1
	shift
	"$AN" tcp "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	[ "$rc" -le 1 ] || fail "$name: exit $rc: $(grep -m3 -E 'runtime error|ERROR|SUMMARY' "$tmp/$name.err")"
	grep -q 'runtime error' "$tmp/$name.err" && fail "$name: $(grep -m1 'runtime error' "$tmp/$name.err")"
	return "$rc"
}
for m in $modes; do
	for fmt in text --csv --json; do
		f=()
		[ "$fmt" = text ] || f=("$fmt")
		run "$m-$fmt" "${f[@]}" --plot "$tmp/plot-$m" "$tmp/$m.pcapng"
		run "$m-two-$fmt" "${f[@]}" --db "$tmp/runs.db" "ref=$tmp/mixed.pcapng" "other=$tmp/$m.pcapng"
		run "$m-three-$fmt" "${f[@]}" "ref=$tmp/$m.pcapng" "b=$tmp/edge.pcapng" "c=$tmp/negative.pcapng"
	done
done

# No time at all: nothing to analyze, said so with the count; exit 1.
run spb-alone --csv "$tmp/spb.pcapng"
[ $? = 1 ] || fail "spb: exit 0 for a capture without any time"
grep -q '85 TCP packets without a usable timestamp' "$tmp/spb-alone.err" || fail "spb: $(cat "$tmp/spb-alone.err")"
# One in three without: those are named, the others analyzed (the 2 of 3 data segments ACKed).
run mixed-alone --csv "$tmp/mixed.pcapng" || fail "mixed: exit $?"
grep -q '29 TCP packets without a usable timestamp' "$tmp/mixed-alone.err" || fail "mixed: $(cat "$tmp/mixed-alone.err")"
col() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
row=$(sed -n 2p "$tmp/mixed-alone.out")
[ "$(echo "$row" | cut -d, -f"$(col "$tmp/mixed-alone.out" data_pkts)")" = 26 ] ||
	fail "mixed: data_pkts in $row"
# Extremes within the computable range: every count and rate is non-negative.
run edge-alone --csv "$tmp/edge.pcapng" || fail "edge: exit $?"
awk -F, 'NR > 1 { for (i = 3; i <= NF; i++) if ($i ~ /^-/) { print "negative column " i ": " $0; bad = 1 } }
	END { exit bad }' "$tmp/edge-alone.out" || fail "edge: negative values"
echo "$fails failures"
[ "$fails" -eq 0 ]
