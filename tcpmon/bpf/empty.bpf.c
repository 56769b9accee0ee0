// SPDX-License-Identifier: GPL-2.0
/* empty.bpf.c — the floor under tcpmon's programs, for tests/bench/tcpmon_bpf.sh: at the same
 * attach points, programs that only read the clock (what every tcpmon program does first). Their
 * cost per event is what the kernel charges to run any program there; tcpmon's cost above it is
 * its own work. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcpmon_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The clock is read and its value dropped: a helper call is never optimised away, and a store
 * into a global would bounce its cache line between the CPUs at every event (tens of ns here,
 * which tcpmon's programs, writing per-CPU memory only, do not pay). */
#define EMPTY_TP(name, tp)                                                                         \
	SEC("tp_btf/" tp)                                                                          \
	int BPF_PROG(name)                                                                         \
	{                                                                                          \
		bpf_ktime_get_ns();                                                                \
		return 0;                                                                          \
	}
EMPTY_TP(vd_empty_dev_rx, "netif_receive_skb")
EMPTY_TP(vd_empty_dev_queue, "net_dev_queue")
EMPTY_TP(vd_empty_dev_tx, "net_dev_start_xmit")
EMPTY_TP(vd_empty_trans_rx, "tcp_probe")
EMPTY_TP(vd_empty_sock_copy, "skb_copy_datagram_iovec")
EMPTY_TP(vd_empty_sock_send, "tcp_sendmsg_locked")

SEC("vd_netfilter")
int vd_empty_ip(struct bpf_nf_ctx *ctx)
{
	bpf_ktime_get_ns();
	return TCPMON_BPF_NF_ACCEPT;
}
