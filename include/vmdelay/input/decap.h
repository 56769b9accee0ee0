/* decap.h — tunnel headers between an outer IP header and the frame or packet it carries:
 * VXLAN (UDP 4789, 8472), Geneve (UDP 6081, options), GTP-U (UDP 2152, extension headers),
 * GRE (checksum, key, sequence; transparent Ethernet bridging), ERSPAN types I, II and III,
 * IPv4 / IPv6 in IPv4 / IPv6 (protocols 4 and 41). The decoder (decode.c) calls vd_decap for the
 * few protocols vd_decap_candidate accepts and goes on with what it says follows; the tunnel ids
 * it reads feed the per-vantage summary and the --tunnel filter. */
#ifndef VMDELAY_DECAP_H
#define VMDELAY_DECAP_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"

/* Tunnels crossed in one frame, at most: a deeper frame is bad input, not a loop to follow. */
#define VD_DECAP_MAX_DEPTH 8

enum vd_encap_kind {
	VD_ENCAP_NONE,
	VD_ENCAP_VXLAN,	  /* id: VNI */
	VD_ENCAP_GENEVE,  /* id: VNI */
	VD_ENCAP_GRE,	  /* id: key, when the K bit is set */
	VD_ENCAP_ERSPAN1, /* no header of its own: no id */
	VD_ENCAP_ERSPAN2, /* id: session */
	VD_ENCAP_ERSPAN3, /* id: session */
	VD_ENCAP_IPIP,	  /* IPv4 or IPv6 carried as IP protocol 4 or 41: no id */
	VD_ENCAP_GTPU,	  /* id: TEID */
	VD_ENCAP__COUNT
};

/* One tunnel layer of a frame. */
struct vd_encap {
	uint8_t kind; /* enum vd_encap_kind */
	uint8_t has_id;
	uint32_t id;
};

/* What follows a tunnel header. */
enum vd_decap_next {
	VD_DECAP_NONE,	    /* not a tunnel we decode (or nothing we decode inside): stop here */
	VD_DECAP_ETHER,	    /* an Ethernet frame */
	VD_DECAP_ETHERTYPE, /* the payload of an EtherType (IP, VLAN tag, MPLS label...) */
	VD_DECAP_IP,	    /* IPv4 or IPv6, by the version nibble */
};

struct vd_decap_step {
	enum vd_decap_next next;
	uint16_t ethertype; /* VD_DECAP_ETHERTYPE */
	uint32_t off;	    /* where it starts in the frame */
	int truncated;	    /* the capture ends inside the tunnel header (snaplen), not an error */
	struct vd_encap encap;
};

/* The cheap test the decoder makes for every IP packet: can protocol proto be a tunnel?
 * (UDP is checked on its ports by vd_decap.) */
static inline int vd_decap_candidate(uint8_t proto)
{
	return proto == 17 || proto == 47 || proto == 4 || proto == 41;
}

/* The tunnel header of IP protocol proto starting at data[off] (data holds caplen bytes; the
 * IP header says l4len bytes belong to it, already bounded by the frame's original length).
 * 1: step says what follows; 0: not a tunnel (a UDP port we do not decode, an unknown GRE
 * version...) or cut short by the snaplen (step->truncated); -1: a header that claims more than
 * the packet holds, err says which. */
int vd_decap(const uint8_t *data, uint32_t caplen, uint32_t off, uint32_t l4len, uint8_t proto,
	     struct vd_decap_step *step, struct vd_err *err);

/* "vxlan", "geneve", "gre", "erspan1", "erspan2", "erspan3", "ipip", "gtpu". */
const char *vd_encap_kind_name(int kind);

/* --tunnel: keep only the frames that crossed one tunnel. */
struct vd_tunnel_filter {
	int on;
	int what; /* VD_TUNNEL_VNI, VD_TUNNEL_KEY, VD_TUNNEL_TEID, VD_TUNNEL_SESSION */
	uint32_t id;
};
enum { VD_TUNNEL_VNI = 1, VD_TUNNEL_KEY, VD_TUNNEL_TEID, VD_TUNNEL_SESSION };

/* Parses "vni=N" (VXLAN, Geneve), "key=N" (GRE), "teid=N" (GTP-U) or "session=N" (ERSPAN II,
 * III); N decimal or 0x hex. 0, or -1 with a message quoting s. */
int vd_tunnel_filter_parse(const char *s, struct vd_tunnel_filter *f, struct vd_err *err);

/* Whether one of the n layers (outermost first) is the tunnel f names. */
int vd_tunnel_filter_match(const struct vd_tunnel_filter *f, const struct vd_encap *layers, int n);

/* Per vantage point: how many frames crossed which chain of tunnels (outermost first). */
#define VD_ENCAP_SUMMARY_CHAINS 8
struct vd_encap_summary {
	struct {
		int n;
		struct vd_encap layer[VD_DECAP_MAX_DEPTH];
		uint64_t frames;
	} chain[VD_ENCAP_SUMMARY_CHAINS];
	int nchains;
	uint64_t other_frames; /* in chains beyond the first VD_ENCAP_SUMMARY_CHAINS */
	uint64_t bad_ip_len;   /* frames whose IP length exceeds their original length */
};

/* Counts one frame that crossed the n layers (n 0: nothing to count). */
void vd_encap_summary_add(struct vd_encap_summary *s, const struct vd_encap *layers, int n);

/* "vxlan vni=42: 1200 frames; gre key=7 / ipip: 3 frames" into buf ("" when no tunnel was seen);
 * followed by the bad IP length count when there is one. Text that does not fit ends in "...". */
void vd_encap_summary_format(const struct vd_encap_summary *s, char *buf, size_t len);

#endif
