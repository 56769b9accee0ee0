/* trace_pending.c — TEMPORARY stand-in for the trace readers and decoder (trace.h, decode.h) that
 * the "readers" branch implements. Every call reports that packet traces cannot be read yet.
 * Delete this file when merging the readers branch (its symbols would clash). */
#include "vmdelay/decode.h"
#include "vmdelay/trace.h"

int vd_trace_open(const char *path, struct vd_trace **out, struct vd_err *err)
{
	*out = NULL;
	return vd_err_set(err, "%s: not a tping file, and packet trace readers are not built in", path);
}

int vd_trace_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err)
{
	(void)tr;
	(void)pkt;
	return vd_err_set(err, "packet trace readers are not built in");
}

void vd_trace_close(struct vd_trace *tr)
{
	(void)tr;
}

const char *vd_trace_format(const struct vd_trace *tr)
{
	(void)tr;
	return "none";
}

size_t vd_trace_interface_count(const struct vd_trace *tr)
{
	(void)tr;
	return 0;
}

const char *vd_trace_interface_name(const struct vd_trace *tr, uint32_t iface)
{
	(void)tr;
	(void)iface;
	return NULL;
}

int vd_decode(const struct vd_pkt *pkt, struct vd_decoded *out, struct vd_err *err)
{
	(void)pkt;
	(void)out;
	return vd_err_set(err, "decoder not built in");
}
