#!/usr/bin/env bash
# timeout: 900
# Differential test against tshark (the oracle, installed by make check; never a dependency of
# the tools): for every shared real capture and every capture generated here (tunnels of every
# kind, bogus IP lengths), tshark's ICMP echo pairs and TCP ACK streams, worked out at test time
# by lib/tshark_oracle.py, must equal what vmdelay-analyze finds: the pairs and their RTTs to
# 1 us; per flow the data sender, the pure ACK count and the 10 us ACK gap histogram.
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v tshark >/dev/null || { echo "tshark not installed (make deps)" >&2; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed (make deps)" >&2; exit 77; }
lib="$(cd "$(dirname "$0")/lib" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$lib/gen_tunnels.py" "$tmp/gen" || fail "generator failed"

compare() { # capture [tshark args]
	local f=$1
	shift
	"$AN" -q -k --csv "$f" >"$tmp/an.csv" 2>/dev/null
	"$AN" tcp --json "$f" >"$tmp/tcp.json" 2>/dev/null
	python3 "$lib/tshark_oracle.py" "$f" "$tmp/an.csv" "$tmp/tcp.json" "$@" || fail "$f differs from tshark"
	checked=$((checked + 1))
}

checked=0
for f in "$tmp"/gen/*.pcap; do
	case "$(basename "$f")" in
	bad_* | too_deep.pcap) continue ;; # damaged: tests/e2e/analyze_tunnels.sh
	vxlan8472.pcap) compare "$f" -d udp.port==8472,vxlan ;; # tshark: 4789 only by default
	*) compare "$f" ;;
	esac
done
[ "$checked" -ge 14 ] || fail "only $checked generated captures compared"
if [ -d "$REAL" ]; then
	n=0
	for f in "$REAL"/*; do
		case "$f" in *.md | *.tsv | *SUMS | */expected) continue ;; esac
		compare "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 40 ] || fail "only $n real captures compared"
else
	echo "no shared real captures in $REAL: generated captures only" >&2
fi
echo "compared $checked captures with tshark, $fails failures"
[ "$fails" -eq 0 ]
