/* Unit tests: tunnels (lib/input/decap.c through vd_decode) on frames built byte by byte —
 * VXLAN on both ports with inner VLAN, Geneve with options, GRE with checksum, key and sequence,
 * GRE in GRE, transparent Ethernet bridging with MPLS inside, ERSPAN I, II and III, IPv4 / IPv6 in
 * IPv4 / IPv6, GTP-U with an extension header; the depth bound, headers that claim more than the
 * packet holds, IP lengths beyond the original length, --outer and --tunnel, the per-vantage
 * summary. Every frame is also cut at every length (frames.h). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "frames.h"

enum { OUTER_SRC = 0xc0000201, OUTER_DST = 0xc0000202, INNER_SRC = 0x0a000001 };

/* IPv4 header from src to dst, l4len bytes of payload announced. */
static void ip4(struct frame *f, uint8_t proto, uint32_t l4len, uint32_t src, uint32_t dst)
{
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + l4len));
	put16(f, 1);
	put16(f, 0);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
}

static void append(struct frame *f, const struct frame *g)
{
	put(f, g->b, g->n);
}

/* The packet every test carries innermost: IPv4 ICMP echo request id 0x77, seq 5. */
static void inner_ping(struct frame *f)
{
	ip4(f, 1, 8 + 16, INNER_SRC, 0x0a000002);
	echo(f, 8, 0x77, 5, 16);
}

static void inner_eth_ping(struct frame *f)
{
	eth(f, 0x0800);
	inner_ping(f);
}

/* Ethernet + outer IPv4 + UDP to dport, carrying payload. */
static void outer_udp(struct frame *f, uint16_t dport, const struct frame *payload)
{
	eth(f, 0x0800);
	ip4(f, 17, 8 + payload->n, OUTER_SRC, OUTER_DST);
	put16(f, 51000);
	put16(f, dport);
	put16(f, (uint16_t)(8 + payload->n));
	put16(f, 0);
	append(f, payload);
}

/* Ethernet + outer IPv4 carrying payload as protocol proto. */
static void outer_ip(struct frame *f, uint8_t proto, const struct frame *payload)
{
	eth(f, 0x0800);
	ip4(f, proto, payload->n, OUTER_SRC, OUTER_DST);
	append(f, payload);
}

static void is_inner_ping(const struct vd_decoded *d)
{
	assert_int_equal(d->l4, VD_L4_ICMP);
	assert_true(d->icmp_is_echo_request);
	assert_int_equal(d->icmp_id, 0x77);
	assert_int_equal(d->icmp_seq, 5);
	assert_int_equal(d->src.bytes[0], 10);
	assert_int_equal(d->bad, VD_BAD_NONE);
}

static int dec_opts(const struct frame *f, const struct vd_decode_opts *o, struct vd_decoded *d,
		    struct vd_err *err)
{
	struct vd_pkt pkt = {
	    .linktype = VD_LINK_ETHERNET, .data = f->b, .caplen = f->n, .wirelen = f->n};
	return vd_decode_with(&pkt, o, d, err);
}

static void vxlan_both_ports_inner_vlan(void **state)
{
	struct frame in = {.n = 0}, vx = {.n = 0}, f = {.n = 0};
	inner_eth_ping(&in);
	put32(&vx, 0x08000000); /* I flag */
	put32(&vx, 42u << 8);
	append(&vx, &in);
	outer_udp(&f, 4789, &vx);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.nencap, 1);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_VXLAN);
	assert_true(d.encap[0].has_id);
	assert_int_equal(d.encap[0].id, 42);
	assert_int_equal(d.l4_offset, 14 + 20 + 8 + 8 + 14 + 20);
	cut_everywhere(&f, VD_LINK_ETHERNET);

	/* Linux's port 8472, an 802.1Q tag inside, TCP over IPv6. */
	struct frame in6 = {.n = 0}, vx6 = {.n = 0}, g = {.n = 0};
	eth(&in6, 0x8100);
	put16(&in6, 300);
	put16(&in6, 0x86dd);
	ipv6(&in6, 6, 20 + 10);
	tcp(&in6, 0, 10);
	put32(&vx6, 0x08000000);
	put32(&vx6, 7u << 8);
	append(&vx6, &in6);
	outer_udp(&g, 8472, &vx6);
	assert_int_equal(dec(&g, VD_LINK_ETHERNET, g.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(d.src.family, AF_INET6);
	assert_int_equal(d.tcp_payload_len, 10);
	assert_int_equal(d.nvlans, 1);
	assert_int_equal(d.vlan[0], 300);
	assert_int_equal(d.encap[0].id, 7);
	cut_everywhere(&g, VD_LINK_ETHERNET);
}

static void geneve_with_options(void **state)
{
	struct frame in = {.n = 0}, gn = {.n = 0}, f = {.n = 0};
	inner_eth_ping(&in);
	put8(&gn, 2); /* version 0, 2 words of options */
	put8(&gn, 0);
	put16(&gn, 0x6558);
	put32(&gn, 0x123456u << 8);
	put32(&gn, 0x01020300); /* option class, type, length 0 words... */
	put32(&gn, 0xdeadbeef);
	append(&gn, &in);
	outer_udp(&f, 6081, &gn);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_GENEVE);
	assert_int_equal(d.encap[0].id, 0x123456);
	cut_everywhere(&f, VD_LINK_ETHERNET);

	/* IPv4 straight after the header (protocol type 0x0800). */
	struct frame ip = {.n = 0}, g2 = {.n = 0}, h = {.n = 0};
	inner_ping(&ip);
	put8(&g2, 0);
	put8(&g2, 0);
	put16(&g2, 0x0800);
	put32(&g2, 9u << 8);
	append(&g2, &ip);
	outer_udp(&h, 6081, &g2);
	assert_int_equal(dec(&h, VD_LINK_ETHERNET, h.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].id, 9);
}

/* GRE header with the given flags, protocol, checksum / key / sequence when flagged. */
static void gre_hdr(struct frame *f, uint16_t flags, uint16_t proto, uint32_t key)
{
	put16(f, flags);
	put16(f, proto);
	if (flags & 0x8000)
		put32(f, 0xabcd0000);
	if (flags & 0x2000)
		put32(f, key);
	if (flags & 0x1000)
		put32(f, 1234);
}

static void gre_key_seq_csum_nested_and_teb(void **state)
{
	struct frame ip = {.n = 0}, g1 = {.n = 0}, mid = {.n = 0}, g2 = {.n = 0}, f = {.n = 0};
	inner_ping(&ip);
	gre_hdr(&g1, 0xb000, 0x0800, 7); /* C, K, S */
	append(&g1, &ip);
	ip4(&mid, 47, g1.n, 0xac100001, 0xac100002); /* GRE in GRE */
	append(&mid, &g1);
	gre_hdr(&g2, 0x2000, 0x0800, 1000);
	append(&g2, &mid);
	outer_ip(&f, 47, &g2);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.nencap, 2);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_GRE);
	assert_int_equal(d.encap[0].id, 1000);
	assert_int_equal(d.encap[1].id, 7);
	cut_everywhere(&f, VD_LINK_ETHERNET);

	/* Transparent Ethernet bridging, no key, MPLS inside the bridged frame. */
	struct frame in = {.n = 0}, t = {.n = 0}, h = {.n = 0};
	eth(&in, 0x8847);
	put32(&in, (16 << 12) | 1 << 8 | 64);
	inner_ping(&in);
	gre_hdr(&t, 0, 0x6558, 0);
	append(&t, &in);
	outer_ip(&h, 47, &t);
	assert_int_equal(dec(&h, VD_LINK_ETHERNET, h.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.nmpls, 1);
	assert_false(d.encap[0].has_id);
	cut_everywhere(&h, VD_LINK_ETHERNET);
}

static void erspan_types_1_2_3(void **state)
{
	struct frame in = {.n = 0};
	inner_eth_ping(&in);
	struct vd_decoded d;

	struct frame t1 = {.n = 0}, f1 = {.n = 0};
	gre_hdr(&t1, 0, 0x88be, 0); /* no sequence number: type I */
	append(&t1, &in);
	outer_ip(&f1, 47, &t1);
	assert_int_equal(dec(&f1, VD_LINK_ETHERNET, f1.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_ERSPAN1);
	cut_everywhere(&f1, VD_LINK_ETHERNET);

	struct frame t2 = {.n = 0}, f2 = {.n = 0};
	gre_hdr(&t2, 0x1000, 0x88be, 0);
	put16(&t2, 0x1000 | 10); /* version 1, VLAN 10 */
	put16(&t2, 0x0800 | 5);	 /* session 5 */
	put32(&t2, 0);
	append(&t2, &in);
	outer_ip(&f2, 47, &t2);
	assert_int_equal(dec(&f2, VD_LINK_ETHERNET, f2.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_ERSPAN2);
	assert_int_equal(d.encap[0].id, 5);
	cut_everywhere(&f2, VD_LINK_ETHERNET);

	struct frame t3 = {.n = 0}, f3 = {.n = 0};
	gre_hdr(&t3, 0x1000, 0x22eb, 0);
	put16(&t3, 0x2000);	/* version 2 */
	put16(&t3, 9);		/* session 9 */
	put32(&t3, 0x11223344); /* timestamp */
	put16(&t3, 0);		/* SGT */
	put8(&t3, 0);		/* P, frame type 0 (Ethernet) */
	put8(&t3, 0x01);	/* O: platform subheader follows */
	put32(&t3, 0);
	put32(&t3, 0);
	append(&t3, &in);
	outer_ip(&f3, 47, &t3);
	assert_int_equal(dec(&f3, VD_LINK_ETHERNET, f3.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_ERSPAN3);
	assert_int_equal(d.encap[0].id, 9);
	cut_everywhere(&f3, VD_LINK_ETHERNET);
}

static void ip_in_ip_all_four(void **state)
{
	struct frame v4 = {.n = 0}, v6 = {.n = 0};
	inner_ping(&v4);
	ipv6(&v6, 58, 8);
	echo(&v6, 128, 0x66, 2, 0);
	struct vd_decoded d;

	struct frame a = {.n = 0}; /* 4in4 */
	outer_ip(&a, 4, &v4);
	assert_int_equal(dec(&a, VD_LINK_ETHERNET, a.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_IPIP);
	cut_everywhere(&a, VD_LINK_ETHERNET);

	struct frame b = {.n = 0}; /* 6in4 */
	outer_ip(&b, 41, &v6);
	assert_int_equal(dec(&b, VD_LINK_ETHERNET, b.n, &d), 0);
	assert_int_equal(d.src.family, AF_INET6);
	assert_int_equal(d.icmp_id, 0x66);

	struct frame c = {.n = 0}; /* 4in6 */
	ipv6(&c, 4, (uint16_t)v4.n);
	append(&c, &v4);
	assert_int_equal(dec(&c, VD_LINK_IPV6, c.n, &d), 0);
	is_inner_ping(&d);
	for (int i = 4; i < 16; i++) /* nothing of the outer IPv6 addresses is left */
		assert_int_equal(d.src.bytes[i] | d.dst.bytes[i], 0);
	cut_everywhere(&c, VD_LINK_IPV6);

	struct frame e = {.n = 0}; /* 6in6 */
	ipv6(&e, 41, (uint16_t)v6.n);
	append(&e, &v6);
	assert_int_equal(dec(&e, VD_LINK_RAW, e.n, &d), 0);
	assert_int_equal(d.icmp_id, 0x66);
	assert_int_equal(d.nencap, 1);

	/* protocol 4 carrying IPv6 is not read as IPv4 */
	struct frame x = {.n = 0};
	outer_ip(&x, 4, &v6);
	assert_int_equal(dec(&x, VD_LINK_ETHERNET, x.n, &d), -1);
}

static void gtpu_with_extension_header(void **state)
{
	struct frame ip = {.n = 0}, gt = {.n = 0}, f = {.n = 0};
	inner_ping(&ip);
	put8(&gt, 0x34); /* version 1, PT, E */
	put8(&gt, 0xff); /* G-PDU */
	put16(&gt, (uint16_t)(4 + 4 + ip.n));
	put32(&gt, 0x10);
	put16(&gt, 0);	 /* sequence */
	put8(&gt, 0);	 /* N-PDU */
	put8(&gt, 0x85); /* next: PDU session container */
	put8(&gt, 1);	 /* 4 bytes */
	put8(&gt, 0);
	put8(&gt, 9);
	put8(&gt, 0); /* no more */
	append(&gt, &ip);
	outer_udp(&f, 2152, &gt);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.encap[0].kind, VD_ENCAP_GTPU);
	assert_int_equal(d.encap[0].id, 0x10);
	cut_everywhere(&f, VD_LINK_ETHERNET);

	/* An echo request (type 1) carries no user packet: the outer UDP stays. */
	f.b[14 + 20 + 8 + 1] = 1;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	assert_int_equal(d.nencap, 0);
	assert_int_equal(d.ip_proto, 17);
	assert_int_equal(d.l4, VD_L4_OTHER);
}

/* n tunnels of IPv4 in IPv4 around the ping, raw IP. */
static void nest(struct frame *f, int n)
{
	struct frame cur = {.n = 0};
	inner_ping(&cur);
	for (int i = 0; i < n; i++) {
		struct frame next = {.n = 0};
		ip4(&next, 4, cur.n, OUTER_SRC + (uint32_t)i, OUTER_DST);
		append(&next, &cur);
		cur = next;
	}
	*f = cur;
}

static void depth_bound_and_lying_headers(void **state)
{
	struct vd_decoded d;
	struct vd_err err;
	struct frame f;
	nest(&f, VD_DECAP_MAX_DEPTH);
	assert_int_equal(dec(&f, VD_LINK_RAW, f.n, &d), 0);
	is_inner_ping(&d);
	assert_int_equal(d.nencap, VD_DECAP_MAX_DEPTH);
	nest(&f, VD_DECAP_MAX_DEPTH + 1);
	struct vd_pkt pkt = {.linktype = VD_LINK_RAW, .data = f.b, .caplen = f.n, .wirelen = f.n};
	assert_int_equal(vd_decode(&pkt, &d, &err), -1);
	assert_int_equal(d.bad, VD_BAD_DEPTH);
	assert_non_null(strstr(err.msg, "more than 8 tunnels"));
	cut_everywhere(&f, VD_LINK_RAW);

	/* A UDP length past the IP payload. */
	struct frame in = {.n = 0}, vx = {.n = 0}, g = {.n = 0};
	inner_eth_ping(&in);
	put32(&vx, 0x08000000);
	put32(&vx, 42u << 8);
	append(&vx, &in);
	outer_udp(&g, 4789, &vx);
	g.b[14 + 20 + 4] = 0x7f;
	assert_int_equal(dec_opts(&g, NULL, &d, &err), -1);
	assert_int_equal(d.bad, VD_BAD_TUNNEL);
	assert_non_null(strstr(err.msg, "UDP length"));

	/* Geneve options longer than the UDP payload. */
	struct frame gn = {.n = 0}, h = {.n = 0};
	put8(&gn, 63);
	put8(&gn, 0);
	put16(&gn, 0x6558);
	put32(&gn, 0);
	append(&gn, &in);
	outer_udp(&h, 6081, &gn);
	assert_int_equal(dec_opts(&h, NULL, &d, &err), -1);
	assert_int_equal(d.bad, VD_BAD_TUNNEL);
	assert_non_null(strstr(err.msg, "Geneve"));

	/* GTP-U length past the UDP payload, and an extension header of length 0. */
	struct frame ip = {.n = 0}, gt = {.n = 0}, k = {.n = 0};
	inner_ping(&ip);
	put8(&gt, 0x30);
	put8(&gt, 0xff);
	put16(&gt, (uint16_t)(ip.n + 100));
	put32(&gt, 1);
	append(&gt, &ip);
	outer_udp(&k, 2152, &gt);
	assert_int_equal(dec_opts(&k, NULL, &d, &err), -1);
	assert_non_null(strstr(err.msg, "GTP-U length"));

	/* GRE flags announcing more header than the packet holds. */
	struct frame gr = {.n = 0}, m = {.n = 0};
	put16(&gr, 0xb000);
	put16(&gr, 0x0800);
	put32(&gr, 0);
	outer_ip(&m, 47, &gr);
	assert_int_equal(dec_opts(&m, NULL, &d, &err), -1);
	assert_int_equal(d.bad, VD_BAD_TUNNEL);
	assert_non_null(strstr(err.msg, "GRE"));
	cut_everywhere(&m, VD_LINK_ETHERNET);
}

static void ip_length_beyond_the_original_length(void **state)
{
	/* A pure ACK whose IPv4 total length claims 100 bytes of data the frame never held. */
	struct frame f = {.n = 0};
	eth(&f, 0x0800);
	ipv4(&f, 6, 20 + 100, 0, 0);
	tcp(&f, 0, 0);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(d.bad, VD_BAD_IP_LEN);
	assert_int_equal(d.tcp_payload_len, 0);
	/* The same frame snapped (original length 174): the IP length stands, no bad header. */
	struct vd_pkt pkt = {
	    .linktype = VD_LINK_ETHERNET, .data = f.b, .caplen = f.n, .wirelen = f.n + 100};
	struct vd_err err;
	assert_int_equal(vd_decode(&pkt, &d, &err), 0);
	assert_int_equal(d.bad, VD_BAD_NONE);
	assert_int_equal(d.tcp_payload_len, 100);
	/* Ethernet padding after a short IP packet is not payload. */
	struct frame g = {.n = 0};
	eth(&g, 0x0800);
	ipv4(&g, 6, 20, 0, 0);
	tcp(&g, 0, 0);
	for (int i = 0; i < 6; i++)
		put8(&g, 0);
	assert_int_equal(dec(&g, VD_LINK_ETHERNET, g.n, &d), 0);
	assert_int_equal(d.bad, VD_BAD_NONE);
	assert_int_equal(d.tcp_payload_len, 0);
	/* IPv6 payload length past the frame. */
	struct frame h = {.n = 0};
	ipv6(&h, 6, 20 + 500);
	tcp(&h, 0, 3);
	assert_int_equal(dec(&h, VD_LINK_IPV6, h.n, &d), 0);
	assert_int_equal(d.bad, VD_BAD_IP_LEN);
	assert_int_equal(d.tcp_payload_len, 0);
}

static void outer_and_tunnel_filter(void **state)
{
	struct frame in = {.n = 0}, vx = {.n = 0}, f = {.n = 0};
	inner_eth_ping(&in);
	put32(&vx, 0x08000000);
	put32(&vx, 42u << 8);
	append(&vx, &in);
	outer_udp(&f, 4789, &vx);
	struct vd_decoded d;
	struct vd_err err;
	struct vd_decode_opts o = {.outer = 1};
	assert_int_equal(dec_opts(&f, &o, &d, &err), 0);
	assert_int_equal(d.nencap, 0);
	assert_int_equal(d.ip_proto, 17);
	assert_int_equal(d.src.bytes[0], 192);
	assert_int_equal(d.l4, VD_L4_OTHER);

	struct vd_decode_opts t = {0};
	assert_int_equal(vd_tunnel_filter_parse("vni=42", &t.tunnel, &err), 0);
	assert_int_equal(dec_opts(&f, &t, &d, &err), 0);
	is_inner_ping(&d);
	assert_int_equal(vd_tunnel_filter_parse("vni=0x2b", &t.tunnel, &err), 0);
	assert_int_equal(dec_opts(&f, &t, &d, &err), -1);
	assert_int_equal(vd_tunnel_filter_parse("key=42", &t.tunnel, &err), 0);
	assert_int_equal(dec_opts(&f, &t, &d, &err), -1); /* a VNI is not a GRE key */
	const char *bad[] = {"vni", "vni=", "vni=-1", "vni=4294967296", "port=1", "teid=1x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vd_tunnel_filter_parse(bad[i], &t.tunnel, &err), -1);
		assert_non_null(strstr(err.msg, bad[i]));
	}
	assert_int_equal(vd_tunnel_filter_parse("teid=0x10", &t.tunnel, &err), 0);
	assert_int_equal(t.tunnel.what, VD_TUNNEL_TEID);
	assert_int_equal(t.tunnel.id, 16);
}

static void summary_counts_chains(void **state)
{
	struct vd_encap_summary s;
	memset(&s, 0, sizeof(s));
	struct vd_encap vx[2] = {{.kind = VD_ENCAP_GRE, .has_id = 1, .id = 7},
				 {.kind = VD_ENCAP_VXLAN, .has_id = 1, .id = 42}};
	for (int i = 0; i < 3; i++)
		vd_encap_summary_add(&s, vx + 1, 1);
	vd_encap_summary_add(&s, vx, 2);
	vd_encap_summary_add(&s, vx, 0);
	s.bad_ip_len = 2;
	char buf[256];
	vd_encap_summary_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "tunnels: vxlan vni=42: 3 frames; gre key=7 / vxlan vni=42: 1 "
				 "frames; bad IP length (more than the frame's original length): 2 "
				 "frames");
	char tiny[10];
	vd_encap_summary_format(&s, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), 9);
	assert_string_equal(tiny + 6, "...");
	for (uint32_t i = 0; i < 20; i++) {
		struct vd_encap e = {.kind = VD_ENCAP_GTPU, .has_id = 1, .id = i};
		vd_encap_summary_add(&s, &e, 1);
	}
	assert_int_equal(s.nchains, VD_ENCAP_SUMMARY_CHAINS);
	assert_int_equal(s.other_frames, 20 - (VD_ENCAP_SUMMARY_CHAINS - 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vxlan_both_ports_inner_vlan),
	    cmocka_unit_test(geneve_with_options),
	    cmocka_unit_test(gre_key_seq_csum_nested_and_teb),
	    cmocka_unit_test(erspan_types_1_2_3),
	    cmocka_unit_test(ip_in_ip_all_four),
	    cmocka_unit_test(gtpu_with_extension_header),
	    cmocka_unit_test(depth_bound_and_lying_headers),
	    cmocka_unit_test(ip_length_beyond_the_original_length),
	    cmocka_unit_test(outer_and_tunnel_filter),
	    cmocka_unit_test(summary_counts_chains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
