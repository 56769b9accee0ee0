/* echo_read.c — one entry for every input that gives ICMP echo events: the format is detected
 * once (format.c) and the file handed to its reader (echo_read.h). */
#include "vmdelay/input/echo_read.h"

#include "echo_trace.h"
#include "tping_read.h"
#include "vantage_tcm.h"
#include "vmdelay/input/format.h"

int vd_echo_read(const struct vd_vantage_spec *spec, const struct vd_echo_sink *sink,
		 const struct vd_echo_read_opts *opts, struct vd_err *err)
{
	enum vd_format fmt;
	if (vd_format_detect_file(spec->path, &fmt, err) < 0)
		return -1;
	switch (fmt) {
	case VD_FORMAT_TPING_CSV:
	case VD_FORMAT_TPING_JSON:
	case VD_FORMAT_SQLITE:
		return vd_echo_read_tping(spec, fmt, sink, err);
	case VD_FORMAT_TCPMON:
		return vd_echo_read_tcm(spec, sink, err);
	default:
		/* pcap, pcapng, ERF, and anything unknown: the trace reader names the file when it
		 * is none of them */
		return vd_echo_read_trace(spec, sink, opts && opts->progress, err);
	}
}
