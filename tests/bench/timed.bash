# timed.bash — sourced by the benchmarks (not one itself: run.sh runs only *.sh), after
# common.bash's bench_setup. CPU time is user + sys (on a shared machine the wall clock mostly
# measures the neighbours), to the microsecond (tests/bench/cputime.c: /usr/bin/time's
# hundredths were a step of 12% of a bare read loop over 2 million packets). Each function
# exits the benchmark when a command fails. Needs $tmp and $runs.
#   timed CMD...        runs CMD $runs times (stdout discarded); prints the best
#                       "cpu_seconds maxrss_kb"
#   timed_vs BASE... -- CMD...
#                       runs BASE then CMD, $runs rounds in turn (so that both see the same
#                       neighbours); prints "base_best cmd_best ratio ratio_lo ratio_hi
#                       maxrss_kb": ratio is base_best / cmd_best, lo and hi the lowest and
#                       highest base / cmd of a round (the spread), maxrss CMD's peak
# shellcheck shell=bash disable=SC2154 # runs and tmp come from the sourcing benchmark
[ -x "$tmp/cputime" ] || bench_cc cputime

# cpu_once CMD...: "cpu_seconds maxrss_kb" of one run
cpu_once() {
	"$tmp/cputime" "$tmp/err" "$@" >"$tmp/cpu" ||
		{ echo "bench: $* failed: $(tail -n 3 "$tmp/err")" >&2; exit 1; }
	cat "$tmp/cpu"
}

timed() {
	local i
	for ((i = 0; i < runs; i++)); do
		cpu_once "$@"
	done | awk '$1 > 0 && (b == "" || $1 < b) { b = $1; m = $2 } END { print b, m }'
}

timed_vs() {
	local base=() i
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		base+=("$1")
		shift
	done
	shift
	for ((i = 0; i < runs; i++)); do
		echo "$(cpu_once "${base[@]}") $(cpu_once "$@")"
	done | awk '{ r = ($3 > 0 ? $1 / $3 : 0)
		if (NR == 1 || $1 < b) b = $1
		if (NR == 1 || $3 < c) { c = $3; m = $4 }
		if (NR == 1 || r < lo) lo = r
		if (NR == 1 || r > hi) hi = r }
		END { printf "%.6f %.6f %.3f %.3f %.3f %d\n", b, c, (c > 0 ? b / c : 0), lo, hi, m }'
}
