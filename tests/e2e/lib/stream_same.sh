#!/usr/bin/env bash
# stream_same.sh — sourced by the analyze_*stream*.sh end-to-end tests after analyze_lib.sh, with
# $tmp set: the reports and --csv rows of a streamed analysis against those computed after
# reading (--plot keeps every probe, so the analysis is not streamed).
: "${tmp:?stream_same.sh: set tmp first}" "${AN:?}"
same() { # label args...: --json streamed and kept, text streamed and kept
	local label=$1
	shift
	local rs rk
	"$AN" -q --json "$@" >"$tmp/s.json" 2>"$tmp/s.err"
	rs=$?
	rm -rf "$tmp/plots"
	"$AN" -q --json --plot "$tmp/plots" "$@" >"$tmp/k.json" 2>"$tmp/k.err"
	rk=$?
	[ "$rs" = "$rk" ] || fail "$label: exit $rs, with --plot $rk: $(head -c 200 "$tmp/s.err")"
	cmp -s "$tmp/s.json" "$tmp/k.json" || fail "$label: --json differs: $(diff "$tmp/s.json" "$tmp/k.json" | head -n 4)"
	cmp -s "$tmp/s.err" "$tmp/k.err" || fail "$label: stderr differs"
	grep -q '"probes": [1-9]' "$tmp/s.json" || fail "$label: no probe matched"
	"$AN" -q "$@" >"$tmp/s.txt" 2>/dev/null
	rm -rf "$tmp/plots"
	"$AN" -q --plot "$tmp/plots" "$@" >"$tmp/k.txt" 2>/dev/null
	cmp -s "$tmp/s.txt" "$tmp/k.txt" || fail "$label: text differs"
}

csv_to() { # sink out err args...: --csv into out through a file, a pipe or -o; the exit status
	local sink=$1 out=$2 err=$3
	shift 3
	case $sink in
	file) "$AN" -q --csv "$@" >"$out" 2>"$err" ;;
	pipe)
		"$AN" -q --csv "$@" 2>"$err" | cat >"$out"
		return "${PIPESTATUS[0]}"
		;;
	o) "$AN" -q --csv -o "$out" "$@" >/dev/null 2>"$err" ;;
	esac
}

same_csv() { # label sinks args...: --csv streamed (through each sink) and kept (--plot)
	local label=$1 sinks=$2 rs rk sink
	shift 2
	rm -rf "$tmp/plots"
	csv_to file "$tmp/k.csv" "$tmp/k.err" --plot "$tmp/plots" "$@"
	rk=$?
	grep -q '^[^,]*,icmpv4,' "$tmp/k.csv" || fail "$label: --csv: no row"
	for sink in $sinks; do
		rm -f "$tmp/s.csv"
		csv_to "$sink" "$tmp/s.csv" "$tmp/s.err" "$@"
		rs=$?
		[ "$rs" = "$rk" ] || fail "$label: --csv to $sink: exit $rs, with --plot $rk: $(head -c 200 "$tmp/s.err")"
		cmp -s "$tmp/s.csv" "$tmp/k.csv" || fail "$label: --csv to $sink differs: $(diff "$tmp/s.csv" "$tmp/k.csv" | head -n 4)"
		cmp -s "$tmp/s.err" "$tmp/k.err" || fail "$label: --csv to $sink: stderr differs: $(diff "$tmp/s.err" "$tmp/k.err" | head -n 4)"
	done
}
