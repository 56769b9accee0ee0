/* echo_read.c — one entry for every input that gives ICMP echo events: the input is opened
 * once as a source (source.h, which detects its format) and handed to its format's reader
 * (echo_read.h). */
#include "vmdelay/input/echo_read.h"

#include "echo_trace.h"
#include "tping_read.h"
#include "vantage_tcm.h"
#include "vmdelay/input/source.h"

int vd_echo_read(const struct vd_vantage_spec *spec, const struct vd_echo_sink *sink,
		 const struct vd_echo_read_opts *opts, struct vd_err *err)
{
	struct vd_source *src;
	if (vd_source_open(spec, VD_SOURCE_ANY, &src, err) < 0)
		return -1;
	if (opts && opts->filter)
		vd_source_set_filter(src, opts->filter);
	int rc;
	switch (vd_source_format(src)) {
	case VD_FORMAT_TPING_CSV:
	case VD_FORMAT_TPING_JSON:
	case VD_FORMAT_SQLITE:
		rc = vd_echo_read_tping(spec, src, sink, err);
		break;
	case VD_FORMAT_TCPMON:
		rc = vd_echo_read_tcm(spec, src, sink, err);
		break;
	default:
		rc = vd_echo_read_trace(spec, src, sink, opts ? opts->progress : 0,
					opts ? &opts->decode : NULL, err);
		break;
	}
	vd_source_close(src);
	return rc;
}
