/* Unit tests: the decoder on frames built byte by byte for every link layer and encapsulation
 * (Ethernet, 802.1ad + 802.1Q, MPLS, MPLS pseudowire, SLL, SLL2, null / loopback both byte
 * orders, raw IP), IPv4 options and fragments, IPv6 extension headers, ICMP / ICMPv6 echo and TCP
 * fields; then every frame cut at every length, in a buffer of exactly that size (ASan sees any
 * read past the end). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/input/decode.h"

#include "frames.h"

static void ethernet_ipv4_tcp_with_options(void **state)
{
	struct frame f = {.n = 0};
	eth(&f, 0x0800);
	ipv4(&f, 6, 20 + 12 + 100, 8, 0x4000);
	tcp(&f, 12, 100);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	assert_int_equal(d.src.family, AF_INET);
	assert_int_equal(d.ip_proto, 6);
	assert_int_equal(d.ip_id, 0x1234);
	assert_int_equal(d.ttl, 64);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(d.sport, 40000);
	assert_int_equal(d.dport, 80);
	assert_int_equal(d.tcp_seq, 0x01020304);
	assert_int_equal(d.tcp_ack, 0xa0b0c0d0);
	assert_int_equal(d.tcp_flags, 0x18);
	assert_int_equal(d.tcp_win, 29200);
	assert_int_equal(d.tcp_payload_len, 100);
	assert_int_equal(d.l4_offset, 14 + 28);
	/* Snapped after the TCP header: the payload length still comes from the IP header. */
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, 14 + 28 + 32, &d), 0);
	assert_int_equal(d.tcp_payload_len, 100);
	/* Snapped inside the TCP header: IP known, L4 marked truncated. */
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, 14 + 28 + 8, &d), 0);
	assert_int_equal(d.l4, VD_L4_OTHER);
	assert_int_equal(d.l4_truncated, 1);
	assert_int_equal(d.ip_proto, 6);
	cut_everywhere(&f, VD_LINK_ETHERNET);
}

static void qinq_records_every_vlan(void **state)
{
	struct frame f = {.n = 0};
	eth(&f, 0x88a8);
	put16(&f, 0x2000 | 100);
	put16(&f, 0x8100);
	put16(&f, 200);
	put16(&f, 0x0800);
	ipv4(&f, 1, 8 + 56, 0, 0);
	echo(&f, 8, 0xbeef, 7, 56);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	assert_int_equal(d.nvlans, 2);
	assert_int_equal(d.vlan[0], 100);
	assert_int_equal(d.vlan[1], 200);
	assert_int_equal(d.l4, VD_L4_ICMP);
	assert_true(d.icmp_is_echo_request);
	assert_false(d.icmp_is_echo_reply);
	assert_int_equal(d.icmp_id, 0xbeef);
	assert_int_equal(d.icmp_seq, 7);
	cut_everywhere(&f, VD_LINK_ETHERNET);
}

static void mpls_then_ip_and_pseudowire(void **state)
{
	struct frame f = {.n = 0};
	eth(&f, 0x8847);
	put32(&f, (16 << 12) | 0 << 8 | 64); /* label 16, not bottom */
	put32(&f, (17 << 12) | 1 << 8 | 64); /* label 17, bottom of stack */
	ipv4(&f, 1, 8, 0, 0);
	echo(&f, 0, 5, 3, 0);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_ETHERNET, f.n, &d), 0);
	assert_int_equal(d.nmpls, 2);
	assert_true(d.icmp_is_echo_reply);
	assert_int_equal(d.icmp_id, 5);
	assert_int_equal(d.icmp_seq, 3);
	cut_everywhere(&f, VD_LINK_ETHERNET);

	/* RFC 4448 Ethernet pseudowire: control word, inner Ethernet, 802.1Q VLAN 1. */
	struct frame g = {.n = 0};
	eth(&g, 0x8847);
	put32(&g, (20 << 12) | 1 << 8 | 255);
	put32(&g, 0); /* control word */
	eth(&g, 0x8100);
	put16(&g, 1);
	put16(&g, 0x0800);
	ipv4(&g, 1, 8, 0, 0);
	echo(&g, 8, 1, 4, 0);
	assert_int_equal(dec(&g, VD_LINK_ETHERNET, g.n, &d), 0);
	assert_int_equal(d.nmpls, 1);
	assert_int_equal(d.nvlans, 1);
	assert_int_equal(d.vlan[0], 1);
	assert_true(d.icmp_is_echo_request);
	assert_int_equal(d.icmp_seq, 4);
	cut_everywhere(&g, VD_LINK_ETHERNET);
}

static void ipv6_extension_headers_to_icmpv6(void **state)
{
	struct frame f = {.n = 0};
	/* SLL v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
	put16(&f, 0);
	put16(&f, 1);
	put16(&f, 6);
	for (int i = 0; i < 8; i++)
		put8(&f, 0);
	put16(&f, 0x86dd);
	ipv6(&f, 0, 8 + 16 + 8 + 8 + 8);
	put8(&f, 60); /* hop-by-hop, 8 bytes, next: destination options */
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 0);
	put8(&f, 43); /* destination options, 16 bytes, next: routing */
	put8(&f, 1);
	for (int i = 0; i < 14; i++)
		put8(&f, 0);
	put8(&f, 44); /* routing, 8 bytes, next: fragment */
	put8(&f, 0);
	for (int i = 0; i < 6; i++)
		put8(&f, 0);
	put8(&f, 58); /* fragment header, offset 0 (first fragment), next: ICMPv6 */
	put8(&f, 0);
	put16(&f, 1); /* M flag */
	put32(&f, 99);
	echo(&f, 128, 9, 1, 0);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_LINUX_SLL, f.n, &d), 0);
	assert_int_equal(d.src.family, AF_INET6);
	assert_int_equal(d.ip_proto, 58);
	assert_int_equal(d.ttl, 63);
	assert_int_equal(d.ip_len, 40 + 48);
	assert_false(d.is_fragment);
	assert_int_equal(d.l4, VD_L4_ICMP);
	assert_true(d.icmp_is_echo_request);
	assert_int_equal(d.icmp_id, 9);
	assert_int_equal(d.src.bytes[15], 1);
	assert_int_equal(d.dst.bytes[15], 2);
	cut_everywhere(&f, VD_LINK_LINUX_SLL);

	/* A later fragment: no L4 header to read. */
	struct frame g = {.n = 0};
	ipv6(&g, 44, 8 + 8);
	put8(&g, 58);
	put8(&g, 0);
	put16(&g, 185 << 3);
	put32(&g, 99);
	for (int i = 0; i < 8; i++)
		put8(&g, 0xee);
	assert_int_equal(dec(&g, VD_LINK_IPV6, g.n, &d), 0);
	assert_true(d.is_fragment);
	assert_int_equal(d.l4, VD_L4_OTHER);
	assert_int_equal(d.ip_proto, 58);
	cut_everywhere(&g, VD_LINK_IPV6);
}

static void ipv4_fragments(void **state)
{
	struct frame f = {.n = 0};
	ipv4(&f, 1, 8, 0, 0x2000); /* MF, offset 0: the first fragment has the ICMP header */
	echo(&f, 8, 1, 1, 0);
	struct vd_decoded d;
	assert_int_equal(dec(&f, VD_LINK_IPV4, f.n, &d), 0);
	assert_false(d.is_fragment);
	assert_true(d.icmp_is_echo_request);
	struct frame g = {.n = 0};
	ipv4(&g, 1, 8, 0, 0x0010); /* offset 128 bytes */
	echo(&g, 8, 1, 1, 0);
	assert_int_equal(dec(&g, VD_LINK_RAW, g.n, &d), 0);
	assert_true(d.is_fragment);
	assert_int_equal(d.l4, VD_L4_OTHER);
	cut_everywhere(&g, VD_LINK_RAW);
}

static void sll2_null_loop_and_raw(void **state)
{
	struct vd_decoded d;
	struct frame ip4 = {.n = 0};
	ipv4(&ip4, 6, 20, 0, 0);
	tcp(&ip4, 0, 0);
	struct frame ip6 = {.n = 0};
	ipv6(&ip6, 58, 8);
	echo(&ip6, 129, 3, 2, 0);

	/* SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes.
	 */
	struct frame f = {.n = 0};
	put16(&f, 0x0800);
	put16(&f, 0);
	put32(&f, 1);
	put16(&f, 772);
	put8(&f, 0);
	put8(&f, 6);
	for (int i = 0; i < 8; i++)
		put8(&f, 0);
	put(&f, ip4.b, ip4.n);
	assert_int_equal(dec(&f, VD_LINK_LINUX_SLL2, f.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(d.l4_offset, 40);
	cut_everywhere(&f, VD_LINK_LINUX_SLL2);

	/* BSD null: host byte order; both orders must work. */
	const uint8_t af_inet_le[4] = {2, 0, 0, 0}, af_inet6_be[4] = {0, 0, 0, 30};
	struct frame n4 = {.n = 0}, n6 = {.n = 0};
	put(&n4, af_inet_le, 4);
	put(&n4, ip4.b, ip4.n);
	put(&n6, af_inet6_be, 4);
	put(&n6, ip6.b, ip6.n);
	assert_int_equal(dec(&n4, VD_LINK_NULL, n4.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(dec(&n6, VD_LINK_NULL, n6.n, &d), 0);
	assert_true(d.icmp_is_echo_reply);
	assert_int_equal(dec(&n6, VD_LINK_LOOP, n6.n, &d), 0);
	assert_true(d.icmp_is_echo_reply);
	cut_everywhere(&n4, VD_LINK_NULL);
	cut_everywhere(&n6, VD_LINK_LOOP);

	assert_int_equal(dec(&ip4, VD_LINK_RAW, ip4.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_TCP);
	assert_int_equal(dec(&ip6, VD_LINK_RAW, ip6.n, &d), 0);
	assert_int_equal(d.icmp_id, 3);
	assert_int_equal(dec(&ip4, VD_LINK_IPV4, ip4.n, &d), 0);
	assert_int_equal(dec(&ip6, VD_LINK_IPV6, ip6.n, &d), 0);
	/* The wrong version for the link type is refused, not misread. */
	assert_int_equal(dec(&ip6, VD_LINK_IPV4, ip6.n, &d), -1);
	assert_int_equal(dec(&ip4, VD_LINK_IPV6, ip4.n, &d), -1);
}

static void not_ip_is_an_error_with_a_reason(void **state)
{
	struct frame f = {.n = 0};
	eth(&f, 0x0806); /* ARP */
	for (int i = 0; i < 28; i++)
		put8(&f, 0);
	struct vd_pkt pkt = {.linktype = VD_LINK_ETHERNET, .data = f.b, .caplen = f.n};
	struct vd_decoded d;
	struct vd_err err;
	assert_int_equal(vd_decode(&pkt, &d, &err), -1);
	assert_non_null(strstr(err.msg, "0x0806"));
	pkt.linktype = 107; /* Frame Relay */
	assert_int_equal(vd_decode(&pkt, &d, &err), -1);
	assert_non_null(strstr(err.msg, "link type 107"));
	/* An IPv4 total length of 0 (as in icmp-length-zero.pcapng): decoded from what was
	 * captured. */
	struct frame g = {.n = 0};
	ipv4(&g, 1, 8, 0, 0);
	echo(&g, 8, 12931, 1, 4);
	g.b[2] = g.b[3] = 0;
	assert_int_equal(dec(&g, VD_LINK_IPV4, g.n, &d), 0);
	assert_true(d.icmp_is_echo_request);
	assert_int_equal(d.icmp_id, 12931);
	/* A TCP data offset below 5 words is not trusted. */
	struct frame h = {.n = 0};
	ipv4(&h, 6, 20, 0, 0);
	tcp(&h, 0, 0);
	h.b[20 + 12] = 0x40;
	assert_int_equal(dec(&h, VD_LINK_IPV4, h.n, &d), 0);
	assert_int_equal(d.l4, VD_L4_OTHER);
}

/* The decoder takes a short way for Ethernet, IPv4 without options, TCP or ICMP; the same IP
 * packet as a raw IPv4 frame takes the general one. Both give the same fields (the L4 header 14
 * bytes earlier) on packets near that shape: options, other protocols, fragments, a TCP header
 * length below 20, ICMP of every type, IP lengths below the header and past the frame, snapped
 * inside the headers, an original length unknown (0) or longer. */
static void plain_ipv4_as_the_general_walk(void **state)
{
	(void)state;
	srand(7);
	static const uint8_t protos[] = {6, 6, 6, 1, 1, 17, 58, 47};
	static const uint8_t types[] = {0, 8, 3, 11, 128};
	for (int i = 0; i < 40000; i++) {
		struct frame e = {.n = 0}, r = {.n = 0};
		int opt = rand() % 8 ? 0 : 4 * (rand() % 3);
		uint8_t proto = protos[rand() % sizeof(protos)];
		int payload = rand() % 200;
		eth(&e, rand() % 16 ? 0x0800 : 0x86dd);
		ipv4(&e, proto, (uint16_t)((proto == 1 ? 8 : 20) + payload), opt,
		     rand() % 8 ? 0x4000 : (uint16_t)rand());
		if (proto == 1)
			echo(&e, types[rand() % sizeof(types)], (uint16_t)rand(), (uint16_t)rand(),
			     payload);
		else
			tcp(&e, 4 * (rand() % 3), payload);
		if (rand() % 4 ==
		    0) /* total length: anything, below the header or past the frame */
			memcpy(e.b + 16, (uint8_t[]){(uint8_t)rand(), (uint8_t)rand()}, 2);
		if (proto != 1 && rand() % 8 == 0) /* TCP header length nibble: anything */
			e.b[14 + 20 + opt + 12] = (uint8_t)((rand() % 16) << 4);
		put(&r, e.b + 14, e.n - 14);
		uint32_t caplen = rand() % 4 ? e.n : (uint32_t)rand() % (e.n + 1);
		uint32_t wirelen = rand() % 4 ? e.n : rand() % 2 ? 0 : e.n + (uint32_t)rand() % 300;
		struct vd_pkt pe = {.linktype = VD_LINK_ETHERNET,
				    .data = e.b,
				    .caplen = caplen,
				    .wirelen = wirelen};
		struct vd_pkt pr = {.linktype = VD_LINK_IPV4,
				    .data = r.b,
				    .caplen = caplen < 14 ? 0 : caplen - 14,
				    .wirelen = wirelen < 14 ? 0 : wirelen - 14};
		struct vd_decoded de, dr;
		struct vd_err err;
		int rce = vd_decode(&pe, &de, &err), rcr = vd_decode(&pr, &dr, &err);
		if (caplen < 14 || e.b[12] != 0x08 || e.b[13] != 0)
			continue; /* no IP header in the Ethernet frame to compare */
		assert_int_equal(rce, rcr);
		if (rce)
			continue;
		assert_int_equal(de.l4, dr.l4);
		assert_int_equal(de.bad, dr.bad);
		assert_int_equal(de.ip_len, dr.ip_len);
		assert_int_equal(de.tcp_payload_len, dr.tcp_payload_len);
		assert_int_equal(de.l4_offset, dr.l4_offset ? dr.l4_offset + 14 : 0);
		dr.l4_offset = de.l4_offset;
		assert_memory_equal(&de, &dr, offsetof(struct vd_decoded, encap));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ethernet_ipv4_tcp_with_options),
	    cmocka_unit_test(qinq_records_every_vlan),
	    cmocka_unit_test(mpls_then_ip_and_pseudowire),
	    cmocka_unit_test(ipv6_extension_headers_to_icmpv6),
	    cmocka_unit_test(ipv4_fragments),
	    cmocka_unit_test(sll2_null_loop_and_raw),
	    cmocka_unit_test(not_ip_is_an_error_with_a_reason),
	    cmocka_unit_test(plain_ipv4_as_the_general_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
