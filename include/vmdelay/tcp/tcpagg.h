/* tcpagg.h — a tcpmon record file (docs/formats/tcpmon.md) as the "delivered at the TCP layer"
 * vantage point of `vmdelay-analyze tcp`, for the receive-aggregation (LRO/GRO) rate of Oi and
 * Nakajima: its TCP records at layer trans-rx (tcp_v4_rcv / tcp_v6_rcv entry) are the packets
 * TCP received, each carrying the wire segments GRO merged into it (gso_segs), given one at a
 * time, in time order, as decoded packets. Compared with the same flow at the NIC or tap (a
 * capture), packets there per packet here is the aggregation rate (docs/formats/tcp.md). */
#ifndef VMDELAY_TCPAGG_H
#define VMDELAY_TCPAGG_H

#include <stddef.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

/* The format name of such a vantage point. */
#define VD_TCPAGG_FORMAT "tcpmon"

struct vd_tcpagg;

/* Reads the record file path (errors name it, and the offset when damaged). */
int vd_tcpagg_open(const char *path, struct vd_tcpagg **out, struct vd_err *err);
void vd_tcpagg_close(struct vd_tcpagg *a);

/* The next TCP trans-rx record: 1 with *ts (CLOCK_REALTIME ns: TSC-converted, or ktime when
 * the TSC cannot be trusted) and *d (addresses, ports, seq, ack, flags, window, payload_len,
 * gso_segs); 0 after the last. */
int vd_tcpagg_next(struct vd_tcpagg *a, vd_ns *ts, struct vd_decoded *d);

size_t vd_tcpagg_records(const struct vd_tcpagg *a);   /* every record of the file */
size_t vd_tcpagg_delivered(const struct vd_tcpagg *a); /* TCP records at trans-rx */

#endif
