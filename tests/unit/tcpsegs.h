/* tcpsegs.h — decoded TCP segments of many connections for the TCP unit tests (test_tcpbound.c,
 * test_pktmatch.c), as the decoder would hand them on: no frame bytes, only the fields. */
#ifndef VMDELAY_TEST_TCPSEGS_H
#define VMDELAY_TEST_TCPSEGS_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/input/decode.h"

/* A segment of connection `conn`: client 10.H.L.1 on port 40000 + conn / 65536 (so that more
 * than 65,536 connections stay apart), server 10.200.0.2:5001. */
static inline struct vd_decoded tcp_segment(unsigned conn, int from_client, uint32_t seq,
					    uint32_t ack, uint8_t flags, uint32_t len)
{
	struct vd_decoded d;
	memset(&d, 0, sizeof(d));
	d.l4 = VD_L4_TCP;
	d.ip_proto = 6;
	uint8_t client[4] = {10, (uint8_t)(conn >> 8), (uint8_t)conn, 1};
	uint8_t server[4] = {10, 200, 0, 2};
	uint16_t cport = (uint16_t)(40000 + (conn >> 16));
	d.src.family = d.dst.family = AF_INET;
	memcpy(d.src.bytes, from_client ? client : server, 4);
	memcpy(d.dst.bytes, from_client ? server : client, 4);
	d.sport = from_client ? cport : 5001;
	d.dport = from_client ? 5001 : cport;
	d.tcp_seq = seq;
	d.tcp_ack = ack;
	d.tcp_flags = flags;
	d.tcp_win = 512;
	d.tcp_payload_len = len;
	return d;
}

#endif
