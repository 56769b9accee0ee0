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

#endif
