#!/usr/bin/env bash
# timeout: 120
# The scenario parser (testbeds/scenario.py) through `testbeds/run --dry-run`: defaults, sweeps
# (one run per combination), full.* under --full, --set; and the errors: unknown key (file and
# line, exit 2), bad values, a missing file, a duplicate key, rate and interval both given.
# Every shipped scenario parses.
set -u
root=${VMDELAY_ROOT:-$(pwd)}
run=$root/testbeds/run
tmp=$(mktemp -d)
. "$root/testbeds/on_exit.sh"
vd_on_exit 'rm -rf "$tmp"'
fail() { echo "FAIL: $*" >&2; exit 1; }

expect() { # EXIT-CODE STDERR-REGEX ARGS... : runs --dry-run ARGS and checks both
	local want=$1 re=$2
	shift 2
	"$run" --dry-run "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" -eq "$want" ] || fail "$*: exit $rc, wanted $want ($(cat "$tmp/err"))"
	[ -z "$re" ] || grep -Eq -- "$re" "$tmp/err" || fail "$*: stderr '$(cat "$tmp/err")' lacks /$re/"
}

cat >"$tmp/ok.scn" <<'EOF'
# comment line
name = sweep-test   # trailing comment
paper = Dantas et al.
load = cpu, io
background_vms = 0,2
probe_rate = 1,1000
probe_count = 30
full.probe_count = 5000
transfer = 10 x 100KB
EOF
expect 0 '' "$tmp/ok.scn"
[ "$(wc -l <"$tmp/out")" -eq 8 ] || fail "sweep: expected 2x2x2 = 8 runs, got $(wc -l <"$tmp/out")"
grep -q 'load=io .*background_vms=2\|background_vms=2 .*load=io' "$tmp/out" || fail "sweep: io with 2 VMs missing"
grep -q 'probe_interval=0.001 probe_rate=1000' "$tmp/out" || fail "rate 1000 Hz is not an interval of 0.001 s"
grep -q 'probe_count=30 ' "$tmp/out" || fail "probe_count"
grep -q 'busy_vms=2 ' "$tmp/out" || fail "busy_vms defaults to all background VMs"
grep -q 'transfer=10_x_100KB' "$tmp/out" || fail "transfer"
grep -q 'rest=20 ' "$tmp/out" || fail "defaults: rest"
grep -q 'testbed=netns ' "$tmp/out" || fail "defaults: testbed"
expect 0 '' --full "$tmp/ok.scn"
grep -q 'probe_count=5000 ' "$tmp/out" || fail "--full: full.probe_count not applied"
expect 0 '' --set probe_count=7 --set testbed=qemu "$tmp/ok.scn"
grep -q 'probe_count=7 ' "$tmp/out" && grep -q 'testbed=qemu ' "$tmp/out" || fail "--set"

# What the runner reads (testbeds/scenario.py, one KEY<TAB>VALUE line per field, a blank line
# after each run): the sweep's values and the --set overrides make the label; values come back
# verbatim and are never evaluated.
printf 'load = cpu, io\ndescription = $(touch %s/pwned) `touch %s/pwned` ; x\n' "$tmp" "$tmp" >"$tmp/label.scn"
"$root/testbeds/scenario.py" --set probe_size=64 --set rest=3 "$tmp/label.scn" >"$tmp/blocks" ||
	fail "scenario.py: exit $?"
[ "$(grep -c '^name'$'\t''label$' "$tmp/blocks")" -eq 2 ] || fail "scenario.py: expected 2 runs"
[ "$(grep -c '^$' "$tmp/blocks")" -eq 2 ] || fail "scenario.py: expected a blank line after each run"
grep -qx $'label_values\tload=io probe_size=64 rest=3' "$tmp/blocks" ||
	fail "scenario.py: --set overrides not in the label: $(grep label_values "$tmp/blocks")"
grep -qxF "description	\$(touch $tmp/pwned) \`touch $tmp/pwned\` ; x" "$tmp/blocks" ||
	fail "scenario.py: description not verbatim: $(grep description "$tmp/blocks")"
grep -qx $'transfer_count\t0' "$tmp/blocks" && grep -qx $'message_bytes\t65536' "$tmp/blocks" ||
	fail "scenario.py: derived sizes"
expect 0 '' "$tmp/label.scn"
[ -e "$tmp/pwned" ] && fail "text from a scenario was executed"
expect 2 "--set description: the value has a line break" --set $'description=a\nb' "$tmp/label.scn"

# Errors: the file and line, exit 2.
printf 'load = cpu\n\nfrobnicate = 3\n' >"$tmp/unknown.scn"
expect 2 "unknown.scn:3: unknown key 'frobnicate'" "$tmp/unknown.scn"
printf 'load = cpux\n' >"$tmp/badload.scn"
expect 2 "badload.scn:1: bad value 'cpux': load must be one of" "$tmp/badload.scn"
printf 'probe_count = -3\n' >"$tmp/badcount.scn"
expect 2 "badcount.scn:1: bad value '-3'" "$tmp/badcount.scn"
printf 'nic = rtl8139\n' >"$tmp/badnic.scn"
expect 2 "badnic.scn:1: .*e1000 or virtio" "$tmp/badnic.scn"
printf 'background_vms = 0,,2\n' >"$tmp/emptyitem.scn"
expect 2 "emptyitem.scn:1: background_vms: empty element" "$tmp/emptyitem.scn"
printf 'transfer = lots\n' >"$tmp/badxfer.scn"
expect 2 "badxfer.scn:1: bad value 'lots'" "$tmp/badxfer.scn"
printf 'mtu = 9000\nmtu = 1500\n' >"$tmp/dup.scn"
expect 2 "dup.scn:2: key 'mtu' given twice \\(first on line 1\\)" "$tmp/dup.scn"
printf 'just words\n' >"$tmp/noeq.scn"
expect 2 "noeq.scn:1: expected 'key = value'" "$tmp/noeq.scn"
printf 'probe_rate = 10\nprobe_interval = 0.5\n' >"$tmp/both.scn"
expect 2 "both.scn:1: give probe_rate or probe_interval, not both" "$tmp/both.scn"
printf 'full.bogus = 1\n' >"$tmp/fullbad.scn"
expect 2 "fullbad.scn:1: unknown key 'bogus'" "$tmp/fullbad.scn"
expect 2 "no such scenario file" "$tmp/missing.scn"
expect 2 "--set testbed: bad value 'xen'" --set testbed=xen "$tmp/ok.scn"
expect 2 "unknown option '--bogus'" --bogus "$tmp/ok.scn"
expect 2 "no scenario given"
# A scenario with an error stops the whole invocation before anything runs.
expect 2 "unknown.scn:3" "$tmp/ok.scn" "$tmp/unknown.scn"
[ -s "$tmp/out" ] && fail "runs were printed although a scenario is bad"

# Garbage in (random bytes, and shipped scenarios with random bytes spliced in): a message and
# exit 1 or 2, or a valid parse; never a Python traceback.
ship=("$root"/testbeds/scenarios/*.scn)
for ((i = 0; i < 40; i++)); do
	if ((i % 2)); then
		head -c $((RANDOM % 600)) /dev/urandom >"$tmp/rand.scn"
	else
		f=${ship[i % ${#ship[@]}]}
		{ head -c $((RANDOM % 300)) "$f"; head -c $((RANDOM % 40)) /dev/urandom; tail -c +$((RANDOM % 300)) "$f"; } >"$tmp/rand.scn"
	fi
	"$root/testbeds/scenario.py" "$tmp/rand.scn" >/dev/null 2>"$tmp/rand.err"
	rc=$?
	{ ((rc <= 2)) && ! grep -q Traceback "$tmp/rand.err"; } ||
		{ cp "$tmp/rand.scn" "${TMPDIR:-/tmp}/scenario-crash.scn"; fail "scenario.py crashed (exit $rc) on ${TMPDIR:-/tmp}/scenario-crash.scn: $(tail -n 3 "$tmp/rand.err")"; }
	((rc == 0)) || [ -s "$tmp/rand.err" ] || fail "scenario.py: exit $rc without a message"
done

# Every shipped scenario parses, at both sizes.
n=0
for s in "$root"/testbeds/scenarios/*.scn; do
	expect 0 '' "$s"
	expect 0 '' --full "$s"
	n=$((n + 1))
done
((n >= 6)) || fail "expected the shipped scenarios (demo and five papers), found $n"
echo "scenario: ok ($n shipped scenarios parse)"
