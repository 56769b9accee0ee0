# timed.bash — sourced by the benchmarks (not one itself: run.sh runs only *.sh).
# timed CMD...: runs CMD $runs times (stdout discarded) and prints the best "cpu_seconds
# maxrss_kb", CPU time being user + sys (on a shared machine the wall clock mostly measures the
# neighbours). Needs $tmp and $runs; exits when CMD fails.
# shellcheck shell=bash disable=SC2154 # runs and tmp come from the sourcing benchmark
timed() {
	local best="" i out
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -o "$tmp/time" -f '%U %S %M' "$@" >/dev/null 2>"$tmp/err" ||
			{ echo "bench: $* failed: $(tail -n 3 "$tmp/err")" >&2; exit 1; }
		out=$(tail -n 1 "$tmp/time" | awk '{ print $1 + $2, $3 }')
		best=$(printf '%s\n%s\n' "$best" "$out" |
			awk 'NF == 2 && (b == "" || $1 < b) { b = $1; m = $2 } END { print b, m }')
	done
	echo "$best"
}
