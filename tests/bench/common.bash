# common.bash — sourced by the benchmarks (not one itself: run.sh runs only *.sh).
#   bench_setup NAME   root, bin, runs (BENCH_RUNS, 3) and lib (the release libvmdelay.a); builds
#                      the release tree when lib or vmdelay-analyze is missing; $tmp, a fresh
#                      directory removed on exit (a benchmark with more to clean sets its own trap)
#   bench_cc PROG ARGS...   compiles tests/bench/PROG.c -O2 into $tmp/PROG, ARGS after the source
#   bench_cc_readers        $tmp/readers_bench (tests/bench/readers_bench.c) against $lib
# shellcheck shell=bash disable=SC2034 # root, bin, runs and lib are for the sourcing benchmark
bench_setup() {
	root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
	bin=${VMDELAY_BIN:-$root/build/release/bin}
	runs=${BENCH_RUNS:-3}
	lib="$root/build/release/libvmdelay.a"
	[ -f "$lib" ] && [ -x "$bin/vmdelay-analyze" ] || make -C "$root" VARIANT=release all >/dev/null
	tmp=$(mktemp -d "/tmp/vd-bench-$1.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
}

bench_cc() {
	local prog=$1
	shift
	${CC:-cc} -O2 -o "$tmp/$prog" "$root/tests/bench/$prog.c" "$@"
}

bench_cc_readers() {
	bench_cc readers_bench -std=gnu11 -I"$root/include" "$lib" -lpcap -lz -lzstd -lsqlite3 -ljansson -lm
}
