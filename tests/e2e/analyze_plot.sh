#!/usr/bin/env bash
# timeout: 180
# --plot DIR: the data files hold the same numbers as --csv (per vantage point: probe, request
# time, RTT; per layer: the sorted ΔRTT / send / receive delays as CDFs; send/receive histograms
# whose counts the CSV values reproduce), analyze.gp plots every data file, and the SVG charts
# come from gnuplot when it is installed, else (or when it fails) from our own SVG writer.
. "$(dirname "$0")/lib/analyze_lib.sh"
g="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
specs=("wire:peer=$g/wire.pcap" "bridge:host=$g/bridge.pcap" "guest:vm=$g/tping.csv")
"$AN" -q --csv "${specs[@]}" >"$tmp/r.csv" || fail "--csv exit $?"
VMDELAY_GNUPLOT=none "$AN" -q --plot "$tmp/p" "${specs[@]}" >/dev/null 2>"$tmp/err" ||
	fail "--plot exit $?: $(cat "$tmp/err")"
p="$tmp/p"
data() { grep -v '^#' "$1"; } # a data file without its header line
# CSV column of the rows of vantage point $1 (non-empty values), sorted as numbers
csv_col() { awk -F, -v v="$1" -v c="$2" 'NR > 1 && $1 == v && $c != "" { print $c }' "$tmp/r.csv" | sort -n; }
# a CDF file: its values are the expected ones, in order, and its cdf column is rank / count
check_cdf() { # file expected-values-file
	[ -f "$1" ] || { fail "no $(basename "$1")"; return; }
	[ -s "$2" ] || { fail "$(basename "$1"): no CSV values to compare with"; return; }
	data "$1" | cut -d, -f1 | diff -q - "$2" >/dev/null || fail "$(basename "$1"): values differ from --csv"
	data "$1" | awk -F, '{ n++; c[n] = $2 } END { for (i = 1; i <= n; i++) if ((c[i] - i / n)^2 > 1e-12) { print i; exit 1 } }' >/dev/null ||
		fail "$(basename "$1"): cdf column is not rank / count"
}
for v in wire bridge guest.kernel guest.user; do
	# RTT over time: one row per probe seen at v, as in the CSV
	awk -F, -v v="$v" 'NR > 1 && $1 == v { print $11 "," $5 "," $7 }' "$tmp/r.csv" >"$tmp/want"
	[ -s "$tmp/want" ] || fail "CSV has no rows for $v"
	data "$p/rtt_$v.csv" | cut -d, -f1,2,4 | diff -q - "$tmp/want" >/dev/null ||
		fail "rtt_$v.csv: probe,req_ns,rtt_ns differ from --csv"
	csv_col "$v" 7 >"$tmp/want"
	check_cdf "$p/rtt_${v}_cdf.csv" "$tmp/want"
done
# layers 1..3 are named after their inner vantage point; layer 0 is the total
i=0
for v in wire bridge guest.kernel guest.user; do
	if ((i > 0)); then
		for d in delta:8 send:9 recv:10; do
			csv_col "$v" "${d#*:}" >"$tmp/want"
			check_cdf "$p/layer${i}_${v}_${d%:*}_cdf.csv" "$tmp/want"
		done
		for d in send:9 recv:10; do
			f="$p/layer${i}_${v}_${d%:*}_pdf.csv"
			[ -f "$f" ] || { fail "no $(basename "$f")"; continue; }
			# the CSV's values, put in the file's bins, give the file's counts
			csv_col "$v" "${d#*:}" | awk -F, -v f="$f" '
				BEGIN { while ((getline l < f) > 0) if (l !~ /^#/) { split(l, a, ","); n++; lo[n] = a[1]; hi[n] = a[2]; cnt[n] = a[3] } }
				{ for (b = 1; b <= n && !($1 >= lo[b] && $1 < hi[b]); b++); got[b]++; total++ }
				END {
					for (b = 1; b <= n; b++) {
						if (got[b] + 0 != cnt[b] + 0) { print "bin " b ": " got[b] + 0 " vs " cnt[b]; exit 1 }
						if (b > 1 && lo[b] != hi[b - 1]) { print "bins not contiguous at " b; exit 1 }
					}
					if (got[n + 1] + 0) { print got[n + 1] " values outside the bins"; exit 1 }
					if (!total) { print "no values"; exit 1 }
				}' >"$tmp/msg" || fail "$(basename "$f"): $(cat "$tmp/msg")"
		done
	fi
	i=$((i + 1))
done
# total ΔRTT: innermost RTT minus outermost RTT, probe by probe
awk -F, 'NR > 1 && $1 == "wire" { w[$11] = $7 } NR > 1 && $1 == "guest.user" { u[$11] = $7 }
	END { for (k in u) if (k in w) print u[k] - w[k] }' "$tmp/r.csv" | sort -n >"$tmp/want"
check_cdf "$p/layer0_total_delta_cdf.csv" "$tmp/want"
# the script plots every data file into the five charts
for f in "$p"/*.csv; do
	grep -q "'$(basename "$f")'" "$p/analyze.gp" || fail "analyze.gp does not plot $(basename "$f")"
done
charts="rtt_cdf rtt_time delta_cdf send_recv_pdf send_recv_cdf"
for c in $charts; do
	grep -q "^set output '$c.svg'" "$p/analyze.gp" || fail "analyze.gp does not draw $c.svg"
	[ -s "$p/$c.svg" ] && tail -n 1 "$p/$c.svg" | grep -q '</svg>' || fail "$c.svg missing or incomplete (no gnuplot)"
done
grep -c '<polyline' "$p/delta_cdf.svg" | grep -qx 4 || fail "delta_cdf.svg: want 4 curves (3 layers + total)"
# a gnuplot that fails: a warning naming its log, the charts drawn without it, exit 0
VMDELAY_GNUPLOT=/bin/false "$AN" -q --plot "$tmp/f" "${specs[@]}" >/dev/null 2>"$tmp/err" ||
	fail "--plot with a failing gnuplot: exit $?"
grep -q "gnuplot.log" "$tmp/err" || fail "failing gnuplot: no warning ($(cat "$tmp/err"))"
[ -s "$tmp/f/rtt_cdf.svg" ] || fail "failing gnuplot: no fallback chart"
# the real gnuplot, when installed: it draws the charts from the same data files
if command -v gnuplot >/dev/null; then
	env -u VMDELAY_GNUPLOT "$AN" -q --plot "$tmp/g" "${specs[@]}" >/dev/null 2>"$tmp/err" ||
		fail "--plot with gnuplot: exit $? $(cat "$tmp/err")"
	[ -s "$tmp/err" ] && fail "--plot with gnuplot: $(cat "$tmp/err")"
	for c in $charts; do
		grep -q 'Produced by GNUPLOT' "$tmp/g/$c.svg" 2>/dev/null || fail "$c.svg not drawn by gnuplot"
	done
	diff -q <(cd "$p" && cat ./*.csv analyze.gp) <(cd "$tmp/g" && cat ./*.csv analyze.gp) >/dev/null ||
		fail "data files differ with gnuplot"
else
	echo "gnuplot not installed: checked the SVG fallback only" >&2
fi
echo "$fails failures"
((fails == 0))
