#!/usr/bin/env bash
# demo.sh — the main job (`make demo`, issue 6): tping's classic run (200 probes, 100-byte
# padding, 250 ms apart, 20 at rest before and after) across the netns testbed while a neighbour
# keeps a CPU busy; per-layer analysis; the run stored in ./vmdelay.db. About a minute and a half.
#
#   testbeds/demo.sh [--qemu] [testbeds/run options...]
#
# --qemu runs the same scenario on the qemu testbed (a real guest) when its harness is there.
# Environment: VMDELAY_DEMO_DB (default ./vmdelay.db), VMDELAY_DEMO_OUT (default ./demo-runs).
set -u -o pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
db=${VMDELAY_DEMO_DB:-./vmdelay.db}
out=${VMDELAY_DEMO_OUT:-./demo-runs}
sets=()
if [[ ${1:-} == --qemu ]]; then
	shift
	sets=(--set testbed=qemu)
fi

if ((EUID != 0)); then
	echo "demo: the netns testbed creates network namespaces: run 'make demo' as root" >&2
	exit 1
fi
for t in tping vmdelay-analyze; do
	if [ ! -x "$root/build/release/bin/$t" ]; then
		echo "demo: $root/build/release/bin/$t is missing: 'make demo' builds it (make VARIANT=release all)" >&2
		exit 1
	fi
done

echo "demo: 200 tping probes across the netns testbed (guest -> bridge -> peer), 20 at rest" \
	"before and after, one busy neighbour; about 1.5 minutes" >&2
"$here/run" --db "$db" --out "$out" --bin "$root/build/release/bin" "${sets[@]}" "$@" \
	"$here/scenarios/demo.scn"
rc=$?
if ((rc != 0)); then
	echo "demo: the run failed (exit $rc); see the messages above" >&2
	exit "$rc"
fi
dir=$(ls -td "$out"/demo-* 2>/dev/null | head -n 1)

# The headline, as in Whiteaker et al. Table 1: each layer's added RTT, median and p99 per
# phase, from the analysis run just stored (the full tables are above).
echo
echo "Per-layer ΔRTT (µs), median / p99, from the stored run:"
sqlite3 -column -header "$db" "
  WITH r AS (SELECT rowid AS rid, * FROM results WHERE direction = 'rtt' AND metric IN ('delta', 'total')
             AND run_id = (SELECT max(id) FROM runs WHERE tool = 'vmdelay-analyze' AND complete)),
  cell(layer, phase, txt, ord) AS (
    SELECT vantage, phase,
           printf('%.1f / %.1f', max(CASE WHEN stat = 'median_ns' THEN value END) / 1e3,
                                 max(CASE WHEN stat = 'p99_ns' THEN value END) / 1e3),
           min(rid)
    FROM r GROUP BY vantage, phase)
  SELECT layer AS \"layer (inner vantage)\",
         max(CASE WHEN phase = 'rest-pre' THEN txt END) AS \"at rest before\",
         max(CASE WHEN phase = 'load' THEN txt END) AS \"under load\",
         max(CASE WHEN phase = 'rest-post' THEN txt END) AS \"at rest after\"
  FROM cell GROUP BY layer ORDER BY min(ord);" ||
	echo "demo: could not read the stored results from $db" >&2
echo
echo "demo: runs stored in $(cd "$(dirname "$db")" && pwd)/$(basename "$db")"
echo "demo: traces, tables and plots in $(cd "$dir" && pwd)/ (plots/*.svg: RTT and per-layer CDFs, send/receive PDFs, RTT over time)"
echo "demo: compare stored runs with: $root/build/release/bin/vmdelay-analyze compare --db $db"
