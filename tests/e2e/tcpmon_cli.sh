#!/usr/bin/env bash
# timeout: 60
# tcpmon's command line without the module: usage errors exit 2 and name the option or word, in
# one format ("tcpmon: MESSAGE" then "Try 'tcpmon --help'."), also for flags that exclude each
# other or belong to another subcommand; the control commands say the module is not loaded
# (exit 1); dump prints a record file in text, CSV and JSON, and a damaged file is an error naming
# the file and the offset (exit 1); output to a full device is an error naming stdout (exit 1).
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${VMDELAY_BIN:-$root/build/asan/bin}
t=$bin/tcpmon
[ -x "$t" ] || { echo "tcpmon_cli: no $t (make VARIANT=asan)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tcpmon_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
expect() { # RC PATTERN CMD...: exit code RC and PATTERN in stdout+stderr
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" <<<"$out"; then
		echo "FAIL: $* -> rc $rc (want $want), output: $out"
		fails=$((fails + 1))
	else
		echo "ok: $*"
	fi
}

expect 0 'tcpmon start \[FILTER' "$t" --help
expect 0 '^tcpmon [0-9]' "$t" --version
expect 2 'a subcommand is needed: start, filter, record, stop, stats or dump' "$t"
expect 2 "unknown subcommand 'frob'" "$t" frob
expect 2 'record: -w FILE is required' "$t" record
expect 2 "-c: bad COUNT 'x'" "$t" record -w "$work/x" -c x
expect 2 "-G: bad SECONDS '-1'" "$t" record -w "$work/x" -G -1
expect 2 "unknown word 'udp'" "$t" start udp
expect 2 "bad port '70000'" "$t" start port 70000
expect 2 "unknown layer 'nic'" "$t" start layers nic
expect 2 'dump: needs exactly one FILE' "$t" dump
expect 2 "^Try 'tcpmon --help'" "$t" dump --bogus x
expect 2 "unknown option '-x'" "$t" -xq
expect 2 "unknown option '-x'" "$t" dump -xq x
expect 2 "option '--csv' goes after the subcommand" "$t" --csv dump x
expect 2 "-G: bad SECONDS '0x1p3'" "$t" record -w "$work/x" -G 0x1p3
expect 2 "-G: bad SECONDS 'inf'" "$t" record -w "$work/x" -G inf
expect 2 "only one of '--csv' and '--json'" "$t" dump --csv --json x
expect 2 "only one of '--csv' and '--json'" "$t" stats --csv --json
expect 2 "dump: option '--cost' is not one of its options" "$t" dump --cost x
expect 2 "stats: option '--header' is not one of its options" "$t" stats --header
expect 2 "stop: option '--csv' is not one of its options" "$t" stop --csv
expect 2 "option '--json' needs '--stats-every'" "$t" record -w "$work/x" --json
expect 2 "^Try 'tcpmon --help'" "$t" start udp
expect 2 "--backend: 'foo' is not kmod, bpf or auto" "$t" --backend foo stats
expect 2 'stats: the bpf backend has no stats' "$t" --backend bpf stats
expect 2 "--ring-mb: '3' is not a power of two" "$t" --backend bpf record -w "$work/x" --ring-mb 3
expect 2 '--stats-every and --prometheus need the bpf backend' "$t" --backend kmod record -w "$work/x" --prometheus 9464
expect 2 "unexpected argument 'icmp' \(with tcpmon.ko the filter is set by" "$t" --backend kmod record -w "$work/x" icmp
# the host may have no tcpmon.ko (or no module support at all)
if ! grep -qw vd_tcpmon /proc/net/genetlink 2>/dev/null && ! lsmod 2>/dev/null | grep -qw tcpmon; then
	expect 1 'module is not loaded' "$t" stats
	expect 1 'module is not loaded' "$t" start
fi

corpus=$root/tests/fuzz/fuzz_tcmrec.corpus/three-records.tcm
expect 0 'ip-local-in +rx +icmp' "$t" dump "$corpus"
expect 0 '^tsc,tsc_ns,real_ns,mono_ns,cpu,layer,dir,proto,src,dst,sport,dport,seq,ack,flags' "$t" dump --csv "$corpus"
expect 0 '"layer":"ip-pre"' "$t" dump --json "$corpus"
expect 0 '^1,m1,6.1.0-56-amd64,2000000,tsc' "$t" dump --header --csv "$corpus"
[ "$("$t" dump --csv "$corpus" | wc -l)" = 4 ] || { echo "FAIL: dump --csv rows"; fails=$((fails + 1)); }
# a bpf backend file: ktime-only, with loss windows
bpfc=$root/tests/fuzz/fuzz_tcmrec.corpus/bpf-ktime-loss.tcm
expect 0 'clocksource-tsc\+ktime-only' "$t" dump --header --csv "$bpfc"
expect 0 '^1,2,5000,$' "$t" dump --loss --csv "$bpfc"

head -c 300 "$corpus" >"$work/cut.tcm"
expect 1 'cut.tcm: offset 296: truncated block header' "$t" dump "$work/cut.tcm"
cp "$corpus" "$work/bad.tcm" && printf 'X' | dd of="$work/bad.tcm" bs=1 seek=0 conv=notrunc 2>/dev/null
expect 1 'bad.tcm: offset 0: not a tcpmon record file' "$t" dump "$work/bad.tcm"
expect 1 'nope.tcm: No such file' "$t" dump "$work/nope.tcm"

# a dump that cannot be written, and --help: exit 1 naming stdout
for args in "dump $corpus" "dump --csv $corpus" "--help"; do
	# shellcheck disable=SC2086
	"$t" $args >/dev/full 2>"$work/err"
	rc=$?
	if [ "$rc" != 1 ] || ! grep -q "^tcpmon: stdout: write error" "$work/err"; then
		echo "FAIL: tcpmon $args >/dev/full -> rc $rc: $(cat "$work/err")"
		fails=$((fails + 1))
	fi
done

((fails == 0)) || { echo "tcpmon_cli: $fails failures"; exit 1; }
echo "tcpmon_cli: all passed"
