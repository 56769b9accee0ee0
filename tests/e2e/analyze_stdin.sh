#!/usr/bin/env bash
# timeout: 300
# Captures from a pipe: `cat X | vmdelay-analyze /dev/stdin` (and gzip / zstd data piped the same
# way, and bash's <(...)) gives byte for byte the report of the same file read from disk: stdout,
# stderr and exit status, for every shared real capture with ICMP echo and for `tcp` on a TCP
# capture. A pipe cannot be peeked twice: format detection must not eat its first bytes.
. "$(dirname "$0")/lib/analyze_lib.sh"
need_real
for c in gzip zstd; do command -v $c >/dev/null || { echo "needs $c" >&2; exit 77; }; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# same WHAT A B: A.* and B.* identical
same() {
	local x
	for x in out err rc; do
		cmp -s "$2.$x" "$3.$x" || fail "$1: $x differs between the pipe and the file ($(head -c 300 "$3.err"))"
	done
}

n=0
for exp in "$REAL"/expected/*.txt; do
	name=$(basename "$exp" .txt)
	f="$REAL/$name"
	[ -f "$f" ] || continue
	# the file on disk, given as /dev/stdin (a regular file: the path every test reads)
	run "$tmp/file" "$AN" in=/dev/stdin <"$f"
	[ "$(cat "$tmp/file.rc")" = 0 ] && [ -s "$tmp/file.out" ] || fail "$name: no report from the file ($(cat "$tmp/file.err"))"
	run "$tmp/pipe" bash -c 'cat "$1" | "$2" in=/dev/stdin' _ "$f" "$AN"
	same "$name" "$tmp/file" "$tmp/pipe"
	# the file named on the command line: the same JSON but for its path
	"$AN" -q --json in="$f" 2>/dev/null | sed "s|\"path\": \"$f\"|\"path\": \"/dev/stdin\"|" >"$tmp/named.json"
	cat "$f" | "$AN" -q --json in=/dev/stdin >"$tmp/pipe.json" 2>/dev/null
	cmp -s "$tmp/named.json" "$tmp/pipe.json" || fail "$name: JSON from the pipe differs from the named file"
	n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n captures compared"

# compressed data from a pipe: the same report (and the compression note) as the file on disk
for z in gzip zstd; do
	for name in vlan.pcap viber.pcap fragtest.erf; do
		"$z" -q -c "$REAL/$name" >"$tmp/c"
		run "$tmp/file" "$AN" in=/dev/stdin <"$tmp/c"
		run "$tmp/pipe" bash -c '"$1" -q -c "$2" | "$3" in=/dev/stdin' _ "$z" "$REAL/$name" "$AN"
		same "$name | $z" "$tmp/file" "$tmp/pipe"
		grep -q "^note: in: $z-compressed$" "$tmp/pipe.out" || fail "$name | $z: no $z note"
	done
done

# the tcp command on zstd data from a pipe
f="$REAL/irc-dcc-send.pcapng"
zstd -q -c "$f" >"$tmp/c"
run "$tmp/file" "$AN" tcp in=/dev/stdin <"$tmp/c"
run "$tmp/pipe" bash -c 'zstd -q -c "$1" | "$2" tcp in=/dev/stdin' _ "$f" "$AN"
same "tcp irc-dcc-send.pcapng | zstd" "$tmp/file" "$tmp/pipe"
grep -q "10.0.0.7:59130" "$tmp/pipe.out" || fail "tcp from a pipe: no IRC DCC flow"

# bash's process substitution (/dev/fd/N, a pipe): the JSON of the named file but for its path
f="$REAL/viber.pcap"
"$AN" -q --json in="$f" 2>/dev/null | sed "s|\"path\": \"$f\"|\"path\": \"P\"|" >"$tmp/named.json"
"$AN" -q --json in=<(cat "$f") 2>/dev/null | sed 's|"path": "/dev/fd/[0-9]*"|"path": "P"|' >"$tmp/pipe.json"
[ -s "$tmp/pipe.json" ] && cmp -s "$tmp/named.json" "$tmp/pipe.json" || fail "viber.pcap through <(...): JSON differs"

# what a pipe cannot be: empty, a tping file, a trace to read twice
: | "$AN" /dev/stdin >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "/dev/stdin: empty file" "$tmp/err" || fail "empty pipe: $(cat "$tmp/err")"
printf 'seq,phase,status,user_tx_ns\n1,load,ok,5\n' | "$AN" /dev/stdin >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "/dev/stdin: not a pcap, pcapng or ERF file .*a pipe is read as a packet trace only" "$tmp/err" ||
	fail "tping CSV from a pipe: $(cat "$tmp/err")"
cat "$REAL/5-pings.pcap" | "$AN" --pcapng-out "$tmp/o.pcapng" /dev/stdin >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "pcapng-out .*/dev/stdin is a pipe" "$tmp/err" || fail "--pcapng-out from a pipe: $(cat "$tmp/err")"
echo "$n captures compared, $fails failures"
[ "$fails" -eq 0 ]
