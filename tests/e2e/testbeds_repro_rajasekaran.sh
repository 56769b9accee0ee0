#!/usr/bin/env bash
# timeout: 1200
# Rajasekaran et al. (Figures 5-10), reduced: an 8 MB bulk transfer from the measurement VM to
# the host with 0 and 2 background VMs carrying TCP streams; tcpmon in the sending guest records
# the ACKs its TCP receives. Asserts the paper's direction: the ACK stream is compressed inside
# the guest (more ACK gaps under 10 µs at the guest's TCP layer than at the host's tap), and
# busy VMs do not make it less so. "More with 2 busy VMs" held in 3 of 4 runs here (0.62-0.80
# against 0.45-0.56 idle) and was a tie in the 4th (0.752 against 0.767), so it is asserted
# with a margin of 0.05 only: run-to-run scheduling noise under TCG is that large.
. "${VMDELAY_ROOT:-.}/tests/e2e/lib/testbeds_repro.bash"
need_qemu
repro_run rajasekaran-ack --set background_vms=0,2 --set 'transfer=bulk 8MB' --set probe_count=0 \
	--set rest=0
# Columns: 1 busy VMs, 5 gaps < 10 µs at the tap, 6 at the guest's TCP.
tap0=$(repro_cell rajasekaran-ack 5 0) guest0=$(repro_cell rajasekaran-ack 6 0)
guest2=$(repro_cell rajasekaran-ack 6 2)
assert_gt "$guest0" "$tap0" "idle: ACK gaps < 10 µs, guest TCP vs host tap"
assert_gt "$guest2" "$(awk -v g="$guest0" 'BEGIN { print g - 0.05 }')" \
	"guest TCP: ACK gaps < 10 µs, 2 busy VMs vs idle minus 0.05"
repro_done
