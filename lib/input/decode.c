/* decode.c — a captured frame down to ICMP / ICMPv6 echo and TCP. Link layers: Ethernet,
 * 802.1Q / 802.1ad / QinQ tags (every VLAN id kept), MPLS label stacks (then IPv4 / IPv6 by the
 * version nibble, or a pseudowire control word and an inner Ethernet frame, RFC 4448), Linux
 * cooked SLL and SLL2, raw IP, BSD null / loopback in either byte order. IPv4 options and
 * fragments, IPv6 extension headers (hop-by-hop, routing, destination, fragment, AH).
 * Every read goes through at(): a frame that ends too early takes one error path. */
#include "vmdelay/input/decode.h"

#include <string.h>
#include <sys/socket.h>

#include "bytes.h"

/* pkt->data[off .. off+len) when it was captured, else NULL. */
static inline const uint8_t *at(const struct vd_pkt *pkt, uint32_t off, uint32_t len)
{
	return off <= pkt->caplen && len <= pkt->caplen - off ? pkt->data + off : NULL;
}

#define NEED(h, off, len)                                                                          \
	do {                                                                                       \
		if (!((h) = at(pkt, (off), (len))))                                                \
			goto short_frame;                                                          \
	} while (0)

enum {
	ET_IPV4 = 0x0800,
	ET_IPV6 = 0x86dd,
	ET_VLAN = 0x8100,
	ET_QINQ = 0x88a8,
	ET_QINQ_OLD = 0x9100,
	ET_MPLS = 0x8847,
	ET_MPLS_MC = 0x8848
};

/* ICMP / ICMPv6 / TCP header at off; plen is the L4 length the IP header announces. */
static void decode_l4(const struct vd_pkt *pkt, uint32_t off, uint32_t plen, struct vd_decoded *d)
{
	const uint8_t *h;
	int v6 = d->src.family == AF_INET6;
	if ((d->ip_proto == 1 && !v6) || (d->ip_proto == 58 && v6)) {
		if (!(h = at(pkt, off, 8)))
			goto truncated;
		d->l4 = VD_L4_ICMP;
		d->icmp_type = h[0];
		d->icmp_code = h[1];
		d->icmp_is_echo_request = h[0] == (v6 ? 128 : 8);
		d->icmp_is_echo_reply = h[0] == (v6 ? 129 : 0);
		if (d->icmp_is_echo_request || d->icmp_is_echo_reply) {
			d->icmp_id = vd_be16(h + 4);
			d->icmp_seq = vd_be16(h + 6);
		}
	} else if (d->ip_proto == 6) {
		if (!(h = at(pkt, off, 20)))
			goto truncated;
		uint32_t hl = (uint32_t)(h[12] >> 4) * 4;
		if (hl < 20)
			return; /* not a TCP header we can trust: stays VD_L4_OTHER */
		d->l4 = VD_L4_TCP;
		d->sport = vd_be16(h);
		d->dport = vd_be16(h + 2);
		d->tcp_seq = vd_be32(h + 4);
		d->tcp_ack = vd_be32(h + 8);
		d->tcp_flags = h[13];
		d->tcp_win = vd_be16(h + 14);
		d->tcp_payload_len = plen > hl ? plen - hl : 0;
	} else {
		return;
	}
	d->l4_offset = off;
	return;
truncated:
	d->l4_truncated = 1;
}

static int decode_ipv4(const struct vd_pkt *pkt, uint32_t off, struct vd_decoded *d,
		       struct vd_err *err)
{
	const uint8_t *h;
	NEED(h, off, 20);
	if (h[0] >> 4 != 4)
		return vd_err_set(err, "IPv4 header with version %u", h[0] >> 4);
	uint32_t hl = (uint32_t)(h[0] & 0x0f) * 4;
	if (hl < 20)
		return vd_err_set(err, "IPv4 header length %u below 20", hl);
	NEED(h, off, hl);
	d->src.family = d->dst.family = AF_INET;
	memcpy(d->src.bytes, h + 12, 4);
	memcpy(d->dst.bytes, h + 16, 4);
	d->ip_len = vd_be16(h + 2);
	d->ip_id = vd_be16(h + 4);
	d->ttl = h[8];
	d->ip_proto = h[9];
	/* A total length below the header (0 with TSO, or damaged) says nothing: like tshark, fall
	 * back on what was captured. */
	uint32_t plen = d->ip_len >= hl ? d->ip_len - hl : pkt->caplen - off - hl;
	if (vd_be16(h + 6) & 0x1fff) {
		d->is_fragment = 1;
		return 0;
	}
	decode_l4(pkt, off + hl, plen, d);
	return 0;
short_frame:
	return vd_err_set(err, "frame cut short in the IPv4 header (%u bytes captured)",
			  pkt->caplen);
}

static int decode_ipv6(const struct vd_pkt *pkt, uint32_t off, struct vd_decoded *d,
		       struct vd_err *err)
{
	const uint8_t *h;
	NEED(h, off, 40);
	if (h[0] >> 4 != 6)
		return vd_err_set(err, "IPv6 header with version %u", h[0] >> 4);
	d->src.family = d->dst.family = AF_INET6;
	memcpy(d->src.bytes, h + 8, 16);
	memcpy(d->dst.bytes, h + 24, 16);
	uint32_t plen = vd_be16(h + 4);
	d->ip_len = 40 + plen;
	d->ttl = h[7];
	uint8_t nh = h[6];
	off += 40;
	if (plen == 0) /* jumbogram or unknown: what was captured */
		plen = pkt->caplen - off;
	for (;;) {
		uint32_t len;
		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break;
		if (!(h = at(pkt, off, 8))) {
			d->ip_proto = nh;
			d->l4_truncated = 1;
			return 0;
		}
		if (nh == 44) { /* fragment header: a non-first fragment has no L4 header */
			len = 8;
			if (vd_be16(h + 2) >> 3) {
				d->ip_proto = h[0];
				d->is_fragment = 1;
				return 0;
			}
		} else if (nh == 51) {
			len = ((uint32_t)h[1] + 2) * 4;
		} else {
			len = ((uint32_t)h[1] + 1) * 8;
		}
		nh = h[0];
		off += len;
		plen = plen > len ? plen - len : 0;
	}
	d->ip_proto = nh;
	decode_l4(pkt, off, plen, d);
	return 0;
short_frame:
	return vd_err_set(err, "frame cut short in the IPv6 header (%u bytes captured)",
			  pkt->caplen);
}

static int decode_ip(const struct vd_pkt *pkt, uint32_t off, struct vd_decoded *d,
		     struct vd_err *err)
{
	const uint8_t *h;
	NEED(h, off, 1);
	if (h[0] >> 4 == 4)
		return decode_ipv4(pkt, off, d, err);
	if (h[0] >> 4 == 6)
		return decode_ipv6(pkt, off, d, err);
	return vd_err_set(err, "not IP (version nibble %u)", h[0] >> 4);
short_frame:
	return vd_err_set(err, "empty frame");
}

/* From an EtherType at off: VLAN tags and MPLS labels, down to IP. */
static int decode_ethertype(const struct vd_pkt *pkt, uint32_t off, uint16_t type,
			    struct vd_decoded *d, struct vd_err *err)
{
	const uint8_t *h;
	for (;;) {
		switch (type) {
		case ET_IPV4:
			return decode_ipv4(pkt, off, d, err);
		case ET_IPV6:
			return decode_ipv6(pkt, off, d, err);
		case ET_VLAN:
		case ET_QINQ:
		case ET_QINQ_OLD:
			NEED(h, off, 4);
			if (d->nvlans < VD_MAX_VLANS)
				d->vlan[d->nvlans++] = vd_be16(h) & 0x0fff;
			type = vd_be16(h + 2);
			off += 4;
			break;
		case ET_MPLS:
		case ET_MPLS_MC:
			do {
				NEED(h, off, 4);
				off += 4;
				d->nmpls++;
			} while (!(h[2] & 0x01)); /* bottom of stack */
			NEED(h, off, 1);
			if (h[0] >> 4 == 4 || h[0] >> 4 == 6)
				return decode_ip(pkt, off, d, err);
			if (h[0] >> 4 != 0)
				return vd_err_set(err, "unknown MPLS payload (first nibble %u)",
						  h[0] >> 4);
			/* Ethernet pseudowire: 4-byte control word, then a whole Ethernet frame. */
			NEED(h, off + 4, 14);
			type = vd_be16(h + 12);
			off += 4 + 14;
			break;
		default:
			return vd_err_set(err, "not IP (EtherType 0x%04x)", type);
		}
	}
short_frame:
	return vd_err_set(err, "frame cut short in its link-layer headers (%u bytes captured)",
			  pkt->caplen);
}

int vd_decode(const struct vd_pkt *pkt, struct vd_decoded *out, struct vd_err *err)
{
	const uint8_t *h;
	memset(out, 0, sizeof(*out));
	switch (pkt->linktype) {
	case VD_LINK_ETHERNET:
		NEED(h, 0, 14);
		return decode_ethertype(pkt, 14, vd_be16(h + 12), out, err);
	case VD_LINK_NULL:
	case VD_LINK_LOOP: {
		/* The address family in the writer's byte order (NULL) or network order (LOOP); a
		 * family is below 256, so the order that gives a small number is the right one. */
		NEED(h, 0, 4);
		uint32_t fam = vd_le32(h);
		if (fam > 0xffff)
			fam = vd_be32(h);
		if (fam == 2)
			return decode_ipv4(pkt, 4, out, err);
		if (fam == 10 || fam == 24 || fam == 28 || fam == 30) /* Linux, BSDs, macOS */
			return decode_ipv6(pkt, 4, out, err);
		return vd_err_set(err, "not IP (loopback address family %u)", fam);
	}
	case VD_LINK_LINUX_SLL:
		NEED(h, 0, 16);
		return decode_ethertype(pkt, 16, vd_be16(h + 14), out, err);
	case VD_LINK_LINUX_SLL2:
		NEED(h, 0, 20);
		return decode_ethertype(pkt, 20, vd_be16(h), out, err);
	case VD_LINK_RAW:
	case 12: /* DLT_RAW as some writers store it */
	case 14:
		return decode_ip(pkt, 0, out, err);
	case VD_LINK_IPV4:
		return decode_ipv4(pkt, 0, out, err);
	case VD_LINK_IPV6:
		return decode_ipv6(pkt, 0, out, err);
	default:
		return vd_err_set(err, "unsupported link type %d", pkt->linktype);
	}
short_frame:
	return vd_err_set(err, "frame cut short in its link-layer header (%u bytes captured)",
			  pkt->caplen);
}
