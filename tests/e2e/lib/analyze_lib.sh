#!/usr/bin/env bash
# analyze_lib.sh — helpers sourced by the analyze_*.sh end-to-end tests.
set -u
AN="$(cd "${VMDELAY_BIN:-build/asan/bin}" 2>/dev/null && pwd)/vmdelay-analyze"
[ -x "$AN" ] || { echo "no vmdelay-analyze in ${VMDELAY_BIN:-build/asan/bin}" >&2; exit 1; }
REAL="${VMDELAY_SHARED:-../shared}/testdata/real"
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
need_real() {
	[ -d "$REAL/expected" ] || { echo "no real captures in $REAL" >&2; exit 77; }
}
# run OUT CMD...: stdout, stderr and the exit status of CMD into OUT.{out,err,rc}
run() {
	local out=$1
	shift
	"$@" >"$out.out" 2>"$out.err"
	echo $? >"$out.rc"
}
# Builds tests/golden/gen_tcm.c (synthetic tcpmon record files) as OUT; exits 77 without cc.
build_gen_tcm() { # out
	local root="${VMDELAY_ROOT:-.}"
	command -v cc >/dev/null || { echo "no C compiler for the generator" >&2; exit 77; }
	cc -std=gnu11 -O1 -I"$root/include" -I"$root/tests/golden" -o "$1" "$root/tests/golden/gen_tcm.c" \
		"$root/tests/golden/tcm_synth.c" "$root/lib/input/tcmrec.c" "$root/lib/core/mem.c" \
		"$root/lib/core/err.c" "$root/lib/out/output.c" "$root/lib/out/json.c" \
		"$root/lib/core/vdtime.c" -lm || { echo "cannot build gen_tcm" >&2; exit 1; }
}
# JSON number after "key": in a one-key-per-match grep (first match).
json_num() { # file key [nth]
	grep -o "\"$2\": [-0-9.e]*" "$1" | sed -n "${3:-1}p" | sed 's/.*: //'
}
# Rewrites a classic microsecond pcap, adding $2 µs to requests' and $3 µs to replies' times
# (ICMP type at Ethernet + IPv4 offset; only plain Ethernet/IPv4 files).
pcap_shift() { # in req_us rep_us out
	perl -e '
		my ($in, $dq, $dr, $out) = @ARGV;
		open(my $f, "<:raw", $in) or die "$in: $!"; local $/; my $b = <$f>; close $f;
		my $o = substr($b, 0, 24); my $p = 24;
		while ($p + 16 <= length($b)) {
			my ($s, $u, $cl, $ol) = unpack("V4", substr($b, $p, 16));
			my $data = substr($b, $p + 16, $cl);
			my $type = ord(substr($data, 34, 1));
			my $t = $s * 1000000 + $u + ($type == 8 ? $dq : $type == 0 ? $dr : 0);
			$o .= pack("V4", int($t / 1000000), $t % 1000000, $cl, $ol) . $data;
			$p += 16 + $cl;
		}
		open(my $g, ">:raw", $out) or die "$out: $!"; print $g $o; close $g;
	' "$@"
}
# same_as_read LABEL ARGS...: the --json, text and --csv reports (stdout, stderr, exit) of the
# streamed analysis equal those computed after reading (--plot reads everything first); files
# in the caller's $tmp. probes_as_read: the same, and the report has probes.
same_as_read() {
	local label=$1 mode rs rk tmp=${tmp:?same_as_read: set tmp to a scratch directory}
	shift
	for mode in --json "" --csv; do
		"$AN" -q $mode "$@" >"$tmp/s.out" 2>"$tmp/s.err"
		rs=$?
		rm -rf "$tmp/plots"
		"$AN" -q $mode --plot "$tmp/plots" "$@" >"$tmp/k.out" 2>"$tmp/k.err"
		rk=$?
		[ "$rs" = "$rk" ] || fail "$label ${mode:-text}: exit $rs streamed, $rk after reading: $(head -c 200 "$tmp/s.err")"
		cmp -s "$tmp/s.out" "$tmp/k.out" || fail "$label ${mode:-text}: differs: $(diff "$tmp/s.out" "$tmp/k.out" | head -n 4)"
		cmp -s "$tmp/s.err" "$tmp/k.err" || fail "$label ${mode:-text}: stderr differs: $(diff "$tmp/s.err" "$tmp/k.err" | head -n 4)"
	done
}
probes_as_read() {
	same_as_read "$@"
	"$AN" -q --json "${@:2}" 2>/dev/null | grep -q '"probes": [1-9]' || fail "$1: no probe"
}
