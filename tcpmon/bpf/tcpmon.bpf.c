// SPDX-License-Identifier: GPL-2.0
/* tcpmon.bpf.c — tcpmon's eBPF backend: the records of tcpmon.ko (vmdelay/record.h) from the
 * attach points a kernel without module support still offers (docs/formats/tcpmon.md, "Layers
 * by backend"): BTF tracepoints for the device, transport and socket layers, netfilter BPF links
 * for the IP layers. Each record carries bpf_ktime_get_ns() taken at program entry (no TSC).
 * Records go into per-CPU rings of slots in an mmap-able array (tcpmon_bpf.h), without a helper
 * call or a lock (a BPF ring buffer cost about 80 ns more per record here: its lock with
 * interrupts off, reserve and commit) and without waking the reader, which polls. A failed
 * reservation is counted per CPU, and every record offered takes a per-CPU seqno, so the reader
 * knows exactly how many records it lost and between which records. CO-RE: compiled against the
 * vmlinux.h of the build machine, relocated against the running kernel's BTF when loaded. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define _LINUX_TYPES_H /* record.h's fixed-width types come from vmlinux.h here */
#include "vmdelay/record.h"

#include "tcpmon_bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define VD_AF_INET 2
#define VD_AF_INET6 10
#define VD_ETH_P_IP 0x0800
#define VD_ETH_P_IPV6 0x86DD
#define VD_IPPROTO_ICMP 1
#define VD_IPPROTO_TCP 6
#define VD_IPPROTO_ICMPV6 58

/* The per-CPU rings (tcpmon_bpf.h): the loader sizes both before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tcpmon_record);
} tcpmon_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tcpmon_bpf_tail);
} tcpmon_tails SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpmon_bpf_config);
} tcpmon_config SEC(".maps");

struct tcpmon_bpf_counters {
	__u64 c[__TCPMON_BPF_C_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpmon_bpf_counters);
} tcpmon_counters SEC(".maps");

static __always_inline const struct tcpmon_bpf_config *tcpmon_on(__u8 layer)
{
	__u32 k = 0;
	const struct tcpmon_bpf_config *c = bpf_map_lookup_elem(&tcpmon_config, &k);

	if (!c || !c->running || !(c->layers & (1u << layer)))
		return 0;
	return c;
}

/* Packet headers are read with direct loads through bpf_rdonly_cast(): the verifier turns each
 * into a load that cannot fault (a bad address reads as 0), without the tens of ns a
 * bpf_probe_read_kernel() call costs. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KCAST(type, addr)                                                                          \
	((const type *)bpf_rdonly_cast((const void *)(unsigned long)(addr),                        \
				       bpf_core_type_id_kernel(type)))

static __always_inline int proto_wanted(__u8 p)
{
	return p == VD_IPPROTO_TCP || p == VD_IPPROTO_ICMP || p == VD_IPPROTO_ICMPV6;
}

/* The TCP or ICMP header at h (a kernel address); l4len: bytes of transport header and
 * payload. */
static __always_inline int parse_l4(unsigned long h, __u8 proto, __u32 l4len,
				    struct tcpmon_record *r)
{
	r->proto = proto;
	if (proto == VD_IPPROTO_TCP) {
		const struct tcphdr *th = KCAST(struct tcphdr, h);
		/* data offset and flags are bit fields: their bytes */
		const __u8 *tb = (const __u8 *)th;
		__u32 hl = (tb[12] >> 4) * 4;

		if (hl < 20)
			return -1;
		r->sport = bpf_ntohs(th->source);
		r->dport = bpf_ntohs(th->dest);
		r->seq = bpf_ntohl(th->seq);
		r->ack = bpf_ntohl(th->ack_seq);
		r->tcp_flags = tb[13];
		r->window = bpf_ntohs(th->window);
		r->payload_len = l4len > hl ? l4len - hl : 0;
		return 0;
	}
	/* ICMP and ICMPv6 share the first 8 bytes: type, code, checksum, echo id and sequence */
	const struct icmphdr *ih = KCAST(struct icmphdr, h);
	__u8 type = ih->type;

	r->icmp_type = type;
	r->icmp_code = ih->code;
	/* id and sequence only mean something in echo messages */
	if ((proto == VD_IPPROTO_ICMP && (type == 8 || type == 0)) ||
	    (proto == VD_IPPROTO_ICMPV6 && (type == 128 || type == 129))) {
		r->icmp_id = bpf_ntohs(ih->un.echo.id);
		r->icmp_seq = bpf_ntohs(ih->un.echo.sequence);
	}
	r->payload_len = l4len > 8 ? l4len - 8 : 0;
	return 0;
}

/* IPv6 at nh with up to four extension headers (hop-by-hop, routing, destination, first
 * fragment). */
static __always_inline int parse_v6(unsigned long nh, struct tcpmon_record *r)
{
	const struct ipv6hdr *ip6 = KCAST(struct ipv6hdr, nh);
	__u32 *sa = (__u32 *)r->saddr, *da = (__u32 *)r->daddr;
	__u32 off = 40, plen;
	__u8 next;

	r->family = VD_AF_INET6;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		sa[i] = ip6->saddr.in6_u.u6_addr32[i];
		da[i] = ip6->daddr.in6_u.u6_addr32[i];
	}
	plen = bpf_ntohs(ip6->payload_len);
	next = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		/* every extension header starts with next header and length; a fragment
		 * header's length byte is reserved, its offset follows */
		const struct frag_hdr *eh;
		__u32 len;

		if (next != 0 && next != 43 && next != 60 && next != 44)
			break;
		eh = KCAST(struct frag_hdr, nh + off);
		if (next == 44) {
			if (bpf_ntohs(eh->frag_off) & ~7)
				return -1; /* not the first fragment: no transport header */
			len = 8;
		} else {
			len = (eh->reserved + 1) * 8;
		}
		next = eh->nexthdr;
		off += len;
		plen = plen > len ? plen - len : 0;
	}
	if (!proto_wanted(next))
		return -1;
	return parse_l4(nh + off, next, plen, r);
}

/* The IP packet at nh (a kernel address, the headers in the skb's linear area). 0 for
 * TCP/ICMP/ICMPv6 with its transport header. */
static __always_inline int parse_ip(unsigned long nh, struct tcpmon_record *r)
{
	const struct iphdr *ip = KCAST(struct iphdr, nh);
	__u8 vihl = *(const __u8 *)ip; /* version and header length are bit fields */
	__u32 ihl, tot;
	__u8 proto;

	if ((vihl >> 4) == 6)
		return parse_v6(nh, r);
	ihl = (vihl & 15) * 4;
	proto = ip->protocol;
	if ((vihl >> 4) != 4 || ihl < 20 || !proto_wanted(proto))
		return -1;
	if (bpf_ntohs(ip->frag_off) & 0x1fff)
		return -1; /* not the first fragment */
	tot = bpf_ntohs(ip->tot_len);
	r->family = VD_AF_INET;
	*(__u32 *)r->saddr = ip->saddr;
	*(__u32 *)r->daddr = ip->daddr;
	return parse_l4(nh + ihl, proto, tot > ihl ? tot - ihl : 0, r);
}

static __always_inline int addr_is(const struct tcpmon_record *r, const __u8 *side, const __u8 *a,
				   __u8 len)
{
	/* 32-bit words: the record's and the filter's addresses are 4-byte aligned only */
	const __u32 *x = (const __u32 *)side, *y = (const __u32 *)a;

	if (len == 4)
		return r->family == VD_AF_INET && x[0] == y[0];
	return r->family == VD_AF_INET6 && x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3];
}

/* The module's tcpmon_filter_match(): addresses and ports match either side. */
static __always_inline int filter_match(const struct tcpmon_bpf_config *f,
					const struct tcpmon_record *r)
{
	if (f->proto && f->proto != r->proto)
		return 0;
	if (f->family && f->family != r->family)
		return 0;
	if (f->addr_len) {
		int s = addr_is(r, r->saddr, f->addr, f->addr_len);
		int d = addr_is(r, r->daddr, f->addr, f->addr_len);

		if (!s && !d)
			return 0;
		if (f->addr2_len && !((s && addr_is(r, r->daddr, f->addr2, f->addr2_len)) ||
				      (d && addr_is(r, r->saddr, f->addr2, f->addr2_len))))
			return 0;
	}
	if (f->has_port) {
		int s = r->proto == VD_IPPROTO_TCP && r->sport == f->port;
		int d = r->proto == VD_IPPROTO_TCP && r->dport == f->port;

		if (!s && !d)
			return 0;
		if (f->has_port2 && !((s && r->dport == f->port2) || (d && r->sport == f->port2)))
			return 0;
	}
	return 1;
}

/* Copies r into the next slot of its CPU's ring; -1 when the ring is full. */
static __always_inline int put(const struct tcpmon_bpf_config *cfg, struct tcpmon_bpf_counters *c,
			       const struct tcpmon_record *r)
{
	__u32 cpu = r->cpu, size = 1u << (cfg->slot_bits & 31), k;
	struct tcpmon_bpf_tail *t = bpf_map_lookup_elem(&tcpmon_tails, &cpu);
	struct tcpmon_record *slot;
	__u64 head;

	/* room is checked before the slot is taken: a program interrupting this one in between
	 * takes one of the SLACK slots kept free */
	if (!t || c->c[TCPMON_BPF_C_HEAD] - t->tail >= size - TCPMON_BPF_SLACK)
		return -1;
	head = __sync_fetch_and_add(&c->c[TCPMON_BPF_C_HEAD], 1);
	k = (cpu << (cfg->slot_bits & 31)) | ((__u32)head & (size - 1));
	slot = bpf_map_lookup_elem(&tcpmon_slots, &k);
	if (!slot)
		return 0; /* cannot be: the loader made ncpu << slot_bits slots (kept, not lost) */
	__builtin_memcpy(slot, r, sizeof(*r));
	/* the commit word last: x86 keeps stores in order, the barrier keeps the compiler from
	 * moving it; elsewhere an exchange orders it after the record */
#ifdef __TARGET_ARCH_x86
	asm volatile("" ::: "memory");
	TCPMON_BPF_COMMIT(slot) = (__u32)head + 1;
#else
	__sync_lock_test_and_set(&TCPMON_BPF_COMMIT(slot), (__u32)head + 1);
#endif
	return 0;
}

/* Filters r, numbers it and writes it into its CPU's ring, or counts it lost. */
static __always_inline void commit(const struct tcpmon_bpf_config *cfg, struct tcpmon_record *r)
{
	__u32 k = 0;
	struct tcpmon_bpf_counters *c = bpf_map_lookup_elem(&tcpmon_counters, &k);

	if (!c)
		return;
	/* Atomic although per CPU: a softirq program may interrupt one in process context. */
	if (!filter_match(cfg, r)) {
		__sync_fetch_and_add(&c->c[TCPMON_BPF_C_FILTERED], 1);
		return;
	}
	r->cpu = bpf_get_smp_processor_id();
	r->seqno = (__u32)__sync_fetch_and_add(&c->c[TCPMON_BPF_C_SEQNO], 1);
	if (put(cfg, c, r))
		__sync_fetch_and_add(&c->c[TCPMON_BPF_C_LOST], 1);
}

static __always_inline int skb_is_ip(const struct sk_buff *skb)
{
	__u16 p = bpf_ntohs(skb->protocol);

	return p == VD_ETH_P_IP || p == VD_ETH_P_IPV6;
}

static __always_inline __u16 skb_gso_segs(const struct sk_buff *skb)
{
	const struct skb_shared_info *si =
	    KCAST(struct skb_shared_info, (unsigned long)skb->head + skb->end);

	return si->gso_size ? si->gso_segs : 0;
}

/* A packet with its IP header at nh. */
/* Fills the zeroed r from a packet with its IP header at nh: 0 for TCP/ICMP/ICMPv6. */
static __always_inline int fill(struct tcpmon_record *r, const struct sk_buff *skb,
				unsigned long nh, __u8 layer, __u8 dir, __u32 ifindex, __u64 t0)
{
	if (parse_ip(nh, r))
		return -1;
	r->mono_ns = (__s64)t0;
	r->layer = layer;
	r->dir = dir;
	r->ifindex = ifindex;
	r->skb_len = skb->len;
	r->gso_segs = skb_gso_segs(skb);
	return 0;
}

/* The record is built on the stack and copied into the ring only when the filter keeps it: a
 * packet the filter rejects (or that is not TCP/ICMP) never takes the ring's lock. One helper
 * call (reserve, copy, commit) instead of reserve and submit, and no discard. */
static __always_inline void emit(const struct tcpmon_bpf_config *cfg, const struct sk_buff *skb,
				 unsigned long nh, __u8 layer, __u8 dir, __u32 ifindex, __u64 t0)
{
	struct tcpmon_record r = {};

	if (!fill(&r, skb, nh, layer, dir, ifindex, t0))
		commit(cfg, &r);
}

static __always_inline unsigned long skb_nh(const struct sk_buff *skb)
{
	return (unsigned long)skb->head + skb->network_header;
}

/* ---- device layers: BTF tracepoints ---- */

/* net:netif_receive_skb fires before __netif_receive_skb_core resets the network header:
 * skb->data is the IP header there (eth_type_trans pulled the link header). */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tcpmon_dev_rx, struct sk_buff *skb)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_DEV_RX);

	if (cfg && skb_is_ip(skb))
		emit(cfg, skb, (unsigned long)skb->data, TCPMON_L_DEV_RX, TCPMON_DIR_RX,
		     skb->dev ? skb->dev->ifindex : 0, t0);
	return 0;
}

/* net:net_dev_queue: dev_queue_xmit(), before the qdisc. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(tcpmon_dev_queue, struct sk_buff *skb)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_DEV_QUEUE);

	if (cfg && skb_is_ip(skb) && skb->transport_header != skb->network_header)
		emit(cfg, skb, skb_nh(skb), TCPMON_L_DEV_QUEUE, TCPMON_DIR_TX,
		     skb->dev ? skb->dev->ifindex : 0, t0);
	return 0;
}

/* net:net_dev_start_xmit: the driver's turn (after the qdisc). */
SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(tcpmon_dev_tx, const struct sk_buff *skb, const struct net_device *dev)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_DEV_TX);

	if (cfg && skb_is_ip(skb) && skb->transport_header != skb->network_header)
		emit(cfg, skb, skb_nh(skb), TCPMON_L_DEV_TX, TCPMON_DIR_TX, dev->ifindex, t0);
	return 0;
}

/* ---- transport and socket layers ---- */

/* tcp:tcp_probe at the top of tcp_rcv_established(): an established connection's segment,
 * socket found, headers still in place. (SYN and SYN-ACK take other paths: not seen.) */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcpmon_trans_rx, struct sock *sk, const struct sk_buff *skb)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_TRANS_RX);

	if (cfg && skb_is_ip(skb))
		emit(cfg, skb, skb_nh(skb), TCPMON_L_TRANS_RX, TCPMON_DIR_RX, skb->skb_iif, t0);
	return 0;
}

/* skb:skb_copy_datagram_iovec: data copied to user space (fires for every kind of socket:
 * only IP skbs of inet sockets). */
SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(tcpmon_sock_copy, const struct sk_buff *skb, int len)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_SOCK_COPY);
	const struct sock *sk;
	__u16 fam;

	if (!cfg || !skb_is_ip(skb))
		return 0;
	sk = skb->sk;
	if (!sk)
		return 0;
	fam = sk->__sk_common.skc_family;
	if (fam == VD_AF_INET || fam == VD_AF_INET6)
		emit(cfg, skb, skb_nh(skb), TCPMON_L_SOCK_COPY, TCPMON_DIR_RX, skb->skb_iif, t0);
	return 0;
}

/* tcp:tcp_sendmsg_locked: the application's data handed to TCP, before any header exists. The
 * record comes from the socket: its addresses and ports, seq = the sequence number the next byte
 * queued gets (write_seq), payload_len = bytes of the sendmsg() not yet queued. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(tcpmon_sock_send, const struct sock *sk, const struct msghdr *msg,
	     const struct sk_buff *skb, int size_goal)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(TCPMON_L_SOCK_SEND);
	struct tcpmon_record r = {};
	__u16 fam;

	if (!cfg)
		return 0;
	fam = sk->__sk_common.skc_family;
	if (fam == VD_AF_INET) {
		__builtin_memcpy(r.saddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(r.daddr, &sk->__sk_common.skc_daddr, 4);
	} else if (fam == VD_AF_INET6) {
		__u32 *sa = (__u32 *)r.saddr, *da = (__u32 *)r.daddr;

#pragma unroll
		for (int i = 0; i < 4; i++) {
			sa[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			da[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
		}
	} else {
		return 0;
	}
	r.family = (__u8)fam;
	r.proto = VD_IPPROTO_TCP;
	r.sport = sk->__sk_common.skc_num;
	r.dport = bpf_ntohs(sk->__sk_common.skc_dport);
	/* sk's BTF type is struct sock: the cast lets the verifier see the tcp_sock around it */
	r.seq = KCAST(struct tcp_sock, sk)->write_seq;
	r.payload_len = (__u32)msg->msg_iter.count;
	r.skb_len = skb ? skb->len : 0;
	r.mono_ns = (__s64)t0;
	r.layer = TCPMON_L_SOCK_SEND;
	r.dir = TCPMON_DIR_TX;
	r.rflags = TCPMON_RF_ADDR_FROM_SOCK;
	commit(cfg, &r);
	return 0;
}

/* ---- IP layers: netfilter BPF links (the loader attaches each program for IPv4 and IPv6 in
 * every network namespace, first priority on input, last on output) ---- */
static __always_inline int nf_emit(struct bpf_nf_ctx *ctx, __u8 layer, __u8 dir)
{
	__u64 t0 = bpf_ktime_get_ns();
	const struct tcpmon_bpf_config *cfg = tcpmon_on(layer);
	const struct sk_buff *skb = ctx->skb;
	const struct nf_hook_state *st = ctx->state;
	const struct net_device *dev;

	if (!cfg)
		return TCPMON_BPF_NF_ACCEPT;
	dev = st->in ? st->in : st->out;
	emit(cfg, skb, skb_nh(skb), layer, dir, dev ? dev->ifindex : 0, t0);
	return TCPMON_BPF_NF_ACCEPT;
}

/* libbpf 1.1 does not know netfilter programs by section name: the loader sets the type. */
SEC("vd_netfilter")
int tcpmon_ip_pre(struct bpf_nf_ctx *ctx)
{
	return nf_emit(ctx, TCPMON_L_IP_PRE, TCPMON_DIR_RX);
}

SEC("vd_netfilter")
int tcpmon_ip_local_in(struct bpf_nf_ctx *ctx)
{
	return nf_emit(ctx, TCPMON_L_IP_LOCAL_IN, TCPMON_DIR_RX);
}

SEC("vd_netfilter")
int tcpmon_ip_local_out(struct bpf_nf_ctx *ctx)
{
	return nf_emit(ctx, TCPMON_L_IP_LOCAL_OUT, TCPMON_DIR_TX);
}

SEC("vd_netfilter")
int tcpmon_ip_post(struct bpf_nf_ctx *ctx)
{
	return nf_emit(ctx, TCPMON_L_IP_POST, TCPMON_DIR_TX);
}
