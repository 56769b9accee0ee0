#!/usr/bin/env bash
# timeout: 900
# vSnoop (Kangarlou et al., Figure 5), reduced: 20 transfers of 100 KB from the host into the
# measurement VM, alone on CPU 0 and with 2 CPU-busy VMs on the same core (taskset on the qemu
# processes). Asserts the paper's direction: the median per-transfer throughput falls when the
# VM shares its core with busy VMs.
. "${VMDELAY_ROOT:-.}/tests/e2e/lib/testbeds_repro.bash"
need_qemu
repro_run vsnoop-transfers --set background_vms=0,2 --set 'transfer=20 x 100KB' --set probe_count=10
# Columns: 1 VMs on the core, 5 median transfer throughput (Mbit/s).
assert_gt "$(repro_cell vsnoop-transfers 5 1)" "$(repro_cell vsnoop-transfers 5 3)" \
	"median throughput of 100 KB transfers: VM alone on its core vs sharing it with 2 busy VMs"
repro_done
