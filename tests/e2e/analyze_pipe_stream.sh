#!/usr/bin/env bash
# timeout: 400
# Captures from pipes stream (docs/methodology.md, "Memory"): `tcpdump -w - | vmdelay-analyze
# /dev/stdin`, bash's <(...) and pipes beside trace files are read side by side in time order,
# keeping only the probes in flight, and give the report of the same captures read whole
# (--plot keeps every probe), byte for byte: text, JSON, --csv to a file and to a pipe, 1 and 4
# points, -k. Peak RSS shows the streaming: fed 4 times more packets, the streamed analysis of a
# pipe grows by less than half what reading whole grows by, and stays below the capture's size
# (release build: 39 MiB for 2 million packets, 113 MiB; read whole 97 MiB).
# A pipe cannot be read twice, so a damaged one is reported from what was read: a truncated
# pipe, garbage, a capture without echoes each give the message reading whole gives, naming
# /dev/stdin and the offset, exit 1, and no --csv row. A pipe on a second clock label, or beside
# a '#*' point, is read whole (the clocks' first pass and '*' would read it twice).
. "$(dirname "$0")/lib/analyze_lib.sh"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (package time)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1
gen() { "$tmp/icmpgen" "$1" 50 rr "$2" 100000; } # packets layer: 50 hosts, 100 µs apart

# same LABEL A B FILE...: A.* and B.* identical once B's FILEs (the pipes' bytes) read as
# /dev/stdin
same() {
	local label=$1 a=$2 b=$3 x f
	shift 3
	for x in out err; do
		cp "$b.$x" "$b.$x.p"
		for f in "$@"; do sed -i "s|$f|/dev/stdin|g" "$b.$x.p"; done
		cmp -s "$a.$x" "$b.$x.p" || fail "$label: $x differs: $(diff "$a.$x" "$b.$x.p" | head -n 4)"
	done
	cmp -s "$a.rc" "$b.rc" || fail "$label: exit $(cat "$a.rc") from the pipe, $(cat "$b.rc") read whole"
}

for k in 0 1 2 3; do gen 60000 "$k" >"$tmp/l$k.pcap" || exit 1; done
# one pipe alone, each output; read whole: the same pipe with --plot (every probe kept)
for mode in "" --json --csv; do
	run "$tmp/p" bash -c 'cat "$1" | "$2" -q $3 in=/dev/stdin' _ "$tmp/l0.pcap" "$AN" "$mode"
	rm -rf "$tmp/plots"
	run "$tmp/f" bash -c 'cat "$1" | "$2" -q $3 --plot "$4" in=/dev/stdin' _ "$tmp/l0.pcap" "$AN" "$mode" "$tmp/plots"
	same "one pipe ${mode:-text}" "$tmp/p" "$tmp/f"
	[ "$(cat "$tmp/p.rc")" = 0 ] && [ -s "$tmp/p.out" ] || fail "one pipe ${mode:-text}: $(cat "$tmp/p.err")"
done
# and the file's JSON but for its path
"$AN" -q --json in="$tmp/l0.pcap" >"$tmp/named.json" 2>/dev/null
cat "$tmp/l0.pcap" | "$AN" -q --json in=/dev/stdin 2>/dev/null | sed "s|/dev/stdin|$tmp/l0.pcap|" >"$tmp/pipe.json"
cmp -s "$tmp/named.json" "$tmp/pipe.json" || fail "one pipe: JSON differs from the file's"
# --csv from a pipe into a pipe (rows spooled until the end)
cat "$tmp/l0.pcap" | "$AN" -q --csv in=/dev/stdin 2>/dev/null | cat >"$tmp/pp.csv"
cmp -s "$tmp/pp.csv" "$tmp/p.out" || fail "--csv from a pipe into a pipe differs"
# four points: two pipes (stdin, bash's <(...)) beside two files
four() { # --plot DIR or nothing
	bash -c 'cat "$2" | "$1" -q --json "${@:6}" w=/dev/stdin b=<(cat "$3") k="$4" u="$5"' _ "$AN" \
		"$tmp"/l{0,1,2,3}.pcap "$@" | sed 's|/dev/fd/[0-9]*|P|'
}
run "$tmp/p" four
rm -rf "$tmp/plots"
run "$tmp/f" four --plot "$tmp/plots"
same "two pipes, two files" "$tmp/p" "$tmp/f"
grep -q '"probes": [1-9]' "$tmp/p.out" || fail "two pipes, two files: no probe"

# peak RSS: the pipe streamed against read whole, at N and 4 N packets (N / 2 and 2 N probes;
# the exact medians hold up to 2^20 probes' times, so streamed memory still grows to there)
bin=${VMDELAY_RELEASE_BIN:-}
[ -x "$bin/vmdelay-analyze" ] || bin=$(dirname "$AN")
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=1" # freed blocks not held back
rss() { # packets args...: peak RSS (KiB) of the analysis of a pipe of that many packets
	local n=$1
	shift
	rm -rf "$tmp/plots"
	gen "$n" 0 | /usr/bin/time -f %M -o "$tmp/rss" "$bin/vmdelay-analyze" -q --json "$@" /dev/stdin >"$tmp/rss.json" 2>"$tmp/rss.err" ||
		fail "$n packets $*: exit $? ($(head -c 200 "$tmp/rss.err"))"
	tail -n 1 "$tmp/rss"
}
n=500000
s1=$(rss $n) s4=$(rss $((4 * n))) w1=$(rss $n --plot "$tmp/plots") w4=$(rss $((4 * n)) --plot "$tmp/plots")
bytes=$((4 * n * 58 / 1024)) # KiB of pcap: 16-byte record header + 42 bytes kept
echo "peak RSS (KiB, $bin): streamed $s1 at $n packets, $s4 at $((4 * n)); read whole $w1, $w4; capture $bytes"
((s4 - s1 < (w4 - w1) / 2)) || fail "streamed pipe grew by $((s4 - s1)) KiB for 4x the packets, read whole by $((w4 - w1))"
((s4 < w4 * 2 / 3 && s4 < bytes * 2 / 3)) || fail "streamed pipe: $s4 KiB peak, read whole $w4, for a $bytes KiB capture"

# damage: a truncated pipe, garbage, no echo: what reading the pipe whole says
head -c 1000000 "$tmp/l1.pcap" >"$tmp/cut.pcap"
yes 'this is not a capture' | head -c 5000 >"$tmp/junk.pcap"
head -c 24 "$tmp/l0.pcap" >"$tmp/none.pcap" # a pcap header, no packet
piped() { # bytes args...: bytes into b, a pipe, beside the trace a
	local in=$1
	shift
	bash -c 'cat "$1" | "$2" -q "${@:4}" a="$3" b=/dev/stdin' _ "$in" "$AN" "$tmp/l0.pcap" "$@"
}
for args in "" "-k" "--csv" "-k --json"; do
	run "$tmp/p" piped "$tmp/cut.pcap" $args
	rm -rf "$tmp/plots"
	run "$tmp/f" piped "$tmp/cut.pcap" $args --plot "$tmp/plots"
	same "truncated pipe ${args:-text}" "$tmp/p" "$tmp/f"
	[ "$(cat "$tmp/p.rc")" = 1 ] || fail "truncated pipe $args: exit $(cat "$tmp/p.rc")"
	grep -q '^vmdelay-analyze: /dev/stdin: offset 999944: packet 17241: truncated' "$tmp/p.err" ||
		fail "truncated pipe $args: $(cat "$tmp/p.err")"
	case $args in
	-k*) [ -s "$tmp/p.out" ] || fail "truncated pipe $args: no report of what was read" ;;
	*) [ ! -s "$tmp/p.out" ] || fail "truncated pipe $args: output despite the damage: $(head -c 200 "$tmp/p.out")" ;;
	esac
done
for bad in junk none; do
	run "$tmp/p" piped "$tmp/$bad.pcap"
	rm -rf "$tmp/plots"
	run "$tmp/f" piped "$tmp/$bad.pcap" --plot "$tmp/plots"
	same "$bad pipe" "$tmp/p" "$tmp/f"
	[ "$(cat "$tmp/p.rc")" = 1 ] && grep -q '/dev/stdin: \(not a pcap\|no ICMP echo\)' "$tmp/p.err" ||
		fail "$bad pipe: exit $(cat "$tmp/p.rc"): $(cat "$tmp/p.err")"
done
# -k cannot leave out a pipe that failed before its first echo: said so, exit 1
cat "$tmp/junk.pcap" | "$AN" -q -k a=/dev/stdin b="$tmp/l1.pcap" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'not a pcap' "$tmp/err" && grep -q 'cannot be read again' "$tmp/err" || fail "-k, junk pipe: $(cat "$tmp/err")"

# read whole: a pipe on a second clock, or beside a '#*' point; the report of the files
for spec in "b:guest=" "b="; do
	sel=$([ "$spec" = "b=" ] && echo '#*')
	run "$tmp/p" bash -c "cat '$tmp/l1.pcap' | '$AN' -q --json a='$tmp/l0.pcap$sel' $spec/dev/stdin"
	run "$tmp/f" "$AN" -q --json a="$tmp/l0.pcap$sel" "$spec$tmp/l1.pcap"
	same "pipe read whole ($spec$sel)" "$tmp/p" "$tmp/f" "$tmp/l1.pcap"
	grep -q '"probes": [1-9]' "$tmp/p.out" || fail "pipe read whole ($spec$sel): no probe: $(cat "$tmp/p.err")"
done
((fails == 0)) || exit 1
echo "pipe stream: reports equal read whole; damage reported; peak RSS flat"
