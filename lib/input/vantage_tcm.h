/* vantage_tcm.h — ICMP echo events from a tcpmon record file, one vantage point per stack
 * level (lib/input/vantage_tcm.c). Internal to the library: vd_echo_read dispatches here. */
#ifndef VMDELAY_VANTAGE_TCM_H
#define VMDELAY_VANTAGE_TCM_H

#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* The format name a tcpmon record file's vantage points carry. */
#define VD_VANTAGE_TCM_FORMAT "tcpmon"

/* Reads the records of src (the tcpmon record file spec->path) and opens one point per selected
 * stack level on sink, outermost (device) first. Errors name the file (and the byte offset when
 * damaged). */
int vd_echo_read_tcm(const struct vd_vantage_spec *spec, struct vd_source *src,
		     const struct vd_echo_sink *sink, struct vd_err *err);

#endif
