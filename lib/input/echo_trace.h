/* echo_trace.h — ICMP echo events from a packet trace (pcap, pcapng, ERF), one vantage point
 * for the file, for one selected interface, or for each interface ("#*"). */
#ifndef VMDELAY_INPUT_ECHO_TRACE_H
#define VMDELAY_INPUT_ECHO_TRACE_H

#include "vmdelay/input/echo.h"

int vd_echo_read_trace(const struct vd_vantage_spec *spec, const struct vd_echo_sink *sink,
		       int progress, struct vd_err *err);

#endif
