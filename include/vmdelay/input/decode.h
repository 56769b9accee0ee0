/* decode.h — bounds-checked decoding of a captured frame down to ICMP/ICMPv6 echo and TCP:
 * Ethernet, 802.1Q / QinQ (802.1ad), MPLS, Linux SLL / SLL2, raw IP, BSD null / loopback. */
#ifndef VMDELAY_DECODE_H
#define VMDELAY_DECODE_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/packet.h"

#define VD_MAX_VLANS 4

struct vd_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

enum vd_l4 { VD_L4_OTHER, VD_L4_ICMP, VD_L4_TCP };

struct vd_decoded {
	int nvlans;
	uint16_t vlan[VD_MAX_VLANS];
	struct vd_addr src, dst;
	uint8_t ip_proto;       /* 1 ICMP, 6 TCP, 58 ICMPv6, ... */
	uint16_t ip_id;         /* IPv4 identification, 0 for IPv6 */
	uint8_t ttl;            /* TTL / hop limit */
	uint32_t ip_len;        /* IP total length from the header */
	int is_fragment;        /* a non-first fragment: no L4 header */
	enum vd_l4 l4;
	/* ICMP / ICMPv6 */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request / reply only */
	int icmp_is_echo_request, icmp_is_echo_reply;
	/* TCP */
	uint16_t sport, dport;
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_flags;
	uint16_t tcp_win;
	uint32_t tcp_payload_len; /* from the IP length, so snaplen truncation does not change it */
	/* Added by the readers (append-only). */
	int l4_truncated;       /* IP decoded, but the capture ends inside the ICMP/TCP header */
	uint32_t l4_offset;     /* offset of the ICMP/TCP header in pkt->data (0: none) */
	int nmpls;              /* MPLS labels crossed (outermost first) */
	uint16_t gso_segs;      /* wire segments of a GRO/GSO super-packet (tcpmon records,
				 * lib/tcp/tcpagg.c); 0 for a plain packet and from captures */
};

/* Decodes pkt. 0: decoded (l4 may still be VD_L4_OTHER), -1: not IP or too short to say
 * (err says why; not a file error). */
int vd_decode(const struct vd_pkt *pkt, struct vd_decoded *out, struct vd_err *err);

#endif
