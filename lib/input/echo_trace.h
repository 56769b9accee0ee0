/* echo_trace.h — ICMP echo events from a packet trace (pcap, pcapng, ERF), one vantage point
 * for the file, for one selected interface, or for each interface ("#*"). */
#ifndef VMDELAY_INPUT_ECHO_TRACE_H
#define VMDELAY_INPUT_ECHO_TRACE_H

#include "vmdelay/input/decode.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* Reads the packets of src (a packet trace opened on spec), decoded with decode (NULL: the
 * defaults), and sends their events to sink (echo_read.h). Each point's notes name the
 * compression and the tunnels its frames crossed (p->encap); a damaged tunnel stops the read
 * naming the frame. */
int vd_echo_read_trace(const struct vd_vantage_spec *spec, struct vd_source *src,
		       const struct vd_echo_sink *sink, int progress,
		       const struct vd_decode_opts *decode, struct vd_err *err);

/* The steps the push reader above and the pull reader (echo_pull.c) share:
 * - packet pkt of spec as an event of point p: its tunnels counted on p; 1 with *e an echo, 0
 *   not an echo, -1 a damaged tunnel (err names the frame);
 * - a point's notes: the compression z (NULL: none) and the tunnels its frames crossed;
 * - a read that gave no echo is an error naming the file (and the interface picked). */
int vd_echo_trace_packet(const struct vd_vantage_spec *spec, const struct vd_decode_opts *decode,
			 const struct vd_pkt *pkt, struct vd_echo_point *p, struct vd_echo *e,
			 struct vd_err *err);
void vd_echo_trace_notes(struct vd_echo_point *p, const char *z);
int vd_echo_trace_check(const struct vd_vantage_spec *spec, int pick, uint64_t records,
			uint64_t events, const char *fmt, struct vd_err *err);

#endif
