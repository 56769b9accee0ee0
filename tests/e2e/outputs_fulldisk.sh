#!/usr/bin/env bash
# timeout: 180
# Output files on a full disk (a small tmpfs this test mounts): every -o / --plot output fails
# with a message naming the file and the reason, exit 1, and leaves no 0-byte, half or
# temporary file; with room, the same commands write complete files and nothing else.
set -u
. "$(dirname "$0")/lib/analyze_lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (mounts a tmpfs)" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed" >&2; exit 77; }
tmp=$(mktemp -d)
mnt=$tmp/full
mkdir "$mnt"
cleanup() {
	umount "$mnt" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mount -t tmpfs -o size=256k tmpfs "$mnt" || { echo "cannot mount a tmpfs" >&2; exit 77; }
need_real
g="${VMDELAY_ROOT:-.}/tests/golden/analyze_synth"
specs=("wire:peer=$g/wire.pcap" "bridge:host=$g/bridge.pcap" "guest:vm=$g/tping.csv")
"$AN" -q --db "$tmp/runs.db" --label a "${specs[@]}" >/dev/null || fail "making a store"

# Each command writes its output(s) under $1 (a directory).
cmds() { # dir
	case $2 in
	report) "$AN" --csv -o "$1/report.csv" "${specs[@]}" ;;
	plot) VMDELAY_GNUPLOT=none "$AN" -q --plot "$1/plots" "${specs[@]}" ;;
	compare) "$AN" compare --db "$tmp/runs.db" -o "$1/cmp.txt" ;;
	compare-plot) "$AN" compare --db "$tmp/runs.db" --plot "$1/cplot" ;;
	tcp-plot) "$AN" tcp --plot "$1/tplots" "$REAL/irc-dcc-send.pcapng" >/dev/null ;;
	esac
}

for what in report plot compare compare-plot tcp-plot; do
	# with room: complete files, no temporary ones
	rm -rf "${mnt:?}"/*
	cmds "$mnt" "$what" >"$tmp/ok.out" 2>&1 || fail "$what with room: exit $?: $(tail -3 "$tmp/ok.out")"
	left=$(find "$mnt" -name '.*.tmp*')
	[ -z "$left" ] || fail "$what with room: temporary files left: $left"
	# full: fill the tmpfs (directories made first, as the outputs' own mkdir would)
	before=$(find "$mnt" -type f -not -name fill | sort)
	find "$mnt" -type f -delete
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
	cmds "$mnt" "$what" >"$tmp/full.out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "$what on a full disk: exit $rc"
	grep -q "$mnt/.*: write error: No space left on device" "$tmp/full.out" ||
		fail "$what on a full disk: message names no file or reason: $(tail -3 "$tmp/full.out")"
	files=$(find "$mnt" -type f -not -name fill)
	[ -z "$files" ] || fail "$what on a full disk left files: $files"
	[ -n "$before" ] || fail "$what with room wrote nothing"
done

# /dev/full (an existing device is written as it is, not replaced): exit 1, named.
"$AN" --csv -o /dev/full "${specs[@]}" >/dev/null 2>"$tmp/devfull.err"
rc=$?
[ "$rc" = 1 ] || fail "-o /dev/full: exit $rc"
grep -q '/dev/full' "$tmp/devfull.err" || fail "-o /dev/full: $(cat "$tmp/devfull.err")"
[ -c /dev/full ] || fail "/dev/full is no longer a device"
echo "$fails failures"
[ "$fails" -eq 0 ]
