/* vantage_tcm.h — tcpmon record files as vantage points (lib/input/vantage_tcm.c), called by
 * lib/input/vantage.c's format detection and vd_vantage_read. Internal to the library. */
#ifndef VMDELAY_VANTAGE_TCM_H
#define VMDELAY_VANTAGE_TCM_H

#include <stddef.h>

#include "vmdelay/input/vantage.h"

/* The format name vd_vantage_detect gives a tcpmon record file. */
#define VD_VANTAGE_TCM_FORMAT "tcpmon"

/* Reads the tcpmon record file spec->path and appends one vantage point per selected stack
 * level, outermost (device) first. Errors name the file (and the byte offset when damaged). */
int vd_vantage_tcm_read(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
			struct vd_err *err);

#endif
