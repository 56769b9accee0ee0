#!/usr/bin/env bash
# same_output.sh — proof that a refactoring changed nothing a user can see: builds two revisions
# of vmdelay, runs every tool's outputs (stdout, stderr, exit code, plot and store files) on the
# same inputs with each, and diffs the two output trees byte for byte.
#
#   tests/compat/same_output.sh [BASE_REV] [NEW_REV]      (or: make same-output)
#
# BASE_REV defaults to the last commit before the lib/ restructure; NEW_REV to the working tree
# (HEAD when the tree is clean). Exit 0 only if every output is identical; the summary line is
# "same_output: N outputs compared, M differ", then the first differences.
# Not part of `make check`: later changes alter outputs on purpose; run it around a refactoring.
# See tests/compat/README.md for what is compared and what is normalised.
#
# Environment: VMDELAY_SHARED (default ../shared: testdata/real), XDG_CACHE_HOME (cache of
# builds by commit and of the generated inputs, under vmdelay-compat/), SAME_OUTPUT_JOBS (make
# -j, default 2), SAME_OUTPUT_KEEP=1 keeps the output trees (path printed) for inspection.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
base_arg=${1:-205bed20bff926cb96e6926b20e0a7841213df1e}
new_arg=${2:-}
# ../shared next to the checkout; for a worktree under wt/ (wt/NAME) the one next to wt/.
shared=${VMDELAY_SHARED:-$(cd "$root/.." && pwd)/shared}
if [ -z "${VMDELAY_SHARED:-}" ] && [ ! -d "$shared" ] && [ -d "$root/../../shared/testdata" ]; then
	shared=$(cd "$root/../../shared" && pwd)
fi
real=$shared/testdata/real
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vmdelay-compat
jobs=${SAME_OUTPUT_JOBS:-2}
tools=(vmdelay-analyze tcpmon tping tperf)
started=$SECONDS

say() { printf 'same_output: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/same_output.XXXXXX") || die "cannot create a temporary directory"
worktrees=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local w
	for w in "${worktrees[@]}"; do
		git -C "$root" worktree remove --force "$w" >/dev/null 2>&1
	done
	git -C "$root" worktree prune >/dev/null 2>&1
	if [ "${SAME_OUTPUT_KEEP:-0}" = 1 ]; then
		say "outputs kept in $work/out"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -f "$real/MANIFEST.tsv" ] || die "no $real/MANIFEST.tsv (set VMDELAY_SHARED)"
resolve() { git -C "$root" rev-parse --verify --quiet "$1^{commit}" || die "unknown revision '$1'"; }
base=$(resolve "$base_arg") || exit 2
if [ -n "$new_arg" ]; then
	new=$(resolve "$new_arg") || exit 2
elif [ -z "$(git -C "$root" status --porcelain --untracked-files=normal)" ]; then
	new=$(resolve HEAD) || exit 2
else
	new=worktree # uncommitted changes: built from a copy of the tree, never cached
fi

# checkout REV DIR: a detached worktree of REV (removed on exit), or a copy of the working tree
# (tracked and untracked files, .gitignore'd ones left out) for "worktree".
checkout() {
	local rev=$1 dir=$2
	if [ "$rev" = worktree ]; then
		mkdir -p "$dir"
		(cd "$root" && git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -C "$dir" -xf - || return 1
	else
		git -C "$root" worktree add --detach "$dir" "$rev" >/dev/null 2>&1 || return 1
		worktrees+=("$dir")
	fi
}

# build REV: sets bin_dir to the release binaries of REV, from the cache when a build of that
# commit is there. src_dir is set to the checkout when one was needed.
build() {
	local rev=$1 dest=$cache/build/$1
	src_dir=
	if [ "$rev" != worktree ] && [ -f "$dest/complete" ]; then
		bin_dir=$dest/bin
		say "build of ${rev:0:12}: cached ($dest)"
		return 0
	fi
	src_dir=$work/src-$rev
	checkout "$rev" "$src_dir" || die "cannot check out $rev"
	say "building ${rev:0:12} (release; log $work/build-$rev.log)"
	make -C "$src_dir" -j"$jobs" VARIANT=release all >"$work/build-$rev.log" 2>&1 ||
		{ tail -n 20 "$work/build-$rev.log" >&2; die "build of $rev failed"; }
	if [ "$rev" = worktree ]; then
		bin_dir=$src_dir/build/release/bin
		return 0
	fi
	if ! { rm -rf "$dest" && mkdir -p "$dest" && cp -a "$src_dir/build/release/bin" "$dest/"; }; then
		die "cannot write the cache $dest"
	fi
	touch "$dest/complete"
	bin_dir=$dest/bin
}

build "$base"
base_bin=$bin_dir base_src=$src_dir
build "$new"
new_bin=$bin_dir

# ---- Inputs: generated once from BASE's sources and kept in the cache, so both revisions read
# the very same files at the very same paths (paths appear in outputs).
inputs=$cache/inputs/$base
need_base_src() {
	if [ -z "$base_src" ]; then
		base_src=$work/src-$base
		checkout "$base" "$base_src" || die "cannot check out $base"
	fi
}

# The generators of tests/golden, compiled as tests/e2e/analyze_tcm.sh, tcp_agg.sh and
# analyze_synth.sh compile them at BASE.
make_generated() {
	local g=$inputs/gen s=$base_src
	mkdir -p "$g" || return 1
	# The library files they need, wherever BASE keeps them (lib/ was flat, then in layers).
	local lib=() name file
	for name in tcmrec mem err output vdtime json; do
		file=$(find "$s/lib" -name "$name.c" | head -n 1)
		[ -n "$file" ] && lib+=("$file")
	done
	cc -std=gnu11 -O1 -I"$s/include" -I"$s/lib" -I"$s/tests/golden" -o "$work/gen_tcm" "$s/tests/golden/gen_tcm.c" \
		"$s/tests/golden/tcm_synth.c" "${lib[@]}" -lm || return 1
	cc -std=gnu11 -O1 -I"$s/include" -I"$s/lib" -I"$s/tests/golden" -o "$work/gen_tcpagg" \
		"$s/tests/golden/gen_tcpagg.c" "$s/tests/golden/tcm_synth.c" "${lib[@]}" -lpcap -lm || return 1
	cc -O2 -o "$work/gen_probes" "$s/tests/golden/gen_probes.c" -lm || return 1
	"$work/gen_tcm" "$g/stable.tcm" 51 >"$g/stable.truth" &&
		"$work/gen_tcm" "$g/unstable.tcm" 51 unstable >"$g/unstable.truth" &&
		"$work/gen_tcm" "$g/ipv6.tcm" 51 ipv6 >"$g/ipv6.truth" || return 1
	"$work/gen_tcpagg" "$g/agg_guest.dat" "$g/agg_tap.pcap" >"$g/agg.numbers" &&
		"$work/gen_tcpagg" --icmp "$g/icmp.tcm" || return 1
	mkdir -p "$g/synth" && "$work/gen_probes" "$g/synth" 400 7 || return 1
	# damaged record files, as the e2e tests make them
	head -c 400 "$g/stable.tcm" >"$g/cut400.tcm"
	head -c 300 "$g/agg_guest.dat" >"$g/cut300.tcm"
	printf 'VDTCPMON' >"$g/magic-only.tcm"
	cp "$s/tests/fuzz/fuzz_tcmrec.corpus/three-records.tcm" "$g/three-records.tcm" || return 1
	head -c 300 "$g/three-records.tcm" >"$g/three-cut.tcm"
	cp "$g/three-records.tcm" "$g/bad-magic.tcm" &&
		printf 'X' | dd of="$g/bad-magic.tcm" bs=1 seek=0 conv=notrunc 2>/dev/null
	# the golden synthetic run of tests/golden/analyze_synth
	mkdir -p "$inputs/golden" && cp "$s"/tests/golden/analyze_synth/{wire.pcap,bridge.pcap,tping.csv} "$inputs/golden/"
	# broken inputs of tests/e2e/analyze_errors.sh and tcp_badinput.sh
	local b=$inputs/bad
	mkdir -p "$b" && : >"$b/empty.pcap"
	head -c 300 "$real/5-pings.pcap" >"$b/cut.pcap"
	printf 'hello, world\n' >"$b/notes.txt"
	printf 'seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,abc,5\n' >"$b/bad.csv"
	printf 'a,b\n1,2\n' >"$b/not-tperf.csv"
}

# The netns demo (testbeds/demo.sh, `make demo`), run once with BASE's build; its traces and
# store are kept. Needs root and network namespaces; else a SKIPPED note says why.
make_demo() {
	local d=$inputs/demo
	rm -rf "$d" && mkdir -p "$d" || return 1
	if ((EUID != 0)); then
		echo "the netns testbed needs root" >"$d/SKIPPED"
		return 0
	fi
	local ns=vdcompat$$
	if ! ip netns add "$ns" 2>/dev/null; then
		echo "cannot create a network namespace (ip netns add)" >"$d/SKIPPED"
		return 0
	fi
	ip netns del "$ns"
	mkdir -p "$base_src/build/release" && rm -rf "$base_src/build/release/bin" &&
		cp -a "$base_bin" "$base_src/build/release/bin" || return 1
	say "running the netns demo once with ${base:0:12} (about 1.5 minutes; log $d/demo.log)"
	if ! (cd "$d" && VMDELAY_DEMO_DB="$d/demo.db" VMDELAY_DEMO_OUT="$d/runs" \
		"$base_src/testbeds/demo.sh" >"$d/demo.log" 2>&1); then
		echo "testbeds/demo.sh failed (see $d/demo.log)" >"$d/SKIPPED"
		return 0
	fi
	local run
	run=$(find "$d/runs" -mindepth 1 -maxdepth 1 -type d -name 'demo-*' | head -n 1)
	local f
	for f in peer.pcap bridge.pcap guest.pcap tping.csv; do
		[ -f "$run/$f" ] || { echo "the demo left no $f" >"$d/SKIPPED"; return 0; }
		cp "$run/$f" "$d/$f"
	done
}

if [ ! -f "$inputs/complete" ]; then
	need_base_src
	rm -rf "$inputs"
	say "generating inputs with ${base:0:12}'s generators into $inputs"
	make_generated || die "cannot generate the inputs (tests/golden generators at $base)"
	make_demo || die "cannot prepare the demo traces"
	touch "$inputs/complete"
fi
if [ -f "$inputs/demo/SKIPPED" ]; then
	say "SKIPPING the netns demo traces: $(cat "$inputs/demo/SKIPPED") (rm -rf $inputs to retry)"
fi

# ---- Running one revision. Every command runs with the same binaries path ($work/bin), the
# same working directory ($work/run) and the same environment, so nothing differs but the code.
export LC_ALL=C.UTF-8 TZ=UTC VMDELAY_GNUPLOT=none
cases=0
out=
bin=$work/bin
# run NAME CMD...: stdout, stderr and exit code of CMD into $out/NAME.{out,err,rc}; a plots/
# directory or runs.db it leaves in the working directory is kept as $out/NAME.plots, .db.
run() {
	local name=$1
	shift
	cases=$((cases + 1))
	(cd "$work/run" && timeout --kill-after=5 120 "$@") >"$out/$name.out" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
	if [ -d "$work/run/plots" ]; then
		mv "$work/run/plots" "$out/$name.plots"
	fi
}
an() { run "$1" "$bin/vmdelay-analyze" "${@:2}"; }
tm() { run "$1" "$bin/tcpmon" "${@:2}"; }

# NORMALISED, the complete list: the store columns that hold the wall-clock time of the run.
# Nothing else is rewritten: the same binary path, working directory, input paths and
# environment for both revisions make every other output comparable as it is (tests/compat/README.md).
normalise_store_sql="UPDATE testbeds SET created_ns = NULL; UPDATE runs SET start_ns = NULL, end_ns = NULL;"

# store_dump NAME: the SQLite store runs.db left in $work/run as SQL text (normalised as above)
# into $out/NAME.sql, then removed.
store_dump() {
	local db=$work/run/runs.db
	cases=$((cases + 1))
	if [ ! -f "$db" ]; then
		echo "no runs.db" >"$out/$1.sql"
		return
	fi
	sqlite3 "$db" "$normalise_store_sql" >"$out/$1.sql.err" 2>&1
	sqlite3 "$db" .dump >"$out/$1.sql" 2>>"$out/$1.sql.err"
	rm -f "$db"
}

has_tcp() { # FILE: its MANIFEST row's protocol hierarchy lists TCP
	awk -F'\t' -v f="$1" '$1 == f && $7 ~ /tcp:/ { found = 1 } END { exit !found }' "$real/MANIFEST.tsv"
}

run_real() {
	local f p
	while IFS= read -r f; do
		p=$real/$f
		an "real.$f.txt" -q "$p"
		an "real.$f.csv" -q --csv "$p"
		an "real.$f.json" -q --json "$p"
		an "real.$f.ifaces.json" -q --json "$p#*"
		an "real.tcp.$f.txt" tcp "$p"
		if has_tcp "$f"; then
			an "real.tcp.$f.csv" tcp --csv "$p"
			an "real.tcp.$f.json" tcp --json "$p"
		fi
	done < <(awk -F'\t' 'NR > 1 && $1 != "" { print $1 }' "$real/MANIFEST.tsv")
	# several vantage points at once, as the tools' docs show them
	an real.multi.100_packets.txt -q x.erf="$real/100_packets.erf" x.pcap="$real/100_packets.pcap" x.pcapng="$real/100_packets.pcapng"
	an real.tcp.multi.100_packets.json tcp --json a="$real/100_packets.erf" b="$real/100_packets.pcap" c="$real/100_packets.pcapng"
	an real.fragtest.port1.json -q --json "dag=$real/fragtest.erf#1"
	an real.fragtest.rest.txt -q --rest 1 --align lsq "$real/fragtest.erf#*"
	an real.tcp.smtp.pings.txt tcp smtp="$real/suricata-verify_mime-stream-depth_input.pcap" pings="$real/5-pings.pcap"
	an real.tcp.smtp.bottleneck.json tcp --json --bottleneck 100Mbit --bin 50us --interval 100ms \
		"$real/suricata-verify_mime-stream-depth_input.pcap"
	an real.tcp.erf-ifaces.csv tcp --csv "x=$real/100_packets.erf#*"
	an real.keep-going.txt -q --keep-going "$real/pcap-invalid-version-1.pcap" "$real/shb-option-too-long.pcapng" \
		"$real/suricata-verify_http-mime-truncated_input.pcap" "$real/5-pings.pcap"
	an real.plot.txt -q --plot plots "$real/dns_icmp.pcap" "$real/5-pings.pcap"
	an real.tcp.plot.txt tcp --plot plots "$real/sll.pcap"
}

run_golden() {
	local g=$inputs/golden s=$inputs/gen/synth
	local gs=("wire:peer=$g/wire.pcap" "bridge:host=$g/bridge.pcap" "kernel:vm=$g/tping.csv#kernel" "user:vm=$g/tping.csv#user")
	local ss=("wire:peer=$s/wire.pcap" "bridge:host=$s/bridge.pcap" "kernel:vm=$s/tping.csv#kernel" "user:vm=$s/tping.csv#user")
	an golden.txt -q "${gs[@]}"
	an golden.csv -q --csv "${gs[@]}"
	an golden.json -q --json "${gs[@]}"
	an golden.lsq.json -q --json --align lsq "${gs[@]}"
	an golden.none.txt -q --align none "${gs[@]}"
	an golden.rest5.window.txt -q --rest 5 --window 50ms "${gs[@]}"
	an golden.tping-all.txt -q "$g/tping.csv"
	an golden.plot.txt -q --plot plots "${gs[@]}"
	an golden.db.txt -q --db runs.db --label golden "${gs[@]}"
	an golden.db2.txt -q --db runs.db --label again --align lsq "${gs[@]}"
	an golden.tcp.db.txt tcp --db runs.db --label agg "tap=$inputs/gen/agg_tap.pcap" "guest=$inputs/gen/agg_guest.dat"
	an golden.compare.txt compare --db runs.db
	an golden.compare.csv compare --db runs.db --csv --by label,run
	an golden.compare.json compare --db runs.db --json --by label --metric 'delta*' --phase all
	store_dump golden.store
	an synth.hull.txt -q "${ss[@]}"
	an synth.hull.csv -q --csv "${ss[@]}"
	an synth.hull.json -q --json "${ss[@]}"
	an synth.lsq.csv -q --csv --align lsq "${ss[@]}"
	an synth.lsq.json -q --json --align lsq "${ss[@]}"
	an synth.plot.txt -q --plot plots --rest 20 "${ss[@]}"
}

run_tcm() {
	local g=$inputs/gen v
	for v in stable unstable ipv6; do
		an "tcm.$v.csv" -q --csv "g:vm=$g/$v.tcm#*"
		an "tcm.$v.json" -q --json "g:vm=$g/$v.tcm#*"
		an "tcm.$v.txt" -q "g:vm=$g/$v.tcm#*"
		an "tcm.$v.dev.txt" -q "$g/$v.tcm#dev"
		an "tcm.$v.bare.txt" -q "$g/$v.tcm"
		tm "tcmdump.$v.txt" dump "$g/$v.tcm"
		tm "tcmdump.$v.csv" dump --csv "$g/$v.tcm"
		tm "tcmdump.$v.json" dump --json "$g/$v.tcm"
		tm "tcmdump.$v.header.txt" dump --header "$g/$v.tcm"
		tm "tcmdump.$v.header.csv" dump --header --csv "$g/$v.tcm"
	done
	an tcm.two-levels.csv -q --csv "ipl=$g/stable.tcm#ip-local-in" "tr=$g/stable.tcm#trans-tx"
	an tcm.cut.txt -q "g=$g/cut400.tcm#*"
	an tcm.magic-only.txt -q "$g/magic-only.tcm"
	an tcm.bad-selector.txt -q "g=$g/stable.tcm#nowhere"
	local f
	for f in agg_guest.dat icmp.tcm three-records.tcm; do
		tm "tcmdump.$f.txt" dump "$g/$f"
		tm "tcmdump.$f.csv" dump --csv "$g/$f"
		tm "tcmdump.$f.json" dump --json "$g/$f"
		tm "tcmdump.$f.header.txt" dump --header "$g/$f"
	done
	tm tcmdump.three-records.header.csv dump --header --csv "$g/three-records.tcm"
	tm tcmdump.three-cut.txt dump "$g/three-cut.tcm"
	tm tcmdump.bad-magic.txt dump "$g/bad-magic.tcm"
	tm tcmdump.nope.txt dump "$g/nope.tcm"
	tm tcmdump.cut400.csv dump --csv "$g/cut400.tcm"
	local agg=("tap=$g/agg_tap.pcap" "guest=$g/agg_guest.dat")
	an tcp.agg.txt tcp "${agg[@]}"
	an tcp.agg.csv tcp --csv "${agg[@]}"
	an tcp.agg.json tcp --json "${agg[@]}"
	an tcp.agg.reversed.csv tcp --csv "guest=$g/agg_guest.dat" "tap=$g/agg_tap.pcap"
	an tcp.agg.icmp-tcm.csv tcp --csv "tap=$g/agg_tap.pcap" "guest=$g/icmp.tcm"
	an tcp.icmp-tcm-alone.txt tcp "$g/icmp.tcm"
	an tcp.tcm-selector.txt tcp "$g/agg_guest.dat#eth0"
	an tcp.tcm-cut.txt tcp "tap=$g/agg_tap.pcap" "$g/cut300.tcm"
	an tcp.agg.plot.txt tcp --plot plots "${agg[@]}"
}

run_demo() {
	local d=$inputs/demo
	[ -f "$d/SKIPPED" ] && return 0
	local vs=("wire=$d/peer.pcap" "bridge=$d/bridge.pcap" "guest.kernel=$d/tping.csv#kernel" "vif=$d/guest.pcap" "guest.user=$d/tping.csv#user")
	an demo.txt --rest 20 -q "${vs[@]}"
	an demo.csv --rest 20 -q --csv "${vs[@]}"
	an demo.json --rest 20 -q --json "${vs[@]}"
	an demo.lsq.json --rest 20 -q --json --align lsq "${vs[@]}"
	an demo.plot.txt --rest 20 -q --plot plots "${vs[@]}"
	an demo.db.txt --rest 20 -q --db runs.db --label demo "${vs[@]}"
	store_dump demo.store
	local f
	for f in peer.pcap bridge.pcap guest.pcap tping.csv; do
		an "demo.$f.json" -q --json "$d/$f"
		an "demo.tcp.$f.txt" tcp "$d/$f"
	done
	an demo.tcp.txt tcp "bridge=$d/bridge.pcap" "vif=$d/guest.pcap"
	# the store the demo wrote with BASE, read back
	an demo.compare.txt compare --db "$d/demo.db"
	an demo.compare.csv compare --db "$d/demo.db" --csv --by testbed,scenario,load,label
	an demo.compare.json compare --db "$d/demo.db" --json --phase load
}

# The error paths and command lines of tests/e2e/analyze_errors.sh, tcp_badinput.sh,
# tcpmon_cli.sh, tping_errors.sh (option checks only: nothing is sent) and tcp_badinput's tperf part.
run_errors() {
	local b=$inputs/bad good=$real/5-pings.pcap
	an err.missing.txt -q "$b/nope.pcap"
	an err.empty.txt -q "$b/empty.pcap"
	an err.cut.txt -q "$b/cut.pcap"
	an err.notes.txt -q "$b/notes.txt"
	an err.bad-csv.txt -q "$b/bad.csv"
	an err.space-name.txt -q "wi re=x.pcap"
	an err.empty-clock.txt -q "wire:=x.pcap"
	an err.no-path.txt -q "wire="
	an err.no-vantage.txt -q --csv
	an err.no-args.txt
	an err.align.txt -q --align best "$good"
	an err.rest.txt -q --rest 0 "$good"
	an err.csv-json.txt -q --csv --json "$good"
	an err.bogus.txt -q --bogus "$good"
	an err.window.txt -q --window 2d "$good"
	an err.empty-select.txt -q "x=$good#"
	an err.no-iface.txt -q "$good#eth7"
	an err.keep-going.txt -q --keep-going "$b/nope.pcap" "$b/cut.pcap" "$good"
	an err.unknown-command.txt frobnicate
	an help.txt --help
	an version.txt --version
	an help.tcp.txt tcp --help
	an help.compare.txt compare --help
	an err.compare-no-db.txt compare
	an err.compare-missing-db.txt compare --db "$b/nope.db"
	an err.compare-by.txt compare --db "$b/nope.db" --by colour
	an err.tcp.no-trace.txt tcp
	an err.tcp.iface7.txt tcp "$real/100_packets.erf#7"
	an err.tcp.bad-name.txt tcp "bad name=$real/100_packets.erf"
	an err.tcp.missing.txt tcp "$b/nope.pcap"
	an err.tcp.not-tperf.txt tcp --transfers "$b/not-tperf.csv"
	an err.tcp.bin.txt tcp --bin 0us "$good"
	an err.tcp.bottleneck.txt tcp --bottleneck fast "$good"
	an err.tcp.run.txt tcp --run 3 "$good"
	an err.tcp.csv-json.txt tcp --csv --json "$good"
	tm help.tcpmon.txt --help
	tm version.tcpmon.txt --version
	tm err.tcpmon.none.txt
	tm err.tcpmon.frob.txt frob
	tm err.tcpmon.record.txt record
	tm err.tcpmon.count.txt record -w x.tcm -c x
	tm err.tcpmon.seconds.txt record -w x.tcm -G -1
	tm err.tcpmon.udp.txt start udp
	tm err.tcpmon.port.txt start port 70000
	tm err.tcpmon.layer.txt start layers nic
	tm err.tcpmon.dump.txt dump
	tm err.tcpmon.dump-two.txt dump a.tcm b.tcm
	tm err.tcpmon.dump-csv-json.txt dump --csv --json "$inputs/gen/three-records.tcm"
	# without the module (this host cannot load it) the control commands only say so
	if ! grep -qw vd_tcpmon /proc/net/genetlink 2>/dev/null; then
		tm err.tcpmon.stats.txt stats
		tm err.tcpmon.start.txt start
	fi
	local t=$bin/tperf
	run help.tperf.txt "$t" --help
	run version.tperf.txt "$t" --version
	run err.tperf.none.txt "$t"
	run err.tperf.bogus.txt "$t" bogus
	run err.tperf.no-size.txt "$t" send 127.0.0.1
	run err.tperf.r10.txt "$t" send 127.0.0.1 -r 10
	run err.tperf.port.txt "$t" send 127.0.0.1 -n 1K -p 70000
	run err.tperf.count.txt "$t" sink -c 0
	run err.tperf.label.txt "$t" send 127.0.0.1 -n 1K --label x
	local p=$bin/tping a i=0
	run help.tping.txt "$p" --help
	run version.tping.txt "$p" --version
	run err.tping.no-host.txt "$p" -c 1
	for a in "--bogus" "-c abc" "--count=0" "-s 99999" "-W nope" "--csv --json" "-o x.csv" "--label x" "-4 -6" "-x"; do
		i=$((i + 1))
		# shellcheck disable=SC2086 # the options are words
		run "err.tping.$i.txt" "$p" $a 127.0.0.1
	done
}

run_revision() { # LABEL BIN_DIR
	out=$work/out/$1
	if ! { rm -rf "$bin" "$work/run" && mkdir -p "$out" "$work/run" && cp -a "$2" "$bin"; }; then
		die "cannot stage $2"
	fi
	local t
	for t in "${tools[@]}"; do
		[ -x "$bin/$t" ] || die "$2 has no $t"
	done
	cases=0
	local t0=$SECONDS
	run_real
	run_golden
	run_tcm
	run_demo
	run_errors
	say "$1: $cases commands run in $((SECONDS - t0)) s"
}

say "base ${base:0:12}, new ${new:0:12}"
run_revision base "$base_bin"
run_revision new "$new_bin"

# ---- Compare. Every file of either tree counts as one output (stdout, stderr, exit code, plot
# and store files); a file present on one side only differs.
cd "$work/out" || die "no output tree"
# A command both revisions ran into the timeout would compare equal and prove nothing.
hung=$(grep -lx 124 base/*.rc new/*.rc 2>/dev/null | sed 's/\.rc$//')
[ -z "$hung" ] && hung_n=0 || hung_n=$(wc -l <<<"$hung")
total=$(find base new -type f | sed 's,^[^/]*/,,' | sort -u | wc -l)
differ=$(diff -rq base new | wc -l)
echo "same_output: $total outputs compared, $differ differ" \
	"($cases commands per revision; base ${base:0:12}, new ${new:0:12}; $((SECONDS - started)) s)"
if ((hung_n > 0)); then
	echo "same_output: $hung_n commands timed out (120 s):"
	head -n 20 <<<"$hung"
fi
if ((differ > 0)); then
	diff -rq base new | head -n 40
	echo "--- first differences:"
	diff -ru base new | head -n 120
fi
((differ == 0 && hung_n == 0))
