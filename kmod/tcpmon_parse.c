// SPDX-License-Identifier: GPL-2.0
/* tcpmon_parse.c — reads the IP and TCP/ICMP headers of an skb into a tcpmon record. Every read
 * goes through tcpmon_hp(): skb_header_pointer() for offsets at or after skb->data, and for
 * headers the stack has already pulled (negative offsets) only bytes inside the linear head. */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/socket.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#if __has_include(<linux/unaligned.h>) /* moved there in 6.12 */
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#include "tcpmon.h"

struct tcpmon_filter __rcu *tcpmon_filter;

static const void *tcpmon_hp(const struct sk_buff *skb, int off, int len, void *buf)
{
	if (off >= 0)
		return skb_header_pointer(skb, off, len, buf);
	if (skb->data + off < skb->head || off + len > (int)skb_headlen(skb))
		return NULL;
	return skb->data + off;
}

int tcpmon_parse_l4(const struct sk_buff *skb, int thoff, u8 proto, u32 l4len,
		    struct tcpmon_record *r)
{
	r->proto = proto;
	r->skb_len = skb->len;
	r->gso_segs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 0;
	if (proto == IPPROTO_TCP) {
		struct tcphdr _th;
		const struct tcphdr *th = tcpmon_hp(skb, thoff, sizeof(_th), &_th);
		u32 hl;

		if (!th || th->doff < 5)
			return -1;
		hl = th->doff * 4;
		r->sport = ntohs(th->source);
		r->dport = ntohs(th->dest);
		r->seq = ntohl(th->seq);
		r->ack = ntohl(th->ack_seq);
		r->window = ntohs(th->window);
		r->tcp_flags = ((const u8 *)th)[13];
		r->payload_len = l4len > hl ? l4len - hl : 0;
		return 0;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		u8 _h[8];
		const u8 *h = tcpmon_hp(skb, thoff, sizeof(_h), _h);

		if (!h)
			return -1;
		r->icmp_type = h[0];
		r->icmp_code = h[1];
		/* id and sequence only mean something in echo messages */
		if ((proto == IPPROTO_ICMP && (h[0] == ICMP_ECHO || h[0] == ICMP_ECHOREPLY)) ||
		    (proto == IPPROTO_ICMPV6 &&
		     (h[0] == ICMPV6_ECHO_REQUEST || h[0] == ICMPV6_ECHO_REPLY))) {
			r->icmp_id = get_unaligned_be16(h + 4);
			r->icmp_seq = get_unaligned_be16(h + 6);
		}
		r->payload_len = l4len > 8 ? l4len - 8 : 0;
		return 0;
	}
	return -1;
}

static bool tcpmon_proto_wanted(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

static int tcpmon_parse_v6(const struct sk_buff *skb, int nhoff, struct tcpmon_record *r)
{
	struct ipv6hdr _ip6;
	const struct ipv6hdr *ip6 = tcpmon_hp(skb, nhoff, sizeof(_ip6), &_ip6);
	int off = nhoff + sizeof(*ip6), i;
	u32 plen;
	u8 nexthdr;

	if (!ip6 || ip6->version != 6)
		return -1;
	r->family = AF_INET6;
	memcpy(r->saddr, &ip6->saddr, 16);
	memcpy(r->daddr, &ip6->daddr, 16);
	plen = ntohs(ip6->payload_len);
	if (!plen) /* jumbogram / BIG TCP: trust the skb */
		plen = skb->len > off ? skb->len - off : 0;
	nexthdr = ip6->nexthdr;
	/* Extension headers: a bounded walk, never more than 8 */
	for (i = 0; i < 8; i++) {
		u8 _eh[2];
		const u8 *eh;
		u32 len;

		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST && nexthdr != NEXTHDR_FRAGMENT)
			break;
		eh = tcpmon_hp(skb, off, sizeof(_eh), _eh);
		if (!eh)
			return -1;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			__be16 _fo;
			const __be16 *fo = tcpmon_hp(skb, off + 2, sizeof(_fo), &_fo);

			if (!fo || (ntohs(*fo) & ~7))
				return -1; /* not the first fragment: no L4 header */
			len = 8;
		} else {
			len = (eh[1] + 1) * 8;
		}
		nexthdr = eh[0];
		off += len;
		plen = plen > len ? plen - len : 0;
	}
	if (!tcpmon_proto_wanted(nexthdr))
		return -1;
	return tcpmon_parse_l4(skb, off, nexthdr, plen, r);
}

int tcpmon_parse_ip(const struct sk_buff *skb, int nhoff, struct tcpmon_record *r)
{
	struct iphdr _iph;
	const struct iphdr *iph = tcpmon_hp(skb, nhoff, sizeof(_iph), &_iph);
	u32 ihl, tot;

	if (!iph)
		return -1;
	if (iph->version == 6)
		return tcpmon_parse_v6(skb, nhoff, r);
	if (iph->version != 4 || iph->ihl < 5 || !tcpmon_proto_wanted(iph->protocol))
		return -1;
	if (ntohs(iph->frag_off) & IP_OFFSET)
		return -1; /* not the first fragment: no L4 header */
	ihl = iph->ihl * 4;
	tot = ntohs(iph->tot_len);
	r->family = AF_INET;
	memcpy(r->saddr, &iph->saddr, 4);
	memcpy(r->daddr, &iph->daddr, 4);
	return tcpmon_parse_l4(skb, nhoff + ihl, iph->protocol, tot > ihl ? tot - ihl : 0, r);
}

static bool tcpmon_addr_is(const struct tcpmon_record *r, const u8 *side, const u8 *a, u8 len)
{
	return !memcmp(side, a, len) && (len == 16 || r->family == AF_INET);
}

bool tcpmon_filter_match(const struct tcpmon_filter *f, const struct tcpmon_record *r)
{
	if (!f)
		return true;
	if (f->proto && f->proto != r->proto)
		return false;
	if (f->family && f->family != r->family)
		return false;
	if (f->addr_len) {
		bool s = tcpmon_addr_is(r, r->saddr, f->addr, f->addr_len);
		bool d = tcpmon_addr_is(r, r->daddr, f->addr, f->addr_len);

		if (!s && !d)
			return false;
		if (f->addr2_len && !((s && tcpmon_addr_is(r, r->daddr, f->addr2, f->addr2_len)) ||
				      (d && tcpmon_addr_is(r, r->saddr, f->addr2, f->addr2_len))))
			return false;
	}
	if (f->has_port) {
		bool s = r->proto == IPPROTO_TCP && r->sport == f->port;
		bool d = r->proto == IPPROTO_TCP && r->dport == f->port;

		if (!s && !d)
			return false;
		if (f->has_port2 && !((s && r->dport == f->port2) || (d && r->sport == f->port2)))
			return false;
	}
	return true;
}
