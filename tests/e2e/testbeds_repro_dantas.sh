#!/usr/bin/env bash
# timeout: 1500
# Dantas et al. (Table 2, Figure 2), reduced: ICMP probes from the measurement VM (e1000) at
# 1000 Hz with 0 and 2 CPU-busy background VMs, with and without a reserved core, and at 1 Hz
# idle. The measurement VM itself is never loaded. Asserts the paper's directions: busy VMs
# raise the RTT of an unreserved VM; the reserved core keeps it lower; probing at 1000 Hz gives a
# lower RTT than at 1 Hz.
. "${VMDELAY_ROOT:-.}/tests/e2e/lib/testbeds_repro.bash"
need_qemu
repro_run dantas-1000hz --set background_vms=0,2 --set probe_count=100 --set rest=20
repro_run dantas-1hz --set background_vms=0 --set pinning=yes --set probe_count=10 --set rest=3
# Columns: 1 busy VMs, 2 nic, 3 reserved core, 4 RTT median (ms).
idle=$(repro_cell dantas-1000hz 4 0 e1000 no) busy=$(repro_cell dantas-1000hz 4 2 e1000 no)
assert_gt "$busy" "$idle" "1000 Hz, no reserved core: RTT median, 2 busy VMs vs idle"
assert_gt "$busy" "$(repro_cell dantas-1000hz 4 2 e1000 yes)" \
	"1000 Hz, 2 busy VMs: RTT median without vs with a reserved core"
assert_gt "$(repro_cell dantas-1hz 4 0 e1000 yes)" "$(repro_cell dantas-1000hz 4 0 e1000 yes)" \
	"idle, reserved core: RTT median at 1 Hz vs at 1000 Hz"
repro_done
