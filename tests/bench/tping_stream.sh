#!/usr/bin/env bash
# tping files streamed against read whole, in the same run: BENCH_PROBES (2000000) probes as
# tping writes them (tests/e2e/lib/tping_rows_gen.py: rows in completion order, 1 ms apart,
# kernel and user timestamps: 2 vantage points) in CSV, JSON lines and SQLite (the probes table
# tping --db fills). Each file is split into its points and read once for all of them
# (docs/methodology.md, "Memory"); reading whole is the same analysis forced by --pcapng-out,
# which with only tping files fails after the report (exit 1, expected here). Per format: CPU
# seconds (best of BENCH_RUNS, 3, alternating), whole / streamed (the ratio, with the lowest
# and highest of a round), peak RSS of both, and with strace installed how many times the
# bytes of the file were read when streamed (1.00: once). BENCH_BASE=BIN (another build's
# vmdelay-analyze, e.g. main's): then also its streamed CPU against this build's, a fresh copy of
# each alternating in the same rounds (base / this: above 1, this build is faster). Never fails
# on speed.
set -eu
. "$(dirname "$0")/common.bash"
bench_setup tping_stream
n=${BENCH_PROBES:-2000000}
gen="$root/tests/e2e/lib/tping_rows_gen.py"
. "$root/tests/bench/timed.bash"
# the file the linker wrote can run slower than a copy of it (tests/bench/match.sh)
cp "$bin/vmdelay-analyze" "$tmp/analyze"
base_bin=${BENCH_BASE:-}
[ -z "$base_bin" ] || cp "$base_bin" "$tmp/base"
whole() {
	local rc=0
	"$tmp/analyze" -q --json --pcapng-out "$tmp/none.pcapng" "$1" >/dev/null 2>"$tmp/whole.err" || rc=$?
	[ "$rc" = 1 ] && grep -q "no vantage point is a packet trace" "$tmp/whole.err"
}
export -f whole
export tmp

python3 "$gen" "$tmp/p.csv" csv "$n"
python3 "$gen" "$tmp/p.json" json "$n"
python3 - "$tmp/p.csv" "$tmp/p.db" <<'EOF'
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE probes (run_id INTEGER, idx INTEGER, seq INTEGER, phase TEXT, status TEXT,"
           " user_tx_ns INTEGER, kernel_tx_ns INTEGER, hw_tx_ns INTEGER, kernel_rx_ns INTEGER,"
           " hw_rx_ns INTEGER, user_rx_ns INTEGER, PRIMARY KEY (run_id, idx))")
v = lambda r, c: int(r[c]) if r[c] else None
db.executemany("INSERT INTO probes VALUES (1,?,?,?,?,?,?,NULL,?,NULL,?)",
               ((i, int(r["seq"]), r["phase"] or "load", r["status"], v(r, "user_tx_ns"),
                 v(r, "kernel_tx_ns"), v(r, "kernel_rx_ns"), v(r, "user_rx_ns"))
                for i, r in enumerate(csv.DictReader(open(sys.argv[1])))))
db.commit()
EOF

# times_read FILE: the bytes read from FILE by the streamed analysis over its size
times_read() {
	strace -o "$tmp/strace" -e trace=openat,read,pread64,close "$tmp/analyze" -q --json "$1" >/dev/null
	awk -v f="$1" -v size="$(stat -c %s "$1")" '
		/^openat\(/ && index($0, "\"" f "\"") { split($0, a, "= "); fd[a[2] + 0] = 1; next }
		/^(read|pread64)\(/ { split($0, a, "[(,]"); if (fd[a[2] + 0]) { split($0, b, "= "); n += b[2] } }
		/^close\(/ { split($0, a, "[()]"); delete fd[a[2] + 0] }
		END { printf "%.2f", n / size }' "$tmp/strace"
}

printf '%-22s %9s %9s %7s %13s %10s %10s %6s\n' "$n probes (best of $runs)" "whole s" \
	"stream s" ratio "ratio lo-hi" "whole RSS" "strm RSS" "reads"
for fmt in csv json db; do
	file="$tmp/p.$fmt"
	read -r wc sc ratio lo hi srss <<<"$(timed_vs bash -c 'whole "$1"' _ "$file" -- \
		"$tmp/analyze" -q --json "$file")"
	read -r _ wrss <<<"$(runs=1 timed bash -c 'whole "$1"' _ "$file")"
	reads=-
	command -v strace >/dev/null && reads=$(times_read "$file")
	printf '%-22s %9.3f %9.3f %7.2f %13s %10s %10s %6s\n' "tping $fmt, 2 points" "$wc" "$sc" \
		"$ratio" "$lo-$hi" "$((wrss / 1024)) MiB" "$((srss / 1024)) MiB" "$reads"
	[ -n "$base_bin" ] || continue
	read -r bc tc ratio lo hi _ <<<"$(timed_vs "$tmp/base" -q --json "$file" -- \
		"$tmp/analyze" -q --json "$file")"
	printf '%-22s %9s %9.3f %7.2f %13s   (streamed: BENCH_BASE %.3f s / this)\n' \
		"  against BENCH_BASE" "" "$tc" "$ratio" "$lo-$hi" "$bc"
done
