// SPDX-License-Identifier: GPL-2.0
/* tcpmon_hooks.c — where tcpmon.ko looks at packets (docs/formats/tcpmon.md, "Layers"):
 *   device     tracepoints net:netif_receive_skb and net:net_dev_start_xmit. Not exported to
 *              modules on 6.1, so found by name with for_each_kernel_tracepoint(); each probe's
 *              prototype is checked at compile time against the kernel's register_trace_*().
 *   IP         netfilter PRE_ROUTING, LOCAL_IN, LOCAL_OUT (first) and POST_ROUTING (last), IPv4
 *              and IPv6, registered in every network namespace through pernet operations.
 *   transport  ftrace function-entry hooks (no kprobe, no BPF): receive at tcp_v4_rcv/tcp_v6_rcv/
 *              icmp_rcv/icmpv6_rcv; transmit at
 *              ip_queue_xmit/ip_build_and_send_pkt/ip6_xmit (TCP) and ip_push_pending_frames/
 *              ip6_push_pending_frames (ICMP from raw/ping sockets and the kernel's replies):
 *              transport header built, IP header not yet, addresses from the socket or flow.
 *              (ip_send_skb looks like the place but is inlined into its caller on 6.1.) No
 *              tracepoint covers these on 6.1. A function the kernel inlined away is reported
 *              missing (TCPMON_SA_HOOKS_MISSING).
 *   socket     queued: ftrace hooks on tcp_data_ready (tail of the receive queue, socket locked)
 * and sock_queue_rcv_skb_reason (raw and ping sockets); copied to user space: tracepoint
 * skb:skb_copy_datagram_iovec. */
#include <linux/ftrace.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tracepoint.h>
#include <net/flow.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <trace/events/net.h>
#include <trace/events/skb.h>
#include <asm/msr.h>

#include "tcpmon.h"

u32 tcpmon_hooks_missing;

/* Not in NMI (netpoll from a panic): the per-CPU ring's one producer runs with interrupts off,
 * and an NMI would be a second one. */
static __always_inline bool tcpmon_on(u8 layer)
{
	return READ_ONCE(tcpmon_running) && (READ_ONCE(tcpmon_layers) & BIT(layer)) && !in_nmi();
}

static void tcpmon_commit(struct tcpmon_record *r, u64 t0)
{
	const struct tcpmon_filter *f;
	bool ok;

	rcu_read_lock();
	f = rcu_dereference(tcpmon_filter);
	ok = tcpmon_filter_match(f, r);
	rcu_read_unlock();
	if (ok)
		tcpmon_ring_put(r, t0);
	else
		tcpmon_ring_count_filtered();
}

/* A packet with its IP header at nhoff (relative to skb->data). */
/* Interrupts stay off from the TSC read to the ring: the record's TSC, ktime and CPU are read
 * together (an interrupt in between, e.g. the NIC's softirq work in a process-context hook, once
 * put milliseconds between them under TCG), and a netfilter LOCAL_OUT hook may otherwise be
 * preempted and migrate. */
static void tcpmon_emit(const struct sk_buff *skb, int nhoff, u8 layer, u8 dir, int ifindex,
			u8 rflags)
{
	struct tcpmon_record r;
	unsigned long flags;
	u64 t0;

	local_irq_save(flags);
	t0 = rdtsc_ordered();
	memset(&r, 0, sizeof(r));
	if (!tcpmon_parse_ip(skb, nhoff, &r)) {
		r.layer = layer;
		r.dir = dir;
		r.ifindex = ifindex;
		r.rflags = rflags;
		tcpmon_commit(&r, t0);
	}
	local_irq_restore(flags);
}

static bool tcpmon_is_ip(const struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_IP) || skb->protocol == htons(ETH_P_IPV6);
}

/* ---- tracepoints ---- */
static void tcpmon_tp_rx(void *data, struct sk_buff *skb)
{
	if (tcpmon_on(TCPMON_L_DEV_RX) && tcpmon_is_ip(skb))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_DEV_RX, TCPMON_DIR_RX,
			    skb->dev ? skb->dev->ifindex : 0, 0);
}

static void tcpmon_tp_tx(void *data, const struct sk_buff *skb, const struct net_device *dev)
{
	if (tcpmon_on(TCPMON_L_DEV_TX) && tcpmon_is_ip(skb) && skb_network_header_len(skb))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_DEV_TX, TCPMON_DIR_TX,
			    dev->ifindex, 0);
}

static void tcpmon_tp_copy(void *data, const struct sk_buff *skb, int len)
{
	const struct sock *sk = skb->sk;

	/* also fires for netlink, unix, ... sockets: only IP skbs owned by an inet socket */
	if (tcpmon_on(TCPMON_L_SOCK_COPY) && sk && tcpmon_is_ip(skb) &&
	    (sk->sk_family == AF_INET || sk->sk_family == AF_INET6))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_SOCK_COPY, TCPMON_DIR_RX,
			    skb->skb_iif, 0);
}

/* The probes must have the prototypes the kernel's tracepoints call them with. */
#define TCPMON_TP_CHECK(name, probe)                                                               \
	static_assert(__builtin_types_compatible_p(typeof(&register_trace_##name),                 \
						   int (*)(typeof(&probe), void *)),               \
		      "prototype of tracepoint " #name " changed")
TCPMON_TP_CHECK(netif_receive_skb, tcpmon_tp_rx);
TCPMON_TP_CHECK(net_dev_start_xmit, tcpmon_tp_tx);
TCPMON_TP_CHECK(skb_copy_datagram_iovec, tcpmon_tp_copy);

static struct tcpmon_tp {
	const char *name;
	void *probe;
	u32 hook;
	struct tracepoint *tp;
	bool registered;
} tcpmon_tps[] = {
    {"netif_receive_skb", tcpmon_tp_rx, TCPMON_H_TP_RX},
    {"net_dev_start_xmit", tcpmon_tp_tx, TCPMON_H_TP_TX},
    {"skb_copy_datagram_iovec", tcpmon_tp_copy, TCPMON_H_TP_COPY},
};

static void tcpmon_tp_lookup(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcpmon_tps); i++)
		if (!strcmp(tp->name, tcpmon_tps[i].name))
			tcpmon_tps[i].tp = tp;
}

static void tcpmon_tps_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcpmon_tps); i++) {
		if (tcpmon_tps[i].registered)
			tracepoint_probe_unregister(tcpmon_tps[i].tp, tcpmon_tps[i].probe, NULL);
		tcpmon_tps[i].registered = false;
	}
	tracepoint_synchronize_unregister();
}

static int tcpmon_tps_init(void)
{
	unsigned int i;
	int err;

	for_each_kernel_tracepoint(tcpmon_tp_lookup, NULL);
	for (i = 0; i < ARRAY_SIZE(tcpmon_tps); i++) {
		struct tcpmon_tp *t = &tcpmon_tps[i];

		if (!t->tp) {
			pr_err("tracepoint %s not found\n", t->name);
			err = -ENOENT;
			goto err;
		}
		err = tracepoint_probe_register(t->tp, t->probe, NULL);
		if (err) {
			pr_err("tracepoint %s: register failed (%d)\n", t->name, err);
			goto err;
		}
		t->registered = true;
	}
	return 0;
err:
	tcpmon_tps_exit();
	return err;
}

/* ---- netfilter, per network namespace ---- */
static unsigned int tcpmon_nf_hook(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	u8 layer = (unsigned long)priv;

	if (tcpmon_on(layer)) {
		const struct net_device *dev = state->in ? state->in : state->out;

		tcpmon_emit(skb, skb_network_offset(skb), layer,
			    layer <= TCPMON_L_SOCK_COPY ? TCPMON_DIR_RX : TCPMON_DIR_TX,
			    dev ? dev->ifindex : 0, 0);
	}
	return NF_ACCEPT;
}

#define TCPMON_NF(_pf, _hooknum, _layer, _prio)                                                    \
	{                                                                                          \
		.hook = tcpmon_nf_hook, .pf = _pf, .hooknum = _hooknum, .priority = _prio,         \
		.priv = (void *)(unsigned long)(_layer)                                            \
	}
static const struct nf_hook_ops tcpmon_nf_ops[] = {
    TCPMON_NF(NFPROTO_IPV4, NF_INET_PRE_ROUTING, TCPMON_L_IP_PRE, NF_IP_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV4, NF_INET_LOCAL_IN, TCPMON_L_IP_LOCAL_IN, NF_IP_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV4, NF_INET_LOCAL_OUT, TCPMON_L_IP_LOCAL_OUT, NF_IP_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV4, NF_INET_POST_ROUTING, TCPMON_L_IP_POST, NF_IP_PRI_LAST),
    TCPMON_NF(NFPROTO_IPV6, NF_INET_PRE_ROUTING, TCPMON_L_IP_PRE, NF_IP6_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV6, NF_INET_LOCAL_IN, TCPMON_L_IP_LOCAL_IN, NF_IP6_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV6, NF_INET_LOCAL_OUT, TCPMON_L_IP_LOCAL_OUT, NF_IP6_PRI_FIRST),
    TCPMON_NF(NFPROTO_IPV6, NF_INET_POST_ROUTING, TCPMON_L_IP_POST, NF_IP6_PRI_LAST),
};

static int __net_init tcpmon_net_init(struct net *net)
{
	return nf_register_net_hooks(net, tcpmon_nf_ops, ARRAY_SIZE(tcpmon_nf_ops));
}

static void __net_exit tcpmon_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, tcpmon_nf_ops, ARRAY_SIZE(tcpmon_nf_ops));
}

static struct pernet_operations tcpmon_net_ops = {
    .init = tcpmon_net_init,
    .exit = tcpmon_net_exit,
};

/* ---- function-entry hooks (ftrace): transport and socket-queue layers ---- */
static struct sk_buff *tcpmon_arg_skb(struct pt_regs *regs, unsigned int n)
{
	return (struct sk_buff *)regs_get_kernel_argument(regs, n);
}

/* tcp_v4_rcv(skb), tcp_v6_rcv(skb), icmp_rcv(skb), icmpv6_rcv(skb) */
static void tcpmon_fh_trans_rx(struct pt_regs *regs)
{
	struct sk_buff *skb = tcpmon_arg_skb(regs, 0);

	if (tcpmon_on(TCPMON_L_TRANS_RX))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_TRANS_RX, TCPMON_DIR_RX,
			    skb->skb_iif, 0);
}

/* A segment whose transport header is built but whose IP header is not (addresses given). */
static void tcpmon_emit_l4(const struct sk_buff *skb, u8 proto, u8 family, const void *saddr,
			   const void *daddr)
{
	int thoff = skb_transport_offset(skb);
	unsigned int alen = family == AF_INET ? 4 : 16;
	struct tcpmon_record r;
	unsigned long flags;
	u64 t0;

	if (thoff < 0 || thoff >= skb->len)
		return;
	local_irq_save(flags); /* as in tcpmon_emit */
	t0 = rdtsc_ordered();
	memset(&r, 0, sizeof(r));
	if (!tcpmon_parse_l4(skb, thoff, proto, skb->len - thoff, &r)) {
		r.family = family;
		memcpy(r.saddr, saddr, alen);
		memcpy(r.daddr, daddr, alen);
		r.layer = TCPMON_L_TRANS_TX;
		r.dir = TCPMON_DIR_TX;
		r.rflags = TCPMON_RF_ADDR_FROM_SOCK;
		tcpmon_commit(&r, t0);
	}
	local_irq_restore(flags);
}

static bool tcpmon_sk_is_tcp(const struct sock *sk)
{
	return sk && (!sk_fullsock(sk) || sk->sk_protocol == IPPROTO_TCP);
}

/* ip_queue_xmit(sk, skb, fl) */
static void tcpmon_fh_ip_queue_xmit(struct pt_regs *regs)
{
	const struct sock *sk = (const struct sock *)regs_get_kernel_argument(regs, 0);

	if (tcpmon_on(TCPMON_L_TRANS_TX) && sk && sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP)
		tcpmon_emit_l4(tcpmon_arg_skb(regs, 1), IPPROTO_TCP, AF_INET, &sk->sk_rcv_saddr,
			       &sk->sk_daddr);
}

/* ip_build_and_send_pkt(skb, sk, saddr, daddr, opt, tos): SYN-ACKs */
static void tcpmon_fh_ip_build_and_send(struct pt_regs *regs)
{
	const struct sock *sk = (const struct sock *)regs_get_kernel_argument(regs, 1);
	__be32 saddr = regs_get_kernel_argument(regs, 2);
	__be32 daddr = regs_get_kernel_argument(regs, 3);

	if (tcpmon_on(TCPMON_L_TRANS_TX) && tcpmon_sk_is_tcp(sk))
		tcpmon_emit_l4(tcpmon_arg_skb(regs, 0), IPPROTO_TCP, AF_INET, &saddr, &daddr);
}

/* ip6_xmit(sk, skb, fl6, mark, opt, tclass, priority): TCP over IPv6 */
static void tcpmon_fh_ip6_xmit(struct pt_regs *regs)
{
	const struct flowi6 *fl6 = (const struct flowi6 *)regs_get_kernel_argument(regs, 2);

	if (tcpmon_on(TCPMON_L_TRANS_TX) && fl6 && fl6->flowi6_proto == IPPROTO_TCP)
		tcpmon_emit_l4(tcpmon_arg_skb(regs, 1), IPPROTO_TCP, AF_INET6, &fl6->saddr,
			       &fl6->daddr);
}

/* ip_push_pending_frames(sk, fl4), ip6_push_pending_frames(sk): ICMP echo requests from raw and
 * ping sockets and the kernel's ICMP replies. The message waits on the socket's write queue with
 * its ICMP header written; the IP header is built right after (ip_send_skb is inlined here). */
static bool tcpmon_sk_is_icmp(const struct sock *sk, u8 proto)
{
	return sk && sk_fullsock(sk) && sk->sk_protocol == proto;
}

static void tcpmon_fh_ip_push_pending(struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	const struct flowi4 *fl4 = (const struct flowi4 *)regs_get_kernel_argument(regs, 1);
	struct sk_buff *skb;

	if (!tcpmon_on(TCPMON_L_TRANS_TX) || !fl4 || !tcpmon_sk_is_icmp(sk, IPPROTO_ICMP))
		return;
	skb = skb_peek(&sk->sk_write_queue);
	if (skb)
		tcpmon_emit_l4(skb, IPPROTO_ICMP, AF_INET, &fl4->saddr, &fl4->daddr);
}

static void tcpmon_fh_ip6_push_pending(struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	const struct flowi6 *fl6;
	struct sk_buff *skb;

	if (!tcpmon_on(TCPMON_L_TRANS_TX) || !tcpmon_sk_is_icmp(sk, IPPROTO_ICMPV6))
		return;
	fl6 = &inet_sk(sk)->cork.fl.u.ip6;
	skb = skb_peek(&sk->sk_write_queue);
	if (skb)
		tcpmon_emit_l4(skb, IPPROTO_ICMPV6, AF_INET6, &fl6->saddr, &fl6->daddr);
}

/* tcp_data_ready(sk): called with the socket locked right after in-order data was queued; the
 * tail skb may have absorbed earlier segments (coalescing), hence TCPMON_RF_COALESCED. */
static void tcpmon_fh_tcp_data_ready(struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);
	struct sk_buff *skb;

	if (!tcpmon_on(TCPMON_L_SOCK_QUEUE) || !sk)
		return;
	skb = skb_peek_tail(&sk->sk_receive_queue);
	if (skb && tcpmon_is_ip(skb))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_SOCK_QUEUE, TCPMON_DIR_RX,
			    skb->skb_iif, TCPMON_RF_COALESCED);
}

/* sock_queue_rcv_skb_reason(sk, skb, reason): raw and ping ICMP sockets */
static void tcpmon_fh_sock_queue(struct pt_regs *regs)
{
	const struct sock *sk = (const struct sock *)regs_get_kernel_argument(regs, 0);
	struct sk_buff *skb = tcpmon_arg_skb(regs, 1);

	if (tcpmon_on(TCPMON_L_SOCK_QUEUE) && sk && tcpmon_is_ip(skb) &&
	    (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	    (sk->sk_protocol == IPPROTO_ICMP || sk->sk_protocol == IPPROTO_ICMPV6))
		tcpmon_emit(skb, skb_network_offset(skb), TCPMON_L_SOCK_QUEUE, TCPMON_DIR_RX,
			    skb->skb_iif, 0);
}

/* One ftrace_ops for all these functions: ftrace calls our handler at a function's entry with the
 * argument registers saved (DYNAMIC_FTRACE_WITH_ARGS), and its recursion guard is per context, so
 * a softirq that interrupts a hook in process context is still seen. (A kprobe would be skipped
 * there: kprobes do not nest, and the miss would be silent.) One ops, not one per function:
 * registering an ops patches the kernel's text, and unregistering one that lives in a module waits
 * for RCU-tasks grace periods (every task through a voluntary context switch). Under TCG with
 * busy vCPUs each such wait took seconds, and one ops per function multiplied them by eleven on
 * every insmod and rmmod. */
static struct tcpmon_fh {
	const char *name;
	void (*fn)(struct pt_regs *regs);
	u32 hook;
	unsigned long ip; /* the function's ftrace location, learnt at its first call */
} tcpmon_fhs[] = {
    {"tcp_v4_rcv", tcpmon_fh_trans_rx, TCPMON_H_TCP_V4_RCV},
    {"tcp_v6_rcv", tcpmon_fh_trans_rx, TCPMON_H_TCP_V6_RCV},
    {"icmp_rcv", tcpmon_fh_trans_rx, TCPMON_H_ICMP_RCV},
    {"icmpv6_rcv", tcpmon_fh_trans_rx, TCPMON_H_ICMPV6_RCV},
    {"tcp_data_ready", tcpmon_fh_tcp_data_ready, TCPMON_H_TCP_DATA_READY},
    {"sock_queue_rcv_skb_reason", tcpmon_fh_sock_queue, TCPMON_H_SOCK_QUEUE_RCV},
    {"ip_queue_xmit", tcpmon_fh_ip_queue_xmit, TCPMON_H_IP_QUEUE_XMIT},
    {"ip_build_and_send_pkt", tcpmon_fh_ip_build_and_send, TCPMON_H_IP_BUILD_AND_SEND},
    {"ip6_xmit", tcpmon_fh_ip6_xmit, TCPMON_H_IP6_XMIT},
    {"ip_push_pending_frames", tcpmon_fh_ip_push_pending, TCPMON_H_IP_PUSH_PENDING},
    {"ip6_push_pending_frames", tcpmon_fh_ip6_push_pending, TCPMON_H_IP6_PUSH_PENDING},
};

static struct ftrace_ops tcpmon_fh_ops;
static bool tcpmon_fh_filtered, tcpmon_fh_registered;

/* ftrace tells the handler the address it was called from, not the function's name, and the
 * module cannot look names up (kallsyms_lookup_name is not exported): the first call of each
 * function finds its name with %ps (a lock-free kallsyms lookup, safe in any context but NMI,
 * which the hooks skip) and keeps the address, every later call compares addresses. A name too
 * long for the buffer is cut and matches none of ours, whose names are shorter. */
static const struct tcpmon_fh *tcpmon_fh_find(unsigned long ip)
{
	char sym[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcpmon_fhs); i++)
		if (READ_ONCE(tcpmon_fhs[i].ip) == ip)
			return &tcpmon_fhs[i];
	if (in_nmi())
		return NULL;
	snprintf(sym, sizeof(sym), "%ps", (void *)ip);
	for (i = 0; i < ARRAY_SIZE(tcpmon_fhs); i++) {
		if (strcmp(sym, tcpmon_fhs[i].name))
			continue;
		WRITE_ONCE(tcpmon_fhs[i].ip, ip); /* every CPU that races here writes the same */
		return &tcpmon_fhs[i];
	}
	return NULL;
}

/* The saved argument registers: 6.12 made struct ftrace_regs opaque (arch_ftrace_regs() reaches
 * the pt_regs inside); 6.1 has the pt_regs as its member. */
#ifdef arch_ftrace_regs
#define TCPMON_FREGS_PT(fregs) (&arch_ftrace_regs(fregs)->regs)
#else
#define TCPMON_FREGS_PT(fregs) (&(fregs)->regs)
#endif

static void notrace tcpmon_fh_entry(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	const struct tcpmon_fh *f = tcpmon_fh_find(ip);

	if (f)
		f->fn(TCPMON_FREGS_PT(fregs));
}

static void tcpmon_fhs_exit(void)
{
	if (tcpmon_fh_registered)
		unregister_ftrace_function(&tcpmon_fh_ops); /* waits for running handlers */
	if (tcpmon_fh_filtered)
		ftrace_free_filter(&tcpmon_fh_ops);
	tcpmon_fh_registered = tcpmon_fh_filtered = false;
}

/* A function this kernel inlined or does not trace costs one hook, not the module. The ops is
 * registered only with at least one function in its filter: an empty filter traces them all. */
static void tcpmon_fhs_init(void)
{
	u32 filtered = 0;
	unsigned int i;
	int err;

	tcpmon_fh_ops.func = tcpmon_fh_entry;
	for (i = 0; i < ARRAY_SIZE(tcpmon_fhs); i++) {
		struct tcpmon_fh *f = &tcpmon_fhs[i];

		tcpmon_fh_filtered = true; /* the filter exists once we tried to set it */
		err =
		    ftrace_set_filter(&tcpmon_fh_ops, (unsigned char *)f->name, strlen(f->name), 0);
		if (err) {
			pr_warn("ftrace hook %s: %d, layer incomplete\n", f->name, err);
			tcpmon_hooks_missing |= BIT(f->hook);
			continue;
		}
		filtered |= BIT(f->hook);
	}
	if (!filtered) {
		tcpmon_fhs_exit();
		return;
	}
	err = register_ftrace_function(&tcpmon_fh_ops);
	if (err) {
		pr_warn("ftrace hooks: %d, transport and socket-queue layers incomplete\n", err);
		tcpmon_hooks_missing |= filtered;
		tcpmon_fhs_exit();
		return;
	}
	tcpmon_fh_registered = true;
}

int tcpmon_hooks_init(void)
{
	int err;

	err = tcpmon_tps_init();
	if (err)
		goto err_tps;
	err = register_pernet_subsys(&tcpmon_net_ops);
	if (err)
		goto err_net;
	tcpmon_fhs_init();
	return 0;

err_net:
	tcpmon_tps_exit();
err_tps:
	return err;
}

void tcpmon_hooks_exit(void)
{
	tcpmon_fhs_exit();
	unregister_pernet_subsys(&tcpmon_net_ops);
	tcpmon_tps_exit();
}
