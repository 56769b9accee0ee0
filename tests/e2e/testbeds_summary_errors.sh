#!/usr/bin/env bash
# timeout: 60
# testbeds/summary.py and testbeds/rxdelay.py on bad input: usage errors exit 2, a store without
# the scenario's runs, a file that is no store, a capture that is no
# pcap and random bytes all exit 1 with a message naming the file, never a Python traceback.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
command -v python3 >/dev/null || { echo "python3 not installed (make deps)" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed (make deps)" >&2; exit 77; }
tmp=$(mktemp -d)
. "$root/testbeds/on_exit.sh"
vd_on_exit 'rm -rf "$tmp"'
fails=0
expect() { # RC WHAT_IN_STDERR COMMAND...
	local want=$1 msg=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if ((rc != want)); then
		echo "FAIL: $* -> exit $rc, expected $want: $(cat "$tmp/err")" >&2
		fails=$((fails + 1))
	elif grep -q Traceback "$tmp/err" || ! grep -qF -- "$msg" "$tmp/err"; then
		echo "FAIL: $* -> stderr lacks '$msg': $(cat "$tmp/err")" >&2
		fails=$((fails + 1))
	fi
}
S=$root/testbeds/summary.py R=$root/testbeds/rxdelay.py
sqlite3 "$tmp/empty.db" 'CREATE TABLE x (y);'
sqlite3 "$tmp/runs.db" "CREATE TABLE runs (id INTEGER PRIMARY KEY, tool TEXT, scenario TEXT, label TEXT, complete INTEGER);"
head -c 4096 /dev/urandom >"$tmp/junk"
printf 'no markers here\n' >"$tmp/page.md"
expect 2 "--db and --scenario are required" "$S" --db "$tmp/runs.db"
expect 2 "unknown option '--bogus'" "$S" --bogus 1
expect 2 "--svg needs a value" "$S" --db "$tmp/runs.db" --scenario dantas-1hz --svg
expect 1 "no such store" "$S" --db "$tmp/nonexistent.db" --scenario dantas-1hz
expect 1 "$tmp/empty.db" "$S" --db "$tmp/empty.db" --scenario dantas-1hz
expect 1 "$tmp/junk" "$S" --db "$tmp/junk" --scenario dantas-1hz
expect 1 "no analysis run of scenario 'dantas-1hz'" "$S" --db "$tmp/runs.db" --scenario dantas-1hz
expect 1 "no summary for scenario 'demo'" "$S" --db "$tmp/runs.db" --scenario demo
expect 2 "--tap and --tcm are required" "$R" --tap "$tmp/junk"
expect 1 "$tmp/junk: not a little-endian classic pcap" "$R" --tap "$tmp/junk" --tcm "$tmp/junk"
expect 1 "$tmp/nonexistent.pcap" "$R" --tap "$tmp/nonexistent.pcap" --tcm "$tmp/junk"
# A pcap header with a truncated, garbage record after it.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00\x00\x00' >"$tmp/trunc.pcap"
head -c 300 /dev/urandom >>"$tmp/trunc.pcap"
"$R" --tap "$tmp/trunc.pcap" --tcm "$tmp/junk" --tcpmon /bin/false >"$tmp/out" 2>"$tmp/err"
rc=$?
if ((rc != 1)) || grep -q Traceback "$tmp/err"; then
	echo "FAIL: rxdelay.py on a truncated pcap: exit $rc: $(cat "$tmp/err")" >&2
	fails=$((fails + 1))
fi
((fails == 0)) || exit 1
echo "summary.py, rxdelay.py: every bad input refused with a message"
