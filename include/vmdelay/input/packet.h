/* packet.h — one captured packet as every trace reader returns it, and the link types the
 * decoder knows. The lowest header of the trace readers: it knows no reader and no format. */
#ifndef VMDELAY_INPUT_PACKET_H
#define VMDELAY_INPUT_PACKET_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* LINKTYPE_* values (tcpdump.org/linktypes.html) used by the decoder. */
enum {
	VD_LINK_NULL = 0,
	VD_LINK_ETHERNET = 1,
	VD_LINK_RAW = 101,
	VD_LINK_LOOP = 108,
	VD_LINK_LINUX_SLL = 113,
	VD_LINK_IPV4 = 228,
	VD_LINK_IPV6 = 229,
	VD_LINK_LINUX_SLL2 = 276,
};

struct vd_pkt {
	vd_ns ts;	     /* capture time, CLOCK_REALTIME-like epoch ns */
	uint32_t iface;	     /* pcapng interface id (per section, renumbered file-wide), ERF port */
	int linktype;	     /* LINKTYPE_* of this packet's interface */
	const uint8_t *data; /* valid until the next vd_trace_next() */
	uint32_t caplen;     /* bytes in data */
	uint32_t wirelen;    /* bytes on the wire */
	uint64_t index;	     /* 1-based packet number in the file (like tshark's frame.number) */
	uint64_t offset;     /* byte offset of the packet's record / block in the file */
};

#endif
