#!/usr/bin/env bash
# Runs vmdelay's tests and prints one closing line "check: N passed, N failed, N skipped".
#   tests/run.sh            every category
#   tests/run.sh unit       cmocka unit tests (build/asan/tests/test_*)
#   tests/run.sh e2e        end-to-end scripts (tests/e2e/*.sh)
#   tests/run.sh fuzz       fuzz harnesses, FUZZ_SECONDS each (default 20) from their seed corpus
#   tests/run.sh NAME       e2e scripts tests/e2e/NAME.sh and tests/e2e/NAME_*.sh (e.g. testbeds,
#                           tcpmon_bpf)
# An e2e script exits 0 (pass), 77 (skip: says why on stderr) or anything else (fail).
# Environment for the scripts: VMDELAY_BIN (sanitized tools), VMDELAY_RELEASE_BIN,
# VMDELAY_SHARED (../shared), VMDELAY_ROOT (the checkout).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export VMDELAY_ROOT="$root"
export VMDELAY_BIN="${VMDELAY_BIN:-$root/build/asan/bin}"
export VMDELAY_RELEASE_BIN="${VMDELAY_RELEASE_BIN:-$root/build/release/bin}"
export VMDELAY_SHARED="${VMDELAY_SHARED:-$(cd "$root/.." && pwd)/shared}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
what="${1:-all}"
log_dir="$root/build/test-logs"
mkdir -p "$log_dir"

pass=0 fail=0 skip=0
failed=()

record() { # name rc log
	local name=$1 rc=$2 log=$3
	if ((rc == 0)); then
		pass=$((pass + 1))
		printf 'PASS  %s\n' "$name"
	elif ((rc == 77)); then
		skip=$((skip + 1))
		printf 'SKIP  %s (%s)\n' "$name" "$(tail -n 1 "$log")"
	else
		fail=$((fail + 1))
		failed+=("$name")
		printf 'FAIL  %s (exit %d, log %s)\n' "$name" "$rc" "$log"
		tail -n 30 "$log" | sed 's/^/    | /'
	fi
}

run_unit() {
	local t
	for t in build/asan/tests/test_*; do
		[ -x "$t" ] || continue
		local name log
		name="unit/$(basename "$t")" log="$log_dir/$(basename "$t").log"
		timeout 300 "$t" >"$log" 2>&1
		record "$name" $? "$log"
	done
}

run_e2e() { # glob...
	local t
	local globs=("${@/#/tests/e2e/}")
	# shellcheck disable=SC2068 # the patterns are globs, expanded here on purpose
	for t in ${globs[@]}; do
		[ -f "$t" ] || continue
		local name log
		name="e2e/$(basename "$t" .sh)" log="$log_dir/e2e-$(basename "$t" .sh).log"
		local limit=600
		grep -q '^# timeout:' "$t" && limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t")
		timeout --kill-after=10 "$limit" bash "$t" >"$log" 2>&1
		record "$name" $? "$log"
	done
}

run_fuzz() {
	local f
	for f in build/fuzz/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		local base name corpus log
		base=$(basename "$f")
		name="fuzz/$base"
		log="$log_dir/$base.log"
		corpus="$root/build/fuzz/corpus/$base"
		rm -rf "$corpus" && mkdir -p "$corpus"
		# Seeds: the shared real captures named in tests/fuzz/NAME.seeds (read there, not copied
		# into the project), plus tests/fuzz/NAME.corpus/ if the harness keeps its own.
		if [ -f "tests/fuzz/$base.seeds" ]; then
			while read -r s; do
				[ -n "$s" ] && [ -f "$VMDELAY_SHARED/testdata/real/$s" ] &&
					cp "$VMDELAY_SHARED/testdata/real/$s" "$corpus/"
			done <"tests/fuzz/$base.seeds"
		fi
		[ -d "tests/fuzz/$base.corpus" ] && cp tests/fuzz/"$base".corpus/* "$corpus/" 2>/dev/null
		timeout $((FUZZ_SECONDS + 60)) "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 -error_exitcode=1 -artifact_prefix="$log_dir/$base-" "$corpus" >"$log" 2>&1
		record "$name" $? "$log"
	done
}

case "$what" in
all) run_unit; run_e2e '*.sh'; run_fuzz ;;
unit) run_unit ;;
e2e) run_e2e '*.sh' ;;
fuzz) run_fuzz ;;
*) run_e2e "${what}.sh" "${what}_*.sh" ;;
esac

echo
((fail)) && printf 'failed: %s\n' "${failed[*]}"
echo "check: $pass passed, $fail failed, $skip skipped"
((fail == 0 && pass > 0))
