#!/usr/bin/env bash
# timeout: 300
# tping files stream (docs/methodology.md, "Memory"): a tping file is split into its vantage
# points (hw, kernel, user: those with timestamps, or the ones #SELECT names), each read in time
# order through a bounded heap although tping writes its rows as the probes finish (a lost
# probe's row at its timeout, late and duplicate replies in rows of their own:
# tests/e2e/lib/tping_rows_gen.py). The report must be the one computed after reading (--plot),
# byte for byte: CSV, JSON lines and SQLite (run=N), named and not, one point selected or two,
# with and without the phase column, beside a second tping file, --csv; and a file whose rows
# reach back more than 60 s (tping -W 70) is read whole, its report the same. A point whose
# timestamps stop early is taken as finished once the others have moved 60 s on (its events do
# not hold theirs to the end of the file); if it is timed again, the file is read whole. Beside a
# pipe (which cannot be read again) a tping file streams too, or fails saying why. Peak RSS shows
# that it streamed (the reports are the same either way).
. "$(dirname "$0")/lib/analyze_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen="${VMDELAY_ROOT:-.}/tests/e2e/lib/tping_rows_gen.py"

python3 "$gen" "$tmp/a.csv" csv 20000 || exit 1
python3 "$gen" "$tmp/a.json" json 20000 || exit 1
python3 "$gen" "$tmp/np.csv" csv 20000 10000 0 || exit 1
# a tping SQLite store holding two runs: the probes table the reader asks (docs/formats/tping.md)
python3 - "$tmp/a.csv" "$tmp/np.csv" "$tmp/a.db" <<'EOF' || exit 1
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[3])
db.execute("CREATE TABLE probes (run_id INTEGER, idx INTEGER, seq INTEGER, phase TEXT, status TEXT,"
           " user_tx_ns INTEGER, kernel_tx_ns INTEGER, hw_tx_ns INTEGER, kernel_rx_ns INTEGER,"
           " hw_rx_ns INTEGER, user_rx_ns INTEGER, PRIMARY KEY (run_id, idx))")
for run, path in ((1, sys.argv[1]), (2, sys.argv[2])):
    for i, r in enumerate(csv.DictReader(open(path))):
        v = lambda c: int(r[c]) if r[c] else None
        db.execute("INSERT INTO probes VALUES (?,?,?,?,?,?,?,NULL,?,NULL,?)",
                   (run, i, int(r["seq"]), r["phase"] or "load", r["status"], v("user_tx_ns"),
                    v("kernel_tx_ns"), v("kernel_rx_ns"), v("user_rx_ns")))
db.commit()
EOF

probes_as_read "CSV" "$tmp/a.csv"
probes_as_read "CSV named" "g=$tmp/a.csv"
probes_as_read "JSON lines named" "g=$tmp/a.json"
probes_as_read "CSV #kernel" "g=$tmp/a.csv#kernel"
probes_as_read "CSV #user,kernel" "$tmp/a.csv#user,kernel"
probes_as_read "CSV without phases" "g=$tmp/np.csv"
probes_as_read "two tping files" "a=$tmp/a.csv" "b=$tmp/a.json"
probes_as_read "SQLite, last run" "g=$tmp/a.db"
probes_as_read "SQLite #kernel,run=1" "g=$tmp/a.db#kernel,run=1"
probes_as_read "CSV --rest 20" --rest 20 "g=$tmp/a.csv"
# rows reaching back 70 s: read whole (the heap holds 60 s), the same report
python3 "$gen" "$tmp/w70.csv" csv 5000 70000 || exit 1
probes_as_read "rows 70 s back" "g=$tmp/w70.csv"
# kernel timestamps stop at probe 10,000 of 100,000 (100 s): the user point streams on without
# them; stopping for 80 s and coming back: read whole; 50 s: streamed. The same reports.
python3 "$gen" "$tmp/ks.csv" csv 100000 10000 1 10000 || exit 1
python3 "$gen" "$tmp/ks.json" json 100000 10000 1 10000 || exit 1
probes_as_read "kernel stops early" "g=$tmp/ks.csv"
probes_as_read "kernel stops early, JSON lines" "g=$tmp/ks.json"
python3 "$gen" "$tmp/kg80.csv" csv 100000 10000 1 10000-90000 || exit 1
probes_as_read "kernel stops 80 s" "g=$tmp/kg80.csv"
python3 "$gen" "$tmp/kg50.csv" csv 100000 10000 1 10000-60000 || exit 1
probes_as_read "kernel stops 50 s" "g=$tmp/kg50.csv"
# errors as reading whole gives them: a point selected without timestamps, a bad row
same_as_read "CSV #hw (no hw timestamps)" "g=$tmp/a.csv#hw"
grep -q "a.csv: no hw timestamps in this tping file" "$tmp/s.err" || fail "#hw: $(cat "$tmp/s.err")"
sed '5000s/^[0-9]*,/x,/' "$tmp/a.csv" >"$tmp/bad.csv"
same_as_read "CSV with a bad row" "g=$tmp/bad.csv"
grep -q "bad.csv" "$tmp/s.err" || fail "bad row: $(cat "$tmp/s.err")"
# beside a pipe (read once: the analysis streams, or fails saying why): the report of the same
# capture given as a file; a tping file whose rows reach back 70 s cannot stream: exit 1
cc -O2 -o "$tmp/icmpgen" "${VMDELAY_ROOT:-.}/tests/bench/icmpgen.c" || exit 1
"$tmp/icmpgen" 20000 5 rr 0 1000000 >"$tmp/l0.pcap" || exit 1
"$AN" -q --json "g=$tmp/a.csv" "p=$tmp/l0.pcap" 2>"$tmp/f.err" | sed "s|$tmp/l0.pcap|/dev/stdin|g" >"$tmp/f.out"
cat "$tmp/l0.pcap" | "$AN" -q --json "g=$tmp/a.csv" p=/dev/stdin >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
[ "$rc" = 0 ] && cmp -s "$tmp/f.out" "$tmp/p.out" && grep -q '"probes": [1-9]' "$tmp/p.out" ||
	fail "beside a pipe: exit $rc: $(head -c 300 "$tmp/p.err") $(diff "$tmp/f.out" "$tmp/p.out" | head -n 4)"
cat "$tmp/l0.pcap" | "$AN" -q --json "g=$tmp/w70.csv" p=/dev/stdin >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
[ "$rc" = 1 ] && grep -q "w70.csv: row [0-9]*: a [a-z]* time more than 60 s before a later row's" "$tmp/p.err" ||
	fail "rows 70 s back beside a pipe: exit $rc: $(cat "$tmp/p.err")"
cat "$tmp/l0.pcap" | "$AN" -q --json "g=$tmp/kg80.csv" p=/dev/stdin >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
[ "$rc" = 1 ] && grep -q "kg80.csv: row [0-9]*: kernel timestamps again after none for more than 60 s" "$tmp/p.err" ||
	fail "kernel back after 80 s beside a pipe: exit $rc: $(cat "$tmp/p.err")"
for f in ks kg50; do
	cat "$tmp/l0.pcap" | "$AN" -q --json "g=$tmp/$f.csv" p=/dev/stdin >/dev/null 2>"$tmp/p.err" ||
		fail "$f beside a pipe: $(cat "$tmp/p.err")"
done
# streamed, not read whole: 1,000,000 probes (96 MB) take less memory than reading them whole
# (--pcapng-out reads whole, and fails after the report: no trace to write); release build 117
# against 187 MiB, ASan 272 against 400 MiB
if [ -x /usr/bin/time ]; then
	python3 "$gen" "$tmp/big.csv" csv 1000000 || exit 1
	/usr/bin/time -f %M -o "$tmp/s.rss" "$AN" -q --json "g=$tmp/big.csv" >/dev/null 2>"$tmp/s.err" ||
		fail "1,000,000 probes: $(cat "$tmp/s.err")"
	/usr/bin/time -f %M -o "$tmp/w.rss" "$AN" -q --json --pcapng-out "$tmp/none.pcapng" \
		"g=$tmp/big.csv" >/dev/null 2>&1
	s_rss=$(tail -n 1 "$tmp/s.rss") w_rss=$(tail -n 1 "$tmp/w.rss")
	((s_rss * 5 < w_rss * 4)) ||
		fail "1,000,000 probes: peak RSS streamed $s_rss kB, not under 4/5 of reading whole's $w_rss kB"
	# kernel timestamps stop at probe 20,000: the user point's events do not wait for the end
	# of the file (release build 93 against 131 MiB read whole, before 137 MiB streamed)
	python3 "$gen" "$tmp/big.csv" csv 1000000 10000 1 20000 || exit 1
	/usr/bin/time -f %M -o "$tmp/s.rss" "$AN" -q --json "g=$tmp/big.csv" >"$tmp/s.out" 2>"$tmp/s.err" ||
		fail "1,000,000 probes, kernel stops early: $(cat "$tmp/s.err")"
	/usr/bin/time -f %M -o "$tmp/w.rss" "$AN" -q --json --pcapng-out "$tmp/none.pcapng" \
		"g=$tmp/big.csv" >"$tmp/w.out" 2>/dev/null
	s_rss=$(tail -n 1 "$tmp/s.rss") w_rss=$(tail -n 1 "$tmp/w.rss")
	cmp -s "$tmp/s.out" "$tmp/w.out" || fail "1,000,000 probes, kernel stops early: reports differ"
	((s_rss * 10 < w_rss * 9)) ||
		fail "1,000,000 probes, kernel stops early: peak RSS streamed $s_rss kB, not under 9/10 of reading whole's $w_rss kB"
fi
((fails == 0)) || exit 1
echo "tping stream: the streamed reports equal those computed after reading"
