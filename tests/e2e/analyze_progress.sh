#!/usr/bin/env bash
# timeout: 300
# Progress on stderr: shown while long inputs are read when stderr is a terminal (a pty made by
# script(1)) or with --progress, never when stderr is a pipe or with -q; for the delay analysis
# and for `tcp`, for traces and a tcpmon record file. The reports on stdout are the same either way.
. "$(dirname "$0")/lib/analyze_lib.sh"
command -v script >/dev/null || { echo "no script(1) (bsdutils)" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1
cc -O2 -o "$tmp/tcpgen" "${VMDELAY_ROOT:-.}/tests/bench/tcpgen.c" || exit 1
"$tmp/icmpgen" 4000000 50 rr >"$tmp/icmp.pcap" || exit 1
"$tmp/tcpgen" 4000000 100 >"$tmp/tcp.pcap" || exit 1
build_gen_tcm "$tmp/gen_tcm"
"$tmp/gen_tcm" "$tmp/long.tcm" 200000 batch=400 >/dev/null || exit 1

check() { # label file args...: piped, --progress, pty, pty -q
	local label=$1 file=$2
	shift 2
	"$AN" "$@" "$file" >"$tmp/plain.out" 2>"$tmp/plain.err" || fail "$label: exit $?"
	[ -s "$tmp/plain.err" ] && fail "$label: stderr a pipe, yet: $(head -c 200 "$tmp/plain.err")"
	"$AN" "$@" --progress "$file" >"$tmp/forced.out" 2>"$tmp/forced.err" || fail "$label --progress: exit $?"
	grep -q "records" "$tmp/forced.err" || fail "$label --progress: no progress on stderr"
	cmp -s "$tmp/plain.out" "$tmp/forced.out" || fail "$label --progress: report differs"
	# script(1) gives the command a terminal; its stdout goes to a file, stderr to the pty
	script -qec "'$AN' $* '$file' >'$tmp/tty.out'" /dev/null >"$tmp/tty.log" 2>&1 </dev/null
	grep -q "records" "$tmp/tty.log" || fail "$label on a terminal: no progress ($(head -c 200 "$tmp/tty.log"))"
	grep -q $'\r' "$tmp/tty.log" || fail "$label on a terminal: the line is not redrawn in place"
	grep -q "$(tail -n 1 "$tmp/plain.out" | head -c 40)" "$tmp/tty.out" || fail "$label on a terminal: report differs"
	script -qec "'$AN' $* -q '$file' >/dev/null" /dev/null >"$tmp/quiet.log" 2>&1 </dev/null
	grep -q "records" "$tmp/quiet.log" && fail "$label -q on a terminal: progress shown"
}
check "delay" "$tmp/icmp.pcap" --json
check "tcp" "$tmp/tcp.pcap" tcp --json
check "tcpmon file (streamed: its levels' shared reading)" "$tmp/long.tcm" --json
((fails == 0)) || exit 1
echo "progress: shown on a terminal and with --progress, silent when piped or -q"
