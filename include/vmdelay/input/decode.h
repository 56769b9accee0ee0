/* decode.h — bounds-checked decoding of a captured frame down to ICMP/ICMPv6 echo and TCP:
 * Ethernet, 802.1Q / QinQ (802.1ad), MPLS, Linux SLL / SLL2, raw IP, BSD null / loopback, and
 * through the tunnels of decap.h (VXLAN, Geneve, GRE, ERSPAN, IP in IP, GTP-U) to the innermost
 * headers. */
#ifndef VMDELAY_DECODE_H
#define VMDELAY_DECODE_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/decap.h"
#include "vmdelay/input/packet.h"

#define VD_MAX_VLANS 4

struct vd_addr {
	uint8_t family;	   /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* vd_decode: an IPv4 address in the first 4, the other 12 zero */
};

enum vd_l4 { VD_L4_OTHER, VD_L4_ICMP, VD_L4_TCP };

struct vd_decoded {
	int nvlans;
	uint16_t vlan[VD_MAX_VLANS];
	struct vd_addr src, dst;
	uint8_t ip_proto; /* 1 ICMP, 6 TCP, 58 ICMPv6, ... */
	uint16_t ip_id;	  /* IPv4 identification, 0 for IPv6 */
	uint8_t ttl;	  /* TTL / hop limit */
	uint32_t ip_len;  /* IP total length from the header */
	int is_fragment;  /* a non-first fragment: no L4 header */
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
	uint32_t tcp_payload_len; /* from the IP length, so snaplen truncation does not change it,
				   * bounded by the original length (0 when bad == VD_BAD_IP_LEN) */
	/* Added by the readers (append-only). */
	int l4_truncated;   /* IP decoded, but the capture ends inside the ICMP/TCP header */
	uint32_t l4_offset; /* offset of the ICMP/TCP header in pkt->data (0: none) */
	int nmpls;	    /* MPLS labels crossed (outermost first) */
	uint16_t gso_segs;  /* wire segments of a GRO/GSO super-packet (tcpmon records,
			     * lib/tcp/tcpagg.c); 0 for a plain packet and from captures */
	int bad;	    /* enum vd_decode_bad */
	/* Tunnels crossed to reach the headers above, outermost first (decap.h); encap[i] is
	 * valid for i < nencap only. */
	int nencap;
	struct vd_encap encap[VD_DECAP_MAX_DEPTH];
};

enum vd_decode_bad {
	VD_BAD_NONE,
	/* An IP header whose length exceeds what the frame held on the wire: decoded (vd_decode
	 * returns 0), its payload bounded by the frame and never counted as TCP data. */
	VD_BAD_IP_LEN,
	/* Damaged input (vd_decode returns -1): a tunnel header that claims more than its packet
	 * holds, or more than VD_DECAP_MAX_DEPTH tunnels nested. */
	VD_BAD_TUNNEL,
	VD_BAD_DEPTH,
};

struct vd_decode_opts {
	int outer;			/* stop at the outermost IP header: no decapsulation */
	struct vd_tunnel_filter tunnel; /* only frames that crossed this tunnel (else -1) */
};

/* Decodes pkt. 0: decoded (l4 may still be VD_L4_OTHER), -1: not IP or too short to say
 * (err says why; not a file error). */
int vd_decode(const struct vd_pkt *pkt, struct vd_decoded *out, struct vd_err *err);

/* vd_decode with options (NULL: the defaults, innermost headers and every tunnel). -1 also for
 * a frame outside opts->tunnel; out->bad >= VD_BAD_TUNNEL says the input is damaged. */
int vd_decode_with(const struct vd_pkt *pkt, const struct vd_decode_opts *opts,
		   struct vd_decoded *out, struct vd_err *err);

#endif
