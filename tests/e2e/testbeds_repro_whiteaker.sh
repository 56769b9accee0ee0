#!/usr/bin/env bash
# timeout: 900
# Whiteaker et al. (Table 1), reduced: probes at rest and under CPU stress in one of three
# neighbours on the netns testbed (4 load threads, more than a small machine's 2 cores, so the
# effect stands out of a shared machine's noise). Asserts the paper's direction: the user-space
# layer takes the hit (ΔUser p99 under CPU stress > at rest), and more than the kernel does.
# The noisiest of these assertions: at rest, other jobs on the machine delay tping too.
. "${VMDELAY_ROOT:-.}/tests/e2e/lib/testbeds_repro.bash"
repro_run whiteaker-table1 --set load=none,cpu --set load_threads=4 --set probe_count=80
# Columns: 1 load, 3 ΔKern p99, 5 ΔUser p99 (µs).
assert_gt "$(repro_cell whiteaker-table1 5 cpu)" "$(repro_cell whiteaker-table1 5 none)" \
	"ΔUser p99, cpu stress vs at rest"
assert_gt "$(repro_cell whiteaker-table1 5 cpu)" "$(repro_cell whiteaker-table1 3 cpu)" \
	"cpu stress: ΔUser p99 vs ΔKern p99"
repro_done
