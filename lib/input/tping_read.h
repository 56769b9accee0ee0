/* tping_read.h — ICMP echo events from a tping file (CSV, JSON lines or SQLite): up to three
 * vantage points, hw, kernel and user, from the timestamps of each probe row. */
#ifndef VMDELAY_INPUT_TPING_READ_H
#define VMDELAY_INPUT_TPING_READ_H

#include "vmdelay/input/echo.h"
#include "vmdelay/input/source.h"

/* Reads the rows of src (opened on spec) and sends their events to sink (echo_read.h). */
int vd_echo_read_tping(const struct vd_vantage_spec *spec, struct vd_source *src,
		       const struct vd_echo_sink *sink, struct vd_err *err);

#endif
