#!/usr/bin/env bash
# testbeds_repro.bash — sourced by tests/e2e/testbeds_repro_*.sh: each runs a reduced version
# of one paper's scenario through testbeds/run and asserts the direction of the paper's effect
# on the stored results (testbeds/summary.py reads them back). These runs take minutes under
# TCG, so they run under `make check-testbeds` only (it sets VMDELAY_CHECK_TESTBEDS=1); in
# `make check` they skip.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
if [ "${VMDELAY_CHECK_TESTBEDS:-0}" != 1 ]; then
	echo "a paper's reduced scenario (minutes): run by make check-testbeds" >&2
	exit 77
fi
((EUID == 0)) || { echo "needs root for network namespaces and taps" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI not installed (make deps)" >&2; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed (make deps)" >&2; exit 77; }
# The guests run the release binaries (smaller initramfs, no sanitizer runtime in the guest).
gbin=${VMDELAY_RELEASE_BIN:-$root/build/release/bin}
for t in tping tperf vmdelay-analyze tcpmon; do
	[ -x "$gbin/$t" ] || { echo "release $t not built (make)" >&2; exit 77; }
done
tmp=$(mktemp -d)
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
repro_cleanup() {
	local id
	# A run killed half way leaves its namespace: remove it by the run id it printed.
	for id in $(sed -n 's/.*testbed \(qemu\|netns\) \([a-z0-9]*\):.*/\2/p' "$tmp"/*.err 2>/dev/null); do
		if ip netns list | grep -q "vdtb-$id"; then
			(. "$root/testbeds/qemu/lib.sh" && vdq_env_destroy "vdtb-$id")
			(. "$root/testbeds/netns/netns.sh" && nb_down "$id") 2>/dev/null
		fi
	done
	rm -rf "$tmp"
}
. "$root/testbeds/on_exit.sh"
vd_on_exit repro_cleanup

need_qemu() {
	command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 not installed (make deps)" >&2; exit 77; }
	ls /boot/vmlinuz-* >/dev/null 2>&1 || [ -n "${VMDELAY_KERNEL:-}" ] ||
		{ echo "no kernel image (linux-image-amd64)" >&2; exit 77; }
}

# Runs SCENARIO (a file name under testbeds/scenarios) with --set overrides into $tmp/v.db;
# fails the test when testbeds/run fails.
repro_run() { # SCENARIO [--set K=V]...
	local s=$1
	shift
	"$root/testbeds/run" --db "$tmp/v.db" --out "$tmp" --bin "$gbin" "$@" \
		"$root/testbeds/scenarios/$s.scn" >"$tmp/$s.out" 2>"$tmp/$s.err"
	local rc=$?
	cat "$tmp/$s.err"
	if ((rc != 0)); then
		echo "FAIL: testbeds/run $s exit $rc" >&2
		exit 1
	fi
	"$root/testbeds/summary.py" --db "$tmp/v.db" --scenario "${s}" --svg "$tmp/$s.svg" \
		>"$tmp/$s.summary" || fail "summary.py $s"
	cat "$tmp/$s.summary"
	[ -s "$tmp/$s.svg" ] || fail "no plot from summary.py $s"
}

# A cell of the summary table of SCENARIO (Markdown, as summary.py prints it): the row whose
# cells 1..N equal the given keys, column COL (1-based); empty when absent or shown as "—".
repro_cell() { # SCENARIO COL KEY...
	local s=$1 col=$2
	shift 2
	awk -F'|' -v col="$col" -v keys="$*" '
		BEGIN { n = split(keys, k, " ") }
		NR > 2 {
			ok = 1
			for (i = 1; i <= n; i++) { c = $(i + 1); gsub(/^ +| +$/, "", c); if (c != k[i]) ok = 0 }
			if (ok) { c = $(col + 1); gsub(/^ +| +$/, "", c); if (c != "—") print c; exit }
		}' "$tmp/$s.summary"
}

# Asserts A > B (decimal numbers), with what they are.
assert_gt() { # A B WHAT
	if [ -z "$1" ] || [ -z "$2" ]; then
		fail "$3: missing value ('$1' vs '$2')"
	elif ! awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; then
		fail "$3: expected $1 > $2"
	else
		echo "ok: $3: $1 > $2"
	fi
}

repro_done() {
	((fails == 0)) || exit 1
	exit 0
}
