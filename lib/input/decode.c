/* decode.c — a captured frame down to ICMP / ICMPv6 echo and TCP. Link layers: Ethernet,
 * 802.1Q / 802.1ad / QinQ tags (every VLAN id kept), MPLS label stacks (then IPv4 / IPv6 by the
 * version nibble, or a pseudowire control word and an inner Ethernet frame, RFC 4448), Linux
 * cooked SLL and SLL2, raw IP, BSD null / loopback in either byte order. IPv4 options and
 * fragments, IPv6 extension headers (hop-by-hop, routing, destination, fragment, AH). Tunnels
 * (decap.c) are followed to the innermost headers, up to VD_DECAP_MAX_DEPTH deep.
 * Every read goes through at(): a frame that ends too early takes one error path. Lengths are
 * bounded as Wireshark bounds them: an IP payload is at most what the frame held on the wire. */
#include "vmdelay/input/decode.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"

/* One frame being decoded. */
struct dc {
	const struct vd_pkt *pkt;
	const struct vd_decode_opts *opts;
	struct vd_decoded *d;
	struct vd_err *err;
};

/* pkt->data[off .. off+len) when it was captured, else NULL. */
static inline const uint8_t *at(const struct vd_pkt *pkt, uint32_t off, uint32_t len)
{
	return off <= pkt->caplen && len <= pkt->caplen - off ? pkt->data + off : NULL;
}

#define NEED(h, off, len)                                                                          \
	do {                                                                                       \
		if (!((h) = at(c->pkt, (off), (len))))                                             \
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

static int decode_ethertype(struct dc *c, uint32_t off, uint16_t type, uint32_t end);
static int decode_ip(struct dc *c, uint32_t off, uint32_t end);

/* The IP payload length: the header's plen bounded by the bytes the frame held on the wire
 * after off (end is where the enclosing packet ends); a header that claims more is flagged. */
static uint32_t bound_payload(struct dc *c, uint32_t off, uint32_t plen, uint32_t end)
{
	uint32_t avail = end > off ? end - off : 0;
	if (plen > avail) {
		c->d->bad = VD_BAD_IP_LEN;
		return avail;
	}
	return plen;
}

/* ICMP / ICMPv6 / TCP header at off; plen is the L4 length the IP header announces. */
/* The TCP header's fields (h: its 20 bytes, hl: its length) for both decoders, the general walk
 * and the plain Ethernet/IPv4/TCP short way: they must give the same fields. */
static inline void tcp_fields(struct vd_decoded *d, const uint8_t *h, uint32_t hl, uint32_t plen)
{
	d->l4 = VD_L4_TCP;
	d->sport = vd_be16(h);
	d->dport = vd_be16(h + 2);
	d->tcp_seq = vd_be32(h + 4);
	d->tcp_ack = vd_be32(h + 8);
	d->tcp_flags = h[13];
	d->tcp_win = vd_be16(h + 14);
	/* A header that lied about its length carries no data we can trust. */
	d->tcp_payload_len = plen > hl && d->bad != VD_BAD_IP_LEN ? plen - hl : 0;
}

/* The ICMP / ICMPv6 header's fields (h: its first 8 bytes), for both decoders as tcp_fields. */
static inline void icmp_fields(struct vd_decoded *d, const uint8_t *h, int v6)
{
	d->l4 = VD_L4_ICMP;
	d->icmp_type = h[0];
	d->icmp_code = h[1];
	d->icmp_is_echo_request = h[0] == (v6 ? 128 : 8);
	d->icmp_is_echo_reply = h[0] == (v6 ? 129 : 0);
	if (d->icmp_is_echo_request || d->icmp_is_echo_reply) {
		d->icmp_id = vd_be16(h + 4);
		d->icmp_seq = vd_be16(h + 6);
	}
}

static void decode_l4(struct dc *c, uint32_t off, uint32_t plen)
{
	const uint8_t *h;
	struct vd_decoded *d = c->d;
	int v6 = d->src.family == AF_INET6;
	if ((d->ip_proto == 1 && !v6) || (d->ip_proto == 58 && v6)) {
		if (!(h = at(c->pkt, off, 8)))
			goto truncated;
		icmp_fields(d, h, v6);
	} else if (d->ip_proto == 6) {
		if (!(h = at(c->pkt, off, 20)))
			goto truncated;
		uint32_t hl = (uint32_t)(h[12] >> 4) * 4;
		if (hl < 20)
			return; /* not a TCP header we can trust: stays VD_L4_OTHER */
		tcp_fields(d, h, hl, plen);
	} else {
		return;
	}
	d->l4_offset = off;
	return;
truncated:
	d->l4_truncated = 1;
}

/* The IP payload at off (plen bytes): a tunnel to follow, or the ICMP / TCP header. */
static int decode_payload(struct dc *c, uint32_t off, uint32_t plen)
{
	struct vd_decoded *d = c->d;
	if (!vd_decap_candidate(d->ip_proto) || c->opts->outer)
		goto l4;
	struct vd_decap_step s;
	int r = vd_decap(c->pkt->data, c->pkt->caplen, off, plen, d->ip_proto, &s, c->err);
	if (r < 0) {
		d->bad = VD_BAD_TUNNEL;
		return -1;
	}
	if (r == 0) {
		if (s.truncated)
			d->l4_truncated = 1;
		return 0;
	}
	if (d->nencap == VD_DECAP_MAX_DEPTH) {
		d->bad = VD_BAD_DEPTH;
		return vd_err_set(c->err, "more than %d tunnels nested", VD_DECAP_MAX_DEPTH);
	}
	d->encap[d->nencap++] = s.encap;
	uint32_t end = off + plen;
	const uint8_t *h;
	switch (s.next) {
	case VD_DECAP_ETHER:
		NEED(h, s.off, 14);
		return decode_ethertype(c, s.off + 14, vd_be16(h + 12), end);
	case VD_DECAP_ETHERTYPE:
		return decode_ethertype(c, s.off, s.ethertype, end);
	case VD_DECAP_IP:
		return decode_ip(c, s.off, end);
	default:
		return 0;
	}
l4:
	decode_l4(c, off, plen);
	return 0;
short_frame:
	return vd_err_set(
	    c->err, "frame cut short in the Ethernet header inside a %s tunnel (%u bytes captured)",
	    vd_encap_kind_name(s.encap.kind), c->pkt->caplen);
}

/* The IPv4 header's fields (h: its first 20 bytes) for both decoders, the general walk and the
 * plain Ethernet/IPv4/TCP short way. */
static inline void ipv4_fields(struct vd_decoded *d, const uint8_t *h)
{
	d->src.family = d->dst.family = AF_INET;
	memcpy(d->src.bytes, h + 12, 4);
	memcpy(d->dst.bytes, h + 16, 4);
	d->ip_len = vd_be16(h + 2);
	d->ip_id = vd_be16(h + 4);
	d->ttl = h[8];
	d->ip_proto = h[9];
}

static int decode_ipv4(struct dc *c, uint32_t off, uint32_t end)
{
	const uint8_t *h;
	struct vd_decoded *d = c->d;
	NEED(h, off, 20);
	if (h[0] >> 4 != 4)
		return vd_err_set(c->err, "IPv4 header with version %u", h[0] >> 4);
	uint32_t hl = (uint32_t)(h[0] & 0x0f) * 4;
	if (hl < 20)
		return vd_err_set(c->err, "IPv4 header length %u below 20", hl);
	NEED(h, off, hl);
	if (d->nencap) { /* an outer IPv6 header left its address behind */
		memset(&d->src, 0, sizeof(d->src));
		memset(&d->dst, 0, sizeof(d->dst));
	}
	ipv4_fields(d, h);
	/* A total length below the header (0 with TSO, or damaged) says nothing: like tshark, fall
	 * back on what the frame holds. */
	uint32_t plen = d->ip_len >= hl ? d->ip_len - hl : UINT32_MAX;
	plen = plen == UINT32_MAX ? (end > off + hl ? end - off - hl : 0)
				  : bound_payload(c, off + hl, plen, end);
	if (vd_be16(h + 6) & 0x1fff) {
		d->is_fragment = 1;
		return 0;
	}
	return decode_payload(c, off + hl, plen);
short_frame:
	return vd_err_set(c->err, "frame cut short in the IPv4 header (%u bytes captured)",
			  c->pkt->caplen);
}

static int decode_ipv6(struct dc *c, uint32_t off, uint32_t end)
{
	const uint8_t *h;
	struct vd_decoded *d = c->d;
	NEED(h, off, 40);
	if (h[0] >> 4 != 6)
		return vd_err_set(c->err, "IPv6 header with version %u", h[0] >> 4);
	d->src.family = d->dst.family = AF_INET6;
	memcpy(d->src.bytes, h + 8, 16);
	memcpy(d->dst.bytes, h + 24, 16);
	uint32_t plen = vd_be16(h + 4);
	d->ip_len = 40 + plen;
	d->ip_id = 0;
	d->ttl = h[7];
	uint8_t nh = h[6];
	off += 40;
	if (plen == 0) /* jumbogram or unknown: what the frame holds */
		plen = end > off ? end - off : 0;
	else
		plen = bound_payload(c, off, plen, end);
	for (;;) {
		uint32_t len;
		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break;
		if (!(h = at(c->pkt, off, 8))) {
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
	return decode_payload(c, off, plen);
short_frame:
	return vd_err_set(c->err, "frame cut short in the IPv6 header (%u bytes captured)",
			  c->pkt->caplen);
}

static int decode_ip(struct dc *c, uint32_t off, uint32_t end)
{
	const uint8_t *h;
	NEED(h, off, 1);
	if (h[0] >> 4 == 4)
		return decode_ipv4(c, off, end);
	if (h[0] >> 4 == 6)
		return decode_ipv6(c, off, end);
	return vd_err_set(c->err, "not IP (version nibble %u)", h[0] >> 4);
short_frame:
	return vd_err_set(c->err, "empty frame");
}

/* From an EtherType at off: VLAN tags and MPLS labels, down to IP. */
static int decode_ethertype(struct dc *c, uint32_t off, uint16_t type, uint32_t end)
{
	const uint8_t *h;
	struct vd_decoded *d = c->d;
	for (;;) {
		switch (type) {
		case ET_IPV4:
			return decode_ipv4(c, off, end);
		case ET_IPV6:
			return decode_ipv6(c, off, end);
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
				return decode_ip(c, off, end);
			if (h[0] >> 4 != 0)
				return vd_err_set(c->err, "unknown MPLS payload (first nibble %u)",
						  h[0] >> 4);
			/* Ethernet pseudowire: 4-byte control word, then a whole Ethernet frame. */
			NEED(h, off + 4, 14);
			type = vd_be16(h + 12);
			off += 4 + 14;
			break;
		default:
			return vd_err_set(c->err, "not IP (EtherType 0x%04x)", type);
		}
	}
short_frame:
	return vd_err_set(c->err, "frame cut short in its link-layer headers (%u bytes captured)",
			  c->pkt->caplen);
}

static int decode_link(struct dc *c)
{
	const uint8_t *h;
	const struct vd_pkt *pkt = c->pkt;
	/* Where the frame ended on the wire; a reader that knows no original length gives 0. */
	uint32_t end = pkt->wirelen > pkt->caplen ? pkt->wirelen : pkt->caplen;
	switch (pkt->linktype) {
	case VD_LINK_ETHERNET:
		NEED(h, 0, 14);
		return decode_ethertype(c, 14, vd_be16(h + 12), end);
	case VD_LINK_NULL:
	case VD_LINK_LOOP: {
		/* The address family in the writer's byte order (NULL) or network order (LOOP); a
		 * family is below 256, so the order that gives a small number is the right one. */
		NEED(h, 0, 4);
		uint32_t fam = vd_le32(h);
		if (fam > 0xffff)
			fam = vd_be32(h);
		if (fam == 2)
			return decode_ipv4(c, 4, end);
		if (fam == 10 || fam == 24 || fam == 28 || fam == 30) /* Linux, BSDs, macOS */
			return decode_ipv6(c, 4, end);
		return vd_err_set(c->err, "not IP (loopback address family %u)", fam);
	}
	case VD_LINK_LINUX_SLL:
		NEED(h, 0, 16);
		return decode_ethertype(c, 16, vd_be16(h + 14), end);
	case VD_LINK_LINUX_SLL2:
		NEED(h, 0, 20);
		return decode_ethertype(c, 20, vd_be16(h), end);
	case VD_LINK_RAW:
	case 12: /* DLT_RAW as some writers store it */
	case 14:
		return decode_ip(c, 0, end);
	case VD_LINK_IPV4:
		return decode_ipv4(c, 0, end);
	case VD_LINK_IPV6:
		return decode_ipv6(c, 0, end);
	default:
		return vd_err_set(c->err, "unsupported link type %d", pkt->linktype);
	}
short_frame:
	return vd_err_set(c->err, "frame cut short in its link-layer header (%u bytes captured)",
			  pkt->caplen);
}

/* Zeroes all of d but encap[] (valid below nencap only) in two stores of at most 64 bytes: one
 * larger memset becomes `rep stos`, whose start-up cost was a third of this path's time. */
static inline void zero_decoded(struct vd_decoded *d)
{
	enum { HEAD = offsetof(struct vd_decoded, encap) };
	_Static_assert(HEAD > 64 && HEAD <= 128, "zero_decoded: two stores of up to 64 bytes");
	memset(d, 0, 64);
	memset((char *)d + 64, 0, HEAD - 64);
}

/* The frames most captures hold, Ethernet without tags, IPv4 without options, not a fragment,
 * TCP with its whole header or ICMP with its first 8 bytes captured, decoded straight to the
 * fields: what decode_link gives for them, without the calls and checks of the general walk (a
 * capture of 65,535 connections spent a tenth of its instructions there, an ICMP capture a
 * sixth). 1: d holds it; 0: the frame is another kind. */
static inline int decode_plain4(const struct vd_pkt *pkt, struct vd_decoded *d)
{
	enum { IP = 14, L4 = IP + 20 };
	const uint8_t *p = pkt->data, *ip = p + IP, *h = p + L4;
	if (pkt->linktype != VD_LINK_ETHERNET || pkt->caplen < L4 + 8 ||
	    vd_be16(p + 12) != ET_IPV4 || ip[0] != 0x45 || (vd_be16(ip + 6) & 0x1fff))
		return 0;
	int tcp = ip[9] == 6;
	if (tcp ? pkt->caplen < L4 + 20 || h[12] < 0x50 : ip[9] != 1)
		return 0;
	uint32_t end = pkt->wirelen > pkt->caplen ? pkt->wirelen : pkt->caplen;
	uint32_t avail = end - L4; /* end >= caplen >= L4 + 8 */
	ipv4_fields(d, ip);
	/* as decode_ipv4: a total length below the header says nothing, one past the frame is
	 * bounded and flagged */
	uint32_t plen = d->ip_len >= 20 ? d->ip_len - 20 : avail;
	if (plen > avail) {
		d->bad = VD_BAD_IP_LEN;
		plen = avail;
	}
	if (tcp)
		tcp_fields(d, h, (uint32_t)(h[12] >> 4) * 4, plen);
	else
		icmp_fields(d, h, 0);
	d->l4_offset = L4;
	/* The fields every caller reads at once, stored again at their own width: a load from
	 * within the wider stores of zero_decoded waits until they retire (AMD Zen: a fifth of a
	 * TCP capture's reading time went to the caller's load of bad). */
	__atomic_store_n(&d->bad, d->bad, __ATOMIC_RELAXED);
	__atomic_store_n(&d->is_fragment, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->l4_truncated, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&d->nencap, 0, __ATOMIC_RELAXED);
	return 1;
}

/* vd_decode_with past the short way: the general walk (unless plain: the short way decoded the
 * frame), then the tunnel filter. */
static __attribute__((noinline)) int decode_walk(const struct vd_pkt *pkt,
						 const struct vd_decode_opts *opts,
						 struct vd_decoded *out, struct vd_err *err,
						 int plain)
{
	static const struct vd_decode_opts defaults;
	struct dc c = {.pkt = pkt, .opts = opts ? opts : &defaults, .d = out, .err = err};
	int rc = plain ? 0 : decode_link(&c);
	if (c.opts->tunnel.on && out->bad < VD_BAD_TUNNEL &&
	    !vd_tunnel_filter_match(&c.opts->tunnel, out->encap, out->nencap))
		return vd_err_set(err, "not in the selected tunnel");
	return rc;
}

int vd_decode_with(const struct vd_pkt *pkt, const struct vd_decode_opts *opts,
		   struct vd_decoded *out, struct vd_err *err)
{
	zero_decoded(out);
	int plain = decode_plain4(pkt, out);
	if (plain && (!opts || !opts->tunnel.on))
		return 0;
	return decode_walk(pkt, opts, out, err, plain);
}

int vd_decode(const struct vd_pkt *pkt, struct vd_decoded *out, struct vd_err *err)
{
	return vd_decode_with(pkt, NULL, out, err);
}
