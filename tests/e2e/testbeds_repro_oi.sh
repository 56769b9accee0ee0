#!/usr/bin/env bash
# timeout: 900
# Oi and Nakajima (Figure 5), reduced: an 8 MB transfer from the host into the measurement VM
# (virtio-net receiving wire-size frames), GRO on and off in the guest (ethtool); tcpmon in the
# guest counts the segments each packet delivered to TCP carried (gso_segs). Asserts the
# paper's direction: with GRO (LRO) on the aggregation rate is above 1, and above the rate with
# it off.
. "${VMDELAY_ROOT:-.}/tests/e2e/lib/testbeds_repro.bash"
need_qemu
command -v ethtool >/dev/null || { echo "ethtool not installed (make deps)" >&2; exit 77; }
repro_run oi-lro --set mtu=1500 --set background_vms=0 --set load=none --set 'transfer=bulk 8MB'
# Columns: 1 MTU, 2 message, 3 GRO, 7 segments per packet at the guest's TCP.
on=$(repro_cell oi-lro 7 1500 64KB on) off=$(repro_cell oi-lro 7 1500 64KB off)
assert_gt "$on" 1 "GRO on: segments per packet delivered to TCP"
assert_gt "$on" "$off" "segments per packet: GRO on vs off"
repro_done
